"""Server mode reached from ``Heatmap`` (widget/serving.py): the mode's choice and its message,
density() and the views' ``grid`` answers equal client mode at radius 0, the errors where a
call cannot work, and malformed requests that never raise into a cell."""

from __future__ import annotations

import builtins
import datetime as dt
import logging
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heatwidget import Heatmap
from heatwidget.host.kernel import Kernel
from heatwidget.host.render import AGGREGATIONS
from heatwidget.host.viewport import Viewport
from heatwidget.widget import serving

pytest.importorskip("wasmtime", reason="server mode needs wasmtime")

W, H = 320, 240
VIEWS = [((10.0, 0.0), 0), ((48.0, 5.0), 4), ((48.85, 2.35), 9), ((48.85, 2.35), 15)]
T0 = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
WINDOW = (T0 + dt.timedelta(hours=3), T0 + dt.timedelta(hours=11))


def _data(n: int = 30_000, seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = n // 2
    lon = np.r_[rng.normal(2.35, 0.02, k), rng.uniform(-180, 180, n - k)]
    lat = np.r_[rng.normal(48.85, 0.01, k), rng.uniform(-85, 85, n - k)]
    weight = (rng.integers(1, 64, n) / 8.0).astype(np.float32)  # sums exact in float32
    time = T0.timestamp() + rng.uniform(0, 86400, n)
    return {"lon": lon, "lat": lat, "weight": weight, "time": time}


@pytest.fixture(scope="module")
def data() -> dict[str, np.ndarray]:
    return _data()


@pytest.fixture(scope="module")
def parquet(data, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("served") / "rows.parquet"
    pq.write_table(pa.table(data), path, row_group_size=4096)
    return str(path)


def _maps(data, parquet, which: str, window: bool, **traits):
    time = data["time"] if window else None
    client = Heatmap(
        lat=data["lat"], lon=data["lon"], weight=data["weight"], time=time, **traits
    )  # fmt: skip
    if which == "memory":
        server = Heatmap(
            lat=data["lat"], lon=data["lon"], weight=data["weight"], time=time, mode="server",
            **traits,
        )  # fmt: skip
    else:
        import duckdb

        source = parquet if which == "parquet" else duckdb.sql(f"SELECT * FROM '{parquet}'")
        with pytest.warns(UserWarning, match="server mode"):
            server = Heatmap(
                source, weight="weight", time="time" if window else None,
                max_client_points=1000, **traits,
            )  # fmt: skip
    assert client.mode == "client" and server.mode == "server"
    return client, server


@pytest.mark.parametrize("which", ["memory", "parquet", "relation"])
@pytest.mark.parametrize("window", [False, True])
def test_density_in_server_mode_equals_client_mode_at_radius_0(data, parquet, which, window):
    traits = {"radius": 0, "time_window": WINDOW if window else None}
    client, server = _maps(data, parquet, which, window, **traits)
    assert server.point_count == client.point_count == len(data["lon"])
    assert server.time_extent == client.time_extent
    for agg in AGGREGATIONS:
        client.aggregation = server.aggregation = agg
        for center, zoom in VIEWS:
            client.center = server.center = center
            client.zoom = server.zoom = zoom
            a, b = client.density(W, H), server.density(W, H)
            np.testing.assert_array_equal(b.grid, a.grid, err_msg=f"{agg} {center} {zoom}")
            assert b.vmax == a.vmax
    # the page holds no rows: _points is an empty table's bytes
    assert server._stream.store.count == 0
    assert len(server._points) <= len(Heatmap()._points)


def _answer(m: Heatmap, request: dict) -> tuple[dict, list]:
    sent: list = []
    m.send = lambda content, buffers=None: sent.append((content, buffers))  # type: ignore[method-assign]
    m._handle_front_end({"type": "grid", **request}, [])
    assert len(sent) == 1
    return sent[0]


@pytest.mark.parametrize("agg", list(AGGREGATIONS))
def test_a_views_grid_answer_draws_the_client_frame(data, parquet, agg):
    """The view's path: request → answer (planes as float32 buffers) → the kernel's frame from
    the grid equals client mode's density for the same frame."""
    client, server = _maps(data, parquet, "parquet", False, radius=0, aggregation=agg)
    for center, zoom in VIEWS:
        view = Viewport(center, zoom, W, H)
        x0, y0 = view.origin
        request = {"id": 7, "x0": x0, "y0": y0, "zoom": zoom, "width": W, "height": H,
                   "radius": 0, "aggregation": agg}  # fmt: skip
        answer, buffers = _answer(server, request)
        assert answer["id"] == 7 and answer["planes"] == list(serving.protocol.GRID_PLANES[agg])
        gw, gh = answer["gw"], answer["gh"]
        planes = np.zeros((3, gh, gw), np.float32)
        for name, buf in zip(answer["planes"], buffers, strict=True):
            planes[{"sum": 0, "count": 1, "max": 2}[name]] = np.frombuffer(buf, np.float32).reshape(
                gh, gw
            )
        with Kernel() as k:
            grid, _ = k.density_grid(planes, (x0, y0), zoom, W, H, 0, AGGREGATIONS[agg])
        client.center, client.zoom = center, zoom
        np.testing.assert_array_equal(grid, client.density(W, H).grid)
        assert answer["rows"] == int(planes[1].sum())


def test_answer_bytes_do_not_depend_on_the_rows(tmp_path):
    """Two datasets 10x apart, same views: the same bytes per answer (the rows never travel)."""
    small = _data(5_000, seed=1)
    big = _data(50_000, seed=2)
    sizes = []
    for rows in (small, big):
        path = tmp_path / f"{len(rows['lon'])}.parquet"
        pq.write_table(pa.table(rows), path)
        with pytest.warns(UserWarning, match="server mode"):
            m = Heatmap(str(path), weight="weight", radius=10, max_client_points=1000)
        total = 0
        for center, zoom in VIEWS:
            x0, y0 = Viewport(center, zoom, W, H).origin
            _, buffers = _answer(m, {"id": 1, "x0": x0, "y0": y0, "zoom": zoom,
                                          "width": W, "height": H, "radius": 10,
                                          "aggregation": "sum"})  # fmt: skip
            total += sum(len(b) for b in buffers)
        sizes.append(total)
    assert sizes[0] == sizes[1] > 0


@pytest.mark.parametrize("which", ["parquet", "relation"])
def test_a_cache_serves_parquet_from_a_sorted_copy_written_once(data, parquet, tmp_path, which):
    """cache= on Parquet or a DuckDB relation: the rows are served from a spatially sorted
    copy written next to the cache file, once (the next map reuses it, as it loads the
    pyramid), and views deeper than the pyramid, read from the copy, equal client mode."""
    import duckdb

    cache = tmp_path / "rows.npz"
    copy = serving.sorted_copy_path(cache)
    assert copy == tmp_path / "rows.npz.sorted.parquet"
    client = Heatmap(lat=data["lat"], lon=data["lon"], weight=data["weight"], radius=0)

    def served() -> Heatmap:
        source = parquet if which == "parquet" else duckdb.sql(f"SELECT * FROM '{parquet}'")
        return Heatmap(source, weight="weight", mode="server", cache=cache, radius=0)

    first = served()
    assert cache.is_file() and copy.is_file()
    written = copy.stat().st_mtime_ns
    assert pq.ParquetFile(copy).metadata.num_rows == len(data["lon"])
    second = served()
    assert copy.stat().st_mtime_ns == written  # reused, not written again
    for m in (first, second):
        assert m._served.aggregator.source.path == str(copy)
        assert m.point_count == len(data["lon"])
        depth = m._served.pyramid.depth
        for center, zoom in [((48.85, 2.35), depth + 1), ((48.851, 2.352), 18)]:
            assert zoom > depth  # read from the rows in view, not the pyramid
            client.center = m.center = center
            client.zoom = m.zoom = zoom
            a, b = client.density(W, H), m.density(W, H)
            np.testing.assert_array_equal(b.grid, a.grid, err_msg=f"{center} {zoom}")
            assert a.grid.sum() > 0


def test_mode_choice_and_its_message(data, parquet):
    small = Heatmap(lat=data["lat"], lon=data["lon"])
    assert small.mode == "client" and "at most max_client_points" in small.mode_reason
    with pytest.warns(UserWarning, match=r"server mode \(30_000 rows in memory, more than "):
        big = Heatmap(lat=data["lat"], lon=data["lon"], max_client_points=1000)
    assert big.mode == "server" and big._stream.store.count == 0
    with pytest.warns(UserWarning, match=r"Parquet dataset of 30_000 rows \(from its footers\)"):
        assert Heatmap(parquet, max_client_points=10).mode == "server"
    below = Heatmap(parquet)  # a small dataset goes to the page, as before
    assert below.mode == "client" and below.point_count == 30_000
    forced = Heatmap(lat=data["lat"], lon=data["lon"], mode="server")
    assert forced.mode == "server" and forced.mode_reason.startswith("mode='server' given")


def test_a_parquet_folder_is_a_dataset(data, tmp_path):
    for i in range(3):
        part = tmp_path / "ds" / f"part={i}"
        part.mkdir(parents=True)
        pq.write_table(pa.table({k: v[i::3] for k, v in data.items()}), part / "rows.parquet")
    with pytest.warns(UserWarning, match=r"Parquet dataset of 30_000 rows"):
        m = Heatmap(tmp_path / "ds", max_client_points=100)
    assert m.mode == "server" and m.point_count == 30_000


def test_parquet_in_server_mode_is_not_read_into_memory(parquet, monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("the rows were read into memory")

    monkeypatch.setattr(pq, "read_table", refuse)
    monkeypatch.setattr(pa.dataset, "dataset", refuse, raising=False)
    m = Heatmap(parquet, mode="server")
    assert m.point_count == 30_000 and m.data_bounds is not None


def test_dask_and_duckdb_relations_are_served(data, parquet):
    dd = pytest.importorskip("dask.dataframe")
    import duckdb
    import pandas as pd

    ddf = dd.from_pandas(pd.DataFrame(data), npartitions=3)
    with pytest.warns(UserWarning, match="a Dask DataFrame"):
        assert Heatmap(ddf).mode == "server"
    with pytest.warns(UserWarning, match="a DuckDB relation"):
        assert Heatmap(duckdb.sql(f"SELECT * FROM '{parquet}'")).mode == "server"
    client = Heatmap(ddf, mode="client")  # computed into the page
    assert client.mode == "client" and client.point_count == 30_000


def test_bad_arguments_name_the_parameter(data):
    with pytest.raises(
        ValueError, match=r"mode must be None \(automatic\), 'client' or 'server', got 'fast'"
    ):
        Heatmap(lat=data["lat"], lon=data["lon"], mode="fast")
    with pytest.raises(ValueError, match="max_client_points must be a whole number"):
        Heatmap(lat=data["lat"], lon=data["lon"], max_client_points="many")
    with pytest.raises(ValueError, match="lat='y' is not a column"):
        Heatmap(pa.table(data).to_pandas().pipe(_duck), lat="y")


def _duck(df):
    import duckdb

    return duckdb.from_df(df)


def test_jupyterlite_asking_for_server_mode_is_told_why(data, monkeypatch):
    monkeypatch.setattr(sys, "platform", "emscripten")
    with pytest.raises(RuntimeError, match="needs a real Python kernel"):
        Heatmap(lat=data["lat"], lon=data["lon"], mode="server")


def test_missing_engine_names_its_extra(parquet, monkeypatch):
    real = builtins.__import__

    def no_duckdb(name, *args, **kwargs):
        if name.split(".")[0] == "duckdb":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_duckdb)
    with pytest.raises(ImportError, match=r"heatwidget\[duckdb\]"):
        Heatmap(parquet, mode="server")


def test_append_selected_and_set_data_in_server_mode(data):
    m = Heatmap(lat=data["lat"], lon=data["lon"], mode="server")
    with pytest.raises(ValueError, match=r"append\(\) is not available in server mode.*set_data"):
        m.append(lat=[1.0], lon=[2.0])
    m.selection = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    with pytest.raises(ValueError, match=r"selected\(\) is not available in server mode"):
        m.selected()
    version = m._grid_version
    m.set_data(lat=[10.0, 11.0], lon=[20.0, 21.0])
    assert m.mode == "server" and m.point_count == 2 and m._grid_version == version + 1
    assert m._stream.store.count == 0
    with pytest.raises(ValueError, match=r"on_select\(\) is not available in server mode"):
        m.on_select(print)


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"id": "x"},
        {"id": 1, "x0": 0, "y0": 0, "zoom": 3, "width": 10, "height": 10, "radius": 0},
        {"id": 1, "x0": "a", "y0": 0, "zoom": 3, "width": 10, "height": 10, "radius": 0,
         "aggregation": "sum"},
        {"id": 1, "x0": 0, "y0": 0, "zoom": 99, "width": 10, "height": 10, "radius": 0,
         "aggregation": "sum"},
        {"id": 1, "x0": 0, "y0": 0, "zoom": 3, "width": 1e9, "height": 10, "radius": 0,
         "aggregation": "sum"},
        {"id": 1, "x0": 0, "y0": 0, "zoom": 3, "width": 10.5, "height": 10, "radius": 0,
         "aggregation": "sum"},
        {"id": 1, "x0": float("nan"), "y0": 0, "zoom": 3, "width": 10, "height": 10,
         "radius": 0, "aggregation": "sum"},
    ],
)  # fmt: skip
def test_malformed_grid_requests_never_raise(data, bad, caplog):
    m = Heatmap(lat=data["lat"], lon=data["lon"], mode="server")
    sent: list = []
    m.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="heatwidget"):
        assert m._dispatcher.dispatch({"type": "grid", **bad}, []) is False
    assert sent == [] and "malformed 'grid'" in caplog.text


def test_answers_are_capped(data, monkeypatch):
    m = Heatmap(lat=data["lat"], lon=data["lon"], mode="server")
    monkeypatch.setattr(serving, "MAX_ANSWER_BYTES", 1000)
    answer, buffers = _answer(m, {"id": 3, "x0": 0, "y0": 0, "zoom": 2, "width": 100,
                                  "height": 100, "radius": 0, "aggregation": "sum"})  # fmt: skip
    assert answer["id"] == 3 and set(answer) == {"type", "id", "error"}
    assert "grid is too large (limit 1000 bytes)" in answer["error"]
    assert buffers == []
    client = Heatmap(lat=data["lat"], lon=data["lon"])
    assert client._dispatcher.dispatch({"type": "grid", "id": 1}, []) is False


def test_dask_on_a_local_cluster_of_processes_equals_client_mode(data, parquet):
    """A Dask DataFrame on two worker processes (rows keyed where they live): density() in
    server mode equals client mode's, with and without a time window."""
    distributed = pytest.importorskip("distributed")
    dd = pytest.importorskip("dask.dataframe")
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        ddf = dd.read_parquet(parquet, split_row_groups=True)
        assert ddf.npartitions > 1
        for window in (None, WINDOW):
            time = "time" if window else None
            with pytest.warns(UserWarning, match="a Dask DataFrame"):
                server = Heatmap(ddf, weight="weight", time=time, radius=0, time_window=window)
            client = Heatmap(
                lat=data["lat"], lon=data["lon"], weight=data["weight"],
                time=data["time"] if window else None, radius=0, time_window=window,
            )  # fmt: skip
            for agg in ("sum", "max"):
                client.aggregation = server.aggregation = agg
                for center, zoom in VIEWS[1:3]:
                    client.center = server.center = center
                    client.zoom = server.zoom = zoom
                    np.testing.assert_array_equal(
                        server.density(W, H).grid, client.density(W, H).grid
                    )


def test_pictures_and_hotspots_come_from_the_aggregator(data):
    """to_png(view=False) and hotspots() of a served map: the same as client mode's."""
    pytest.importorskip("contourpy")
    traits = {"center": (48.85, 2.35), "zoom": 9, "basemap": None, "radius": 10}
    client = Heatmap(lat=data["lat"], lon=data["lon"], **traits)
    server = Heatmap(lat=data["lat"], lon=data["lon"], mode="server", **traits)
    assert server.to_png(view=False, width=W, height=H) == client.to_png(
        view=False, width=W, height=H
    )
    a = client.hotspots(quantile=0.9, width=W, height=H)
    b = server.hotspots(quantile=0.9, width=W, height=H)
    assert len(a) == len(b) > 0


def _timed_frame(data, kind: str):
    """``data`` with its times as a pandas column of ``kind``: naive or zoned timestamps
    (the same instants), or dates (whole days)."""
    import pandas as pd

    df = pd.DataFrame({k: data[k] for k in ("lon", "lat", "weight")})
    when = pd.to_datetime(data["time"], unit="s", utc=True)
    if kind == "naive":
        df["pickup_datetime"] = when.tz_localize(None)
    elif kind == "zoned":
        df["pickup_datetime"] = when.tz_convert("America/New_York")
    else:  # dates: the window below must cut between days
        df["pickup_datetime"] = (when + pd.to_timedelta(data["time"] % 7, unit="D")).date
    return df


@pytest.mark.parametrize("kind", ["naive", "zoned", "date"])
@pytest.mark.parametrize("which", ["parquet", "relation", "dask"])
def test_datetime_time_columns_are_served_as_client_mode_reads_them(data, tmp_path, kind, which):
    """Parquet/DuckDB/Dask TIMESTAMP (with and without a zone) and DATE time columns: the
    served map's time_extent and its windowed density() equal client mode's of the same
    pandas column (datetimes in ms, UTC)."""
    import duckdb

    df = _timed_frame(data, kind)
    path = tmp_path / "taxi.parquet"
    df.to_parquet(path, row_group_size=4096)
    if which == "dask":
        dd = pytest.importorskip("dask.dataframe")
        source = dd.read_parquet(str(path), split_row_groups=True)
    else:
        source = str(path) if which == "parquet" else duckdb.sql(f"SELECT * FROM '{path}'")
    window = (T0 + dt.timedelta(days=2), T0 + dt.timedelta(days=4)) if kind == "date" else WINDOW
    traits = {"radius": 0, "time_window": window}
    client = Heatmap(df, weight="weight", time="pickup_datetime", mode="client", **traits)
    with pytest.warns(UserWarning, match="server mode"):
        server = Heatmap(
            source, weight="weight", time="pickup_datetime", max_client_points=1000, **traits
        )
    assert server.mode == "server"
    assert server.time_extent == client.time_extent
    assert client.time_extent is not None
    for agg in ("count", "sum", "max"):
        client.aggregation = server.aggregation = agg
        for center, zoom in VIEWS[:3]:
            client.center = server.center = center
            client.zoom = server.zoom = zoom
            a, b = client.density(W, H), server.density(W, H)
            assert 0 < a.grid.sum() < (data["weight"].sum() if agg == "sum" else 30_000)
            np.testing.assert_array_equal(b.grid, a.grid, err_msg=f"{agg} {center} {zoom}")


def test_numbers_as_times_still_follow_time_unit(data, parquet):
    """time_unit reads a numeric column (here ms); datetimes ignore it."""
    import duckdb

    ms = dict(data, time=data["time"] * 1e3)
    path = parquet.replace("rows.parquet", "rows_ms.parquet")
    pq.write_table(pa.table(ms), path)
    traits = {"radius": 0, "time_window": WINDOW, "zoom": 4, "center": (48.0, 5.0)}
    client = Heatmap(lat=data["lat"], lon=data["lon"], time=data["time"], **traits)
    server = Heatmap(
        duckdb.sql(f"SELECT * FROM '{path}'"), time="time", time_unit="ms", mode="server",
        **traits,
    )  # fmt: skip
    assert server.time_extent == client.time_extent
    np.testing.assert_array_equal(server.density(W, H).grid, client.density(W, H).grid)


def test_save_html_embeds_the_levels_that_fit_max_bytes(tmp_path):
    """A served map's file holds zooms 0..L of its pyramid, L the deepest whose levels fit
    max_bytes with the page; the page says which and what deeper zooms show."""
    import json
    import re

    rng = np.random.default_rng(1)
    n = 200_000
    m = Heatmap(lat=rng.normal(48.85, 2.0, n), lon=rng.normal(2.35, 3.0, n), mode="server")
    sizes = [c.code.size for c in m._served.pyramid.levels]
    budget = 5_000_000
    path = m.save_html(tmp_path / "served.html", max_bytes=budget)
    text = path.read_text(encoding="utf-8")
    assert len(text.encode()) <= budget
    state = json.loads(re.search(r'id="heatwidget-state">(.*?)</script>', text).group(1))
    levels = [level for level, _ in state["_offline_levels"]]
    deepest = levels[-1]
    assert levels == list(range(deepest + 1)) and 0 < deepest < m._served.pyramid.depth
    assert [k for _, k in state["_offline_levels"]] == sizes[: deepest + 1]
    used = 1_000_000 + sum(sizes[: deepest + 1]) * 20 * 4 / 3
    assert used <= budget < used + sizes[deepest + 1] * 20 * 4 / 3  # the next one did not fit
    assert (
        f"zooms 0–{deepest}" in state["_offline_note"] and "200,000 rows" in state["_offline_note"]
    )
    assert "_offline" in state["__binary__"] and state["mode"] == "server"
    bigger = m.save_html(tmp_path / "bigger.html")  # default 50 MB: deeper levels
    assert len(bigger.read_text(encoding="utf-8")) > len(text)
    for bad in (10, "big", 1.5e7, True):
        with pytest.raises(ValueError, match=rf"max_bytes must be .*got {re.escape(repr(bad))}"):
            m.save_html(tmp_path / "never.html", max_bytes=bad)


@pytest.mark.parametrize("which", ["memory", "parquet", "relation", "dask"])
def test_time_decay_in_server_mode_equals_client_mode(data, tmp_path, which):
    """time_decay on a served map: density() and a view's grid decay the rows in the window
    as the kernel does in client mode (weights x 2^(-(t_ref - t) / half-life), t_ref the
    window's end, else the latest time); equal within 1e-4 relative (the kernel's 2^x is a
    float32 polynomial, the engines' exact)."""
    import duckdb

    df = _timed_frame(data, "zoned")
    path = tmp_path / "taxi.parquet"
    df.to_parquet(path, row_group_size=4096)
    traits = {"radius": 0, "time_decay": 3 * 3600.0, "center": (48.0, 5.0), "zoom": 4}
    client = Heatmap(df, weight="weight", time="pickup_datetime", mode="client", **traits)
    if which == "memory":
        server = Heatmap(df, weight="weight", time="pickup_datetime", mode="server", **traits)
    else:
        if which == "dask":
            dd = pytest.importorskip("dask.dataframe")
            source = dd.read_parquet(str(path), split_row_groups=True)
        else:
            source = str(path) if which == "parquet" else duckdb.sql(f"SELECT * FROM '{path}'")
        server = Heatmap(source, weight="weight", time="pickup_datetime", mode="server", **traits)
    plain = Heatmap(df, weight="weight", time="pickup_datetime", mode="server", radius=0)
    plain.center, plain.zoom = traits["center"], traits["zoom"]
    for window in (None, WINDOW):
        client.time_window = server.time_window = window
        for agg in AGGREGATIONS:
            client.aggregation = server.aggregation = plain.aggregation = agg
            a, b = client.density(W, H), server.density(W, H)
            assert a.grid.max() > 0
            np.testing.assert_allclose(b.grid, a.grid, rtol=1e-4, atol=1e-6, err_msg=agg)
            if agg in ("sum", "count") and window is None:  # decay did weigh the rows
                assert b.grid.sum() < 0.9 * plain.density(W, H).grid.sum()
    # a view's answer decays too: its sum is the client's decayed density at radius 0
    client.time_window = server.time_window = None
    client.aggregation = "sum"
    x0, y0 = Viewport(traits["center"], traits["zoom"], W, H).origin
    request = {"id": 3, "x0": x0, "y0": y0, "zoom": 4, "width": W, "height": H, "radius": 0,
               "aggregation": "sum", "t0": None, "t1": None}  # fmt: skip
    answer, _ = _answer(server, request)
    assert answer["sum"] == pytest.approx(float(client.density(W, H).grid.sum()), rel=1e-4)
    # and a new time_decay makes every view ask again
    version = server._grid_version
    server.time_decay = 3600.0
    assert server._grid_version == version + 1

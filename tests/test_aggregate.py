"""Server-side aggregation (heatwidget.aggregate) against client mode: for the same rows and
view, the server's grid drawn by the kernel (Kernel.density_grid) equals Heatmap.density()
cell for cell at radius 0 and integer zooms, for every aggregation, on every engine, with and
without a time window; fractional zooms and radius > 0 within a stated tolerance."""

from __future__ import annotations

import datetime as dt
import importlib.util

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heatwidget import Heatmap
from heatwidget.aggregate import (
    Aggregator,
    ArraySource,
    ArrowStreamSource,
    DaskSource,
    DuckDBSource,
    Pyramid,
)
from heatwidget.aggregate.pyramid import depth_for
from heatwidget.host.kernel import Kernel, project_degrees
from heatwidget.host.viewport import Viewport

pytest.importorskip("wasmtime", reason="the kernel tests need wasmtime")

AGG = {"sum": 0, "count": 1, "mean": 2, "max": 3}
W, H = 320, 240
# (center, zoom): world (wraps), region, city, street (below the pyramid when it is shallow)
VIEWS = [
    ((10.0, 0.0), 0),
    ((48.0, 5.0), 4),
    ((0.0, 179.9), 6),
    ((48.85, 2.35), 9),
    ((48.85, 2.35), 15),
]
T0 = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)


def _data(n: int = 40_000, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = n // 2
    lon = np.r_[rng.normal(2.35, 0.02, k), rng.uniform(-180, 180, n - k)]
    lat = np.r_[rng.normal(48.85, 0.01, k), rng.uniform(-85, 85, n - k)]
    lon[:3], lat[:3] = [180.0, -180.0, 179.999999], [0.0, 85.0511287798, -85.0511287798]
    lon[3:400], lat[3:400] = rng.normal(180.0, 0.5, 397), rng.normal(0.0, 0.5, 397)
    lon = (lon + 180.0) % 360.0 - 180.0
    weight = (rng.integers(1, 64, n) / 8.0).astype(np.float32)  # sums exact in float32
    seconds = T0.timestamp() + rng.uniform(0, 86400, n)
    return {"lon": lon, "lat": lat, "weight": weight, "time_s": seconds, "time": seconds * 1e3}


@pytest.fixture(scope="module")
def data():
    return _data()


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    yield k
    k.close()


def _client(data, center, zoom, agg, window=None):
    m = Heatmap(
        lat=data["lat"], lon=data["lon"], weight=data["weight"],
        time=data["time_s"] if window else None,
        center=center, zoom=zoom, radius=0, aggregation=agg, time_window=window,
    )  # fmt: skip
    return m.density(W, H).grid


def _server(kernel, agg_obj, center, zoom, agg, radius=0.0, window=None):
    origin = Viewport(center, zoom, W, H).origin
    ms = (None, None) if not window else tuple(w.timestamp() * 1e3 for w in window)
    return agg_obj.density(kernel, origin, zoom, W, H, radius, AGG[agg], ms)[0]


def _sources(data, tmp_path, which):
    if which == "memory":
        return ArraySource(data)
    table = pa.table({k: v for k, v in data.items() if k != "time_s"})
    if which == "stream":  # read once, rows kept
        return ArrowStreamSource(table.to_reader(max_chunksize=7000))
    if which == "stream-opener":  # a fresh stream for every pass
        return ArrowStreamSource(lambda: table.to_reader(max_chunksize=7000))
    path = tmp_path / "rows.parquet"
    pq.write_table(table, path, row_group_size=8192)
    if which == "duckdb":
        return DuckDBSource(str(path))
    if which == "duckdb-sorted":  # deep views read the spatially sorted copy's row groups
        return DuckDBSource(str(path)).sorted_copy(tmp_path / "sorted.parquet", group_rows=1024)
    pytest.importorskip("dask.dataframe")
    return DaskSource.parquet(str(path), split_row_groups=True)


@pytest.mark.parametrize(
    "which", ["memory", "stream", "stream-opener", "duckdb", "duckdb-sorted", "dask"]
)
def test_server_grid_equals_client_density_at_radius_0(data, kernel, tmp_path, which) -> None:
    dask = pytest.importorskip("dask") if which == "dask" else None
    src = _sources(data, tmp_path, which)
    # a small budget: level 15 (street) is below the pyramid and reads rows
    agg_obj = Aggregator(src, project_degrees, budget=8 << 20)
    ctx = dask.config.set(scheduler="synchronous") if dask else _null()
    with ctx:
        assert 4 <= agg_obj.pyramid.depth < 15
        for center, zoom in VIEWS:
            for agg in AGG:
                ref = _client(data, center, zoom, agg)
                got = _server(kernel, agg_obj, center, zoom, agg)
                np.testing.assert_array_equal(got, ref, err_msg=f"{which} z{zoom} {agg}")


@pytest.mark.parametrize("which", ["memory", "stream-opener", "duckdb", "duckdb-sorted", "dask"])
def test_time_window_reads_rows_with_a_filter(data, kernel, tmp_path, which) -> None:
    dask = pytest.importorskip("dask") if which == "dask" else None
    agg_obj = Aggregator(_sources(data, tmp_path, which), project_degrees, budget=8 << 20)
    window = (T0 + dt.timedelta(hours=3), T0 + dt.timedelta(hours=9))
    ctx = dask.config.set(scheduler="synchronous") if dask else _null()
    with ctx:
        for center, zoom in VIEWS[:3]:
            for agg in AGG:
                ref = _client(data, center, zoom, agg, window)
                got = _server(kernel, agg_obj, center, zoom, agg, window=window)
                np.testing.assert_array_equal(got, ref, err_msg=f"{which} z{zoom} {agg}")


@pytest.mark.parametrize("agg", list(AGG))
def test_radius_and_fractional_zoom_within_tolerance(data, kernel, agg) -> None:
    """radius > 0 at integer zooms is exact binning too (same grid, same Gaussian); at
    fractional zooms pyramid pixels stand at their centres (within 1/8 px): the frame's sum
    is within 1%, and for count/sum the cells within 1% of the peak off."""
    agg_obj = Aggregator(ArraySource(data), project_degrees)
    for center, zoom, radius in [((48.85, 2.35), 9, 12.0), ((48.85, 2.35), 9.5, 12.0)]:
        m = Heatmap(
            lat=data["lat"], lon=data["lon"], weight=data["weight"],
            center=center, zoom=zoom, radius=radius, aggregation=agg,
        )  # fmt: skip
        ref = m.density(W, H).grid
        got = _server(kernel, agg_obj, center, zoom, agg, radius=radius)
        if float(zoom).is_integer():
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6 * ref.max())
        else:
            assert got.sum() == pytest.approx(ref.sum(), rel=0.01)
            if agg in ("sum", "count"):
                assert np.abs(got - ref).max() <= 0.01 * ref.max()


def test_pyramid_levels_cache_and_depth(data, tmp_path) -> None:
    cache = tmp_path / "pyramid.npz"
    a = Aggregator(ArraySource(data), project_degrees, cache=cache)
    p = a.pyramid
    assert cache.is_file() and p.depth == 16 and p.rows == data["lon"].size
    assert all(int(c.count.sum()) == p.rows for c in p.levels)
    assert [c.nbytes for c in p.levels] == p.level_bytes
    assert all(np.all(np.diff(c.code.astype(np.int64)) > 0) for c in p.levels[:10])
    q = Pyramid.load(cache)
    for c, d in zip(p.levels, q.levels, strict=True):
        np.testing.assert_array_equal(c.code, d.code)
        np.testing.assert_array_equal(c.total, d.total)
    # a smaller budget keeps the same coarse levels, as deep as fit
    small = Aggregator(ArraySource(data), project_degrees, budget=4 << 20).pyramid
    assert small.depth < p.depth and sum(small.level_bytes) <= 4 << 20
    assert sum(p.level_bytes[: small.depth + 2]) > 4 << 20
    for c, d in zip(small.levels, p.levels, strict=False):
        np.testing.assert_array_equal(c.code, d.code)
        np.testing.assert_array_equal(c.total, d.total)
        np.testing.assert_array_equal(c.largest, d.largest)
    # where Dask starts: the deepest level's worst case (28 bytes a row) in half of 1 GiB
    assert depth_for(10_000_000) == 16 and depth_for(100_000_000) == 4


def test_row_counts_come_from_metadata(data, tmp_path) -> None:
    path = str(_write(data, tmp_path))
    assert DuckDBSource(path).row_count() == data["lon"].size
    if importlib.util.find_spec("dask") is not None:
        assert DaskSource.parquet(path).row_count() == data["lon"].size
    assert ArraySource(data).row_count() == data["lon"].size


def test_missing_engines_name_their_extra(monkeypatch) -> None:
    import builtins

    real = builtins.__import__

    def no_engines(name, *args, **kwargs):
        if name.split(".")[0] in ("duckdb", "dask"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_engines)
    with pytest.raises(ImportError, match=r"heatwidget\[duckdb\]"):
        DuckDBSource("x.parquet")
    with pytest.raises(ImportError, match=r"heatwidget\[dask\]"):
        DaskSource(None)


def test_negative_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        ArraySource({"lon": [0.0], "lat": [0.0], "weight": [-1.0]})


def _write(data, tmp_path):
    path = tmp_path / "m.parquet"
    pq.write_table(pa.table({"lon": data["lon"], "lat": data["lat"]}), path)
    return path


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_dask_on_a_local_cluster_of_processes(data, kernel, tmp_path) -> None:
    """Partitions keyed in two worker processes (the projection pickles by name and makes a
    kernel per worker), reduced by Dask: the same pyramid and grids as in-process."""
    distributed = pytest.importorskip("distributed")
    path = tmp_path / "rows.parquet"
    pq.write_table(
        pa.table({k: data[k] for k in ("lon", "lat", "weight")}), path, row_group_size=8192
    )
    local = Aggregator(ArraySource(data), project_degrees)
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        remote = Aggregator(DaskSource.parquet(str(path), split_row_groups=True), project_degrees)
        for a, b in zip(remote.pyramid.levels, local.pyramid.levels, strict=True):
            np.testing.assert_array_equal(a.code, b.code)
            np.testing.assert_array_equal(a.count, b.count)
            np.testing.assert_array_equal(a.largest, b.largest)
        for center, zoom in VIEWS:
            ref = _server(kernel, local, center, zoom, "mean")
            np.testing.assert_array_equal(_server(kernel, remote, center, zoom, "mean"), ref)


def test_any_float32_weights_within_float32_rounding(kernel) -> None:
    """With weights whose float32 sums round (any real data), count and max stay exact; sum
    and mean differ by the client's float32 accumulation only (the server sums in float64)."""
    rng = np.random.default_rng(5)
    data = _data(30_000)
    data["weight"] = rng.lognormal(0.0, 1.0, data["lon"].size).astype(np.float32)
    agg_obj = Aggregator(ArraySource(data), project_degrees)
    for center, zoom in VIEWS[:2]:
        for agg in AGG:
            ref = _client(data, center, zoom, agg)
            got = _server(kernel, agg_obj, center, zoom, agg)
            if agg in ("count", "max"):
                np.testing.assert_array_equal(got, ref)
            else:
                np.testing.assert_allclose(got, ref, rtol=1e-5, atol=0)


@pytest.mark.parametrize("which", ["memory", "stream-opener", "duckdb"])
def test_rows_path_on_every_view(data, kernel, tmp_path, which) -> None:
    """A pyramid too shallow for most views: they read the rows in view (the filter pushed
    down, across the antimeridian too) and bin them exactly."""
    agg_obj = Aggregator(_sources(data, tmp_path, which), project_degrees, budget=1 << 20)
    assert agg_obj.pyramid.depth < 4
    for center, zoom in VIEWS:
        for agg in ("sum", "max"):
            ref = _client(data, center, zoom, agg)
            got = _server(kernel, agg_obj, center, zoom, agg)
            np.testing.assert_array_equal(got, ref, err_msg=f"{which} z{zoom} {agg}")


def test_a_stream_opener_is_read_once_per_pass_and_kept_nowhere(data) -> None:
    table = pa.table({k: data[k] for k in ("lon", "lat", "weight")})
    opened = []

    def opener():
        opened.append(1)
        return table.to_reader(max_chunksize=5000)

    src = ArrowStreamSource(opener)
    agg_obj = Aggregator(src, project_degrees)
    assert agg_obj.pyramid.rows == table.num_rows and len(opened) == 1
    assert src.row_count() is None  # a stream has no metadata to count with
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        ArrowStreamSource(object())


@pytest.mark.parametrize("weighted", [True, False])
@pytest.mark.parametrize("relation", [False, True])
def test_duckdb_pass_in_sql_equals_the_batch_pass(data, tmp_path, weighted, relation) -> None:
    """DuckDBSource.deepest (keyed and grouped in SQL) gives the pyramid PyramidBuilder makes
    from Kernel.project's keys, level for level, for budgets that keep zoom 16 and that make
    it coarsen; the pixels held never pass the limit."""
    duckdb = pytest.importorskip("duckdb")
    from heatwidget.aggregate.builder import PyramidBuilder
    from heatwidget.aggregate.source import Filter

    cols = {k: data[k] for k in ("lon", "lat", "weight")}
    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table(cols), path, row_group_size=4096)
    if relation:
        con = duckdb.connect()
        src = DuckDBSource(con.sql(f"SELECT * FROM read_parquet('{path}')"), connection=con)
    else:
        src = DuckDBSource(str(path))
    if not weighted:
        src.weight = None
    for limit in (1 << 20, 40_000, 20_000, 18_000):
        got, depth = src.deepest(limit)
        assert got.code.size <= limit
        builder = PyramidBuilder(project_degrees, limit)
        for rows in src.batches(Filter()):
            builder.add(rows)
        budget = limit * 2 * 28  # Aggregator's limit is half the budget's pixels
        mine = Pyramid.of_deepest(got, depth, len(data["lon"]), budget)
        want = Pyramid.of_deepest(*builder.finish(), len(data["lon"]), budget)
        # the SQL pass stops where the pyramid fits the budget: nothing deeper is dropped later
        assert mine.depth == want.depth == depth, limit
        for a, b in zip(mine.levels, want.levels, strict=True):
            for f in ("code", "total", "count", "largest"):
                np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


def test_depth_estimate_from_a_sample() -> None:
    """Chao1 per zoom: a sample of all-distinct pixels says "as many pixels as rows" (no zoom
    deeper than fits, alone and with the zooms above it), clustered rows allow deep zooms, an
    empty sample any zoom."""
    from heatwidget.aggregate.duckdb_source import estimate_depth

    rng = np.random.default_rng(2)
    x = rng.integers(0, 2**32, 10_000, dtype=np.uint64).astype(np.uint32)
    y = rng.integers(0, 2**32 - 1, 10_000, dtype=np.uint64).astype(np.uint32)
    # 10k distinct rows sampled from 1M spread over the world: ~1M pixels from zoom ~3 on
    # zoom 0 has 65536 pixels; zoom 1 could hold 262144 and the sample says ~1M: too many
    assert estimate_depth(x, y, 1_000_000, 100_000) == 0
    assert estimate_depth(x, y, 1_000_000, 300_000) == 1
    # never more pixels than rows; zooms 0..4 together (65536 + 262144 + 3 x 1M) fit 2 x 2M
    assert estimate_depth(x, y, 1_000_000, 2_000_000) == 4
    # 100 places, each one pixel even at zoom 16: 100 pixels at every zoom
    px = rng.integers(0, 2**32, 100, dtype=np.uint64).astype(np.uint32)
    py = rng.integers(0, 2**31, 100, dtype=np.uint64).astype(np.uint32)
    idx = rng.integers(0, 100, 10_000)
    assert estimate_depth(px[idx], py[idx], 10**9, 1_000) == 16
    assert estimate_depth(px[:0], py[:0], 10, 1) == 16


def test_depth_estimate_is_never_deeper_than_fits() -> None:
    """Clustered rows (the cities data) sampled at 1%, as the pass samples 1M of 100M: for
    every limit the estimated zoom is at most the deepest zoom whose exact pixels fit (alone
    and with the zooms above it, 2 x limit), and at most one zoom shallower. Chao1 alone said
    one or two zooms too deep here."""
    from heatwidget.aggregate import morton
    from heatwidget.aggregate.duckdb_source import estimate_depth
    from heatwidget.aggregate.pyramid import MAX_DEPTH
    from heatwidget.datasets import cities

    n = 200_000
    df = cities(n, seed=3)
    x, y = project_degrees(df["lon"].to_numpy(), df["lat"].to_numpy())
    code = np.sort(morton.pixels(x, y, MAX_DEPTH))
    sizes = [
        int(np.count_nonzero(np.diff(code >> np.uint64(2 * (MAX_DEPTH - z))))) + 1
        for z in range(MAX_DEPTH + 1)
    ]

    def fits(limit: int) -> int:
        z = 0
        while z < MAX_DEPTH and sizes[z + 1] <= limit and sum(sizes[: z + 2]) <= 2 * limit:
            z += 1
        return z

    for seed in range(3):
        keep = np.random.default_rng(seed).random(n) < 0.01
        for limit in (2_000, 5_000, 10_000, 20_000, 40_000, 80_000, 120_000, 250_000):
            got = estimate_depth(x[keep], y[keep], n, limit)
            assert fits(limit) - 1 <= got <= fits(limit), (seed, limit, got, fits(limit))
        # the whole rows as the sample: exact
        for limit in (2_000, 40_000, 250_000):
            assert estimate_depth(x, y, n, limit) == fits(limit)


def test_sorted_copy_prunes_row_groups_to_the_view(tmp_path) -> None:
    """The sorted copy holds the same rows in Morton order, and a street view's bounds meet a
    few of its row groups' lon/lat statistics (200k rows over a city), where they meet every
    row group of the unsorted file."""
    from heatwidget.aggregate import morton
    from heatwidget.aggregate.source import Filter

    rng = np.random.default_rng(4)
    n = 200_000
    lon, lat = rng.uniform(2.25, 2.45, n), rng.uniform(48.75, 48.95, n)
    weight = rng.integers(1, 9, n).astype(np.float32)
    pq.write_table(pa.table({"lon": lon, "lat": lat, "weight": weight}), tmp_path / "city.parquet",
                   row_group_size=8192)  # fmt: skip
    copy = DuckDBSource(str(tmp_path / "city.parquet")).sorted_copy(tmp_path / "sorted.parquet")
    t = pq.read_table(tmp_path / "sorted.parquet")
    x, y = project_degrees(t.column("lon").to_numpy(), t.column("lat").to_numpy())
    assert (np.diff(morton.pixels(x, y, 16).astype(np.int64)) >= 0).all()
    assert sorted(t.column("weight").to_numpy()) == sorted(weight)
    where = Filter(((2.3495, 2.3505),), (48.8495, 48.8505))  # a street

    def groups_met(path) -> tuple[int, int]:
        meta = pq.ParquetFile(path).metadata
        met = 0
        for g in range(meta.num_row_groups):
            lon_s, lat_s = (meta.row_group(g).column(i).statistics for i in (0, 1))
            (a, b), (c, d) = where.lon[0], where.lat
            met += lon_s.min <= b and lon_s.max >= a and lat_s.min <= d and lat_s.max >= c
        return met, meta.num_row_groups

    met, groups = groups_met(tmp_path / "sorted.parquet")
    assert groups == 4 and met <= 2, (met, groups)  # 65536-row groups; the box is central
    copy2 = DuckDBSource(str(tmp_path / "city.parquet")).sorted_copy(
        tmp_path / "sorted2.parquet", group_rows=2048
    )
    met, groups = groups_met(tmp_path / "sorted2.parquet")
    assert groups >= 97 and met <= 6, (met, groups)
    met, groups = groups_met(tmp_path / "city.parquet")
    assert met == groups
    for src in (copy, copy2):
        rows = sum(r.lon.size for r in src.batches(where))
        assert rows == int(where.mask(lon, lat, None).sum()) > 0

"""A sorted copy's fixed-point rows (heatwidget/aggregate/sorted_rows.py): views below the
pyramid read only the row groups whose code span meets their tiles, never query DuckDB and
never project again, and their grids equal client mode's cell for cell at radius 0."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heatwidget import Heatmap
from heatwidget.aggregate import Aggregator, DuckDBSource, GridFrame, morton
from heatwidget.aggregate import sorted_rows as sr
from heatwidget.aggregate.aggregator import _tile_ranges
from heatwidget.host.kernel import Kernel, project_degrees
from heatwidget.host.viewport import Viewport

pytest.importorskip("wasmtime", reason="the kernel tests need wasmtime")
pytest.importorskip("duckdb")

AGG = {"sum": 0, "count": 1, "mean": 2, "max": 3}
W, H = 320, 240
# below a pyramid of depth < 9: integer and fractional zooms, a city, a street, the antimeridian
VIEWS = [
    ((48.85, 2.35), 9),
    ((48.851, 2.352), 12.5),
    ((48.85, 2.35), 15),
    ((0.0, 179.99), 11),
    ((48.8505, 2.3502), 17.25),
]


def _rows(n: int = 30_000, seed: int = 5) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    k = n - 1000  # a city, and a few rows all over the world
    lon = np.r_[rng.normal(2.35, 0.02, k), rng.uniform(-180, 180, n - k)]
    lat = np.r_[rng.normal(48.85, 0.01, k), rng.uniform(-85, 85, n - k)]
    lon[:300], lat[:300] = rng.normal(180.0, 0.01, 300), rng.normal(0.0, 0.01, 300)
    lon[300:303], lat[300:303] = [180.0, -180.0, 179.999999], [0.0, 85.0511287798, -86.0]
    lon[303], lat[303] = np.nan, 10.0  # no position: never drawn, left out of the copy
    lon = np.where(np.isnan(lon), lon, (lon + 180.0) % 360.0 - 180.0)
    weight = (rng.integers(1, 64, n) / 8.0).astype(np.float32)  # sums exact in float32
    return {"lon": lon, "lat": lat, "weight": weight}


@pytest.fixture(scope="module")
def rows():
    return _rows()


@pytest.fixture(scope="module")
def copy(rows, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sorted")
    pq.write_table(pa.table(rows), tmp / "rows.parquet", row_group_size=4096)
    return DuckDBSource(str(tmp / "rows.parquet")).sorted_copy(tmp / "s.parquet", group_rows=512)


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    yield k
    k.close()


def test_the_copy_holds_the_kernels_fixed_point_rows_in_code_order(rows, copy) -> None:
    assert copy.sorted_rows is not None
    t = pq.read_table(copy.path)
    x, y = project_degrees(t.column("lon").to_numpy(), t.column("lat").to_numpy())
    np.testing.assert_array_equal(t.column(sr.X).to_numpy(), x)
    np.testing.assert_array_equal(t.column(sr.Y).to_numpy(), y)
    code = t.column(sr.CODE).to_numpy()
    np.testing.assert_array_equal(code, morton.pixels(x, y, sr.LEVEL))
    assert (np.diff(code.astype(np.int64)) >= 0).all()
    assert t.num_rows == np.isfinite(rows["lon"]).sum()  # the row without a position is out


def test_untimed_views_read_the_copy_never_duckdb_and_equal_client_mode(
    rows, copy, kernel, monkeypatch
) -> None:
    agg = Aggregator(copy, project_degrees, budget=100_000)
    assert agg.pyramid.depth < 9, agg.pyramid.depth  # every view below it

    def no_query(*_: object) -> None:
        raise AssertionError("a view below the pyramid queried DuckDB")

    monkeypatch.setattr(copy, "batches", no_query)
    monkeypatch.setattr(sr, "CHUNK_ROWS", 1000)  # several chunks per view
    for center, zoom in VIEWS:
        origin = Viewport(center, zoom, W, H).origin
        for name, code in AGG.items():
            got = agg.density(kernel, origin, zoom, W, H, 0.0, code)[0]
            m = Heatmap(lat=rows["lat"], lon=rows["lon"], weight=rows["weight"],
                        center=center, zoom=zoom, radius=0, aggregation=name)  # fmt: skip
            if zoom == int(zoom):  # client mode's frame: cell for cell
                np.testing.assert_array_equal(got, m.density(W, H).grid, err_msg=f"z{zoom}")
    monkeypatch.undo()
    # every frame (fractional zooms too): the same planes as the filtered query's rows
    queried = Aggregator(copy, project_degrees, budget=100_000)
    queried._pyramid = agg.pyramid
    f, margin, gw, gh = kernel.grid_geometry(W, H, 0.0, 0)
    for center, zoom in VIEWS:
        frame = GridFrame(*Viewport(center, zoom, W, H).origin, zoom, W, H, f, margin, gw, gh)
        fast = agg.grid(frame)
        monkeypatch.setattr(copy, "sorted_rows", None)
        np.testing.assert_array_equal(fast, queried.grid(frame), err_msg=f"z{zoom}")
        monkeypatch.undo()
        assert fast[1].sum() > 0, zoom


def test_a_views_row_groups_are_those_whose_code_span_meets_its_tiles(copy) -> None:
    rows = copy.sorted_rows
    assert rows is not None
    t = pq.read_table(copy.path, columns=[sr.CODE])
    code = t.column(sr.CODE).to_numpy()
    group = np.repeat(np.arange(rows.rows.size), rows.rows)
    f, margin, gw, gh = 1, 0, W, H
    for center, zoom in VIEWS:
        frame = GridFrame(*Viewport(center, zoom, W, H).origin, zoom, W, H, f, margin, gw, gh)
        lo, hi = _tile_ranges(*frame.pixel_bounds(sr.LEVEL), sr.LEVEL)
        got = rows.groups(lo, hi)
        inside = np.zeros(code.size, bool)
        for a, b in zip(lo, hi, strict=True):
            inside |= (code >= a) & (code < b)
        needed = np.unique(group[inside])
        assert np.isin(needed, got).all(), zoom  # every row in the tiles is read
        for g in got:  # and only groups whose span meets a tile
            assert ((rows.first[g] < hi) & (rows.last[g] >= lo)).any()
        read = int(rows.rows[got].sum())  # a street: a part of the city's rows
        assert zoom < 15 or read < code.size // 2, (zoom, read)
    assert rows.groups(np.array([0], np.uint64), np.array([2**64 - 1], np.uint64)).size == (
        rows.rows.size
    )
    assert rows.groups(np.empty(0, np.uint64), np.empty(0, np.uint64)).size == 0


def test_other_parquet_is_served_by_the_filter_path(rows, tmp_path) -> None:
    """Plain Parquet, a glob, and a copy written before the fixed-point columns (no marker)
    have no ``sorted_rows``: their views query DuckDB as before."""
    pq.write_table(pa.table(rows), tmp_path / "a.parquet")
    assert DuckDBSource(str(tmp_path / "a.parquet")).sorted_rows is None
    assert DuckDBSource(str(tmp_path / "*.parquet")).sorted_rows is None
    marked = pa.table(rows).replace_schema_metadata({"heatwidget": "sorted-copy-1"})
    pq.write_table(marked, tmp_path / "old.parquet")
    assert DuckDBSource(str(tmp_path / "old.parquet")).sorted_rows is None


def test_the_pass_over_a_copy_keys_its_stored_rows_as_the_kernel_does(rows, copy) -> None:
    """The pyramid's pass over a copy groups its stored fixed-point rows (no projection in
    SQL): every level equals the one built from ``Kernel.project`` in Python."""
    from heatwidget.aggregate import ArraySource

    fast = Aggregator(copy, project_degrees, budget=4 << 20).pyramid
    ref = Aggregator(ArraySource(rows), project_degrees, budget=4 << 20).pyramid
    assert fast.depth >= 6
    for level in range(min(fast.depth, ref.depth) + 1):
        a, b = fast.levels[level], ref.levels[level]
        for name in ("code", "total", "count", "largest"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)

"""The kernel's exports for server-side aggregation (heat.h "Projection only", "Frames from a
grid"): the projection a host reads back is the one appended points get, and a frame from a
binned grid is the frame from the same points."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from heatwidget.aggregate.frame import GridFrame
from heatwidget.host.kernel import HW_AGG_COUNT, HW_AGG_MAX, HW_AGG_MEAN, HW_AGG_SUM, Kernel

pytest.importorskip("wasmtime", reason="the kernel tests need wasmtime")

AGGS = {"sum": HW_AGG_SUM, "count": HW_AGG_COUNT, "mean": HW_AGG_MEAN, "max": HW_AGG_MAX}
# (zoom, origin, width, height): wider than the world, across the antimeridian, fractional
VIEWS = [
    (0, (-300.0, -20.0), 1024, 300),
    (2, (-1000.0, 3.0), 3000, 1030),
    (3, (1900.0, 700.0), 400, 300),
    (3.5, (-100.0, 500.0), 640, 480),
    (10, (130000.0, 90000.0), 512, 384),
]


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    yield k
    k.close()


def _rows(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(-180, 180, n)
    lat = rng.uniform(-85.2, 85.2, n)
    edges = [(180.0, 0.0), (-180.0, 1.0), (179.99999999, 85.0511287798), (0.0, -85.0511287798)]
    edges += [(-179.99999999, 90.0), (10.0, -90.0), (np.nan, 1.0), (1.0, np.inf)]
    lon[: len(edges)], lat[: len(edges)] = zip(*edges, strict=True)
    # dyadic weights (>= 0, as inputs require): float32 sums are exact in any order
    w = (rng.integers(0, 64, n) / 8.0).astype(np.float32)
    return lon, lat, w


def test_projection_equals_what_append_stores(kernel: Kernel) -> None:
    lon, lat, _ = _rows(150_000)  # more than one staging chunk
    x, y = kernel.project(lon, lat)
    kernel.load(pa.table({"lon": lon, "lat": lat}))
    n = lon.size
    assert (kernel._view("hw_points_x", np.uint32, n) == x).all()
    assert (kernel._view("hw_points_y", np.uint32, n) == y).all()
    assert y[6] == y[7] == 0xFFFFFFFF  # NaN / infinite: no position
    assert x[0] == x[1] == 0  # +-180 is the same meridian
    assert y[2] == y[4] == 0 and y[3] == y[5] == 0xFFFFFFFE  # clamped at +-85.0511


@pytest.mark.parametrize("radius", [0.0, 6.0, 30.0])
@pytest.mark.parametrize("agg", list(AGGS))
def test_frame_from_grid_equals_frame_from_points(kernel: Kernel, agg: str, radius: float) -> None:
    lon, lat, w = _rows(60_000, seed=2)
    kernel.load(pa.table({"lon": lon, "lat": lat, "weight": w}))
    x, y = kernel.project(lon, lat)
    a = AGGS[agg]
    for zoom, origin, width, height in VIEWS:
        ref, ref_max = kernel.density(origin, zoom, width, height, radius, a)
        f, margin, gw, gh = kernel.grid_geometry(width, height, radius, a)
        frame = GridFrame(*origin, zoom, width, height, f, margin, gw, gh)
        planes = frame.bin(x, y, w).astype(np.float32)
        got, got_max = kernel.density_grid(planes, origin, zoom, width, height, radius, a)
        if radius == 0:
            np.testing.assert_array_equal(got, ref)
        else:  # the same float32 operations: equal but for summation order
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6 * max(ref_max, 1e-30))
        assert got_max == pytest.approx(ref_max, rel=1e-5)


def test_hit_testing_a_grid_frame_counts_its_cells(kernel: Kernel) -> None:
    lon = np.array([0.0, 0.0, 0.001, 90.0])
    lat = np.zeros(4)
    x, y = kernel.project(lon, lat)
    origin, zoom, width, height = (0.0, 0.0), 0, 256, 256
    f, margin, gw, gh = kernel.grid_geometry(width, height, 0.0, HW_AGG_COUNT)
    frame = GridFrame(*origin, zoom, width, height, f, margin, gw, gh)
    grid, mx = kernel.density_grid(frame.bin(x, y, None), origin, zoom, width, height, 0, 1)
    assert mx == 3.0 and grid[128, 128] == 3.0
    assert kernel.count_near(128.5, 128.5, 1.0) == 3
    assert kernel.count_near(192.5, 128.5, 1.0) == 1
    assert kernel.count_near(50.0, 50.0, 3.0) == 0


def test_sql_projection_is_the_kernels_bit_for_bit(kernel: Kernel) -> None:
    """sql_keys repeats mercator.h in SQL: DuckDB's x, y equal Kernel.project's on random
    coordinates (beyond +-180 and +-85.05 too) and the edges; NaN / infinite rows are left out."""
    duckdb = pytest.importorskip("duckdb")
    from heatwidget.aggregate.sql_keys import fixed_point_sql

    lon, lat, _ = _rows(300_000, seed=5)
    rng = np.random.default_rng(6)
    lon[100:50_000] = rng.uniform(-900, 900, 49_900)
    lat[100:200] = [90.0, -90.0, 85.05112877980001, -85.0511287797, 0.0] * 20
    lon[200:300] = [-1e-300, 1e-300, 179.99999999999997, -180.00000000000003, 540.0] * 20
    con = duckdb.connect()
    coords = pa.table({"i": np.arange(lon.size), "lon": lon, "lat": lat})
    con.register("coords", coords)
    got = con.sql(fixed_point_sql("coords", "lon", "lat", "i")).fetchnumpy()
    x, y = kernel.project(lon, lat)
    keep = y != 0xFFFFFFFF
    order = np.argsort(got["i"])
    assert got["i"][order].tolist() == np.flatnonzero(keep).tolist()
    np.testing.assert_array_equal(got["x"][order], x[keep])
    np.testing.assert_array_equal(got["y"][order], y[keep])

"""The WebAssembly heat kernel under wasmtime, against the numpy reference (tests/reference.py).

The kernel is heatwidget/static/heat.wasm when built (or $HEATWIDGET_WASM); otherwise these
tests compile js/kernel/*.c into a temporary directory with `python -m ziglang cc`, and skip
with the reason when neither is possible.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import reference as R  # tests/reference.py (pytest puts tests/ on sys.path)

from heatwidget.host import kernel as _kernel
from heatwidget.host.kernel import ArrivalOrderLost, Kernel
from heatwidget.host.png import composite, encode_png
from heatwidget.host.render import render
from heatwidget.host.viewport import Viewport, project, unproject
from heatwidget.traits.colormaps import resolve_lut

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KERNEL_SOURCES = sorted((ROOT / "js" / "kernel").glob("*.c"))
# The build's own flags (js/build.mjs reads the same file), so this compile makes the same .wasm.
_BUILD_FLAGS = json.loads((ROOT / "js" / "kernel" / "build-flags.json").read_text(encoding="utf-8"))
ZIG_FLAGS = [_BUILD_FLAGS["zig_target"], *_BUILD_FLAGS["flags"]]


@pytest.fixture(scope="session")
def wasm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("HEATWIDGET_WASM")
    if env:
        return Path(env)
    built = ROOT / "heatwidget" / "static" / "heat.wasm"
    if built.is_file():
        return built
    if not KERNEL_SOURCES:
        pytest.skip("no heatwidget/static/heat.wasm and no js/kernel/*.c to compile")
    out = tmp_path_factory.mktemp("kernel") / "heat.wasm"
    cmd = [
        sys.executable,
        "-m",
        "ziglang",
        "cc",
        *ZIG_FLAGS,
        "-o",
        str(out),
        *map(str, KERNEL_SOURCES),
    ]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        pytest.skip(f"heat.wasm not built and compiling it failed to run: {e}")
    if res.returncode != 0:
        if "No module named ziglang" in res.stderr:
            pytest.skip("heat.wasm not built (npm run build in js/) and ziglang not installed")
        pytest.fail(f"compiling the kernel failed:\n{res.stderr}")
    return out


@pytest.fixture(scope="module")
def kernel(wasm: Path):
    pytest.importorskip("wasmtime", reason="the kernel tests need wasmtime")
    k = Kernel(wasm)
    yield k
    k.close()


def table(lon, lat, weight=None) -> pa.Table:
    cols = {"lon": np.asarray(lon, np.float64), "lat": np.asarray(lat, np.float64)}
    if weight is not None:
        cols["weight"] = np.asarray(weight, np.float32)
    return pa.table(cols)


def wrap_lon(lon: np.ndarray) -> np.ndarray:
    """Into [-180, 180), as heatwidget.points.inputs does."""
    return (np.asarray(lon) + 180.0) % 360.0 - 180.0


def points_near(rng, origin, zoom, width, height, n, spill=60.0):
    """Random points over a frame and a margin around it (lon wrapped like _inputs)."""
    x0, y0 = origin
    world = R.world_size(zoom)
    px = rng.uniform(x0 - spill, x0 + width + spill, n)
    py = np.clip(rng.uniform(y0 - spill, y0 + height + spill, n), 0.0, world - 1e-9)
    lat, lon = unproject(px, py, zoom)
    return wrap_lon(lon), lat


def dyadic_weights(rng, n):
    """Weights that float32 sums exactly in any order (so order-independence is exact)."""
    return (rng.integers(0, 64, n) / 8.0).astype(np.float32)


# Views: (zoom, origin, width, height). Origins include negative ones, fractional ones and
# frames that cross the antimeridian; the zoom-0 and zoom-2 frames are wider than the world.
VIEWS = [
    (0, (0.0, 0.0), 256, 256),
    (0, (-300.0, -20.0), 1024, 300),
    (2, (-1000.0, 3.0), 3000, 1030),
    (3, (1900.0, 700.0), 400, 300),
    (3.5, (-100.0, 500.0), 640, 480),
    (3.5, (2700.25, 1100.75), 500, 200),
    (10, (130000.0, 90000.0), 512, 384),
    (10, (2**18 - 200.0, 100000.0), 400, 300),
    (18, (2**25 + 7.0, 2**25 - 100.0), 800, 600),
    (18, (2**26 - 300.0, 2**25), 640, 480),
]
AGGS = {"sum": R.AGG_SUM, "count": R.AGG_COUNT, "mean": R.AGG_MEAN, "max": R.AGG_MAX}


# ---- radius 0: exact binning ---------------------------------------------------------------


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: f"z{v[0]}@{v[1][0]:g},{v[1][1]:g}")
def test_radius0_equals_reference_binning_exactly(kernel: Kernel, view) -> None:
    zoom, origin, w, h = view
    rng = np.random.default_rng(abs(hash((zoom, origin))) % 2**32)
    lon1, lat1 = points_near(rng, origin, zoom, w, h, 20_000)
    lon2 = rng.uniform(-180, 180, 20_000)  # and some anywhere in the world
    lat2 = rng.uniform(-85.06, 85.06, 20_000)
    lon, lat = np.concatenate([lon1, lon2]), np.concatenate([lat1, lat2])
    wt = dyadic_weights(rng, lon.size)
    kernel.load(table(lon, lat, wt))
    for name, agg in AGGS.items():
        grid, mx = kernel.density(origin, zoom, w, h, 0.0, agg)
        ref = R.bin_points(lon, lat, wt, origin, zoom, w, h, agg)
        assert grid.shape == (h, w)
        assert grid.dtype == np.float32
        np.testing.assert_array_equal(grid, ref, err_msg=f"aggregation {name}")
        assert mx == float(ref.max())
    # the view saw points (the test would be vacuous otherwise)
    assert R.bin_points(lon, lat, None, origin, zoom, w, h, R.AGG_COUNT).sum() > 1000


def test_unweighted_points_count_one_each(kernel: Kernel) -> None:
    rng = np.random.default_rng(5)
    lon, lat = points_near(rng, (-300.0, -20.0), 0, 1024, 300, 5000)
    kernel.load(table(lon, lat))
    for agg in (R.AGG_SUM, R.AGG_COUNT):
        grid, _ = kernel.density((-300.0, -20.0), 0, 1024, 300, 0.0, agg)
        ref = R.bin_points(lon, lat, None, (-300.0, -20.0), 0, 1024, 300, R.AGG_COUNT)
        np.testing.assert_array_equal(grid, ref)
    grid, _ = kernel.density((-300.0, -20.0), 0, 1024, 300, 0.0, R.AGG_MEAN)
    assert set(np.unique(grid)) <= {0.0, 1.0}


def test_zoom18_points_land_on_leaflets_pixel(kernel: Kernel) -> None:
    """At zoom 18, floor(project(lat, lon) - origin) with Leaflet's float64 maths.

    Fixed point is 1/64 px at zoom 18 and floors, so a point less than 1/64 px right of (or
    below) a pixel edge may sit in the pixel before: only that is allowed.
    """
    vp = Viewport((48.8584, 2.2945), 18, 300, 200)
    x0, y0 = vp.origin
    rng = np.random.default_rng(18)
    n = 3000
    px = rng.uniform(x0, x0 + vp.width, n)
    py = rng.uniform(y0, y0 + vp.height, n)
    lat, lon = unproject(px, py, 18)
    # one point per row so each can be located on its own in the grid
    lx, ly = project(lat, lon, 18)
    ix, iy = np.floor(lx - x0).astype(int), np.floor(ly - y0).astype(int)
    inside = (ix >= 0) & (ix < vp.width) & (iy >= 0) & (iy < vp.height)
    kernel.load(table(lon, lat, np.arange(1, n + 1, dtype=np.float32)))
    grid, _ = kernel.density((x0, y0), 18, vp.width, vp.height, 0.0, R.AGG_MAX)
    # each point's id is in its pixel unless a larger id shares it: check via the count grid
    cnt, _ = kernel.density((x0, y0), 18, vp.width, vp.height, 0.0, R.AGG_COUNT)
    assert cnt.sum() == inside.sum()
    exact = 0
    for i in np.nonzero(inside)[0]:
        cx, cy = ix[i], iy[i]
        if grid[cy, cx] == i + 1:
            exact += 1
            continue
        # not the pixel's max: either a larger id shares the pixel, or it sits one before
        fx, fy = lx[i] - x0 - cx, ly[i] - y0 - cy
        found = [
            (yy, xx)
            for yy, xx in ((cy, cx), (cy, cx - 1), (cy - 1, cx), (cy - 1, cx - 1))
            if 0 <= yy < vp.height and 0 <= xx < vp.width and grid[yy, xx] >= i + 1
        ]
        assert found, f"point {i} not near Leaflet's pixel ({cx}, {cy})"
        if grid[cy, cx] < i + 1:
            assert (fx < 1 / 64 and found[0][1] == cx - 1) or (
                fy < 1 / 64 and found[0][0] == cy - 1
            )
    assert exact > 0.97 * inside.sum()


def test_points_at_the_mercator_limits_and_the_antimeridian(kernel: Kernel) -> None:
    lat = np.array([85.0511287798, -85.0511287798, 90.0, -90.0, 85.06, 0.0, 0.0, 0.0, 0.0])
    lon = np.array([0.0, 0.0, 10.0, 10.0, -10.0, -180.0, 180.0, 179.99999, -179.99999])
    kernel.load(table(lon, lat, np.arange(1, 10, dtype=np.float32)))
    grid, _ = kernel.density((0.0, 0.0), 0, 256, 256, 0.0, R.AGG_SUM)
    np.testing.assert_array_equal(
        grid, R.bin_points(lon, lat, np.arange(1, 10), (0, 0), 0, 256, 256, 0)
    )
    assert grid[0, 128] == 1  # lat 85.0511 → top row
    assert grid[255, 128] == 2  # lat -85.0511 → bottom row
    assert grid[0, 135] == 3  # lat 90 clamps to the top
    assert grid[255, 135] == 4
    assert grid[128, 0] == 6 + 7 + 9  # lon ±180 (one meridian) and -179.99999: column 0
    assert grid[128, 255] == 8  # lon 179.99999: the last column
    # a frame straddling the antimeridian at zoom 4 sees -180 and 180 side by side
    world = R.world_size(4)
    origin = (world - 10.0, world / 2 - 5)
    g4, _ = kernel.density(origin, 4, 20, 10, 0.0, R.AGG_SUM)
    np.testing.assert_array_equal(
        g4, R.bin_points(lon, lat, np.arange(1, 10), origin, 4, 20, 10, 0)
    )
    assert g4[5, 10] == 6 + 7 + 9  # lon ±180 and -179.99999 → first column east of the line
    assert g4[5, 9] == 8  # lon 179.99999 → last column west of it
    # zoomed out, every world copy in the frame gets the point
    g0, _ = kernel.density((-512.0, 0.0), 0, 1024 + 256, 256, 0.0, R.AGG_COUNT)
    assert g0[0, 128::256].tolist() == [1.0] * 5


def test_non_finite_rows_are_held_but_never_drawn(kernel: Kernel) -> None:
    lon = np.array([0.0, np.nan, 10.0, np.inf, 5.0])
    lat = np.array([0.0, 1.0, np.nan, 1.0, 5.0])
    n = kernel.load(table(lon, lat))
    assert n == 5
    grid, _ = kernel.density((0.0, 0.0), 0, 256, 256, 0.0, R.AGG_COUNT)
    assert grid.sum() == 2


# ---- spatial order: tiles, pyramid, tail, sliding window ----------------------------------
# Points without times are sorted into Morton order at the first frame (spatial.c; "Spatial
# order"); a frame then visits the tiles in view, or pyramid cells when zoomed out. Points
# with times keep their arrival order: the same data with a time column is the reference.


def _with_time(tab: pa.Table) -> pa.Table:
    return tab.append_column("time", pa.array(np.zeros(tab.num_rows)))


def _clustered(rng, n):
    centres = rng.uniform([-150, -50], [150, 60], size=(40, 2))
    k = rng.integers(0, 40, n)
    lon = wrap_lon(centres[k, 0] + rng.normal(0, 2.0, n))
    lat = np.clip(centres[k, 1] + rng.normal(0, 2.0, n), -85, 85)
    return lon, lat, dyadic_weights(rng, n)


@pytest.mark.parametrize("view", [(1, (0.0, 40.0), 512, 300), (6, (5000.0, 6000.0), 800, 600)])
def test_spatial_order_keeps_exact_binning(wasm: Path, view) -> None:
    zoom, origin, w, h = view
    rng = np.random.default_rng(11)
    lon, lat, wt = _clustered(rng, 120_000)
    with Kernel(wasm) as spatial, Kernel(wasm) as arrival:
        spatial.load(table(lon, lat, wt))
        spatial.index()
        arrival.load(_with_time(table(lon, lat, wt)))
        for agg in AGGS.values():
            a, _ = spatial.density(origin, zoom, w, h, 0.0, agg)
            b, _ = arrival.density(origin, zoom, w, h, 0.0, agg)
            np.testing.assert_array_equal(a, b)  # dyadic weights: sums exact in any order
        ref = R.bin_points(lon, lat, wt, origin, zoom, w, h, R.AGG_SUM)
        np.testing.assert_array_equal(spatial.density(origin, zoom, w, h, 0.0, R.AGG_SUM)[0], ref)


def test_pyramid_frames_match_point_frames(wasm: Path) -> None:
    rng = np.random.default_rng(12)
    lon, lat, wt = _clustered(rng, 200_000)
    with Kernel(wasm) as spatial, Kernel(wasm) as arrival:
        spatial.load(table(lon, lat, wt))
        spatial.index()
        arrival.load(_with_time(table(lon, lat, wt)))
        for zoom, radius, origin in (
            (1, 25.0, (10.0, 30.0)),
            (2.5, 40.0, (100.0, 300.0)),
            (3, 10.0, (600.0, 500.0)),
        ):
            for name, agg in AGGS.items():
                a, amax = spatial.density(origin, zoom, 700, 500, radius, agg)
                b, bmax = arrival.density(origin, zoom, 700, 500, radius, agg)
                if agg in (R.AGG_SUM, R.AGG_COUNT):
                    # the same mass, but for cells at the padding's outer edge, whose points
                    # straddle it (their heat barely reaches the frame)
                    assert a.sum() == pytest.approx(b.sum(), rel=5e-3), name
                # cells replace points within a quarter of a grid cell: the frames agree
                # to a few percent of their peak ("mean" is cut where the spread count falls
                # below one point's at the radius: compare where both show heat)
                both = (a > 0) & (b > 0) if agg == R.AGG_MEAN else np.ones(a.shape, bool)
                assert np.count_nonzero(both) >= 0.99 * np.count_nonzero((a > 0) | (b > 0))
                # (a mean's rim, where few points are spread thin, is a ratio of small sums;
                # "max" never uses the pyramid)
                tolerance = 0.1 if agg == R.AGG_MEAN else 0.06
                assert bmax > 0 and both.any(), (name, zoom)
                assert np.abs(a - b)[both].max() <= tolerance * bmax, (name, zoom)
                assert amax == pytest.approx(bmax, rel=0.06), (name, zoom)


def _in_spatial_order(k: Kernel) -> bool:
    """Whether the rows held are in level-12 Morton order (spatial.c xy_key)."""
    from heatwidget.aggregate import morton

    n = k.point_count
    x = k._view("hw_points_x", np.uint32, n).copy()
    y = k._view("hw_points_y", np.uint32, n).copy()
    key = morton.encode(x >> np.uint32(20), y >> np.uint32(20)).astype(np.int64)
    return bool((np.diff(key) >= 0).all())


def test_index_when_idle_merges_a_smaller_tail_than_frames_do(wasm: Path) -> None:
    """Rows appended to sorted points wait in arrival order; a frame merges them at an eighth
    of the rows, an idle host's index() (model-kernel.ts, when appends pause) at a 64th, and
    the frames drawn from the merged rows are those of the rows loaded afresh."""
    rng = np.random.default_rng(8)
    base, more = _clustered(rng, 200_000), _clustered(rng, 200_000 // 32)
    view = ((40.0, 30.0), 2.0, 640, 480)
    with Kernel(wasm) as k, Kernel(wasm) as fresh:
        k.load(table(*base))
        k.index()
        k.append(table(*more))
        k.density(*view, 12.0, R.AGG_SUM)
        assert not _in_spatial_order(k)  # a 32nd: frames leave it as a tail
        k.index()
        assert _in_spatial_order(k)
        fresh.load(table(*(np.r_[a, b] for a, b in zip(base, more, strict=True))))
        fresh.index()
        for agg in (R.AGG_SUM, R.AGG_COUNT):
            a, _ = k.density(*view, 12.0, agg)
            b, bmax = fresh.density(*view, 12.0, agg)
            assert bmax > 0
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * bmax)


def test_appends_and_sliding_window_on_sorted_points(wasm: Path) -> None:
    rng = np.random.default_rng(13)
    lon, lat, wt = _clustered(rng, 150_000)
    view = ((0.0, 0.0), 1.5, 512, 512)
    with Kernel(wasm) as k, Kernel(wasm) as fresh:
        k.load(table(lon[:100_000], lat[:100_000], wt[:100_000]))
        k.density(*view, 8.0, R.AGG_SUM)  # the first frame draws unsorted rows
        k.index()  # sorts
        k.append(table(lon[100_000:], lat[100_000:], wt[100_000:]))  # a tail, then merged
        fresh.load(table(lon, lat, wt))
        # zoomed in on a cluster, frames visit only the tiles in view: they must hold every row
        # of the merged order
        x, y = R.world_pixels(*R.fixed_point(lon[:1], lat[:1])[:2], 7)
        close = ((float(x[0]) - 400, float(y[0]) - 300), 7, 800, 600)
        for v in (view, close):
            for radius in (0.0, 8.0):
                a, _ = k.density(*v, radius, R.AGG_SUM)
                b, _ = fresh.density(*v, radius, R.AGG_SUM)
                np.testing.assert_array_equal(a, b)
                assert a.max() > 0
        # spatial order keeps no arrival numbers (heat.h "Memory a row"): a first drop is
        # refused and changes nothing ...
        with pytest.raises(ArrivalOrderLost):
            k.drop_front(70_000)
        assert k.point_count == 150_000
        np.testing.assert_array_equal(
            k.density(*close, 0.0, R.AGG_SUM)[0], fresh.density(*close, 0.0, R.AGG_SUM)[0]
        )
        # ... until the host loads the rows again in arrival order (the page asks Python):
        # then the oldest 70,000 go, and the rows stay in arrival order, index() or not
        k.load(table(lon, lat, wt))
        k.keep_arrival_order()
        k.index()
        k.density(*view, 8.0, R.AGG_SUM)
        assert k.drop_front(70_000) == 80_000
        fresh.load(_with_time(table(lon[70_000:], lat[70_000:], wt[70_000:])))  # rows only
        a, _ = k.density(*view, 0.0, R.AGG_COUNT)
        b, _ = fresh.density(*view, 0.0, R.AGG_COUNT)
        np.testing.assert_array_equal(a, b)
        # with a radius, zoomed out, the window's own pyramid stands for the points (window.c):
        # within a quarter of a grid cell of them, as in spatial order
        for agg in (R.AGG_COUNT, R.AGG_SUM):
            a, _ = k.density(*view, 8.0, agg)
            b, bmax = fresh.density(*view, 8.0, agg)
            assert a.sum() == pytest.approx(b.sum(), rel=5e-3)
            assert np.abs(a - b).max() <= 0.06 * bmax
        # and it follows appends and drops: add 20,000, drop 30,000, compare again
        k.append(table(lon[:20_000], lat[:20_000], wt[:20_000]))
        assert k.drop_front(30_000) == 70_000
        keep = np.r_[100_000:150_000, 0:20_000]
        fresh.load(_with_time(table(lon[keep], lat[keep], wt[keep])))
        for agg in (R.AGG_COUNT, R.AGG_SUM):
            a, _ = k.density(*view, 8.0, agg)
            b, bmax = fresh.density(*view, 8.0, agg)
            assert a.sum() == pytest.approx(b.sum(), rel=5e-3)
            assert np.abs(a - b).max() <= 0.06 * bmax
        assert np.array_equal(
            k.density(*view, 0.0, R.AGG_COUNT)[0], fresh.density(*view, 0.0, R.AGG_COUNT)[0]
        )
        # times arriving for points held: rows, in arrival order
        k.append(_with_time(table(lon[:10], lat[:10], wt[:10])))
        assert k.drop_front(70_000) == 10
        fresh.load(table(lon[:10], lat[:10], wt[:10]))
        np.testing.assert_array_equal(
            k.density(*view, 0.0, R.AGG_SUM)[0], fresh.density(*view, 0.0, R.AGG_SUM)[0]
        )


# ---- radius > 0: the footprint -------------------------------------------------------------

# heat.h: the Gaussian (sigma = radius / 2) is applied on a grid of f x f-pixel cells, f the
# power of two with 2 <= sigma / f < 4; a point counts at its cell's centre. Measured max
# |footprint - Gaussian about the cell centre| / peak over radii 1..200 and sub-pixel offsets:
# 5.1% (radius 32, f = 8), 1.5% at radius 25; 0.03% at full resolution (f = 1).
FOOTPRINT_MAX_REL_ERROR = 0.055


def _cell_size(radius: float) -> int:
    f = 1
    while radius / 2 / f >= 4:
        f *= 2
    return f


@pytest.mark.parametrize("radius", [3, 5, 8, 15, 16, 25, 32, 40, 100])
def test_footprint_is_close_to_the_exact_gaussian(kernel: Kernel, radius: float) -> None:
    zoom, x0, y0, n = 10, 5000.0, 7000.0, 401
    lat, lon = unproject(x0 + 200.3, y0 + 200.7, zoom)
    kernel.load(table([lon], [lat], [2.0]))
    grid, mx = kernel.density((x0, y0), zoom, n, n, radius, R.AGG_SUM)
    # the point counts at the centre of its f x f cell (cells align with the integer origin)
    f = _cell_size(radius)
    cx, cy = (math.floor(200.3 / f) + 0.5) * f, (math.floor(200.7 / f) + 0.5) * f
    assert abs(cx - 200.3) <= f / 2 and abs(cy - 200.7) <= f / 2 <= max(0.5, radius / 8)
    sigma = radius / 2
    yy, xx = np.mgrid[0:n, 0:n] + 0.5
    ref = 2.0 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma**2)) / (2 * np.pi * sigma**2)
    err = np.abs(grid - ref).max() / ref.max()
    assert err < FOOTPRINT_MAX_REL_ERROR, f"max error {err:.3f} of the peak"
    assert grid.sum() == pytest.approx(2.0, rel=1e-4)  # mass conserved
    assert mx == pytest.approx(grid.max())
    # as wide as the Gaussian: the variance is matched exactly, up to truncation at 3.5 sigma
    prof = grid.sum(axis=0).astype(np.float64)
    d = np.arange(n) + 0.5 - cx
    measured = math.sqrt((prof * d**2).sum() / prof.sum())
    assert measured == pytest.approx(sigma, rel=0.03)


def test_blurred_mass_is_conserved_away_from_edges(kernel: Kernel) -> None:
    rng = np.random.default_rng(7)
    zoom, origin, w, h, radius = 9, (60000.0, 40000.0), 600, 400, 25.0
    px = rng.uniform(origin[0] + 60, origin[0] + w - 60, 50_000)
    py = rng.uniform(origin[1] + 60, origin[1] + h - 60, 50_000)
    lat, lon = unproject(px, py, zoom)
    wt = rng.uniform(0.5, 2.0, px.size).astype(np.float32)
    kernel.load(table(lon, lat, wt))
    for agg, total in ((R.AGG_SUM, float(wt.astype(np.float64).sum())), (R.AGG_COUNT, 50_000.0)):
        grid, _ = kernel.density(origin, zoom, w, h, radius, agg)
        assert grid.astype(np.float64).sum() == pytest.approx(total, rel=1e-4)
    # mean stays within the weights' range where there are points
    grid, _ = kernel.density(origin, zoom, w, h, radius, R.AGG_MEAN)
    core = grid[80:-80, 80:-80]
    assert core.min() >= 0.5 - 1e-3
    assert core.max() <= 2.0 + 1e-3


def test_points_outside_the_frame_contribute_up_to_their_reach(kernel: Kernel) -> None:
    zoom, x0, y0, radius = 10, 5000.0, 7000.0, 20.0
    # a point 10 px left of the frame: its heat reaches in
    lat, lon = unproject(x0 - 10 + 0.5, y0 + 50.5, zoom)
    kernel.load(table([lon], [lat]))
    grid, _ = kernel.density((x0, y0), zoom, 100, 100, radius, R.AGG_SUM)
    assert grid[50, 0] > 0.3 * R.gaussian_footprint(radius, 50)[50, 40]
    # the whole footprint is there: what is in the frame plus what is left of it is 1
    wide, _ = kernel.density((x0 - 60, y0), zoom, 160, 100, radius, R.AGG_SUM)
    assert wide.sum() == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_allclose(wide[:, 60:], grid, atol=1e-7)


def test_max_aggregation_spreads_the_largest_weight(kernel: Kernel) -> None:
    zoom, x0, y0 = 10, 5000.0, 7000.0
    lat, lon = unproject(np.array([x0 + 30.5, x0 + 70.5]), np.array([y0 + 50.5] * 2), zoom)
    kernel.load(table(lon, lat, [1.0, 3.0]))
    # radius 6: full resolution, the max-product with the Gaussian is exact
    grid, mx = kernel.density((x0, y0), zoom, 100, 100, 6.0, R.AGG_MAX)
    assert mx == pytest.approx(3.0)
    assert grid[50, 70] == pytest.approx(3.0)
    assert grid[50, 30] == pytest.approx(1.0)
    assert grid[50, 75] == pytest.approx(3.0 * math.exp(-(5**2) / (2 * 3.0**2)), rel=1e-3)
    # radius 20: on 4-px cells, read back by interpolation: the peak within 5%, no spill-over
    grid, mx = kernel.density((x0, y0), zoom, 100, 100, 20.0, R.AGG_MAX)
    assert 2.85 <= mx <= 3.0
    assert abs(int(np.argmax(grid[50])) - 70) <= 2
    assert grid[50, 30] == pytest.approx(1.0, rel=0.05)


def test_blur_leaves_exact_zeros_beyond_the_footprint(kernel: Kernel) -> None:
    rng = np.random.default_rng(2)
    zoom, x0, y0 = 10, 5000.0, 7000.0
    px, py = rng.normal(x0 + 100, 10, 100_000), rng.normal(y0 + 100, 10, 100_000)
    lat, lon = unproject(px, py, zoom)
    kernel.load(table(lon, lat))
    grid, _ = kernel.density((x0, y0), zoom, 600, 400, 25.0, R.AGG_SUM)
    far = np.ones(grid.shape, bool)
    far[: 100 + 10 * 6 + 60, : 100 + 10 * 6 + 60] = False  # 6 sd + the reach (heat.h)
    assert np.count_nonzero(grid[far]) == 0, (
        f"{np.count_nonzero(grid[far])} non-zero pixels beyond the footprint, min {grid.min():g}"
    )
    assert grid.min() >= 0.0
    # so "p99" is the 99th percentile of the heat, not of the heat plus rounding residue
    nz = np.sort(grid[grid > 0])
    assert kernel.quantile(0.99) == nz[math.ceil(0.99 * nz.size) - 1]


def test_mean_stays_within_the_weights_range(kernel: Kernel) -> None:
    rng = np.random.default_rng(2)
    zoom, x0, y0 = 10, 5000.0, 7000.0
    n = 1_000_000
    px, py = rng.normal(x0 + 300, 30, n), rng.normal(y0 + 300, 30, n)
    lat, lon = unproject(px, py, zoom)
    kernel.load(table(lon, lat, rng.uniform(1.0, 2.0, n)))
    grid, mx = kernel.density((x0, y0), zoom, 1024, 768, 25.0, R.AGG_MEAN)
    assert mx <= 2.0 + 1e-3, f"frame max {mx} but every weight is in [1, 2]"
    assert grid.min() >= 0.0, f"negative mean {grid.min()}"


# ---- quantiles -------------------------------------------------------------------------------


def _distinct_values_frame(kernel: Kernel, values: np.ndarray) -> None:
    zoom, x0, y0 = 10, 5000.0, 7000.0
    n = values.size
    px = x0 + (np.arange(n) % 64) + 0.5
    py = y0 + (np.arange(n) // 64) + 0.5
    lat, lon = unproject(px, py, zoom)
    kernel.load(table(lon, lat, values))
    kernel.density((x0, y0), zoom, 64, n // 64 + 1, 0.0, R.AGG_SUM)


def test_quantile_of_the_non_zero_values(kernel: Kernel) -> None:
    rng = np.random.default_rng(3)
    values = rng.uniform(0.1, 100.0, 1001).astype(np.float32)
    values[::7] = 0.0  # zeros are not counted
    _distinct_values_frame(kernel, values)
    nz = np.sort(values[values > 0])
    m = nz.size
    for q in (0.1, 0.333, 0.5, 0.9, 0.99):
        # nearest rank: the smallest value with at least q of them at or below it
        rank = math.ceil(q * m)
        if rank == q * m:  # integer positions are test_quantile_nearest_rank's business
            continue
        assert kernel.quantile(q) == nz[rank - 1], q
    assert kernel.quantile(1.0) == nz[-1]
    assert kernel.quantile(0.0) == nz[0]
    kernel.load(table([], []))
    kernel.density((0.0, 0.0), 0, 10, 10, 0.0, R.AGG_SUM)
    assert kernel.quantile(0.5) == 0.0


def test_quantile_nearest_rank_at_integer_positions(kernel: Kernel) -> None:
    _distinct_values_frame(kernel, np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    assert kernel.quantile(0.5) == 2.0  # 2 of 4 values (50%) are <= 2; the kernel once returned 3
    assert kernel.quantile(0.25) == 1.0
    assert kernel.quantile(0.75) == 3.0


# ---- colours ---------------------------------------------------------------------------------


def _grid_of(kernel: Kernel, values: np.ndarray) -> np.ndarray:
    """Load points so the radius-0 sum grid is exactly ``values`` (one row of pixels)."""
    zoom, x0, y0 = 12, 100000.0, 80000.0
    n = values.size
    lat, lon = unproject(x0 + np.arange(n) + 0.5, np.full(n, y0 + 0.5), zoom)
    kernel.load(table(lon, lat, values))
    grid, _ = kernel.density((x0, y0), zoom, n, 1, 0.0, R.AGG_SUM)
    np.testing.assert_array_equal(grid[0], values.astype(np.float32))
    return grid


def _ramp_lut() -> bytes:
    """A LUT whose entry i is (i, 255 - i, i // 2, 255): indexes can be read back."""
    i = np.arange(256)
    return np.stack([i, 255 - i, i // 2, np.full(256, 255)], axis=1).astype(np.uint8).tobytes()


def test_colorize_linear_and_sqrt_follow_heat_h_exactly(kernel: Kernel) -> None:
    # values whose t * 255 sits just either side of .5, exact zeros and values beyond the domain
    k = np.arange(0, 256, dtype=np.float64)
    values = np.concatenate([(k + 0.49) / 255 * 8, (k + 0.51) / 255 * 8, [0.0, 9.0, 100.0]])
    values = values.astype(np.float32)
    grid = _grid_of(kernel, values)
    lut = _ramp_lut()
    for scale in (R.SCALE_LINEAR, R.SCALE_SQRT):
        for vmin, vmax, threshold in ((0.0, 8.0, 0.0), (1.0, 8.0, 0.0), (0.0, 8.0, 2.5)):
            rgba = kernel.colorize(vmin, vmax, scale, threshold, lut)
            ref = R.colorize(grid, vmin, vmax, scale, threshold, lut)
            assert rgba.shape == (1, values.size, 4)
            assert rgba.dtype == np.uint8
            # float32 vs float64 maths may differ at an exact .5: allow none here
            np.testing.assert_array_equal(rgba, ref, err_msg=f"scale {scale} {vmin} {vmax}")
    rgba = kernel.colorize(0.0, 8.0, R.SCALE_LINEAR, 2.5, lut)[0]
    assert (rgba[values < 2.5] == 0).all()  # below threshold: fully transparent
    assert (rgba[values == 0] == 0).all()
    assert (rgba[values >= 8.0] == np.frombuffer(lut, np.uint8).reshape(256, 4)[255]).all()


def test_colorize_alpha_ramp(kernel: Kernel) -> None:
    values = (np.arange(1, 256, dtype=np.float32)) / 255.0
    _grid_of(kernel, values)
    rgba = kernel.colorize(0.0, 1.0, R.SCALE_LINEAR, 0.0, resolve_lut("viridis"))[0]
    i = np.arange(1, 256)
    np.testing.assert_array_equal(rgba[:, 3], np.floor(255 * np.minimum(1, i / 64) + 0.5))
    lut = np.frombuffer(resolve_lut("viridis"), np.uint8).reshape(256, 4)
    np.testing.assert_array_equal(rgba[:, :3], lut[1:, :3])


def test_colorize_log_scale_shape(kernel: Kernel) -> None:
    values = np.geomspace(0.001, 1000.0, 500).astype(np.float32)
    _grid_of(kernel, values)
    lut = _ramp_lut()
    for vmin in (0.0, 0.01):
        rgba = kernel.colorize(vmin, 1000.0, R.SCALE_LOG, 0.0, lut)[0]
        red = rgba[:, 0].astype(int)  # the LUT entry used
        lo = vmin if vmin > 0 else 1.0  # vmin <= 0 means vmax / 1000
        assert (rgba[values < lo * 0.99, 3] == 0).all()  # below the low end: entry 0, alpha 0
        assert (red[values >= 1000.0] == 255).all()
        assert (np.diff(red[values > lo]) >= 0).all()  # monotonic


def test_colorize_log_scale_follows_heat_h(kernel: Kernel) -> None:
    values = np.geomspace(0.001, 1000.0, 500).astype(np.float32)
    grid = _grid_of(kernel, values)
    lut = _ramp_lut()
    for vmin in (0.0, 0.01):
        rgba = kernel.colorize(vmin, 1000.0, R.SCALE_LOG, 0.0, lut)[0]
        idx_ref = R.colorize_index(grid, vmin, 1000.0, R.SCALE_LOG)[0]
        drawn = rgba[:, 3] > 0
        off = np.abs(rgba[:, 0].astype(int)[drawn] - idx_ref[drawn])
        # a float log2 good to ~1e-4 may round a few entries the other way, never further
        assert off.max() <= 1, f"LUT index off by up to {off.max()}"
        assert (off > 0).mean() < 0.05


# ---- loading ---------------------------------------------------------------------------------


def test_chunked_loading_equals_one_shot(kernel: Kernel) -> None:
    cap = kernel.stage_capacity
    n = 2 * cap + 12345
    rng = np.random.default_rng(11)
    lon, lat = points_near(rng, (0.0, 0.0), 2, 1024, 1024, n, spill=0)
    wt = dyadic_weights(rng, n)
    one = table(lon, lat, wt).combine_chunks()
    # irregular batches, some empty, some larger than a staging chunk
    cuts = [0, 7, 7, cap + 3, cap + 5000, 2 * cap + 1, n]
    batches = [one.slice(a, b - a).to_batches() for a, b in itertools.pairwise(cuts)]
    many = pa.Table.from_batches([b for bs in batches for b in bs], schema=one.schema)
    assert many.to_batches()[0].num_rows == 7
    assert kernel.load(one) == n
    g1, _ = kernel.density((0.0, 0.0), 2, 1024, 1024, 0.0, R.AGG_SUM)
    assert kernel.load(many) == n
    g2, _ = kernel.density((0.0, 0.0), 2, 1024, 1024, 0.0, R.AGG_SUM)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(g1, R.bin_points(lon, lat, wt, (0, 0), 2, 1024, 1024, 0))
    # a RecordBatch, float32 coordinates (cast) and null coordinates work too
    kernel.load(one.to_batches()[0])
    assert kernel.point_count == one.to_batches()[0].num_rows
    t32 = pa.table({"lon": pa.array([0.0, None], pa.float32()), "lat": pa.array([0.0, 1.0])})
    kernel.load(t32)
    grid, _ = kernel.density((0.0, 0.0), 0, 256, 256, 0.0, R.AGG_COUNT)
    assert grid.sum() == 1


def test_load_requires_lon_and_lat(kernel: Kernel) -> None:
    with pytest.raises(ValueError, match="'lat'"):
        kernel.load(pa.table({"lon": [1.0]}))


def test_memory_stays_bounded(wasm: Path) -> None:
    n = 1_000_000
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(-180, 180, n), rng.uniform(-80, 80, n)
    with Kernel(wasm) as k:
        base = k.memory_bytes
        k.load(table(lon, lat, np.ones(n, np.float32)))
        after_load = k.memory_bytes - base
        assert after_load <= 12 * n * 1.05 + (1 << 20)  # x, y, weight: 12 bytes a point
        k.load(table(lon, lat, np.ones(n, np.float32)))  # reloading reuses the memory
        assert k.memory_bytes - base == after_load
        k.density((0.0, 0.0), 2, 1024, 768, 25.0, R.AGG_SUM)  # the first frame does not sort
        before_index = k.memory_bytes
        k.index()  # the spatial order, which later frames use
        total = k.memory_bytes - base
        # the budget: 1.5x the input bytes (lon, lat float64 + weight float32 = 20 B a
        # point) plus the frame buffers (at most: padded grid + scratch, grid, rgba). The sort
        # adds arrival numbers (4 B) and the pyramid (at most a quarter of the points, 20 B a
        # cell) and the tile index; no sort keys (they are computed from x/y when read: a key
        # buffer was 4 B a row more at the high-water mark, 13.5 B a row here)
        frame_buffers = 4 * (2 * 1100 * 850 + 2 * 1024 * 768)
        assert total <= 1.5 * 20 * n + frame_buffers
        assert k.memory_bytes - before_index <= (4 + 5) * n + (1 << 20)
        assert total - after_load <= (4 + 5) * n + frame_buffers + (1 << 20)
        for _ in range(2):  # no growth at a fixed size
            k.density((0.0, 0.0), 2, 1024, 768, 25.0, R.AGG_SUM)
        assert k.memory_bytes - base == total
    # appending without reserving grows by quarters: still within 2x of the data
    with Kernel(wasm) as k:
        base = k.memory_bytes
        cap = k.stage_capacity
        for a in range(0, n, cap):
            m = min(cap, n - a)
            k._view("hw_stage_lon", np.float64, m)[:] = lon[a : a + m]
            k._view("hw_stage_lat", np.float64, m)[:] = lat[a : a + m]
            assert k._call("hw_points_append", m, 0) == a + m
        assert k.memory_bytes - base <= 2 * 8 * n


def test_kernel_errors(wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FileNotFoundError, match="npm run build in js/"):
        Kernel(tmp_path / "nope.wasm")
    monkeypatch.setitem(sys.modules, "wasmtime", None)
    with pytest.raises(ImportError, match=r'pip install "heatwidget\[png\]"'):
        Kernel(wasm)
    monkeypatch.undo()
    k = Kernel(wasm)
    with pytest.raises(RuntimeError, match="density"):
        k.colorize(0, 1, 0, 0, resolve_lut("viridis"))
    with pytest.raises(ValueError, match="aggregation"):
        k.density((0, 0), 0, 10, 10, 0, 9)
    k.close()
    k.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        k.load(table([0.0], [0.0]))


def test_module_is_compiled_once(wasm: Path) -> None:
    a, b = Kernel(wasm), Kernel(wasm)
    assert len({id(m) for m in _kernel._MODULES.values()}) == len(_kernel._MODULES)
    assert a._store is not b._store  # one Store/Instance per Kernel: separate memories
    a.load(table([0.0], [0.0]))
    assert a.point_count == 1
    assert b.point_count == 0
    a.close()
    b.close()


# ---- properties (hypothesis) -----------------------------------------------------------------

coords = st.tuples(
    st.floats(-180.0, 179.999999, allow_nan=False), st.floats(-85.06, 85.06, allow_nan=False)
)
view_st = st.sampled_from(VIEWS[:6])


@settings(max_examples=40, deadline=None)
@given(
    pts=st.lists(coords, min_size=1, max_size=300),
    wts=st.lists(st.integers(0, 64), min_size=300, max_size=300),
    view=view_st,
)
def test_property_total_in_view_equals_total_weight_in_view(kernel, pts, wts, view) -> None:
    zoom, origin, w, h = view
    lon, lat = np.array(pts).T
    wt = (np.array(wts[: len(pts)]) / 4.0).astype(np.float32)
    kernel.load(table(lon, lat, wt))
    grid, _ = kernel.density(origin, zoom, w, h, 0.0, R.AGG_SUM)
    idx, _, _ = R.frame_cells(lon, lat, origin, zoom, w, h)
    assert grid.astype(np.float64).sum() == wt[idx].astype(np.float64).sum()


@settings(max_examples=30, deadline=None)
@given(
    pts=st.lists(coords, min_size=1, max_size=300),
    seed=st.integers(0, 2**32 - 1),
    view=view_st,
    radius=st.sampled_from([0.0, 0.0, 4.0, 15.0]),
)
def test_property_order_does_not_matter(kernel, pts, seed, view, radius) -> None:
    zoom, origin, w, h = view
    lon, lat = np.array(pts).T
    rng = np.random.default_rng(seed)
    wt = dyadic_weights(rng, lon.size)
    perm = rng.permutation(lon.size)
    for agg in AGGS.values():
        kernel.load(table(lon, lat, wt))
        g1, _ = kernel.density(origin, zoom, w, h, radius, agg)
        kernel.load(table(lon[perm], lat[perm], wt[perm]))
        g2, _ = kernel.density(origin, zoom, w, h, radius, agg)
        if radius == 0:
            np.testing.assert_array_equal(g1, g2)  # dyadic weights: exact in any order
        else:
            np.testing.assert_allclose(g1, g2, rtol=1e-5, atol=1e-6 * max(1.0, float(g1.max())))


@settings(max_examples=30, deadline=None)
@given(
    pts=st.lists(coords, min_size=1, max_size=200),
    seed=st.integers(0, 2**32 - 1),
    view=view_st,
    factor=st.sampled_from([0.25, 2.0, 8.0, 3.0, 0.1]),
    radius=st.sampled_from([0.0, 6.0]),
)
def test_property_weights_scale_linearly(kernel, pts, seed, view, factor, radius) -> None:
    zoom, origin, w, h = view
    lon, lat = np.array(pts).T
    wt = np.random.default_rng(seed).uniform(0.0, 4.0, lon.size).astype(np.float32)
    kernel.load(table(lon, lat))
    cnt, cmax = kernel.density(origin, zoom, w, h, radius, R.AGG_COUNT)
    for agg in (R.AGG_SUM, R.AGG_MEAN, R.AGG_MAX):
        kernel.load(table(lon, lat, wt))
        g1, m1 = kernel.density(origin, zoom, w, h, radius, agg)
        if agg == R.AGG_MEAN and radius > 0:
            # blurred sums / blurred counts: only meaningful where the counts are (the far
            # tails are float32 residue: see test_mean_stays_within_the_weights_range)
            kernel.load(table(lon, lat, wt * np.float32(factor)))
            g2, _ = kernel.density(origin, zoom, w, h, radius, agg)
            core = cnt > 1e-3 * cmax
            np.testing.assert_allclose(g2[core], g1[core] * factor, rtol=1e-3, atol=1e-6)
            continue
        kernel.load(table(lon, lat, wt * np.float32(factor)))
        g2, m2 = kernel.density(origin, zoom, w, h, radius, agg)
        if math.log2(factor).is_integer() and radius == 0:
            np.testing.assert_array_equal(g2, g1 * np.float32(factor))  # powers of 2: exact
        else:
            tol = 1e-5 * factor * max(1.0, float(g1.max()))
            np.testing.assert_allclose(g2, g1 * factor, rtol=1e-4, atol=tol)
        assert m2 == pytest.approx(m1 * factor, rel=1e-4, abs=1e-6)


# ---- render() and PNG ------------------------------------------------------------------------


def test_render_frame(wasm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEATWIDGET_WASM", str(wasm))
    rng = np.random.default_rng(4)
    vp = Viewport((40.0, -100.0), 4, 320, 200)
    lon, lat = points_near(rng, vp.origin, 4, 320, 200, 20_000, spill=0)
    t = table(lon, lat)
    lut = resolve_lut("inferno")
    auto = render(t, vp, radius=10, lut=lut)
    assert auto.grid.shape == (200, 320)
    assert auto.rgba.shape == (200, 320, 4)
    assert auto.vmin == 0.0
    assert auto.vmax == pytest.approx(float(auto.grid.max()))
    assert auto.bounds == vp.bounds
    p99 = render(t, vp, radius=10, vmax="p99", lut=lut)
    assert 0 < p99.vmax < auto.vmax
    fixed = render(t, vp, radius=10, vmax=3.5, aggregation="count", scale="sqrt", lut=lut)
    assert fixed.vmax == 3.5
    np.testing.assert_array_equal(fixed.grid, auto.grid)  # unweighted: count == sum
    with Kernel(wasm) as k:  # a kernel can be reused; table=None keeps its points
        k.load(t)
        again = render(None, vp, radius=10, lut=lut, kernel=k)
        np.testing.assert_array_equal(again.rgba, auto.rgba)
        assert k.point_count == 20_000
    for bad in ({"aggregation": "median"}, {"scale": "cube"}, {"vmax": "p0"}, {"vmax": "x"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            render(t, vp, radius=10, lut=lut, **bad)  # type: ignore[arg-type]


def _decode_png(data: bytes) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError:
        mpl_image = pytest.importorskip("matplotlib.image", reason="need Pillow or matplotlib")
        arr = mpl_image.imread(io.BytesIO(data), format="png")
        return np.round(arr * 255).astype(np.uint8)
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im).copy()


def test_png_round_trips() -> None:
    rng = np.random.default_rng(9)
    rgba = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    png = encode_png(rgba)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    np.testing.assert_array_equal(_decode_png(png), rgba)
    half = _decode_png(encode_png(rgba, opacity=0.5))
    np.testing.assert_array_equal(half[..., :3], rgba[..., :3])
    np.testing.assert_array_equal(half[..., 3], np.floor(rgba[..., 3] * 0.5 + 0.5))
    rgb = _decode_png(encode_png(rgba, background="#102030", opacity=0.8))
    assert rgb.shape == (37, 53, 3)
    np.testing.assert_array_equal(rgb, composite(rgba, "#102030", 0.8))
    # compositing by hand for one pixel
    px = rgba[0, 0].astype(float)
    a = px[3] / 255 * 0.8
    assert rgb[0, 0].tolist() == [
        math.floor(px[c] * a + bg * (1 - a) + 0.5) for c, bg in enumerate((16, 32, 48))
    ]
    # every pixel by the formula, transparent ones (composited apart, as the background) too
    holes = rgba.copy()
    holes[::3, ::2, 3] = 0
    a8 = holes[..., 3:4] / 255 * 0.8
    want = np.floor(holes[..., :3] * a8 + np.array([16, 32, 48]) * (1 - a8) + 0.5)
    np.testing.assert_array_equal(composite(holes, "#102030", 0.8), want)
    # transparent heat shows the background; CRCs are right (zlib.crc32 via the decoder)
    clear = np.zeros((2, 3, 4), np.uint8)
    assert (_decode_png(encode_png(clear, background="#ffffff")) == 255).all()
    assert zlib.crc32(png[12:29]) == int.from_bytes(png[29:33], "big")


def test_png_errors() -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((2, 2, 3), np.uint8))
    with pytest.raises(ValueError, match="opacity"):
        encode_png(np.zeros((2, 2, 4), np.uint8), opacity=2)
    with pytest.raises(ValueError, match="background"):
        encode_png(np.zeros((2, 2, 4), np.uint8), background="#12")


def test_times_arriving_for_sorted_points_restore_arrival_order(wasm: Path) -> None:
    rng = np.random.default_rng(14)
    lon, lat, wt = _clustered(rng, 100_010)
    view = ((0.0, 0.0), 1.5, 512, 512)
    with Kernel(wasm) as k, Kernel(wasm) as fresh:
        k.load(table(lon[:100_000], lat[:100_000], wt[:100_000]))
        k.index()  # spatial order, which keeps no arrival numbers: the times are refused
        with pytest.raises(ArrivalOrderLost):
            k.append(_with_time(table(lon[100_000:], lat[100_000:], wt[100_000:])))
        assert k.point_count == 100_000
        # the host loads the rows again in arrival order, and the times then go in
        k.load(table(lon[:100_000], lat[:100_000], wt[:100_000]))
        k.append(_with_time(table(lon[100_000:], lat[100_000:], wt[100_000:])))
        k.index()  # points with times are never sorted
        assert k.drop_front(100_000) == 10  # the first to arrive go, not the first in space
        fresh.load(_with_time(table(lon[100_000:], lat[100_000:], wt[100_000:])))
        np.testing.assert_array_equal(
            k.density(*view, 0.0, R.AGG_SUM)[0], fresh.density(*view, 0.0, R.AGG_SUM)[0]
        )


# ---- memory a row (heat.h "Memory a row") ----------------------------------------------------


@pytest.mark.parametrize(("weighted", "budget"), [(True, 16.0), (False, 12.0)])
def test_page_memory_per_row_at_10m(wasm: Path, weighted: bool, budget: float) -> None:
    """Issue 13's page budget, the kernel's share, at 10M rows of the data bench/lab_latency.py
    measures (heatwidget.datasets.cities): loaded, drawn, sorted and drawn again, the kernel's
    memory (hw_memory_bytes) stays within 16 B a weighted row, 12 unweighted, with half a byte
    a row left for the page's JS heap and buffers (0.01 B a row in JupyterLab): x/y (and the
    weight), the tile index and pyramid, no arrival numbers and no key buffer. Not timed."""
    from heatwidget.datasets import cities

    n = 10_000_000
    df = cities(n, seed=0)
    cols = {"lon": df["lon"].to_numpy(np.float64), "lat": df["lat"].to_numpy(np.float64)}
    if weighted:
        cols["weight"] = df["mag"].to_numpy(np.float32)
    del df
    with Kernel(wasm) as k:
        k.load(pa.table(cols))
        k.density((0.0, 0.0), 1.0, 512, 512, 8.0, R.AGG_SUM)  # the first frame: unsorted
        k.index()
        k.density((0.0, 0.0), 1.0, 512, 512, 8.0, R.AGG_SUM)  # from the pyramid
        k.density((70_000.0, 50_000.0), 9.0, 800, 600, 8.0, R.AGG_SUM)  # from the tiles
        assert k.point_count == n
        per_row = k.memory_bytes / n
        assert per_row <= budget - 0.5, per_row
        # and the sort kept no arrival numbers: a sliding window needs the rows again
        with pytest.raises(ArrivalOrderLost):
            k.drop_front(1)
        assert k.point_count == n

"""The kernel's dots up close (hw_dots, js/kernel/dots.c) under wasmtime: where a dot lands,
its colour, the cross-fade with the heat, world copies, the time window, the cap."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest

from heatwidget.host.kernel import HW_AGG_SUM, HW_SCALE_LINEAR, Kernel, wasm_path
from heatwidget.host.viewport import project, unproject

pytest.importorskip("wasmtime", reason="the kernel tests need wasmtime")

Z = 18
ORIGIN = (2.0**25 + 7.0, 2.0**25 - 100.0)  # a zoom-18 frame near (0, 0)
W, H = 320, 200


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    if not wasm_path().is_file():
        pytest.skip("heat.wasm not built (npm run build in js/)")
    k = Kernel()
    yield k
    k.close()


def ramp_lut() -> bytes:
    """Entry k is rgb(k, 255 - k, 7) opaque: a dot's entry can be read back from its red."""
    k = np.arange(256)
    return np.stack([k, 255 - k, np.full(256, 7), np.full(256, 255)], 1).astype(np.uint8).tobytes()


def table(px, py, zoom=Z, weight=None, time=None) -> pa.Table:
    lat, lon = unproject(np.asarray(px, float), np.asarray(py, float), zoom)
    cols = {"lon": (np.asarray(lon) + 180.0) % 360.0 - 180.0, "lat": np.asarray(lat)}
    if weight is not None:
        cols["weight"] = np.asarray(weight, np.float32)
    if time is not None:
        cols["time"] = np.asarray(time, np.float64)
    return pa.table(cols)


def frame(k: Kernel, origin=ORIGIN, zoom=Z, w=W, h=H, radius=0.0) -> np.ndarray:
    """Heat frame then colours; returns the heat's RGBA."""
    _, mx = k.density(origin, zoom, w, h, radius, HW_AGG_SUM)
    return k.colorize(0.0, mx, HW_SCALE_LINEAR, 0.0, ramp_lut())


def grid_points(n_x: int, n_y: int, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of a lattice inside the frame, `step` px apart."""
    ix, iy = np.meshgrid(np.arange(n_x), np.arange(n_y))
    return ORIGIN[0] + 10.5 + step * ix.ravel(), ORIGIN[1] + 10.5 + step * iy.ravel()


def test_a_dot_lands_on_the_pixel_its_point_projects_to(kernel: Kernel) -> None:
    rng = np.random.default_rng(5)
    px, py = grid_points(12, 7, 25.0)
    # anywhere in the pixel, not only its centre
    px = px - 0.5 + rng.uniform(0.05, 0.95, px.size)
    py = py - 0.5 + rng.uniform(0.05, 0.95, py.size)
    kernel.load(table(px, py))
    frame(kernel)
    assert kernel.dots(0.0, 1.0) == px.size
    rgba = kernel.rgba()
    lat, lon = unproject(px, py, Z)
    lx, ly = project(lat, lon, Z)  # Leaflet's float64 maths, as the view places a point
    ix, iy = np.floor(lx - ORIGIN[0]).astype(int), np.floor(ly - ORIGIN[1]).astype(int)
    lit = np.argwhere(rgba[..., 3] > 0)
    # radius 0: exactly the pixels the points are in, in the unweighted colour (entry 200)
    assert sorted(map(tuple, lit)) == sorted(zip(iy.tolist(), ix.tolist(), strict=True))
    assert (rgba[iy, ix] == [200, 55, 7, 255]).all()
    # radius 3: the pixels whose centre is within 3 px, and a dark outline around them (the
    # kernel's position is within 1/64 px of Leaflet's: pixel centres that close to an edge
    # may fall either side)
    frame(kernel)
    kernel.dots(3.0, 1.0)
    rgba = kernel.rgba()
    yy, xx = np.mgrid[0:H, 0:W]
    e = 1 / 32
    for cx, cy in zip(lx - ORIGIN[0], ly - ORIGIN[1], strict=True):
        d = np.hypot(xx + 0.5 - cx, yy + 0.5 - cy)
        assert (rgba[d <= 3 - e][:, 0] == 200).all()
        ring = rgba[(d > 3 + e) & (d <= 4 - e)]
        assert (ring[:, :3] == 20).all() and (ring[:, 3] == 255).all()
        assert (rgba[(d > 4 + e) & (d < 8)][:, 3] == 0).all()


def test_colours_follow_the_weight_over_the_weights_held(kernel: Kernel) -> None:
    px, py = grid_points(11, 1, 20.0)
    weights = np.arange(11, dtype=np.float32) * 3.0 - 5.0  # -5 .. 25
    kernel.load(table(px, py, weight=weights))
    frame(kernel)
    kernel.dots(0.0, 1.0)
    assert kernel.dots_domain() == (-5.0, 25.0)
    rgba = kernel.rgba()
    ix, iy = (px - ORIGIN[0]).astype(int), (py - ORIGIN[1]).astype(int)
    entries = rgba[iy, ix, 0]
    assert entries.tolist() == np.floor(np.arange(11) / 10 * 255 + 0.5).astype(int).tolist()
    # the domain is the weights held, not those in view: a far heavy row widens it
    kernel.append(table([ORIGIN[0] + 5e6], [ORIGIN[1]], weight=[55.0]))
    frame(kernel)
    kernel.dots(0.0, 1.0)
    assert kernel.dots_domain() == (-5.0, 55.0)
    assert kernel.rgba()[iy[-1], ix[-1], 0] == round(30 / 60 * 255)
    # one weight for all: one colour, as unweighted rows
    kernel.load(table(px, py, weight=np.full(11, 2.0)))
    frame(kernel)
    kernel.dots(0.0, 1.0)
    assert (kernel.rgba()[iy, ix, 0] == 200).all()


def test_mix_0_is_the_heat_exactly_and_mix_1_has_no_heat(kernel: Kernel) -> None:
    rng = np.random.default_rng(7)
    px = rng.uniform(ORIGIN[0], ORIGIN[0] + W, 300)
    py = rng.uniform(ORIGIN[1], ORIGIN[1] + H, 300)
    kernel.load(table(px, py))
    heat = frame(kernel, radius=20.0)
    assert (heat[..., 3] > 0).mean() > 0.5
    assert kernel.dots(2.0, 0.0) == 0
    np.testing.assert_array_equal(kernel.rgba(), heat)
    frame(kernel, radius=20.0)
    assert kernel.dots(2.0, 1.0) == 300
    dots = kernel.rgba()
    # the same dots over no heat at all (every density below the threshold)
    kernel.density(ORIGIN, Z, W, H, 20.0, HW_AGG_SUM)
    kernel.colorize(0.0, 1.0, HW_SCALE_LINEAR, np.inf, ramp_lut())
    assert (kernel.rgba()[..., 3] == 0).all()
    kernel.dots(2.0, 1.0)
    np.testing.assert_array_equal(dots, kernel.rgba())
    assert (dots[..., 3] > 0).sum() > 300 * 12


def test_the_fade_is_monotone(kernel: Kernel) -> None:
    px, py = grid_points(4, 3, 60.0)
    kernel.load(table(px, py))
    ix, iy = (px - ORIGIN[0]).astype(int), (py - ORIGIN[1]).astype(int)
    heat_only = (iy[0], ix[0] + 12)  # in the first point's heat, outside its dot
    alphas, dist = [], []
    for mix in np.linspace(0.0, 1.0, 9):
        frame(kernel, radius=30.0)
        kernel.dots(4.0, float(mix))
        rgba = kernel.rgba().astype(int)
        alphas.append(rgba[heat_only][3])
        dist.append(np.abs(rgba[iy[0], ix[0], :3] - [200, 55, 7]).sum())
    assert alphas[0] > 0 and alphas[-1] == 0
    assert all(a > b for a, b in itertools.pairwise(alphas))
    assert dist[-1] == 0
    assert all(a >= b for a, b in itertools.pairwise(dist)) and dist[0] > dist[-1]


def test_dots_at_the_antimeridian_and_every_world_copy(kernel: Kernel) -> None:
    kernel.load(pa.table({"lon": [179.9999, -179.9999], "lat": [0.0, 0.0]}))
    # zoom 4, a frame straddling the antimeridian: both sides of the line, each once
    world = 256 * 2**4
    origin = (world - 10.0, world / 2 - 5)
    frame(kernel, origin=origin, zoom=4, w=20, h=10)
    assert kernel.dots(0.0, 1.0) == 2
    assert np.argwhere(kernel.rgba()[..., 3] > 0).tolist() == [[5, 9], [5, 10]]
    # zoom 0, 5 world widths: every copy drawn, each row counted once
    kernel.load(pa.table({"lon": [0.0], "lat": [0.0]}))
    frame(kernel, origin=(-512.0, 0.0), zoom=0, w=1024 + 256, h=256)
    assert kernel.dots(0.0, 1.0) == 1
    columns = np.argwhere(kernel.rgba()[..., 3] > 0)[:, 1].tolist()
    assert columns == [128 + 256 * i for i in range(5)]


def test_rows_in_view_through_the_tile_index_and_the_tail(kernel: Kernel) -> None:
    rng = np.random.default_rng(11)
    # many rows far away, a few in view; sorted into tiles, then a tail appended unsorted
    far_x = rng.uniform(0, 2.0**26, 20_000)
    far_y = rng.uniform(0, 2.0**26, 20_000)
    near_x = rng.uniform(ORIGIN[0], ORIGIN[0] + W, 40)
    near_y = rng.uniform(ORIGIN[1], ORIGIN[1] + H, 40)
    kernel.load(table(np.r_[far_x, near_x], np.r_[far_y, near_y]))
    kernel.index()
    frame(kernel)
    assert kernel.dots(1.0, 1.0) == 40
    kernel.append(table(near_x[:5] + 1.0, near_y[:5]))
    frame(kernel)
    assert kernel.dots(1.0, 1.0) == 45
    # the cap
    frame(kernel)
    assert kernel.dots(1.0, 1.0, cap=7) == 7
    frame(kernel)
    assert kernel.dots(1.0, 1.0, cap=0) == 0


def test_only_the_time_window_is_drawn(kernel: Kernel) -> None:
    px, py = grid_points(10, 1, 20.0)
    kernel.load(table(px, py, time=np.arange(10) * 1000.0))
    kernel.time_window(2000.0, 5000.0)
    try:
        frame(kernel)
        assert kernel.dots(0.0, 1.0) == 3
        lit = np.argwhere(kernel.rgba()[..., 3] > 0)[:, 1]
        assert lit.tolist() == (px[2:5] - ORIGIN[0]).astype(int).tolist()
    finally:
        kernel.time_window()


def test_bad_arguments_are_refused(kernel: Kernel) -> None:
    kernel.load(table([ORIGIN[0] + 5], [ORIGIN[1] + 5]))
    frame(kernel)
    with pytest.raises(ValueError, match=r"dots mix must be in \[0, 1\], got 1.5"):
        kernel.dots(2.0, 1.5)
    with pytest.raises(ValueError, match=r"dots radius must be in \[0, 64\]"):
        kernel.dots(-1.0, 0.5)


def test_over_the_cap_the_dots_thin_out_evenly(kernel: Kernel) -> None:
    rng = np.random.default_rng(3)
    px = rng.uniform(ORIGIN[0], ORIGIN[0] + W, 20_000)
    py = rng.uniform(ORIGIN[1], ORIGIN[1] + H, 20_000)
    for index in (False, True):  # arrival order, then the tile index's order
        kernel.load(table(px, py))
        if index:
            kernel.index()
        frame(kernel)
        drawn = kernel.dots(0.0, 1.0, cap=400)
        assert 300 <= drawn <= 400
        lit = np.argwhere(kernel.rgba()[..., 3] > 0)
        # every quarter of the view has about a quarter of the dots
        quarters = np.histogram2d(lit[:, 0], lit[:, 1], bins=2, range=[[0, H], [0, W]])[0]
        assert quarters.min() > 0.15 * drawn, quarters

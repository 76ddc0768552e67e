"""Leaflet's EPSG:3857 view maths (heatwidget/_viewport.py) against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from heatwidget.host.viewport import (
    MAX_LATITUDE,
    Viewport,
    fit_bounds,
    js_round,
    project,
    scale,
    unproject,
)


def mercator_y(lat: float) -> float:
    """heat.h's formula, independent of Leaflet's operation order: ny in [0, 1]."""
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    return 0.5 - math.atanh(math.sin(math.radians(lat))) / (2 * math.pi)


def test_project_known_points() -> None:
    assert project(0.0, 0.0, 0) == (128.0, 128.0)
    x, y = project(MAX_LATITUDE, -180.0, 0)
    assert x == pytest.approx(0.0, abs=1e-9)
    assert y == pytest.approx(0.0, abs=1e-6)
    x, y = project(-MAX_LATITUDE, 180.0, 2)
    assert x == pytest.approx(1024.0)
    assert y == pytest.approx(1024.0, abs=1e-6)
    assert project(90.0, 0.0, 0) == project(MAX_LATITUDE, 0.0, 0)  # clamped
    assert project(0.0, 540.0, 0)[0] == pytest.approx(128.0 + 384.0)  # not wrapped
    assert scale(3.5) == 256 * 2**3.5
    # London at zoom 13, by heat.h's formula
    x, y = project(51.505, -0.09, 13)
    assert x == pytest.approx(256 * 2**13 * (-0.09 / 360 + 0.5), abs=1e-6)
    assert y == pytest.approx(256 * 2**13 * mercator_y(51.505), abs=1e-6)


def test_project_unproject_round_trip() -> None:
    rng = np.random.default_rng(0)
    lat = rng.uniform(-85.05, 85.05, 10_000)
    lon = rng.uniform(-180, 180, 10_000)
    for zoom in (0, 1, 3.5, 10, 18, 0.25):
        x, y = project(lat, lon, zoom)
        lat2, lon2 = unproject(x, y, zoom)
        np.testing.assert_allclose(lat2, lat, atol=1e-9)
        np.testing.assert_allclose(lon2, lon, atol=1e-9)
        # pixels → degrees → pixels
        px = rng.uniform(0, scale(zoom), 1000)
        py = rng.uniform(0, scale(zoom), 1000)
        x2, y2 = project(*unproject(px, py, zoom), zoom)
        np.testing.assert_allclose(x2, px, atol=1e-6)
        np.testing.assert_allclose(y2, py, atol=1e-6)
    assert unproject(128.0, 128.0, 0) == (0.0, 0.0)


def test_js_round_is_math_round() -> None:
    assert js_round(2.5) == 3
    assert js_round(-2.5) == -2  # halves go up, not away from zero
    assert js_round(-0.5) == 0
    assert js_round(0.5) == 1
    assert js_round(1.4999999999999998) == 1
    assert js_round(0.49999999999999994) == 0  # floor(x + 0.5) would give 1
    assert js_round(-3.7) == -4
    assert js_round(7.0) == 7


def test_origin_is_leaflets_rounded_pixel_origin() -> None:
    assert Viewport((0.0, 0.0), 0, 256, 256).origin == (0.0, 0.0)
    # 128 - 255 / 2 = 0.5 → Math.round → 1
    assert Viewport((0.0, 0.0), 0, 255, 255).origin == (1.0, 1.0)
    # 128 - 257 / 2 = -0.5 → Math.round → -0 (== 0), not -1
    assert Viewport((0.0, 0.0), 0, 257, 257).origin == (0.0, 0.0)
    # 128 - 259 / 2 = -1.5 → -1
    assert Viewport((0.0, 0.0), 0, 259, 259).origin == (-1.0, -1.0)
    # London, zoom 13, 800 x 600: project = (1048051.712, 697379.0268)
    vp = Viewport((51.505, -0.09), 13, 800, 600)
    cx = 256 * 2**13 * (-0.09 / 360 + 0.5)
    cy = 256 * 2**13 * mercator_y(51.505)
    assert vp.origin == (math.floor(cx - 400 + 0.5), math.floor(cy - 300 + 0.5))
    assert vp.origin == (1047652.0, 697079.0)  # round(...651.712), round(...079.027)
    # fractional zooms: the same rule
    vp = Viewport((10.0, 20.0), 2.5, 640, 480)
    x, y = project(10.0, 20.0, 2.5)
    assert vp.origin == (math.floor(x - 320 + 0.5), math.floor(y - 240 + 0.5))


def test_bounds_of_the_frame() -> None:
    s, w, n, e = Viewport((0.0, 0.0), 0, 256, 256).bounds
    assert (w, e) == (-180.0, 180.0)
    assert s == pytest.approx(-MAX_LATITUDE, abs=1e-9)
    assert n == pytest.approx(MAX_LATITUDE, abs=1e-9)
    # zoomed out beyond the world: longitudes are not wrapped
    s, w, n, e = Viewport((0.0, 0.0), 0, 512, 256).bounds
    assert (w, e) == (-360.0, 360.0)
    vp = Viewport((51.505, -0.09), 13, 800, 600)
    s, w, n, e = vp.bounds
    assert s < 51.505 < n
    assert w < -0.09 < e
    assert e - w == pytest.approx(800 * 360 / (256 * 2**13))
    with pytest.raises(ValueError, match="width and height"):
        Viewport((0.0, 0.0), 3, 0, 10)
    with pytest.raises(ValueError, match="center"):
        Viewport((math.nan, 0.0), 3, 10, 10)


WORLD = (-MAX_LATITUDE, -180.0, MAX_LATITUDE, 180.0)


def test_fit_bounds_matches_leaflet() -> None:
    # the world fits 256 px at zoom 0 and 512 px at zoom 1
    assert fit_bounds(WORLD, 256, 256) == ((0.0, 0.0), 0)
    (lat, lon), z = fit_bounds(WORLD, 512, 512)
    assert z == 1
    assert lat == pytest.approx(0.0, abs=1e-9)
    assert lon == pytest.approx(0.0, abs=1e-9)
    # log2(511 / 256) = 0.9972: within 1% of zoom 1, so Leaflet "does not jump" down to 0
    assert fit_bounds(WORLD, 511, 511)[1] == 1
    # log2(500 / 256) = 0.9658 → rounded to 0.97 → floor → 0
    assert fit_bounds(WORLD, 500, 500)[1] == 0
    # padding is taken on both sides: 512 - 2 * 10 px no longer fits zoom 1
    assert fit_bounds(WORLD, 512, 512, padding=10)[1] == 0
    assert fit_bounds(WORLD, 532, 532, padding=10)[1] == 1
    assert fit_bounds(WORLD, 532, 512, padding=(10, 0))[1] == 1


def test_fit_bounds_hand_computed() -> None:
    # 1 x 1 degree around (0, 0.5) in 1000 x 1000: x extent 256/360 px at zoom 0, y slightly
    # more (Mercator): scale = 1000 / (256 * dy) → log2 = 10.457 → zoom 10
    b = (-0.5, 0.0, 0.5, 1.0)
    (lat, lon), z = fit_bounds(b, 1000, 1000)
    dy = mercator_y(-0.5) - mercator_y(0.5)
    assert math.log2(1000 / (256 * dy)) == pytest.approx(10.457, abs=1e-3)
    assert z == 10
    assert lat == pytest.approx(0.0, abs=1e-9)
    assert lon == pytest.approx(0.5)
    # the centre is the Mercator middle, not the mean latitude
    (lat, lon), z = fit_bounds((0.0, 0.0, 60.0, 10.0), 800, 600)
    mid = (mercator_y(0.0) + mercator_y(60.0)) / 2
    expect = math.degrees(math.atan(math.sinh((0.5 - mid) * 2 * math.pi)))
    assert lat == pytest.approx(expect, abs=1e-9)
    assert lat > 31.0  # the mean latitude would be 30
    assert lon == pytest.approx(5.0)
    # height-limited: 60 deg of Mercator y is 0.2091 of the world → 600 / (256 * 0.2091) → 3.49
    assert z == math.floor(math.log2(600 / (256 * (mercator_y(0.0) - mercator_y(60.0)))))
    assert z == 3


def test_fit_bounds_degenerate() -> None:
    assert fit_bounds(None, 800, 600) == ((0.0, 0.0), 0)
    assert fit_bounds((math.nan, 0.0, 1.0, 1.0), 800, 600) == ((0.0, 0.0), 0)
    (lat, lon), z = fit_bounds((48.85, 2.35, 48.85, 2.35), 800, 600)
    assert z == 12
    assert lat == pytest.approx(48.85)
    assert lon == pytest.approx(2.35)
    assert fit_bounds((48.85, 2.35, 48.85, 2.35), 800, 600, point_zoom=15)[1] == 15
    # a tiny box clamps to max_zoom
    assert fit_bounds((48.85, 2.35, 48.850001, 2.350001), 800, 600)[1] == 18
    assert fit_bounds((48.85, 2.35, 48.850001, 2.350001), 800, 600, max_zoom=16)[1] == 16
    # a line (zero height) fits its width
    (lat, lon), z = fit_bounds((10.0, -10.0, 10.0, 10.0), 512, 512)
    assert z == math.floor(math.log2(512 / (256 * 20 / 360)))
    assert lat == pytest.approx(10.0)
    # swapped corners are put right; padding larger than the map leaves 1 px
    assert fit_bounds((0.5, 1.0, -0.5, 0.0), 1000, 1000)[1] == 10
    assert fit_bounds(WORLD, 100, 100, padding=80)[1] == 0


def test_fit_then_origin_contains_the_bounds() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        s, n = np.sort(rng.uniform(-80, 80, 2))
        w, e = np.sort(rng.uniform(-179, 179, 2))
        width, height = int(rng.integers(200, 1200)), int(rng.integers(150, 900))
        center, z = fit_bounds((s, w, n, e), width, height)
        vs, vw, vn, ve = Viewport(center, z, width, height).bounds
        if z < 18:  # clamped at max zoom the box may not fit
            # fits (to the rounding of the origin: a pixel)
            px = 360 / scale(z)
            assert vw <= w + px
            assert ve >= e - px
            assert vs <= s + 1e-6 + px * 2
            assert vn >= n - 1e-6 - px * 2
            # and one zoom more would not fit
            if z < 18:
                x0, y0 = project(n, w, z + 1)
                x1, y1 = project(s, e, z + 1)
                assert (x1 - x0) > width * 0.99 or (y1 - y0) > height * 0.99

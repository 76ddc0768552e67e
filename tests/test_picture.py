"""The Python rendering of the whole map (issue 12, part 3): outlines, heat, legend, and the
static picture in the widget's display."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from heatwidget import Heatmap
from heatwidget.host import outlines, picture, viewport

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def pixel(m: Heatmap, w: int, h: int, lat: float, lon: float) -> tuple[int, int]:
    """(row, column) of (lat, lon) in a w x h picture of m."""
    view = m._rendering.view(w, h)
    x0, y0 = view.origin
    x, y = viewport.project(lat, lon, view.zoom)
    return int(y - y0), int(x - x0)


def at(img: np.ndarray, m: Heatmap, lat: float, lon: float) -> tuple[int, ...]:
    h, w = img.shape[:2]
    return tuple(int(v) for v in img[pixel(m, w, h, lat, lon)])


def paris(**traits: Any) -> Heatmap:
    rng = np.random.default_rng(3)
    return Heatmap(
        lat=48.85 + rng.normal(0, 0.5, 5000),
        lon=2.35 + rng.normal(0, 0.5, 5000),
        center=(20.0, 0.0),
        zoom=2,
        radius=20,
        **traits,
    )


def test_the_python_rendering_draws_sea_land_heat_and_legend() -> None:
    m = paris(legend_title="Trips")
    img = pixels(m.to_png(view=False, width=800, height=400))
    assert img.shape == (400, 800, 3)
    assert at(img, m, 0.0, -30.0) == outlines.SEA  # the Atlantic
    assert at(img, m, 20.0, 20.0) == outlines.LAND  # the Sahara
    heat = at(img, m, 48.85, 2.35)
    assert heat not in (outlines.SEA, outlines.LAND)
    # the legend's box at the bottom right: white at 85 % over the map, its bar's high end
    # in the colormap's last colour
    box = img[400 - 16 - 10 - 5, 800 - 10 - 5]
    assert box.min() > 230
    lut = np.frombuffer(m._lut, np.uint8).reshape(256, 4)
    bar_y = 400 - 16 - 10 - 6 - 14 - 2 - 5
    assert np.abs(img[bar_y, 800 - 10 - 8 - 1].astype(int) - lut[255, :3]).max() <= 3
    # without a legend, the same corner is the map
    m.legend = False
    plain = pixels(m.to_png(view=False, width=800, height=400))
    assert plain[400 - 16 - 10 - 5, 800 - 10 - 5].min() < 230


def test_heat_only_keeps_the_old_rendering() -> None:
    m = paris()
    img = pixels(m.to_png(view=False, width=200, height=100, heat_only=True))
    assert (img == 255).all(axis=2).mean() > 0.5  # white where there is no heat


def test_the_outlines_cross_the_antimeridian() -> None:
    m = Heatmap(center=(60.0, 180.0), zoom=3)
    img = pixels(m.to_png(view=False, width=800, height=400))
    assert at(img, m, 66.0, 172.0) == outlines.LAND  # Chukotka, west of the line
    assert at(img, m, 66.0, -158.0 + 360.0) == outlines.LAND  # Alaska, east of it
    assert at(img, m, 50.0, 180.0) == outlines.SEA


def test_the_atlas_is_the_bundles() -> None:
    land, borders = outlines.shapes()
    assert len(land) > 100 and len(borders) > 100
    assert outlines.ATLAS.name == "atlas.json" and outlines.ATLAS.is_file()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (0.5, "0.5"),
        (12.345, "12.3"),
        (93.0, "93"),
        (1234.5, "1,230"),
        (99999.0, "100,000"),
        (123456.0, "1.2e+5"),
        (0.0001234, "1.2e-4"),
        (-2.5, "-2.5"),
    ],
)
def test_legend_labels_read_as_the_views(value: float, text: str) -> None:
    """legend.ts: toExponential(1) for |v| >= 1e5 or < 1e-3, else 3 significant digits."""
    assert picture.label(value) == text


def test_the_display_carries_a_static_picture_after_the_widget_view() -> None:
    m = paris()
    bundle = m._repr_mimebundle_()[0]  # anywidget: (data, metadata)
    assert list(bundle) == ["text/plain", WIDGET_VIEW, "image/png"]
    img = pixels(base64.b64decode(bundle["image/png"]))
    assert img.shape == (int(m.height), 800, 3)
    assert at(img, m, 0.0, -30.0) == outlines.SEA
    m.static_picture = False
    assert "image/png" not in m._repr_mimebundle_()[0]
    assert "image/png" not in paris(static_picture=False)._repr_mimebundle_()[0]


def test_the_display_never_fails_for_its_picture(monkeypatch: pytest.MonkeyPatch) -> None:
    m = paris()

    def broken(*_args: Any, **_kwargs: Any) -> bytes:
        raise ImportError("no wasmtime here")

    monkeypatch.setattr(m._rendering, "png", broken)
    bundle = m._repr_mimebundle_()[0]
    assert WIDGET_VIEW in bundle and "image/png" not in bundle


def test_the_python_rendering_draws_the_dots_up_close_as_the_view_does() -> None:
    """points_zoom: the kernel's dots (heat.h hw_dots), faded in over the zoom level below."""
    lat, lon = 48.0, 4.0
    m = Heatmap(lat=[lat, lat + 0.004], lon=[lon, lon], center=(lat, lon), zoom=13, radius=30)
    m.points_zoom = 12
    lut = np.frombuffer(m._lut, np.uint8).reshape(256, 4).astype(float)
    land = np.array(outlines.LAND, float)
    img = pixels(m.to_png(view=False, width=300, height=200))
    dot = np.round(lut[200, :3] * m.opacity + land * (1 - m.opacity))
    assert np.abs(np.array(at(img, m, lat, lon)) - dot).max() <= 1
    # between the two dots, 35 px apart at zoom 13, the heat is gone: land
    assert at(img, m, lat + 0.002, lon) == outlines.LAND
    # half way through the fade: the heat at half its alpha, the dot over it at alpha 1/2
    m.zoom = 11.5
    faded = m._rendering.frame(300, 200).rgba.astype(float)
    m.points_zoom = None
    heat = m._rendering.frame(300, 200).rgba.astype(float)
    m.points_zoom = 12
    py, px = pixel(m, 300, 200, lat, lon)
    h, f = heat[py, px], faded[py, px]
    keep = round(h[3] * 0.5) / 255 * 0.5
    alpha = 0.5 + keep
    assert h[3] > 0 and abs(f[3] - alpha * 255) <= 1
    np.testing.assert_allclose(f[:3], (lut[200, :3] * 0.5 + h[:3] * keep) / alpha, atol=1)
    far = (py, px + 12)  # the heat beside the dots: half its alpha
    assert heat[far][3] > 0 and faded[far][3] == round(heat[far][3] * 0.5)
    # below the fade: the heat alone, as before points_zoom was set
    m.zoom = 10.9
    np.testing.assert_array_equal(
        pixels(m.to_png(view=False, width=300, height=200)),
        pixels(
            Heatmap(
                lat=[lat, lat + 0.004], lon=[lon, lon], center=(lat, lon), zoom=10.9, radius=30
            ).to_png(view=False, width=300, height=200)
        ),
    )


def test_the_static_picture_is_as_wide_as_the_map_was_shown() -> None:
    m = paris()
    assert m._rendering.static_width() == 800  # never shown, no layout width: the default
    # what a view 1000 px wide at zoom 3 writes back (bounds are the view's, unwrapped)
    span = 1000 / (256 * 2**3) * 360
    m.set_state({"zoom": 3, "bounds": [40.0, 2.35 - span / 2, 56.0, 2.35 + span / 2]})
    assert m._rendering.static_width() == 1000
    img = pixels(base64.b64decode(m._repr_mimebundle_()[0]["image/png"]))
    assert img.shape == (int(m.height), 1000, 3)
    m.set_state({"zoom": 1, "bounds": [-80.0, -300.0, 80.0, 420.0]})  # the world, repeated
    assert m._rendering.static_width() == round(720 / 360 * 512)
    m.layout.width = "512px"  # a width the user laid out wins
    assert m._rendering.static_width() == 512
    m.layout.width = "100%"  # not pixels: the view's
    assert m._rendering.static_width() == 1024


def test_the_dots_are_points_radius_wide() -> None:
    lat, lon = 48.0, 4.0
    m = Heatmap(lat=[lat], lon=[lon], center=(lat, lon), zoom=14, radius=30, points_zoom=12)
    py, _px = pixel(m, 300, 200, lat, lon)

    def width() -> int:  # opaque pixels of the dot along its row
        return int((m._rendering.frame(300, 200).rgba[py, :, 3] == 255).sum())

    small = width()
    m.points_radius = 10
    big = width()
    assert 7 <= small <= 10 and 19 <= big <= 22  # 2r + 1, with the outline

"""save_html: the standalone file renders the heatmap in Chromium with no network at all."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from heatwidget import Heatmap
from heatwidget.export.html import save_html

if TYPE_CHECKING:
    from playwright.sync_api import Route

from harness import HeatView, Web, wait_until

# A dense cluster around Paris and a sparse one around Cape Town; nothing in the Pacific.
DENSE = (48.86, 2.35)
SPARSE = (-33.92, 18.42)
EMPTY = (0.0, -150.0)


def _widget() -> Heatmap:
    rng = np.random.default_rng(7)
    lat = np.concatenate([rng.normal(DENSE[0], 1.0, 20_000), rng.normal(SPARSE[0], 1.0, 200)])
    lon = np.concatenate([rng.normal(DENSE[1], 1.0, 20_000), rng.normal(SPARSE[1], 1.0, 200)])
    # A fixed world view, so both clusters and the empty Pacific are on screen.
    return Heatmap(lat=lat, lon=lon, center=(10.0, -60.0), zoom=2.0, radius=12, basemap="osm")


@pytest.fixture
def html_file(tmp_path: Path) -> Path:
    return save_html(_widget(), tmp_path / "map.html", title="Offline heat")


def _open(web: Web, path: Path) -> None:
    """Loads `path`: the one file:// request goes through, every other request falls back to
    the `web` fixture's handler, which aborts and records it."""
    uri = path.as_uri()

    def route(route: Route) -> None:
        if route.request.url == uri:
            route.continue_()
        else:
            route.fallback()

    web.page.route("**/*", route)
    web.page.goto(uri, wait_until="load")


def test_standalone_file_renders_offline(web: Web, html_file: Path) -> None:
    page = web.page
    _open(web, html_file)
    selector = 'div.heatwidget[data-ready="1"]'
    wait_until(
        lambda: page.locator(selector).count() == 1,
        60,
        selector,
        0.2,
        diagnose=lambda: f"page errors {web.page_errors}, console {web.console_errors}",
    )
    assert page.title() == "Offline heat"
    view = HeatView(page, page.locator(selector))
    assert view.point_count == 20_200
    px = view.wait_stable()
    web.screenshot("standalone")

    # The map fills the page.
    assert view.view()["size"] == [1280, 1000]
    assert view.view()["zoom"] == 2

    def alpha_near(latlon: tuple[float, float], r: int = 3) -> int:
        ((x, y),) = view.latlon_to_canvas([latlon])
        xi, yi = round(x), round(y)
        assert 0 <= xi < px.shape[1] and 0 <= yi < px.shape[0], (latlon, x, y, px.shape)
        return int(px[yi - r : yi + r + 1, xi - r : xi + r + 1, 3].max())

    assert alpha_near(DENSE) > 0, "no heat where the points are dense"
    assert alpha_near(SPARSE) > 0, "no heat at the sparse cluster"
    assert alpha_near(EMPTY) == 0, "heat where there are no points"
    # The dense cluster is the hottest place: its colour is the colormap's high end.
    ((x, y),) = view.latlon_to_canvas([DENSE])
    hot = px[int(y) - 4 : int(y) + 5, int(x) - 4 : int(x) + 5, :3].astype(int).sum(axis=2).max()
    ((x, y),) = view.latlon_to_canvas([SPARSE])
    cool = px[int(y) - 4 : int(y) + 5, int(x) - 4 : int(x) + 5, :3].astype(int).sum(axis=2).max()
    assert hot > cool

    # Nothing left the machine but tile requests (the basemap), all aborted; no errors.
    assert web.blocked_other() == []
    assert web.page_errors == []

    # Interactive: zooming in redraws the heat.
    page.evaluate("() => document.querySelector('div.heatwidget').__heatwidget.map.setZoom(4)")
    view.wait_pixels_change(px)
    assert page.evaluate("() => window.heatwidgetModel.get('zoom')") == 4


def test_empty_widget_renders_an_empty_map(web: Web, tmp_path: Path) -> None:
    path = save_html(Heatmap(basemap=None), tmp_path / "empty.html")
    _open(web, path)
    root = web.page.locator("div.heatwidget")
    wait_until(lambda: int(root.get_attribute("data-frames") or 0) > 0, 60, "a first frame")
    assert root.get_attribute("data-point-count") == "0"
    assert web.page.locator(".leaflet-container").count() == 1
    assert web.blocked == []
    assert web.page_errors == []

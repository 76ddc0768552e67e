"""save_html of a server-mode map in Chromium from file://, no network: the page answers its
views' grid requests from the embedded pyramid levels. At two zooms the canvas is lit exactly
where Python's density() of that frame is; deeper than the embedded levels the heat is still
drawn and the page's note says which zooms it holds."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from heatwidget import Heatmap
from heatwidget.host.kernel import Kernel

if TYPE_CHECKING:
    from playwright.sync_api import Route

from harness import SYNC_TIMEOUT, HeatView, Web, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
pytest.importorskip("wasmtime")

_SET_VIEW_JS = """
(el, [lat, lon, zoom]) => el.__heatwidget.map.setView([lat, lon], zoom, { animate: false })
"""


def _open(web: Web, path: Path) -> None:
    uri = path.as_uri()

    def route(route: Route) -> None:
        if route.request.url == uri:
            route.continue_()
        else:
            route.fallback()  # the web fixture aborts and records it

    web.page.route("**/*", route)
    web.page.goto(uri, wait_until="load")


def _answers(hv: HeatView) -> int:
    return int(hv.attr("data-grid-answers") or 0)


def _go(hv: HeatView, to: tuple[float, float, int] | None) -> np.ndarray:
    """Moves the view (None: stays at the saved view, answered as the page opens) and waits
    for its grid to be drawn."""
    before = 0
    if to is not None:
        before = _answers(hv)
        hv.root.evaluate(_SET_VIEW_JS, list(to))
    wait_until(lambda: _answers(hv) > before, SYNC_TIMEOUT, "an offline grid answer")
    wait_until(lambda: hv.attr("data-grid-busy") != "1", SYNC_TIMEOUT, "no grid in flight")
    return hv.wait_stable()


def test_saved_server_mode_map_is_interactive_offline(web: Web, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 200_000
    m = Heatmap(
        lat=rng.normal(48.85, 2.0, n), lon=rng.normal(2.35, 3.0, n), mode="server",
        basemap=None, radius=6, center=(48.85, 2.35), zoom=3,
    )  # fmt: skip
    path = m.save_html(tmp_path / "served.html", max_bytes=5_000_000)
    _open(web, path)
    page = web.page
    selector = 'div.heatwidget[data-ready="1"]'
    wait_until(
        lambda: page.locator(selector).count() == 1, 60, selector, 0.2,
        diagnose=lambda: f"page errors {web.page_errors}, console {web.console_errors}",
    )  # fmt: skip
    hv = HeatView(page, page.locator(selector))
    assert hv.attr("data-mode") == "server"
    deepest = int(page.locator("#heatwidget-page").get_attribute("data-offline-levels") or -1)
    assert deepest == 5, deepest  # 0..5 fit 5 MB with the page (the unit test checks the sizes)

    for to, zoom in ((None, 3), ((47.0, 0.0, 5), 5)):
        px = _go(hv, to)
        v = hv.view()
        w, h = v["size"]
        assert v["zoom"] == zoom
        with Kernel() as k:
            grid, _ = m._served.aggregator.density(k, tuple(v["origin"]), zoom, w, h, 6, 0)
        assert px.shape[:2] == grid.shape, (px.shape, grid.shape)
        lit = px[..., 3] > 0
        assert int((lit & (grid <= 0)).sum()) == 0, f"heat where density() is 0 at zoom {zoom}"
        strong = grid > 0.05 * grid.max()
        assert strong.sum() > 100 and bool(lit[strong].all()), f"dense cells undrawn, z{zoom}"
        web.screenshot(f"served-offline-z{zoom}")

    px = _go(hv, (48.85, 2.35, 9))  # deeper than the file holds: zoom 5's pixels, and a note
    assert int((px[..., 3] > 0).sum()) > 1000, "no heat below the deepest embedded level"
    note = page.locator("div.heatwidget-offline-note")
    assert "zooms 0–5" in note.inner_text() and note.get_attribute("data-deeper") == "1"
    assert not web.page_errors and not web.blocked_other(), (web.page_errors, web.blocked_other())

"""The selection tool in real JupyterLab (issue 12, part 5): a shift-drag draws a box that
becomes ``m.selection`` in Python (on_select fires with the rows inside, selected() gives
them), a selection set in Python is drawn on the map, and Escape clears it both ways."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness import KernelClient, LabServer, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

NOTEBOOK = "selection_e2e.ipynb"
SOURCE = """\
import numpy as np
import heatwidget

rng = np.random.default_rng(3)
lat, lon = 48.85 + rng.normal(0, 0.5, 20_000), 2.35 + rng.normal(0, 0.5, 20_000)
m = heatwidget.Heatmap(lat=lat, lon=lon, center=(48.85, 2.35), zoom=7, height=450)
events, clicks = [], []
m.on_select(events.append)
m.on_click(clicks.append)
m"""

_SELECTION_PATHS_JS = """
(el) => Array.from(el.querySelectorAll('.leaflet-overlay-pane path'))
  .filter((p) => p.getAttribute('stroke') === '#1f6feb')
  .map((p) => p.getAttribute('d'))
"""


@pytest.fixture
def selection_notebook(jupyter_lab: LabServer) -> Iterator[str]:
    from harness.lab import notebook_for_test

    with notebook_for_test(jupyter_lab, NOTEBOOK, SOURCE) as path:
        yield path


@pytest.mark.usefixtures("selection_notebook")
def test_box_tool_sets_the_selection_and_escape_clears_it(
    web: Web, lab_ui: LabUI, kernel_client: Any
) -> None:
    from harness import wait_until

    hv = lab_ui.open_notebook(NOTEBOOK).widget()
    k: KernelClient = kernel_client(NOTEBOOK)
    k.wait_for("m.center", lambda c: c is not None, "m.center to be written back")
    hv.wait_stable()
    hv.drag_box((49.3, 1.8), (48.5, 3.0))

    k.wait_for("m.selection is not None", bool, "the drawn box to reach m.selection")
    sel = k.eval("m.selection")
    assert sel["type"] == "Polygon"
    lons = [p[0] for p in sel["coordinates"][0]]
    lats = [p[1] for p in sel["coordinates"][0]]
    assert abs(min(lons) - 1.8) < 0.02 and abs(max(lons) - 3.0) < 0.02, sel
    assert abs(min(lats) - 48.5) < 0.02 and abs(max(lats) - 49.3) < 0.02, sel
    # on_select saw the rows inside, exactly those a plain box test finds, and selected() too
    got = k.eval("(events[-1]['count'], len(m.selected()['lat']))")
    want = k.eval(
        f"int(((lat >= {min(lats)!r}) & (lat <= {max(lats)!r}) & (lon >= {min(lons)!r})"
        f" & (lon <= {max(lons)!r})).sum())"
    )
    assert got == [want, want] and want > 1000, (got, want)
    drawn = wait_until(lambda: hv.root.evaluate(_SELECTION_PATHS_JS) or None, 10, "the box drawn")
    assert len(drawn) == 1
    web.screenshot("1-drawn")

    # set in Python: the map draws the new shape
    k.execute(
        "m.selection = {'type': 'Polygon', 'coordinates': "
        "[[[2.0, 48.0], [2.5, 48.0], [2.5, 48.6], [2.0, 48.0]]]}"
    )
    wait_until(
        lambda: (paths := hv.root.evaluate(_SELECTION_PATHS_JS)) and paths != drawn,
        10,
        "the map to draw the selection set in Python",
    )
    web.screenshot("2-from-python")

    # Escape clears it, in the page and in Python
    web.page.keyboard.press("Escape")
    k.wait_for("m.selection is None", bool, "Escape to clear m.selection")
    assert k.eval("events[-1]") == {"count": 0, "sum": 0.0, "geometry": None}
    wait_until(lambda: not hv.root.evaluate(_SELECTION_PATHS_JS), 10, "the selection erased")


@pytest.mark.usefixtures("selection_notebook")
def test_contours_are_drawn_over_the_heat(web: Web, lab_ui: LabUI, kernel_client: Any) -> None:
    from harness import wait_until

    hv = lab_ui.open_notebook(NOTEBOOK).widget()
    k: KernelClient = kernel_client(NOTEBOOK)
    hv.wait_stable()
    assert hv.lit_pixels("canvas.heatwidget-contours") == 0  # none before contours are asked
    k.execute('m.contours = "auto"')
    wait_until(lambda: int(hv.attr("data-contours") or 0) >= 5, 15, "five auto isolines traced")
    lit = wait_until(
        lambda: hv.lit_pixels("canvas.heatwidget-contours") or None, 10, "isolines drawn"
    )
    assert lit > 500, lit
    web.screenshot("contours-auto")
    # a pan: the isolines are traced again with the frame, and sit where the heat's frame is
    frames = int(hv.attr("data-frames") or 0)
    hv.root.evaluate("(el) => el.__heatwidget.map.panBy([90, 40], { animate: false })")
    wait_until(lambda: int(hv.attr("data-frames") or 0) > frames, 10, "a frame after the pan")
    placed = hv.root.evaluate(
        "(el) => ['heat', 'contours'].map((n) => "
        "el.querySelector(`canvas.heatwidget-${n}`).style.transform)"
    )
    assert placed[0] == placed[1] and placed[0], placed
    assert int(hv.attr("data-contours") or 0) >= 5
    assert hv.lit_pixels("canvas.heatwidget-contours") > 500
    # explicit levels: one ring per level around the single cluster
    vmax = k.eval(f"m.density({hv.view()['size'][0]}, {hv.view()['size'][1]}).vmax")
    k.execute(f"m.contours = [{vmax * 0.25!r}, {vmax * 0.75!r}]")
    wait_until(lambda: hv.attr("data-contours") == "2", 15, "two isolines for two levels")
    k.execute("m.contours = None")
    wait_until(lambda: hv.lit_pixels("canvas.heatwidget-contours") == 0, 10, "isolines erased")


@pytest.mark.usefixtures("selection_notebook")
def test_up_close_points_replace_the_heat_and_a_click_gives_rows(
    web: Web, lab_ui: LabUI, kernel_client: Any
) -> None:
    from harness import wait_until

    hv = lab_ui.open_notebook(NOTEBOOK).widget()
    k: KernelClient = kernel_client(NOTEBOOK)
    hv.wait_stable()
    assert hv.attr("data-points-mode") == "0"
    # a lone point, far from the cluster, to click on
    k.execute("m.append(lat=[48.0], lon=[4.0]); m.points_zoom = 12; m.center = (48.0, 4.0)")
    k.execute("m.zoom = 13")
    wait_until(lambda: hv.attr("data-points-mode") == "1", 15, "the points mode at zoom 13")
    wait_until(lambda: int(hv.attr("data-points-drawn") or 0) >= 1, 10, "the kernel's dots")
    assert hv.attr("data-points-mix") == "1.00"
    [(x, y)] = hv.latlon_to_container([(48.0, 4.0)])
    lut = k.eval("list(m._lut)")
    # the dot, in the colour table's entry 200 (an unweighted row), on the heat's own canvas
    dot = wait_until(
        lambda: (px := hv.root.evaluate(_HEAT_PIXEL_JS, [x, y])) == [*lut[800:803], 255] and px,
        10,
        "the dot drawn where the point is",
    )
    assert hv.root.evaluate(_HEAT_PIXEL_JS, [x + 12, y])[3] == 0, "heat left beside the dot"
    web.screenshot("points")
    box = hv.root.locator("div.heatwidget-map").bounding_box()
    assert box is not None
    web.page.mouse.click(box["x"] + x, box["y"] + y)
    rows = k.wait_for("clicks[-1]['rows'] if clicks else None", bool, "a click with rows")
    assert rows["lat"] == [48.0] and rows["lon"] == [4.0], rows
    # half way through the fade (the zoom level below points_zoom): heat and dots both
    k.execute("m.zoom = 11.5")
    wait_until(lambda: hv.attr("data-points-mix") == "0.50", 15, "the fade at zoom 11.5")
    [(x, y)] = hv.latlon_to_container([(48.0, 4.0)])
    faded = wait_until(
        lambda: (px := hv.root.evaluate(_HEAT_PIXEL_JS, [x + 12, y]))[3] > 0 and px,
        10,
        "the heat back, faded, beside the dot",
    )
    assert faded[3] < 200, faded  # half the heat's alpha
    assert hv.root.evaluate(_HEAT_PIXEL_JS, [x, y]) != dot  # the dot over the faded heat
    # below points_zoom - 1: the heat alone
    k.execute("m.zoom = 10")
    wait_until(lambda: hv.attr("data-points-mode") == "0", 15, "the heat again at zoom 10")
    assert hv.attr("data-points-drawn") == "0"
    # Leaflet's animated zoom through the fade: frames drawn on the way, at zooms between
    mixes = hv.root.evaluate(_ANIMATED_ZOOM_MIXES_JS, 12)
    between = [m for m in mixes if 0 < m < 1]
    assert len(between) >= 2 and between == sorted(between), mixes
    assert mixes[-1] == 1, mixes


# Zooms the map to `zoom` with Leaflet's animation; resolves with data-points-mix of every frame
# drawn until the animation ends and the frame after it.
_ANIMATED_ZOOM_MIXES_JS = """(el, zoom) => new Promise((resolve) => {
  const map = el.__heatwidget.map, seen = [];
  const watch = new MutationObserver(() => seen.push(Number(el.dataset.pointsMix)));
  watch.observe(el, { attributes: true, attributeFilter: ['data-frames'] });
  map.once('zoomend', () => requestAnimationFrame(() => requestAnimationFrame(() => {
    watch.disconnect();
    resolve(seen);
  })));
  map.setZoom(zoom, { animate: true });
})"""


# The RGBA of the heat canvas at a container point (x, y).
_HEAT_PIXEL_JS = """(el, [x, y]) => {
  const c = el.querySelector('canvas.heatwidget-heat');
  const map = el.querySelector('div.heatwidget-map').getBoundingClientRect();
  const r = c.getBoundingClientRect();
  const px = Math.floor(x + map.left - r.left), py = Math.floor(y + map.top - r.top);
  return Array.from(c.getContext('2d').getImageData(px, py, 1, 1).data);
}"""


# The count an independent test of the rows gives for the selection Python holds: shapely's
# intersects (the boundary counts as inside, as on_select's count does).
_EXACT_COUNT = (
    "int(__import__('shapely').intersects_xy("
    "__import__('shapely.geometry').geometry.shape(m.selection), lon, lat).sum())"
)


def _drag(page: Any, box: dict, points: list[tuple[float, float]], steps: int = 6) -> None:
    """Press at the first container point, move through the others, release at the last."""
    x, y = points[0]
    page.mouse.move(box["x"] + x, box["y"] + y)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=steps)
    page.mouse.up()


@pytest.mark.usefixtures("selection_notebook")
def test_lasso_selects_the_rows_inside_the_drawn_polygon(
    web: Web, lab_ui: LabUI, kernel_client: Any
) -> None:
    from harness import wait_until

    hv = lab_ui.open_notebook(NOTEBOOK).widget()
    k: KernelClient = kernel_client(NOTEBOOK)
    k.wait_for("m.center", lambda c: c is not None, "m.center to be written back")
    hv.wait_stable()
    box = hv.root.locator("div.heatwidget-map").bounding_box()
    assert box is not None
    # an irregular, non-convex loop around the cluster, drawn free-hand back to its start
    loop = [(49.4, 2.0), (49.2, 3.1), (48.9, 2.6), (48.6, 3.3), (48.3, 2.4), (48.7, 1.6)]
    pts = hv.latlon_to_container([*loop, loop[0]])
    hv.root.locator("a.heatwidget-select-lasso").click()
    _drag(web.page, box, pts)

    k.wait_for("m.selection is not None", bool, "the lasso to reach m.selection")
    sel = k.eval("m.selection")
    ring = sel["coordinates"][0]
    assert sel["type"] == "Polygon" and ring[0] == ring[-1], sel
    # simplified: a few vertices per drawn side, not one per mouse event
    assert 6 <= len(ring) - 1 <= 60, len(ring)
    got = k.eval("(events[-1]['count'], len(m.selected()['lat']))")
    want = k.eval(_EXACT_COUNT)
    assert got == [want, want] and want > 1000, (got, want)
    # the lasso's button is off again: a plain drag pans
    assert "heatwidget-active" not in (
        hv.root.locator("a.heatwidget-select-lasso").get_attribute("class") or ""
    )
    wait_until(lambda: hv.root.evaluate(_SELECTION_PATHS_JS) or None, 10, "the lasso drawn")
    web.screenshot("lasso")

    # a scribble with no area selects nothing (and leaves the selection as it was)
    hv.root.locator("a.heatwidget-select-lasso").click()
    a, b = hv.latlon_to_container([(48.8, 2.0), (48.8, 2.8)])
    _drag(web.page, box, [a, b, a])
    web.page.keyboard.press("Escape")  # leaves the lasso mode... and clears, as for the box
    k.wait_for("m.selection is None", bool, "Escape to clear the lasso")


@pytest.mark.usefixtures("selection_notebook")
def test_dragging_a_vertex_edits_the_selection(web: Web, lab_ui: LabUI, kernel_client: Any) -> None:
    from harness import wait_until

    hv = lab_ui.open_notebook(NOTEBOOK).widget()
    k: KernelClient = kernel_client(NOTEBOOK)
    k.wait_for("m.center", lambda c: c is not None, "m.center to be written back")
    hv.wait_stable()
    box = hv.root.locator("div.heatwidget-map").bounding_box()
    assert box is not None
    # a box from the toolbar's button (a plain drag, no shift)
    hv.root.locator("a.heatwidget-select-box").click()
    _drag(web.page, box, hv.latlon_to_container([(49.0, 2.0), (48.6, 2.6)]))
    k.wait_for("m.selection is not None", bool, "the box to reach m.selection")
    before = k.eval("events[-1]['count']")
    assert before == k.eval(_EXACT_COUNT)
    handles = hv.root.locator(".heatwidget-vertex")
    wait_until(lambda: handles.count() == 4 or None, 10, "a handle on each corner")
    # the handle nearest the box's north-west corner, dragged further north-west
    [(cx, cy)] = hv.latlon_to_container([(49.0, 2.0)])
    centres = []
    for i in range(handles.count()):
        hb = handles.nth(i).bounding_box()
        assert hb is not None
        centres.append((hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2))
    x0, y0 = min(centres, key=lambda c: (c[0] - box["x"] - cx) ** 2 + (c[1] - box["y"] - cy) ** 2)
    [(tx, ty)] = hv.latlon_to_container([(49.3, 1.7)])
    page = web.page
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + box["x"] + tx) / 2, (y0 + box["y"] + ty) / 2, steps=5)
    page.mouse.move(box["x"] + tx, box["y"] + ty, steps=5)
    page.mouse.up()

    k.wait_for(
        "m.selection is not None and any(abs(p[1] - 49.3) < 0.02 for p in "
        "m.selection['coordinates'][0])",
        bool,
        "the moved vertex to reach m.selection",
    )
    lats = sorted(p[1] for p in k.eval("m.selection['coordinates'][0]"))
    assert abs(lats[-1] - 49.3) < 0.02 and abs(lats[0] - 48.6) < 0.02, lats
    after = k.eval("events[-1]['count']")
    assert after == k.eval(_EXACT_COUNT) and after > before, (before, after)
    # still a handle per vertex, on the edited shape
    wait_until(lambda: handles.count() == 4 or None, 10, "the handles redrawn")
    web.screenshot("vertex-moved")

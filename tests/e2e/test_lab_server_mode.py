"""Server mode in real JupyterLab + Chromium: the rows stay in Python, the view asks for its
frame's grid and draws it. The heat on the canvas is where Python's density for that exact frame
is; a pan makes a round trip and the canvas follows; the legend shows the grid's domain; a click
returns value and count; and the bytes the page receives per view change do not depend on N.
The same map in Notebook 7 and as a Voila dashboard draws heat and follows a pan.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from harness import HeatView, KernelClient, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

NOTEBOOK = "server_mode_e2e.ipynb"
N1, N2 = 200_000, 2_000_000
SETUP = f"""\
import numpy as np
import heatwidget
from heatwidget.host.kernel import Kernel

def rows(n, seed):
    rng = np.random.default_rng(seed)
    return dict(lat=rng.normal(48.85, 2.0, n), lon=rng.normal(2.35, 3.0, n))

def grid_at(origin, zoom, w, h):
    with Kernel() as k:
        g, _ = m._served.aggregator.density(k, tuple(origin), zoom, w, h, m.radius, 0)
    return g

m = heatwidget.Heatmap(**rows({N1}, 1), mode="server", basemap=None, height=360, radius=6)
m
"""
# Views visited twice, before and after the data grow tenfold (center, zoom).
TOUR = [((48.85, 2.35), 5), ((47.0, 0.0), 6), ((50.0, 5.0), 7), ((48.85, 2.35), 9)]

_SET_VIEW_JS = """
(el, [lat, lon, zoom]) => el.__heatwidget.map.setView([lat, lon], zoom, { animate: false })
"""
_LEGEND_MAX_JS = """
(el) => {
  const s = el.querySelectorAll('div.heatwidget-legend .heatwidget-legend-labels span');
  return s.length ? s[s.length - 1].textContent : null;
}
"""


def answers(hv: HeatView) -> int:
    return int(hv.attr("data-grid-answers") or 0)


def settle(hv: HeatView, before: int) -> None:
    """Waits for a new grid answer and for the view to have nothing in flight."""
    from harness import SYNC_TIMEOUT, wait_until

    wait_until(lambda: answers(hv) > before, SYNC_TIMEOUT, "a grid answer")
    wait_until(lambda: hv.attr("data-grid-busy") != "1", SYNC_TIMEOUT, "no grid in flight")
    hv.wait_stable()


def drag(web: Web, hv: HeatView, dx: int, dy: int) -> dict[str, float]:
    """Drags the map by (dx, dy) px from its middle with the mouse; the map's box."""
    box = hv.root.locator("div.heatwidget-map").bounding_box()
    assert box is not None
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    web.page.mouse.move(cx, cy)
    web.page.mouse.down()
    web.page.mouse.move(cx + dx, cy + dy, steps=6)
    web.page.mouse.up()
    return box


def check_heat_matches_python(hv: HeatView, k: KernelClient) -> np.ndarray:
    """The canvas is lit exactly where Python's density of the view's frame is well above 0
    (the kernel's alpha ramp makes the faintest cells transparent); Python's grid."""
    v = hv.view()
    w, h = v["size"]
    grid = np.array(k.eval(f"grid_at({v['origin']}, {v['zoom']}, {w}, {h}).tolist()"))
    px = hv.pixels()
    assert px.shape[:2] == grid.shape, (px.shape, grid.shape)
    lit = px[..., 3] > 0
    assert int((lit & (grid <= 0)).sum()) == 0, "heat drawn where the density is 0"
    strong = grid > 0.05 * grid.max()
    assert strong.sum() > 100 and bool(lit[strong].all()), "dense cells left undrawn"
    return grid


def test_server_mode_round_trips(
    web: Web, lab_ui: LabUI, jupyter_lab: Any, kernel_client: Any, artifacts_dir: Path
) -> None:
    from harness import SYNC_TIMEOUT, wait_until, write_notebook

    write_notebook(jupyter_lab.root_dir / NOTEBOOK, SETUP)
    nb = lab_ui.open_notebook(NOTEBOOK)
    hv = nb.widget(0)
    k: KernelClient = kernel_client(NOTEBOOK)
    assert nb.errors() == [], nb.errors()
    figures: dict[str, Any] = {}

    # -- 1. a served map draws heat, with no rows in the page -----------------------------------
    assert hv.attr("data-mode") == "server" and k.eval("m.mode") == "server"
    assert k.eval("m._stream.store.count") == 0 and k.eval("len(m._points)") < 2000
    assert hv.point_count == N1  # the rows served, not held
    hv.wait_stable()
    grid = check_heat_matches_python(hv, k)
    label = hv.root.evaluate(_LEGEND_MAX_JS)
    assert label is not None and abs(float(label.replace(",", "")) - grid.max()) <= max(
        0.01 * grid.max(), 0.5
    ), (label, grid.max())

    # -- 2. a pan makes a round trip and the canvas follows --------------------------------------
    before_px, before_n = hv.pixels(), answers(hv)
    box = drag(web, hv, 120, 40)
    settle(hv, before_n)
    after = hv.wait_pixels_change(before_px)
    assert after.shape == before_px.shape
    check_heat_matches_python(hv, k)

    # -- 3. a click returns value and count ---------------------------------------------------
    k.execute("clicks = []\nm.on_click(clicks.append)")
    v = hv.view()
    w, h = v["size"]
    grid = np.array(k.eval(f"grid_at({v['origin']}, {v['zoom']}, {w}, {h}).tolist()"))
    y, x = divmod(int(grid.argmax()), w)
    web.page.mouse.click(box["x"] + x + 0.5, box["y"] + y + 0.5)
    (event,) = k.wait_for("clicks", lambda c: len(c) >= 1, "the click to reach Python")
    near = grid[max(0, y - 1) : y + 2, max(0, x - 1) : x + 2]
    assert near.min() * 0.999 - 1e-6 <= event["value"] <= near.max() * 1.001 + 1e-6, event
    assert event["count"] > 0
    figures["click"] = event

    # -- 4. bytes per view change: the same for N1 and N2 rows -------------------------------
    def tour() -> list[int]:
        sizes = []
        for (lat, lon), zoom in TOUR:
            n, b = answers(hv), int(hv.attr("data-grid-bytes") or 0)
            hv.root.evaluate(_SET_VIEW_JS, [lat, lon, zoom])
            settle(hv, n)
            sizes.append(int(hv.attr("data-grid-bytes") or 0) - b)
        return sizes

    small = tour()
    n = answers(hv)
    k.execute(f"m.set_data(**rows({N2}, 2))")
    wait_until(lambda: hv.point_count == N2, SYNC_TIMEOUT, "the view to count the new rows")
    settle(hv, n)
    big = tour()
    figures["bytes_per_view_change"] = {"N1": small, "N2": big}
    assert small == big and all(s > 0 for s in small), figures
    check_heat_matches_python(hv, k)

    (artifacts_dir / "test_lab_server_mode.json").write_text(json.dumps(figures, indent=1))
    assert not web.page_errors, web.page_errors


def test_server_mode_in_notebook7(
    web: Web, lab_ui: LabUI, jupyter_lab: Any, kernel_client: Any
) -> None:
    """The same served map in Notebook 7's /notebooks/ page: heat drawn where Python's
    density of the view's frame is, and a pan's round trip that the canvas follows."""
    from harness import write_notebook

    name = "server_mode_nb7.ipynb"
    write_notebook(jupyter_lab.root_dir / name, SETUP)
    opened = lab_ui.open_in_notebook_app(name)
    assert web.page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
    hv = opened.widget()
    k: KernelClient = kernel_client(name)
    assert opened.errors() == [], opened.errors()
    assert hv.attr("data-mode") == "server" and k.eval("m.mode") == "server"
    assert hv.point_count == N1 and k.eval("m._stream.store.count") == 0
    hv.wait_stable()
    check_heat_matches_python(hv, k)

    before_px, before_n = hv.pixels(), answers(hv)
    drag(web, hv, -150, 30)
    settle(hv, before_n)
    assert answers(hv) > before_n
    hv.wait_pixels_change(before_px)
    check_heat_matches_python(hv, k)
    # Notebook 7's own error on a blank notebook too (see test_notebook7.py)
    notebook_own = "Cannot read properties of undefined (reading 'schema')"
    page_errors = [e for e in web.page_errors if e != notebook_own]
    assert not page_errors, page_errors


def test_server_mode_in_voila(web: Web, voila_server: Any, tmp_path: Path) -> None:
    """A Voila dashboard over a served map: heat drawn from grids, and a pan's round trip."""
    from harness import WIDGET_READY_TIMEOUT, HeatView, wait_until, write_notebook

    notebook = tmp_path / "nb" / "served.ipynb"
    notebook.parent.mkdir()
    write_notebook(notebook, SETUP)
    server = voila_server(notebook)
    web.page.goto(server.url, wait_until="domcontentloaded", timeout=120_000)
    ready = 'div.heatwidget[data-ready="1"]'
    wait_until(lambda: web.page.locator(ready).count() > 0, WIDGET_READY_TIMEOUT, ready, 0.2)
    hv = HeatView(web.page, web.page.locator(ready).first)
    assert hv.attr("data-mode") == "server" and hv.point_count == N1
    before = hv.wait_stable()
    assert int((before[..., 3] > 0).sum()) > 1000, "no heat drawn"
    n = answers(hv)
    drag(web, hv, -150, -30)
    settle(hv, n)
    hv.wait_pixels_change(before)
    assert not web.page_errors, web.page_errors

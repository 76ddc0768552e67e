"""One model displayed twice in real JupyterLab + Chromium: both views draw from one kernel, so
the points are held once in WebAssembly memory however many views show them, and nowhere else
in the page (CDP: no ArrayBuffer outside the kernel holds the rows; the model's state bytes are
freed once the kernel has them). Each view's click reads its own frame; an append reaches both;
closing a view keeps the other one working, and closing the last gives the kernel's memory back;
a view opened after that asks Python for the rows (a reset in parts) and draws the same pixels.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from harness import HeatView, KernelClient, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

NOTEBOOK = "two_views_e2e.ipynb"
N = 1_000_000
SETUP = f"""\
import heatwidget
m = heatwidget.Heatmap(heatwidget.datasets.cities({N}, seed=3), weight="mag", basemap=None,
                       height=360)
"""
SHOW = "m\n"

_KERNELS_JS = """
() => [...document.querySelectorAll('div.heatwidget')].map((r) => r.__heatwidget?.kernel)
  .filter(Boolean)
"""
_SHARED_JS = f"""
() => {{
  const ks = ({_KERNELS_JS})();
  window.__heatwidgetModelKernel = ks[0]?.model;
  return {{
    views: ks.length,
    same: ks.every((k) => k.model === ks[0].model),
    viewCount: ks[0]?.viewCount,
    points: ks[0]?.pointCount,
    bytes: ks[0]?.memoryBytes,
  }};
}}
"""
# Clears the output of the notebook's cell `index` (disposing the views in it).
_RUN_CELL_JS = """
async (index) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  panel.content.activeCellIndex = index;
  await app.commands.execute('notebook:run-cell');
}
"""
_CLEAR_OUTPUT_JS = """
async (index) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  panel.content.activeCellIndex = index;
  await app.commands.execute('notebook:clear-cell-output');
}
"""


_SAVE_WITH_STATE_JS = """
async () => {
  const app = window.jupyterapp;
  const toggle = '@jupyter-widgets/jupyterlab-manager:saveWidgetState';
  const on = () => app.commands.isToggled(toggle);
  if (!on()) await app.commands.execute(toggle);
  for (let i = 0; i < 100 && !on(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!on()) throw new Error('the save-widget-state setting did not turn on');
  try {
    await app.commands.execute('docmanager:save');
  } finally {
    await app.commands.execute(toggle); // back off: other tests save small notebooks
  }
}
"""


def save_widget_state(web: Web, notebook: Path) -> dict[str, Any]:
    """Saves the notebook with its widget state; what the heatmap's saved state holds."""
    web.page.evaluate(_SAVE_WITH_STATE_JS)
    meta = json.loads(notebook.read_text())["metadata"]
    # JupyterLab saves the notebook without it when the manager's get_state throws
    assert "widgets" in meta, "the widget state was not saved (did get_state throw?)"
    states = meta["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    (ours,) = [
        s
        for s in states.values()
        if "_points" in s["state"] or any(b["path"] == ["_points"] for b in s.get("buffers", []))
    ]
    buffers = {tuple(b["path"]): b["data"] for b in ours.get("buffers", [])}
    data = buffers.get(("_points",), "")
    return {"_points_bytes": len(base64.b64decode(data)), "_seq": ours["state"].get("_seq")}


def click_event(web: Web, hv: HeatView, k: KernelClient, xy: tuple[int, int]) -> Any:
    """Clicks the middle of the map's pixel `xy`; the click event Python received."""
    box = hv.root.locator("div.heatwidget-map").bounding_box()
    assert box is not None
    before = k.eval("len(clicks)")
    web.page.mouse.click(box["x"] + xy[0] + 0.5, box["y"] + xy[1] + 0.5)
    return k.wait_for("clicks", lambda c: len(c) > before, "the click to reach Python")[-1]


def test_two_views_of_one_model_share_one_kernel(
    web: Web, lab_ui: LabUI, jupyter_lab: Any, kernel_client: Any, artifacts_dir: Path
) -> None:
    from harness import wait_until, write_notebook
    from harness.memory import page_memory

    write_notebook(jupyter_lab.root_dir / NOTEBOOK, SETUP, SHOW, SHOW)
    nb = lab_ui.open_notebook(NOTEBOOK, run_all=False)
    before = page_memory(web.page)  # JupyterLab with the notebook, no map yet
    lab_ui._run_all(NOTEBOOK)
    first, second = nb.widget(0), nb.widget(1)
    k: KernelClient = kernel_client(NOTEBOOK)
    assert nb.errors() == [], nb.errors()
    px1, px2 = first.wait_stable(), second.wait_stable()
    figures: dict[str, Any] = {}

    # -- 1. one kernel for both views, holding the points once ----------------------------------
    shared = web.page.evaluate(_SHARED_JS)
    figures["shared"] = shared
    assert shared["views"] == 2 and shared["same"] and shared["viewCount"] == 2, shared
    assert shared["points"] == N
    # a second kernel would hold its own copy: at least the 16 bytes of lon/lat per point
    assert shared["bytes"] >= 16 * N
    figures["kernel_mb_for_both_views"] = round(shared["bytes"] / 2**20, 1)
    # both views drew the same heat (same model, same view of the world)
    assert px1.shape == px2.shape and (px1[..., 3] > 0).sum() > 1000
    assert np.array_equal(px1, px2)
    # ...and the rows are nowhere else in the page (CDP; WebAssembly memory is not among the
    # ArrayBuffers it counts): the ArrayBuffers grew by well under the 12 bytes a row a kept
    # copy of the received rows (the store's, or the model state's) would add; the JS heap
    # grew by the widget's code and two views (recorded, about 10 MB)
    mem = page_memory(web.page)
    figures["page_memory"] = {"before": before, "after": mem}
    outside = (mem["total"] - before["total"]) / N
    buffers = (mem["buffers"] - before["buffers"]) / N
    figures["page_bytes_per_row_outside_kernel"] = round(outside, 2)
    figures["array_buffer_bytes_per_row_outside_kernel"] = round(buffers, 2)
    figures["kernel_bytes_per_row"] = round(mem["kernel"] / N, 2)
    assert mem["kernel"] > 12 * N, mem  # x, y, weight: the rows are in the kernel
    # the model's state bytes (ipywidgets keeps them) were freed once the kernel had the rows,
    # leaving a valid empty value
    state_js = (
        "() => { const v = document.querySelector('div.heatwidget').__heatwidget.model"
        ".get('_points'); return [v?.constructor?.name, v?.buffer?.byteLength]; }"
    )
    wait_until(lambda: web.page.evaluate(state_js)[1] == 0, 30, "the state bytes to be freed")
    assert web.page.evaluate(state_js) == ["DataView", 0]
    assert buffers < 2, figures["page_memory"]

    # -- 1b. "Save Widget State Automatically" then save: the widget manager serialises every
    # model (get_state); the emptied `_points` saves as zero bytes (saved state holds no rows)
    figures["saved_state"] = save_widget_state(web, jupyter_lab.root_dir / NOTEBOOK)
    assert figures["saved_state"]["_points_bytes"] == 0, figures["saved_state"]

    # -- 2. a click reads the frame of the view clicked, whichever view drew last --------------
    # (the kernel keeps one frame: the second click finds the other view's and draws its own)
    k.execute("clicks = []\nm.on_click(clicks.append)")
    w, h = first.view()["size"]
    py_y, py_x = k.eval(f"divmod(int(m.density({w}, {h}).grid.argmax()), {w})")
    near = k.eval(
        f"m.density({w}, {h}).grid[max(0,{py_y}-1):{py_y}+2, max(0,{py_x}-1):{py_x}+2]"
        ".ravel().tolist()"
    )
    lo, hi = min(near) * (1 - 1e-3) - 1e-6, max(near) * (1 + 1e-3) + 1e-6
    events = [click_event(web, hv, k, (py_x, py_y)) for hv in (first, second, first)]
    figures["clicks"] = events
    for event in events:
        assert lo <= event["value"] <= hi, (event, near)  # the density at that pixel
        assert event["count"] > 0

    # -- 3. an append reaches both views through the one kernel ---------------------------------
    k.execute("m.append(lat=[48.85] * 500, lon=[2.35] * 500, weight=[1.0] * 500)")
    for hv in (first, second):
        wait_until(lambda hv=hv: hv.point_count == N + 500, 30, "both views to count the append")
    assert web.page.evaluate(_SHARED_JS)["points"] == N + 500

    # -- 4. closing one view leaves the other working; closing both frees the kernel ----------
    web.page.evaluate(_CLEAR_OUTPUT_JS, 2)
    wait_until(lambda: web.page.evaluate(_SHARED_JS)["views"] == 1, 30, "the second view to close")
    left = web.page.evaluate(_SHARED_JS)
    assert left["viewCount"] == 1 and left["points"] == N + 500, left
    before = first.frames
    k.execute("m.radius = 40")
    wait_until(lambda: first.frames > before, 30, "the remaining view to draw again")
    last = first.wait_stable()
    web.page.evaluate(_CLEAR_OUTPUT_JS, 1)
    wait_until(
        lambda: web.page.evaluate("() => window.__heatwidgetModelKernel.freed"),
        30,
        "the last view to free the model's kernel",
    )

    # -- 5. a view opened later: the store let the rows go, so it asks Python for them ----------
    # (in parts of 2^18 rows: the reset comes as a "reset" and three "part" messages, store.ts)
    k.execute("import heatwidget.widget.stream as stream\nstream.PART_ROWS = 1 << 18")
    web.page.evaluate(_RUN_CELL_JS, 2)
    late = nb.widget(0)
    wait_until(lambda: late.point_count == N + 500, 60, "the late view to get the rows")
    late_px = late.wait_stable()
    figures["late_view_lit"] = int((late_px[..., 3] > 0).sum())
    # its first frame had the parts before the last splatted ahead (heat.h hw_density_ahead)
    # and shows the same pixels
    ahead = int(late.attr("data-ahead-rows") or -1)
    figures["late_view_ahead_rows"] = ahead
    assert 0 < ahead < N + 500, ahead  # (some of) the parts before the last
    assert late_px.shape == last.shape and np.array_equal(late_px, last)
    late_shared = web.page.evaluate(_SHARED_JS)
    assert late_shared["views"] == 1 and late_shared["points"] == N + 500, late_shared

    (artifacts_dir / "test_two_views.json").write_text(json.dumps(figures, indent=1))
    assert not web.page_errors, web.page_errors

"""heatwidget in Jupyter Notebook 7 (the `notebook` package's /notebooks/ page, served by the same
Jupyter server as the JupyterLab tests) in Chromium: the map draws heat, Python changes reach
the pixels, a drag reaches Python, and m.to_png() inside a cell returns the view's picture.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from harness.pictures import LAND, SEA, heat_matches, load_png

if TYPE_CHECKING:
    from harness import HeatView, KernelClient, LabServer, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

NOTEBOOK = "notebook7_e2e.ipynb"
SETUP = """\
import heatwidget
df = heatwidget.datasets.cities(300_000, seed=2)
m = heatwidget.Heatmap(df, lat="lat", lon="lon", weight="mag", height=480)
m
"""


def test_heatmap_in_notebook7(
    web: Web, lab_ui: LabUI, jupyter_lab: LabServer, kernel_client: Any, artifacts_dir: Path
) -> None:
    from harness import write_notebook

    write_notebook(jupyter_lab.root_dir / NOTEBOOK, SETUP)

    opened = lab_ui.open_in_notebook_app(NOTEBOOK)
    assert web.page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
    hv: HeatView = opened.widget()
    k: KernelClient = kernel_client(NOTEBOOK)
    assert opened.errors() == [], opened.errors()
    figures: dict[str, Any] = {"notebook": web.page.evaluate("() => window.jupyterapp.version")}

    # -- the data arrived and became heat ----------------------------------------------------
    point_count = k.eval("m.point_count")
    assert hv.point_count == point_count == 300_000
    before = hv.wait_stable()
    lit = float((before[..., 3] > 0).mean())
    figures["lit_share"] = round(lit, 3)
    assert 0.01 < lit < 0.9, f"{lit:.1%} of the canvas has heat"

    # -- Python → pixels: a colormap change recolours the heat --------------------------------
    k.execute("m.colormap = 'viridis'")
    after = hv.wait_pixels_change(before)
    assert np.mean((after[..., 3] > 0) != (before[..., 3] > 0)) < 0.01  # recoloured, not moved

    # -- the map → Python: a drag moves m.center ----------------------------------------------
    k.wait_for("m.center", lambda c: c is not None, "the view to write m.center back")
    center0 = k.eval("m.center")
    box = hv.root.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    web.page.mouse.move(x, y)
    web.page.mouse.down()
    web.page.mouse.move(x - 200, y, steps=8)
    web.page.mouse.up()
    center1 = k.wait_for("m.center", lambda c: c[1] > center0[1] + 5, "m.center to follow a drag")
    figures["center"] = [center0, center1]

    # -- to_png() waits inside the cell for the picture the view shows ------------------------
    heat = hv.wait_stable()
    # Notebook 7 sends widget messages on a comm subshell of its own, as JupyterLab does
    assert k.eval("m._reply_route._front_subshell") is not None
    out = k.execute("png = m.to_png('nb7.png')\nprint(png.info['source'], len(png))")
    assert out.split()[0] == "view", out
    snap = load_png(jupyter_lab.root_dir / "nb7.png")
    w, h = hv.view()["size"]
    assert snap.shape[:2] == (h, w)
    n, err = heat_matches(snap, heat, 0.8)
    figures["to_png"] = {"heat_pixels_compared": n, "heat_median_error": err}
    assert n > 200 and err <= 6, (n, err)
    flat = snap[..., :3].reshape(-1, 3).astype(int)
    for name, rgb in (("sea", SEA), ("land", LAND)):
        assert (np.abs(flat - rgb).max(axis=1) <= 2).mean() > 0.02, f"no {name} in the PNG"

    web.screenshot("notebook7")
    others = web.blocked_other()
    assert not others, f"requests outside 127.0.0.1 (not tiles): {[r.url for r in others]}"
    # Notebook 7.6's keyboard-shortcut plugin throws this once on load here, with a notebook of
    # just `1+1` too (its settings registry announces a plugin it has no schema for).
    notebook_own = "Cannot read properties of undefined (reading 'schema')"
    page_errors = [e for e in web.page_errors if e != notebook_own]
    assert not page_errors, page_errors
    (artifacts_dir / "test_notebook7.json").write_text(json.dumps(figures, indent=1))

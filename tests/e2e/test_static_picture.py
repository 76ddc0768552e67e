"""JupyterLab shows the live map, not the static picture the display also carries (issue 12,
part 3): the output holds image/png beside the widget view, and Lab renders the widget (its
renderer ranks before image/png's), so the page has the heat canvas and no <img>."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness import LabServer, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

NOTEBOOK = "static_picture_e2e.ipynb"
SOURCE = """\
import numpy as np
import heatwidget

rng = np.random.default_rng(3)
lat, lon = 48.85 + rng.normal(0, 0.5, 20_000), 2.35 + rng.normal(0, 0.5, 20_000)
m = heatwidget.Heatmap(lat=lat, lon=lon)
m"""

_OUTPUT_JS = """
() => {
  const panel = window.__hwTestPanel;
  const cell = panel.content.widgets[0];
  const outputs = cell.model.outputs.toJSON();
  const node = cell.node.querySelector('.jp-OutputArea');
  return {
    mimes: outputs.flatMap((o) => Object.keys(o.data || {})),
    // the static picture's <img>, not the map's own tiles
    imgs: node
      ? [...node.querySelectorAll('img')].filter((i) => !i.closest('div.heatwidget')).length
      : -1,
    maps: node ? node.querySelectorAll('div.heatwidget canvas.heatwidget-heat').length : -1,
  };
}
"""


@pytest.fixture
def picture_notebook(jupyter_lab: LabServer) -> Iterator[str]:
    from harness.lab import notebook_for_test

    with notebook_for_test(jupyter_lab, NOTEBOOK, SOURCE) as path:
        yield path


@pytest.mark.usefixtures("picture_notebook")
def test_lab_shows_the_live_view_not_the_picture(web: Web, lab_ui: LabUI) -> None:
    hv = lab_ui.open_notebook(NOTEBOOK).widget()
    px = hv.wait_stable()
    assert (px[..., 3] > 0).sum() > 100, "the live view drew no heat"
    out: dict[str, Any] = web.page.evaluate(_OUTPUT_JS)
    assert "image/png" in out["mimes"], f"the display carries no picture: {out['mimes']}"
    assert "application/vnd.jupyter.widget-view+json" in out["mimes"]
    assert out["maps"] == 1, f"the live map is not in the cell's output: {out}"
    assert out["imgs"] == 0, f"JupyterLab shows the static picture too: {out}"
    web.screenshot("live-view")

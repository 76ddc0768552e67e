"""Where no JavaScript runs (issue 12, part 3): ``jupyter nbconvert --to html`` of a notebook
without widget state shows the map's static picture (outlines and heat), decoded here."""

from __future__ import annotations

import base64
import io
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np
from PIL import Image

from heatwidget import Heatmap
from heatwidget.host import outlines, viewport

SETUP = """\
import numpy as np
import heatwidget
rng = np.random.default_rng(3)
m = heatwidget.Heatmap(lat=48.85 + rng.normal(0, 0.5, 5000), lon=2.35 + rng.normal(0, 0.5, 5000),
                       center=(20.0, 0.0), zoom=2, radius=20, height=400)
"""


def convert(tmp_path: Path, *flags: str, show: str = "m") -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(show)]
    path = tmp_path / "map.ipynb"
    nbformat.write(nb, path)
    cmd = [sys.executable, "-m", "jupyter", "nbconvert", "--execute", "--to", "html", *flags]
    subprocess.run([*cmd, str(path)], check=True, capture_output=True, timeout=120)
    return (tmp_path / "map.html").read_text()


def the_picture(html: str) -> tuple[np.ndarray, Callable[[float, float], tuple[int, ...]]]:
    """The one picture in the page (SETUP's view, 800 x 400), and its pixel at (lat, lon)."""
    found = re.findall(r'<img[^>]*src="data:image/png;base64,([^"]+)"', html)
    assert len(found) == 1
    img = np.asarray(Image.open(io.BytesIO(base64.b64decode(found[0]))).convert("RGB"))
    assert img.shape == (400, 800, 3)
    view = viewport.Viewport(center=(20.0, 0.0), zoom=2, width=800, height=400)
    x0, y0 = view.origin

    def at(lat: float, lon: float) -> tuple[int, ...]:
        x, y = viewport.project(lat, lon, 2)
        return tuple(int(v) for v in img[int(y - y0), int(x - x0)])

    return img, at


def test_nbconvert_html_without_widget_state_shows_the_picture(tmp_path: Path) -> None:
    html = convert(tmp_path, "--ExecutePreprocessor.store_widget_state=False")
    assert "application/vnd.jupyter.widget-view+json" not in html
    img, at = the_picture(html)

    assert at(0.0, -30.0) == outlines.SEA
    assert at(20.0, 20.0) == outlines.LAND
    heat = at(48.85, 2.35)
    assert heat not in (outlines.SEA, outlines.LAND)
    # the same picture as to_png(view=False) draws in this process
    rng = np.random.default_rng(3)  # the notebook's points
    m = Heatmap(
        lat=48.85 + rng.normal(0, 0.5, 5000),
        lon=2.35 + rng.normal(0, 0.5, 5000),
        center=(20.0, 0.0),
        zoom=2,
        radius=20,
        height=400,
    )
    assert m.static_picture  # the default
    mine = np.asarray(Image.open(io.BytesIO(m.to_png(view=False, width=800, height=400))))
    assert np.abs(mine.astype(int) - img.astype(int)).max() <= 2


def test_a_map_inside_a_layout_shows_its_picture_too(tmp_path: Path) -> None:
    show = "import ipywidgets\nipywidgets.VBox([ipywidgets.IntSlider(description='radius'), m])"
    html = convert(tmp_path, "--ExecutePreprocessor.store_widget_state=False", show=show)
    _img, at = the_picture(html)
    assert at(0.0, -30.0) == outlines.SEA
    assert at(48.85, 2.35) not in (outlines.SEA, outlines.LAND)


def test_with_stored_widget_state_nbconvert_embeds_the_widget_instead(tmp_path: Path) -> None:
    """nbclient stores widget state by default; nbconvert then prefers the widget view (live
    only where the page can load the widget manager from its CDN): documented, not a bug."""
    html = convert(tmp_path)
    assert "application/vnd.jupyter.widget-view+json" in html

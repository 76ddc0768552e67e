"""heatwidget in a real marimo app (``marimo run --headless``) through ``mo.ui.anywidget``:
the heat is drawn, a marimo slider changes the radius (the canvas changes), and a selection set
in the page reaches Python (a downstream cell reports its count), and so does a box drawn with
the mouse (shift-drag).

The app is tests/e2e/apps/marimo_app.py. The selection is set on the view's model from the
page's JavaScript (``model.set("selection", ...)``, what a drawing tool does), then drawn with the
mouse, each read back from the text of a downstream cell that marimo re-runs when the widget's
value changes.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from harness import HeatView, free_port, spawn_logged, stop_process, tail, wait_until
from harness.settings import ARTIFACTS

if TYPE_CHECKING:
    from harness import Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

APP = Path(__file__).resolve().parent / "apps" / "marimo_app.py"
BOX = {
    "type": "Polygon",
    "coordinates": [[[2.0, 48.5], [3.0, 48.5], [3.0, 49.5], [2.0, 49.5], [2.0, 48.5]]],
}


def expected_count(box: dict = BOX) -> int:
    """The rows of the app's map inside the axis-aligned `box` (boundary included)."""
    rng = np.random.default_rng(3)
    lat = 48.85 + rng.normal(0, 0.5, 20_000)
    lon = 2.35 + rng.normal(0, 0.5, 20_000)
    ring = box["coordinates"][0]
    (w, s), (e, n) = np.min(ring, axis=0), np.max(ring, axis=0)
    return int(((lat >= s) & (lat <= n) & (lon >= w) & (lon <= e)).sum())


@pytest.fixture
def marimo_url(tmp_path: Path) -> Iterator[str]:
    pytest.importorskip("marimo")
    marimo = shutil.which("marimo", path=str(Path(sys.executable).parent)) or "marimo"
    port = free_port()
    app = tmp_path / "app.py"
    app.write_text(APP.read_text())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "marimo.log"
    cmd = [marimo, "run", str(app), "--headless", "--host", "127.0.0.1", "--port", str(port)]
    proc = spawn_logged([*cmd, "--no-token"], tmp_path, dict(os.environ), log)
    try:
        wait_until(
            lambda: proc.poll() is None and f":{port}" in log.read_text(errors="replace"),
            60,
            "marimo run to print its URL",
            diagnose=lambda: tail(log),
        )
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc)


def report(web: Web) -> tuple[int, str] | None:
    text = web.page.locator("text=/selection-report:/").first.inner_text(timeout=1000)
    m = re.search(r"count=(\d+) selected=(\w+)", text)
    return None if m is None else (int(m.group(1)), m.group(2))


def test_marimo_app_draws_reacts_and_reports_the_selection(web: Web, marimo_url: str) -> None:
    web.page.goto(marimo_url)
    root = web.page.locator("div.heatwidget")
    wait_until(lambda: root.count() == 1, 60, "one div.heatwidget in the marimo page")
    wait_until(lambda: root.get_attribute("data-ready") == "1", 60, "the map's first frame")
    hv = HeatView(web.page, root)
    before = hv.wait_stable()
    assert (before[..., 3] > 0).sum() > 500, "no heat drawn in marimo"
    assert hv.point_count == 20_000
    assert wait_until(lambda: report(web), 30, "the downstream cell's report") == (0, "none")

    # the marimo slider (radius 10 → its maximum 60): the cell setting m.radius re-runs
    slider = web.page.get_by_role("slider").first
    slider.focus()
    slider.press("End")
    after = hv.wait_pixels_change(before)
    assert (after[..., 3] > 0).sum() > (before[..., 3] > 0).sum(), (
        "a larger radius lit fewer pixels"
    )
    web.screenshot("1-radius")

    # a selection set in the page reaches Python: the downstream cell reports its count
    root.evaluate(
        "(el, box) => { const m = el.__heatwidget.model; m.set('selection', box);"
        " m.save_changes(); }",
        BOX,
    )
    want = expected_count()
    got = wait_until(
        lambda: (r := report(web)) is not None and r[1] == "set" and r,
        30,
        f"the downstream cell to report the selection (count {want})",
    )
    assert got == (want, "set")
    web.screenshot("2-selection")

    # a box drawn with the mouse (shift-drag) reaches the downstream cell with the exact count
    # of the rows inside the box the page sent
    hv.drag_box((49.2, 2.1), (48.6, 2.7))
    drawn = wait_until(
        lambda: (g := root.evaluate("(el) => el.__heatwidget.model.get('selection')")) != BOX and g,
        10,
        "the drawn box in the page's model",
    )
    ring = drawn["coordinates"][0]
    assert abs(min(p[1] for p in ring) - 48.6) < 0.05 and abs(max(p[0] for p in ring) - 2.7) < 0.05
    want = expected_count(drawn)
    assert want != expected_count()
    got = wait_until(
        lambda: (r := report(web)) is not None and r[0] == want and r,
        30,
        f"the downstream cell to report the drawn box (count {want})",
    )
    assert got == (want, "set")
    web.screenshot("3-drawn-box")

"""Live widget in real JupyterLab + Chromium: streaming appends, the sliding window, a page
reload that loses nothing, a click answered in Python with the density under the mouse, and a
time window that changes the pixels.

The notebook is written here (into the server's root) so the test does not depend on the
quickstart's content; Python state is read with a second kernel client.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from harness import HeatView, KernelClient, LabServer, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

NOTEBOOK = "live_e2e.ipynb"

SETUP = """\
import numpy as np
import heatwidget
rng = np.random.default_rng(0)
N = 4000
# Paris, one point a minute: a dense core and a sparse ring
lat = np.concatenate([rng.normal(48.86, 0.01, N // 2), rng.normal(48.86, 0.06, N // 2)])
lon = np.concatenate([rng.normal(2.35, 0.015, N // 2), rng.normal(2.35, 0.09, N // 2)])
t0 = 1.7e9
times = t0 + rng.permutation(N) * 60.0
m = heatwidget.Heatmap(lat=lat, lon=lon, time=times, basemap=None, radius=10, height=420)
m
"""


def write_notebook(root: Path) -> None:
    from harness import write_notebook as write

    write(root / NOTEBOOK, SETUP)


def wait_count(k: KernelClient, hv: HeatView, what: str, timeout: float = 30.0) -> int:
    from harness import wait_until

    def same() -> int | None:
        py = k.eval("[m.point_count, m._seq]")
        return (
            py[0] if hv.point_count == py[0] and int(hv.attr("data-seq") or -1) == py[1] else None
        )

    return wait_until(
        same,
        timeout,
        what,
        0.2,
        diagnose=lambda: (
            f"view {hv.point_count}/{hv.attr('data-seq')}, "
            f"python {k.eval('[m.point_count, m._seq]')}"
        ),
    )


def test_live_in_lab(
    web: Web, lab_ui: LabUI, jupyter_lab: LabServer, kernel_client: Any, artifacts_dir: Path
) -> None:
    write_notebook(jupyter_lab.root_dir)
    nb = lab_ui.open_notebook(NOTEBOOK)
    hv = nb.widget()
    k: KernelClient = kernel_client(NOTEBOOK)
    assert nb.errors() == [], nb.errors()
    k.wait_for("m.center", lambda c: c is not None, "the view to write m.center back")
    k.wait_for("m.bounds", lambda b: b is not None, "the view to write m.bounds back")
    wait_count(k, hv, "the first view to hold m.point_count rows")
    before = hv.wait_stable()
    figures: dict[str, Any] = {}

    # -- 1. streaming: 30 appends faster than frames; only deltas travel ---------------------
    frames0 = hv.frames
    t_start = time.monotonic()
    k.execute(
        "_sent = []\n"
        "_orig_send = m.send\n"
        "m.send = lambda c, buffers=None: (_sent.append((c, sum(len(b) for b in buffers or []))),"
        " _orig_send(c, buffers=buffers))[1]\n"
        "for i in range(30):\n"
        "    m.append(lat=rng.normal(48.90, 0.004, 200), lon=rng.normal(2.25, 0.006, 200),\n"
        "             time=t0 + (N + i * 200 + np.arange(200)) * 60.0)\n"
        "m.send = _orig_send\n"
    )
    count = wait_count(k, hv, "the view to hold every appended row")
    figures["append_to_view_s"] = round(time.monotonic() - t_start, 3)
    assert count == 4000 + 30 * 200
    sent = k.eval("_sent")
    assert len(sent) == 30 and all(c["type"] == "delta" and c["rows"] == 200 for c, _ in sent)
    per_append = [b for _, b in sent]
    figures["bytes_per_append_200_rows"] = per_append[0]
    figures["bytes_per_row"] = round((per_append[0] - 400) / 200, 1)
    assert max(per_append) < 200 * 24 + 1000, f"an append sent {max(per_append)} bytes"
    after = hv.wait_pixels_change(before)
    frames_used = hv.frames - frames0
    figures["frames_for_30_appends"] = frames_used
    figures["append_frame_ms"] = hv.attr("data-append-frame-ms")
    web.screenshot("1-appended")

    # -- 2. the sliding window ---------------------------------------------------------------
    k.execute("m.max_points = 5000")
    assert wait_count(k, hv, "the view to drop to max_points") == 5000
    k.execute("m.append(lat=[48.86] * 10, lon=[2.35] * 10, time=[t0 + 1e6] * 10)")
    assert wait_count(k, hv, "the window to stay at max_points") == 5000
    after = hv.wait_stable()

    # -- 3. reload: a new view gets exactly the rows Python holds -----------------------------
    web.page.evaluate("() => window.__hwTestPanel.context.save()")
    web.page.reload(wait_until="domcontentloaded")
    lab_ui.loaded = False
    nb = lab_ui.open_notebook(NOTEBOOK, run_all=False)
    hv = nb.widget()
    assert wait_count(k, hv, "the reloaded view to hold m.point_count rows") == 5000
    reloaded = hv.wait_stable()
    lit_a, lit_b = (after[..., 3] > 0).sum(), (reloaded[..., 3] > 0).sum()
    assert abs(int(lit_a) - int(lit_b)) <= 0.02 * max(lit_a, 1), (
        f"the reloaded view lights {lit_b} pixels, before reload {lit_a}"
    )
    web.screenshot("2-reloaded")

    # -- 4. click a hot spot: Python's callback gets the density of that pixel ---------------
    k.execute("clicks = []\nm.on_click(clicks.append)")
    view = hv.view()
    k.wait_for("m.center", lambda c: abs(c[0] - view["center"][0]) < 1e-6, "m.center = view")
    w, h = view["size"]
    py_y, py_x, grid_v = k.eval(
        f"(lambda g: [*divmod(int(g.argmax()), g.shape[1]), float(g.max())])"
        f"(m.density({w}, {h}).grid)"
    )
    hv.root.scroll_into_view_if_needed()
    box = web.page.locator("div.heatwidget-map").nth(0).bounding_box()
    assert box
    web.page.mouse.click(box["x"] + py_x + 0.5, box["y"] + py_y + 0.5)
    (event,) = k.wait_for("clicks", lambda c: len(c) >= 1, "the click callback to run")
    neighbourhood = k.eval(
        f"(lambda g: g[max(0,{py_y}-1):{py_y}+2, max(0,{py_x}-1):{py_x}+2].ravel().tolist())"
        f"(m.density({w}, {h}).grid)"
    )
    figures["click"] = {"event": event, "python_value": grid_v}
    assert (event["x"], event["y"]) == pytest.approx((py_x + 0.5, py_y + 0.5), abs=1.0)
    lo, hi = min(neighbourhood), max(neighbourhood)
    assert lo * (1 - 1e-3) - 1e-6 <= event["value"] <= hi * (1 + 1e-3) + 1e-6, (
        f"clicked value {event['value']} is not the density at that pixel ({lo}..{hi})"
    )
    assert event["value"] == pytest.approx(grid_v, rel=0.05)
    assert isinstance(event["count"], int)
    assert event["count"] > 0  # points within the radius of a hot spot

    # hover: the same event, throttled, and the tooltip shows it
    k.execute("hovers = []\nm.on_hover(hovers.append)\nm.tooltip = True")
    for dx in range(0, 40, 4):
        web.page.mouse.move(box["x"] + py_x + 0.5 + dx, box["y"] + py_y + 0.5)
    hover = k.wait_for("hovers", lambda c: len(c) >= 1, "the hover callback to run")[-1]
    assert hover["type"] == "hover"
    assert hover["lat"] is not None and hover["value"] is not None
    assert web.page.locator(".heatwidget-tooltip").nth(0).is_visible()

    # fly_to and fit_bounds from Python move the map in the browser
    k.execute("m.fly_to(48.8566, 2.3522, zoom=9)")
    from harness import wait_until

    wait_until(
        lambda: (
            (abs(hv.view()["center"][0] - 48.8566) < 1e-3 and abs(hv.view()["zoom"] - 9) < 1e-6)
            or None
        ),
        20,
        "the map to fly to Paris at zoom 9",
        diagnose=lambda: repr(hv.view()),
    )
    k.execute("m.fit_bounds((40.0, -10.0, 55.0, 20.0))")
    wait_until(
        lambda: (
            # zoomSnap 0: the bounds fit exactly, up to rounding
            (lambda b: b[0] <= 40.001 and b[2] >= 54.999 and b[1] <= -9.999 and b[3] >= 19.999)(
                hv.view()["bounds"]
            )
            or None
        ),
        20,
        "the map to show the bounds asked for",
        diagnose=lambda: repr(hv.view()),
    )
    k.wait_for(
        "m.bounds",
        lambda b: b is not None and b[0] <= 40.001 and b[2] >= 54.999,
        "m.bounds to follow the map",
    )

    # -- 5. the time window changes the pixels, from Python and back -----------------------
    before_t = hv.wait_stable()
    k.execute("m.time_window = (t0, t0 + 600 * 60)")  # the first 600 minutes only
    narrowed = hv.wait_pixels_change(before_t)
    assert (narrowed[..., 3] > 0).sum() < (before_t[..., 3] > 0).sum()
    web.screenshot("3-time-window")
    assert web.page.locator(".heatwidget-time").nth(0).is_visible()
    # play from the UI: the window moves and Python sees it
    w0 = k.eval("[v.timestamp() for v in m.time_window]")
    web.page.locator(".heatwidget-time-play").nth(0).click()
    k.wait_for("m.play", lambda p: p is True, "play to reach Python")
    k.wait_for(
        "[v.timestamp() for v in m.time_window]",
        lambda v: v[0] > w0[0],
        "the play control to move m.time_window",
    )
    web.page.locator(".heatwidget-time-play").nth(0).click()
    k.wait_for("m.play", lambda p: p is False, "pause to reach Python")
    # the step, from the UI and from Python
    from harness import wait_until

    web.page.locator(".heatwidget-time-step").nth(0).select_option("3600")
    k.wait_for("m.time_step", lambda s: s == 3600.0, "the step chosen in the UI to reach Python")
    k.execute("m.time_step = 600")
    step_ui = web.page.locator(".heatwidget-time-step").nth(0)
    wait_until(
        lambda: step_ui.input_value() == "600" or None,
        10,
        "the UI's step to follow m.time_step",
        diagnose=step_ui.input_value,
    )
    k.execute("m.time_window = None")
    hv.wait_pixels_change(narrowed)

    assert not web.page_errors, web.page_errors
    console = [e for e in web.console_errors if "ERR_BLOCKED_BY_CLIENT" not in e]
    assert not console, console
    (artifacts_dir / "test_live-figures.json").write_text(json.dumps(figures, indent=1))
    print(json.dumps(figures, indent=1))
    assert np.isfinite(float(figures["append_frame_ms"] or "nan"))

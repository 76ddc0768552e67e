"""Kernel restarts, page reloads and two notebooks, in real JupyterLab + Chromium.

- The kernel restarts under a displayed map: the view says it is disconnected (badge
  data-status="disconnected", root data-connection="disconnected") and keeps its last frame;
  running the cell again draws a new, live map.
- The page reloads while the kernel streams appends from a thread: the reloaded view ends with
  exactly Python's rows.
- Two notebooks show maps at once (side by side): both draw, and both follow their appends.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness import KernelClient, LabServer, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(400)]

LIVE = 'div.heatwidget[data-ready="1"][data-connection="live"]'

_RESTART_JS = """
async () => {
  const ctx = window.__hwTestPanel.sessionContext;
  await ctx.restartKernel();
  await ctx.session.kernel.info;
}
"""

# Opens `path` beside the current notebook (split right), waits for its kernel, runs it.
_OPEN_BESIDE_JS = """
async ([path, timeoutMs]) => {
  const app = window.jupyterapp;
  const within = (p, what) => Promise.race([p, new Promise((_, reject) =>
    setTimeout(() => reject(new Error('timed out: ' + what)), timeoutMs))]);
  const panel = await within(app.commands.execute('docmanager:open',
    {path, factory: 'Notebook', options: {mode: 'split-right'}}), 'open ' + path);
  await within(panel.sessionContext.ready, 'sessionContext.ready');
  await within(panel.sessionContext.session.kernel.info, 'kernel.info');
  app.shell.activateById(panel.id);
  await within(app.commands.execute('notebook:run-all-cells'), 'run all ' + path);
  return panel.sessionContext.session.kernel.id;
}
"""


def live_views(web: Web) -> int:
    return web.page.locator(LIVE).count()


def test_kernel_restart_under_a_map(
    web: Web, lab_ui: LabUI, jupyter_lab: LabServer, kernel_client: Any, artifacts_dir: Path
) -> None:
    from harness import HeatView, wait_until
    from harness.hostile import badge, map_notebook, wait_same_rows

    name = map_notebook(jupyter_lab.root_dir, "restart_e2e.ipynb")
    nb = lab_ui.open_notebook(name)
    hv = nb.widget()
    before = hv.wait_stable()
    assert hv.attr("data-connection") == "live" and badge(hv) is None

    t0 = time.monotonic()
    web.page.evaluate(_RESTART_JS)
    wait_until(
        lambda: hv.attr("data-connection") == "disconnected" or None,
        30,
        "the view to say the kernel is disconnected",
        diagnose=lambda: f"data-connection {hv.attr('data-connection')!r}",
    )
    figures = {"disconnected_after_s": round(time.monotonic() - t0, 3)}
    assert badge(hv) == "disconnected"
    assert hv.root.locator(".heatwidget-status").is_visible()
    assert (hv.pixels() == before).all(), "the last frame did not stay on screen"
    web.screenshot("1-disconnected")

    # Run the cell again: a new view, live, holding the new kernel's rows.
    lab_ui._run_all(name)
    wait_until(lambda: live_views(web) >= 1 or None, 90, "a live view after re-running the cell")
    fresh = HeatView(web.page, web.page.locator(LIVE).nth(0))
    k: KernelClient = kernel_client(name)
    wait_same_rows(k, fresh, "the new view to hold the new kernel's rows")
    assert badge(fresh) is None
    k.execute("m.append(lat=[45.7] * 30, lon=[4.8] * 30)")
    wait_same_rows(k, fresh, "the new view to follow an append")
    assert web.page.locator('div.heatwidget[data-connection="disconnected"]').count() == 0
    assert not web.page_errors, web.page_errors
    (artifacts_dir / "test_kernel_restart-figures.json").write_text(json.dumps(figures))


# Appends 20 rows every 30 ms until told to stop (at most 4,000 times: 2 minutes), counting
# what it appended, so the test reloads while rows are still arriving whatever the load.
STREAM = """\
import threading, time as _time
_stop, _appended = threading.Event(), [0]
def _stream(n=4000, every=0.03):
    for i in range(n):
        if _stop.is_set():
            return
        m.append(lat=45.7 + 0.001 * np.arange(20) + 0.00001 * i, lon=np.full(20, 4.8))
        _appended[0] += 1
        _time.sleep(every)
_streamer = threading.Thread(target=_stream, daemon=True)
_streamer.start()
"""


def test_reload_mid_stream_shows_pythons_rows(
    web: Web, lab_ui: LabUI, jupyter_lab: LabServer, kernel_client: Any
) -> None:
    from harness.hostile import badge, map_notebook, python_rows, wait_same_rows

    name = map_notebook(jupyter_lab.root_dir, "reload_e2e.ipynb")
    nb = lab_ui.open_notebook(name)
    hv = nb.widget()
    k: KernelClient = kernel_client(name)
    wait_same_rows(k, hv, "the view to hold Python's rows")
    web.page.evaluate("() => window.__hwTestPanel.context.save()")
    k.execute(STREAM)
    k.wait_for("_appended[0]", lambda n: n >= 20, "the stream to be under way")
    during = python_rows(k)
    web.page.reload(wait_until="domcontentloaded")
    lab_ui.loaded = False
    nb = lab_ui.open_notebook(name, run_all=False)
    hv = nb.widget()
    # rows kept arriving while the page was away and while it came back
    then = (during[0] - 2000) // 20  # appends made when the page went away
    k.wait_for("_appended[0]", lambda n: n >= then + 5, "rows to keep arriving")
    assert k.eval("_streamer.is_alive()"), "the stream ended before the page came back"
    k.execute("_stop.set()\n_streamer.join()")
    rows = wait_same_rows(k, hv, "the reloaded view to hold exactly Python's rows")
    assert rows == 2000 + 20 * k.eval("_appended[0]") and rows > during[0]
    assert badge(hv) is None
    assert not web.page_errors, web.page_errors


def test_two_notebooks_both_draw(
    web: Web, lab_ui: LabUI, jupyter_lab: LabServer, kernel_client: Any
) -> None:
    from harness import HeatView, wait_until
    from harness.hostile import map_notebook, wait_same_rows

    a = map_notebook(jupyter_lab.root_dir, "two_a_e2e.ipynb", n=1500)
    b = map_notebook(jupyter_lab.root_dir, "two_b_e2e.ipynb", n=2500)
    lab_ui.open_notebook(a)
    lab_ui.wait_for_widget(0)
    web.page.evaluate(_OPEN_BESIDE_JS, [b, 150_000])
    wait_until(lambda: live_views(web) >= 2 or None, 90, "two drawn maps, one per notebook")
    roots = web.page.locator(LIVE)
    views = [HeatView(web.page, roots.nth(i)) for i in range(2)]
    counts = sorted(v.point_count for v in views)
    assert counts == [1500, 2500], counts
    by_count = {v.point_count: v for v in views}
    ka: KernelClient = kernel_client(a)
    kb: KernelClient = kernel_client(b)
    ka.execute("m.append(lat=[45.7] * 10, lon=[4.8] * 10)")
    kb.execute("m.append(lat=[45.7] * 20, lon=[4.8] * 20)")
    wait_same_rows(ka, by_count[1500], "notebook A's map to follow its append")
    wait_same_rows(kb, by_count[2500], "notebook B's map to follow its append")
    for v in views:
        assert int(v.attr("data-frames") or 0) > 0 and v.wait_stable()[..., 3].any()
    web.screenshot("two-notebooks")
    assert not web.page_errors, web.page_errors

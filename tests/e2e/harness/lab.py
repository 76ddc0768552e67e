"""Driving JupyterLab (and Notebook 7) through ``window.jupyterapp``."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from .browser import Web
from .heatview import HeatView
from .processes import wait_until
from .servers import LabServer
from .settings import LAB_LOAD_TIMEOUT, NOTEBOOK_RUN_TIMEOUT, WIDGET_READY_TIMEOUT


@dataclass
class OpenNotebook:
    path: str
    kernel_id: str
    ui: LabUI

    def errors(self) -> list[dict[str, Any]]:
        return self.ui.notebook_errors()

    def widget(self, index: int = 0, timeout: float = WIDGET_READY_TIMEOUT) -> HeatView:
        return self.ui.wait_for_widget(index, timeout)


# The end of both scripts below: `panel`'s session and its kernel ready, as `kernel`.
_PANEL_KERNEL_JS = """
  await within(panel.context.ready, 'context.ready');
  await within(panel.sessionContext.ready, 'sessionContext.ready');
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel) throw new Error('no kernel for ' + path + ' (metadata.kernelspec missing?)');
  // A kernel_info reply the page never gets leaves kernel.info pending for good (a fresh-ci
  // run of 2026-12-05 waited 150 s there, though the server had its own reply): the request
  // is sent again each fifth of the time allowed.
  let info = null;
  for (let i = 0; i < 5 && info === null; i++) {
    const later = new Promise((ok) => setTimeout(() => ok(null), timeoutMs / 5));
    info = await Promise.race([kernel.info, later]);
    if (info === null) kernel.requestKernelInfo().catch(() => {});
  }
  if (info === null) throw new Error('timed out: kernel.info');
"""

_OPEN_NOTEBOOK_JS = (
    """
async ([path, timeoutMs]) => {
  const within = (p, what) => Promise.race([p, new Promise((_, reject) =>
    setTimeout(() => reject(new Error('timed out: ' + what)), timeoutMs))]);
  const app = window.jupyterapp;
  await within(app.restored, 'jupyterapp.restored');
  const panel = await within(app.commands.execute('docmanager:open', {path, factory: 'Notebook'}),
                             'docmanager:open ' + path);
"""
    + _PANEL_KERNEL_JS
    + """  app.shell.activateById(panel.id);
  window.__hwTestPanel = panel;
  return kernel.id;
}
"""
)

_RUN_ALL_JS = """
async (timeoutMs) => {
  const app = window.jupyterapp, panel = window.__hwTestPanel;
  app.shell.activateById(panel.id);
  const run = app.commands.execute('notebook:run-all-cells');
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error('notebook:run-all-cells did not finish')), timeoutMs));
  return await Promise.race([run, timeout]);
}
"""

_NOTEBOOK_ERRORS_JS = """
() => {
  const panel = window.__hwTestPanel;
  if (!panel) return [];
  const out = [];
  const cells = panel.content.model.cells;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== 'code') continue;
    for (const o of cell.toJSON().outputs || []) {
      if (o.output_type === 'error') out.push({cell: i, ename: o.ename, evalue: o.evalue});
      if (o.output_type === 'stream' && o.name === 'stderr') {
        out.push({cell: i, stderr: String(o.text).slice(0, 2000)});
      }
    }
  }
  return out;
}
"""


_CURRENT_NOTEBOOK_JS = (
    """
async ([path, timeoutMs]) => {
  const within = (p, what) => Promise.race([p, new Promise((_, reject) =>
    setTimeout(() => reject(new Error('timed out: ' + what)), timeoutMs))]);
  const app = window.jupyterapp;
  await within(app.restored, 'jupyterapp.restored');
  const t0 = Date.now();
  let panel = null;
  while (!(panel && panel.context && panel.context.path === path)) {
    if (Date.now() - t0 > timeoutMs) throw new Error('no notebook panel for ' + path);
    await new Promise((r) => setTimeout(r, 100));
    panel = app.shell.currentWidget;
  }
"""
    + _PANEL_KERNEL_JS
    + """  window.__hwTestPanel = panel;
  return kernel.id;
}
"""
)


# Runs in a kernel with numpy and pyarrow (the probes of test_lab.py and test_voila.py build on
# it): the points of `m._points` (docs/architecture.md "Wire format": the kernel's fixed-point
# Web Mercator x/y) in container pixels of the browser's view (zoom, world-pixel origin of the
# container's top-left), with their weights and the world's width in pixels.
PROJECT_CODE = r"""
def _hw_project(m, zoom, ox, oy):
    import numpy as np
    from heatwidget.points.wire import decode_wire
    t = decode_wire(m._points)
    world = 256.0 * 2.0 ** zoom
    x = t.column("x").to_numpy().astype(np.float64) * (world / 2.0**32) - ox
    y = t.column("y").to_numpy().astype(np.float64) * (world / 2.0**32) - oy
    wt = (t.column("weight").to_numpy().astype(np.float64) if "weight" in t.column_names
          else np.ones_like(x))
    return x, y, wt, world
"""


@contextlib.contextmanager
def notebook_for_test(server: LabServer, path: str, *sources: str) -> Iterator[str]:
    """Writes the notebook `path` (one cell per source) for one test, then shuts its kernel
    down, so the next test's page starts with no kernel of it running."""
    write_notebook(server.root_dir / path, *sources)
    yield path
    with contextlib.suppress(Exception):
        for session in server.api("/api/sessions"):
            if session.get("path") == path:
                server.api(f"/api/sessions/{session['id']}", method="DELETE", timeout=15)


def write_notebook(path: Path, *sources: str, kernel: str = "python3") -> None:
    """A notebook at `path` with one code cell per source, for the kernelspec `kernel`."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    nbformat.write(nb, str(path))


class LabUI:
    """Drives JupyterLab in `web.page` through ``window.jupyterapp``."""

    def __init__(self, web: Web, server: LabServer) -> None:
        self.web = web
        self.page = web.page
        self.server = server
        self.loaded = False

    def open(self) -> None:
        self.page.goto(self.server.lab_url(), wait_until="domcontentloaded", timeout=60_000)
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.commands", timeout=LAB_LOAD_TIMEOUT * 1000
        )
        self.page.evaluate("async () => { await window.jupyterapp.restored; }")
        self.loaded = True

    def open_notebook(self, path: str, run_all: bool = True) -> OpenNotebook:
        """Opens `path` (relative to the server's root, e.g. "notebooks/quickstart.ipynb"), waits
        for its kernel, and runs all cells (waiting for them to finish)."""
        if not self.loaded:
            self.open()
        kernel_id = self.page.evaluate(_OPEN_NOTEBOOK_JS, [path, NOTEBOOK_RUN_TIMEOUT * 1000])
        nb = OpenNotebook(path=path, kernel_id=str(kernel_id), ui=self)
        if run_all:
            self._run_all(path)
        return nb

    def _run_all(self, path: str) -> None:
        try:
            self.page.evaluate(_RUN_ALL_JS, NOTEBOOK_RUN_TIMEOUT * 1000)
        except Exception as exc:
            raise AssertionError(f"running {path} failed: {exc}\n{self.diagnosis()}") from exc

    def notebook_errors(self) -> list[dict[str, Any]]:
        return list(self.page.evaluate(_NOTEBOOK_ERRORS_JS))

    def open_in_notebook_app(self, path: str, run_all: bool = True) -> OpenNotebook:
        """Opens `path` in Jupyter Notebook 7 (its /notebooks/ page, served by the same server,
        one document per page), waits for its kernel and runs all cells."""
        url = f"{self.server.url}/notebooks/{path}?token={self.server.token}"
        self.page.goto(url, wait_until="domcontentloaded", timeout=60_000)
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.commands", timeout=LAB_LOAD_TIMEOUT * 1000
        )
        kernel_id = self.page.evaluate(_CURRENT_NOTEBOOK_JS, [path, NOTEBOOK_RUN_TIMEOUT * 1000])
        self.loaded = False  # this page is not JupyterLab's
        nb = OpenNotebook(path=path, kernel_id=str(kernel_id), ui=self)
        if run_all:
            self._run_all(path)
        return nb

    def diagnosis(self) -> str:
        parts = []
        with contextlib.suppress(Exception):
            parts.append(f"notebook errors/stderr: {json.dumps(self.notebook_errors())[:4000]}")
        with contextlib.suppress(Exception):
            roots = self.page.evaluate(
                "() => Array.from(document.querySelectorAll('div.heatwidget')).map(e => "
                "Object.fromEntries(Array.from(e.attributes).map(a => [a.name, a.value])))"
            )
            parts.append(f"div.heatwidget elements: {json.dumps(roots)}")
        parts.append(f"page errors: {self.web.page_errors[-10:]}")
        parts.append(f"console errors: {self.web.console_errors[-10:]}")
        parts.append(f"--- server log tail:\n{self.server.log_tail(25)}")
        return "\n".join(parts)

    def wait_for_widget(self, index: int = 0, timeout: float = WIDGET_READY_TIMEOUT) -> HeatView:
        """Waits for the `index`-th ``div.heatwidget`` to carry data-ready="1"."""
        selector = 'div.heatwidget[data-ready="1"]'

        def ready() -> bool:
            return self.page.locator(selector).count() > index

        wait_until(ready, timeout, f"{index + 1} x {selector}", 0.2, diagnose=self.diagnosis)
        root = self.page.locator(selector).nth(index)
        root.scroll_into_view_if_needed()
        return HeatView(self.page, root)

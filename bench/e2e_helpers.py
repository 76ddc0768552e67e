"""The browser tests' helpers (tests/e2e/harness: Chromium flags, JupyterLab servers, kernel
clients), loaded for the benchmarks so both drive Chromium and Jupyter the same way."""

from __future__ import annotations

import contextlib
import importlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def load_harness() -> Any:
    """The browser tests' helpers, ``tests/e2e/harness`` (servers, Chromium, kernel clients)."""
    e2e = str(ROOT / "tests" / "e2e")
    if e2e not in sys.path:
        sys.path.insert(0, e2e)
    return importlib.import_module("harness")


def notebook(*sources: str) -> dict[str, Any]:
    """An nbformat 4 notebook (as JSON data) of these code cells, for the Python 3 kernel."""
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"c{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for i, source in enumerate(sources)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


# The transport's floor: a bare anywidget model (no view: anywidget's initialize hook) that only
# stamps the arrival of a custom message in the page (window.__probe). Sent the same bytes as a
# map's message, Python's send → the page's handler is what any widget pays for them.
PROBE_PY = '''
import time
import anywidget
class _Probe(anywidget.AnyWidget):
    _esm = """export default { initialize({ model }) {
      window.__probeReady = true;
      model.on('msg:custom', (msg, buffers) => {
        window.__probe = {at: Date.now(), bytes: buffers[0].byteLength};
      });
    } }"""
probe = _Probe()
'''


class ShellClient:
    """Runs code in a kernel through its shell channel only: no IOPub subscription."""

    def __init__(self, connection_file: Path) -> None:
        from jupyter_client.blocking.client import BlockingKernelClient

        self._kc = BlockingKernelClient()
        self._kc.load_connection_file(str(connection_file))
        self._kc.start_channels(iopub=False, stdin=False, hb=False, control=False)

    def run(self, code: str, expr: str = "None", timeout: float = 120.0) -> str:
        """Runs `code`, then returns `str(expr)` evaluated in the kernel."""
        self._kc.execute(
            code, silent=False, store_history=False, user_expressions={"v": f"str({expr})"}
        )
        reply = self._kc.get_shell_msg(timeout=timeout)["content"]
        if reply["status"] != "ok":
            raise RuntimeError(f"{code!r}: {reply.get('ename')}: {reply.get('evalue')}")
        value = reply["user_expressions"]["v"]
        if value["status"] != "ok":
            raise RuntimeError(f"{expr!r}: {value.get('ename')}: {value.get('evalue')}")
        return str(value["data"]["text/plain"]).strip("'\"")

    def close(self) -> None:
        self._kc.stop_channels()


@dataclass
class LabSession:
    pw: Any  # Playwright, for more browsers
    page: Any
    ui: Any  # harness.LabUI
    server: Any  # harness.LabServer
    base: Path  # a temporary folder for the run (the server's files, its log)
    browser: Any = None
    devtools_port: int = 0  # set when the session was opened with plain_cdp=True

    def plain_page(self) -> Any:
        """Disconnects Playwright (its network tracking copies every websocket frame on the
        page's main thread) and returns the same page driven over plain CDP (bench/cdp.py);
        ``page`` and ``ui`` are unusable after. Only for ``lab_session(..., plain_cdp=True)``."""
        from cdp import PlainPage

        if not self.devtools_port:
            raise RuntimeError("plain_page() needs lab_session(..., plain_cdp=True)")
        self.browser.close()  # connected over CDP: disconnects; the browser and page live on
        return PlainPage(self.devtools_port, url_contains="/lab")


@contextlib.contextmanager
def lab_session(name: str, nb: dict[str, Any], plain_cdp: bool = False) -> Iterator[LabSession]:
    """JupyterLab on 127.0.0.1 and headless Chromium (offline, 1280 × 1000) with ``nb`` open as
    bench.ipynb, all its cells run; stops both at the end. With ``plain_cdp``, Chromium is
    started here with a DevTools port and Playwright connects to it, so that a timing can go on
    without Playwright (``LabSession.plain_page``)."""
    from playwright.sync_api import sync_playwright

    c = load_harness()
    base = Path(tempfile.mkdtemp(prefix=f"heatwidget-{name}-"))
    server = c.start_jupyter_lab(base, base / "lab.log")
    (server.root_dir / "bench.ipynb").write_text(json.dumps(nb))
    try:
        with sync_playwright() as pw, contextlib.ExitStack() as stack:
            port = 0
            if plain_cdp:
                port = stack.enter_context(chromium_with_devtools(c, base / "chromium"))
                browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
                context = browser.contexts[0]
            else:
                browser = pw.chromium.launch(
                    executable_path=c.CHROMIUM, headless=True, args=c.CHROMIUM_ARGS
                )
                stack.callback(browser.close)
                context = browser.new_context(
                    viewport={"width": 1280, "height": 1000}, device_scale_factor=1
                )
            offline(context)
            page = context.pages[0] if context.pages else context.new_page()
            web = c.Web(page=page, context=context, name=name, artifacts=base)
            ui = c.LabUI(web, server)
            ui.open_notebook("bench.ipynb")
            yield LabSession(pw, page, ui, server, base, browser, port)
    finally:
        c.stop_jupyter_lab(server)


@contextlib.contextmanager
def chromium_with_devtools(c: Any, user_data_dir: Path) -> Iterator[int]:
    """Headless Chromium (the tests' flags, 1280 × 1000, offline by its resolver once
    Playwright's routes are gone) with a DevTools port; yields the port."""
    from cdp import devtools_port

    user_data_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [
            c.CHROMIUM,
            *c.CHROMIUM_ARGS,
            "--remote-debugging-port=0",
            f"--user-data-dir={user_data_dir}",
            "--window-size=1280,1000",
            "--force-device-scale-factor=1",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield devtools_port(user_data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def offline(context: Any) -> None:
    """Aborts every request of a Playwright browser context that leaves 127.0.0.1 (data:,
    blob: and file: stay allowed), as the browser tests do."""
    import urllib.parse

    local = load_harness().LOCAL_HOSTS

    def route(r: Any) -> None:
        u = urllib.parse.urlsplit(r.request.url)
        if u.scheme in ("data", "blob", "file") or (u.hostname or "") in local:
            r.continue_()
        else:
            r.abort("blockedbyclient")

    context.route("**/*", route)

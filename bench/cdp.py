"""A page driven over plain CDP (Chrome DevTools Protocol on a websocket), for timings.

Playwright enables Chrome's network tracking on every page it drives, which base64-encodes
each websocket frame on the page's main thread and ships it to Playwright: that doubled
cell run → first frame at 1M–10M points (../shared/notes/browser-and-toolchain-facts.md).
So the latency benchmarks let Playwright open JupyterLab (the tests' helpers), then
disconnect it and time with this client, which enables no domain but Runtime calls.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket  # websocket-client, installed with jupyter_server


class CDPError(RuntimeError):
    """A CDP command failed, or the page's JavaScript threw."""


def devtools_port(user_data_dir: Path, timeout: float = 30.0) -> int:
    """The port Chromium chose for ``--remote-debugging-port=0`` (its DevToolsActivePort file)."""
    f = user_data_dir / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if f.exists() and (text := f.read_text().split()):
            return int(text[0])
        time.sleep(0.05)
    raise TimeoutError(f"Chromium wrote no {f} within {timeout} s")


class PlainPage:
    """One page target of a Chromium started with ``--remote-debugging-port``."""

    def __init__(self, port: int, url_contains: str = "") -> None:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.load(r)
        pages = [t for t in targets if t["type"] == "page" and url_contains in t["url"]]
        if not pages:
            raise CDPError(f"no page target with {url_contains!r} in its URL: {targets}")
        # Big results (memory numbers are small; JSON answers of evaluate stay small too).
        self._ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=600, suppress_origin=True
        )
        self._ids = itertools.count(1)

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Runs one CDP command and returns its result (events that arrive meanwhile are
        dropped: no domain that sends them is enabled)."""
        i = next(self._ids)
        self._ws.send(json.dumps({"id": i, "method": method, "params": params or {}}))
        while True:
            msg = json.loads(self._ws.recv())
            if msg.get("id") == i:
                if "error" in msg:
                    raise CDPError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))

    def evaluate(self, fn: str, arg: Any = None) -> Any:
        """Calls the JavaScript function ``fn`` with ``arg`` (JSON) in the page, awaits it and
        returns its value, like Playwright's ``page.evaluate``."""
        expr = f"({fn})({json.dumps(arg)})" if fn.lstrip().startswith(("(", "async")) else fn
        res = self.send(
            "Runtime.evaluate",
            {"expression": expr, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in res:
            d = res["exceptionDetails"]
            raise CDPError(d.get("exception", {}).get("description") or d.get("text"))
        return res["result"].get("value")

    def close(self) -> None:
        self._ws.close()

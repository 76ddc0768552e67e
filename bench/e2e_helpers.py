"""The browser tests' helpers (tests/e2e/harness: Chromium flags, JupyterLab servers, kernel
clients), loaded for the benchmarks so both drive Chromium and Jupyter the same way."""

from __future__ import annotations

import contextlib
import importlib
import json
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


@dataclass
class LabSession:
    pw: Any  # Playwright, for more browsers
    page: Any
    ui: Any  # harness.LabUI
    server: Any  # harness.LabServer
    base: Path  # a temporary folder for the run (the server's files, its log)


@contextlib.contextmanager
def lab_session(name: str, nb: dict[str, Any]) -> Iterator[LabSession]:
    """JupyterLab on 127.0.0.1 and headless Chromium (offline, 1280 × 1000) with ``nb`` open as
    bench.ipynb, all its cells run; stops both at the end."""
    from playwright.sync_api import sync_playwright

    c = load_harness()
    base = Path(tempfile.mkdtemp(prefix=f"heatwidget-{name}-"))
    server = c.start_jupyter_lab(base, base / "lab.log")
    (server.root_dir / "bench.ipynb").write_text(json.dumps(nb))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=c.CHROMIUM, headless=True, args=c.CHROMIUM_ARGS
            )
            try:
                context = browser.new_context(
                    viewport={"width": 1280, "height": 1000}, device_scale_factor=1
                )
                offline(context)
                page = context.new_page()
                web = c.Web(page=page, context=context, name=name, artifacts=base)
                ui = c.LabUI(web, server)
                ui.open_notebook("bench.ipynb")
                yield LabSession(pw, page, ui, server, base)
            finally:
                browser.close()
    finally:
        c.stop_jupyter_lab(server)


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

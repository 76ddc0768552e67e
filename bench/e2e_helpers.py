"""The browser tests' helpers (tests/e2e/conftest.py: Chromium flags, JupyterLab servers, kernel
clients), loaded for the benchmarks so both drive Chromium and Jupyter the same way."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def load_conftest() -> Any:
    """tests/e2e/conftest.py as the module ``e2e_conftest`` (loaded once)."""
    if "e2e_conftest" in sys.modules:
        return sys.modules["e2e_conftest"]
    spec = importlib.util.spec_from_file_location(
        "e2e_conftest", ROOT / "tests" / "e2e" / "conftest.py"
    )
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["e2e_conftest"] = mod
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def notebook(source: str) -> dict[str, Any]:
    """An nbformat 4 notebook (as JSON data) of one code cell, for the Python 3 kernel."""
    return {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "a1",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def offline(context: Any) -> None:
    """Aborts every request of a Playwright browser context that leaves 127.0.0.1 (data:,
    blob: and file: stay allowed), as the browser tests do."""
    import urllib.parse

    local = load_conftest().LOCAL_HOSTS

    def route(r: Any) -> None:
        u = urllib.parse.urlsplit(r.request.url)
        if u.scheme in ("data", "blob", "file") or (u.hostname or "") in local:
            r.continue_()
        else:
            r.abort("blockedbyclient")

    context.route("**/*", route)

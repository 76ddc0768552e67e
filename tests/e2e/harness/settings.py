"""Where things are and how long the browser tests wait for them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

if TYPE_CHECKING:
    pass

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = Path(os.environ.get("HEATWIDGET_ARTIFACTS", ROOT / "test-artifacts"))
CHROMIUM = os.environ.get("HEATWIDGET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
E2E_REQUIRED = os.environ.get("HEATWIDGET_E2E_REQUIRED") == "1" or bool(os.environ.get("CI"))
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
VIEWPORT = {"width": 1280, "height": 1000}

SERVER_START_TIMEOUT = 90.0  # s, server process to /api/status (3-4 s unloaded)
LAB_LOAD_TIMEOUT = 90.0  # s, page load to `jupyterapp.restored`
NOTEBOOK_RUN_TIMEOUT = 150.0  # s, kernel start + all cells
WIDGET_READY_TIMEOUT = 90.0  # s, after the cells ran: first frame with data
SYNC_TIMEOUT = 30.0  # s, a trait change to reach the other side

T = TypeVar("T")


def require_e2e_tools() -> None:
    problems = []
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        problems.append("playwright is not installed (pip install playwright)")
    if not problems:
        return
    msg = "; ".join(problems)
    if E2E_REQUIRED:
        pytest.fail(f"e2e tools missing: {msg}", pytrace=False)
    pytest.skip(f"e2e tools missing: {msg}")

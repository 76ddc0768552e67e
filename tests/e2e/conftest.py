"""The fixtures of heatwidget's browser tests; the helpers they hand out are in ``harness/``.

What is here (see docs/architecture.md for the DOM and traits these rely on):

- ``jupyter_lab`` (session): a real JupyterLab on 127.0.0.1, a free port and a token, its cwd a
  temp dir holding a copy of ``notebooks/``, every Jupyter dir temporary; log in test-artifacts/.
- ``voila_server`` (factory): ``voila nb.ipynb`` on a free port, for the Voila tests.
- ``browser`` (session): Debian's Chromium driven by Playwright's sync API.
- ``web`` / ``page``: a fresh context whose every request outside 127.0.0.1 is aborted and
  recorded (``web.blocked``), console errors and page errors collected, and a screenshot saved as
  test-artifacts/<test name>.png at teardown.
- ``lab_ui``: drives JupyterLab through ``window.jupyterapp`` (open a notebook, run all, wait for
  ``div.heatwidget[data-ready="1"]``) and returns a ``HeatView`` (canvas pixels, map handle).
- ``kernel_client``: a factory of ``KernelClient`` attached to a notebook's kernel
  (``execute(code)``, ``eval(expr)`` returning the Python value).

Every wait polls a condition with a bound and fails with a message saying what it waited for.
Set HEATWIDGET_E2E_REQUIRED=1 (scripts/test does) to fail instead of skip when Chromium or
Playwright is missing.

Tests import helpers from ``harness`` (never from this file or another test file).
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from harness.browser import TILE_URL, BlockedRequest, Web
from harness.kernel import KernelClient
from harness.lab import LabUI
from harness.processes import (
    free_port,
    kill_processes_mentioning,
    port_open,
    safe_name,
    spawn_logged,
    stop_process,
    tail,
    wait_until,
)
from harness.servers import LabServer, VoilaServer, jupyter_env, start_jupyter_lab, stop_jupyter_lab
from harness.settings import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCAL_HOSTS,
    ROOT,
    SERVER_START_TIMEOUT,
    VIEWPORT,
    require_e2e_tools,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, Route


# --------------------------------------------------------------------------------------------
# pytest hooks


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: browser end-to-end test (JupyterLab/Voila + Chromium); select with -m e2e"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    browser = []
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            browser.append(item)
    # Browser tests run after the unit tests: Playwright's sync API leaves its asyncio loop
    # set as the thread's running loop for the rest of the session, and unit tests of code
    # that looks for a running loop (widget/serving.py answers off the kernel's loop when
    # there is one) must not find Playwright's.
    last = set(browser)
    items[:] = [item for item in items if item not in last] + browser


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def jupyter_lab(
    tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path
) -> Iterator[LabServer]:
    """A real JupyterLab for the whole session (see the module docstring)."""
    require_e2e_tools()
    base = tmp_path_factory.mktemp("jupyterlab")
    log_path = artifacts_dir / "jupyterlab.log"
    log_path.write_text("")
    server = start_jupyter_lab(base, log_path)
    try:
        yield server
    finally:
        stop_jupyter_lab(server)


@pytest.fixture
def voila_server(
    tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., VoilaServer]]:
    """Factory: ``voila_server(notebook, extra_args=())`` serves a copy of `notebook` (a path,
    absolute or relative to the repo root) and returns once its port answers."""
    require_e2e_tools()
    started: list[tuple[VoilaServer, Path]] = []

    def start(notebook: str | Path, extra_args: tuple[str, ...] = ()) -> VoilaServer:
        src = Path(notebook)
        src = src if src.is_absolute() else ROOT / src
        base = tmp_path_factory.mktemp("voila")
        workdir = base / "root"
        shutil.copytree(src.parent, workdir)
        conn_dir = base / "connections"
        conn_dir.mkdir()
        env = jupyter_env(base)
        port = free_port()
        log_path = artifacts_dir / f"voila-{safe_name(request.node.name)}-{len(started)}.log"
        cmd = [
            sys.executable,
            "-m",
            "voila",
            src.name,
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            f"--Voila.connection_dir_root={conn_dir}",
            *extra_args,
        ]
        log_path.unlink(missing_ok=True)
        proc = spawn_logged(cmd, workdir, env, log_path)
        server = VoilaServer(proc=proc, port=port, notebook=workdir / src.name, log_path=log_path)
        started.append((server, base))

        def up() -> bool:
            if proc.poll() is not None:
                raise RuntimeError(f"voila exited with {proc.returncode}")
            return port_open(port)

        wait_until(
            up, SERVER_START_TIMEOUT, f"Voila on port {port}", 0.2, diagnose=lambda: tail(log_path)
        )
        return server

    yield start
    for server, base in started:
        stop_process(server.proc)
        kill_processes_mentioning(f"{base}/")


# --------------------------------------------------------------------------------------------
# Chromium


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    require_e2e_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def web(browser: Browser, artifacts_dir: Path, request: pytest.FixtureRequest) -> Iterator[Web]:
    """A fresh context + page; only 127.0.0.1/localhost/data:/blob: reach the network."""
    context = browser.new_context(
        viewport=VIEWPORT,  # type: ignore[arg-type]
        device_scale_factor=1,
        service_workers="block",
        locale="en-US",
        timezone_id="UTC",
    )
    context.set_default_timeout(30_000)
    page = context.new_page()
    web = Web(
        page=page, context=context, name=safe_name(request.node.name), artifacts=artifacts_dir
    )

    def route(route: Route) -> None:
        url = route.request.url
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme in ("data", "blob") or (parsed.hostname or "") in LOCAL_HOSTS:
            route.continue_()
            return
        web.blocked.append(
            BlockedRequest(
                url=url,
                resource_type=route.request.resource_type,
                host=parsed.hostname or "",
                is_tile=bool(TILE_URL.search(parsed.path)),
            )
        )
        route.abort("blockedbyclient")

    context.route("**/*", route)
    page.on(
        "console",
        lambda msg: (
            web.console_errors.append(f"{msg.text} @ {msg.location.get('url', '')}")
            if msg.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda exc: web.page_errors.append(str(exc)))
    try:
        yield web
    finally:
        with contextlib.suppress(Exception):
            page.screenshot(path=str(artifacts_dir / f"{web.name}.png"), timeout=15_000)
        web.dump()
        context.close()


@pytest.fixture
def page(web: Web) -> Page:
    return web.page


@pytest.fixture
def lab_ui(web: Web, jupyter_lab: LabServer) -> LabUI:
    return LabUI(web, jupyter_lab)


@pytest.fixture
def kernel_client(jupyter_lab: LabServer) -> Iterator[Callable[[str], KernelClient]]:
    """Factory: ``kernel_client("notebooks/quickstart.ipynb")`` attaches to that notebook's
    kernel (kernel id from /api/sessions, connection file in JUPYTER_RUNTIME_DIR)."""
    clients: list[KernelClient] = []

    def connect(notebook_path: str) -> KernelClient:
        kernel_id = jupyter_lab.kernel_id_for(notebook_path)
        client = KernelClient(jupyter_lab.connection_file(kernel_id))
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()

"""The one fixture module of heatwidget's browser tests: servers, Chromium and helpers.

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
"""

from __future__ import annotations

import ast
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, Route

ROOT = Path(__file__).resolve().parents[2]
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


# --------------------------------------------------------------------------------------------
# pytest hooks


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: browser end-to-end test (JupyterLab/Voila + Chromium); select with -m e2e"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


# --------------------------------------------------------------------------------------------
# small utilities


def wait_until(
    condition: Callable[[], T | None],
    timeout: float,
    what: str,
    interval: float = 0.1,
    diagnose: Callable[[], str] | None = None,
) -> T:
    """Polls `condition` until it returns a truthy value, which it returns.

    Exceptions raised by `condition` count as "not yet"; the last one is quoted if time runs out.
    """
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    last_value: T | None = None
    while True:
        try:
            last_value = condition()
            if last_value:
                return last_value
        except Exception as exc:
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = (
                f"; last value {last_value!r}" if last_exc is None else f"; last error {last_exc!r}"
            )
            extra = ""
            if diagnose is not None:
                try:
                    extra = "\n" + diagnose()
                except Exception as exc:
                    extra = f"\n(diagnosis failed: {exc!r})"
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}{detail}{extra}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text[-lines:])


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:150] or "test"


def kill_processes_mentioning(marker: str) -> list[int]:
    """SIGKILLs this user's processes whose command line contains `marker` (a unique temp path
    of ours: kernels left behind by a server we started). Returns their pids."""
    killed = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            with contextlib.suppress(OSError):
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
    return killed


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if proc.poll() is None:
        proc.terminate()  # jupyter_server: SIGTERM = shut the kernels down and stop
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def spawn_logged(
    cmd: list[str], cwd: Path, env: dict[str, str], log_path: Path
) -> subprocess.Popen[bytes]:
    """Starts a server process in its own session (so it can be killed with its children),
    with no stdin and its output appended to `log_path` after the command line."""
    with log_path.open("ab") as log:
        log.write(f"\n$ {' '.join(cmd)}\n".encode())
        log.flush()
        return subprocess.Popen(
            cmd,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def jupyter_env(base: Path) -> dict[str, str]:
    """An environment whose Jupyter config, runtime, settings and workspaces are all under
    `base` (nothing of the user's profile is read)."""
    dirs = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": base / "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "lab-workspaces",
        "IPYTHONDIR": base / "ipython",
        # kernelspecs a test adds (data/kernels/<name>/kernel.json) are found at once
        "JUPYTER_DATA_DIR": base / "data",
    }
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({k: str(v) for k, v in dirs.items()})
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("JUPYTER_TOKEN", None)
    # The server's kernels run the interpreter running pytest (the venv with heatwidget).
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def write_lab_settings(settings_dir: Path) -> None:
    files = {
        # The news toast only goes away with the string "false" (facts note).
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        # Render every cell: no virtual scrolling that leaves outputs unmeasured.
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
        # Tests never save the (temp copy of the) notebook.
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    }
    for rel, value in files.items():
        path = settings_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))


def require_e2e_tools() -> None:
    problems = []
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
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


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# --------------------------------------------------------------------------------------------
# JupyterLab


@dataclass
class LabServer:
    proc: subprocess.Popen[bytes]
    port: int
    token: str
    root_dir: Path
    runtime_dir: Path
    base: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lab_url(self) -> str:
        return f"{self.url}/lab?token={self.token}"

    def api(self, path: str, method: str = "GET", body: Any = None, timeout: float = 10.0) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def kernel_id_for(self, notebook_path: str, timeout: float = 30.0) -> str:
        """The kernel of the session whose path is `notebook_path` (from /api/sessions)."""

        def find() -> str | None:
            for s in self.api("/api/sessions"):
                if s.get("path") == notebook_path and s.get("kernel"):
                    return str(s["kernel"]["id"])
            return None

        return wait_until(
            find,
            timeout,
            f"a session for {notebook_path} in /api/sessions",
            diagnose=lambda: json.dumps(self.api("/api/sessions"), indent=1),
        )

    def connection_file(self, kernel_id: str, timeout: float = 30.0) -> Path:
        path = self.runtime_dir / f"kernel-{kernel_id}.json"
        wait_until(path.exists, timeout, f"the connection file {path}")
        return path

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)


def start_jupyter_lab(base: Path, log_path: Path, attempts: int = 3) -> LabServer:
    root_dir = base / "root"
    root_dir.mkdir(parents=True, exist_ok=True)
    if NOTEBOOKS.is_dir():
        shutil.copytree(NOTEBOOKS, root_dir / "notebooks", dirs_exist_ok=True)
    env = jupyter_env(base)
    write_lab_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    token = uuid.uuid4().hex
    last_error = ""
    for _ in range(attempts):
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root_dir}",
            "--ServerApp.allow_root=True",
            "--ServerApp.open_browser=False",
            "--LabApp.expose_app_in_browser=True",
            "--JupyterNotebookApp.expose_app_in_browser=True",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
        ]
        proc = spawn_logged(cmd, root_dir, env, log_path)
        server = LabServer(
            proc=proc,
            port=port,
            token=token,
            root_dir=root_dir,
            runtime_dir=Path(env["JUPYTER_RUNTIME_DIR"]),
            base=base,
            log_path=log_path,
        )

        def ready(server: LabServer = server) -> bool:
            if server.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {server.proc.returncode}")
            status = server.api("/api/status", timeout=2.0)
            return isinstance(status, dict) and "started" in status

        try:
            wait_until(ready, SERVER_START_TIMEOUT, f"JupyterLab /api/status on port {port}", 0.2)
            return server
        except TimeoutError as exc:
            last_error = str(exc)
            stop_process(proc)
            if "exited" not in last_error:  # a live server that never answered: do not retry
                break
    raise RuntimeError(f"JupyterLab did not start: {last_error}\n--- log tail:\n{tail(log_path)}")


def stop_jupyter_lab(server: LabServer) -> None:
    if server.proc.poll() is None:
        with contextlib.suppress(Exception):
            for k in server.api("/api/kernels", timeout=5):
                with contextlib.suppress(Exception):
                    server.api(f"/api/kernels/{k['id']}", method="DELETE", timeout=15)
        with contextlib.suppress(Exception):
            server.api("/api/shutdown", method="POST", timeout=5)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.proc.wait(10)
    stop_process(server.proc)
    strays = kill_processes_mentioning(f"{server.base}/")
    if strays:
        with server.log_path.open("a") as log:
            log.write(f"\n[conftest] killed leftover processes {strays}\n")


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


# --------------------------------------------------------------------------------------------
# Voila


@dataclass
class VoilaServer:
    proc: subprocess.Popen[bytes]
    port: int
    notebook: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


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


TILE_URL = re.compile(r"/\d+/\d+/\d+(@2x)?\.(png|jpe?g|webp|pbf|mvt)(\?|$)", re.I)


@dataclass
class BlockedRequest:
    url: str
    resource_type: str
    host: str
    is_tile: bool


@dataclass
class Web:
    """A browser page with what the tests check about it."""

    page: Page
    context: BrowserContext
    name: str
    artifacts: Path
    blocked: list[BlockedRequest] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def blocked_tiles(self) -> list[BlockedRequest]:
        return [r for r in self.blocked if r.is_tile]

    def blocked_other(self, allowed_hosts: tuple[str, ...] = ()) -> list[BlockedRequest]:
        """Aborted requests that were neither tiles nor to one of `allowed_hosts` (suffixes)."""
        return [
            r
            for r in self.blocked
            if not r.is_tile
            and not any(r.host == h or r.host.endswith("." + h) for h in allowed_hosts)
        ]

    def screenshot(self, label: str) -> Path:
        path = self.artifacts / f"{self.name}-{safe_name(label)}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def dump(self) -> None:
        info = {
            "blocked": [r.__dict__ for r in self.blocked],
            "console_errors": self.console_errors,
            "page_errors": self.page_errors,
        }
        (self.artifacts / f"{self.name}.json").write_text(json.dumps(info, indent=1))


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


# --------------------------------------------------------------------------------------------
# The widget in a page


_PIXELS_JS = """
(el) => {
  const c = el.querySelector('canvas.heatwidget-heat');
  if (!c) throw new Error('no canvas.heatwidget-heat in div.heatwidget');
  const ctx = c.getContext('2d');
  if (!ctx) throw new Error('canvas.heatwidget-heat has no 2d context');
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let s = '';
  for (let i = 0; i < d.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, d.subarray(i, Math.min(d.length, i + 0x8000)));
  }
  return {w: c.width, h: c.height, b64: btoa(s)};
}
"""

_VIEW_JS = """
(el) => {
  const map = el.__heatwidget && el.__heatwidget.map;
  if (!map) throw new Error('div.heatwidget has no __heatwidget.map');
  const c = map.getCenter(), b = map.getBounds(), s = map.getSize();
  const origin = map.containerPointToLayerPoint([0, 0]).add(map.getPixelOrigin());
  return {
    zoom: map.getZoom(), center: [c.lat, c.lng], size: [s.x, s.y], origin: [origin.x, origin.y],
    bounds: [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()],
  };
}
"""

# container point(s) -> canvas pixel(s), through the elements' on-screen rectangles
_CONTAINER_TO_CANVAS_JS = """
(el, pts) => {
  const map = el.__heatwidget.map;
  const c = el.querySelector('canvas.heatwidget-heat');
  const mr = map.getContainer().getBoundingClientRect(), cr = c.getBoundingClientRect();
  return pts.map(([x, y]) => [
    (mr.left + x - cr.left) * c.width / cr.width, (mr.top + y - cr.top) * c.height / cr.height,
  ]);
}
"""

_LATLON_TO_CONTAINER_JS = """
(el, pts) => {
  const map = el.__heatwidget.map;
  return pts.map(([lat, lon]) => {
    const p = map.latLngToContainerPoint([lat, lon]);
    return [p.x, p.y];
  });
}
"""


class HeatView:
    """One rendered ``div.heatwidget``: its attributes, map and canvas pixels."""

    def __init__(self, page: Page, root: Locator) -> None:
        self.page = page
        self.root = root

    def attr(self, name: str) -> str | None:
        return self.root.get_attribute(name)

    @property
    def point_count(self) -> int:
        return int(self.attr("data-point-count") or -1)

    @property
    def frames(self) -> int:
        return int(self.attr("data-frames") or 0)

    def view(self) -> dict[str, Any]:
        """zoom, center (lat, lon), size (w, h), origin (world px of the container's top-left),
        bounds (south, west, north, east) of the Leaflet map."""
        return dict(self.root.evaluate(_VIEW_JS))

    def pixels(self) -> np.ndarray:
        """The heat canvas as an (h, w, 4) uint8 RGBA array."""
        res = self.root.evaluate(_PIXELS_JS)
        data = np.frombuffer(base64.b64decode(res["b64"]), dtype=np.uint8)
        return data.reshape(int(res["h"]), int(res["w"]), 4)

    def container_to_canvas(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out = self.root.evaluate(_CONTAINER_TO_CANVAS_JS, [list(p) for p in points])
        return [(float(x), float(y)) for x, y in out]

    def latlon_to_container(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out = self.root.evaluate(_LATLON_TO_CONTAINER_JS, [list(p) for p in points])
        return [(float(x), float(y)) for x, y in out]

    def latlon_to_canvas(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return self.container_to_canvas(self.latlon_to_container(points))

    def wait_stable(self, timeout: float = SYNC_TIMEOUT, quiet: float = 0.5) -> np.ndarray:
        """Waits until no frame was drawn and the pixels did not change for `quiet` seconds;
        returns the pixels."""
        state: dict[str, Any] = {}

        def settled() -> tuple[np.ndarray] | None:
            frames, px = self.frames, self.pixels()
            now = time.monotonic()
            if (
                state.get("frames") != frames
                or state.get("px") is None
                or state["px"].shape != px.shape
                or not np.array_equal(state["px"], px)
            ):
                state.update(frames=frames, px=px, since=now)
                return None
            return (px,) if now - state["since"] >= quiet else None

        return wait_until(settled, timeout, "the heat canvas to stop changing", 0.1)[0]

    def wait_pixels_change(
        self, before: np.ndarray, timeout: float = SYNC_TIMEOUT, min_changed: int = 100
    ) -> np.ndarray:
        """Waits until at least `min_changed` pixels differ from `before`, then until the canvas
        is stable again; returns the new pixels."""

        def changed() -> bool:
            px = self.pixels()
            if px.shape != before.shape:
                return True
            return int(np.any(px != before, axis=2).sum()) >= min_changed

        wait_until(changed, timeout, f"at least {min_changed} heat canvas pixels to change")
        return self.wait_stable(timeout)


@dataclass
class OpenNotebook:
    path: str
    kernel_id: str
    ui: LabUI

    def errors(self) -> list[dict[str, Any]]:
        return self.ui.notebook_errors()

    def widget(self, index: int = 0, timeout: float = WIDGET_READY_TIMEOUT) -> HeatView:
        return self.ui.wait_for_widget(index, timeout)


_OPEN_NOTEBOOK_JS = """
async ([path, timeoutMs]) => {
  const within = (p, what) => Promise.race([p, new Promise((_, reject) =>
    setTimeout(() => reject(new Error('timed out: ' + what)), timeoutMs))]);
  const app = window.jupyterapp;
  await within(app.restored, 'jupyterapp.restored');
  const panel = await within(app.commands.execute('docmanager:open', {path, factory: 'Notebook'}),
                             'docmanager:open ' + path);
  await within(panel.context.ready, 'context.ready');
  await within(panel.sessionContext.ready, 'sessionContext.ready');
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel) throw new Error('no kernel for ' + path + ' (metadata.kernelspec missing?)');
  await within(kernel.info, 'kernel.info');
  app.shell.activateById(panel.id);
  window.__hwTestPanel = panel;
  return kernel.id;
}
"""

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


_CURRENT_NOTEBOOK_JS = """
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
  await within(panel.context.ready, 'context.ready');
  await within(panel.sessionContext.ready, 'sessionContext.ready');
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel) throw new Error('no kernel for ' + path + ' (metadata.kernelspec missing?)');
  await within(kernel.info, 'kernel.info');
  window.__hwTestPanel = panel;
  return kernel.id;
}
"""


# Runs in a kernel with numpy and pyarrow (the probes of test_lab.py and test_voila.py build on
# it): the points of `m._points` (docs/architecture.md) in container pixels of the browser's view
# (zoom, world-pixel origin of the container's top-left), with their weights and the world's
# width in pixels, as Leaflet projects them.
PROJECT_CODE = r"""
def _hw_project(m, zoom, ox, oy):
    import numpy as np
    import pyarrow as pa
    t = pa.ipc.open_stream(m._points).read_all()
    lon = t.column("lon").to_numpy().astype(np.float64)
    lat = np.clip(t.column("lat").to_numpy().astype(np.float64), -85.0511287798, 85.0511287798)
    wt = (t.column("weight").to_numpy().astype(np.float64) if "weight" in t.column_names
          else np.ones_like(lon))
    world = 256.0 * 2.0 ** zoom
    x = (lon / 360.0 + 0.5) * world - ox
    y = (0.5 - np.arctanh(np.sin(np.radians(lat))) / (2 * np.pi)) * world - oy
    return x, y, wt, world
"""


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


@pytest.fixture
def lab_ui(web: Web, jupyter_lab: LabServer) -> LabUI:
    return LabUI(web, jupyter_lab)


# --------------------------------------------------------------------------------------------
# Talking to a notebook's kernel


class KernelError(AssertionError):
    pass


class KernelClient:
    """A second client of a running kernel (jupyter_client.BlockingKernelClient).

    All zmq work happens on one private thread, away from Playwright's event loop.
    """

    def __init__(self, connection_file: Path, timeout: float = 120.0) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kernel-client")
        self._kc: Any = None
        self._pool.submit(self._connect, connection_file, timeout).result(timeout + 10)

    def _connect(self, connection_file: Path, timeout: float) -> None:
        from jupyter_client.blocking.client import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_file(str(connection_file))
        kc.start_channels()
        kc.wait_for_ready(timeout=timeout)
        self._kc = kc

    def _run(self, code: str, user_expressions: dict[str, str], timeout: float) -> dict[str, Any]:
        outputs: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                outputs.append(content["text"])
            elif kind == "error":
                outputs.append("\n".join(content.get("traceback", [])))

        reply = self._kc.execute_interactive(
            code,
            store_history=False,
            allow_stdin=False,
            user_expressions=user_expressions,
            timeout=timeout,
            output_hook=hook,
        )
        content = dict(reply["content"])
        content["_outputs"] = "".join(outputs)
        return content

    def execute(self, code: str, timeout: float = 60.0) -> str:
        """Runs `code` in the kernel; returns its printed output; raises KernelError on error."""
        content = self._pool.submit(self._run, code, {}, timeout).result(timeout + 10)
        if content.get("status") != "ok":
            raise KernelError(
                f"kernel error running {code!r}: {content.get('ename')}: {content.get('evalue')}\n"
                f"{content['_outputs'][-3000:]}"
            )
        return str(content["_outputs"])

    def eval(self, expr: str, timeout: float = 60.0) -> Any:
        """The value of the Python expression `expr` in the kernel (through JSON: tuples come
        back as lists, numpy values as Python ones)."""
        wrapped = (
            f"__import__('json').dumps(({expr}), default=lambda o: o.tolist() "
            "if hasattr(o, 'tolist') else (list(o) if isinstance(o, (tuple, set)) else str(o)))"
        )
        content = self._pool.submit(self._run, "", {"v": wrapped}, timeout).result(timeout + 10)
        result = content.get("user_expressions", {}).get("v", {})
        if content.get("status") != "ok" or result.get("status") != "ok":
            raise KernelError(
                f"kernel error evaluating {expr!r}: {result.get('ename')}: {result.get('evalue')}"
            )
        return json.loads(ast.literal_eval(result["data"]["text/plain"]))

    def wait_for(
        self, expr: str, predicate: Callable[[Any], bool], what: str, timeout: float = SYNC_TIMEOUT
    ) -> Any:
        """Polls `expr` in the kernel until `predicate(value)`; returns the value."""
        seen: list[Any] = []

        def check() -> tuple[Any] | None:
            value = self.eval(expr)
            seen.append(value)
            return (value,) if predicate(value) else None

        return wait_until(
            check, timeout, what, 0.25, diagnose=lambda: f"last {expr} = {seen[-1:]!r}"
        )[0]

    def close(self) -> None:
        if self._kc is not None:
            with contextlib.suppress(Exception):
                self._pool.submit(self._kc.stop_channels).result(10)
        self._pool.shutdown(wait=False)


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

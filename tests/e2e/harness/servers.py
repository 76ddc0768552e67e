"""A real JupyterLab (and Voila) on 127.0.0.1 with every Jupyter folder temporary."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

from .processes import (
    free_port,
    kill_processes_mentioning,
    spawn_logged,
    stop_process,
    tail,
    wait_until,
)
from .settings import NOTEBOOKS, SERVER_START_TIMEOUT


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
        # `reset`: a page starts from an empty workspace, not with the notebooks an earlier
        # test left open (the server keeps one workspace for the whole session)
        return f"{self.url}/lab?reset&token={self.token}"

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


@dataclass
class VoilaServer:
    proc: subprocess.Popen[bytes]
    port: int
    notebook: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

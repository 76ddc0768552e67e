"""``heatwidget demo``: copy the bundled demo notebook and serve it with Voilà or JupyterLab."""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["demo_command", "main"]

DEMO = Path(__file__).with_name("examples") / "demo.ipynb"
_EXTRA_HINT = 'pip install "heatwidget[demo]"'


def _free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError("no free TCP port")  # pragma: no cover


def demo_command(
    notebook: Path, *, lab: bool, port: int, open_browser: bool
) -> tuple[list[str], str]:
    """The server command line for ``notebook`` and the URL it will serve it at."""
    if lab:
        token = secrets.token_hex(16)
        argv = [
            sys.executable,
            "-m",
            "jupyterlab",
            f"--ServerApp.root_dir={notebook.parent}",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--ServerApp.allow_root=True")
        if not open_browser:
            argv.append("--no-browser")
        url = f"http://127.0.0.1:{port}/lab/tree/{notebook.name}?token={token}"
    else:
        argv = [
            sys.executable,
            "-m",
            "voila",
            str(notebook),
            f"--port={port}",
            # the port asked for or nothing: the URL printed must be the one served
            "--Voila.port_retries=0",
            "--Voila.ip=127.0.0.1",
            # Jupyter Notebook's own lab extension, loaded by Voila when notebook is installed,
            # fails to start in a dashboard (a module federation error in the console).
            "--VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension",
        ]
        if not open_browser:
            argv.append("--no-browser")
        url = f"http://127.0.0.1:{port}/"
    return argv, url


def _demo(args: argparse.Namespace) -> int:
    app = "jupyterlab" if args.lab else "voila"
    if importlib.util.find_spec(app) is None:
        name = "JupyterLab" if args.lab else "Voilà"
        print(f"heatwidget demo needs {name}: {_EXTRA_HINT}", file=sys.stderr)
        return 1
    workdir = Path(args.dir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    notebook = workdir / DEMO.name
    # The copy is the demo's, not the user's: refresh it so it matches this version.
    shutil.copyfile(DEMO, notebook)
    port = args.port if args.port is not None else _free_port(8888 if args.lab else 8866)
    argv, url = demo_command(notebook, lab=args.lab, port=port, open_browser=not args.no_browser)
    print(f"heatwidget demo: {notebook}")
    print(f"serving at {url}  (Ctrl+C to stop)", flush=True)
    return _serve(argv, workdir)


# How long the server gets to shut its kernel down and exit before it is killed.
_STOP_TIMEOUT = 20.0
# After Ctrl+C in a terminal the server got the SIGINT too; give it this long to stop by itself.
_SIGINT_GRACE = 5.0


class _Stop(Exception):
    """Raised by the SIGTERM/SIGHUP handler to leave the wait for the server."""


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def _stop_server(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Lets ``proc`` exit within ``grace`` s, then asks it to stop with SIGTERM (Voilà and
    jupyter_server shut their kernels down on it), then kills it."""
    deadline = time.monotonic() + grace
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _serve(argv: list[str], workdir: Path) -> int:
    """Runs the server until it exits or this process is told to stop (SIGINT, SIGTERM,
    SIGHUP); then stops the server cleanly so that no server or kernel is left behind."""
    stop_signals = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {sig: signal.signal(sig, _raise_stop) for sig in stop_signals}
    proc: subprocess.Popen[bytes] | None = None
    try:
        proc = subprocess.Popen(argv, cwd=workdir)
        return proc.wait()
    except (KeyboardInterrupt, _Stop) as exc:
        for sig in stop_signals:  # a second signal must not interrupt the shutdown
            signal.signal(sig, signal.SIG_IGN)
        if proc is not None:
            try:
                _stop_server(proc, _SIGINT_GRACE if isinstance(exc, KeyboardInterrupt) else 0.0)
            except KeyboardInterrupt:  # Ctrl+C again: no more waiting
                proc.kill()
                proc.wait()
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _parser() -> argparse.ArgumentParser:
    from .version import __version__

    parser = argparse.ArgumentParser(prog="heatwidget", description=__doc__)
    parser.add_argument("--version", action="version", version=f"heatwidget {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="run the demo dashboard (Voilà, or JupyterLab with --lab)",
        description="Copy the demo notebook into --dir and serve it with Voilà (default) or "
        "JupyterLab.",
    )
    demo.add_argument("--lab", action="store_true", help="open it in JupyterLab instead")
    demo.add_argument("--port", type=int, default=None, help="port (default: 8866/8888 or free)")
    demo.add_argument("--no-browser", action="store_true", help="do not open a browser")
    demo.add_argument(
        "--dir", default="heatwidget-demo", help="working directory (default: ./heatwidget-demo)"
    )
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``heatwidget`` command."""
    args = _parser().parse_args(argv)
    return int(args.run(args))

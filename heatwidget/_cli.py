"""``heatwidget demo``: copy the bundled demo notebook and serve it with Voilà or JupyterLab."""

from __future__ import annotations

import argparse
import importlib.util
import os
import secrets
import shutil
import socket
import subprocess
import sys
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
            "--Voila.ip=127.0.0.1",
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
    try:
        return subprocess.call(argv, cwd=workdir)
    except KeyboardInterrupt:
        return 0


def _parser() -> argparse.ArgumentParser:
    from . import __version__

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

"""m.to_png() on a kernel without subshells (ipykernel 6.29), in real JupyterLab + Chromium.

The kernel reads every browser message on its one shell thread, after the running cell, so
to_png() cannot wait for the view's picture there. It must say so and return the Python
rendering at once (not hang until its timeout), and snapshot() must still deliver the view's
picture after the cell. ipykernel 6 comes from `pip install --target` (scripts/test puts it in
.cache/ipykernel6; HEATWIDGET_IPYKERNEL6 names the folder) and is put first on PYTHONPATH by a
kernelspec of its own, so the kernel runs the venv's Python with ipykernel 6.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import KernelClient, LabServer, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "ipykernel6_e2e.ipynb"
KERNEL = "python3-ipykernel6"
SETUP = """\
import heatwidget
m = heatwidget.Heatmap(heatwidget.datasets.cities(100_000, seed=4), weight="mag", height=400)
m
"""


def ipykernel6_dir() -> Path:
    path = Path(os.environ.get("HEATWIDGET_IPYKERNEL6", ROOT / ".cache" / "ipykernel6"))
    if not (path / "ipykernel" / "__init__.py").is_file():
        message = (
            f"no ipykernel 6 at {path}: pip install --no-deps --target {path} ipykernel==6.29.5 "
            "(scripts/test does)"
        )
        if os.environ.get("HEATWIDGET_E2E_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def test_to_png_on_ipykernel6_falls_back_at_once(
    web: Web, lab_ui: LabUI, jupyter_lab: LabServer, kernel_client: Any, artifacts_dir: Path
) -> None:
    from conftest import write_notebook

    spec_dir = jupyter_lab.base / "data" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel 6)",
        "language": "python",
        "env": {"PYTHONPATH": str(ipykernel6_dir())},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    write_notebook(jupyter_lab.root_dir / NOTEBOOK, SETUP, kernel=KERNEL)

    nb = lab_ui.open_notebook(NOTEBOOK)
    hv = nb.widget()
    k: KernelClient = kernel_client(NOTEBOOK)
    assert nb.errors() == [], nb.errors()
    assert k.eval("__import__('ipykernel').__version__") == "6.29.5"
    k.wait_for("len(m._snapshots.live)", lambda n: n == 1, "the view to say hello")
    hv.wait_stable()

    # to_png(): no wait possible; a warning that says why, and the heat rendered in Python
    out = k.execute(
        "import time, warnings\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    t0 = time.perf_counter()\n"
        "    png = m.to_png(width=320, height=200)\n"
        "print(round(time.perf_counter() - t0, 3), png.info['source'])\n"
        "print(*[str(c.message) for c in caught])"
    )
    first, reason = out.split("\n", 1)
    seconds, source = first.split()
    assert source == "python" and float(seconds) < 5, out  # at once, not after the 10 s timeout
    assert "read on this very thread" in reason and "snapshot(" in reason, reason
    with pytest.raises(Exception, match="RuntimeError"):
        k.execute("m.to_png(view=True)")

    # snapshot(): the view's picture, once the cell that asked has ended
    t0 = time.monotonic()
    k.execute("f = m.snapshot()")
    k.wait_for("f.done()", bool, "the snapshot to arrive after the cell")
    info = k.eval("dict(f.info, error=repr(f.exception()))")
    w, h = hv.view()["size"]
    assert (info["error"], info["source"], info["width"], info["height"]) == ("None", "view", w, h)
    figures = {"to_png_fallback_s": float(seconds), "snapshot_s": time.monotonic() - t0}
    (artifacts_dir / "test_ipykernel6.json").write_text(json.dumps(figures, indent=1))
    assert not web.page_errors, web.page_errors

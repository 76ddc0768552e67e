"""m.to_png() on older ipykernels, in real JupyterLab + Chromium.

- **ipykernel 6.29** has no subshells: it reads every browser message on its one shell thread,
  after the running cell. With jupyter-ui-poll installed, to_png() reads them itself while it
  waits, and gets the view's picture, in "Run all" too. Without it, to_png() must say so and
  return the Python rendering at once (not hang until its timeout); snapshot() must still
  deliver the view's picture after the cell.
- **ipykernel 7.3** has subshells but not 7.4's per-comm routing hook: JupyterLab's comm
  subshell handles the view's answer on its own thread, so to_png() gets the view's picture.
  JupyterLab does not wait for that subshell before sending, so a new view's hello may come on
  the main shell (it did in CI): to_png() then pings the views to learn where they are read now.

Each version comes from `pip install --no-deps --target` (scripts/test puts them in
.cache/ipykernel<version>; HEATWIDGET_OLD_IPYKERNELS names that parent folder) and is put first
on PYTHONPATH by a kernelspec of its own, so the kernel runs the venv's Python with it.
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
    from harness import KernelClient, LabServer, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
SETUP = """\
import heatwidget
m = heatwidget.Heatmap(heatwidget.datasets.cities(100_000, seed=4), weight="mag", height=400)
m
"""
TO_PNG = """\
import time, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    t0 = time.perf_counter()
    png = m.to_png(width=320, height=200)
print(round(time.perf_counter() - t0, 3), png.info['source'])
print(*[str(c.message) for c in caught])
"""


def ipykernel_dir(version: str) -> Path:
    parent = Path(os.environ.get("HEATWIDGET_OLD_IPYKERNELS", ROOT / ".cache"))
    path = parent / f"ipykernel{version}"
    if not (path / "ipykernel" / "__init__.py").is_file():
        message = (
            f"no ipykernel {version} at {path}: pip install --no-deps --target {path} "
            f"'ipykernel=={version}.*' (scripts/test does)"
        )
        if os.environ.get("HEATWIDGET_E2E_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def add_kernelspec(server: LabServer, name: str, pythonpath: Path) -> None:
    spec_dir = server.base / "data" / "kernels" / name
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": name,
        "language": "python",
        "env": {"PYTHONPATH": str(pythonpath)},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))


# "Run all": the cell after the map's asks for its picture before the view exists
RUN_ALL = """\
png0 = m.to_png()
"""


@pytest.mark.parametrize(
    ("version", "run_all"),
    [("6.29", True), ("7.3", False)],
    ids=["ipykernel6.29", "ipykernel7.3"],
)
def test_to_png_on_an_older_ipykernel(
    version: str,
    run_all: bool,
    web: Web,
    lab_ui: LabUI,
    jupyter_lab: LabServer,
    kernel_client: Any,
    artifacts_dir: Path,
) -> None:
    from harness import write_notebook

    kernel = f"python3-ipykernel{version}"
    notebook = f"ipykernel{version}_e2e.ipynb"
    add_kernelspec(jupyter_lab, kernel, ipykernel_dir(version))
    write_notebook(
        jupyter_lab.root_dir / notebook, SETUP, *([RUN_ALL] if run_all else []), kernel=kernel
    )

    nb = lab_ui.open_notebook(notebook)
    hv = nb.widget()
    k: KernelClient = kernel_client(notebook)
    assert nb.errors() == [], nb.errors()
    assert k.eval("__import__('ipykernel').__version__").startswith(version + ".")
    k.wait_for("len(m._snapshots.live)", lambda n: n == 1, "the view to say hello")
    hv.wait_stable()

    figures: dict[str, Any] = {}
    # "Run all" is checked on 6.29, where the cell reads every message itself. On 7.3 the new
    # view's first messages may come on the main shell, unseen until the cell ends (_cell_wait).
    if run_all:
        info0 = k.eval("png0.info")
        figures["run_all"] = info0
        assert info0["source"] == "view", info0

    first, said = k.execute(TO_PNG).split("\n", 1)
    seconds, source = first.split()
    figures.update(to_png_s=float(seconds), source=source)
    assert source == "view", (first, said)
    assert float(seconds) < 5, first
    assert "apply to the Python rendering" in said, said  # width/height were not used
    w, h = hv.view()["size"]
    assert k.eval("[png.info['width'], png.info['height']]") == [w, h]
    if version == "7.3":
        # As when the hello came before JupyterLab's comm subshell had started: the last
        # message known was read on the main shell. A ping finds out where they are read now.
        k.execute("import threading; m._reply_route._reader = threading.main_thread().ident")
        first, said = k.execute(TO_PNG).split("\n", 1)
        seconds, source = first.split()
        figures["to_png_after_a_hello_on_the_main_shell_s"] = float(seconds)
        assert source == "view", (first, said)
        assert float(seconds) < 1, first  # the ping's answer, not its 1 s timeout
    else:
        # without jupyter-ui-poll: said so, and the Python rendering at once (not the timeout)
        k.execute("import sys; sys.modules['jupyter_ui_poll'] = None")
        first, said = k.execute(TO_PNG).split("\n", 1)
        seconds, source = first.split()
        figures["to_png_without_jupyter_ui_poll_s"] = float(seconds)
        assert source == "python" and float(seconds) < 2, (first, said)
        assert "read on this very thread" in said and "jupyter-ui-poll" in said, said
        with pytest.raises(Exception, match="RuntimeError"):
            k.execute("m.to_png(view=True)")

    # await m.to_png_async(): never hangs; the view's picture where the kernel reads widget
    # messages while a cell awaits, else a warning and the Python rendering after `timeout`
    first, said = k.execute(
        "import time as _t, warnings as _w\n"
        "_t0 = _t.perf_counter()\n"
        "with _w.catch_warnings(record=True) as _said:\n"
        "    _w.simplefilter('always')\n"
        "    png_a = await m.to_png_async(timeout=3)\n"
        "print(round(_t.perf_counter() - _t0, 3), png_a.info['source'])\n"
        "print([str(x.message) for x in _said])"
    ).split("\n", 1)
    seconds, source = first.split()
    figures.update(to_png_async_s=float(seconds), to_png_async_source=source)
    assert float(seconds) < 6, first
    if version == "7.3":  # the answer is read on JupyterLab's comm subshell
        assert source == "view", (first, said)
    else:  # ipykernel 6 reads nothing while a cell awaits: the timeout, said
        assert source == "python" and "did not come" in said, (first, said)
    # snapshot(): the view's picture, at the latest once the cell that asked has ended
    t0 = time.monotonic()
    k.execute("f = m.snapshot()")
    k.wait_for("f.done()", bool, "the snapshot to arrive")
    info = k.eval("dict(f.info, error=repr(f.exception()))")
    w, h = hv.view()["size"]
    assert (info["error"], info["source"], info["width"], info["height"]) == ("None", "view", w, h)
    figures["snapshot_s"] = round(time.monotonic() - t0, 3)
    (artifacts_dir / f"test_ipykernel{version}.json").write_text(json.dumps(figures, indent=1))
    assert not web.page_errors, web.page_errors

"""heatwidget in an OFFLINE JupyterLite site: the Pyodide kernel, no numpy, no pyarrow.

scripts/build-lite builds the site (JupyterLite, Pyodide 314 from npm, the kernel's startup
wheels, and piplite wheels: heatwidget's own from this tree, anywidget, ipywidgets, arro3) with
the notebook below in its file browser; `python -m http.server` serves it on 127.0.0.1 and every
other request is aborted. In the browser the notebook runs `%pip install heatwidget`, makes
clustered points with `random` and shows `heatwidget.Heatmap(lat=..., lon=...)`: heatwidget's
own Python runs in Pyodide on its pure-Python path (lists, arro3). The canvas must have heat
where the data is dense and none where no point is near, as in test_lab.py; the kernel's probe
reads the widget's own `_points` bytes (heatwidget.points.wire.decode, with arro3) to say where
those places are.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from harness import (
    ROOT,
    LabUI,
    free_port,
    port_open,
    stop_process,
    tail,
    wait_until,
)

if TYPE_CHECKING:
    from harness import HeatView, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

NOTEBOOK = "heatmap_lite.ipynb"
CLUSTERS = [
    (48.8566, 2.3522, 0.25, 3000),
    (51.5074, -0.1278, 0.2, 2000),
    (45.764, 4.8357, 0.15, 800),
]

CELLS = [
    "%pip install heatwidget",
    # the data, made in the kernel with the standard library only
    "import random\n"
    "random.seed(7)\n"
    f"CLUSTERS = {CLUSTERS!r}\n"
    "lat, lon = [], []\n"
    "for clat, clon, sigma, n in CLUSTERS:\n"
    "    lat += [random.gauss(clat, sigma) for _ in range(n)]\n"
    "    lon += [random.gauss(clon, sigma * 1.5) for _ in range(n)]\n"
    "import heatwidget\n"
    "m = heatwidget.Heatmap(lat=lat, lon=lon, radius=12)\n"
    "m",
    # what the kernel has, and what to_png() says there
    "import importlib.util, json, sys\n"
    "try:\n"
    "    m.to_png()\n"
    "    png_error = None\n"
    "except ImportError as e:\n"
    "    png_error = str(e)\n"
    "print('HW_INFO ' + json.dumps({\n"
    "    'platform': sys.platform,\n"
    "    'numpy': importlib.util.find_spec('numpy') is not None,\n"
    "    'pyarrow': importlib.util.find_spec('pyarrow') is not None,\n"
    "    'store': type(m._stream.store).__module__,\n"
    "    'point_count': m.point_count,\n"
    "    'png_error': png_error,\n"
    "}))",
]

# Runs in the Pyodide kernel (no numpy): the probe of test_lab.py in pure Python. From the wire
# bytes of `m._points` and the browser's view, the centre (container pixels) of the `block`-px
# block with the most points, and of the block nearest the middle with no point within `margin`.
PROBE_CODE = r"""
def _hw_lite_probe(m, zoom, ox, oy, w, h, block=16, margin=64):
    import math
    from heatwidget.points.wire import decode
    t = decode(m._points)  # lon/lat back from the wire's fixed point (arro3, pure Python)
    lon, lat = list(t.column("lon")), list(t.column("lat"))
    world = 256.0 * 2.0 ** zoom
    mb = int(math.ceil(margin / block))
    gw, gh = int(math.ceil(w / block)), int(math.ceil(h / block))
    ew, eh = gw + 2 * mb, gh + 2 * mb
    count = [0] * (ew * eh)
    for lo, la in zip(lon, lat):
        la = max(-85.0511287798, min(85.0511287798, la))
        x = (lo / 360.0 + 0.5) * world - ox
        y = (0.5 - math.atanh(math.sin(math.radians(la))) / (2 * math.pi)) * world - oy
        for k in (-1, 0, 1):
            bx = int(math.floor((x + k * world) / block)) + mb
            by = int(math.floor(y / block)) + mb
            if 0 <= bx < ew and 0 <= by < eh:
                count[by * ew + bx] += 1
    best, dense = 0, None
    for by in range(1, gh - 1):
        for bx in range(1, gw - 1):
            c = count[(by + mb) * ew + bx + mb]
            if c > best:
                best, dense = c, [(bx + 0.5) * block, (by + 0.5) * block, c]
    cands = sorted(((by + 0.5 - gh / 2) ** 2 + (bx + 0.5 - gw / 2) ** 2, bx, by)
                   for by in range(1, gh - 1) for bx in range(1, gw - 1))
    empty = None
    for _, bx, by in cands:
        if not any(count[yy * ew + xx] for yy in range(by, by + 2 * mb + 1)
                   for xx in range(bx, bx + 2 * mb + 1)):
            empty = [(bx + 0.5) * block, (by + 0.5) * block]
            break
    return {"dense": dense, "empty": empty, "rows": len(lon)}
"""

# Runs code in the notebook's kernel through JupyterLite's kernel connection; returns the
# status and the printed output.
_KERNEL_EXEC_JS = """
async ([code, timeoutMs]) => {
  const kernel = window.__hwTestPanel.sessionContext.session.kernel;
  const future = kernel.requestExecute({code, silent: false, store_history: false});
  let out = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += msg.content.ename + ': ' + msg.content.evalue;
  };
  const reply = await Promise.race([future.done, new Promise((_, reject) =>
    setTimeout(() => reject(new Error('kernel execute timed out')), timeoutMs))]);
  return {status: reply.content.status, out, ename: reply.content.ename,
          evalue: reply.content.evalue};
}
"""

_OUTPUTS_JS = """
() => {
  const cells = window.__hwTestPanel.content.model.cells, out = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type === 'code') out.push({cell: i, outputs: c.toJSON().outputs || []});
  }
  return out;
}
"""


class LiteServer:
    """What conftest's LabUI needs of a server: the Lab URL and a log."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path

    def lab_url(self) -> str:
        return f"{self.url}/lab/index.html"

    def log_tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)


def write_notebook(path: Path) -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{i}",
                "metadata": {},
                "outputs": [],
                "source": src,
            }
            for i, src in enumerate(CELLS)
        ],
        "metadata": {
            "kernelspec": {
                "display_name": "Python (Pyodide)",
                "language": "python",
                "name": "python",
            },
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1))


@pytest.fixture(scope="module")
def lite_site(tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path) -> Path:
    """The offline site, built by scripts/build-lite (downloads cached in .cache/lite/)."""
    base = tmp_path_factory.mktemp("jupyterlite")
    contents = base / "contents"
    contents.mkdir()
    write_notebook(contents / NOTEBOOK)
    site = base / "site"
    log_path = artifacts_dir / "build-lite.log"
    t = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "build-lite"),
                str(site),
                "--contents",
                str(contents / NOTEBOOK),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=900,
            check=False,
        )
    if proc.returncode != 0:
        pytest.fail(f"scripts/build-lite failed ({proc.returncode}):\n{tail(log_path, 60)}")
    with log_path.open("a") as log:
        log.write(f"[test] build-lite took {time.monotonic() - t:.1f} s\n")
    return site


@pytest.fixture(scope="module")
def lite_server(lite_site: Path, artifacts_dir: Path) -> Iterator[LiteServer]:
    """`python -m http.server` on 127.0.0.1 serving the site."""
    port = free_port()
    log_path = artifacts_dir / "jupyterlite-http.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                str(port),
                "--directory",
                str(lite_site),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: port_open(port), 30, f"http.server on port {port}", 0.1)
        yield LiteServer(port, log_path)
    finally:
        stop_process(proc)


def kernel_exec(ui: LabUI, code: str, timeout: float = 60.0) -> dict[str, Any]:
    res = dict(ui.page.evaluate(_KERNEL_EXEC_JS, [code, timeout * 1000]))
    if res.get("status") != "ok":
        raise AssertionError(f"kernel error: {res.get('ename')}: {res.get('evalue')}\n{res}")
    return res


def kernel_eval(ui: LabUI, expr: str) -> Any:
    """The value of `expr` in the kernel, printed as JSON (the Pyodide kernel does not answer
    user_expressions)."""
    res = kernel_exec(ui, f"print('HW_EVAL ' + __import__('json').dumps({expr}))")
    lines = [ln for ln in res["out"].splitlines() if ln.startswith("HW_EVAL ")]
    assert lines, f"evaluating {expr!r} printed nothing: {res}"
    return json.loads(lines[-1][len("HW_EVAL ") :])


def window(px: np.ndarray, x: float, y: float, r: int) -> np.ndarray:
    h, w = px.shape[:2]
    xi, yi = int(x), int(y)
    assert 0 <= xi < w and 0 <= yi < h, f"({x:.0f},{y:.0f}) is outside the {w}x{h} canvas"
    return px[max(0, yi - r) : yi + r + 1, max(0, xi - r) : xi + r + 1]


def test_heatmap_in_offline_jupyterlite(
    web: Web, lite_server: LiteServer, artifacts_dir: Path
) -> None:
    t0 = time.monotonic()
    ui = LabUI(web, lite_server)  # type: ignore[arg-type]
    nb = ui.open_notebook(NOTEBOOK)
    t_ran = time.monotonic() - t0
    hv: HeatView = nb.widget()
    t_ready = time.monotonic() - t0

    # -- what ran: Pyodide, without numpy and pyarrow, heatwidget's pure-Python path ---------
    outputs = web.page.evaluate(_OUTPUTS_JS)
    texts = [
        "".join(o.get("text", "")) if isinstance(o.get("text"), list) else str(o.get("text", ""))
        for cell in outputs
        for o in cell["outputs"]
        if o.get("output_type") == "stream"
    ]
    errors = [o for cell in outputs for o in cell["outputs"] if o.get("output_type") == "error"]
    assert not errors, f"notebook errors: {errors}"
    info_lines = [ln for t in texts for ln in t.splitlines() if ln.startswith("HW_INFO ")]
    assert info_lines, f"no HW_INFO line in the outputs: {texts}"
    info = json.loads(info_lines[-1][len("HW_INFO ") :])
    assert info["platform"] == "emscripten", info
    assert not info["numpy"] and not info["pyarrow"], f"numpy/pyarrow in the kernel: {info}"
    assert info["store"] == "heatwidget.points.store", info
    n_points = sum(c[3] for c in CLUSTERS)
    assert info["point_count"] == n_points, info
    png_error = str(info["png_error"])
    assert "Pyodide" in png_error and "m.snapshot(" in png_error, (
        f"to_png() in Pyodide should say it is not available there, and what is: {png_error!r}"
    )
    assert hv.point_count == n_points, f"data-point-count={hv.point_count}, want {n_points}"

    # -- heat where the data is dense, none where no point is near (as test_lab.py) ------------
    kernel_exec(ui, PROBE_CODE)
    px = hv.wait_stable()
    view = hv.view()
    radius = 12.0
    margin = max(4 * radius, 48.0)
    (ox, oy), (w, h) = view["origin"], view["size"]
    found = kernel_eval(
        ui, f"_hw_lite_probe(m, {view['zoom']!r}, {ox!r}, {oy!r}, {w!r}, {h!r}, 16, {margin!r})"
    )
    assert found["rows"] == n_points, found
    assert found["dense"] is not None, f"no data inside the view {view}: {found}"
    dense_x, dense_y, _ = found["dense"]
    ((cx, cy),) = hv.container_to_canvas([(dense_x, dense_y)])
    alpha = px[..., 3]
    lit = alpha[alpha > 0]
    assert lit.size, "the heat canvas is empty"
    dense_alpha = int(window(px, cx, cy, 4)[..., 3].max())
    assert dense_alpha > 0 and dense_alpha >= np.percentile(lit, 50), (
        f"densest block at canvas ({cx:.0f},{cy:.0f}) has alpha {dense_alpha}; median lit alpha "
        f"{np.percentile(lit, 50)}: {found}"
    )
    assert found["empty"] is not None, f"no empty place in the view to check: {view}"
    ((ex, ey),) = hv.container_to_canvas([tuple(found["empty"])])
    empty_alpha = int(window(px, ex, ey, 2)[..., 3].max())
    assert empty_alpha == 0, f"heat (alpha {empty_alpha}) at ({ex:.0f},{ey:.0f}), far from data"
    # each cluster centre is lit
    for (clat, clon, _s, _n), (x, y) in zip(
        CLUSTERS, hv.latlon_to_canvas([(c[0], c[1]) for c in CLUSTERS]), strict=True
    ):
        assert int(window(px, x, y, 3)[..., 3].max()) > 0, f"no heat at cluster ({clat}, {clon})"
    web.screenshot("jupyterlite")

    # -- the browser's own picture: snapshot() asks the view, the Future resolves after the cell
    kernel_exec(ui, "f = m.snapshot()")
    wait_until(lambda: kernel_eval(ui, "f.done()"), 30, "the snapshot Future to resolve", 0.25)
    snap = kernel_eval(
        ui,
        "dict(f.info, error=repr(f.exception()), png=f.result()[:8] == b'\\x89PNG\\r\\n\\x1a\\n'"
        " if f.exception() is None else False)",
    )
    w, h = view["size"]
    assert snap["error"] == "None" and snap["png"], snap
    assert (snap["source"], snap["width"], snap["height"]) == ("view", w, h), snap

    # -- the network: only tiles were asked of the outside world -------------------------------
    others = web.blocked_other()
    assert not others, f"requests outside 127.0.0.1 (not tiles): {[r.url for r in others]}"
    # JupyterLite raises one uncaught rejection with no reason ("undefined") in this setup (the
    # web fixture blocks service workers; source not pinned down): anything else is a failure.
    page_errors = [e for e in web.page_errors if e != "undefined"]
    assert not page_errors, f"uncaught page errors: {page_errors}"
    summary = {
        "run_all_s": round(t_ran, 1),
        "ready_s": round(t_ready, 1),
        "test_s": round(time.monotonic() - t0, 1),
        "info": info,
        "probe": found,
        "snapshot": snap,
        "tiles_blocked": sorted({r.host for r in web.blocked_tiles}),
        "tiles_blocked_count": len(web.blocked_tiles),
        "console_errors": web.console_errors[-20:],
        "page_errors": web.page_errors,
    }
    with contextlib.suppress(OSError):
        (artifacts_dir / "test_jupyterlite-summary.json").write_text(json.dumps(summary, indent=1))

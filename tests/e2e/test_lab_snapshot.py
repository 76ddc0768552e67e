"""m.to_png() and m.snapshot() in real JupyterLab + Chromium: the view composes what it shows
(outlines, tiles, heat with its opacity, legend, attribution) and sends the PNG back in chunks
of at most 1 MiB. to_png() waits for it inside the cell (JupyterLab's comm subshells let
ipykernel read the answer while the cell waits); snapshot() returns a Future. A tall, wide map
takes several chunks and arrives intact. With the front end's comm subshells turned off, the
answer still reaches the waiting cell (through heatwidget's helper subshell).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from harness.pictures import LAND, SEA, heat_matches, load_png

if TYPE_CHECKING:
    from harness import HeatView, KernelClient, LabServer, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

NOTEBOOK = "snapshot_e2e.ipynb"

# quickstart-like: 200,000 weighted points around world cities, default basemap (offline here:
# every tile request is aborted, so the outlines show).
SETUP = """\
import heatwidget
df = heatwidget.datasets.cities(200_000, seed=1)
m = heatwidget.Heatmap(df, lat="lat", lon="lon", weight="mag", height=500, legend_title="mag")
m
"""

# the next cell of "Run all": the view of the map is still being made when it runs
RUN_ALL_PNG = """\
import time
t0 = time.perf_counter()
png0 = m.to_png('runall.png')
t0 = time.perf_counter() - t0
"""

# "Run all" with the map inside a layout: only the layout is displayed, not the map itself
LAYOUT_NOTEBOOK = "snapshot_layout_e2e.ipynb"
LAYOUT_SETUP = """\
import heatwidget, ipywidgets
m = heatwidget.Heatmap(heatwidget.datasets.cities(50_000, seed=2), weight="mag", height=300)
ipywidgets.VBox([ipywidgets.HTML("<b>a map in a layout</b>"), ipywidgets.HBox([m])])
"""

_LEGEND_BOX_JS = """
(el) => {
  const map = el.__heatwidget.map, box = map.getContainer().getBoundingClientRect();
  const rect = (sel) => {
    const r = el.querySelector(sel).getBoundingClientRect();
    return [r.left - box.left, r.top - box.top, r.width, r.height];
  };
  return {legend: rect('.heatwidget-legend'), bar: rect('.heatwidget-legend-bar'),
          labels: rect('.heatwidget-legend-labels')};
}
"""


# keeps the page's main thread busy 14 ms of every frame, so it has no idle time
_NEVER_IDLE_JS = """
() => {
  window.__hwBusy = true;
  const spin = () => {
    if (!window.__hwBusy) return;
    const t = performance.now();
    while (performance.now() - t < 14);
    requestAnimationFrame(spin);
  };
  requestAnimationFrame(spin);
}
"""

# every tile image is loaded and fully opaque (Leaflet fades tiles in over 0.2 s)
_TILES_FADED_IN_JS = """
(el) => [...el.querySelectorAll('img.leaflet-tile')].every(
  (t) => t.classList.contains('leaflet-tile-loaded') && getComputedStyle(t).opacity === '1')
"""

# every CORS-less tile failed (Leaflet shows the transparent error tile instead), or so many
# did that the view gave that basemap up
_NOCORS_TILES_FAILED_JS = """
(el, origin) => {
  if ((el.dataset.unreachableTiles || '').startsWith(origin)) return true;
  const tiles = [...el.querySelectorAll('img.leaflet-tile')];
  return tiles.length > 3 && tiles.every((t) => t.src.startsWith('data:'));
}
"""


@contextlib.contextmanager
def tile_server_without_cors(body: bytes) -> Iterator[str]:
    """A tile server on another origin (127.0.0.1, another port) that sends no CORS headers.
    (Playwright's route.fulfill() adds them by itself, so it cannot stand in for one.)"""

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_notebook(root: Path) -> None:
    from harness import write_notebook as write

    write(root / NOTEBOOK, SETUP, RUN_ALL_PNG)


def take(
    k: KernelClient, name: str, path: str, timeout: float = 60.0
) -> tuple[dict[str, Any], float]:
    """``name = m.snapshot(path)`` in one execution, then polls until the Future is done (the
    kernel reads the view's chunks once that execution has ended). Returns (info, seconds)."""
    from harness import wait_until

    t0 = time.monotonic()
    k.execute(f"{name} = m.snapshot({path!r})")
    wait_until(lambda: k.eval(f"{name}.done()"), timeout, f"{name} to resolve", 0.05)
    seconds = time.monotonic() - t0
    err = k.eval(f"repr({name}.exception())")
    assert err == "None", err
    return k.eval(f"{name}.info"), seconds


def solid_png(w: int, h: int, rgb: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (w, h), rgb).save(out, format="PNG")
    return out.getvalue()


def test_snapshot_in_lab(
    web: Web, lab_ui: LabUI, jupyter_lab: LabServer, kernel_client: Any, artifacts_dir: Path
) -> None:
    write_notebook(jupyter_lab.root_dir)
    nb = lab_ui.open_notebook(NOTEBOOK)
    hv: HeatView = nb.widget()
    from harness import wait_until

    k: KernelClient = kernel_client(NOTEBOOK)
    assert nb.errors() == [], nb.errors()
    k.wait_for("len(m._snapshots.live)", lambda n: n == 1, "the view to say hello")
    k.wait_for("m.bounds", lambda b: b is not None, "the view to write m.bounds back")
    heat = hv.wait_stable()
    figures: dict[str, Any] = {}

    # -- 0. "Run all": to_png() in the cell after the map's waits for its view to appear -------
    info0 = k.eval("png0.info")
    figures["run_all_to_png_s"] = round(k.eval("t0"), 3)
    assert info0["source"] == "view", info0
    n0, err0 = heat_matches(load_png(jupyter_lab.root_dir / "runall.png"), heat, 0.8)
    assert n0 > 200 and err0 <= 6, ("the first picture must show the drawn heat", n0, err0)

    # -- 1. to_png() waits, inside the cell, for the picture the view shows ---------------------
    # (JupyterLab sends widget messages on a comm subshell; ipykernel reads them on its thread)
    t0 = time.monotonic()
    out = k.execute(
        "import time as _t\n"
        "_t0 = _t.perf_counter()\n"
        "png = m.to_png('snap.png')\n"
        "print(round(_t.perf_counter() - _t0, 3), png.info['source'])"
    )
    figures["to_png_in_cell_s"] = float(out.split()[0])
    figures["to_png_round_trip_s"] = round(time.monotonic() - t0, 3)
    assert out.split()[1] == "view", out
    info = k.eval("png.info")
    figures["snapshot"] = info
    png_path = jupyter_lab.root_dir / "snap.png"
    snap = load_png(png_path)
    (artifacts_dir / "test_snapshot-snap.png").write_bytes(png_path.read_bytes())
    assert k.eval("len(png) == len(open('snap.png', 'rb').read())")
    # await m.to_png_async(): public API only, the answer read while the cell awaits
    out_a = k.execute(
        "_t0 = _t.perf_counter()\n"
        "png_a = await m.to_png_async('snap_async.png', timeout=20)\n"
        "print(round(_t.perf_counter() - _t0, 3), png_a.info['source'])"
    )
    figures["to_png_async_s"] = float(out_a.split()[0])
    assert out_a.split()[1] == "view", out_a
    assert (jupyter_lab.root_dir / "snap_async.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert k.eval(
        "(png_a.info['width'], png_a.info['height']) == (png.info['width'], png.info['height'])"
    )
    # snapshot() gives the same picture (a Future, read once the kernel has read the answer)
    info_f, seconds = take(k, "f", "snap_f.png")
    figures["snapshot_future_s"] = round(seconds, 3)
    assert (jupyter_lab.root_dir / "snap_f.png").read_bytes() == png_path.read_bytes()
    assert info_f["source"] == "view"
    view = hv.view()
    w, h = view["size"]
    assert snap.shape[:2] == (h, w) == heat.shape[:2], (snap.shape, view["size"])
    assert (info["width"], info["height"]) == (w, h)
    assert info["source"] == "view" and info["chunks"] == 1
    assert info["tiles"] == "none"  # offline: every tile request was aborted
    assert (snap[..., 3] == 255).all()  # opaque: the sea/land is under everything
    n, err = heat_matches(snap, heat, 0.8)
    figures["heat_pixels_compared"], figures["heat_median_error"] = n, err
    assert n > 200, "too few opaque heat pixels to compare"
    assert err <= 6, f"the snapshot's heat differs from the canvas (median error {err})"
    # the offline outlines are there: both the sea's and the land's colours appear
    flat = snap[..., :3].reshape(-1, 3)
    for name, c in (("sea", SEA), ("land", LAND)):
        share = float((np.abs(flat.astype(int) - c).max(axis=1) <= 2).mean())
        figures[f"{name}_share"] = round(share, 3)
        assert share > 0.02, f"no {name} in the snapshot ({share})"
    # the legend: its box is light, its bar colourful, its labels have dark text
    boxes = hv.root.evaluate(_LEGEND_BOX_JS)
    lx, ly, lw, lh = (round(v) for v in boxes["legend"])
    legend = snap[ly : ly + lh, lx : lx + lw, :3].astype(int)
    assert legend.size and legend.mean() > 150, "the legend box is missing"
    bx, by, bw, bh = (round(v) for v in boxes["bar"])
    bar_row = snap[by + bh // 2, bx + 2 : bx + bw - 2, :3]
    assert len({tuple(p) for p in bar_row}) > 40, "the legend's colour bar is missing"
    tx, ty, tw, th = (round(v) for v in boxes["labels"])
    labels = snap[ty : ty + th, tx : tx + tw, :3].astype(int).sum(axis=2)
    assert (labels < 250).sum() > 15, "the legend's labels are missing"
    # inferno's top colour at the bar's right end
    assert np.abs(bar_row[-1].astype(int) - (252, 255, 164)).max() < 30, bar_row[-1]

    # -- 3. tiles from another origin: drawn when it allows CORS, never a tainted canvas -------
    tile = solid_png(256, 256, (200, 30, 30))
    web.page.route(
        "https://tiles.example/**",
        lambda route: route.fulfill(
            status=200,
            body=tile,
            headers={"Content-Type": "image/png", "Access-Control-Allow-Origin": "*"},
        ),
    )
    k.execute("m.basemap = 'https://tiles.example/{z}/{x}/{y}.png'")
    wait_until(
        lambda: hv.root.locator("img.leaflet-tile-loaded[src^='https://tiles']").count() > 3,
        30,
        "tiles from the other origin to load",
    )
    wait_until(
        lambda: hv.root.evaluate(_TILES_FADED_IN_JS), 10, "Leaflet to fade the tiles in", 0.05
    )
    info3, _ = take(k, "f3", "tiles.png")
    figures["tiles_snapshot"] = info3
    assert info3["tiles"] == "drawn" and info3["tile_count"] > 3, info3
    tiled = load_png(jupyter_lab.root_dir / "tiles.png")
    no_heat = hv.pixels()[..., 3] == 0
    no_heat[int(h * 0.7) :, int(w * 0.6) :] = False  # legend, attribution
    red = np.abs(tiled[..., :3][no_heat].astype(int) - (200, 30, 30)).max(axis=1) <= 3
    assert red.mean() > 0.9, f"only {red.mean():.0%} of heat-free pixels show the tile"
    with tile_server_without_cors(tile) as origin:
        k.execute(f"m.basemap = '{origin}/{{z}}/{{x}}/{{y}}.png'")
        wait_until(
            lambda: hv.root.evaluate(_NOCORS_TILES_FAILED_JS, origin),
            30,
            "the CORS-less tiles to fail",
            0.05,
        )
        info4, _ = take(k, "f4", "nocors.png")
    figures["nocors_snapshot"] = info4
    assert info4["tiles"] == "none", info4  # a CORS-less tile never loads: nothing to taint
    web.console_errors.clear()  # the CORS-less tiles' load errors
    k.execute("m.basemap = None")

    # -- 4. a big map: several chunks, intact -------------------------------------------------
    web.page.set_viewport_size({"width": 2400, "height": 1000})
    # 2M points scattered over the world at radius 0: speckles that PNG cannot compress much,
    # so the PNG is several MiB (more than 10 MiB would have broken one unchunked message)
    k.execute(
        "import numpy as np\n"
        "r = np.random.default_rng(0)\n"
        "n = 2_000_000\n"
        "m.set_data(lat=r.uniform(-80, 80, n), lon=r.uniform(-180, 180, n), weight=r.random(n))\n"
        "m.radius = 0\n"
        "m.height = 1500\n"
    )
    wait_until(lambda: hv.view()["size"][1] == 1500, 30, "the map to be 1500 px high")
    big_heat = hv.wait_pixels_change(heat)
    out2 = k.execute(
        "_t0 = _t.perf_counter()\n"
        "png2 = m.to_png('big.png', timeout=120)\n"
        "print(round(_t.perf_counter() - _t0, 3))",
        timeout=180,
    )
    figures["big_to_png_s"] = float(out2)
    info2 = k.eval("png2.info")
    assert info2["source"] == "view", info2
    figures["big_snapshot"] = info2
    big_path = jupyter_lab.root_dir / "big.png"
    big = load_png(big_path)
    w2, h2 = hv.view()["size"]
    assert big.shape[:2] == (h2, w2) == (1500, w2)
    assert info2["chunks"] >= 2, f"a {info2['bytes']}-byte PNG in {info2['chunks']} chunk(s)"
    assert info2["bytes"] == big_path.stat().st_size
    assert k.eval("__import__('hashlib').sha256(png2).hexdigest()") == (
        hashlib.sha256(big_path.read_bytes()).hexdigest()
    )
    n2, err2 = heat_matches(big, big_heat, 0.8)
    figures["big_heat_median_error"] = err2
    assert n2 > 200 and err2 <= 6, (n2, err2)

    # -- 5. a front end that sends widget messages on the main shell (JupyterLab's "Kernel comms
    # over subshells" disabled, as Voila 0.5 does): the answer goes to heatwidget's helper subshell
    def toggle_subshells(mode: str, height: int) -> None:
        before = k.eval("m.bounds")
        web.page.evaluate(f"window.jupyterapp.serviceManager.kernels.commsOverSubshells = {mode!r}")
        k.execute(f"m.height = {height}")  # the view writes m.bounds back: a message sent
        k.wait_for("m.bounds", lambda b: b != before, "the view to write m.bounds back")

    toggle_subshells("disabled", 1400)
    assert k.eval("m._reply_route._front_subshell") is None  # the view now uses the main shell
    out5 = k.execute(
        "_t0 = _t.perf_counter()\n"
        "png5 = m.to_png(timeout=60)\n"
        "print(png5.info['source'], png5.info['height'], round(_t.perf_counter() - _t0, 3))"
    )
    source5, height5, seconds5 = out5.split()
    figures["to_png_without_comm_subshells_s"] = float(seconds5)
    assert (source5, height5) == ("view", "1400"), out5
    toggle_subshells("perCommTarget", 1300)
    assert k.eval("m.to_png().info['height']") == 1300

    # -- 6. a map that is not visible cannot be pictured: a warning, and the Python rendering --
    hv.root.evaluate("el => (el.style.display = 'none')")
    out6 = k.execute(
        "import warnings as _w\n"
        "with _w.catch_warnings(record=True) as _caught:\n"
        "    _w.simplefilter('always')\n"
        "    png6 = m.to_png(width=64, height=48)\n"
        "print(png6.info['source'], *[str(c.message) for c in _caught])"
    )
    assert out6.startswith("python") and "not visible" in out6, out6
    hv.root.evaluate("el => (el.style.display = '')")
    web.console_errors.clear()  # the view's "snapshot failed" report

    # -- 7. a page that is never idle: Chromium encodes canvas.toBlob's PNG in idle time, and
    # without any it waits up to 1 s + 5 s; the view must not make the cell wait for that ----
    web.page.evaluate(_NEVER_IDLE_JS)
    try:
        out7 = k.execute(
            "_t0 = _t.perf_counter()\n"
            "png7 = m.to_png()\n"
            "print(png7.info['source'], round(_t.perf_counter() - _t0, 3), png7.info['ms'])"
        )
    finally:
        web.page.evaluate("() => { window.__hwBusy = false; }")
    source7, seconds7, ms7 = out7.split()
    figures["to_png_never_idle_s"], figures["to_png_never_idle_view_ms"] = float(seconds7), ms7
    assert source7 == "view", out7
    # the view's own time (Chromium's idle-task fallback alone starts only after 1000 ms)
    assert int(ms7) < 1000 and float(seconds7) < 2.0, out7

    assert not web.page_errors, web.page_errors
    console = [e for e in web.console_errors if "ERR_BLOCKED_BY_CLIENT" not in e]
    assert not console, console
    (artifacts_dir / "test_snapshot-figures.json").write_text(json.dumps(figures, indent=1))
    print(json.dumps(figures, indent=1))


def test_run_all_with_the_map_in_a_layout(
    lab_ui: LabUI, jupyter_lab: LabServer, kernel_client: Any, artifacts_dir: Path
) -> None:
    """Only the VBox is displayed; to_png() in the next cell still waits for the map's view."""
    from harness import write_notebook as write

    write(jupyter_lab.root_dir / LAYOUT_NOTEBOOK, LAYOUT_SETUP, RUN_ALL_PNG)
    nb = lab_ui.open_notebook(LAYOUT_NOTEBOOK)
    hv: HeatView = nb.widget()
    k: KernelClient = kernel_client(LAYOUT_NOTEBOOK)
    assert nb.errors() == [], nb.errors()
    heat = hv.wait_stable()
    info = k.eval("png0.info")
    seconds = round(k.eval("t0"), 3)
    (artifacts_dir / "test_snapshot-layout.json").write_text(
        json.dumps({"run_all_to_png_s": seconds, "info": info}, indent=1)
    )
    assert info["source"] == "view", info
    w, h = hv.view()["size"]
    assert w > 600, f"the map must fill its row of the layout, not collapse ({w} px wide)"
    assert (info["width"], info["height"]) == (w, h) == (w, 300)
    n, err = heat_matches(load_png(jupyter_lab.root_dir / "runall.png"), heat, 0.8)
    assert n > 200 and err <= 6, ("the picture must show the drawn heat", n, err)

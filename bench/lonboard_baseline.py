"""A new map of N points, cell run -> first frame drawn, in one real JupyterLab: heatwidget's
Heatmap against lonboard's HeatmapLayer (deck.gl) on the same points, in the same session.

    python bench/lonboard_baseline.py [--n 1000000] [--reps 3]

Needs lonboard 0.16 (`pip install -e '.[bench]'`) and bench/node_modules (`npm ci` in bench/:
parquet-wasm 0.7.1). lonboard's page fetches parquet-wasm's .wasm from jsDelivr
(https://cdn.jsdelivr.net/npm/parquet-wasm@0.7.1/esm/parquet_wasm_bg.wasm, developmentseed/
lonboard#457); offline, this script answers that one URL with the same file from npm's
parquet-wasm package (a Playwright route), and aborts every other request that leaves
127.0.0.1. lonboard 0.17 asks for parquet-wasm 0.9.0, which npm does not have here: hence 0.16.

Per N, one JupyterLab on 127.0.0.1 and one headless Chromium (software WebGL: SwiftShader, as
every WebGL benchmark here), one notebook. Its first cell makes `cities(N)` (lon, lat, `mag`
as the weight) and, for lonboard, the GeoDataFrame it takes (untimed). Then, per rep, the
outputs are cleared and each library's cell is run in the page:

    t0 = time.time(); m = Heatmap(df, weight="mag", height=600); m                # heatwidget
    t0 = time.time(); m = Map(HeatmapLayer.from_geopandas(gdf, get_weight=...)); m  # lonboard

and the page records Date.now() when the new map first shows heat: for heatwidget when its
div carries data-point-count = N and data-frames >= 1; for lonboard when deck.gl's canvas,
copied into a 2D canvas once per animation frame (Chromium keeps the WebGL frame readable),
first has a non-transparent pixel. Both clocks are this machine's wall clock. Prints a table
of medians (min-max) and lonboard's ratio to heatwidget.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from e2e_helpers import load_harness, notebook  # noqa: E402

WASM = HERE / "node_modules" / "parquet-wasm" / "esm" / "parquet_wasm_bg.wasm"
CDN_WASM = "https://cdn.jsdelivr.net/npm/parquet-wasm@0.7.1/esm/parquet_wasm_bg.wasm"

PREP = """\
import time
import geopandas as gpd
import lonboard
from heatwidget import Heatmap
from heatwidget.datasets import cities
df = cities({n}, seed=0)
gdf = gpd.GeoDataFrame({{"mag": df["mag"]}}, geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                       crs=4326)
"""
CELLS = {
    "heatwidget": 't0 = time.time()\nm = Heatmap(df, weight="mag", height=600)\nt1 = time.time()\nm',
    "lonboard": (
        "t0 = time.time()\n"
        'layer = lonboard.HeatmapLayer.from_geopandas(gdf, get_weight=gdf["mag"].to_numpy())\n'
        "m = lonboard.Map(layer, basemap=None, height=600)\nt1 = time.time()\nm"
    ),
}

# In the page: watch for the new map's first frame with heat (see the module docstring).
WATCH_JS = """
([kind, n]) => {
  for (const e of document.querySelectorAll('div.heatwidget, canvas#deckgl-overlay'))
    e.dataset.benchOld = '1';
  const st = window.__first = {kind, at: null};
  const probe = document.createElement('canvas');
  probe.width = 160; probe.height = 120;
  const ctx = probe.getContext('2d', {willReadFrequently: true});
  const look = () => {
    if (st.at !== null) return;
    if (kind === 'heatwidget') {
      const root = document.querySelector('div.heatwidget:not([data-bench-old])');
      if (root && root.dataset.pointCount === String(n) && Number(root.dataset.frames) >= 1)
        st.at = Date.now();
    } else {
      const c = document.querySelector('canvas#deckgl-overlay:not([data-bench-old])');
      if (c && c.width > 0) {
        ctx.clearRect(0, 0, 160, 120);
        ctx.drawImage(c, 0, 0, 160, 120);
        const d = ctx.getImageData(0, 0, 160, 120).data;
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) { st.at = Date.now(); break; }
      }
    }
    if (st.at === null) requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
  return true;
}
"""

RUN_CELL_JS = """
async (index) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await app.commands.execute('notebook:clear-all-cell-outputs');
  panel.content.activeCellIndex = index;
  await app.commands.execute('notebook:run-cell');
  return true;
}
"""


def route_offline(context: Any, local_hosts: set[str]) -> None:
    """lonboard's parquet-wasm from the local npm package; nothing else leaves 127.0.0.1."""
    wasm = WASM.read_bytes()

    def route(r: Any) -> None:
        url = r.request.url
        if url == CDN_WASM:
            headers = {"content-type": "application/wasm", "access-control-allow-origin": "*"}
            r.fulfill(status=200, body=wasm, headers=headers)
            return
        u = urllib.parse.urlsplit(url)
        if u.scheme in ("data", "blob", "file") or (u.hostname or "") in local_hosts:
            r.continue_()
        else:
            r.abort("blockedbyclient")

    context.route("**/*", route)


def measure(n: int, reps: int, timeout: float) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    c = load_harness()
    base = Path(tempfile.mkdtemp(prefix="heatwidget-lonboard-"))
    server = c.start_jupyter_lab(base, base / "lab.log")
    nb = notebook(PREP.format(n=n), *CELLS.values())
    (server.root_dir / "bench.ipynb").write_text(json.dumps(nb))
    times: dict[str, list[float]] = {kind: [] for kind in CELLS}
    python: dict[str, list[float]] = {kind: [] for kind in CELLS}
    try:
        with sync_playwright() as pw:
            args = [*c.CHROMIUM_ARGS, "--enable-unsafe-swiftshader"]
            browser = pw.chromium.launch(executable_path=c.CHROMIUM, headless=True, args=args)
            context = browser.new_context(
                viewport={"width": 1280, "height": 1000}, device_scale_factor=1
            )
            route_offline(context, c.LOCAL_HOSTS)
            page = context.new_page()
            ui = c.LabUI(c.Web(page=page, context=context, name="lonboard", artifacts=base), server)
            ui.open_notebook("bench.ipynb", run_all=False)
            kc = c.KernelClient(server.connection_file(server.kernel_id_for("bench.ipynb")))
            kc.execute(PREP.format(n=n), timeout=600)
            for rep in range(reps):
                for index, kind in enumerate(CELLS, start=1):
                    page.evaluate(WATCH_JS, [kind, n])
                    page.evaluate(RUN_CELL_JS, index)
                    state = c.wait_until(
                        lambda: (lambda s: s if s and s["at"] else None)(
                            page.evaluate("window.__first")
                        ),
                        timeout,
                        f"{kind}'s first frame of {n:,} points",
                    )
                    t0, t1 = map(float, kc.execute("print(t0, t1)").split())
                    times[kind].append(state["at"] / 1000 - t0)
                    python[kind].append(t1 - t0)
                    print(f"N={n:,} rep {rep + 1} {kind}: {times[kind][-1]:.3f} s", file=sys.stderr)
            kc.close()
            browser.close()
    finally:
        c.stop_jupyter_lab(server)
    return {**times, **{f"{k} python": v for k, v in python.items()}}


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--n", default="1000000", help="comma-separated point counts (10M: ~8 min a lonboard rep)"
    )
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per first frame")
    args = ap.parse_args()
    if not WASM.exists():
        sys.exit(f"{WASM} is missing: run `npm ci` in bench/ (parquet-wasm 0.7.1)")
    try:
        import lonboard
    except ImportError:
        sys.exit("lonboard is not installed: pip install -e '.[bench]'")
    load_start = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    results = {int(n): measure(int(n), args.reps, args.timeout) for n in args.n.split(",")}
    load_end = " ".join(Path("/proc/loadavg").read_text().split()[:3])

    def cell(v: list[float]) -> str:
        return f"{statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})"

    print(
        f"\nA new map, cell run -> first frame with heat, s: median (min-max) of {args.reps} "
        f"reps; JupyterLab + headless Chromium (SwiftShader); lonboard {lonboard.__version__}; "
        f"load average {load_start} at start, {load_end} at end\n"
    )
    print("| points | | heatwidget | lonboard HeatmapLayer | lonboard / heatwidget |")
    print("|---:|---|---:|---:|---:|")
    for n, t in results.items():
        for what, suffix in (
            ("cell run -> first frame", ""),
            ("of which the Python call", " python"),
        ):
            ours, theirs = t[f"heatwidget{suffix}"], t[f"lonboard{suffix}"]
            ratio = statistics.median(theirs) / statistics.median(ours)
            print(f"| {n:,} | {what} | {cell(ours)} | {cell(theirs)} | {ratio:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A PNG of a displayed map, in a real JupyterLab: m.to_png() against a headless-browser
screenshot, the way folium (`Map._to_png`) and leafmap export a map.

    python bench/export.py [--n 1000000] [--reps 5] [--sizes 1280x600,2400x1500]

Starts JupyterLab on 127.0.0.1 with tests/e2e/harness's helpers and opens a notebook that
shows `Heatmap(cities(n, seed=0), weight="mag")` in headless Chromium (offline: the tiles are
aborted, the Natural Earth outlines show). For each map size (the page's viewport is set so the
map is that wide; `m.height` sets its height), each rep times, in the kernel, with
`time.perf_counter()`:

- **to_png(), live view**: `m.to_png()`, which asks the view for what it shows (tiles, outlines,
  heat, legend), composed in the browser and sent back in chunks; the cell waits for it.
- **to_png(view=False)**: the heat alone, rendered in Python by the same .wasm under wasmtime, at
  the same size (no basemap, no legend).
- **baseline, headless screenshot**: `m.save_html(path)`, then a new headless Chromium (launched
  per rep, as folium launches a Selenium browser per call) opens the file, waits until the map
  has drawn its heat (`data-ready`, where folium sleeps a fixed 3 s), and screenshots the map
  element at the same size. Timed from the `save_html` call to the PNG bytes, in this process.

Prints median (min-max) seconds and the baseline's ratio to the live to_png().
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from e2e_helpers import lab_session, load_harness, notebook, offline  # noqa: E402

SETUP = (
    "import time\n"
    "from heatwidget import Heatmap\n"
    "from heatwidget.datasets import cities\n"
    "m = Heatmap(cities({n}, seed=0), weight='mag', height=600, legend_title='mag')\n"
    "m"
)


def screenshot_baseline(pw: Any, c: Any, html: Path, size: tuple[int, int]) -> bytes:
    """folium's way: a new headless browser opens the saved HTML and screenshots the map."""
    w, h = size
    browser = pw.chromium.launch(executable_path=c.CHROMIUM, headless=True, args=c.CHROMIUM_ARGS)
    try:
        context = browser.new_context(viewport={"width": w + 40, "height": h + 200})
        offline(context)
        page = context.new_page()
        page.goto(html.as_uri())
        root = page.locator('div.heatwidget[data-ready="1"]')
        root.wait_for(state="attached", timeout=60_000)
        return bytes(root.screenshot())
    finally:
        browser.close()


def fit_map(c: Any, page: Any, hv: Any, w: int, h: int) -> None:
    """Widens the page until the map (as wide as the notebook) is ``w`` px wide, ``h`` high."""
    for _ in range(5):
        mw = hv.view()["size"][0]
        if mw == w:
            break
        vp = page.viewport_size
        page.set_viewport_size({"width": vp["width"] + w - mw, "height": h + 400})
        c.wait_until(lambda mw=mw: hv.view()["size"][0] != mw, 10, "the map to resize")
    c.wait_until(lambda: hv.view()["size"] == [w, h], 30, f"a {w}x{h} map")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sizes", default="1280x600,2400x1500")
    args = ap.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    c = load_harness()
    load_start = Path("/proc/loadavg").read_text().split()[:3]
    results: dict[tuple[int, int], dict[str, list[float]]] = {}
    info: dict[tuple[int, int], dict[str, Any]] = {}
    with lab_session("export-bench", notebook(SETUP.format(n=args.n))) as lab:
        hv = lab.ui.wait_for_widget()
        kc = c.KernelClient(lab.server.connection_file(lab.server.kernel_id_for("bench.ipynb")))
        kc.wait_for("len(m._snapshots.live)", lambda v: v == 1, "the view to say hello")
        for w, h in sizes:
            kc.execute(f"m.height = {h}")
            # the map takes the notebook's width: widen the page until the map is w wide
            fit_map(c, lab.page, hv, w, h)
            hv.wait_stable()
            times: dict[str, list[float]] = {"live": [], "python": [], "screenshot": []}
            html = lab.base / "map.html"
            for _ in range(args.reps):
                out = kc.execute(
                    "_t = time.perf_counter(); png = m.to_png()\n"
                    "print(time.perf_counter() - _t, png.info['source'], len(png))"
                )
                seconds, source, nbytes = out.split()
                assert source == "view", out
                times["live"].append(float(seconds))
                out = kc.execute(
                    f"_t = time.perf_counter(); p = m.to_png(view=False, width={w}, "
                    f"height={h})\nprint(time.perf_counter() - _t)"
                )
                times["python"].append(float(out))
                t0 = time.perf_counter()
                kc.execute(f"m.save_html({str(html)!r})")
                shot = screenshot_baseline(lab.pw, c, html, (w, h))
                times["screenshot"].append(time.perf_counter() - t0)
            results[(w, h)] = times
            info[(w, h)] = {"png_bytes": int(nbytes), "screenshot_bytes": len(shot)}
            print(f"{w}x{h}: " + json.dumps(times), file=sys.stderr)
        kc.close()
    load_end = Path("/proc/loadavg").read_text().split()[:3]

    def cell(v: list[float]) -> str:
        return f"{statistics.median(v):.3f} ({min(v):.3f}–{max(v):.3f})"

    print(
        f"\nJupyterLab + headless Chromium, {args.n:,} weighted points, {args.reps} reps, "
        f"load average {' '.join(load_start)} at start, {' '.join(load_end)} at end\n"
    )
    print(
        "| map size | to_png(), live view, s | to_png(view=False), s | "
        "save_html + headless screenshot, s | screenshot / to_png() |"
    )
    print("|---|---|---|---|---|")
    for (w, h), t in results.items():
        ratio = statistics.median(t["screenshot"]) / statistics.median(t["live"])
        print(
            f"| {w} × {h} ({info[(w, h)]['png_bytes'] / 1e6:.1f} MB PNG) | {cell(t['live'])} | "
            f"{cell(t['python'])} | {cell(t['screenshot'])} | {ratio:.0f}× |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

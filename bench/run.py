"""heatwidget's frame benchmark: our WebAssembly kernel vs leaflet.heat, plain JS and deck.gl.

One command:  python bench/run.py            (see bench/README.md; --help for options)

Installs bench/node_modules (npm ci) and builds the widget bundle if missing, bundles the bench
page (bench/page/main.ts + js/src/kernel.ts + heatwidget/static/heat.wasm), writes the data
(heatwidget.datasets.cities(N, seed)) as raw binary files served from 127.0.0.1, and times every
renderer in ONE headless Chromium session, in the page, with performance.now().
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

from e2e_helpers import load_harness

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
STATIC = ROOT / "heatwidget" / "static"
_E2E = load_harness()
CHROMIUM = _E2E.CHROMIUM
CHROMIUM_ARGS = [
    *_E2E.CHROMIUM_ARGS,
    # deck.gl needs WebGL2; without a GPU that is SwiftShader (software), which Chromium only
    # offers when asked.
    "--enable-unsafe-swiftshader",
    "--use-angle=swiftshader",
]
SEED = 0
SIZES = {"100k": 100_000, "1M": 1_000_000, "10M": 10_000_000}
RENDERERS = ("ours", "js", "leaflet.heat", "deck", "deck-cached")
FRAME_BUDGET_MS = 60_000  # a competitor slower than this per frame at 10M is skipped

# Targets from the performance issue.
TARGET_MS = {"1M": 8.0, "10M": 25.0}
TARGET_RATIO = {"leaflet.heat": 25.0, "js": 10.0, "deck repaint": 5.0}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def sh(cmd: list[str], cwd: Path) -> None:
    log(f"$ (cd {cwd.relative_to(ROOT) if cwd != ROOT else '.'} && {' '.join(cmd)})")
    subprocess.run(cmd, cwd=cwd, check=True)


def ensure_built(rebuild: bool) -> None:
    if not (HERE / "node_modules" / "leaflet.heat").exists():
        sh(["npm", "ci", "--no-audit", "--no-fund"], HERE)
    js = ROOT / "js"
    if rebuild or not (STATIC / "heat.wasm").exists() or not (STATIC / "widget.js").exists():
        if not (js / "node_modules" / "esbuild").exists():
            sh(["npm", "ci", "--no-audit", "--no-fund"], js)
        sh(["npm", "run", "build"], js)
    sh(["node", "build-page.mjs"], HERE)


def make_data(n: int) -> Path:
    """cities(n, SEED) as raw bytes: lon float64[n], lat float64[n], weight (mag) float32[n]."""
    path = CACHE / f"cities-{n}-seed{SEED}.bin"
    if path.exists() and path.stat().st_size == 20 * n:
        return path
    import numpy as np

    from heatwidget.datasets import cities

    t0 = time.perf_counter()
    df = cities(n, seed=SEED)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        f.write(np.ascontiguousarray(df["lon"], dtype=np.float64).tobytes())
        f.write(np.ascontiguousarray(df["lat"], dtype=np.float64).tobytes())
        f.write(np.ascontiguousarray(df["mag"], dtype=np.float32).tobytes())
    tmp.replace(path)
    log(f"  data {path.name}: {time.perf_counter() - t0:.1f} s")
    return path


PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>heatwidget bench</title>
<style>body{margin:0;background:#fff}</style></head>
<body><script type="module" src="/page.js"></script></body></html>"""


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):  # type: ignore[no-untyped-def]
        super().__init__(*a, directory=str(CACHE), **kw)

    def do_GET(self) -> None:
        if urllib.parse.urlparse(self.path).path in ("/", "/index.html"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)
            return
        super().do_GET()

    def end_headers(self) -> None:
        # cross-origin isolation: performance.now() at 5 us resolution instead of 100 us
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *a) -> None:  # type: ignore[no-untyped-def]
        pass


def skip_reason(name: str, size: str, results: dict) -> str | None:
    """Why a competitor is not run at this size: its median at the largest smaller size it ran,
    scaled by N, says a frame (for the cached repaint: the one aggregation it needs first, allowed
    up to 3 budgets) exceeds the budget."""
    if name == "ours":
        return None
    order = list(SIZES)
    for p in reversed([s for s in order[: order.index(size)] if s in results]):
        scale = SIZES[size] / SIZES[p]
        if name == "deck-cached":
            r = results[p].get("deck-cached", {})
            agg = r.get("extra", {}).get("aggregateMs")
            if agg is None and "times" in results[p].get("deck", {}):
                agg = statistics.median(results[p]["deck"]["times"])
            if agg is None:
                continue
            est = agg * scale
            if est > 3 * FRAME_BUDGET_MS:
                return f"needs one aggregation first, ~{est / 1000:.0f} s (its time at {p} × {scale:g})"
            return None
        r = results[p].get(name, {})
        if "times" not in r or "skipped" in r:
            continue
        est = statistics.median(r["times"]) * scale
        if est > FRAME_BUDGET_MS:
            return f"a frame would take ~{est / 1000:.0f} s (median at {p} × {scale:g}) > 60 s"
        return None
    return None


def stats(times: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "n": len(times),
    }


def fmt_ms(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def cell(s: dict | None) -> str:
    if not s:
        return "—"
    if "skipped" in s:
        return f"skipped ({s['skipped']})"
    return f"{fmt_ms(s['median'])} ({fmt_ms(s['min'])}–{fmt_ms(s['max'])})"


def ratio(ours: dict | None, other: dict | None) -> str:
    if not ours or not other or "skipped" in other or "skipped" in ours:
        return "—"
    return f"{other['median'] / ours['median']:.1f}×"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="100k,1M,10M", help="comma list of 100k,1M,10M")
    ap.add_argument(
        "--renderers", default=",".join(RENDERERS), help="comma list of " + ",".join(RENDERERS)
    )
    ap.add_argument(
        "--frames", type=int, default=10, help="timed frames for 100k/1M (10M: half, at least 5)"
    )
    ap.add_argument("--warm", type=int, default=2, help="warm-up frames per renderer")
    ap.add_argument("--rebuild", action="store_true", help="run `npm run build` in js/ first")
    ap.add_argument(
        "--view",
        default="world",
        choices=["world", "europe"],
        help="world: 20N 0E zoom 2 (all points in view); europe: 50N 10E zoom 5",
    )
    ap.add_argument("--json", type=Path, help="also write the raw results here")
    args = ap.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    renderers = [r.strip() for r in args.renderers.split(",") if r.strip()]

    load_start = loadavg()
    log(f"load average at start: {load_start}")
    CACHE.mkdir(exist_ok=True)
    ensure_built(args.rebuild)
    files = {s: make_data(SIZES[s]) for s in sizes}

    from heatwidget.traits.colormaps import resolve_lut

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"

    from playwright.sync_api import sync_playwright

    results: dict[str, dict] = {}
    blocked: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        version = browser.version
        page = browser.new_page(viewport={"width": 1100, "height": 850})

        def route(r) -> None:  # type: ignore[no-untyped-def]
            host = urllib.parse.urlparse(r.request.url).hostname or ""
            if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        page.wait_for_function("window.bench && window.bench.ready", timeout=30_000)
        page.evaluate("(b) => window.bench.setLut(b)", list(resolve_lut("inferno")))
        page.evaluate("(v) => window.bench.setView(v)", args.view)
        webgl = page.evaluate("window.bench.webgl()")
        log(f"Chromium {version}; WebGL renderer: {webgl or 'none'}")

        for size in sizes:
            n = SIZES[size]
            frames = args.frames if n < 10_000_000 else max(5, args.frames // 2)
            fetch_ms = page.evaluate(
                "([u, n]) => window.bench.load(u, n)", [f"{base}/{files[size].name}", n]
            )
            log(f"[{size}] fetched {20 * n / 1e6:.0f} MB in {fetch_ms:.0f} ms; load {loadavg()}")
            res: dict = {"fetch_ms": fetch_ms, "loadavg_before": loadavg()}
            if "ours" in renderers:
                res["check"] = page.evaluate("window.bench.check()")
                ck = res["check"]
                log(
                    f"[{size}] ours vs plain JS (exact maths), same view, density / frame max: max |diff| "
                    f"{ck['maxDiff']:.4f}, mean {ck['meanDiff']:.5f}, {ck['pixelsOver2']:.2%} of drawn pixels > 2/255 "
                    f"(max {ck['oursMax']:.4g} vs {ck['jsMax']:.4g})"
                )
            for name in renderers:
                why = skip_reason(name, size, results)
                if why:
                    res[name] = {"skipped": why}
                    log(f"[{size}] {name}: skipped ({why})")
                    continue
                t0 = time.perf_counter()
                try:
                    r = page.evaluate(
                        "([name, w, f, b]) => window.bench.run(name, w, f, b)",
                        [name, args.warm, frames, FRAME_BUDGET_MS],
                    )
                except Exception as exc:
                    msg = str(exc).splitlines()[0][:200]
                    res[name] = {"skipped": f"failed: {msg}"}
                    log(f"[{size}] {name}: FAILED {msg}")
                    continue
                if any(t > FRAME_BUDGET_MS for t in r["times"]):
                    r = {**r, "skipped": f"a frame took {max(r['times']) / 1000:.0f} s > 60 s"}
                res[name] = r
                cov = r.get("extra", {}).get("coverage")
                px = r.get("extra", {}).get("pixel")
                seen = (
                    f"; drawn: {cov:.0%} of pixels non-transparent"
                    if cov is not None
                    else (f"; centre pixel {px}" if px else "")
                )
                log(
                    f"[{size}] {name}: median {statistics.median(r['times']):.2f} ms over {len(r['times'])} frames{seen} "
                    f"({time.perf_counter() - t0:.0f} s wall, load {loadavg()})"
                )
            res["loadavg_after"] = loadavg()
            results[size] = res
            page.evaluate("window.bench.free()")
        browser.close()
    server.shutdown()
    load_end = loadavg()

    # ---- report ---------------------------------------------------------------------------
    date = dt.date.today().isoformat()
    out: list[str] = []
    out.append(
        f"Date {date}; {os.cpu_count()} cores, {platform.machine()}; Chromium {version} headless, "
        f"no GPU (2D canvas in software; WebGL = {webgl or 'none'}); view 1024×768 '{args.view}' "
        f"({'20°N 0°E, Leaflet zoom 2' if args.view == 'world' else '50°N 10°E, Leaflet zoom 5'}), "
        f"radius 25 px (σ 12.5 px), cities(N, seed={SEED}) with weights; load average "
        f"start {load_start}, end {load_end}."
    )
    out.append("")
    out.append("Full frame, ms: median (min–max). Ratio = competitor median / ours.")
    out.append("")
    out.append(
        "| N | ours (wasm) | plain JS | ratio | leaflet.heat | ratio | deck.gl re-aggregate (software WebGL) | ratio | deck.gl cached repaint (software WebGL) | ratio |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for size, res in results.items():
        ours = stats(res["ours"]["times"]) if "times" in res.get("ours", {}) else None

        def get(name: str, key: str = "times", res: dict = res) -> dict | None:
            r = res.get(name)
            if r is None:
                return None
            if "skipped" in r:
                return {"skipped": r["skipped"]}
            t = r[key] if key == "times" else r.get("extra", {}).get(key)
            return stats(t) if t else None

        js_, lh, da, dr = get("js"), get("leaflet.heat"), get("deck"), get("deck-cached")
        out.append(
            f"| {size} | {cell(ours)} | {cell(js_)} | {ratio(ours, js_)} | {cell(lh)} | {ratio(ours, lh)} | "
            f"{cell(da)} | {ratio(ours, da)} | {cell(dr)} | {ratio(ours, dr)} |"
        )
    out.append("")
    for size, res in results.items():
        agg = res.get("deck-cached", {}).get("extra", {}).get("aggregateMs")
        if agg is not None:
            out.append(
                f"- deck.gl at {size}: the one aggregation before the cached repaints took {fmt_ms(agg)}{'' if agg >= 1000 else ' ms'}"
            )
    out.append("")
    out.append("Our frame by stage (separate pass over the same views), kernel memory and load:")
    out.append("")
    out.append(
        "| N | hw_density (splat+blur+crop) | hw_density at radius 0 (no blur) | hw_colorize | putImageData | load (HeatKernel.load) | first frame after load | hw_memory_bytes | input bytes (20 B/pt) | memory / input | ours vs plain JS: max \\|Δ\\| of density/max (drawn px > 2/255) |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for size, res in results.items():
        r = res.get("ours")
        if not r or "extra" not in r:
            continue
        e = r["extra"]
        st = e["stages"]
        n = SIZES[size]
        mem = e["memoryBytes"]
        out.append(
            f"| {size} | {fmt_ms(statistics.median(st['density']))} | {fmt_ms(statistics.median(st['splatOnly']))} | "
            f"{fmt_ms(statistics.median(st['colorize']))} | "
            f"{fmt_ms(statistics.median(st['put']))} | {fmt_ms(e['loadMs'])} | {fmt_ms(e['firstFrameMs'])} | {mem / 1e6:.1f} MB | "
            f"{20 * n / 1e6:.1f} MB | {mem / (20 * n):.2f} | "
            + (
                f"{res['check']['maxDiff']:.3f} ({res['check']['pixelsOver2']:.1%}) |"
                if "check" in res
                else "— |"
            )
        )
    out.append("")
    out.append(
        "Frames with isolines and with dots, before (main, bench/page/baseline.ts) and after "
        "(this build), each pan timed in one loop (median ms; ratio = before / after):"
    )
    out.append("")
    out.append(
        "| N | heat frame | contours: trace before → after (step) | contours: trace + stroke "
        "before → after | heat + contours before → after | rings before / after | dots, this "
        "view, fade 0.5: heat + JS scan → kernel frame | dots drawn before / after | dots up close "
        "(Tokyo z10): heat + JS scan → kernel frame | dots drawn before / after | heat budget |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for size, res in results.items():
        lay = res.get("ours", {}).get("extra", {}).get("layers")
        if not lay:
            continue
        med = {k: statistics.median(v) for k, v in lay.items() if isinstance(v, list)}
        h = med["heat"]
        both_b = statistics.median(
            [a + b for a, b in zip(lay["heat"], lay["contoursBefore"], strict=True)]
        )
        both_a = statistics.median(
            [a + b for a, b in zip(lay["heat"], lay["contoursAfter"], strict=True)]
        )
        target = TARGET_MS.get(size)
        budget = f"≤ {target:g} ms: {'holds' if h <= target else 'NOT MET'}" if target else "—"

        def pair(before: float, after: float) -> str:
            return f"{fmt_ms(before)} → {fmt_ms(after)} ({before / after:.1f}×)"

        out.append(
            f"| {size} | {fmt_ms(h)} | {pair(med['traceBefore'], med['traceAfter'])} "
            f"({lay['step']} px) | {pair(med['contoursBefore'], med['contoursAfter'])} | "
            f"{pair(both_b, both_a)} | {lay['ringsBefore']} / {lay['ringsAfter']} | "
            f"{pair(med['fadeBefore'], med['fadeAfter'])} | "
            f"{lay['fadeDrawnBefore']} / {lay['fadeDrawnAfter']} | "
            f"{pair(med['closeBefore'], med['closeAfter'])} | "
            f"{lay['closeDrawnBefore']} / {lay['closeDrawnAfter']} | {budget} |"
        )
    out.append("")
    out.append("Targets (issue):")
    for size, target in TARGET_MS.items():
        r = results.get(size, {}).get("ours")
        if r and "times" in r:
            m = statistics.median(r["times"])
            out.append(
                f"- {size} full frame ≤ {target:g} ms: {m:.2f} ms — {'MET' if m <= target else 'NOT MET'}"
            )
    for size in ("1M", "10M"):
        res = results.get(size)
        if not res or "times" not in res.get("ours", {}):
            continue
        om = statistics.median(res["ours"]["times"])
        for name, key, label in (
            ("leaflet.heat", "times", "leaflet.heat"),
            ("js", "times", "js"),
            ("deck-cached", "times", "deck repaint"),
        ):
            r = res.get(name)
            if not r or "skipped" in r:
                out.append(
                    f"- {size} ≥ {TARGET_RATIO[label]:g}× {label}: n/a ({r['skipped'] if r else 'not run'})"
                )
                continue
            t = r["times"] if key == "times" else r["extra"][key]
            x = statistics.median(t) / om
            out.append(
                f"- {size} ≥ {TARGET_RATIO[label]:g}× {label}: {x:.1f}× — {'MET' if x >= TARGET_RATIO[label] else 'NOT MET'}"
            )
    if blocked:
        out.append(f"\n(aborted {len(blocked)} requests not to 127.0.0.1, e.g. {blocked[0]})")
    if errors:
        out.append(f"\n(page errors: {errors[:3]})")
    print("\n".join(out))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "date": date,
                    "chromium": version,
                    "webgl": webgl,
                    "loadavg": [load_start, load_end],
                    "results": results,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

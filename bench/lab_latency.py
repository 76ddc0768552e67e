"""set_data -> first painted frame, in a real JupyterLab, for 1M points (and bytes per point).

    python bench/lab_latency.py [--n 1000000] [--reps 5]

Starts JupyterLab on 127.0.0.1 with tests/e2e/harness's helpers (temp Jupyter dirs, token),
opens a notebook that shows a Heatmap of 1,000 points in headless Chromium, then, per rep:
makes cities(n, seed=rep) in the kernel (untimed), and runs
`t = time.time(); m.set_data(df, weight='mag')`
through a client of the kernel's shell channel only (as for a user, the server stays the
kernel's one IOPub subscriber). The page records Date.now() when div.heatwidget's data-frames
increments after data-point-count has become n (a MutationObserver). Both clocks are this
machine's wall clock. Between reps the widget goes back to 1,000 points (untimed), so each rep
is a change of count. Reports median/min/max of: latency, Python's set_data call (inputs + Arrow
encode + comm send), the page's data-load-ms (HeatKernel.load), len(m._points)/n (wire bytes a
row), the transport floor (as many bytes as the rows' message, 12 or 8 a row, sent as one
custom message of a bare anywidget model just before the rep's set_data, Python's send → its
handler in the page), and the page's bytes a row: CDP's JS heap + ArrayBuffer backing stores after a full GC,
with n rows minus with 1,000 (tests/e2e/harness/memory.py), plus the kernel's WebAssembly memory
(which CDP leaves out; it never shrinks, so it is counted whole, frame buffers included). Run it with another checkout's interpreter (its JupyterLab and kernel,
its heatwidget) for a before/after in one session: `/work/main/.venv/bin/python
bench/lab_latency.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from e2e_helpers import PROBE_PY, ShellClient, lab_session, load_harness, notebook  # noqa: E402

# Page bytes per row after the first frame, and again once the page is idle (the kernel sorts
# its rows into spatial order when idle: scratch memory it keeps).
_IDLE_S = 3.0
# Pans after the measurements (px): each followed by its frame.
_PANS = [(200, 0), (0, 150), (-300, -100), (150, 80), (-50, -130)]

NOTEBOOK = notebook(
    "from heatwidget import Heatmap\nfrom heatwidget.datasets import cities\n"
    "m = Heatmap(cities(1000, seed=0), height=768)\nm"
)

# Pans the map by (dx, dy) px without animation and resolves with the frame that follows: its
# data-frame-ms (kernel + draw) and the wall time from the pan to it.
PAN_JS = """
([dx, dy]) => new Promise((resolve) => {
  const root = document.querySelector('div.heatwidget');
  const frames = Number(root.dataset.frames);
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    if (Number(root.dataset.frames) > frames) {
      obs.disconnect();
      resolve({frameMs: Number(root.dataset.frameMs), wallMs: performance.now() - t0});
    }
  });
  obs.observe(root, {attributes: true, attributeFilter: ['data-frames']});
  root.__heatwidget.map.panBy([dx, dy], {animate: false});
})
"""

OBSERVE_JS = """
(n) => {
  const root = document.querySelector('div.heatwidget');
  delete root.dataset.aheadRows; // a past reset's
  const st = window.__lat = {n, countAt: null, paintedAt: null, frames0: null, loadMs: null, frameMs: null};
  if (window.__latObs) window.__latObs.disconnect();
  const obs = window.__latObs = new MutationObserver(() => {
    if (st.paintedAt !== null) return;
    if (st.countAt === null && root.dataset.pointCount === String(n)) {
      st.countAt = Date.now();
      st.frames0 = Number(root.dataset.frames);
      st.loadMs = root.dataset.loadMs;
      st.ahead = root.dataset.aheadRows ?? null;
    } else if (st.countAt !== null && Number(root.dataset.frames) > st.frames0) {
      st.paintedAt = Date.now();
      st.frameMs = root.dataset.frameMs;
    }
  });
  obs.observe(root, {attributes: true, attributeFilter: ['data-point-count', 'data-frames']});
  return true;
}
"""


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument(
        "--no-weight",
        action="store_true",
        help="send lat/lon only (16 B/pt); default: weight='mag' too (20 B/pt), as bench/run.py draws",
    )
    ap.add_argument(
        "--chunks",
        type=int,
        default=1,
        help="send the rows as set_data + chunks-1 appends (messages over ~400 MB crash "
        "Playwright's driver, which sees every websocket frame: 50M weighted rows need 5)",
    )
    ap.add_argument(
        "--part-rows",
        type=int,
        default=0,
        help="rows per part of a reset sent in parts (heatwidget.widget.stream.PART_ROWS; "
        "a huge number sends one message); default: the package's",
    )
    ap.add_argument(
        "--playwright",
        action="store_true",
        help="time with Playwright attached (its network tracking base64-copies every websocket "
        "frame on the page's main thread: about 2x slower); default: plain CDP",
    )
    ap.add_argument(
        "--second-subscriber",
        action="store_true",
        help="keep a second client subscribed to the kernel's IOPub during the timings (as "
        "this script did before 2026-12-05's sixth pass), to compare",
    )
    args = ap.parse_args()
    c = load_harness()
    print(
        f"load average at start: {Path('/proc/loadavg').read_text().split()[:3]}", file=sys.stderr
    )
    rows = []
    from harness.memory import page_memory

    wait_s = max(60.0, 6.0 * args.n / 1e6)  # bounds of the kernel's and the page's work

    with lab_session("lab-latency", NOTEBOOK, plain_cdp=not args.playwright) as lab:
        lab.ui.wait_for_widget()
        page = lab.page if args.playwright else lab.plain_page()
        connection = lab.server.connection_file(lab.server.kernel_id_for("bench.ipynb"))
        # Code runs through the shell channel only: as for a user, the server is the kernel's
        # one IOPub subscriber (each one more gets a copy of every big message).
        kc = ShellClient(connection)
        listener = c.KernelClient(connection) if args.second_subscriber else None
        kc.run("import time\nsmall = cities(1000, seed=0)")
        if args.part_rows:
            kc.run(f"import heatwidget.widget.stream as s_\ns_.PART_ROWS = {args.part_rows}")
        part_rows = int(kc.run("import heatwidget.widget.stream as s_", "s_.PART_ROWS"))
        kc.run(PROBE_PY)
        c.wait_until(lambda: page.evaluate("window.__probeReady === true"), 60, "the probe")
        # The rows' wire bytes (wire format 2: x, y and the weight, 4 bytes each) for the floor.
        wire_bytes = (8 if args.no_weight else 12) * args.n
        for rep in range(1, args.reps + 1):
            kc.run(f"df = cities({args.n}, seed={rep})", timeout=wait_s)  # untimed
            # The floor for the rows' bytes, in the state the set_data below finds the page and
            # the server in (a map of 1,000 rows at rest); the payload is made first, untimed.
            kc.run(f"payload = bytes({wire_bytes})", timeout=wait_s)
            page.evaluate("() => { window.__probe = null; }")
            t_send = float(kc.run("t0 = time.time(); probe.send({}, [payload])", "t0"))
            arrived = c.wait_until(lambda: page.evaluate("window.__probe"), wait_s, "the probe")
            floor_s = arrived["at"] / 1000 - t_send
            kc.run("del payload")
            time.sleep(0.5)  # let the page and the server finish with it
            small_mem = page_memory(page)
            page.evaluate(OBSERVE_JS, args.n)
            w = "" if args.no_weight else ", weight='mag'"
            call = f"m.set_data(df{w})"
            if args.chunks > 1:  # set_data of the first part, then appends of the others
                step = -(-args.n // args.chunks)
                parts = [f"df.iloc[{a}:{a + step}]" for a in range(0, args.n, step)]
                call = f"m.set_data({parts[0]}{w}); " + "; ".join(
                    f"m.append({p}{w})" for p in parts[1:]
                )
            out = kc.run(
                f"t0 = time.time(); {call}; t1 = time.time()", "f'{t0} {t1}'", timeout=wait_s
            )
            t0, t1 = (float(v) for v in out.split())
            st = c.wait_until(
                lambda: (lambda s: s if s and s["paintedAt"] else None)(
                    page.evaluate("window.__lat")
                ),
                wait_s,
                "the first frame with the new points",
            )
            # Only now: reading _points encodes every row again, which would take the CPU
            # from the server and the page while the rows are on their way.
            nbytes = kc.run("", "len(m._points)", timeout=wait_s)
            time.sleep(_IDLE_S)  # after the latency: the idle-time sort, then measure
            mem = page_memory(page)
            pans = [page.evaluate(PAN_JS, [dx, dy]) for dx, dy in _PANS]
            row = {
                "latency_s": st["paintedAt"] / 1000 - t0,
                "set_data_s": t1 - t0,
                "count_at_s": st["countAt"] / 1000 - t0,
                "page_load_ms": float(st["loadMs"] or "nan"),
                "frame_ms": float(st["frameMs"] or "nan"),
                "bytes_per_point": int(nbytes) / args.n,
                "page_bytes_per_row": (mem["total"] - small_mem["total"] + mem["kernel"]) / args.n,
                "kernel_bytes_per_row": mem["kernel"] / args.n,
                "outside_kernel_bytes_per_row": (mem["total"] - small_mem["total"]) / args.n,
                "pan_frame_ms": statistics.median(p["frameMs"] for p in pans),
                "pan_wall_ms": statistics.median(p["wallMs"] for p in pans),
                "floor_s": floor_s,
                # a reset in parts: the rows splatted into the first frame while the parts
                # arrived (the page idle between them), when the last part is in
                "ahead_rows": float(st["ahead"]) if st.get("ahead") else float("nan"),
            }
            rows.append(row)
            print(
                f"rep {rep}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()),
                file=sys.stderr,
            )
            kc.run("m.set_data(small)")
            c.wait_until(
                lambda: (
                    page.evaluate("document.querySelector('div.heatwidget').dataset.pointCount")
                    == "1000"
                ),
                30,
                "reset",
            )
            time.sleep(0.5)
        kc.close()
        if listener is not None:
            listener.close()
    load_end = Path("/proc/loadavg").read_text().split()[:3]

    def s(key: str) -> str:
        v = [r[key] for r in rows]
        return f"{statistics.median(v):.3f} ({min(v):.3f}–{max(v):.3f})"

    driver = "Playwright attached" if args.playwright else "plain CDP (Playwright detached)"
    print(
        f"JupyterLab, {driver}, rows in parts of {part_rows:,}, {args.n:,} points ({'lat, lon' if args.no_weight else 'lat, lon, weight'}), {len(rows)} reps, load average at end {' '.join(load_end)}\n"
    )
    print("| measure | median (min–max) |")
    print("|---|---|")
    print(f"| set_data → first painted frame, s | {s('latency_s')} |")
    print(
        f"| of which: Python set_data call (inputs + Arrow encode + send), s | {s('set_data_s')} |"
    )
    print(
        f"| set_data → data-point-count updated (comm transfer + Arrow decode + kernel load), s | {s('count_at_s')} |"
    )
    print(
        f"| page: data-load-ms (HeatKernel.load of the decoded points), ms | {s('page_load_ms')} |"
    )
    print(f"| page: first frame (data-frame-ms), ms | {s('frame_ms')} |")
    print(
        "| page: rows splatted ahead while the parts arrived, when the last came in | "
        f"{s('ahead_rows')} |"
    )
    print(
        "| floor: the same bytes as one message of a bare anywidget, Python's send → the "
        f"page's handler, s | {s('floor_s')} |"
    )
    print(f"| bytes sent per point (len(m._points) / N) | {s('bytes_per_point')} |")
    print(
        "| page bytes per row (JS heap + ArrayBuffers: N rows − 1,000; + kernel memory) | "
        f"{s('page_bytes_per_row')} |"
    )
    print(
        f"| of which the kernel's WebAssembly memory, bytes per row | {s('kernel_bytes_per_row')} |"
    )
    print(f"| outside the kernel, bytes per row | {s('outside_kernel_bytes_per_row')} |")
    print(f"| pan: the frame after panBy (data-frame-ms), ms | {s('pan_frame_ms')} |")
    print(f"| pan: panBy → that frame drawn, wall ms | {s('pan_wall_ms')} |")
    m = statistics.median(r["latency_s"] for r in rows)
    goal = 0.15 if args.n <= 1_000_000 else 1.5 * args.n / 10_000_000
    print(
        f"\nGoal (issue 13) set_data → first paint for {args.n:,} ≤ {goal:g} s: {m:.3f} s — "
        f"{'MET' if m <= goal else 'NOT MET'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

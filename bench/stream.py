"""Streaming benchmark: appends from the kernel while the map pans, in a real JupyterLab.

    python bench/stream.py [--seconds 60] [--rate 20] [--batch 10000] [--runs window,grow]

Starts JupyterLab on 127.0.0.1 (tests/e2e/harness's helpers: temp Jupyter dirs, token) and
Debian's headless Chromium (/usr/bin/chromium). Playwright opens the notebook, then is
disconnected and the run is timed over plain CDP (bench/cdp.py): Playwright's network tracking
base64-encodes every websocket frame on the page's main thread. ``--playwright`` keeps it
attached (the old way; also --enable-precise-memory-info, page errors and a screenshot). Per
run, a fresh notebook and kernel show ``Heatmap(cities(1_000_000, seed=0), weight="mag")``;
after the first frame with data:

1. baseline: the page pans the map ``--dx`` px (2) per animation frame (a synthetic mouse
   drag, or ``map.panBy`` with ``--pan panby``, in a requestAnimationFrame loop; ``--dx 0``:
   no pan, the frames then follow the data) for ``--baseline`` seconds, no appends;
2. streaming: a thread in the kernel calls ``m.append(batch, weight="mag")`` with batches of
   ``--batch`` rows (64 pre-made ``cities(batch, seed=1000+i)`` DataFrames, reused in turn) on
   a fixed schedule of ``--rate`` per second for ``--seconds`` (a late append goes at once, so
   the achieved rate is what the kernel can sustain), while the page keeps panning.

Runs: ``window`` (``max_points=1_000_000``: a sliding window, memory must stay flat) and
``grow`` (``max_points=None``: rows held grow by rate × batch per second; ``--grow-seconds``).

Measured in the page (in-page timers only; Playwright reads the records at the end):
- every requestAnimationFrame tick (performance.now()); every change of div.heatwidget's
  data-frames (a MutationObserver: Date.now(), data-frame-ms, data-kernel-ms, data-seq,
  data-point-count) and of data-seq (a delta loaded into the view's kernel);
- each second: performance.memory.usedJSHeapSize and the heat kernel's linear memory
  (WebAssembly.Memory byteLength and hw_memory_bytes(), found by wrapping
  WebAssembly.instantiate in an init script: no product code changes).
From Python: CDP Runtime.getHeapUsage (JS heap + ArrayBuffer backing stores) and the RSS of the
page's renderer process (pid from CDP SystemInfo.getProcessInfo), the CPU seconds of the
renderer, the kernel and the Jupyter server; HeapProfiler.collectGarbage before the "start" and
"end" samples. In the kernel: time.time() before each append() (the latency origin: same
machine clock as the page's Date.now()), the call's duration, seq, and len(payload).

``--profile N`` samples the page's main thread (CDP Profiler) while appending and prints its N
costliest functions by self time, heat.wasm's functions by name (exports, and internal ones
from an unstripped build of the same sources: bench/wasm_profile.py).

Prints one markdown table per run and the issue's targets: >= 20 batches/s, >= 30 frames/s
during a pan, no browser memory growth beyond the data held. --json writes the raw records.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from cdp import PlainPage  # noqa: E402
from e2e_helpers import chromium_with_devtools, load_harness, offline  # noqa: E402
from wasm_profile import WasmNames, top_self_time  # noqa: E402

INITIAL = 1_000_000
TARGET_RATE = 20.0
TARGET_FPS = 30.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def notebook(max_points: int | None, height: int, basemap: str | None, initial: int) -> str:
    src = (
        "import heatwidget\n"
        "from heatwidget.datasets import cities\n"
        f"df0 = cities({initial}, seed=0)\n"
        f"m = heatwidget.Heatmap(df0, weight='mag', height={height}, basemap={basemap!r},\n"
        f"                       max_points={max_points!r})\n"
        "m"
    )
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "c1",
                "metadata": {},
                "outputs": [],
                "source": src,
            },
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb)


# Runs in the kernel (second client) once the view has drawn: the batches, a recorder of what
# each append sent (a wrapper of this instance's _send_delta), and the append thread.
KERNEL_SETUP = """
import os as _os, threading as _threading, time as _time
_BATCHES = [cities({batch}, seed=1000 + i) for i in range(64)]
_sent = {{}}
_orig_send_delta = m._stream._send_delta
def _rec_send_delta(delta):
    _sent.update(seq=delta.seq, rows=delta.rows, drop=delta.drop, nbytes=len(delta.payload))
    _orig_send_delta(delta)
m._stream._send_delta = _rec_send_delta
_log = []      # (seq, t_start, t_end, rows, drop, payload bytes) per append
_rss = []      # (time, kernel RSS bytes) once a second
_done = []
def _kernel_rss():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    return 0
def _appender(seconds, rate):
    t0 = _time.time()
    k = 0
    next_rss = t0
    while True:
        due = t0 + k / rate
        if due - t0 >= seconds:
            break
        now = _time.time()
        if due > now:
            _time.sleep(due - now)
        ts = _time.time()
        m.append(_BATCHES[k % len(_BATCHES)], weight='mag')
        te = _time.time()
        _log.append((_sent['seq'], ts, te, _sent['rows'], _sent['drop'], _sent['nbytes']))
        if te >= next_rss:
            _rss.append((te, _kernel_rss()))
            next_rss = te + 1.0
        k += 1
    _rss.append((_time.time(), _kernel_rss()))
    _done.append(_time.time())
print(_os.getpid())
"""

# Wraps WebAssembly.instantiate before any page script runs, to find the heat kernel's instance.
INIT_JS = """
(() => {
  const found = (window.__hwWasm = []);
  // [total ms, calls, max ms] per timed export: where the page's main thread goes.
  const probe = (window.__hwProbe = {});
  const TIMED = ['hw_points_append', 'hw_points_append_fixed', 'hw_points_drop_front',
                 'hw_points_reserve', 'hw_density', 'hw_colorize', 'hw_frame_quantile'];
  const orig = WebAssembly.instantiate;
  WebAssembly.instantiate = function (...args) {
    return orig.apply(this, args).then((r) => {
      const isInstance = r instanceof WebAssembly.Instance;
      const inst = isInstance ? r : r && r.instance;
      if (!inst || !inst.exports || typeof inst.exports.hw_memory_bytes !== 'function') return r;
      found.push(inst);
      if (!window.__hwProbeOn) return r;
      // The same exports (memory included), a few of them timed: kernel.ts only reads
      // instance.exports.
      const ex = Object.assign({}, inst.exports);
      for (const name of TIMED) {
        const f = inst.exports[name];
        if (typeof f !== 'function') continue;
        const st = (probe[name] = [0, 0, 0]);
        ex[name] = (...a) => {
          const t = performance.now();
          try {
            return f(...a);
          } finally {
            const d = performance.now() - t;
            st[0] += d;
            st[1] += 1;
            if (d > st[2]) st[2] = d;
          }
        };
      }
      const fake = {exports: ex};
      return isInstance ? fake : {module: r.module, instance: fake};
    });
  };
})();
"""

START_JS = """
([dx, mode]) => {
  const root = document.querySelector('div.heatwidget');
  const map = root.__heatwidget.map;
  const b = (window.__bench = {
    ticks: [], frames: [], seqs: [], mem: [], pan: dx !== 0, stop: false, phase: 'baseline',
    phaseAt: {baseline: Date.now()}, size: [map.getSize().x, map.getSize().y], mode,
    probeAt: {baseline: JSON.parse(JSON.stringify(window.__hwProbe || {}))},
  });
  for (const v of Object.values(window.__hwProbe || {})) v[2] = 0;
  // 'drag': one long mouse drag, as a user pans (Leaflet's Draggable: mousedown on the map,
  // mousemove on the document, position applied in Leaflet's own animation frame; 'move'
  // events only, no 'moveend' until the end). 'panby': map.panBy each frame ('move' and
  // 'moveend' every frame: heavier, every view write-back and outline redraw runs each frame).
  const box = map.getContainer().getBoundingClientRect();
  let x = box.left + box.width / 2;
  const y = box.top + box.height / 2;
  const mouse = (type, target) => target.dispatchEvent(new MouseEvent(type, {
    bubbles: true, cancelable: true, clientX: x, clientY: y, button: 0, buttons: 1, view: window}));
  // Dispatched on the map's container (the element under a real pointer); they bubble to
  // the document, where Leaflet listens during a drag.
  const target = map.getContainer();
  if (b.pan && mode === 'drag') mouse('mousedown', target);
  b.release = () => { if (b.pan && mode === 'drag') mouse('mouseup', target); };
  const tick = () => {
    if (b.stop) return;
    b.ticks.push(performance.now(), Date.now());
    if (b.pan) {
      if (mode === 'drag') { x += dx; mouse('mousemove', target); }
      else map.panBy([dx, 0], {animate: false});
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  let lastFrames = root.dataset.frames, lastSeq = root.dataset.seq;
  b.obs = new MutationObserver(() => {
    const d = root.dataset;
    if (d.seq !== lastSeq) {
      lastSeq = d.seq;
      b.seqs.push([Number(d.seq), Date.now(), Number(d.pointCount)]);
    }
    if (d.frames !== lastFrames) {
      lastFrames = d.frames;
      b.frames.push([Date.now(), Number(d.frames), Number(d.frameMs), Number(d.kernelMs),
                     Number(d.pointCount), Number(d.seq)]);
    }
  });
  b.obs.observe(root, {attributes: true, attributeFilter: ['data-frames', 'data-seq']});
  const sample = () => {
    const pm = performance.memory || {};
    let wasmBuf = 0, wasmUsed = 0;
    for (const inst of window.__hwWasm || []) {
      try {
        wasmBuf += inst.exports.memory.buffer.byteLength;
        wasmUsed += inst.exports.hw_memory_bytes() >>> 0;
      } catch (e) {}
    }
    b.mem.push([Date.now(), pm.usedJSHeapSize || 0, pm.totalJSHeapSize || 0, wasmBuf, wasmUsed,
                Number(root.dataset.pointCount)]);
  };
  sample();
  b.timer = setInterval(sample, 1000);
  return b.size;
}
"""

CENTER_JS = "() => document.querySelector('div.heatwidget').__heatwidget.map.getCenter().lng"

SEQ_JS = "() => Number(document.querySelector('div.heatwidget').dataset.seq ?? -1)"
ROWS_JS = "() => Number(document.querySelector('div.heatwidget').dataset.pointCount ?? -1)"

PHASE_JS = """
(p) => {
  const b = window.__bench;
  b.phase = p;
  b.phaseAt[p] = Date.now();
  (b.probeAt = b.probeAt || {})[p] = JSON.parse(JSON.stringify(window.__hwProbe || {}));
  // the max of a phase: reset after the snapshot
  for (const v of Object.values(window.__hwProbe || {})) v[2] = 0;
}
"""

STOP_JS = """
() => {
  const b = window.__bench;
  b.stop = true;
  b.release();
  b.obs.disconnect();
  clearInterval(b.timer);
  return {ticks: b.ticks, frames: b.frames, seqs: b.seqs, mem: b.mem, phaseAt: b.phaseAt,
          size: b.size, probeAt: b.probeAt};
}
"""

PAGE_MEM_JS = """
() => {
  let b = 0, u = 0;
  for (const i of window.__hwWasm || []) {
    b += i.exports.memory.buffer.byteLength;
    u += i.exports.hw_memory_bytes() >>> 0;
  }
  return [b, u, Number(document.querySelector('div.heatwidget').dataset.pointCount)];
}
"""

PROGRESS_JS = """
() => { const b = window.__bench; const r = document.querySelector('div.heatwidget').dataset;
  return [b.frames.length, b.seqs.length, r.pointCount, r.frameMs]; }
"""


# --------------------------------------------------------------------------------------------
# process accounting


def proc_rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def proc_cpu(pid: int) -> float:
    """utime + stime of `pid` and its waited-for children, seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12)) / tick


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Processes:
    """The page's renderer (from CDP SystemInfo.getProcessInfo), the kernel, the server."""

    def __init__(self, browser_cdp: Any, kernel_pid: int, server_pid: int) -> None:
        self.browser_cdp = browser_cdp
        self.kernel_pid = kernel_pid
        self.server_pid = server_pid
        self.renderer_pid = self._renderer()
        self.gpu_pids = self._of_type("gpu")

    def _info(self) -> list[dict[str, Any]]:
        return list(self.browser_cdp.send("SystemInfo.getProcessInfo")["processInfo"])

    def _of_type(self, kind: str) -> list[int]:
        return [int(p["id"]) for p in self._info() if p.get("type") == kind]

    def _renderer(self) -> int:
        pids = self._of_type("renderer")
        return max(pids, key=proc_rss) if pids else 0

    def cpu(self) -> dict[str, float]:
        return {
            "renderer": proc_cpu(self.renderer_pid),
            "gpu": sum(proc_cpu(p) for p in self.gpu_pids),
            "kernel": proc_cpu(self.kernel_pid),
            "server": proc_cpu(self.server_pid),
        }


# --------------------------------------------------------------------------------------------
# statistics


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    i = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[i]


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def per_second(times_ms: list[float], t0_ms: float, t1_ms: float) -> list[int]:
    """Counts of `times_ms` in each whole second from t0 to t1."""
    n = int((t1_ms - t0_ms) // 1000)
    bins = [0] * n
    for t in times_ms:
        i = int((t - t0_ms) // 1000)
        if 0 <= i < n:
            bins[i] += 1
    return bins


def mb(v: float) -> str:
    return f"{v / 2**20:.0f}"


def analyse(
    rec: dict[str, Any],
    klog: list[list[float]],
    mem_py: list[dict[str, Any]],
    cpu: dict[str, float],
    rate: float,
) -> dict[str, Any]:
    """Figures of one run (phase 'baseline': pan only; 'stream': pan + appends)."""
    out: dict[str, Any] = {}
    at = rec["phaseAt"]
    phases = {
        "baseline": (at["baseline"], at["stream"]),
        "stream": (at["stream"], at["after"]),
        "after": (at["after"], at["end"]),
    }
    if klog:
        # the streaming window: first append sent to last append sent
        phases["stream"] = (klog[0][1] * 1000, klog[-1][1] * 1000)
    ticks = rec["ticks"]
    tick_perf, tick_epoch = ticks[0::2], ticks[1::2]
    frames = rec["frames"]
    for name, (t0, t1) in phases.items():
        fr = [f for f in frames if t0 <= f[0] < t1]
        fps = per_second([f[0] for f in fr], t0, t1)
        raf = per_second([t for t in tick_epoch if t0 <= t < t1], t0, t1)
        intervals = [
            b - a
            for a, b, e in zip(tick_perf, tick_perf[1:], tick_epoch[1:], strict=False)
            if t0 <= e < t1
        ]
        out[name] = {
            "seconds": (t1 - t0) / 1000,
            "fps_median": med(fps),
            "fps_min": min(fps) if fps else float("nan"),
            "fps_per_s": fps,
            "raf_median": med(raf),
            "raf_min": min(raf) if raf else float("nan"),
            "raf_interval_p95": pct(intervals, 95),
            "raf_interval_max": max(intervals or [0]),
            "frame_ms_median": med([f[2] for f in fr]),
            "frame_ms_p95": pct([f[2] for f in fr], 95),
            "kernel_ms_median": med([f[3] for f in fr]),
            "frames": len(fr),
        }
    # main-thread time in the kernel's exports (in-page probe), per phase: [ms, calls, max ms]
    probe = rec.get("probeAt") or {}
    order = ["baseline", "stream", "after", "end"]
    out["probe"] = {}
    for cur, nxt in itertools.pairwise(order):
        p0, p1 = probe.get(cur), probe.get(nxt)
        if p0 is None or p1 is None:
            continue
        secs = (at[nxt] - at[cur]) / 1000
        out["probe"][cur] = {
            name: {
                "ms_per_s": (v[0] - p0.get(name, [0, 0])[0]) / secs,
                "calls": v[1] - p0.get(name, [0, 0])[1],
                "max_ms": v[2],
                "ms_per_call": (v[0] - p0.get(name, [0, 0])[0])
                / max(1, v[1] - p0.get(name, [0, 0])[1]),
            }
            for name, v in p1.items()
        }
    # appends
    if klog:
        n = len(klog)
        span = klog[-1][1] - klog[0][1]
        out["batches"] = n
        out["batches_per_s"] = (n - 1) / span if span > 0 else float("nan")
        # how late each append started against its slot (first start + k / rate)
        out["late_ms_max"] = max((r[1] - klog[0][1] - k / rate) * 1000 for k, r in enumerate(klog))
        out["append_call_ms_median"] = med([(r[2] - r[1]) * 1000 for r in klog])
        out["append_call_ms_p95"] = pct([(r[2] - r[1]) * 1000 for r in klog], 95)
        rows = sum(r[3] for r in klog)
        out["rows_appended"] = rows
        out["payload_bytes_per_append"] = med([r[5] for r in klog])
        out["bytes_per_row"] = sum(r[5] for r in klog) / rows
        # append (kernel time.time() before m.append) -> the view's kernel holds it (data-seq)
        # -> the first frame drawn with it (data-seq at that frame >= its seq)
        sent = {int(r[0]): r[1] * 1000 for r in klog}
        arrived = {int(s[0]): s[1] for s in rec["seqs"]}
        lat_load = [arrived[s] - t for s, t in sent.items() if s in arrived]
        lat_frame, j = [], 0
        fr_sorted = sorted(frames, key=lambda f: f[1])
        missing = 0
        for seq in sorted(sent):
            while j < len(fr_sorted) and fr_sorted[j][5] < seq:
                j += 1
            if j == len(fr_sorted):
                missing += 1
                continue
            lat_frame.append(fr_sorted[j][0] - sent[seq])
        out["seq_missing_in_view"] = len([s for s in sent if s not in arrived])
        out["seq_never_drawn"] = missing
        out["latency_load_median"] = med(lat_load)
        out["latency_load_p95"] = pct(lat_load, 95)
        out["latency_frame_median"] = med(lat_frame)
        out["latency_frame_p95"] = pct(lat_frame, 95)
        out["latency_frame_max"] = max(lat_frame or [float("nan")])
        third = len(lat_frame) // 3
        out["latency_frame_first_third_median"] = med(lat_frame[:third])
        out["latency_frame_last_third_median"] = med(lat_frame[-third:]) if third else float("nan")
        out["latency_frame_first_third_p95"] = pct(lat_frame[:third], 95)
        out["latency_frame_last_third_p95"] = pct(lat_frame[-third:], 95) if third else float("nan")
    out["rows_end"] = frames[-1][4] if frames else 0
    # memory: in-page samples (no forced GC) and the Python samples (labelled phases)
    out["mem_page"] = rec["mem"]
    out["mem_py"] = mem_py
    out["cpu"] = cpu
    out["size"] = rec["size"]
    return out


def pick(samples: list[dict[str, Any]], label: str) -> dict[str, Any]:
    for s in samples:
        if s["label"] == label:
            return s
    return {}


def report(name: str, cfg: dict[str, Any], a: dict[str, Any]) -> str:
    s, b, af = a.get("stream", {}), a.get("baseline", {}), a.get("after", {})
    start, mid, end = (pick(a["mem_py"], k) for k in ("start", "middle", "end"))
    nan = float("nan")

    def m3(key: str) -> str:
        return " / ".join(mb(x.get(key, nan)) for x in (start, mid, end))

    def g(key: str, fmt: str = ".0f") -> str:
        return format(a.get(key, nan), fmt)

    lines = [
        f"### {name}: {cfg['desc']}",
        "",
        f"Map {a['size'][0]}×{a['size'][1]} CSS px, radius 25, weight 'mag', pan: {cfg['pan']}; "
        f"load average {cfg['load_start']} at start, {cfg['load_end']} at end.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| batches/s achieved (target {cfg['rate']:g}; {a.get('batches', 0)} batches of "
        f"{cfg['batch']:,} rows in {s.get('seconds', 0):.1f} s); latest start vs its slot, ms "
        f"| {g('batches_per_s', '.2f')}; {g('late_ms_max')} |",
        f"| m.append() call in the kernel (thread), ms median / p95 "
        f"| {g('append_call_ms_median', '.1f')} / {g('append_call_ms_p95', '.1f')} |",
        f"| rows held at start → end (view's data-point-count) "
        f"| {start.get('rows', 0):,} → {end.get('rows', 0):,} |",
        f"| **frames drawn/s, pan + appends**, median (min) over 1-s windows "
        f"| **{s.get('fps_median', nan):.0f}** ({s.get('fps_min', nan):.0f}) |",
        f"| frames drawn/s, pan only before ({b.get('seconds', 0):.0f} s) / after "
        f"({af.get('seconds', 0):.0f} s, rows held at end), median (min) "
        f"| {b.get('fps_median', nan):.0f} ({b.get('fps_min', nan):.0f}) / "
        f"{af.get('fps_median', nan):.0f} ({af.get('fps_min', nan):.0f}) |",
        f"| rAF ticks/s, pan + appends, median (min); tick interval p95 / max, ms "
        f"| {s.get('raf_median', nan):.0f} ({s.get('raf_min', nan):.0f}); "
        f"{s.get('raf_interval_p95', nan):.1f} / {s.get('raf_interval_max', nan):.0f} |",
        f"| frame ms (data-frame-ms: kernel + putImageData), median / p95: pan + appends; "
        f"pan only before; after "
        f"| {s.get('frame_ms_median', nan):.1f} / {s.get('frame_ms_p95', nan):.1f}; "
        f"{b.get('frame_ms_median', nan):.1f} / {b.get('frame_ms_p95', nan):.1f}; "
        f"{af.get('frame_ms_median', nan):.1f} / {af.get('frame_ms_p95', nan):.1f} |",
        f"| append → rows in the view's kernel (data-seq), ms median / p95 "
        f"| {g('latency_load_median')} / {g('latency_load_p95')} |",
        f"| **append → first frame showing it**, ms median / p95 / max "
        f"| **{g('latency_frame_median')}** / {g('latency_frame_p95')} / "
        f"{g('latency_frame_max')} |",
        f"| … median / p95 over the first third; over the last third of the appends, ms "
        f"| {g('latency_frame_first_third_median')} / {g('latency_frame_first_third_p95')}; "
        f"{g('latency_frame_last_third_median')} / {g('latency_frame_last_third_p95')} |",
        f"| deltas missing in the view / never drawn "
        f"| {a.get('seq_missing_in_view', 0)} / {a.get('seq_never_drawn', 0)} |",
        f"| last append sent → the view holds it (backlog when the loop ends), s "
        f"| {g('catch_up_s', '.1f')} |",
        f"| JS heap used (CDP; GC forced at start and end), MiB start / middle / end "
        f"| {m3('js_used')} |",
        f"| ArrayBuffer backing stores (CDP), MiB start / middle / end | {m3('backing')} |",
        f"| wasm linear memory (byteLength = hw_memory_bytes), MiB start / middle / end "
        f"| {m3('wasm_buf')} |",
        f"| page renderer process RSS, MiB start / middle / end | {m3('renderer_rss')} |",
        f"| kernel (Python) RSS, MiB start / middle / end | {m3('kernel_rss')} |",
        f"| IPC payload bytes per append / per appended row "
        f"| {a.get('payload_bytes_per_append', 0):,.0f} / {a.get('bytes_per_row', 0):.2f} |",
        "| CPU seconds while appending: renderer / kernel / Jupyter server "
        "| "
        + " / ".join(f"{a['cpu'].get(k, 0):.1f}" for k in ("renderer", "kernel", "server"))
        + f" (of {s.get('seconds', 0):.0f} s) |",
    ]
    probe = a.get("probe", {}).get("stream")
    if probe:
        parts = []
        for fn in (
            "hw_points_drop_front",
            "hw_points_append",
            "hw_points_append_fixed",
            "hw_points_reserve",
            "hw_density",
            "hw_colorize",
        ):
            v = probe.get(fn)
            if v and v["calls"]:
                parts.append(
                    f"{fn} {v['ms_per_s']:.0f} ({v['ms_per_call']:.1f}/call, max {v['max_ms']:.0f})"
                )
        lines.append(
            "| page main thread in kernel exports while appending (+ catch-up), "
            "ms per s (ms per call, max) | " + "; ".join(parts) + " |"
        )
    return "\n".join(lines)


def memory_verdict(a: dict[str, Any]) -> tuple[str, str]:
    """Sliding window: after the first appends (wasm grows once by a quarter, the JS store swaps
    the initial chunk for 10k-row ones), nothing may keep growing: middle → end."""
    start, mid, end = (pick(a["mem_py"], k) for k in ("start", "middle", "end"))
    if not start or not end or not mid:
        return "n/a", "no samples"
    keys = ("js_used", "backing", "wasm_buf", "renderer_rss")
    d_se = {k: end[k] - start[k] for k in keys}
    d_me = {k: end[k] - mid[k] for k in keys}
    text = "start → end " + ", ".join(f"{k} {v / 2**20:+.0f} MiB" for k, v in d_se.items())
    text += "; middle → end " + ", ".join(f"{k} {v / 2**20:+.0f} MiB" for k, v in d_me.items())
    drows = end["rows"] - start["rows"]
    if drows:
        text += "; per added row (start → end): " + ", ".join(
            f"{k} {v / drows:.1f} B" for k, v in d_se.items()
        )
        return "grows with the rows held", text
    flat = (
        d_me["wasm_buf"] <= 0 and d_me["renderer_rss"] < 32 * 2**20 and d_me["js_used"] < 8 * 2**20
    )
    return ("MET (flat after the first appends)" if flat else "NOT MET"), text


# --------------------------------------------------------------------------------------------
# one run


def run_one(
    c: Any, pw: Any, server: Any, name: str, cfg: dict[str, Any], args: Any
) -> dict[str, Any]:
    nb_path = f"stream-{name}.ipynb"
    (server.root_dir / nb_path).write_text(
        notebook(cfg["max_points"], args.height, args.basemap, args.initial)
    )
    log(f"[{name}] launching Chromium; load average {loadavg()}")
    with contextlib.ExitStack() as stack:
        if args.playwright:
            browser = pw.chromium.launch(
                executable_path=c.CHROMIUM,
                headless=True,
                args=[*c.CHROMIUM_ARGS, "--enable-precise-memory-info"],
                timeout=60_000,
            )
            stack.callback(browser.close)
            context = browser.new_context(
                viewport=c.VIEWPORT, device_scale_factor=1, service_workers="block"
            )
            stack.callback(context.close)
            port = 0
        else:
            # Playwright opens the notebook, then lets go: timing goes over plain CDP.
            port = stack.enter_context(
                chromium_with_devtools(c, Path(args.tmp) / f"chromium-{name}")
            )
            browser = pw.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            context = browser.contexts[0]
        return run_page(c, server, browser, context, port, name, cfg, args)


def run_page(
    c: Any,
    server: Any,
    browser: Any,
    context: Any,
    port: int,
    name: str,
    cfg: dict[str, Any],
    args: Any,
) -> dict[str, Any]:
    """One run in an opened browser; with plain CDP (not ``--playwright``) Playwright is
    disconnected once the view has drawn and its kernel is set up."""
    nb_path = f"stream-{name}.ipynb"
    version = browser.version
    if args.probe:
        context.add_init_script("window.__hwProbeOn = true;")
    context.add_init_script(INIT_JS)
    offline(context)
    pw_page = context.pages[0] if not args.playwright and context.pages else context.new_page()
    errors: list[str] = []
    pw_page.on("pageerror", lambda e: errors.append(str(e)))
    pw_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    web = c.Web(page=pw_page, context=context, name=f"stream-{name}", artifacts=Path(args.tmp))
    ui = c.LabUI(web, server)
    kc = None
    try:
        ui.open_notebook(nb_path)
        ui.wait_for_widget(timeout=180)
        kc = c.KernelClient(server.connection_file(server.kernel_id_for(nb_path)))
        kernel_pid = int(kc.execute(KERNEL_SETUP.format(batch=args.batch), timeout=120).split()[-1])
        c.wait_until(
            lambda: pw_page.evaluate(ROWS_JS) == kc.eval("m.point_count"), 60, "view = python rows"
        )
        procs = Processes(browser.new_browser_cdp_session(), kernel_pid, server.proc.pid)
        page: Any
        cdp: Any
        if args.playwright:
            page, cdp = pw_page, context.new_cdp_session(pw_page)
        else:
            browser.close()  # connected over CDP: disconnects; the browser and page live on
            page = cdp = PlainPage(port, url_contains="/lab")
        time.sleep(1.0)
        mem_py: list[dict[str, Any]] = []

        def sample(label: str, gc: bool = False) -> dict[str, Any]:
            if gc:
                cdp.send("HeapProfiler.collectGarbage")
            h = cdp.send("Runtime.getHeapUsage")
            page_mem = page.evaluate(PAGE_MEM_JS)
            s = {
                "label": label,
                "t": time.time(),
                "js_used": h["usedSize"],
                "js_total": h["totalSize"],
                "backing": h.get("backingStorageSize", 0),
                "embedder": h.get("embedderHeapUsedSize", 0),
                "wasm_buf": page_mem[0],
                "wasm_used": page_mem[1],
                "rows": page_mem[2],
                "renderer_rss": proc_rss(procs.renderer_pid),
                "kernel_rss": proc_rss(kernel_pid),
            }
            mem_py.append(s)
            return s

        lng0 = page.evaluate(CENTER_JS)
        size = page.evaluate(START_JS, [args.dx, args.pan])
        log(f"[{name}] map {size}; baseline pan ({args.pan}) {args.baseline:g} s")
        time.sleep(args.baseline)
        moved = page.evaluate(CENTER_JS) - lng0
        if args.dx and abs(moved) < 1e-6:
            raise RuntimeError(f"the map did not pan ({args.pan})")
        sample("start", gc=True)
        cpu0 = procs.cpu()
        page.evaluate(PHASE_JS, "stream")
        if args.profile:
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 1000})
            cdp.send("Profiler.start")
        seconds = cfg["seconds"]
        kc.execute(
            f"_thread = _threading.Thread(target=_appender, args=({seconds}, {args.rate}), "
            "daemon=True)\n_thread.start()"
        )
        t_start = time.time()
        mid_done = False
        while True:
            time.sleep(2.0)
            el = time.time() - t_start
            if not mid_done and el >= seconds / 2:
                sample("middle")
                mid_done = True
            else:
                sample("during")
            prog = page.evaluate(PROGRESS_JS)
            done = kc.eval("len(_done)")
            log(
                f"[{name}] {el:5.1f} s: frames {prog[0]}, deltas {prog[1]}, rows {prog[2]}, "
                f"frame {prog[3]} ms, load {loadavg()}"
            )
            if done:
                break
            if el > seconds * 3 + 60:
                raise RuntimeError("the append thread did not finish")
        profile: list[tuple[str, float]] = []
        if args.profile:
            prof = cdp.send("Profiler.stop")["profile"]
            cdp.send("Profiler.disable")
            profile = top_self_time(prof, WasmNames.with_internal_names(), top=args.profile)
        # let the view catch up with the last deltas (still panning), then stop
        target = kc.eval("m._seq")
        t_last = time.time()
        try:
            c.wait_until(lambda: page.evaluate(SEQ_JS) >= target, args.catch_up, "the last delta")
        except TimeoutError:
            log(f"[{name}] the view did not catch up within {args.catch_up:g} s")
        catch_up_s = time.time() - t_last
        time.sleep(1.0)
        cpu1 = procs.cpu()
        # pan only again, with every row appended held (13M in 'grow')
        page.evaluate(PHASE_JS, "after")
        time.sleep(args.after)
        page.evaluate(PHASE_JS, "end")
        rec = page.evaluate(STOP_JS)
        time.sleep(0.5)
        sample("end", gc=True)
        klog = kc.eval("_log", timeout=120)
        kernel_rss = kc.eval("_rss")
        cfg["load_end"] = loadavg()
        a = analyse(rec, klog, mem_py, {k: cpu1[k] - cpu0[k] for k in cpu0}, args.rate)
        a["kernel_rss_series"] = kernel_rss
        a["catch_up_s"] = catch_up_s
        a["pan_moved_deg"] = moved
        a["page_errors"] = errors[-10:]
        a["chromium"] = version
        a["driver"] = "Playwright attached" if args.playwright else "plain CDP"
        a["profile"] = profile
        if args.playwright:
            with contextlib.suppress(Exception):
                page.screenshot(path=str(Path(args.tmp) / f"stream-{name}.png"))
        return a
    finally:
        if kc is not None:
            kc.close()
        with contextlib.suppress(Exception):
            kid = server.kernel_id_for(nb_path, timeout=5)
            server.api(f"/api/kernels/{kid}", method="DELETE", timeout=30)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seconds", type=float, default=60.0, help="streaming time per run (60)")
    ap.add_argument(
        "--grow-seconds",
        type=float,
        default=None,
        help="streaming time of the 'grow' run (default: --seconds)",
    )
    ap.add_argument("--rate", type=float, default=TARGET_RATE, help="batches per second (20)")
    ap.add_argument("--batch", type=int, default=10_000, help="rows per batch (10000)")
    ap.add_argument("--initial", type=int, default=INITIAL, help="rows shown first (1000000)")
    ap.add_argument("--window", type=int, default=INITIAL, help="max_points of 'window' (1000000)")
    ap.add_argument("--runs", default="window,grow", help="window,grow (either or both)")
    ap.add_argument("--baseline", type=float, default=10.0, help="pan-only seconds first (10)")
    ap.add_argument("--dx", type=float, default=2.0, help="pixels panned per animation frame")
    ap.add_argument(
        "--pan",
        choices=("drag", "panby"),
        default="drag",
        help="drag: one long synthetic mouse drag (default); panby: map.panBy each frame",
    )
    ap.add_argument(
        "--after", type=float, default=8.0, help="pan-only seconds after the view caught up (8)"
    )
    ap.add_argument(
        "--no-probe",
        dest="probe",
        action="store_false",
        help="do not time the kernel's exports in the page",
    )
    ap.add_argument(
        "--catch-up",
        type=float,
        default=180.0,
        help="seconds to wait after the last append for the view to draw it",
    )
    ap.add_argument("--height", type=int, default=600, help="map height, CSS px (600)")
    ap.add_argument(
        "--basemap",
        default=None,
        help="basemap trait (default None: the offline outlines only; tiles "
        "cannot load here and every aborted tile request costs the driver)",
    )
    ap.add_argument(
        "--playwright",
        action="store_true",
        help="time with Playwright attached (its network tracking copies every websocket "
        "frame on the page's main thread); default: plain CDP, Playwright detached",
    )
    ap.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="sample the page's main thread (CDP Profiler, 1 ms) while appending and print "
        "its N costliest functions by self time (heat.wasm's exports named)",
    )
    ap.add_argument("--json", default=None, help="write the raw records here")
    args = ap.parse_args()
    if args.dx < 0:
        ap.error(f"--dx {args.dx:g}: pixels per frame must be >= 0 (0: no pan)")
    c = load_harness()
    from playwright.sync_api import sync_playwright

    args.tmp = tempfile.mkdtemp(prefix="heatwidget-stream-bench-")
    grow_s = args.grow_seconds if args.grow_seconds is not None else args.seconds
    configs = {
        "window": {
            "max_points": args.window,
            "seconds": args.seconds,
            "desc": f"max_points={args.window:,} (sliding window)",
        },
        "grow": {
            "max_points": None,
            "seconds": grow_s,
            "desc": f"max_points=None (every row kept, {grow_s:g} s)",
        },
    }
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    log(f"load average at start: {loadavg()}; artifacts in {args.tmp}")
    server = c.start_jupyter_lab(Path(args.tmp), Path(args.tmp) / "lab.log")
    results: dict[str, Any] = {}
    try:
        with sync_playwright() as pw:
            for name in runs:
                cfg = dict(
                    configs[name],
                    rate=args.rate,
                    batch=args.batch,
                    load_start=loadavg(),
                    pan=args.pan,
                )
                a = run_one(c, pw, server, name, cfg, args)
                results[name] = {"cfg": cfg, "figures": a}
    finally:
        c.stop_jupyter_lab(server)

    chromium = next(iter(results.values()))["figures"]["chromium"] if results else "?"
    print(f"## Streaming benchmark, {dt.date.today().isoformat()}\n")
    print(
        f"`python bench/stream.py --seconds {args.seconds:g}"
        + (f" --grow-seconds {grow_s:g}" if grow_s != args.seconds else "")
        + (" --playwright" if args.playwright else "")
        + (f" --dx {args.dx:g}" if args.dx != 2.0 else "")
        + f"`: {os.cpu_count()} cores, no GPU, Chromium {chromium} headless, "
        f"{'Playwright attached' if args.playwright else 'plain CDP'}, "
        f"Python {platform.python_version()}, {args.initial:,} initial points "
        f"(cities, seed 0), batches of {args.batch:,} rows at {args.rate:g}/s.\n"
    )
    verdicts = []
    for name, r in results.items():
        a, cfg = r["figures"], r["cfg"]
        print(report(name, cfg, a))
        mv, mtext = memory_verdict(a)
        print(f"\nMemory (GC forced before the start and end samples): {mtext}.\n")
        if a["page_errors"]:
            print(f"Page errors: {a['page_errors']}\n")
        if a.get("profile"):
            secs = a.get("stream", {}).get("seconds", 0) or 1
            print("| page main thread while appending, self time | ms | ms per s |")
            print("|---|---|---|")
            for fn, ms in a["profile"]:
                print(f"| `{fn}` | {ms:.0f} | {ms / secs:.0f} |")
            print()
        s = a.get("stream", {})
        verdicts.append(
            (name, a.get("batches_per_s", 0), s.get("fps_median", 0), s.get("fps_min", 0), mv)
        )
    print("### Targets\n")
    print("| run | ≥ 20 batches/s | ≥ 30 fps during pan (median; min) | memory flat beyond data |")
    print("|---|---|---|---|")
    for name, rate, fps, fmin, mv in verdicts:
        print(
            f"| {name} | {rate:.2f} {'MET' if rate >= 0.99 * TARGET_RATE else 'NOT MET'} | "
            f"{fps:.0f}; {fmin:.0f} {'MET' if fps >= TARGET_FPS else 'NOT MET'}"
            f"{'' if fmin >= TARGET_FPS else ' (min below)'} | {mv} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(results, default=str))
        log(f"raw records in {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

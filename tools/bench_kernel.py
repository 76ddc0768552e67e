"""Time the heat kernel under wasmtime: 1M points, 1024x768, radius 25 (median of 10).

python tools/bench_kernel.py [--wasm path] [--points N] [--radius R] [--repeat K]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pyarrow as pa

from heatwidget.host.kernel import HW_AGG_SUM, HW_SCALE_LINEAR, Kernel
from heatwidget.host.viewport import Viewport, unproject
from heatwidget.traits.colormaps import resolve_lut


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wasm", default=None)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--radius", type=float, default=25.0)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--height", type=int, default=768)
    args = ap.parse_args()

    vp = Viewport((48.0, 10.0), 6, args.width, args.height)
    x0, y0 = vp.origin
    rng = np.random.default_rng(0)
    n = args.points
    # a mix: clusters in view plus a uniform background, some points off screen
    px = np.concatenate(
        [
            rng.normal(x0 + args.width * 0.4, 120, n // 2),
            rng.uniform(x0 - 300, x0 + args.width + 300, n - n // 2),
        ]
    )
    py = np.concatenate(
        [
            rng.normal(y0 + args.height * 0.5, 90, n // 2),
            rng.uniform(y0 - 300, y0 + args.height + 300, n - n // 2),
        ]
    )
    lat, lon = unproject(px, py, vp.zoom)
    table = pa.table({"lon": lon, "lat": lat, "weight": rng.uniform(0, 1, n).astype(np.float32)})
    lut = resolve_lut("inferno")

    k = Kernel(args.wasm)
    t = time.perf_counter()
    k.load(table)
    load_ms = (time.perf_counter() - t) * 1e3
    dens, col = [], []
    mx = 0.0
    for _ in range(args.repeat + 1):  # the first run warms up (allocates the frame)
        t = time.perf_counter()
        _, mx = k.density((x0, y0), vp.zoom, args.width, args.height, args.radius, HW_AGG_SUM)
        dens.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        k.colorize(0.0, mx, HW_SCALE_LINEAR, 0.0, lut)
        col.append((time.perf_counter() - t) * 1e3)
    print(
        f"{n} points, {args.width}x{args.height}, radius {args.radius}: "
        f"load {load_ms:.1f} ms, density median {statistics.median(dens[1:]):.1f} ms "
        f"(min {min(dens[1:]):.1f}), colorize median {statistics.median(col[1:]):.2f} ms "
        f"(min {min(col[1:]):.2f}); times include the copy out to numpy; "
        f"memory {k.memory_bytes / 2**20:.1f} MiB"
    )
    k.close()


if __name__ == "__main__":
    main()

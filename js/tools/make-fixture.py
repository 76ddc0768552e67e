"""Writes the browser harness's inputs into js/tools/.out/ (git-ignored):
points.arrow  Arrow IPC stream of N points (lon float64, lat float64, weight float32), in
              several record batches, the way heatwidget/_wire.py sends `_points`;
lut.bin       1024 bytes, inferno as 256 RGBA entries (matplotlib if present, else a ramp).
Usage: python3 tools/make-fixture.py [N=1000000]
"""

import pathlib
import sys

import numpy as np
import pyarrow as pa

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
out = pathlib.Path(__file__).parent / ".out"
out.mkdir(exist_ok=True)

rng = np.random.default_rng(42)
cities = np.array(
    [
        [-74.0, 40.7],
        [2.35, 48.85],
        [139.7, 35.7],
        [-46.6, -23.5],
        [77.2, 28.6],
        [-0.13, 51.5],
        [31.2, 30.0],
        [-99.1, 19.4],
        [151.2, -33.9],
        [116.4, 39.9],
    ]
)
pick = rng.integers(0, len(cities), n)
spread = rng.exponential(1.5, n)[:, None]
pts = cities[pick] + rng.normal(0, 1, (n, 2)) * spread
lon = ((pts[:, 0] + 180) % 360) - 180
lat = np.clip(pts[:, 1], -85, 85)
weight = rng.random(n).astype(np.float32)
table = pa.table({"lon": lon, "lat": lat, "weight": weight})
batches = table.to_batches(max_chunksize=300_000)
with pa.OSFile(str(out / "points.arrow"), "wb") as f, pa.ipc.new_stream(f, table.schema) as w:
    for b in batches:
        w.write_batch(b)

try:
    from matplotlib import colormaps

    lut = (colormaps["inferno"](np.linspace(0, 1, 256)) * 255).round().astype(np.uint8)
except ImportError:
    t = np.linspace(0, 1, 256)
    lut = np.stack([t * 255, t**2 * 200, (1 - t) * 120, np.full(256, 255)], 1).astype(np.uint8)
(out / "lut.bin").write_bytes(lut.tobytes())
print(f"{n} points in {len(batches)} batches -> {out}/points.arrow, lut.bin")

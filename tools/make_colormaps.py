"""Generate heatwidget/traits/colormaps.json from matplotlib (run once; the output is committed).

    python tools/make_colormaps.py            # writes heatwidget/traits/colormaps.json
    python tools/make_colormaps.py --check    # exits 1 if the committed file differs

Every built-in matplotlib colormap except the qualitative ones (tab10, Set1, ...: categorical
palettes make no sense for a continuous density) and the ``_r`` reversals (heatwidget reverses
at run time) is sampled at its 256 entries: ``cmap.resampled(256)(range(256))`` gives floats in
0..1 that are rounded to bytes (``round(v * 255)``; matplotlib's own ``bytes=True`` truncates,
so it can differ by one). Each map is stored as base64 of 768 bytes (256 x RGB).

The CSS4 colour names (``matplotlib.colors.CSS4_COLORS``) are stored too, so lists of named
colours resolve without matplotlib at run time.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path

import matplotlib
import matplotlib.colors as mcolors
import numpy as np

OUT = Path(__file__).resolve().parent.parent / "heatwidget" / "traits" / "colormaps.json"

QUALITATIVE = {
    "Accent", "Dark2", "Paired", "Pastel1", "Pastel2", "Set1", "Set2", "Set3",
    "tab10", "tab20", "tab20b", "tab20c", "okabe_ito",
}  # fmt: skip

# The brief's must-haves: fail loudly if a matplotlib upgrade ever drops one.
REQUIRED = [
    "viridis", "plasma", "inferno", "magma", "cividis", "turbo", "hot", "afmhot", "gist_heat",
    "YlOrRd", "YlOrBr", "OrRd", "Reds", "Oranges", "Purples", "Blues", "Greens", "Greys", "PuRd",
    "RdPu", "BuPu", "GnBu", "PuBu", "YlGnBu", "PuBuGn", "BuGn", "YlGn", "Spectral", "coolwarm",
    "RdYlBu", "RdYlGn", "bone", "copper", "cubehelix", "jet", "rainbow",
]  # fmt: skip


def lut_bytes(name: str) -> bytes:
    cmap = matplotlib.colormaps[name].resampled(256)
    rgba = np.asarray(cmap(np.arange(256)), dtype=np.float64)
    return np.round(rgba[:, :3] * 255).astype(np.uint8).tobytes()


def build() -> str:
    names = sorted(
        (n for n in matplotlib.colormaps if not n.endswith("_r") and n not in QUALITATIVE),
        key=str.lower,
    )
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise SystemExit(f"matplotlib {matplotlib.__version__} lacks {missing}")
    doc = {
        "source": f"matplotlib {matplotlib.__version__}, tools/make_colormaps.py",
        "format": "base64 of 256 x (r, g, b) bytes per map; entry 0 is the low end",
        "colormaps": {n: base64.b64encode(lut_bytes(n)).decode("ascii") for n in names},
        "named_colors": {k: v.lower() for k, v in sorted(mcolors.CSS4_COLORS.items())},
    }
    return json.dumps(doc, indent=0, separators=(",", ":")) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file")
    args = ap.parse_args()
    text = build()
    if args.check:
        same = OUT.exists() and OUT.read_text() == text
        print("colormaps.json is up to date" if same else "colormaps.json differs")
        return 0 if same else 1
    OUT.write_text(text)
    print(f"wrote {OUT} ({len(text)} bytes, {len(json.loads(text)['colormaps'])} maps)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Reading the pictures a view sends back: PNG files, and whether a snapshot shows the heat."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

#: The offline basemap's sea (js/src/widget.css) and land (js/src/outlines.ts) colours.
SEA, LAND = (0xD4, 0xE6, 0xEE), (0xF3, 0xF1, 0xEC)


def load_png(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(path.read_bytes())) as im:
        im.load()  # checks every chunk's CRC
        return np.asarray(im.convert("RGBA"))


def heat_matches(snap: np.ndarray, heat: np.ndarray, opacity: float) -> tuple[int, float]:
    """Where the heat canvas is opaque, the snapshot must be the heat over the sea or the land
    at `opacity`: (pixels compared, median colour error)."""
    h, w = heat.shape[:2]
    mask = heat[..., 3] == 255
    # not under the legend / attribution in the bottom-right corner
    mask[int(h * 0.7) :, int(w * 0.6) :] = False
    rgb = heat[..., :3][mask].astype(float)
    got = snap[..., :3][mask].astype(float)
    errs = [
        np.abs(got - (opacity * rgb + (1 - opacity) * np.array(bg, float))).max(axis=1)
        for bg in (SEA, LAND)
    ]
    err = np.minimum(*errs)
    return int(mask.sum()), float(np.median(err))

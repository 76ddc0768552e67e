"""The Python rendering of the whole map, as the view draws it with no tiles: the sea, the
offline Natural Earth outlines (outlines.py), the heat at ``opacity`` and the legend (the
colour bar over its checkerboard, the domain's three values, the title), so ``to_png(view=False)``
and the picture in the notebook file look like the live map offline.

The legend follows js/src/legend.ts and widget.css: a box at the bottom right (10 px from the
edges, above the attribution line), white at 85 %, padding 6 × 8 px, a bold title, a 160 × 10
bar whose low end fades like the kernel's alpha ramp, and labels formatted as the view does.
"""

from __future__ import annotations

import math

import numpy as np

from .outlines import draw_outlines
from .text import draw_text, text_width
from .viewport import Viewport

__all__ = ["compose", "label"]

BAR_W, BAR_H = 160, 10
PAD_X, PAD_Y = 8, 6
MARGIN = 10
ATTRIBUTION_H = 16  # Leaflet's attribution line sits below the legend in the same corner
LINE = 14  # 12 px text at line-height 1.2
TEXT = (0x33, 0x33, 0x33)


def label(v: float) -> str:
    """legend.ts ``format``: exponential for |v| >= 1e5 or tiny, else 3 significant digits
    with thousands separators (``toLocaleString("en-US", {maximumSignificantDigits: 3})``)."""
    if not math.isfinite(v):
        return str(v)
    if abs(v) >= 1e5 or (v != 0 and abs(v) < 1e-3):
        mantissa, exp = f"{v:.1e}".split("e")
        return f"{mantissa}e{'+' if int(exp) >= 0 else '-'}{abs(int(exp))}"
    if v == 0:
        return "0"
    digits = 2 - math.floor(math.log10(abs(v)))
    rounded = round(v, digits)
    text = f"{rounded:,.{max(digits, 0)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _middle(vmin: float, vmax: float, scale: str) -> float:
    if scale == "log":
        return math.sqrt(vmin * vmax) if vmin * vmax >= 0 else math.nan
    if scale == "sqrt":
        return vmin + 0.25 * (vmax - vmin)
    return (vmin + vmax) / 2


def _legend(img: np.ndarray, lut: bytes, vmin: float, vmax: float, scale: str, title: str) -> None:
    h, w = img.shape[:2]
    inner_h = (LINE + 4 if title else 0) + BAR_H + 2 + LINE
    box_w, box_h = BAR_W + 2 * PAD_X, inner_h + 2 * PAD_Y
    x0 = w - MARGIN - box_w
    y0 = h - ATTRIBUTION_H - MARGIN - box_h
    if x0 < 0 or y0 < 0:
        return  # too small a picture for a legend
    box = img[y0 : y0 + box_h, x0 : x0 + box_w]
    box[...] = box * 0.15 + 255.0 * 0.85
    y = y0 + PAD_Y
    if title:
        draw_text(img, x0 + PAD_X, y, title[:40], TEXT, bold=True)
        y += LINE + 4
    table = np.frombuffer(bytes(lut), np.uint8).reshape(256, 4).astype(np.float64)
    i = np.round(np.arange(BAR_W) / (BAR_W - 1) * 255).astype(int)
    alpha = table[i, 3] * np.minimum(i, 64) / 64 / 255.0
    yy, xx = np.mgrid[0:BAR_H, 0:BAR_W]
    # widget.css: repeating-conic-gradient(#ddd 0 25%, #fff 0 50%) / 10px 10px
    right, low = (xx % 10) >= 5, (yy % 10) >= 5
    grey = np.where(right == low, 255.0, 221.0)
    bar = grey[..., None] * (1 - alpha[None, :, None]) + table[i, :3][None] * alpha[None, :, None]
    img[y : y + BAR_H, x0 + PAD_X : x0 + PAD_X + BAR_W] = bar
    y += BAR_H + 2
    values = [label(vmin), label(_middle(vmin, vmax, scale)), label(vmax)]
    left = x0 + PAD_X
    draw_text(img, left, y, values[0], TEXT)
    draw_text(img, left + (BAR_W - text_width(values[1])) / 2, y, values[1], TEXT)
    draw_text(img, left + BAR_W - text_width(values[2]), y, values[2], TEXT)


def compose(
    rgba: np.ndarray,
    view: Viewport,
    *,
    opacity: float,
    lut: bytes,
    vmin: float,
    vmax: float,
    scale: str,
    legend: bool,
    title: str,
) -> np.ndarray:
    """(h, w, 3) uint8: outlines, then the heat (straight alpha) at ``opacity``, then the
    legend."""
    h, w = rgba.shape[:2]
    img = np.empty((h, w, 3), dtype=np.float64)
    draw_outlines(img, view)
    a = rgba[..., 3:4].astype(np.float64) * (float(opacity) / 255.0)
    img = img * (1.0 - a) + rgba[..., :3].astype(np.float64) * a
    if legend:
        _legend(img, lut, vmin, vmax, scale, title)
    out: np.ndarray = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return out

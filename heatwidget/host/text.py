"""Text for the Python rendering's legend, drawn from glyph bitmaps shipped in font.json
(Liberation Sans 12 px, regular and bold, made by tools/make_font.py): no Pillow, no system font.
"""

from __future__ import annotations

import base64
import functools
import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["draw_text", "text_width"]

_FILE = Path(__file__).resolve().parent / "font.json"


@functools.lru_cache(maxsize=1)
def _fonts() -> dict[str, Any]:
    raw = json.loads(_FILE.read_text())
    fonts: dict[str, Any] = json.loads(zlib.decompress(base64.b64decode(raw["zlib_base64"])))
    for font in fonts.values():
        for ch, (adv, left, top, w, h, data) in list(font["glyphs"].items()):
            bitmap = np.frombuffer(base64.b64decode(data), np.uint8).reshape(h, w) if data else None
            font["glyphs"][ch] = (float(adv), int(left), int(top), bitmap)
    return fonts


def _glyph(font: dict[str, Any], ch: str) -> tuple[float, int, int, np.ndarray | None]:
    glyph: tuple[float, int, int, np.ndarray | None] = font["glyphs"].get(ch, font["glyphs"]["?"])
    return glyph


def text_width(text: str, bold: bool = False) -> float:
    font = _fonts()["bold" if bold else "regular"]
    return sum(_glyph(font, ch)[0] for ch in text)


def draw_text(
    img: np.ndarray, x: float, y: float, text: str, rgb: tuple[int, int, int], bold: bool = False
) -> None:
    """Draw ``text`` on ``img`` ((h, w, 3) float64, 0..255) with its top-left at (x, y) (the
    top of the 12 px em box); characters outside printable ASCII are drawn as '?'."""
    font = _fonts()["bold" if bold else "regular"]
    colour = np.asarray(rgb, dtype=np.float64)
    h, w = img.shape[:2]
    pen = float(x)
    for ch in text:
        adv, left, top, bitmap = _glyph(font, ch)
        if bitmap is not None:
            gx, gy = round(pen) + left, round(y) + top
            gh, gw = bitmap.shape
            x0, y0, x1, y1 = max(gx, 0), max(gy, 0), min(gx + gw, w), min(gy + gh, h)
            if x0 < x1 and y0 < y1:
                a = bitmap[y0 - gy : y1 - gy, x0 - gx : x1 - gx, None].astype(np.float64) / 255.0
                region = img[y0:y1, x0:x1]
                region[...] = region * (1.0 - a) + colour * a
        pen += adv

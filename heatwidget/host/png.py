"""RGBA frames → PNG bytes, with the standard library's zlib (no Pillow needed)."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

__all__ = ["composite", "encode_png", "encode_rgb"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _background_rgb(background: Any) -> np.ndarray:
    from ..traits.colormaps import _parse_color

    try:
        rgb = _parse_color(background)
    except ValueError as e:
        raise ValueError(f"bad background {background!r}: {e}") from None
    return np.array(rgb, dtype=np.float64)


def composite(rgba: np.ndarray, background: Any, opacity: float = 1.0) -> np.ndarray:
    """(h, w, 3) uint8: the heat (straight alpha) times ``opacity`` over an opaque background."""
    bg = _background_rgb(background)
    h, w = rgba.shape[:2]
    out = np.empty((h * w, 3), dtype=np.uint8)
    out[:] = np.clip(np.floor(bg + 0.5), 0, 255).astype(np.uint8)
    # Only where there is heat: most of a frame is usually transparent (the background).
    flat = rgba.reshape(-1, 4)
    lit = np.flatnonzero(flat[:, 3])
    if lit.size:
        px = flat[lit]
        a = px[:, 3:4].astype(np.float64) / 255.0 * float(opacity)
        mixed = px[:, :3].astype(np.float64) * a + bg * (1.0 - a)
        out[lit] = np.clip(np.floor(mixed + 0.5), 0, 255).astype(np.uint8)
    return out.reshape(h, w, 3)


def encode_png(
    rgba: np.ndarray, background: Any = None, opacity: float = 1.0, *, level: int = 6
) -> bytes:
    """PNG bytes of an (h, w, 4) uint8 RGBA frame (not premultiplied, as hw_frame_rgba).

    ``background=None`` writes an RGBA PNG whose alpha is the frame's alpha times ``opacity``.
    With a background colour (``'#rrggbb'``, ``'#rgb'``, a CSS name or an (r, g, b) tuple) the
    heat is composited at ``opacity`` over it and an opaque RGB PNG is written.
    """
    arr = np.asarray(rgba)
    if arr.ndim != 3 or arr.shape[2] != 4 or arr.dtype != np.uint8:
        raise ValueError(f"rgba must be an (h, w, 4) uint8 array, got {arr.shape} {arr.dtype}")
    opacity = float(opacity)
    if not 0.0 <= opacity <= 1.0:
        raise ValueError(f"opacity must be in [0, 1], got {opacity}")
    h, w = arr.shape[:2]
    if h < 1 or w < 1:
        raise ValueError(f"cannot write an empty {w}x{h} PNG")
    if background is None:
        pixels = arr
        if opacity != 1.0:
            pixels = arr.copy()
            pixels[..., 3] = np.floor(arr[..., 3] * opacity + 0.5).astype(np.uint8)
        color_type = 6
    else:
        pixels = composite(arr, background, opacity)
        color_type = 2
    rows = np.ascontiguousarray(pixels).reshape(h, -1)
    raw = np.empty((h, rows.shape[1] + 1), dtype=np.uint8)
    raw[:, 0] = 0  # filter type None on every row
    raw[:, 1:] = rows
    ihdr = struct.pack(">IIBBBBB", w, h, 8, color_type, 0, 0, 0)
    return (
        _SIGNATURE
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), level))
        + _chunk(b"IEND", b"")
    )


def encode_rgb(rgb: np.ndarray, *, level: int = 6) -> bytes:
    """PNG bytes of an (h, w, 3) uint8 picture (opaque), each row filtered with "Sub" (a
    picture of flat colours compresses far better that way)."""
    arr = np.ascontiguousarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"rgb must be an (h, w, 3) uint8 array, got {arr.shape} {arr.dtype}")
    h, w = arr.shape[:2]
    if h < 1 or w < 1:
        raise ValueError(f"cannot write an empty {w}x{h} PNG")
    rows = arr.reshape(h, -1)
    sub = rows.copy()
    sub[:, 3:] -= rows[:, :-3]  # uint8 wraps: Sub is modulo 256
    raw = np.empty((h, rows.shape[1] + 1), dtype=np.uint8)
    raw[:, 0] = 1  # filter type Sub
    raw[:, 1:] = sub
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        _SIGNATURE
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw.tobytes(), level))
        + _chunk(b"IEND", b"")
    )

"""Morton (Z-order) codes of pixels: x in the even bits, y in the odd bits, up to 32 bits each.

A level-``l`` pixel is the fixed-point position shifted right by ``24 - l`` (a world of
``256 * 2**l`` pixels, heat.h "Coordinates"), so its parent one level up is ``code >> 2``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["decode", "encode", "pixels"]

_MASKS = (
    (16, 0x0000FFFF0000FFFF),
    (8, 0x00FF00FF00FF00FF),
    (4, 0x0F0F0F0F0F0F0F0F),
    (2, 0x3333333333333333),
    (1, 0x5555555555555555),
)


def _spread(v: np.ndarray) -> np.ndarray:
    v = v.astype(np.uint64) & np.uint64(0xFFFFFFFF)
    for shift, mask in _MASKS:
        v = (v | (v << np.uint64(shift))) & np.uint64(mask)
    return v


def encode(px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """uint64 codes of the pixels ``(px, py)`` (each < 2**32)."""
    code: np.ndarray = _spread(px) | (_spread(py) << np.uint64(1))
    return code


def decode(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(px, py)`` (uint64) of Morton codes."""
    c = np.asarray(code, dtype=np.uint64)
    return _compact(c), _compact(c >> np.uint64(1))


def _compact(v: np.ndarray) -> np.ndarray:
    v = v & np.uint64(0x5555555555555555)
    v = (v | (v >> np.uint64(1))) & np.uint64(0x3333333333333333)
    v = (v | (v >> np.uint64(2))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    v = (v | (v >> np.uint64(4))) & np.uint64(0x00FF00FF00FF00FF)
    v = (v | (v >> np.uint64(8))) & np.uint64(0x0000FFFF0000FFFF)
    v = (v | (v >> np.uint64(16))) & np.uint64(0x00000000FFFFFFFF)
    return v


def pixels(x: np.ndarray, y: np.ndarray, level: int) -> np.ndarray:
    """Codes of the level-``level`` pixels (0 <= level <= 24) of fixed-point ``x``, ``y``."""
    shift = np.uint32(24 - level)
    return encode(np.asarray(x, np.uint32) >> shift, np.asarray(y, np.uint32) >> shift)

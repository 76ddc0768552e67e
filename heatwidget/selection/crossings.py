"""``Crossings``: whether the edges of a polygon's rings cross or touch (other than two edges of
one ring meeting at their shared vertex). Our own check, vectorised with numpy, so the result
does not depend on whether shapely is installed; it agrees with shapely's ``is_valid`` on
self-crossing lassos (tests/test_selection_shape.py), and is stricter in one corner: a hole
touching its shell at a single point is refused here, while OGC (shapely) allows it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Crossings"]

# Pairs of edges tested per numpy step (bounds memory: a few arrays of this many floats).
_BLOCK = 1 << 20


def _orient(
    ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray, cx: np.ndarray, cy: np.ndarray
) -> np.ndarray:
    out: np.ndarray = np.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax))
    return out


def _within(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """c between a and b (inclusive), for collinear points."""
    out: np.ndarray = (np.minimum(a, b) <= c) & (c <= np.maximum(a, b))
    return out


class Crossings:
    """The edges of ``rings`` ((k, 2) arrays, closed, no repeated consecutive vertices)."""

    def __init__(self, rings: Sequence[np.ndarray]) -> None:
        self._a = np.concatenate([r[:-1] for r in rings])
        self._b = np.concatenate([r[1:] for r in rings])
        ring_of = np.concatenate([np.full(len(r) - 1, i) for i, r in enumerate(rings)])
        pos = np.concatenate([np.arange(len(r) - 1) for r in rings])
        size = np.concatenate([np.full(len(r) - 1, len(r) - 1) for r in rings])
        self._ring, self._pos, self._size = ring_of, pos, size

    def first(self) -> tuple[int, int, tuple[float, float]] | None:
        """The first pair of edges (i, j), i < j, that cross or touch, and a point they share;
        None when there is none."""
        n = len(self._a)
        rows = max(1, _BLOCK // max(n, 1))
        for start in range(0, n, rows):
            i = np.arange(start, min(n, start + rows))[:, None]
            j = np.arange(n)[None, :]
            i, j = np.broadcast_arrays(i, j)
            keep = j > i
            same = self._ring[i] == self._ring[j]
            gap = np.abs(self._pos[i] - self._pos[j])
            adjacent = same & ((gap == 1) | (gap == self._size[i] - 1))
            keep &= ~adjacent
            ii, jj = i[keep], j[keep]
            if not len(ii):
                continue
            hit = self._hits(ii, jj)
            if hit.any():
                k = int(np.argmax(hit))
                a, b = int(ii[k]), int(jj[k])
                return a, b, self._point(a, b)
        return None

    def _hits(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        p1x, p1y = self._a[i, 0], self._a[i, 1]
        q1x, q1y = self._b[i, 0], self._b[i, 1]
        p2x, p2y = self._a[j, 0], self._a[j, 1]
        q2x, q2y = self._b[j, 0], self._b[j, 1]
        # bounding boxes first: most pairs are far apart
        near = (
            (np.maximum(p1x, q1x) >= np.minimum(p2x, q2x))
            & (np.maximum(p2x, q2x) >= np.minimum(p1x, q1x))
            & (np.maximum(p1y, q1y) >= np.minimum(p2y, q2y))
            & (np.maximum(p2y, q2y) >= np.minimum(p1y, q1y))
        )
        o1 = _orient(p1x, p1y, q1x, q1y, p2x, p2y)
        o2 = _orient(p1x, p1y, q1x, q1y, q2x, q2y)
        o3 = _orient(p2x, p2y, q2x, q2y, p1x, p1y)
        o4 = _orient(p2x, p2y, q2x, q2y, q1x, q1y)
        proper = (o1 * o2 < 0) & (o3 * o4 < 0)
        touch = (
            ((o1 == 0) & _within(p1x, q1x, p2x) & _within(p1y, q1y, p2y))
            | ((o2 == 0) & _within(p1x, q1x, q2x) & _within(p1y, q1y, q2y))
            | ((o3 == 0) & _within(p2x, q2x, p1x) & _within(p2y, q2y, p1y))
            | ((o4 == 0) & _within(p2x, q2x, q1x) & _within(p2y, q2y, q1y))
        )
        out: np.ndarray = near & (proper | touch)
        return out

    def _point(self, i: int, j: int) -> tuple[float, float]:
        """Where edges i and j meet (the intersection of their lines, or a shared end)."""
        p, r = self._a[i], self._b[i] - self._a[i]
        q, s = self._a[j], self._b[j] - self._a[j]
        den = r[0] * s[1] - r[1] * s[0]
        if den == 0:  # collinear overlap or touching ends: an end of one on the other
            for c in (self._a[j], self._b[j], self._a[i], self._b[i]):
                return float(c[0]), float(c[1])
        t = ((q[0] - p[0]) * s[1] - (q[1] - p[1]) * s[0]) / den
        x, y = p + t * r
        return float(x), float(y)

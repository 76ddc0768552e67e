"""``EvenOdd``: which points lie inside a set of rings (even-odd rule), boundary included.

The test is planar in (lon, lat) degrees, as GeoJSON (RFC 7946 §3.1.1) and shapely take it: an
edge is the straight line between its vertices on a plate carrée. Points on an edge or a vertex
(within ``TOLERANCE`` degrees of it, about 0.1 mm) count as inside. Holes are rings like any
other: a point inside a hole crosses an even number of edges.

Vectorised over the points: they are sorted by latitude once, so each edge only looks at the
slice of points in its latitude band (a lasso of E edges over N points costs about N log N plus
N times the edges a horizontal line meets, not N × E).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["TOLERANCE", "EvenOdd"]

#: Points within this distance (degrees) of an edge are on it (and so inside).
TOLERANCE = 1e-9


class EvenOdd:
    """The even-odd test against ``rings``: each an (k, 2) float64 array of (lon, lat) vertices,
    closed (first == last)."""

    def __init__(self, rings: Sequence[np.ndarray]) -> None:
        starts = [r[:-1] for r in rings]
        ends = [r[1:] for r in rings]
        a = np.concatenate(starts) if starts else np.empty((0, 2))
        b = np.concatenate(ends) if ends else np.empty((0, 2))
        # drop zero-length edges (repeated vertices)
        keep = np.any(a != b, axis=1)
        self._a, self._b = a[keep], b[keep]

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Boolean mask: (x[i], y[i]) is inside or on the boundary."""
        n = len(x)
        out = np.zeros(n, dtype=bool)
        if n == 0 or len(self._a) == 0:
            return out
        if n < 2 or bool(np.all(y[1:] >= y[:-1])):  # already by latitude (totals.each)
            order, ys, xs = None, y, x
        else:
            order = np.argsort(y, kind="stable")
            ys, xs = y[order], x[order]
        odd = np.zeros(n, dtype=bool)
        on = np.zeros(n, dtype=bool)
        for (x1, y1), (x2, y2) in zip(self._a.tolist(), self._b.tolist(), strict=True):
            ylo, yhi = (y1, y2) if y1 <= y2 else (y2, y1)
            lo = int(np.searchsorted(ys, ylo - TOLERANCE, "left"))
            hi = int(np.searchsorted(ys, yhi + TOLERANCE, "right"))
            if lo >= hi:
                continue
            px, py = xs[lo:hi], ys[lo:hi]
            dx, dy = x2 - x1, y2 - y1
            length = float(np.hypot(dx, dy))
            # on the edge: distance to the segment within TOLERANCE
            t = np.clip(((px - x1) * dx + (py - y1) * dy) / (length * length), 0.0, 1.0)
            dist = np.hypot(px - (x1 + t * dx), py - (y1 + t * dy))
            on[lo:hi] |= dist <= TOLERANCE
            if y1 == y2:
                continue  # a horizontal edge crosses no ray
            # crossings of the ray to +x, half-open band [ylo, yhi) so a vertex counts once
            c0 = int(np.searchsorted(ys, ylo, "left"))
            c1 = int(np.searchsorted(ys, yhi, "left"))
            if c0 >= c1:
                continue
            qy = ys[c0:c1]
            xint = x1 + (qy - y1) * (dx / dy)
            odd[c0:c1] ^= xs[c0:c1] < xint
        if order is None:
            return odd | on
        out[order] = odd | on
        return out

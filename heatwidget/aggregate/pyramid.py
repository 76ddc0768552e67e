"""``Pyramid``: per-pixel sums, counts and largest weights at integer zooms 0..depth.

Level ``l`` holds the non-empty pixels of zoom ``l`` (a world of ``256 * 2**l`` pixels) as
sparse sorted arrays: Morton code (uint64), sum of weights (float64), count (int64), largest
weight (float32): 28 bytes a pixel. A frame at integer zoom ``l`` with an integer origin is
binned exactly from level ``l`` (its pixels are the frame's pixels); other frames use a
finer level's pixel centres (``Aggregator``). Built from batches of fixed-point rows with
numpy; partial pyramids (from batches, partitions, workers) merge by concatenating and
reducing by code.

Depth (``Z``): at most ``MAX_DEPTH`` (16: a street is zoom 15-18; deeper views read rows);
the deepest level is built first, in at most half the budget (default 1 GiB): in-process
engines start at 16 and drop a level whenever the pixels held pass that (``PyramidBuilder``),
Dask starts at the level whose worst case fits (``depth_for``, rows from metadata). Coarser
levels come from the deepest (``code >> 2`` per level); then the deepest levels are dropped
until all of them fit the budget.

Cache: one ``.npz`` (uncompressed): four arrays per level plus the depth. npz because it is
numpy's own container of named typed arrays, loads with ``np.load`` alone (no pyarrow for a
cache), and maps straight back to the arrays kept here; Arrow IPC would add a table layer
for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from . import morton

__all__ = ["BYTES_PER_PIXEL", "DEFAULT_BUDGET", "MAX_DEPTH", "Cells", "Pyramid"]

BYTES_PER_PIXEL = 28
DEFAULT_BUDGET = 1 << 30
MAX_DEPTH = 16


_FIELDS = ("code", "total", "count", "largest")


@dataclass(frozen=True)
class Cells:
    """Sparse per-pixel aggregates of one level, sorted by code, codes unique."""

    code: np.ndarray  # uint64
    total: np.ndarray  # float64
    count: np.ndarray  # int64
    largest: np.ndarray  # float32

    @property
    def nbytes(self) -> int:
        return int(self.code.size) * BYTES_PER_PIXEL

    @staticmethod
    def empty() -> Cells:
        return Cells(
            np.empty(0, np.uint64), np.empty(0), np.empty(0, np.int64), np.empty(0, np.float32)
        )

    @staticmethod
    def of_rows(x: np.ndarray, y: np.ndarray, weight: np.ndarray | None, level: int) -> Cells:
        """The level's pixels of fixed-point rows (rows without a position left out)."""
        keep = np.flatnonzero(np.asarray(y) != 0xFFFFFFFF)
        code = morton.pixels(np.asarray(x)[keep], np.asarray(y)[keep], level)
        return Cells.of_keys(code, keep, weight)

    @staticmethod
    def of_keys(code: np.ndarray, rows: np.ndarray, weight: np.ndarray | None) -> Cells:
        """Rows ``rows`` (indices into ``weight``) keyed by ``code``, reduced by key."""
        if weight is None:
            w = np.ones(code.size, np.float32)
        else:
            w = np.asarray(weight, np.float32)[rows]
        code = np.asarray(code).astype(np.uint64, copy=False)
        return Cells(code, w.astype(np.float64), np.ones(code.size, np.int64), w).reduced()

    def reduced(self, is_sorted: bool = False) -> Cells:
        """Sorted by code, one entry per code."""
        if self.code.size == 0:
            return self
        if is_sorted:
            code, total, count, largest = self.code, self.total, self.count, self.largest
        else:
            order = np.argsort(self.code, kind="stable")
            code, total = self.code[order], self.total[order]
            count, largest = self.count[order], self.largest[order]
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        if starts.size == code.size:  # every code once (deep levels): nothing to reduce
            return Cells(code, total, count, largest)
        return Cells(
            code[starts],
            np.add.reduceat(total, starts),
            np.add.reduceat(count, starts),
            np.maximum.reduceat(largest, starts),
        )

    def parent(self) -> Cells:
        """The level above (pixels of half the resolution): codes stay sorted."""
        parent = Cells(self.code >> np.uint64(2), self.total, self.count, self.largest)
        return parent.reduced(is_sorted=True)

    @staticmethod
    def merge(parts: Iterable[Cells]) -> Cells:
        """One reduced Cells of several: the largest part (usually what is merged so far)
        takes the others by a merge of sorted runs, not by sorting it again."""
        parts = sorted((p for p in parts if p.code.size), key=lambda p: p.code.size)
        if not parts:
            return Cells.empty()
        if len(parts) == 1:
            return parts[0]
        big, rest = parts[-1], parts[:-1]
        small = rest[0] if len(rest) == 1 else Cells.concat(rest).reduced()
        return big.merge_sorted(small)

    @staticmethod
    def concat(parts: list[Cells]) -> Cells:
        return Cells(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))

    def merge_sorted(self, other: Cells) -> Cells:
        """Both sorted: other's entries go in after self's equal codes, then equal codes
        reduce (O(n) scatters and a searchsorted of the smaller)."""
        n = self.code.size + other.code.size
        at = np.searchsorted(self.code, other.code, "right") + np.arange(other.code.size)
        mine = np.ones(n, bool)
        mine[at] = False
        out = []
        for f in _FIELDS:
            a, b = getattr(self, f), getattr(other, f)
            arr = np.empty(n, a.dtype)
            arr[at] = b
            arr[mine] = a
            out.append(arr)
        return Cells(*out).reduced(is_sorted=True)

    def select(self, lo: np.ndarray, hi: np.ndarray) -> Cells:
        """The cells whose code lies in one of the ranges [lo, hi)."""
        return self.take(ranges_index(self.code, lo, hi))

    def take(self, idx: np.ndarray) -> Cells:
        return Cells(self.code[idx], self.total[idx], self.count[idx], self.largest[idx])


def ranges_index(sorted_codes: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Indices of the sorted codes in the ranges [lo, hi) (disjoint ranges)."""
    a = np.searchsorted(sorted_codes, lo, "left")
    b = np.searchsorted(sorted_codes, hi, "left")
    n = b - a
    if not n.sum():
        return np.empty(0, np.int64)
    starts = np.repeat(a - np.r_[0, np.cumsum(n)[:-1]], n)
    idx: np.ndarray = starts + np.arange(int(n.sum()))
    return idx


def depth_for(rows: int, budget: int = DEFAULT_BUDGET) -> int:
    """The deepest level whose pixels, at most ``min(rows, 4**(8 + level))``, fit half the
    budget in the worst case (every row its own pixel): where a pyramid built by an engine
    that cannot adapt while reading (Dask) starts."""
    depth = 0
    for level in range(MAX_DEPTH + 1):
        if BYTES_PER_PIXEL * min(rows, 4 ** (8 + level)) > budget // 2:
            break
        depth = level
    return depth


class Pyramid:
    """Levels 0..depth of per-pixel aggregates (``levels[l]`` is zoom ``l``)."""

    def __init__(self, levels: list[Cells], rows: int) -> None:
        self.levels = levels
        self.rows = rows

    @property
    def depth(self) -> int:
        return len(self.levels) - 1

    @property
    def level_bytes(self) -> list[int]:
        """Bytes each level holds (28 per non-empty pixel)."""
        return [c.nbytes for c in self.levels]

    @classmethod
    def of_deepest(
        cls, deepest: Cells, depth: int, rows: int, budget: int = DEFAULT_BUDGET
    ) -> Pyramid:
        """Levels 0..d from the deepest, d the deepest level whose pyramid fits ``budget``
        bytes: the levels' sizes are counted first (distinct shifted codes, O(n) each), so
        levels that would not fit are never built."""
        code = deepest.code
        sizes = [
            int(np.count_nonzero(np.diff(code >> np.uint64(2 * (depth - level))))) + 1
            if code.size
            else 0
            for level in range(depth + 1)
        ]
        keep = depth
        while keep > 0 and BYTES_PER_PIXEL * sum(sizes[: keep + 1]) > budget:
            keep -= 1
        if keep < depth:
            shift = np.uint64(2 * (depth - keep))
            deepest = Cells(code >> shift, deepest.total, deepest.count, deepest.largest)
            deepest = deepest.reduced(is_sorted=True)
        levels = [deepest]
        for _ in range(keep):
            levels.append(levels[-1].parent())
        levels.reverse()
        return cls(levels, rows)

    def save(self, path: str | PathLike[str]) -> None:
        arrays: dict[str, Any] = {"rows": np.array([self.rows], np.int64)}
        for level, c in enumerate(self.levels):
            for name in ("code", "total", "count", "largest"):
                arrays[f"{name}{level}"] = getattr(c, name)
        with Path(path).open("wb") as f:
            np.savez(f, **arrays)

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Pyramid:
        with np.load(Path(path)) as z:
            depth = sum(1 for k in z.files if k.startswith("code")) - 1
            levels = [
                Cells(z[f"code{i}"], z[f"total{i}"], z[f"count{i}"], z[f"largest{i}"])
                for i in range(depth + 1)
            ]
            return cls(levels, int(z["rows"][0]))

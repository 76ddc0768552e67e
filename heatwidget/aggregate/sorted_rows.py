"""``SortedRows``: the fixed-point rows of a spatially sorted copy, read by row group.

A copy written by ``DuckDBSource.sorted_copy`` holds, besides the rows' own columns, their
fixed-point position (``hw_x``, ``hw_y``: the kernel's projection, computed once in SQL by
``sql_keys``, bit for bit ``Kernel.project``) and their zoom-``LEVEL`` Morton code
(``hw_code``), in code order, and says so in its key-value metadata (``MARKER``). Because
the rows are in code order, each row group's code statistics (min, max) say exactly which
stretch of the Z-curve it holds: a view's code ranges (aligned tiles, ``Aggregator``) pick
its row groups from the footer alone, and only their ``hw_x``, ``hw_y`` and weight columns
are read (pyarrow, memory-mapped, on its own threads). No query is planned and no row is
projected again per view: a street view reads one or two row groups in a few ms, where a DuckDB
query with a lon/lat filter spent 40-60 ms on the 1,526 row groups of 100M rows (its
latitude band met row groups all around the world).
"""

from __future__ import annotations

from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CODE", "LEVEL", "MARKER", "SortedRows", "X", "Y"]

#: the key-value metadata key (and value) of a copy with fixed-point columns in code order
MARKER = ("heatwidget", "sorted-copy-2")
#: the columns a copy adds: fixed-point x, y (uint32) and the zoom-``LEVEL`` Morton code
X, Y, CODE = "hw_x", "hw_y", "hw_code"
LEVEL = 16
#: rows read and binned at once (memory: this many rows' columns, plus the planes)
CHUNK_ROWS = 1 << 20


class SortedRows:
    """The fixed-point rows of the copy at ``path`` (``open`` says whether it is one)."""

    def __init__(self, file: Any, weight: str | None) -> None:
        self.file = file
        self.weight = weight
        meta = file.metadata
        column = file.schema_arrow.get_field_index(CODE)
        n = meta.num_row_groups
        #: each row group's rows and first and last code (a group without statistics: all)
        self.rows = np.array([meta.row_group(g).num_rows for g in range(n)], np.int64)
        self.first = np.zeros(n, np.uint64)
        self.last = np.full(n, np.iinfo(np.uint64).max, np.uint64)
        for g in range(n):
            stats = meta.row_group(g).column(column).statistics
            if stats is not None and stats.has_min_max:
                self.first[g], self.last[g] = int(stats.min), int(stats.max)

    @classmethod
    def open(cls, path: str | PathLike[str], weight: str | None) -> SortedRows | None:
        """The copy's rows, or None when ``path`` is not one file written as a sorted copy
        with fixed-point columns (a glob, other Parquet, a copy of an older version)."""
        if not Path(path).is_file():
            return None
        import pyarrow.parquet as pq

        # memory-mapped: a view's row groups are decoded from the page cache with no read
        # calls or buffer copies (2.6M rows: 10 ms, 24-166 ms read into buffers)
        file = pq.ParquetFile(path, memory_map=True)
        kv = file.metadata.metadata or {}
        key, value = (s.encode() for s in MARKER)
        if kv.get(key) != value:
            return None
        return cls(file, weight)

    def groups(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Indices of the row groups holding codes in any range [lo, hi) (zoom ``LEVEL``):
        as the groups' code spans are sorted, each range's groups are one run."""
        a = np.searchsorted(self.last, np.asarray(lo, np.uint64), "left")
        b = np.searchsorted(self.first, np.asarray(hi, np.uint64), "left")
        marks = np.zeros(self.rows.size + 1, np.int64)
        np.add.at(marks, a, 1)
        np.add.at(marks, np.maximum(a, b), -1)
        return np.flatnonzero(np.cumsum(marks[:-1]) > 0)

    def read(
        self, lo: np.ndarray, hi: np.ndarray
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
        """``(x, y, weight)`` (uint32, uint32, float32 or None) of the row groups meeting
        the code ranges [lo, hi), about ``CHUNK_ROWS`` rows at a time. Rows of those groups
        outside the ranges come too: the binning that follows drops them."""
        groups = self.groups(lo, hi)
        columns = [X, Y] + ([self.weight] if self.weight else [])
        start, rows = 0, 0
        for i, g in enumerate(groups):
            rows += int(self.rows[g])
            if rows >= CHUNK_ROWS or i == groups.size - 1:
                table = self.file.read_row_groups(groups[start : i + 1].tolist(), columns)
                x = table.column(X).to_numpy()
                y = table.column(Y).to_numpy()
                w = table.column(self.weight).to_numpy() if self.weight else None
                yield x, y, w
                start, rows = i + 1, 0

"""``PyramidBuilder``: the deepest level of a pyramid from batches of rows, in bounded memory.

Rows are keyed at the deepest level first (``MAX_DEPTH``); each batch is reduced to its pixels
at once and the partial results are merged whenever they outgrow the merged ones. Whenever the
merged pixels pass ``limit``, the level drops by one (``code >> 2``), and later batches are
coarsened to match: memory stays within the limit's bytes plus a batch, and clustered data
keep as deep a level as the limit allows (uniform data less).
"""

from __future__ import annotations

from .keys import PixelKeys, Project
from .pyramid import MAX_DEPTH, Cells
from .source import Rows

__all__ = ["PyramidBuilder"]


class PyramidBuilder:
    def __init__(self, project: Project, limit: int, depth: int = MAX_DEPTH) -> None:
        self.keys = PixelKeys(project, depth)
        self.depth = depth
        self.limit = int(limit)
        self._merged = Cells.empty()
        self._pending: list[Cells] = []
        self._pending_cells = 0

    def add(self, rows: Rows) -> None:
        code, idx = self.keys(rows)
        part = Cells.of_keys(code, idx, rows.weight)
        for _ in range(self.keys.level - self.depth):
            part = part.parent()
        self._pending.append(part)
        self._pending_cells += part.code.size
        if self._pending_cells > max(1 << 20, self._merged.code.size):
            self._merge()

    def _merge(self) -> None:
        self._merged = Cells.merge([self._merged, *self._pending])
        self._pending, self._pending_cells = [], 0
        while self.depth > 0 and self._merged.code.size > self.limit:
            self._merged = self._merged.parent()
            self.depth -= 1

    def finish(self) -> tuple[Cells, int]:
        """The deepest level's pixels and its zoom."""
        self._merge()
        return self._merged, self.depth

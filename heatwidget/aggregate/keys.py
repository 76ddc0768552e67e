"""The two ways rows are keyed: by pyramid pixel, and by a frame's grid cell. Plain picklable
classes (Dask sends them to its workers with the projection function)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import morton
from .frame import NO_POSITION, GridFrame
from .source import Rows

__all__ = ["CellKeys", "PixelKeys", "Project"]

#: (lon, lat) degrees -> fixed-point (x, y) uint32, exactly as the kernel (Kernel.project).
Project = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class PixelKeys:
    """Morton codes of the rows' pixels at zoom ``level``."""

    project: Project
    level: int

    def __call__(self, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.project(rows.lon, rows.lat)
        keep = np.flatnonzero(y != NO_POSITION)
        return morton.pixels(x[keep], y[keep], self.level), keep


@dataclass(frozen=True)
class CellKeys:
    """The rows' cells in ``frame``'s grid (one key per world copy), as frame.c bins them."""

    project: Project
    frame: GridFrame

    def __call__(self, rows: Rows) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.project(rows.lon, rows.lat)
        return self.frame.cells(x, y)

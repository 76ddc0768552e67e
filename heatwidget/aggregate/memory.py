"""``ArraySource``: rows in this process (numpy arrays or a pyarrow Table), no scheduler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .pyramid import Cells
from .source import Filter, Keys, Rows, cells_of_batches

__all__ = ["ArraySource"]

BATCH = 1 << 20


def _column(table: Any, name: str | None, dtype: Any) -> np.ndarray | None:
    if name is None:
        return None
    if isinstance(table, dict):
        col = table.get(name)
        return None if col is None else np.asarray(col, dtype=dtype)
    if name not in table.column_names:
        return None
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=dtype)


class ArraySource:
    """Columns ``lon``, ``lat`` (degrees), optional ``weight`` (>= 0) and ``time`` (any
    unit, as the window's) of a dict of arrays or a pyarrow Table. A view's filter is a
    vectorised mask over every row (in-memory data: a scan costs milliseconds per million)."""

    def __init__(
        self,
        table: Any,
        lon: str = "lon",
        lat: str = "lat",
        weight: str | None = "weight",
        time: str | None = "time",
    ) -> None:
        lon_a = _column(table, lon, np.float64)
        lat_a = _column(table, lat, np.float64)
        if lon_a is None or lat_a is None:
            raise ValueError(f"the rows need {lon!r} and {lat!r} columns")
        self.lon, self.lat = lon_a, lat_a
        self.weight = _column(table, weight, np.float32)
        self.time = _column(table, time, np.float64)
        if self.weight is not None and not (self.weight >= 0).all():
            raise ValueError(f"column {weight!r} has negative or NaN weights (must be >= 0)")

    def row_count(self) -> int:
        return int(self.lon.size)

    def batches(self, where: Filter) -> Iterator[Rows]:
        for a in range(0, self.lon.size, BATCH):
            s = slice(a, a + BATCH)
            lon, lat = self.lon[s], self.lat[s]
            w = None if self.weight is None else self.weight[s]
            if where != Filter():
                t = None if self.time is None else self.time[s]
                keep = where.mask(lon, lat, t)
                lon, lat = lon[keep], lat[keep]
                w = None if w is None else w[keep]
            yield Rows(lon, lat, w)

    def cells(self, keys: Keys, where: Filter) -> Cells:
        return cells_of_batches(self.batches(where), keys)

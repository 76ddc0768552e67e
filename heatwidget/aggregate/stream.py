"""``ArrowStreamSource``: any Arrow PyCapsule stream (``__arrow_c_stream__``: pyarrow, Polars,
DuckDB, arro3 ...), read batch by batch.

Given a function that opens a fresh stream (``lambda: lazy_frame.collect_batches()``, a DuckDB
query ...), every pass reads one: memory is a batch plus the cells, and nothing is kept. Given
a stream itself, which can be read only once, its rows are kept for later views as columns
(lon, lat float64, weight float32, time float64: 28 bytes a row) in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .memory import ArraySource
from .pyramid import Cells
from .source import Filter, Keys, Rows, cells_of_batches

__all__ = ["ArrowStreamSource"]


def _reader(stream: Any) -> Any:
    import pyarrow as pa

    if not hasattr(stream, "__arrow_c_stream__"):
        raise TypeError(f"{type(stream).__name__} has no __arrow_c_stream__ (Arrow PyCapsule)")
    return pa.RecordBatchReader.from_stream(stream)


def _numpy(batch: Any, name: str | None, dtype: Any) -> np.ndarray | None:
    if name is None or name not in batch.schema.names:
        return None
    return np.asarray(batch.column(name).to_numpy(zero_copy_only=False), dtype=dtype)


class ArrowStreamSource:
    def __init__(
        self,
        stream: Any,
        lon: str = "lon",
        lat: str = "lat",
        weight: str | None = "weight",
        time: str | None = "time",
    ) -> None:
        self.names = (lon, lat, weight, time)
        self._open: Callable[[], Any] | None = None
        self._kept: ArraySource | None = None
        if callable(stream) and not hasattr(stream, "__arrow_c_stream__"):
            self._open = stream
            return
        cols: dict[str, list[np.ndarray]] = {}
        for rows, t in self._read(_reader(stream), Filter()):
            for name, arr in zip(("lon", "lat", "weight", "time"), (*rows, t), strict=True):
                if arr is not None:
                    cols.setdefault(name, []).append(arr)
        table = {k: np.concatenate(v) for k, v in cols.items()}
        table.setdefault("lon", np.empty(0))
        table.setdefault("lat", np.empty(0))
        self._kept = ArraySource(table)

    def _read(self, reader: Any, where: Filter) -> Iterator[tuple[Rows, np.ndarray | None]]:
        lon_c, lat_c, w_c, t_c = self.names
        for batch in reader:  # one batch at a time
            lon, lat = _numpy(batch, lon_c, np.float64), _numpy(batch, lat_c, np.float64)
            if lon is None or lat is None:
                raise ValueError(f"the stream has no {lon_c!r} or {lat_c!r} column")
            w, t = _numpy(batch, w_c, np.float32), _numpy(batch, t_c, np.float64)
            if where != Filter():
                keep = where.mask(lon, lat, t)
                lon, lat = lon[keep], lat[keep]
                w, t = (None if w is None else w[keep]), (None if t is None else t[keep])
            yield Rows(lon, lat, w), t

    def row_count(self) -> int | None:
        return None if self._kept is None else self._kept.row_count()

    def batches(self, where: Filter) -> Iterator[Rows]:
        if self._kept is not None:
            yield from self._kept.batches(where)
            return
        assert self._open is not None
        for rows, _ in self._read(_reader(self._open()), where):
            yield rows

    def cells(self, keys: Keys, where: Filter) -> Cells:
        return cells_of_batches(self.batches(where), keys)

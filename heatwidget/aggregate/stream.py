"""``ArrowStreamSource``: any Arrow PyCapsule stream (``__arrow_c_stream__``: pyarrow, Polars,
DuckDB, arro3 ...), read once, batch by batch. A stream cannot be read again, so its rows are
kept for later views as columns (lon, lat float64, weight float32, time float64) in memory."""

from __future__ import annotations

from typing import Any

import numpy as np

from .memory import ArraySource

__all__ = ["ArrowStreamSource"]


class ArrowStreamSource(ArraySource):
    def __init__(
        self,
        stream: Any,
        lon: str = "lon",
        lat: str = "lat",
        weight: str | None = "weight",
        time: str | None = "time",
    ) -> None:
        import pyarrow as pa

        if not hasattr(stream, "__arrow_c_stream__"):
            raise TypeError(f"{type(stream).__name__} has no __arrow_c_stream__ (Arrow PyCapsule)")
        reader = pa.RecordBatchReader.from_stream(stream)
        names = reader.schema.names
        cols: dict[str, list[np.ndarray]] = {}
        wanted = {lon: np.float64, lat: np.float64, weight: np.float32, time: np.float64}
        for batch in reader:  # one batch at a time: the stream's bounded memory
            for name, dtype in wanted.items():
                if name is not None and name in names:
                    arr = batch.column(name).to_numpy(zero_copy_only=False)
                    cols.setdefault(name, []).append(np.asarray(arr, dtype=dtype))
        table = {k: np.concatenate(v) for k, v in cols.items()}
        for name in (lon, lat):
            table.setdefault(name, np.empty(0))
        super().__init__(table, lon, lat, weight, time)

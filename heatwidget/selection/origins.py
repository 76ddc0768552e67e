"""``RowOrigins``: where each row held came from, so ``Heatmap.selected()`` gives back the
user's own rows (every column, the user's kind of table, the user's order).

What is kept (the memory cost): a reference to each input the widget was given (``set_data``,
``append``, the constructor) whose rows are still held, not a copy; the user's table stays
alive while its rows are held. The row numbers that survived the input checks are worked out
the first time ``selected()`` needs them, by reading the coordinate (and time) columns again
through ``points/`` and redoing its one rule for dropping rows (a missing or infinite latitude,
longitude or time) and its stable sort by time; they are then cached, 8 bytes a row (int64).
If the table changed since it was given (a different number of surviving rows), ``selected()``
says so instead of guessing. Nothing in ``points/`` changes for this.

Rows held are a run of segments, one per input, oldest first; ``keep_last(n)`` follows the
store's sliding window (``max_points``) by dropping rows from the front.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy is imported where rows are taken: the widget is made without it
    import numpy as np

__all__ = ["Origin", "RowOrigins", "take_rows"]


@dataclass
class Origin:
    """One input: the user's object and how it was read; ``rows`` rows it gave the store."""

    data: Any
    lat: Any
    lon: Any
    weight: Any
    time: Any
    time_unit: str
    rows: int
    _index: np.ndarray | None = field(default=None, repr=False)

    def index(self) -> np.ndarray:
        """Original row number of each row this input gave, in the store's order."""
        if self._index is None:
            self._index = self._work_out()
        return self._index

    def _work_out(self) -> np.ndarray:
        import numpy as np

        from ..points import forms
        from ..points.columns import default_ops
        from ..points.times import unit_ms

        ops = default_ops()
        if self.data is None:
            raw = forms.raw_from_arrays(self.lat, self.lon, self.weight, self.time)
        else:
            raw = forms.raw_from_source(
                forms.source(self.data), self.lat, self.lon, self.weight, self.time
            )
        lats = ops.floats(raw.lat, raw.lat_label)
        lons = ops.floats(raw.lon, raw.lon_label)
        located = [lats, lons]
        times = None
        if raw.time is not None:
            times = ops.times_ms(raw.time, raw.time_label, unit_ms(self.time_unit))
            if raw.row_of is not None:
                times = ops.take(times, raw.row_of)
            located.append(times)
        kept = (
            np.flatnonzero(~np.asarray(ops.missing(located)))
            if len(lats)
            else np.empty(0, np.int64)
        )
        rows = kept if raw.row_of is None else np.asarray(raw.row_of)[kept]
        if times is not None:
            order = ops.time_order(np.asarray(times)[kept])
            if order is not None:
                rows = rows[np.asarray(order)]
        if len(rows) != self.rows:
            raise RuntimeError(
                f"selected(): the {type(self.data).__name__} given to the widget has changed "
                f"since (it now gives {len(rows):,} points, the widget took {self.rows:,}): "
                "give it again with set_data() to select from it."
            )
        return np.asarray(rows, dtype=np.int64)


class RowOrigins:
    """The inputs whose rows are held, as segments ``(origin, first, stop)`` of its index."""

    def __init__(self) -> None:
        self._segments: list[list[Any]] = []  # [origin, first, stop]

    def replace(self, origin: Origin | None) -> None:
        self._segments = []
        if origin is not None and origin.rows:
            self._segments.append([origin, 0, origin.rows])

    def add(self, origin: Origin) -> None:
        if origin.rows:
            self._segments.append([origin, 0, origin.rows])

    @property
    def count(self) -> int:
        return sum(stop - first for _, first, stop in self._segments)

    def keep_last(self, n: int) -> None:
        """Follow the store: only its newest ``n`` rows are held."""
        drop = self.count - n
        while drop > 0 and self._segments:
            seg = self._segments[0]
            size = seg[2] - seg[1]
            if size <= drop:
                self._segments.pop(0)
                drop -= size
            else:
                seg[1] += drop
                drop = 0

    def segments(self) -> list[tuple[Origin, int, int, int]]:
        """``(origin, first, stop, start)``: rows ``first:stop`` of each input's index are the
        rows held from position ``start`` on."""
        out, start = [], 0
        for origin, first, stop in self._segments:
            out.append((origin, first, stop, start))
            start += stop - first
        return out

    def rows(self, held: np.ndarray) -> list[tuple[Origin, np.ndarray]]:
        """For the row numbers ``held`` (positions among the rows held, any order): per input,
        the user's row numbers, ascending, without repeats."""
        import numpy as np

        held = np.sort(np.asarray(held, dtype=np.int64))
        out: list[tuple[Origin, np.ndarray]] = []
        start = 0
        for origin, first, stop in self._segments:
            size = stop - first
            lo, hi = np.searchsorted(held, [start, start + size])
            if hi > lo:
                local = held[lo:hi] - start + first
                rows = origin.index()[local]
                seen = np.zeros(int(rows.max()) + 1, dtype=bool)  # ascending, no repeats: O(n)
                seen[rows] = True
                out.append((origin, np.flatnonzero(seen)))
            start += size
        return out


def _take_column(col: Any, idx: np.ndarray) -> Any:
    import numpy as np

    if isinstance(col, np.ndarray):
        return col[idx]
    if hasattr(col, "iloc"):
        return col.iloc[idx]
    if hasattr(col, "take") and hasattr(col, "__arrow_c_array__"):
        return col.take(idx)
    if hasattr(col, "gather"):  # polars Series
        return col.gather(idx)
    if isinstance(col, Sequence) and not isinstance(col, (str, bytes)):
        items = list(col)
        out = [items[i] for i in idx.tolist()]
        return out if isinstance(col, list) else type(col)(out) if isinstance(col, tuple) else out
    return np.asarray(col)[idx]


def take_rows(origin: Origin, idx: np.ndarray) -> Any:
    """The rows ``idx`` of ``origin``'s input, as the same kind of object."""
    import numpy as np

    from ..points import readers

    data = origin.data
    if data is None:  # lat=/lon=/weight=/time= arrays: a dict of the same arrays
        given = {"lat": origin.lat, "lon": origin.lon, "weight": origin.weight, "time": origin.time}
        return {k: _take_column(v, idx) for k, v in given.items() if v is not None}
    if isinstance(data, (str, os.PathLike)):
        again = Origin(
            readers.read_path(data),
            origin.lat,
            origin.lon,
            origin.weight,
            origin.time,
            origin.time_unit,
            origin.rows,
        )
        return take_rows(again, idx)
    if hasattr(data, "iloc"):  # pandas, geopandas
        return data.iloc[idx]
    module = type(data).__module__
    if module.startswith("polars"):
        return data[idx]
    if module.startswith("pyarrow") and hasattr(data, "take"):
        return data.take(idx)
    if readers.is_geojson(data):
        features = data.get("features") if data.get("type") == "FeatureCollection" else [data]
        picked = [features[i] for i in idx.tolist()]
        return {"type": "FeatureCollection", "features": picked}
    if isinstance(data, Mapping):
        return {k: _take_column(v, idx) for k, v in data.items()}
    if isinstance(data, np.ndarray):
        return data[idx]
    if hasattr(data, "__arrow_c_stream__"):
        import pyarrow as pa

        return pa.table(data).take(idx)
    raise TypeError(f"selected(): cannot take rows from a {type(data).__name__}")


def concat(parts: list[Any]) -> Any:
    """One object from the per-input pieces (same kind), else the list of pieces."""
    import numpy as np

    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    kinds = {type(p) for p in parts}
    if len(kinds) > 1:
        return parts
    if hasattr(first, "iloc"):
        import pandas as pd

        return pd.concat(parts)
    module = type(first).__module__
    if module.startswith("polars"):
        import polars as pl

        return pl.concat(parts, how="diagonal_relaxed")
    if module.startswith("pyarrow") and hasattr(first, "num_rows"):
        import pyarrow as pa

        tables = [pa.Table.from_batches([p]) if isinstance(p, pa.RecordBatch) else p for p in parts]
        return pa.concat_tables(tables, promote_options="permissive")
    if isinstance(first, Mapping) and first.get("type") == "FeatureCollection":
        return {"type": "FeatureCollection", "features": [f for p in parts for f in p["features"]]}
    if isinstance(first, Mapping) and all(p.keys() == first.keys() for p in parts):
        return {k: _concat_columns([p[k] for p in parts]) for k in first}
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    return parts


def _concat_columns(cols: list[Any]) -> Any:
    import numpy as np

    if all(isinstance(c, list) for c in cols):
        return [v for c in cols for v in c]
    if all(isinstance(c, np.ndarray) for c in cols):
        return np.concatenate(cols)
    if all(hasattr(c, "iloc") for c in cols):
        import pandas as pd

        return pd.concat(cols)
    return cols

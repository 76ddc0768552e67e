"""Engine time columns as client mode reads them: datetimes (TIMESTAMP of any unit, with or
without a time zone, and DATE) become float64 milliseconds since 1970-01-01 UTC (naive ones
are taken as UTC); numbers stay as given (their unit is ``time_unit=``).

The engines call these so a view's time window (ms) filters a Parquet/DuckDB/Dask column of
``pickup_datetime`` exactly as it filters the page's rows. One place, used by
``DuckDBSource`` (SQL) and ``DaskSource`` (each partition's pandas column).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["arrow_ms", "duck_time", "series_ms", "sql_ms", "temporal_dtype"]

# TIMESTAMPTZ holds UTC instants: epoch_us/epoch_ns read them as such (a cast to TIMESTAMP would
# apply the session's time zone); nanosecond types keep their ns; seconds, ms and dates go
# through TIMESTAMP (µs).
_US = "(epoch_us({}) / 1000.0)"
_NS = "(epoch_ns({}) / 1000000.0)"
_VIA_TIMESTAMP = "(epoch_us(CAST({} AS TIMESTAMP)) / 1000.0)"
_MS_PER = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}


def sql_ms(expr: str, type_name: str) -> str | None:
    """SQL for ``expr`` (of DuckDB type ``type_name``) in ms since the epoch, UTC; None when
    the type is not a date or timestamp (numbers are used as they are)."""
    name = type_name.upper()
    if name == "DATE":
        form = _VIA_TIMESTAMP
    elif not name.startswith("TIMESTAMP"):
        return None
    elif name.endswith("_NS"):  # TIMESTAMP_NS, TIMESTAMPTZ_NS
        form = _NS
    elif name in ("TIMESTAMP", "TIMESTAMP_US") or "TZ" in name or "TIME ZONE" in name:
        form = _US
    else:  # TIMESTAMP_S, TIMESTAMP_MS
        form = _VIA_TIMESTAMP
    return form.format(expr)


def duck_time(rel: Any, column: str | None) -> tuple[str | None, bool]:
    """The SQL a filter compares with a window for ``rel``'s time ``column`` (None: no
    column), and whether it is in ms (a date/timestamp column) rather than ``time_unit``."""
    if column is None:
        return None, False
    type_name = str(rel.types[list(rel.columns).index(column)])
    quoted = f'"{column}"'
    ms = sql_ms(quoted, type_name)
    return (quoted, False) if ms is None else (ms, True)


def temporal_dtype(dtype: Any) -> bool:
    """A pandas/numpy/Arrow-backed dtype of datetimes or dates."""
    import pyarrow as pa

    kind = getattr(dtype, "kind", "")
    if kind == "M":  # numpy datetime64, pandas DatetimeTZDtype
        return True
    arrow = getattr(dtype, "pyarrow_dtype", None)  # pandas.ArrowDtype
    return arrow is not None and (pa.types.is_timestamp(arrow) or pa.types.is_date(arrow))


def arrow_ms(arr: Any) -> np.ndarray:
    """An Arrow array of timestamps (any unit, any zone: stored as UTC), dates or numbers →
    float64 ms since the epoch for the first two, the numbers as float64; null → NaN."""
    import pyarrow as pa

    kind = arr.type
    if pa.types.is_date(kind):
        arr, kind = arr.cast(pa.timestamp("ms")), pa.timestamp("ms")
    if pa.types.is_timestamp(kind):
        ticks = arr.cast(pa.timestamp(kind.unit)).cast(pa.int64())  # drops the zone, not UTC
        values = ticks.to_numpy(zero_copy_only=False).astype(np.float64) * _MS_PER[kind.unit]
        out = np.asarray(values, np.float64)
    else:
        out = np.asarray(arr.cast(pa.float64()).to_numpy(zero_copy_only=False), np.float64)
    if arr.null_count:
        out = np.where(arr.is_null().to_numpy(zero_copy_only=False), np.nan, out)
    return out


def series_ms(series: Any) -> np.ndarray:
    """A pandas column (a Dask partition's) → float64: ms since the epoch for datetimes and
    dates (naive ones taken as UTC), numbers as given."""
    import pyarrow as pa

    if temporal_dtype(series.dtype) or series.dtype == object:
        return arrow_ms(pa.array(series, from_pandas=True))
    return np.asarray(series.to_numpy(np.float64, na_value=np.nan), np.float64)

"""Times → float64 milliseconds since the Unix epoch, UTC: what every backend shares.

The backends (:mod:`heatwidget.points.columns`) read their own column types; Python objects
(datetimes, dates, numbers, mixed) are read here, with the one wording of each error.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from collections.abc import Sequence
from typing import Any

from ..constants import EPOCH
from .scalars import is_bool, is_missing, numpy_module, show

__all__ = ["MAX_MS", "MIN_MS", "UNIT_MS", "datetime64_ms", "times_ms_list", "unit_ms"]

#: Milliseconds per unit of ``time_unit=`` (plain numbers are seconds unless it says otherwise).
UNIT_MS = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}

_UTC = _dt.timezone.utc
_MS = _dt.timedelta(milliseconds=1)
#: The times heatwidget can hold, in ms since the epoch: Python's datetimes (the time traits
#: are datetimes), years 1 to 9999, to the last whole second (no rounding steps past the end).
MIN_MS = (_dt.datetime(1, 1, 1, tzinfo=_UTC) - EPOCH) / _MS
MAX_MS = (_dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=_UTC) - EPOCH) / _MS

# datetime64 units: ms per tick of the linear ones, ticks per ms of those finer than a ms
# (divided, so that ns / 1e6 is correctly rounded as before), and the calendar ones (Y, M) in
# days where that cannot overflow (beyond, an approximate value says "out of range" as well).
_DT64_MS = {"W": 604_800_000.0, "D": 86_400_000.0, "h": 3_600_000.0, "m": 60_000.0, "s": 1e3}
_DT64_PER_MS = {"ms": 1.0, "us": 1e3, "ns": 1e6, "ps": 1e9, "fs": 1e12, "as": 1e15}
_DT64_CALENDAR = {"Y": 31_556_952_000.0, "M": 2_629_746_000.0}


def datetime64_ms(values: Any) -> Any:
    """numpy datetime64 values of any unit → float64 ms since the epoch (NaN for NaT), exact
    where float64 is (no detour through datetime64[ns], which wraps around beyond 1678-2262)."""
    np = numpy_module()
    arr = np.asarray(values)
    unit, step = np.datetime_data(arr.dtype)
    out = np.full(arr.shape, np.nan)
    if unit == "generic":  # only NaT has no unit
        return out
    ok = ~np.isnat(arr)
    ticks = arr.view(np.int64)[ok].astype(np.float64) * step
    if unit in _DT64_PER_MS:
        out[ok] = ticks / _DT64_PER_MS[unit]
    elif unit in _DT64_MS:
        out[ok] = ticks * _DT64_MS[unit]
    else:
        approx = ticks * _DT64_CALENDAR[unit]
        near = np.abs(approx) < 1e18
        days = arr[ok][near].astype("M8[D]").view(np.int64)
        approx[near] = days.astype(np.float64) * 86_400_000.0
        out[ok] = approx
    return out


def unit_ms(unit: str) -> float:
    """Milliseconds per ``unit``, or the error naming the units there are."""
    if unit not in UNIT_MS:
        raise ValueError(f"time_unit={unit!r}: use one of {', '.join(map(repr, UNIT_MS))}.")
    return UNIT_MS[unit]


def _kind(v: Any) -> str:
    if is_bool(v):
        return "bool"
    if isinstance(v, numbers.Real):
        return "number"
    if isinstance(v, _dt.datetime):  # pandas Timestamp is a datetime
        return "aware datetime" if v.tzinfo is not None else "naive datetime"
    np = numpy_module()
    if np is not None and isinstance(v, np.datetime64):
        return "naive datetime"
    if isinstance(v, _dt.date):
        return "date"
    return type(v).__name__


def _absent(v: Any) -> bool:
    return is_missing(v) or (isinstance(v, float) and v != v)


def times_ms_list(arr: Sequence[Any], label: str, unit_ms: float) -> list[float]:
    """Python objects (numbers, datetimes, dates; None/NaN missing) → ms since the epoch, UTC
    (NaN for missing); a column mixing kinds is an error."""
    kinds: dict[str, tuple[int, Any]] = {}
    for i, v in enumerate(arr):
        if not _absent(v):
            kinds.setdefault(_kind(v), (i, v))
    bad = [k for k in kinds if k not in ("number", "aware datetime", "naive datetime", "date")]
    if bad:
        i, v = kinds[bad[0]]
        fix = (
            "parse them first: pandas.to_datetime(df[col], utc=True)"
            if bad[0] == "str"
            else "give datetimes or numbers (seconds since 1970-01-01 UTC)"
        )
        raise ValueError(f"{label} has {show(v)} ({bad[0]}) at row {i}: {fix}.")
    if len(kinds) > 1:
        parts = ", ".join(f"{k} (first at row {i}: {show(v)})" for k, (i, v) in kinds.items())
        raise ValueError(
            f"{label} mixes kinds of time: {parts}. Give one kind: e.g. "
            "pandas.to_datetime(df[col], utc=True) for datetimes (naive ones are taken as UTC), "
            "or numbers (seconds since 1970-01-01 UTC, see time_unit=)."
        )
    np = numpy_module()
    out = [math.nan] * len(arr)
    for i, v in enumerate(arr):
        if _absent(v):
            continue
        if isinstance(v, numbers.Real):
            try:
                out[i] = float(v) * unit_ms
            except OverflowError:  # an int beyond float64: beyond every time (checks say so)
                out[i] = -math.inf if v < 0 else math.inf
        elif np is not None and isinstance(v, np.datetime64):
            out[i] = float(datetime64_ms(v)[()])
        elif isinstance(v, _dt.datetime):
            aware = v if v.tzinfo is not None else v.replace(tzinfo=_dt.timezone.utc)
            ns = getattr(v, "nanosecond", 0)
            out[i] = (aware - EPOCH) / _dt.timedelta(milliseconds=1) + ns / 1e6
        else:  # a date
            out[i] = (v - _dt.date(1970, 1, 1)).days * 86_400_000.0
    return out

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

__all__ = ["UNIT_MS", "times_ms_list", "unit_ms"]

#: Milliseconds per unit of ``time_unit=`` (plain numbers are seconds unless it says otherwise).
UNIT_MS = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}


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
            out[i] = float(v) * unit_ms
        elif np is not None and isinstance(v, np.datetime64):
            out[i] = float(v.astype("datetime64[ns]").astype(np.int64)) / 1e6
        elif isinstance(v, _dt.datetime):
            aware = v if v.tzinfo is not None else v.replace(tzinfo=_dt.timezone.utc)
            ns = getattr(v, "nanosecond", 0)
            out[i] = (aware - EPOCH) / _dt.timedelta(milliseconds=1) + ns / 1e6
        else:  # a date
            out[i] = (v - _dt.date(1970, 1, 1)).days * 86_400_000.0
    return out

"""The column operations over numpy arrays (the usual backend)."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...constants import MAX_LATITUDE
from .. import deps
from ..errors import beyond_float64, non_numeric, not_1d
from ..fixed import (
    FIXED_ONE,
    LN2,
    LOG_TERMS,
    MAX_FIXED_Y,
    NO_POSITION,
    RAD_PER_DEG,
    SIN_DIVISORS,
    SQRT2,
    Projector,
)
from ..scalars import is_real_number
from ..times import datetime64_ms, times_ms_list

__all__ = ["OPS", "NumpyOps"]

_BLOCK = 1 << 14

_NUMBERS = "iuf"


def _first_bad(values: Any) -> tuple[int, Any]:
    """Row and value of the first element that is neither a real number nor missing."""
    pd = deps.pandas()
    na = pd.NA if pd is not None else None
    for i, v in enumerate(values):
        if not (v is None or v is na or is_real_number(v)):
            return i, v
    return -1, None


def _is_series(obj: Any) -> bool:
    pd = deps.pandas()
    return pd is not None and isinstance(obj, pd.Series)


def _is_arrow_array(values: Any) -> bool:
    return not isinstance(values, np.ndarray) and (
        hasattr(values, "__arrow_c_array__") or hasattr(values, "__arrow_c_stream__")
    )


def _pyarrow_column(values: Any) -> Any:
    """An Arrow array of any library as a pyarrow Array/ChunkedArray (needs pyarrow)."""
    pa = deps.pyarrow()
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    return pa.chunked_array(values) if hasattr(values, "__arrow_c_stream__") else pa.array(values)


def _first_valid(values: Any) -> tuple[int, Any]:
    """Row and value of the first non-null element of an Arrow array (-1, None: none), read a
    slice at a time (Arrow has no kernels for some types, such as string_view)."""
    step = 4096
    for start in range(0, len(values), step):
        for i, v in enumerate(values.slice(start, step).to_pylist()):
            if v is not None:
                return start + i, v
    return -1, None


def _decoded(values: Any) -> Any:
    """A dictionary-encoded pyarrow Array/ChunkedArray as plain values (others as they are)."""
    pa = deps.pyarrow()
    t = values.type
    return values.cast(t.value_type) if pa.types.is_dictionary(t) else values


def _arrow_floats(values: Any, label: str) -> np.ndarray:
    """A pyarrow Array/ChunkedArray → float64 numpy (NaN for nulls)."""
    pa = deps.pyarrow()
    values = _decoded(values)
    t = values.type
    if pa.types.is_null(t):
        return np.full(len(values), np.nan)
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)):
        row, first = _first_valid(values)
        raise non_numeric(label, t, row, first)
    # Float arrays with nulls come out with NaN in their place.
    # safe=False: integers beyond 2**53 become the nearest float (the checks judge the value)
    floats = values.cast(pa.float64(), safe=False)
    return np.asarray(floats.to_numpy(zero_copy_only=False), np.float64)


def _arro3_floats(values: Any, label: str) -> np.ndarray:
    """Any Arrow array without pyarrow (through arro3) → float64 numpy (NaN for nulls)."""
    ac = deps.require("arro3.core", f"reading {label} without pyarrow")
    col = ac.ChunkedArray.from_arrow(values)
    t = col.type
    if t.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if t.is_null(t):
        return np.full(len(col), np.nan)
    if not (t.is_integer(t) or t.is_floating(t) or t.is_decimal(t)):
        listed = col.to_pylist()
        row = next((i for i, v in enumerate(listed) if v is not None), -1)
        raise non_numeric(label, t, row, listed[row] if row >= 0 else None)
    if col.null_count or t.is_decimal(t):
        return np.array([np.nan if v is None else v for v in col.to_pylist()], np.float64)
    if col.num_chunks == 0:
        return np.empty(0)
    return np.asarray(col.to_numpy(), np.float64)


def _datetime64_ms(arr: np.ndarray) -> np.ndarray:
    """datetime64 of any unit → float64 ms (NaN for NaT)."""
    out: np.ndarray = datetime64_ms(arr)
    return out


def _scaled(secs: np.ndarray, unit_ms: float) -> np.ndarray:
    """Numbers in the time unit → ms; beyond float64 → ±inf (the checks name them)."""
    with np.errstate(over="ignore"):
        out: np.ndarray = secs * unit_ms
    return out


def _object_floats(arr: np.ndarray, label: str) -> np.ndarray:
    """An object array of numbers and missing values → float64 (NaN for missing)."""
    pd = deps.pandas()
    na = pd.NA if pd is not None else None
    values = [np.nan if v is None or v is na else v for v in arr]
    try:
        return np.array(values, np.float64)
    except OverflowError:  # an int beyond float64: name it
        for i, v in enumerate(values):
            try:
                float(v)
            except OverflowError:
                raise beyond_float64(label, v, i) from None
        raise


class NumpyOps:
    """:class:`heatwidget.points.columns.ColumnOps` over numpy arrays."""

    name = "numpy"

    def floats(self, values: Any, label: str) -> np.ndarray:
        """Never modify the result in place: it may be the caller's array."""
        pa = deps.pyarrow() if "pyarrow" in sys.modules else None
        if pa is not None and isinstance(values, (pa.ChunkedArray, pa.Array)):
            return _arrow_floats(values, label)
        if _is_series(values):
            api = deps.pandas().api.types
            if api.is_numeric_dtype(values.dtype) and not api.is_bool_dtype(values.dtype):
                return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan))
            values = values.to_numpy(dtype=object)
            if not values.size or values.dtype != object:
                return np.asarray(values, np.float64)
        elif _is_arrow_array(values):
            # polars Series, arro3 arrays, … (a polars Series also has to_numpy, but nulls in
            # integer columns are better handled through Arrow).
            if deps.pyarrow() is not None:
                return _arrow_floats(_pyarrow_column(values), label)
            return _arro3_floats(values, label)
        arr = np.asarray(values)
        if arr.ndim != 1:
            arr = arr.reshape(-1) if arr.ndim == 0 or arr.size == 0 else arr
            if arr.ndim != 1:
                raise not_1d(label, arr.shape)
        kind = arr.dtype.kind
        if kind in _NUMBERS:
            out: np.ndarray = arr.astype(np.float64, copy=False)
            return out
        if kind == "O":
            row, bad = _first_bad(arr)
            if row >= 0:
                raise non_numeric(label, "object", row, bad)
            return _object_floats(arr, label)
        row = 0 if arr.size else -1
        raise non_numeric(label, arr.dtype, row, arr[0] if arr.size else None)

    def times_ms(self, values: Any, label: str, unit_ms: float) -> np.ndarray:
        if _is_series(values):
            pd = deps.pandas()
            api = pd.api.types
            if isinstance(values.dtype, pd.DatetimeTZDtype):
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
            if api.is_datetime64_dtype(values.dtype):
                return _datetime64_ms(values.to_numpy())
            if api.is_numeric_dtype(values.dtype) and not api.is_bool_dtype(values.dtype):
                secs: np.ndarray = values.to_numpy(dtype=np.float64, na_value=np.nan)
                return _scaled(secs, unit_ms)
            values = values.to_numpy(dtype=object)
        elif _is_arrow_array(values):
            pa = deps.pyarrow()
            if pa is not None:
                col = _decoded(_pyarrow_column(values))
                t = col.type
                if pa.types.is_timestamp(t) or pa.types.is_date(t):
                    if pa.types.is_date(t):
                        col = col.cast(pa.timestamp("ms"))
                    # Arrow timestamps are UTC instants whatever their time zone.
                    ints = col.cast(pa.timestamp(col.type.unit)).cast(pa.int64())
                    per = {"s": 1e3, "ms": 1.0, "us": 1e-3, "ns": 1e-6}[col.type.unit]
                    return _arrow_floats(ints, label) * per
                return _scaled(_arrow_floats(col, label), unit_ms)
            ac = deps.require("arro3.core", f"reading {label} without pyarrow")
            from .pure_ops import arro3_times_ms  # one reader of Arrow times without pyarrow

            return np.asarray(arro3_times_ms(ac.ChunkedArray.from_arrow(values), label, unit_ms))
        arr = np.asarray(values)
        if arr.ndim != 1:
            raise not_1d(label, arr.shape)
        if arr.dtype.kind == "M":
            return _datetime64_ms(arr)
        if arr.dtype.kind in _NUMBERS:
            return _scaled(arr.astype(np.float64), unit_ms)
        if arr.dtype.kind == "O" or arr.dtype.kind in "UST":
            return np.array(times_ms_list(list(arr.astype(object)), label, unit_ms), np.float64)
        raise ValueError(
            f"{label} has dtype {arr.dtype}: give datetimes or numbers (seconds since the epoch)."
        )

    def weights(self, values: Any, label: str) -> np.ndarray:
        """Never modify the result in place: it may be the caller's array."""
        if isinstance(values, np.ndarray) and values.dtype == np.float32 and values.ndim == 1:
            return values
        if _is_series(values) and values.dtype == np.float32:  # numpy-backed: no missing mask
            out: np.ndarray = values.to_numpy(copy=False)
            return out
        return self.floats(values, label)

    def column(self, values: Any, kind: str) -> np.ndarray:
        if getattr(values, "num_chunks", None) == 1 and hasattr(values, "chunk"):
            values = values.chunk(0)  # a pyarrow ChunkedArray: its one chunk, not copied
        if hasattr(values, "to_numpy") and not isinstance(values, np.ndarray):
            try:
                values = values.to_numpy(zero_copy_only=False)
            except TypeError:  # arro3's to_numpy takes no arguments
                values = values.to_numpy()
        return np.asarray(values, kind)

    def kind(self, col: Any) -> str | None:
        if (
            isinstance(col, np.ndarray)
            and col.ndim == 1
            and col.dtype.name in ("float64", "float32")
        ):
            return str(col.dtype.name)
        return None

    def full(self, n: int, value: float, kind: str) -> np.ndarray:
        return np.full(n, value, kind)

    def concat(self, cols: Sequence[np.ndarray], kind: str) -> np.ndarray:
        if len(cols) == 1:
            return cols[0]
        if not cols:
            return np.empty(0, kind)
        joined = _end_to_end(cols)
        return joined if joined is not None else np.concatenate(cols)

    def all_finite(self, col: np.ndarray) -> bool:
        # min/max propagate NaN (and an infinity makes one of them infinite; inf - inf and
        # 1e308 + 1e308 are no cause for a RuntimeWarning here).
        if not len(col):
            return True
        with np.errstate(invalid="ignore", over="ignore"):
            return bool(np.isfinite(col.min() + col.max()))

    def min_max_if_finite(self, col: np.ndarray) -> tuple[float, float] | None:
        # min and max propagate NaN, and an infinity is one of them.
        lo, hi = float(col.min()), float(col.max())
        return (lo, hi) if math.isfinite(lo) and math.isfinite(hi) else None

    def missing(self, cols: Sequence[np.ndarray]) -> np.ndarray:
        out: np.ndarray = np.isnan(cols[0])
        for c in cols[1:]:
            out |= np.isnan(c)
        return out

    def over(self, col: np.ndarray, limit: float) -> np.ndarray:
        out: np.ndarray = np.abs(col) > limit
        return out

    def outside(self, col: np.ndarray, lo: float, hi: float) -> np.ndarray:
        out: np.ndarray = (col < lo) | (col > hi)
        return out

    def vanished(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        out: np.ndarray = (before != 0.0) & (after == 0.0)
        return out

    def bad_weights(self, col: np.ndarray) -> np.ndarray:
        out: np.ndarray = ~(col >= 0.0) | ~np.isfinite(col)
        return out

    def differs(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out: np.ndarray = a != b
        return out

    def count(self, mask: np.ndarray) -> int:
        return int(np.count_nonzero(mask))

    def first(self, mask: np.ndarray) -> int:
        rows = np.flatnonzero(mask)
        return int(rows[0]) if rows.size else -1

    def kept(self, mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(~mask)

    def take(self, col: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out: np.ndarray = col[rows]
        return out

    def min_max(self, col: np.ndarray) -> tuple[float, float]:
        return float(col.min()), float(col.max())

    def finite_min_max(self, col: np.ndarray) -> tuple[float, float] | None:
        t = col[np.isfinite(col)]
        return (float(t.min()), float(t.max())) if t.size else None

    def abs_max(self, col: np.ndarray) -> float:
        # max(-min, max) is max |x| without an |x| temporary (80 MB at 10M rows: 0.3 s of
        # set_data, most of it the fresh pages); np.maximum keeps a NaN, as |x|.max() does.
        return float(np.maximum(-col.min(), col.max()))

    def total(self, col: np.ndarray) -> float:
        with np.errstate(over="ignore"):
            return float(col.sum(dtype=np.float64))

    def clip(self, col: np.ndarray, limit: float) -> np.ndarray:
        out: np.ndarray = np.clip(col, -limit, limit)
        return out

    def wrap(self, col: np.ndarray) -> np.ndarray:
        # fmod is exact, and so is r ∓ 360 for 180 <= |r| < 360 (Sterbenz): the wrap is
        # exact at any magnitude, and longitudes in range are not changed.
        out: np.ndarray = np.fmod(col, 360.0)
        out[out >= 180.0] -= 360.0
        out[out < -180.0] += 360.0
        return out

    def float32(self, col: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # the caller reports an overflow
            return col.astype(np.float32, copy=False)

    def time_order(self, col: np.ndarray) -> np.ndarray | None:
        if len(col) < 2 or not np.any(col[1:] < col[:-1]):  # NaN compares False
            return None
        return np.argsort(col, kind="stable")

    def mercator_fixed(
        self, lon: np.ndarray, lat: np.ndarray, project: Projector | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        done = None if project is None else project(lon, lat)
        if done is not None:
            return done
        # Block by block: the series run on temporaries that stay in the CPU's cache.
        n = len(lon)
        x, y = np.empty(n, np.uint32), np.empty(n, np.uint32)
        for a in range(0, n, _BLOCK):
            _mercator_block(
                lon[a : a + _BLOCK], lat[a : a + _BLOCK], x[a : a + _BLOCK], y[a : a + _BLOCK]
            )
        return x, y

    def mercator_degrees(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, np.uint32)
        y = np.asarray(y, np.uint32)
        lon = (x.astype(np.float64) + 0.5) * (360.0 / FIXED_ONE) - 180.0
        ny = (y.astype(np.float64) + 0.5) / FIXED_ONE
        lat = np.degrees(np.arctan(np.sinh(np.pi * (1.0 - 2.0 * ny))))
        nowhere = y == NO_POSITION
        lon[nowhere] = np.nan
        lat[nowhere] = np.nan
        return lon, lat

    def arro3_array(self, col: np.ndarray, kind: str) -> Any:
        ac = deps.require("arro3.core", "encoding points without pyarrow")
        return ac.Array.from_numpy(np.ascontiguousarray(col, kind))

    def pyarrow_array(self, col: np.ndarray, kind: str) -> Any:
        pa = deps.require("pyarrow", "pyarrow_array()")
        return pa.array(col, getattr(pa, kind)())


def _address(a: np.ndarray) -> int:
    address: int = a.__array_interface__["data"][0]
    return address


def _end_to_end(cols: Sequence[np.ndarray]) -> np.ndarray | None:
    """``cols`` as one view when they are consecutive slices of one array (the store's chunks
    of one input column), else None: joining them needs no copy."""
    owner = cols[0].base
    if not (isinstance(owner, np.ndarray) and owner.flags.c_contiguous):
        return None
    origin = _address(owner)
    start = at = _address(cols[0]) - origin
    for c in cols:
        if not (
            c.base is owner
            and c.dtype == owner.dtype
            and c.ndim == 1
            and c.flags.c_contiguous
            and _address(c) - origin == at
        ):
            return None
        at += c.nbytes
    size = owner.itemsize
    if start < 0 or at > owner.nbytes or start % size:
        return None
    return owner.reshape(-1)[start // size : at // size]  # (pyarrow's arrays are (1, n))


def _mercator_block(lon: np.ndarray, lat: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
    """heat.h "Coordinates" as js/kernel/mercator.h computes it, operation for operation (the
    same IEEE float64 steps in the same order, so the same bits: tests/test_wire.py)."""
    nowhere = ~(np.isfinite(lon) & np.isfinite(lat))
    lon = np.where(nowhere, 0.0, lon)
    nx = lon / 360.0
    nx += 0.5
    nx -= np.floor(nx)
    nx *= FIXED_ONE
    x[:] = nx.astype(np.uint64).astype(np.uint32)  # 2^32 (from -0 + 1) wraps to 0, as in C
    t = np.where(nowhere, 0.0, lat)
    np.clip(t, -MAX_LATITUDE, MAX_LATITUDE, out=t)
    t *= RAD_PER_DEG
    # sin_small: Taylor series to x^23
    x2 = t * t
    np.negative(x2, out=x2)
    term = t.copy()
    s = t.copy()
    for d in SIN_DIVISORS:
        term *= x2 / d
        s += term
    # log_pos((1 + s) / (1 - s)): q = m * 2^e, m in [sqrt(1/2), sqrt(2))
    q = (1.0 + s) / (1.0 - s)
    bits = q.view(np.uint64)
    e = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64) - 1023
    m = ((bits & np.uint64(0x000FFFFFFFFFFFFF)) | np.uint64(0x3FF0000000000000)).view(np.float64)
    big = m > SQRT2
    m = np.where(big, m * 0.5, m)
    e += big
    u = (m - 1.0) / (m + 1.0)
    u2 = u * u
    term = u.copy()
    acc = u
    for k in LOG_TERMS:
        term *= u2
        acc += term / k
    ln = 2.0 * acc + e.astype(np.float64) * LN2
    fy = 0.5 - ln / (4.0 * np.pi)
    fy *= FIXED_ONE
    np.clip(fy, 0.0, MAX_FIXED_Y, out=fy)
    y[:] = fy.astype(np.uint32)
    y[nowhere] = NO_POSITION
    x[nowhere] = 0


OPS = NumpyOps()

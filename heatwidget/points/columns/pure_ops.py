"""The column operations over ``array.array`` in pure Python (Pyodide without numpy).

Columns are ``array("d")`` (float64) and ``array("f")`` (float32); arro3 wraps their buffers
without a copy. Each operation does what :mod:`.numpy_ops` does, with the same IEEE arithmetic.
"""

from __future__ import annotations

import array
import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

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
from ..times import UNIT_MS, times_ms_list

__all__ = ["OPS", "PureOps", "arro3_times_ms"]

Col: TypeAlias = "array.array[float]"

_CODES = {"float64": "d", "float32": "f"}
_KINDS = {"d": "float64", "f": "float32"}
_NUMERIC_CODES = "fdbBhHiIlLqQ"
# the typecode of uint32 (int is 4 bytes wherever Python runs today; "L" where it is not)
_U32 = "I" if array.array("I").itemsize == 4 else "L"


def _sequence(values: Any) -> list[Any]:
    """Any value → a list of its elements (a scalar → one element, as numpy does)."""
    if isinstance(values, (str, bytes, bytearray, Mapping)) or not hasattr(values, "__iter__"):
        return [values]
    return list(values)


def _is_arrow_array(values: Any) -> bool:
    return hasattr(values, "__arrow_c_array__") or hasattr(values, "__arrow_c_stream__")


def _arrow_column(values: Any, label: str) -> Any:
    """An Arrow array/chunked array as an arro3 ChunkedArray, dictionary-encoded ones decoded."""
    ac = deps.require("arro3.core", f"reading {label} without pyarrow")
    col = ac.ChunkedArray.from_arrow(values)
    t = col.type
    return col.cast(t.value_type) if t.is_dictionary(t) else col


def _arrow_list(values: Any, label: str) -> tuple[Any, list[Any]]:
    """An Arrow array/chunked array (through arro3) → (its type, its values as Python objects)."""
    col = _arrow_column(values, label)
    return col.type, col.to_pylist()


def _numbers_ms(seq: list[Any], label: str, unit_ms: float) -> Col:
    """Times as Python objects → ms; plain numbers the fast way."""
    if set(map(type, seq)) <= {float, int}:
        try:
            return array.array("d", (v * unit_ms for v in seq))
        except OverflowError:
            pass  # an int beyond float64: times_ms_list reads it as beyond every time
    return array.array("d", times_ms_list(seq, label, unit_ms))


def arro3_times_ms(values: Any, label: str, unit_ms: float) -> Col:
    """Arrow times (through arro3) → ms since the epoch (NaN for nulls). Timestamps and dates
    are read as their integer ticks, UTC whatever their time zone: arro3 reads those beyond
    Python's datetimes as None, which would drop them as missing."""
    ac = deps.require("arro3.core", f"reading {label} without pyarrow")
    col = _arrow_column(values, label)
    t = col.type
    if t.is_timestamp(t) or t.is_date(t):
        date_ms = 86_400_000.0 if t.is_date32(t) else 1.0  # date32: days; date64: ms
        per = UNIT_MS[t.time_unit] if t.is_timestamp(t) else date_ms
        ticks = col.cast(ac.DataType.int64()).to_pylist()
        return array.array("d", (math.nan if v is None else v * per for v in ticks))
    return _numbers_ms(col.to_pylist(), label, unit_ms)


class PureOps:
    """:class:`heatwidget.points.columns.ColumnOps` over ``array.array``."""

    name = "pure"

    def weights(self, values: Any, label: str) -> Col:
        return self.floats(values, label)  # array("f") gains nothing from staying float32

    def floats(self, values: Any, label: str) -> Col:
        if isinstance(values, array.array):
            if values.typecode in _NUMERIC_CODES:
                return array.array("d", values)
            row = 0 if len(values) else -1
            raise non_numeric(
                label, f"array({values.typecode!r})", row, values[0] if row == 0 else None
            )
        if _is_arrow_array(values):
            t, seq = _arrow_list(values, label)
            if not (t.is_null(t) or t.is_integer(t) or t.is_floating(t) or t.is_decimal(t)):
                row = next((i for i, v in enumerate(seq) if v is not None), -1)
                raise non_numeric(label, t, row, seq[row] if row >= 0 else None)
        else:
            seq = _sequence(values)
        if set(map(type, seq)) <= {float, int}:
            try:
                return array.array("d", seq)
            except OverflowError:
                pass  # an int beyond float64: the loop below names it
        out = array.array("d", [math.nan]) * len(seq)
        for i, v in enumerate(seq):
            if v is None:
                continue
            if not is_real_number(v):
                if isinstance(v, (list, tuple, array.array)):
                    raise not_1d(label, (len(seq), len(v)))
                raise non_numeric(label, "object", i, v)
            try:
                out[i] = float(v)
            except OverflowError:
                raise beyond_float64(label, v, i) from None
        return out

    def times_ms(self, values: Any, label: str, unit_ms: float) -> Col:
        if isinstance(values, array.array) and values.typecode in _NUMERIC_CODES:
            return array.array("d", (float(v) * unit_ms for v in values))
        if _is_arrow_array(values):
            return arro3_times_ms(values, label, unit_ms)
        return _numbers_ms(_sequence(values), label, unit_ms)

    def column(self, values: Any, kind: str) -> Col:
        code = _CODES[kind]
        if isinstance(values, array.array) and values.typecode == code:
            return values
        if hasattr(values, "tobytes"):  # numpy (or another buffer of the right type)
            out: Col = array.array(code)
            out.frombytes(values.astype(kind).tobytes())
            return out
        listed = values.to_pylist() if hasattr(values, "to_pylist") else list(values)
        return array.array(code, listed)

    def kind(self, col: Any) -> str | None:
        return _KINDS.get(col.typecode) if isinstance(col, array.array) else None

    def full(self, n: int, value: float, kind: str) -> Col:
        return array.array(_CODES[kind], [value]) * n

    def concat(self, cols: Sequence[Col], kind: str) -> Col:
        if len(cols) == 1:
            return cols[0]
        out: Col = array.array(_CODES[kind])
        for c in cols:
            out.extend(c)
        return out

    def all_finite(self, col: Col) -> bool:
        # A sum is NaN or infinite when an element is; a finite overflow (1e308 + 1e308) only
        # costs the caller's full pass, which then finds nothing.
        return math.isfinite(sum(col))

    def min_max_if_finite(self, col: Col) -> tuple[float, float] | None:
        # Python's min and max do not propagate NaN: the sum tells first.
        return self.min_max(col) if self.all_finite(col) else None

    def missing(self, cols: Sequence[Col]) -> list[bool]:
        isnan = math.isnan
        return [any(map(isnan, row)) for row in zip(*cols, strict=True)]

    def over(self, col: Col, limit: float) -> list[bool]:
        return [abs(v) > limit for v in col]

    def outside(self, col: Col, lo: float, hi: float) -> list[bool]:
        return [v < lo or v > hi for v in col]

    def vanished(self, before: Col, after: Col) -> list[bool]:
        return [a != 0.0 and b == 0.0 for a, b in zip(before, after, strict=True)]

    def bad_weights(self, col: Col) -> list[bool]:
        return [not (v >= 0.0 and math.isfinite(v)) for v in col]

    def differs(self, a: Col, b: Col) -> list[bool]:
        return [x != y for x, y in zip(a, b, strict=True)]

    def count(self, mask: list[bool]) -> int:
        return sum(mask)

    def first(self, mask: list[bool]) -> int:
        return mask.index(True) if True in mask else -1

    def kept(self, mask: list[bool]) -> list[int]:
        return [i for i, m in enumerate(mask) if not m]

    def take(self, col: Col, rows: Sequence[int]) -> Col:
        return array.array(col.typecode, [col[i] for i in rows])

    def min_max(self, col: Col) -> tuple[float, float]:
        return float(min(col)), float(max(col))

    def finite_min_max(self, col: Col) -> tuple[float, float] | None:
        finite = [t for t in col if math.isfinite(t)]
        return (min(finite), max(finite)) if finite else None

    def abs_max(self, col: Col) -> float:
        return float(max(map(abs, col)))

    def total(self, col: Col) -> float:
        return float(sum(col))

    def clip(self, col: Col, limit: float) -> Col:
        return array.array(col.typecode, (min(max(v, -limit), limit) for v in col))

    def wrap(self, col: Col) -> Col:
        # exact at any magnitude, as numpy_ops.wrap
        fmod = math.fmod
        out = array.array("d", (fmod(v, 360.0) for v in col))
        for i, v in enumerate(out):
            if v >= 180.0:
                out[i] = v - 360.0
            elif v < -180.0:
                out[i] = v + 360.0
        return out

    def float32(self, col: Col) -> Col:
        return array.array("f", col)  # rounds like numpy's astype; beyond float32 → inf

    def time_order(self, col: Col) -> list[int] | None:
        if all(a <= b or b != b for a, b in itertools.pairwise(col)):
            return None
        return sorted(range(len(col)), key=lambda i: (col[i] != col[i], col[i]))

    def mercator_fixed(
        self, lon: Col, lat: Col, project: Projector | None = None
    ) -> tuple[Any, Any]:
        del project  # for numpy columns: wasmtime does not run where this backend does
        xs, ys = array.array(_U32), array.array(_U32)
        for a, b in zip(lon, lat, strict=True):
            x, y = _mercator_fixed(a, b)
            xs.append(x)
            ys.append(y)
        return xs, ys

    def mercator_degrees(self, x: Any, y: Any) -> tuple[Col, Col]:
        lon, lat = array.array("d"), array.array("d")
        for a, b in zip(x, y, strict=True):
            if b == NO_POSITION:
                lon.append(math.nan)
                lat.append(math.nan)
                continue
            lon.append((a + 0.5) * (360.0 / FIXED_ONE) - 180.0)
            ny = (b + 0.5) / FIXED_ONE
            lat.append(math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * ny)))))
        return lon, lat

    def arro3_array(self, col: Col, kind: str) -> Any:
        ac = deps.require("arro3.core", "encoding points without pyarrow")
        if len(col):
            return ac.Array.from_buffer(col)  # no copy; float64 'd', float32 'f'
        # from_buffer refuses an empty buffer
        return ac.Array([], getattr(ac.DataType, kind)())

    def pyarrow_array(self, col: Col, kind: str) -> Any:
        pa = deps.require("pyarrow", "pyarrow_array()")
        t = getattr(pa, kind)()
        return pa.Array.from_buffers(t, len(col), [None, pa.py_buffer(col)])


def _mercator_fixed(lon: float, lat: float) -> tuple[int, int]:
    """heat.h "Coordinates" as js/kernel/mercator.h computes it, operation for operation."""
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return 0, NO_POSITION
    nx = lon / 360.0 + 0.5
    nx -= math.floor(nx)
    x = int(nx * FIXED_ONE) & 0xFFFFFFFF
    t = min(max(lat, -MAX_LATITUDE), MAX_LATITUDE) * RAD_PER_DEG
    x2, term, s = t * t, t, t
    for d in SIN_DIVISORS:
        term *= -x2 / d
        s += term
    m, e = math.frexp((1.0 + s) / (1.0 - s))  # m in [0.5, 1): maths.h's m in [1, 2) is 2m
    m, e = m * 2.0, e - 1
    if m > SQRT2:
        m *= 0.5
        e += 1
    u = (m - 1.0) / (m + 1.0)
    u2, term, acc = u * u, u, u
    for k in LOG_TERMS:
        term *= u2
        acc += term / k
    fy = (0.5 - (2.0 * acc + e * LN2) / (4.0 * math.pi)) * FIXED_ONE
    return x, int(min(max(fy, 0.0), MAX_FIXED_Y))


OPS = PureOps()

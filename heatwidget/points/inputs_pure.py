"""Inputs without numpy: the checks of heatwidget.points.inputs in pure Python (Pyodide).

Used only when numpy cannot be imported. Columns are array.array("d") (float64) and
array.array("f") (float32), encoded by _wire through arro3 (Array.from_buffer: no copy). Every
error and warning is worded as on the numpy path, and tests/test_inputs_pure.py checks that both
paths give the same table.
"""

from __future__ import annotations

import array
import math
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .inputs import (
    _UNIT_MS,
    MAX_LATITUDE,
    Bounds,
    DroppedRowsWarning,
    InputReport,
    MercatorEdgeWarning,
    _build,
    _is_arrow_array,
    _non_numeric,
    _Raw,
    _require,
    _row_text,
    _show,
    _Source,
    _times_ms_list,
)

_NAN = math.nan
_FLOAT32_MAX = 3.4028234663852886e38
_GEOJSON_TYPES = frozenset(
    {"FeatureCollection", "Feature", "Point", "MultiPoint", "GeometryCollection"}
)
_NO_NUMPY = (
    "numpy is not installed: without it heatwidget reads lat=/lon=/weight=/time= as lists, "
    "tuples or array.array, a dict of such columns, or an Arrow table or array (through "
    "arro3). Install numpy (pip install numpy; in JupyterLite %pip install numpy) for "
    "DataFrames, files, GeoJSON and geometry columns."
)


def _source_pure(data: Any) -> _Source:
    """``_source`` without numpy: dicts of columns and Arrow tables (through arro3)."""
    if isinstance(data, (str, os.PathLike)):
        raise ImportError(f"reading the file {os.fspath(data)!r} needs numpy; {_NO_NUMPY}")
    if isinstance(data, Mapping):
        if data.get("type") in _GEOJSON_TYPES and "lat" not in data and "lon" not in data:
            raise ImportError(f"reading a GeoJSON {data.get('type')} needs numpy; {_NO_NUMPY}")
        return _Source("dict", list(data.keys()), data.__getitem__)
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        ac = _require("arro3.core", f"reading a {type(data).__name__} without pyarrow")
        table = ac.Table.from_arrow(data)
        return _Source(type(data).__name__, list(table.column_names), table.column)
    raise TypeError(
        f"unsupported data of type {type(data).__module__}.{type(data).__qualname__}: {_NO_NUMPY}"
    )


def _is_real_number(v: Any) -> bool:
    """A real number (Decimal too), not a bool: what the numpy path accepts in object columns."""
    if isinstance(v, bool):
        return False
    return isinstance(v, numbers.Real) or (
        isinstance(v, numbers.Number) and not isinstance(v, numbers.Complex)
    )


def _pure_sequence(values: Any) -> list[Any]:
    """Any value → a list of its elements (a scalar → one element, as numpy does)."""
    if isinstance(values, (str, bytes, bytearray, Mapping)) or not hasattr(values, "__iter__"):
        return [values]
    return list(values)


def _pure_arrow_list(values: Any, label: str) -> tuple[Any, list[Any]]:
    """An Arrow array/chunked array (through arro3) → (its type, its values as Python objects)."""
    ac = _require("arro3.core", f"reading {label} without pyarrow")
    col = ac.ChunkedArray.from_arrow(values)
    return col.type, col.to_pylist()


def _pure_floats(values: Any, label: str) -> array.array[float]:
    """``_to_float`` without numpy: ``values`` → array("d") (NaN for missing)."""
    if isinstance(values, array.array):
        if values.typecode in "fdbBhHiIlLqQ":
            return array.array("d", values)
        row = 0 if len(values) else -1
        raise _non_numeric(
            label, f"array({values.typecode!r})", row, values[0] if row == 0 else None
        )
    if _is_arrow_array(values):
        t, seq = _pure_arrow_list(values, label)
        if not (t.is_null(t) or t.is_integer(t) or t.is_floating(t) or t.is_decimal(t)):
            row = next((i for i, v in enumerate(seq) if v is not None), -1)
            raise _non_numeric(label, t, row, seq[row] if row >= 0 else None)
    else:
        seq = _pure_sequence(values)
    kinds = set(map(type, seq))
    if kinds <= {float, int}:
        try:
            return array.array("d", seq)
        except OverflowError:
            pass  # an int beyond float64: the loop below names it
    out = array.array("d", [_NAN]) * len(seq)
    for i, v in enumerate(seq):
        if v is None:
            continue
        if not _is_real_number(v):
            if isinstance(v, (list, tuple, array.array)):
                raise ValueError(
                    f"{label} must be one-dimensional, got shape ({len(seq)}, {len(v)})"
                )
            raise _non_numeric(label, "object", i, v)
        try:
            out[i] = float(v)
        except OverflowError:
            raise ValueError(
                f"{label} has {_show(v)} at row {i}, beyond float64's range."
            ) from None
    return out


def _pure_times_ms(values: Any, label: str, unit: str) -> array.array[float]:
    """``_to_time_ms`` without numpy: times → array("d") of ms since the epoch, UTC."""
    if unit not in _UNIT_MS:
        raise ValueError(f"time_unit={unit!r}: use one of {', '.join(map(repr, _UNIT_MS))}.")
    unit_ms = _UNIT_MS[unit]
    if isinstance(values, array.array) and values.typecode in "fdbBhHiIlLqQ":
        return array.array("d", (float(v) * unit_ms for v in values))
    if _is_arrow_array(values):
        # Timestamps come as datetimes (aware with a time zone, else naive: taken as UTC, the
        # instant Arrow means), dates as dates.
        _t, seq = _pure_arrow_list(values, label)
    else:
        seq = _pure_sequence(values)
    if set(map(type, seq)) <= {float, int}:
        return array.array("d", (v * unit_ms for v in seq))
    return array.array("d", _times_ms_list(seq, label, unit_ms))


def _take(values: array.array[float], rows: Sequence[int]) -> array.array[float]:
    return array.array(values.typecode, [values[i] for i in rows])


def _pure_weights(
    weights: array.array[float], label: str, row: Callable[[int], str]
) -> array.array[float]:
    """``_check_weights`` without numpy."""
    n = len(weights)
    total = math.fsum(weights) if n else 0.0
    if n and (not math.isfinite(total) or min(weights) < 0.0):
        for i, v in enumerate(weights):
            if v >= 0.0 and math.isfinite(v):
                continue
            if v != v:
                fix = "fill them (e.g. df[col].fillna(0)) or drop those rows"
            elif v < 0:
                fix = "weights must be >= 0: clip them (np.clip(w, 0, None)) or shift them"
            else:
                fix = "weights must be finite"
            raise ValueError(f"{label} has {v!r} at {row(i)}: {fix}.")
    w32 = array.array("f", weights)  # rounds like numpy's astype; beyond float32 → inf
    if n and max(w32) > _FLOAT32_MAX:
        i = next(i for i, v in enumerate(w32) if v > _FLOAT32_MAX)
        raise ValueError(
            f"{label} has {weights[i]!r} at {row(i)}, beyond float32's "
            "range (3.4e38): scale the weights down."
        )
    return w32


def _all_finite(values: array.array[float]) -> bool:
    # A sum is NaN or infinite when an element is; a finite overflow (1e308 + 1e308) only
    # costs the full pass below, which then finds nothing.
    return math.isfinite(sum(values))


def _to_table_pure(raw: _Raw, time_unit: str, stacklevel: int) -> tuple[Any, InputReport]:
    """``to_table``'s checks and conversions in pure Python (numpy is not installed)."""
    lats = _pure_floats(raw.lat, raw.lat_label)
    lons = _pure_floats(raw.lon, raw.lon_label)
    weights = None if raw.weight is None else _pure_floats(raw.weight, raw.weight_label)
    times = None if raw.time is None else _pure_times_ms(raw.time, raw.time_label, time_unit)
    lengths = {raw.lat_label: len(lats), raw.lon_label: len(lons)}
    if weights is not None:
        lengths[raw.weight_label] = len(weights)
    if times is not None:
        lengths[raw.time_label] = len(times)
    if len(set(lengths.values())) > 1:
        parts = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"columns have different lengths: {parts}. Give one value per point.")

    n_in = len(lats)
    kept: list[int] | None = None  # rows kept, when some were dropped
    dropped = 0
    finite = _all_finite(lats) and _all_finite(lons)
    if times is not None:
        finite = finite and _all_finite(times)
    if n_in and not finite:
        isfinite = math.isfinite
        ok = [isfinite(a) and isfinite(b) for a, b in zip(lats, lons, strict=True)]
        what = "latitude or longitude"
        if times is not None:
            ok = [k and isfinite(t) for k, t in zip(ok, times, strict=True)]
            what = "latitude, longitude or time"
        kept = [i for i, k in enumerate(ok) if k]
        dropped = n_in - len(kept)
        if dropped:
            first = ok.index(False)
            warnings.warn(
                f"heatwidget dropped {dropped:,} of {n_in:,} rows whose {what} is missing "
                f"(NaN/None) or infinite (first at {_row_text(first, None)}). "
                "Drop or fill them first to silence this.",
                DroppedRowsWarning,
                stacklevel=stacklevel,
            )
            lats, lons = _take(lats, kept), _take(lons, kept)
            weights = None if weights is None else _take(weights, kept)
            times = None if times is None else _take(times, kept)
        else:
            kept = None  # only a finite sum overflowed

    def original_row(i: int) -> str:
        return _row_text(i if kept is None else kept[i], None)

    n = len(lats)
    clamped = wrapped = 0
    bounds: Bounds | None = None
    if n:
        lat_min, lat_max = min(lats), max(lats)
        if lat_min < -90.0 or lat_max > 90.0:
            i = next(i for i, v in enumerate(lats) if abs(v) > 90.0)
            swap = ""
            if max(map(abs, lons)) <= 90.0 and max(-lat_min, lat_max) <= 180.0:
                swap = " Are latitude and longitude swapped? Pass lat=/lon= explicitly."
            raise ValueError(
                f"{raw.lat_label} has {_show(lats[i])} at {original_row(i)}: latitudes must be "
                f"within ±90 degrees.{swap} If the values are projected coordinates (metres), "
                "convert them to degrees (EPSG:4326) first."
            )
        if lat_min < -MAX_LATITUDE or lat_max > MAX_LATITUDE:
            clamped = sum(1 for v in lats if abs(v) > MAX_LATITUDE)
            lats = array.array("d", (min(max(v, -MAX_LATITUDE), MAX_LATITUDE) for v in lats))
            warnings.warn(
                f"{clamped:,} rows have latitudes beyond ±{MAX_LATITUDE:.4f}°, the edge of the "
                "Web Mercator map: they are drawn at its top or bottom edge.",
                MercatorEdgeWarning,
                stacklevel=stacklevel,
            )
        if min(lons) < -180.0 or max(lons) >= 180.0:
            # The numpy path's formula, element by element (the same IEEE operations).
            floor = math.floor
            wrapped_lons = array.array("d", (v - 360.0 * floor((v + 180.0) / 360.0) for v in lons))
            for i, v in enumerate(wrapped_lons):
                if v >= 180.0:
                    wrapped_lons[i] = v - 360.0
                elif v < -180.0:
                    wrapped_lons[i] = v + 360.0
            wrapped = sum(1 for a, b in zip(wrapped_lons, lons, strict=True) if a != b)
            lons = wrapped_lons
        bounds = (min(lats), min(lons), max(lats), max(lons))

    columns: dict[str, array.array[float]] = {"lon": lons, "lat": lats}
    if weights is not None:
        columns["weight"] = _pure_weights(weights, raw.weight_label, original_row)
    if times is not None:
        columns["time"] = times
    report = raw.report(
        rows_in=n_in, rows=n, dropped=dropped, clamped=clamped, wrapped=wrapped, bounds=bounds
    )
    return _build(columns), report

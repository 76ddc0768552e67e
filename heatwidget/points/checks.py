"""The checks every input goes through, written once over the column ops.

Rows whose latitude, longitude or time is missing (NaN, None, null, NaT; a null or empty
geometry) are dropped (a :class:`DroppedRowsWarning`); an infinite one is an error. Latitudes
beyond ±90 are an error, those beyond Web Mercator's edge are moved to it (a
:class:`MercatorEdgeWarning`); longitudes within ±540 are wrapped exactly into [-180, 180)
silently (the same place), beyond it they are an error (not degrees: metres?). Times must lie
within Python's datetimes (years 1 to 9999). Weights must be finite and ≥ 0, fit float32 and
add up to at most ``MAX_WEIGHT_TOTAL``; those that float32 rounds to 0 are a
:class:`WeightUnderflowWarning`.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..constants import MAX_LATITUDE, Bounds
from .columns import ColumnOps
from .errors import (
    MAX_LONGITUDE,
    MAX_WEIGHT_TOTAL,
    not_finite,
    not_longitude,
    time_beyond,
    weights_too_heavy,
    weights_underflow,
)
from .scalars import is_real_number, numpy_module, show
from .schema import DroppedRowsWarning, InputReport, MercatorEdgeWarning, WeightUnderflowWarning
from .times import MAX_MS, MIN_MS, unit_ms

__all__ = ["Raw", "check"]

_FLOAT64_MAX = sys.float_info.max


@dataclass
class Raw:
    """The values to read, before conversion; labels name them in messages."""

    lat: Any
    lon: Any
    weight: Any
    time: Any
    lat_label: str = "lat"
    lon_label: str = "lon"
    weight_label: str = "weight"
    time_label: str = "time"
    lat_col: str | None = None
    lon_col: str | None = None
    weight_col: str | None = None
    time_col: str | None = None
    row_of: Any = None
    """For geometry inputs with MultiPoints: the source row of each point."""
    index_label: Callable[[int], Any] | None = None
    geometry_label: str | None = None
    """For geometry inputs: how to name the geometry in the dropped-rows warning."""

    def report(self, **counts: Any) -> InputReport:
        """The report of these inputs: ``counts`` (rows_in, rows, dropped, ...) and the source
        column names."""
        return InputReport(
            **counts,
            lat_column=self.lat_col,
            lon_column=self.lon_col,
            weight_column=self.weight_col,
            time_column=self.time_col,
        )


def row_text(row: int, index_label: Callable[[int], Any] | None) -> str:
    if index_label is None:
        return f"row {row}"
    return f"row {row} (index label {show(index_label(row))})"


def _check_lengths(raw: Raw, cols: dict[str, Any]) -> None:
    labels = {
        "lat": raw.lat_label,
        "lon": raw.lon_label,
        "weight": raw.weight_label,
        "time": raw.time_label,
    }
    lengths = {labels[k]: len(c) for k, c in cols.items()}
    if len(set(lengths.values())) > 1:
        parts = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"columns have different lengths: {parts}. Give one value per point.")


def _check_weights(
    ops: ColumnOps, weights: Any, label: str, row: Callable[[int], str], stacklevel: int
) -> Any:
    n = len(weights)
    # The fast tests may fail on a finite overflow: the first bad row (-1: none) decides.
    if n and ((r := ops.min_max_if_finite(weights)) is None or r[0] < 0.0):
        i = ops.first(ops.bad_weights(weights))
        if i >= 0:
            v = float(weights[i])
            if v != v:
                fix = "fill them (e.g. df[col].fillna(0)) or drop those rows"
            elif v < 0:
                fix = "weights must be >= 0: clip them (np.clip(w, 0, None)) or shift them"
            else:
                fix = "weights must be finite"
            raise ValueError(f"{label} has {v!r} at {row(i)}: {fix}.")
    w32 = ops.float32(weights)
    rounded = w32 is not weights  # float32 weights are checked above and cannot vanish
    if n and rounded and not ops.all_finite(w32):
        i = ops.first(ops.bad_weights(w32))
        if i >= 0:
            raise ValueError(
                f"{label} has {float(weights[i])!r} at {row(i)}, beyond float32's "
                "range (3.4e38): scale the weights down."
            )
    if n and ops.total(w32) > MAX_WEIGHT_TOTAL:
        raise weights_too_heavy(label, ops.total(w32), held=False)
    if n and rounded and ops.min_max(w32)[0] == 0.0:
        vanished = ops.vanished(weights, w32)
        count = ops.count(vanished)
        if count:
            i = ops.first(vanished)
            warnings.warn(
                weights_underflow(label, count, float(weights[i]), row(i)),
                WeightUnderflowWarning,
                stacklevel=stacklevel + 1,
            )
    return w32


def _given(values: Any, row: int) -> Any:
    """The value the user gave at ``row``, for a message; None when it cannot be read."""
    try:
        v = values.iloc[row] if hasattr(values, "iloc") else values[row]
        return v.as_py() if hasattr(v, "as_py") else v  # a pyarrow scalar
    except Exception:  # only for a message (an Arrow timestamp beyond datetime, ...)
        return None


def _check_times(raw: Raw, ops: ColumnOps, times: Any, unit: str) -> None:
    """Times beyond Python's datetimes (the time traits are datetimes) are an error; NaN is
    missing (dropped later), an infinity is not."""
    bad = ops.outside(times, MIN_MS, MAX_MS)
    count = ops.count(bad) if len(times) else 0
    if not count:
        return
    i = ops.first(bad)
    row = i if raw.row_of is None else int(raw.row_of[i])
    given = _given(raw.time, row)
    np = numpy_module()
    if given is None:
        shown, numeric = f"{float(times[i])!r} ms since 1970-01-01", False
    elif np is not None and isinstance(given, np.datetime64):
        shown, numeric = f"numpy.datetime64('{given}')", False
    else:
        shown, numeric = show(given), is_real_number(given)
    where = row_text(row, raw.index_label)
    raise time_beyond(
        raw.time_label, shown, where, float(times[i]), unit if numeric else None, count
    )


def _check_infinite(ops: ColumnOps, raw: Raw, lats: Any, lons: Any, row: Any) -> None:
    """Infinite coordinates are errors (NaN rows are gone: they were missing)."""
    for col, label in ((lats, raw.lat_label), (lons, raw.lon_label)):
        if not ops.all_finite(col):
            i = ops.first(ops.over(col, _FLOAT64_MAX))
            if i >= 0:
                raise not_finite(label, float(col[i]), row(i))


def _check_longitudes(ops: ColumnOps, raw: Raw, lons: Any, abs_max: float, row: Any) -> None:
    """Longitudes beyond ±MAX_LONGITUDE cannot be degrees: an error."""
    if abs_max > MAX_LONGITUDE:
        far = ops.over(lons, MAX_LONGITUDE)
        i = ops.first(far)
        raise not_longitude(raw.lon_label, float(lons[i]), row(i), ops.count(far))


def check(
    raw: Raw, ops: ColumnOps, time_unit: str, stacklevel: int
) -> tuple[dict[str, Any], InputReport]:
    """``raw`` → the canonical columns (of ``ops``' kind) and the report; warns and raises."""
    lats = ops.floats(raw.lat, raw.lat_label)
    lons = ops.floats(raw.lon, raw.lon_label)
    weights = None if raw.weight is None else ops.weights(raw.weight, raw.weight_label)
    times = None
    if raw.time is not None:
        times = ops.times_ms(raw.time, raw.time_label, unit_ms(time_unit))
    if raw.row_of is not None:  # MultiPoints: each member takes its feature's values
        weights = None if weights is None else ops.take(weights, raw.row_of)
        times = None if times is None else ops.take(times, raw.row_of)
    given = {"lat": lats, "lon": lons, "weight": weights, "time": times}
    _check_lengths(raw, {k: c for k, c in given.items() if c is not None})
    if times is not None:
        _check_times(raw, ops, times, time_unit)

    index_label = raw.index_label if raw.row_of is None else None
    n_in = len(lats)
    kept: Any = None  # the rows kept, when some were dropped
    dropped = 0
    located = [lats, lons] if times is None else [lats, lons, times]
    # Each check below is a pass over 10M-row columns (~5 ms): none is made twice. The minima
    # and maxima that tell that every value is finite are the ranges checked below.
    ranges = [ops.min_max_if_finite(c) for c in located] if n_in else []
    finite = all(r is not None for r in ranges)
    if not finite:
        missing = ops.missing(located)
        dropped = ops.count(missing)
        if dropped:  # else an infinity (an error below), or only a finite sum overflowed
            what = "latitude or longitude" if times is None else "latitude, longitude or time"
            if raw.geometry_label is not None:
                what = f"{raw.geometry_label} is null or empty, or whose {what}"
            warnings.warn(
                f"heatwidget dropped {dropped:,} of {n_in:,} rows whose {what} is missing "
                f"(NaN/None) (first at {row_text(ops.first(missing), index_label)}). "
                "Drop or fill them first to silence this.",
                DroppedRowsWarning,
                stacklevel=stacklevel,
            )
            kept = ops.kept(missing)
            lats, lons = ops.take(lats, kept), ops.take(lons, kept)
            weights = None if weights is None else ops.take(weights, kept)
            times = None if times is None else ops.take(times, kept)

    def original_row(i: int) -> str:
        return row_text(i if kept is None else int(kept[i]), index_label)

    n = len(lats)
    clamped = wrapped = 0
    bounds: Bounds | None = None
    if n:
        if not finite:
            _check_infinite(ops, raw, lats, lons, original_row)
        # The ranges found above, unless rows were dropped since (then the rest's range).
        kept_range = ranges if kept is None else [None, None]
        lat_min, lat_max = kept_range[0] or ops.min_max(lats)
        if lat_min < -90.0 or lat_max > 90.0:
            i = ops.first(ops.over(lats, 90.0))
            swap = ""
            if ops.abs_max(lons) <= 90.0 and max(-lat_min, lat_max) <= 180.0:
                swap = " Are latitude and longitude swapped? Pass lat=/lon= explicitly."
            raise ValueError(
                f"{raw.lat_label} has {show(lats[i])} at {original_row(i)}: latitudes must be "
                f"within ±90 degrees.{swap} If the values are projected coordinates (metres), "
                "convert them to degrees (EPSG:4326) first."
            )
        if lat_min < -MAX_LATITUDE or lat_max > MAX_LATITUDE:
            clamped = ops.count(ops.over(lats, MAX_LATITUDE))
            lats = ops.clip(lats, MAX_LATITUDE)
            warnings.warn(
                f"{clamped:,} rows have latitudes beyond ±{MAX_LATITUDE:.4f}°, the edge of the "
                "Web Mercator map: they are drawn at its top or bottom edge.",
                MercatorEdgeWarning,
                stacklevel=stacklevel,
            )
        lon_min, lon_max = kept_range[1] or ops.min_max(lons)  # finite: no NaN, no infinity
        _check_longitudes(ops, raw, lons, max(-lon_min, lon_max), original_row)
        if lon_min < -180.0 or lon_max >= 180.0:
            wrapped_lons = ops.wrap(lons)
            wrapped = ops.count(ops.differs(wrapped_lons, lons))
            lons = wrapped_lons
            lon_min, lon_max = ops.min_max(lons)
        if clamped:
            lat_min, lat_max = ops.min_max(lats)
        bounds = (lat_min, lon_min, lat_max, lon_max)

    columns: dict[str, Any] = {"lon": lons, "lat": lats}
    if weights is not None:
        columns["weight"] = _check_weights(ops, weights, raw.weight_label, original_row, stacklevel)
    if times is not None:
        columns["time"] = times
    report = raw.report(
        rows_in=n_in, rows=n, dropped=dropped, clamped=clamped, wrapped=wrapped, bounds=bounds
    )
    return columns, report

"""The checks every input goes through, written once over the column ops.

Rows whose latitude, longitude or time is missing or infinite are dropped (a
:class:`DroppedRowsWarning`); latitudes beyond ±90 are an error, those beyond Web Mercator's
edge are moved to it (a :class:`MercatorEdgeWarning`); longitudes are wrapped into [-180, 180)
silently (the same place); weights must be finite and ≥ 0 and fit float32.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..constants import MAX_LATITUDE, Bounds
from .columns import ColumnOps
from .scalars import show
from .schema import DroppedRowsWarning, InputReport, MercatorEdgeWarning
from .times import unit_ms

__all__ = ["Raw", "check"]


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


def _check_weights(ops: ColumnOps, weights: Any, label: str, row: Callable[[int], str]) -> Any:
    n = len(weights)
    # The fast tests may fail on a finite overflow: the first bad row (-1: none) decides.
    if n and (not ops.all_finite(weights) or ops.min_max(weights)[0] < 0.0):
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
    if n and not ops.all_finite(w32):
        i = ops.first(ops.bad_weights(w32))
        if i >= 0:
            raise ValueError(
                f"{label} has {float(weights[i])!r} at {row(i)}, beyond float32's "
                "range (3.4e38): scale the weights down."
            )
    return w32


def check(
    raw: Raw, ops: ColumnOps, time_unit: str, stacklevel: int
) -> tuple[dict[str, Any], InputReport]:
    """``raw`` → the canonical columns (of ``ops``' kind) and the report; warns and raises."""
    lats = ops.floats(raw.lat, raw.lat_label)
    lons = ops.floats(raw.lon, raw.lon_label)
    weights = None if raw.weight is None else ops.floats(raw.weight, raw.weight_label)
    times = None
    if raw.time is not None:
        times = ops.times_ms(raw.time, raw.time_label, unit_ms(time_unit))
    if raw.row_of is not None:  # MultiPoints: each member takes its feature's values
        weights = None if weights is None else ops.take(weights, raw.row_of)
        times = None if times is None else ops.take(times, raw.row_of)
    given = {"lat": lats, "lon": lons, "weight": weights, "time": times}
    _check_lengths(raw, {k: c for k, c in given.items() if c is not None})

    index_label = raw.index_label if raw.row_of is None else None
    n_in = len(lats)
    kept: Any = None  # the rows kept, when some were dropped
    dropped = 0
    located = [lats, lons] if times is None else [lats, lons, times]
    if n_in and not all(ops.all_finite(c) for c in located):
        missing = ops.missing(located)
        dropped = ops.count(missing)
        if dropped:  # else only a finite sum overflowed
            what = "latitude or longitude" if times is None else "latitude, longitude or time"
            warnings.warn(
                f"heatwidget dropped {dropped:,} of {n_in:,} rows whose {what} is missing "
                f"(NaN/None) or infinite (first at {row_text(ops.first(missing), index_label)}). "
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
        lat_min, lat_max = ops.min_max(lats)
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
        lon_min, lon_max = ops.min_max(lons)
        if lon_min < -180.0 or lon_max >= 180.0:
            wrapped_lons = ops.wrap(lons)
            wrapped = ops.count(ops.differs(wrapped_lons, lons))
            lons = wrapped_lons
        lat_min, lat_max = ops.min_max(lats)
        lon_min, lon_max = ops.min_max(lons)
        bounds = (lat_min, lon_min, lat_max, lon_max)

    columns: dict[str, Any] = {"lon": lons, "lat": lats}
    if weights is not None:
        columns["weight"] = _check_weights(ops, weights, raw.weight_label, original_row)
    if times is not None:
        columns["time"] = times
    report = raw.report(
        rows_in=n_in, rows=n, dropped=dropped, clamped=clamped, wrapped=wrapped, bounds=bounds
    )
    return columns, report

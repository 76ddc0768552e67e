"""Error and warning messages that the points raise, each worded here once."""

from __future__ import annotations

import math
from typing import Any

from .scalars import show

__all__ = [
    "MAX_LONGITUDE",
    "MAX_WEIGHT_TOTAL",
    "beyond_float64",
    "non_numeric",
    "not_1d",
    "not_finite",
    "not_longitude",
    "time_beyond",
    "weights_too_heavy",
    "weights_underflow",
]

#: Longitudes beyond ±540° are refused: within it, one world either side of the map (data in
#: 0..360, tracks shifted by ±360), they are wrapped exactly into [-180, 180); beyond it they are
#: not degrees, most likely projected metres (e.g. Web Mercator x, up to ±20,037,508).
MAX_LONGITUDE = 540.0

#: The most the weights held may add up to. Weights are drawn in float32 (largest 3.4e38); a
#: pixel holds at most the total of the weights (a Gaussian spreads, never multiplies), and the
#: margin covers the rounding of float32 sums.
MAX_WEIGHT_TOTAL = 1e38

_TOTAL = f"{MAX_WEIGHT_TOTAL:.0e}".replace("e+", "e")  # "1e38"
_FLOAT32_TINY = 1.4e-45  # the smallest float32 above 0 (a subnormal)
_MS_PER_YEAR = 31_556_952_000.0  # 365.2425 days
_UNIT_WORDS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def non_numeric(label: str, dtype: Any, row: int, value: Any) -> ValueError:
    where = f"; first non-number {show(value)} at row {row}" if row >= 0 else ""
    dtype = str(dtype).strip()  # arro3's types end in a newline
    return ValueError(
        f"{label} is not numeric (dtype {dtype}){where}. Convert it to numbers first, e.g. "
        "pandas.to_numeric(df[col], errors='coerce') (unparseable values become NaN and are "
        "dropped), or pass a different column."
    )


def not_1d(label: str, shape: tuple[int, ...]) -> ValueError:
    return ValueError(f"{label} must be one-dimensional, got shape {shape}")


def beyond_float64(label: str, value: Any, row: int) -> ValueError:
    return ValueError(f"{label} has {show(value)} at row {row}, beyond float64's range.")


def not_finite(label: str, value: float, row: str) -> ValueError:
    """An infinite latitude or longitude (``row`` as :func:`checks.row_text` words it)."""
    return ValueError(
        f"{label} has {value!r} at {row}: coordinates must be finite numbers of degrees. "
        "Missing ones (NaN/None) are dropped with a warning, an infinite one is an error: fix "
        "or drop that row first."
    )


def not_longitude(label: str, value: float, row: str, count: int) -> ValueError:
    others = f" ({count:,} rows are)" if count > 1 else ""
    return ValueError(
        f"{label} has {value!r} at {row}: longitudes must be within ±{MAX_LONGITUDE:g} degrees"
        f"{others} (beyond ±180 they are wrapped: 190 is -170). Values this large are not "
        "degrees: if they are projected coordinates (metres, e.g. Web Mercator EPSG:3857 or "
        "UTM), convert them to degrees (EPSG:4326) first: with geopandas gdf.to_crs(4326), or "
        "pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(x, y)."
    )


def time_beyond(
    label: str, shown: str, row: str, ms: float, unit: str | None, count: int
) -> ValueError:
    """A time beyond Python's datetimes: ``shown`` as given, ``ms`` as read; ``unit`` is the
    ``time_unit`` numbers were read in (None when they were datetimes)."""
    when = f"year {1970 + ms / _MS_PER_YEAR:,.0f}" if math.isfinite(ms) else "not a finite time"
    others = f" ({count:,} rows are)" if count > 1 else ""
    if unit is not None:
        word = _UNIT_WORDS.get(unit, unit)
        read = f"read as {word} since 1970-01-01 UTC (time_unit={unit!r}) that is {when}"
        fix = (
            "If the numbers are in another unit, say which: time_unit='s', 'ms', 'us' or 'ns' "
            "(milliseconds read as seconds land tens of thousands of years away); otherwise "
            "fix or drop those rows, or convert the column first, e.g. "
            "pandas.to_datetime(df[col], unit='ms', utc=True)."
        )
    else:
        read = f"that is {when}"
        fix = "Fix or drop those rows first (e.g. keep df[df[col].dt.year < 10000])."
    return ValueError(
        f"{label} has {shown} at {row}, {read}: beyond the times heatwidget can hold (years 1 "
        f"to 9999, UTC, Python's datetimes){others}. {fix}"
    )


def weights_too_heavy(label: str, total: float, held: bool) -> ValueError:
    where = " with the rows held" if held else ""
    fewer = "; or lower max_points to hold fewer rows" if held else ""
    return ValueError(
        f"{label} sums to {total:.3g}{where}, too much for float32, the type weights are drawn "
        f"in (at most 3.4e38 in a pixel; heatwidget allows a total of {_TOTAL}, a "
        "margin for rounding): scale the weights down, e.g. divide them all by 1e30 (colours "
        f"follow the relative weights){fewer}."
    )


def weights_underflow(label: str, count: int, value: float, row: str) -> str:
    """The text of a :class:`WeightUnderflowWarning`."""
    return (
        f"{label} has {count:,} weights too small for float32, the type weights are drawn in "
        f"(below {_FLOAT32_TINY:g}; first {value!r} at {row}): they became 0 and add no heat. "
        "To keep them, scale the weights up, e.g. multiply them all by 1e30 (colours follow "
        "the relative weights)."
    )

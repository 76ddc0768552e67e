"""Trait types of :class:`heatwidget.Heatmap` whose errors say what is wrong and how to fix it.

Each type normalises what it accepts (lists become tuples, numpy scalars become floats) so the
value synced to the front end is plain JSON, and raises ``traitlets.TraitError`` with a message
of the form ``Heatmap.<trait>: <what is wrong>; <what to do>``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import numbers
from collections.abc import Sequence
from typing import Any

import traitlets

from ..constants import EPOCH, PERCENTILE
from . import basemaps as _basemaps
from . import colormaps as _colormaps

__all__ = [
    "WINDOW_JSON",
    "Basemap",
    "Bounds",
    "Choice",
    "Colormap",
    "Duration",
    "LatLon",
    "MaxPoints",
    "Number",
    "PositiveInt",
    "TimeExtent",
    "TimeWindow",
    "Vmax",
    "ms_to_datetime",
    "time_ms",
    "to_datetime",
]


class _Checked(traitlets.TraitType[Any, Any]):
    """A trait whose :meth:`check` returns the normalised value or raises ValueError."""

    def check(self, value: Any) -> Any:  # pragma: no cover - overridden
        return value

    def validate(self, obj: Any, value: Any) -> Any:
        if value is None and self.allow_none:
            return None
        try:
            return self.check(value)
        except (ValueError, TypeError) as e:
            owner = type(obj).__name__ if obj is not None else "trait"
            raise traitlets.TraitError(f"{owner}.{self.name}: {e}") from None


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"expected a number, got {value!r} ({type(value).__name__})")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError(f"expected a finite number, got {value!r}")
    return out


class Number(_Checked):
    """A finite float within optional bounds ``[min, max]``."""

    info_text = "a finite number"

    def __init__(
        self,
        default_value: Any = traitlets.Undefined,
        *,
        min: float | None = None,
        max: float | None = None,
        hint: str = "",
        **kwargs: Any,
    ) -> None:
        self.min, self.max, self.hint = min, max, hint
        super().__init__(default_value, **kwargs)

    def check(self, value: Any) -> float:
        out = _as_float(value)
        if (self.min is not None and out < self.min) or (self.max is not None and out > self.max):
            if self.max is None:
                want = f"must be >= {self.min:g}"
            elif self.min is None:
                want = f"must be <= {self.max:g}"
            else:
                want = f"must be between {self.min:g} and {self.max:g}"
            raise ValueError(f"{want}, got {value!r}{self.hint}")
        return out


class PositiveInt(_Checked):
    """An int ≥ 1."""

    info_text = "a positive int"

    def check(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"expected a whole number of pixels, got {value!r}")
        if int(value) < 1:
            raise ValueError(f"must be >= 1, got {value!r}")
        return int(value)


class Choice(_Checked):
    """One of a fixed set of strings (a close match is suggested on a typo)."""

    def __init__(self, values: Sequence[str], default_value: str, **kwargs: Any) -> None:
        self.values = tuple(values)
        self.info_text = "one of " + ", ".join(map(repr, self.values))
        super().__init__(default_value, **kwargs)

    def check(self, value: Any) -> str:
        if isinstance(value, str) and value in self.values:
            return value
        close = difflib.get_close_matches(str(value), self.values, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"must be {self.info_text}, got {value!r}{hint}")


class Vmax(_Checked):
    """The top of the colour scale: a number, ``"auto"`` (the frame's maximum) or ``"p<q>"``."""

    info_text = "a number, 'auto' or 'p<q>' such as 'p99'"

    def check(self, value: Any) -> float | str:
        if isinstance(value, str):
            if value == "auto":
                return value
            m = PERCENTILE.fullmatch(value)
            if m and 0.0 < float(m.group(1)) <= 100.0:
                return value
            raise ValueError(
                f"must be a number, 'auto' (the frame's maximum) or 'p<q>' with 0 < q <= 100 "
                f"(the q-th percentile of the frame's non-zero densities, e.g. 'p99'), got "
                f"{value!r}"
            )
        return _as_float(value)


class Colormap(_Checked):
    """A colormap name (with optional ``_r``) or a list of colours, checked by resolve_lut."""

    info_text = "a colormap name or a list of colours"

    def check(self, value: Any) -> str | list[Any]:
        if not isinstance(value, str):
            if not isinstance(value, Sequence) and not hasattr(value, "tolist"):
                raise ValueError(
                    f"expected a colormap name such as 'inferno' or a list of colours, "
                    f"got {value!r}"
                )
            value = value.tolist() if hasattr(value, "tolist") else value
            # JSON-able for the sync: tuples inside become lists.
            value = [list(c) if isinstance(c, tuple) else c for c in value]
        _colormaps.resolve_lut(value)  # raises ValueError naming the bad value
        result: str | list[Any] = value
        return result


class Basemap(_Checked):
    """A basemap name, a tile URL template, a ``{url, attribution, max_zoom}`` dict or None."""

    info_text = "a basemap name, a tile URL template or None"

    def check(self, value: Any) -> Any:
        _basemaps.resolve(value)
        return dict(value) if isinstance(value, dict) else value


def _pair(value: Any, size: int, what: str) -> tuple[float, ...]:
    if isinstance(value, (str, bytes, dict)):
        raise TypeError(f"expected {what}, got {value!r}")
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"expected {what}, got {value!r}") from None
    if len(items) != size:
        raise ValueError(f"expected {what}, got {value!r}")
    return tuple(_as_float(v) for v in items)


class LatLon(_Checked):
    """``(lat, lon)`` in degrees, lat within ±90."""

    info_text = "a (lat, lon) pair"

    def check(self, value: Any) -> tuple[float, float]:
        lat, lon = _pair(value, 2, "a (lat, lon) pair of numbers")
        if not -90.0 <= lat <= 90.0:
            raise ValueError(f"latitude must be within ±90, got {lat!r} (is it (lat, lon)?)")
        return (lat, lon)


class Bounds(_Checked):
    """``(south, west, north, east)`` in degrees."""

    info_text = "a (south, west, north, east) tuple"

    def check(self, value: Any) -> tuple[float, float, float, float]:
        s, w, n, e = _pair(value, 4, "a (south, west, north, east) tuple of numbers")
        return (s, w, n, e)


class MaxPoints(_Checked):
    """None (keep every row) or an int ≥ 1: the sliding window's size in rows."""

    info_text = "None or a positive int"

    def check(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"expected None or a whole number of rows, got {value!r}")
        if int(value) < 1:
            raise ValueError(f"must be None (keep all rows) or >= 1, got {value!r}")
        return int(value)


def to_datetime(value: Any) -> dt.datetime:
    """One instant → an aware UTC datetime.

    Accepts datetime.datetime (naive = UTC), datetime.date, ISO 8601 strings ("2024-01-31",
    "2024-01-31T12:00:00+01:00"), numpy.datetime64, pandas.Timestamp and numbers: seconds since
    the Unix epoch (POSIX time, as ``time.time()`` and as ``time=`` numbers are read by default).
    """
    if isinstance(value, bool):
        raise TypeError(f"expected a time (datetime or number), got {value!r}")
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"expected a time in ISO 8601 form, such as '2024-01-31' or '2024-01-31T12:00', "
                f"got {value!r}"
            ) from None
    try:
        return _datetime(value)
    except OverflowError:
        raise ValueError(
            f"expected a time within the years 1 to 9999 (Python's datetimes), got {value!r}"
            + (" (seconds since the epoch)" if isinstance(value, numbers.Real) else "")
        ) from None


def _datetime(value: Any) -> dt.datetime:
    if isinstance(value, numbers.Real):
        return EPOCH + dt.timedelta(seconds=_as_float(value))
    if type(value).__name__ == "Timestamp":  # pandas, without importing it
        if value != value:  # NaT
            raise ValueError("expected a time, got NaT")
        value = value.to_pydatetime()
    if str(getattr(value, "dtype", "")).startswith("datetime64"):
        import numpy as np

        if np.isnat(value):
            raise ValueError("expected a time, got NaT")
        us = int(value.astype("datetime64[us]").astype("int64"))
        return EPOCH + dt.timedelta(microseconds=us)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    raise TypeError(
        f"expected a time (datetime, ISO 8601 string, numpy.datetime64, pandas.Timestamp or "
        f"seconds since the epoch), got {value!r} ({type(value).__name__})"
    )


def time_ms(value: Any) -> float:
    """One instant → milliseconds since the Unix epoch (the unit of the ``time`` column)."""
    return (to_datetime(value) - EPOCH) / dt.timedelta(milliseconds=1)


def ms_to_datetime(ms: float) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=float(ms))


def _window_to_json(value: Any, _widget: Any = None) -> list[float | None] | None:
    if value is None:
        return None
    return [None if v is None else time_ms(v) for v in value]


def _window_from_json(value: Any, _widget: Any = None) -> Any:
    if value is None:
        return None
    return tuple(None if v is None else ms_to_datetime(v) for v in value)


#: to_json/from_json of the TimeWindow traits: datetimes in Python, ms floats on the wire.
WINDOW_JSON = {"to_json": _window_to_json, "from_json": _window_from_json}


class TimeWindow(_Checked):
    """``(start, end)``: start <= t < end, each a datetime or a number (seconds since the epoch)
    or None (unbounded); held as aware UTC datetimes, synced as ms since the epoch (see
    WINDOW_JSON)."""

    info_text = "None or a (start, end) pair of times"

    def check(self, value: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
        start, end = _time_pair(value)
        if start is not None and end is not None and not start < end:
            raise ValueError(
                f"start must be before end, got ({value[0]!r}, {value[1]!r}); the window is "
                "start <= t < end"
            )
        return (start, end)


class TimeExtent(_Checked):
    """``(first, last)``: the times of the rows held, as :class:`TimeWindow` holds and syncs
    them; one instant (every row at the same time) is a zero-width extent ``(t, t)``."""

    info_text = "None or a (first, last) pair of times"

    def check(self, value: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
        first, last = _time_pair(value)
        if first is not None and last is not None and first > last:
            raise ValueError(f"first must not be after last, got ({value[0]!r}, {value[1]!r})")
        return (first, last)


def _time_pair(value: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
        raise TypeError(
            f"expected None or a (start, end) pair of datetimes or numbers, got {value!r}"
        )
    if len(value) != 2:
        raise ValueError(f"expected a (start, end) pair, got {len(value)} values: {value!r}")
    start, end = (None if v is None else to_datetime(v) for v in value)
    return (start, end)


class Duration(_Checked):
    """A positive duration: seconds (a number) or a datetime.timedelta / numpy.timedelta64 /
    pandas.Timedelta; stored as seconds (float)."""

    info_text = "a positive duration in seconds or a timedelta"

    def check(self, value: Any) -> float:
        if hasattr(value, "total_seconds"):
            seconds = float(value.total_seconds())
        elif str(getattr(value, "dtype", "")).startswith("timedelta64"):
            seconds = float(value.astype("timedelta64[us]").astype("int64")) / 1e6
        else:
            seconds = _as_float(value)
        if not seconds > 0 or not math.isfinite(seconds):
            raise ValueError(f"must be a positive duration, got {value!r}")
        return seconds

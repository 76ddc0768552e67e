"""Every input form → the one canonical pyarrow Table of points.

The canonical table (docs/architecture.md, "Wire format") has the columns

* ``lon`` float64: degrees, wrapped into [-180, 180) (a longitude of 190 becomes -170: this is
  silent, since it is the same place);
* ``lat`` float64: degrees within ±85.0511287798, Web Mercator's edge. Latitudes beyond ±90
  are an error; those between 85.0511… and 90 are kept, moved to the edge (where the map draws
  them anyway) and reported with a warning;
* ``weight`` float32, optional: finite and ≥ 0 (an error otherwise); absent means 1 per point.

Rows whose latitude or longitude is missing (NaN, None, null) or infinite are dropped with a
:class:`DroppedRowsWarning`. Accepted inputs: a pandas DataFrame, a pyarrow Table or
RecordBatch, any object with ``__arrow_c_stream__`` (polars, …), a dict of columns, or
``lat=``/``lon=``/``weight=`` arrays (numpy, lists, pandas Series, pyarrow arrays). With a
table-like ``data``, ``lat``/``lon``/``weight`` are column names; ``lat``/``lon`` default to
an unambiguous column name (:data:`LAT_NAMES`, :data:`LON_NAMES`, any case).

Nothing else in the package knows about input forms.
"""

from __future__ import annotations

import difflib
import numbers
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = [
    "LAT_NAMES",
    "LON_NAMES",
    "MAX_LATITUDE",
    "DroppedRowsWarning",
    "InputReport",
    "MercatorEdgeWarning",
    "canonical_schema",
    "empty_table",
    "to_table",
]

#: Leaflet's SphericalMercator.MAX_LATITUDE (heat.h clamps to the same value).
MAX_LATITUDE = 85.0511287798

#: Column names auto-detected (case-insensitively) when ``lat=``/``lon=`` are not given.
#: ``x``/``y`` are left out on purpose: they are as often projected metres as degrees.
LAT_NAMES = ("lat", "latitude")
LON_NAMES = ("lon", "lng", "long", "longitude")

Bounds = tuple[float, float, float, float]


class DroppedRowsWarning(UserWarning):
    """Rows were dropped because their latitude or longitude is missing or not finite."""


class MercatorEdgeWarning(UserWarning):
    """Latitudes between 85.0511° and 90° were moved to Web Mercator's edge."""


@dataclass(frozen=True)
class InputReport:
    """What :func:`to_table` did to the rows it was given."""

    rows_in: int
    """Rows given."""
    rows: int
    """Rows in the table (``rows_in - dropped``)."""
    dropped: int = 0
    """Rows dropped for a missing (NaN/None/null) or infinite latitude or longitude."""
    clamped: int = 0
    """Rows with 85.0511° < |lat| ≤ 90°, moved to the Mercator edge."""
    wrapped: int = 0
    """Rows whose longitude was outside [-180, 180) and was wrapped into it."""
    bounds: Bounds | None = None
    """``(south, west, north, east)`` of the rows kept, or None when there are none."""
    lat_column: str | None = None
    """The source column read as latitude (None for plain arrays)."""
    lon_column: str | None = None
    weight_column: str | None = None


def canonical_schema(with_weight: bool) -> pa.Schema:
    """The schema of the canonical table, with or without the ``weight`` column."""
    fields = [pa.field("lon", pa.float64(), nullable=False), pa.field("lat", pa.float64(), False)]
    if with_weight:
        fields.append(pa.field("weight", pa.float32(), nullable=False))
    return pa.schema(fields)


def empty_table(with_weight: bool = False) -> pa.Table:
    """A canonical table with no rows."""
    return canonical_schema(with_weight).empty_table()


# ---- column access -------------------------------------------------------------------------


class _Source:
    """Uniform access to the columns of one table-like input."""

    def __init__(self, kind: str, columns: Sequence[str], get: Callable[[str], Any]) -> None:
        self.kind = kind
        self.columns = [str(c) for c in columns]
        self._keys = {str(c): c for c in columns}
        self._get = get
        self.index_label: Callable[[int], Any] | None = None

    def get(self, name: str) -> Any:
        return self._get(self._keys[name])


def _pandas() -> Any:
    return sys.modules.get("pandas")


def _is_dataframe(obj: Any) -> bool:
    pd = _pandas()
    return pd is not None and isinstance(obj, pd.DataFrame)


def _is_series(obj: Any) -> bool:
    pd = _pandas()
    return pd is not None and isinstance(obj, pd.Series)


def _source(data: Any) -> _Source:
    if _is_dataframe(data):
        df = data
        src = _Source("DataFrame", list(df.columns), lambda k: df[k])
        pd = _pandas()
        if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
            src.index_label = lambda i: df.index[i]
        return src
    if isinstance(data, (pa.Table, pa.RecordBatch)):
        return _Source(type(data).__name__, data.column_names, data.column)
    if isinstance(data, Mapping):
        return _Source("dict", list(data.keys()), data.__getitem__)
    if hasattr(data, "__arrow_c_stream__"):
        # polars, duckdb, arro3, … : anything speaking the Arrow PyCapsule interface.
        table = pa.table(data)
        return _Source(type(data).__name__, table.column_names, table.column)
    if isinstance(data, np.ndarray):
        raise TypeError(
            f"data is a numpy array of shape {data.shape}; heatwidget needs to know which "
            "values are latitudes: pass lat=arr[:, 0], lon=arr[:, 1] (or whichever columns "
            "they are) instead of data."
        )
    raise TypeError(
        f"unsupported data of type {type(data).__module__}.{type(data).__qualname__}: pass a "
        "pandas DataFrame, a pyarrow Table or RecordBatch, a dict of columns, an object with "
        "__arrow_c_stream__ (polars, …), or lat=/lon=/weight= arrays."
    )


def _find_column(src: _Source, given: Any, role: str, candidates: Sequence[str]) -> str:
    """The column of ``src`` to read for ``role`` ("lat", "lon", "weight")."""
    available = ", ".join(map(repr, src.columns)) or "none"
    if given is not None:
        if not isinstance(given, str):
            raise TypeError(
                f"with data given, {role}= must be a column name (a str), not "
                f"{type(given).__name__}. To pass arrays, leave data out: "
                f"Heatmap(lat=..., lon=..., weight=...)."
            )
        if given in src.columns:
            return given
        close = difflib.get_close_matches(given, src.columns, n=1)
        hint = f" Did you mean {role}={close[0]!r}?" if close else ""
        raise ValueError(
            f"column {given!r} (given as {role}=) is not in the {src.kind}; available "
            f"columns: {available}.{hint}"
        )
    lowered = {name.lower(): name for name in candidates}
    found = [c for c in src.columns if c.lower() in lowered]
    what = "latitude" if role == "lat" else "longitude"
    if len(found) == 1:
        return found[0]
    tried = ", ".join(map(repr, candidates))
    if not found:
        raise ValueError(
            f"no {what} column found: tried {tried} (any case); available columns: "
            f"{available}. Name it with {role}='<column>'."
        )
    raise ValueError(
        f"more than one {what} column: {', '.join(map(repr, found))}. Choose one with "
        f"{role}='<column>'."
    )


# ---- values → numpy ------------------------------------------------------------------------


def _is_numeric_arrow(t: pa.DataType) -> bool:
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def _missing_scalar() -> Any:
    pd = _pandas()
    return pd.NA if pd is not None else None


def _first_bad(values: np.ndarray) -> tuple[int, Any]:
    """Row and value of the first element that is neither a real number nor missing."""
    na = _missing_scalar()
    for i, v in enumerate(values):
        if v is None or v is na:
            continue
        # Real numbers, and Decimal (a Number that is not Complex); bools are not numbers here.
        real = isinstance(v, numbers.Real) or (
            isinstance(v, numbers.Number) and not isinstance(v, numbers.Complex)
        )
        if real and not isinstance(v, (bool, np.bool_)):
            continue
        return i, v
    return -1, None


def _show(value: Any) -> str:
    """repr of a value as the user wrote it (numpy scalars as plain Python ones)."""
    item = getattr(value, "item", None)
    if isinstance(value, np.generic) and item is not None:
        value = item()
    return repr(value)


def _non_numeric(label: str, dtype: Any, row: int, value: Any) -> ValueError:
    where = f"; first non-number {_show(value)} at row {row}" if row >= 0 else ""
    return ValueError(
        f"{label} is not numeric (dtype {dtype}){where}. Convert it to numbers first, e.g. "
        "pandas.to_numeric(df[col], errors='coerce') (unparseable values become NaN and are "
        "dropped), or pass a different column."
    )


def _to_float(values: Any, label: str, dtype: type[np.floating[Any]] = np.float64) -> np.ndarray:
    """``values`` → a 1-D float array (NaN for missing). Never modify the result in place."""
    if isinstance(values, (pa.ChunkedArray, pa.Array)):
        if pa.types.is_null(values.type):
            return np.full(len(values), np.nan, dtype=dtype)
        if not _is_numeric_arrow(values.type):
            first = values.drop_null()[:1].to_pylist() if len(values) else []
            row = -1
            if first:
                row = int(np.flatnonzero(values.is_valid().to_numpy(zero_copy_only=False))[0])
            raise _non_numeric(label, values.type, row, first[0] if first else None)
        arr = values.cast(pa.float64() if dtype is np.float64 else pa.float32())
        # Float arrays with nulls come out with NaN in their place.
        return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=dtype)
    if _is_series(values):
        pd = _pandas()
        api = pd.api.types
        if api.is_numeric_dtype(values.dtype) and not api.is_bool_dtype(values.dtype):
            return np.asarray(values.to_numpy(dtype=dtype, na_value=np.nan))
        values = values.to_numpy(dtype=object)
        if not values.size or values.dtype != object:
            return np.asarray(values, dtype=dtype)
    if hasattr(values, "__arrow_c_array__") and not isinstance(values, np.ndarray):
        return _to_float(pa.array(values), label, dtype)
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1) if arr.ndim == 0 or arr.size == 0 else arr
        if arr.ndim != 1:
            raise ValueError(f"{label} must be one-dimensional, got shape {arr.shape}")
    kind = arr.dtype.kind
    if kind in "iuf":
        out: np.ndarray = arr.astype(dtype, copy=False)
        return out
    if kind == "O":
        row, bad = _first_bad(arr)
        if row >= 0:
            raise _non_numeric(label, "object", row, bad)
        try:
            na = _missing_scalar()
            return np.array([np.nan if v is None or v is na else v for v in arr], dtype=dtype)
        except (TypeError, ValueError) as e:  # pragma: no cover - guarded by _first_bad
            raise _non_numeric(label, "object", -1, None) from e
    row = 0 if arr.size else -1
    raise _non_numeric(label, arr.dtype, row, arr[0] if arr.size else None)


# ---- the one entry point -------------------------------------------------------------------


def _row_text(row: int, index_label: Callable[[int], Any] | None) -> str:
    if index_label is None:
        return f"row {row}"
    return f"row {row} (index label {_show(index_label(row))})"


def to_table(
    data: Any = None,
    *,
    lat: Any = None,
    lon: Any = None,
    weight: Any = None,
    stacklevel: int = 2,
) -> tuple[pa.Table, InputReport]:
    """Turn any accepted input into ``(canonical table, report)``; see the module docstring.

    Raises ``ValueError`` (missing or non-numeric column, mismatched lengths, latitude beyond
    ±90, negative/NaN/infinite weight) and ``TypeError`` (unsupported input) with messages that
    name the column, the row and value, and a fix. ``stacklevel`` is passed to the warnings.
    """
    index_label: Callable[[int], Any] | None = None
    lat_col = lon_col = weight_col = None
    if data is None:
        if lat is None and lon is None:
            if weight is not None:
                raise ValueError("weight= was given without lat= and lon=.")
            return empty_table(), InputReport(rows_in=0, rows=0)
        if lat is None or lon is None:
            missing = "lat" if lat is None else "lon"
            raise ValueError(
                f"{missing}= is missing: pass both lat= and lon= (arrays), or a table as data."
            )
        for role, v in (("lat", lat), ("lon", lon), ("weight", weight)):
            if isinstance(v, str):
                raise TypeError(
                    f"{role}={v!r} is a column name but no data was given: pass the table "
                    f"too, e.g. Heatmap(df, {role}={v!r})."
                )
        lat_label, lon_label, weight_label = "lat", "lon", "weight"
        lat_raw, lon_raw, w_raw = lat, lon, weight
    else:
        src = _source(data)
        index_label = src.index_label
        lat_col = _find_column(src, lat, "lat", LAT_NAMES)
        lon_col = _find_column(src, lon, "lon", LON_NAMES)
        if lat_col == lon_col:
            raise ValueError(f"lat and lon are the same column {lat_col!r}.")
        weight_col = None if weight is None else _find_column(src, weight, "weight", ())
        lat_label = f"latitude column {lat_col!r}"
        lon_label = f"longitude column {lon_col!r}"
        weight_label = f"weight column {weight_col!r}"
        lat_raw, lon_raw = src.get(lat_col), src.get(lon_col)
        w_raw = None if weight_col is None else src.get(weight_col)

    lats = _to_float(lat_raw, lat_label)
    lons = _to_float(lon_raw, lon_label)
    weights = None if w_raw is None else _to_float(w_raw, weight_label)
    lengths = {lat_label: len(lats), lon_label: len(lons)}
    if weights is not None:
        lengths[weight_label] = len(weights)
    if len(set(lengths.values())) > 1:
        parts = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"columns have different lengths: {parts}. Give one value per point.")

    n_in = len(lats)
    kept: np.ndarray | None = None  # mask of the rows kept, when some were dropped
    dropped = 0
    if n_in and not np.isfinite(lats.min() + lats.max() + lons.min() + lons.max()):
        # min/max propagate NaN, so this full pass runs only when something is not finite.
        kept = np.isfinite(lats)
        kept &= np.isfinite(lons)
        dropped = n_in - int(np.count_nonzero(kept))
        first = int(np.argmin(kept))
        warnings.warn(
            f"heatwidget dropped {dropped:,} of {n_in:,} rows whose latitude or longitude is "
            f"missing (NaN/None) or infinite (first at {_row_text(first, index_label)}). "
            "Drop or fill them first to silence this.",
            DroppedRowsWarning,
            stacklevel=stacklevel,
        )
        lats, lons = lats[kept], lons[kept]
        if weights is not None:
            weights = weights[kept]

    def original_row(i: int) -> str:
        row = i if kept is None else int(np.flatnonzero(kept)[i])
        return _row_text(row, index_label)

    n = len(lats)
    clamped = wrapped = 0
    bounds: Bounds | None = None
    if n:
        lat_min, lat_max = float(lats.min()), float(lats.max())
        if lat_min < -90.0 or lat_max > 90.0:
            i = int(np.flatnonzero(np.abs(lats) > 90.0)[0])
            swap = ""
            if float(np.abs(lons).max()) <= 90.0 and max(-lat_min, lat_max) <= 180.0:
                swap = " Are latitude and longitude swapped? Pass lat=/lon= explicitly."
            raise ValueError(
                f"{lat_label} has {_show(lats[i])} at {original_row(i)}: latitudes must be within "
                f"±90 degrees.{swap} If the values are projected coordinates (metres), "
                "convert them to degrees (EPSG:4326) first."
            )
        if lat_min < -MAX_LATITUDE or lat_max > MAX_LATITUDE:
            edge = np.abs(lats) > MAX_LATITUDE
            clamped = int(np.count_nonzero(edge))
            lats = np.clip(lats, -MAX_LATITUDE, MAX_LATITUDE)
            warnings.warn(
                f"{clamped:,} rows have latitudes beyond ±{MAX_LATITUDE:.4f}°, the edge of the "
                "Web Mercator map: they are drawn at its top or bottom edge.",
                MercatorEdgeWarning,
                stacklevel=stacklevel,
            )
        lon_min, lon_max = float(lons.min()), float(lons.max())
        if lon_min < -180.0 or lon_max >= 180.0:
            # k = 0 for longitudes in range, and lons - 0 is exact: they are not changed.
            original = lons
            lons = lons - 360.0 * np.floor((lons + 180.0) / 360.0)
            # Rounding of lon + 180 can land a hair outside [-180, 180): fold it back.
            if float(lons.min()) < -180.0 or float(lons.max()) >= 180.0:
                lons[lons >= 180.0] -= 360.0
                lons[lons < -180.0] += 360.0
            wrapped = int(np.count_nonzero(lons != original))
        bounds = (float(lats.min()), float(lons.min()), float(lats.max()), float(lons.max()))

    columns: list[Any] = [pa.array(lons, pa.float64()), pa.array(lats, pa.float64())]
    if weights is not None:
        w_min = float(weights.min()) if n else 0.0
        w_max = float(weights.max()) if n else 0.0
        if not (w_min >= 0.0) or not np.isfinite(w_max):  # NaN fails both comparisons
            bad = ~(weights >= 0.0) | ~np.isfinite(weights)
            i = int(np.flatnonzero(bad)[0])
            v = float(weights[i])
            if np.isnan(v):
                fix = "fill them (e.g. df[col].fillna(0)) or drop those rows"
            elif v < 0:
                fix = "weights must be >= 0: clip them (np.clip(w, 0, None)) or shift them"
            else:
                fix = "weights must be finite"
            raise ValueError(f"{weight_label} has {v!r} at {original_row(i)}: {fix}.")
        with np.errstate(over="ignore"):  # overflow is reported just below
            w32 = weights.astype(np.float32, copy=False)
        if n and not np.isfinite(float(w32.max())):
            i = int(np.flatnonzero(~np.isfinite(w32))[0])
            raise ValueError(
                f"{weight_label} has {float(weights[i])!r} at {original_row(i)}, beyond float32's "
                "range (3.4e38): scale the weights down."
            )
        columns.append(pa.array(w32, pa.float32()))

    table = pa.Table.from_arrays(columns, schema=canonical_schema(weights is not None))
    report = InputReport(
        rows_in=n_in,
        rows=n,
        dropped=dropped,
        clamped=clamped,
        wrapped=wrapped,
        bounds=bounds,
        lat_column=lat_col,
        lon_column=lon_col,
        weight_column=weight_col,
    )
    return table, report

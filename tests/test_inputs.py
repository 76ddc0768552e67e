"""heatwidget.points.to_table: every input form → the canonical table, and every error message."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pyarrow as pa
import pytest

from heatwidget.constants import MAX_LATITUDE
from heatwidget.points import DroppedRowsWarning, MercatorEdgeWarning, to_table
from heatwidget.points.schema import canonical_schema

pd = pytest.importorskip("pandas")

LAT = [10.0, 20.0, -30.5]
LON = [1.0, -2.0, 3.5]
W = [1.0, 0.5, 2.0]


def _cols(table: pa.Table) -> dict[str, list[float]]:
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _check_canonical(table: pa.Table, with_weight: bool) -> None:
    assert table.schema.equals(canonical_schema(with_weight))
    assert table.column_names == (["lon", "lat", "weight"] if with_weight else ["lon", "lat"])


# ---- input forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lat": LAT, "lon": LON, "weight": W},
        {"lat": np.array(LAT), "lon": np.array(LON), "weight": np.array(W)},
        {"lat": np.array(LAT, np.float32), "lon": np.array(LON, np.float32), "weight": W},
        {"lat": pd.Series(LAT), "lon": pd.Series(LON), "weight": pd.Series(W)},
        {"lat": pa.array(LAT), "lon": pa.chunked_array([LON[:1], LON[1:]]), "weight": W},
        {"lat": tuple(LAT), "lon": tuple(LON), "weight": tuple(W)},
    ],
    ids=["lists", "numpy", "float32", "series", "arrow", "tuples"],
)
def test_array_forms(kwargs: dict) -> None:
    table, report = to_table(**kwargs)
    _check_canonical(table, True)
    cols = _cols(table)
    assert cols["lat"] == pytest.approx(LAT)
    assert cols["lon"] == pytest.approx(LON)
    assert cols["weight"] == pytest.approx(W)
    assert (report.rows_in, report.rows, report.dropped) == (3, 3, 0)
    assert report.bounds == pytest.approx((-30.5, -2.0, 20.0, 3.5))


def test_integer_coordinates() -> None:
    table, _ = to_table(lat=np.array([1, 2], np.int32), lon=np.array([3, 4], np.uint8))
    _check_canonical(table, False)
    assert _cols(table) == {"lon": [3.0, 4.0], "lat": [1.0, 2.0]}


@pytest.mark.parametrize("form", ["pandas", "arrow-table", "record-batch", "dict", "capsule"])
def test_table_forms(form: str) -> None:
    cols = {"lat": LAT, "lon": LON, "w": W, "other": ["a", "b", "c"]}
    data = {
        "pandas": lambda: pd.DataFrame(cols),
        "arrow-table": lambda: pa.table(cols),
        "record-batch": lambda: pa.RecordBatch.from_pydict(cols),
        "dict": lambda: {k: np.asarray(v) for k, v in cols.items()},
        "capsule": lambda: _Capsule(pa.table(cols)),
    }[form]()
    table, report = to_table(data, weight="w")
    _check_canonical(table, True)
    assert _cols(table) == {"lon": LON, "lat": LAT, "weight": W}
    assert (report.lat_column, report.lon_column, report.weight_column) == ("lat", "lon", "w")


class _Capsule:
    """Something that only speaks the Arrow PyCapsule stream interface (like polars)."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)


def test_weight_is_optional() -> None:
    table, report = to_table(pd.DataFrame({"lat": LAT, "lon": LON}))
    _check_canonical(table, False)
    assert report.weight_column is None


def test_explicit_column_names() -> None:
    df = pd.DataFrame({"y_deg": LAT, "x_deg": LON, "mag": W})
    table, report = to_table(df, lat="y_deg", lon="x_deg", weight="mag")
    assert _cols(table)["lat"] == LAT
    assert report.lat_column == "y_deg"


@pytest.mark.parametrize(
    ("lat_name", "lon_name"),
    [("latitude", "longitude"), ("Lat", "Lng"), ("LATITUDE", "long"), ("lat", "lon")],
)
def test_auto_detected_names(lat_name: str, lon_name: str) -> None:
    df = pd.DataFrame({lon_name: LON, lat_name: LAT})
    table, report = to_table(df)
    assert _cols(table) == {"lon": LON, "lat": LAT}
    assert (report.lat_column, report.lon_column) == (lat_name, lon_name)


def test_x_y_are_not_guessed() -> None:
    df = pd.DataFrame({"x": LON, "y": LAT})
    with pytest.raises(ValueError, match="no latitude column found") as e:
        to_table(df)
    msg = str(e.value)
    assert "'lat', 'latitude'" in msg  # names tried
    assert "'x', 'y'" in msg  # available
    assert "lat='<column>'" in msg  # the fix


def test_ambiguous_auto_detection() -> None:
    df = pd.DataFrame({"lat": LAT, "latitude": LAT, "lon": LON})
    with pytest.raises(ValueError, match=r"more than one latitude column: 'lat', 'latitude'"):
        to_table(df)


def test_does_not_modify_or_alias_input() -> None:
    lat = np.array([10.0, 89.0, 20.0])
    lon = np.array([190.0, 0.0, -200.0])
    with pytest.warns(MercatorEdgeWarning):
        table, _ = to_table(lat=lat, lon=lon)
    assert lat.tolist() == [10.0, 89.0, 20.0]
    assert lon.tolist() == [190.0, 0.0, -200.0]
    assert _cols(table)["lon"] == [-170.0, 0.0, 160.0]


def test_empty_inputs() -> None:
    for table, report in (
        to_table(),
        to_table(lat=[], lon=[]),
        to_table(pd.DataFrame({"lat": [], "lon": [], "w": []}), weight="w"),
    ):
        assert table.num_rows == 0
        assert report.rows == 0
        assert report.bounds is None
        assert set(table.column_names) <= {"lon", "lat", "weight"}


# ---- cleaning ------------------------------------------------------------------------------


def test_missing_coordinates_are_dropped_with_a_warning() -> None:
    # (infinite ones are an error: tests/test_hardening.py)
    lat = [1.0, np.nan, 3.0, 4.0, None, 6.0]
    lon = [1.0, 2.0, np.nan, 4.0, 5.0, None]
    weight = [1, 2, 3, 4, 5, 6]
    with pytest.warns(DroppedRowsWarning) as record:
        table, report = to_table(lat=lat, lon=lon, weight=weight)
    msg = str(record[0].message)
    assert "dropped 4 of 6 rows" in msg
    assert "first at row 1" in msg
    assert "NaN" in msg
    assert record[0].filename == __file__  # points at the caller
    assert (report.rows_in, report.rows, report.dropped) == (6, 2, 4)
    assert _cols(table) == {"lon": [1.0, 4.0], "lat": [1.0, 4.0], "weight": [1.0, 4.0]}


def test_nulls_in_arrow_and_nullable_pandas_are_dropped() -> None:
    df = pd.DataFrame(
        {"lat": pd.array([1.0, None, 3.0], "Float64"), "lon": pd.array([1, 2, None], "Int64")}
    )
    with pytest.warns(DroppedRowsWarning, match="dropped 2 of 3"):
        table, _ = to_table(df)
    assert _cols(table) == {"lon": [1.0], "lat": [1.0]}
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 2"):
        table, _ = to_table(pa.table({"lat": [1.0, None], "lon": [2, 3]}))
    assert table.num_rows == 1


def test_drop_warning_names_pandas_index_label() -> None:
    df = pd.DataFrame({"lat": [1.0, np.nan], "lon": [1.0, 2.0]}, index=["a", "b"])
    with pytest.warns(DroppedRowsWarning, match=r"row 1 \(index label 'b'\)"):
        to_table(df)


def test_object_column_with_none() -> None:
    lat = np.array([1.0, None, 2], dtype=object)
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 3"):
        table, _ = to_table(lat=lat, lon=[0.0, 0.0, 0.0])
    assert _cols(table)["lat"] == [1.0, 2.0]


def test_longitudes_wrap_silently() -> None:
    # (beyond ±540 longitudes are an error: tests/test_hardening.py)
    lon = [180.0, -180.0, 190.0, -190.0, 540.0, 359.0, 0.25, -539.5]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table, report = to_table(lat=[0.0] * len(lon), lon=lon)
    assert _cols(table)["lon"] == [-180.0, -180.0, -170.0, 170.0, -180.0, -1.0, 0.25, -179.5]
    assert report.wrapped == 6
    assert all(-180.0 <= v < 180.0 for v in _cols(table)["lon"])


def test_in_range_longitudes_are_bit_exact() -> None:
    lon = np.array([179.99999999999997, -179.99999999999997, 0.1, 123.456789])
    table, report = to_table(lat=np.zeros(5), lon=np.append(lon, 200.0))
    assert table.column("lon").to_numpy()[:4].tolist() == lon.tolist()
    assert report.wrapped == 1


def test_latitudes_beyond_mercator_edge_are_clamped_with_a_warning() -> None:
    with pytest.warns(MercatorEdgeWarning, match=r"2 rows have latitudes beyond ±85\.0511"):
        table, report = to_table(lat=[89.0, -90.0, 45.0], lon=[0.0, 0.0, 0.0])
    assert _cols(table)["lat"] == [MAX_LATITUDE, -MAX_LATITUDE, 45.0]
    assert report.clamped == 2
    assert report.bounds == (-MAX_LATITUDE, 0.0, MAX_LATITUDE, 0.0)


# ---- errors --------------------------------------------------------------------------------


def test_latitude_beyond_90_names_row_and_value() -> None:
    with pytest.raises(ValueError, match=r"has 91\.5 at row 2: latitudes must be within ±90"):
        to_table(lat=[0.0, 1.0, 91.5], lon=[0.0, 0.0, 0.0])


def test_latitude_error_row_counts_dropped_rows() -> None:
    # The row is the row of the input, even after NaN rows before it were dropped.
    with (
        pytest.warns(DroppedRowsWarning),
        pytest.raises(ValueError, match=r"-95\.0 at row 3"),
    ):
        to_table(lat=[np.nan, np.nan, 0.0, -95.0], lon=[0.0] * 4)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        ([10.0, 95.0, -20.0], [5.0, np.nan, -30.0]),  # latitudes hold no NaN: a range of them
        ([10.0, np.nan, -20.0], [5.0, 5000.0, -30.0]),
    ],
)
def test_dropped_rows_take_their_values_out_of_the_range(
    lat: list[float], lon: list[float]
) -> None:
    # The range found while looking for missing values included the dropped row: once it is
    # dropped, its latitude of 95° or longitude of 5000° is neither an error nor a bound.
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 3"):
        table, report = to_table(lat=np.array(lat), lon=np.array(lon))
    assert report.bounds == (-20.0, -30.0, 10.0, 5.0)
    assert report.wrapped == 0
    assert _cols(table)["lat"] == [10.0, -20.0]


def test_swapped_coordinates_hint() -> None:
    df = pd.DataFrame({"lat": [2.35, 139.7], "lon": [48.86, 35.7]})
    with pytest.raises(ValueError, match="swapped") as e:
        to_table(df)
    assert "latitude column 'lat' has 139.7 at row 1" in str(e.value)


def test_projected_metres_hint() -> None:
    with pytest.raises(ValueError, match=r"projected coordinates \(metres\)"):
        to_table(lat=[5_000_000.0], lon=[1_000_000.0])


def test_missing_named_column_lists_available_and_suggests() -> None:
    df = pd.DataFrame({"lat": LAT, "lon": LON, "magnitude": W})
    with pytest.raises(ValueError, match="magnitud") as e:
        to_table(df, weight="magnitud")
    msg = str(e.value)
    assert "column 'magnitud' (given as weight=) is not in the DataFrame" in msg
    assert "available columns: 'lat', 'lon', 'magnitude'" in msg
    assert "Did you mean weight='magnitude'?" in msg


@pytest.mark.parametrize("form", ["pandas", "arrow", "numpy-dict"])
def test_non_numeric_column(form: str) -> None:
    column = {"lat": ["a", "b"], "lon": [1.0, 2.0]}
    data = {
        "pandas": pd.DataFrame,
        "arrow": pa.table,
        "numpy-dict": lambda c: {k: np.array(v) for k, v in c.items()},
    }[form](column)
    with pytest.raises(ValueError, match="not numeric") as e:
        to_table(data)
    msg = str(e.value)
    assert "latitude column 'lat' is not numeric" in msg
    assert "'a' at row 0" in msg
    assert "to_numeric" in msg


def test_non_numeric_object_column_names_first_bad_row() -> None:
    df = pd.DataFrame({"lat": [1.0, 2.0, 3.0], "lon": [1.0, 2.0, 3.0], "w": [1.0, None, "x"]})
    with pytest.raises(ValueError, match=r"weight column 'w' is not numeric .*'x' at row 2"):
        to_table(df, weight="w")


def test_boolean_column_is_not_numeric() -> None:
    with pytest.raises(ValueError, match="not numeric"):
        to_table(lat=np.array([True, False]), lon=[0.0, 1.0])


def test_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="different lengths") as e:
        to_table(lat=[1.0, 2.0, 3.0], lon=[1.0, 2.0], weight=[1.0, 1.0, 1.0])
    msg = str(e.value)
    assert "different lengths" in msg
    assert "lat has 3" in msg and "lon has 2" in msg and "weight has 3" in msg


@pytest.mark.parametrize(
    ("weights", "pattern"),
    [
        ([1.0, -0.5, 2.0], r"weight has -0\.5 at row 1: weights must be >= 0: clip them"),
        ([1.0, 2.0, np.nan], r"weight has nan at row 2: fill them"),
        ([np.inf, 2.0, 1.0], r"weight has inf at row 0: weights must be finite"),
        ([1.0, 1e39, 1.0], r"beyond float32's range"),
    ],
)
def test_bad_weights(weights: list[float], pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        to_table(lat=[0.0, 1.0, 2.0], lon=[0.0, 1.0, 2.0], weight=weights)


@pytest.mark.parametrize(
    ("weights", "pattern"),
    [
        ([1.0, -0.5, 2.0], r"weight has -0\.5 at row 1: weights must be >= 0: clip them"),
        ([1.0, 2.0, np.nan], r"weight has nan at row 2: fill them"),
        ([np.inf, 2.0, 1.0], r"weight has inf at row 0: weights must be finite"),
    ],
)
@pytest.mark.parametrize("form", ["ndarray", "series"])
def test_bad_float32_weights_are_refused_as_float64_ones(
    weights: list[float], pattern: str, form: str
) -> None:
    """float32 weights skip the float64 copy (ops.weights), not the checks."""
    w = np.array(weights, np.float32)
    given = w if form == "ndarray" else pd.Series(w)
    with pytest.raises(ValueError, match=pattern):
        to_table(lat=[0.0, 1.0, 2.0], lon=[0.0, 1.0, 2.0], weight=given)


def test_float32_weights_are_held_as_given() -> None:
    """A float32 column becomes the table's weight without a float64 copy and back: the
    same values, the same memory, and no underflow warning (nothing was rounded)."""
    w = np.array([0.0, 1.5, 3e30, 1e-45], np.float32)
    df = pd.DataFrame({"lat": [0.0, 1.0, 2.0, 3.0], "lon": [0.0, 1.0, 2.0, 3.0], "w": w})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table, _ = to_table(df, weight="w")
    got = table.column("weight").to_numpy()
    np.testing.assert_array_equal(got, w)
    assert np.shares_memory(got, df["w"].to_numpy(copy=False))


def test_bad_weight_in_dataframe_names_column_and_label() -> None:
    df = pd.DataFrame({"lat": [0.0, 1.0], "lon": [0.0, 1.0], "mag": [1.0, -3.0]}, index=[10, 20])
    pattern = r"weight column 'mag' has -3\.0 at row 1 \(index label 20\)"
    with pytest.raises(ValueError, match=pattern):
        to_table(df, weight="mag")


def test_weight_of_dropped_rows_is_not_checked() -> None:
    with pytest.warns(DroppedRowsWarning):
        table, _ = to_table(lat=[np.nan, 1.0], lon=[0.0, 1.0], weight=[np.nan, 2.0])
    assert _cols(table)["weight"] == [2.0]


@pytest.mark.parametrize(
    ("kwargs", "exc", "pattern"),
    [
        ({"lat": [1.0]}, ValueError, r"lon= is missing"),
        ({"weight": [1.0]}, ValueError, r"weight= was given without lat= and lon="),
        ({"lat": "lat", "lon": "lon"}, TypeError, r"no data was given.*Heatmap\(df, lat='lat'\)"),
        ({"data": np.zeros((3, 2))}, TypeError, r"lat=arr\[:, 0\], lon=arr\[:, 1\]"),
        ({"data": 42}, TypeError, r"unsupported data of type builtins\.int"),
        ({"data": {"lat": LAT, "lon": LON}, "lat": np.array(LAT)}, TypeError, "column name"),
        ({"data": {"lat": LAT, "lon": LON}, "lon": "lat"}, ValueError, "same column 'lat'"),
        ({"lat": np.zeros((2, 2)), "lon": [1.0, 2.0]}, ValueError, "one-dimensional"),
    ],
)
def test_argument_errors(kwargs: dict, exc: type[Exception], pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        to_table(**kwargs)


# ---- no copies ------------------------------------------------------------------------------


def test_valid_float64_coordinates_are_not_copied() -> None:
    """What keeps 10M rows at a few hundred ms (no timing here: timings are bench/'s): clean
    float64 lat/lon in range travel as they are, shared with the caller's arrays."""
    rng = np.random.default_rng(0)
    n = 100_000
    lat = rng.uniform(-80, 80, n)
    lon = rng.uniform(-180, 180, n)
    weight = rng.uniform(0, 1, n).astype(np.float32)
    table, report = to_table(lat=lat, lon=lon, weight=weight)
    assert report.rows == n
    assert np.shares_memory(table.column("lat").to_numpy(), lat)
    assert np.shares_memory(table.column("lon").to_numpy(), lon)
    assert table.column("weight").to_numpy().tolist() == weight.tolist()


def test_report_text_is_stable() -> None:
    _, report = to_table(lat=[1.0], lon=[2.0])
    assert re.fullmatch(r"InputReport\(rows_in=1, rows=1, .*\)", repr(report))


@pytest.mark.parametrize("far", [-600.0, 600.0, -1e300, 1e300])
def test_longitudes_far_east_or_west_are_an_error(far: float) -> None:
    # abs_max is max(-min, max): both signs must trip the check
    with pytest.raises(
        ValueError, match=re.escape(f"lon has {far!r} at row 1: longitudes must be within")
    ):
        to_table(lat=[0.0, 1.0, 2.0], lon=[10.0, far, -20.0])

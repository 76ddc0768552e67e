"""Issue 10, the Python side: numbers at their limits, over both column backends.

Every input check here runs over both column backends (numpy and pure Python, ``ops=``), as
``tests/test_inputs_pure.py`` holds them to one contract; a few cases also run in a process
without numpy and pyarrow (``run_pure``), as in Pyodide. Failing calls that change nothing, one
instant of time, frame sizes and the colour domain: tests/test_hardening.py.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from backends import BACKENDS, cols, run_numpy, run_pure

from heatwidget import Heatmap
from heatwidget.points import DroppedRowsWarning, WeightUnderflowWarning, to_table
from heatwidget.points.columns import ColumnOps, numpy_ops
from heatwidget.points.wire import decode

ROOT = Path(__file__).resolve().parent.parent
needs_host = pytest.mark.skipif(
    importlib.util.find_spec("wasmtime") is None
    or not (ROOT / "heatwidget" / "static" / "heat.wasm").is_file(),
    reason="needs wasmtime and the built heat.wasm",
)


# ---- 3. times beyond what can be represented ----------------------------------------------

TOO_FAR = [
    ([1.7e15], "s", "1700000000000000.0"),  # microseconds read as seconds
    ([1e300], "s", "1e+300"),
    ([10**400], "s", "1" + "0" * 40),  # beyond float64 (shown shortened)
    ([float("inf")], "s", "inf"),
    ([-float("inf")], "ms", "-inf"),
    ([2**63 - 1], "s", "9223372036854775807"),
    ([2**63 - 1], "ms", "9223372036854775807"),
    ([2**63 - 1], "us", "9223372036854775807"),
    ([-(2**63)], "us", "-9223372036854775808"),
]


@pytest.mark.parametrize(("values", "unit", "shown"), TOO_FAR)
def test_times_beyond_the_representable_range_are_named(
    ops: ColumnOps, values: list[Any], unit: str, shown: str
) -> None:
    lat = [0.0] * (len(values) + 1)
    times = [1.0, *values]
    with pytest.raises(ValueError, match=r".") as e:
        to_table(lat=lat, lon=lat, time=times, time_unit=unit, ops=ops)
    msg = str(e.value)
    assert msg.startswith("time has ")
    assert shown in msg and "at row 1" in msg
    assert "years 1 to 9999" in msg and "time_unit=" in msg


def test_integer_timestamps_in_every_unit(ops: ColumnOps) -> None:
    big = 2**63 - 1  # int64's largest: only nanoseconds of it are a date (2262)
    table, _ = to_table(lat=[0.0], lon=[0.0], time=[big], time_unit="ns", ops=ops)
    assert cols(table)["time"] == pytest.approx([big / 1e6], rel=1e-15)
    for unit, ms in (("s", 1e3), ("ms", 1.0), ("us", 1e-3), ("ns", 1e-6)):
        table, _ = to_table(lat=[0.0], lon=[0.0], time=[1_700_000_000], time_unit=unit, ops=ops)
        assert cols(table)["time"] == pytest.approx([1_700_000_000 * ms], rel=1e-15)


def test_numpy_integer_timestamps_beyond_the_range() -> None:
    with pytest.raises(ValueError, match=r"time has 9223372036854775807 at row 0"):
        to_table(lat=[0.0], lon=[0.0], time=np.array([2**63 - 1]), time_unit="ms")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow RuntimeWarning leaks
        with pytest.raises(ValueError, match=r"time has 1e\+308 at row 0"):
            to_table(lat=[0.0], lon=[0.0], time=np.array([1e308]))


DT64_UNITS = ["Y", "M", "W", "D", "h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"]


@pytest.mark.parametrize("unit", DT64_UNITS)
def test_datetime64_of_every_unit(unit: str) -> None:
    values = np.array([0, 1, 37, -3, "NaT"], dtype=f"M8[{unit}]")
    ints = values[:4].astype(np.int64)
    fine = {"us": 1e-3, "ns": 1e-6, "ps": 1e-9, "fs": 1e-12, "as": 1e-15}
    if unit in fine:
        expect = [float(v) * fine[unit] for v in ints]
    else:
        expect = [float(v) for v in values[:4].astype("M8[ms]").astype(np.int64)]
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 5"):
        table, _ = to_table(lat=[0.0] * 5, lon=[0.0] * 5, time=values)
    assert cols(table)["time"] == pytest.approx(expect, rel=1e-15, abs=1e-18)
    # as Python objects (a column of datetime64 scalars) the same
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 5"):
        table2, _ = to_table(lat=[0.0] * 5, lon=[0.0] * 5, time=list(values))
    assert cols(table2)["time"] == cols(table)["time"]


@pytest.mark.parametrize(
    "value",
    [
        np.datetime64("3000-01-01T00:00:00", "s"),
        np.datetime64("1000-06-01", "D"),
        np.datetime64("0001-01-01", "D"),
        np.datetime64("9999-12-31T23:59:59", "s"),
    ],
)
def test_datetime64_beyond_nanoseconds_range_is_exact(value: np.datetime64) -> None:
    """datetime64[ns] spans 1678-2262 only: other dates must not wrap around through it."""
    want = float(value.astype("M8[ms]").astype(np.int64))
    for times in (np.array([value]), [value]):
        table, _ = to_table(lat=[0.0], lon=[0.0], time=times)
        assert cols(table)["time"] == [want]
    pd = pytest.importorskip("pandas")
    table, _ = to_table(
        pd.DataFrame({"lat": [0.0], "lon": [0.0], "t": np.array([value])}), time="t"
    )
    assert cols(table)["time"] == [want]


@pytest.mark.parametrize(
    "times",
    [
        np.array(["10000-01-01"], "M8[D]"),
        np.array([20000], "M8[Y]"),
        np.array([-5000], "M8[Y]"),
        np.array([2**62], "M8[s]"),
        [np.datetime64(2**62, "m")],
        pa.array([2**60], pa.timestamp("s")),
        pa.array([2**60], pa.timestamp("s", tz="UTC")),
    ],
    ids=["D 10000", "Y 20000", "Y -5000", "s 2**62", "m object", "arrow s", "arrow s UTC"],
)
def test_datetimes_outside_pythons_range_are_named(times: Any) -> None:
    with pytest.raises(ValueError, match=r"time has .* at row 0.*years 1 to 9999"):
        to_table(lat=[0.0], lon=[0.0], time=times)


def test_arrow_timestamps_beyond_pythons_range_on_the_pure_path() -> None:
    """arro3 reads such timestamps as None: they must not be dropped as missing."""
    times = pa.array([0, 2**60], pa.timestamp("s"))
    with pytest.raises(ValueError, match=r"time has .* at row 1.*years 1 to 9999"):
        to_table(lat=[0.0, 0.0], lon=[0.0, 0.0], time=times, ops=BACKENDS["pure"])
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 2"):
        table, _ = to_table(
            lat=[0.0, 0.0],
            lon=[0.0, 0.0],
            time=pa.array([1, None], pa.timestamp("ms", tz="Europe/Paris")),
            ops=BACKENDS["pure"],
        )
    assert cols(table)["time"] == [1.0]


def test_nat_is_missing(ops: ColumnOps) -> None:
    pd = pytest.importorskip("pandas")
    for times in ([pd.NaT, dt.datetime(2024, 1, 1)], [np.datetime64("NaT"), np.datetime64(0, "s")]):
        with pytest.warns(DroppedRowsWarning, match="dropped 1 of 2"):
            table, _ = to_table(lat=[0.0, 1.0], lon=[0.0, 1.0], time=times, ops=ops)
        assert len(cols(table)["time"]) == 1


def test_time_beyond_range_names_the_dataframe_column_and_row() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"lat": [0.0, 1.0], "lon": [0.0, 1.0], "ts": [1.7e9, 1.7e12]})
    with pytest.raises(ValueError, match=r"time column 'ts' has 1700000000000.0 at row 1"):
        Heatmap(df, time="ts")
    Heatmap(df, time="ts", time_unit="ms")  # the fix the message gives


# ---- 5. empty geometries --------------------------------------------------------------------


def test_empty_geometries_are_dropped_with_the_warning() -> None:
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    geoms = [shapely.Point(1, 2), shapely.Point(), None, shapely.MultiPoint(), shapely.Point(3, 4)]
    gdf = gpd.GeoDataFrame({"w": [1.0, 2.0, 3.0, 4.0, 5.0]}, geometry=geoms, crs=4326)
    with pytest.warns(DroppedRowsWarning) as record:
        table, report = to_table(gdf, weight="w")
    msg = str(record[0].message)
    assert "dropped 3 of 5 rows" in msg and "empty" in msg and "first at row 1" in msg
    assert report.dropped == 3
    assert cols(table)["weight"] == [1.0, 5.0]
    gdf3857 = gdf.set_crs(4326).to_crs(3857)
    with pytest.warns(DroppedRowsWarning, match="dropped 3 of 5"):
        to_table(gdf3857)


# ---- 6. longitudes far outside ±180 -----------------------------------------------------------


@pytest.mark.parametrize("lon", [1e308, -8.3e260, 540.5, -1e6, 20037508.34])
def test_longitudes_that_cannot_be_degrees_are_refused(ops: ColumnOps, lon: float) -> None:
    with pytest.raises(ValueError, match=r".") as e:
        to_table(lat=[0.0, 1.0], lon=[0.0, lon], ops=ops)
    msg = str(e.value)
    assert msg.startswith(f"lon has {lon!r} at row 1: ")
    assert "±540" in msg and "metres" in msg and "to_crs(4326)" in msg


def test_plausible_longitudes_wrap_exactly(ops: ColumnOps) -> None:
    lons = [540.0, -540.0, 539.5, -539.5, 360.0, 180.0, -180.0, 359.999999999, 5e-324, -1e-300]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table, report = to_table(lat=[0.0] * len(lons), lon=lons, ops=ops)
    want = [
        -180.0,
        -180.0,
        179.5,
        -179.5,
        0.0,
        -180.0,
        -180.0,
        math.fmod(359.999999999, 360.0) - 360.0,
        5e-324,
        -1e-300,
    ]
    assert cols(table)["lon"] == want
    assert report.bounds is not None and -180.0 <= report.bounds[1] <= report.bounds[3] < 180.0


# ---- 7. weights at float32's limits ---------------------------------------------------------


def test_weights_whose_total_overflows_float32(ops: ColumnOps) -> None:
    with pytest.raises(ValueError, match=r".") as e:
        to_table(lat=[0.0, 1.0], lon=[0.0, 1.0], weight=[3e38, 3e38], ops=ops)
    msg = str(e.value)
    assert msg.startswith("weight sums to 6e+38")
    assert "float32" in msg and "scale the weights down" in msg


def test_tiny_weights_that_become_zero_warn(ops: ColumnOps) -> None:
    with pytest.warns(WeightUnderflowWarning) as record:
        table, _ = to_table(lat=[0.0] * 3, lon=[0.0] * 3, weight=[1.0, 1e-50, 1e-46], ops=ops)
    msg = str(record[0].message)
    assert "2 weights" in msg and "1e-50 at row 1" in msg and "scale the weights up" in msg
    assert record[0].filename == __file__  # points at the caller
    assert cols(table)["weight"] == [1.0, 0.0, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_table(lat=[0.0] * 2, lon=[0.0] * 2, weight=[0.0, 1e-40], ops=ops)  # subnormal: kept


@needs_host
def test_large_weights_that_fit_draw_finite_heat() -> None:
    m = Heatmap(lat=[0.0, 0.0], lon=[0.0, 0.0], weight=[4e37, 4e37], radius=10)
    grid = m.density(64, 64).grid
    assert np.isfinite(grid).all() and grid.max() > 0


# ---- 8. dictionary-encoded columns ----------------------------------------------------------


def _dict_table() -> pa.Table:
    return pa.table(
        {
            "lat": pa.array([1.0, 2.0, 1.0, None]).dictionary_encode(),
            "lon": pa.array([3, 4, 3, 4], pa.int32()).dictionary_encode(),
            "w": pa.array([0.5, 0.5, 2.0, 2.0]).dictionary_encode(),
            "t": pa.array([10, 20, 10, 20], pa.timestamp("s")).dictionary_encode(),
        }
    )


def test_dictionary_encoded_numeric_columns_are_decoded(ops: ColumnOps) -> None:
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 4"):
        table, _ = to_table(_dict_table(), weight="w", time="t", ops=ops)
    got = cols(table)
    assert got["lat"] == [1.0, 2.0, 1.0]
    assert got["lon"] == [3.0, 4.0, 3.0]
    assert got["weight"] == [0.5, 0.5, 2.0]
    assert got["time"] == [10000.0, 20000.0, 10000.0]


def test_dictionary_encoded_columns_through_arro3() -> None:
    ac = pytest.importorskip("arro3.core")
    col = ac.ChunkedArray.from_arrow(pa.chunked_array([pa.array([1.0, 2.5]).dictionary_encode()]))
    assert list(numpy_ops._arro3_floats(col, "lat")) == [1.0, 2.5]
    table, _ = to_table(ac.Table.from_arrow(_dict_table().slice(0, 3)), ops=BACKENDS["pure"])
    assert cols(table)["lat"] == [1.0, 2.0, 1.0]


def test_dictionary_of_strings_is_still_not_numeric(ops: ColumnOps) -> None:
    t = pa.table({"lat": pa.array(["a", "b"]).dictionary_encode(), "lon": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"is not numeric .*first non-number 'a' at row 0"):
        to_table(t, ops=ops)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"lat": [1.0, math.inf], "lon": [1.0, 2.0]}, "lat has inf at row 1"),
        ({"lat": [1.0, -math.inf], "lon": [1.0, 2.0]}, "lat has -inf at row 1"),
        ({"lat": [1.0, 2.0], "lon": [-math.inf, 2.0]}, "lon has -inf at row 0"),
        ({"lat": [math.nan, 1.0, 2.0], "lon": [1.0, 2.0, math.inf]}, "lon has inf at row 2"),
        ({"lat": [math.inf, 1.0], "lon": [-math.inf, 2.0]}, "has "),
    ],
)
def test_infinite_coordinates_are_an_error(
    ops: ColumnOps, kwargs: dict[str, Any], words: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", DroppedRowsWarning)
        with pytest.raises(ValueError, match=r".") as e:
            to_table(**kwargs, ops=ops)
    assert words in str(e.value)


def test_infinite_coordinates_numpy_arrays_leak_no_runtime_warning() -> None:
    lat = np.array([1.0, np.inf, -np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="lat has inf at row 1"):
            Heatmap(lat=lat, lon=np.zeros(3))


# ---- the same in a process without numpy and pyarrow ------------------------------------------

PURE_CASES = [
    "dict(lat=[0.0, 1.0], lon=[0.0, 1e308])",
    "dict(lat=[0.0, 1.0], lon=[0.0, 540.0])",
    "dict(lat=[0.0, float('inf')], lon=[0.0, 1.0])",
    "dict(lat=[0.0, 1.0], lon=[0.0, 1.0], time=[1.0, 1e300])",
    "dict(lat=[0.0, 1.0], lon=[0.0, 1.0], time=[1.0, 10**400])",
    "dict(lat=[0.0, 1.0], lon=[0.0, 1.0], time=[1, 2**63 - 1], time_unit='us')",
    "dict(lat=[0.0, 1.0], lon=[0.0, 1.0], time=[1, 2**63 - 1], time_unit='ns')",
    "dict(lat=[0.0, 1.0], lon=[0.0, 1.0], time=[datetime.datetime(1, 1, 1), "
    "datetime.datetime(9999, 12, 31, 23, 59, 59, 999999)])",
    "dict(lat=[0.0, 1.0], lon=[0.0, 1.0], weight=[3e38, 3e38])",
    "dict(lat=[0.0, 1.0], lon=[0.0, 1.0], weight=[1e-50, 1.0])",
]


@pytest.fixture(scope="module")
def pure_results() -> list[dict[str, Any]]:
    return run_pure(PURE_CASES)


@pytest.mark.parametrize("index", range(len(PURE_CASES)), ids=[c[:60] for c in PURE_CASES])
@pytest.mark.parametrize("backend", list(BACKENDS))
def test_limits_are_the_same_without_numpy(
    pure_results: list[dict[str, Any]], index: int, backend: str
) -> None:
    case = PURE_CASES[index]
    pure, res = pure_results[index], run_numpy(case, BACKENDS[backend])
    assert res.get("error") == pure.get("error"), case
    assert res["warnings"] == pure["warnings"], case
    if "error" not in pure:
        assert decode(res["ipc"]).num_rows == pure["decoded"]


# ---- found by tests/test_fuzz.py ----------------------------------------------------------------


def test_a_polars_string_column_is_named_not_numeric() -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"lat": [0.0, None], "lon": [None, "a"]})  # string_view in Arrow
    with pytest.raises(ValueError, match=r"longitude column 'lon' is not numeric .*'a' at row 1"):
        to_table(df)


def test_a_polars_int128_column_says_what_to_cast() -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"lat": [0.0], "lon": [-(2**63) - 1]}, strict=False)
    with pytest.raises(ValueError, match=r"could not read the DataFrame .*Int128.*cast"):
        to_table(df)


# ---- float64 extremes and datetimes as Python objects, on both backends ----------------------


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"lat": [0.0, 1e308], "lon": [0.0, 0.0]}, "lat has 1e+308 at row 1: latitudes must"),
        ({"lat": [0.0, -5e-324], "lon": [0.0, 1e308]}, "lon has 1e+308 at row 1"),
        ({"lat": [0.0], "lon": [0.0], "weight": [1e308]}, "beyond float32's range"),
        ({"lat": [0.0], "lon": [0.0], "weight": [-5e-324]}, "weights must be >= 0"),
        ({"lat": [0.0], "lon": [10**400]}, "lon has 1" + "0" * 20),
    ],
)
def test_float64_extremes(ops: ColumnOps, kwargs: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=r".") as e:
        to_table(**kwargs, ops=ops)
    assert words in str(e.value)


def test_float64_extremes_that_are_fine(ops: ColumnOps) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table, report = to_table(
            lat=[5e-324, -0.0], lon=[-5e-324, 0.0], weight=[1e-38, 0.0], ops=ops
        )
    assert cols(table)["lat"] == [5e-324, -0.0] and report.rows == 2


@pytest.mark.parametrize(
    "value",
    [np.datetime64("10000-01-01", "D"), np.datetime64(-5000, "Y"), np.datetime64(2**62, "s")],
)
def test_datetime64_objects_outside_pythons_range_on_both_backends(
    ops: ColumnOps, value: np.datetime64
) -> None:
    with pytest.raises(ValueError, match=r"time has numpy\.datetime64\('.*'\) at row 1, that is"):
        to_table(lat=[0.0, 0.0], lon=[0.0, 0.0], time=[np.datetime64(0, "s"), value], ops=ops)


def test_datetimes_at_pythons_edges_on_both_backends(ops: ColumnOps) -> None:
    first = dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc)
    last = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)
    m = Heatmap(lat=[0.0, 1.0], lon=[0.0, 1.0], time=[first, last])
    assert m.time_extent == (first, last)
    table, _ = to_table(lat=[0.0], lon=[0.0], time=[np.datetime64("3000-01-01")], ops=ops)
    assert cols(table)["time"] == [float(np.datetime64("3000-01-01", "ms").astype(np.int64))]

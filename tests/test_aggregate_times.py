"""aggregate/times.py: every DuckDB date/timestamp type, and Arrow/pandas columns, read as
float64 ms since 1970-01-01 UTC, as client mode reads the same instants."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from heatwidget.aggregate.times import arrow_ms, duck_time, series_ms, sql_ms

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")

UTC = dt.timezone.utc
WHEN = dt.datetime(2021, 3, 4, 5, 6, 7, 250000, tzinfo=UTC)
MS = WHEN.timestamp() * 1e3


@pytest.mark.parametrize(
    ("literal", "type_name", "expected"),
    [
        ("'2021-03-04 05:06:07.25'", "TIMESTAMP", MS),
        ("'2021-03-04 05:06:07.25'", "TIMESTAMP_NS", MS),
        ("'2021-03-04 05:06:07.25'", "TIMESTAMP_MS", MS),
        ("'2021-03-04 05:06:07'", "TIMESTAMP_S", MS - 250),
        ("'2021-03-04 07:06:07.25+02'", "TIMESTAMPTZ", MS),
        ("'2021-03-04 00:06:07.25-05'", "TIMESTAMPTZ_NS", MS),
        ("'2021-03-04'", "DATE", dt.datetime(2021, 3, 4, tzinfo=UTC).timestamp() * 1e3),
    ],
)
def test_each_duckdb_temporal_type_is_ms_utc(literal, type_name, expected):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Tokyo'")  # a session zone must not shift instants
    con.execute(f"CREATE TABLE t AS SELECT CAST({literal} AS {type_name}) AS c, 1.5 AS n")
    rel = con.table("t")
    expr, ms = duck_time(rel, "c")
    assert ms and expr is not None
    assert rel.select(expr).fetchall()[0][0] == pytest.approx(expected, abs=1e-3)
    assert duck_time(rel, "n") == ('"n"', False)  # numbers: as given (time_unit)
    assert duck_time(rel, None) == (None, False)
    assert sql_ms('"n"', "DOUBLE") is None


def test_arrow_and_pandas_columns_are_ms_utc():
    naive = pd.Series([WHEN.replace(tzinfo=None), None], dtype="datetime64[ns]")
    zoned = naive.dt.tz_localize("UTC").dt.tz_convert("America/New_York")
    for series in (naive, zoned, naive.astype("datetime64[s]")):
        got = series_ms(series)
        expected = MS if series.dtype != "datetime64[s]" else MS - 250
        assert got[0] == pytest.approx(expected, abs=1e-3) and np.isnan(got[1])
    days = series_ms(pd.Series([dt.date(2021, 3, 4)]))
    assert days[0] == dt.datetime(2021, 3, 4, tzinfo=UTC).timestamp() * 1e3
    arrow = pa.array([1, None], pa.timestamp("us", tz="Europe/Paris"))
    np.testing.assert_array_equal(arrow_ms(arrow), [0.001, np.nan])
    np.testing.assert_array_equal(series_ms(pd.Series([1.5, 2.0])), [1.5, 2.0])

"""Fuzzing the inputs with hypothesis: any input form and value either gives a valid table (or
widget) or a documented error, never anything else.

Forms: lists, numpy (float and object), pandas, polars, pyarrow tables and arrays, dicts of
columns; values: numbers at their limits (NaN, ±inf, 1e308, subnormals, ints beyond int64 and
float64), None, strings, bools, times as numbers, datetimes (naive and aware), numpy
datetime64 and NaT; ragged lengths. Both column backends (the pure one on the forms it reads).

Allowed outcomes: a ValueError or TypeError raised by a ``raise`` in heatwidget's code (its
messages), or a table whose rows are the rows given minus those the DroppedRowsWarning says
it dropped, every value canonical. Profiles (tests/conftest.py): "ci" (CI set) runs 2,000
examples, the default a few dozen.
"""

from __future__ import annotations

import datetime as dt
import linecache
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import traitlets
from hypothesis import given
from hypothesis import strategies as st

from heatwidget import Heatmap
from heatwidget.constants import MAX_LATITUDE
from heatwidget.points import (
    DroppedRowsWarning,
    MercatorEdgeWarning,
    WeightUnderflowWarning,
    to_table,
)
from heatwidget.points.columns import numpy_ops, pure_ops
from heatwidget.points.times import MAX_MS, MIN_MS

PACKAGE = str(Path(__import__("heatwidget").__file__).parent)
OURS = (DroppedRowsWarning, MercatorEdgeWarning, WeightUnderflowWarning)
DROPPED = re.compile(r"dropped ([\d,]+) of ([\d,]+) rows")

# ---- values -----------------------------------------------------------------------------------

LIMITS = [
    math.nan, math.inf, -math.inf, 0.0, -0.0, 1e308, -1e308, 5e-324, 1e-46, 1e-40, 3.4e38,
    1e38, 6e37, 540.0, -540.0, 540.5, 180.0, -180.0, 179.99999999999997, 90.0, -90.0, 85.06,
    1.7e9, 1.7e12, 1.7e15, 1e300, 2**53 + 1, 2**63 - 1, -(2**63), 2**64, 10**400,
]  # fmt: skip
numbers = st.one_of(
    st.floats(-200.0, 200.0),
    st.floats(-200.0, 200.0),
    st.floats(),
    st.sampled_from(LIMITS),
    st.integers(-(2**70), 2**70),
    st.integers(-200, 200),
)
odd = st.one_of(st.none(), st.text(max_size=2), st.booleans(), st.just(float("nan")))
cells = st.one_of(numbers, numbers, numbers, numbers, odd)

EPOCH = dt.datetime(1970, 1, 1)
_DAY = dt.timedelta(days=1)
_BOUNDS = {"min_value": dt.datetime.min + _DAY, "max_value": dt.datetime.max - _DAY}
datetimes = st.one_of(
    st.datetimes(**_BOUNDS),
    st.datetimes(**_BOUNDS, timezones=st.just(dt.timezone.utc)),
    st.datetimes(**_BOUNDS, timezones=st.just(dt.timezone(dt.timedelta(hours=5)))),
    st.dates(),
)
dt64 = st.builds(
    lambda v, unit: np.datetime64(v, unit),
    st.integers(-(2**62), 2**62) | st.integers(-10**6, 10**6),
    st.sampled_from(["Y", "D", "h", "s", "ms", "us", "ns"]),
)  # fmt: skip
time_kinds = st.sampled_from(["numbers", "datetimes", "datetime64", "mixed"])


@st.composite
def time_column(draw: Any, n: int) -> list[Any]:
    kind = draw(time_kinds)
    if kind == "numbers":
        each: Any = st.one_of(numbers, st.none())
    elif kind == "datetimes":
        each = st.one_of(datetimes, datetimes, st.none())
    elif kind == "datetime64":
        each = st.one_of(dt64, dt64, st.just(np.datetime64("NaT")))
    else:
        each = st.one_of(numbers, datetimes, dt64, st.none(), st.text(max_size=1))
    return list(draw(st.lists(each, min_size=n, max_size=n)))


# ---- forms ------------------------------------------------------------------------------------

FORMS = ["lists", "numpy", "pandas", "polars", "arrow", "arrow_arrays", "arrow_dict", "dict"]
PURE_FORMS = {"lists", "arrow", "arrow_arrays", "arrow_dict", "dict"}


def _numpy(col: list[Any]) -> np.ndarray:
    """float64 if it can be, else numpy's own choice (datetime64, strings), else object."""
    for dtype in (np.float64, None):
        try:
            return np.array(col, dtype=dtype)
        except (TypeError, ValueError, OverflowError):
            pass
    return np.array(col, dtype=object)


def _arrow(col: list[Any]) -> Any:
    try:
        return pa.array(col)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return None


def _dictionary(array: Any) -> Any:
    try:
        return array.dictionary_encode()
    except pa.ArrowException:
        return array


def build(form: str, cols: dict[str, list[Any]]) -> tuple[dict[str, Any], str]:
    """``to_table`` keyword arguments of ``cols`` in ``form`` (lists where a library refuses the
    values: the form that was used is returned too)."""
    names = {"lat": "lat", "lon": "lon", "weight": "w", "time": "t"}
    ragged = len({len(c) for c in cols.values()}) > 1
    if form == "numpy":
        return {k: _numpy(v) for k, v in cols.items()}, form
    if form in ("arrow_arrays", "arrow_dict"):
        arrays = {k: _arrow(v) for k, v in cols.items()}
        if all(a is not None for a in arrays.values()):
            if form == "arrow_dict":  # dictionary-encoded, where Arrow can
                arrays = {k: _dictionary(a) for k, a in arrays.items()}
            return arrays, form
    if not ragged and form in ("pandas", "polars", "arrow", "dict"):
        data = {names[k]: v for k, v in cols.items()}
        kwargs: dict[str, Any] = {"lat": "lat", "lon": "lon"}
        kwargs.update({k: names[k] for k in ("weight", "time") if k in cols})
        try:
            if form == "pandas":
                import pandas as pd

                frame: Any = pd.DataFrame(data)
            elif form == "polars":
                pl = pytest.importorskip("polars")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    frame = pl.DataFrame(data, strict=False)
            elif form == "arrow":
                frame = pa.table(data)
            else:
                frame = data
        except Exception:  # the library refuses these values: use lists
            pass
        else:
            return {"data": frame, **kwargs}, form
    return dict(cols), "lists"


@st.composite
def inputs(draw: Any) -> tuple[dict[str, Any], str, int]:
    n = draw(st.integers(0, 6))
    cols: dict[str, list[Any]] = {
        "lat": draw(st.lists(cells, min_size=n, max_size=n)),
        "lon": draw(st.lists(cells, min_size=n, max_size=n)),
    }
    if draw(st.booleans()):
        cols["weight"] = draw(st.lists(cells, min_size=n, max_size=n))
    if draw(st.integers(0, 3)) == 0:
        cols["time"] = draw(time_column(n))
    if draw(st.integers(0, 15)) == 0:  # ragged
        key = draw(st.sampled_from(sorted(cols)))
        cols[key] = [*cols[key], 1.0]
    kwargs, form = build(draw(st.sampled_from(FORMS)), cols)
    if draw(st.integers(0, 4)) == 0:
        kwargs["time_unit"] = draw(st.sampled_from(["s", "ms", "us", "ns"]))
    return kwargs, form, n


# ---- what must hold --------------------------------------------------------------------------


def assert_documented(e: BaseException) -> None:
    """``e`` is one of heatwidget's errors: a ValueError/TypeError raised by a ``raise`` in the
    package (not one a library raised through it)."""
    assert isinstance(e, (ValueError, TypeError)), f"{type(e).__name__}: {e}"
    tb = e.__traceback__
    assert tb is not None
    while tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_code.co_filename
    line = linecache.getline(where, tb.tb_lineno).strip()
    assert where.startswith(PACKAGE) and line.startswith("raise"), (
        f"{type(e).__name__} from {where}:{tb.tb_lineno} ({line}): {e}"
    )


def dropped_rows(caught: list[warnings.WarningMessage]) -> int:
    stray = [w for w in caught if not issubclass(w.category, OURS)]
    assert not stray, [f"{w.category.__name__}: {w.message}" for w in stray]
    counts = [DROPPED.search(str(w.message)) for w in caught]
    return sum(int(m.group(1).replace(",", "")) for m in counts if m is not None)


def column(table: Any, name: str) -> list[float]:
    col = table.column(name)
    return [float(v) for v in (col.to_pylist() if hasattr(col, "to_pylist") else col)]


def assert_canonical(table: Any, report: Any, given_rows: int, dropped: int) -> None:
    assert report.rows_in == given_rows
    assert report.dropped == dropped
    assert report.rows == table.num_rows == given_rows - dropped
    lat, lon = column(table, "lat"), column(table, "lon")
    assert all(-MAX_LATITUDE <= v <= MAX_LATITUDE for v in lat)
    assert all(-180.0 <= v < 180.0 for v in lon)
    if "weight" in table.column_names:
        w = column(table, "weight")
        assert all(0.0 <= v <= 3.5e38 for v in w) and sum(w) <= 1e38
    if "time" in table.column_names:
        assert all(MIN_MS <= v <= MAX_MS for v in column(table, "time"))
    if table.num_rows:
        assert report.bounds == (min(lat), min(lon), max(lat), max(lon))
    else:
        assert report.bounds is None


@given(inputs(), st.sampled_from(["numpy", "pure"]))
def test_any_input_is_a_table_or_a_documented_error(
    case: tuple[dict[str, Any], str, int], backend: str
) -> None:
    kwargs, form, n = case
    if backend == "pure" and form not in PURE_FORMS:
        backend = "numpy"
    ops = numpy_ops.OPS if backend == "numpy" else pure_ops.OPS
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            table, report = to_table(**kwargs, ops=ops)
        except Exception as e:  # judged below
            assert_documented(e)
            return
    assert_canonical(table, report, n, dropped_rows(caught))


@given(inputs(), inputs())
def test_widget_point_count_and_failed_appends(
    first: tuple[dict[str, Any], str, int], second: tuple[dict[str, Any], str, int]
) -> None:
    """point_count is the rows given minus those dropped; a failing append changes nothing."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m = Heatmap(**first[0])
        except Exception as e:  # judged below
            assert_documented(e)
            return
    assert m.point_count == first[2] - dropped_rows(caught)
    sent: list[Any] = []
    m.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    before = (m.point_count, m._seq, bytes(m._points), m.data_bounds, m.time_extent)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            m.append(**second[0])
        except Exception as e:  # judged below
            assert_documented(e)
            assert sent == []
            assert (m.point_count, m._seq, bytes(m._points), m.data_bounds, m.time_extent) == (
                before
            )
            return
    added = second[2] - dropped_rows(caught)
    assert m.point_count == before[0] + added
    assert len(sent) == (1 if added else 0)
    assert decode_rows(m._points) == m.point_count


def decode_rows(data: bytes) -> int:
    with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
        return int(reader.read_all().num_rows)


operations = st.lists(
    st.one_of(
        st.tuples(st.just("append"), inputs()),
        st.tuples(st.just("set_data"), inputs()),
        st.tuples(st.just("max_points"), st.one_of(st.none(), st.integers(-1, 8))),
    ),
    max_size=4,
)


@given(operations)
def test_widget_survives_any_sequence_of_changes(ops: list[tuple[str, Any]]) -> None:
    """After any sequence of appends, set_data calls and max_points changes (some failing),
    the counts, the bytes for new views and the messages sent agree; failures change nothing."""
    m = Heatmap()
    sent: list[Any] = []
    m.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    for name, arg in ops:
        before = (m.point_count, m._seq, bytes(m._points), m.max_points, len(sent))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if name == "max_points":
                    m.max_points = arg
                else:
                    getattr(m, name)(**arg[0])
            except Exception as e:  # judged below
                if not isinstance(e, traitlets.TraitError):
                    assert_documented(e)
                now = (m.point_count, m._seq, bytes(m._points), m.max_points, len(sent))
                assert now == before
                continue
        dropped = dropped_rows(caught)
        held = decode_rows(m._points)
        assert m.point_count == held == m._stream.store.count
        assert m.max_points is None or held <= m.max_points
        if name == "set_data":
            want = arg[2] - dropped
            if m.max_points is not None:
                want = min(want, m.max_points)
            assert held == want and sent[-1]["type"] == "reset"
        elif name == "append" and arg[2] - dropped > 0:
            assert sent[-1]["type"] == "delta" and m._seq == before[1] + 1

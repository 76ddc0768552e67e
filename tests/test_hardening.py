"""Issue 10, the Python side: a call that raises changes nothing (the model, the views, the
rows held); one instant of time; frame sizes; the colour domain. Numbers at their limits, over
both column backends: tests/test_limits.py; fuzzing: tests/test_fuzz.py.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
import traitlets

from heatwidget import Heatmap
from heatwidget.points import DroppedRowsWarning, PointStore, to_table

ROOT = Path(__file__).resolve().parent.parent
needs_host = pytest.mark.skipif(
    importlib.util.find_spec("wasmtime") is None
    or not (ROOT / "heatwidget" / "static" / "heat.wasm").is_file(),
    reason="needs wasmtime and the built heat.wasm",
)
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


# ---- 1. a call that raises changes nothing ------------------------------------------------


class Recorder:
    """What a widget holds and what it sent, to compare before and after a failing call."""

    def __init__(self, m: Heatmap) -> None:
        self.m = m
        self.sent: list[Any] = []
        m.send = lambda content, buffers=None: self.sent.append(content)  # type: ignore[method-assign]

    def state(self) -> tuple[Any, ...]:
        m = self.m
        return (
            m.point_count,
            bytes(m._points),
            m._seq,
            m.data_bounds,
            m.time_extent,
            m.max_points,
            m.time_window,
            m.vmin,
            m.vmax,
            m._stream.store.count,
        )


def _timed() -> Heatmap:
    return Heatmap(lat=[1.0, 2.0], lon=[3.0, 4.0], time=[10.0, 20.0])


FAILING_CALLS = {
    "append time beyond range": lambda m: m.append(lat=[1.0], lon=[2.0], time=[1e300]),
    "append time ms read as seconds": lambda m: m.append(lat=[1.0], lon=[2.0], time=[1.7e15]),
    "append latitude 100": lambda m: m.append(lat=[100.0], lon=[2.0], time=[30.0]),
    "append infinite longitude": lambda m: m.append(lat=[1.0], lon=[math.inf], time=[30.0]),
    "append weights overflowing": lambda m: m.append(
        lat=[1.0, 2.0], lon=[2.0, 3.0], weight=[3e38, 3e38], time=[30.0, 31.0]
    ),
    "set_data time beyond range": lambda m: m.set_data(lat=[1.0], lon=[2.0], time=[1e300]),
    "set_data bad latitude": lambda m: m.set_data(lat=[91.0], lon=[2.0]),
    "max_points = 0": lambda m: setattr(m, "max_points", 0),
    "max_points = 'x'": lambda m: setattr(m, "max_points", "x"),
    "time_window reversed": lambda m: setattr(m, "time_window", (20.0, 10.0)),
    "time_window beyond range": lambda m: setattr(m, "time_window", (0.0, 1e300)),
    "vmin above vmax": lambda m: m.set_trait("vmin", 10.0),
}


@pytest.mark.parametrize("call", list(FAILING_CALLS))
def test_a_call_that_raises_changes_nothing(call: str) -> None:
    m = _timed()
    m.vmax = 5.0
    rec = Recorder(m)
    before = rec.state()
    with pytest.raises((ValueError, TypeError, traitlets.TraitError)):
        FAILING_CALLS[call](m)
    assert rec.sent == [], "a failing call sent a message to the views"
    assert rec.state() == before
    # and the widget still works: a valid append goes through
    m.append(lat=[5.0], lon=[6.0], time=[40.0])
    assert m.point_count == 3 and m._seq == before[2] + 1
    assert [c["type"] for c in rec.sent] == ["delta"]


def test_the_weights_held_may_not_overflow_float32_over_appends() -> None:
    m = Heatmap(lat=[1.0], lon=[1.0], weight=[3e37])
    rec = Recorder(m)
    for _ in range(2):
        m.append(lat=[1.0], lon=[1.0], weight=[3e37])
    before = rec.state()
    with pytest.raises(ValueError, match=r"weight sums to 1\.2e\+38.*scale") as e:
        m.append(lat=[1.0], lon=[1.0], weight=[3e37])
    assert "max_points" in str(e.value)
    assert rec.state() == before and len(rec.sent) == 2
    m.max_points = 2  # a window holding fewer rows: the same append fits
    m.append(lat=[1.0], lon=[1.0], weight=[3e37])
    assert m.point_count == 2


def test_the_store_plans_before_it_commits() -> None:
    store = PointStore()
    table, _ = to_table(lat=[1.0], lon=[1.0], weight=[6e37])
    store.replace(table)
    seq, count = store.seq, store.count
    with pytest.raises(ValueError, match="float32"):
        store.append(table)
    assert (store.seq, store.count) == (seq, count)


def test_constructor_errors_name_the_trait() -> None:
    with pytest.raises(traitlets.TraitError, match=r"Heatmap\.max_points: must be None"):
        Heatmap(lat=[1.0], lon=[1.0], max_points=0)


# ---- 2. one instant of time ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lat": [1.0], "lon": [2.0], "time": [5.0]},
        {"lat": [1.0, 2.0, 3.0], "lon": [2.0, 3.0, 4.0], "time": [5.0, 5.0, 5.0]},
        {"lat": [1.0, 2.0], "lon": [2.0, 3.0], "time": [4.0, 5.0], "max_points": 1},
        {"lat": [1.0, 2.0], "lon": [2.0, 3.0], "time": [5.0, float("nan")]},
    ],
    ids=["one row", "one timestamp", "max_points=1", "one timestamp and a NaN"],
)
def test_a_single_instant_is_a_zero_width_time_extent(kwargs: dict[str, Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedRowsWarning)
        m = Heatmap(**kwargs)
    t = EPOCH + dt.timedelta(seconds=5)
    assert m.time_extent == (t, t)
    assert m.get_state("time_extent")["time_extent"] == [5000.0, 5000.0]


def test_a_timed_sliding_window_of_one_row() -> None:
    m = Heatmap(lat=[1.0], lon=[2.0], time=[1.0], max_points=1)
    for i in range(2, 5):
        m.append(lat=[1.0], lon=[2.0], time=[float(i)])
        t = EPOCH + dt.timedelta(seconds=i)
        assert m.point_count == 1 and m.time_extent == (t, t)
    m.set_data(lat=[1.0, 2.0], lon=[1.0, 2.0], time=[7.0, 7.0])
    assert m.time_extent[0] == m.time_extent[1]


# ---- 10. sizes, the colour domain, infinite coordinates --------------------------------------


@needs_host
@pytest.mark.parametrize(
    ("call", "words"),
    [
        (
            lambda m: m.density(0, 10),
            "width must be a whole number of pixels from 1 to 16384, got 0",
        ),
        (
            lambda m: m.density(10, -3),
            "height must be a whole number of pixels from 1 to 16384, got -3",
        ),
        (lambda m: m.density(10**6, 10), "got 1000000"),
        (lambda m: m.density(2.5, 10), "got 2.5"),
        (lambda m: m.to_png(width=0, view=False), "width must be"),
        (lambda m: m.to_png(height=0, view=False), "height must be"),
    ],
)
def test_absurd_frame_sizes_are_refused(call: Any, words: str) -> None:
    m = Heatmap(lat=[1.0], lon=[1.0])
    with pytest.raises(ValueError, match=r".") as e:
        call(m)
    assert words in str(e.value)


def test_vmin_above_vmax_is_refused_naming_both() -> None:
    with pytest.raises(traitlets.TraitError) as e:
        Heatmap(lat=[1.0], lon=[1.0], vmin=5, vmax=1)
    assert "vmin 5.0" in str(e.value) and "vmax 1.0" in str(e.value)
    m = Heatmap(lat=[1.0], lon=[1.0], vmin=1.0, vmax=2.0)
    with pytest.raises(traitlets.TraitError, match="hold_trait_notifications"):
        m.vmin = 3.0
    with pytest.raises(traitlets.TraitError, match=r"vmin 1\.0 .* vmax 0\.5"):
        m.vmax = 0.5
    assert (m.vmin, m.vmax) == (1.0, 2.0)
    with m.hold_trait_notifications():  # the fix the message gives
        m.vmin = 10.0
        m.vmax = 20.0
    assert (m.vmin, m.vmax) == (10.0, 20.0)
    m.vmax = "auto"
    m.vmin = 100.0  # against "auto" or a percentile there is nothing to compare
    m.vmax = "p99"
    with pytest.raises(traitlets.TraitError):
        m.vmax = 50.0
    m.vmax = 100.0  # equal is allowed: one colour for everything above it

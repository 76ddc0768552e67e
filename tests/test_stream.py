"""Streaming, time and the two-way conversation, without a browser: what Heatmap sends to
views (a spy on ``send``), what a new view would get (``get_state``), the sliding window, the
time traits and the callbacks (simulated front-end messages)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import traitlets

from heatwidget import Heatmap
from heatwidget.points.store import PointStore
from heatwidget.points.wire import decode

ROOT = Path(__file__).resolve().parent.parent
needs_host = pytest.mark.skipif(
    importlib.util.find_spec("wasmtime") is None
    or not (ROOT / "heatwidget" / "static" / "heat.wasm").is_file(),
    reason="needs wasmtime and the built heat.wasm",
)


class Spy:
    """Records Heatmap.send (custom messages) and send_state (trait updates)."""

    def __init__(self, m: Heatmap) -> None:
        self.custom: list[tuple[dict[str, Any], list[bytes]]] = []
        self.states: list[Any] = []
        m.send = self._send  # type: ignore[method-assign]
        original = m.send_state

        def send_state(key: Any = None) -> None:
            self.states.append(m.get_state(key))
            original(key)

        m.send_state = send_state  # type: ignore[method-assign]

    def _send(self, content: dict[str, Any], buffers: Any = None) -> None:
        self.custom.append((content, [bytes(b) for b in buffers or []]))

    def bytes_sent(self) -> int:
        return sum(len(b) for _, bufs in self.custom for b in bufs) + sum(
            len(v) for s in self.states for v in s.values() if isinstance(v, bytes)
        )


def rows(n: int, start: int = 0, **extra: Any) -> dict[str, Any]:
    i = np.arange(start, start + n, dtype=np.float64)
    return {"lat": (i % 170) - 85.0, "lon": (i % 360) - 180.0, **extra}


# ---- deltas ---------------------------------------------------------------------------------


def test_append_sends_only_the_new_rows() -> None:
    m = Heatmap(**rows(100_000))
    spy = Spy(m)
    sizes = {}
    for n in (10, 1000, 10_000):
        spy.custom.clear()
        spy.states.clear()
        m.append(**rows(n))
        ((content, buffers),) = spy.custom
        assert content["type"] == "delta" and content["rows"] == n and content["drop"] == 0
        assert decode(buffers[0]).num_rows == n
        # the trait update is small JSON (counts, bounds): no trait carries bytes
        assert all(not isinstance(v, bytes) for s in spy.states for v in s.values())
        assert len(spy.states) == 1 and set(spy.states[0]) <= {"point_count", "data_bounds"}
        sizes[n] = spy.bytes_sent()
    # 8 bytes a row (fixed-point x, y uint32) plus a constant (the IPC schema and framing)
    per_row = (sizes[10_000] - sizes[1000]) / 9000
    assert per_row == pytest.approx(8, abs=0.1)
    assert sizes[10] - 10 * 8 < 1000
    assert m.point_count == 100_000 + 11_010


def test_sequence_numbers_and_full_state_for_new_views() -> None:
    m = Heatmap(**rows(5))
    spy = Spy(m)
    seq0 = m._seq
    m.append(**rows(3, 5))
    m.append(**rows(2, 8), weight=[2.0, 3.0])
    assert [c["seq"] for c, _ in spy.custom] == [seq0 + 1, seq0 + 2]
    state = m.get_state()  # what a new front-end model (reload, new page) receives
    assert state["_seq"] == seq0 + 2
    table = decode(state["_points"])
    assert table.num_rows == 10 == state["point_count"]
    assert table.column("lat").to_pylist() == pytest.approx(list(rows(10)["lat"]), abs=1e-7)
    # rows appended without weights weigh 1, as the kernel takes them
    assert table.column("weight").to_pylist() == [1.0] * 8 + [2.0, 3.0]


def test_the_full_stream_is_not_kept_after_a_view_got_it() -> None:
    """Python holds the rows once: the IPC stream made for a new model is not cached (12 bytes a
    weighted row, 120 MB at 10M points, otherwise held for the widget's life)."""
    import gc
    import tracemalloc

    m = Heatmap(**rows(200_000), weight=np.ones(200_000, np.float32))
    gc.collect()
    tracemalloc.start()
    try:
        state = m.get_state()  # what a display or a page reload asks for
        assert len(state["_points"]) > 200_000 * 12
        peak = tracemalloc.get_traced_memory()[1]
        del state
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert peak > 200_000 * 12  # the stream was made (the measurement sees it)...
    assert held < 200_000  # ...and nothing holds it now


def test_appending_does_not_send_points_through_the_trait() -> None:
    m = Heatmap(**rows(5))
    spy = Spy(m)
    observed: list[Any] = []
    m.observe(observed.append, names=["_points", "_seq"])
    m.append(**rows(5))
    assert observed == []
    assert all("_points" not in s and "_seq" not in s for s in spy.states)


def test_sliding_window_drops_oldest_first() -> None:
    m = Heatmap(**rows(10), max_points=25)
    spy = Spy(m)
    m.append(**rows(10, 10))
    assert spy.custom[-1][0]["drop"] == 0
    m.append(**rows(10, 20))
    assert spy.custom[-1][0] == {"type": "delta", "seq": m._seq, "rows": 10, "drop": 5}
    assert m.point_count == 25
    assert decode(m._points).column("lat").to_pylist() == pytest.approx(
        list(rows(30)["lat"][5:]), abs=1e-7
    )
    # more rows than the window: only the newest max_points are sent
    m.append(**rows(100, 30))
    content, buffers = spy.custom[-1]
    assert content["rows"] == 25 and content["drop"] == 25
    assert decode(buffers[0]).column("lat").to_pylist() == pytest.approx(
        list(rows(130)["lat"][105:]), abs=1e-7
    )
    assert m.data_bounds == pytest.approx(
        (
            min(rows(130)["lat"][105:]),
            min(rows(130)["lon"][105:]),
            max(rows(130)["lat"][105:]),
            max(rows(130)["lon"][105:]),
        )
    )
    # shrinking the window drops rows and tells the views
    m.max_points = 5
    assert spy.custom[-1][0] == {"type": "delta", "seq": m._seq, "rows": 0, "drop": 20}
    assert m.point_count == 5 == decode(m._points).num_rows
    with pytest.raises(traitlets.TraitError, match="max_points"):
        m.max_points = 0


def test_clear_and_set_data_reset_every_view() -> None:
    m = Heatmap(**rows(10))
    spy = Spy(m)
    m.clear()
    content, buffers = spy.custom[-1]
    assert content == {"type": "reset", "seq": m._seq}
    assert decode(buffers[0]).num_rows == 0
    assert (m.point_count, m.data_bounds) == (0, None)
    m.append(**rows(3))
    assert m.point_count == 3


def test_a_big_reset_goes_in_parts_that_add_up_to_the_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past PART_ROWS rows, set_data's reset is a ``reset`` with the first part, the total and
    the count of parts, then ``part`` 1 … n − 1 (whole store chunks each); together they are the
    rows held, in order, as one reset would carry them (store.ts puts them back together)."""
    from heatwidget.widget import stream

    monkeypatch.setattr(stream, "PART_ROWS", 100_000)
    m = Heatmap(**rows(10))
    spy = Spy(m)
    n = 300_000  # chunks of 65,536: parts of 131,072, 131,072 and 37,856 rows
    m.set_data(**rows(n), weight=np.arange(n, dtype=np.float64) % 7)
    (first, head), *rest = spy.custom
    assert first == {"type": "reset", "seq": m._seq, "rows": n, "parts": 3}
    assert [c for c, _ in rest] == [{"type": "part", "seq": m._seq, "part": i} for i in (1, 2)]
    tables = [decode(b[0]) for b in (head, *(b for _, b in rest))]
    assert [t.num_rows for t in tables] == [131_072, 131_072, 37_856]
    whole = pa.concat_tables(tables)
    assert whole.equals(decode(m._points))
    # Small resets stay one message, as before.
    spy.custom.clear()
    m.set_data(**rows(5))
    assert [c for c, _ in spy.custom] == [{"type": "reset", "seq": m._seq}]


def test_a_view_that_missed_a_delta_gets_a_reset() -> None:
    m = Heatmap(**rows(10))
    spy = Spy(m)
    m.append(**rows(1))
    m._handle_custom_msg({"type": "resync", "seq": m._seq - 1}, [])
    content, buffers = spy.custom[-1]
    assert content == {"type": "reset", "seq": m._seq}
    assert decode(buffers[0]).num_rows == 11
    # one reset serves every view: a second request for the same state sends nothing
    m._handle_custom_msg({"type": "resync", "seq": m._seq - 1}, [])
    assert len(spy.custom) == 2
    # a view already up to date (hello at the current seq) gets nothing
    m._handle_custom_msg({"type": "hello", "seq": m._seq}, [])
    assert len(spy.custom) == 2


@needs_host
def test_a_window_over_sorted_rows_gets_them_again_and_forgets_the_oldest() -> None:
    """The page's kernel keeps no arrival numbers once sorted (heat.h "Memory a row"): the
    first sliding-window drop is refused, the page asks for every row (store.ts refetch: a
    resync at seq -1), Python's reset holds exactly the rows of the window in arrival order,
    and from then on the kernel keeps them in arrival order, so every drop forgets exactly the
    oldest rows: its frames are a fresh load's of Python's rows."""
    from heatwidget.host.kernel import HW_AGG_COUNT, HW_AGG_SUM, ArrivalOrderLost, Kernel

    rng = np.random.default_rng(8)
    total = 80_000
    lat, lon = rng.uniform(-80, 80, total), rng.uniform(-180, 180, total)
    weight = rng.uniform(0, 3, total).astype(np.float32)

    def part(a: int, b: int) -> dict[str, Any]:
        return {"lat": lat[a:b], "lon": lon[a:b], "weight": weight[a:b]}

    m = Heatmap(**part(0, 20_000), max_points=30_000)
    spy = Spy(m)
    frame = ((0.0, 0.0), 1, 512, 512, 0.0)
    with Kernel() as page, Kernel() as fresh:
        page.load(decode(m._points))
        page.index()  # sorted when the page is idle: no arrival numbers kept
        m.append(**part(20_000, 35_000))
        content, buffers = spy.custom[-1]
        assert (content["type"], content["drop"]) == ("delta", 5_000)
        page.append(decode(buffers[0]))
        with pytest.raises(ArrivalOrderLost):
            page.drop_front(content["drop"])
        m._handle_custom_msg({"type": "resync", "seq": -1}, [])
        content, buffers = spy.custom[-1]
        assert content == {"type": "reset", "seq": m._seq}
        reset = decode(buffers[0])
        assert reset.column("lat").to_numpy() == pytest.approx(lat[5_000:35_000], abs=1e-6)
        page.load(reset)
        page.keep_arrival_order()
        end = 35_000
        for step in (7_000, 11_000, 3_000, 20_000):
            m.append(**part(end, end + step))
            end += step
            content, buffers = spy.custom[-1]
            page.append(decode(buffers[0]))
            page.index()  # idle: the rows stay in arrival order now
            assert page.drop_front(content["drop"]) == 30_000
        assert m.point_count == 30_000
        fresh.load(decode(m._points))
        for agg in (HW_AGG_COUNT, HW_AGG_SUM):
            got, _ = page.density(*frame, agg)
            want, _ = fresh.density(*frame, agg)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
            assert got.sum() > 0


def test_point_store_concatenates_mixed_columns() -> None:
    store = PointStore()
    store.replace(pa.table({"lon": [1.0], "lat": [2.0]}))
    store.append(pa.table({"lon": [3.0], "lat": [4.0], "time": [5.0]}))
    table = decode(store.encode())
    assert table.column_names == ["lon", "lat", "time"]
    t = table.column("time").to_pylist()
    assert np.isnan(t[0]) and t[1] == 5.0
    assert store.time_extent == (5.0, 5.0)


# ---- time -----------------------------------------------------------------------------------


def test_time_column_sorted_and_extent() -> None:
    t = np.array(["2024-01-03", "2024-01-01", "2024-01-02"], dtype="datetime64[ms]")
    m = Heatmap(lat=[3.0, 1.0, 2.0], lon=[0.0, 0.0, 0.0], time=t)
    table = decode(m._points)
    # sorted by time
    assert table.column("lat").to_pylist() == pytest.approx([1.0, 2.0, 3.0], abs=1e-7)
    utc = dt.timezone.utc
    assert m.time_extent == (
        dt.datetime(2024, 1, 1, tzinfo=utc),
        dt.datetime(2024, 1, 3, tzinfo=utc),
    )
    assert m.get_state("time_extent")["time_extent"] == [1704067200000.0, 1704240000000.0]


def test_time_window_validation_and_sync_form() -> None:
    m = Heatmap()
    utc = dt.timezone.utc
    m.time_window = (dt.datetime(2024, 1, 1), np.datetime64("2024-01-02"))
    assert m.time_window == (
        dt.datetime(2024, 1, 1, tzinfo=utc),
        dt.datetime(2024, 1, 2, tzinfo=utc),
    )
    assert m.get_state("time_window")["time_window"] == [1704067200000.0, 1704153600000.0]
    m.time_window = ("2024-01-01", "2024-01-02T00:00:00+00:00")  # ISO 8601 strings
    assert m.get_state("time_window")["time_window"] == [1704067200000.0, 1704153600000.0]
    m.time_window = (0, None)  # numbers are seconds since the epoch, None is unbounded
    assert m.get_state("time_window")["time_window"] == [0.0, None]
    # the front end writes ms floats
    m.set_state({"time_window": [1704067200000.0, 1704153600000.0]})
    assert m.time_window[0] == dt.datetime(2024, 1, 1, tzinfo=utc)
    m.time_window = None
    for bad, pattern in [
        ((2, 1), "start must be before end"),
        ((1, 2, 3), "pair"),
        ("2024", "pair"),
        ((1, "x"), "expected a time"),
    ]:
        with pytest.raises(traitlets.TraitError, match=rf"Heatmap\.time_window: .*{pattern}"):
            m.time_window = bad
    with pytest.raises(traitlets.TraitError, match="start must be before end"):
        m.time_window = (2, 1)
    m.time_decay = dt.timedelta(minutes=2)
    assert m.time_decay == 120.0
    m.time_step = 3600
    with pytest.raises(traitlets.TraitError, match="positive duration"):
        m.time_decay = -1


@needs_host
def test_density_follows_time_window() -> None:
    lat = [10.0, 10.0, 10.0, 10.0]
    lon = [20.0, 20.0, 20.0, 20.0]
    m = Heatmap(lat=lat, lon=lon, time=[0, 10, 20, 30], radius=0, center=(10, 20), zoom=5)
    full = float(m.density(64, 64).grid.sum())
    assert full == pytest.approx(4.0)
    m.time_window = (5, 25)
    assert float(m.density(64, 64).grid.sum()) == pytest.approx(2.0)
    m.time_window = (5, None)
    assert float(m.density(64, 64).grid.sum()) == pytest.approx(3.0)
    m.time_window = None
    m.time_decay = 10  # seconds: the newest row counts 1, the one 10 s older 0.5, ...
    assert float(m.density(64, 64).grid.sum()) == pytest.approx(1 + 0.5 + 0.25 + 0.125, rel=1e-3)


# ---- the map talks back ----------------------------------------------------------------------


def test_click_and_hover_callbacks_dispatch() -> None:
    m = Heatmap(**rows(10))
    assert m._listen == []
    clicks: list[dict[str, Any]] = []
    hovers: list[dict[str, Any]] = []
    m.on_click(clicks.append)
    assert m._listen == ["click"]
    m.on_hover(hovers.append)
    assert m._listen == ["click", "hover"]
    msg = {"type": "click", "lat": 1.5, "lon": 2.5, "value": 3.25, "count": 4, "x": 10, "y": 20}
    m._handle_custom_msg(msg, [])
    # a click also carries the rows near it (None here: no zoom yet, no view)
    assert clicks == [{**msg, "rows": None}] and hovers == []
    m._handle_custom_msg({**msg, "type": "hover"}, [])
    assert hovers[0]["type"] == "hover" and hovers[0]["value"] == 3.25
    m.on_click(clicks.append, remove=True)
    assert m._listen == ["hover"]
    m._handle_custom_msg(msg, [])
    assert len(clicks) == 1


def test_fit_bounds_and_fly_to_message_the_views() -> None:
    m = Heatmap(**rows(10))
    spy = Spy(m)
    m.fit_bounds((1, 2, 3, 4))
    assert spy.custom[-1][0] == {
        "type": "fit_bounds",
        "bounds": [1.0, 2.0, 3.0, 4.0],
        "animate": True,
    }
    with pytest.raises(ValueError, match="south"):
        m.fit_bounds((5, 0, 1, 1))
    seen: list[Any] = []
    m.observe(seen.append, names=["center"])
    spy.states.clear()
    m.fly_to(48.85, 2.35, 11)
    assert spy.custom[-1][0] == {"type": "fly_to", "center": [48.85, 2.35], "zoom": 11.0}
    assert (m.center, m.zoom) == ((48.85, 2.35), 11.0)
    assert len(seen) == 1  # Python observers see the target...
    assert spy.states == []  # ...but the views are not moved a second time by a trait update


def test_bounds_is_written_by_the_map_only() -> None:
    m = Heatmap()
    with pytest.raises(traitlets.TraitError):
        m.bounds = (0, 0, 1, 1)
    m.set_state({"bounds": [1, 2, 3, 4]})
    assert m.bounds == (1.0, 2.0, 3.0, 4.0)


@needs_host
def test_kernel_count_near_counts_points_within_radius() -> None:
    from heatwidget.host.kernel import Kernel

    with Kernel() as k:
        k.load(pa.table({"lon": [0.0, 0.0, 1.0], "lat": [0.0, 0.0, 0.0]}))
        k.density((100.0, 100.0), 0, 64, 64, 5.0, 0)  # the points at frame x 28 and 28.7
        assert k.count_near(28.0, 28.0, 5.0) == 3
        assert k.count_near(34.0, 28.0, 5.0) == 0
        k.time_window(0, 1)  # no times held: a bounded window shows nothing
        k.density((100.0, 100.0), 0, 64, 64, 5.0, 0)
        assert k.count_near(28.0, 28.0, 5.0) == 0


@needs_host
def test_kernel_append_and_drop_front_match_a_fresh_load() -> None:
    from heatwidget.host.kernel import Kernel

    rng = np.random.default_rng(1)
    t = pa.table({"lon": rng.uniform(-10, 10, 300), "lat": rng.uniform(-10, 10, 300)})
    with Kernel() as a, Kernel() as b:
        a.load(t.slice(0, 100))
        a.append(t.slice(100, 200))
        assert a.drop_front(50) == 250
        b.load(t.slice(50))
        ga, _ = a.density((480.0, 480.0), 2, 64, 64, 3.0, 0)
        gb, _ = b.density((480.0, 480.0), 2, 64, 64, 3.0, 0)
        np.testing.assert_array_equal(ga, gb)


def test_a_new_views_state_is_one_snapshot_while_another_thread_appends() -> None:
    """A live feed appends from a thread while a page (re)loads: the state a new view gets
    must hold exactly the rows its `_seq` numbers, or the next delta would add rows twice."""
    import threading

    m = Heatmap(**rows(2000))
    seq0, done = m._seq, threading.Event()

    def feed() -> None:
        for _ in range(300):
            m.append(**rows(20))
        done.set()

    thread = threading.Thread(target=feed)
    thread.start()
    states = 0
    while not done.is_set():
        state = m.get_state(key=["_points", "_seq"])
        held = decode(state["_points"]).num_rows
        assert held == 2000 + 20 * (state["_seq"] - seq0), (held, state["_seq"])
        states += 1
    thread.join()
    assert states > 1


@pytest.mark.parametrize("weighted", [False, True])
def test_kernel_sliding_window_equals_a_fresh_load(weighted: bool) -> None:
    """Drops step the rows' start forward and appends move them back once in a while
    (heat.h hw_points_drop_front): after many rounds, in arrival order and after a spatial
    sort, the frame is a fresh load's of the same rows, and the memory stops growing."""
    from heatwidget.host.kernel import HW_AGG_SUM, Kernel

    rng = np.random.default_rng(5)
    total, window, step = 60_000, 10_000, 1_700
    cols = {"lon": rng.uniform(-180, 180, total), "lat": rng.uniform(-80, 80, total)}
    if weighted:
        cols["weight"] = rng.uniform(0, 3, total).astype(np.float32)
    rows = pa.table(cols)
    frame = ((0.0, 0.0), 1, 512, 512, 0.0, HW_AGG_SUM)
    with Kernel() as live, Kernel() as fresh:
        live.load(rows.slice(0, window))
        sizes = []
        end = window
        while end + step <= total:
            live.append(rows.slice(end, step))
            end += step
            assert live.drop_front(live.point_count - window) == window
            if end % (3 * step) < step:
                live.index()  # sometimes in spatial order, as the page does when idle
            sizes.append(live.memory_bytes)
        fresh.load(rows.slice(end - window, window))
        got, _ = live.density(*frame)
        want, _ = fresh.density(*frame)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        assert got.sum() > 0
        assert sizes[-1] == sizes[len(sizes) // 2]  # the window's room stopped growing

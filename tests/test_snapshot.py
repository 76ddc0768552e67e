"""Snapshots without a browser: chunk reassembly (any order), Future resolution, the live-view
set, the idle-only timeout, the no-view fallback, and the chunk size the front end uses."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from snapshot_helpers import chunks, png_bytes, widget

from heatwidget.views.snapshot import CHUNK_BYTES, IdleClock, Snapshots, thread_timer

ROOT = Path(__file__).resolve().parents[1]
WASM = ROOT / "heatwidget" / "static" / "heat.wasm"
needs_host = pytest.mark.skipif(
    importlib.util.find_spec("wasmtime") is None or not WASM.is_file(),
    reason="the Python-host rendering needs wasmtime and the built kernel",
)


def msg(rid: str, view: str, index: int, count: int) -> dict[str, Any]:
    return {"type": "snapshot", "id": rid, "view": view, "index": index, "count": count}


class Timers:
    """Timeouts that run out when the test says so (``fire()``), not by the wall clock."""

    class Timer:
        def __init__(self, fn: Any) -> None:
            self.fn, self.cancelled = fn, False

        def cancel(self) -> None:
            self.cancelled = True

    def __init__(self) -> None:
        self.started: list[Timers.Timer] = []

    def __call__(self, _seconds: float, fn: Any) -> Timers.Timer:
        timer = Timers.Timer(fn)
        self.started.append(timer)
        return timer

    @property
    def running(self) -> list[Timers.Timer]:
        return [t for t in self.started if not t.cancelled and t.fn is not None]

    def fire(self) -> None:
        """The running timeouts run out."""
        for timer in self.running:
            fn, timer.fn = timer.fn, None
            fn()


class Harness:
    def __init__(
        self, clock: IdleClock | None = None, fallback: bytes = b"host", timers: Any = None
    ) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fallback_calls = 0

        def render() -> bytes:
            self.fallback_calls += 1
            return fallback

        self.snaps = Snapshots(
            self.sent.append, render, clock or IdleClock(None), timers or thread_timer
        )

    def hello(self, *views: str) -> None:
        for v in views:
            self.snaps.view_event({"type": "view", "view": v, "event": "hello"})

    def last_id(self) -> str:
        return str(self.sent[-1]["id"])


class FakeEvents:
    def __init__(self) -> None:
        self.callbacks: dict[str, list[Any]] = {}

    def register(self, name: str, fn: Any) -> None:
        self.callbacks.setdefault(name, []).append(fn)

    def trigger(self, name: str) -> None:
        for fn in self.callbacks.get(name, []):
            fn()


class FakeShell:
    def __init__(self) -> None:
        self.events = FakeEvents()


def test_chunk_size_keeps_every_message_within_one_mib() -> None:
    assert CHUNK_BYTES <= (1 << 20) - 1024
    ts = (ROOT / "js" / "src" / "snapshot.ts").read_text()
    assert "MAX_MESSAGE_BYTES - 4096" in ts
    model = (ROOT / "js" / "src" / "model.ts").read_text()
    assert re.search(r"MAX_MESSAGE_BYTES = 1 << 20", model)
    data = png_bytes(3 * CHUNK_BYTES + 17)
    msgs = chunks(data, "r", "v", width=10, height=10, tiles="none")
    assert len(msgs) == 4
    assert all(len(b[0]) <= CHUNK_BYTES for _, b in msgs)


def test_no_live_view_resolves_at_once_with_the_python_rendering(tmp_path: Path) -> None:
    h = Harness(fallback=b"\x89PNG host")
    f = h.snaps.request(tmp_path / "a.png", None)
    assert f.done() and f.result() == b"\x89PNG host"
    assert f.info["source"] == "python"
    assert (tmp_path / "a.png").read_bytes() == b"\x89PNG host"
    assert h.sent == []  # nothing asked of the (absent) views


def test_reassembles_in_order_and_writes_the_file(tmp_path: Path) -> None:
    h = Harness()
    h.hello("v1")
    f = h.snaps.request(tmp_path / "snap.png", 5)
    assert h.sent == [{"type": "snapshot", "id": h.last_id()}]
    data = png_bytes(2 * CHUNK_BYTES + 1000)
    msgs = chunks(data, h.last_id(), "v1", width=900, height=500, tiles="drawn")
    for content, buffers in msgs[:-1]:
        h.snaps.on_chunk(content, buffers)
        assert not f.done()
    h.snaps.on_chunk(*msgs[-1])
    assert f.result(timeout=0) == data
    assert (tmp_path / "snap.png").read_bytes() == data
    assert f.info["source"] == "view" and f.info["chunks"] == 3
    assert (f.info["width"], f.info["height"], f.info["tiles"]) == (900, 500, "drawn")
    assert f.info["view"] == "v1"


def test_out_of_order_and_duplicate_chunks() -> None:
    h = Harness()
    h.hello("v1")
    f = h.snaps.request(None, 5)
    data = png_bytes(4 * CHUNK_BYTES + 5)
    msgs = chunks(data, h.last_id(), "v1", width=1, height=1, tiles="none")
    for i in (3, 1, 1, 4, 0):
        h.snaps.on_chunk(*msgs[i])
    assert not f.done()
    h.snaps.on_chunk(*msgs[2])
    assert f.result(timeout=0) == data
    assert f.info["width"] == 1  # the first chunk's fields, whenever it came


def test_first_view_wins_and_interleaved_views_do_not_mix() -> None:
    h = Harness()
    h.hello("a", "b")
    f = h.snaps.request(None, 5)
    rid = h.last_id()
    da, db = png_bytes(CHUNK_BYTES + 10), png_bytes(CHUNK_BYTES + 20)
    ma, mb = chunks(da, rid, "a"), chunks(db, rid, "b")
    h.snaps.on_chunk(*ma[0])
    h.snaps.on_chunk(*mb[0])
    h.snaps.on_chunk(*mb[1])
    assert f.result(timeout=0) == db
    h.snaps.on_chunk(*ma[1])  # late: ignored
    assert f.result() == db and f.info["view"] == "b"


def test_chunks_of_unknown_requests_are_ignored() -> None:
    h = Harness()
    h.hello("v")
    f = h.snaps.request(None, 5)
    h.snaps.on_chunk(*chunks(png_bytes(100), "someone-else", "v")[0])
    h.snaps.on_chunk(
        {"type": "snapshot", "id": h.last_id(), "view": "v", "index": 5, "count": 2}, [b"x"]
    )
    h.snaps.on_chunk(
        {"type": "snapshot", "id": h.last_id(), "view": "v", "index": 0, "count": 1}, []
    )
    assert not f.done()


def test_a_non_png_answer_fails_the_future() -> None:
    h = Harness()
    h.hello("v")
    f = h.snaps.request(None, 5)
    h.snaps.on_chunk(
        {"type": "snapshot", "id": h.last_id(), "view": "v", "index": 0, "count": 1}, [b"GIF89a"]
    )
    with pytest.raises(ValueError, match="not a PNG"):
        f.result(timeout=0)


def test_a_view_error_fails_only_when_no_other_view_can_answer() -> None:
    h = Harness()
    h.hello("a", "b")
    f = h.snaps.request(None, 5)
    rid = h.last_id()
    h.snaps.on_chunk({"type": "snapshot", "id": rid, "view": "a", "error": "boom"}, None)
    assert not f.done()
    h.snaps.on_chunk({"type": "snapshot", "id": rid, "view": "b", "error": "bang"}, None)
    with pytest.raises(RuntimeError, match="bang"):
        f.result(timeout=0)


def test_bye_forgets_a_view() -> None:
    h = Harness(fallback=b"host")
    h.hello("a")
    h.snaps.view_event({"type": "view", "view": "a", "event": "bye"})
    assert h.snaps.live == set()
    assert h.snaps.request(None, 5).result(timeout=0) == b"host"


def test_silent_views_are_dropped_after_the_timeout() -> None:
    h = Harness(fallback=b"host")
    h.hello("old", "gone")
    f = h.snaps.request(None, 0.2)
    with pytest.raises(TimeoutError, match="2 view"):
        f.result(timeout=5)
    assert h.snaps.live == set()
    # the next request falls back to the Python rendering at once
    assert h.snaps.request(None, 0.2).result(timeout=0) == b"host"


def test_only_the_silent_view_is_dropped() -> None:
    timers = Timers()
    h = Harness(timers=timers)
    h.hello("old", "new")
    f = h.snaps.request(None, 0.3)
    assert len(timers.running) == 1
    data = png_bytes(50)
    h.snaps.on_chunk(*chunks(data, h.last_id(), "new")[0])
    assert f.result(timeout=0) == data
    # no timeout runs once answered; "old" never answered this request but stays until one
    # times out (the first answer ends the request)
    assert timers.running == []
    assert h.snaps.live == {"old", "new"}


def test_a_view_that_answers_is_live_again() -> None:
    h = Harness()
    f = h.snaps.request(None, 1)  # no view: fallback
    assert f.done()
    h.hello("v")
    g = h.snaps.request(None, 1)
    h.snaps.live.clear()  # e.g. dropped by an earlier timeout
    h.snaps.on_chunk(*chunks(png_bytes(20), h.last_id(), "v")[0])
    assert g.done() and h.snaps.live == {"v"}


def test_timeout_counts_only_while_the_kernel_is_idle() -> None:
    shell = FakeShell()
    clock = IdleClock(shell)
    timers = Timers()
    h = Harness(clock=clock, timers=timers)
    h.hello("v")
    assert clock.busy  # created inside a cell: busy until post_execute
    f = h.snaps.request(None, 0.2)
    assert timers.running == []  # the cell that asked is still running: no timeout
    shell.events.trigger("post_execute")  # the cell ended: the clock starts
    assert len(timers.running) == 1
    shell.events.trigger("pre_execute")  # another cell runs (Run all): stopped again
    assert timers.running == [] and not f.done()
    shell.events.trigger("post_execute")  # started again, in full
    assert len(timers.running) == 1 and len(timers.started) == 2
    timers.fire()
    with pytest.raises(TimeoutError, match="idle kernel"):
        f.result(timeout=0)


def test_arriving_chunks_extend_the_timeout_once() -> None:
    timers = Timers()
    h = Harness(timers=timers)
    h.hello("v")
    f = h.snaps.request(None, 1.0)
    data = png_bytes(CHUNK_BYTES + 1)
    first, second = chunks(data, h.last_id(), "v")
    h.snaps.on_chunk(*first)
    timers.fire()  # one period over with chunks arriving: extended, not failed
    assert not f.done() and len(timers.running) == 1
    h.snaps.on_chunk(*second)
    assert f.result(timeout=0) == data and timers.running == []
    # a second period without the rest gives up
    g = h.snaps.request(None, 1.0)
    h.snaps.on_chunk(*chunks(data, h.last_id(), "v")[0])
    timers.fire()
    timers.fire()
    with pytest.raises(TimeoutError):
        g.result(timeout=0)


def test_timeout_must_be_positive() -> None:
    h = Harness()
    h.hello("v")
    with pytest.raises(ValueError, match="timeout"):
        h.snaps.request(None, 0)


# ---- through the widget ---------------------------------------------------------------------


def test_widget_routes_view_and_snapshot_messages(tmp_path: Path) -> None:
    from heatwidget.widget.heatmap import _on_custom_msg

    m, sent = widget()
    _on_custom_msg(m, {"type": "view", "view": "v9", "event": "hello"}, [])
    assert m._snapshots.live == {"v9"}
    f = m.snapshot(tmp_path / "s.png", timeout=5)
    ((request, _),) = [(c, b) for c, b in sent if c.get("type") == "snapshot"]
    data = png_bytes(CHUNK_BYTES * 2)
    for content, buffers in reversed(chunks(data, request["id"], "v9", width=3, height=4)):
        _on_custom_msg(m, content, buffers)
    assert f.result(timeout=0) == data
    assert (tmp_path / "s.png").read_bytes() == data
    # the hello/resync protocol is untouched: a view's hello sends no reset
    assert [c for c, _ in sent if c.get("type") == "reset"] == []


@needs_host
def test_widget_without_view_falls_back_to_to_png(tmp_path: Path) -> None:
    m, sent = widget()
    f = m.snapshot(tmp_path / "host.png")
    data = f.result(timeout=0)
    assert data.startswith(b"\x89PNG") and f.info["source"] == "python"
    assert (tmp_path / "host.png").read_bytes() == data
    # the fallback is the map's height, 800 wide (IHDR)
    assert int.from_bytes(data[16:20], "big") == 800
    assert int.from_bytes(data[20:24], "big") == m.height
    assert sent == []
    # to_png() with no view is the Python rendering
    assert m.to_png(width=40, height=30)[:8] == b"\x89PNG\r\n\x1a\n"


def run_async(coro: Any) -> Any:
    """``asyncio.run(coro)`` on a thread of its own: the browser tests' Playwright may leave
    an event loop running on this one; warnings raised there are re-raised here."""
    import asyncio
    import threading
    import warnings

    out: dict[str, Any] = {}

    def run() -> None:
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            try:
                out["value"] = asyncio.run(coro)
            except BaseException as exc:
                out["error"] = exc
        out["said"] = said

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    for w in out.get("said", []):
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_to_png_async_gets_the_views_answer_while_it_awaits(tmp_path: Path) -> None:
    import asyncio

    from heatwidget.widget.heatmap import _on_custom_msg

    m, sent = widget()
    _on_custom_msg(m, {"type": "view", "view": "v1", "event": "hello"}, [])
    data = png_bytes(100)

    async def main() -> Any:
        task = asyncio.ensure_future(m.to_png_async(tmp_path / "a.png", timeout=5))
        while not any(c.get("type") == "snapshot" for c, _ in sent):
            await asyncio.sleep(0)
        ((request, _),) = [(c, b) for c, b in sent if c.get("type") == "snapshot"]
        for content, buffers in chunks(data, request["id"], "v1", width=3, height=4):
            _on_custom_msg(m, content, buffers)
        return await task

    png = run_async(main())
    assert bytes(png) == data and png.info["source"] == "view"
    assert (tmp_path / "a.png").read_bytes() == data


@needs_host
def test_to_png_async_falls_back_when_no_view_answers_in_time() -> None:

    from heatwidget.widget.heatmap import _on_custom_msg

    m, _sent = widget()
    _on_custom_msg(m, {"type": "view", "view": "silent", "event": "hello"}, [])
    with pytest.warns(RuntimeWarning, match="did not come"):
        png = run_async(m.to_png_async(timeout=0.05))
    assert png.info["source"] == "python" and "no view answered" in png.info["view_unavailable"]
    assert (png.info["width"], png.info["height"]) == (800, m.height)
    assert m._snapshots.live == set()  # the silent view is forgotten
    assert m._snapshots._pending == {}

"""to_png() waiting inside a running cell for the displayed map's picture, without a browser:
ReplyRoute's routing decisions against a stand-in for ipykernel 7.4's per-comm hook, and the
whole wait with a "front end" answering from another thread, as a comm subshell does."""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from snapshot_helpers import chunks, png_bytes, widget

from heatwidget.views.cell_wait import ReplyRoute
from heatwidget.views.snapshot import CHUNK_BYTES, PNG

ROOT = Path(__file__).resolve().parents[1]
needs_host = pytest.mark.skipif(
    importlib.util.find_spec("wasmtime") is None
    or not (ROOT / "heatwidget" / "static" / "heat.wasm").is_file(),
    reason="the Python-host rendering needs wasmtime and the built kernel",
)


class KernelComm:
    """ipykernel 7.4's rule, as ``ipykernel.comm.BaseComm._reply_subshell_for`` has it: a
    message answering a request goes to the shell that sent the request, anything else to the
    shell that last sent on the comm."""

    def __init__(self, sent_from: str | None) -> None:
        self.sent_from = sent_from
        self.calls: list[tuple[Any, Any]] = []

    def _reply_subshell_for(self, data: Any, default: Any) -> Any:
        self.calls.append((data, default))
        return self.sent_from


def answer(rid: str) -> dict[str, Any]:
    return {"method": "custom", "content": {"type": "snapshot", "id": rid, "view": "v"}}


# ---- routing ------------------------------------------------------------------------------


def test_awaited_answers_stay_on_the_front_ends_subshell() -> None:
    comm = KernelComm(sent_from=None)  # the request left from the main shell (a cell)
    route = ReplyRoute()
    route.install(comm)
    hook = comm._reply_subshell_for
    with route.awaiting("r1"):
        assert hook(answer("r1"), "S") == "S"  # the front end's subshell reads it
        assert hook(answer("r2"), "S") is None  # not awaited: ipykernel's choice
        assert hook({"method": "update", "state": {}}, "S") is None
    assert hook(answer("r1"), "S") is None  # no longer awaited
    # ipykernel's own hook saw every message (it forgets its notes per request id)
    assert len(comm.calls) == 4


def test_a_front_end_without_subshells_keeps_ipykernels_route() -> None:
    comm = KernelComm(sent_from=None)
    route = ReplyRoute()
    route.install(comm)
    with route.awaiting("r1"):
        assert comm._reply_subshell_for(answer("r1"), None) is None


def test_cannot_wait_says_why_with_the_hook() -> None:
    comm = KernelComm(sent_from=None)
    route = ReplyRoute()
    route.install(comm)
    assert "no view has sent" in (route.cannot_wait() or "")
    comm._reply_subshell_for({"method": "custom", "content": {"type": "view"}}, None)
    assert "Kernel comms over subshells" in (route.cannot_wait() or "")
    comm._reply_subshell_for({"method": "custom", "content": {"type": "view"}}, "S")
    assert route.cannot_wait() is None  # this (main) thread may wait: S reads the answer
    seen: list[str | None] = []
    t = threading.Thread(target=lambda: seen.append(route.cannot_wait()), name="subshell-S")
    t.start()
    t.join()
    assert "runs on the subshell that reads" in (seen[0] or "")


class FakeSubshells:
    """Stands in for the kernel's subshell manager: makes the helper subshell "H" on demand."""

    def __init__(self) -> None:
        self.made = 0

    def possible(self) -> bool:
        return True

    def exist(self) -> bool:
        return False

    def absent(self) -> bool:
        return False

    def helper(self) -> str:
        self.made += 1
        return "H"


def test_a_helper_subshell_reads_what_no_free_front_end_subshell_would() -> None:
    comm = KernelComm(sent_from=None)
    subshells = FakeSubshells()
    route = ReplyRoute(subshells)
    route.install(comm)
    assert route.cannot_wait() is None  # a helper can always be made: nothing to refuse
    hook = comm._reply_subshell_for
    with route.awaiting("r1"):  # waiting on the main thread
        assert hook(answer("r1"), "S") == "S"  # the front end's subshell is free: no helper
        assert subshells.made == 0
        assert hook(answer("r1"), None) == "H"  # front end without subshells (Voila 0.5)
        assert hook({"method": "update", "state": {}}, None) is None  # the rest: untouched
    got: list[Any] = []

    def wait_on_the_front_ends_subshell() -> None:
        with route.awaiting("r2"):
            got.append(hook(answer("r2"), "S"))

    t = threading.Thread(target=wait_on_the_front_ends_subshell, name="subshell-S")
    t.start()
    t.join()
    assert got == ["H"]  # S is the waiting thread: the helper reads it instead


def test_cannot_wait_without_the_hook_follows_the_reading_thread() -> None:
    route = ReplyRoute()
    route.install(object())  # ipykernel < 7.4 (or no kernel): nothing to hook
    assert "no view has sent" in (route.cannot_wait() or "")
    route.handled()  # the views' messages are read on this thread...
    assert "this very thread" in (route.cannot_wait() or "")
    t = threading.Thread(target=route.handled)  # ...or on another one (a comm subshell)
    t.start()
    t.join()
    assert route.cannot_wait() is None


class Pinger:
    """The views, answering a ping from another thread (a comm subshell) or not at all."""

    def __init__(self) -> None:
        self.route: ReplyRoute | None = None
        self.hooked: KernelComm | None = None
        self.sent: list[str] = []

    def __call__(self, rid: str) -> None:
        self.sent.append(rid)
        if self.route is None:
            return  # nobody reads it before the cell ends
        pong = {"type": "view", "view": "v", "event": "pong", "id": rid}
        if self.hooked is not None:  # ipykernel 7.4: seen as it arrives on subshell "S"
            self.hooked._reply_subshell_for({"method": "custom", "content": pong}, "S")
            return
        t = threading.Thread(target=self.route.handled, args=(pong,))
        t.start()
        t.join()


class KernelWithSubshells(FakeSubshells):
    def possible(self) -> bool:
        return False  # no helper subshell (ipykernel 7.0 - 7.3)

    def exist(self) -> bool:
        return True


def test_a_hello_from_before_the_front_ends_subshell_started_is_checked_by_a_ping() -> None:
    """JupyterLab does not wait for its comm subshell before sending: a new view's hello may
    come on the main shell, and only later messages on the subshell."""
    pinger = Pinger()
    route = ReplyRoute(KernelWithSubshells(), ping=pinger)
    route.install(object())  # ipykernel 7.3: no routing hook
    route.handled({"type": "view", "view": "v", "event": "hello"})  # read on the main shell
    pinger.route = route  # the front end's subshell has started since
    assert route.cannot_wait() is None and len(pinger.sent) == 1
    assert route.cannot_wait() is None and len(pinger.sent) == 1  # known now: no more pings


def test_an_unanswered_ping_is_not_repeated_until_a_message_comes_another_way() -> None:
    import heatwidget.views.cell_wait as cell_wait

    pinger = Pinger()  # a front end without comm subshells: the pong waits for the cell
    route = ReplyRoute(KernelWithSubshells(), ping=pinger)
    route.install(object())
    route.handled({"type": "view", "view": "v", "event": "hello"})
    before, cell_wait.PING_SECONDS = cell_wait.PING_SECONDS, 0.05
    try:
        assert "this very thread" in (route.cannot_wait() or "")
        assert "this very thread" in (route.cannot_wait() or "")
        assert len(pinger.sent) == 1  # the second call did not ask again
        route.handled({"event": "pong", "id": pinger.sent[0]})  # the late pong, after the cell
        assert "this very thread" in (route.cannot_wait() or "") and len(pinger.sent) == 1
        elsewhere = threading.Thread(target=route.handled)  # a message on a subshell...
        elsewhere.start()
        elsewhere.join()
        route.handled()  # ...then one on the main shell again: worth asking once more
        assert "this very thread" in (route.cannot_wait() or "") and len(pinger.sent) == 2
    finally:
        cell_wait.PING_SECONDS = before


def test_no_ping_where_the_kernel_has_no_subshells_or_the_caller_says_not() -> None:
    pinger = Pinger()
    route = ReplyRoute(FakeSubshells(), ping=pinger)  # ipykernel 6: exist() is False
    route.install(object())
    route.handled()
    assert "this very thread" in (route.cannot_wait() or "") and pinger.sent == []
    route = ReplyRoute(KernelWithSubshells(), ping=pinger)
    route.install(object())
    route.handled()
    assert "this very thread" in (route.cannot_wait(ping=False) or "") and pinger.sent == []


def test_with_the_hook_a_ping_answered_on_a_subshell_settles_it() -> None:
    comm = KernelComm(sent_from=None)
    pinger = Pinger()
    route = ReplyRoute(KernelWithSubshells(), ping=pinger)
    route.install(comm)
    hello = {"type": "view", "view": "v", "event": "hello"}
    comm._reply_subshell_for({"method": "custom", "content": hello}, None)  # main shell
    pinger.route, pinger.hooked = route, comm
    assert route.cannot_wait() is None and len(pinger.sent) == 1


# ---- the whole wait -------------------------------------------------------------------------


class FrontEnd:
    """Answers every snapshot request from its own thread, as a comm subshell would."""

    def __init__(
        self,
        m: Any,
        _sent: list[Any],
        data: bytes | None,
        error: str | None = None,
        hello: bool = True,
    ) -> None:
        self.m, self.data, self.error = m, data, error
        self.threads: list[threading.Thread] = []
        self.handled_on: set[int] = set()
        original = m.send

        def send(content: dict[str, Any], buffers: Any = None) -> None:
            original(content, buffers)
            if content.get("type") == "snapshot" and (self.data or self.error) is not None:
                t = threading.Thread(target=self._answer, args=(content["id"],), name="subshell-F")
                self.threads.append(t)
                t.start()

        m.send = send
        if hello:
            self._say_hello()

    def _handle(self, content: dict[str, Any], buffers: Any = None) -> None:
        from heatwidget.widget.heatmap import _on_custom_msg

        self.handled_on.add(threading.get_ident())
        _on_custom_msg(self.m, content, buffers or [])

    def _say_hello(self) -> None:
        t = threading.Thread(
            target=self._handle, args=({"type": "view", "view": "v", "event": "hello"},)
        )
        t.start()
        t.join()

    def _answer(self, rid: str) -> None:
        if self.error is not None:
            self._handle({"type": "snapshot", "id": rid, "view": "v", "error": self.error})
            return
        assert self.data is not None
        for content, buffers in chunks(self.data, rid, "v", width=640, height=480, tiles="none"):
            self._handle(content, buffers)


def test_to_png_waits_for_the_views_picture(tmp_path: Path) -> None:
    m, sent = widget()
    data = png_bytes(CHUNK_BYTES * 2 + 10)  # three chunks
    front = FrontEnd(m, sent, data)
    png = m.to_png(tmp_path / "map.png")
    assert isinstance(png, PNG) and png == data
    assert (tmp_path / "map.png").read_bytes() == data
    assert png.info["source"] == "view" and (png.info["width"], png.info["height"]) == (640, 480)
    assert png.info["chunks"] == 3 and png._repr_png_() == data
    assert threading.get_ident() not in front.handled_on  # read elsewhere while this waited
    assert m._snapshots._pending == {}
    # a size asked for applies to the Python rendering: said, not silently dropped
    with pytest.warns(UserWarning, match=r"width, height apply .* 640 x 480"):
        assert m.to_png(width=100, height=50).info["source"] == "view"


def test_to_png_view_true_times_out_and_forgets_the_silent_view() -> None:
    m, sent = widget()
    FrontEnd(m, sent, data=None)  # says hello, never answers
    with pytest.raises(TimeoutError, match="forgotten"):
        m.to_png(view=True, timeout=0.3)
    assert m._snapshots.live == set() and m._snapshots._pending == {}
    with pytest.raises(RuntimeError, match="no view of this map is displayed"):
        m.to_png(view=True)


@needs_host
def test_to_png_falls_back_with_a_warning_when_no_view_answers(tmp_path: Path) -> None:
    m, sent = widget()
    FrontEnd(m, sent, data=None)
    with pytest.warns(RuntimeWarning, match=r"not available here .*snapshot\(path\)"):
        png = m.to_png(tmp_path / "host.png", width=64, height=48, timeout=0.3)
    assert png.info["source"] == "python" and "forgotten" in png.info["view_unavailable"]
    assert int.from_bytes(png[16:20], "big") == 64
    assert (tmp_path / "host.png").read_bytes() == png
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the silent view is forgotten: no view, no warning
        assert m.to_png(width=8, height=8).info["source"] == "python"


@needs_host
def test_to_png_does_not_wait_where_nothing_could_answer() -> None:
    m, sent = widget()
    # the views' messages are read on this very thread (ipykernel 6, or no comm subshells)
    m._handle_front_end({"type": "view", "view": "v", "event": "hello"})
    with pytest.warns(RuntimeWarning, match="this very thread"):
        png = m.to_png(width=16, height=16, timeout=60)  # returns at once, not after 60 s
    assert png.info["source"] == "python" and "this very thread" in png.info["view_unavailable"]
    assert [c for c, _ in sent if c.get("type") == "snapshot"] == []  # nothing was asked
    with pytest.raises(RuntimeError, match=r"cannot wait .*this very thread"):
        m.to_png(view=True)
    assert m.to_png(view=False, width=8, height=8).info["source"] == "python"


@needs_host
def test_a_view_that_cannot_compose_falls_back_with_its_reason() -> None:
    m, sent = widget()
    FrontEnd(m, sent, data=None, error="Error: the map is not visible (0 × 0 px)")
    with pytest.warns(RuntimeWarning, match="not visible"):
        png = m.to_png(width=16, height=16)
    assert png.info["source"] == "python"
    with pytest.raises(RuntimeError, match="not visible"):
        m.to_png(view=True)


def test_views_are_noticed_as_they_arrive() -> None:
    comm = KernelComm(sent_from=None)
    seen: list[dict[str, Any]] = []
    route = ReplyRoute(on_view=seen.append)
    route.install(comm)
    assert not route.await_front_end(0)
    hello = {"type": "view", "view": "v", "event": "hello"}
    # routed to the (busy) main shell, but told at once
    assert comm._reply_subshell_for({"method": "custom", "content": hello}, "S") is None
    assert seen == [hello] and route.await_front_end(0)


@needs_host
def test_to_png_right_after_display_waits_for_the_view_to_appear() -> None:
    """ "Run all": the map's cell displays it, the next asks for its picture before the browser
    has made the view. A front end that has spoken is waited for; nothing else is."""
    import time

    m, sent = widget()
    m._reply_route._subshells = KernelWithSubshells()  # the front end reads on a subshell
    m._repr_mimebundle_()  # displayed
    assert m.to_png(width=8, height=8).info["source"] == "python"  # no browser: no wait
    m._repr_mimebundle_()
    front = FrontEnd(m, sent, png_bytes(100), hello=False)
    # the browser has the model: its store's hello was read on the front end's thread...
    told = threading.Thread(target=m._reply_route.handled)
    told.start()
    told.join()
    later = threading.Timer(0.3, front._say_hello)  # ...and makes the view a moment later
    later.start()
    t0 = time.monotonic()
    png = m.to_png()
    assert png.info["source"] == "view" and 0.25 < time.monotonic() - t0 < 5


def test_a_failing_route_never_loses_a_message() -> None:
    class Broken:
        def possible(self) -> bool:
            return True

        def helper(self) -> str:
            raise RuntimeError("ipykernel changed")

    comm = KernelComm(sent_from="main-ish")
    route = ReplyRoute(Broken(), on_view=lambda _content: 1 / 0)  # type: ignore[arg-type]
    route.install(comm)
    with route.awaiting("r1"):
        assert comm._reply_subshell_for(answer("r1"), None) == "main-ish"  # ipykernel's choice
    view = {"method": "custom", "content": {"type": "view", "view": "v", "event": "hello"}}
    assert comm._reply_subshell_for(view, "S") == "main-ish"


@needs_host
def test_run_all_does_not_wait_where_no_message_could_be_noticed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ipykernel 6 without jupyter-ui-poll: the view's hello could only be read after the cell,
    so waiting 5 s for it would only delay the Python rendering."""
    import time

    from heatwidget.views import cell_wait as _cell_wait

    monkeypatch.setattr(_cell_wait, "run_from_a_browser", lambda: True)
    m, _ = widget()
    m._repr_mimebundle_()
    t0 = time.monotonic()
    assert m.to_png(width=8, height=8).info["source"] == "python"
    assert time.monotonic() - t0 < 2


class Pumps:
    """jupyter-ui-poll on ipykernel 6, for a widget: the front end's messages wait in a queue
    until the waiting code reads them (``pump()``), on its own thread."""

    def __init__(self, m: Any, data: bytes, hello: bool = True) -> None:
        from heatwidget.widget.heatmap import _on_custom_msg

        self.queue: list[tuple[dict[str, Any], Any]] = []
        self.read_on: set[int] = set()
        self.opened = self.closed = 0
        original = m.send

        def send(content: dict[str, Any], buffers: Any = None) -> None:
            original(content, buffers)
            if content.get("type") == "snapshot":
                self.queue.extend(chunks(data, content["id"], "v", width=64, height=32))

        def pump() -> None:
            while self.queue:
                content, buffers = self.queue.pop(0)
                self.read_on.add(threading.get_ident())
                _on_custom_msg(m, content, buffers or [])

        self.pump = pump
        m.send = send
        if hello:
            self.queue.append(({"type": "view", "view": "v", "event": "hello"}, None))

    def possible(self) -> bool:
        return True

    @contextlib.contextmanager
    def open(self) -> Iterator[Any]:
        self.opened += 1
        try:
            yield self.pump
        finally:
            self.closed += 1


def test_on_ipykernel_6_the_cell_reads_the_views_answer_itself() -> None:
    m, _ = widget()
    data = png_bytes(CHUNK_BYTES + 5)  # two chunks
    pumps = Pumps(m, data)
    m._reply_route._pumps = pumps
    pumps.pump()  # the view's hello, read after the map's cell
    png = m.to_png(view=True)
    assert png == data and png.info["source"] == "view" and png.info["chunks"] == 2
    assert pumps.read_on == {threading.get_ident()}  # read by the waiting code itself
    assert (pumps.opened, pumps.closed) == (1, 1)  # and let go of when it had the answer
    # what the pump read says nothing of where messages are read otherwise: without the pump
    # (jupyter-ui-poll gone), this thread still reads them only after the cell
    m._reply_route._reader = None
    m._handle_front_end({"type": "view", "view": "v", "event": "hello"})  # after the cell
    with m._reply_route.reading() as pump:
        assert pump is not None
        t = threading.Thread(target=m._reply_route.handled)  # jupyter-ui-poll's own thread
        t.start()
        t.join()
    m._reply_route._pumps = NoPumps()
    assert "this very thread" in (m._reply_route.cannot_wait() or "")
    # and on ipykernel 6 that is known before any view has spoken (all read through the pump)
    m._reply_route._reader = None
    m._reply_route._subshells = Ipykernel6()
    assert "pip install jupyter-ui-poll" in (m._reply_route.cannot_wait() or "")


class Ipykernel6(FakeSubshells):
    def absent(self) -> bool:
        return True


class NoPumps:
    def possible(self) -> bool:
        return False


@needs_host
def test_on_ipykernel_6_run_all_reads_the_new_views_hello_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from heatwidget.views import cell_wait as _cell_wait

    monkeypatch.setattr(_cell_wait, "run_from_a_browser", lambda: True)
    m, _ = widget()
    pumps = Pumps(m, png_bytes(100))  # the hello is still waiting to be read
    m._reply_route._pumps = pumps
    m._repr_mimebundle_()
    assert m.to_png().info["source"] == "view"
    # not displayed: no wait, nothing read, the Python rendering
    m2, _ = widget()
    pumps2 = Pumps(m2, png_bytes(100), hello=False)
    m2._reply_route._pumps = pumps2
    assert m2.to_png(width=8, height=8).info["source"] == "python" and pumps2.opened == 0


@needs_host
def test_a_pump_that_refuses_to_open_means_the_python_rendering_at_once() -> None:
    """jupyter-ui-poll does not nest: a to_png() from a widget callback that its reading ran,
    inside a cell's to_png(), must not wait for answers nothing will read."""
    import time

    class Refusing(Pumps):
        @contextlib.contextmanager
        def open(self) -> Iterator[Any]:
            raise ValueError("Nesting not supported")
            yield self.pump  # pragma: no cover

    m, _ = widget()
    pumps = Refusing(m, png_bytes(100))
    m._reply_route._pumps = pumps
    pumps.pump()  # the view's hello
    t0 = time.monotonic()
    with pytest.warns(RuntimeWarning, match="cannot read the views' messages itself"):
        png = m.to_png(width=8, height=8, timeout=30)
    assert png.info["source"] == "python" and time.monotonic() - t0 < 5
    assert m._reply_route._pump_error is None and m._reply_route._pumping == 0

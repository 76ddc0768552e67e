"""Snapshots of what a live view shows: the views Python knows, requests, chunk reassembly.

The front end (js/src/snapshot.ts) composes basemap tiles, outlines, heat, legend and
attribution onto one canvas and answers a request ``{"type": "snapshot", "id"}`` with the PNG in
numbered chunks, each one custom message ``{"type": "snapshot", "id", "view", "index",
"count"}`` with one buffer, at most ``CHUNK_BYTES`` (far below tornado's 10 MiB limit on
browser → kernel messages). The first chunk also carries ``width``, ``height`` and ``tiles``.

Two ways to ask. ``request()`` returns a Future: the kernel reads the answer whenever it reads
the views' messages, which with a plain kernel is after the cell that asked. ``wait()`` blocks
the caller until the answer is in: ``to_png()`` uses it where ``_cell_wait`` finds a thread
that reads the answer while the cell waits.

The timeout is counted only while the kernel is idle: IPython's public ``pre_execute`` /
``post_execute`` events stop and restart it, so a long cell (or the cells of a "Run all" queued
before the answer) does not make live views look dead. A view that does not answer within it
is forgotten (a reloaded page's old views never say "bye").
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .cell_wait import Pump, until

#: Most bytes of one chunk's buffer. The JSON part of a chunk is under 1 KiB, so every
#: message a view sends for a snapshot stays within 1 MiB (the front end's MAX_MESSAGE_BYTES).
CHUNK_BYTES = (1 << 20) - 4096
#: Seconds of an idle kernel a view has to answer when ``timeout`` is None.
DEFAULT_TIMEOUT = 30.0

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PNG(bytes):
    """PNG bytes that say where they came from (``info``: ``source`` is "view" or "python",
    with ``width``, ``height`` and more) and show themselves as an image in a notebook."""

    info: dict[str, Any]

    def __new__(cls, data: bytes, info: dict[str, Any]) -> PNG:
        png = super().__new__(cls, data)
        png.info = dict(info)
        return png

    def _repr_png_(self) -> bytes:
        return bytes(self)

    def __repr__(self) -> str:
        size = f"{self.info.get('width', '?')}x{self.info.get('height', '?')}"
        return f"<PNG {size} from the {self.info.get('source', '?')}, {len(self)} bytes>"


class SnapshotFuture(Future):  # type: ignore[type-arg]
    """A ``concurrent.futures.Future[bytes]`` whose ``info`` says where the PNG came from:
    ``source`` ("view" or "python"), and for a view ``view``, ``width``, ``height``,
    ``chunks``, ``bytes`` and ``tiles`` (what happened to the basemap tiles)."""

    def __init__(self) -> None:
        super().__init__()
        self.info: dict[str, Any] = {}


@dataclass
class _Assembly:
    count: int
    parts: dict[int, bytes] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Request:
    id: str
    future: SnapshotFuture
    path: Path | None
    timeout: float
    asked: set[str]
    assemblies: dict[str, _Assembly] = field(default_factory=dict)
    timer: Timer | None = None
    extended: bool = False


def _done_within(future: Future[Any], seconds: float) -> bool:
    """Whether ``future`` is done within ``seconds`` (its error, if any, is not raised here)."""
    try:
        future.exception(seconds)
    except FutureTimeout:
        return False
    return True


class Timer(Protocol):
    def cancel(self) -> None: ...


def thread_timer(seconds: float, fn: Callable[[], None]) -> Timer:
    """Calls ``fn`` on a daemon thread after ``seconds``. RuntimeError where there are no
    threads (Pyodide)."""
    timer = threading.Timer(seconds, fn)
    timer.daemon = True
    timer.start()
    return timer


class Snapshots:
    """One widget's live views and snapshot requests. ``send(content)`` sends a custom
    message to every view of the widget; ``fallback()`` renders the PNG in Python;
    ``timer(seconds, fn)`` starts a request's timeout (tests pass timers they fire)."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        fallback: Callable[[], bytes],
        clock: IdleClock | None = None,
        timer: Callable[[float, Callable[[], None]], Timer] = thread_timer,
    ) -> None:
        self._send = send
        self._timer = timer
        self._fallback = fallback
        self._clock = clock if clock is not None else idle_clock()
        self._lock = threading.RLock()
        self.live: set[str] = set()
        self._hello = threading.Event()
        self._pending: dict[str, _Request] = {}
        self._finished: deque[str] = deque(maxlen=256)

    # ---- views ----------------------------------------------------------------------------

    def view_event(self, content: dict[str, Any]) -> None:
        """``{"type": "view", "view": id, "event": "hello" | "pong" | "bye"}``."""
        view = content.get("view")
        if not isinstance(view, str):
            return
        with self._lock:
            if content.get("event") == "bye":
                self.live.discard(view)
            else:
                self.live.add(view)
                self._hello.set()

    def await_view(self, seconds: float, pump: Pump | None = None) -> bool:
        """Waits up to ``seconds`` for a live view (one displayed a moment ago says hello as
        soon as the browser has rendered it); whether there is one."""
        self._hello.clear()
        if not self.live:
            until(self._hello.wait, seconds, pump)
        return bool(self.live)

    # ---- requests ---------------------------------------------------------------------------

    def request(self, path: str | Path | None, timeout: float | None) -> SnapshotFuture:
        future = SnapshotFuture()
        target = None if path is None else Path(path)
        with self._lock:
            views = set(self.live)
        if not views:
            try:
                data = self._fallback()
                if target is not None:
                    target.write_bytes(data)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.info = {"source": "python", "bytes": len(data)}
                future.set_result(data)
            return future
        req = self._new(target, timeout, views, future)
        self._send({"type": "snapshot", "id": req.id})
        self._clock.add(req.id, lambda: self._arm(req), lambda: self._stop(req))
        return future

    def wait(
        self,
        timeout: float | None,
        routed: Callable[[str], AbstractContextManager[object]],
        pump: Pump | None = None,
    ) -> SnapshotFuture:
        """Asks the live views and blocks until one answers; returns the done Future (its
        ``info`` and result). ``routed(request_id)`` is held open while waiting: it makes the
        answer reach a thread other than this one; or ``pump()`` reads it on this one (see
        ``_cell_wait``). ``timeout`` counts wall-clock seconds here, extended once while chunks
        are arriving; then the views that did not answer are forgotten and ``TimeoutError`` is
        raised."""
        with self._lock:
            views = set(self.live)
        req = self._new(None, timeout, views, SnapshotFuture())
        with routed(req.id):
            self._send({"type": "snapshot", "id": req.id})
            while not until(lambda wait: _done_within(req.future, wait), req.timeout, pump):
                with self._lock:
                    if self._keeps_waiting(req):
                        continue
                raise self._give_up(req, "(the code that asked was waiting)") from None
            req.future.result(0)  # the view's error, if it sent one
            return req.future

    def abandon(self, future: SnapshotFuture, clock: str) -> TimeoutError | None:
        """Gives up the request of ``future`` if it is still unanswered (its waiter ran out of
        time: ``clock`` says which); the error it ends with, or None if it was answered."""
        with self._lock:
            req = next((r for r in self._pending.values() if r.future is future), None)
        if req is None:
            return None
        exc = self._give_up(req, clock)
        if not future.done():
            future.set_exception(exc)
        return exc

    def _new(
        self, target: Path | None, timeout: float | None, views: set[str], future: SnapshotFuture
    ) -> _Request:
        seconds = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        if not seconds > 0:
            raise ValueError(f"snapshot: timeout must be > 0 seconds, got {timeout!r}")
        req = _Request(uuid.uuid4().hex, future, target, seconds, views)
        with self._lock:
            self._pending[req.id] = req
        return req

    def _arm(self, req: _Request) -> None:
        """(Re)starts ``req``'s timer in full: the clock calls this when the kernel becomes
        idle, and stops it when a cell starts."""
        with self._lock:
            if req.id not in self._pending:
                return
            if req.timer is not None:
                req.timer.cancel()
                req.timer = None
            try:
                req.timer = self._timer(req.timeout, lambda: self._expire(req))
            except RuntimeError:  # no threads (Pyodide): no timeout, the views still answer
                return

    def _stop(self, req: _Request) -> None:
        with self._lock:
            self._disarm(req)

    def _disarm(self, req: _Request) -> None:
        if req.timer is not None:
            req.timer.cancel()
            req.timer = None

    def _expire(self, req: _Request) -> None:
        with self._lock:
            if self._keeps_waiting(req):
                if req.id in self._pending:
                    self._arm(req)
                return
        req.future.set_exception(self._give_up(req, "of idle kernel"))

    def _keeps_waiting(self, req: _Request) -> bool:
        """At the end of a timeout period (lock held): False to give ``req`` up; True when it
        was answered meanwhile, or when chunks are arriving (one more period, once)."""
        if req.id not in self._pending:
            return True
        if req.assemblies and not req.extended:
            req.extended = True
            return True
        return False

    def _give_up(self, req: _Request, clock: str) -> TimeoutError:
        """Ends ``req`` unanswered, forgets the views that did not answer; the error to raise."""
        with self._lock:
            dropped = sorted(req.asked - set(req.assemblies))
            self.live -= set(dropped)
            self._finish(req)
        return TimeoutError(
            f"no view answered the snapshot within {req.timeout:g} s {clock} "
            f"({len(dropped)} view(s) forgotten: a closed or reloaded page never answers). "
            "Display the map and ask again, or use to_png(view=False) for the "
            "Python-host rendering."
        )

    def _finish(self, req: _Request) -> None:
        self._disarm(req)
        self._pending.pop(req.id, None)
        self._finished.append(req.id)
        self._clock.discard(req.id)

    # ---- chunks -----------------------------------------------------------------------------

    def on_chunk(self, content: dict[str, Any], buffers: list[Any] | None) -> None:
        """One ``{"type": "snapshot", ...}`` message from a view (any order)."""
        rid, view = content.get("id"), content.get("view")
        if not isinstance(rid, str) or not isinstance(view, str):
            return
        with self._lock:
            self.live.add(view)  # it answers: it is live, whatever the timeout said before
            req = self._pending.get(rid)
            if req is None:
                return  # answered already (another view was first), or not ours
            error = content.get("error")
            if error:
                req.assemblies.pop(view, None)
                req.asked.discard(view)
                if req.asked - set(req.assemblies) or req.assemblies:
                    return  # another view may still answer
                self._finish(req)
                exc: BaseException = RuntimeError(f"the view could not take a snapshot: {error}")
                req.future.set_exception(exc)
                return
            count, index = content.get("count"), content.get("index")
            if not isinstance(count, int) or not isinstance(index, int) or count < 1:
                return
            if not 0 <= index < count or not buffers:
                return
            asm = req.assemblies.setdefault(view, _Assembly(count))
            asm.parts[index] = bytes(buffers[0])
            if index == 0:
                asm.meta = {k: v for k, v in content.items() if k not in ("type", "id", "index")}
            if len(asm.parts) < asm.count:
                return
            data = b"".join(asm.parts[i] for i in range(asm.count))
            self._finish(req)
        info = {
            "source": "view",
            "chunks": asm.count,
            "bytes": len(data),
            **asm.meta,
        }
        req.future.info = info
        if not data.startswith(PNG_SIGNATURE):
            req.future.set_exception(ValueError("the view's snapshot is not a PNG"))
            return
        try:
            if req.path is not None:
                req.path.write_bytes(data)
        except BaseException as exc:
            req.future.set_exception(exc)
            return
        req.future.set_result(data)

    def close(self) -> None:
        with self._lock:
            pending = list(self._pending.values())
            for req in pending:
                self._finish(req)
        for req in pending:
            req.future.cancel()


class IdleClock:
    """Runs the requests' timers only while the kernel is idle: IPython's public
    ``pre_execute`` / ``post_execute`` events (every execution, silent ones too) stop them and
    start them again in full. Outside IPython the kernel is taken as idle (timers start at
    once)."""

    def __init__(self, shell: Any = None) -> None:
        self._timers: dict[str, tuple[Callable[[], None], Callable[[], None]]] = {}
        self._lock = threading.Lock()
        # snapshot() is almost always called from a cell (or a comm callback): busy until the
        # next post_execute. Without IPython there is no cell to wait for.
        self.busy = shell is not None
        if shell is not None:
            shell.events.register("pre_execute", self._pre)
            shell.events.register("post_execute", self._post)

    def add(self, rid: str, start: Callable[[], None], stop: Callable[[], None]) -> None:
        with self._lock:
            self._timers[rid] = (start, stop)
            busy = self.busy
        if not busy:
            start()

    def discard(self, rid: str) -> None:
        with self._lock:
            self._timers.pop(rid, None)

    def _pre(self) -> None:
        self.busy = True
        for _start, stop in self._all():
            stop()

    def _post(self) -> None:
        self.busy = False
        for start, _stop in self._all():
            start()

    def _all(self) -> list[tuple[Callable[[], None], Callable[[], None]]]:
        with self._lock:
            return list(self._timers.values())


_CLOCK: IdleClock | None = None


def idle_clock() -> IdleClock:
    """The kernel's one IdleClock (registered on IPython's events once)."""
    global _CLOCK
    if _CLOCK is None:
        shell = None
        try:
            from IPython.core.getipython import get_ipython

            shell = get_ipython()
        except ImportError:
            pass
        _CLOCK = IdleClock(shell if shell is not None and hasattr(shell, "events") else None)
    return _CLOCK

"""Waiting, inside a running cell, for a view's answer (what lets ``to_png()`` return the
picture a displayed map shows).

While a cell runs, the kernel's main thread is busy, and ipykernel reads a front end's
messages on that same thread, after the cell: a cell that waits for a view's answer would wait
for ever. Kernel subshells (JEP 91, ipykernel >= 7) give another way in. JupyterLab >= 4.4 and
Notebook >= 7.4 send widget messages on a subshell of their own ("Kernel comms over subshells",
on by default), and ipykernel handles each subshell on its own thread, so the answer can be
read there while the main thread waits.

One twist: since ipykernel 7.4 a comm's incoming messages go back to the shell that last sent
on the comm (so an ``await``-ing cell gets its reply), and a request sent from a cell sends the
answer to the main shell, the one that waits. ipykernel asks the comm where each message goes
(``comm._reply_subshell_for(data, subshell_id)``, on its shell-channel thread); for the answers
someone waits for, ``ReplyRoute`` picks a shell that is free: the front end's own subshell, or,
where the front end uses none (Voila 0.5, comm subshells turned off) or the waiting code runs on
it, a helper subshell of ours, made once per kernel. Every other message goes where ipykernel
sends it. Both the hook and ``SubshellManager._create_subshell`` are private to ipykernel (7.4):
if either is missing, the answer goes where ipykernel says.

The hook also sees every message as it arrives, before it waits for its shell: so a cell can
see a view appear ("Run all": the map's cell, then one asking for its picture) while it runs.

Without the hook (ipykernel 7.0 - 7.3) messages stay on the front end's subshell, if it uses one.
Where no thread other than the waiting one would read the answer (ipykernel 6, a front end
without comm subshells on ipykernel < 7.4), ``ReplyRoute.cannot_wait()`` says why, and the caller
falls back instead of hanging.

ipykernel 6 has no subshells, but a cell can read the messages waiting for the kernel itself:
jupyter-ui-poll (an optional dependency, ``heatwidget[poll]``) runs ipykernel 6's
``do_one_iteration`` from the waiting code and holds back the next cells' execute requests
until this one ends. ``ReplyRoute.reading()`` gives the wait that ``pump``, where it applies
(ipykernel 6, in a cell, on the main thread).

What the last message said can be out of date: JupyterLab asks for its comm subshell when the
comm opens but does not wait for it, so a new view's first messages (its hello) may still come
on the main shell. So where the kernel has subshells and the last message came on the main
shell, ``cannot_wait()`` first pings the views and listens briefly: an answer read on another
thread settles it. A ping that went unanswered is not repeated until a message comes another way.
"""

from __future__ import annotations

import contextlib
import importlib.util
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

#: The front end's subshell has not been seen yet (no message from a view so far).
_UNSEEN = object()

Route = Callable[[Any, Any], Any]

#: How long ``cannot_wait()`` listens for the views' answer to a ping.
PING_SECONDS = 1.0

#: Reads the messages that have come for the kernel (jupyter-ui-poll), on the waiting thread.
Pump = Callable[[], None]

#: How long a pumping wait waits between two reads; how many messages one read handles at most.
PUMP_SECONDS = 0.01
PUMP_MESSAGES = 64


def until(done: Callable[[float], bool], seconds: float, pump: Pump | None) -> bool:
    """Waits up to ``seconds`` for ``done(wait)`` (which itself blocks up to ``wait`` s);
    with ``pump``, reads the kernel's messages in between. Whether it came true."""
    if pump is None:
        return done(seconds)
    deadline = time.monotonic() + seconds
    while True:
        pump()
        left = deadline - time.monotonic()
        if done(max(0.0, min(PUMP_SECONDS, left))):
            return True
        if left <= 0:
            return False


def _kernel() -> Any:
    try:
        from ipykernel.kernelbase import Kernel
    except ImportError:
        return None
    return Kernel.instance() if Kernel.initialized() else None


def can_pump() -> bool:
    """Whether the running code may read the kernel's messages itself while it waits:
    ipykernel < 7 (``do_one_iteration``, no subshells), code run by a cell on the main thread
    (jupyter-ui-poll replays held-back cells when a cell ends), jupyter-ui-poll installed."""
    if threading.current_thread() is not threading.main_thread():
        return False
    kernel = _kernel()
    if kernel is None or getattr(kernel, "shell_channel_thread", None) is not None:
        return False
    if not callable(getattr(kernel, "do_one_iteration", None)):
        return False
    try:
        header = kernel.get_parent().get("header", {})
    except Exception:
        return False
    if header.get("msg_type") != "execute_request":
        return False
    try:
        return importlib.util.find_spec("jupyter_ui_poll") is not None
    except (ImportError, ValueError):  # ValueError: blocked (sys.modules entry set to None)
        return False


def _request_id(data: Any) -> str | None:
    """The id of a view's answer: ``{"method": "custom", "content": {"type", "id", ...}}``."""
    if isinstance(data, dict):
        content = data.get("content")
        if isinstance(content, dict) and isinstance(content.get("id"), str):
            return str(content["id"])
    return None


class KernelSubshells:
    """The running ipykernel's subshells, for a helper subshell that reads awaited answers."""

    def __init__(self) -> None:
        self._helper: str | None = None

    def _manager(self) -> Any:
        thread = getattr(_kernel(), "shell_channel_thread", None)
        manager = getattr(thread, "manager", None)
        return manager if callable(getattr(manager, "_create_subshell", None)) else None

    def possible(self) -> bool:
        """Whether a helper subshell can be made (ipykernel 7.4's private manager API)."""
        return self._manager() is not None

    def exist(self) -> bool:
        """Whether the running kernel has subshells at all (ipykernel >= 7): then a front end
        may send on one, and a message that came on the main shell may be out of date."""
        return getattr(_kernel(), "shell_channel_thread", None) is not None

    def absent(self) -> bool:
        """Whether the running kernel is an ipykernel without subshells (< 7)."""
        return _kernel() is not None and not self.exist()

    def helper(self) -> str | None:
        """The helper subshell's id, made on first use. Call on the shell-channel thread only
        (where ipykernel's routing hook runs, and where subshells must be made)."""
        manager = self._manager()
        if manager is None:
            return None
        if self._helper is None or self._helper not in manager.list_subshell():
            self._helper = str(manager._create_subshell())  # noqa: SLF001 (ipykernel 7.4, here only)
        return self._helper


#: One helper subshell per kernel process, shared by every widget.
KERNEL_SUBSHELLS = KernelSubshells()


class KernelPumps:
    """jupyter-ui-poll's reading of the kernel's messages from the waiting code (ipykernel 6)."""

    def possible(self) -> bool:
        return can_pump()

    @contextlib.contextmanager
    def open(self) -> Iterator[Pump]:
        from jupyter_ui_poll import ui_events

        with ui_events() as poll:
            yield lambda: poll(PUMP_MESSAGES)


KERNEL_PUMPS = KernelPumps()


def run_from_a_browser() -> bool:
    """Whether the running code was sent by JupyterLab or Notebook 7 (which put their
    ``recordTiming`` setting in every execute request's metadata): a browser that renders the
    widgets this code displays. Executors without one (nbconvert, papermill, Voila's) do not."""
    kernel = _kernel()
    parent = None if kernel is None else kernel.get_parent()
    metadata = parent.get("metadata") if isinstance(parent, dict) else None
    return isinstance(metadata, dict) and "recordTiming" in metadata


class ReplyRoute:
    """Routes the answers a cell waits for to a thread that is free to read them, and says
    beforehand whether there is one.

    ``install(comm)`` wraps ipykernel's per-comm routing hook where it exists; the widget
    calls ``handled(content)`` from its message handler so that, without the hook, the thread
    that reads the views' messages is still known. ``ping(id)`` sends ``{"type": "ping", "id"}``
    to the views, which answer ``{"type": "view", "event": "pong", "id"}``.
    """

    def __init__(
        self,
        subshells: Any = None,
        on_view: Callable[[dict[str, Any]], None] | None = None,
        ping: Callable[[str], None] | None = None,
        pumps: Any = None,
    ) -> None:
        self._subshells = KERNEL_SUBSHELLS if subshells is None else subshells
        self._pumps = KERNEL_PUMPS if pumps is None else pumps
        # Views' hello/bye, told as they arrive (the message itself may wait for the cell).
        self._on_view = on_view
        self._ping = ping
        # ping id -> set when its answer is seen (on arrival with the hook, else when handled)
        self._pongs: dict[str, threading.Event] = {}
        # A ping went unanswered: no new one until a message comes other than on the main shell.
        self._unanswered = False
        self._lock = threading.Lock()
        # request id -> name of the thread that waits for its answer
        self._awaited: dict[str, str] = {}
        self._hooked = False
        # What the last message from a view said about where it was sent (hook only).
        self._front_subshell: Any = _UNSEEN
        # The thread that handled the last message from a view.
        self._reader: int | None = None
        # Set by the first message from a front end (as it arrives).
        self._heard = threading.Event()
        # Open reading() blocks: messages are being read by the code that waits.
        self._pumping = 0
        # Why the open reading() block has no pump, when jupyter-ui-poll refused to read.
        self._pump_error: str | None = None

    # ---- wiring -------------------------------------------------------------------------------

    def install(self, comm: Any) -> None:
        """Takes over ``comm``'s routing hook (ipykernel >= 7.4), chaining to ipykernel's."""
        original: Route | None = getattr(comm, "_reply_subshell_for", None)
        if original is None or not callable(original):
            return

        def route(data: Any, subshell_id: Any) -> Any:
            return self.route(data, subshell_id, original)

        comm._reply_subshell_for = route  # noqa: SLF001 (ipykernel 7.4's hook, here only)
        self._hooked = True

    def handled(self, content: Any = None) -> None:
        """Notes that a view's message is being handled on the current thread."""
        if not self._pumping:  # read by waiting code (on a thread of the pump's): not the rule
            self._reader = threading.get_ident()
        self._heard.set()
        if not self._hooked:
            self._unanswered &= self._last_on_main_shell()
            self._pong(content)

    def _pong(self, content: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "pong":
            with self._lock:
                seen = self._pongs.get(str(content.get("id")))
            if seen is not None:
                seen.set()

    # ---- the hook (shell-channel thread) --------------------------------------------------------

    def route(self, data: Any, subshell_id: Any, original: Route) -> Any:
        """Where ipykernel should handle one incoming message of the comm. Never raises: a
        failure here would lose the message, so ipykernel's own choice stands in."""
        chosen = original(data, subshell_id)  # always asked: ipykernel keeps notes per request
        try:
            return self._choose(data, subshell_id, chosen)
        except Exception:
            return chosen

    def _choose(self, data: Any, subshell_id: Any, chosen: Any) -> Any:
        self._front_subshell = subshell_id
        self._heard.set()
        self._unanswered &= subshell_id is None
        content = data.get("content") if isinstance(data, dict) else None
        if isinstance(content, dict) and content.get("type") == "view":
            self._pong(content)
            if self._on_view:
                self._on_view(content)
        rid = _request_id(data)
        with self._lock:
            waiter = None if rid is None else self._awaited.get(rid)
        if waiter is None:
            return chosen
        if subshell_id is not None and waiter != f"subshell-{subshell_id}":
            return subshell_id
        helper = self._subshells.helper()
        return chosen if helper is None else helper

    # ---- the waiting side ---------------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[Pump | None]:
        """While open: a ``pump()`` to pass to the waits where this code must read the views'
        messages itself (ipykernel 6 with jupyter-ui-poll, see ``can_pump``), else None."""
        if self._hooked or not self._pumps.possible():
            yield None
            return
        with contextlib.ExitStack() as stack:
            try:
                pump: Pump | None = stack.enter_context(self._pumps.open())
            except Exception as exc:  # jupyter-ui-poll refuses (nested in its own reading)
                pump = None
                self._pump_error = f"this code cannot read the views' messages itself ({exc})"
            reads = 1 if pump is not None else 0
            self._pumping += reads
            try:
                yield pump
            finally:
                self._pumping -= reads
                self._pump_error = None

    def hears_while_waiting(self) -> bool:
        """Whether a front end's messages can be noticed while the running code waits: in
        ipykernel's routing hook, on another thread (a subshell), or read by this code."""
        return self._hooked or self._subshells.exist() or self._pumps.possible()

    def await_front_end(self, seconds: float, pump: Pump | None = None) -> bool:
        """Waits up to ``seconds`` for a front end to send anything on this comm (seen as it
        arrives, even while the message itself waits for the running cell); whether one has:
        then a browser has this widget's model."""
        return until(self._heard.wait, seconds, pump)

    def cannot_wait(self, ping: bool = True) -> str | None:
        """Why a wait on the current thread could not be answered, or None if it can. Where
        the answer may be out of date (see the module's doc) and ``ping``, asks the views."""
        why = self._why_not()
        if why is None or not ping or self._ping is None or not self._subshells.exist():
            return why
        if not self._last_on_main_shell() or self._unanswered:
            return why
        self._unanswered = not self._pinged()
        return self._why_not()

    def _last_on_main_shell(self) -> bool:
        if self._hooked:
            return self._front_subshell is None
        return self._reader is not None and self._reader == threading.main_thread().ident

    def _pinged(self) -> bool:
        """Pings the views; whether an answer was seen within ``PING_SECONDS`` (routed, with
        the hook, like an awaited answer, so it is not kept for the running cell)."""
        assert self._ping is not None
        rid = uuid.uuid4().hex
        seen = threading.Event()
        with self._lock:
            self._pongs[rid] = seen
        try:
            with self.awaiting(rid):
                self._ping(rid)
                return seen.wait(PING_SECONDS)
        finally:
            with self._lock:
                self._pongs.pop(rid, None)

    def _why_not(self) -> str | None:
        here = threading.current_thread()
        if self._hooked and self._subshells.possible():
            return None  # route() finds a free subshell whatever the front end does
        if self._hooked:
            sub = self._front_subshell
            if sub is _UNSEEN:
                return "no view has sent a message yet, so where its answer would go is unknown"
            if sub is None:
                return (
                    "the front end sends widget messages on the main shell, which this code "
                    "occupies (JupyterLab >= 4.4 and Notebook >= 7.4 send them on a subshell "
                    "unless Settings > Kernel > 'Kernel comms over subshells' is disabled)"
                )
            if here.name == f"subshell-{sub}":
                return "this code runs on the subshell that reads the views' answers"
            return None
        if self._pumps.possible():
            return self._pump_error  # None: this code reads them itself while it waits
        if self._subshells.absent():
            return (
                "the views' messages are read on this very thread, after the running code "
                "ends (ipykernel < 7 has no kernel subshells: `pip install jupyter-ui-poll` "
                "lets a cell read them while it waits, or upgrade to ipykernel >= 7.4)"
            )
        if self._reader is None:
            return "no view has sent a message yet, so which thread reads them is unknown"
        if self._reader == here.ident:
            return (
                "the views' messages are read on this very thread, after the running code "
                "ends (the front end does not use kernel subshells for widgets: "
                "JupyterLab >= 4.4 and Notebook >= 7.4 do)"
            )
        return None

    @contextlib.contextmanager
    def awaiting(self, request_id: str) -> Iterator[None]:
        """While open, the views' answers to ``request_id`` go to a subshell other than the
        current thread's."""
        with self._lock:
            self._awaited[request_id] = threading.current_thread().name
        try:
            yield
        finally:
            with self._lock:
                self._awaited.pop(request_id, None)

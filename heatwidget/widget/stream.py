"""``PointStream``: the rows a widget holds and how they reach its views.

How points reach the views (docs/architecture.md, "Streaming"): the ``_points`` and ``_seq``
traits are the full state a NEW front-end model gets (get_state: first display, page reload);
both read the store when read, so they never notify and ipywidgets never re-sends all rows.
Views that exist get numbered custom messages instead: ``delta`` with the new rows as one
binary buffer, or ``reset`` with all rows (big ones in parts: ``reset`` then ``part``
messages). A model that started at another seq (``hello``) or saw a gap in the deltas
(``resync``) is sent one reset per state, whatever the number of views.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..points import Change, Projector, empty_table, new_store, to_table
from ..views import protocol

#: Seconds during which one reset answers every request for the same state.
RESYNC_SECONDS = 1.0
#: Rows per part of a reset sent in parts (about 12 MB of weighted rows, a multiple of the
#: store's chunks): 1M rows still go in one message (parts measured no faster there), 10M in
#: ten, which the server relays and the page takes while the next is encoded
#: (``bench/lab_latency.py --part-rows`` measures other sizes).
PART_ROWS = 1 << 20

#: ``send(content, buffers)``: one custom message to every view of the widget.
Send = Callable[[dict[str, Any], "list[Any] | None"], None]


def kernel_projection() -> Projector | None:
    """The kernel's own projection of the rows to the wire's x, y, where it can run (numpy,
    wasmtime and heat.wasm): faster than numpy's twin, the same bits (host/projection.py)."""
    try:
        from ..host.projection import kernel_projection as shared
    except ImportError:  # no numpy (JupyterLite offline): the store's column backend projects
        return None
    return shared()


def table_of(
    data: Any, lat: Any, lon: Any, weight: Any, time: Any, time_unit: str, stacklevel: int
) -> Any:
    """The canonical pyarrow Table of one input (``points`` does the work)."""
    return input_table(data, lat, lon, weight, time, time_unit, stacklevel + 1)[0]


def input_table(
    data: Any, lat: Any, lon: Any, weight: Any, time: Any, time_unit: str, stacklevel: int
) -> tuple[Any, str]:
    """The canonical table of one input, and how to name its weights in messages."""
    if data is None and lat is None and lon is None and weight is None and time is None:
        return empty_table(), "weight"
    table, report = to_table(
        data,
        lat=lat,
        lon=lon,
        weight=weight,
        time=time,
        time_unit=time_unit,
        stacklevel=stacklevel + 1,
    )
    column = report.weight_column
    return table, "weight" if column is None else f"weight column {column!r}"


class PointStream:
    """One widget's store and its messages to the views. ``send`` sends to the views;
    ``changed()`` is called after every change of the rows (the widget updates its counts);
    ``check(values)`` raises when the widget's traits would refuse the values that follow the
    rows (:meth:`summary`) after a change.

    Each change is planned and checked in full (the store's plan, then ``check``) before
    anything is committed or sent: a call that raises leaves the store, the views and the
    traits as they were."""

    def __init__(
        self,
        send: Send,
        changed: Callable[[], None],
        check: Callable[[dict[str, Any]], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = new_store(kernel_projection())
        self._send = send
        self._changed = changed
        self._check = check
        self._resets_sent: dict[int, float] = {}
        #: Held while the rows change and their message is sent, and while a new view's state
        #: is read: rows appended from another thread (a live feed) never interleave a
        #: reset's number with another state's rows.
        self.lock = threading.RLock()
        self._clock = clock

    @property
    def seq(self) -> int:
        return int(self.store.seq)

    def encode(self) -> bytes:
        return bytes(self.store.encode())

    def summary(self, change: Change | None = None) -> dict[str, Any]:
        """The synced traits that follow the rows: counts, bounds, time extent (seconds; one
        instant is a zero-width extent), of the rows held or of those after ``change``."""
        state = change.state if change is not None else self.store
        extent = state.time_extent
        return {
            "point_count": state.count,
            "data_bounds": state.bounds,
            "time_extent": None if extent is None else (extent[0] / 1e3, extent[1] / 1e3),
        }

    def _commit(self, change: Change) -> Any:
        """Check what the traits would become, then make the change (nothing sent yet)."""
        if self._check is not None:
            self._check(self.summary(change))
        return self.store.commit(change)

    def start(self, table: Any, max_points: int | None, label: str = "weight") -> None:
        """The first rows, before any view exists: nothing is sent."""
        with self.lock:
            self._commit(self.store.plan_replace(table, max_points, label))

    def replace(self, table: Any, max_points: int | None, label: str = "weight") -> None:
        with self.lock:
            self._commit(self.store.plan_replace(table, max_points, label))
            self.send_reset()
            self._changed()

    def append(self, table: Any, max_points: int | None, label: str = "weight") -> None:
        if table.num_rows == 0:
            return
        with self.lock:
            self._send_delta(self._commit(self.store.plan_append(table, max_points, label)))
            self._changed()

    def trim(self, max_points: int | None) -> None:
        with self.lock:
            change = self.store.plan_trim(max_points)
            if change is not None:
                self._send_delta(self._commit(change))
                self._changed()

    def _send_delta(self, delta: Any) -> None:
        msg = protocol.delta(delta.seq, delta.rows, delta.drop)
        self._send(msg, [delta.payload] if delta.rows else None)

    def send_reset(self) -> None:
        """All rows to every existing view (set_data, clear, or a view that missed a delta).
        Past ``PART_ROWS`` rows they go in parts, each sent as soon as it is encoded: the
        server relays and the page takes one part while Python encodes the next."""
        with self.lock:
            seq, rows = self.seq, self.store.count
            count, parts = self.store.encode_parts(PART_ROWS)
            for i, payload in enumerate(parts):
                msg = protocol.reset(seq, rows, count) if i == 0 else protocol.part(seq, i)
                self._send(msg, [payload])

    def on_sync_request(self, content: dict[str, Any], _buffers: list[Any]) -> None:
        """``hello``: a model that started at another seq; ``resync``: a view that saw a gap or
        refused a message, whatever its seq (a refused message at Python's own seq too).
        Requests for one state within ``RESYNC_SECONDS`` get one reset: it serves every view,
        and one lost (the IOPub rate limit) is sent again when a view asks again later."""
        with self.lock:
            seq = self.seq
            if content.get("type") != protocol.RESYNC and content.get("seq") == seq:
                return  # a view that starts up to date
            now = self._clock()
            last = self._resets_sent.get(seq)
            if last is not None and now - last < RESYNC_SECONDS:
                return
            self._resets_sent = {seq: now}  # older states are never asked for again
            self.send_reset()

"""``PointStream``: the rows a widget holds and how they reach its views.

How points reach the views (docs/architecture.md, "Streaming"): the ``_points`` and ``_seq``
traits are the full state a NEW front-end model gets (get_state: first display, page reload);
both read the store when read, so they never notify and ipywidgets never re-sends all rows.
Views that exist get numbered custom messages instead: ``delta`` with the new rows as one
binary buffer, or ``reset`` with all rows. A model that started at another seq (``hello``) or
saw a gap in the deltas (``resync``) is sent one reset per state, whatever the number of views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..points import empty_table, new_store, to_table
from ..views import protocol

#: ``send(content, buffers)``: one custom message to every view of the widget.
Send = Callable[[dict[str, Any], "list[Any] | None"], None]


def table_of(
    data: Any, lat: Any, lon: Any, weight: Any, time: Any, time_unit: str, stacklevel: int
) -> Any:
    """The canonical pyarrow Table of one input (``points`` does the work)."""
    if data is None and lat is None and lon is None and weight is None and time is None:
        return empty_table()
    table, _report = to_table(
        data,
        lat=lat,
        lon=lon,
        weight=weight,
        time=time,
        time_unit=time_unit,
        stacklevel=stacklevel + 1,
    )
    return table


class PointStream:
    """One widget's store and its messages to the views. ``send`` sends to the views;
    ``changed()`` is called after every change of the rows (the widget updates its counts)."""

    def __init__(self, send: Send, changed: Callable[[], None]) -> None:
        self.store = new_store()
        self._send = send
        self._changed = changed
        self._resets_sent: set[int] = set()

    @property
    def seq(self) -> int:
        return int(self.store.seq)

    def encode(self) -> bytes:
        return bytes(self.store.encode())

    def summary(self) -> dict[str, Any]:
        """The synced traits that follow the rows: counts, bounds, time extent (seconds)."""
        store = self.store
        extent = store.time_extent
        return {
            "point_count": store.count,
            "data_bounds": store.bounds,
            "time_extent": None if extent is None else (extent[0] / 1e3, extent[1] / 1e3),
        }

    def start(self, table: Any, max_points: int | None) -> None:
        """The first rows, before any view exists: nothing is sent."""
        self.store.replace(table, max_points)

    def replace(self, table: Any, max_points: int | None) -> None:
        self.store.replace(table, max_points)
        self.send_reset()
        self._changed()

    def append(self, table: Any, max_points: int | None) -> None:
        if table.num_rows == 0:
            return
        self._send_delta(self.store.append(table, max_points))
        self._changed()

    def trim(self, max_points: int | None) -> None:
        delta = self.store.trim(max_points)
        if delta is not None:
            self._send_delta(delta)
            self._changed()

    def _send_delta(self, delta: Any) -> None:
        msg = protocol.delta(delta.seq, delta.rows, delta.drop)
        self._send(msg, [delta.payload] if delta.rows else None)

    def send_reset(self) -> None:
        """All rows to every existing view (set_data, clear, or a view that missed a delta)."""
        self._send(protocol.reset(self.seq), [self.encode()])

    def on_sync_request(self, content: dict[str, Any], _buffers: list[Any]) -> None:
        """``hello``/``resync``: a model that started at another seq, or saw a gap."""
        seq = self.seq
        if content.get("seq") != seq and seq not in self._resets_sent:
            self._resets_sent.add(seq)  # one reset per state serves all views
            self.send_reset()

"""Synced traits whose value is read from a widget's point stream, never stored.

``_points`` (all rows, wire-format Arrow IPC bytes) and ``_seq`` (the number of the last
change) are the full state a NEW front-end model gets: ipywidgets' ``get_state`` reads them
(``getattr``) on first display or page reload. They are computed from the stream each time
they are read, so the rows are held once, and a change of the rows notifies nothing: views
that exist get the stream's own delta/reset messages instead of a state message with every
row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import traitlets

#: The attribute of the widget that holds its ``PointStream``.
STREAM = "_stream"


class FromStream(traitlets.TraitType[Any, Any]):
    """A read-only synced value computed by ``read(stream)`` on every read; the default until
    the owner has a stream. Setting it is refused: it follows the stream."""

    def __init__(self, default: Any, read: Callable[[Any], Any], **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self._read = read

    def get(self, obj: Any, _cls: Any = None) -> Any:
        stream = obj.__dict__.get(STREAM)
        if stream is None:
            return self.default_value
        return self._read(stream)

    def set(self, _obj: Any, _value: Any) -> None:
        raise traitlets.TraitError(f"{self.name} follows the widget's points; it cannot be set")


def points_bytes(stream: Any) -> bytes:
    """All rows as wire bytes (Arrow IPC stream: x, y[, weight][, time]; points/wire.py)."""
    return bytes(stream.encode())


def points_seq(stream: Any) -> int:
    return int(stream.seq)

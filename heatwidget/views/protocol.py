"""Every custom message between the widget and its views, both directions, in one place.

Python → views: ``delta``, ``reset`` (the rows), ``snapshot`` (a picture request), ``ping``,
``fit_bounds``, ``fly_to``. Views → Python: ``hello``, ``resync`` (a model that needs the
rows), ``view`` (a view's hello/pong/bye), ``snapshot`` (a picture's chunks), ``click``,
``hover``. The views answer a ``ping`` with a ``view`` message whose ``event`` is ``pong``.

``Dispatcher`` is the one table from an incoming type to its handler. A message from the page
never raises into the user's cell: unknown or malformed ones are logged and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

# ---- Python → views ------------------------------------------------------------------------
DELTA = "delta"
RESET = "reset"
SNAPSHOT = "snapshot"
PING = "ping"
FIT_BOUNDS = "fit_bounds"
FLY_TO = "fly_to"
# ---- views → Python (SNAPSHOT too: the chunks of the answer) -------------------------------
HELLO = "hello"
RESYNC = "resync"
VIEW = "view"
CLICK = "click"
HOVER = "hover"
#: The ``event`` of a ``view`` message.
VIEW_HELLO, VIEW_PONG, VIEW_BYE = "hello", "pong", "bye"

TO_VIEWS = (DELTA, RESET, SNAPSHOT, PING, FIT_BOUNDS, FLY_TO)
FROM_VIEWS = (HELLO, RESYNC, VIEW, SNAPSHOT, CLICK, HOVER)

#: The keys of a click/hover event that callbacks get.
EVENT_KEYS = ("lat", "lon", "value", "count", "x", "y")

LOG = logging.getLogger("heatwidget")

Handler = Callable[[dict[str, Any], list[Any]], None]


def delta(seq: int, rows: int, drop: int) -> dict[str, Any]:
    return {"type": DELTA, "seq": seq, "rows": rows, "drop": drop}


def reset(seq: int) -> dict[str, Any]:
    return {"type": RESET, "seq": seq}


def snapshot_request(rid: str) -> dict[str, Any]:
    return {"type": SNAPSHOT, "id": rid}


def ping(rid: str) -> dict[str, Any]:
    return {"type": PING, "id": rid}


def fit_bounds(bounds: list[float], animate: bool) -> dict[str, Any]:
    return {"type": FIT_BOUNDS, "bounds": bounds, "animate": animate}


def fly_to(center: list[float], zoom: float | None) -> dict[str, Any]:
    return {"type": FLY_TO, "center": center, "zoom": zoom}


def is_pong(content: Any) -> bool:
    return isinstance(content, dict) and content.get("event") == VIEW_PONG


def request_id(data: Any) -> str | None:
    """The id of a view's answer in a comm message: ``{"content": {"type", "id", ...}}``."""
    if isinstance(data, dict):
        content = data.get("content")
        if isinstance(content, dict) and isinstance(content.get("id"), str):
            return str(content["id"])
    return None


def event(content: Mapping[str, Any]) -> dict[str, Any]:
    """A click/hover message → the event dict callbacks get. ValueError if malformed."""
    out: dict[str, Any] = {"type": content.get("type")}
    for key in EVENT_KEYS:
        value = content.get(key)
        out[key] = int(value) if key == "count" and value is not None else value
    return out


class Dispatcher:
    """Incoming message type → handler. ``dispatch`` never raises: what the page sends is
    not the user's error, so a bad message is logged (``heatwidget`` logger) and dropped."""

    def __init__(self, table: Mapping[str, Handler], before: Handler | None = None) -> None:
        unknown = set(table) - set(FROM_VIEWS)
        if unknown:
            raise ValueError(f"not a message the views send: {sorted(unknown)}")
        self.table = dict(table)
        self._before = before

    def dispatch(self, content: Any, buffers: list[Any] | None = None) -> bool:
        """Handles one message; whether a handler took it without error."""
        if not isinstance(content, dict):
            LOG.warning("heatwidget: ignored a message from the page that is not a dict")
            return False
        # Jupyter gives a list of buffers; anything else is treated as none.
        bufs = list(buffers) if isinstance(buffers, (list, tuple)) else []
        try:
            if self._before is not None:
                self._before(content, bufs)
            handler = self.table.get(str(content.get("type")))
            if handler is None:
                LOG.debug("heatwidget: ignored a message of type %r", content.get("type"))
                return False
            handler(content, bufs)
        except Exception:
            LOG.warning(
                "heatwidget: ignored a malformed %r message", content.get("type"), exc_info=True
            )
            return False
        return True

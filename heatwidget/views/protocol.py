"""Every custom message between the widget and its views, both directions, in one place.

Python → views: ``delta``, ``reset`` and ``part`` (the rows), ``snapshot`` (a picture request),
``ping``, ``fit_bounds``, ``fly_to``. Views → Python: ``hello``, ``resync`` (a model that needs
the rows), ``view`` (a view's hello/pong/bye), ``snapshot`` (a picture's chunks), ``click``,
``hover``. Server mode (widget/serving.py): a view sends ``grid`` with its frame, Python
answers ``grid`` with the same id and the frame's binned grid as float32 planes. The views
answer a ``ping`` with a ``view`` message whose ``event`` is ``pong``.

``Dispatcher`` is the one table from an incoming type to its handler. A message from the page
never raises into the user's cell: unknown or malformed ones are logged and dropped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# ---- Python → views ------------------------------------------------------------------------
DELTA = "delta"
RESET = "reset"
#: The rest of a reset sent in parts (``reset`` carries the first part, the total and the count).
PART = "part"
SNAPSHOT = "snapshot"
PING = "ping"
FIT_BOUNDS = "fit_bounds"
FLY_TO = "fly_to"
#: Server mode, both ways: a view's frame, then its binned grid (see ``grid_request``).
GRID = "grid"
# ---- views → Python (SNAPSHOT too: the chunks of the answer) -------------------------------
HELLO = "hello"
RESYNC = "resync"
VIEW = "view"
CLICK = "click"
HOVER = "hover"
#: The ``event`` of a ``view`` message.
VIEW_HELLO, VIEW_PONG, VIEW_BYE = "hello", "pong", "bye"

TO_VIEWS = (DELTA, RESET, PART, SNAPSHOT, PING, FIT_BOUNDS, FLY_TO, GRID)
FROM_VIEWS = (HELLO, RESYNC, VIEW, SNAPSHOT, CLICK, HOVER, GRID)

#: The keys of a click/hover event that callbacks get.
EVENT_KEYS = ("lat", "lon", "value", "count", "x", "y")

LOG = logging.getLogger("heatwidget")

Handler = Callable[[dict[str, Any], list[Any]], None]


def delta(seq: int, rows: int, drop: int) -> dict[str, Any]:
    return {"type": DELTA, "seq": seq, "rows": rows, "drop": drop}


def reset(seq: int, rows: int | None = None, parts: int = 1) -> dict[str, Any]:
    """All rows at ``seq``; sent in ``parts`` messages (this one, then ``part`` 1 … parts − 1)
    when it is big, with ``rows`` the total, so the page reserves its memory once."""
    if parts == 1:
        return {"type": RESET, "seq": seq}
    return {"type": RESET, "seq": seq, "rows": rows, "parts": parts}


def part(seq: int, index: int) -> dict[str, Any]:
    return {"type": PART, "seq": seq, "part": index}


def snapshot_request(rid: str) -> dict[str, Any]:
    return {"type": SNAPSHOT, "id": rid}


def ping(rid: str) -> dict[str, Any]:
    return {"type": PING, "id": rid}


def fit_bounds(bounds: list[float], animate: bool) -> dict[str, Any]:
    return {"type": FIT_BOUNDS, "bounds": bounds, "animate": animate}


def fly_to(center: list[float], zoom: float | None) -> dict[str, Any]:
    return {"type": FLY_TO, "center": center, "zoom": zoom}


#: The planes a ``grid`` answer carries per aggregation, one float32 buffer each in this
#: order: what the kernel's frame reads, and counts for hit-testing (heat.h).
GRID_PLANES: dict[str, tuple[str, ...]] = {
    "sum": ("sum", "count"),
    "count": ("count",),
    "mean": ("sum", "count"),
    "max": ("max", "count"),
}
#: The largest frame side a ``grid`` request may name, and its largest radius (px).
GRID_MAX_SIDE = 8192
GRID_MAX_RADIUS = 4096.0


@dataclass(frozen=True)
class GridRequest:
    """A view's frame (``grid``, view → Python): id, top-left world pixel, zoom, size, radius
    (px), aggregation and time window (ms, None: unbounded)."""

    id: int
    x0: float
    y0: float
    zoom: float
    width: int
    height: int
    radius: float
    aggregation: str
    t0: float | None
    t1: float | None


def _number(content: Mapping[str, Any], key: str, lo: float, hi: float) -> float:
    v = content.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"grid request: {key} must be a finite number, got {v!r}")
    if not lo <= v <= hi:
        raise ValueError(f"grid request: {key}={v!r} is outside [{lo}, {hi}]")
    return float(v)


def grid_request(content: Mapping[str, Any]) -> GridRequest:
    """A ``grid`` request checked whole; ValueError naming the field when it is malformed."""
    rid = content.get("id")
    if isinstance(rid, bool) or not isinstance(rid, int) or not 0 <= rid < 2**53:
        raise ValueError(f"grid request: id must be an integer >= 0, got {rid!r}")
    agg = content.get("aggregation")
    if agg not in GRID_PLANES:
        raise ValueError(f"grid request: aggregation must be one of {list(GRID_PLANES)}")
    window = []
    for key in ("t0", "t1"):
        v = content.get(key)
        window.append(None if v is None else _number(content, key, -1e300, 1e300))
    zoom = _number(content, "zoom", 0.0, 30.0)
    world = 256.0 * 2.0**zoom
    size = [_number(content, k, 1, GRID_MAX_SIDE) for k in ("width", "height")]
    if not all(v.is_integer() for v in size):
        raise ValueError("grid request: width and height must be whole pixels")
    return GridRequest(
        id=rid,
        x0=_number(content, "x0", -4 * world, 4 * world),
        y0=_number(content, "y0", -4 * world, 4 * world),
        zoom=zoom,
        width=int(size[0]),
        height=int(size[1]),
        radius=_number(content, "radius", 0.0, GRID_MAX_RADIUS),
        aggregation=str(agg),
        t0=window[0],
        t1=window[1],
    )


def grid_answer(
    rid: int, geometry: tuple[int, int, int, int], planes: tuple[str, ...], stats: dict[str, Any]
) -> dict[str, Any]:
    """The answer to request ``rid``: the grid's geometry ``(f, margin, gw, gh)``, the names of
    the float32 planes (one buffer each, gh x gw, top row first) and the domain stats."""
    f, margin, gw, gh = geometry
    return {
        "type": GRID, "id": rid, "f": f, "margin": margin, "gw": gw, "gh": gh,
        "planes": list(planes), **stats,
    }  # fmt: skip


def grid_error(rid: int, error: str) -> dict[str, Any]:
    return {"type": GRID, "id": rid, "error": error}


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

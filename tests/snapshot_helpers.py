"""What the snapshot tests share: the bytes and messages a view sends, and a widget whose
messages to the views are recorded instead of sent."""

from __future__ import annotations

from typing import Any

from heatwidget.views import snapshot as _snapshot
from heatwidget.views.snapshot import CHUNK_BYTES, IdleClock


def png_bytes(size: int) -> bytes:
    """`size` bytes that start like a PNG (reassembly does not decode)."""
    body = bytes((i * 7919) % 251 for i in range(size - len(_snapshot.PNG_SIGNATURE)))
    return _snapshot.PNG_SIGNATURE + body


def chunks(data: bytes, rid: str, view: str, **head: Any) -> list[tuple[dict[str, Any], list[Any]]]:
    """The messages a view sends for `data` (as js/src/snapshot.ts does)."""
    count = max(1, -(-len(data) // CHUNK_BYTES))
    out = []
    for i in range(count):
        content = {"type": "snapshot", "id": rid, "view": view, "index": i, "count": count}
        if i == 0:
            content.update(head)
        out.append((content, [memoryview(data[i * CHUNK_BYTES : (i + 1) * CHUNK_BYTES])]))
    return out


def widget() -> Any:
    import heatwidget

    m = heatwidget.Heatmap(lat=[48.85, 48.86], lon=[2.35, 2.36], basemap=None)
    m._snapshots._clock = IdleClock(None)
    sent: list[tuple[dict[str, Any], Any]] = []
    m.send = lambda content, buffers=None: sent.append((content, buffers))  # type: ignore[method-assign]
    return m, sent

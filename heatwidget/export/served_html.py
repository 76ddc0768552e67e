"""``save_html`` of a server-mode map: the page cannot ask Python for grids, so it embeds the
pyramid's levels (per-pixel sum/count/max of zooms 0..L) and answers its views' grid requests
from them (js/src/offline-grid.ts), offline.

Which levels: all of 0..L, L the deepest whose cumulative size fits ``max_bytes`` with the
page's bundle (each level is needed by the zooms above it: a frame at zoom z bins level z, or
ceil(z) + 2 when the zoom is fractional). A cell is 20 bytes (pixel x, y as uint32; sum,
count, largest weight as float32), 26.7 in base64; level sizes grow ~4x a zoom, so the
deepest level dominates. Zooms deeper than L show level L's cells (coarser than the rows) and
the page says so; a time window is not applied (the levels hold no times).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..aggregate import morton
from . import html as _html

__all__ = ["DEFAULT_MAX_BYTES", "offline_levels", "save_served_html"]

#: The file's size budget by default: 50 MB.
DEFAULT_MAX_BYTES = 50_000_000
#: Bytes of HTML a cell takes: 20 bytes of columns, base64.
BYTES_PER_CELL = 20 * 4 / 3
#: The page without levels (bundle, CSS, state): measured at ~0.6 MB, rounded up.
PAGE_BYTES = 1_000_000


def offline_levels(pyramid: Any, max_bytes: int) -> tuple[dict[str, Any], int]:
    """The page's extra state for levels 0..L of ``pyramid`` that fit ``max_bytes``, and L."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= PAGE_BYTES:
        raise ValueError(
            f"max_bytes must be a whole number of bytes above {PAGE_BYTES:_} (the page "
            f"without heat), got {max_bytes!r}; the default is {DEFAULT_MAX_BYTES:_} (50 MB)."
        )
    used = PAGE_BYTES
    parts: list[bytes] = []
    table: list[tuple[int, int]] = []
    for level, cells in enumerate(pyramid.levels):
        n = int(cells.code.size)
        if used + n * BYTES_PER_CELL > max_bytes:
            break
        used += int(n * BYTES_PER_CELL)
        px, py = morton.decode(cells.code)
        parts += [
            np.asarray(px, "<u4").tobytes(),
            np.asarray(py, "<u4").tobytes(),
            np.asarray(cells.total, "<f4").tobytes(),
            np.asarray(cells.count, "<f4").tobytes(),
            np.asarray(cells.largest, "<f4").tobytes(),
        ]
        table.append((level, n))
    if not table:
        raise ValueError(f"max_bytes={max_bytes!r} holds not even zoom 0's level: raise it.")
    deepest = table[-1][0]
    note = (
        f"Offline copy: heat binned from zooms 0–{deepest} of {int(pyramid.rows):,} rows "
        f"(max_bytes={max_bytes:_}); deeper zooms show zoom {deepest}'s pixels"
    )
    if deepest < pyramid.depth:
        note += f" (zooms to {pyramid.depth} did not fit)"
    note += "; no time window."
    extra = {"_offline_levels": table, "_offline": b"".join(parts), "_offline_note": note}
    return extra, deepest


def save_served_html(
    widget: Any, pyramid: Any, path: str | Path, *, title: str | None, max_bytes: int
) -> Path:
    """Write the served ``widget`` with ``pyramid``'s levels that fit ``max_bytes``."""
    extra, _ = offline_levels(pyramid, max_bytes)
    out = Path(path)
    out.write_text(_html.render_html(widget, title=title, extra=extra), encoding="utf-8")
    return out

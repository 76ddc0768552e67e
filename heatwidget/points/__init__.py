"""The points: every input form → one canonical table, checked; its wire bytes; the rows held.

The rest of the package takes what it needs from here, not from the modules inside.
"""

from __future__ import annotations

from typing import Any

from .inputs import (
    DroppedRowsWarning,
    InputReport,
    MercatorEdgeWarning,
    PointColumns,
    empty_table,
    to_table,
)

__all__ = [
    "DroppedRowsWarning",
    "InputReport",
    "MercatorEdgeWarning",
    "PointColumns",
    "empty_table",
    "new_store",
    "to_table",
]


def new_store() -> Any:
    """A new, empty PointStore: pyarrow's, or the pure-Python one without pyarrow or numpy
    (JupyterLite offline has neither)."""
    try:
        from .store import PointStore
    except ImportError:
        from .store_pure import PointStore  # type: ignore[assignment]
    return PointStore()

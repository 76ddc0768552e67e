"""The points: every input form → one canonical table, checked; its wire bytes; the rows held.

The rest of the package takes what it needs from here, not from the modules inside. Modules
import in one direction (each only from those before it): deps → scalars → errors → times →
columns (numpy_ops, pure_ops) → schema → wire → checks → store; readers → geoarrow (numpy only);
forms → tables.
"""

from __future__ import annotations

from .fixed import Projector
from .schema import (
    DroppedRowsWarning,
    InputReport,
    MercatorEdgeWarning,
    PointColumns,
    WeightUnderflowWarning,
)
from .store import Change, Delta, PointStore
from .tables import empty_table, to_table
from .wire import decode, encode

__all__ = [
    "Change",
    "Delta",
    "DroppedRowsWarning",
    "InputReport",
    "MercatorEdgeWarning",
    "PointColumns",
    "PointStore",
    "Projector",
    "WeightUnderflowWarning",
    "decode",
    "empty_table",
    "encode",
    "new_store",
    "to_table",
]


def new_store(project: Projector | None = None) -> PointStore:
    """A new, empty PointStore over the column backend there is (numpy's, or pure Python's
    without numpy: JupyterLite offline has neither numpy nor pyarrow); ``project``: a faster
    projection of its rows to the wire's x, y (the kernel's own: heatwidget.host.projection)."""
    return PointStore(project=project)

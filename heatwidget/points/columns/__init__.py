"""The column operations the points are written over, and their two backends.

Everything above this package (the checks, the store, the wire) is written once over
:class:`ColumnOps`; only the ops have two implementations: :mod:`.numpy_ops` (numpy arrays)
and :mod:`.pure_ops` (``array.array``, for Pyodide/JupyterLite without numpy). A column is
float64 or float32 (the canonical types, :data:`KINDS`); a mask is one bool per row; rows are
indices into a column. Columns slice with ``col[a:b]`` and have ``len``, in both backends.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from .. import deps
from ..fixed import Projector

__all__ = ["KINDS", "ColumnOps", "default_ops", "ops_of"]

#: The column kinds there are (canonical types): float64 for lon/lat/time, float32 for weight.
KINDS = ("float64", "float32")

Column = Any
Mask = Any
Rows = Any


class ColumnOps(Protocol):
    """What the checks, the store and the wire need from a column library."""

    name: str

    # ---- reading ---------------------------------------------------------------------------
    def floats(self, values: Any, label: str) -> Column:
        """Any accepted values → a float64 column (NaN for missing); errors name ``label``."""

    def weights(self, values: Any, label: str) -> Column:
        """:meth:`floats`, except that float32 values stay a float32 column (the wire's type:
        no float64 copy made only to be rounded back)."""

    def times_ms(self, values: Any, label: str, unit_ms: float) -> Column:
        """Any accepted times → float64 ms since the epoch, UTC (NaN for missing); numbers
        are multiplied by ``unit_ms``."""

    def column(self, values: Any, kind: str) -> Column:
        """A canonical table's column (Arrow, numpy or array.array) → a column of ``kind``."""

    def kind(self, col: Any) -> str | None:
        """The kind of ``col`` if it is this backend's column, else None."""

    def full(self, n: int, value: float, kind: str) -> Column:
        """``n`` rows of ``value``."""

    def concat(self, cols: Sequence[Column], kind: str) -> Column:
        """The columns one after the other (may be a view of them: never modify it)."""

    # ---- checks ----------------------------------------------------------------------------
    def all_finite(self, col: Column) -> bool:
        """True when every value is finite (a fast pass; False may be a finite overflow)."""

    def min_max_if_finite(self, col: Column) -> tuple[float, float] | None:
        """Smallest and largest value of a non-empty column when every value is finite, else
        None (None may also be a finite overflow, as for ``all_finite``)."""

    def missing(self, cols: Sequence[Column]) -> Mask:
        """True on rows where any of ``cols`` is NaN (missing; an infinity is not)."""

    def over(self, col: Column, limit: float) -> Mask:
        """True where ``|value| > limit`` (infinities too, NaN never)."""

    def outside(self, col: Column, lo: float, hi: float) -> Mask:
        """True where ``value < lo`` or ``value > hi`` (infinities too, NaN never)."""

    def vanished(self, before: Column, after: Column) -> Mask:
        """True where ``before`` is not 0 and ``after`` is (float32 underflow)."""

    def bad_weights(self, col: Column) -> Mask:
        """True where a value is not (finite and >= 0)."""

    def differs(self, a: Column, b: Column) -> Mask:
        """True where ``a`` and ``b`` differ."""

    def count(self, mask: Mask) -> int:
        """The number of True rows."""

    def first(self, mask: Mask) -> int:
        """The first True row, or -1."""

    def kept(self, mask: Mask) -> Rows:
        """The rows where ``mask`` is False, in order."""

    def take(self, col: Column, rows: Rows) -> Column:
        """``col`` at ``rows``."""

    def min_max(self, col: Column) -> tuple[float, float]:
        """Smallest and largest value of a non-empty column of finite values."""

    def finite_min_max(self, col: Column) -> tuple[float, float] | None:
        """Smallest and largest finite value, or None when there is none."""

    def abs_max(self, col: Column) -> float:
        """The largest ``|value|`` of a non-empty column."""

    def total(self, col: Column) -> float:
        """The sum of the values, added up in float64."""

    def clip(self, col: Column, limit: float) -> Column:
        """``col`` clipped into ``[-limit, limit]``."""

    def wrap(self, col: Column) -> Column:
        """Longitudes wrapped into [-180, 180) (a new column)."""

    def float32(self, col: Column) -> Column:
        """A float64 column → float32 (rounded; beyond float32's range → ±inf)."""

    def time_order(self, col: Column) -> Rows | None:
        """A stable order sorting ``col`` (NaN last), or None when it is sorted already."""

    # ---- encoding --------------------------------------------------------------------------
    def mercator_fixed(
        self, lon: Column, lat: Column, project: Projector | None = None
    ) -> tuple[Any, Any]:
        """Degrees → the kernel's fixed-point Web Mercator x, y (uint32 columns; heat.h
        "Coordinates", bit for bit: see :mod:`heatwidget.points.fixed`). ``project``, when
        given and it does not decline, does it faster (numpy columns only)."""

    def mercator_degrees(self, x: Any, y: Any) -> tuple[Column, Column]:
        """Fixed-point x, y → float64 lon, lat of each unit's centre (NaN for no position):
        for readers of the wire; encoding them again gives the same x, y."""

    def arro3_array(self, col: Column, kind: str) -> Any:
        """``col`` as an arro3 Array."""

    def pyarrow_array(self, col: Column, kind: str) -> Any:
        """``col`` as a pyarrow Array (no copy)."""


def default_ops() -> ColumnOps:
    """numpy's ops when numpy can be imported, else pure Python's (Pyodide offline)."""
    if deps.has_numpy():
        from . import numpy_ops

        return numpy_ops.OPS
    from . import pure_ops

    return pure_ops.OPS


def ops_of(col: Any) -> ColumnOps | None:
    """The backend whose column ``col`` is, or None."""
    from . import pure_ops

    if pure_ops.OPS.kind(col) is not None:
        return pure_ops.OPS
    if deps.has_numpy():
        from . import numpy_ops

        if numpy_ops.OPS.kind(col) is not None:
            return numpy_ops.OPS
    return None

"""What a Python value given as a point's coordinate, weight or time is: missing, a bool, a
real number; and how messages show it."""

from __future__ import annotations

import numbers
import sys
from typing import Any

from . import deps

__all__ = ["is_bool", "is_missing", "is_real_number", "numpy_module", "show"]


def numpy_module() -> Any:
    # Only a value made by numpy can be a numpy scalar, so numpy is never imported here.
    return sys.modules.get("numpy")


def is_missing(v: Any) -> bool:
    """None, pandas.NA, NaT or a NaT datetime64 (a NaN float is checked by the caller)."""
    if v is None:
        return True
    pd = deps.pandas()
    if pd is not None and (v is pd.NA or v is pd.NaT):
        return True
    np = numpy_module()
    return np is not None and isinstance(v, np.datetime64) and bool(np.isnat(v))


def is_bool(v: Any) -> bool:
    np = numpy_module()
    return isinstance(v, bool) or (np is not None and isinstance(v, np.bool_))


def is_real_number(v: Any) -> bool:
    """A real number, or a Decimal (a Number that is not Complex); bools are not numbers here."""
    if is_bool(v):
        return False
    return isinstance(v, numbers.Real) or (
        isinstance(v, numbers.Number) and not isinstance(v, numbers.Complex)
    )


def show(value: Any) -> str:
    """repr of a value as the user wrote it (numpy scalars as plain Python ones)."""
    np = numpy_module()
    if np is not None and isinstance(value, np.generic):
        value = value.item()
    return repr(value)

"""Error messages that several modules raise, each worded here once."""

from __future__ import annotations

from typing import Any

from .scalars import show

__all__ = ["beyond_float64", "non_numeric", "not_1d"]


def non_numeric(label: str, dtype: Any, row: int, value: Any) -> ValueError:
    where = f"; first non-number {show(value)} at row {row}" if row >= 0 else ""
    return ValueError(
        f"{label} is not numeric (dtype {dtype}){where}. Convert it to numbers first, e.g. "
        "pandas.to_numeric(df[col], errors='coerce') (unparseable values become NaN and are "
        "dropped), or pass a different column."
    )


def not_1d(label: str, shape: tuple[int, ...]) -> ValueError:
    return ValueError(f"{label} must be one-dimensional, got shape {shape}")


def beyond_float64(label: str, value: Any, row: int) -> ValueError:
    return ValueError(f"{label} has {show(value)} at row {row}, beyond float64's range.")

"""The optional libraries the points use, found in one place (none of them is required)."""

from __future__ import annotations

import importlib
import sys
from typing import Any

__all__ = ["has_numpy", "pandas", "pyarrow", "require"]

_EXTRAS = {
    "pyarrow": "parquet",
    "pandas": "pandas",
    "polars": "polars",
    "geopandas": "geo",
    "shapely": "geo",
    "pyproj": "geo",
    "arro3.core": "arro3",
    "arro3.io": "arro3",
}


def require(module: str, why: str) -> Any:
    """Import ``module`` or raise an ImportError that names the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        extra = _EXTRAS.get(module, module)
        raise ImportError(
            f"{why} needs {module.split('.')[0]}, which is not installed: "
            f'pip install "heatwidget[{extra}]"'
        ) from e


def _optional(module: str) -> Any:
    if module in sys.modules:
        return sys.modules[module]  # None when blocked on purpose
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def pyarrow() -> Any:
    """pyarrow, or None when it is not installed (JupyterLite without it, say)."""
    return _optional("pyarrow")


def has_numpy() -> bool:
    """Whether numpy can be imported (Pyodide offline has none)."""
    return _optional("numpy") is not None


def pandas() -> Any:
    """pandas if the user has imported it (a pandas object can exist only then), else None."""
    return sys.modules.get("pandas")

"""heatwidget: millions of lat/lon points as a heatmap on a Leaflet map, in Jupyter.

>>> import heatwidget
>>> m = heatwidget.Heatmap(df, lat="lat", lon="lon", weight="mag")
>>> m  # shows the map; m.colormap = "viridis", m.to_png("map.png"), m.density()
"""

from __future__ import annotations

import importlib
import json
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import datasets
    from ._snapshot import PNG
    from ._widget import Density, Heatmap

__all__ = ["PNG", "Density", "Heatmap", "__version__", "datasets"]

# Imported on first use (PEP 562): `import heatwidget` needs neither numpy nor pyarrow (neither
# can be had in JupyterLite offline), and stays fast.
_LAZY = {
    "Heatmap": "._widget",
    "Density": "._widget",
    "PNG": "._snapshot",
    "datasets": ".datasets",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'heatwidget' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name], __name__)
    value = module if name == "datasets" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _version() -> str:
    try:
        return metadata.version("heatwidget")
    except metadata.PackageNotFoundError:
        # A source tree on sys.path without an install: js/package.json is the one source.
        package_json = Path(__file__).resolve().parent.parent / "js" / "package.json"
        try:
            return str(json.loads(package_json.read_text(encoding="utf-8"))["version"])
        except (OSError, ValueError, KeyError):
            return "0+unknown"


__version__ = _version()

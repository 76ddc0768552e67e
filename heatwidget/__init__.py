"""heatwidget: millions of lat/lon points as a heatmap on a Leaflet map, in Jupyter.

>>> import heatwidget
>>> m = heatwidget.Heatmap(df, lat="lat", lon="lon", weight="mag")
>>> m  # shows the map; m.colormap = "viridis", m.to_png("map.png"), m.density()
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from . import datasets
    from .views.snapshot import PNG
    from .widget.heatmap import Heatmap
    from .widget.rendering import Density

__all__ = ["PNG", "Density", "Heatmap", "__version__", "datasets"]

# Imported on first use (PEP 562): `import heatwidget` needs neither numpy nor pyarrow (neither
# can be had in JupyterLite offline), and stays fast.
_LAZY = {
    "Heatmap": ".widget.heatmap",
    "Density": ".widget.rendering",
    "PNG": ".views.snapshot",
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

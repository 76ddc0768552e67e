"""The selection's error (no numpy needed to import it: the trait names it in Pyodide too)."""

from __future__ import annotations

__all__ = ["NUMPY_HINT", "SelectionError"]

NUMPY_HINT = (
    "selections (m.selection, on_select, selected(), hotspots()) need numpy, which this "
    "Python does not have (JupyterLite offline): %pip install numpy where it can be installed."
)


class SelectionError(ValueError):
    """A selection that is not a valid polygon (the message names the place and the fix)."""

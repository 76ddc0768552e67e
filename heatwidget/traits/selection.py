"""The ``selection`` trait: None, or a checked GeoJSON Polygon/MultiPolygon (lon/lat).

The value is normalised by :class:`heatwidget.selection.Shape` (plain lists of floats, rings
closed, longitudes unwrapped across the antimeridian and the west edge within [-180, 180)), so
the page and Python hold the same dict; anything else is a ``TraitError`` whose message names
the ring, the vertex and the fix.
"""

from __future__ import annotations

from typing import Any

import traitlets

from ..selection.errors import NUMPY_HINT, SelectionError

__all__ = ["Selection"]


class Selection(traitlets.TraitType[Any, Any]):
    info_text = "None or a GeoJSON Polygon/MultiPolygon dict in lon/lat degrees"

    def validate(self, _obj: Any, value: Any) -> Any:
        if value is None:
            return None
        try:
            from ..selection.shape import Shape
        except ImportError as exc:
            raise traitlets.TraitError(NUMPY_HINT) from exc
        try:
            return Shape.parse(value).geojson
        except SelectionError as exc:
            raise traitlets.TraitError(str(exc)) from exc

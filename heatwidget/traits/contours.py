"""The ``contours`` trait: None (no isolines), ``"auto"`` (five levels spread over the colour
domain of each frame) or a list of density levels (finite numbers > 0, at most 20; kept sorted
and without repeats). The page traces them on the density of the frame it drew (js/src/
contours.ts) and draws them over the heat in the colormap's colours."""

from __future__ import annotations

import math
from typing import Any

import traitlets

__all__ = ["MAX_LEVELS", "Contours"]

MAX_LEVELS = 20


class Contours(traitlets.TraitType[Any, Any]):
    info_text = 'None, "auto", or a list of density levels > 0'

    def validate(self, _obj: Any, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            if value.strip().lower() == "auto":
                return "auto"
            raise traitlets.TraitError(
                f'contours must be None, "auto" or a list of density levels, not {value!r}.'
            )
        items = [value] if isinstance(value, (int, float)) else value
        try:
            levels = [float(v) for v in items if not isinstance(v, bool)]
        except (TypeError, ValueError):
            raise traitlets.TraitError(
                f"contours: levels are numbers (densities, as density() gives them), got {value!r}."
            ) from None
        if len(levels) != len(list(items)) or not all(math.isfinite(v) and v > 0 for v in levels):
            raise traitlets.TraitError(
                f"contours: every level must be a finite number > 0, got {value!r}."
            )
        if not levels or len(set(levels)) > MAX_LEVELS:
            raise traitlets.TraitError(
                f"contours: give between 1 and {MAX_LEVELS} levels (or 'auto'), got "
                f"{len(set(levels))}."
            )
        return sorted(set(levels))

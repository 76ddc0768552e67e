"""The keyword arguments ``Heatmap()`` takes besides its data, and the error for a wrong one."""

from __future__ import annotations

import difflib
from typing import Any


def keyword_names(cls: Any) -> set[str]:
    """The traits a user may pass to ``cls()``: synced (or tagged ``keyword=True``), public and
    writable."""
    traits = {**cls.class_traits(sync=True), **cls.class_traits(keyword=True)}
    return {
        name for name, trait in traits.items() if not name.startswith("_") and not trait.read_only
    }


def unknown_keywords_message(cls: Any, unknown: list[str]) -> str:
    """A TypeError's message for ``unknown`` keywords: the closest valid name, or why not."""
    valid = sorted(keyword_names(cls))
    traits = cls.class_traits()
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, valid, n=1)
        if name in traits and traits[name].read_only:
            parts.append(f"{name!r} (read-only: it follows the data)")
        else:
            parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    s = "s" if len(unknown) > 1 else ""
    return (
        f"Heatmap() got unexpected keyword argument{s} {', '.join(parts)}. Valid keyword "
        f"arguments: data, lat, lon, weight, time, time_unit, {', '.join(valid)}."
    )

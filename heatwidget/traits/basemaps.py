"""Basemap names and URL templates → the ``_tiles`` dict the front end hands to Leaflet.

``_tiles`` is ``{"url": str, "attribution": str, "max_zoom": int}`` or None (no basemap). The
url is a Leaflet tile URL template (``{z}``, ``{x}``, ``{y}``, and optionally ``{s}`` for
subdomains and ``{r}`` for "@2x" on high-DPI screens).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, TypedDict

__all__ = ["BASEMAPS", "Tiles", "names", "resolve"]


class Tiles(TypedDict):
    url: str
    attribution: str
    max_zoom: int


_OSM = "&copy; OpenStreetMap contributors"
_CARTO = f"{_OSM} &copy; CARTO"

BASEMAPS: dict[str, Tiles] = {
    "osm": {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": _OSM,
        "max_zoom": 19,
    },
    "carto-light": {
        "url": "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        "attribution": _CARTO,
        "max_zoom": 20,
    },
    "carto-dark": {
        "url": "https://{s}.basemaps.cartocdn.com/dark_all/{z}/{x}/{y}{r}.png",
        "attribution": _CARTO,
        "max_zoom": 20,
    },
    "esri-imagery": {
        # Esri's tile service takes {y} before {x}.
        "url": "https://server.arcgisonline.com/ArcGIS/rest/services/World_Imagery/MapServer/"
        "tile/{z}/{y}/{x}",
        "attribution": "Tiles &copy; Esri &mdash; Source: Esri, i-cubed, USDA, USGS, AEX, "
        "GeoEye, Getmapping, Aerogrid, IGN, IGP, UPR-EGP, and the GIS User Community",
        "max_zoom": 18,
    },
}

_PLACEHOLDERS = ("{z}", "{x}", "{y}")
_DEFAULT_MAX_ZOOM = 19


def names() -> list[str]:
    """The basemap names :func:`resolve` knows."""
    return list(BASEMAPS)


def _is_template(text: str) -> bool:
    return all(p in text for p in _PLACEHOLDERS)


def resolve(basemap: Any) -> Tiles | None:
    """A basemap (name, URL template, tiles dict or None) → ``_tiles``; ValueError if bad."""
    if basemap is None:
        return None
    if isinstance(basemap, str):
        if basemap in BASEMAPS:
            return dict(BASEMAPS[basemap])  # type: ignore[return-value]
        if _is_template(basemap):
            return {"url": basemap, "attribution": "", "max_zoom": _DEFAULT_MAX_ZOOM}
        close = difflib.get_close_matches(basemap.lower(), list(BASEMAPS), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown basemap {basemap!r}.{hint} Use one of {', '.join(map(repr, BASEMAPS))}, "
            "a tile URL template with {z}, {x} and {y} (such as "
            "'https://tile.example.org/{z}/{x}/{y}.png'), or None for no basemap."
        )
    if isinstance(basemap, Mapping):
        url = basemap.get("url")
        if not isinstance(url, str) or not _is_template(url):
            raise ValueError(
                f"basemap dict needs 'url', a tile URL template with {{z}}, {{x}} and {{y}}; "
                f"got {url!r}"
            )
        unknown = set(basemap) - {"url", "attribution", "max_zoom"}
        if unknown:
            raise ValueError(
                f"basemap dict has unknown keys {sorted(unknown)}; allowed: url, attribution, "
                "max_zoom"
            )
        attribution = basemap.get("attribution", "")
        max_zoom = basemap.get("max_zoom", _DEFAULT_MAX_ZOOM)
        if not isinstance(attribution, str):
            raise ValueError(f"basemap 'attribution' must be a str, got {attribution!r}")
        if isinstance(max_zoom, bool) or not isinstance(max_zoom, int) or not 0 <= max_zoom <= 30:
            raise ValueError(f"basemap 'max_zoom' must be an int in 0..30, got {max_zoom!r}")
        return {"url": url, "attribution": attribution, "max_zoom": max_zoom}
    raise ValueError(
        f"bad basemap {basemap!r}: use a name ({', '.join(map(repr, BASEMAPS))}), a URL "
        "template, a dict {url, attribution, max_zoom}, or None"
    )

"""Basemap names and URL templates → the ``_tiles`` dict the front end hands to Leaflet.

URLs must be http(s) or relative (``javascript:``/``data:`` are refused with the fix). The
attribution is HTML (tile providers' credits need links): the front end keeps only links to
http(s) URLs, bold and italic from it (js/src/sanitize.ts), so it is not checked here.

``_tiles`` is ``{"url": str, "attribution": str, "max_zoom": int}`` or None (no basemap). The
url is a Leaflet tile URL template (``{z}``, ``{x}``, ``{y}``, and optionally ``{s}`` for
subdomains and ``{r}`` for "@2x" on high-DPI screens).
"""

from __future__ import annotations

import difflib
import re
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
#: Every placeholder Leaflet fills in a tile URL; any other makes it throw on every tile.
_KNOWN_PLACEHOLDERS = frozenset({"{z}", "{x}", "{y}", "{s}", "{r}", "{-y}"})
_DEFAULT_MAX_ZOOM = 19
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
# Browsers drop tabs and newlines inside URLs and spaces around them ("java\tscript:" is
# "javascript:"): a tile URL has none of these, nor a backslash (read as "/" by browsers).
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029\\]")


def names() -> list[str]:
    """The basemap names :func:`resolve` knows."""
    return list(BASEMAPS)


def _is_template(text: str) -> bool:
    # {-y}: Leaflet's TMS row (y counted from the south), in place of {y}.
    return all(p in text.replace("{-y}", "{y}") for p in _PLACEHOLDERS)


def _check_url(url: str) -> str:
    """``url`` if the page may load tiles from it: http(s), scheme-relative or relative.

    The page puts it into ``<img src>``; ``javascript:``, ``data:`` or any other scheme is
    refused here, with the fix (the front end refuses them too)."""
    bad = _UNSAFE_CHARS.search(url)
    if bad:
        raise ValueError(
            f"basemap URL {url!r} contains {bad.group()!r} (whitespace, a control character or "
            "a backslash); tile URLs have none: percent-encode it (' ' is %20)."
        )
    scheme = _SCHEME.match(url)
    if scheme and scheme.group(1).lower() not in ("http", "https"):
        raise ValueError(
            f"basemap URL {url!r} uses the {scheme.group(1)}: scheme; only http(s) and relative "
            "tile URLs are allowed: use 'https://tile.example.org/{z}/{x}/{y}.png' (or a path "
            "relative to the page)."
        )
    unknown = sorted(set(re.findall(r"\{[^}]*\}", url)) - _KNOWN_PLACEHOLDERS)
    if unknown:
        raise ValueError(
            f"basemap URL {url!r} has the placeholders {', '.join(unknown)}, which Leaflet cannot "
            "fill; use only {z}, {x}, {y}, {s} (subdomain), {r} ('@2x' on high-DPI screens) and "
            "{-y} (TMS)."
        )
    return url


def resolve(basemap: Any) -> Tiles | None:
    """A basemap (name, URL template, tiles dict or None) → ``_tiles``; ValueError if bad."""
    if basemap is None:
        return None
    if isinstance(basemap, str):
        if basemap in BASEMAPS:
            return dict(BASEMAPS[basemap])  # type: ignore[return-value]
        if _is_template(basemap):
            return {"url": _check_url(basemap), "attribution": "", "max_zoom": _DEFAULT_MAX_ZOOM}
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
        _check_url(url)
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

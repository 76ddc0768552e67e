"""Colour maps: a name or a list of colours → the kernel's 256-entry RGBA table (1024 bytes).

The tables come from ``colormaps.json`` beside this file, generated once from matplotlib by
``tools/make_colormaps.py``; matplotlib is not needed at run time.

Accepted ``colormap`` values
    * a matplotlib colormap name (``"inferno"``, ``"YlOrRd"``, ...; see :func:`names`), or the
      same name with ``_r`` for the reversed map. Names are matched exactly, then
      case-insensitively (``"ylorrd"`` works).
    * a list (or tuple, or numpy array) of one or more colours, spread evenly from the low
      end (entry 0) to the high end (entry 255) and interpolated linearly in sRGB. A colour is
        - a CSS hex string ``"#rrggbb"`` or ``"#rgb"`` (the ``#`` may be left out),
        - a CSS colour name (``"red"``, ``"orange"``, ``"darkblue"``: the 148 CSS4 names),
        - a 3-tuple ``(r, g, b)``: **integers are 0..255, floats are 0..1** (``(255, 0, 0)``
          and ``(1.0, 0.0, 0.0)`` are both red; a tuple with any float is read as 0..1).
      Every table entry has alpha 255: the kernel applies its own alpha ramp (see heat.h).

Bad values raise ``ValueError`` naming the value (and, for names, listing valid ones).
"""

from __future__ import annotations

import base64
import difflib
import json
import math
import numbers
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["LUT_BYTES", "names", "resolve_lut"]

LUT_BYTES = 1024
_DATA = Path(__file__).with_name("colormaps.json")


@lru_cache(maxsize=1)
def _data() -> tuple[dict[str, bytes], dict[str, str]]:
    doc = json.loads(_DATA.read_text(encoding="utf-8"))
    maps = {k: base64.b64decode(v) for k, v in doc["colormaps"].items()}
    return maps, dict(doc.get("named_colors", {}))


def names() -> list[str]:
    """The colormap names :func:`resolve_lut` accepts (each also works with ``_r``)."""
    return sorted(_data()[0], key=str.lower)


def _is_ndarray(value: Any) -> bool:
    np = sys.modules.get("numpy")  # no import: numpy is optional (JupyterLite)
    return np is not None and isinstance(value, np.ndarray)


def _rgb_to_lut(rgb: bytes) -> bytes:
    """256 × RGB bytes → 1024 bytes RGBA with alpha 255 (pure Python: no numpy needed)."""
    return b"".join(rgb[i : i + 3] + b"\xff" for i in range(0, 768, 3))


def _lookup_name(name: str) -> bytes:
    maps, _ = _data()
    base, reverse = name, False
    if base not in maps and base.endswith("_r"):
        base, reverse = base[:-2], True
    if base not in maps:
        lower = {k.lower(): k for k in maps}
        base = lower.get(base.lower(), base)
    if base not in maps:
        close = difflib.get_close_matches(name, [*maps, *(f"{k}_r" for k in maps)], n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(
            f"unknown colormap {name!r}.{hint} Valid names (each also with '_r' for the "
            f"reverse): {', '.join(names())}; or pass a list of colours such as "
            "['#000000', 'red', (255, 255, 0)]."
        )
    rgb = maps[base]
    if reverse:
        rgb = b"".join(rgb[i : i + 3] for i in range(765, -1, -3))
    return _rgb_to_lut(rgb)


def _parse_hex(text: str) -> tuple[float, float, float] | None:
    h = text[1:] if text.startswith("#") else text
    if len(h) not in (3, 6) or any(c not in "0123456789abcdefABCDEF" for c in h):
        return None
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return (float(int(h[0:2], 16)), float(int(h[2:4], 16)), float(int(h[4:6], 16)))


def _parse_color(value: Any) -> tuple[float, float, float]:
    """One colour → (r, g, b) floats in 0..255."""
    if isinstance(value, str):
        text = value.strip()
        rgb = _parse_hex(text) if text.startswith("#") else None
        if rgb is None and not text.startswith("#"):
            named = _data()[1].get(text.lower().replace(" ", ""))
            rgb = _parse_hex(named) if named else _parse_hex(text)
        if rgb is None:
            raise ValueError(
                f"bad colour {value!r}: use '#rrggbb', '#rgb', a CSS colour name like 'red' "
                "or 'darkblue', or an (r, g, b) tuple (ints 0..255 or floats 0..1)"
            )
        return rgb
    if (isinstance(value, Sequence) or _is_ndarray(value)) and not isinstance(
        value, (bytes, bytearray)
    ):
        comps = list(value)
        if len(comps) != 3 or not all(
            isinstance(c, numbers.Real) and not isinstance(c, bool) for c in comps
        ):
            raise ValueError(
                f"bad colour {value!r}: an (r, g, b) tuple needs exactly 3 numbers "
                "(ints 0..255 or floats 0..1)"
            )
        as_ints = all(isinstance(c, numbers.Integral) for c in comps)
        hi = 255.0 if as_ints else 1.0
        vals = [float(c) for c in comps]
        if not all(0.0 <= v <= hi for v in vals):
            kind = "ints must be in 0..255" if as_ints else "floats must be in 0..1"
            raise ValueError(f"bad colour {value!r}: (r, g, b) {kind}")
        k = 1.0 if as_ints else 255.0
        return (vals[0] * k, vals[1] * k, vals[2] * k)
    raise ValueError(
        f"bad colour {value!r}: use '#rrggbb', '#rgb', a CSS colour name, or an (r, g, b) tuple"
    )


def _lut_from_colors(colors: Sequence[Any]) -> bytes:
    stops = [_parse_color(c) for c in colors]  # n × (r, g, b) floats 0..255
    n = len(stops)
    if n == 0:
        raise ValueError("colormap list is empty: give at least one colour")
    out = bytearray()
    for i in range(256):
        # np.interp(t, arange(n), stop channel) at t = i / 255 * (n - 1), in pure Python
        t = i / 255.0 * (n - 1)
        k = min(int(t), n - 2) if n > 1 else 0
        for c in range(3):
            if n == 1:
                v = stops[0][c]
            else:
                a, b = stops[k][c], stops[k + 1][c]
                v = a + (t - k) * (b - a)
            out.append(min(255, max(0, math.floor(v + 0.5))))
    return _rgb_to_lut(bytes(out))


def resolve_lut(colormap: str | Sequence[Any]) -> bytes:
    """``colormap`` (a name, a name + ``_r``, or a list of colours) → 1024 bytes RGBA."""
    if isinstance(colormap, str):
        return _lookup_name(colormap)
    if (_is_ndarray(colormap) or isinstance(colormap, Sequence)) and not isinstance(
        colormap, (bytes, bytearray)
    ):
        return _lut_from_colors(list(colormap))
    raise ValueError(
        f"bad colormap {colormap!r}: give a name such as 'inferno' (see "
        "heatwidget.traits.colormaps.names()) or a list of colours"
    )

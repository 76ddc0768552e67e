"""``save_html``: one standalone HTML file that shows a Heatmap offline, interactively.

The file holds everything the front end needs and nothing it would fetch:

* the bundle ``static/widget.js`` (ESM; the .wasm kernel and the country outlines are already
  inlined in it) inside one inline ``<script type="module">``, followed by a small bootstrap;
* ``static/widget.css`` in a ``<style>``;
* the points: the widget's ``_points`` bytes (wire format 2: the kernel's fixed-point x/y, as
  Jupyter's views get them; docs/architecture.md), base64, in a
  ``<script type="application/octet-stream">`` (never executed), and the other synced traits
  as JSON (``_lut`` base64 too).

The bootstrap (``static/standalone.js``, built from js/src/standalone.ts) is a tiny stand-in
for anywidget's model (``get``/``set``/``on``/``off``/``save_changes``; binary traits as
DataView) and calls the bundle's ``render`` on a full-page div. Panning, zooming and the
legend work as in Jupyter; nothing goes back to Python.

Size: about 400 KB of bundle and CSS, plus base64 of 8 bytes per point (x, y uint32):
≈ 10.7 bytes per point, ≈ 16 with weights, ≈ 26.7 with weights and times. Tiles of the
basemap load when online; offline the map shows the built-in country outlines.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path
from typing import Any

__all__ = ["BYTES_PER_POINT", "render_html", "save_html"]

_STATIC = Path(__file__).resolve().parent.parent / "static"

#: Bytes of HTML per point: base64 (4/3) of the wire's columns (x, y uint32; weight float32).
BYTES_PER_POINT = {"x+y": 8 * 4 / 3, "x+y+weight": 12 * 4 / 3}

# Traits of ipywidgets/anywidget plumbing, not the front end's business.
_SKIP = {
    "_esm",
    "_css",
    "_anywidget_id",
    "_dom_classes",
    "_model_module",
    "_model_module_version",
    "_model_name",
    "_view_count",
    "_view_module",
    "_view_module_version",
    "_view_name",
    "layout",
    "tabbable",
    "tooltip",
}
_BINARY = ("_points", "_lut")

# The esbuild ESM bundle ends with `export{A as L,B as default,C as version};`.
_EXPORT = re.compile(r"export\s*\{([^{}]*)\}\s*;?")
_DEFAULT = re.compile(r"([\w$]+)\s+as\s+default\b")
_OFFLINE = re.compile(r"([\w$]+)\s+as\s+offlineServer\b")

# The page's stand-in for anywidget's model, which renders the bundle's `__HW_WIDGET__`
# (js/src/standalone.ts, built beside widget.js).
_BOOTSTRAP = "standalone.js"


def _bootstrap() -> str:
    path = _STATIC / _BOOTSTRAP
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `npm run build` in js/")
    return _script_safe(path.read_text(encoding="utf-8"))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="heatwidget {version}">
<title>{title}</title>
<style>
html, body {{ margin: 0; padding: 0; height: 100%; }}
#heatwidget-page {{ position: fixed; inset: 0; }}
#heatwidget-page > .heatwidget {{ height: 100% !important; }}
</style>
<style>
{css}
</style>
</head>
<body>
<div id="heatwidget-page"></div>
<script type="application/json" id="heatwidget-state">{state}</script>
{binaries}
<script type="module">
{module}
</script>
</body>
</html>
"""


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _script_safe(text: str) -> str:
    """JS/JSON text that cannot end or confuse the <script> element it sits in.

    ``</script`` and ``<!--`` become ``\\x3C/script`` and ``\\x3C!--``: the same characters
    inside JS strings, regular expressions and JSON strings (as ``\\u003C`` for JSON).
    """
    return re.sub(r"<(/script|!--)", r"\\x3C\1", text, flags=re.IGNORECASE)


def _module(bundle: str) -> str:
    """The bundle with its export statement turned into a local name, then the bootstrap."""
    matches = list(_EXPORT.finditer(bundle))
    if not matches:
        raise ValueError("static/widget.js has no `export {...}` statement: not an ESM bundle?")
    last = matches[-1]
    default = _DEFAULT.search(last.group(1))
    if default is None:
        raise ValueError("static/widget.js exports no default (the anywidget module)")
    local = f"const __HW_WIDGET__ = {default.group(1)};"
    offline = _OFFLINE.search(last.group(1))  # a served map's grid answerer (offline-grid.ts)
    if offline is not None:
        local += f"const __HW_OFFLINE__ = {offline.group(1)};"
    body = bundle[: last.start()] + local + bundle[last.end() :]
    return _script_safe(body) + "\n" + _bootstrap()


def _state(widget: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    state = widget.get_state()
    out: dict[str, Any] = {}
    binaries: dict[str, bytes] = {}
    for name, value in state.items():
        if name in _SKIP:
            continue
        if isinstance(value, (bytes, bytearray, memoryview)):
            binaries[name] = bytes(value)
        else:
            out[name] = _json_value(value)
    out["__binary__"] = list(binaries)
    return out, binaries


def render_html(
    widget: Any, *, title: str | None = None, extra: dict[str, Any] | None = None
) -> str:
    """The standalone page of ``widget`` as a str (see :func:`save_html`); ``extra``: more
    state for the page (bytes values are embedded as binaries), e.g. a served map's levels."""
    js_path, css_path = _STATIC / "widget.js", _STATIC / "widget.css"
    if not js_path.is_file():
        raise FileNotFoundError(
            f"{js_path} is missing: heatwidget's front end is not built. Run `npm ci && npm run "
            "build` in js/ (or pip install heatwidget from a wheel)."
        )
    bundle = js_path.read_text(encoding="utf-8")
    css = css_path.read_text(encoding="utf-8") if css_path.is_file() else ""
    state, binaries = _state(widget)
    for name, value in (extra or {}).items():
        if isinstance(value, bytes):
            binaries[name] = value
            state["__binary__"].append(name)
        else:
            state[name] = _json_value(value)
    if title is None:
        count = int(state.get("point_count") or 0)
        title = f"heatwidget: {count:,} points"
    from ..version import __version__

    blobs = "\n".join(
        f'<script type="application/octet-stream" id="heatwidget-{name}">'
        f"{base64.b64encode(data).decode('ascii')}</script>"
        for name, data in binaries.items()
    )
    state_json = json.dumps(state, separators=(",", ":"), allow_nan=False)
    return _PAGE.format(
        version=html.escape(__version__),
        title=html.escape(title),
        css=css.replace("</style", "<\\/style"),
        state=state_json.replace("<", "\\u003c"),
        binaries=blobs,
        module=_module(bundle),
    )


def save_html(widget: Any, path: str | Path, *, title: str | None = None) -> Path:
    """Write ``widget`` as one standalone HTML file that renders the same heatmap offline.

    The page embeds the front end, the points and the current traits (view, colours,
    radius, …); open it in any modern browser, no server or network needed (a basemap's tiles
    load when online). Size: ~400 KB plus ~21 bytes per point (~27 with weights).
    Returns the path written.
    """
    out = Path(path)
    out.write_text(render_html(widget, title=title), encoding="utf-8")
    return out

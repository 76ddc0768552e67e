"""save_html: the content of the standalone file (tests/e2e/test_html.py opens it)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from heatwidget import Heatmap
from heatwidget.export.html import _module, render_html, save_html
from heatwidget.points.wire import decode

STATIC = Path(__file__).resolve().parents[1] / "heatwidget" / "static"
pytestmark = pytest.mark.skipif(not (STATIC / "widget.js").is_file(), reason="front end not built")


def _script(text: str, ident: str) -> str:
    m = re.search(rf'<script [^>]*id="{ident}">(.*?)</script>', text, re.S)
    assert m, ident
    return m.group(1)


def test_file_holds_bundle_css_data_and_traits(tmp_path: Path) -> None:
    m = Heatmap(
        lat=[1.0, 2.0, 3.0],
        lon=[4.0, 5.0, 6.0],
        weight=[1, 2, 3],
        radius=7,
        colormap="viridis",
        legend_title="</script><b>x</b>",
    )
    path = save_html(m, tmp_path / "m.html", title="A & B")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<title>A &amp; B</title>" in text
    # one inline module with the bundle and the bootstrap; no external resource
    assert text.count('<script type="module">') == 1
    assert "__HW_WIDGET__.render(" in text
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", text)
    assert ".heatwidget" in text  # the CSS
    # every <script> ends where it should: the only </script> are the closing tags
    assert text.count("</script>") == text.count("<script")
    # the data: the widget's IPC bytes, base64
    points = base64.b64decode(_script(text, "heatwidget-_points"))
    assert points == m._points
    assert decode(points).column("lat").to_pylist() == pytest.approx([1.0, 2.0, 3.0], abs=1e-7)
    assert base64.b64decode(_script(text, "heatwidget-_lut")) == m._lut
    state = json.loads(_script(text, "heatwidget-state"))
    assert state["radius"] == 7 and state["legend_title"] == "</script><b>x</b>"
    assert state["data_bounds"] == [1.0, 4.0, 3.0, 6.0]
    assert state["point_count"] == 3
    assert state["__binary__"] == ["_lut", "_points"] or set(state["__binary__"]) == {
        "_lut",
        "_points",
    }
    assert "_esm" not in state and "layout" not in state


def test_size_per_point() -> None:
    import numpy as np

    small = len(render_html(Heatmap(lat=[0.0], lon=[0.0])))
    n = 100_000
    big = len(render_html(Heatmap(lat=np.zeros(n), lon=np.zeros(n))))
    per_point = (big - small) / (n - 1)
    assert 10.6 < per_point < 10.8  # 8 bytes of fixed-point x+y (wire format 2), base64
    assert small < 440_000  # the bundle (about 420 KB with the server-mode layer), inlined once


def test_module_rewrites_the_default_export() -> None:
    out = _module("var a={render(){}};export{b as L,a as default};")
    assert "export" not in out.split("\n")[0]
    assert "const __HW_WIDGET__ = a;" in out
    assert _module('x="</script>";export{x as default};').count("</script") == 0
    with pytest.raises(ValueError, match="no default"):
        _module("export{a as b};")


def test_heatmap_save_html_method(tmp_path: Path) -> None:
    m = Heatmap(lat=[10.0, 11.0], lon=[20.0, 21.0])
    path = m.save_html(tmp_path / "map.html", title="Two points")
    assert path == tmp_path / "map.html"
    text = path.read_text(encoding="utf-8")
    assert "<title>Two points</title>" in text
    assert base64.b64decode(_script(text, "heatwidget-_points")) == m._points

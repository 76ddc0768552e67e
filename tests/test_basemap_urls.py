"""A basemap URL reaches the page as ``<img src>``: only http(s) and relative URLs pass, and
the error names the trait and the fix."""

from __future__ import annotations

import pytest
import traitlets

import heatwidget
from heatwidget.traits import basemaps

BAD = [
    "javascript:alert(1)//{z}/{x}/{y}",
    "JavaScript:alert(1)//{z}/{x}/{y}",
    "data:image/png;base64,{z}{x}{y}",
    "vbscript:{z}/{x}/{y}",
    "file:///tiles/{z}/{x}/{y}.png",
    " javascript:alert(1)//{z}/{x}/{y}",
    "java\tscript:alert(1)//{z}/{x}/{y}",
    "https://tile.example.org/{z}/{x}/{y}.png\n",
    "https:\\\\evil.example.org/{z}/{x}/{y}",
    "https://tile.example.org/{z}/{x}/{y}{onerror}",
]
GOOD = [
    "https://tile.example.org/{z}/{x}/{y}.png",
    "http://{s}.tile.example.org/{z}/{x}/{-y}{r}.png",
    "//tile.example.org/{z}/{x}/{y}.png",
    "tiles/{z}/{x}/{y}.png",
    "/files/tiles/{z}/{x}/{y}.png",
]


@pytest.mark.parametrize("url", BAD)
def test_a_non_http_url_is_refused(url: str) -> None:
    for basemap in (url, {"url": url, "attribution": "x"}):
        with pytest.raises(ValueError, match=r"basemap URL .*(http|percent-encode|placeholders)"):
            basemaps.resolve(basemap)


@pytest.mark.parametrize("url", BAD[:3])
def test_the_error_names_the_trait_and_the_fix(url: str) -> None:
    m = heatwidget.Heatmap(lat=[1.0], lon=[2.0])
    with pytest.raises(traitlets.TraitError, match=r"basemap.*https://tile\.example\.org/"):
        m.basemap = {"url": url}
    assert m._tiles is not None and m._tiles["url"].startswith("https://tile.openstreetmap.org/")
    with pytest.raises(traitlets.TraitError, match=r"Heatmap\.basemap"):
        heatwidget.Heatmap(lat=[1.0], lon=[2.0], basemap=url)


@pytest.mark.parametrize("url", GOOD)
def test_http_and_relative_urls_pass(url: str) -> None:
    assert basemaps.resolve(url) == {"url": url, "attribution": "", "max_zoom": 19}
    assert basemaps.resolve({"url": url})["url"] == url  # type: ignore[index]


def test_every_named_basemap_passes_its_own_check() -> None:
    for name in basemaps.names():
        tiles = basemaps.resolve(name)
        assert tiles is not None
        assert basemaps.resolve(dict(tiles)) == tiles

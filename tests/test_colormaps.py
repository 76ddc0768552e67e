"""Colour tables (heatwidget/_colormaps.py, data in heatwidget/traits/colormaps.json)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from heatwidget.traits.colormaps import names, resolve_lut

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = [
    "viridis", "plasma", "inferno", "magma", "cividis", "turbo", "hot", "afmhot", "gist_heat",
    "YlOrRd", "YlOrBr", "OrRd", "Reds", "Oranges", "Purples", "Blues", "Greens", "Greys", "PuRd",
    "RdPu", "BuPu", "GnBu", "PuBu", "YlGnBu", "PuBuGn", "BuGn", "YlGn", "Spectral", "coolwarm",
    "RdYlBu", "RdYlGn", "bone", "copper", "cubehelix", "jet", "rainbow",
]  # fmt: skip


def rgba(lut: bytes) -> np.ndarray:
    assert isinstance(lut, bytes)
    assert len(lut) == 1024
    return np.frombuffer(lut, np.uint8).reshape(256, 4)


def test_names_include_the_usual_maps() -> None:
    available = names()
    for name in REQUIRED:
        assert name in available
    assert not any(n.endswith("_r") for n in available)
    assert "tab10" not in available  # qualitative palettes are left out
    for name in available:
        t = rgba(resolve_lut(name))
        assert (t[:, 3] == 255).all()
        assert len({tuple(c) for c in t[:, :3]}) > 4, name  # a real ramp, not a constant


def test_reverse_and_case() -> None:
    fwd, rev = rgba(resolve_lut("inferno")), rgba(resolve_lut("inferno_r"))
    np.testing.assert_array_equal(rev, fwd[::-1])
    np.testing.assert_array_equal(rgba(resolve_lut("ylorrd")), rgba(resolve_lut("YlOrRd")))
    np.testing.assert_array_equal(rgba(resolve_lut("YLORRD_r")), rgba(resolve_lut("YlOrRd"))[::-1])
    # inferno runs from black to pale yellow
    assert tuple(fwd[0, :3]) == (0, 0, 4)
    assert tuple(fwd[255, :3]) == (252, 255, 164)


def test_matches_matplotlib() -> None:
    mpl = pytest.importorskip("matplotlib")
    checked = 0
    for name in names():
        if name not in mpl.colormaps:
            continue
        # "_r" is our reversal of the 256-entry table; for maps with another native size
        # (twilight has 510 entries) matplotlib resamples the reversed map, which may pick
        # neighbouring entries: compare "_r" only where the native size is 256
        native = mpl.colormaps[name].N
        for n in (name, name + "_r") if native == 256 else (name,):
            cmap = mpl.colormaps[n].resampled(256)
            ref = np.round(np.asarray(cmap(np.arange(256)))[:, :3] * 255).astype(np.uint8)
            got = rgba(resolve_lut(n))[:, :3]
            # the same bytes (a different matplotlib may move an entry by a rounding step;
            # "_r" is our reversal of the table: functional maps like afmhot sample 1 - x
            # instead, which rounds some .5s the other way)
            assert np.abs(got.astype(int) - ref).max() <= 1, n
            if n == name:
                assert (got == ref).mean() > 0.99, n
            # matplotlib's own bytes=True truncates instead of rounding: within one
            assert np.abs(got.astype(int) - cmap(np.arange(256), bytes=True)[:, :3]).max() <= 1
        checked += 1
    assert checked >= len(REQUIRED)


def test_colour_lists() -> None:
    grey = rgba(resolve_lut(["#000000", "#ffffff"]))
    np.testing.assert_array_equal(grey[:, 0], np.arange(256))
    np.testing.assert_array_equal(grey[:, 1], np.arange(256))
    assert (grey[:, 3] == 255).all()
    # every colour syntax means the same red
    reds = [
        "#ff0000",
        "#F00",
        "ff0000",
        "red",
        "Red",
        (255, 0, 0),
        (1.0, 0.0, 0.0),
        (1.0, 0, 0),
        np.array([255, 0, 0]),
        np.array([1.0, 0.0, 0.0]),
    ]
    for red in reds:
        np.testing.assert_array_equal(rgba(resolve_lut([red]))[:, :3], [[255, 0, 0]] * 256)
    # three stops: the middle stop sits at entry 127.5
    three = rgba(resolve_lut(["black", (0, 0, 255), "#ffffff"]))
    assert tuple(three[0, :3]) == (0, 0, 0)
    assert tuple(three[255, :3]) == (255, 255, 255)
    assert tuple(three[127, :3]) == (0, 0, 254)  # 127 / 127.5 of the way: 254.0
    assert tuple(three[128, :3]) == (1, 1, 255)
    # tuples and numpy arrays of stops
    np.testing.assert_array_equal(rgba(resolve_lut(np.array([[0, 0, 0], [255, 255, 255]]))), grey)
    np.testing.assert_array_equal(rgba(resolve_lut(("#000", "#fff"))), grey)


def test_colour_lists_match_matplotlib_from_list() -> None:
    mcolors = pytest.importorskip("matplotlib.colors")
    stops = ["#0b0b3b", "orange", (0.2, 0.8, 0.4), "#ffffff"]
    cmap = mcolors.LinearSegmentedColormap.from_list("x", [mcolors.to_rgb(c) for c in stops])
    ref = np.round(np.asarray(cmap(np.arange(256)))[:, :3] * 255)
    got = rgba(resolve_lut(stops))[:, :3].astype(int)
    assert np.abs(got - ref).max() <= 1


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("infernoo", r"unknown colormap 'infernoo'.*Did you mean 'inferno'.*viridis"),
        ("", "unknown colormap"),
        ([], "empty"),
        (["#12345"], "bad colour '#12345'"),
        (["notacolour"], "bad colour 'notacolour'"),
        ([(300, 0, 0)], r"0\.\.255"),
        ([(1.5, 0.0, 0.0)], r"0\.\.1"),
        ([(1, 2)], "exactly 3"),
        ([(True, 0, 0)], "exactly 3"),
        ([None], "bad colour None"),
        (42, "bad colormap 42"),
    ],
)
def test_bad_values_name_themselves(value: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        resolve_lut(value)  # type: ignore[arg-type]


def test_the_json_needs_no_matplotlib() -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from heatwidget.traits.colormaps import resolve_lut, names\n"
        "assert len(resolve_lut('viridis_r')) == 1024 and len(names()) > 40\n"
        "assert len(resolve_lut(['navy', 'gold'])) == 1024\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_generated_file_is_up_to_date() -> None:
    mpl = pytest.importorskip("matplotlib")
    import json

    doc = json.loads((ROOT / "heatwidget" / "traits" / "colormaps.json").read_text())
    if doc["source"].split(",")[0] != f"matplotlib {mpl.__version__}":
        pytest.skip(f"colormaps.json was made with {doc['source']}, not {mpl.__version__}")
    res = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_colormaps.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr

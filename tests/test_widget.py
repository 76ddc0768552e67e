"""heatwidget.Heatmap without a browser: traits, validation, set_data, to_png, density."""

from __future__ import annotations

import importlib.util
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import traitlets

import heatwidget
from heatwidget import Density, Heatmap
from heatwidget.points import DroppedRowsWarning
from heatwidget.points.wire import decode
from heatwidget.traits.colormaps import resolve_lut

pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parent.parent
WASM = ROOT / "heatwidget" / "static" / "heat.wasm"
needs_host = pytest.mark.skipif(
    importlib.util.find_spec("wasmtime") is None or not WASM.is_file(),
    reason="to_png/density need wasmtime (pip install 'heatwidget[png]') and the built "
    "heatwidget/static/heat.wasm (npm run build in js/)",
)


def _points(m: Heatmap) -> pa.Table:
    return decode(m._points)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _png_pixels(data: bytes) -> np.ndarray:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what _png writes) with filter support."""
    width, height = _png_size(data)
    color_type = data[25]
    channels = {2: 3, 6: 4}[color_type]
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    out = np.zeros((height, width * channels), np.int32)
    for y in range(height):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        prev = out[y - 1] if y else np.zeros_like(line)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) % 256
        else:
            cur = np.zeros_like(line)
            for x in range(len(line)):
                left = cur[x - channels] if x >= channels else 0
                up = prev[x]
                ul = prev[x - channels] if x >= channels else 0
                if f == 1:
                    pred = left
                elif f == 3:
                    pred = (left + up) // 2
                else:
                    p = left + up - ul
                    pa_, pb, pc = abs(p - left), abs(p - up), abs(p - ul)
                    pred = left if pa_ <= pb and pa_ <= pc else (up if pb <= pc else ul)
                cur[x] = (line[x] + pred) % 256
        out[y] = cur
    return out.reshape(height, width, channels).astype(np.uint8)


# ---- construction --------------------------------------------------------------------------


def test_defaults() -> None:
    m = Heatmap()
    assert m.point_count == 0
    assert m.data_bounds is None
    assert _points(m).num_rows == 0
    assert (m.radius, m.opacity, m.colormap, m.vmax, m.vmin) == (25.0, 0.8, "inferno", "auto", 0)
    assert (m.aggregation, m.scale, m.threshold, m.height) == ("sum", "linear", 0.0, 450)
    assert m.center is None and m.zoom is None
    assert m.basemap == "osm" and m.legend is True and m.legend_title == ""
    assert m._lut == resolve_lut("inferno")
    assert m._tiles == {
        "url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attribution": "&copy; OpenStreetMap contributors",
        "max_zoom": 19,
    }


def test_from_dataframe() -> None:
    df = pd.DataFrame({"lat": [10.0, 20.0, 30.0], "lon": [-5.0, 0.0, 5.0], "mag": [1, 2, 3]})
    m = Heatmap(df, weight="mag", radius=10, colormap="viridis", height=300)
    assert m.point_count == 3
    assert m.data_bounds == (10.0, -5.0, 30.0, 5.0)
    table = _points(m)
    assert table.column_names == ["lon", "lat", "weight"]
    assert table.column("weight").to_pylist() == [1.0, 2.0, 3.0]
    assert (m.radius, m.height) == (10.0, 300)
    assert m._lut == resolve_lut("viridis")


def test_from_arrays_and_initial_state_has_data() -> None:
    m = Heatmap(lat=[1.0, 2.0], lon=[3.0, 4.0])
    state = m.get_state()
    assert state["point_count"] == 2
    assert state["data_bounds"] == (1.0, 3.0, 2.0, 4.0)
    assert decode(state["_points"]).num_rows == 2
    assert len(state["_lut"]) == 1024
    assert state["_tiles"]["max_zoom"] == 19
    for name in (
        "center",
        "zoom",
        "radius",
        "colormap",
        "opacity",
        "aggregation",
        "vmin",
        "vmax",
        "scale",
        "threshold",
        "basemap",
        "legend",
        "legend_title",
        "height",
    ):
        assert name in state, name


def test_unknown_keyword_is_a_type_error_listing_valid_ones() -> None:
    with pytest.raises(TypeError) as e:
        Heatmap(radiuss=5)
    msg = str(e.value)
    assert "unexpected keyword argument 'radiuss' (did you mean 'radius'?)" in msg
    for name in ("data", "lat", "lon", "weight", "radius", "colormap", "vmax", "basemap"):
        assert name in msg
    assert "_lut" not in msg and "point_count," not in msg


def test_read_only_traits_are_rejected_as_keywords_and_attributes() -> None:
    with pytest.raises(TypeError, match="'point_count' \\(read-only: it follows the data\\)"):
        Heatmap(point_count=3)
    m = Heatmap()
    with pytest.raises(traitlets.TraitError):
        m.point_count = 5
    with pytest.raises(traitlets.TraitError):
        m.data_bounds = (0, 0, 1, 1)


def test_input_errors_surface_from_the_constructor() -> None:
    with pytest.raises(ValueError, match="no latitude column found"):
        Heatmap(pd.DataFrame({"a": [1.0], "b": [2.0]}))


def test_drop_warning_points_at_the_caller() -> None:
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 2") as record:
        m = Heatmap(lat=[1.0, np.nan], lon=[1.0, 1.0])
    assert record[0].filename == __file__
    assert m.point_count == 1
    with pytest.warns(DroppedRowsWarning) as record:
        m.set_data(lat=[np.nan], lon=[1.0])
    assert record[0].filename == __file__
    assert m.point_count == 0


# ---- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "pattern"),
    [
        ("radius", -1, r"Heatmap\.radius: must be >= 0, got -1"),
        ("radius", "big", r"Heatmap\.radius: expected a number"),
        ("radius", float("nan"), r"Heatmap\.radius: expected a finite number"),
        ("opacity", 1.5, r"Heatmap\.opacity: must be between 0 and 1, got 1\.5"),
        ("opacity", -0.1, r"must be between 0 and 1"),
        ("threshold", -1, r"Heatmap\.threshold: must be >= 0"),
        ("height", 0, r"Heatmap\.height: must be >= 1"),
        ("height", 1.5, r"Heatmap\.height: expected a whole number"),
        ("vmax", "p0", r"Heatmap\.vmax: must be a number, 'auto'.*'p99'"),
        ("vmax", "p101", r"0 < q <= 100"),
        ("vmax", "max", r"got 'max'"),
        ("vmax", True, r"expected a number"),
        ("vmin", "auto", r"Heatmap\.vmin: expected a number"),
        ("colormap", "infern", r"Heatmap\.colormap: unknown colormap 'infern'.*viridis"),
        ("colormap", ["#000000", "notacolour"], r"Heatmap\.colormap: bad colour 'notacolour'"),
        ("colormap", 5, r"Heatmap\.colormap"),
        ("aggregation", "avg", r"Heatmap\.aggregation: must be one of 'sum', 'count', 'mean'"),
        ("aggregation", "means", r"did you mean 'mean'\?"),
        ("scale", "log10", r"Heatmap\.scale: must be one of 'linear', 'sqrt', 'log'"),
        ("basemap", "cartodark", r"Heatmap\.basemap: unknown basemap.*'carto-dark'\?"),
        ("basemap", "https://example.org/{z}/{x}.png", r"\{z\}, \{x\} and \{y\}"),
        ("center", (100.0, 0.0), r"Heatmap\.center: latitude must be within ±90"),
        ("center", (1.0, 2.0, 3.0), r"Heatmap\.center: expected a \(lat, lon\) pair"),
        ("zoom", -1, r"Heatmap\.zoom: must be between 0 and 30"),
    ],
)
def test_invalid_trait_values(name: str, value: object, pattern: str) -> None:
    m = Heatmap()
    before = getattr(m, name)
    with pytest.raises(traitlets.TraitError, match=pattern):
        setattr(m, name, value)
    assert getattr(m, name) == before


def test_invalid_trait_in_constructor() -> None:
    with pytest.raises(traitlets.TraitError, match=r"Heatmap\.radius"):
        Heatmap(radius=-3)


@pytest.mark.parametrize(
    ("name", "value", "stored"),
    [
        ("radius", 0, 0.0),
        ("radius", np.float32(12.5), 12.5),
        ("opacity", 1, 1.0),
        ("vmax", 10, 10.0),
        ("vmax", "p99", "p99"),
        ("vmax", "p99.5", "p99.5"),
        ("vmax", "auto", "auto"),
        ("center", [48.8, 2.35], (48.8, 2.35)),
        ("center", None, None),
        ("zoom", 3, 3.0),
        ("height", np.int64(600), 600),
        ("colormap", ("red", (0, 0, 255)), ["red", [0, 0, 255]]),
        ("basemap", None, None),
    ],
)
def test_valid_trait_values_are_normalised(name: str, value: object, stored: object) -> None:
    m = Heatmap()
    setattr(m, name, value)
    assert getattr(m, name) == stored
    assert type(getattr(m, name)) is type(stored)


def test_lut_follows_colormap() -> None:
    m = Heatmap()
    first = m._lut
    m.colormap = "viridis"
    assert m._lut == resolve_lut("viridis") != first
    m.colormap = "viridis_r"
    lut = np.frombuffer(m._lut, np.uint8).reshape(256, 4)
    forward = np.frombuffer(resolve_lut("viridis"), np.uint8).reshape(256, 4)
    np.testing.assert_array_equal(lut, forward[::-1])
    m.colormap = ["#000000", "#ffffff"]
    lut = np.frombuffer(m._lut, np.uint8).reshape(256, 4)
    assert lut[0].tolist() == [0, 0, 0, 255] and lut[255].tolist() == [255, 255, 255, 255]


def test_tiles_follow_basemap() -> None:
    m = Heatmap(basemap="carto-dark")
    assert "dark_all" in m._tiles["url"] and "CARTO" in m._tiles["attribution"]
    m.basemap = "esri-imagery"
    assert m._tiles["url"].endswith("/tile/{z}/{y}/{x}") and "Esri" in m._tiles["attribution"]
    m.basemap = "carto-light"
    assert "light_all" in m._tiles["url"] and m._tiles["max_zoom"] == 20
    m.basemap = "http://127.0.0.1:9999/{z}/{x}/{y}.png"
    assert m._tiles == {"url": m.basemap, "attribution": "", "max_zoom": 19}
    m.basemap = {"url": "https://t/{z}/{x}/{y}.png", "attribution": "me", "max_zoom": 12}
    assert m._tiles == {"url": "https://t/{z}/{x}/{y}.png", "attribution": "me", "max_zoom": 12}
    m.basemap = None
    assert m._tiles is None


# ---- set_data ------------------------------------------------------------------------------


def test_set_data_replaces_everything() -> None:
    m = Heatmap(lat=[1.0, 2.0, 3.0], lon=[4.0, 5.0, 6.0], zoom=4, center=(2.0, 5.0))
    m.set_data({"latitude": [-10.0, 50.0], "lng": [100.0, 190.0], "w": [0.5, 1.5]}, weight="w")
    assert m.point_count == 2
    assert m.data_bounds == (-10.0, -170.0, 50.0, 100.0)
    table = _points(m)
    assert table.column("lon").to_pylist() == pytest.approx([100.0, -170.0], abs=1e-7)
    assert table.column("weight").to_pylist() == [0.5, 1.5]
    assert (m.center, m.zoom) == ((2.0, 5.0), 4.0)  # the view is kept
    m.set_data()
    assert (m.point_count, m.data_bounds, _points(m).num_rows) == (0, None, 0)


def test_set_data_sends_one_state_message_and_one_reset() -> None:
    m = Heatmap()
    sent: list[dict] = []
    m.send_state = lambda key=None: sent.append(  # type: ignore[method-assign]
        {"keys": sorted(key) if isinstance(key, (list, set, tuple)) else key}
    )
    custom: list[tuple[dict, list[bytes]]] = []
    m.send = lambda content, buffers=None: custom.append(  # type: ignore[method-assign]
        (content, list(buffers or []))
    )
    m.set_data(lat=[0.0], lon=[0.0])
    assert len(sent) == 1
    assert sent[0]["keys"] == ["data_bounds", "point_count"]
    # the rows go to existing views as one reset message; `_points` changes silently
    ((content, buffers),) = custom
    assert content == {"type": "reset", "seq": m._seq}
    assert decode(buffers[0]).num_rows == 1 and buffers[0] == m._points


def test_bad_set_data_keeps_old_points() -> None:
    m = Heatmap(lat=[1.0], lon=[2.0])
    with pytest.raises(ValueError, match="latitudes must be within ±90"):
        m.set_data(lat=[100.0], lon=[0.0])
    assert m.point_count == 1
    assert _points(m).column("lat").to_pylist() == pytest.approx([1.0], abs=1e-7)


# ---- the package ---------------------------------------------------------------------------


def test_version_matches_package_json() -> None:
    version = json.loads((ROOT / "js" / "package.json").read_text())["version"]
    assert heatwidget.__version__ == version


def test_esm_and_css_are_the_built_files_when_present() -> None:
    js = ROOT / "heatwidget" / "static" / "widget.js"
    if not js.is_file():
        assert "not built" in Heatmap()._esm
    else:
        assert Heatmap()._esm == js.read_text(encoding="utf-8")


def test_datasets_cities() -> None:
    a = heatwidget.datasets.cities(5000, seed=7)
    b = heatwidget.datasets.cities(5000, seed=7)
    assert list(a.columns) == ["lat", "lon", "mag"]
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(heatwidget.datasets.cities(5000, seed=8))
    assert (a["mag"] > 0).all() and a["mag"].dtype == np.float32
    assert a["lat"].between(-85, 85).all() and a["lon"].between(-180, 180).all()
    # Clustered: most points lie within ~1 degree of a listed city centre.
    centres = np.array([c[1:3] for c in heatwidget.datasets.CITIES])
    d = np.hypot(
        a["lat"].to_numpy()[:, None] - centres[:, 0], a["lon"].to_numpy()[:, None] - centres[:, 1]
    ).min(axis=1)
    assert np.mean(d < 1.0) > 0.9


def test_demo_notebooks_are_valid() -> None:
    for path in (
        ROOT / "heatwidget" / "examples" / "demo.ipynb",
        ROOT / "notebooks" / "quickstart.ipynb",
    ):
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        assert "m = heatwidget.Heatmap(" in code
        assert all(not c.get("outputs") for c in nb["cells"])


def test_cli_builds_voila_and_lab_commands(tmp_path: Path) -> None:
    from heatwidget.cli import demo_command

    nb = tmp_path / "demo.ipynb"
    argv, url = demo_command(nb, lab=False, port=8123, open_browser=False)
    assert argv[1:4] == ["-m", "voila", str(nb)] and "--port=8123" in argv
    assert "--no-browser" in argv and url == "http://127.0.0.1:8123/"
    argv, url = demo_command(nb, lab=True, port=8124, open_browser=True)
    assert argv[1:3] == ["-m", "jupyterlab"] and "--no-browser" not in argv
    assert url.startswith("http://127.0.0.1:8124/lab/tree/demo.ipynb?token=")


# ---- frames in Python (wasmtime + built kernel) --------------------------------------------


@needs_host
def test_the_python_host_loads_the_rows_once_per_change() -> None:
    rng = np.random.default_rng(3)
    m = Heatmap(lat=rng.uniform(40, 50, 5000), lon=rng.uniform(0, 10, 5000), basemap=None)
    first = m.to_png(width=120, height=90)
    kernel = m._rendering.kernel[1]
    assert m.to_png(width=120, height=90) == first  # the same pixels from the kept kernel
    grid = m.density(120, 90).grid
    assert m._rendering.kernel[1] is kernel  # loaded once for all three
    m.append(lat=[45.0] * 50, lon=[5.0] * 50)  # 50 rows on one spot
    assert m._rendering.kernel is None  # the old rows are let go at once
    after = m.density(120, 90).grid
    assert after.max() > grid.max() and m._rendering.kernel[1] is not kernel
    # a failing frame on fresh rows does not keep a half-loaded kernel
    m.set_data(lat=[1.0], lon=[2.0])
    m._trait_values["radius"] = float("nan")  # past the trait's check: the renderer refuses
    with pytest.raises(ValueError, match="radius"):
        m.to_png(width=8, height=8)
    assert m._rendering.kernel is None
    m._trait_values["radius"] = 5.0
    m.close()


@needs_host
def test_to_png_returns_and_writes_a_png(tmp_path: Path) -> None:
    m = Heatmap(lat=[0.0, 0.5, 40.0], lon=[0.0, 0.5, -70.0], radius=8)
    out = tmp_path / "map.png"
    data = m.to_png(out, width=200, height=120, heat_only=True)
    assert _png_size(data) == (200, 120)
    assert out.read_bytes() == data
    pixels = _png_pixels(data)
    assert pixels.shape == (120, 200, 3)
    white = np.all(pixels == 255, axis=2)
    assert white.mean() > 0.5  # mostly background
    assert (~white).sum() > 20  # but some heat


@needs_host
def test_to_png_without_background_is_transparent_rgba() -> None:
    m = Heatmap(lat=[10.0], lon=[10.0], radius=5)
    data = m.to_png(width=64, height=64, background=None)
    pixels = _png_pixels(data)
    assert pixels.shape == (64, 64, 4)
    assert pixels[0, 0, 3] == 0 and pixels[..., 3].max() > 0


@needs_host
def test_empty_map_renders() -> None:
    data = Heatmap().to_png(width=32, height=16, heat_only=True)
    pixels = _png_pixels(data)
    assert pixels.shape == (16, 32, 3) and np.all(pixels == 255)


@needs_host
def test_density_counts_points_and_unpacks() -> None:
    m = Heatmap(lat=[0.0, 0.0, 10.0], lon=[0.0, 0.0, 20.0], radius=0, aggregation="count")
    result = m.density(width=300, height=200)
    assert isinstance(result, Density)
    grid, bounds = result
    assert grid.dtype == np.float32 and grid.shape == (200, 300)
    assert grid.sum() == pytest.approx(3.0)
    assert grid.max() == pytest.approx(2.0)
    south, west, north, east = bounds
    assert south <= 0.0 and north >= 10.0 and west <= 0.0 and east >= 20.0
    assert result.vmax == pytest.approx(2.0)
    assert result.vmin == 0.0
    default = m.density()
    assert default.grid.shape == (m.height, 800)


@needs_host
def test_density_uses_current_view_and_settings() -> None:
    m = Heatmap(lat=[0.0], lon=[0.0], radius=0, center=(0.0, 0.0), zoom=2)
    grid, bounds = m.density(width=256, height=256)
    assert bounds[1] == pytest.approx(-45.0) and bounds[3] == pytest.approx(45.0)  # 256 of 1024 px
    assert grid[128, 128] == pytest.approx(1.0)
    m.vmax = 0.25
    assert m.density(width=256, height=256).vmax == 0.25


def test_missing_wasmtime_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *_a: None if name == "wasmtime" else real(name)
    )
    m = Heatmap(lat=[0.0], lon=[0.0])
    with pytest.raises(ImportError, match=r'pip install "heatwidget\[png\]"'):
        m.to_png()
    with pytest.raises(ImportError, match="wasmtime"):
        m.density()


def test_meters_per_pixel_matches_leaflet() -> None:
    from heatwidget.host.viewport import meters_per_pixel

    # Leaflet: 2 pi R / 256 at zoom 0 on the equator (R = 6378137); halves per zoom level
    assert meters_per_pixel(0.0, 0) == pytest.approx(156543.03392804097)
    assert meters_per_pixel(0.0, 10) == pytest.approx(156543.03392804097 / 1024)
    assert meters_per_pixel(60.0, 3) == pytest.approx(156543.03392804097 / 8 * 0.5)


def test_radius_in_meters_covers_the_same_ground_at_every_zoom() -> None:
    pytest.importorskip("wasmtime")
    from heatwidget.host.viewport import meters_per_pixel

    m = Heatmap(lat=[45.0], lon=[7.0], radius=2000, radius_units="meters", center=(45.0, 7.0))
    widths = []
    for zoom in (9, 10, 11):
        m.zoom = zoom
        grid = m.density(400, 400).grid
        px = 2000 / meters_per_pixel(45.0, zoom)
        m.radius_units = "pixels"
        m.radius = px
        np.testing.assert_allclose(m.density(400, 400).grid, grid)  # the same frame
        m.radius_units, m.radius = "meters", 2000
        row = grid[int(np.argmax(grid.max(axis=1)))]
        widths.append(np.count_nonzero(row > row.max() * np.exp(-2)))  # pixels within radius
    # the footprint doubles on screen with each zoom level: the same ground
    assert widths[1] == pytest.approx(2 * widths[0], rel=0.15)
    assert widths[2] == pytest.approx(2 * widths[1], rel=0.15)
    with pytest.raises(traitlets.TraitError, match="radius_units"):
        m.radius_units = "feet"


def test_heatmap_traits_are_not_shadowed_by_the_widget_bases() -> None:
    """ipywidgets' DOMWidget declares a Unicode ``tooltip``: the widget's own traits win."""
    from heatwidget.traits.heatmap import HeatmapTraits

    ours = HeatmapTraits.class_traits()
    assert all(Heatmap.class_traits()[name] is trait for name, trait in ours.items())
    m = Heatmap(lat=[1.0], lon=[2.0])
    m.tooltip = True
    state = m.get_state()
    # the front end reads `_tooltip`: ipywidgets' views take a truthy `tooltip` for their title
    assert state["_tooltip"] is True and not state.get("tooltip")
    assert Heatmap(lat=[1.0], lon=[2.0], tooltip=True).get_state()["_tooltip"] is True

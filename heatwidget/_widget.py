"""``Heatmap``: the widget's traits and public methods. Nothing numeric happens here.

Input forms are ``_inputs``'s job, bytes are ``_wire``'s, colours ``_colormaps``'s, tiles
``_basemaps``'s, and frames (``to_png``, ``density``) the Python host's (``_render``).
"""

from __future__ import annotations

import difflib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from . import _basemaps, _colormaps, _inputs, _wire
from ._traits import Basemap, Bounds, Choice, Colormap, LatLon, Number, PositiveInt, Vmax

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np

__all__ = ["Density", "Heatmap"]

_STATIC = Path(__file__).with_name("static")

# Shown instead of the map when heatwidget/static/ was not built (a source tree without npm).
_UNBUILT_ESM = """
export default {
  render({ el }) {
    el.textContent = "heatwidget's front end is not built: run `npm ci && npm run build` in "
      + "js/ (or `pip install -e .`), then restart the kernel.";
  },
};
"""


def _asset(name: str, fallback: str) -> Path | str:
    path = _STATIC / name
    return path if path.is_file() else fallback


_PNG_HINT = 'to_png() and density() need wasmtime: pip install "heatwidget[png]"'


def _host() -> Any:
    """D's Python host modules, imported on first use (wasmtime is an optional extra)."""
    if importlib.util.find_spec("wasmtime") is None:
        raise ImportError(_PNG_HINT)
    from . import _png, _render, _viewport

    return _render, _png, _viewport


@dataclass(frozen=True)
class Density:
    """The density grid of one frame; unpacks as ``grid, bounds = m.density()``."""

    grid: np.ndarray
    """float32, rows × cols, top row (north) first; the aggregation before colour mapping."""
    bounds: tuple[float, float, float, float]
    """``(south, west, north, east)`` of the frame, in degrees."""
    vmin: float
    """The colour scale's domain the frame used (``vmax`` resolved from "auto"/"p<q>")."""
    vmax: float

    def __iter__(self) -> Iterator[Any]:
        return iter((self.grid, self.bounds))


class Heatmap(anywidget.AnyWidget):
    """A heatmap of lat/lon points on a Leaflet map, drawn by a WebAssembly kernel.

    ``Heatmap(data=None, *, lat=None, lon=None, weight=None, **traits)``: ``data`` is a pandas
    DataFrame, pyarrow Table/RecordBatch, dict of columns or any Arrow stream object, with
    ``lat``/``lon``/``weight`` naming its columns (lat/lon are found by common names when not
    given); without ``data``, ``lat``/``lon``/``weight`` are arrays. Any trait below can be
    given as a keyword: ``Heatmap(df, weight="mag", colormap="viridis", radius=15)``.
    """

    _esm = _asset("widget.js", _UNBUILT_ESM)
    _css = _asset("widget.css", "")

    # ---- data (set with set_data) -----------------------------------------------------------
    _points = traitlets.Bytes(
        b"", help="All points as Arrow IPC stream bytes (lon, lat[, weight]); see _wire."
    ).tag(sync=True)
    point_count = traitlets.Int(
        0, read_only=True, help="Number of points held (read-only: it follows set_data)."
    ).tag(sync=True)
    data_bounds = Bounds(
        None,
        allow_none=True,
        read_only=True,
        help="(south, west, north, east) of the points held, or None when there are none.",
    ).tag(sync=True)

    # ---- view (written back by the map) -----------------------------------------------------
    center = LatLon(
        None,
        allow_none=True,
        help="Map centre (lat, lon). None fits the view to data_bounds; the map writes the "
        "centre back as the user pans.",
    ).tag(sync=True)
    zoom = Number(
        None,
        allow_none=True,
        min=0.0,
        max=30.0,
        help="Map zoom level (0 is the whole world in 256 px). None fits the view to "
        "data_bounds; the map writes it back as the user zooms.",
    ).tag(sync=True)
    height = PositiveInt(450, help="Height of the map in CSS pixels.").tag(sync=True)

    # ---- how heat is computed ---------------------------------------------------------------
    radius = Number(
        25.0,
        min=0.0,
        hint=" (CSS pixels; 0 puts each point in its own pixel)",
        help="Footprint of a point in CSS pixels: a Gaussian with sigma = radius / 2, so a "
        "point's heat falls to 13.5% at `radius` pixels. 0 means no spreading.",
    ).tag(sync=True)
    aggregation = Choice(
        ("sum", "count", "mean", "max"),
        "sum",
        help="How the points of a pixel combine: sum of weights, count of points, mean weight, "
        "or max weight.",
    ).tag(sync=True)

    # ---- how heat is coloured ---------------------------------------------------------------
    colormap = Colormap(
        "inferno",
        help="A matplotlib colormap name (optionally with '_r', e.g. 'viridis_r') or a list "
        "of colours from low to high such as ['#000000', 'red', (255, 255, 0)].",
    ).tag(sync=True)
    _lut = traitlets.Bytes(
        help="colormap resolved to 256 RGBA entries (1024 bytes), used as is by both hosts."
    ).tag(sync=True)
    opacity = Number(
        0.8, min=0.0, max=1.0, help="Opacity of the heat layer over the basemap, 0 to 1."
    ).tag(sync=True)
    vmin = Number(0.0, help="The density drawn with the colormap's low end.").tag(sync=True)
    vmax = Vmax(
        "auto",
        help="The density drawn with the colormap's high end: a number, 'auto' (the frame's "
        "maximum) or 'p<q>' (the q-th percentile of the frame's non-zero densities, e.g. "
        "'p99', which keeps a few hot spots from washing out the rest).",
    ).tag(sync=True)
    scale = Choice(
        ("linear", "sqrt", "log"),
        "linear",
        help="Scale from density to colour: linear, sqrt or log (log spans 1000x when vmin is 0).",
    ).tag(sync=True)
    threshold = Number(
        0.0, min=0.0, help="Densities below this are transparent (0 hides only empty pixels)."
    ).tag(sync=True)

    # ---- map furniture ----------------------------------------------------------------------
    basemap = Basemap(
        "osm",
        allow_none=True,
        help="Tiles under the heat: " + ", ".join(map(repr, _basemaps.names())) + ", a tile "
        "URL template with {z}, {x} and {y}, a dict {url, attribution, max_zoom}, or None "
        "(offline country outlines only).",
    ).tag(sync=True)
    _tiles = traitlets.Dict(
        None,
        allow_none=True,
        help="basemap resolved to {url, attribution, max_zoom} (or None) for Leaflet.",
    ).tag(sync=True)
    legend = traitlets.Bool(True, help="Show the colour legend.").tag(sync=True)
    legend_title = traitlets.Unicode("", help="Title above the legend.").tag(sync=True)

    def __init__(
        self,
        data: Any = None,
        *,
        lat: Any = None,
        lon: Any = None,
        weight: Any = None,
        **kwargs: Any,
    ) -> None:
        unknown = [k for k in kwargs if k not in self._keyword_names()]
        if unknown:
            raise TypeError(self._unknown_message(unknown))
        if data is not None or lat is not None or lon is not None or weight is not None:
            # Before super().__init__, so the comm opens with the data in its first message.
            table, report = _inputs.to_table(data, lat=lat, lon=lon, weight=weight, stacklevel=3)
            kwargs["_points"] = _wire.encode(table)
            self.set_trait("point_count", report.rows)
            self.set_trait("data_bounds", report.bounds)
        else:
            kwargs.setdefault("_points", _wire.encode(_inputs.empty_table()))
        super().__init__(**kwargs)

    @classmethod
    def _keyword_names(cls) -> set[str]:
        return {
            name
            for name, trait in cls.class_traits(sync=True).items()
            if not name.startswith("_") and not trait.read_only
        }

    @classmethod
    def _unknown_message(cls, unknown: list[str]) -> str:
        valid = sorted(cls._keyword_names())
        parts = []
        for name in unknown:
            close = difflib.get_close_matches(name, valid, n=1)
            readonly = name in cls.class_traits() and cls.class_traits()[name].read_only
            if readonly:
                parts.append(f"{name!r} (read-only: it follows the data)")
            else:
                parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        s = "s" if len(unknown) > 1 else ""
        return (
            f"Heatmap() got unexpected keyword argument{s} {', '.join(parts)}. Valid keyword "
            f"arguments: data, lat, lon, weight, {', '.join(valid)}."
        )

    # ---- resolved traits --------------------------------------------------------------------

    @traitlets.default("_lut")
    def _default_lut(self) -> bytes:
        return _colormaps.resolve_lut(self.colormap)

    @traitlets.observe("colormap")
    def _on_colormap(self, change: dict[str, Any]) -> None:
        self._lut = _colormaps.resolve_lut(change["new"])

    @traitlets.default("_tiles")
    def _default_tiles(self) -> dict[str, Any] | None:
        tiles = _basemaps.resolve(self.basemap)
        return None if tiles is None else dict(tiles)

    @traitlets.observe("basemap")
    def _on_basemap(self, change: dict[str, Any]) -> None:
        tiles = _basemaps.resolve(change["new"])
        # set_trait: traitlets' stubs do not know that this Dict allows None.
        self.set_trait("_tiles", None if tiles is None else dict(tiles))

    # ---- data -------------------------------------------------------------------------------

    def set_data(
        self, data: Any = None, *, lat: Any = None, lon: Any = None, weight: Any = None
    ) -> None:
        """Replace all points (same arguments as the constructor); the view is kept."""
        table, report = _inputs.to_table(data, lat=lat, lon=lon, weight=weight, stacklevel=3)
        payload = _wire.encode(table)
        with self.hold_sync():
            self._points = payload
            self.set_trait("point_count", report.rows)
            self.set_trait("data_bounds", report.bounds)

    # ---- frames in Python -------------------------------------------------------------------

    def _frame(self, width: int, height: int) -> Any:
        _render, _png, _viewport = _host()
        center, zoom = self.center, self.zoom
        if center is None or zoom is None:
            fit_center, fit_zoom = _viewport.fit_bounds(self.data_bounds, width, height)
            center = fit_center if center is None else center
            zoom = fit_zoom if zoom is None else zoom
        view = _viewport.Viewport(center=center, zoom=zoom, width=width, height=height)
        return _render.render(
            _wire.decode(self._points),
            view,
            radius=self.radius,
            aggregation=self.aggregation,
            vmin=self.vmin,
            vmax=self.vmax,
            scale=self.scale,
            threshold=self.threshold,
            lut=self._lut,
        )

    def to_png(
        self,
        path: str | Path | None = None,
        *,
        width: int = 800,
        height: int = 600,
        background: str | None = "#ffffff",
    ) -> bytes:
        """Render the heat layer (no basemap) to PNG bytes, and write them to ``path`` if given.

        The view is the widget's ``center``/``zoom``, or fits ``data_bounds`` while they are
        None. The heat is drawn with ``opacity`` over ``background`` ("#rrggbb", or None for a
        transparent PNG). Needs wasmtime (``pip install "heatwidget[png]"``).
        """
        frame = self._frame(int(width), int(height))
        _png = _host()[1]
        data: bytes = _png.encode_png(frame.rgba, background=background, opacity=self.opacity)
        if path is not None:
            Path(path).write_bytes(data)
        return data

    def density(self, width: int | None = None, height: int | None = None) -> Density:
        """The density grid of the view ``to_png`` would draw (default 800 × ``height``).

        Returns a :class:`Density` (``grid``, ``bounds``, ``vmin``, ``vmax``) that also unpacks
        as ``grid, bounds = m.density()``. Needs wasmtime (``pip install "heatwidget[png]"``).
        """
        frame = self._frame(int(width or 800), int(height or self.height))
        return Density(
            grid=frame.grid,
            bounds=tuple(float(v) for v in frame.bounds),  # type: ignore[arg-type]
            vmin=float(frame.vmin),
            vmax=float(frame.vmax),
        )

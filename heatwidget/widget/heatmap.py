"""``Heatmap``: the widget's traits and public methods. Nothing numeric happens here.

Input forms are ``_inputs``'s job, bytes are ``_wire``'s, colours ``_colormaps``'s, tiles
``_basemaps``'s, and frames (``to_png``, ``density``) the Python host's (``_render``).
"""

from __future__ import annotations

import difflib
import importlib.util
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import ipywidgets
import traitlets

from ..points import empty_table, new_store, to_table
from ..traits import basemaps as _basemaps
from ..traits import colormaps as _colormaps
from ..traits.values import (
    WINDOW_JSON,
    Basemap,
    Bounds,
    Choice,
    Colormap,
    Duration,
    LatLon,
    MaxPoints,
    Number,
    PositiveInt,
    TimeWindow,
    Vmax,
    time_ms,
)
from ..views import cell_wait as _cell_wait
from ..views import displayed as _displayed
from ..views import snapshot as _snapshot

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np

    from ..points.store import Delta


__all__ = ["Density", "Heatmap"]

_STATIC = Path(__file__).resolve().parent.parent / "static"
#: Seconds to_png() waits for the view of a map displayed a moment ago to appear.
VIEW_GRACE_SECONDS = 5.0

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
_PYODIDE_HINT = (
    "to_png() and density() are not available in Pyodide/JupyterLite: they run the kernel "
    "with wasmtime (and numpy), which do not run inside the browser, and a Pyodide kernel "
    "cannot wait inside a cell for the map's answer. For a picture of the displayed map use "
    'f = m.snapshot("map.png"): the browser composes it, and the Future resolves (and '
    "map.png is written) once this cell ends."
)


def _host() -> Any:
    """D's Python host modules, imported on first use (wasmtime is an optional extra)."""
    if sys.platform == "emscripten":
        raise ImportError(_PYODIDE_HINT)
    if importlib.util.find_spec("wasmtime") is None:
        raise ImportError(_PNG_HINT)
    from ..host import png as _png
    from ..host import render as _render
    from ..host import viewport as _viewport

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


class _PointsBytes(traitlets.Bytes):
    """``_points``: read from the widget's PointStore, encoded when read (a new model asks for
    the state: first display, page reload) and not kept, so that Python holds the rows once."""

    def get(self, obj: Any, cls: Any = None) -> Any:
        store = obj.__dict__.get("_store")
        if store is None:
            return super().get(obj, cls)
        return store.encode()


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

    # ---- data (set_data, append, clear) -----------------------------------------------------
    # How points reach the views (docs/architecture.md, "Streaming"): `_points` and `_seq` are
    # the full state a NEW front-end model gets (get_state: first display, page reload); they
    # change silently (no trait notification, so ipywidgets never re-sends all rows). Views
    # that exist get numbered custom messages instead: {"type": "delta", seq, rows, drop} with
    # the new rows as one binary buffer, or {"type": "reset", seq} with all rows.
    _points = _PointsBytes(
        b"", help="All points as Arrow IPC stream bytes (lon, lat[, weight][, time]); see _wire."
    ).tag(sync=True)
    _seq = traitlets.Int(0, help="Number of the last change to the points (see _stream).").tag(
        sync=True
    )
    _uid = traitlets.Unicode(help="Identifies this widget's model in the front end.").tag(sync=True)
    max_points = MaxPoints(
        None,
        allow_none=True,
        help="Keep at most this many rows, dropping the oldest first (a sliding window over "
        "append()); None keeps every row.",
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

    # ---- time -------------------------------------------------------------------------------
    time_extent = TimeWindow(
        None,
        allow_none=True,
        read_only=True,
        help="(first, last) time of the rows held (UTC datetimes), or None without a time column.",
    ).tag(sync=True, **WINDOW_JSON)
    time_window = TimeWindow(
        None,
        allow_none=True,
        help="Only rows with start <= time < end are drawn: (start, end) as datetimes or "
        "seconds since the epoch, either end None for unbounded; None draws every row. The "
        "play control moves it, and it reads back as UTC datetimes.",
    ).tag(sync=True, **WINDOW_JSON)
    time_decay = Duration(
        None,
        allow_none=True,
        help="Half-life (seconds or a timedelta): a row's weight halves for each half-life it "
        "is older than the window's end (or the latest time held). None: no decay.",
    ).tag(sync=True)
    time_step = Duration(
        None,
        allow_none=True,
        help="How far (seconds or a timedelta) the play control moves the window per step; "
        "None: 1/100 of the time extent.",
    ).tag(sync=True)
    time_speed = Number(4.0, min=0.01, max=240.0, help="Steps per second while playing.").tag(
        sync=True
    )
    play = traitlets.Bool(
        False, help="True while the time window is animating (the map's play button sets it too)."
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
    bounds = Bounds(
        None,
        allow_none=True,
        read_only=True,
        help="(south, west, north, east) the map shows, written by the map (None before it is "
        "shown). To move the map: center/zoom, fit_bounds() or fly_to().",
    ).tag(sync=True)
    height = PositiveInt(450, help="Height of the map in CSS pixels.").tag(sync=True)
    tooltip = traitlets.Bool(
        False, help="Show the density and point count under the mouse in a tooltip."
    ).tag(sync=True)
    _listen = traitlets.List(
        traitlets.Unicode(), help="Map events Python has callbacks for ('click', 'hover')."
    ).tag(sync=True)

    # ---- how heat is computed ---------------------------------------------------------------
    radius = Number(
        25.0,
        min=0.0,
        hint=" (CSS pixels; 0 puts each point in its own pixel)",
        help="Footprint of a point in CSS pixels: a Gaussian with sigma = radius / 2, so a "
        "point's heat falls to 13.5% at `radius` pixels. 0 means no spreading.",
    ).tag(sync=True)
    radius_units = Choice(
        ("pixels", "meters"),
        "pixels",
        help="Unit of `radius`: 'pixels' (the footprint stays the same on screen) or 'meters' "
        "(it covers the same ground at every zoom; the scale is taken at the view's centre "
        "latitude).",
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
        time: Any = None,
        time_unit: str = "s",
        **kwargs: Any,
    ) -> None:
        unknown = [k for k in kwargs if k not in self._keyword_names()]
        if unknown:
            raise TypeError(self._unknown_message(unknown))
        # Before super().__init__, so the comm opens with the data in its first message.
        self._store = new_store()
        self._click_handlers = ipywidgets.CallbackDispatcher()
        self._hover_handlers = ipywidgets.CallbackDispatcher()
        self._resets_sent: set[int] = set()
        table = self._table(data, lat, lon, weight, time, time_unit, stacklevel=4)
        if kwargs.get("max_points") is not None:
            kwargs["max_points"] = MaxPoints().check(kwargs["max_points"])
        self._store.replace(table, kwargs.get("max_points"))
        self._sync_store(notify=False)
        kwargs.setdefault("_uid", uuid.uuid4().hex)
        super().__init__(**kwargs)
        self.on_msg(_on_custom_msg)
        self._snapshots = _snapshot.Snapshots(self._send_to_views, self._snapshot_fallback)
        self._reply_route = _cell_wait.ReplyRoute(
            on_view=self._snapshots.view_event,
            ping=lambda rid: self._send_to_views({"type": "ping", "id": rid}),
        )
        self._shown_at: float | None = None
        _displayed.watch_boxes()  # a map shown in a layout is noted too
        if self.comm is not None:
            self._reply_route.install(self.comm)

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
            f"arguments: data, lat, lon, weight, time, time_unit, {', '.join(valid)}."
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

    @staticmethod
    def _table(
        data: Any, lat: Any, lon: Any, weight: Any, time: Any, time_unit: str, stacklevel: int
    ) -> Any:
        """The canonical pyarrow Table of one input (``_inputs`` does the work)."""
        if data is None and lat is None and lon is None and weight is None and time is None:
            return empty_table()
        table, _report = to_table(
            data,
            lat=lat,
            lon=lon,
            weight=weight,
            time=time,
            time_unit=time_unit,
            stacklevel=stacklevel,
        )
        return table

    def _sync_store(self, *, notify: bool = True) -> None:
        """Python's view of the store: `_seq` silently (new models read it with `_points`),
        the counts and extents as ordinary synced traits (one state message)."""
        store = self._store
        self._trait_values["_seq"] = store.seq
        self._drop_host_kernel()  # it holds the old rows
        extent = store.time_extent
        values = {
            "point_count": store.count,
            "data_bounds": store.bounds,
            "time_extent": None if extent is None else (extent[0] / 1e3, extent[1] / 1e3),
        }
        if not notify:
            for name, value in values.items():
                self.set_trait(name, value)
            return
        with self.hold_sync():
            for name, value in values.items():
                self.set_trait(name, value)

    def _send_delta(self, delta: Delta) -> None:
        msg = {"type": "delta", "seq": delta.seq, "rows": delta.rows, "drop": delta.drop}
        self.send(msg, buffers=[delta.payload] if delta.rows else None)

    def _send_reset(self) -> None:
        """All rows to every existing view (set_data, clear, or a view that missed a delta)."""
        self.send({"type": "reset", "seq": self._store.seq}, buffers=[self._store.encode()])

    def set_data(
        self,
        data: Any = None,
        *,
        lat: Any = None,
        lon: Any = None,
        weight: Any = None,
        time: Any = None,
        time_unit: str = "s",
    ) -> None:
        """Replace all points (same arguments as the constructor); the view is kept.

        With a time column the rows are sorted by time, so a ``time_window`` costs in
        proportion to the rows inside it.
        """
        table = self._table(data, lat, lon, weight, time, time_unit, stacklevel=4)
        self._store.replace(table, self.max_points)
        self._send_reset()
        self._sync_store()

    def append(
        self,
        data: Any = None,
        *,
        lat: Any = None,
        lon: Any = None,
        weight: Any = None,
        time: Any = None,
        time_unit: str = "s",
    ) -> None:
        """Add points (same arguments as the constructor) after those held.

        Only the new rows travel to the views (Arrow IPC: 16 bytes a row, +4 with weights, +8
        with times, plus a few hundred bytes a call) and the views load only them; with
        ``max_points`` the oldest rows are dropped. Appends arriving faster than the screen
        refreshes are drawn as one frame. Rows appended out of time order are drawn correctly,
        but a ``time_window`` then visits every row instead of only those inside it: append in
        time order where you can.
        """
        table = self._table(data, lat, lon, weight, time, time_unit, stacklevel=4)
        if table.num_rows == 0:
            return
        delta = self._store.append(table, self.max_points)
        self._send_delta(delta)
        self._sync_store()

    def clear(self) -> None:
        """Forget every point (the view is kept)."""
        self.set_data()

    @traitlets.observe("max_points")
    def _on_max_points(self, change: dict[str, Any]) -> None:
        delta = self._store.trim(change["new"])
        if delta is not None:
            self._send_delta(delta)
            self._sync_store()

    def _handle_front_end(self, content: dict[str, Any], buffers: list[Any] | None = None) -> None:
        self._reply_route.handled(content)
        kind = content.get("type")
        if kind == "snapshot":
            self._snapshots.on_chunk(content, buffers)
        elif kind == "view":
            self._snapshots.view_event(content)
        elif kind in ("hello", "resync"):
            # A model that started at another seq, or that saw a gap in the deltas.
            seq = content.get("seq")
            if seq != self._store.seq and self._store.seq not in self._resets_sent:
                self._resets_sent.add(self._store.seq)  # one reset per state serves all views
                self._send_reset()
        elif kind == "click":
            self._click_handlers(_event(content))
        elif kind == "hover":
            self._hover_handlers(_event(content))

    # ---- talking with the map ---------------------------------------------------------------

    def on_click(self, callback: Callable[[dict[str, Any]], Any], remove: bool = False) -> None:
        """Call ``callback(event)`` when the map is clicked (``remove=True`` unregisters it).

        ``event`` is a dict: ``lat``, ``lon`` (degrees), ``value`` (the density at that pixel
        in data units, from the last frame the view drew: what ``density()`` gives for the same
        view), ``count`` (points within ``radius`` pixels, in the time window), ``x``, ``y``
        (the pixel in the map, from its top-left corner). Callbacks run when the kernel is idle.
        """
        self._click_handlers.register_callback(callback, remove=remove)
        self._update_listen("click", self._click_handlers)

    def on_hover(self, callback: Callable[[dict[str, Any]], Any], remove: bool = False) -> None:
        """Call ``callback(event)`` as the mouse moves over the map (at most every ~100 ms);
        ``event`` as for :meth:`on_click`."""
        self._hover_handlers.register_callback(callback, remove=remove)
        self._update_listen("hover", self._hover_handlers)

    def _update_listen(self, name: str, handlers: ipywidgets.CallbackDispatcher) -> None:
        listen = [n for n in self._listen if n != name]
        if handlers.callbacks:
            listen.append(name)
        self._listen = sorted(listen)

    def fit_bounds(self, bounds: Any, *, animate: bool = True) -> None:
        """Move every view to show ``(south, west, north, east)``; ``center``/``zoom``/``bounds``
        follow once a view has moved."""
        s, w, n, e = Bounds().check(bounds)
        if s > n:
            raise ValueError(f"fit_bounds: south {s} is north of north {n}")
        self.send({"type": "fit_bounds", "bounds": [s, w, n, e], "animate": bool(animate)})

    def fly_to(self, lat: float, lon: float, zoom: float | None = None) -> None:
        """Fly every view to ``(lat, lon)`` (and ``zoom``, else the current one), animated.

        ``center``/``zoom`` take the target values at once (without moving the views a second
        time), so a view shown later opens there too."""
        center = LatLon().check((lat, lon))
        target_zoom = self.zoom if zoom is None else Number(min=0.0, max=30.0).check(zoom)
        self.send({"type": "fly_to", "center": list(center), "zoom": target_zoom})
        # Set the traits under the front end's lock: observers run, nothing is sent (the views
        # are flying there and will write the same values back).
        lock: dict[str, Any] = {"center": list(center)}
        if target_zoom is not None:
            lock["zoom"] = target_zoom
        with self._lock_property(**lock), self.hold_trait_notifications():
            self.center = center
            if target_zoom is not None:
                self.zoom = target_zoom

    # ---- frames in Python -------------------------------------------------------------------

    def _radius_pixels(self, lat: float, zoom: float) -> float:
        """``radius`` in pixels of a view centred at ``lat`` (``radius_units``)."""
        if self.radius_units == "pixels":
            return float(self.radius)
        from ..host import viewport as _viewport

        return float(self.radius) / _viewport.meters_per_pixel(lat, zoom)

    def _frame(self, width: int, height: int) -> Any:
        _render, _png, _viewport = _host()
        center, zoom = self.center, self.zoom
        if center is None or zoom is None:
            fit_center, fit_zoom = _viewport.fit_bounds(self.data_bounds, width, height)
            center = fit_center if center is None else center
            zoom = fit_zoom if zoom is None else zoom
        view = _viewport.Viewport(center=center, zoom=zoom, width=width, height=height)
        window = self.time_window
        half_life = self.time_decay
        # The rows go into the Python host's kernel once per change of the rows: repeated
        # to_png()/density() calls reuse it (loading and sorting 1M rows is most of a frame).
        seq = self._store.seq
        cached = self.__dict__.get("_host_kernel")
        if cached is not None and cached[0] == seq:
            kernel, table = cached[1], None
        else:
            self._drop_host_kernel()
            kernel, table = _render.Kernel(), self._store.table()
        try:
            frame = _render.render(
                table,
                view,
                kernel=kernel,
                time_window=None if window is None else _window_ms(window),
                half_life=None if half_life is None else half_life * 1e3,
                radius=self._radius_pixels(center[0], zoom),
                aggregation=self.aggregation,
                vmin=self.vmin,
                vmax=self.vmax,
                scale=self.scale,
                threshold=self.threshold,
                lut=self._lut,
            )
        except BaseException:
            if table is not None:
                kernel.close()  # perhaps half-loaded: not worth keeping
            raise
        self._host_kernel = (seq, kernel)
        return frame

    def _drop_host_kernel(self) -> None:
        cached = self.__dict__.pop("_host_kernel", None)
        if cached is not None:
            cached[1].close()

    def to_png(
        self,
        path: str | Path | None = None,
        *,
        width: int | None = None,
        height: int | None = None,
        background: str | None = "#ffffff",
        view: bool | None = None,
        timeout: float = 10.0,
    ) -> _snapshot.PNG:
        """A PNG of the map (``bytes``, shown as an image when last in a cell), also written
        to ``path`` if given. Synchronous. ``png.info["source"]`` says which picture it is:
        "view" or "python".

        **While the map is displayed** (a live view), it is a snapshot of what the view shows:
        the basemap tiles that loaded, the offline outlines, the heat with its ``opacity``, the
        legend and the attribution, at the map's size on screen (device pixel ratio 1; the PNG
        arrives in chunks of at most 1 MiB, far below the 10 MiB browser-to-kernel limit). The
        cell waits for it, up to ``timeout`` seconds; a map displayed a moment ago from
        JupyterLab or Notebook 7 (the next cell of "Run all") is first given a few seconds for
        its view to appear and draw its data (also when the map is inside a layout). That
        needs a kernel and front end that read widget messages while a cell runs: ipykernel
        >= 7 with JupyterLab >= 4.4 or Notebook >= 7.4 (their default "Kernel comms over
        subshells"); with ipykernel >= 7.4 any front end works; on ipykernel 6 the cell reads
        them itself with jupyter-ui-poll (``pip install "heatwidget[poll]"``). Elsewhere, or
        when no view answers (a closed page, a hidden map), it warns why and falls back to the
        Python rendering; use :meth:`snapshot` there, which returns a Future that resolves
        after the cell.

        **Without a view** (never displayed, a script, nbconvert), or with ``view=False``, the
        heat layer is rendered in Python by the same WebAssembly kernel, at ``width`` ×
        ``height`` (default 800 × 600), over ``background`` ("#rrggbb", or None for a
        transparent PNG), without basemap or legend. These three apply to that rendering only:
        given with a live view, a warning says the picture is the map's own size instead. The
        view is the widget's ``center``/``zoom``, or fits ``data_bounds`` while they are None.
        Needs wasmtime (``pip install "heatwidget[png]"``).

        ``view=True`` insists on the view's picture: it raises ``RuntimeError`` (no view, no
        way to wait for one, or the view could not compose it) or ``TimeoutError`` instead of
        falling back.
        """
        png, why = None, None
        # Pyodide has one thread: nothing could read the view's answer while this waits.
        if view or (view is None and sys.platform != "emscripten"):
            png, why = self._png_from_view(bool(view), timeout)
        # These three shape the Python rendering only: not silently dropped when unused.
        given = [
            name
            for name, asked in (
                ("width", width is not None),
                ("height", height is not None),
                ("background", background != "#ffffff"),
            )
            if asked
        ]
        if png is None:
            png = self._png_from_python(width, height, background, why)
        elif given:
            warnings.warn(
                f"to_png(): {', '.join(given)} apply to the Python rendering; this is the "
                f"displayed map's picture, {png.info.get('width')} x {png.info.get('height')} "
                "px (its size on screen). Pass view=False for the heat alone at the size you ask.",
                UserWarning,
                stacklevel=2,
            )
        if path is not None:
            Path(path).write_bytes(png)
        return png

    def _png_from_python(
        self, width: int | None, height: int | None, background: str | None, why: str | None
    ) -> _snapshot.PNG:
        """The heat rendered by the Python host; ``why`` the view's picture is not it, if any."""
        w = 800 if width is None else int(width)
        h = 600 if height is None else int(height)
        frame = self._frame(w, h)
        data = _host()[1].encode_png(frame.rgba, background=background, opacity=self.opacity)
        info: dict[str, Any] = {"source": "python", "width": w, "height": h}
        if why is not None:
            info["view_unavailable"] = why
        return _snapshot.PNG(data, info)

    def _png_from_view(
        self, required: bool, timeout: float
    ) -> tuple[_snapshot.PNG | None, str | None]:
        """(the live view's snapshot, waited for here, or None; why not, when there is a view
        but the Python rendering must stand in: a warning has said so)."""
        route = self._reply_route
        if not self._snapshots.live and not self._just_shown():
            return self._no_view(required)
        with route.reading() as pump:  # ipykernel 6: this code reads the views' messages
            if not self._snapshots.live:
                self._await_new_view(pump)
            if not self._snapshots.live:
                return self._no_view(required)
            why = route.cannot_wait()
            if why is None:
                try:
                    future = self._snapshots.wait(timeout, route.awaiting, pump)
                except (TimeoutError, RuntimeError, ValueError) as exc:
                    # no answer in time; or the view could not compose one (a hidden map)
                    if required:
                        raise
                    why = str(exc)
                else:
                    return _snapshot.PNG(future.result(), future.info), None
        if required:
            raise RuntimeError(f"to_png(view=True) cannot wait for the displayed map: {why}.")
        warnings.warn(
            f"to_png(): the displayed map's picture is not available here ({why}); "
            "this is the Python rendering (heat only, no basemap or legend). "
            "m.snapshot(path) returns a Future that gets the map's picture after this cell.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None, why

    @staticmethod
    def _no_view(required: bool) -> tuple[None, None]:
        if required:
            raise RuntimeError(
                "to_png(view=True): no view of this map is displayed. Display it "
                "(put `m` last in a cell), or call to_png() for the Python rendering."
            )
        return None, None

    def _just_shown(self) -> bool:
        """Displayed in the last minute (on its own or in a layout): a view may be on its way."""
        return self._shown_at is not None and time.monotonic() - self._shown_at <= 60.0

    def _await_new_view(self, pump: _cell_wait.Pump | None) -> None:
        """A map displayed a moment ago (the caller checked) from JupyterLab or Notebook 7
        ("Run all": the map's cell, then this one) has no view yet: the browser is making the
        model, then the view, which says hello when it exists. Waits for both, a few seconds
        at most."""
        route = self._reply_route
        if not route.hears_while_waiting():
            return
        if not (route.await_front_end(0) or _cell_wait.run_from_a_browser()):
            return
        # no ping: there is no view to answer one yet
        if not route.await_front_end(VIEW_GRACE_SECONDS, pump) or route.cannot_wait(ping=False):
            return
        self._snapshots.await_view(VIEW_GRACE_SECONDS, pump)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self._shown_at = time.monotonic()
        return super()._repr_mimebundle_(**kwargs)

    def _displayed_in_a_box(self) -> None:
        """A layout holding this map is being displayed (see ``_displayed``)."""
        self._shown_at = time.monotonic()

    def snapshot(
        self, path: str | Path | None = None, *, timeout: float | None = None
    ) -> Future[bytes]:
        """A PNG of exactly what a live view of the map shows, as a ``Future[bytes]``.

        The first displayed view to answer composes, at device pixel ratio 1 and the map's
        size: the basemap tiles that loaded, the offline outlines, the heat with its
        ``opacity``, the legend and the attribution; the PNG comes back in chunks of at most
        1 MiB (so a big map never meets the 10 MiB browser-to-kernel message limit). It is
        written to ``path`` if given.

        **The Future may resolve only after the current cell ends** (the kernel reads the
        answer to it on the main shell, which the cell occupies), so do not call
        ``f.result()`` in the cell that asked; :meth:`to_png` is the way to wait for the
        picture inside a cell. The Future suits code that must not block::

            f = m.snapshot("map.png")   # cell 1
            png = f.result()            # cell 2 (map.png is written too); f.info says more

        With no live view (never displayed, or every view closed) it resolves at once with
        the Python-host rendering (``to_png(width=800, height=self.height)``, heat only).
        ``timeout`` (default 30) is the seconds of idle kernel (time spent running cells does
        not count) the views have to answer; views that do not (a reloaded page's old views)
        are forgotten, and the Future fails with ``TimeoutError``. ``f.info`` says where the
        PNG came from: ``source`` ("view" or "python"), ``width``, ``height``, ``chunks``,
        ``tiles`` ("drawn", "none", or "left out: ..." when tiles from another origin would
        have tainted the canvas).
        """
        return self._snapshots.request(path, timeout)

    def _snapshot_fallback(self) -> bytes:
        return self.to_png(width=800, height=int(self.height), view=False)

    def _send_to_views(self, content: dict[str, Any]) -> None:
        self.send(content)

    def close(self) -> None:
        snapshots = self.__dict__.get("_snapshots")
        if snapshots is not None:
            snapshots.close()
        self._drop_host_kernel()
        super().close()

    def density(self, width: int | None = None, height: int | None = None) -> Density:
        """The density grid of the view ``to_png`` would draw (default 800 × ``height``).

        Returns a :class:`Density` (``grid``, ``bounds``, ``vmin``, ``vmax``) that also unpacks
        as ``grid, bounds = m.density()``: ``grid`` is float32, rows × columns, top row first,
        before colour-mapping. Pixel (row ``i``, column ``j``) covers Leaflet's container pixels
        ``[j, j+1) × [i, i+1)``, so a point exactly on an edge lands in the pixel to its right
        or below. With ``radius=0`` each cell is exactly the ``aggregation`` of the points that
        land in it. Needs wasmtime (``pip install "heatwidget[png]"``).
        """
        frame = self._frame(int(width or 800), int(height or self.height))
        return Density(
            grid=frame.grid,
            bounds=tuple(float(v) for v in frame.bounds),  # type: ignore[arg-type]
            vmin=float(frame.vmin),
            vmax=float(frame.vmax),
        )

    def save_html(self, path: str | Path, *, title: str | None = None) -> Path:
        """Write one standalone HTML file that shows this heatmap, interactive and offline.

        The bundle, the points and the current settings are embedded (about 330 KB plus
        21 bytes a point, 27 with weights); the file needs no server and no network.
        """
        from ..export import html as _html

        return _html.save_html(self, path, title=title)


def _window_ms(window: tuple[Any, Any]) -> tuple[float | None, float | None]:
    return (
        None if window[0] is None else time_ms(window[0]),
        None if window[1] is None else time_ms(window[1]),
    )


def _event(content: dict[str, Any]) -> dict[str, Any]:
    """A click/hover message from the front end → the event dict callbacks get."""
    out: dict[str, Any] = {"type": content.get("type")}
    for key in ("lat", "lon", "value", "count", "x", "y"):
        value = content.get(key)
        out[key] = int(value) if key == "count" and value is not None else value
    return out


def _on_custom_msg(widget: Heatmap, content: Any, buffers: Any) -> None:
    if isinstance(content, dict):
        widget._handle_front_end(content, buffers)

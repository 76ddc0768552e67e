"""``Heatmap``: the widget's public methods over its traits (traits/heatmap.py). A facade:
nothing numeric happens here.

Its collaborators do the work, each testable without a comm: the rows and their messages
(``PointStream``, widget/stream.py, over ``points/``), the Python host's frames
(``HostRendering``), the views' pictures (``ViewPictures``) and the map's events
(``MapEvents``). Messages from the views go through one table (views/protocol.py).
"""

from __future__ import annotations

import importlib
import uuid
import warnings
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from ..traits import basemaps as _basemaps
from ..traits import colormaps as _colormaps
from ..traits.heatmap import HeatmapTraits
from ..traits.values import Bounds, LatLon, MaxPoints, Number
from ..views import displayed as _displayed
from ..views import protocol
from ..views import snapshot as _snapshot
from .events import MapEvents
from .keywords import keyword_names, unknown_keywords_message
from .pictures import VIEW_GRACE_SECONDS, ViewPictures
from .rendering import Density, HostRendering
from .selecting import Selecting
from .stream import PointStream, table_of

__all__ = ["CLICK_ROWS", "VIEW_GRACE_SECONDS", "Density", "Heatmap"]

#: Rows an on_click event carries at most (the nearest to the click).
CLICK_ROWS = 10

if TYPE_CHECKING:
    pass


_STATIC = Path(__file__).resolve().parent.parent / "static"

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


class Heatmap(HeatmapTraits, anywidget.AnyWidget):
    """A heatmap of lat/lon points on a Leaflet map, drawn by a WebAssembly kernel.

    ``Heatmap(data=None, *, lat=None, lon=None, weight=None, **traits)``: ``data`` is a pandas
    DataFrame, pyarrow Table/RecordBatch, dict of columns or any Arrow stream object, with
    ``lat``/``lon``/``weight`` naming its columns (lat/lon are found by common names when not
    given); without ``data``, ``lat``/``lon``/``weight`` are arrays. Any trait below can be
    given as a keyword: ``Heatmap(df, weight="mag", colormap="viridis", radius=15)``.
    """

    _esm = _asset("widget.js", _UNBUILT_ESM)
    _css = _asset("widget.css", "")

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
        unknown = [k for k in kwargs if k not in keyword_names(type(self))]
        if unknown:
            raise TypeError(unknown_keywords_message(type(self), unknown))
        # Before super().__init__, so the comm opens with the data in its first message.
        self._stream = PointStream(self._send_rows, self._sync_store)
        self._events = MapEvents(lambda names: setattr(self, "_listen", names), self._click_rows)
        self._rendering = HostRendering(self, lambda: self._stream.seq, self._stream.store.table)
        self._selecting = Selecting(self, self._stream.store.table, lambda: self._stream.seq)
        table = table_of(data, lat, lon, weight, time, time_unit, stacklevel=3)
        if kwargs.get("max_points") is not None:
            kwargs["max_points"] = MaxPoints().check(kwargs["max_points"])
        self._stream.start(table, kwargs.get("max_points"))
        origin = Selecting.origin(data, lat, lon, weight, time, time_unit, table.num_rows)
        self._selecting.replaced(origin, self._stream.store.count)
        self._sync_store(notify=False)
        kwargs.setdefault("_uid", uuid.uuid4().hex)
        super().__init__(**kwargs)
        self.on_msg(_on_custom_msg)
        self._pictures = ViewPictures(lambda content: self.send(content), self._snapshot_fallback)
        pictures, stream, events = self._pictures, self._stream, self._events
        #: The one table of the views' messages (views/protocol.py).
        self._dispatcher = protocol.Dispatcher(
            {
                protocol.SNAPSHOT: pictures.on_chunk,
                protocol.VIEW: pictures.on_view,
                protocol.HELLO: stream.on_sync_request,
                protocol.RESYNC: stream.on_sync_request,
                protocol.CLICK: events.on_message,
                protocol.HOVER: events.on_message,
            },
            before=pictures.seen,
        )
        _displayed.watch_boxes()  # a map shown in a layout is noted too
        if self.comm is not None:
            pictures.attach(self.comm)

    @property
    def _snapshots(self) -> _snapshot.Snapshots:
        return self._pictures.snapshots

    @property
    def _reply_route(self) -> Any:
        return self._pictures.route

    @property
    def _shown_at(self) -> float | None:
        return self._pictures.shown_at

    def _send_rows(self, content: dict[str, Any], buffers: list[Any] | None) -> None:
        self.send(content, buffers=buffers)

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

    def _sync_store(self, *, notify: bool = True) -> None:
        """The counts and extents of the rows as ordinary synced traits (one state message);
        the Python host's kernel holds the old rows: let go."""
        rendering = self.__dict__.get("_rendering")
        if rendering is not None:
            rendering.drop()
        values = self._stream.summary()
        if not notify:
            for name, value in values.items():
                self.set_trait(name, value)
            return
        with self.hold_sync():
            for name, value in values.items():
                self.set_trait(name, value)

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
        table = table_of(data, lat, lon, weight, time, time_unit, stacklevel=3)
        self._stream.replace(table, self.max_points)
        origin = Selecting.origin(data, lat, lon, weight, time, time_unit, table.num_rows)
        self._selecting.replaced(origin, self._stream.store.count)

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
        table = table_of(data, lat, lon, weight, time, time_unit, stacklevel=3)
        self._stream.append(table, self.max_points)
        origin = Selecting.origin(data, lat, lon, weight, time, time_unit, table.num_rows)
        self._selecting.added(origin, self._stream.store.count)

    def clear(self) -> None:
        """Forget every point (the view is kept)."""
        self.set_data()

    @traitlets.observe("max_points")
    def _on_max_points(self, change: dict[str, Any]) -> None:
        self._stream.trim(change["new"])
        self._selecting.trimmed(self._stream.store.count)

    def _handle_front_end(self, content: Any, buffers: list[Any] | None = None) -> None:
        self._dispatcher.dispatch(content, buffers)

    # ---- talking with the map ---------------------------------------------------------------

    def on_click(self, callback: Callable[[dict[str, Any]], Any], remove: bool = False) -> None:
        """Call ``callback(event)`` when the map is clicked (``remove=True`` unregisters it).

        ``event`` is a dict: ``lat``, ``lon`` (degrees), ``value`` (the density at that pixel
        in data units, from the last frame the view drew: what ``density()`` gives for the same
        view), ``count`` (points within ``radius`` pixels, in the time window), ``x``, ``y``
        (the pixel in the map, from its top-left corner), and ``rows``: the user's rows (every
        column, the kind of table given, as ``selected()`` gives them) of the ``CLICK_ROWS``
        (10) rows held nearest to the click within ``radius`` pixels (at least 1), nearest
        first, or None when there are none. Callbacks run when the kernel is idle.
        """
        self._events.register(protocol.CLICK, callback, remove)

    def _click_rows(self, event: dict[str, Any]) -> dict[str, Any]:
        """A click's event with ``rows``: the user's rows nearest to it (see on_click)."""
        zoom = self.zoom
        lat, lon = event.get("lat"), event.get("lon")
        if zoom is None or lat is None or lon is None:
            return {**event, "rows": None}
        radius = self._rendering.radius_pixels(float(lat), float(zoom))
        rows = self._selecting.near(float(lat), float(lon), float(zoom), radius, CLICK_ROWS)
        return {**event, "rows": rows}

    def on_hover(self, callback: Callable[[dict[str, Any]], Any], remove: bool = False) -> None:
        """Call ``callback(event)`` as the mouse moves over the map (at most every ~100 ms);
        ``event`` as for :meth:`on_click`."""
        self._events.register(protocol.HOVER, callback, remove)

    # ---- asking the map ---------------------------------------------------------------------

    @traitlets.observe("selection")
    def _on_selection(self, _change: dict[str, Any]) -> None:
        self._selecting.changed()

    def on_select(self, callback: Callable[[dict[str, Any]], Any], remove: bool = False) -> None:
        """Call ``callback(event)`` whenever ``selection`` changes (set in Python or drawn on
        the map; ``remove=True`` unregisters it).

        ``event`` is a dict: ``count`` (rows held inside the selection, boundary included; with
        a ``time_window``, only the rows in it), ``sum`` (their summed weight: ``count`` without
        a weight column; ``time_decay`` does not weigh it) and ``geometry`` (the selection's
        GeoJSON dict, or None when it was cleared, with count 0 and sum 0.0).
        """
        self._selecting.register(callback, remove)

    def selected(self) -> Any:
        """The rows inside ``selection``, as the kind of table they were given in: a pandas
        (Geo)DataFrame for a (Geo)DataFrame, a polars DataFrame for polars, a pyarrow Table
        for a Table (or a file, or another Arrow stream object), a dict of the same kind of
        columns for a dict or ``lat=``/``lon=`` arrays, a FeatureCollection for GeoJSON. Every
        column the user gave, rows in their original order (inputs given by ``append()`` one
        after the other, concatenated; a list of pieces if they are of different kinds). None
        when there is no selection.

        The rows counted are those of ``on_select``'s ``count`` (boundary included, in the
        ``time_window`` if any). The widget keeps a reference to each input whose rows it holds
        (not a copy), and 8 bytes a row once ``selected()`` has been called; an input changed
        in place since it was given is an error.
        """
        return self._selecting.selected()

    def fit_bounds(self, bounds: Any, *, animate: bool = True) -> None:
        """Move every view to show ``(south, west, north, east)``; ``center``/``zoom``/``bounds``
        follow once a view has moved."""
        s, w, n, e = Bounds().check(bounds)
        if s > n:
            raise ValueError(f"fit_bounds: south {s} is north of north {n}")
        self.send(protocol.fit_bounds([s, w, n, e], bool(animate)))

    def fly_to(self, lat: float, lon: float, zoom: float | None = None) -> None:
        """Fly every view to ``(lat, lon)`` (and ``zoom``, else the current one), animated.

        ``center``/``zoom`` take the target values at once (without moving the views a second
        time), so a view shown later opens there too."""
        center = LatLon().check((lat, lon))
        target_zoom = self.zoom if zoom is None else Number(min=0.0, max=30.0).check(zoom)
        self.send(protocol.fly_to(list(center), target_zoom))
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

    def to_png(
        self,
        path: str | Path | None = None,
        *,
        width: int | None = None,
        height: int | None = None,
        background: str | None = "#ffffff",
        view: bool | None = None,
        timeout: float = 10.0,
        heat_only: bool = False,
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
        map is rendered in Python by the same WebAssembly kernel at ``width`` × ``height``
        (default 800 × 600) as the view draws it offline: the sea, the Natural Earth outlines
        the front end bundles, the heat at ``opacity`` and the legend (no basemap tiles). With
        ``heat_only=True`` it is the heat alone over ``background`` ("#rrggbb"); with
        ``background=None``, the heat alone in a transparent PNG. These apply to that rendering
        only: given with a live view, a warning says the picture is the map's own size instead.
        The view is the widget's ``center``/``zoom``, or fits ``data_bounds`` while they are
        None. Needs wasmtime (``pip install "heatwidget[png]"``).

        ``view=True`` insists on the view's picture: it raises ``RuntimeError`` (no view, no
        way to wait for one, or the view could not compose it) or ``TimeoutError`` instead of
        falling back.
        """
        png, why = None, None
        if view is not False:
            png, why = self._pictures.in_cell(bool(view), timeout)
        # These three shape the Python rendering only: not silently dropped when unused.
        given = [
            name
            for name, asked in (
                ("width", width is not None),
                ("height", height is not None),
                ("background", background != "#ffffff"),
                ("heat_only", heat_only),
            )
            if asked
        ]
        if png is None:
            png = self._rendering.png(width, height, background, why, heat_only=heat_only)
        elif given:
            warnings.warn(
                f"to_png(): {', '.join(given)} apply to the Python rendering; this is the "
                f"displayed map's picture, {png.info.get('width')} x {png.info.get('height')} "
                "px (its size on screen). Pass view=False for the Python rendering at the size "
                "you ask.",
                UserWarning,
                stacklevel=2,
            )
        if path is not None:
            Path(path).write_bytes(png)
        return png

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self._pictures.shown()
        bundle = super()._repr_mimebundle_(**kwargs)
        # anywidget gives (data, metadata), ipywidgets a dict
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if self.static_picture and isinstance(data, dict):
            picture = self._rendering.static_picture(int(self.height))
            if picture is not None:
                # Live front ends rank the widget view first (JupyterLab's widget renderer has
                # rank -10, before image/png's); nbconvert skips the view when the notebook
                # holds no widget state and shows the PNG; GitHub and nbviewer show the PNG.
                data["image/png"] = picture
        return bundle

    def _displayed_in_a_box(self) -> None:
        """A layout holding this map is being displayed (see ``_displayed``)."""
        self._pictures.shown()

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
        the Python-host rendering (``to_png(width=800, height=self.height, view=False)``).
        ``timeout`` (default 30) is the seconds of idle kernel (time spent running cells does
        not count) the views have to answer; views that do not (a reloaded page's old views)
        are forgotten, and the Future fails with ``TimeoutError``. ``f.info`` says where the
        PNG came from: ``source`` ("view" or "python"), ``width``, ``height``, ``chunks``,
        ``tiles`` ("drawn", "none", or "left out: ..." when tiles from another origin would
        have tainted the canvas).
        """
        return self._pictures.request(path, timeout)

    def _snapshot_fallback(self) -> bytes:
        return self.to_png(width=800, height=int(self.height), view=False)

    async def to_png_async(
        self, path: str | Path | None = None, *, timeout: float = 10.0
    ) -> _snapshot.PNG:
        """``png = await m.to_png_async()``: the live view's picture, as :meth:`to_png` gives
        it, awaited on the kernel's event loop instead of blocking the cell. It relies on public
        API only (a Future over :meth:`snapshot`): the answer is read while the cell awaits,
        which ipykernel >= 7 does in JupyterLab >= 4.4 and Notebook >= 7.4 (tested in the
        browser); where no view answers within ``timeout`` wall-clock seconds (ipykernel 6, a
        hidden or closed map) it warns why and returns the Python rendering, as ``to_png()``
        does. Without a live view, the Python rendering at once. Written to ``path`` if given."""
        try:
            future = await self._pictures.request_async(timeout)
            png = _snapshot.PNG(future.result(), future.info)
        except (TimeoutError, RuntimeError) as exc:
            warnings.warn(
                f"to_png_async(): the displayed map's picture did not come ({exc}); this is "
                "the Python rendering (outlines, heat and legend; no basemap tiles).",
                RuntimeWarning,
                stacklevel=2,
            )
            png = self._rendering.png(800, int(self.height), "#ffffff", str(exc))
        if png.info.get("source") == "python":
            png.info.setdefault("width", 800)
            png.info.setdefault("height", int(self.height))
        if path is not None:
            Path(path).write_bytes(png)
        return png

    def close(self) -> None:
        pictures = self.__dict__.get("_pictures")
        if pictures is not None:
            pictures.close()
        rendering = self.__dict__.get("_rendering")
        if rendering is not None:
            rendering.drop()
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
        frame = self._rendering.frame(int(width or 800), int(height or self.height))
        return Density(
            grid=frame.grid,
            bounds=tuple(float(v) for v in frame.bounds),  # type: ignore[arg-type]
            vmin=float(frame.vmin),
            vmax=float(frame.vmax),
        )

    def hotspots(
        self,
        level: float | None = None,
        quantile: float | None = None,
        width: int | None = None,
        height: int | None = None,
        *,
        as_geodataframe: bool = False,
    ) -> Any:
        """The polygons where the view's density is at least ``level`` (holes kept), in lon/lat.

        The density is the grid :meth:`density` returns for the same ``width`` × ``height``
        (default 800 × ``height``) and view (the same maths the map uses), so the polygons are
        the shapes the heat shows at that level. ``level`` is a density in the grid's units;
        without it, ``quantile`` (default 0.95) of the grid's non-zero cells is the level.
        Traced by contourpy's filled contours through the cell centres, one vertex per cell
        edge crossed (``pip install "heatwidget[analysis]"``).

        Returns a GeoJSON FeatureCollection dict, largest polygon first: each Feature's
        geometry is a Polygon in lon/lat (exterior counterclockwise, holes clockwise) and its
        properties ``level``, ``count`` and ``sum``: the rows held inside it (boundary
        included, in the ``time_window`` if any: the same rule as ``on_select``) and their
        summed weight. With ``as_geodataframe=True``, a geopandas GeoDataFrame (EPSG:4326)
        with those columns instead (``pip install "heatwidget[geo]"``). Any polygon can be
        given to ``m.selection`` to get its rows with :meth:`selected`.
        """
        from ..host import hotspots as _hotspots

        w, h = int(width or 800), int(height or self.height)
        frame = self._rendering.frame(w, h)
        view = self._rendering.view(w, h)
        value = _hotspots.level_of(frame.grid, level, quantile)
        spots = _hotspots.trace(frame.grid, view, value)
        totals = self._selecting.totals_of([s.shape for s in spots])
        features = [
            {
                "type": "Feature",
                "geometry": s.shape.geojson,
                "properties": {"level": value, "count": t.count, "sum": t.sum},
            }
            for s, t in zip(spots, totals, strict=True)
        ]
        collection = {"type": "FeatureCollection", "features": features}
        if not as_geodataframe:
            return collection
        try:
            geopandas = importlib.import_module("geopandas")
        except ImportError as exc:
            raise ImportError(
                'hotspots(as_geodataframe=True) needs geopandas: pip install "heatwidget[geo]"'
            ) from exc
        columns = ["geometry", "level", "count", "sum"]
        return geopandas.GeoDataFrame.from_features(features, crs="EPSG:4326", columns=columns)

    def save_html(self, path: str | Path, *, title: str | None = None) -> Path:
        """Write one standalone HTML file that shows this heatmap, interactive and offline.

        The bundle, the points and the current settings are embedded (about 330 KB plus
        21 bytes a point, 27 with weights); the file needs no server and no network.
        """
        from ..export import html as _html

        return _html.save_html(self, path, title=title)


def _on_custom_msg(widget: Heatmap, content: Any, buffers: Any) -> None:
    widget._handle_front_end(content, buffers)  # noqa: SLF001 (its own class, one module)

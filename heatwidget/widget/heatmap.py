"""``Heatmap``: the widget's public methods over its traits (traits/heatmap.py). A facade:
nothing numeric happens here. Its exports (to_png, snapshot, density, hotspots, save_html)
are in widget/exports.py.

Its collaborators do the work, each testable without a comm: the rows and their messages
(``PointStream``, widget/stream.py, over ``points/``), the Python host's frames
(``HostRendering``), the views' pictures (``ViewPictures``) and the map's events
(``MapEvents``). Messages from the views go through one table (views/protocol.py).
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable
from os import PathLike
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..traits import basemaps as _basemaps
from ..traits import colormaps as _colormaps
from ..traits.values import Bounds, LatLon, Number
from ..views import displayed as _displayed
from ..views import protocol
from ..views import snapshot as _snapshot
from .events import MapEvents
from .exports import MapExports
from .keywords import keyword_names, unknown_keywords_message
from .pictures import VIEW_GRACE_SECONDS, ViewPictures
from .rendering import Density, HostRendering
from .selecting import Selecting
from .serving import (
    APPEND,
    DEFAULT_MAX_CLIENT_POINTS,
    ON_SELECT,
    SELECTED,
    ServedPoints,
    serve,
)
from .stream import PointStream, input_table

__all__ = ["CLICK_ROWS", "VIEW_GRACE_SECONDS", "Density", "Heatmap"]

#: Rows an on_click event carries at most (the nearest to the click).
CLICK_ROWS = 10


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


class Heatmap(MapExports, anywidget.AnyWidget):
    """A heatmap of lat/lon points on a Leaflet map, drawn by a WebAssembly kernel.

    ``Heatmap(data=None, *, lat=None, lon=None, weight=None, **traits)``: ``data`` is a pandas
    DataFrame, pyarrow Table/RecordBatch, dict of columns or any Arrow stream object, with
    ``lat``/``lon``/``weight`` naming its columns (lat/lon are found by common names when not
    given); without ``data``, ``lat``/``lon``/``weight`` are arrays. Any trait below can be
    given as a keyword: ``Heatmap(df, weight="mag", colormap="viridis", radius=15)``.

    Big data (``mode``): ``data`` may also be a Dask DataFrame, a DuckDB relation or a Parquet
    path/glob. ``mode=None`` chooses: "server" (rows stay in Python or their engine; each view gets
    its frame's binned grid, widget/serving.py) for Dask, DuckDB, and Parquet datasets or in-memory
    data of more than ``max_client_points`` rows (default 20_000_000: a 512 MB page budget at the
    measured 13.5-22.5 bytes a row); else "client" (rows in the page). ``mode="client"`` or
    ``"server"`` forces one; ``m.mode`` says which, and a warning says why when server mode was
    chosen for you. ``cache``: a file for the server mode's pyramid (built once, loaded from there
    next time); for a Parquet dataset or a DuckDB relation also a spatially sorted Parquet copy of
    the rows next to it (``<cache>.sorted.parquet``, written once by DuckDB, reused next session),
    which views deeper than the pyramid read instead: only the row groups in view. Delete both files
    when the data change.
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
        mode: str | None = None,
        max_client_points: int = DEFAULT_MAX_CLIENT_POINTS,
        cache: str | PathLike[str] | None = None,
        **kwargs: Any,
    ) -> None:
        unknown = [k for k in kwargs if k not in keyword_names(type(self))]
        if unknown:
            raise TypeError(unknown_keywords_message(type(self), unknown))
        # Before super().__init__, so the comm opens with the data in its first message.
        self._stream = PointStream(self._send_rows, self._sync_store, self._check_rows)
        self._events = MapEvents(lambda names: setattr(self, "_listen", names), self._click_rows)
        self._served: ServedPoints | None = None
        self._rendering = HostRendering(
            self, lambda: self._stream.seq, self._stream.store.table, lambda: self._served
        )
        self._selecting = Selecting(self, self._stream.store.table, lambda: self._stream.seq)
        decision = serve(
            data, lat, lon, weight, time, time_unit, mode=mode,
            max_client_points=max_client_points, cache=cache, stacklevel=3,
        )  # fmt: skip
        self._served, self._max_client_points = decision.served, max_client_points
        #: Why ``mode`` is what it is (also in the warning when server mode was chosen for you).
        self.mode_reason = decision.reason
        table, label = decision.table, decision.label
        if "max_points" in kwargs:  # the trait's own check, its error naming it
            kwargs["max_points"] = type(self).max_points.validate(self, kwargs["max_points"])
        self._stream.start(table, kwargs.get("max_points"), label)
        if self._served is None:
            origin = Selecting.origin(data, lat, lon, weight, time, time_unit, table.num_rows)
            self._selecting.replaced(origin, self._stream.store.count)
        self.set_trait("mode", decision.mode)
        self._sync_store(notify=False)
        if decision.mode == "server" and decision.automatic:
            warnings.warn(
                f"heatwidget: server mode ({decision.reason}): the rows stay in Python and "
                "each view gets binned grids. Heatmap(..., mode='client') sends the rows to the "
                "page instead.",
                UserWarning,
                stacklevel=2,
            )
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
                protocol.GRID: self._on_grid,
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

    @traitlets.observe("tooltip")
    def _on_tooltip(self, change: dict[str, Any]) -> None:
        self._tooltip = bool(change["new"])

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

    def _check_rows(self, values: dict[str, Any]) -> None:
        """Raises (TraitError) if the traits that follow the rows would refuse ``values``:
        checked before a change of the rows is made."""
        traits = self.traits()
        for name, value in values.items():
            traits[name]._validate(self, value)  # noqa: SLF001 (the check an assignment runs)

    def _sync_store(self, *, notify: bool = True) -> None:
        """The counts and extents of the rows as ordinary synced traits (one state message);
        the Python host's kernel holds the old rows: let go."""
        rendering = self.__dict__.get("_rendering")
        if rendering is not None:
            rendering.drop()
        served = self.__dict__.get("_served")
        values = self._stream.summary() if served is None else served.summary()
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
        proportion to the rows inside it. In server mode the new data replace the source
        (served again, whatever their size: a map's mode is fixed when it is made) and every
        view asks for its grid again.
        """
        if self._served is not None:
            decision = serve(
                data, lat, lon, weight, time, time_unit, mode="server",
                max_client_points=self._max_client_points, cache=None, stacklevel=3,
            )  # fmt: skip
            old, self._served = self._served, decision.served
            old.close()
            self.mode_reason = decision.reason
            self._sync_store()
            self._grid_version += 1
            return
        table, label = input_table(data, lat, lon, weight, time, time_unit, stacklevel=3)
        self._stream.replace(table, self.max_points, label)
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

        Not available in server mode (ValueError): the rows live in their source.
        """
        if self._served is not None:
            raise ValueError(APPEND.format(what=self._served.what))
        table, label = input_table(data, lat, lon, weight, time, time_unit, stacklevel=3)
        self._stream.append(table, self.max_points, label)
        origin = Selecting.origin(data, lat, lon, weight, time, time_unit, table.num_rows)
        self._selecting.added(origin, self._stream.store.count)

    def clear(self) -> None:
        """Forget every point (the view is kept)."""
        self.set_data()

    @traitlets.observe("max_points")
    def _on_max_points(self, change: dict[str, Any]) -> None:
        self._stream.trim(change["new"])
        self._selecting.trimmed(self._stream.store.count)

    def save_html(
        self, path: str | Path, *, title: str | None = None, max_bytes: int = 50_000_000
    ) -> Path:
        if self._served is None:
            return super().save_html(path, title=title)
        from ..export.served_html import save_served_html

        pyramid = self._served.pyramid
        return save_served_html(self, pyramid, path, title=title, max_bytes=max_bytes)

    save_html.__doc__ = (MapExports.save_html.__doc__ or "") + (
        "\n        In server mode the file embeds the pyramid's zooms 0..L that fit ``max_bytes``"
        "\n        (default 50 MB; export/served_html.py says how L is chosen): it stays"
        "\n        interactive offline to zoom L, deeper zooms show zoom L's pixels and the page"
        "\n        says so. ``max_bytes`` is not used in client mode (the file holds every row).\n"
    )

    def _on_grid(self, content: dict[str, Any], _buffers: list[Any]) -> None:
        """A view's frame in server mode → its grid, binned off the kernel's event loop
        (``ServedPoints.answer_soon``; malformed: ValueError, logged)."""
        if self._served is None:
            raise ValueError("a grid request to a map in client mode")
        decay = None if self.time_decay is None else float(self.time_decay) * 1e3
        self._served.answer_soon(content, decay, lambda a, b: self.send(a, buffers=b))

    @traitlets.observe("time_decay")
    def _on_time_decay(self, _change: dict[str, Any]) -> None:
        if self._served is not None:  # the views' grids were decayed otherwise: ask again
            self._grid_version += 1

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
        try:
            from ..host.render import dots_mix  # numpy's, as near() is
        except ImportError:  # no numpy: near() finds no rows either
            return {**event, "rows": None}
        if dots_mix(float(zoom), self.points_zoom) >= 0.5:
            radius = float(self.points_radius)  # up close: the dots under the click
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

    @traitlets.observe("time_window")
    def _on_time_window(self, _change: dict[str, Any]) -> None:
        # the rows a selection counts are those in the window (play moves it a few times a
        # second at most: play-clock.ts)
        if self.selection is not None:
            self._selecting.changed()

    def on_select(self, callback: Callable[[dict[str, Any]], Any], remove: bool = False) -> None:
        """Call ``callback(event)`` whenever ``selection`` changes (set in Python or drawn on
        the map; ``remove=True`` unregisters it), and, while there is a selection, whenever the
        rows it counts change (``set_data``, ``append``, ``max_points``, ``time_window``).
        An append costs the test of the rows appended only (without a time window).

        ``event`` is a dict: ``count`` (rows held inside the selection, boundary included; with
        a ``time_window``, only the rows in it), ``sum`` (their summed weight: ``count`` without
        a weight column; ``time_decay`` does not weigh it) and ``geometry`` (the selection's
        GeoJSON dict, or None when it was cleared, with count 0 and sum 0.0).
        """
        if self._served is not None and not remove:
            raise ValueError(ON_SELECT)
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
        if self._served is not None:
            raise ValueError(SELECTED)
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

    def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict[str, Any]:
        # `_points` and `_seq` are read from the rows as they are: one snapshot of both, even
        # while another thread appends (a new view must not get rows of one state, the
        # number of another).
        with self._stream.lock:
            return dict(super().get_state(key=key, drop_defaults=drop_defaults))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self._pictures.shown()
        bundle = super()._repr_mimebundle_(**kwargs)
        # anywidget gives (data, metadata), ipywidgets a dict
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        if isinstance(data, dict):
            picture = self._static_picture_png()
            if picture is not None:
                # Live front ends rank the widget view first (JupyterLab's widget renderer has
                # rank -10, before image/png's); nbconvert skips the view when the notebook
                # holds no widget state and shows the PNG; GitHub and nbviewer show the PNG.
                data["image/png"] = picture
        return bundle

    def _displayed_in_a_box(self) -> None:
        """A layout holding this map is being displayed (views/displayed.py)."""
        self._pictures.shown()

    def _static_picture_png(self) -> str | None:
        """The picture a notebook keeps for renderers without widgets (base64 PNG), or None
        (``static_picture=False``, or no Python rendering here)."""
        if not self.static_picture:
            return None
        return self._rendering.static_picture(int(self.height))

    def close(self) -> None:
        pictures = self.__dict__.get("_pictures")
        if pictures is not None:
            pictures.close()
        rendering = self.__dict__.get("_rendering")
        if rendering is not None:
            rendering.drop()
        served = self.__dict__.get("_served")
        if served is not None:
            served.close()
        super().close()


def _on_custom_msg(widget: Heatmap, content: Any, buffers: Any) -> None:
    widget._handle_front_end(content, buffers)  # noqa: SLF001 (its own class, one module)

"""The traits of ``Heatmap``, declared once (the widget's methods are in widget/heatmap.py).

Every synced trait the front end reads is here: the data's (``_points`` and ``_seq`` follow the
widget's point stream, see traits/store.py), time, view, heat, colour and map furniture.
"""

from __future__ import annotations

from typing import Any

import traitlets

from . import basemaps as _basemaps
from .contours import Contours
from .selection import Selection
from .store import FromStream, points_bytes, points_seq
from .values import (
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
    TimeExtent,
    TimeWindow,
    Vmax,
)

__all__ = ["HeatmapTraits"]


class HeatmapTraits(traitlets.HasTraits):
    """The synced traits of a ``Heatmap`` (a mixin: the widget adds the behaviour)."""

    # ---- data (set_data, append, clear) -----------------------------------------------------
    # How points reach the views (docs/architecture.md, "Streaming"): `_points` and `_seq` are
    # the full state a NEW front-end model gets (get_state: first display, page reload); they
    # change silently (no trait notification, so ipywidgets never re-sends all rows). Views
    # that exist get numbered custom messages instead: {"type": "delta", seq, rows, drop} with
    # the new rows as one binary buffer, or {"type": "reset", seq} with all rows.
    # How points reach the views (widget/stream.py): `_points` and `_seq` are the full state
    # a NEW front-end model gets; they are read from the stream and never notify.
    _points = FromStream(
        b"",
        points_bytes,
        help="All points as wire-format Arrow IPC bytes (x, y[, weight][, time]).",
    ).tag(sync=True)
    _seq = FromStream(
        0, points_seq, help="Number of the last change to the points (see widget/stream.py)."
    ).tag(sync=True)
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
    mode = traitlets.Unicode(
        "client",
        read_only=True,
        help='"client": the rows are in the page; "server": they stay in Python (or their '
        "engine) and each view gets its frame's binned grid (Heatmap(mode=...) chooses).",
    ).tag(sync=True)
    _grid_version = traitlets.Int(
        0, help="Server mode: number of the served data; views ask for new grids when it changes."
    ).tag(sync=True)

    # ---- time -------------------------------------------------------------------------------
    time_extent = TimeExtent(
        None,
        allow_none=True,
        read_only=True,
        help="(first, last) time of the rows held (UTC datetimes), or None without a time column; "
        "first == last when every row has the same time (one instant).",
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
    # Synced as `_tooltip`: ipywidgets' own views read a truthy `tooltip` as their title text
    # (with a `description`) and fail to render the map. The public name is a keyword too.
    tooltip = traitlets.Bool(
        False, help="Show the density and point count under the mouse in a tooltip."
    ).tag(keyword=True)
    _tooltip = traitlets.Bool(False, help="`tooltip`, as the front end reads it.").tag(sync=True)
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
    vmin = Number(
        0.0,
        help="The density drawn with the colormap's low end; at most vmax when vmax is a number "
        "(set both together with hold_trait_notifications() to move the domain past itself).",
    ).tag(sync=True)
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

    @traitlets.validate("vmin", "vmax")
    def _check_domain(self, proposal: Any) -> Any:
        """vmin <= vmax when vmax is a number (against "auto"/"p<q>" the frame decides).

        Checked on each assignment; inside ``hold_trait_notifications()`` (and the
        constructor) once at the end, on the final pair, so both can move together."""
        name, value = proposal["trait"].name, proposal["value"]
        vmin = value if name == "vmin" else self.vmin
        vmax = value if name == "vmax" else self.vmax
        if isinstance(vmax, float) and vmin > vmax:
            raise traitlets.TraitError(
                f"{type(self).__name__}.{name}: vmin {vmin!r} > vmax {vmax!r}: the colour scale "
                "would be empty and nothing drawn. To move both, set them together: "
                "`with m.hold_trait_notifications(): m.vmin = ...; m.vmax = ...` (checked once, "
                "at the end), or give both to Heatmap(...); or set vmax first when raising both."
            )
        return value

    # ---- asking the map ---------------------------------------------------------------------
    selection = Selection(
        None,
        allow_none=True,
        help="None, or a GeoJSON Polygon/MultiPolygon dict (lon/lat degrees) drawn on the map or "
        "set from Python; checked (closed rings, >= 3 distinct vertices, finite numbers, no "
        "crossing edges). Edges go the short way round the antimeridian. on_select() and "
        "selected() read it.",
    ).tag(sync=True)
    contours = Contours(
        None,
        allow_none=True,
        help='Isolines drawn over the heat: "auto" (five levels spread over the colour domain '
        "of each frame), a list of density levels (as density() gives them), or None. Traced "
        "in the page on the frame it drew, in the colormap's colours, once the map settles.",
    ).tag(sync=True)
    points_zoom = Number(
        None,
        allow_none=True,
        min=0.0,
        max=30.0,
        help="From this zoom on, the map draws the rows as dots instead of the heat (up close, "
        "where a click's rows are the dots under it); None: always the heat.",
    ).tag(sync=True)
    points_radius = Number(
        4.0,
        min=1.0,
        max=32.0,
        help="Radius of the dots up close (points_zoom), in CSS pixels; a click's rows are "
        "those within it.",
    ).tag(sync=True)
    static_picture = traitlets.Bool(
        True,
        help="Also put a PNG of the map (the Python rendering: outlines, heat, legend; as wide "
        "as the map was shown, 800 px on a first display) in the display, for where no "
        "JavaScript runs (GitHub, nbviewer, nbconvert "
        "--to html without widget state). It is the map when displayed and does not follow "
        "later changes. Costs one Python rendering per display (needs wasmtime; skipped "
        "without it). Not synced.",
    ).tag(keyword=True)

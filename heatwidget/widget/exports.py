"""``MapExports``: what a map gives back as files and numbers: ``to_png()`` (the view's
picture or the Python rendering), ``to_png_async()``, ``snapshot()``, ``density()``,
``hotspots()`` and ``save_html()``. A part of the ``Heatmap`` facade (widget/heatmap.py),
kept apart so each file reads in one sitting; the work is its collaborators': the views'
pictures (``ViewPictures``), the Python host's frames (``HostRendering``) and the rows
inside shapes (``Selecting``).
"""

from __future__ import annotations

import importlib
import warnings
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..traits.heatmap import HeatmapTraits
from ..views import snapshot as _snapshot
from .rendering import Density, frame_size

if TYPE_CHECKING:
    from .pictures import ViewPictures
    from .rendering import HostRendering
    from .selecting import Selecting

__all__ = ["MapExports"]


class MapExports(HeatmapTraits):
    """The exports of a ``Heatmap`` (a mixin: the widget makes the collaborators)."""

    _pictures: ViewPictures
    _rendering: HostRendering
    _selecting: Selecting

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
        frame_size(width, 800, "width", "to_png")  # refused whichever picture it is
        frame_size(height, 600, "height", "to_png")
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

    def density(self, width: int | None = None, height: int | None = None) -> Density:
        """The density grid of the view ``to_png`` would draw (default 800 × ``height``).

        Returns a :class:`Density` (``grid``, ``bounds``, ``vmin``, ``vmax``) that also unpacks
        as ``grid, bounds = m.density()``: ``grid`` is float32, rows × columns, top row first,
        before colour-mapping. Pixel (row ``i``, column ``j``) covers Leaflet's container pixels
        ``[j, j+1) × [i, i+1)``, so a point exactly on an edge lands in the pixel to its right
        or below. With ``radius=0`` each cell is exactly the ``aggregation`` of the points that
        land in it. Needs wasmtime (``pip install "heatwidget[png]"``).
        """
        frame = self._rendering.frame(
            frame_size(width, 800, "width", "density"),
            frame_size(height, int(self.height), "height", "density"),
        )
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

        w = frame_size(width, 800, "width", "hotspots")
        h = frame_size(height, int(self.height), "height", "hotspots")
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

        The bundle, the points and the current settings are embedded (about 400 KB plus
        21 bytes a point, 27 with weights); the file needs no server and no network.
        """
        from ..export import html as _html

        return _html.save_html(self, path, title=title)

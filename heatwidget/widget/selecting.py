"""``Selecting``: the widget's selection, its totals, ``on_select`` callbacks and the rows
inside (``selected()``), over the rows the widget holds. Testable without a comm.

``origins`` follows every change of the rows (the widget calls ``replaced``/``added``/
``trimmed``), so ``selected()`` gives back the user's own rows (see selection/origins.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets

from ..selection.origins import Origin, RowOrigins, concat, take_rows
from .rendering import window_ms

if TYPE_CHECKING:  # numpy's: imported once a selection is set (the widget is made without it)
    from ..selection.shape import Shape
    from ..selection.totals import SelectionTotals

Callback = Callable[[dict[str, Any]], Any]


class Selecting:
    """``settings`` has the widget's traits (selection, time_window); ``table()`` and ``seq()``
    give the rows held."""

    def __init__(self, settings: Any, table: Callable[[], Any], seq: Callable[[], int]) -> None:
        self._settings = settings
        self.origins = RowOrigins()
        self._table, self._seq = table, seq
        self._totals: SelectionTotals | None = None
        self._callbacks = ipywidgets.CallbackDispatcher()
        self._shape: tuple[Any, Shape] | None = None

    # ---- the rows held ----------------------------------------------------------------------

    @staticmethod
    def origin(
        data: Any, lat: Any, lon: Any, weight: Any, time: Any, time_unit: str, rows: int
    ) -> Origin:
        return Origin(data, lat, lon, weight, time, time_unit, rows)

    # Each change of the rows tells the callbacks when a selection is set: its count and sum
    # follow the rows (a live feed under a drawn shape), at the cost of the rows changed.

    def replaced(self, origin: Origin, held: int) -> None:
        self.origins.replace(origin)
        self.origins.keep_last(held)
        if self._totals is not None:
            self._totals.forget()
        self._rows_changed()

    def added(self, origin: Origin, held: int) -> None:
        self.origins.add(origin)
        self.origins.keep_last(held)
        if self._totals is not None:
            self._totals.appended(origin.rows, held)
        self._rows_changed()

    def trimmed(self, held: int) -> None:
        before = self.origins.count
        self.origins.keep_last(held)
        if self._totals is not None:
            self._totals.trimmed(held)
        if held != before:
            self._rows_changed()

    def _rows_changed(self) -> None:
        if self._settings.selection is not None:
            self.changed()

    @property
    def totals(self) -> SelectionTotals:
        if self._totals is None:
            from ..selection.totals import SelectionTotals

            self._totals = SelectionTotals(self._table, self._seq)
        return self._totals

    # ---- the shape --------------------------------------------------------------------------

    def shape(self) -> Shape | None:
        geometry = self._settings.selection
        if geometry is None:
            return None
        cached = self._shape
        if cached is None or cached[0] is not geometry:
            from ..selection.shape import Shape

            cached = (geometry, Shape.parse(geometry))
            self._shape = cached
        return cached[1]

    def _window(self) -> tuple[float | None, float | None] | None:
        window = self._settings.time_window
        return None if window is None else window_ms(window)

    def event(self) -> dict[str, Any]:
        """``{"count", "sum", "geometry"}`` of the current selection (0, 0.0, None without)."""
        shape = self.shape()
        if shape is None:
            return {"count": 0, "sum": 0.0, "geometry": None}
        t = self.totals.totals(shape, self._window())
        return {"count": t.count, "sum": t.sum, "geometry": shape.geojson}

    def totals_of(self, shapes: list[Shape]) -> list[Any]:
        """Count and sum of the rows held (in the time window) inside each of ``shapes``."""
        return self.totals.each(shapes, self._window())

    def near(self, lat: float, lon: float, zoom: float, radius_px: float, limit: int) -> Any:
        """The user's rows of the ``limit`` rows held nearest to (lat, lon) within
        ``radius_px`` pixels at ``zoom`` (in the time window), nearest first within each input;
        None when there are none (or no numpy)."""
        try:
            import numpy as np
        except ImportError:
            return None
        table = self._table()
        if not table.num_rows:
            return None
        lons = np.asarray(table.column("lon"), dtype=np.float64)
        lats = np.asarray(table.column("lat"), dtype=np.float64)
        keep = np.ones(len(lons), dtype=bool)
        window = self._window()
        if window is not None and "time" in table.column_names:
            times = np.asarray(table.column("time"), dtype=np.float64)
            if window[0] is not None:
                keep &= times >= window[0]
            if window[1] is not None:
                keep &= times < window[1]
        # Web Mercator pixels at `zoom` (Leaflet's), the shorter way round in x
        world = 256.0 * 2.0**zoom

        def pixels(la: Any, lo: Any) -> tuple[Any, Any]:
            s = np.sin(np.radians(np.clip(la, -85.0511287798, 85.0511287798)))
            x = (np.asarray(lo) + 180.0) / 360.0 * world
            y = (0.5 - np.log((1 + s) / (1 - s)) / (4 * np.pi)) * world
            return x, y

        cx, cy = pixels(float(lat), float(lon))
        x, y = pixels(lats, lons)
        dx = np.abs(x - cx)
        dx = np.minimum(dx, world - dx)
        d = np.hypot(dx, y - cy)
        close = np.flatnonzero(keep & (d <= max(float(radius_px), 1.0)))
        if not len(close):
            return None
        nearest = close[np.argsort(d[close], kind="stable")[:limit]]
        parts = []
        for origin, first, stop, start in self.origins.segments():
            mine = nearest[(nearest >= start) & (nearest < start + stop - first)]
            if len(mine):
                parts.append(take_rows(origin, origin.index()[mine - start + first]))
        return concat(parts) if parts else None

    def register(self, callback: Callback, remove: bool = False) -> None:
        self._callbacks.register_callback(callback, remove=remove)

    def changed(self) -> None:
        """The selection, the rows or the time window changed: tell the callbacks."""
        if self._callbacks.callbacks:
            self._callbacks(self.event())

    def selected(self) -> Any:
        """The user's rows inside the selection (None when there is no selection)."""
        shape = self.shape()
        if shape is None:
            return None
        import numpy as np

        inside, _weights = self.totals.mask(shape, self._window())
        held = np.flatnonzero(inside)
        parts = [take_rows(o, idx) for o, idx in self.origins.rows(held)]
        if not parts:
            segments = self.origins.rows(np.arange(min(1, self.origins.count)))
            if segments:  # no row inside: an empty table of the user's kind
                return take_rows(segments[0][0], np.empty(0, dtype=np.int64))
            return None
        return concat(parts)

"""``HostRendering``: frames of a widget drawn in Python by the WebAssembly kernel (wasmtime).

``to_png()``'s Python picture and ``density()`` come from here. The rows go into the kernel
once per change of the rows: repeated calls reuse it (loading and sorting 1M rows is most of a
frame), and a change of the rows lets the old kernel go at once.
"""

from __future__ import annotations

import base64
import importlib.util
import logging
import numbers
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..traits.values import time_ms
from ..views.snapshot import PNG

if TYPE_CHECKING:
    import numpy as np

#: Width of the static picture in a notebook's display (the output area's width is unknown).
STATIC_WIDTH = 800

PNG_HINT = 'to_png() and density() need wasmtime: pip install "heatwidget[png]"'
PYODIDE_HINT = (
    "to_png() and density() are not available in Pyodide/JupyterLite: they run the kernel "
    "with wasmtime (and numpy), which do not run inside the browser, and a Pyodide kernel "
    "cannot wait inside a cell for the map's answer. For a picture of the displayed map use "
    'f = m.snapshot("map.png"): the browser composes it, and the Future resolves (and '
    "map.png is written) once this cell ends."
)


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


#: The largest frame side ``to_png()``/``density()`` draw in Python (a 16384 x 16384 frame is
#: 1 GiB of density and colours already).
MAX_FRAME_SIDE = 16384


def frame_size(value: Any, default: int, name: str, method: str) -> int:
    """``width``/``height`` of a Python-host frame (None: ``default``), or the error naming it."""
    if value is None:
        value = default
    whole = isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or not 1 <= int(value) <= MAX_FRAME_SIDE:
        raise ValueError(
            f"{method}(): {name} must be a whole number of pixels from 1 to {MAX_FRAME_SIDE}, "
            f"got {value!r}"
        )
    return int(value)


def host() -> Any:
    """The Python host modules (render, png, viewport), imported on first use (wasmtime is an
    optional extra)."""
    if sys.platform == "emscripten":
        raise ImportError(PYODIDE_HINT)
    if importlib.util.find_spec("wasmtime") is None:
        raise ImportError(PNG_HINT)
    from ..host import png as _png
    from ..host import render as _render
    from ..host import viewport as _viewport

    return _render, _png, _viewport


def window_ms(window: tuple[Any, Any]) -> tuple[float | None, float | None]:
    return (
        None if window[0] is None else time_ms(window[0]),
        None if window[1] is None else time_ms(window[1]),
    )


class HostRendering:
    """Python-host frames of one widget. ``settings`` is the object with the widget's traits
    (center, zoom, radius, colormap's ``_lut`` ...); ``seq()`` and ``table()`` give the rows."""

    def __init__(
        self,
        settings: Any,
        seq: Callable[[], int],
        table: Callable[[], Any],
        served: Callable[[], Any] | None = None,
    ) -> None:
        self._settings = settings
        self._seq = seq
        self._table = table
        #: Server mode: ``served()`` gives the ``ServedPoints`` (or None in client mode), whose
        #: kernel brings its own rows (widget/serving.py).
        self._served = served
        #: (seq of the rows it holds, the kernel), or None.
        self.kernel: tuple[int, Any] | None = None

    def radius_pixels(self, lat: float, zoom: float) -> float:
        """``radius`` in pixels of a view centred at ``lat`` (``radius_units``)."""
        s = self._settings
        if s.radius_units == "pixels":
            return float(s.radius)
        from ..host import viewport as _viewport

        return float(s.radius) / _viewport.meters_per_pixel(lat, zoom)

    def view(self, width: int, height: int) -> Any:
        """The ``Viewport`` a frame of ``width`` × ``height`` is drawn for: the widget's
        ``center``/``zoom``, or fitting ``data_bounds`` while they are None."""
        _viewport = host()[2]
        s = self._settings
        center, zoom = s.center, s.zoom
        if center is None or zoom is None:
            fit_center, fit_zoom = _viewport.fit_bounds(s.data_bounds, width, height)
            center = fit_center if center is None else center
            zoom = fit_zoom if zoom is None else zoom
        return _viewport.Viewport(center=center, zoom=zoom, width=width, height=height)

    def frame(self, width: int, height: int) -> Any:
        _render, _png, _viewport = host()
        s = self._settings
        view = self.view(width, height)
        center, zoom = view.center, view.zoom
        window, half_life = s.time_window, s.time_decay
        seq = self._seq()
        cached = self.kernel
        if cached is not None and cached[0] == seq:
            kernel, table = cached[1], None
        else:
            self.drop()
            served = None if self._served is None else self._served()
            if served is not None:
                kernel, table = served.kernel(), None
            else:
                kernel, table = _render.Kernel(), self._table()
        try:
            frame = _render.render(
                table,
                view,
                kernel=kernel,
                time_window=None if window is None else window_ms(window),
                half_life=None if half_life is None else half_life * 1e3,
                radius=self.radius_pixels(center[0], zoom),
                aggregation=s.aggregation,
                vmin=s.vmin,
                vmax=s.vmax,
                scale=s.scale,
                threshold=s.threshold,
                points_zoom=s.points_zoom,
                points_radius=s.points_radius,
                lut=s._lut,  # noqa: SLF001 (the widget's resolved colour table)
            )
        except BaseException:
            if table is not None:
                kernel.close()  # perhaps half-loaded: not worth keeping
            raise
        self.kernel = (seq, kernel)
        return frame

    def png(
        self,
        width: int | None,
        height: int | None,
        background: str | None,
        why: str | None,
        *,
        heat_only: bool = False,
    ) -> PNG:
        """The map as a PNG (default 800 × 600): sea, outlines, heat and legend, as the view
        draws them offline; the heat alone over ``background`` with ``heat_only`` (or a
        transparent PNG of it when ``background`` is None). ``why`` the view's picture is not
        it, if any."""
        w = frame_size(width, 800, "width", "to_png")
        h = frame_size(height, 600, "height", "to_png")
        frame = self.frame(w, h)
        s = self._settings
        if heat_only or background is None:
            data = host()[1].encode_png(frame.rgba, background=background, opacity=s.opacity)
        else:
            from ..host import picture as _picture

            rgb = _picture.compose(
                frame.rgba,
                self.view(w, h),
                opacity=s.opacity,
                lut=s._lut,  # noqa: SLF001 (the widget's resolved colour table)
                vmin=frame.vmin,
                vmax=frame.vmax,
                scale=s.scale,
                legend=s.legend,
                title=s.legend_title,
            )
            data = host()[1].encode_rgb(rgb)
        info: dict[str, Any] = {"source": "python", "width": w, "height": h}
        if why is not None:
            info["view_unavailable"] = why
        return PNG(data, info)

    def static_width(self) -> int:
        """The width of the map as displayed, in CSS pixels: its ``layout.width`` when given in
        pixels, else the width its last view reported (``bounds`` at ``zoom``), else
        ``STATIC_WIDTH`` (a first display: the output area's width is not known in Python)."""
        s = self._settings
        layout = getattr(getattr(s, "layout", None), "width", None)
        if isinstance(layout, str) and layout.endswith("px"):
            try:
                px = round(float(layout[:-2]))
            except ValueError:
                px = 0
            if 0 < px <= MAX_FRAME_SIDE:
                return px
        bounds, zoom = s.bounds, s.zoom
        if bounds is not None and zoom is not None:
            _south, west, _north, east = bounds
            span = east - west if east >= west else east - west + 360.0  # across ±180
            px = round(span / 360.0 * 256.0 * 2.0 ** float(zoom))
            if 0 < px <= MAX_FRAME_SIDE:
                return int(px)
        return STATIC_WIDTH

    def static_picture(self, height: int, width: int | None = None) -> str | None:
        """The picture the notebook file keeps beside the widget (``image/png``, base64): this
        rendering at ``width`` (``static_width()`` when None) × ``height``, or None where it
        cannot be made (no wasmtime, Pyodide, a failure: the display must never fail for it)."""
        if width is None:
            width = self.static_width()
        try:
            return base64.b64encode(self.png(width, height, "#ffffff", None)).decode("ascii")
        except Exception as exc:  # the live view is what matters; say why only in the log
            logging.getLogger(__name__).debug("no static picture: %s", exc)
            return None

    def drop(self) -> None:
        """Lets the kernel (and the rows it holds) go."""
        cached, self.kernel = self.kernel, None
        if cached is not None:
            cached[1].close()

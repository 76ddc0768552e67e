"""One frame from points, a view and colour settings: density → domain → colours.

This is where the user-facing strings (aggregation, scale, vmax) become the kernel's
``HW_*`` constants and numbers, in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..constants import PERCENTILE
from .kernel import (
    HW_AGG_COUNT,
    HW_AGG_MAX,
    HW_AGG_MEAN,
    HW_AGG_SUM,
    HW_DOT_RADIUS,
    HW_SCALE_LINEAR,
    HW_SCALE_LOG,
    HW_SCALE_SQRT,
    Kernel,
)
from .viewport import Bounds, Viewport

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["AGGREGATIONS", "SCALES", "Frame", "dots_mix", "parse_vmax", "render"]

AGGREGATIONS: dict[str, int] = {
    "sum": HW_AGG_SUM,
    "count": HW_AGG_COUNT,
    "mean": HW_AGG_MEAN,
    "max": HW_AGG_MAX,
}
SCALES: dict[str, int] = {"linear": HW_SCALE_LINEAR, "sqrt": HW_SCALE_SQRT, "log": HW_SCALE_LOG}


@dataclass(frozen=True)
class Frame:
    """A rendered frame: the density grid, its colours and the domain that coloured it."""

    grid: np.ndarray  # (h, w) float32, top row first
    rgba: np.ndarray  # (h, w, 4) uint8, not premultiplied
    vmin: float
    vmax: float  # the domain actually used ("auto"/"pNN" resolved)
    bounds: Bounds  # (south, west, north, east) of the frame


def parse_vmax(vmax: float | str) -> float | str:
    """Validate ``vmax``: a number, ``"auto"`` or ``"p<q>"`` (0 < q <= 100); returns it
    normalised (a float, ``"auto"``, or ``"p<q>"``). Raises ValueError otherwise."""
    if isinstance(vmax, str):
        text = vmax.strip().lower()
        if text == "auto":
            return "auto"
        m = PERCENTILE.fullmatch(text)
        if m and 0.0 < float(m.group(1)) <= 100.0:
            return text
        raise ValueError(
            f"bad vmax {vmax!r}: use a number, 'auto' (the frame's maximum) or 'p<q>' with "
            "0 < q <= 100, e.g. 'p99' (the 99th percentile of the frame's non-zero densities)"
        )
    if isinstance(vmax, bool) or not isinstance(vmax, (int, float, np.number)):
        raise ValueError(f"bad vmax {vmax!r}: use a number, 'auto' or 'p<q>'")
    v = float(vmax)
    if not math.isfinite(v):
        raise ValueError(f"vmax must be finite, got {vmax!r}")
    return v


def dots_mix(zoom: float, points_zoom: float | None) -> float:
    """How far the dots replace the heat at ``zoom`` (0: heat only, 1: dots only): they fade in
    over the zoom level below ``points_zoom`` (js/src/dots.ts ``dotsMix``, the same rule)."""
    if points_zoom is None:
        return 0.0
    return min(1.0, max(0.0, float(zoom) - (float(points_zoom) - 1.0)))


def _lookup(table: dict[str, int], value: str, what: str) -> int:
    key = value.lower() if isinstance(value, str) else value
    if key not in table:
        raise ValueError(f"unknown {what} {value!r}: use one of {', '.join(map(repr, table))}")
    return table[key]


def render(
    table: pa.Table | None,
    viewport: Viewport,
    *,
    radius: float,
    aggregation: str = "sum",
    vmin: float = 0.0,
    vmax: float | str = "auto",
    scale: str = "linear",
    threshold: float = 0.0,
    lut: bytes,
    time_window: tuple[float | None, float | None] | None = None,
    half_life: float | None = None,
    points_zoom: float | None = None,
    points_radius: float = HW_DOT_RADIUS,
    kernel: Kernel | None = None,
) -> Frame:
    """Render ``table``'s points in ``viewport`` (the browser's frame for the same view).

    ``vmax``: ``"auto"`` → the frame's maximum, ``"p<q>"`` → ``hw_frame_quantile(q / 100)`` of
    the non-zero densities, a number → itself. ``kernel``: an existing :class:`Kernel` to use
    (its points are replaced by ``table``'s unless ``table`` is None); by default a fresh one is
    made and closed. ``time_window``: ``(t0, t1)`` in the time column's unit (ms since the
    epoch), either None for unbounded; ``half_life``: the decay's half-life in the same unit.
    ``points_zoom``: up close, the rows in view as the kernel's dots over the heat, as the view
    draws them (:func:`dots_mix`; heat.h ``hw_dots``), ``points_radius`` px each.
    """
    agg = _lookup(AGGREGATIONS, aggregation, "aggregation")
    sc = _lookup(SCALES, scale, "scale")
    vmax_p = parse_vmax(vmax)
    radius = float(radius)
    if not (math.isfinite(radius) and radius >= 0):
        raise ValueError(f"radius must be a finite number >= 0, got {radius!r}")
    if len(bytes(lut)) != 1024:
        raise ValueError("lut must be 1024 bytes (see heatwidget.traits.colormaps.resolve_lut)")

    own = kernel is None
    k = Kernel() if kernel is None else kernel
    try:
        if table is not None:
            k.load(table)
            # the order a live view draws from once it is idle (heat.h hw_points_index), so the
            # two hosts give the same pixels
            k.index()
        t0, t1 = (None, None) if time_window is None else time_window
        k.time_window(t0, t1, half_life)
        grid, mx = k.density(
            viewport.origin, viewport.zoom, viewport.width, viewport.height, radius, agg
        )
        if vmax_p == "auto":
            hi = mx
        elif isinstance(vmax_p, str):
            hi = k.quantile(float(vmax_p[1:]) / 100.0)
        else:
            hi = vmax_p
        lo = float(vmin)
        rgba = k.colorize(lo, hi, sc, float(threshold), lut)
        mix = dots_mix(viewport.zoom, points_zoom)
        if mix > 0:
            k.dots(points_radius, mix)
            rgba = k.rgba()
    finally:
        if own:
            k.close()
    return Frame(grid=grid, rgba=rgba, vmin=lo, vmax=float(hi), bounds=viewport.bounds)

"""One rendered heatwidget map in a page: attributes, Leaflet view and canvas pixels."""

from __future__ import annotations

import base64
import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

from .processes import wait_until
from .settings import SYNC_TIMEOUT

_PIXELS_JS = """
(el) => {
  const c = el.querySelector('canvas.heatwidget-heat');
  if (!c) throw new Error('no canvas.heatwidget-heat in div.heatwidget');
  const ctx = c.getContext('2d');
  if (!ctx) throw new Error('canvas.heatwidget-heat has no 2d context');
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let s = '';
  for (let i = 0; i < d.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, d.subarray(i, Math.min(d.length, i + 0x8000)));
  }
  return {w: c.width, h: c.height, b64: btoa(s)};
}
"""

# non-transparent pixels of one of the view's layer canvases (0 when hidden or absent)
_LIT_PIXELS_JS = """
(el, selector) => {
  const c = el.querySelector(selector);
  if (!c || c.style.display === 'none' || !c.width) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
  return n;
}
"""

_VIEW_JS = """
(el) => {
  const map = el.__heatwidget && el.__heatwidget.map;
  if (!map) throw new Error('div.heatwidget has no __heatwidget.map');
  const c = map.getCenter(), b = map.getBounds(), s = map.getSize();
  const origin = map.containerPointToLayerPoint([0, 0]).add(map.getPixelOrigin());
  return {
    zoom: map.getZoom(), center: [c.lat, c.lng], size: [s.x, s.y], origin: [origin.x, origin.y],
    bounds: [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()],
  };
}
"""

# container point(s) -> canvas pixel(s), through the elements' on-screen rectangles
_CONTAINER_TO_CANVAS_JS = """
(el, pts) => {
  const map = el.__heatwidget.map;
  const c = el.querySelector('canvas.heatwidget-heat');
  const mr = map.getContainer().getBoundingClientRect(), cr = c.getBoundingClientRect();
  return pts.map(([x, y]) => [
    (mr.left + x - cr.left) * c.width / cr.width, (mr.top + y - cr.top) * c.height / cr.height,
  ]);
}
"""

_LATLON_TO_CONTAINER_JS = """
(el, pts) => {
  const map = el.__heatwidget.map;
  return pts.map(([lat, lon]) => {
    const p = map.latLngToContainerPoint([lat, lon]);
    return [p.x, p.y];
  });
}
"""


class HeatView:
    """One rendered ``div.heatwidget``: its attributes, map and canvas pixels."""

    def __init__(self, page: Page, root: Locator) -> None:
        self.page = page
        self.root = root

    def attr(self, name: str) -> str | None:
        return self.root.get_attribute(name)

    @property
    def point_count(self) -> int:
        return int(self.attr("data-point-count") or -1)

    @property
    def frames(self) -> int:
        return int(self.attr("data-frames") or 0)

    def view(self) -> dict[str, Any]:
        """zoom, center (lat, lon), size (w, h), origin (world px of the container's top-left),
        bounds (south, west, north, east) of the Leaflet map."""
        return dict(self.root.evaluate(_VIEW_JS))

    def pixels(self) -> np.ndarray:
        """The heat canvas as an (h, w, 4) uint8 RGBA array."""
        res = self.root.evaluate(_PIXELS_JS)
        data = np.frombuffer(base64.b64decode(res["b64"]), dtype=np.uint8)
        return data.reshape(int(res["h"]), int(res["w"]), 4)

    def lit_pixels(self, selector: str) -> int:
        """Non-transparent pixels of the canvas ``selector`` inside the view (contours, dots)."""
        return int(self.root.evaluate(_LIT_PIXELS_JS, selector))

    def drag_box(self, corner1: tuple[float, float], corner2: tuple[float, float]) -> None:
        """Shift-drags a box on the map between two (lat, lon) corners, as a user draws one."""
        box = self.root.locator("div.heatwidget-map").bounding_box()
        assert box is not None, "the map has no box on screen"
        (x1, y1), (x2, y2) = self.latlon_to_container([corner1, corner2])
        page = self.page
        page.keyboard.down("Shift")
        page.mouse.move(box["x"] + x1, box["y"] + y1)
        page.mouse.down()
        page.mouse.move(box["x"] + (x1 + x2) / 2, box["y"] + (y1 + y2) / 2, steps=4)
        page.mouse.move(box["x"] + x2, box["y"] + y2, steps=4)
        page.mouse.up()
        page.keyboard.up("Shift")

    def container_to_canvas(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out = self.root.evaluate(_CONTAINER_TO_CANVAS_JS, [list(p) for p in points])
        return [(float(x), float(y)) for x, y in out]

    def latlon_to_container(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out = self.root.evaluate(_LATLON_TO_CONTAINER_JS, [list(p) for p in points])
        return [(float(x), float(y)) for x, y in out]

    def latlon_to_canvas(self, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return self.container_to_canvas(self.latlon_to_container(points))

    def wait_stable(self, timeout: float = SYNC_TIMEOUT, quiet: float = 0.5) -> np.ndarray:
        """Waits until no frame was drawn and the pixels did not change for `quiet` seconds;
        returns the pixels."""
        state: dict[str, Any] = {}

        def settled() -> tuple[np.ndarray] | None:
            frames, px = self.frames, self.pixels()
            now = time.monotonic()
            if (
                state.get("frames") != frames
                or state.get("px") is None
                or state["px"].shape != px.shape
                or not np.array_equal(state["px"], px)
            ):
                state.update(frames=frames, px=px, since=now)
                return None
            return (px,) if now - state["since"] >= quiet else None

        return wait_until(settled, timeout, "the heat canvas to stop changing", 0.1)[0]

    def wait_pixels_change(
        self, before: np.ndarray, timeout: float = SYNC_TIMEOUT, min_changed: int = 100
    ) -> np.ndarray:
        """Waits until at least `min_changed` pixels differ from `before`, then until the canvas
        is stable again; returns the new pixels."""

        def changed() -> bool:
            px = self.pixels()
            if px.shape != before.shape:
                return True
            return int(np.any(px != before, axis=2).sum()) >= min_changed

        wait_until(changed, timeout, f"at least {min_changed} heat canvas pixels to change")
        return self.wait_stable(timeout)

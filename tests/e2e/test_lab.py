"""The foundation e2e test: notebooks/quickstart.ipynb in a real JupyterLab in Chromium.

Python and the browser are checked against each other: where the data is dense (computed in the
kernel from the widget's own `_points`) the canvas has heat, where no point is near it has none;
trait changes from Python redraw the canvas; a drag in the browser moves `m.center` in Python.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from harness import PROJECT_CODE

if TYPE_CHECKING:
    from harness import HeatView, KernelClient, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

NOTEBOOK = "notebooks/quickstart.ipynb"

# Runs in the kernel. From the wire bytes of `m._points` (docs/architecture.md: wire format 2,
# fixed-point x/y, optional weight) and the browser's view (zoom, world-pixel origin of the
# container's top-left, size), finds in container pixels
#   - the centre of the `block`-px block with the most weight (where heat must be), and
#   - the centre of the block nearest the middle with no point within `margin` px (no heat).
# Longitude copies of the world are counted as Leaflet repeats them.
PROBE_CODE = (
    PROJECT_CODE
    + r"""
def _hw_e2e_probe(m, zoom, ox, oy, w, h, block=16, margin=120):
    import math
    import numpy as np
    x, y, wt, world = _hw_project(m, zoom, ox, oy)
    mb = int(math.ceil(margin / block))               # margin in blocks
    gw, gh = int(math.ceil(w / block)), int(math.ceil(h / block))
    ew, eh = gw + 2 * mb, gh + 2 * mb                 # grid extended by the margin
    weight = np.zeros(eh * ew)
    count = np.zeros(eh * ew)
    kmin = int(math.floor((-margin - x.max()) / world)) if len(x) else 0
    kmax = int(math.ceil((w + margin - x.min()) / world)) if len(x) else 0
    for k in range(kmin, kmax + 1):
        bx = np.floor((x + k * world) / block).astype(np.int64) + mb
        by = np.floor(y / block).astype(np.int64) + mb
        ok = (bx >= 0) & (bx < ew) & (by >= 0) & (by < eh)
        idx = by[ok] * ew + bx[ok]
        weight += np.bincount(idx, weights=wt[ok], minlength=eh * ew)
        count += np.bincount(idx, minlength=eh * ew)
    weight = weight.reshape(eh, ew)
    occupied = (count.reshape(eh, ew) > 0).astype(np.int64)
    inner = weight[mb:mb + gh, mb:mb + gw].copy()
    inner[:1, :] = inner[-1:, :] = 0                  # not on the frame's edge
    inner[:, :1] = inner[:, -1:] = 0
    by_, bx_ = np.unravel_index(int(np.argmax(inner)), inner.shape)
    dense = [(bx_ + 0.5) * block, (by_ + 0.5) * block, float(inner[by_, bx_])]
    # blocks with no occupied block within mb blocks (2-D prefix sums)
    c = np.pad(occupied.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    n = 2 * mb + 1
    near = c[n:, n:] - c[:-n, n:] - c[n:, :-n] + c[:-n, :-n]   # (eh-2mb) x (ew-2mb) == gh x gw
    empty = None
    cand = np.argwhere(near[1:-1, 1:-1] == 0) + 1
    if len(cand):
        d = (cand[:, 0] + 0.5 - gh / 2) ** 2 + (cand[:, 1] + 0.5 - gw / 2) ** 2
        ey, ex = cand[int(np.argmin(d))]
        empty = [(ex + 0.5) * block, (ey + 0.5) * block]
    return {"dense": dense, "empty": empty, "rows": len(x)}
"""
)


def window(px: np.ndarray, x: float, y: float, r: int) -> np.ndarray:
    h, w = px.shape[:2]
    xi, yi = int(x), int(y)
    assert 0 <= xi < w, f"x={x:.1f} is outside the {w}x{h} canvas"
    assert 0 <= yi < h, f"y={y:.1f} is outside the {w}x{h} canvas"
    return px[max(0, yi - r) : yi + r + 1, max(0, xi - r) : xi + r + 1]


def probe(k: KernelClient, view: dict[str, Any], margin: float) -> dict[str, Any]:
    zoom = view["zoom"]
    (ox, oy), (w, h) = view["origin"], view["size"]
    return dict(k.eval(f"_hw_e2e_probe(m, {zoom!r}, {ox!r}, {oy!r}, {w!r}, {h!r}, 16, {margin!r})"))


def close(a: Any, b: Any, tol: float = 1e-6) -> bool:
    return (
        a is not None
        and b is not None
        and len(a) == len(b)
        and all(abs(p - q) <= tol for p, q in zip(a, b, strict=True))
    )


def drag(web: Web, hv: HeatView, dx: int, dy: int) -> None:
    hv.root.evaluate("el => el.scrollIntoView({block: 'center'})")
    box = hv.root.bounding_box()
    assert box, "div.heatwidget has no bounding box"
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    mouse = web.page.mouse
    mouse.move(x0, y0)
    mouse.down()
    mouse.move(x0 + dx, y0 + dy, steps=12)
    # Hold still before releasing: Leaflet adds inertia when the last move is < 50 ms old.
    web.page.wait_for_timeout(150)
    mouse.up()


def test_quickstart_in_lab(web: Web, lab_ui: LabUI, kernel_client: Any, artifacts_dir: Any) -> None:
    t0 = time.monotonic()
    nb = lab_ui.open_notebook(NOTEBOOK)
    hv = nb.widget()
    t_ready = time.monotonic() - t0
    k: KernelClient = kernel_client(NOTEBOOK)
    k.execute(PROBE_CODE)

    # -- the view fitted the data and wrote center/zoom back; counts agree -------------------
    center = k.wait_for("m.center", lambda c: c is not None, "m.center to be written back")
    assert k.eval("m.zoom") is not None
    point_count = k.eval("m.point_count")
    assert point_count > 0, "the quickstart widget holds no points"
    assert hv.point_count == point_count, (
        f"data-point-count={hv.point_count} but m.point_count={point_count}"
    )
    before = hv.wait_stable()
    view = hv.view()
    assert close(center, view["center"], 1e-4), f"m.center {center} != map center {view['center']}"

    # -- heat where the data is dense, none where no point is near ------------------------------
    radius = float(k.eval("m.radius"))
    margin = max(4 * radius, 48.0)  # the Gaussian (sigma = radius/2) is exactly 0 well within it
    found = probe(k, view, margin)
    dense_x, dense_y, dense_w = found["dense"]
    assert dense_w > 0, f"no data inside the view {view}: {found}"
    ((cx, cy),) = hv.container_to_canvas([(dense_x, dense_y)])
    alpha = before[..., 3]
    dense_alpha = int(window(before, cx, cy, 4)[..., 3].max())
    assert dense_alpha > 0, f"no heat at the densest block (canvas {cx:.0f},{cy:.0f}): {found}"
    lit = alpha[alpha > 0]
    assert dense_alpha >= np.percentile(lit, 50), (
        f"the densest block's alpha {dense_alpha} is below the median lit alpha"
        f" {np.percentile(lit, 50)}"
    )
    if found["empty"] is not None:
        ((ex, ey),) = hv.container_to_canvas([tuple(found["empty"])])
        empty_alpha = int(window(before, ex, ey, 2)[..., 3].max())
        assert empty_alpha == 0, f"heat (alpha {empty_alpha}) at ({ex:.0f},{ey:.0f}), far from data"
    else:
        pytest.fail(f"no empty place in the view to check (view {view}); data everywhere?")
    # the Python host renders the same view: its densest pixel is among the brightest here
    w, h = view["size"]
    grid_max = k.eval(
        f"(lambda g: [*divmod(int(g.argmax()), g.shape[1]), *g.shape])(m.density({w}, {h}).grid)"
    )
    py_y, py_x, gh, gw = grid_max
    assert (gh, gw) == (h, w), f"m.density({w}, {h}) returned a {gw}x{gh} grid"
    ((px_x, px_y),) = hv.container_to_canvas([(py_x + 0.5, py_y + 0.5)])
    host_alpha = int(window(before, px_x, px_y, 4)[..., 3].max())
    assert host_alpha >= np.percentile(lit, 90), (
        f"m.density()'s densest pixel ({py_x},{py_y}) has alpha {host_alpha} in the browser, below"
        f" the 90th percentile {np.percentile(lit, 90)}: do the two hosts draw the same view?"
    )
    web.screenshot("1-initial")

    # -- trait changes from Python redraw the canvas ---------------------------------------------
    frames = hv.frames
    k.execute("m.radius = 6")
    after_radius = hv.wait_pixels_change(before)
    assert hv.frames > frames
    assert int((after_radius[..., 3] > 0).sum()) < int((before[..., 3] > 0).sum()), (
        "a smaller radius should light fewer pixels"
    )
    web.screenshot("2-radius")

    k.execute("m.colormap = 'viridis'")
    after_cmap = hv.wait_pixels_change(after_radius)
    moved = np.mean((after_cmap[..., 3] > 0) != (after_radius[..., 3] > 0))
    assert moved < 0.01, f"a colormap change should recolour, not move, the heat ({moved:.1%})"
    web.screenshot("3-colormap")

    # -- a drag in the browser moves m.center in Python ------------------------------------------
    center0 = k.eval("m.center")
    dx, dy = 160, 90
    drag(web, hv, dx, dy)
    # dragging right/down shows what lies west/north: the centre's lon falls, lat rises
    center1 = k.wait_for(
        "m.center",
        lambda c: c is not None and c[1] < center0[1] - 1e-9 and c[0] > center0[0] + 1e-9,
        f"m.center to move west and north of {center0} after the drag",
    )
    settled = hv.wait_stable()
    view1 = hv.view()
    k.wait_for(
        "m.center",
        lambda c: close(c, view1["center"], 1e-4),
        f"m.center to equal the map's centre {view1['center']}",
    )
    assert not np.array_equal(settled, after_cmap), "the heat did not move with the map"
    web.screenshot("4-panned")

    # -- the network: nothing outside 127.0.0.1 was needed -----------------------------------
    if k.eval("m._tiles") is not None:
        assert web.blocked_tiles, "the basemap's tile requests should have been tried and recorded"
    others = web.blocked_other()
    assert not others, f"requests outside 127.0.0.1 (not tiles): {[r.url for r in others]}"
    assert not web.page_errors, f"uncaught page errors: {web.page_errors}"
    console = [e for e in web.console_errors if "ERR_BLOCKED_BY_CLIENT" not in e]
    assert not console, f"console errors: {console}"
    summary = {
        "ready_s": round(t_ready, 1),
        "point_count": point_count,
        "center": center,
        "center_after_drag": center1,
        "dense": found,
        "tiles_blocked": len(web.blocked_tiles),
        "console_errors": len(web.console_errors),
    }
    (artifacts_dir / "test_lab-summary.json").write_text(json.dumps(summary, indent=1))

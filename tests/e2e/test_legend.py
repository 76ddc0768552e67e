"""The colour legend in real JupyterLab shows the real domain of the frame on the canvas.

The legend's labels (``div.heatwidget-legend .heatwidget-legend-labels span``: vmin, middle,
vmax) are formatted by js/src/legend.ts ``format()``:

- ``|v| >= 1e5`` or ``0 < |v| < 1e-3``: ``v.toExponential(1)``, e.g. ``"2.5e+5"``, ``"1.0e-4"``;
- otherwise ``v.toLocaleString("en-US", {maximumSignificantDigits: 3})``: 3 significant digits
  at most, trailing zeros dropped, thousands grouped with commas, e.g. ``"41.6"``, ``"20"``,
  ``"1,230"``, ``"0.0123"``.

`js_label` below is that format in Python; the tests compare the label strings with it, and the
parsed numbers with the Python host's values within the label's rounding.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

if TYPE_CHECKING:
    from harness import HeatView, KernelClient, LabServer, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

NOTEBOOK = "legend_e2e.ipynb"
SOURCE = """\
import heatwidget

df = heatwidget.datasets.cities(200_000, seed=1)
m = heatwidget.Heatmap(df, lat="lat", lon="lon", weight="mag", height=500)
m"""

_LEGEND_JS = """
(el) => {
  const lg = el.querySelector('div.heatwidget-legend');
  if (!lg) return null;
  const title = lg.querySelector('.heatwidget-legend-title');
  return {
    labels: Array.from(lg.querySelectorAll('.heatwidget-legend-labels span'))
      .map((s) => s.textContent),
    title: title ? title.textContent : null,
    titleShown: !!title && getComputedStyle(title).display !== 'none',
    shown: getComputedStyle(lg).display !== 'none' && lg.getClientRects().length > 0,
  };
}
"""


def js_label(v: float) -> str:
    """legend.ts `format(v)` in Python (see the module docstring)."""
    if abs(v) >= 1e5 or (v != 0 and abs(v) < 1e-3):
        # Number.prototype.toExponential(1): the exact value, ties away from zero
        d = Decimal(v)
        exp = d.adjusted()
        mant = (d.scaleb(-exp)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if abs(mant) >= 10:
            mant, exp = (mant / 10).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), exp + 1
        return f"{mant}e{exp:+d}"
    if v == 0:
        return "0"
    # ICU (toLocaleString) rounds the shortest decimal form, half away from zero
    d = Decimal(repr(float(v)))
    q = d.quantize(Decimal(1).scaleb(d.adjusted() - 2), rounding=ROUND_HALF_UP)
    text = f"{q:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def label_value(text: str) -> float:
    return float(text.replace(",", ""))


def half_unit(v: float) -> float:
    """Half a unit in the last place of v's label (its rounding)."""
    if v == 0:
        return 0.0
    if abs(v) >= 1e5 or abs(v) < 1e-3:
        return 0.5 * 10 ** (math.floor(math.log10(abs(v))) - 1)
    return 0.5 * 10 ** (math.floor(math.log10(abs(v))) - 2)


# legend.ts `format`, verbatim, to run in Chromium against `js_label`
_FORMAT_JS = """
(values) => {
  const format = (v) =>
    Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3)
      ? v.toExponential(1)
      : v.toLocaleString("en-US", { maximumSignificantDigits: 3 });
  return values.map(format);
}
"""


def test_label_format_matches_chromium(web: Web) -> None:
    values = [0.0, 20.0, 41.649, 41.65, 1234.5, 99999.0, 99949.0, 250000.0, 225000.0, 7.5]
    values += [0.0123456, 0.0001, 0.00015, 1e-3, 123.45, 8.875, 1e9, -3.25]
    values += [float(v) for v in np.random.default_rng(0).lognormal(2, 3, 300)]
    got = web.page.evaluate(_FORMAT_JS, values)
    want = [js_label(v) for v in values]
    bad = [(v, g, w) for v, g, w in zip(values, got, want, strict=True) if g != w]
    assert not bad, f"(value, Chromium, js_label) differ: {bad[:10]}"
    assert js_label(1234.5) == "1,230" and js_label(250000.0) == "2.5e+5"


def legend(hv: HeatView) -> dict[str, Any]:
    state = hv.root.evaluate(_LEGEND_JS)
    assert state is not None, "no div.heatwidget-legend in div.heatwidget"
    return dict(state)


def wait_legend(hv: HeatView, predicate: Any, what: str) -> dict[str, Any]:
    from harness import SYNC_TIMEOUT, wait_until

    seen: list[dict[str, Any]] = []

    def check() -> dict[str, Any] | None:
        state = legend(hv)
        seen.append(state)
        return state if predicate(state) else None

    return wait_until(check, SYNC_TIMEOUT, what, 0.1, diagnose=lambda: f"legend {seen[-1:]}")


def write_notebook(root: Path) -> None:
    from harness import write_notebook as write

    write(root / NOTEBOOK, SOURCE)


@pytest.fixture
def legend_notebook(jupyter_lab: LabServer) -> Iterator[str]:
    """legend_e2e.ipynb in the Lab's root; its kernel is shut down afterwards (the Lab is
    shared by the session)."""
    write_notebook(jupyter_lab.root_dir)
    yield NOTEBOOK
    with contextlib.suppress(Exception):
        for session in jupyter_lab.api("/api/sessions"):
            if session.get("path") == NOTEBOOK:
                jupyter_lab.api(f"/api/sessions/{session['id']}", method="DELETE", timeout=15)


@pytest.mark.usefixtures("legend_notebook")
def test_legend_shows_the_domain(web: Web, lab_ui: LabUI, kernel_client: Any) -> None:
    hv = lab_ui.open_notebook(NOTEBOOK).widget()
    k: KernelClient = kernel_client(NOTEBOOK)
    k.wait_for("m.center", lambda c: c is not None, "m.center to be written back")
    before = hv.wait_stable()
    view = hv.view()
    w, h = view["size"]
    assert before.shape[:2] == (h, w), f"canvas {before.shape[1]}x{before.shape[0]} != map {w}x{h}"
    synced = [*view["center"], view["zoom"]]
    k.wait_for(
        "[*m.center, m.zoom]",
        lambda c: all(abs(p - q) <= 1e-9 for p, q in zip(c, synced, strict=True)),
        f"m.center/m.zoom to equal the map's {view['center']} / {view['zoom']}",
    )

    # -- the legend's labels are the domain of the frame the Python host draws for this view ----
    py = k.eval(
        f"(lambda d, v: {{'vmin': d.vmin, 'vmax': d.vmax, 'max': float(d.grid.max()),"
        f" 'shape': d.grid.shape, 'origin': v.origin}})(m.density({w}, {h}),"
        f" __import__('heatwidget.host.viewport', fromlist=['Viewport']).Viewport("
        f"center=m.center, zoom=m.zoom, width={w}, height={h}))"
    )
    where = f"browser origin {view['origin']}, Python origin {py['origin']}, {w}x{h}"
    assert py["shape"] == [h, w], f"m.density({w}, {h}) gave a {py['shape']} grid"
    assert py["vmax"] == py["max"] > 0, f"vmax 'auto' is not the grid's maximum: {py}"
    state = wait_legend(hv, lambda s: s["labels"][2] != "", "the legend to show a domain")
    assert state["shown"], "the legend is hidden (m.legend is True by default)"
    assert len(state["labels"]) == 3, f"legend labels {state['labels']}: want vmin, middle, vmax"
    lo, mid, hi = state["labels"]
    assert abs(label_value(hi) - py["vmax"]) <= half_unit(py["vmax"]) * (1 + 1e-9), (
        f"legend max {hi!r} != m.density({w}, {h}).vmax = {py['vmax']!r} ({where})"
    )
    assert hi == js_label(py["vmax"]), f"legend max {hi!r}, want {js_label(py['vmax'])!r}"
    assert lo == js_label(py["vmin"]) == "0", f"legend min {lo!r}, m.vmin {py['vmin']}"
    assert mid == js_label((py["vmin"] + py["vmax"]) / 2), f"legend middle {mid!r} (linear scale)"
    assert not state["titleShown"], f"an empty legend_title shows: {state}"
    web.screenshot("1-auto")
    summary: dict[str, Any] = {"view": view, "python": py, "labels_auto": state["labels"]}

    # -- a fixed vmax: the pixels change and the legend says it ----------------------------------
    fixed = float(f"{py['vmax'] / 2:.2g}")  # half the auto maximum: more of the map saturates
    k.execute(f"m.vmax = {fixed!r}")
    after = hv.wait_pixels_change(before)
    top = np.frombuffer(bytes.fromhex(k.eval("m._lut.hex()")), np.uint8).reshape(256, 4)[255, :3]
    saturated = [int(np.all(px[..., :3] == top, axis=2).sum()) for px in (before, after)]
    assert saturated[1] > saturated[0], f"vmax {fixed} should saturate more pixels: {saturated}"
    assert not np.any((before[..., 3] > 0) & (after[..., 3] == 0)), "a lower vmax unlit pixels"
    want = js_label(fixed)
    state = wait_legend(hv, lambda s: s["labels"][2] == want, f"the legend max to read {want!r}")
    assert label_value(state["labels"][2]) == fixed, f"legend {state['labels']}, vmax {fixed}"
    assert k.eval(f"m.density({w}, {h}).vmax") == fixed
    summary.update(vmax_fixed=fixed, labels_fixed=state["labels"], saturated=saturated)
    web.screenshot("2-fixed-vmax")

    # the other label forms: grouped thousands and exponential
    for value, text in ((1234.5, "1,230"), (250000.0, "2.5e+5")):
        assert js_label(value) == text
        k.execute(f"m.vmax = {value!r}")
        wait_legend(hv, lambda s, text=text: s["labels"][2] == text, f"legend max {text!r}")

    # back to "auto": the legend reads the frame's maximum again
    k.execute("m.vmax = 'auto'")
    auto = js_label(py["vmax"])
    wait_legend(hv, lambda s: s["labels"][2] == auto, f"the legend max to read {auto!r} again")

    # -- legend_title shows; legend = False hides the legend, True brings it back ---------------
    k.execute("m.legend_title = 'mag (sum)'")
    state = wait_legend(
        hv, lambda s: s["title"] == "mag (sum)" and s["titleShown"], "the legend title"
    )
    assert state["shown"]
    web.screenshot("3-title")
    k.execute("m.legend = False")
    wait_legend(hv, lambda s: not s["shown"], "the legend to hide with m.legend = False")
    assert not hv.root.locator("div.heatwidget-legend").is_visible()
    web.screenshot("4-no-legend")
    k.execute("m.legend = True")
    wait_legend(hv, lambda s: s["shown"], "the legend to show again with m.legend = True")
    assert hv.root.locator("div.heatwidget-legend").is_visible()

    assert not web.page_errors, f"uncaught page errors: {web.page_errors}"
    (web.artifacts / "test_legend-summary.json").write_text(json.dumps(summary, indent=1))

"""Helpers of the hostile-input browser tests (test_hostile.py, test_wire_faults.py,
test_kernel_lifecycle.py): a small notebook of one map, the wait for the view to hold exactly
Python's rows, and a recorder of the view's status badge in the page.

"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .lab import write_notebook
from .processes import wait_until

if TYPE_CHECKING:
    from .browser import Web
    from .heatview import HeatView
    from .kernel import KernelClient


def map_notebook(root: Path, name: str, n: int = 2000, extra: str = "") -> str:
    """Writes `name` under `root`: `m`, a map of `n` points around Lyon (no basemap), shown."""
    setup = f"""\
import numpy as np
import heatwidget
rng = np.random.default_rng(5)
m = heatwidget.Heatmap(lat=rng.normal(45.76, 0.05, {n}), lon=rng.normal(4.84, 0.07, {n}),
                       basemap=None, radius=8, height=380)
{extra}
m
"""
    write_notebook(root / name, setup)
    return name


def python_rows(k: KernelClient) -> tuple[int, int]:
    count, seq = k.eval("[m.point_count, m._seq]")
    return int(count), int(seq)


def wait_same_rows(k: KernelClient, hv: HeatView, what: str, timeout: float = 30.0) -> int:
    """Waits until the view holds Python's rows: data-point-count == m.point_count and
    data-seq == m._seq; returns the count."""

    def same() -> int | None:
        count, seq = python_rows(k)
        view_seq = int(hv.attr("data-seq") or -99)
        return count if hv.point_count == count and view_seq == seq else None

    return wait_until(
        same,
        timeout,
        what,
        0.1,
        diagnose=lambda: (
            f"view {hv.point_count} rows at seq {hv.attr('data-seq')} (fault "
            f"{hv.attr('data-fault')!r}), python {python_rows(k)}"
        ),
    )


# Records every change of the roots' data-fault / data-connection and of the badge, with the
# time, into window.__hwStatusLog (the badge may come and go between two polls).
_RECORD_JS = """
() => {
  if (window.__hwStatusLog) return;
  window.__hwStatusLog = [];
  const note = (root) => {
    const badge = root.querySelector('.heatwidget-status');
    window.__hwStatusLog.push({
      t: performance.now(), fault: root.dataset.fault ?? null,
      connection: root.dataset.connection ?? null,
      badge: badge && !badge.hidden ? badge.dataset.status : null,
    });
  };
  new MutationObserver((records) => {
    for (const r of records) {
      const root = r.target.closest && r.target.closest('div.heatwidget');
      if (root) note(root);
    }
  }).observe(document.body, {
    subtree: true, attributes: true,
    attributeFilter: ['data-fault', 'data-connection', 'hidden', 'data-status'],
  });
}
"""


def record_status(web: Web) -> None:
    web.page.evaluate(_RECORD_JS)


def status_log(web: Web, clear: bool = False) -> list[dict[str, Any]]:
    log = web.page.evaluate(
        "(clear) => { const l = window.__hwStatusLog || []; if (clear) window.__hwStatusLog = [];"
        " return l; }",
        clear,
    )
    return list(log)


def badge(hv: HeatView) -> str | None:
    """The status the badge shows, or None when it is hidden."""
    return hv.root.evaluate(
        "(r) => { const b = r.querySelector('.heatwidget-status'); "
        "return b && !b.hidden ? (b.dataset.status ?? '') : null; }"
    )

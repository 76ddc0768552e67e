"""Browser memory of a map shown in several views, in a real JupyterLab: the views of one model
share one kernel, against as many separate kernels (what each view used to hold).

    python bench/views.py [--n 1000000] [--views 3]

Starts JupyterLab on 127.0.0.1 with tests/e2e/harness's helpers and runs one notebook in
headless Chromium (offline). Its cells, on the same `cities(n, seed=0)` data with `mag` weights:

- **one model, k views**: `m = Heatmap(df, ...)` shown in `k` cells (`m` last in each);
- **baseline, k kernels**: `k` more models of the same data, each shown once: one kernel each,
  which is what `k` views of one model cost before views shared their model's kernel.

Once every view has drawn, the page reports, per model, the WebAssembly memory of its kernel
(`memory.buffer.byteLength`: what the kernel's instance holds; it grows and never shrinks) and
how many views draw from it. Prints MB and the baseline's ratio to the shared kernel.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from e2e_helpers import lab_session, notebook  # noqa: E402

SETUP = (
    "import heatwidget\n"
    "df = heatwidget.datasets.cities({n}, seed=0)\n"
    "def make():\n"
    "    return heatwidget.Heatmap(df, weight='mag', basemap=None, height=240)\n"
    "m = make()\n"
    "m"
)

# per model in the page (grouped by the kernel its views draw from): views, points, bytes
_KERNELS_JS = """
() => {
  const models = new Map();
  for (const root of document.querySelectorAll('div.heatwidget')) {
    const k = root.__heatwidget?.kernel;
    if (!k) continue;
    const e = models.get(k.model) ?? {views: 0, points: k.pointCount, bytes: k.memoryBytes};
    e.views += 1;
    models.set(k.model, e);
  }
  return [...models.values()];
}
"""


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--views", type=int, default=3)
    args = ap.parse_args()
    k = args.views
    cells = [SETUP.format(n=args.n)] + ["m"] * (k - 1) + ["make()"] * k
    with lab_session("views-bench", notebook(*cells)) as lab:
        lab.ui.wait_for_widget(2 * k - 1, timeout=300)  # every view has drawn its data
        models = lab.page.evaluate(_KERNELS_JS)

    shared = next(e for e in models if e["views"] == k)
    separate = [e for e in models if e is not shared]
    assert len(separate) == k and all(e["views"] == 1 for e in separate), models
    assert all(e["points"] == args.n for e in models), models
    mb = 2**20
    total = sum(e["bytes"] for e in separate)
    print(f"\nJupyterLab + headless Chromium, {args.n:,} weighted points, {k} views\n")
    print("| what the page holds | kernels | WebAssembly memory, MB | per view, MB | vs shared |")
    print("|---|---|---|---|---|")
    print(
        f"| one model shown in {k} views (shared kernel) | 1 | {shared['bytes'] / mb:.1f} | "
        f"{shared['bytes'] / mb / k:.1f} | 1.0× |"
    )
    print(
        f"| baseline: {k} kernels of the same data, one per view | {k} | {total / mb:.1f} | "
        f"{total / mb / k:.1f} | {total / shared['bytes']:.1f}× |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

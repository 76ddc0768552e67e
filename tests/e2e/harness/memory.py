"""The page's memory through CDP: the JS heap, the ArrayBuffers outside it (their backing
stores: received bytes) and the heat kernels' linear memory (WebAssembly memory, which CDP's
heap usage leaves out), after a full garbage collection, so that what is measured is what the
page holds."""

from __future__ import annotations

from typing import Any

_KERNEL_BYTES_JS = """
() => {
  const seen = new Set();
  let bytes = 0;
  for (const r of document.querySelectorAll('div.heatwidget')) {
    const m = r.__heatwidget?.kernel?.model;
    if (m && !seen.has(m)) { seen.add(m); bytes += m.memoryBytes; }
  }
  return bytes;
}
"""


def page_memory(page: Any) -> dict[str, int]:
    """``heap`` (JS heap used), ``buffers`` (ArrayBuffer backing stores outside the heap;
    Chromium does not count WebAssembly memory among them), ``kernel`` (the heat kernels'
    linear memory, one per model), ``total`` (heap + buffers) and ``all`` (total + kernel), in
    bytes. ``page`` is a Playwright page, or a page driven over plain CDP (anything with
    ``send(method)`` and ``evaluate``, as bench/cdp.py's ``PlainPage``)."""
    plain = getattr(page, "send", None)
    cdp = None if plain is not None else page.context.new_cdp_session(page)
    send = plain if plain is not None else cdp.send
    try:
        send("HeapProfiler.enable")
        for _ in range(2):  # a second pass collects what the first one's finalizers freed
            send("HeapProfiler.collectGarbage")
        usage = send("Runtime.getHeapUsage")
    finally:
        # Left enabled, the heap profiler slows the page's handling of big messages (about
        # 60 ms more for 1M rows in bench/lab_latency.py): a measurement must not linger.
        send("HeapProfiler.disable")
        if cdp is not None:
            cdp.detach()
    heap = int(usage["usedSize"])
    buffers = int(usage.get("backingStorageSize", 0))
    kernel = int(page.evaluate(_KERNEL_BYTES_JS))
    total = heap + buffers
    return {
        "heap": heap,
        "buffers": buffers,
        "kernel": kernel,
        "total": total,
        "all": total + kernel,
    }

"""The wire's x, y by the kernel itself: :class:`KernelProjection`, a faster
:data:`heatwidget.points.Projector` for a widget's store.

numpy's twin of the kernel's projection (heatwidget.points.columns.numpy_ops) costs about
59 ns a row, 27 float64 divisions in ~40 whole-array passes; the kernel's own loop under
wasmtime about 40 ns, and wasmtime's calls go through ctypes, which lets go of the GIL, so
slices of one column project on several threads at once (about 25 ns a row on 2 cores,
bench/README.md "set_data, fifth pass"). Both give the same bits (heat.h "Coordinates";
tests/test_projection.py), so which one projects a batch never shows.

Each thread projects on a kernel of its own (:func:`~.kernel.project_degrees`): a kernel's
Store is not shared between threads. The first call of at least :data:`MIN_ROWS` rows loads
the kernel on a worker thread and declines (numpy projects that batch): compiling heat.wasm
and importing wasmtime take ~0.1 s that a set_data would otherwise wait for. A kernel that
cannot load (no wasmtime, no heat.wasm) makes every later call decline.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import Future, ThreadPoolExecutor
from importlib.util import find_spec
from typing import Any

import numpy as np

from .kernel import project_degrees, wasm_path

__all__ = ["MIN_ROWS", "KernelProjection", "kernel_projection"]

#: Fewer rows than this are declined: numpy's twin is as quick there and needs no thread.
MIN_ROWS = 1 << 16
#: Slices are whole multiples of this many rows (the kernel's staging buffers).
_ALIGN = 1 << 16
#: More threads than this never paid: the rest of the pipeline needs the cores too.
_MAX_THREADS = 4


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


class KernelProjection:
    """``project(lon, lat)`` → uint32 ``(x, y)`` by the kernel on ``threads`` threads (the
    caller's and ``threads - 1`` workers; default: the cores there are, at most 4), or None
    when it declines (too few rows, the kernel still loading or unable to load, or called in
    a process forked from the one that made it)."""

    def __init__(self, threads: int | None = None, min_rows: int = MIN_ROWS) -> None:
        self.threads = max(1, min(_MAX_THREADS, _cores()) if threads is None else threads)
        self.min_rows = min_rows
        self._pool = ThreadPoolExecutor(
            max(1, self.threads - 1), thread_name_prefix="heatwidget-projection"
        )
        self._loaded: Future[Any] | None = None
        # A child forked from this process has none of its worker threads (work submitted
        # there would wait forever) and only a copy of its kernels: it declines.
        self._pid = os.getpid()

    def ready(self) -> bool:
        """True once the kernel has loaded; starts loading it on first call."""
        if self._loaded is None:
            empty = np.empty(0, np.float64)
            self._loaded = self._pool.submit(project_degrees, empty, empty)
        return self._loaded.done() and self._loaded.exception() is None

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until the kernel has loaded (or failed to): True when it projects."""
        if os.getpid() != self._pid:
            return False
        self.ready()
        assert self._loaded is not None
        try:
            self._loaded.result(timeout)
        except Exception:
            return False
        return True

    def __call__(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray] | None:
        if len(lon) < self.min_rows or os.getpid() != self._pid or not self.ready():
            return None  # a small map never loads the kernel
        lon = np.ascontiguousarray(lon, np.float64)
        lat = np.ascontiguousarray(lat, np.float64)
        n = len(lon)
        x, y = np.empty(n, np.uint32), np.empty(n, np.uint32)
        step = -(-n // self.threads)
        step = -(-step // _ALIGN) * _ALIGN
        slices = [slice(a, min(a + step, n)) for a in range(0, n, step)]
        rest = [
            self._pool.submit(project_degrees, lon[s], lat[s], (x[s], y[s])) for s in slices[1:]
        ]
        project_degrees(lon[slices[0]], lat[slices[0]], (x[slices[0]], y[slices[0]]))
        for done in rest:
            done.result()
        return x, y


@functools.cache
def kernel_projection() -> KernelProjection | None:
    """The process's one :class:`KernelProjection` (its worker threads serve every widget),
    or None where it cannot run (no wasmtime installed, or no heat.wasm built)."""
    if find_spec("wasmtime") is None or not wasm_path().is_file():
        return None
    return KernelProjection()

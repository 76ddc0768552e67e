"""The Python host of the WebAssembly heat kernel (``static/heat.wasm``, ABI in js/kernel/heat.h).

The same .wasm runs in the browser; here it runs through wasmtime, for ``to_png()``,
``density()`` and the tests. The module is compiled once per process (the Engine and Module
are cached); each :class:`Kernel` has its own Store and Instance, so its own linear memory.

Memory views
    numpy views of the kernel's memory are made with ``np.frombuffer(memory.get_buffer_ptr())``
    and re-made after every call that may grow memory (marked [grows] in heat.h): a grown
    memory may have moved. Everything returned to callers is a copy.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..points.columns.numpy_ops import OPS as NUMPY_OPS

# The ABI this host was written for: heat.h's constants, generated into abi.py by js/build.mjs.
from .abi import (
    HW_ABI_VERSION,
    HW_AGG_COUNT,
    HW_AGG_MAX,
    HW_AGG_MEAN,
    HW_AGG_SUM,
    HW_APPEND_NEEDS_ARRIVAL_ORDER,
    HW_DOT_RADIUS,
    HW_DOTS_CAP,
    HW_DROP_NEEDS_ARRIVAL_ORDER,
    HW_HAS_TIME,
    HW_HAS_WEIGHT,
    HW_SCALE_LINEAR,
    HW_SCALE_LOG,
    HW_SCALE_SQRT,
)

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "HW_AGG_COUNT",
    "HW_AGG_MAX",
    "HW_AGG_MEAN",
    "HW_AGG_SUM",
    "HW_DOTS_CAP",
    "HW_DOT_RADIUS",
    "HW_SCALE_LINEAR",
    "HW_SCALE_LOG",
    "HW_SCALE_SQRT",
    "ArrivalOrderLost",
    "Kernel",
    "project_degrees",
    "wasm_path",
]


_MISSING_WASMTIME = 'to_png()/density() need wasmtime: pip install "heatwidget[png]"'
_MISSING_WASM = (
    "the heat kernel {path} is missing: build the front end: npm run build in js/ "
    "or pip install -e ."
)

# path -> (engine, module): compiled once per process.
_MODULES: dict[str, tuple[Any, Any]] = {}


class ArrivalOrderLost(RuntimeError):
    """The points are in spatial order, which keeps no arrival numbers (heat.h "Memory a
    row"), and a drop or rows with times need the arrival order: nothing was changed; load the
    rows again in arrival order."""


def wasm_path() -> Path:
    """Where the kernel is loaded from: ``$HEATWIDGET_WASM`` if set, else ``static/heat.wasm``."""
    env = os.environ.get("HEATWIDGET_WASM")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "static" / "heat.wasm"


@atexit.register
def _close_modules() -> None:
    """Free the cached Modules and Engines while wasmtime can still do it (at exit)."""
    for engine, module in _MODULES.values():
        _close_managed(module)
        _close_managed(engine)
    _MODULES.clear()


def _wasmtime() -> Any:
    try:
        import wasmtime
    except ImportError as e:  # pragma: no cover - exercised only without wasmtime
        raise ImportError(_MISSING_WASMTIME) from e
    return wasmtime


def _module(path: Path) -> tuple[Any, Any]:
    key = str(path.resolve()) if path.exists() else str(path)
    cached = _MODULES.get(key)
    if cached is not None:
        return cached
    wasmtime = _wasmtime()
    if not path.is_file():
        raise FileNotFoundError(_MISSING_WASM.format(path=path))
    engine = wasmtime.Engine()
    module = wasmtime.Module(engine, path.read_bytes())
    _MODULES[key] = (engine, module)
    return engine, module


def _u32(v: int) -> int:
    """A wasm i32 result read as the uint32 heat.h declares."""
    return int(v) & 0xFFFFFFFF


_LIMIT_ALL = 2**32 - 1


def _checked_limit(limit: int) -> int:
    if not 0 <= int(limit) < _LIMIT_ALL:
        raise ValueError(
            f"limit must be a number of rows from 0 to {_LIMIT_ALL - 1}, got {limit!r}: "
            "pass None to splat every row held"
        )
    return int(limit)


class Kernel:
    """One instance of the heat kernel: its points, its last frame, its memory.

    Typical use::

        k = Kernel()
        k.load(table)                                   # canonical pyarrow Table
        grid, mx = k.density((x0, y0), zoom, w, h, radius=25, aggregation=HW_AGG_SUM)
        rgba = k.colorize(0.0, mx, HW_SCALE_LINEAR, 0.0, lut)
        k.close()
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        wasmtime = _wasmtime()
        engine, module = _module(Path(path) if path is not None else wasm_path())
        self._store = wasmtime.Store(engine)
        # Close the Store deterministically (also at interpreter exit, before wasmtime's own
        # module globals are torn down).
        self._finalizer = weakref.finalize(self, _close_managed, self._store)
        instance = wasmtime.Instance(self._store, module, [])
        self._ex = instance.exports(self._store)
        self._memory = self._ex["memory"]
        abi = self._call("hw_abi_version")
        if abi != HW_ABI_VERSION:
            raise RuntimeError(
                f"heat.wasm has ABI version {abi}, this heatwidget expects {HW_ABI_VERSION}: "
                "rebuild the front end (npm run build in js/)"
            )
        self.stage_capacity = _u32(self._call("hw_stage_capacity"))
        self._frame: tuple[int, int] | None = None

    # ---- plumbing ---------------------------------------------------------------------------

    def _call(self, name: str, *args: Any) -> Any:
        if self._store is None:
            raise RuntimeError("this Kernel is closed")
        return self._ex[name](self._store, *args)

    def _bytes(self) -> np.ndarray:
        """A fresh uint8 view of all linear memory (re-made on every use: memory may move)."""
        return np.frombuffer(self._memory.get_buffer_ptr(self._store), dtype=np.uint8)

    def _view(self, ptr_fn: str, dtype: Any, count: int) -> np.ndarray:
        ptr = _u32(self._call(ptr_fn))
        nbytes = np.dtype(dtype).itemsize * count
        return self._bytes()[ptr : ptr + nbytes].view(dtype)

    # ---- points -----------------------------------------------------------------------------

    @property
    def point_count(self) -> int:
        return _u32(self._call("hw_points_count"))

    @property
    def memory_bytes(self) -> int:
        """Bytes of linear memory the kernel has reserved (``hw_memory_bytes``)."""
        return _u32(self._call("hw_memory_bytes"))

    def load(self, table: pa.Table | pa.RecordBatch) -> int:
        """Replace the points held with ``table``'s rows; returns the number held.

        ``table`` is the canonical Table (``lon`` float64, ``lat`` float64, optional ``weight``
        float32 and ``time`` float64; other numeric types are cast), or a wire table (``x``,
        ``y`` uint32 instead of lon/lat: heatwidget.points.wire.decode_wire). Rows are copied in
        chunks of ``stage_capacity`` into the kernel's staging buffers; any number of record
        batches is fine. Null or non-finite coordinates are kept but never drawn.
        """
        self._call("hw_points_clear")
        self._frame = None
        n = table.num_rows
        if self._call("hw_points_reserve", n) != 0:
            raise MemoryError(f"the heat kernel could not reserve memory for {n} points")
        return self.append(table)

    def append(self, table: pa.Table | pa.RecordBatch) -> int:
        """Add ``table``'s rows after those held (columns as for :meth:`load`); returns the
        number held. Costs in proportion to the rows appended.

        The rows go in as the wire's fixed-point x/y (``hw_points_append_fixed``): a wire
        table's ``x``/``y`` as they are, a canonical table's lon/lat projected by the very
        function that encodes the wire (heatwidget.points, bit for bit the kernel's), so a
        picture here draws from the numbers the page draws from."""
        import pyarrow as pa

        if isinstance(table, pa.RecordBatch):
            table = pa.Table.from_batches([table])
        names = table.schema.names
        fixed = "x" in names and "y" in names
        for col in ("x", "y") if fixed else ("lon", "lat"):
            if col not in names:
                raise ValueError(f"the points table has no {col!r} column (columns: {names})")
        has_weight = "weight" in names
        has_time = "time" in names
        xy = ["x", "y"] if fixed else ["lon", "lat"]
        table = table.select(xy + ["weight"] * has_weight + ["time"] * has_time)
        flags = (HW_HAS_WEIGHT if has_weight else 0) | (HW_HAS_TIME if has_time else 0)
        cap = self.stage_capacity
        for batch in table.to_batches(max_chunksize=cap):
            m = batch.num_rows
            if m == 0:
                continue
            if fixed:
                x = _column(batch.column("x"), np.uint32)
                y = _column(batch.column("y"), np.uint32)
            else:
                x, y = NUMPY_OPS.mercator_fixed(
                    _column(batch.column("lon"), np.float64),
                    _column(batch.column("lat"), np.float64),
                )
            # The staging buffers are static, but re-read the pointers anyway (heat.h contract).
            self._view("hw_stage_x", np.uint32, m)[:] = x
            self._view("hw_stage_y", np.uint32, m)[:] = y
            if has_weight:
                self._view("hw_stage_weight", np.float32, m)[:] = _column(
                    batch.column("weight"), np.float32
                )
            if has_time:
                self._view("hw_stage_time", np.float64, m)[:] = _column(
                    batch.column("time"), np.float64
                )
            total = self._call("hw_points_append_fixed", m, flags)
            if total == -HW_APPEND_NEEDS_ARRIVAL_ORDER:
                raise ArrivalOrderLost("rows with times for points held in spatial order")
            if total < 0:
                raise MemoryError("the heat kernel ran out of memory while loading points")
        self._frame = None
        return self.point_count

    def index(self) -> None:
        """``hw_points_index``: put the points in spatial order now. Otherwise the first frame
        after a load draws without it and the next one sorts (a single ``to_png`` never
        needs it)."""
        self._call("hw_points_index")

    def drop_front(self, n: int) -> int:
        """Forget the oldest ``n`` points (``hw_points_drop_front``); returns the number left.

        Raises :class:`ArrivalOrderLost` (nothing dropped) when the points are in spatial
        order, which keeps no arrival numbers: load them again in arrival order, then
        :meth:`keep_arrival_order`."""
        self._frame = None
        left = _u32(self._call("hw_points_drop_front", int(n)))
        if left == HW_DROP_NEEDS_ARRIVAL_ORDER:
            raise ArrivalOrderLost("the points are in spatial order: load them again")
        return left

    def keep_arrival_order(self) -> None:
        """Keep the points held in arrival order from now on (``hw_points_drop_front(0)``), as
        a sliding window does, until the next :meth:`load`. Call it after loading rows again
        for :class:`ArrivalOrderLost`."""
        self.drop_front(0)

    def window_levels(self) -> list[int]:
        """``hw_window_levels``: the pyramid levels a sliding window keeps up to date (those
        frames asked for lately, and their neighbours); the others are rebuilt from the rows
        when a frame next needs them."""
        bits = _u32(self._call("hw_window_levels"))
        return [level for level in range(32) if bits >> level & 1]

    def time_window(
        self, t0: float | None = None, t1: float | None = None, half_life: float | None = None
    ) -> None:
        """``hw_time_window``: following frames show rows with ``t0 <= time < t1`` (None:
        unbounded), weighted by ``2^(-(t_ref - t) / half_life)`` when ``half_life`` is given
        (same unit as the times: ms). ``time_window()`` shows every row again."""
        nan = float("nan")
        self._call(
            "hw_time_window",
            nan if t0 is None else float(t0),
            nan if t1 is None else float(t1),
            0.0 if half_life is None else float(half_life),
        )

    def count_near(self, px: float, py: float, radius: float) -> int:
        """``hw_frame_count_near``: points of the last frame within ``radius`` px of the frame
        position ``(px, py)``."""
        self._need_frame()
        return _u32(self._call("hw_frame_count_near", float(px), float(py), float(radius)))

    def project(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        out: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``hw_project_staged``: fixed-point Web Mercator ``(x, y)`` (uint32 arrays) of the
        degrees ``lon``, ``lat``, exactly as the kernel stores appended points (heat.h
        "Coordinates"; ``y == 2**32 - 1`` for a NaN or infinite coordinate). Holds nothing.
        ``out``: two uint32 arrays of the same length to write into (returned)."""
        lon = np.asarray(lon, dtype=np.float64).ravel()
        lat = np.asarray(lat, dtype=np.float64).ravel()
        if lon.shape != lat.shape:
            raise ValueError(f"lon and lat differ in length: {lon.size} != {lat.size}")
        n, cap = lon.size, self.stage_capacity
        if out is None:
            x, y = np.empty(n, np.uint32), np.empty(n, np.uint32)
        else:
            x, y = out
            if x.shape != (n,) or y.shape != (n,) or x.dtype != np.uint32 or y.dtype != np.uint32:
                raise ValueError(f"out must be two uint32 arrays of {n} rows")
        for a in range(0, n, cap):
            m = min(cap, n - a)
            self._view("hw_stage_lon", np.float64, m)[:] = lon[a : a + m]
            self._view("hw_stage_lat", np.float64, m)[:] = lat[a : a + m]
            self._call("hw_project_staged", m)
            x[a : a + m] = self._view("hw_project_x", np.uint32, m)
            y[a : a + m] = self._view("hw_project_y", np.uint32, m)
        return x, y

    # ---- frames -----------------------------------------------------------------------------

    def grid_geometry(
        self, width: int, height: int, radius: float, aggregation: int
    ) -> tuple[int, int, int, int]:
        """``(f, margin, gw, gh)`` of the padded grid ``hw_density`` bins a frame into: cells
        of ``f`` px, ``margin`` px of footprint on every side, ``gw`` x ``gh`` cells
        (``hw_grid_begin``; the next :meth:`density_grid` must pass the same arguments)."""
        return self._grid_begin(width, height, radius, aggregation)[1]

    def _grid_begin(
        self, width: int, height: int, radius: float, aggregation: int
    ) -> tuple[int, tuple[int, int, int, int]]:
        ptr = _u32(self._call("hw_grid_begin", int(width), int(height), float(radius), aggregation))
        if ptr == 0:
            raise MemoryError(f"the heat kernel could not allocate a {width}x{height} frame")
        g = self._view("hw_grid_geometry", np.uint32, 4)
        return ptr, (int(g[0]), int(g[1]), int(g[2]), int(g[3]))

    def density_grid(
        self,
        planes: np.ndarray,
        origin: tuple[float, float],
        zoom: float,
        width: int,
        height: int,
        radius: float,
        aggregation: int,
    ) -> tuple[np.ndarray, float]:
        """``hw_density_grid``: as :meth:`density`, from a binned grid instead of points.

        ``planes`` is float32 ``(3, gh, gw)``: per cell the sum of weights, the number of rows
        and the largest weight, at the geometry :meth:`grid_geometry` gives for the same
        ``width``, ``height``, ``radius``, ``aggregation`` (heat.h "Frames from a grid").
        """
        width, height = int(width), int(height)
        ptr, (_, _, gw, gh) = self._grid_begin(width, height, radius, aggregation)
        planes = np.asarray(planes, dtype=np.float32)
        if planes.shape != (3, gh, gw):
            raise ValueError(f"planes must have shape (3, {gh}, {gw}), got {planes.shape}")
        n = 3 * gw * gh
        self._bytes()[ptr : ptr + 4 * n].view(np.float32)[:] = planes.ravel()
        x0, y0 = (float(v) for v in origin)
        mx = float(self._call("hw_density_grid", x0, y0, float(zoom)))
        return self._frame_of(mx, width, height)

    def density(
        self,
        origin: tuple[float, float],
        zoom: float,
        width: int,
        height: int,
        radius: float,
        aggregation: int,
    ) -> tuple[np.ndarray, float]:
        """``hw_density``: the frame's (height, width) float32 grid (a copy) and its maximum.

        ``origin`` is the frame's top-left world pixel at ``zoom`` (see _viewport.py);
        ``aggregation`` is one of the ``HW_AGG_*`` constants.
        """
        width, height = self._checked_frame(width, height, aggregation)
        x0, y0 = (float(v) for v in origin)
        mx = float(
            self._call(
                "hw_density", x0, y0, float(zoom), width, height, float(radius), int(aggregation)
            )
        )
        return self._frame_of(mx, width, height)

    def density_ahead(
        self,
        origin: tuple[float, float],
        zoom: float,
        width: int,
        height: int,
        radius: float,
        aggregation: int,
        limit: int | None = None,
    ) -> int | None:
        """``hw_density_ahead``: splats the rows loaded so far into the first frame of a load
        (the rows appended since the last call with the same arguments; at most ``limit`` of
        them, None: all), so that the next
        :meth:`density` with the same arguments splats only the rest. Returns the rows the
        frame holds, or None when this frame cannot be splatted ahead (heat.h: rows with times,
        a time window, rows sorted or a frame drawn since the load); :meth:`density` is the
        same frame either way."""
        width, height = self._checked_frame(width, height, aggregation)
        x0, y0 = (float(v) for v in origin)
        self._frame = None  # the last frame's buffers now hold this one
        done = int(
            self._call(
                "hw_density_ahead",
                x0,
                y0,
                float(zoom),
                width,
                height,
                float(radius),
                int(aggregation),
                _LIMIT_ALL if limit is None else _checked_limit(limit),
            )
        )
        return None if done < 0 else done

    @staticmethod
    def _checked_frame(width: int, height: int, aggregation: int) -> tuple[int, int]:
        width, height = int(width), int(height)
        if width < 1 or height < 1:
            raise ValueError(f"frame size must be at least 1x1, got {width}x{height}")
        if aggregation not in (HW_AGG_SUM, HW_AGG_COUNT, HW_AGG_MEAN, HW_AGG_MAX):
            raise ValueError(f"unknown aggregation constant {aggregation!r}")
        return width, height

    def _frame_of(self, mx: float, width: int, height: int) -> tuple[np.ndarray, float]:
        """The frame a density export just drew (its maximum ``mx``, < 0 when memory could not
        grow): a copy of its grid, and the size later calls (quantile, colours) read."""
        if mx < 0:
            self._frame = None
            raise MemoryError(f"the heat kernel could not allocate a {width}x{height} frame")
        self._frame = (width, height)
        grid = self._view("hw_frame_grid", np.float32, width * height)
        return grid.reshape(height, width).copy(), mx

    def _need_frame(self) -> tuple[int, int]:
        if self._frame is None:
            raise RuntimeError("no frame yet: call density() first")
        return self._frame

    def quantile(self, q: float) -> float:
        """``hw_frame_quantile``: the q-quantile (0..1) of the last frame's non-zero values."""
        self._need_frame()
        return float(self._call("hw_frame_quantile", float(q)))

    def colorize(
        self, vmin: float, vmax: float, scale: int, threshold: float, lut: bytes
    ) -> np.ndarray:
        """``hw_colorize`` of the last frame with the 1024-byte RGBA ``lut``: (h, w, 4) uint8."""
        self._need_frame()
        lut_b = bytes(lut)
        if len(lut_b) != 1024:
            raise ValueError(f"lut must be 1024 bytes (256 RGBA entries), got {len(lut_b)}")
        self._view("hw_lut", np.uint8, 1024)[:] = np.frombuffer(lut_b, dtype=np.uint8)
        self._call("hw_colorize", float(vmin), float(vmax), int(scale), float(threshold))
        return self.rgba()

    def dots(self, radius: float, mix: float, cap: int = HW_DOTS_CAP) -> int:
        """``hw_dots``: the rows of the last frame's view and time window as dots of ``radius``
        px over its colours (call after :meth:`colorize`), cross-faded with the heat by ``mix``
        (0: the heat alone, 1: the dots alone); at most ``cap`` rows. Returns the rows drawn;
        :meth:`rgba` then reads the frame."""
        self._need_frame()
        for name, v, lo, hi in (("radius", radius, 0.0, 64.0), ("mix", mix, 0.0, 1.0)):
            if not (lo <= float(v) <= hi):
                raise ValueError(f"dots {name} must be in [{lo:g}, {hi:g}], got {v!r}")
        if int(cap) < 0:
            raise ValueError(f"dots cap must be >= 0, got {cap!r}")
        n = int(self._call("hw_dots", float(radius), float(mix), int(cap)))
        if n < 0:
            raise RuntimeError("no frame to draw dots over: call density() first")
        return n

    def dots_domain(self) -> tuple[float, float]:
        """``hw_dots_domain``: the weights ``(lo, hi)`` the last :meth:`dots` coloured over."""
        lo, hi = self._view("hw_dots_domain", np.float32, 2)
        return float(lo), float(hi)

    def rgba(self) -> np.ndarray:
        """The last frame's colours as they are now (after :meth:`colorize` and
        :meth:`dots`): a (h, w, 4) uint8 copy."""
        width, height = self._need_frame()
        rgba = self._view("hw_frame_rgba", np.uint8, width * height * 4)
        out: np.ndarray = rgba.reshape(height, width, 4).copy()
        return out

    # ---- lifetime ---------------------------------------------------------------------------

    def close(self) -> None:
        """Release the kernel's buffers and its instance (idempotent)."""
        if self._store is None:
            return
        try:
            if self._finalizer.alive:  # not already closed at interpreter exit
                self._call("hw_release")
        finally:
            self._finalizer()
            self._store = None
            self._ex = None
            self._memory = None
            self._frame = None

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_THREAD = threading.local()


def project_degrees(
    lon: np.ndarray, lat: np.ndarray, out: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`Kernel.project` on a kernel of this thread's own (made on first use): a plain
    function, so it pickles by name to Dask workers (heatwidget.aggregate projects with it)."""
    k = getattr(_THREAD, "kernel", None)
    if k is None:
        k = _THREAD.kernel = Kernel()
    return k.project(lon, lat, out)


def _close_managed(obj: Any) -> None:
    close = getattr(obj, "close", None)
    if close is not None:
        close()


def _column(arr: Any, dtype: Any) -> np.ndarray:
    """An Arrow array → numpy of ``dtype``, nulls as NaN."""
    import pyarrow as pa

    targets = {np.float64: pa.float64(), np.float32: pa.float32(), np.uint32: pa.uint32()}
    target = targets[dtype]
    if arr.type != target:
        arr = arr.cast(target)
    out: np.ndarray = np.asarray(arr.to_numpy(zero_copy_only=False), dtype=dtype)
    return out

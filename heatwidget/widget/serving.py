"""``ServedPoints``: server mode's point source. The rows stay in Python or in their engine
(heatwidget/aggregate: DuckDB, Dask, in-memory arrays); each view asks for its frame's binned
grid (views/protocol.py ``grid``) and draws it with the same kernel as client mode.

``serve()`` decides the mode of one input (``Decision``): "server" for a Dask DataFrame, a
DuckDB relation, a Parquet path/glob whose row count from the footers exceeds
``max_client_points``, and in-memory data above it; else "client" (the rows go to the page as
before). With a ``cache`` file, a Parquet dataset or DuckDB relation is served from a
spatially sorted Parquet copy of its rows (``sorted_copy_path``: written once by DuckDB next to
the cache file, reused by the next session), so a view deeper than the pyramid reads only the
row groups in view. The Python host draws ``density()``/``to_png()`` of a served map through
:meth:`ServedPoints.kernel`, a kernel whose frames come from the aggregator.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import math
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike, fspath
from pathlib import Path
from typing import Any

from ..points import empty_table
from ..views import protocol
from .stream import input_table

LOG = logging.getLogger("heatwidget")

__all__ = ["DEFAULT_MAX_CLIENT_POINTS", "Decision", "ServedPoints", "serve", "sorted_copy_path"]

#: Rows above which in-memory data and Parquet datasets are served from Python. The budget is
#: 512 MB of tab memory per map: the page holds 13.5 bytes a weighted row loaded by set_data
#: (measured at 10M in JupyterLab through CDP: wire format 2, rows in the kernel only;
#: bench/lab_latency.py) and up to 22.5 while appends grow a full map, so 20M rows take
#: 270-450 MB; and set_data of 10M already takes 5-12 s to the first frame on this 2-core
#: machine, most of it Jupyter's websocket relay.
DEFAULT_MAX_CLIENT_POINTS = 20_000_000

MODES = ("client", "server")
PYODIDE = (
    'mode="server" needs a real Python kernel (JupyterLab, Notebook, Voila): in '
    "JupyterLite/Pyodide the kernel runs inside the page, so rows kept in Python are in the "
    'page anyway. Use mode="client" (or leave mode=None).'
)
WASMTIME = (
    'server mode needs wasmtime to bin frames as the kernel does: pip install "heatwidget[png]"'
)
APPEND = (
    "append() is not available in server mode: the rows live in {what}, not in the widget. "
    "Add them to the source (e.g. write another Parquet file into the dataset) and call "
    "set_data() with it again, or use mode='client' for data that fit in the page."
)
SELECTED = (
    "selected() is not available in server mode: the rows are not held by the widget. Filter "
    "the source itself with the selection's bounds (m.selection), e.g. in DuckDB or Dask."
)
ON_SELECT = (
    "on_select() is not available in server mode yet: its counts are of the rows the widget "
    "holds, and a served map holds none. Read m.selection and count in the source (DuckDB, "
    "Dask) instead."
)
#: The largest answer (bytes of planes) sent for one view; a bigger frame gets an error.
MAX_ANSWER_BYTES = 64 << 20
_PARQUET = (".parquet", ".parq", ".pq")


@dataclass(frozen=True)
class Decision:
    """One input's mode, why, and either its served points or its canonical table."""

    mode: str
    reason: str
    served: ServedPoints | None
    table: Any
    label: str
    automatic: bool


def _kind(data: Any) -> str | None:
    """ "dask", "duckdb" or "parquet" for data that live in an engine, else None."""
    module = type(data).__module__ or ""
    if module.startswith("dask"):
        return "dask"
    if module.startswith("duckdb") and hasattr(data, "columns") and hasattr(data, "filter"):
        return "duckdb"
    if isinstance(data, (str, PathLike)):
        text = fspath(data)
        path = Path(text)
        if text.lower().endswith(_PARQUET) or (path.is_dir() and any(path.glob("**/*.parq*"))):
            return "parquet"
    return None


def _check_mode(mode: Any, max_client_points: Any) -> None:
    if mode is not None and mode not in MODES:
        raise ValueError(
            f"mode must be None (automatic), 'client' or 'server', got {mode!r}: 'client' "
            "sends the rows to the page, 'server' keeps them in Python and sends grids."
        )
    if isinstance(max_client_points, bool) or not isinstance(max_client_points, int):
        raise ValueError(
            f"max_client_points must be a whole number of rows, got {max_client_points!r} "
            f"(default {DEFAULT_MAX_CLIENT_POINTS:_})"
        )
    if max_client_points < 0:
        raise ValueError(f"max_client_points must be >= 0, got {max_client_points!r}")
    if mode == "server" and sys.platform == "emscripten":
        raise RuntimeError(PYODIDE)


def serve(
    data: Any,
    lat: Any,
    lon: Any,
    weight: Any,
    time: Any,
    time_unit: str,
    *,
    mode: str | None,
    max_client_points: int,
    cache: str | PathLike[str] | None,
    stacklevel: int,
) -> Decision:
    """The mode of one input and what it needs (see the module's docstring). Engines' rows
    are counted from metadata only; a Parquet path in server mode is never read here."""
    _check_mode(mode, max_client_points)
    kind = _kind(data)
    if kind is not None and mode != "client":
        source, rows = _engine_source(kind, data, lat, lon, weight, time)
        if kind == "parquet" and mode is None and rows is not None and rows <= max_client_points:
            pass  # a small dataset: read into the page below, as before
        else:
            if kind == "parquet":
                why = f"a Parquet dataset of {rows:_} rows (from its footers)"
                if mode is None:
                    why += f", more than max_client_points={max_client_points:_}"
            else:
                why = {"dask": "a Dask DataFrame", "duckdb": "a DuckDB relation"}[kind]
                why += " (its rows stay in the engine)"
            reason = why if mode is None else f"mode='server' given; {why}"
            # a date/timestamp column is read as ms (aggregate/times.py); time_unit is for numbers
            unit = "ms" if getattr(source, "time_ms", False) else time_unit
            if cache is not None and kind in ("parquet", "duckdb"):
                source = source.sorted_copy(sorted_copy_path(cache))
            served = ServedPoints(source, kind, cache, unit)
            return Decision("server", reason, served, empty_table(), "weight", mode is None)
    if kind in ("dask", "duckdb"):  # mode="client": the rows come to the page
        data = data.compute() if kind == "dask" else data.arrow()
    table, label = input_table(data, lat, lon, weight, time, time_unit, stacklevel + 1)
    rows = int(table.num_rows)
    if mode == "client" or (mode is None and rows <= max_client_points):
        reason = (
            "mode='client' given"
            if mode == "client"
            else f"{rows:_} rows, at most max_client_points={max_client_points:_}"
        )
        return Decision("client", reason, None, table, label, mode is None)
    from ..aggregate import ArraySource

    why = f"{rows:_} rows in memory"
    if mode is None:
        why += f", more than max_client_points={max_client_points:_}"
    reason = why if mode is None else f"mode='server' given; {why}"
    served = ServedPoints(ArraySource(table), "memory", cache, "ms")
    return Decision("server", reason, served, empty_table(), label, mode is None)


def sorted_copy_path(cache: str | PathLike[str]) -> Path:
    """Where a served Parquet dataset or DuckDB relation keeps its spatially sorted copy
    (``DuckDBSource.sorted_copy``) when a ``cache`` is given: next to the cache file, its
    name plus ``.sorted.parquet`` (``pyramid.npz`` -> ``pyramid.npz.sorted.parquet``)."""
    path = Path(cache)
    return path.with_name(path.name + ".sorted.parquet")


def _engine_source(
    kind: str, data: Any, lat: Any, lon: Any, weight: Any, time: Any
) -> tuple[Any, int | None]:
    from ..aggregate import DaskSource, DuckDBSource
    from ..points.schema import LAT_NAMES, LON_NAMES

    if kind == "parquet":
        data = fspath(data)
        if Path(data).is_dir():  # a dataset's folder: every Parquet file under it
            data = str(Path(data) / "**" / "*.parq*")
    if kind == "dask":
        columns = list(data.columns)
    else:
        source = DuckDBSource(data)
        columns = list(source.rel.columns)
    names = {
        "lat": _column(columns, lat, "lat", LAT_NAMES),
        "lon": _column(columns, lon, "lon", LON_NAMES),
        "weight": _column(columns, weight, "weight", None),
        "time": _column(columns, time, "time", None),
    }
    if kind == "dask":
        return DaskSource(data, **names), None
    source = DuckDBSource(data, **names)
    return source, source.row_count()


def _column(columns: list[str], given: Any, role: str, candidates: tuple[str, ...] | None) -> Any:
    """The engine column for ``role``: ``given`` (checked), else found by common names."""
    if given is not None:
        if not isinstance(given, str) or given not in columns:
            raise ValueError(
                f"{role}={given!r} is not a column of the data; its columns: "
                f"{', '.join(map(repr, columns))}. Name the column with {role}='<column>'."
            )
        return given
    if candidates is None:
        return None
    found = [c for c in columns if c.lower() in candidates]
    if len(found) != 1:
        raise ValueError(
            f"no single {role} column found among {', '.join(map(repr, columns))} (tried "
            f"{', '.join(map(repr, candidates))}): name it with {role}='<column>'."
        )
    return found[0]


def _duck_extent(rel: Any, column: str) -> tuple[Any, Any]:
    """min/max of a DuckDB column, dates/timestamps as ms (the extremes first, then
    converted: DuckDB answers min/max of a bare Parquet column from its statistics)."""
    from ..aggregate.times import duck_time

    extremes = rel.aggregate(f'min("{column}") AS lo, max("{column}") AS hi')
    lo, _ = duck_time(extremes, "lo")
    hi, _ = duck_time(extremes, "hi")
    row = extremes.select(f"{lo}, {hi}").fetchall()[0]
    return row[0], row[1]


def _dask_extent(column: Any) -> tuple[Any, Any]:
    """min/max of a Dask column (dates/timestamps as ms): one pass over that column."""
    from dask.base import compute

    values = column.map_partitions(_as_float_series, meta=(column.name, "float64"))
    lo, hi = compute(values.min(), values.max())  # type: ignore[no-untyped-call]
    return (None if math.isnan(lo) else lo), (None if math.isnan(hi) else hi)


def _as_float_series(series: Any) -> Any:
    import pandas as pd

    from ..aggregate.times import series_ms

    return pd.Series(series_ms(series), index=series.index, name=series.name)


class ServedPoints:
    """A source's rows behind an ``Aggregator``: one pass builds its pyramid (or loads it from
    ``cache``); then each view's frame is answered with its binned grid. ``what`` says where
    the rows live ("memory", "parquet", "duckdb", "dask"); the source's time column is in
    ``time_unit`` ("ms" for the canonical table), the views' windows in ms."""

    def __init__(
        self, source: Any, what: str, cache: str | PathLike[str] | None, time_unit: str
    ) -> None:
        if importlib.util.find_spec("wasmtime") is None:
            raise ImportError(WASMTIME)
        from ..aggregate import Aggregator
        from ..host.kernel import project_degrees

        self.what = what
        self.aggregator = Aggregator(source, project_degrees, cache=cache)
        self._per_ms = {"ms": 1.0, "s": 1e-3, "us": 1e3, "ns": 1e6}.get(time_unit, 1e-3)
        self._lock = threading.Lock()
        #: One query at a time: a view's request (comm thread) and density() in a cell may run
        #: on different threads, and a DuckDB connection is not for concurrent use.
        self.engine_lock = threading.Lock()
        self._kernel: Any = None
        self.pyramid = self.aggregator.pyramid  # the one pass, now: data_bounds need it

    @property
    def rows(self) -> int:
        return int(self.pyramid.rows)

    def summary(self) -> dict[str, Any]:
        """The traits that follow the rows (point_count: rows served; data_bounds from the
        pyramid's deepest level, to its pixels)."""
        return {
            "point_count": self.rows,
            "data_bounds": self.bounds(),
            "time_extent": self.time_extent(),
        }

    def time_extent(self) -> tuple[float, float] | None:
        """(first, last) time in seconds: in-memory rows, DuckDB's min/max (Parquet
        statistics where it can), or Dask's (one pass over the time column, once); None
        without times. Dates and timestamps count in ms (aggregate/times.py)."""
        import numpy as np

        source: Any = self.aggregator.source
        t = getattr(source, "time", None)
        if isinstance(t, np.ndarray):
            lo, hi = (float(np.nanmin(t)), float(np.nanmax(t))) if t.size else (None, None)
        elif isinstance(t, str) and hasattr(source, "rel"):
            lo, hi = _duck_extent(source.rel, t)
        elif hasattr(source, "ddf") and source.cols[3] is not None:
            lo, hi = _dask_extent(source.ddf[source.cols[3]])
        else:
            return None
        if lo is None or hi is None:
            return None
        unit_s = 1e3 * self._per_ms  # the source's time units per second
        return (float(lo) / unit_s, float(hi) / unit_s)

    def bounds(self) -> tuple[float, float, float, float] | None:
        import numpy as np

        from ..aggregate import morton

        level = self.pyramid.depth
        cells = self.pyramid.levels[level]
        if cells.code.size == 0:
            return None
        px, py = morton.decode(cells.code)
        side = float(256 << level)

        def lat(y: float) -> float:
            return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y / side))))

        west = float(np.min(px)) / side * 360.0 - 180.0
        east = float(np.max(px) + 1) / side * 360.0 - 180.0
        return (lat(float(np.max(py) + 1)), west, lat(float(np.min(py))), east)

    def window(self, t0: float | None, t1: float | None) -> tuple[float | None, float | None]:
        """A window in ms as the source's time unit."""
        return (
            None if t0 is None else t0 * self._per_ms,
            None if t1 is None else t1 * self._per_ms,
        )

    def planes(
        self,
        frame: Any,
        window: tuple[float | None, float | None],
        half_life: float | None = None,
        count: bool = False,
    ) -> Any:
        """The frame's planes (``window`` and ``half_life`` in the source's time unit); with a
        half-life, from the rows in view decayed as the kernel decays them (aggregate/
        decayed.py: every such frame reads rows, as a time window's does)."""
        t0, t1 = window
        t_ref = t1 if t1 is not None else self.latest()
        if not half_life or t_ref is None:  # no times held: no decay, as in the kernel
            with self.engine_lock:
                return self.aggregator.grid(frame, t0, t1)
        from ..aggregate import Aggregator
        from ..aggregate.decayed import decayed_source

        source = decayed_source(self.aggregator.source, t_ref, half_life, count)
        rows = Aggregator(source, self.aggregator.project)
        with self.engine_lock:  # t0 bounded: the rows' path, never a pyramid over decay
            planes = rows.grid(frame, -1e300 if t0 is None else t0, t1)
        if count:  # the kernel counts a decayed row as its factor: the decayed sum
            planes[1] = planes[0]
        return planes

    def latest(self) -> float | None:
        """The latest time held, in the source's unit (None without times)."""
        extent = self.time_extent()
        return None if extent is None else extent[1] * 1e3 * self._per_ms

    def kernel(self) -> GridKernel:
        """A kernel for the Python host's frames (``density()``, ``to_png()``)."""
        from ..host.kernel import Kernel

        return GridKernel(self, Kernel())

    def answer_soon(
        self,
        content: dict[str, Any],
        half_life: float | None,
        send: Callable[[dict[str, Any], list[bytes]], None],
    ) -> None:
        """``send(*answer(...))``: binned on the running event loop's default executor when
        there is one (the Jupyter kernel's asyncio loop: cells and other messages are not held
        up while a grid is binned) and sent back on the loop's thread; else at once (plain
        Python, bench/scale.py). A malformed request raises ValueError here, at once."""
        protocol.grid_request(content)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            send(*self.answer(content, half_life))
            return
        future = loop.run_in_executor(None, self.answer, content, half_life)
        future.add_done_callback(lambda done: _send_result(done, send))

    def answer(
        self, content: dict[str, Any], half_life: float | None = None
    ) -> tuple[dict[str, Any], list[bytes]]:
        """A view's ``grid`` request → the answer and its buffers (one float32 plane each;
        ``half_life`` in ms: the map's ``time_decay``);
        a request that cannot be answered gets an answer with ``error``. Raises ValueError
        when the request is malformed (the Dispatcher logs it)."""
        req = protocol.grid_request(content)
        from ..host.kernel import Kernel
        from ..host.render import AGGREGATIONS

        agg = AGGREGATIONS[req.aggregation]
        with self._lock:
            if self._kernel is None:
                self._kernel = Kernel()
            f, margin, gw, gh = self._kernel.grid_geometry(req.width, req.height, req.radius, agg)
        names = protocol.GRID_PLANES[req.aggregation]
        size = 4 * gw * gh * len(names)
        if size > MAX_ANSWER_BYTES:
            why = f"a {size}-byte grid is too large (limit {MAX_ANSWER_BYTES} bytes): use a "
            why += "smaller map or radius"
            return protocol.grid_error(req.id, why), []
        from ..aggregate import GridFrame

        frame = GridFrame(req.x0, req.y0, req.zoom, req.width, req.height, f, margin, gw, gh)
        decay = None if half_life is None else half_life * self._per_ms
        count = req.aggregation == "count"
        planes = self.planes(frame, self.window(req.t0, req.t1), decay, count)
        index = {"sum": 0, "count": 1, "max": 2}
        buffers = [planes[index[n]].tobytes() for n in names]
        count = planes[1]
        stats = {
            "rows": round(float(count.sum(dtype="float64"))),
            "sum": float(planes[0].sum(dtype="float64")),
            "largest": float(planes[2].max()) if planes[2].size else 0.0,
        }
        return protocol.grid_answer(req.id, (f, margin, gw, gh), names, stats), buffers

    def close(self) -> None:
        with self._lock:
            if self._kernel is not None:
                self._kernel.close()
                self._kernel = None


def _send_result(
    done: asyncio.Future[tuple[dict[str, Any], list[bytes]]],
    send: Callable[[dict[str, Any], list[bytes]], None],
) -> None:
    if done.cancelled():
        return
    error = done.exception()
    if error is not None:  # as the Dispatcher logs a handler's error: never raised at the loop
        LOG.error("heatwidget: a grid answer failed", exc_info=error)
        return
    send(*done.result())


class GridKernel:
    """The Python host's kernel for a served map: ``render()`` calls it as a kernel holding
    the rows, and its frames come from the aggregator's grids (``hw_density_grid``)."""

    def __init__(self, served: ServedPoints, kernel: Any) -> None:
        self.served = served
        self.kernel = kernel
        self.range: tuple[float | None, float | None] = (None, None)
        self.half_life: float | None = None

    def time_window(self, t0: float | None, t1: float | None, half_life: float | None) -> None:
        """The window and half-life in ms (render.py's units), kept in the source's unit."""
        self.range = self.served.window(t0, t1)
        self.half_life = None if not half_life else self.served.window(half_life, None)[0]

    def density(
        self,
        origin: tuple[float, float],
        zoom: float,
        width: int,
        height: int,
        radius: float,
        aggregation: int,
    ) -> tuple[Any, float]:
        agg = self.served.aggregator
        if not self.half_life:
            with self.served.engine_lock:
                return agg.density(
                    self.kernel, origin, zoom, width, height, radius, aggregation, self.range
                )
        from ..aggregate import GridFrame
        from ..host.render import AGGREGATIONS

        f, margin, gw, gh = self.kernel.grid_geometry(width, height, radius, aggregation)
        frame = GridFrame(*origin, float(zoom), width, height, f, margin, gw, gh)
        count = aggregation == AGGREGATIONS["count"]
        planes = self.served.planes(frame, self.range, self.half_life, count)
        grid, mx = self.kernel.density_grid(
            planes, origin, zoom, width, height, radius, aggregation
        )
        return grid, float(mx)

    def quantile(self, q: float) -> float:
        return float(self.kernel.quantile(q))

    def colorize(self, *args: Any) -> Any:
        return self.kernel.colorize(*args)

    def close(self) -> None:
        self.kernel.close()

"""The points a Heatmap holds, as a list of chunks that grows at the end (``append``) and
shrinks at the front (the ``max_points`` sliding window); each change is one numbered delta.

Why chunks: an append must cost (in Python and on the wire) in proportion to the rows
appended, not to the rows held. Each delta is encoded on its own as a complete Arrow IPC stream
(schema + one batch, ~300 bytes of overhead) and sent to the views that exist; the full stream
(``encode()``) is only made when a *new* front-end model asks for the widget's state (a page
load, a reload), and not kept: caching it would double the memory the rows take.

Columns: the canonical ``lon``/``lat``/``weight`` of docs/architecture.md, plus an optional
``time`` float64 (milliseconds since the Unix epoch for datetimes; numbers as given). Chunks
may differ in which optional columns they carry (the kernel takes HW_HAS_WEIGHT/HW_HAS_TIME per
append); the full table conforms them to one schema: a missing weight is 1, a missing time NaN
(NaN is in no bounded time window), exactly what the kernel does for them.

Written once over the column ops (:mod:`heatwidget.points.columns`: numpy, or ``array.array``
in Pyodide); the bytes are made by :mod:`heatwidget.points.wire` (pyarrow, or arro3).
Every change is planned (checked, may raise, changes nothing) and then committed (cannot
fail), so a call that raises leaves the store as it was. Nothing here knows about widgets or
comms.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..constants import Bounds
from .columns import ColumnOps, default_ops
from .errors import MAX_WEIGHT_TOTAL, weights_too_heavy
from .fixed import Projector
from .schema import COLUMN_TYPES, build, build_chunks
from .wire import encode, encode_buffer

__all__ = ["Change", "Delta", "PointStore"]

_ORDER = ("lon", "lat", "weight", "time")
_FILL = {"weight": 1.0, "time": float("nan")}
# Rows per chunk held: a sliding window re-summarises only the chunk it cuts into.
_CHUNK_ROWS = 1 << 16

Chunk = dict[str, Any]
Extent = tuple[float, float]


@dataclass(frozen=True)
class Summary:
    """What the store keeps of each chunk, so that appends and drops never rescan the rows."""

    bounds: Bounds | None
    extent: Extent | None
    weight: float
    """The total of the chunk's weights (1 a row without a weight column)."""


@dataclass(frozen=True)
class Delta:
    """One change to send to existing views: append ``payload``'s rows, then forget the
    ``drop`` oldest rows. ``seq`` numbers the changes (the state after it has ``seq``)."""

    seq: int
    rows: int
    drop: int
    payload: bytes | memoryview  # IPC stream of the appended rows (b"" when none)


@dataclass(frozen=True)
class State:
    """The rows held (chunks share the column buffers: a new state copies no rows)."""

    chunks: tuple[Chunk, ...] = ()
    summaries: tuple[Summary, ...] = ()
    count: int = 0
    seq: int = 0
    bounds: Bounds | None = None
    time_extent: Extent | None = None
    weight: float = 0.0
    """The total of the weights held (what a pixel holding every row would sum to)."""


@dataclass(frozen=True)
class Change:
    """A change worked out and checked but not made: :meth:`PointStore.commit` makes it.
    ``delta`` is what to send to the views (None: a reset, all rows)."""

    state: State
    delta: Delta | None


def _rows(chunk: Chunk) -> int:
    return len(chunk["lon"])


def _union(a: Bounds | None, b: Bounds | None) -> Bounds | None:
    if a is None or b is None:
        return a if b is None else b
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _union_extent(a: Extent | None, b: Extent | None) -> Extent | None:
    if a is None or b is None:
        return a if b is None else b
    return (min(a[0], b[0]), max(a[1], b[1]))


class PointStore:
    """Rows held, oldest first, with a sequence number bumped by every change.

    Every change is worked out first (``plan_replace``, ``plan_append``, ``plan_trim``: they
    check everything and may raise, and change nothing), then made with :meth:`commit`, which
    cannot fail. ``replace``/``append``/``trim`` do both."""

    def __init__(self, ops: ColumnOps | None = None, project: Projector | None = None) -> None:
        self._ops = default_ops() if ops is None else ops
        self._project = project
        self._state = State()

    # ---- reading ----------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self._state.count

    @property
    def project(self) -> Projector | None:
        """The faster projection this store encodes with (None: its column backend's)."""
        return self._project

    @property
    def seq(self) -> int:
        return self._state.seq

    @property
    def bounds(self) -> Bounds | None:
        return self._state.bounds

    @property
    def time_extent(self) -> Extent | None:
        return self._state.time_extent

    @property
    def names(self) -> tuple[str, ...]:
        """The union of the columns of the chunks held, in wire order."""
        return _names(self._state.chunks)

    @property
    def has_time(self) -> bool:
        return "time" in self.names

    def table(self) -> Any:
        """All rows as one canonical table (one schema: see the module docstring)."""
        names = self.names
        return build_chunks([self._conform(c, names) for c in self._state.chunks], names, self._ops)

    def encode(self) -> bytes:
        """The full IPC stream of the rows held, encoded on each call: it is needed only when
        a model starts (first display, page reload) or resyncs, and keeping it would double
        the memory the rows take."""
        names = self.names
        chunks = [self._conform(c, names) for c in self._state.chunks]
        return encode(self._joined(chunks, names), self._project)

    def encode_parts(self, part_rows: int) -> tuple[int, Iterator[memoryview]]:
        """The rows held as consecutive IPC streams of about ``part_rows`` rows (whole chunks)
        each: how many, and each encoded only when it is asked for, so that a big reset's
        first part travels while the next one is projected and encoded."""
        names = self.names
        groups: list[list[Chunk]] = [[]]
        rows = 0
        for chunk in self._state.chunks:
            if rows >= part_rows:
                groups.append([])
                rows = 0
            groups[-1].append(self._conform(chunk, names))
            rows += _rows(chunk)
        project = self._project
        return len(groups), (encode_buffer(self._joined(g, names), project) for g in groups)

    # ---- changing ---------------------------------------------------------------------------

    def plan_replace(
        self, table: Any, max_points: int | None = None, label: str = "weight"
    ) -> Change:
        """Hold exactly ``table``'s rows (the newest ``max_points`` of them). Rows are sorted
        by time (stable) when there is a time column, so a time window visits only the rows
        inside it."""
        cols, n = self._prepared(table, max_points)
        chunks = tuple(
            {k: v[i : i + _CHUNK_ROWS] for k, v in cols.items()} for i in range(0, n, _CHUNK_ROWS)
        )
        state = self._folded(chunks, tuple(map(self._summary, chunks)), self.seq + 1, label)
        return Change(state, None)

    def plan_append(
        self, table: Any, max_points: int | None = None, label: str = "weight"
    ) -> Change:
        """Add ``table``'s rows at the end, then drop the oldest beyond ``max_points``.

        The new rows are sorted by time among themselves; rows older than those held are kept
        where they are appended (time windows stay correct, only slower: see ``time_window``).
        """
        cols, rows = self._prepared(table, max_points)
        payload = encode_buffer(build(cols), self._project) if rows else b""
        chunks, summaries = self._state.chunks, self._state.summaries
        if rows:
            chunks, summaries = (*chunks, cols), (*summaries, self._summary(cols))
        count = self.count + rows
        drop = 0
        if max_points is not None and count > max_points:
            chunks, summaries, drop = self._drop_front(chunks, summaries, count - max_points)
        state = self._folded(chunks, summaries, self.seq + 1, label)
        return Change(state, Delta(seq=state.seq, rows=rows, drop=drop, payload=payload))

    def plan_trim(self, max_points: int | None) -> Change | None:
        """A new ``max_points`` for the rows held: the Change dropping rows, or None."""
        if max_points is None or self.count <= max_points:
            return None
        state = self._state
        chunks, summaries, drop = self._drop_front(
            state.chunks, state.summaries, state.count - max_points
        )
        new = self._folded(chunks, summaries, state.seq + 1, None)  # fewer rows: no check
        return Change(new, Delta(seq=new.seq, rows=0, drop=drop, payload=b""))

    def commit(self, change: Change) -> Delta | None:
        """Make a planned change (planned on the state held now); returns its delta."""
        if change.state.seq != self.seq + 1:
            raise RuntimeError(f"change planned at seq {change.state.seq - 1}, not {self.seq}")
        self._state = change.state
        return change.delta

    def replace(self, table: Any, max_points: int | None = None) -> int:
        """:meth:`plan_replace` and :meth:`commit`; returns the new seq."""
        self.commit(self.plan_replace(table, max_points))
        return self.seq

    def append(self, table: Any, max_points: int | None = None) -> Delta:
        """:meth:`plan_append` and :meth:`commit`; returns the delta for the views."""
        change = self.plan_append(table, max_points)
        self.commit(change)
        assert change.delta is not None
        return change.delta

    def trim(self, max_points: int | None) -> Delta | None:
        """:meth:`plan_trim` and :meth:`commit`: a Delta dropping rows, or None."""
        change = self.plan_trim(max_points)
        return None if change is None else self.commit(change)

    # ---- inside -----------------------------------------------------------------------------

    def _prepared(self, table: Any, max_points: int | None) -> tuple[Chunk, int]:
        """``table``'s columns sorted by time (when they have times; NaN last), then only the
        newest ``max_points`` (never send what would be dropped); and their number."""
        ops = self._ops
        cols = {
            n: ops.column(table.column(n), COLUMN_TYPES[n])
            for n in _ORDER
            if n in table.column_names
        }
        n = len(cols["lon"])
        if "time" in cols:
            order = ops.time_order(cols["time"])
            if order is not None:
                cols = {k: ops.take(v, order) for k, v in cols.items()}
        if max_points is not None and n > max_points:
            cols = {k: v[n - max_points :] for k, v in cols.items()}
            n = max_points
        return cols, n

    def _joined(self, chunks: Sequence[Chunk], names: tuple[str, ...]) -> Any:
        """Conformed chunks as one table of one batch, to encode: a set_data's chunks are
        slices of one column and join without a copy (ops.concat), where a table of one batch
        a chunk made the wire's columns copy them back together (13 ms a million rows)."""
        ops = self._ops
        return build({n: ops.concat([c[n] for c in chunks], COLUMN_TYPES[n]) for n in names})

    def _conform(self, chunk: Chunk, names: tuple[str, ...]) -> Chunk:
        """``chunk`` with exactly the columns ``names`` (missing weight = 1, time = NaN)."""
        if tuple(chunk) == names:
            return chunk
        n = _rows(chunk)
        return {
            k: chunk[k] if k in chunk else self._ops.full(n, _FILL[k], COLUMN_TYPES[k])
            for k in names
        }

    def _summary(self, chunk: Chunk) -> Summary:
        ops = self._ops
        n = _rows(chunk)
        if not n:
            return Summary(None, None, 0.0)
        lat_lo, lat_hi = ops.min_max(chunk["lat"])
        lon_lo, lon_hi = ops.min_max(chunk["lon"])
        extent = ops.finite_min_max(chunk["time"]) if "time" in chunk else None
        weight = ops.total(chunk["weight"]) if "weight" in chunk else float(n)
        return Summary((lat_lo, lon_lo, lat_hi, lon_hi), extent, weight)

    def _folded(
        self,
        chunks: tuple[Chunk, ...],
        summaries: tuple[Summary, ...],
        seq: int,
        label: str | None,
    ) -> State:
        """The state of ``chunks``; raises when their weights would add up beyond float32
        (``label`` names the weight column; None: no check)."""
        bounds: Bounds | None = None
        extent: Extent | None = None
        weight = 0.0
        for summary in summaries:
            bounds = _union(bounds, summary.bounds)
            extent = _union_extent(extent, summary.extent)
            weight += summary.weight
        if label is not None and weight > MAX_WEIGHT_TOTAL:
            raise weights_too_heavy(label, weight, held=True)
        count = sum(map(_rows, chunks))
        return State(chunks, summaries, count, seq, bounds, extent, weight)

    def _drop_front(
        self, chunks: tuple[Chunk, ...], summaries: tuple[Summary, ...], n: int
    ) -> tuple[tuple[Chunk, ...], tuple[Summary, ...], int]:
        """``chunks`` without their ``n`` oldest rows (and the number dropped)."""
        chunk_list, summary_list = list(chunks), list(summaries)
        dropped = 0
        while n > 0 and chunk_list:
            first = chunk_list[0]
            rows = _rows(first)
            if rows <= n:
                chunk_list.pop(0)
                summary_list.pop(0)
                n -= rows
                dropped += rows
            else:
                chunk_list[0] = {k: v[n:] for k, v in first.items()}
                summary_list[0] = self._summary(chunk_list[0])
                dropped += n
                n = 0
        return tuple(chunk_list), tuple(summary_list), dropped


def _names(chunks: tuple[Chunk, ...]) -> tuple[str, ...]:
    have = {n for c in chunks for n in c}
    return tuple(n for n in _ORDER if n in have or n in ("lon", "lat"))

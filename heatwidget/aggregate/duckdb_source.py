"""``DuckDBSource``: a Parquet glob or a DuckDB relation, aggregated out of core.

Rows stream as Arrow record batches (``to_arrow_reader``; ``fetch_record_batch`` before 2.0),
so memory is a batch plus the cells; a view's filter is pushed into the SQL (row groups are
pruned by Parquet statistics). The pyramid's pass (``deepest``) runs in SQL instead: DuckDB
projects, keys and groups the rows on its own threads (``sql_keys``), and only the pixels
reach Python.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from . import morton, sorted_rows
from .pyramid import MAX_DEPTH, Cells
from .sorted_rows import SortedRows
from .source import Filter, Keys, Rows, cells_of_batches
from .sql_keys import coarser_sql, fixed_point_sql, morton_sql, pixels_sql
from .times import duck_time

__all__ = ["DuckDBSource"]

MISSING = 'DuckDB sources need duckdb: pip install "heatwidget[duckdb]"'
BATCH = 1 << 20
#: the depth estimate's sample: about this many rows (DuckDB Bernoulli sampling: it reads
#: every row's lon/lat, a few seconds of the pass at 100M)
SAMPLE_ROWS = 1_000_000
#: rows per row group of a spatially sorted copy (``sorted_copy``): a street view's rows fall
#: in one or a few groups, whose lon/lat statistics are tight
SORTED_GROUP_ROWS = 65_536
#: the rows' virtual table in the pass's SQL (``DuckDBPyRelation.query``)
ROWS = "hw_rows"


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as e:
        raise ImportError(MISSING) from e
    return duckdb


class DuckDBSource:
    """``data``: a path or glob of Parquet files (a str), or a DuckDB relation."""

    def __init__(
        self,
        data: Any,
        lon: str = "lon",
        lat: str = "lat",
        weight: str | None = "weight",
        time: str | None = "time",
        connection: Any = None,
    ) -> None:
        duckdb = _duckdb()
        self.con = connection if connection is not None else duckdb.connect()
        self.path = data if isinstance(data, str) else None
        if self.path is not None:
            rel = self.con.sql(f"SELECT * FROM read_parquet({self.path!r})")
        else:
            rel = data
        names = rel.columns
        self.rel = rel
        self.lon, self.lat = lon, lat
        self.weight = weight if weight in names else None
        self.time = time if time in names else None
        #: the last pass's zooms: grouped at, kept (``deepest``)
        self.pass_levels: tuple[int, int] | None = None
        #: the last pass's seconds per stage (``deepest``)
        self.pass_times: dict[str, float] = {}
        #: The time column as a window compares it: ms for dates/timestamps (aggregate/times.py)
        self.time_sql, self.time_ms = duck_time(rel, self.time)
        #: The fixed-point rows by row group, when the path is a sorted copy written with
        #: them (``sorted_copy``): views below the pyramid read those instead of querying.
        #: Opened here (its footer), so the first view does not pay for it.
        self.sorted_rows = None if self.path is None else SortedRows.open(self.path, self.weight)

    def row_count(self) -> int | None:
        """From the Parquet footers (a relation's row count is not metadata: None)."""
        if self.path is None:
            return None
        q = f"SELECT sum(num_rows) FROM parquet_file_metadata({self.path!r})"
        # parquet_file_metadata has one row per file
        rows = self.con.execute(q).fetchall()  # all: leaves no unfinished result behind
        return int(rows[0][0] or 0) if rows else 0

    def batches(self, where: Filter) -> Iterator[Rows]:
        cols = [f'"{self.lon}"', f'"{self.lat}"'] + ([f'"{self.weight}"'] if self.weight else [])
        cond = where.sql(f'"{self.lon}"', f'"{self.lat}"', self.time_sql)
        rel = self.rel.filter(cond).select(", ".join(cols))
        # duckdb 2 names it to_arrow_reader; 1.x has fetch_record_batch (deprecated in 2)
        fetch = getattr(rel, "to_arrow_reader", None) or rel.fetch_record_batch
        reader = fetch(BATCH)
        for batch in reader:
            lon = np.asarray(batch.column(0).to_numpy(zero_copy_only=False), np.float64)
            lat = np.asarray(batch.column(1).to_numpy(zero_copy_only=False), np.float64)
            w = None
            if self.weight:
                w = np.asarray(batch.column(2).to_numpy(zero_copy_only=False), np.float32)
            yield Rows(lon, lat, w)

    def cells(self, keys: Keys, where: Filter) -> Cells:
        return cells_of_batches(self.batches(where), keys)

    def deepest(self, limit: int, depth: int = MAX_DEPTH) -> tuple[Cells, int]:
        """The pyramid's deepest level, in SQL: the rows' pixels at the deepest zoom (<=
        ``depth``) whose non-empty pixels fit ``limit``, and that zoom.

        A Bernoulli sample (about ``SAMPLE_ROWS`` rows, projected in SQL) estimates each
        zoom's pixels (``estimate_depth``); DuckDB groups the rows at the deepest zoom estimated
        to fit, into a temporary table (DuckDB's memory, spilled to disk
        past its limit), counts the pixels of every coarser zoom there, and only the deepest
        zoom that fits comes to Python: Python holds at most ``limit`` pixels. Keys are the
        kernel's projection (``sql_keys``), so the pixels equal ``PyramidBuilder``'s from
        ``Kernel.project`` (a sorted copy's are stored: ``_fixed``). Interruptible
        (KeyboardInterrupt); DuckDB's progress bar shows when enabled
        (``SET enable_progress_bar = true``; a widget in Jupyter)."""
        w = f'"{self.weight}" AS w' if self.weight else ""
        t = time.perf_counter()
        rows = self.row_count()
        if rows is None:
            rows = self._count()
        pct = min(100.0, max(0.1, 100.0 * SAMPLE_ROWS / max(rows, 1)))
        # Bernoulli (row by row), not system (whole vectors): on a spatially sorted file a
        # vector's rows share pixels, and a system sample would say far too few pixels
        sampled = f"(SELECT * FROM {ROWS} USING SAMPLE {pct:.6g}% (bernoulli))"
        s = self._query(self._fixed(sampled, "")).fetchnumpy()
        start = min(depth, estimate_depth(s["x"], s["y"], rows, limit))
        times = {"sample": time.perf_counter() - t}
        table = "hw_pixels"
        self._query(f"DROP TABLE IF EXISTS {table}")
        group = pixels_sql(self._fixed(ROWS, w), start, self.weight is not None)
        self._query(f"CREATE TEMP TABLE {table} AS {group}")
        times["group"] = time.perf_counter() - t - sum(times.values())
        try:
            # HyperLogLog counts (~2% off) skip the zooms far too big; one exact count decides
            approx = self._query(
                "SELECT "
                + ", ".join(
                    f"approx_count_distinct({coarser_sql('key', k)})" for k in range(start + 1)
                )
                + f" FROM {table}"
            ).fetchall()[0]
            k = 0
            while k < start and (approx[k] > limit * 1.05 or sum(approx[k:]) > 2 * limit * 1.05):
                k += 1
            while k < start and approx[k] > limit * 0.95:
                exact = f"SELECT count(DISTINCT {coarser_sql('key', k)}) FROM {table}"
                if self._query(exact).fetchall()[0][0] <= limit:
                    break
                k += 1
            got = self._query(
                f"SELECT * FROM {table}"
                if k == 0
                else f"SELECT {coarser_sql('key', k)} AS key, sum(total) AS total, "
                f"sum(count) AS count, max(largest) AS largest FROM {table} GROUP BY ALL"
            ).fetchnumpy()
        finally:
            self._query(f"DROP TABLE IF EXISTS {table}")
        times["count+fetch"] = time.perf_counter() - t - sum(times.values())
        key = np.asarray(got["key"], np.uint64)
        code = morton.encode(key >> np.uint64(32), key & np.uint64(0xFFFFFFFF))
        order = np.argsort(code)
        cells = Cells(
            code[order],
            np.asarray(got["total"], np.float64)[order],
            np.asarray(got["count"], np.int64)[order],
            np.asarray(got["largest"], np.float32)[order],
        )
        level = start - k
        while level > 0 and cells.code.size > limit:  # the estimate was a few % low
            cells, level = cells.parent(), level - 1
        times["sort"] = time.perf_counter() - t - sum(times.values())
        self.pass_levels, self.pass_times = (start, level), times
        return cells, level

    def sorted_copy(
        self, path: str | PathLike[str], group_rows: int = SORTED_GROUP_ROWS
    ) -> DuckDBSource:
        """A source over a spatially sorted Parquet copy of these rows at ``path`` (written
        once by DuckDB, out of core; reused when the file exists): rows in Morton order of
        their zoom-16 pixels (rows without a position left out: they never draw), row
        groups of ``group_rows``. The same columns (lon, lat, weight, time) plus the rows'
        fixed-point ``hw_x``, ``hw_y`` and zoom-16 code ``hw_code`` (``sorted_rows``). An
        untimed view below the pyramid reads only the row groups whose code span meets its
        tiles (``SortedRows``); a timed one those whose lon/lat statistics meet its bounds
        (``batches``' filter is pushed down): its cost follows the rows in view, not N. A
        copy written by an older version (no ``hw_`` columns) is reused by the filter path."""
        out = Path(path)
        if not out.is_file():
            names = [c for c in (self.lon, self.lat, self.weight, self.time) if c]
            cols = ", ".join(f'"{c}"' for c in names)
            fixed = fixed_point_sql(ROWS, f'"{self.lon}"', f'"{self.lat}"', cols)
            # the rows' fixed-point position and code too: views read them, never re-project
            keyed = morton_sql(fixed, sorted_rows.LEVEL, f"{cols}, x, y")
            added = (
                f"CAST(x AS UINTEGER) AS {sorted_rows.X}, CAST(y AS UINTEGER) AS "
                f"{sorted_rows.Y}, code AS {sorted_rows.CODE}"
            )
            key, value = sorted_rows.MARKER
            tmp = out.with_name(out.name + ".tmp")
            self._query(
                f"COPY (SELECT {cols}, {added} FROM ({keyed}) ORDER BY code) TO '{tmp}' "
                f"(FORMAT parquet, ROW_GROUP_SIZE {int(group_rows)}, "
                f"KV_METADATA {{{key}: '{value}'}})"
            )
            tmp.replace(out)
        return DuckDBSource(str(out), self.lon, self.lat, self.weight, self.time)

    def _fixed(self, inner: str, extra: str) -> str:
        """``fixed_point_sql`` of ``inner``'s rows; a sorted copy's stored ``hw_x``, ``hw_y``
        (the same values, computed when it was written: the pass skips the projection)."""
        if self.sorted_rows is None:
            return fixed_point_sql(inner, f'"{self.lon}"', f'"{self.lat}"', extra)
        keep = f", {extra}" if extra else ""
        return (
            f"SELECT CAST({sorted_rows.X} AS UBIGINT) AS x, CAST({sorted_rows.Y} AS UBIGINT) "
            f"AS y{keep} FROM {inner}"
        )

    def _query(self, sql: str) -> Any:
        """``sql`` over the rows (the virtual table ``ROWS``), on the relation's connection
        (a temporary table made there is seen only there)."""
        if self.path is not None:
            return self.con.execute(sql.replace(ROWS, f"read_parquet({self.path!r})"))
        return self.rel.query(ROWS, sql)

    def _count(self) -> int:
        return int(self._query(f"SELECT count(*) FROM {ROWS}").fetchall()[0][0])


def estimate_depth(x: np.ndarray, y: np.ndarray, rows: int, limit: int) -> int:
    """The deepest zoom whose non-empty pixels, estimated from a sample of fixed-point rows
    ``x``, ``y`` out of ``rows``, fit ``limit``; conservative: a zoom too deep costs the
    pass a grouping of far more pixels than are kept, a zoom too shallow one pyramid level.

    Per zoom, the pixels lie between two estimates: the bias-corrected Chao1 estimate
    d + f1 (f1 - 1) / (2 (f2 + 1)) (d pixels seen, f1 once, f2 twice), a lower bound in
    expectation that is low on clustered rows (the cities data at a 1% sample: the true
    pixels are 1.2-3.9x it at zooms 5-8; taken alone it once said zoom 9 fits 100M rows when
    only zoom 8 did), and U = d + f1 (N/n - 1), an upper bound in expectation for a
    Bernoulli sample (every unseen pixel behind a seen-once one; exactly d when the sample is
    all the rows). The estimate is their geometric mean, at most U, ``rows`` and the zoom's
    pixel count, and at least the zoom above's (a deeper zoom never has fewer pixels). On
    the cities data at 10M, 1% sample, it is 1.4-1.6x the truth at zooms 5-8. The sample is
    sorted once by Morton code; each zoom's pixels are runs of the shifted codes. The zooms
    0..z together must fit ``2 * limit`` too (the pyramid's budget, ``Pyramid.of_deepest``):
    a deeper zoom would be dropped after the pass. Tests: tests/test_aggregate.py (never
    deeper than the exact deepest zoom that fits)."""
    n = int(np.asarray(x).size)
    if n == 0:
        return MAX_DEPTH
    code = np.sort(morton.pixels(x, y, MAX_DEPTH))
    best, total, above = 0, 0.0, 0.0
    for level in range(MAX_DEPTH + 1):
        c = code >> np.uint64(2 * (MAX_DEPTH - level))
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        runs = np.diff(np.r_[starts, n])
        f1 = float(np.count_nonzero(runs == 1))
        f2 = float(np.count_nonzero(runs == 2))
        chao1 = starts.size + f1 * (f1 - 1.0) / (2.0 * (f2 + 1.0))
        # every unseen pixel behind a seen-once one: exact when the sample is all the rows
        bound = starts.size + f1 * (max(rows, n) / n - 1.0)
        # the truth lies between the two: their geometric mean (at most the upper bound)
        est = max(above, min(rows, 4 ** (8 + level), bound, math.sqrt(max(chao1, 1.0) * bound)))
        above = est
        total += est
        if est > limit or total > 2 * limit:
            break  # deeper zooms hold at least as many pixels
        best = level
    return best

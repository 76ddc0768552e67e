"""``DuckDBSource``: a Parquet glob or a DuckDB relation, aggregated out of core.

Rows stream as Arrow record batches (``to_arrow_reader``; ``fetch_record_batch`` before 2.0),
so memory is a batch plus the cells; a view's filter is pushed into the SQL (row groups are
pruned by Parquet statistics).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .pyramid import Cells
from .source import Filter, Keys, Rows, cells_of_batches
from .times import duck_time

__all__ = ["DuckDBSource"]

MISSING = 'DuckDB sources need duckdb: pip install "heatwidget[duckdb]"'
BATCH = 1 << 20


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
        #: The time column as a window compares it: ms for dates/timestamps (aggregate/times.py)
        self.time_sql, self.time_ms = duck_time(rel, self.time)

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

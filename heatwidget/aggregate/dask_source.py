"""``DaskSource``: a ``dask.dataframe`` on any scheduler; rows never leave the workers.

Each partition is filtered and keyed where it lives (``map_partitions``), giving a small frame
of per-key aggregates; Dask's own ``groupby().agg()`` tree-reduces them, and only the reduced
cells come back to the client.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .pyramid import Cells
from .source import Filter, Keys, Rows
from .times import series_ms, temporal_dtype

__all__ = ["DaskSource"]

MISSING = 'Dask sources need dask: pip install "heatwidget[dask]"'


def _partition_cells(
    df: Any, keys: Keys, where: Filter, cols: tuple[str, str, str | None, str | None]
) -> Any:
    import pandas as pd

    lon_c, lat_c, w_c, t_c = cols
    lon = df[lon_c].to_numpy(np.float64)
    lat = df[lat_c].to_numpy(np.float64)
    w = None if w_c is None else df[w_c].to_numpy(np.float32)
    t = None if t_c is None else series_ms(df[t_c])  # datetimes: ms (aggregate/times.py)
    if where != Filter():
        keep = where.mask(lon, lat, t)
        lon, lat, w = lon[keep], lat[keep], None if w is None else w[keep]
    code, idx = keys(Rows(lon, lat, w))
    c = Cells.of_keys(code, idx, w)
    return pd.DataFrame({"code": c.code, "total": c.total, "count": c.count, "largest": c.largest})


class DaskSource:
    def __init__(
        self,
        ddf: Any,
        lon: str = "lon",
        lat: str = "lat",
        weight: str | None = "weight",
        time: str | None = "time",
    ) -> None:
        try:
            import dask.dataframe  # noqa: F401
        except ImportError as e:
            raise ImportError(MISSING) from e
        names = list(ddf.columns)
        self.ddf = ddf
        self.cols = (lon, lat, weight if weight in names else None, time if time in names else None)
        self.rows: int | None = None
        t = self.cols[3]
        self.time_ms = t is not None and temporal_dtype(ddf[t].dtype)

    @classmethod
    def parquet(cls, path: str, **kwargs: Any) -> DaskSource:
        """``dask.dataframe.read_parquet(path, **kwargs)``, its row count from the footers."""
        import pyarrow.dataset as ds

        try:
            import dask.dataframe as dd
        except ImportError as e:
            raise ImportError(MISSING) from e
        source = cls(dd.read_parquet(path, **kwargs))
        fragments = ds.dataset(path, format="parquet").get_fragments()
        source.rows = sum(f.metadata.num_rows for f in fragments)  # footers only
        return source

    def row_count(self) -> int | None:
        """From Parquet footers when made by :meth:`parquet`; otherwise unknown without
        reading data (``npartitions`` counts partitions, not rows): None."""
        return self.rows

    def cells(self, keys: Keys, where: Filter) -> Cells:
        import pandas as pd

        meta = pd.DataFrame(
            {
                "code": np.empty(0, np.uint64),
                "total": np.empty(0),
                "count": np.empty(0, np.int64),
                "largest": np.empty(0, np.float32),
            }
        )
        parts = self.ddf.map_partitions(_partition_cells, keys, where, self.cols, meta=meta)
        agg = parts.groupby("code").agg({"total": "sum", "count": "sum", "largest": "max"})
        df = agg.compute().sort_index()
        return Cells(
            df.index.to_numpy(np.uint64),
            df["total"].to_numpy(np.float64),
            df["count"].to_numpy(np.int64),
            df["largest"].to_numpy(np.float32),
        )

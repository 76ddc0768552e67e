"""Server-side aggregation (issue 11): rows that stay in their engine, binned per frame.

``Aggregator(source, project)`` builds a pyramid of per-pixel aggregates in one pass and
answers a frame (``GridFrame``, geometry from ``Kernel.grid_geometry``) with the binned grid
the kernel draws with ``Kernel.density_grid``. Sources: ``ArraySource`` (numpy / pyarrow),
``ArrowStreamSource`` (Arrow PyCapsule streams), ``DuckDBSource`` (Parquet, relations;
extra ``duckdb``) and ``DaskSource`` (``dask.dataframe``; extra ``dask``). ``Heatmap`` reaches
it in server mode (widget/serving.py).
"""

from __future__ import annotations

from .aggregator import Aggregator
from .dask_source import DaskSource
from .duckdb_source import DuckDBSource
from .frame import GridFrame
from .memory import ArraySource
from .pyramid import Pyramid
from .stream import ArrowStreamSource

__all__ = [
    "Aggregator",
    "ArraySource",
    "ArrowStreamSource",
    "DaskSource",
    "DuckDBSource",
    "GridFrame",
    "Pyramid",
]

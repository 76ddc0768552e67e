"""The two column backends the points are written over, and running ``to_table`` on each:
numpy's in this process, the pure-Python one in a process without numpy and pyarrow (what
Pyodide has). Shared by the backends' contract test and the limits tests."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa

from heatwidget.points import to_table
from heatwidget.points.columns import ColumnOps, numpy_ops, pure_ops
from heatwidget.points.wire import encode

ROOT = Path(__file__).resolve().parents[1]

BACKENDS: dict[str, ColumnOps] = {"numpy": numpy_ops.OPS, "pure": pure_ops.OPS}

CHILD = textwrap.dedent(
    """
    import sys
    sys.modules["numpy"] = None
    sys.modules["pyarrow"] = None
    sys.path.insert(0, {root!r})
    import array, base64, dataclasses, datetime, decimal, fractions, json, warnings
    import heatwidget
    from heatwidget.points import tables as _tables
    from heatwidget.points import wire as _wire
    from heatwidget.points import store as _store
    out = []
    for case in json.loads(sys.stdin.read()):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                table, report = _tables.to_table(**eval(case))
                data = _wire.encode(table)
                res = {{"ipc": base64.b64encode(data).decode(), "kind": type(table).__name__,
                        "report": dataclasses.asdict(report),
                        "decoded": _wire.decode(data).num_rows}}
            except Exception as e:
                res = {{"error": [type(e).__name__, str(e)]}}
        res["warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
        out.append(res)
    store = _store.PointStore()
    store.replace(_tables.to_table(lat=[1.0, 2.0], lon=[3.0, 4.0], time=[2, 1])[0], 3)
    delta = store.append(_tables.to_table(lat=[5.0, 6.0], lon=[7.0, 8.0])[0], 3)
    out.append({{"ops": store._ops.name, "full": base64.b64encode(store.encode()).decode(),
                 "delta": [delta.seq, delta.rows, delta.drop], "count": store.count,
                 "bounds": store.bounds, "time_extent": store.time_extent}})
    # the widget's module and the store load without numpy/pyarrow too
    out.append({{"numpy": "numpy" in sys.modules and sys.modules["numpy"] is not None,
                 "has_heatmap": "Heatmap" in dir(heatwidget)}})
    print(json.dumps(out))
    """
)


def run_pure(cases: list[str]) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(ROOT))],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return list(json.loads(proc.stdout))


def run_numpy(case: str, ops: ColumnOps | None = None) -> dict[str, Any]:
    import array  # noqa: F401 - used by the evaluated cases
    import dataclasses
    import datetime  # noqa: F401
    import decimal  # noqa: F401
    import fractions  # noqa: F401
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            table, report = to_table(**eval(case), ops=ops)
            res: dict[str, Any] = {"ipc": encode(table), "report": dataclasses.asdict(report)}
        except Exception as e:
            res = {"error": [type(e).__name__, str(e)]}
    res["warnings"] = [[w.category.__name__, str(w.message)] for w in caught]
    return res


def cols(table: Any) -> dict[str, list[float]]:
    """A table's columns as lists (a pyarrow Table, or the pure backend's columns)."""
    if isinstance(table, pa.Table):
        return {k: list(v) for k, v in table.to_pydict().items()}
    return {k: [float(x) for x in table.column(k)] for k in table.column_names}

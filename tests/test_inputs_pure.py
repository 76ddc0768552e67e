"""The contract of the column backends (heatwidget.points.columns): numpy and pure Python.

Same inputs → same table, same report, same errors and warnings text, whichever backend runs.
Each case runs in a subprocess where ``sys.modules["numpy"] = sys.modules["pyarrow"] = None``
(so ``import numpy`` fails, as in Pyodide without them; the bytes are written by arro3), and
here over each backend (``ops=``). The IPC bytes must decode to the same table, and the
reports, warnings and errors must be the same. The store is held to the same contract.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from backends import BACKENDS, run_numpy, run_pure

from heatwidget.points import PointStore, to_table
from heatwidget.points.columns import ColumnOps
from heatwidget.points.wire import decode

ROOT = Path(__file__).resolve().parents[1]

# Python expressions of to_table keyword arguments, evaluated in both processes.
SAME = [
    "dict(lat=[1.0, 2.5, -3.0], lon=[4.0, 5.0, 6.0])",
    "dict(lat=[1, 2, 3], lon=[4, 5, 6], weight=[1, 2, 3])",
    "dict(lat=(1.5, 2.5), lon=range(2), weight=(0.5, 1e30))",
    "dict(lat=array.array('d', [1.0, 2.0]), lon=array.array('i', [3, 4]), "
    "weight=array.array('f', [0.25, 2.0]))",
    "dict(lat=[1.0, None, 3.0, float('nan'), 5.0], lon=[1.0, 2.0, float('inf'), 4.0, 5.0])",
    "dict(lat=[86.0, -89.0, 10.0], lon=[0.0, 0.0, 0.0])",
    "dict(lat=[0.0] * 6, lon=[190.0, -181.0, 540.0, 179.999, -180.0, 180.0])",
    "dict(lat=[1.0, 2.0], lon=[3.0, 4.0], time=[0, 1.5])",
    "dict(lat=[1.0, 2.0, 3.0], lon=[3.0, 4.0, 5.0], time_unit='ms', "
    "time=[datetime.datetime(2024, 1, 1), None, datetime.date(2024, 1, 2)])",
    "dict(lat=[1.0, 2.0], lon=[3.0, 4.0], time=[datetime.datetime(2024, 1, 1, "
    "tzinfo=datetime.timezone(datetime.timedelta(hours=2))), datetime.datetime(2024, 1, 1)])",
    "dict(lat=[], lon=[])",
    "dict(lat=[None], lon=[None])",
    "dict(data={'Latitude': [1.0, 2.0], 'lng': [3.0, 4.0], 'mag': [1.0, 2.0]}, weight='mag')",
    "dict(data={'y': [1.0, 2.0], 'x': [3.0, 4.0]}, lat='y', lon='x')",
    "dict(lat=5.0, lon=6.0)",
    "dict(lat=[decimal.Decimal('1.5'), fractions.Fraction(1, 4)], lon=[1, 2])",
    # errors, worded as on the numpy path
    "dict(lat=[100.0, 2.0], lon=[1.0, 2.0])",
    "dict(lat=[100.0, 2.0], lon=[120.0, 2.0])",
    "dict(lat=[1.0, 2.0], lon=[1.0, 2.0], weight=[1.0, -1.0])",
    "dict(lat=[1.0, 2.0], lon=[1.0, 2.0], weight=[1.0, float('nan')])",
    "dict(lat=[1.0, 2.0], lon=[1.0, 2.0], weight=[float('inf'), 1.0])",
    "dict(lat=[1.0, 2.0], lon=[1.0, 2.0], weight=[1.0, 1e39])",
    "dict(lat=[1.0, None, 95.0], lon=[1.0, 2.0, 3.0])",
    "dict(lat=[1.0], lon=[1.0, 2.0])",
    "dict(lat=[1.0, 2.0], lon=[1.0, 2.0], weight=[1.0])",
    "dict(lat=[1.0, None], lon=[1.0, 2.0], weight=[1.0, 2.0, 3.0])",
    "dict(lat=[1.0], lon=None)",
    "dict(weight=[1.0])",
    "dict(lat='lat', lon=[1.0])",
    "dict(data={'lat': [1.0]}, lon='lng')",
    "dict(data={'latitude': [1.0], 'lat': [2.0], 'lon': [1.0]})",
    "dict(data={'lat': [1.0], 'lon': [1.0]}, weight='mass')",
    "dict(lat=[1.0], lon=[1.0], time=[1.0], time_unit='h')",
    "dict(lat=[1.0, 2.0], lon=[1.0, 2.0], time=[1.0, datetime.datetime(2024, 1, 1)])",
    "dict(lat=[1.0, None, {}], lon=[1.0, 2.0, 3.0])",
]

# Only the pure path (the numpy path words its dtype differently): (case, words in the error)
PURE_ONLY = [
    ("dict(lat=[1.0, 'a'], lon=[1.0, 2.0])", ["lat is not numeric", "'a' at row 1"]),
    ("dict(lat=[True, False], lon=[1.0, 2.0])", ["lat is not numeric", "True at row 0"]),
    ("dict(lat=[[1.0, 2.0]], lon=[1.0])", ["lat must be one-dimensional"]),
    ("dict(data='points.csv')", ["needs numpy", "lists"]),
    (
        "dict(data={'type': 'FeatureCollection', 'features': []})",
        ["GeoJSON FeatureCollection needs numpy"],
    ),
    ("dict(data=object())", ["unsupported data", "numpy is not installed"]),
]


def _value(name: str, v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return None
    return round(v, 6) if name in ("lon", "lat") else v


def rows(ipc: bytes) -> tuple[list[str], list[str], dict[str, list[Any]]]:
    """The rows of wire bytes, lon/lat back in degrees (each unit's centre, rounded to 1e-6:
    the fixed point keeps 1/128 px at zoom 18)."""
    table = decode(ipc)
    values = {k: [_value(k, v) for v in col] for k, col in table.to_pydict().items()}
    return table.column_names, [str(t) for t in table.schema.types], values


@pytest.fixture(scope="module")
def pure_results() -> list[dict[str, Any]]:
    return run_pure(SAME + [c for c, _ in PURE_ONLY])


@pytest.mark.parametrize("index", range(len(SAME)), ids=[c[:60] for c in SAME])
def test_pure_path_matches_numpy_path(pure_results: list[dict[str, Any]], index: int) -> None:
    case = SAME[index]
    pure, ref = pure_results[index], run_numpy(case)
    assert pure.get("error") == ref.get("error"), case
    assert pure["warnings"] == ref["warnings"], case
    if "error" in ref:
        return
    assert pure["kind"] == "PointColumns"
    assert pure["report"] == {
        k: (list(v) if isinstance(v, tuple) else v) for k, v in ref["report"].items()
    }, case
    import base64

    ipc = base64.b64decode(pure["ipc"])
    assert ipc[:4] == b"\xff\xff\xff\xff", "not an IPC stream"
    assert rows(ipc) == rows(ref["ipc"]), case
    assert pure["decoded"] == ref["report"]["rows"]


@pytest.mark.parametrize("index", range(len(PURE_ONLY)), ids=[c[:60] for c, _ in PURE_ONLY])
def test_pure_path_errors(pure_results: list[dict[str, Any]], index: int) -> None:
    case, words = PURE_ONLY[index]
    res = pure_results[len(SAME) + index]
    assert "error" in res, f"{case} did not fail: {res}"
    for w in words:
        assert w in res["error"][1], f"{case}: {res['error']}"


def test_import_without_numpy_and_pyarrow(pure_results: list[dict[str, Any]]) -> None:
    last = pure_results[-1]
    assert last == {"numpy": False, "has_heatmap": True}


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("index", range(len(SAME)), ids=[c[:60] for c in SAME])
def test_backend_matches_the_pure_python_process(
    pure_results: list[dict[str, Any]], index: int, backend: str
) -> None:
    """Each backend, here (with numpy and pyarrow importable), gives what Pyodide would."""
    case = SAME[index]
    pure, res = pure_results[index], run_numpy(case, BACKENDS[backend])
    assert res.get("error") == pure.get("error"), case
    assert res["warnings"] == pure["warnings"], case
    if "error" in pure:
        return
    assert {k: (list(v) if isinstance(v, tuple) else v) for k, v in res["report"].items()} == (
        pure["report"]
    ), case
    import base64

    assert rows(res["ipc"]) == rows(base64.b64decode(pure["ipc"])), case


@pytest.mark.parametrize("index", range(3), ids=[c[:60] for c, _ in PURE_ONLY[:3]])
def test_pure_backend_errors_in_process(index: int) -> None:
    case, words = PURE_ONLY[index]
    res = run_numpy(case, BACKENDS["pure"])
    assert "error" in res, f"{case} did not fail: {res}"
    for w in words:
        assert w in res["error"][1], f"{case}: {res['error']}"


def _store_run(ops: ColumnOps) -> tuple[PointStore, list[Any]]:
    store = PointStore(ops)
    table, _ = to_table(lat=[1.0, 2.0], lon=[3.0, 4.0], time=[2, 1], ops=ops)
    store.replace(table, 3)
    table, _ = to_table(lat=[5.0, 6.0], lon=[7.0, 8.0], ops=ops)
    delta = store.append(table, 3)
    return store, [delta.seq, delta.rows, delta.drop]


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_store_is_the_same_over_both_backends(
    pure_results: list[dict[str, Any]], backend: str
) -> None:
    import base64

    ref = pure_results[-2]
    assert ref["ops"] == "pure"
    store, delta = _store_run(BACKENDS[backend])
    assert delta == ref["delta"] == [2, 2, 1]
    assert store.count == ref["count"] == 3
    assert list(store.bounds or ()) == ref["bounds"] == [1.0, 3.0, 6.0, 8.0]
    assert list(store.time_extent or ()) == ref["time_extent"] == [2000.0, 2000.0]
    assert rows(store.encode()) == rows(base64.b64decode(ref["full"]))
    names, _types, values = rows(store.encode())
    assert names == ["lon", "lat", "time"]
    assert values == {"lon": [3.0, 7.0, 8.0], "lat": [1.0, 5.0, 6.0], "time": [2000.0, None, None]}
    d = store.trim(1)
    assert d is not None and (d.seq, d.rows, d.drop, d.payload) == (3, 0, 2, b"")
    assert store.trim(5) is None and store.count == 1

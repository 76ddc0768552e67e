"""heatwidget.points.wire: canonical table ⇄ wire format 2 (fixed-point x/y, Arrow IPC)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from heatwidget.host.kernel import Kernel
from heatwidget.host.viewport import project
from heatwidget.points import empty_table, to_table
from heatwidget.points.columns import numpy_ops, pure_ops
from heatwidget.points.fixed import NO_POSITION
from heatwidget.points.wire import WIRE_KEY, decode, decode_wire, encode

FIXTURE = Path(__file__).parent.parent / "js" / "test" / "fixtures"
# Half a fixed-point unit in degrees of longitude: decode() gives each unit's centre.
HALF_UNIT_LON = 360.0 / 2**33


def _edges() -> tuple[np.ndarray, np.ndarray]:
    """The antimeridian, the Mercator limit and beyond (clamped), 0, -0, NaN, infinities."""
    lons = [
        -180.0,
        180.0,
        -180.0 - 1e-12,
        180.0 - 1e-12,
        0.0,
        -0.0,
        1e-300,
        -1e-300,
        359.0,
        -540.0,
        np.nan,
        np.inf,
        12.5,
    ]
    lats = [
        85.0511287798,
        -85.0511287798,
        85.05112877980001,
        85.06,
        -86.0,
        90.0,
        -90.0,
        0.0,
        -0.0,
        1e-300,
        np.nan,
        -np.inf,
        45.0,
    ]
    lon, lat = np.meshgrid(lons, lats)
    return lon.ravel(), lat.ravel()


def test_fixed_point_is_the_kernels_bit_for_bit(rng: np.random.Generator) -> None:
    """Python's x/y (numpy) are hw_project_staged's on a million random rows and the edges,
    with no difference at all: the same series, step for step (heatwidget.points.fixed)."""
    n = 1_000_000
    lon = np.concatenate([rng.uniform(-180, 180, n), _edges()[0]])
    lat = np.concatenate([rng.uniform(-90, 90, n), _edges()[1]])
    with Kernel() as k:
        kx, ky = k.project(lon, lat)
    x, y = numpy_ops.OPS.mercator_fixed(lon, lat)
    assert x.dtype == y.dtype == np.uint32
    assert int((x != kx).sum()) == 0 and int((y != ky).sum()) == 0
    nowhere = ~(np.isfinite(lon) & np.isfinite(lat))
    assert (y[nowhere] == NO_POSITION).all() and (y[~nowhere] < NO_POSITION).all()


def test_pure_python_fixed_point_is_the_kernels_too(rng: np.random.Generator) -> None:
    """Without numpy (Pyodide), the same bits: slower, about 3.5 µs a row here."""
    lon = np.concatenate([rng.uniform(-180, 180, 3000), _edges()[0]])
    lat = np.concatenate([rng.uniform(-90, 90, 3000), _edges()[1]])
    with Kernel() as k:
        kx, ky = k.project(lon, lat)
    x, y = pure_ops.OPS.mercator_fixed(list(lon), list(lat))
    assert list(x) == kx.tolist() and list(y) == ky.tolist()


def test_zoom18_pixels_from_the_wire_are_leaflets(rng: np.random.Generator) -> None:
    """At zoom 18 one unit is 1/64 px: a row's pixel (x >> 6, y >> 6) is Leaflet's float64
    pixel, except within float64's error of a pixel edge (where floor is a coin toss)."""
    n = 200_000
    lat, lon = rng.uniform(-85, 85, n), rng.uniform(-180, 180, n)
    table, _ = to_table(lat=lat, lon=lon)
    wire = decode_wire(encode(table))
    x = wire.column("x").to_numpy().astype(np.int64)
    y = wire.column("y").to_numpy().astype(np.int64)
    px, py = project(lat, lon + 180.0, 18)  # Leaflet's pixels, the world from 0 (lon -180)
    px -= 2**25  # project() puts lon 0 at half the world; +180 moved it a half further
    for mine, leaflet in ((x >> 6, px), (y >> 6, py)):
        differ = mine != np.floor(leaflet)
        near_edge = np.abs(leaflet - np.round(leaflet)) < 1e-6
        assert not (differ & ~near_edge).any()
        assert differ.sum() <= n * 1e-4


def test_schema_values_and_version(rng: np.random.Generator) -> None:
    lat = rng.uniform(-85, 85, 1000)
    lon = rng.uniform(-180, 180, 1000)
    weight = rng.uniform(0, 5, 1000)
    time = np.arange(1000) * 1000.0 + 1.7e12
    table, _ = to_table(lat=lat, lon=lon, weight=weight, time=time / 1e3)
    data = encode(table)
    assert isinstance(data, bytes)
    wire = decode_wire(data)
    assert wire.column_names == ["x", "y", "weight", "time"]
    assert [str(t) for t in wire.schema.types] == ["uint32", "uint32", "float", "double"]
    assert wire.schema.metadata == {WIRE_KEY.encode(): b"2"}
    back = decode(data)
    assert back.column_names == ["lon", "lat", "weight", "time"]
    assert [str(t) for t in back.schema.types] == ["double", "double", "float", "double"]
    np.testing.assert_allclose(back.column("lon").to_numpy(), lon, rtol=0, atol=HALF_UNIT_LON)
    np.testing.assert_allclose(back.column("lat").to_numpy(), lat, rtol=0, atol=1e-7)
    # weights travel as float32, exactly; times as float64 ms, exactly
    np.testing.assert_array_equal(back.column("weight").to_numpy(), weight.astype(np.float32))
    np.testing.assert_array_equal(np.sort(back.column("time").to_numpy()), time)
    # each decoded row is its unit's centre: it encodes to the same bytes
    assert encode(back) == data


def test_antimeridian_and_mercator_edges_round_trip() -> None:
    lon, lat = _edges()
    finite = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[finite], lat[finite]
    table = pa.table({"lon": lon, "lat": lat})
    wire = decode_wire(encode(table))
    x = wire.column("x").to_numpy()
    y = wire.column("y").to_numpy()
    # -180 and 180 are one meridian, the world's left edge; a hair west of it is its far east
    assert (x[(lon == -180.0) | (lon == 180.0)] == 0).all()
    assert (x[lon == 180.0 - 1e-12] > 2**32 - 100).all()
    assert (x[lon == -180.0 - 1e-12] == 2**32 - 1).all()
    assert (x[lon == 0.0] == 2**31).all()
    # at and beyond ±85.0511287798: the top and bottom rows of the world
    assert (y[lat >= 85.0511287798] == 0).all()
    assert (y[lat <= -85.0511287798] == 2**32 - 2).all()
    assert (y[lat == 0.0] == 2**31).all()
    back = decode(encode(table))
    assert encode(back) == encode(table)


def test_rows_without_a_position_travel_as_such() -> None:
    table = pa.table({"lon": [0.0, np.nan], "lat": [np.inf, 1.0]})
    wire = decode_wire(encode(table))
    assert wire.column("y").to_pylist() == [NO_POSITION, NO_POSITION]
    assert np.isnan(decode(encode(table)).column("lat").to_numpy()).all()


def test_weight_is_optional() -> None:
    table, _ = to_table(lat=[1.0, 2.0], lon=[3.0, 4.0])
    back = decode(encode(table))
    assert back.column_names == ["lon", "lat"]
    assert back.column("lon").to_pylist() == pytest.approx([3.0, 4.0], abs=1e-7)


def test_bytes_per_row() -> None:
    """8 bytes a row unweighted, 12 weighted (plus ~300 bytes of schema and header)."""
    n = 100_000
    for cols, per_row in (({}, 8), ({"weight": np.ones(n)}, 12)):
        table, _ = to_table(lat=np.zeros(n), lon=np.zeros(n), **cols)
        size = len(encode(table))
        assert per_row * n <= size < per_row * n + 1000


def test_is_an_uncompressed_ipc_stream() -> None:
    table, _ = to_table(lat=np.zeros(100_000), lon=np.zeros(100_000))
    data = encode(table)
    # Stream format (not file format: no "ARROW1" magic), starting with a continuation token.
    assert not data.startswith(b"ARROW1")
    assert data[:4] == b"\xff\xff\xff\xff"
    assert len(data) > 100_000 * 8  # uncompressed: all the rows' bytes
    reader = pa.ipc.open_stream(data)
    assert reader.schema.field("x").type == pa.uint32()


def test_another_version_is_refused_with_its_name() -> None:
    old = pa.BufferOutputStream()
    t = pa.table({"lon": [1.0], "lat": [2.0]})
    with pa.ipc.new_stream(old, t.schema) as w:
        w.write_table(t)
    with pytest.raises(ValueError, match=r"wire format is None .*reads 2"):
        decode(old.getvalue().to_pybytes())


def test_empty_table_round_trips() -> None:
    for with_weight in (False, True):
        back = decode(encode(empty_table(with_weight)))
        assert back.num_rows == 0
        assert len(back.column_names) == (3 if with_weight else 2)


def test_several_chunks_stay_in_order() -> None:
    table = pa.concat_tables([to_table(lat=[float(i)], lon=[0.0])[0] for i in range(5)])
    back = decode(encode(table))
    assert back.column("lat").to_pylist() == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0], abs=1e-7)


# The bytes js/test/arrow.test.ts decodes (Python → TypeScript): made by
# `python tests/test_wire.py` and committed; this test keeps them what encode() writes now.
FIXTURE_ROWS = {
    "lon": [-180.0, 179.99999999, 0.0, 2.2945, -73.9857, 139.6917, 12.5, 0.0],
    "lat": [0.0, 85.0511287798, -85.0511287798, 48.8584, 40.7484, 35.6895, 89.0, -0.0],
    "weight": [1.0, 0.5, 2.0, 3.25, 1e-3, 1e6, 0.1, 0.0],
    "time": [
        1.7e12,
        1.7e12 + 1,
        1.7e12 + 2,
        1.7e12 + 3,
        1.7e12 + 4,
        1.7e12 + 5,
        1.7e12 + 6,
        1.7e12 + 7,
    ],
}


def _fixture_table() -> pa.Table:
    cols = FIXTURE_ROWS
    return pa.table(
        {
            "lon": pa.array(cols["lon"], pa.float64()),
            "lat": pa.array(np.clip(cols["lat"], -85.0511287798, 85.0511287798), pa.float64()),
            "weight": pa.array(cols["weight"], pa.float32()),
            "time": pa.array(cols["time"], pa.float64()),
        }
    )


def _fixture() -> dict[str, object]:
    data = encode(_fixture_table())
    wire = decode_wire(data)
    columns = {n: wire.column(n).to_pylist() for n in wire.column_names}
    return {"ipc_base64": base64.b64encode(data).decode("ascii"), **columns}


def test_the_typescript_fixture_is_what_encode_writes() -> None:
    committed = json.loads((FIXTURE / "wire-v2.json").read_text())
    assert committed == _fixture(), "re-make it: python tests/test_wire.py"


@pytest.mark.parametrize(
    ("table", "pattern"),
    [
        (pa.table({"lat": [1.0], "lon": [2.0]}), r"columns \['lat', 'lon'\]"),
        (pa.table({"lon": [1.0], "lat": pa.array([2.0], pa.float32())}), "'lat' is float"),
    ],
)
def test_rejects_non_canonical_tables(table: pa.Table, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        encode(table)


# ---- without pyarrow: numpy + arro3 ---------------------------------------------------------

_NO_PYARROW = r"""
import sys, warnings
sys.modules["pyarrow"] = None  # `import pyarrow` now raises ImportError
import types
# The data path only (heatwidget/__init__ imports the widget, whose other modules are not
# part of this test): a bare package object lets heatwidget.points import alone.
pkg = types.ModuleType("heatwidget")
pkg.__path__ = [HEATWIDGET_DIR]
sys.modules["heatwidget"] = pkg
import numpy as np
import arro3.core as ac
from heatwidget.points import PointColumns, to_table
from heatwidget.points.wire import decode, encode

lat = np.array([10.0, np.nan, 20.0, -30.5, 89.0])
lon = np.array([190.0, 0.0, -2.0, 3.5, 0.0])
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    table, report = to_table(lat=lat, lon=lon, weight=[1.0, 1.0, 0.5, 2.0, 3.0])
    arro3_in, _ = to_table(ac.Table.from_pydict({
        "lat": ac.Array.from_numpy(np.array([1.0, 2.0])),
        "lon": ac.Array.from_numpy(np.array([3.0, 4.0]))}))
assert isinstance(table, PointColumns), type(table)
assert report.rows == 4 and report.dropped == 1
assert [round(v, 6) for v in decode(encode(arro3_in)).column("lat").tolist()] == [1.0, 2.0]
assert "pyarrow" not in {k for k, v in sys.modules.items() if v is not None}
sys.stdout.buffer.write(encode(table))
"""


def test_without_pyarrow_arro3_encodes_the_same_table() -> None:
    import subprocess
    import sys
    import warnings

    pytest.importorskip("arro3.io")
    from pathlib import Path

    import heatwidget

    here = str(Path(heatwidget.__file__).parent)
    code = _NO_PYARROW.replace("HEATWIDGET_DIR", repr(here))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr.decode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table, _ = to_table(
            lat=[10.0, np.nan, 20.0, -30.5, 89.0],
            lon=[190.0, 0.0, -2.0, 3.5, 0.0],
            weight=[1.0, 1.0, 0.5, 2.0, 3.0],
        )
    from_arro3 = decode_wire(proc.stdout)
    assert from_arro3.equals(decode_wire(encode(table)), check_metadata=True)


def test_consecutive_slices_join_without_a_copy() -> None:
    """numpy's concat joins the store's chunks (consecutive slices of one column) as one view,
    and copies anything else: a gap, another order, another array, another type."""
    ops = numpy_ops.OPS
    base = pa.array(np.arange(10.0)).to_numpy(zero_copy_only=False)  # as the store's columns
    owner = np.arange(10.0)
    for col in (base, owner):
        joined = ops.concat([col[0:3], col[3:7], col[7:10]], "float64")
        assert np.shares_memory(joined, col) and joined.tolist() == col.tolist()
        assert ops.concat([col[2:4], col[4:4], col[4:5]], "float64").tolist() == [2.0, 3.0, 4.0]
    other = np.arange(10.0, 20.0)
    for cols in (
        [owner[0:3], owner[4:6]],  # a gap
        [owner[3:6], owner[0:3]],  # out of order
        [owner[0:3], other[0:3]],  # two arrays
        [owner[0:4:2], owner[4:6]],  # strided
    ):
        got = ops.concat(cols, "float64")
        assert not np.shares_memory(got, owner)
        assert got.tolist() == np.concatenate(cols).tolist()


def test_arro3_and_pyarrow_encoders_agree() -> None:
    pytest.importorskip("arro3.io")
    from heatwidget.points import PointColumns
    from heatwidget.points.wire import _encode_arro3, _encode_pyarrow

    table, _ = to_table(lat=[1.0, 2.0], lon=[3.0, 4.0], weight=[0.5, 1.5], time=[0, 1])
    cols = PointColumns({n: table.column(n).to_numpy() for n in table.column_names})
    for source in (table, cols):
        a, b = decode_wire(_encode_arro3(source)), decode_wire(_encode_pyarrow(source))
        assert a.equals(b, check_metadata=True)
        assert a.equals(decode_wire(encode(table)), check_metadata=True)
    assert _encode_arro3(table)[:4] == b"\xff\xff\xff\xff"  # a stream, uncompressed
    assert decode(_encode_arro3(empty_table())).num_rows == 0


if __name__ == "__main__":
    (FIXTURE / "wire-v2.json").write_text(json.dumps(_fixture(), indent=1) + "\n")

"""heatwidget.points.wire: canonical table ⇄ Arrow IPC stream bytes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from heatwidget.points import empty_table, to_table
from heatwidget.points.wire import decode, encode


def test_schema_and_values_round_trip(rng: np.random.Generator) -> None:
    lat = rng.uniform(-85, 85, 1000)
    lon = rng.uniform(-180, 180, 1000)
    weight = rng.uniform(0, 5, 1000)
    table, _ = to_table(lat=lat, lon=lon, weight=weight)
    data = encode(table)
    assert isinstance(data, bytes)
    back = decode(data)
    assert back.column_names == ["lon", "lat", "weight"]
    assert [str(t) for t in back.schema.types] == ["double", "double", "float"]
    assert back.num_rows == 1000
    np.testing.assert_array_equal(back.column("lat").to_numpy(), lat)
    np.testing.assert_array_equal(back.column("lon").to_numpy(), lon)
    np.testing.assert_array_equal(back.column("weight").to_numpy(), weight.astype(np.float32))


def test_weight_is_optional() -> None:
    table, _ = to_table(lat=[1.0, 2.0], lon=[3.0, 4.0])
    back = decode(encode(table))
    assert back.column_names == ["lon", "lat"]
    assert back.column("lon").to_pylist() == [3.0, 4.0]


def test_is_an_uncompressed_ipc_stream() -> None:
    table, _ = to_table(lat=np.zeros(100_000), lon=np.zeros(100_000))
    data = encode(table)
    # Stream format (not file format: no "ARROW1" magic), starting with a continuation token.
    assert not data.startswith(b"ARROW1")
    assert data[:4] == b"\xff\xff\xff\xff"
    # Uncompressed: the body holds all 1.6 MB of zeros.
    assert len(data) > 100_000 * 16
    reader = pa.ipc.open_stream(data)
    assert reader.schema.field("lat").type == pa.float64()


def test_empty_table_round_trips() -> None:
    for with_weight in (False, True):
        back = decode(encode(empty_table(with_weight)))
        assert back.num_rows == 0
        assert len(back.column_names) == (3 if with_weight else 2)


def test_several_chunks_stay_in_order() -> None:
    table = pa.concat_tables([to_table(lat=[float(i)], lon=[0.0])[0] for i in range(5)])
    back = decode(encode(table))
    assert back.column("lat").to_pylist() == [0.0, 1.0, 2.0, 3.0, 4.0]


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
assert decode(encode(arro3_in)).column("lat").tolist() == [1.0, 2.0]
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
    from_arro3 = decode(proc.stdout)
    assert from_arro3.equals(decode(encode(table)), check_metadata=True)
    assert from_arro3.schema.equals(table.schema)


def test_arro3_and_pyarrow_encoders_agree() -> None:
    pytest.importorskip("arro3.io")
    from heatwidget.points import PointColumns
    from heatwidget.points.wire import _encode_arro3, _encode_pyarrow

    table, _ = to_table(lat=[1.0, 2.0], lon=[3.0, 4.0], weight=[0.5, 1.5], time=[0, 1])
    cols = PointColumns({n: table.column(n).to_numpy() for n in table.column_names})
    for source in (table, cols):
        a, b = decode(_encode_arro3(source)), decode(_encode_pyarrow(source))
        assert a.equals(b) and a.equals(table)
        assert a.schema.equals(table.schema)
    assert _encode_arro3(table)[:4] == b"\xff\xff\xff\xff"  # a stream, uncompressed
    assert decode(_encode_arro3(empty_table())).num_rows == 0

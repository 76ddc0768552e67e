"""heatwidget._wire: canonical table ⇄ Arrow IPC stream bytes."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from heatwidget._inputs import empty_table, to_table
from heatwidget._wire import decode, encode


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

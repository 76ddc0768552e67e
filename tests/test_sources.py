"""Input forms beyond plain columns: polars, arro3, duckdb, GeoArrow/WKB, geopandas, GeoJSON,
files; and the time column."""

from __future__ import annotations

import datetime as dt
import json
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from heatwidget.points import DroppedRowsWarning, to_table
from heatwidget.points.wire import decode, encode

pd = pytest.importorskip("pandas")

LAT = [10.0, 20.0, -30.5]
LON = [1.0, -2.0, 3.5]
W = [1.0, 0.5, 2.0]


def _cols(table: pa.Table) -> dict[str, list[float]]:
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _expect(table: pa.Table, weight: bool = True) -> None:
    want = {"lon": LON, "lat": LAT, **({"weight": W} if weight else {})}
    got = _cols(table)
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k])


# ---- Arrow producers -----------------------------------------------------------------------


def test_polars_dataframe_and_series() -> None:
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"lat": LAT, "lon": LON, "w": W})
    _expect(to_table(df, weight="w")[0])
    _expect(to_table(lat=df["lat"], lon=df["lon"], weight=df["w"])[0])
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 2"):
        table, _ = to_table(pl.DataFrame({"lat": [1, None], "lon": [2.0, 3.0]}))
    assert table.num_rows == 1


def test_arro3_table() -> None:
    ac = pytest.importorskip("arro3.core")
    _expect(
        to_table(ac.Table.from_arrow(pa.table({"lat": LAT, "lon": LON, "w": W})), weight="w")[0]
    )


def test_duckdb_result() -> None:
    duckdb = pytest.importorskip("duckdb")
    rel = duckdb.sql(
        "SELECT * FROM (VALUES (10.0, 1.0, 1.0), (20.0, -2.0, 0.5), (-30.5, 3.5, 2.0)) "
        "t(latitude, longitude, mag)"
    )
    _expect(to_table(rel.arrow(), weight="mag")[0])
    _expect(to_table(rel, weight="mag")[0])  # through __arrow_c_stream__


def test_numpy_structured_array() -> None:
    arr = np.array(
        list(zip(LAT, LON, W, strict=True)), dtype=[("lat", "f8"), ("lon", "f8"), ("w", "f4")]
    )
    _expect(to_table(arr, weight="w")[0])


# ---- GeoArrow and WKB ----------------------------------------------------------------------


def _wkb_point(x: float, y: float) -> bytes:
    return struct.pack("<BIdd", 1, 1, x, y)


def _with_ext(table: pa.Table, name: str, ext: str, crs: object = None) -> pa.Table:
    meta = {b"ARROW:extension:name": ext.encode()}
    if crs is not None:
        meta[b"ARROW:extension:metadata"] = json.dumps({"crs": crs}).encode()
    i = table.schema.get_field_index(name)
    return table.set_column(i, table.schema.field(name).with_metadata(meta), table.column(name))


@pytest.mark.parametrize("storage", ["struct", "fixed-size-list"])
def test_geoarrow_point_column(storage: str) -> None:
    if storage == "struct":
        geom = pa.StructArray.from_arrays([pa.array(LON), pa.array(LAT)], names=["x", "y"])
    else:
        flat = pa.array(np.column_stack([LON, LAT]).ravel())
        geom = pa.FixedSizeListArray.from_arrays(flat, 2)
    table = _with_ext(pa.table({"geometry": geom, "w": W}), "geometry", "geoarrow.point")
    out, report = to_table(table, weight="w")
    _expect(out)
    assert report.lat_column == "geometry"


def test_wkb_column_points_and_multipoints() -> None:
    multi = struct.pack("<BII", 1, 4, 2) + _wkb_point(5.0, 6.0) + _wkb_point(7.0, 8.0)
    be_point = struct.pack(">BIdd", 0, 1, 9.0, 10.0)
    geoms = [_wkb_point(1.0, 2.0), multi, be_point, None]
    table = _with_ext(
        pa.table({"geom": pa.array(geoms, pa.binary()), "w": [1.0, 2.0, 3.0, 4.0]}),
        "geom",
        "geoarrow.wkb",
    )
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 5"):
        out, _ = to_table(table, weight="w")
    assert _cols(out) == {
        "lon": [1.0, 5.0, 7.0, 9.0],
        "lat": [2.0, 6.0, 8.0, 10.0],
        "weight": [1.0, 2.0, 2.0, 3.0],  # each member of a MultiPoint carries its row's weight
    }


def test_wkb_polygon_is_rejected_with_the_fix() -> None:
    poly = struct.pack("<BII", 1, 3, 0)
    table = _with_ext(
        pa.table({"geometry": pa.array([_wkb_point(0, 0), poly])}), "geometry", "ogc.wkb"
    )
    with pytest.raises(ValueError, match=r"has a Polygon at row 1.*centroid"):
        to_table(table)


def test_geoarrow_crs_is_reprojected() -> None:
    pytest.importorskip("pyproj")
    # Web Mercator metres of (lon 10, lat 50)
    x, y = 1113194.9079327357, 6446275.841017158
    geom = pa.StructArray.from_arrays([pa.array([x]), pa.array([y])], names=["x", "y"])
    table = _with_ext(pa.table({"geometry": geom}), "geometry", "geoarrow.point", "EPSG:3857")
    out, _ = to_table(table)
    assert _cols(out)["lon"] == pytest.approx([10.0])
    assert _cols(out)["lat"] == pytest.approx([50.0])


# ---- geopandas -----------------------------------------------------------------------------


def test_geodataframe_any_crs() -> None:
    gpd = pytest.importorskip("geopandas")
    gdf = gpd.GeoDataFrame({"w": W}, geometry=gpd.points_from_xy(LON, LAT), crs=4326)
    out, report = to_table(gdf, weight="w")
    _expect(out)
    assert report.lat_column == "geometry"
    _expect(to_table(gdf.to_crs(3857), weight="w")[0])  # reprojected back to WGS84
    _expect(to_table(gdf.set_crs(None, allow_override=True), weight="w")[0])  # no CRS: degrees


def test_geodataframe_multipoints_and_missing() -> None:
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    geoms = [shapely.Point(1, 2), shapely.MultiPoint([(3, 4), (5, 6)]), None]
    gdf = gpd.GeoDataFrame({"w": [1.0, 2.0, 3.0]}, geometry=geoms, crs=4326)
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 4"):
        out, _ = to_table(gdf, weight="w")
    assert _cols(out) == {"lon": [1.0, 3.0, 5.0], "lat": [2.0, 4.0, 6.0], "weight": [1.0, 2.0, 2.0]}


def test_geodataframe_polygons_are_rejected() -> None:
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    gdf = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.box(0, 0, 1, 1)], crs=4326)
    with pytest.raises(
        ValueError, match=r"has a Polygon at row 1.*gdf\.centroid.*representative_point"
    ):
        to_table(gdf)
    _, report = to_table(gdf.set_geometry(gdf.representative_point()))
    assert report.rows == 2


# ---- GeoJSON -------------------------------------------------------------------------------


def _fc() -> dict:
    feats = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"mag": w},
        }
        for lat, lon, w in zip(LAT, LON, W, strict=True)
    ]
    return {"type": "FeatureCollection", "features": feats}


def test_geojson_dict_and_file(tmp_path: Path) -> None:
    _expect(to_table(_fc(), weight="mag")[0])
    path = tmp_path / "points.geojson"
    path.write_text(json.dumps(_fc()))
    _expect(to_table(path, weight="mag")[0])
    _expect(to_table(str(path), weight="mag")[0])


def test_geojson_multipoint_null_and_polygon() -> None:
    fc = _fc()
    fc["features"].append(
        {
            "type": "Feature",
            "geometry": {"type": "MultiPoint", "coordinates": [[0, 1], [2, 3]]},
            "properties": {"mag": 5},
        }
    )
    fc["features"].append({"type": "Feature", "geometry": None, "properties": {"mag": 1}})
    with pytest.warns(DroppedRowsWarning, match="dropped 1 of 6"):
        out, _ = to_table(fc, weight="mag")
    assert _cols(out)["weight"][-2:] == [5.0, 5.0]
    fc["features"].append(
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": []}, "properties": {}}
    )
    with pytest.raises(ValueError, match=r"features\[5\] has a Polygon geometry.*centroid"):
        to_table(fc)


def test_geojson_missing_weight_property_names_it() -> None:
    with pytest.raises(
        ValueError,
        match=r"'magn' \(given as weight=\) is not in the GeoJSON properties"
        r".*Did you mean weight='mag'",
    ):
        to_table(_fc(), weight="magn")


# ---- files ---------------------------------------------------------------------------------


def test_csv_and_parquet_paths(tmp_path: Path) -> None:
    df = pd.DataFrame({"latitude": LAT, "longitude": LON, "w": W})
    df.to_csv(tmp_path / "p.csv", index=False)
    df.to_parquet(tmp_path / "p.parquet")
    _expect(to_table(tmp_path / "p.csv", weight="w")[0])
    _expect(to_table(str(tmp_path / "p.parquet"), weight="w")[0])


def test_geoparquet_path(tmp_path: Path) -> None:
    gpd = pytest.importorskip("geopandas")
    gdf = gpd.GeoDataFrame({"w": W}, geometry=gpd.points_from_xy(LON, LAT), crs=4326)
    gdf.to_parquet(tmp_path / "wkb.parquet")
    gdf.to_crs(3857).to_parquet(tmp_path / "native.parquet", geometry_encoding="geoarrow")
    _expect(to_table(tmp_path / "wkb.parquet", weight="w")[0])
    _expect(to_table(tmp_path / "native.parquet", weight="w")[0])
    assert pq.read_schema(tmp_path / "wkb.parquet").metadata[b"geo"]


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        to_table(tmp_path / "nope.csv")
    (tmp_path / "x.xlsx").write_bytes(b"")
    with pytest.raises(ValueError, match=r"don't know how to read 'x\.xlsx'"):
        to_table(tmp_path / "x.xlsx")


def test_missing_optional_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from heatwidget.points import deps

    monkeypatch.setitem(__import__("sys").modules, "pyproj", None)
    with pytest.raises(ImportError, match=r'pip install "heatwidget\[geo\]"'):
        deps.require("pyproj", "reprojecting")


# ---- time ----------------------------------------------------------------------------------

MS_2024 = 1_704_067_200_000.0  # 2024-01-01T00:00:00Z


@pytest.mark.parametrize(
    "times",
    [
        pd.Series(pd.to_datetime(["2024-01-01 00:00:00", "2024-01-01 00:00:01"])),
        pd.Series(
            pd.to_datetime(["2024-01-01 01:00:00", "2024-01-01 01:00:01"]).tz_localize(
                "Europe/Paris"
            )
        ),
        np.array(["2024-01-01T00:00:00", "2024-01-01T00:00:01"], dtype="datetime64[s]"),
        [
            dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
            dt.datetime(2024, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc),
        ],
        [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-01 00:00:01")],
        pa.array([MS_2024, MS_2024 + 1000], pa.float64())
        .cast(pa.int64())
        .cast(pa.timestamp("ms", tz="UTC")),
        [MS_2024 / 1000, MS_2024 / 1000 + 1],  # numbers are seconds
    ],
    ids=["datetime64", "tz-aware", "numpy-M8", "py-datetime", "timestamps", "arrow", "seconds"],
)
def test_time_column_kinds(times: object) -> None:
    out, _report = to_table(lat=[0.0, 1.0], lon=[0.0, 1.0], time=times)
    assert out.column_names == ["lon", "lat", "time"]
    assert out.schema.field("time").type == pa.float64()
    assert _cols(out)["time"] == [MS_2024, MS_2024 + 1000]
    assert _cols(decode(encode(out)))["time"] == [MS_2024, MS_2024 + 1000]


def test_time_unit_and_dataframe_column() -> None:
    df = pd.DataFrame({"lat": [0.0], "lon": [0.0], "t": [MS_2024]})
    out, report = to_table(df, time="t", time_unit="ms")
    assert _cols(out)["time"] == [MS_2024]
    assert report.time_column == "t"
    with pytest.raises(ValueError, match="time_unit='h'"):
        to_table(df, time="t", time_unit="h")


def test_time_mixed_kinds_are_rejected() -> None:
    mixed = pd.DataFrame(
        {"lat": [0.0, 1.0], "lon": [0.0, 1.0], "t": [5, pd.Timestamp("2024-01-01")]}
    )
    with pytest.raises(
        ValueError,
        match=r"time column 't' mixes kinds of time: number \(first at row 0: 5\), "
        r"naive datetime \(first at row 1",
    ):
        to_table(mixed, time="t")
    naive_aware = [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)]
    with pytest.raises(ValueError, match=r"naive datetime.*aware datetime"):
        to_table(lat=[0.0, 1.0], lon=[0.0, 1.0], time=naive_aware)
    with pytest.raises(ValueError, match=r"'2024-01-01' \(str\) at row 0: parse them first"):
        to_table(lat=[0.0], lon=[0.0], time=["2024-01-01"])


def test_missing_times_drop_rows() -> None:
    times = pd.Series(pd.to_datetime(["2024-01-01", None, "2024-01-02"], format="ISO8601"))
    with pytest.warns(DroppedRowsWarning, match="latitude, longitude or time is missing"):
        out, report = to_table(lat=[0.0, 1.0, 2.0], lon=[0.0, 1.0, 2.0], time=times)
    assert report.rows == 2
    assert _cols(out)["lat"] == [0.0, 2.0]

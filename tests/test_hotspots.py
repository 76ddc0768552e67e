"""hotspots() (issue 12): filled contours of the view's density, checked against scikit-image's
independent marching squares on the same grid, with exact totals of the rows inside."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
import shapely
from skimage import measure

import heatwidget
from heatwidget.host import viewport


def clusters(rng: np.random.Generator, n: int = 20_000) -> heatwidget.Heatmap:
    centers = np.array([[48.8, 2.3], [51.5, -0.1], [45.0, 8.0]])
    k = rng.integers(0, 3, n)
    lat = centers[k, 0] + rng.normal(0, 0.6, n)
    lon = centers[k, 1] + rng.normal(0, 0.9, n)
    w = rng.uniform(0, 2, n).astype(np.float32)
    return heatwidget.Heatmap(lat=lat, lon=lon, weight=w, radius=12, center=(48.5, 3.0), zoom=5)


def ring_area(xy: np.ndarray) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])))


def to_pixels(m: heatwidget.Heatmap, ring: list[list[float]], w: int, h: int) -> np.ndarray:
    view = m._rendering.view(w, h)
    x0, y0 = view.origin
    lon, lat = np.asarray(ring).T
    x, y = viewport.project(lat, lon, view.zoom)
    return np.column_stack([x - x0, y - y0])


def test_polygons_agree_with_scikit_image_within_a_pixel(rng: np.random.Generator) -> None:
    m = clusters(rng)
    w, h = 600, 400
    grid = m.density(w, h).grid
    level = float(np.quantile(grid[grid > 0], 0.8))
    fc = m.hotspots(level=level, width=w, height=h)
    ours = [to_pixels(m, f["geometry"]["coordinates"][0], w, h) for f in fc["features"]]
    # scikit-image: (row, col) of cell centres; ours are container pixels, centres at +0.5
    theirs = [c[:, ::-1] + 0.5 for c in measure.find_contours(grid, level)]
    closed = [c for c in theirs if np.allclose(c[0], c[-1])]
    assert len(ours) == len(closed) == 3
    assert sorted(round(ring_area(r)) for r in ours) == pytest.approx(
        sorted(round(ring_area(r)) for r in closed), rel=0.01
    )
    mine = np.concatenate(ours)
    other = np.concatenate(closed)
    d1 = np.min(np.hypot(*(mine[:, None, :] - other[None, ::7, :]).transpose(2, 0, 1)), axis=0)
    d2 = np.min(np.hypot(*(other[:, None, :] - mine[None, ::7, :]).transpose(2, 0, 1)), axis=0)
    assert d1.max() < 1.0 and d2.max() < 1.0
    for f in fc["features"]:
        assert f["properties"]["level"] == level
        assert f["geometry"]["type"] == "Polygon"


def test_totals_are_the_rows_inside_each_polygon(rng: np.random.Generator) -> None:
    m = clusters(rng)
    lon = np.asarray(m._stream.store.table().column("lon"))
    lat = np.asarray(m._stream.store.table().column("lat"))
    weight = np.asarray(m._stream.store.table().column("weight"), dtype=np.float64)
    fc = m.hotspots(quantile=0.7)
    assert fc["features"]
    for f in fc["features"]:
        poly = shapely.geometry.shape(f["geometry"])
        inside = shapely.intersects_xy(poly, lon, lat)
        assert f["properties"]["count"] == int(inside.sum()) > 0
        assert f["properties"]["sum"] == pytest.approx(weight[inside].sum(), rel=1e-9)
        # exterior counterclockwise (RFC 7946)
        assert poly.exterior.is_ccw
    # a polygon given back as the selection selects the same rows
    m.selection = fc["features"][0]["geometry"]
    rows = m.selected()
    assert len(rows["lat"]) == fc["features"][0]["properties"]["count"]


def test_holes_are_kept() -> None:
    angles = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    lat = 10 + 2 * np.sin(angles)
    lon = 20 + 2 * np.cos(angles)
    m = heatwidget.Heatmap(lat=lat, lon=lon, radius=4, center=(10.0, 20.0), zoom=6)
    fc = m.hotspots(quantile=0.2)
    rings = fc["features"][0]["geometry"]["coordinates"]
    assert len(rings) == 2  # the annulus: an exterior and one hole
    poly = shapely.geometry.shape(fc["features"][0]["geometry"])
    assert not poly.contains(shapely.geometry.Point(20, 10))
    assert poly.interiors[0].is_ccw is False


def test_level_quantile_and_errors(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = clusters(rng, 2000)
    with pytest.raises(ValueError, match="not both"):
        m.hotspots(level=1.0, quantile=0.5)
    with pytest.raises(ValueError, match="quantile must be in"):
        m.hotspots(quantile=1.5)
    with pytest.raises(ValueError, match="level must be"):
        m.hotspots(level=-1)
    assert m.hotspots(level=1e12)["features"] == []
    empty = heatwidget.Heatmap()
    assert empty.hotspots() == {"type": "FeatureCollection", "features": []}
    gdf = m.hotspots(as_geodataframe=True)
    assert list(gdf.columns) == ["geometry", "level", "count", "sum"]
    assert gdf.crs.to_epsg() == 4326
    monkeypatch.setitem(sys.modules, "contourpy", None)
    with pytest.raises(ImportError, match=r"heatwidget\[analysis\]"):
        m.hotspots()


def feature_lons(fc: dict[str, Any]) -> np.ndarray:
    return np.array([v[0] for f in fc["features"] for r in f["geometry"]["coordinates"] for v in r])


def test_hotspots_across_the_antimeridian() -> None:
    rng = np.random.default_rng(5)
    lon = rng.normal(180, 0.5, 5000)
    lon = np.where(lon >= 180, lon - 360, lon)
    lat = rng.normal(0, 0.5, 5000)
    m = heatwidget.Heatmap(lat=lat, lon=lon, radius=10, center=(0.0, 180.0), zoom=6)
    fc = m.hotspots(quantile=0.5)
    assert len(fc["features"]) == 1
    assert fc["features"][0]["properties"]["count"] > 1000
    lons = feature_lons(fc)
    assert lons.min() < 180 < lons.max()  # continuous across the line, not split

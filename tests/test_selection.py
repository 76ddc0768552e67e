"""Selection (issue 12): the shape's checks, the inside test, totals, on_select, selected()."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
import traitlets

import heatwidget
from heatwidget.selection.shape import SelectionError, Shape


def box(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def quiet(*args: Any, **kwargs: Any) -> heatwidget.Heatmap:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return heatwidget.Heatmap(*args, **kwargs)


def star(rng: np.random.Generator, k: int, cx: float, cy: float, r: float) -> list[list[float]]:
    """A random simple (star-shaped) ring of k vertices around (cx, cy)."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, k))
    radii = rng.uniform(0.3 * r, r, k)
    ring = [[cx + a * np.cos(t), cy + a * np.sin(t)] for a, t in zip(radii, angles, strict=True)]
    return [*ring, ring[0]]


# ---- the shape's checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("geometry", "pattern"),
    [
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "2 distinct vertices"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 0], [0, 0]]]},
            "2 distinct vertices",
        ),
        ({"type": "Polygon", "coordinates": [[[0, 0], ["a", 0], [1, 1], [0, 0]]]}, "non-numeric"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [True, 0], [1, 1], [0, 0]]]}, "non-numeric"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [np.nan, 0], [1, 1], [0, 0]]]}, "non-finite"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 95], [1, 1], [0, 0]]]}, "within ±90"),
        ({"type": "Point", "coordinates": [0, 0]}, "Polygon or MultiPolygon"),
        ([[0, 0], [1, 1]], "not list"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [180, 0], [180, 1], [0, 0]]]}, "180°"),
    ],
)
def test_bad_shapes_are_errors_naming_the_fix(geometry: Any, pattern: str) -> None:
    with pytest.raises(SelectionError, match=pattern):
        Shape.parse(geometry)


def test_a_self_crossing_lasso_names_the_place_and_the_fix() -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}
    assert not shapely.geometry.shape(bowtie).is_valid
    with pytest.raises(SelectionError, match=r"crosses itself near lon 1, lat 1.*make_valid"):
        Shape.parse(bowtie)
    m = quiet(lat=[1.0], lon=[1.0])
    with pytest.raises(traitlets.TraitError, match="crosses itself"):
        m.selection = bowtie
    assert m.selection is None


def test_the_crossing_check_agrees_with_shapely(rng: np.random.Generator) -> None:
    """Random lassos (vertices in random order cross often): ours refuses exactly those
    shapely calls invalid."""
    checked = 0
    for _ in range(300):
        k = int(rng.integers(4, 9))
        pts = rng.uniform(0, 10, (k, 2)).round(3).tolist()
        geometry = {"type": "Polygon", "coordinates": [[*pts, pts[0]]]}
        valid = bool(shapely.geometry.shape(geometry).is_valid)
        try:
            Shape.parse(geometry)
            ours = True
        except SelectionError:
            ours = False
        assert ours == valid, geometry
        checked += valid
    assert 10 < checked < 290  # both kinds were seen


def test_the_value_is_normalised_and_accepts_features_and_shapely() -> None:
    m = quiet(lat=[1.0], lon=[1.0])
    m.selection = {"type": "Feature", "properties": {}, "geometry": box(0, 0, 2, 2)}
    assert m.selection == {
        "type": "Polygon",
        "coordinates": [[[0.0, 0.0], [2.0, 0.0], [2.0, 2.0], [0.0, 2.0], [0.0, 0.0]]],
    }
    m.selection = shapely.geometry.box(0, 0, 2, 2)
    assert m.selection["type"] == "Polygon"
    m.selection = None
    assert m.selection is None


# ---- the inside test ------------------------------------------------------------------------


def test_inside_is_exact_against_shapely_boundary_included(rng: np.random.Generator) -> None:
    lon = rng.uniform(-5, 15, 200_000)
    lat = rng.uniform(-5, 15, 200_000)
    for _ in range(5):
        shell = star(rng, 40, 5, 5, 6)
        hole = star(rng, 12, 5, 5, 1.5)
        geometry = {"type": "Polygon", "coordinates": [shell, hole]}
        poly = shapely.geometry.shape(geometry)
        if not poly.is_valid:
            continue
        ours = Shape.parse(geometry).contains(lon, lat)
        theirs = shapely.intersects_xy(poly, lon, lat)
        assert np.array_equal(ours, theirs)


def test_points_on_the_boundary_and_vertices_count_as_inside() -> None:
    shape = Shape.parse(box(0, 0, 2, 2))
    lon = np.array([0, 1, 2, 2, 0, 1, 2.0000001, -1e-12, 1])
    lat = np.array([0, 0, 1, 2, 2, 1, 1, 1, 2 + 1e-7])
    assert shape.contains(lon, lat).tolist() == [1, 1, 1, 1, 1, 1, 0, 1, 0]
    # a diagonal edge
    tri = Shape.parse({"type": "Polygon", "coordinates": [[[0, 0], [3, 0], [0, 3], [0, 0]]]})
    assert tri.contains(np.array([1.5, 1.0, 1.5]), np.array([1.5, 1.0, 1.6])).tolist() == [
        True,
        True,
        False,
    ]


def test_a_box_across_the_antimeridian_is_the_20_degrees_across_it() -> None:
    lon = np.array([175.0, -175.0, 179.999, -180.0, 0.0, 160.0, -160.0, 170.0])
    lat = np.zeros(8)
    want = [True, True, True, True, False, False, False, True]
    for ring_lons in ((170, -170), (170, 190), (-190, -170)):
        w, e = ring_lons
        shape = Shape.parse(box(w, -1, e, 1))
        assert shape.contains(lon, lat).tolist() == want, ring_lons
        assert shape.geojson["coordinates"][0][0][0] == 170.0
    # a hole given on the other side of the line follows its shell
    holed = {
        "type": "Polygon",
        "coordinates": [
            box(170, -1, -170, 1)["coordinates"][0],
            box(-178, -0.5, -176, 0.5)["coordinates"][0],
        ],
    }
    assert Shape.parse(holed).contains(np.array([-177.0, 175.0]), np.zeros(2)).tolist() == [
        False,
        True,
    ]


def test_multipolygons_and_holes() -> None:
    geometry = {
        "type": "MultiPolygon",
        "coordinates": [
            [box(0, 0, 4, 4)["coordinates"][0], box(1, 1, 3, 3)["coordinates"][0][::-1]],
            box(10, 10, 11, 11)["coordinates"],
        ],
    }
    shape = Shape.parse(geometry)
    lon = np.array([0.5, 2.0, 10.5, 7.0])
    lat = np.array([0.5, 2.0, 10.5, 7.0])
    assert shape.contains(lon, lat).tolist() == [True, False, True, False]


# ---- totals and callbacks -------------------------------------------------------------------


def test_count_and_sum_are_exact_over_the_rows_held(rng: np.random.Generator) -> None:
    n = 100_000
    lat, lon = rng.uniform(-60, 60, n), rng.uniform(-180, 180, n)
    w = rng.uniform(0, 3, n).astype(np.float32)
    m = quiet(lat=lat, lon=lon, weight=w)
    events: list[dict[str, Any]] = []
    m.on_select(events.append)
    geometry = {"type": "Polygon", "coordinates": [star(rng, 30, 10, 5, 40)]}
    m.selection = geometry
    inside = shapely.intersects_xy(shapely.geometry.shape(geometry), lon, lat)
    assert events[-1]["count"] == int(inside.sum())
    assert events[-1]["sum"] == pytest.approx(float(w[inside].sum(dtype=np.float64)), rel=1e-12)
    assert events[-1]["geometry"] == m.selection
    m.selection = None
    assert events[-1] == {"count": 0, "sum": 0.0, "geometry": None}
    m.on_select(events.append, remove=True)
    m.selection = geometry
    assert len(events) == 2


def test_a_polygon_with_no_rows_inside() -> None:
    df = pd.DataFrame({"lat": [1.0, 2.0], "lon": [1.0, 2.0], "name": ["a", "b"]})
    m = quiet(df)
    events: list[dict[str, Any]] = []
    m.on_select(events.append)
    m.selection = box(50, 50, 51, 51)
    assert events == [{"count": 0, "sum": 0.0, "geometry": m.selection}]
    rows = m.selected()
    assert (
        isinstance(rows, pd.DataFrame) and len(rows) == 0 and list(rows.columns) == list(df.columns)
    )


def test_a_selection_from_the_page_reaches_python() -> None:
    m = quiet(lat=[1.0, 5.0], lon=[1.0, 5.0])
    events: list[dict[str, Any]] = []
    m.on_select(events.append)
    m.set_state({"selection": box(0, 0, 2, 2)})  # what ipywidgets does with a view's update
    assert events[-1]["count"] == 1
    assert m.selected() == {"lat": [1.0], "lon": [1.0]}


def test_with_a_time_window_only_rows_in_it_count() -> None:
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    times = [t0 + dt.timedelta(hours=h) for h in range(6)]
    df = pd.DataFrame({"lat": [1.0] * 6, "lon": [1.0] * 6, "t": times, "id": range(6)})
    m = quiet(df, time="t")
    m.selection = box(0, 0, 2, 2)
    events: list[dict[str, Any]] = []
    m.on_select(events.append)
    m.time_window = (times[1], times[4])  # start <= t < end
    m.selection = box(0, 0, 3, 3)
    assert events[-1]["count"] == 3
    assert m.selected()["id"].tolist() == [1, 2, 3]


def test_on_select_follows_the_rows_under_an_unchanged_selection(
    rng: np.random.Generator,
) -> None:
    """Appends, the sliding window, set_data and the time window each refire on_select with
    the totals a fresh selection over the rows held would give."""
    geometry = {"type": "Polygon", "coordinates": [star(rng, 12, 0, 0, 30)]}
    shape = shapely.geometry.shape(geometry)

    def batch(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lat, lon = rng.uniform(-50, 50, n), rng.uniform(-50, 50, n)
        return lat, lon, rng.uniform(0, 2, n).astype(np.float32)

    lat, lon, w = batch(5_000)
    m = quiet(lat=lat, lon=lon, weight=w, max_points=12_000)
    m.selection = geometry
    events: list[dict[str, Any]] = []
    m.on_select(events.append)
    held = (lat, lon, w)
    for n in (3_000, 6_000, 9_000, 20_000):  # the last two slide the window; 20k > max_points
        new = batch(n)
        m.append(lat=new[0], lon=new[1], weight=new[2])
        held = tuple(np.concatenate([a, b])[-12_000:] for a, b in zip(held, new, strict=True))
        inside = shapely.intersects_xy(shape, held[1], held[0])
        assert events[-1]["count"] == int(inside.sum())
        expected = float(held[2][inside].sum(dtype=np.float64))
        assert events[-1]["sum"] == pytest.approx(expected, rel=1e-9)
    fired = len(events)
    m.max_points = 4_000
    inside = shapely.intersects_xy(shape, held[1][-4_000:], held[0][-4_000:])
    assert len(events) == fired + 1 and events[-1]["count"] == int(inside.sum())
    m.set_data(lat=[0.0, 80.0], lon=[0.0, 0.0])
    assert events[-1]["count"] == 1 and events[-1]["sum"] == 1.0
    # the incremental totals agree with a selection drawn afresh over the same rows
    m.append(lat=[1.0, 2.0], lon=[1.0, 60.0])
    again = events[-1]
    m.selection = None
    m.selection = geometry
    assert events[-1] == again
    m.selection = None
    fired = len(events)
    m.append(lat=[1.0], lon=[1.0])  # no selection: nothing to tell
    assert len(events) == fired


def test_on_select_follows_the_time_window() -> None:
    t0 = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    times = [t0 + dt.timedelta(hours=h) for h in range(6)]
    m = quiet(pd.DataFrame({"lat": [1.0] * 6, "lon": [1.0] * 6, "t": times}), time="t")
    m.selection = box(0, 0, 2, 2)
    events: list[dict[str, Any]] = []
    m.on_select(events.append)
    m.time_window = (times[1], times[4])
    assert events[-1]["count"] == 3
    m.time_window = None
    assert events[-1]["count"] == 6


# ---- selected(): the user's rows ------------------------------------------------------------


def test_selected_gives_back_the_users_rows_in_their_order() -> None:
    df = pd.DataFrame(
        {
            "lat": [1.0, np.nan, 1.5, 40.0, 1.2],
            "lon": [1.0, 1.0, 1.5, 40.0, 181.0],  # 181 is wrapped to -179: outside
            "name": ["a", "missing", "c", "far", "wrapped"],
            "extra": [1, 2, 3, 4, 5],
        },
        index=[10, 11, 12, 13, 14],
    )
    m = quiet(df)
    m.selection = box(0, 0, 2, 2)
    rows = m.selected()
    assert isinstance(rows, pd.DataFrame)
    assert rows.index.tolist() == [10, 12]
    assert rows["name"].tolist() == ["a", "c"]
    assert list(rows.columns) == ["lat", "lon", "name", "extra"]


def test_selected_follows_time_sorting_appends_and_the_sliding_window() -> None:
    df1 = pd.DataFrame(
        {"lat": [1.0, 1.0, 9.0], "lon": [1.0, 1.0, 9.0], "t": [30, 10, 20], "k": ["a", "b", "c"]}
    )
    df2 = pd.DataFrame({"lat": [1.0, 9.0], "lon": [1.0, 9.0], "t": [40, 50], "k": ["d", "e"]})
    m = quiet(df1, time="t", max_points=4)
    m.append(df2, time="t")  # holds b, c, a, d, e minus the oldest (b): c, a, d, e
    m.selection = box(0, 0, 2, 2)
    assert m.selected()["k"].tolist() == ["a", "d"]
    m.max_points = 2  # d, e
    assert m.selected()["k"].tolist() == ["d"]


@pytest.mark.parametrize("kind", ["pyarrow", "polars", "dict", "arrays", "geojson", "numpy"])
def test_selected_returns_the_kind_that_went_in(kind: str) -> None:
    lat, lon, name = [1.0, 9.0, 1.5], [1.0, 9.0, 1.5], ["a", "b", "c"]
    if kind == "pyarrow":
        data: Any = pa.table({"lat": lat, "lon": lon, "name": name})
        m = quiet(data)
    elif kind == "polars":
        import polars as pl

        data = pl.DataFrame({"lat": lat, "lon": lon, "name": name})
        m = quiet(data)
    elif kind == "dict":
        data = {"lat": np.array(lat), "lon": lon, "name": name}
        m = quiet(data)
    elif kind == "arrays":
        m = quiet(lat=np.array(lat), lon=lon, weight=[1.0, 2.0, 3.0])
    elif kind == "geojson":
        data = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                    "properties": {"name": n},
                }
                for x, y, n in zip(lon, lat, name, strict=True)
            ],
        }
        m = quiet(data)
    else:
        data = np.array(
            list(zip(lat, lon, name, strict=True)),
            dtype=[("lat", "f8"), ("lon", "f8"), ("name", "U1")],
        )
        m = quiet(data)
    m.selection = box(0, 0, 2, 2)
    rows = m.selected()
    if kind == "pyarrow":
        assert isinstance(rows, pa.Table) and rows.column("name").to_pylist() == ["a", "c"]
    elif kind == "polars":
        assert type(rows).__name__ == "DataFrame" and rows["name"].to_list() == ["a", "c"]
    elif kind == "dict":
        assert rows["name"] == ["a", "c"] and rows["lat"].tolist() == [1.0, 1.5]
        assert rows["lon"] == [1.0, 1.5]
    elif kind == "arrays":
        assert rows["lat"].tolist() == [1.0, 1.5] and rows["weight"] == [1.0, 3.0]
    elif kind == "geojson":
        assert [f["properties"]["name"] for f in rows["features"]] == ["a", "c"]
    else:
        assert rows["name"].tolist() == ["a", "c"]


def test_selected_without_a_selection_is_none_and_a_changed_table_is_an_error() -> None:
    df = pd.DataFrame({"lat": [1.0, 2.0], "lon": [1.0, 2.0]})
    m = quiet(df)
    assert m.selected() is None
    df.loc[0, "lat"] = np.nan  # changed in place after it was given
    m.selection = box(0, 0, 3, 3)
    with pytest.raises(RuntimeError, match="has changed since"):
        m.selected()


# ---- contours (the trait; the page draws them: tests/e2e/test_selection_tool.py) -------------


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (None, None),
        ("auto", "auto"),
        (" AUTO ", "auto"),
        ([3, 1, 2, 1], [1.0, 2.0, 3.0]),
        (5, [5.0]),
    ],
)
def test_contours_values(value: Any, stored: Any) -> None:
    m = quiet(lat=[1.0], lon=[1.0], contours=value)
    assert m.contours == stored


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("some", 'None, "auto"'),
        ([0], "> 0"),
        ([1, float("nan")], "> 0"),
        (["a"], "numbers"),
        ([], "between 1 and 20"),
        (list(range(1, 30)), "between 1 and 20"),
        ([True], "> 0"),
    ],
)
def test_contours_bad_values(value: Any, pattern: str) -> None:
    m = quiet(lat=[1.0], lon=[1.0])
    with pytest.raises(traitlets.TraitError, match=pattern):
        m.contours = value


def test_without_numpy_the_widget_works_and_a_selection_says_why_not() -> None:
    """Pyodide offline has no numpy: the widget is made, shown and fed as before; setting a
    selection is a TraitError naming numpy."""
    import subprocess
    import sys
    import textwrap

    child = textwrap.dedent(
        """
        import sys
        sys.modules["numpy"] = None
        sys.modules["pyarrow"] = None
        import heatwidget, traitlets
        m = heatwidget.Heatmap(lat=[1.0], lon=[2.0])
        m._repr_mimebundle_()
        m.append(lat=[3.0], lon=[4.0])
        assert m.point_count == 2 and m.selected() is None
        try:
            m.selection = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
        except traitlets.TraitError as e:
            print("refused:", e)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", child], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "refused: selections" in proc.stdout and "need numpy" in proc.stdout


# ---- on_click: the rows near the click --------------------------------------------------------


def test_a_click_carries_the_nearest_rows_with_the_users_columns() -> None:
    df = pd.DataFrame(
        {
            "lat": [48.85, 48.8501, 48.86, 40.0],
            "lon": [2.35, 2.3501, 2.35, 2.35],
            "name": ["a", "b", "c", "far"],
        }
    )
    m = quiet(df, center=(48.85, 2.35), zoom=14, radius=30)
    got: list[dict[str, Any]] = []
    m.on_click(got.append)
    click = {"type": "click", "lat": 48.8501, "lon": 2.3501, "x": 10, "y": 10, "value": 1.0}
    m._handle_front_end({**click, "count": 2})
    rows = got[-1]["rows"]
    assert isinstance(rows, pd.DataFrame)
    # within 30 px at zoom 14 (c is ~1.1 km north: ~95 px away), nearest first
    assert rows["name"].tolist() == ["b", "a"]
    m._handle_front_end({**click, "lat": 10.0, "lon": 10.0, "count": 0})
    assert got[-1]["rows"] is None


def test_up_close_a_clicks_rows_are_the_dots_under_it() -> None:
    """At zoom >= points_zoom the rows within points_radius px, not within the heat's radius."""
    df = pd.DataFrame({"lat": [48.85, 48.85], "lon": [2.35, 2.3503], "name": ["a", "b"]})
    m = quiet(df, center=(48.85, 2.35), zoom=16, radius=30, points_zoom=15)
    got: list[dict[str, Any]] = []
    m.on_click(got.append)
    # b is 0.0003 deg east: ~13.98 px at zoom 16; a is under the click
    click = {"type": "click", "lat": 48.85, "lon": 2.35, "x": 10, "y": 10, "value": 1.0}
    m._handle_front_end({**click, "count": 2})
    assert got[-1]["rows"]["name"].tolist() == ["a"]  # points_radius 4 px
    m.points_radius = 16
    m._handle_front_end({**click, "count": 2})
    assert got[-1]["rows"]["name"].tolist() == ["a", "b"]
    m.points_zoom = None  # the heat: within its 30 px
    m.points_radius = 4
    m._handle_front_end({**click, "count": 2})
    assert got[-1]["rows"]["name"].tolist() == ["a", "b"]
    with pytest.raises(traitlets.TraitError):
        m.points_radius = 0


def test_points_zoom_is_a_zoom_or_none() -> None:
    assert quiet(lat=[1.0], lon=[1.0]).points_zoom is None
    assert quiet(lat=[1.0], lon=[1.0], points_zoom=14).points_zoom == 14.0
    with pytest.raises(traitlets.TraitError):
        quiet(lat=[1.0], lon=[1.0]).points_zoom = -1

"""The first frame of a load splatted ahead while the load's parts arrive (heat.h
hw_density_ahead): the frame that follows is the frame drawn over every row at once, bit for bit.

Weights here are random float32 (not dyadic): float sums depend on their order, so equal
arrays mean every cell received the same additions in the same order, as heat.h promises. The
frames compared against are first frames after a load (`_first_frame`), which splat the rows
in arrival order; later frames splat them in spatial order, or pyramid cells."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import reference as R
from test_kernel import VIEWS, _with_time, points_near, table, wasm, wrap_lon

from heatwidget.host.kernel import Kernel

__all__ = ["wasm"]  # the session fixture, shared with test_kernel.py

# A frame inside the world, two wider than the world that wrap across the antimeridian
# (each point drawn at several copies), and one whose left edge is west of it.
AHEAD_VIEWS = [VIEWS[1], VIEWS[2], VIEWS[5], VIEWS[6]]
AGGS = {"sum": R.AGG_SUM, "count": R.AGG_COUNT, "mean": R.AGG_MEAN, "max": R.AGG_MAX}
NO_POSITION = 2**32 - 1


@pytest.fixture(scope="module")
def kernels(wasm: Path):
    pytest.importorskip("wasmtime", reason="the kernel tests need wasmtime")
    with Kernel(wasm) as parted, Kernel(wasm) as whole:
        yield parted, whole


def _first_frame(k: Kernel, rows: list[pa.Table], args) -> tuple[np.ndarray, float]:
    k.load(pa.concat_tables(rows))
    return k.density(*args)


def _parts(view, n: int, seed: int, *, dyadic: bool = False) -> list[pa.Table]:
    zoom, origin, width, height = view
    rng = np.random.default_rng(seed)
    lon, lat = points_near(rng, origin, zoom, width, height, n)
    # a few rows anywhere in the world, so wrapped copies and rows outside the frame occur
    lon[: n // 10] = wrap_lon(rng.uniform(-180, 180, n // 10))
    w = (rng.integers(1, 64, n) / 8.0 if dyadic else rng.uniform(0.1, 10.0, n)).astype(np.float32)
    tab = table(lon, lat, w)
    cuts = [0, n // 3, n // 3 + 7, (3 * n) // 4, n]  # one part of 7 rows
    return [tab.slice(a, b - a) for a, b in itertools.pairwise(cuts)]


@pytest.mark.parametrize("radius", [0.0, 6.0, 40.0])  # full resolution, cells of 1 and of 8 px
@pytest.mark.parametrize("view", AHEAD_VIEWS, ids=lambda v: f"z{v[0]}@{v[1][0]:g},{v[1][1]:g}")
def test_parts_splatted_ahead_make_the_same_frame(kernels, view, radius: float) -> None:
    parted, whole = kernels
    zoom, origin, width, height = view
    parts = _parts(view, 30_000, seed=int(radius) + width)
    for name, agg in AGGS.items():
        args = (origin, zoom, width, height, radius, agg)
        expected, expected_max = _first_frame(whole, parts, args)
        assert expected_max > 0, name
        parted.load(parts[0])
        held = []
        for part in parts[1:]:
            held.append(parted.density_ahead(origin, zoom, width, height, radius, agg))
            parted.append(part)
        # the last part is splatted by the frame itself
        assert held == [sum(p.num_rows for p in parts[:i]) for i in range(1, len(parts))], name
        got, got_max = parted.density(*args)
        np.testing.assert_array_equal(got, expected, err_msg=name)
        assert got_max == expected_max, name
        # in slices of 4,000 rows that end inside parts, the last slice leaving rows to the frame
        parted.load(parts[0])
        for part in parts[1:]:
            now = parted.density_ahead(*args, limit=4_000)
            while now is not None and now < parted.point_count:
                now = parted.density_ahead(*args, limit=4_000)
            assert now == parted.point_count, name
            parted.append(part)
        assert parted.density_ahead(*args, limit=1_000) == held[-1] + 1_000, name
        got, got_max = parted.density(*args)
        np.testing.assert_array_equal(got, expected, err_msg=name)
        assert got_max == expected_max, name


def test_the_frame_uses_the_rows_splatted_ahead(kernels) -> None:
    """The frame does not splat the rows it holds ahead again: rows moved off the map after
    they were splatted ahead still count in it (a white-box check through the rows' memory)."""
    parted, whole = kernels
    zoom, origin, width, height = VIEWS[6]
    first, *rest = _parts(VIEWS[6], 20_000, seed=3)
    parted.load(first)
    assert parted.density_ahead(origin, zoom, width, height, 0.0, R.AGG_SUM) == first.num_rows
    for part in rest:
        parted.append(part)
    expected = _first_frame(whole, [first, *rest], (origin, zoom, width, height, 0.0, R.AGG_SUM))[0]
    ys = parted._view("hw_points_y", np.uint32, parted.point_count)
    ys[: first.num_rows] = NO_POSITION  # never drawn (heat.h "Coordinates")
    np.testing.assert_array_equal(
        parted.density(origin, zoom, width, height, 0.0, R.AGG_SUM)[0], expected
    )


def test_weights_that_appear_in_a_later_part(kernels) -> None:
    parted, whole = kernels
    zoom, origin, width, height = VIEWS[5]
    a, b = _parts(VIEWS[5], 10_000, seed=5)[:2]
    unweighted = a.drop_columns(["weight"])
    parted.load(unweighted)
    assert parted.density_ahead(origin, zoom, width, height, 6.0, R.AGG_SUM) == a.num_rows
    parted.append(b)
    ones = a.set_column(2, "weight", pa.array(np.ones(a.num_rows, np.float32)))
    for agg in (R.AGG_SUM, R.AGG_MEAN):
        parted.load(unweighted)
        parted.density_ahead(origin, zoom, width, height, 6.0, agg)
        parted.append(b)
        args = (origin, zoom, width, height, 6.0, agg)
        np.testing.assert_array_equal(
            parted.density(*args)[0], _first_frame(whole, [ones, b], args)[0]
        )


def _ahead_then_frame(k: Kernel, parts: list[pa.Table], view, *, other=None) -> np.ndarray:
    zoom, origin, width, height = view
    k.load(parts[0])
    k.density_ahead(origin, zoom, width, height, 6.0, R.AGG_SUM)
    for part in parts[1:]:
        k.append(part)
    zoom, origin, width, height = other or view
    return k.density(origin, zoom, width, height, 6.0, R.AGG_SUM)[0]


def test_a_frame_of_another_view_or_after_a_new_load_draws_every_row(kernels) -> None:
    parted, whole = kernels
    parts = _parts(VIEWS[5], 10_000, seed=7)
    for other in (VIEWS[6], (VIEWS[5][0], VIEWS[5][1], VIEWS[5][2] + 1, VIEWS[5][3])):
        zoom, origin, width, height = other
        expected = _first_frame(whole, parts, (origin, zoom, width, height, 6.0, R.AGG_SUM))[0]
        got = _ahead_then_frame(parted, parts, VIEWS[5], other=other)
        np.testing.assert_array_equal(got, expected)
    # splatted ahead, then the rows replaced: the new rows' frame, with nothing of the old
    zoom, origin, width, height = VIEWS[5]
    parted.load(parts[0])
    parted.density_ahead(origin, zoom, width, height, 6.0, R.AGG_SUM)
    fresh = _parts(VIEWS[5], 5_000, seed=8)
    parted.load(pa.concat_tables(fresh))
    args = (origin, zoom, width, height, 6.0, R.AGG_SUM)
    np.testing.assert_array_equal(parted.density(*args)[0], _first_frame(whole, fresh, args)[0])
    # a view changed between parts starts the frame again, over every row so far
    parted.load(parts[0])
    z2, o2, w2, h2 = VIEWS[6]
    assert parted.density_ahead(o2, z2, w2, h2, 6.0, R.AGG_SUM) == parts[0].num_rows
    parted.append(parts[1])
    n = parts[0].num_rows + parts[1].num_rows
    assert parted.density_ahead(origin, zoom, width, height, 6.0, R.AGG_SUM) == n


def test_frames_that_cannot_be_splatted_ahead(kernels) -> None:
    """Each draws as usual: sorted rows, or a window's pyramid, add in another order, so the
    weights are dyadic (exact sums in any order) and the radius 0 (no pyramid cells)."""
    parted, whole = kernels
    zoom, origin, width, height = VIEWS[5]
    parts = _parts(VIEWS[5], 10_000, seed=9, dyadic=True)
    args = (origin, zoom, width, height, 0.0, R.AGG_SUM)
    expected = _first_frame(whole, parts[:2], args)[0]
    assert expected.sum() > 0

    def refused(setup) -> None:
        parted.load(parts[0])
        setup()
        assert parted.density_ahead(*args) is None
        parted.append(parts[1])
        parted.time_window()
        np.testing.assert_array_equal(parted.density(*args)[0], expected)

    refused(lambda: parted.density(*args))  # a frame drawn since the load: the next sorts
    refused(parted.index)  # rows in spatial order
    refused(parted.keep_arrival_order)  # a sliding window (its own pyramid)
    refused(lambda: parted.time_window(0.0, 1.0))  # a bounded time window
    timed = [_with_time(p) for p in parts[:2]]
    parted.load(timed[0])
    assert parted.density_ahead(*args) is None  # rows with times
    parted.append(timed[1])
    np.testing.assert_array_equal(parted.density(*args)[0], expected)


def test_density_ahead_checks_its_arguments(kernels) -> None:
    parted, _ = kernels
    with pytest.raises(ValueError, match="at least 1x1"):
        parted.density_ahead((0.0, 0.0), 1, 0, 10, 0.0, R.AGG_SUM)
    with pytest.raises(ValueError, match="aggregation"):
        parted.density_ahead((0.0, 0.0), 1, 10, 10, 0.0, 7)
    with pytest.raises(ValueError, match=r"limit must be a number of rows.*got -1"):
        parted.density_ahead((0.0, 0.0), 1, 10, 10, 0.0, R.AGG_SUM, limit=-1)

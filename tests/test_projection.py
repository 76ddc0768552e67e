"""heatwidget.host.projection: the kernel's own projection for the wire, on threads."""

from __future__ import annotations

import multiprocessing
import os
import warnings

import numpy as np
import pyarrow as pa
import pytest
from test_wire import _edges

from heatwidget.host.projection import KernelProjection, kernel_projection
from heatwidget.points import PointStore
from heatwidget.points.columns import numpy_ops
from heatwidget.points.wire import decode_wire, encode
from heatwidget.widget.stream import PointStream

TWIN = numpy_ops.OPS.mercator_fixed


def _columns(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random rows with the antimeridian, Mercator-limit, NaN and infinite edges spread
    through them (so every thread's slice gets some)."""
    lon, lat = rng.uniform(-180, 180, n), rng.uniform(-90, 90, n)
    e_lon, e_lat = _edges()
    at = rng.choice(n, e_lon.size, replace=False)
    lon[at], lat[at] = e_lon, e_lat
    return lon, lat


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n", [1 << 16, 200_003, 1_000_000])
def test_threads_give_the_twins_bits(rng: np.random.Generator, threads: int, n: int) -> None:
    """Whatever the slices (row counts that are not multiples of the 65,536-row alignment),
    the threads' x, y are numpy's twin's bit for bit, edges included."""
    lon, lat = _columns(rng, n)
    project = KernelProjection(threads=threads)
    assert project.wait(60)
    got = project(lon, lat)
    assert got is not None
    x, y = TWIN(lon, lat)
    assert got[0].dtype == got[1].dtype == np.uint32
    np.testing.assert_array_equal(got[0], x)
    np.testing.assert_array_equal(got[1], y)


def test_declines_small_batches_and_before_the_kernel_loads(rng: np.random.Generator) -> None:
    lon, lat = _columns(rng, 1 << 17)
    project = KernelProjection(threads=2, min_rows=1 << 17)
    # The first call starts loading the kernel on a worker and declines: numpy projects it.
    assert project(lon, lat) is None
    assert project.wait(60) and project.ready()
    assert project(lon[:-1], lat[:-1]) is None  # below min_rows
    assert project(lon, lat) is not None


def test_a_kernel_that_cannot_load_always_declines(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No heat.wasm where the kernel is loaded from: every call declines, so the store's own
    backend projects, and the wire bytes are the same."""
    monkeypatch.setenv("HEATWIDGET_WASM", "/nonexistent/heat.wasm")
    project = KernelProjection(threads=2, min_rows=1)
    assert not project.wait(60)
    lon, lat = _columns(rng, 1 << 16)
    assert project(lon, lat) is None
    table = pa.table({"lon": lon, "lat": lat})
    assert encode(table, project) == encode(table)


_FORKED: list[KernelProjection] = []


def _in_forked_child(lon: np.ndarray, lat: np.ndarray) -> None:
    """Runs in the child (fork: it inherits ``_FORKED`` without pickling); exit code 0 when
    the projection declined and the bytes are numpy's."""
    project = _FORKED[0]
    table = pa.table({"lon": lon, "lat": lat})
    ok = project(lon, lat) is None and encode(table, project) == encode(table)
    os._exit(0 if ok else 1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX's")
def test_a_forked_child_declines_instead_of_waiting_for_threads_it_lacks(
    rng: np.random.Generator,
) -> None:
    """Worker threads do not survive fork(): a child that submitted work to them would wait
    forever. The child declines, and numpy projects the same bytes there."""
    lon, lat = _columns(rng, 1 << 17)
    project = KernelProjection(threads=2, min_rows=1)
    assert project.wait(60) and project(lon, lat) is not None
    _FORKED[:] = [project]
    ctx = multiprocessing.get_context("fork")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a threaded process
        child = ctx.Process(target=_in_forked_child, args=(lon, lat))
        child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung projecting")
    assert child.exitcode == 0


def test_the_store_sends_the_same_bytes_with_it(rng: np.random.Generator) -> None:
    """A store with the projection encodes every part, delta and full state exactly as one
    without it."""
    lon, lat = _columns(rng, 300_000)
    w = rng.uniform(0, 5, lon.size).astype(np.float32)
    table = pa.table({"lon": lon, "lat": lat, "weight": w})
    project = KernelProjection(threads=2, min_rows=1)
    assert project.wait(60)
    fast, plain = PointStore(project=project), PointStore()
    for store in (fast, plain):
        store.commit(store.plan_replace(table))
    assert fast.encode() == plain.encode()
    parts = [[bytes(p) for p in s.encode_parts(1 << 17)[1]] for s in (fast, plain)]
    assert parts[0] == parts[1] and len(parts[0]) == 3
    deltas = [s.plan_append(table.slice(0, 100_000)).delta for s in (fast, plain)]
    assert deltas[0] is not None and deltas[1] is not None
    assert bytes(deltas[0].payload) == bytes(deltas[1].payload)
    decoded = decode_wire(fast.encode())
    np.testing.assert_array_equal(decoded.column("x").to_numpy(), TWIN(lon, lat)[0])


def test_widgets_share_the_one_projection() -> None:
    """Every widget's store projects with the process's one KernelProjection (its threads
    serve them all)."""
    shared = kernel_projection()
    assert shared is not None  # wasmtime and heat.wasm are installed for the tests
    a, b = (PointStream(lambda _c, _b: None, lambda: None) for _ in range(2))
    assert a.store.project is shared and b.store.project is shared

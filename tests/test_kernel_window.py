"""A sliding window's pyramid (js/kernel/window.c) follows appends and drops through each cell's
link to its parent cell: after a long run of appends and drops, zoomed-out frames drawn from it
equal those of a pyramid built afresh from the rows the window holds (dyadic weights: float
sums are exact in any order, so equal means the same cells hold the same points)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import reference as R
from test_kernel import _clustered, dyadic_weights, table, wasm, wrap_lon

from heatwidget.host.kernel import Kernel

__all__ = ["wasm"]  # the session fixture, shared with test_kernel.py

# zoomed out, radius 8: the frames splat the window's pyramid cells (frame.c pyramid_level)
VIEWS = [((0.0, 0.0), 1.5, 512, 512), ((0.0, 0.0), 0.5, 256, 256), ((100.0, 50.0), 3, 700, 500)]


def _spread(rng: np.random.Generator, n: int):
    lon = wrap_lon(rng.uniform(-180, 180, n))
    return lon, rng.uniform(-80, 80, n), dyadic_weights(rng, n)


def test_window_pyramid_follows_appends_and_drops(wasm: Path) -> None:
    pytest.importorskip("wasmtime", reason="the kernel tests need wasmtime")
    rng = np.random.default_rng(21)
    # spread over the world first, then clustered: the spread rows' cells empty as they are
    # dropped, until the levels are rebuilt from the rows and their links forgotten
    lon, lat, w = _spread(rng, 120_000)
    held = [np.asarray(lon), np.asarray(lat), np.asarray(w)]
    with Kernel(wasm) as k, Kernel(wasm) as fresh:
        k.load(table(*held))
        k.keep_arrival_order()  # the window's pyramid from here on
        for step in range(30):
            n = int(rng.integers(1_000, 30_000))
            batch = _clustered(rng, n) if step % 5 else _spread(rng, n)
            # the first drop takes most of the spread rows at once
            drop = 100_000 if step == 0 else int(rng.integers(0, n + 3_000))
            k.append(table(*batch))
            held = [np.r_[h, b] for h, b in zip(held, batch, strict=True)]
            drop = min(drop, len(held[0]) - 1)
            assert k.drop_front(drop) == len(held[0]) - drop
            held = [h[drop:] for h in held]
        assert k.point_count == len(held[0]) > 100_000
        fresh.load(table(*held))
        fresh.keep_arrival_order()
        for view in VIEWS:
            for agg in (R.AGG_SUM, R.AGG_COUNT, R.AGG_MEAN):
                a, _ = k.density(*view, 8.0, agg)
                b, bmax = fresh.density(*view, 8.0, agg)
                assert bmax > 0
                np.testing.assert_array_equal(a, b, err_msg=f"{view} agg {agg}")


def test_window_follows_only_the_levels_frames_use(wasm: Path) -> None:
    """Levels no frame asks for are set aside after 64 appends (their upkeep was the page's
    largest cost while streaming); a frame that needs one again rebuilds it from the rows, and
    draws what a fresh pyramid draws."""
    pytest.importorskip("wasmtime", reason="the kernel tests need wasmtime")
    rng = np.random.default_rng(5)
    lon, lat, w = _clustered(rng, 60_000)
    held = [np.asarray(lon), np.asarray(lat), np.asarray(w)]
    # radius 32: zoom 2 asks for level 8 (too many cells here: drawn from the rows, level 7
    # followed as its neighbour), zoom 0 for level 6
    near, far = ((0.0, 0.0), 2.0, 1024, 1024), ((0.0, 0.0), 0.0, 256, 256)
    with Kernel(wasm) as k, Kernel(wasm) as fresh:
        k.load(table(*held))
        k.keep_arrival_order()
        every = k.window_levels()
        assert len(every) >= 6, every
        for _ in range(80):
            batch = _clustered(rng, 2_000)
            k.append(table(*batch))
            held = [np.r_[h, b] for h, b in zip(held, batch, strict=True)]
            assert k.drop_front(2_000) == len(held[0]) - 2_000
            held = [h[2_000:] for h in held]
            k.density(*near, 32.0, R.AGG_SUM)  # the pan: one zoom only
        followed = k.window_levels()
        assert 0 < len(followed) <= 3 and set(followed) < set(every), (followed, every)
        fresh.load(table(*held))
        fresh.keep_arrival_order()
        for view in (far, near):
            for agg in (R.AGG_SUM, R.AGG_COUNT, R.AGG_MEAN):
                a, _ = k.density(*view, 32.0, agg)
                b, bmax = fresh.density(*view, 32.0, agg)
                assert bmax > 0
                np.testing.assert_array_equal(a, b, err_msg=f"{view} agg {agg}")
        assert len(k.window_levels()) > len(followed)  # the far view's level is followed again

"""Grid answers are binned off the Jupyter kernel's event loop (widget/serving.py
``ServedPoints.answer_soon``): the comm handler returns at once, the loop keeps serving other
work while a grid is binned, and the answer is sent from the loop's thread when ready; without
a running loop (plain Python) the answer is sent before the handler returns."""

from __future__ import annotations

import asyncio
import logging
import threading

import numpy as np
import pytest

from heatwidget import Heatmap

pytest.importorskip("wasmtime", reason="server mode needs wasmtime")

W, H = 320, 240
REQUEST = {"type": "grid", "id": 3, "x0": 0.0, "y0": 0.0, "zoom": 0, "width": W, "height": H,
           "radius": 0, "aggregation": "sum"}  # fmt: skip


def _served_map() -> Heatmap:
    rng = np.random.default_rng(2)
    lon, lat = rng.uniform(-180, 180, 5000), rng.uniform(-80, 80, 5000)
    return Heatmap(lat=lat, lon=lon, mode="server", basemap=None)


def test_a_grid_is_binned_off_the_loop_and_sent_on_it() -> None:
    m = _served_map()
    served = m._served
    assert served is not None
    binning, release = threading.Event(), threading.Event()
    planes = served.planes

    def held_planes(*args, **kwargs):  # holds the binning until the loop has shown it is free
        binning.set()
        assert release.wait(30), "the test never released the binning"
        return planes(*args, **kwargs)

    served.planes = held_planes  # type: ignore[method-assign]
    sent: list[tuple[dict, list, threading.Thread]] = []

    async def main() -> None:
        arrived = asyncio.Event()

        def send(content, buffers=None):
            sent.append((content, buffers, threading.current_thread()))
            arrived.set()

        m.send = send  # type: ignore[method-assign]
        m._handle_front_end(dict(REQUEST), [])
        assert not sent  # the handler returned while the grid is not binned yet
        # the loop is free: it runs this coroutine while the worker holds the binning
        assert await asyncio.to_thread(binning.wait, 30)
        assert not sent
        release.set()
        await asyncio.wait_for(arrived.wait(), 30)

    asyncio.run(main())
    ((content, buffers, thread),) = sent
    assert thread is threading.main_thread()  # sent on the loop's thread, not the worker's
    assert content["type"] == "grid" and content["id"] == 3 and content["rows"] >= 5000
    served.planes = planes  # type: ignore[method-assign]
    direct, direct_buffers = served.answer(dict(REQUEST))
    assert content == direct and buffers == direct_buffers


def test_without_a_running_loop_the_answer_is_sent_at_once() -> None:
    m = _served_map()
    sent: list[dict] = []
    m.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    m._handle_front_end(dict(REQUEST), [])
    assert [c["id"] for c in sent] == [3]


def test_a_failed_answer_is_logged_not_raised_into_the_loop(caplog) -> None:
    m = _served_map()
    served = m._served
    assert served is not None

    def broken(*_args, **_kwargs):
        raise RuntimeError("the engine went away")

    served.planes = broken  # type: ignore[method-assign]
    sent: list[dict] = []
    m.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()
        handler = logging.Handler()
        handler.emit = lambda record: loop.call_soon_threadsafe(done.set)  # type: ignore[method-assign]
        logging.getLogger("heatwidget").addHandler(handler)
        try:
            m._handle_front_end(dict(REQUEST), [])
            await asyncio.wait_for(done.wait(), 30)
        finally:
            logging.getLogger("heatwidget").removeHandler(handler)

    with caplog.at_level(logging.ERROR, logger="heatwidget"):
        asyncio.run(main())
    assert not sent
    assert "a grid answer failed" in caplog.text and "the engine went away" in caplog.text

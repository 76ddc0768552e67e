"""Whatever the page sends, nothing raises into the user's cell and the widget is unchanged.

``Dispatcher.dispatch`` is fed garbage (hypothesis: any JSON-like content, any buffers, and
crafted near-misses of every message the views send) through the widget's own entry point;
the only thing a message may do is make Python answer with a ``reset`` (a resync).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import heatwidget
from heatwidget.views import protocol

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["delta", "reset", "hello", "resync", "view", "snapshot", "click", "hover"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Near-misses: a real type with fields of any kind.
crafted = st.fixed_dictionaries(
    {"type": st.sampled_from([*list(protocol.FROM_VIEWS), "", "delta", "reset", "__class__"])},
    optional=dict.fromkeys(
        (
            "seq",
            "id",
            "view",
            "event",
            "index",
            "count",
            "error",
            "width",
            "height",
            "lat",
            "lon",
            "value",
            "x",
            "y",
            "tiles",
            "ms",
        ),
        json_values,
    ),
)
buffers = st.one_of(
    st.none(),
    st.lists(
        st.one_of(st.binary(max_size=64), st.builds(memoryview, st.binary(max_size=64))), max_size=3
    ),
    json_values,  # not even a list of buffers
)


def _widget() -> tuple[heatwidget.Heatmap, list[dict[str, Any]]]:
    m = heatwidget.Heatmap(lat=[1.0, 2.0, 3.0], lon=[4.0, 5.0, 6.0], basemap=None)
    sent: list[dict[str, Any]] = []
    m.send = lambda content, buffers=None: sent.append(content)  # type: ignore[method-assign]
    m.on_click(lambda event: None)
    m.on_hover(lambda event: None)
    return m, sent


def _state(m: heatwidget.Heatmap) -> dict[str, Any]:
    return {**m.get_state(), "rows": m._stream.store.count, "seq": m._stream.seq}


@pytest.fixture(autouse=True)
def _quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="heatwidget")


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(content=st.one_of(json_values, crafted), bufs=buffers)
def test_no_message_from_the_page_raises_or_changes_the_widget(content: Any, bufs: Any) -> None:
    m, sent = _widget()
    before = _state(m)
    m._handle_front_end(content, bufs)  # raises nothing
    assert _state(m) == before
    assert all(c.get("type") == protocol.RESET for c in sent), sent


@pytest.mark.parametrize(
    ("content", "bufs"),
    [
        ({"type": "resync", "seq": 1}, 5),  # buffers not a list
        ({"type": "resync", "seq": 1}, object()),
        ({"type": "snapshot", "id": "x", "view": "v", "index": 0, "count": 2}, [b"\x89PNG"]),
        ({"type": "snapshot", "id": "x", "view": "v", "index": 0, "count": 2**70}, None),
        ({"type": "click", "lat": 1, "count": "many"}, None),
        ({"type": "click", "count": 1e400}, None),
        ({"type": "hover", "count": float("nan")}, None),
        ({"type": "view", "view": ["not", "a", "str"], "event": "hello"}, None),
        ({"type": "view", "view": "v", "event": "pong", "id": {"a": 1}}, None),
        ({"type": {"nested": "type"}}, None),
        ({"type": ["delta"]}, [b""]),
        ({}, None),
        ([], None),
        ("resync", None),
        (None, None),
    ],
)
def test_crafted_messages(content: Any, bufs: Any) -> None:
    m, sent = _widget()
    before = _state(m)
    m._handle_front_end(content, bufs)
    assert _state(m) == before
    assert all(c.get("type") == protocol.RESET for c in sent), sent


def test_dispatch_never_raises_with_handlers_that_do() -> None:
    def boom(_content: dict[str, Any], _buffers: list[Any]) -> None:
        raise RuntimeError("a handler bug")

    d = protocol.Dispatcher({protocol.CLICK: boom}, before=boom)
    assert d.dispatch({"type": "click"}, 5) is False  # type: ignore[arg-type]
    assert d.dispatch({"type": "click"}, [b"x"]) is False


def test_a_resync_at_pythons_own_seq_is_answered() -> None:
    m, sent = _widget()
    m._handle_front_end({"type": "resync", "seq": m._seq}, [])
    assert [c["type"] for c in sent] == [protocol.RESET]

"""The widget's collaborators, without a comm: the protocol table, the stream, the events."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from heatwidget.views import protocol
from heatwidget.widget.events import MapEvents
from heatwidget.widget.stream import PointStream, table_of


def test_dispatcher_routes_by_type_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    got: list[Any] = []

    def bad(_content: dict[str, Any], _buffers: list[Any]) -> None:
        raise KeyError("boom")

    d = protocol.Dispatcher({protocol.CLICK: lambda c, _b: got.append(c), protocol.HOVER: bad})
    assert d.dispatch({"type": "click", "lat": 1}) is True and got == [{"type": "click", "lat": 1}]
    with caplog.at_level(logging.WARNING, "heatwidget"):
        assert d.dispatch({"type": "hover"}) is False
        assert d.dispatch(["not", "a", "dict"]) is False
    assert d.dispatch({"type": "nonsense"}) is False
    assert "malformed 'hover'" in caplog.text
    with pytest.raises(ValueError, match="not a message the views send"):
        protocol.Dispatcher({"delta": bad})


def test_stream_sends_deltas_and_one_reset_per_state() -> None:
    sent: list[tuple[dict[str, Any], Any]] = []
    changes: list[int] = []
    s = PointStream(lambda c, b: sent.append((c, b)), lambda: changes.append(1))
    s.start(table_of(None, [1.0], [2.0], None, None, "s", 1), None)
    assert sent == [] and s.summary()["point_count"] == 1
    s.append(table_of(None, [3.0, 4.0], [5.0, 6.0], None, None, "s", 1), 2)
    ((content, buffers),) = sent
    assert content == protocol.delta(s.seq, 2, 1) and len(buffers) == 1 and changes == [1]
    s.on_sync_request({"type": "resync", "seq": s.seq - 1}, [])
    s.on_sync_request({"type": "hello", "seq": s.seq - 1}, [])
    resets = [c for c, _ in sent if c["type"] == "reset"]
    assert resets == [protocol.reset(s.seq)]
    s.on_sync_request({"type": "hello", "seq": s.seq}, [])
    assert len(sent) == 2


def test_a_resync_is_answered_again_once_a_second_has_passed() -> None:
    sent: list[tuple[dict[str, Any], Any]] = []
    now = [100.0]
    s = PointStream(lambda c, b: sent.append((c, b)), lambda: None, clock=lambda: now[0])
    s.start(table_of(None, [1.0], [2.0], None, None, "s", 1), None)
    s.on_sync_request({"type": "resync", "seq": s.seq}, [])  # a view that refused a message
    s.on_sync_request({"type": "resync", "seq": s.seq}, [])  # another view, same moment
    assert [c["type"] for c, _ in sent] == ["reset"]
    now[0] += 1.5  # the reset was lost (IOPub rate limit): the view asks again
    s.on_sync_request({"type": "resync", "seq": s.seq}, [])
    assert [c["type"] for c, _ in sent] == ["reset", "reset"]


def test_events_listen_and_call_back() -> None:
    listen: list[list[str]] = []
    e = MapEvents(listen.append)
    got: list[dict[str, Any]] = []
    e.register("click", got.append)
    assert listen[-1] == ["click"]
    e.on_message({"type": "click", "lat": 1.0, "count": 3.0}, [])
    assert got[0]["count"] == 3 and got[0]["lat"] == 1.0
    e.register("click", got.append, remove=True)
    assert listen[-1] == []

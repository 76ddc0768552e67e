"""``MapEvents``: the Python callbacks for the map's clicks and hovers.

The views send ``click``/``hover`` only while Python listens: ``listen`` (the widget's
``_listen`` trait) names the events that have callbacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets

from ..views import protocol

Callback = Callable[[dict[str, Any]], Any]


class MapEvents:
    """Click and hover callbacks. ``set_listen(names)`` is told the sorted event names that
    have callbacks whenever that changes."""

    def __init__(
        self,
        set_listen: Callable[[list[str]], None],
        enrich: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self._set_listen = set_listen
        #: adds to a click's event what Python knows (the rows near it), before the callbacks
        self._enrich = enrich
        self._handlers = {
            protocol.CLICK: ipywidgets.CallbackDispatcher(),
            protocol.HOVER: ipywidgets.CallbackDispatcher(),
        }

    def register(self, name: str, callback: Callback, remove: bool = False) -> None:
        self._handlers[name].register_callback(callback, remove=remove)
        self._set_listen(self.listening())

    def listening(self) -> list[str]:
        return sorted(name for name, h in self._handlers.items() if h.callbacks)

    def on_message(self, content: dict[str, Any], _buffers: list[Any]) -> None:
        """A ``click``/``hover`` message: the callbacks get its event dict."""
        handlers = self._handlers.get(str(content.get("type")))
        if handlers is not None:
            event = protocol.event(content)
            if self._enrich is not None and event.get("type") == protocol.CLICK:
                event = self._enrich(event)
            handlers(event)

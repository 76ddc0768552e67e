"""``ViewPictures``: the pictures a widget's live views compose (``snapshot()``, and the view
path of ``to_png()``), and the waiting for them inside a cell.

The views and requests are ``Snapshots``' (views/snapshot.py); how a running cell can hear the
answer is the ``ReplyRoute``'s (views/cell_wait.py). This object ties them to one widget: the
time it was last displayed (a view may be on its way), the grace for a new view, and the
warnings and errors ``to_png()`` gives when the Python rendering must stand in.
"""

from __future__ import annotations

import asyncio
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..views import cell_wait as _cell_wait
from ..views import protocol
from ..views import snapshot as _snapshot

#: Seconds to_png() waits for the view of a map displayed a moment ago to appear.
VIEW_GRACE_SECONDS = 5.0
#: Displayed this long ago at most: a view may still be on its way.
JUST_SHOWN_SECONDS = 60.0


class ViewPictures:
    """One widget's view pictures. ``send(content)`` sends to the views; ``fallback()`` is the
    Python rendering a snapshot without a live view resolves with."""

    def __init__(
        self,
        send: Callable[[dict[str, Any]], None],
        fallback: Callable[[], bytes],
        *,
        snapshots: _snapshot.Snapshots | None = None,
        route: _cell_wait.ReplyRoute | None = None,
    ) -> None:
        self.snapshots = snapshots or _snapshot.Snapshots(send, fallback)
        self.route = route or _cell_wait.ReplyRoute(
            on_view=self.snapshots.view_event, ping=lambda rid: send(protocol.ping(rid))
        )
        self.shown_at: float | None = None

    def attach(self, comm: Any) -> None:
        """Hears the views' answers as they arrive on ``comm`` (where the kernel allows)."""
        self.route.install(comm)

    # ---- messages from the views (the widget's dispatch table) --------------------------------

    def seen(self, content: dict[str, Any], _buffers: list[Any]) -> None:
        """Every message from a view, before its handler: where the views' messages are read."""
        self.route.handled(content)

    def on_view(self, content: dict[str, Any], _buffers: list[Any]) -> None:
        self.snapshots.view_event(content)

    def on_chunk(self, content: dict[str, Any], buffers: list[Any]) -> None:
        self.snapshots.on_chunk(content, buffers)

    # ---- displayed ----------------------------------------------------------------------------

    def shown(self) -> None:
        """The widget (or a layout holding it) is being displayed."""
        self.shown_at = time.monotonic()

    def just_shown(self) -> bool:
        """Displayed in the last minute (on its own or in a layout): a view may be on its way."""
        return self.shown_at is not None and time.monotonic() - self.shown_at <= JUST_SHOWN_SECONDS

    @property
    def live(self) -> bool:
        return bool(self.snapshots.live)

    # ---- pictures ------------------------------------------------------------------------------

    def request(self, path: str | Path | None, timeout: float | None) -> _snapshot.SnapshotFuture:
        return self.snapshots.request(path, timeout)

    async def request_async(self, timeout: float) -> _snapshot.SnapshotFuture:
        """A snapshot awaited on the running event loop (the answer is read once the cell
        yields to it: top-level await), for ``timeout`` wall-clock seconds at most; the done
        Future, for its ``info``. ``TimeoutError`` when no view answered (they are forgotten)."""
        future = self.snapshots.request(None, timeout)
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)
        except asyncio.TimeoutError:
            exc = self.snapshots.abandon(future, "of waiting (awaited)")
            if exc is not None:
                raise exc from None
        return future

    def in_cell(self, required: bool, timeout: float) -> tuple[_snapshot.PNG | None, str | None]:
        """(the live view's picture, waited for here, or None; why not, when there is a view
        but the Python rendering must stand in: a warning has said so)."""
        # Pyodide has one thread: nothing could read the view's answer while this waits.
        if not required and sys.platform == "emscripten":
            return None, None
        route = self.route
        if not self.live and not self.just_shown():
            return self.no_view(required)
        with route.reading() as pump:  # ipykernel 6: this code reads the views' messages
            if not self.live:
                self._await_new_view(pump)
            if not self.live:
                return self.no_view(required)
            why = route.cannot_wait()
            if why is None:
                try:
                    future = self.snapshots.wait(timeout, route.awaiting, pump)
                except (TimeoutError, RuntimeError, ValueError) as exc:
                    # no answer in time; or the view could not compose one (a hidden map)
                    if required:
                        raise
                    why = str(exc)
                else:
                    return _snapshot.PNG(future.result(), future.info), None
        if required:
            raise RuntimeError(f"to_png(view=True) cannot wait for the displayed map: {why}.")
        warnings.warn(
            f"to_png(): the displayed map's picture is not available here ({why}); "
            "this is the Python rendering (outlines, heat and legend; no basemap tiles). "
            "m.snapshot(path) returns a Future that gets the map's picture after this cell.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None, why

    @staticmethod
    def no_view(required: bool) -> tuple[None, None]:
        if required:
            raise RuntimeError(
                "to_png(view=True): no view of this map is displayed. Display it "
                "(put `m` last in a cell), or call to_png() for the Python rendering."
            )
        return None, None

    def _await_new_view(self, pump: _cell_wait.Pump | None) -> None:
        """A map displayed a moment ago (the caller checked) from JupyterLab or Notebook 7
        ("Run all": the map's cell, then this one) has no view yet: the browser is making the
        model, then the view, which says hello when it exists. Waits for both, a few seconds
        at most."""
        route = self.route
        if not route.hears_while_waiting():
            return
        if not (route.await_front_end(0) or _cell_wait.run_from_a_browser()):
            return
        # no ping: there is no view to answer one yet
        if not route.await_front_end(VIEW_GRACE_SECONDS, pump) or route.cannot_wait(ping=False):
            return
        self.snapshots.await_view(VIEW_GRACE_SECONDS, pump)

    def close(self) -> None:
        self.snapshots.close()

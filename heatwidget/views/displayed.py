"""Noticing that a map was displayed inside a layout (``VBox([controls, m])``).

A map displayed on its own is formatted through its own ``_repr_mimebundle_``, which notes the
time. A map inside a layout is not: only the outermost box is formatted. ``to_png()`` in the
next cell of "Run all" needs to know the map was just displayed (its view is on its way), so
the boxes that IPython displays are watched here: once per IPython session, a mimebundle
printer for ``ipywidgets.Box`` (VBox, HBox, GridBox, Tab, Accordion, AppLayout ...) tells
every widget inside the box, then formats the box as before (through a printer registered
earlier for boxes, if any, else the box's own ``_repr_mimebundle_``). The box's display also
carries the first map's static picture (``image/png``), as a map displayed on its own does.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from typing import Any

#: Formatters already watched (one per IPython shell) → our printer and the one it chains to.
_WATCHED: weakref.WeakKeyDictionary[Any, tuple[Callable[[Any], Any], Any]] = (
    weakref.WeakKeyDictionary()
)

#: The method a widget defines to be told that a box holding it is being displayed.
NOTE = "_displayed_in_a_box"
#: The method a widget defines to give the box its static picture (``image/png`` base64, or
#: None): what renderers without widgets (GitHub, nbviewer, nbconvert) show for the box.
PICTURE = "_static_picture_png"


def inside(box: Any) -> Iterator[Any]:
    """Every widget inside ``box``, at any depth (each once, whatever the nesting)."""
    seen = {id(box)}
    todo = list(getattr(box, "children", ()) or ())
    while todo:
        widget = todo.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        yield widget
        todo.extend(getattr(widget, "children", ()) or ())


def _tell(box: Any) -> None:
    for widget in inside(box):
        note: Callable[[], None] | None = getattr(widget, NOTE, None)
        if callable(note):
            note()


def _picture(box: Any) -> str | None:
    """The static picture of the first widget in ``box`` (in display order) that has one."""
    todo = list(getattr(box, "children", ()) or ())
    seen = {id(box)}
    while todo:  # breadth first, in the order the children are laid out
        widget = todo.pop(0)
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        make: Callable[[], str | None] | None = getattr(widget, PICTURE, None)
        if callable(make):
            picture = make()
            if picture is not None:
                return picture
        todo.extend(getattr(widget, "children", ()) or ())
    return None


def _with_picture(bundle: Any, box: Any) -> Any:
    """The box's bundle with the first map's picture as its ``image/png`` (a layout of
    controls and a map reads, where no widget runs, as the map)."""
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    if isinstance(data, dict) and "image/png" not in data:
        picture = _picture(box)
        if picture is not None:
            data["image/png"] = picture
    return bundle


def watch_boxes() -> bool:
    """Watches the boxes the running IPython shell displays (once); whether they are watched
    (not outside IPython)."""
    try:
        from IPython import get_ipython
        from ipywidgets import Box
    except ImportError:
        return False
    shell = get_ipython()
    formatter = getattr(getattr(shell, "display_formatter", None), "mimebundle_formatter", None)
    if formatter is None:
        return False
    if formatter in _WATCHED:
        return True
    try:
        earlier = formatter.lookup_by_type(Box)
    except KeyError:
        earlier = None

    def bundle(box: Any) -> Any:
        with contextlib.suppress(Exception):  # noticing must never stop the box from showing
            _tell(box)
        shown = earlier(box) if earlier is not None else box._repr_mimebundle_()
        with contextlib.suppress(Exception):  # nor must its picture
            shown = _with_picture(shown, box)
        return shown

    formatter.for_type(Box, bundle)
    _WATCHED[formatter] = (bundle, earlier)
    return True


def unwatch_boxes() -> bool:
    """Removes the printer :func:`watch_boxes` registered in the running IPython shell, giving
    the boxes back to the printer that was there before (if any); whether one was removed.
    A printer registered after ours is left alone (ours then stays, chained by it)."""
    try:
        from IPython import get_ipython
        from ipywidgets import Box
    except ImportError:
        return False
    shell = get_ipython()
    formatter = getattr(getattr(shell, "display_formatter", None), "mimebundle_formatter", None)
    if formatter is None or formatter not in _WATCHED:
        return False
    ours, earlier = _WATCHED[formatter]
    try:
        current = formatter.lookup_by_type(Box)
    except KeyError:
        current = None
    if current is not ours:
        return False
    if earlier is None:
        formatter.pop(Box)
    else:
        formatter.for_type(Box, earlier)
    del _WATCHED[formatter]
    return True

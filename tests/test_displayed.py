"""A map displayed inside a layout is noted as displayed, as one displayed on its own is (what
lets to_png() in the next cell of "Run all" wait for its view), through IPython's own
formatter, and the layout still shows as before."""

from __future__ import annotations

from typing import Any

import ipywidgets
import pytest
from IPython.core.formatters import DisplayFormatter

import heatwidget
from heatwidget.views import displayed as _displayed

VIEW_MIME = "application/vnd.jupyter.widget-view+json"


class Shell:
    def __init__(self) -> None:
        self.display_formatter = DisplayFormatter()


@pytest.fixture
def shell(monkeypatch: pytest.MonkeyPatch) -> Shell:
    import IPython

    fake = Shell()
    monkeypatch.setattr(IPython, "get_ipython", lambda: fake)
    return fake


def heatmap() -> heatwidget.Heatmap:
    return heatwidget.Heatmap(lat=[48.85, 48.86], lon=[2.35, 2.36], basemap=None)


def test_a_map_inside_nested_layouts_is_noted_when_the_layout_is_displayed(shell: Shell) -> None:
    m, other = heatmap(), heatmap()
    slider = ipywidgets.IntSlider()
    tabs = ipywidgets.Tab(children=[ipywidgets.HBox([slider, m])])
    box = ipywidgets.VBox([ipywidgets.Label("controls"), tabs])
    assert m._shown_at is None
    data, _ = shell.display_formatter.format(box)
    assert data[VIEW_MIME]["model_id"] == box.model_id  # the layout shows as before
    assert m._shown_at is not None  # two boxes deep
    assert other._shown_at is None  # not in the layout: not displayed


def test_the_watch_is_set_once_and_keeps_an_earlier_printer_for_boxes(shell: Shell) -> None:
    formatter = shell.display_formatter.mimebundle_formatter
    seen: list[Any] = []

    def earlier(box: Any) -> Any:
        seen.append(box)
        return {"text/plain": "an earlier printer's box"}

    formatter.for_type(ipywidgets.Box, earlier)
    m = heatmap()
    printer = formatter.lookup_by_type(ipywidgets.Box)
    assert printer is not earlier  # ours, in front of the earlier one
    heatmap()  # a second map watches nothing twice
    assert _displayed.watch_boxes() is True
    assert formatter.lookup_by_type(ipywidgets.Box) is printer
    box = ipywidgets.VBox([m])
    data, _ = shell.display_formatter.format(box)
    assert data["text/plain"] == "an earlier printer's box" and seen == [box]
    assert data["image/png"] == m._static_picture_png()  # and the map's picture beside it
    assert m._shown_at is not None


def test_the_watch_is_removable_and_gives_boxes_back_to_the_earlier_printer(
    shell: Shell,
) -> None:
    formatter = shell.display_formatter.mimebundle_formatter

    def earlier(_box: Any) -> Any:
        return {"text/plain": "earlier"}

    formatter.for_type(ipywidgets.Box, earlier)
    m = heatmap()
    assert formatter.lookup_by_type(ipywidgets.Box) is not earlier
    assert _displayed.unwatch_boxes() is True
    assert formatter.lookup_by_type(ipywidgets.Box) is earlier
    assert _displayed.unwatch_boxes() is False  # nothing of ours left
    shell.display_formatter.format(ipywidgets.VBox([m]))
    assert m._shown_at is None  # no longer noticed
    formatter.pop(ipywidgets.Box)
    heatmap()  # watched again, with no earlier printer: removing it leaves none
    assert _displayed.unwatch_boxes() is True
    with pytest.raises(KeyError):
        formatter.lookup_by_type(ipywidgets.Box)


def test_a_failure_to_notice_never_stops_the_layout_from_showing(shell: Shell) -> None:
    class Odd(ipywidgets.Label):
        def _displayed_in_a_box(self) -> None:
            raise RuntimeError("boom")

    heatmap()
    box = ipywidgets.HBox([Odd("x")])
    data, _ = shell.display_formatter.format(box)
    assert data[VIEW_MIME]["model_id"] == box.model_id


def test_outside_ipython_nothing_is_watched(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert _displayed.watch_boxes() is False
    assert heatmap()._shown_at is None


def test_inside_visits_each_widget_once_whatever_the_nesting() -> None:
    a = ipywidgets.Label("a")
    inner = ipywidgets.HBox([a, a])
    outer = ipywidgets.VBox([inner, a, inner])
    assert sorted(id(w) for w in _displayed.inside(outer)) == sorted([id(inner), id(a)])


def test_a_layout_carries_its_first_maps_picture_for_renderers_without_widgets(
    shell: Shell,
) -> None:
    import base64
    import io

    from PIL import Image

    first, second = heatmap(), heatmap()
    first.layout.width = "640px"  # the picture is as wide as the map is laid out
    box = ipywidgets.VBox([ipywidgets.Label("controls"), ipywidgets.HBox([first, second])])
    data, _ = shell.display_formatter.format(box)
    assert data[VIEW_MIME]["model_id"] == box.model_id
    image = Image.open(io.BytesIO(base64.b64decode(data["image/png"])))
    assert image.size == (640, int(first.height))
    assert data["image/png"] == first._static_picture_png()
    first.static_picture = False  # the next map's picture, then none
    data, _ = shell.display_formatter.format(box)
    assert data["image/png"] == second._static_picture_png()
    second.static_picture = False
    data, _ = shell.display_formatter.format(box)
    assert "image/png" not in data
    data, _ = shell.display_formatter.format(ipywidgets.VBox([ipywidgets.Label("no map")]))
    assert "image/png" not in data

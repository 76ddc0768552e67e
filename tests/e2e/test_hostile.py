"""Hostile strings in real JupyterLab + Chromium: every string that reaches the page (legend
title, basemap url and attribution, colormap names, custom messages) is set to HTML/JS payloads
from the kernel, and nothing runs: window.__pwned stays undefined and no element the payloads
make exists. The legend of a very long title stays small (wrapped and clipped).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from harness import KernelClient, LabServer, LabUI, Web

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

NOTEBOOK = "hostile_e2e.ipynb"

# Each would set window.__pwned if it ran; `x` is a relative URL that 404s (so onerror fires).
PAYLOADS = [
    "<img src=x onerror=window.__pwned='img'>",
    "<script>window.__pwned='script'</script>",
    "\"><svg onload=window.__pwned='svg'>",
    "'><img src=x onerror=window.__pwned='quote'>",
    "<a href=\"javascript:window.__pwned='link'\" id=hw-js-link>js link</a>",
    "<a href=\"jav&#x61;script:window.__pwned='entity'\" id=hw-entity-link>entity</a>",
    "<iframe srcdoc=\"<script>parent.__pwned='iframe'</script>\"></iframe>",
    "<details open ontoggle=window.__pwned='details'>",
    "<style>@import 'javascript:x'</style><b onmouseover=window.__pwned='b'>b</b>",
]
ALL = " ".join(PAYLOADS)
CREDIT = '<a href="https://example.org/credit">Example credit</a> &copy; <b>bold</b>'

# Elements or attributes the payloads would make, anywhere in the page's maps.
_INJECTED_JS = """
() => {
  const roots = [...document.querySelectorAll('div.heatwidget')];
  const found = [];
  for (const root of roots) {
    for (const el of root.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      if (['script', 'iframe', 'img', 'details', 'style', 'object', 'embed'].includes(tag)
          && !el.closest('.leaflet-tile-pane')) found.push(tag);
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) found.push(`${tag}[${a.name}]`);
        if (/^(href|src|xlink:href)$/i.test(a.name) && /^\\s*(javascript|data:text)/i.test(a.value))
          found.push(`${tag}[${a.name}=${a.value}]`);
      }
    }
  }
  return {pwned: window.__pwned ?? null, found,
          ids: ['hw-js-link', 'hw-entity-link'].filter((id) => document.getElementById(id))};
}
"""

_LEGEND_BOX_JS = """
(root) => {
  const legend = root.querySelector('.heatwidget-legend');
  const title = root.querySelector('.heatwidget-legend-title');
  const b = legend.getBoundingClientRect(), t = title.getBoundingClientRect();
  const map = root.getBoundingClientRect();
  return {legend: [b.width, b.height], title: [t.width, t.height], map: [map.width, map.height],
          clipped: title.scrollHeight > title.clientHeight + 1, tip: title.title.length};
}
"""


def check_clean(web: Web, what: str) -> None:
    state = web.page.evaluate(_INJECTED_JS)
    assert state == {"pwned": None, "found": [], "ids": []}, f"{what}: {state}"


def test_hostile_strings_do_not_run(
    web: Web, lab_ui: LabUI, jupyter_lab: LabServer, kernel_client: Any, artifacts_dir: Path
) -> None:
    from harness.hostile import map_notebook

    # tooltip before display: ipywidgets' own views read a truthy `tooltip` as their title and
    # failed to render the map ("Could not create a view"); heatwidget syncs it as `_tooltip`
    map_notebook(jupyter_lab.root_dir, NOTEBOOK, extra="m.tooltip = True")
    nb = lab_ui.open_notebook(NOTEBOOK)
    hv = nb.widget()
    k: KernelClient = kernel_client(NOTEBOOK)
    assert nb.errors() == [], nb.errors()
    assert k.eval("m.tooltip") is True
    k.execute(f"PAYLOADS = {PAYLOADS!r}\nALL = {ALL!r}\nCREDIT = {CREDIT!r}")
    figures: dict[str, Any] = {}

    # -- strings the page shows: legend title, attribution (HTML, allow-listed) ----------------
    k.execute(
        "m.legend_title = ALL\n"
        "m.basemap = {'url': 'https://tile.example.org/{z}/{x}/{y}.png',\n"
        "             'attribution': ALL + ' ' + CREDIT, 'max_zoom': 5}\n"
    )
    from harness import wait_until

    title = web.page.locator(".heatwidget-legend-title").nth(0)
    wait_until(lambda: ALL in (title.text_content() or "") or None, 20, "the title as text")
    credit = web.page.locator(".leaflet-control-attribution").nth(0)
    wait_until(lambda: "Example credit" in (credit.text_content() or "") or None, 20, "the credit")
    web.page.wait_for_timeout(1500)  # an img's onerror needs its 404 first
    check_clean(web, "after the legend title and attribution")
    # The allow-list keeps the provider's link (http(s)), bold, and the entity; drops the rest.
    link = credit.locator('a[href="https://example.org/credit"]')
    assert link.count() == 1 and link.get_attribute("rel") == "noopener noreferrer"
    assert credit.locator("b").count() >= 1 and "\u00a9" in (credit.text_content() or "")
    figures["attribution_html"] = credit.inner_html()

    # -- every payload one by one, and each dict field of the basemap -------------------------
    for i, payload in enumerate(PAYLOADS):
        k.execute(
            f"m.legend_title = PAYLOADS[{i}]\n"
            f"m.basemap = {{'url': 'https://tile.example.org/{{z}}/{{x}}/{{y}}.png',"
            f" 'attribution': PAYLOADS[{i}]}}\n"
        )
        wait_until(
            lambda p=payload: (title.text_content() or "") == p or None, 20, "the next title"
        )
    # The url: Python refuses non-http(s) ones; set _tiles directly to reach the page anyway.
    refused = k.execute(
        "for u in ['javascript:window.__pwned=1//{z}/{x}/{y}', 'data:text/html,{z}{x}{y}']:\n"
        "    try:\n"
        "        m.basemap = u\n"
        "        print('accepted', u)\n"
        "    except Exception as e:\n"
        "        print(type(e).__name__)\n"
    )
    assert refused.split() == ["TraitError", "TraitError"], refused
    k.execute(
        "m.set_trait('_tiles', {'url': \"javascript:window.__pwned='url'//{z}/{x}/{y}\",\n"
        "                       'attribution': ALL, 'max_zoom': PAYLOADS[0]})\n"
    )
    # Colormap names and colours are refused by Python (they never reach the page as markup).
    cmaps = k.execute(
        "for c in [PAYLOADS[0], [PAYLOADS[1], 'red'], {'a': PAYLOADS[2]}]:\n"
        "    try:\n"
        "        m.colormap = c\n"
        "        print('accepted')\n"
        "    except Exception as e:\n"
        "        print(type(e).__name__)\n"
    )
    assert "accepted" not in cmaps, cmaps
    # Custom messages carrying payloads: unknown types and ids are ignored or echoed as data.
    k.execute(
        "m.send({'type': PAYLOADS[0]})\n"
        "m.send({'type': 'snapshot', 'id': ALL})\n"
        "m.send({'type': 'ping', 'id': PAYLOADS[2]})\n"
        "m.send({'type': 'fly_to', 'center': [PAYLOADS[0], 1], 'zoom': None})\n"
    )
    # The tooltip over the heat (text only): move the mouse over the map.
    box = web.page.locator("div.heatwidget-map").nth(0).bounding_box()
    assert box
    for dx in range(0, 60, 6):
        web.page.mouse.move(box["x"] + box["width"] / 2 + dx, box["y"] + box["height"] / 2)
    web.page.wait_for_timeout(1500)  # an img's onerror needs its 404 first
    check_clean(web, "after every payload")

    # -- a very long legend title stays within the legend's box --------------------------------
    sizes = {}
    text_of = {
        "words": "A very long legend title " * 200,
        "one_word": "x" * 5000,
        "lines": "line\n" * 300,
    }
    for label, text in text_of.items():
        k.execute(f"m.legend_title = {text!r}")
        wait_until(lambda t=text: (title.text_content() or "") == t or None, 20, "the long title")
        web.page.wait_for_timeout(100)
        sizes[label] = hv.root.evaluate(_LEGEND_BOX_JS)
    figures["legend"] = sizes
    for label, s in sizes.items():
        w, h = s["legend"]
        assert w <= 200 and h <= 120, f"{label}: the legend is {w} x {h} px"
        assert s["clipped"], f"{label}: the long title is not clipped"
        assert s["tip"] == len(text_of[label]), f"{label}: the whole title is not on hover"
        assert h < s["map"][1] / 2
    web.screenshot("long-title")
    check_clean(web, "at the end")
    assert not web.page_errors, web.page_errors
    (artifacts_dir / "test_hostile-figures.json").write_text(json.dumps(figures, indent=1))

"""Asking the map: a drawn shape (``Heatmap.selection``), which rows it holds and their totals.

Imports only :mod:`heatwidget.points` and :mod:`heatwidget.constants` (lint-imports checks it):

* ``shape.py``     ``Shape``: a GeoJSON Polygon/MultiPolygon in lon/lat, checked (closed rings,
                   3 distinct vertices, finite numbers, no crossing edges) and unwrapped across
                   the antimeridian; ``Shape.contains(lon, lat)`` is the exact inside test.
* ``crossings.py`` ``Crossings``: the check that a ring's edges do not cross (no shapely needed).
* ``inside.py``    ``EvenOdd``: the vectorised even-odd test with the boundary rule.
* ``origins.py``   ``RowOrigins``: which row of which user table each row held came from, so
                   ``Heatmap.selected()`` gives back the user's own rows.
* ``totals.py``    ``SelectionTotals``: count and sum of the rows held inside a shape.

* ``errors.py``    ``SelectionError`` and the hint for a Python without numpy.

The tests need numpy; importing ``errors`` and ``origins`` does not (the widget is made in
Pyodide without numpy), so nothing is imported here: import from the modules.
"""

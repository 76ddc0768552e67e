"""Constants the package shares, each defined once."""

from __future__ import annotations

import datetime as _dt
import re

__all__ = ["EPOCH", "MAX_LATITUDE", "PERCENTILE", "Bounds"]

#: ``(south, west, north, east)`` in degrees.
Bounds = tuple[float, float, float, float]

#: Leaflet's ``L.Projection.SphericalMercator.MAX_LATITUDE`` (heat.h clamps to the same value).
MAX_LATITUDE = 85.0511287798

#: The Unix epoch, UTC: ``time`` columns are milliseconds since it.
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

#: ``vmax="p<q>"``, the q-th percentile (group 1 is q; callers check 0 < q <= 100). Use
#: ``fullmatch``.
PERCENTILE = re.compile(r"p(\d+(?:\.\d*)?|\.\d+)")

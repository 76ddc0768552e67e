"""The numbers of heat.h's "Coordinates": fixed-point Web Mercator, as the kernel computes it.

x = floor(nx * 2^32) mod 2^32 and y = clamp(floor(ny * 2^32), 0, 2^32 - 2), where
nx = lon / 360 + 0.5 and ny = 0.5 - atanh(sin(lat')) / (2 pi), lat' clamped to ±MAX_LATITUDE;
y = 2^32 - 1 (:data:`NO_POSITION`) marks a row without a position. One unit is 1/64 px at
zoom 18. The column backends (columns/numpy_ops.py, columns/pure_ops.py) compute it with the
kernel's own series (js/kernel/maths.h: sin to x^23, log by atanh to u^25), step for step, so
Python's x/y are the kernel's bit for bit (tests/test_wire.py checks it against the kernel).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

__all__ = [
    "FIXED_ONE",
    "LN2",
    "LOG_TERMS",
    "MAX_FIXED_Y",
    "NO_POSITION",
    "RAD_PER_DEG",
    "SIN_DIVISORS",
    "SQRT2",
    "Projector",
]

#: 2^32: the fixed-point scale of the whole world (nx, ny in [0, 1)).
FIXED_ONE = 4294967296.0
#: y of a row without a position (a NaN or infinite coordinate): never drawn.
NO_POSITION = 0xFFFFFFFF
#: The largest y of a row with a position.
MAX_FIXED_Y = 4294967294.0
#: maths.h's PI / 180 (PI is the double nearest pi, as math.pi).
RAD_PER_DEG = math.pi / 180.0
#: sin_small's divisors (2k)(2k + 1), k = 1..11.
SIN_DIVISORS = tuple(float((2 * k) * (2 * k + 1)) for k in range(1, 12))
#: log_pos's odd powers 3, 5, ... 25.
LOG_TERMS = tuple(float(k) for k in range(3, 26, 2))
#: log_pos's mantissa split and ln 2, as maths.h spells them.
SQRT2 = 1.4142135623730951
LN2 = 0.69314718055994530942

#: A faster way to the same x, y for numpy columns: ``project(lon, lat)`` returns the uint32
#: ``(x, y)`` bit for bit as the twins here would, or None to decline (the caller's column
#: backend projects instead). heatwidget.host.projection gives the kernel's own, on threads.
Projector = Callable[[Any, Any], "tuple[Any, Any] | None"]

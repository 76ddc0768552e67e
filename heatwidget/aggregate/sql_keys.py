"""The kernel's projection and pixel keys as SQL, so DuckDB keys and groups rows itself.

``fixed_point_sql`` repeats mercator.h's ``mercator_fixed`` (with maths.h's ``sin_small``
and ``log_pos``) operation for operation in SQL doubles: IEEE-754 operations in the same
order give the same bits in DuckDB as in wasm (neither fuses multiply-adds), so the fixed-
point ``x``, ``y`` are the kernel's (tests/test_aggregate_duckdb.py checks them bit for bit
against ``Kernel.project`` on random and edge coordinates). Why repeat it: the pyramid's
pass over 100M Parquet rows spends most of its time keying and grouping; done in SQL they run
on DuckDB's threads, vectorised, next to the Parquet reader, and only the grouped pixels
reach Python (tests/test_aggregate.py: the pyramid equals the one from ``Kernel.project``).

The columns come out of a chain of sub-selects (one per series term), so no term is written
twice and DuckDB evaluates each once per row.
"""

from __future__ import annotations

import math

__all__ = ["coarser_sql", "fixed_point_sql", "morton_sql", "pixels_sql"]

_MAX_LAT = 85.0511287798
_FIX = 4294967296.0
_LN2 = 0.69314718055994530942
_SQRT2 = 1.4142135623730951


def _d(v: float) -> str:
    """A double literal (repr round-trips exactly; DuckDB reads digits as DECIMAL otherwise)."""
    return f"CAST({float(v)!r} AS DOUBLE)"


def fixed_point_sql(inner: str, lon: str, lat: str, extra: str = "") -> str:
    """A query over ``inner`` (a FROM clause: a table, a sub-select) with columns ``x``, ``y``
    (UBIGINT, the kernel's fixed point) plus ``extra`` (a select list, may be empty) for the
    rows with a finite position."""
    keep = f", {extra}" if extra else ""
    # mercator_fixed: NaN / infinite coordinates have no position (never drawn): left out
    q = (
        f"SELECT CAST({lon} AS DOUBLE) AS lon_, CAST({lat} AS DOUBLE) AS lat_{keep} "
        f"FROM {inner} WHERE isfinite({lon}) AND isfinite({lat})"
    )
    # nx -= floor(nx); x = (uint32)(uint64)(nx * 2^32): the wrap of 2^32 to 0 is the % below
    q = (
        f"SELECT *, lon_ / {_d(360.0)} + {_d(0.5)} AS nx0, "
        f"greatest(least(lat_, {_d(_MAX_LAT)}), {_d(-_MAX_LAT)}) * {_d(math.pi / 180.0)} AS r "
        f"FROM ({q})"
    )
    q = f"SELECT *, nx0 - floor(nx0) AS nx, r * r AS x2, r AS term0, r AS sum0 FROM ({q})"
    for k in range(1, 12):  # sin_small: term *= -x2 / ((2k)(2k+1)); sum += term
        c = _d(float((2 * k) * (2 * k + 1)))
        q = (
            f"SELECT *, term{k - 1} * ((-x2) / {c}) AS term{k} FROM ({q})"
        )  # fmt: skip
        q = f"SELECT *, sum{k - 1} + term{k} AS sum{k} FROM ({q})"
    # log_pos(q): q = m 2^e with m in [1, 2) (exact: scaling by a power of two), then
    # m in [sqrt(1/2), sqrt(2))
    q = f"SELECT *, ({_d(1.0)} + sum11) / ({_d(1.0)} - sum11) AS q FROM ({q})"
    q = f"SELECT *, CAST(floor(log2(q)) AS INTEGER) AS e0 FROM ({q})"
    q = f"SELECT *, q / pow({_d(2.0)}, e0) AS m0 FROM ({q})"
    q = (
        f"SELECT *, CASE WHEN m0 >= {_d(2.0)} THEN e0 + 1 WHEN m0 < {_d(1.0)} THEN e0 - 1 "
        f"ELSE e0 END AS e1, CASE WHEN m0 >= {_d(2.0)} THEN m0 * {_d(0.5)} "
        f"WHEN m0 < {_d(1.0)} THEN m0 * {_d(2.0)} ELSE m0 END AS m1 FROM ({q})"
    )
    q = (
        f"SELECT *, CASE WHEN m1 > {_d(_SQRT2)} THEN m1 * {_d(0.5)} ELSE m1 END AS m, "
        f"CASE WHEN m1 > {_d(_SQRT2)} THEN e1 + 1 ELSE e1 END AS e FROM ({q})"
    )
    q = (
        f"SELECT *, (m - {_d(1.0)}) / (m + {_d(1.0)}) AS u FROM ({q})"
    )  # fmt: skip
    q = f"SELECT *, u * u AS u2, u AS t1, u AS s1 FROM ({q})"
    prev = 1
    for k in range(3, 26, 2):  # term *= u2; sum += term / k
        q = f"SELECT *, t{prev} * u2 AS t{k} FROM ({q})"
        q = f"SELECT *, s{prev} + t{k} / {_d(float(k))} AS s{k} FROM ({q})"
        prev = k
    q = (
        f"SELECT *, {_d(2.0)} * s25 + CAST(e AS DOUBLE) * {_d(_LN2)} AS ln FROM ({q})"
    )  # fmt: skip
    q = f"SELECT *, ({_d(0.5)} - ln / {_d(4.0 * math.pi)}) * {_d(_FIX)} AS fy0 FROM ({q})"
    extra_cols = f", {', '.join(_names(extra))}" if extra else ""
    return (
        f"SELECT CAST(floor(nx * {_d(_FIX)}) AS UBIGINT) % 4294967296 AS x, "
        f"CAST(floor(greatest(least(fy0, {_d(4294967294.0)}), {_d(0.0)})) AS UBIGINT) AS y"
        f"{extra_cols} FROM ({q})"
    )


def _names(select_list: str) -> list[str]:
    """The output names of a simple select list (``a AS b`` -> b, ``"c"`` -> "c")."""
    out = []
    for item in select_list.split(","):
        parts = item.strip().split()
        out.append(parts[-1])
    return out


def pixels_sql(fixed: str, level: int, weighted: bool) -> str:
    """Per-pixel sum, count and largest weight at zoom ``level`` of a ``fixed_point_sql``
    query (its extra column ``w`` when ``weighted``): columns ``key`` (UBIGINT, the pixel's
    x in the high 32 bits, y in the low: one column hashes about twice as fast as two),
    ``total`` (DOUBLE), ``count`` (BIGINT), ``largest`` (FLOAT)."""
    shift = 24 - level
    w = "w" if weighted else "CAST(1.0 AS FLOAT)"
    return (
        f"SELECT ((x >> {shift}) << 32) | (y >> {shift}) AS key, "
        f"sum(CAST({w} AS DOUBLE)) AS total, count(*) AS count, max({w}) AS largest "
        f"FROM ({fixed}) GROUP BY ALL"
    )


def coarser_sql(key: str, k: int) -> str:
    """A ``pixels_sql`` key ``k`` zooms coarser (each half of the key shifted by ``k``)."""
    return f"((({key}) >> {32 + k}) << 32) | ((({key}) & 4294967295) >> {k})"


_SPREAD = ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF), (4, 0x0F0F0F0F0F0F0F0F),
           (2, 0x3333333333333333), (1, 0x5555555555555555))  # fmt: skip


def morton_sql(fixed: str, level: int, extra: str) -> str:
    """``fixed`` (a ``fixed_point_sql`` query) with its ``extra`` columns (a select list of
    names) and ``code``: the rows' Morton codes at zoom ``level`` (as morton.pixels)."""
    shift = 24 - level
    q = f"SELECT {extra}, x >> {shift} AS sx0, y >> {shift} AS sy0 FROM ({fixed})"
    for i, (step, mask) in enumerate(_SPREAD):
        q = (
            f"SELECT *, (sx{i} | (sx{i} << {step})) & {mask} AS sx{i + 1}, "
            f"(sy{i} | (sy{i} << {step})) & {mask} AS sy{i + 1} FROM ({q})"
        )
    n = len(_SPREAD)
    return f"SELECT {extra}, sx{n} | (sy{n} << 1) AS code FROM ({q})"

"""Server-side aggregation (issue 11) against datashader, on the same Parquet and views.

    python bench/scale.py                      # 10M points (< 3 min on 2 cores)
    python bench/scale.py --points 100M --engine dask
    python bench/scale.py --points 100M --pass-only --batch-pass   # the pass, before and after
    python bench/scale.py --engine duckdb-sorted   # views from the spatially sorted copy

Data: ``heatwidget.datasets.cities(N)`` (weights ``mag``) written once to
``bench/.cache/cities-N.parquet`` (row groups of 1M). Ours: one pass builds the pyramid
(``Aggregator.pyramid``), then each view's binned grid is computed in Python
(``Aggregator.grid``) and drawn by the kernel (``Kernel.density_grid``), both timed; and the
same view through the real protocol: a ``Heatmap(mode="server")``'s handler answers the view's
``grid`` message (views/protocol.py) with its float32 planes, which are decoded and drawn by the
kernel as the page does ("protocol", the answer's bytes beside it; the websocket and the
browser's kernel are not in it: tests/e2e/test_lab_server_mode.py counts the bytes a page gets).
Baseline:
datashader ``Canvas.points`` (sum of ``mag``) on a Dask DataFrame of the same Parquet,
projected to Web Mercator pixels with ``map_partitions``, per view, in the same run. Views:
a scripted tour of 24 views (world, region, city, street), 1024 x 768 px.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
W, H = 1024, 768
PLACES = [(48.8566, 2.3522), (35.6762, 139.6503), (40.7128, -74.0060), (-23.5505, -46.6333)]


def tour() -> list[tuple[str, tuple[float, float], float]]:
    views: list[tuple[str, tuple[float, float], float]] = [
        ("world", (20.0, 0.0), 2.0),
        ("world", (0.0, 150.0), 3.0),  # across the antimeridian
        ("world", (30.0, 60.0), 2.5),
    ]
    for lat, lon in PLACES:
        views += [
            ("region", (lat, lon), 6.0),
            ("region", (lat + 0.5, lon + 0.7), 7.5),
            ("city", (lat, lon), 10.0),
            ("city", (lat + 0.02, lon - 0.03), 12.0),
            ("street", (lat + 0.001, lon + 0.002), 16.0),
        ]
    views.append(("street", (PLACES[0][0], PLACES[0][1]), 18.0))
    return views


def parse_n(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KMB")) * mult)


def write_parquet(n: int) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from heatwidget.datasets import cities

    path = ROOT / ".cache" / f"cities-{n}.parquet"
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with pq.ParquetWriter(
        tmp, pa.schema([("lon", pa.float64()), ("lat", pa.float64()), ("weight", pa.float32())])
    ) as w:
        step = 5_000_000
        for i, a in enumerate(range(0, n, step)):
            df = cities(min(step, n - a), seed=i)
            w.write_table(
                pa.table(
                    {
                        "lon": df["lon"].to_numpy(),
                        "lat": df["lat"].to_numpy(),
                        "weight": df["mag"].to_numpy(np.float32),
                    }
                ),
                row_group_size=1_000_000,
            )
    tmp.replace(path)
    return path


def source(engine: str, path: Path):
    from heatwidget.aggregate import ArraySource, DaskSource, DuckDBSource

    if engine == "duckdb-sorted":  # the spatially sorted copy, written once (timed here)
        t = time.perf_counter()
        copy = path.with_name(path.stem + ".sorted.parquet")
        fresh = not copy.is_file()
        src = DuckDBSource(str(path)).sorted_copy(copy)
        took = f"written in {time.perf_counter() - t:.1f} s" if fresh else "reused"
        print(
            f"sorted copy {copy.name}: {copy.stat().st_size / 1e6:.0f} MB, {took}; load {os.getloadavg()[0]:.2f}"
        )
        return src
    if engine == "duckdb":
        return DuckDBSource(str(path))
    if engine == "dask":
        return DaskSource.parquet(str(path), split_row_groups=True)
    import pyarrow.parquet as pq

    return ArraySource(pq.read_table(path))


def served_map(path: Path, engine: str):
    """A Heatmap in server mode over the Parquet (its pyramid's pass runs here)."""
    import warnings

    from heatwidget import Heatmap

    if engine == "duckdb":
        data = str(path)
    elif engine == "dask":
        import dask.dataframe as dd

        data = dd.read_parquet(str(path), split_row_groups=True)
    else:
        import pyarrow.parquet as pq

        data = pq.read_table(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Heatmap(data, lat="lat", lon="lon", weight="weight", mode="server", basemap=None)


def through_protocol(m, k, origin, zoom: float, radius: float) -> tuple[float, int]:
    """Seconds from the view's ``grid`` message to the frame drawn from the answer, and the
    answer's bytes."""
    from heatwidget.host.kernel import HW_AGG_SUM

    sent: list = []
    m.send = lambda content, buffers=None: sent.append((content, buffers))
    request = {"type": "grid", "id": 1, "x0": float(origin[0]), "y0": float(origin[1]),
               "zoom": zoom, "width": W, "height": H, "radius": radius, "aggregation": "sum"}  # fmt: skip
    t = time.perf_counter()
    m._handle_front_end(request, [])
    ((answer, buffers),) = sent
    gw, gh = answer["gw"], answer["gh"]
    planes = np.zeros((3, gh, gw), np.float32)
    for name, buf in zip(answer["planes"], buffers, strict=True):
        planes[{"sum": 0, "count": 1, "max": 2}[name]] = np.frombuffer(buf, np.float32).reshape(
            gh, gw
        )
    k.density_grid(planes, origin, zoom, W, H, radius, HW_AGG_SUM)
    return time.perf_counter() - t, sum(len(b) for b in buffers)


def ours(path: Path, engine: str, views, radius: float):
    from heatwidget.aggregate import GridFrame
    from heatwidget.host.kernel import HW_AGG_SUM, Kernel
    from heatwidget.host.viewport import Viewport

    k = Kernel()
    if engine == "duckdb-sorted":  # the copy first (its write timed apart), then served as Parquet
        path, engine = Path(source(engine, path).path), "duckdb"
    t = time.perf_counter()
    m = served_map(path, engine)
    agg = m._served.aggregator
    pyramid = agg.pyramid
    build = time.perf_counter() - t
    pass_report(agg.source, build)
    times = []
    for _, center, zoom in views:
        origin = Viewport(center, zoom, W, H).origin
        f, margin, gw, gh = k.grid_geometry(W, H, radius, HW_AGG_SUM)
        frame = GridFrame(*origin, zoom, W, H, f, margin, gw, gh)
        t = time.perf_counter()
        planes = agg.grid(frame)
        tg = time.perf_counter() - t
        t = time.perf_counter()
        k.density_grid(planes, origin, zoom, W, H, radius, HW_AGG_SUM)
        tk = time.perf_counter() - t
        tp, nbytes = through_protocol(m, k, origin, zoom, radius)
        times.append((tg, tk, float(planes[1].sum()), float(planes[0].sum()), tp, nbytes))
    return build, pyramid, times


def pass_report(src, build: float) -> None:
    """Where the pyramid's pass went (DuckDB's SQL pass: ``DuckDBSource.pass_times``) and the
    process's peak memory (Python and DuckDB share it)."""
    import resource

    stages = getattr(src, "pass_times", None)
    if stages:
        start, kept = src.pass_levels
        parts = ", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
        print(f"pass stages: {parts} (grouped at zoom {start}, kept {kept})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"pass {build:.1f} s; peak RSS {peak:.0f} MB; load {os.getloadavg()[0]:.2f}")


def batch_pass(path: Path) -> None:
    """The pass before the SQL one, for comparison in the same run: DuckDB streams Arrow
    batches, the kernel projects them (wasmtime), numpy keys, sorts and merges them
    (``PyramidBuilder``)."""
    from heatwidget.aggregate import DuckDBSource
    from heatwidget.aggregate.builder import PyramidBuilder
    from heatwidget.aggregate.pyramid import BYTES_PER_PIXEL, DEFAULT_BUDGET
    from heatwidget.aggregate.source import Filter
    from heatwidget.host.kernel import project_degrees

    t = time.perf_counter()
    builder = PyramidBuilder(project_degrees, DEFAULT_BUDGET // 2 // BYTES_PER_PIXEL)
    for rows in DuckDBSource(str(path)).batches(Filter()):
        builder.add(rows)
    cells, depth = builder.finish()
    print(
        f"batch pass (before): {time.perf_counter() - t:.1f} s to zoom {depth} "
        f"({cells.code.size:,} pixels); load {os.getloadavg()[0]:.2f}"
    )


def _project_partition(df):
    lon = df["lon"].to_numpy()
    lat = np.clip(df["lat"].to_numpy(), -85.0511287798, 85.0511287798)
    s = np.sin(np.radians(lat))
    out = df[["weight"]].copy()
    out["nx"] = lon / 360.0 + 0.5
    out["ny"] = 0.5 - np.log((1 + s) / (1 - s)) / (4 * math.pi)
    return out


def datashader_views(path: Path, views):
    import dask.dataframe as dd
    import datashader as ds

    from heatwidget.host.viewport import Viewport, scale

    ddf = dd.read_parquet(str(path), split_row_groups=True).map_partitions(_project_partition)
    # numba compiles datashader's kernels on first use: once, untimed, on a small canvas
    ds.Canvas(plot_width=8, plot_height=8).points(
        ddf.head(1000, npartitions=1), "nx", "ny", agg=ds.sum("weight")
    )
    times = []
    for _, center, zoom in views:
        x0, y0 = Viewport(center, zoom, W, H).origin
        world = scale(zoom)
        cvs = ds.Canvas(
            plot_width=W,
            plot_height=H,
            x_range=(x0 / world, (x0 + W) / world),
            y_range=(y0 / world, (y0 + H) / world),
        )
        t = time.perf_counter()
        img = cvs.points(ddf, "nx", "ny", agg=ds.sum("weight"))
        times.append((time.perf_counter() - t, float(np.nansum(img.values))))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", default="10M")
    ap.add_argument(
        "--engine", choices=["duckdb", "duckdb-sorted", "dask", "memory"], default="duckdb"
    )
    ap.add_argument("--radius", type=float, default=0.0)
    ap.add_argument("--no-datashader", action="store_true")
    ap.add_argument(
        "--batch-pass", action="store_true", help="also time the Python batch pass (before)"
    )
    ap.add_argument("--pass-only", action="store_true", help="the pyramid's pass, no views")
    args = ap.parse_args()
    n = parse_n(args.points)
    print(
        f"load {os.getloadavg()[0]:.2f}; {n:,} points; engine {args.engine}; {W}x{H}; radius {args.radius:g}"
    )
    t = time.perf_counter()
    path = write_parquet(n)
    print(
        f"parquet {path.name}: {path.stat().st_size / 1e6:.0f} MB ({time.perf_counter() - t:.1f} s)"
    )
    views = tour()
    if args.batch_pass:
        batch_pass(path)
    build, pyramid, mine = ours(path, args.engine, [] if args.pass_only else views, args.radius)
    mb = [b / 1e6 for b in pyramid.level_bytes]
    print(
        f"pyramid pass (Heatmap(mode='server')) {build:.1f} s: depth {pyramid.depth}, {sum(mb):.0f} MB "
        f"({', '.join(f'z{i} {v:.1f}' for i, v in enumerate(mb))} MB)"
    )
    if args.pass_only:
        return
    theirs = None if args.no_datashader else datashader_views(path, views)
    print()
    # the last column checks both drew the same frame: its total weight, datashader's / ours
    print(
        "| # | view | zoom | rows in view | grid (ms) | kernel (ms) | protocol (ms) | answer (KB) "
        "| datashader (ms) | ratio | Σw ds/ours |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for i, ((kind, _, zoom), (tg, tk, rows, wsum, tp, nb)) in enumerate(
        zip(views, mine, strict=True)
    ):
        ds_ms, ratio, same = "", "", ""
        if theirs is not None:
            ds_ms = f"{theirs[i][0] * 1e3:.0f}"
            ratio = f"{theirs[i][0] / (tg + tk):.0f}x"
            same = f"{theirs[i][1] / wsum:.4f}" if wsum else f"{theirs[i][1]:g}"
        print(
            f"| {i + 1} | {kind} | {zoom:g} | {rows:,.0f} | {tg * 1e3:.0f} | {tk * 1e3:.0f} "
            f"| {tp * 1e3:.0f} | {nb / 1e3:,.0f} | {ds_ms} | {ratio} | {same} |"
        )
    ours_total = sum(row[0] + row[1] for row in mine)
    proto = sorted(row[4] for row in mine)
    print(
        f"\nview change -> frame drawn through the protocol: median {proto[len(proto) // 2] * 1e3:.0f} ms"
        f" (max {proto[-1] * 1e3:.0f} ms); answer {mine[0][5] / 1e3:,.0f} KB a view whatever N"
    )
    print(
        f"\ntour: ours {ours_total:.2f} s ({ours_total / len(views) * 1e3:.0f} ms/view) after a "
        f"{build:.1f} s pass",
        end="",
    )
    if theirs is not None:
        ds_total = sum(t for t, _ in theirs)
        print(
            f"; datashader {ds_total:.2f} s ({ds_total / len(views) * 1e3:.0f} ms/view); "
            f"ratio {ds_total / ours_total:.0f}x (with the pass: {ds_total / (ours_total + build):.1f}x)"
        )
    else:
        print()
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

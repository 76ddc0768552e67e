"""The README's main command, for real: ``heatwidget demo`` serves a Voila dashboard.

The command runs as a user would run it (``heatwidget demo --no-browser --port P`` in a temp
working dir); Chromium opens the page; the canvas must show heat where the demo's data is dense
and none over open ocean; the ipywidgets controls are driven like a user (type in the radius
slider's readout, pick a colormap in the dropdown) and the pixels must change accordingly; no
request outside 127.0.0.1 may be needed; and SIGTERM must stop the command with its Voila
server and kernel (nothing left behind).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from harness import (
    PROJECT_CODE,
    SERVER_START_TIMEOUT,
    WIDGET_READY_TIMEOUT,
    HeatView,
    KernelClient,
    Web,
    free_port,
    jupyter_env,
    port_open,
    require_e2e_tools,
    spawn_logged,
    tail,
    wait_until,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

READY = 'div.heatwidget[data-ready="1"]'

# Open-ocean places (lat, lon): far from any city of heatwidget.datasets.CITIES. Each is only
# checked if it is in the view and the kernel confirms no point of the data lies near it.
OCEAN = [
    (40.0, -40.0),  # North Atlantic
    (-30.0, -15.0),  # South Atlantic
    (-30.0, 75.0),  # Indian Ocean
    (-45.0, 40.0),  # south of Africa
    (0.0, -130.0),  # Pacific
    (15.0, -130.0),  # Pacific
]

# Runs in the Voila kernel. From the wire bytes of `m._points` (docs/architecture.md) and the
# browser's view (zoom, world-pixel origin of the container's top-left, size), returns in
# container pixels the centre of the `block`-px block with the most weight, and for each given
# container point the distance in px to the nearest point of the data (world copies counted).
PROBE_CODE = (
    PROJECT_CODE
    + r"""
def _hw_voila_probe(m, zoom, ox, oy, w, h, places, block=16):
    import numpy as np
    x, y, wt, world = _hw_project(m, zoom, ox, oy)
    gw, gh = int(np.ceil(w / block)), int(np.ceil(h / block))
    grid = np.zeros(gh * gw)
    for k in range(int(np.floor(-x.max() / world)), int(np.ceil((w - x.min()) / world)) + 1):
        bx = np.floor((x + k * world) / block).astype(np.int64)
        by = np.floor(y / block).astype(np.int64)
        ok = (bx >= 1) & (bx < gw - 1) & (by >= 1) & (by < gh - 1)   # not on the frame's edge
        grid += np.bincount(by[ok] * gw + bx[ok], weights=wt[ok], minlength=gh * gw)
    grid = grid.reshape(gh, gw)
    by_, bx_ = np.unravel_index(int(np.argmax(grid)), grid.shape)
    near = []
    for px, py in places:
        dx = np.abs((x - px + world / 2) % world - world / 2)
        near.append(float(np.sqrt(dx * dx + (y - py) ** 2).min()))
    return {"dense": [(bx_ + 0.5) * block, (by_ + 0.5) * block, float(grid[by_, bx_])],
            "nearest": near, "rows": len(x)}
"""
)


# --------------------------------------------------------------------------------------------
# the command


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    port: int
    base: Path
    workdir: Path
    tmpdir: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log(self, lines: int = 30) -> str:
        return tail(self.log_path, lines)

    def connection_file(self) -> Path:
        """The Voila kernel's connection file (Voila keeps them under $TMPDIR/voila_*/)."""

        def find() -> Path | None:
            files = sorted(self.tmpdir.glob("voila_*/kernel-*.json"))
            return files[0] if len(files) == 1 else None

        return wait_until(find, 60, f"one kernel connection file under {self.tmpdir}/voila_*")


def heatwidget_command() -> list[str]:
    """``heatwidget``, the console script of the interpreter running the tests."""
    script = shutil.which("heatwidget", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "heatwidget"]


def processes_mentioning(marker: str) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        cmdline = raw.replace(b"\0", b" ").decode(errors="replace")
        if marker in cmdline:
            found.append((int(entry.name), cmdline.strip()))
    return found


def start_demo(base: Path, log_path: Path, attempts: int = 3) -> Demo:
    workdir = base / "cwd"
    tmpdir = base / "tmp"  # Voila's connection files land here: every process names `base`
    workdir.mkdir()
    tmpdir.mkdir()
    env = jupyter_env(base)
    env["TMPDIR"] = str(tmpdir)
    env.pop("BROWSER", None)
    for _ in range(attempts):
        port = free_port()
        cmd = [*heatwidget_command(), "demo", "--no-browser", "--port", str(port)]
        cmd += ["--dir", str(workdir / "heatwidget-demo")]
        proc = spawn_logged(cmd, workdir, env, log_path)
        demo = Demo(proc, port, base, workdir, tmpdir, log_path)

        def up(demo: Demo = demo) -> bool:
            if demo.proc.poll() is not None:
                raise RuntimeError(f"heatwidget demo exited with {demo.proc.returncode}")
            return port_open(demo.port)

        try:
            wait_until(up, SERVER_START_TIMEOUT, f"heatwidget demo on port {port}", 0.2)
            return demo
        except (TimeoutError, RuntimeError) as exc:
            stop_demo(demo)
            if "exited" not in str(exc):  # alive but never answered: do not retry
                raise AssertionError(f"{exc}\n--- log:\n{demo.log()}") from exc
    raise AssertionError(f"heatwidget demo did not start\n--- log:\n{tail(log_path)}")


def stop_demo(demo: Demo) -> None:
    """SIGTERM to the command, then whatever is left of it is killed (by pid)."""
    if demo.proc.poll() is None:
        demo.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            demo.proc.wait(40)
    if demo.proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.proc.pid, signal.SIGKILL)
        demo.proc.wait(10)
    for pid, _ in processes_mentioning(f"{demo.base}/"):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def demo(
    tmp_path_factory: pytest.TempPathFactory, artifacts_dir: Path, request: pytest.FixtureRequest
) -> Iterator[Demo]:
    require_e2e_tools()
    base = tmp_path_factory.mktemp("heatwidget-demo")
    log_path = artifacts_dir / f"{request.node.name}-server.log"
    log_path.write_text("")
    server = start_demo(base, log_path)
    try:
        yield server
    finally:
        stop_demo(server)


# --------------------------------------------------------------------------------------------
# helpers


def window(px: np.ndarray, x: float, y: float, r: int) -> np.ndarray:
    h, w = px.shape[:2]
    xi, yi = int(x), int(y)
    assert 0 <= xi < w and 0 <= yi < h, f"({x:.1f},{y:.1f}) is outside the {w}x{h} canvas"
    return px[max(0, yi - r) : yi + r + 1, max(0, xi - r) : xi + r + 1]


def lut_rgb(colormap: str) -> set[tuple[int, int, int]]:
    """The RGB colours of a colormap's entries 64..255 (the kernel's fully opaque range)."""
    from heatwidget.traits.colormaps import resolve_lut

    lut = np.frombuffer(resolve_lut(colormap), dtype=np.uint8).reshape(256, 4)
    return {tuple(int(c) for c in row[:3]) for row in lut[64:]}  # type: ignore[misc]


def share_in(px: np.ndarray, colours: set[tuple[int, int, int]]) -> float:
    """The share of the fully opaque pixels whose RGB is one of `colours`."""
    opaque = px[px[..., 3] == 255][:, :3]
    assert len(opaque) > 100, f"only {len(opaque)} opaque heat pixels"
    return float(np.mean([tuple(int(c) for c in rgb) in colours for rgb in opaque]))


def control(web: Web, kind: str, label: str) -> Any:
    """The ipywidgets control of class `widget-<kind>` whose description is `label`."""
    loc = web.page.locator(f".widget-{kind}").filter(
        has=web.page.locator(".widget-label", has_text=label)
    )
    loc.first.wait_for(state="visible", timeout=30_000)
    assert loc.count() == 1, f"{loc.count()} .widget-{kind} controls labelled {label!r}"
    return loc.first


# --------------------------------------------------------------------------------------------
# the test


def test_heatwidget_demo_in_voila(demo: Demo, web: Web, artifacts_dir: Path) -> None:
    page = web.page
    t0 = time.monotonic()
    page.goto(demo.url, wait_until="domcontentloaded", timeout=120_000)
    wait_until(
        lambda: page.locator(READY).count() == 1,
        WIDGET_READY_TIMEOUT,
        f"{READY} in the Voila page",
        0.2,
        diagnose=lambda: (
            f"page errors {web.page_errors}\nconsole {web.console_errors}\n"
            f"--- server log:\n{demo.log()}"
        ),
    )
    t_ready = time.monotonic() - t0
    hv = HeatView(page, page.locator(READY))
    hv.root.scroll_into_view_if_needed()
    before = hv.wait_stable()
    view = hv.view()

    k = KernelClient(demo.connection_file())
    try:
        k.execute(PROBE_CODE)
        point_count = k.eval("m.point_count")
        assert point_count >= 100_000, f"the demo holds only {point_count} points"
        assert hv.point_count == point_count, (
            f"data-point-count={hv.point_count} but m.point_count={point_count}"
        )
        assert page.get_by_text(f"{point_count:,} points").count() == 1, "the points count label"
        assert "mag" in page.locator("div.heatwidget-legend").inner_text()

        # -- heat where the data is dense, none over open ocean --------------------------------
        radius = float(k.eval("m.radius"))
        margin = max(4 * radius, 48.0)  # sigma = radius / 2: the Gaussian is 0 within it
        places = hv.latlon_to_container(OCEAN)
        zoom, (ox, oy), (w, h) = view["zoom"], view["origin"], view["size"]
        found = k.eval(f"_hw_voila_probe(m, {zoom!r}, {ox!r}, {oy!r}, {w!r}, {h!r}, {places!r})")
        dense_x, dense_y, dense_w = found["dense"]
        assert dense_w > 0, f"no data in the view {view}: {found}"
        ((cx, cy),) = hv.container_to_canvas([(dense_x, dense_y)])
        lit = before[..., 3][before[..., 3] > 0]
        dense_alpha = int(window(before, cx, cy, 4)[..., 3].max())
        assert dense_alpha >= np.percentile(lit, 50), (
            f"the densest block (canvas {cx:.0f},{cy:.0f}) has alpha {dense_alpha}, below the"
            f" median lit alpha {np.percentile(lit, 50)}"
        )
        ocean_checked = []
        for (lat, lon), (x, y), dist in zip(OCEAN, places, found["nearest"], strict=True):
            inside = margin <= x < w - margin and margin <= y < h - margin
            if not inside or dist <= margin:
                continue
            ((px_, py_),) = hv.container_to_canvas([(x, y)])
            alpha = int(window(before, px_, py_, 3)[..., 3].max())
            assert alpha == 0, f"heat (alpha {alpha}) over the ocean at {lat},{lon} ({dist:.0f} px)"
            ocean_checked.append((lat, lon))
        assert len(ocean_checked) >= 2, (
            f"only {ocean_checked} of the open-ocean places could be checked in the view {view}:"
            f" container points {places}, nearest data {found['nearest']} px, margin {margin} px"
        )
        web.screenshot("1-initial")

        # -- the radius slider: type a value into its readout, as a user does -----------------
        slider = control(web, "slider", "radius")
        readout = slider.locator(".widget-readout")
        frames = hv.frames
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("6")
        page.keyboard.press("Enter")
        k.wait_for("m.radius", lambda r: r == 6, "m.radius to follow the slider to 6")
        after_radius = hv.wait_pixels_change(before)
        assert hv.frames > frames
        lit_before, lit_after = (
            int((before[..., 3] > 0).sum()),
            int((after_radius[..., 3] > 0).sum()),
        )
        assert lit_after < 0.9 * lit_before, (
            f"radius {radius:g} -> 6 should light fewer pixels: {lit_before} -> {lit_after}"
        )
        web.screenshot("2-radius")

        # -- the colormap dropdown: pick viridis -----------------------------------------------
        cmap0 = k.eval("m.colormap")
        assert share_in(after_radius, lut_rgb(cmap0)) > 0.99, f"pixels are not {cmap0}'s colours"
        dropdown = control(web, "dropdown", "colormap").locator("select")
        dropdown.select_option("viridis")
        k.wait_for("m.colormap", lambda c: c == "viridis", "m.colormap to follow the dropdown")
        after_cmap = hv.wait_pixels_change(after_radius)
        moved = np.mean((after_cmap[..., 3] > 0) != (after_radius[..., 3] > 0))
        assert moved < 0.01, f"a colormap change should recolour, not move, the heat ({moved:.1%})"
        in_viridis = share_in(after_cmap, lut_rgb("viridis"))
        assert in_viridis > 0.99, f"only {in_viridis:.1%} of opaque pixels are viridis colours"
        assert share_in(after_cmap, lut_rgb(cmap0)) < 0.05, f"{cmap0}'s colours remain"
        web.screenshot("3-colormap")

        # -- live updates: press play, new points stream in ------------------------------------
        page.locator(".widget-play button").first.click()
        grown = k.wait_for(
            "m.point_count",
            lambda n: n >= point_count + 20_000,
            "m.point_count to grow while the demo streams points",
        )
        wait_until(
            lambda: hv.point_count >= grown or None,
            30,
            "the view's data-point-count to follow the appended points",
            diagnose=lambda: f"view {hv.point_count}, python {grown}",
        )
        page.locator(".widget-play button").nth(1).click()  # stop
        web.screenshot("4-live")

        # -- export: "save PNG" gets what the map shows, waited for inside its click handler ---
        # (Voila sends widget messages on the main shell, which the handler occupies: the
        # view's answer is read on heatwidget's helper subshell)
        page.get_by_role("button", name="save PNG").click()
        note = k.wait_for("saved.value", lambda v: "saved" in v, "the save PNG handler to end")
        assert "from the view" in note, note
        png_path = Path(k.eval("__import__('os').path.abspath('heatmap.png')"))
        from harness.pictures import LAND, SEA, heat_matches
        from PIL import Image

        with Image.open(png_path) as im:
            im.load()  # every chunk's CRC
            snap = np.asarray(im.convert("RGBA"))
        w_now, h_now = hv.view()["size"]
        assert snap.shape[:2] == (h_now, w_now), (snap.shape, (w_now, h_now))
        flat = snap[..., :3].reshape(-1, 3).astype(int)
        for name, rgb in (("sea", SEA), ("land", LAND)):
            share = float((np.abs(flat - rgb).max(axis=1) <= 2).mean())
            assert share > 0.02, f"no {name} (offline outlines) in the saved PNG ({share:.3f})"
        # the heat as the canvas shows it, over the sea or the land at the demo's opacity
        n_heat, err = heat_matches(snap, hv.pixels(), float(k.eval("m.opacity")))
        assert n_heat > 200 and err <= 6, (n_heat, err)
        page.locator(".widget-image").wait_for(state="visible", timeout=30_000)
        web.screenshot("5-saved-png")
    finally:
        k.close()

    # -- the network: nothing outside 127.0.0.1 was needed ---------------------------------------
    font_awesome = [r for r in web.blocked if "font-awesome" in r.url or "fontawesome" in r.url]
    others = [r for r in web.blocked_other() if r not in font_awesome]
    assert not others, f"requests outside 127.0.0.1 (not tiles): {[r.url for r in others]}"
    assert not web.page_errors, f"uncaught page errors: {web.page_errors}"
    blocked_urls = {r.url for r in web.blocked}
    console = [
        e
        for e in web.console_errors
        if "ERR_BLOCKED_BY_CLIENT" not in e and not any(u in e for u in blocked_urls)
    ]
    assert not console, f"console errors: {console}"

    # -- SIGTERM stops the command, its Voila server and its kernel -------------------------------
    t_stop = time.monotonic()
    demo.proc.send_signal(signal.SIGTERM)
    try:
        code = demo.proc.wait(40)
    except subprocess.TimeoutExpired:
        pytest.fail(f"heatwidget demo still runs 40 s after SIGTERM\n{demo.log()}")
    stopped_s = time.monotonic() - t_stop
    assert code == 0, f"heatwidget demo exited with {code} on SIGTERM\n{demo.log()}"
    left = wait_until(
        lambda: not processes_mentioning(f"{demo.base}/") or None,
        10,
        "the Voila server and kernel to exit",
        diagnose=lambda: repr(processes_mentioning(f"{demo.base}/")),
    )
    assert left
    assert not port_open(demo.port), f"port {demo.port} still answers"
    assert "Kernel shutdown" in demo.log(200), f"the kernel was not shut down\n{demo.log()}"

    summary = {
        "ready_s": round(t_ready, 1),
        "stop_s": round(stopped_s, 1),
        "point_count": point_count,
        "view": view,
        "dense": found["dense"],
        "ocean_checked": ocean_checked,
        "ocean_nearest_px": dict(zip(map(str, OCEAN), found["nearest"], strict=True)),
        "blocked": sorted({r.host for r in web.blocked}),
        "tiles_blocked": len(web.blocked_tiles),
    }
    (artifacts_dir / "test_voila-summary.json").write_text(json.dumps(summary, indent=1))

// The bench page: every renderer draws the same points into the same 1024x768 view of one real
// Leaflet map, timed in the page with performance.now(). Bundled by bench/build-page.mjs.
// Driven from bench/run.py through window.bench (one call per renderer, so Python can print
// progress and decide skips).
import "./leaflet-global";
import L from "leaflet";
import "leaflet.heat";
import { Deck, MapView } from "@deck.gl/core";
import { HeatmapLayer } from "@deck.gl/aggregation-layers";
import { webgl2Adapter } from "@luma.gl/webgl";
// The shipped browser host of the kernel (js/src/kernel.ts), with the real built heat.wasm.
import { type FrameParams, HeatKernel } from "../../js/src/kernel";
import type { WirePoints } from "../../js/src/arrow";
// The shipped isolines (drawn with every frame) and the kernel's dots up close, against main's
// versions of both (baseline.ts) in the same run.
import { ContourLayer, levels, trace, traceStep } from "../../js/src/contours";
import { HW_DOT_RADIUS, HW_DOTS_CAP } from "../../js/src/abi";
import { contoursFull, scanPoints, traceFull } from "./baseline";

const W = 1024;
const H = 768;
// Views (lat, lon, Leaflet zoom). "world": the world is 1024 px wide, what fit-to-bounds picks for
// world-wide data; every point is in the frame. "europe": zoomed in, ~1/6 of the points in view.
const VIEWS: Record<string, [number, number, number]> = { world: [20, 0, 2], europe: [50, 10, 5] };
let CENTER: [number, number] = [20, 0];
let ZOOM = 2;
function setView(name: string): void {
  const v = VIEWS[name];
  if (!v) throw new Error(`unknown view ${name}`);
  CENTER = [v[0], v[1]];
  ZOOM = v[2];
}
const RADIUS = 25; // our radius (CSS px): Gaussian sigma = 12.5 px
// leaflet.heat/simpleheat: a disc of `radius` blurred by canvas shadowBlur `blur` (sigma blur/2).
// Per-axis variance radius^2/4 + blur^2/4 = 15^2/4 + 20^2/4 = 156.25 = 12.5^2: same sigma as
// ours, reach radius + blur = 35 px (ours: 3 sigma = 37.5 px).
const LH_RADIUS = 15;
const LH_BLUR = 20;
// deck.gl HeatmapLayer kernel: exp(-(d/R)^2 / 0.05555) => sigma = R * sqrt(0.05555/2) = R/6.
const DECK_RADIUS_PX = 75;
const PAN_PX = 3; // each frame pans the view by this many pixels (cumulative)

type Result = {
  times: number[];
  setupMs: number;
  note?: string;
  extra?: Record<string, unknown>;
};

const now = () => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r(null)));

// ---- page scaffolding ------------------------------------------------------------------------

const mapDiv = document.createElement("div");
mapDiv.style.cssText = `position:absolute;left:0;top:0;width:${W}px;height:${H}px;`;
document.body.appendChild(mapDiv);
const map = L.map(mapDiv, {
  zoomControl: false, attributionControl: false, fadeAnimation: false, zoomAnimation: false,
  markerZoomAnimation: false, inertia: false,
}).setView(CENTER, ZOOM, { animate: false });

function makeCanvas(): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = W;
  c.height = H;
  c.style.cssText = `position:absolute;left:0;top:0;width:${W}px;height:${H}px;pointer-events:none`;
  document.body.appendChild(c);
  return c;
}

function resetView(): void {
  map.setView(CENTER, ZOOM, { animate: false });
}

/** Pans the one map by PAN_PX and returns the frame's top-left world pixel, as HeatLayer does. */
function panAndOrigin(): { x0: number; y0: number; zoom: number } {
  map.panBy([PAN_PX, 0], { animate: false });
  const topLeft = map.containerPointToLayerPoint([0, 0]);
  const o = map.getPixelOrigin().add(topLeft);
  return { x0: o.x, y0: o.y, zoom: map.getZoom() };
}

// ---- data ------------------------------------------------------------------------------------

let lon = new Float64Array(0);
let lat = new Float64Array(0);
let wt = new Float32Array(0);
let N = 0;
let lut = new Uint8Array(1024);

async function load(url: string, n: number): Promise<number> {
  const t0 = now();
  lon = lat = new Float64Array(0);
  wt = new Float32Array(0);
  const buf = await (await fetch(url)).arrayBuffer();
  if (buf.byteLength !== n * 20) throw new Error(`${url}: ${buf.byteLength} bytes, expected ${n * 20}`);
  lon = new Float64Array(buf, 0, n);
  lat = new Float64Array(buf, n * 8, n);
  wt = new Float32Array(buf, n * 16, n);
  N = n;
  return now() - t0;
}

/** The rows as the wire carries them (heat.h "Coordinates" in float64 maths: a bench needs the
 * rows, not Python's bits), which the page hands to its kernel as they are. Not timed: Python
 * computes them before they travel. */
function wirePoints(): WirePoints {
  const x = new Uint32Array(N);
  const y = new Uint32Array(N);
  for (let i = 0; i < N; i++) {
    const nx = (lon[i] ?? 0) / 360 + 0.5;
    x[i] = Math.floor((nx - Math.floor(nx)) * 2 ** 32) % 2 ** 32;
    const l = (Math.max(-85.0511287798, Math.min(85.0511287798, lat[i] ?? 0)) * Math.PI) / 180;
    const s = Math.sin(l);
    const ny = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
    y[i] = Math.min(Math.max(Math.floor(ny * 2 ** 32), 0), 2 ** 32 - 2);
  }
  return { chunks: [{ x, y, weight: wt, length: N }], length: N, hasWeight: true, hasTime: false };
}

/** Share of the canvas's pixels with alpha > 0 (a sanity check that a renderer drew the data). */
function coverage(c: HTMLCanvasElement): number {
  const d = c.getContext("2d")!.getImageData(0, 0, c.width, c.height).data;
  let k = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i] > 0) k++;
  return k / (c.width * c.height);
}

// ---- the timing loop -------------------------------------------------------------------------

async function timeFrames(warm: number, frames: number, frame: () => void | Promise<void>,
  budgetMs = Infinity): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < warm + frames; i++) {
    // Let the event loop breathe (GC, compositor) between frames, as between real frames.
    await nextFrame();
    const t0 = now();
    await frame();
    const dt = now() - t0;
    if (i >= warm || dt > budgetMs) times.push(dt);
    if (dt > budgetMs) break; // over budget: report what was timed, the caller marks it
  }
  return times;
}

// ---- ours: the shipped HeatKernel + putImageData (what HeatLayer.draw does) -------------------

interface Exports {
  memory: WebAssembly.Memory;
  hw_density(...a: number[]): number;
  hw_colorize(...a: number[]): void;
  hw_frame_rgba(): number;
  hw_lut(): number;
  hw_memory_bytes(): number;
}

async function runOurs(warm: number, frames: number): Promise<Result> {
  resetView();
  const canvas = makeCanvas();
  const ctx = canvas.getContext("2d")!;
  const t0 = now();
  const kernel = await HeatKernel.create();
  const tCreate = now() - t0;
  const rows = wirePoints();
  const t1 = now();
  kernel.load(rows);
  const loadMs = now() - t1;
  kernel.setLut(lut);
  const style = { radius: RADIUS, aggregation: "sum" as const, vmin: 0, vmax: "auto" as const,
    scale: "linear" as const, threshold: 0 };
  // The first frame after a load (what set_data's first paint pays), timed on its own: the
  // kernel may build its spatial index lazily here.
  const tf = now();
  {
    const f = kernel.frame({ ...style, ...panAndOrigin(), width: W, height: H });
    if (f) ctx.putImageData(f.image, 0, 0);
  }
  const firstFrameMs = now() - tf;
  const times = await timeFrames(warm, frames, () => {
    const v = panAndOrigin();
    const f = kernel.frame({ ...style, ...v, width: W, height: H });
    if (!f) throw new Error("kernel out of memory");
    ctx.putImageData(f.image, 0, 0);
  });
  // Per-stage timings of the same frame, through the same exports kernel.frame() calls.
  const k = (kernel as unknown as { wasm: Exports }).wasm;
  const stages = { density: [] as number[], colorize: [] as number[], put: [] as number[],
    splatOnly: [] as number[] };
  resetView();
  for (let i = 0; i < warm + frames; i++) {
    await nextFrame();
    const v = panAndOrigin();
    const a = now();
    const max = k.hw_density(v.x0, v.y0, v.zoom, W, H, RADIUS, 0);
    const b = now();
    new Uint8Array(k.memory.buffer, k.hw_lut(), 1024).set(lut);
    k.hw_colorize(0, max, 0, 0);
    const c = now();
    const img = new ImageData(new Uint8ClampedArray(k.memory.buffer, k.hw_frame_rgba(), W * H * 4), W, H);
    ctx.putImageData(img, 0, 0);
    const d = now();
    // the same view without footprint (radius 0: no blur, no margin): project + splat + crop
    const e = now();
    k.hw_density(v.x0, v.y0, v.zoom, W, H, 0, 0);
    const f = now();
    if (i >= warm) {
      stages.splatOnly.push(f - e);
      stages.density.push(b - a);
      stages.colorize.push(c - b);
      stages.put.push(d - c);
    }
  }
  const layers = await timeLayers(kernel, ctx, style, warm, frames);
  const memory = k.hw_memory_bytes();
  kernel.free();
  const cov = coverage(canvas);
  canvas.remove();
  return { times, setupMs: tCreate + loadMs,
    extra: { createMs: tCreate, loadMs, firstFrameMs, memoryBytes: memory, stages, coverage: cov,
      layers } };
}

/** The frames with isolines and with dots, each pan timed in one loop, before (main: baseline.ts)
 * and after (this branch), right after the heat frame of the same pan:
 *  - contours "auto": main traced d3-contour on every pixel (and stroked); now the trace is on
 *    the grid sampled every traceStep(radius) px (ContourLayer.frame: trace + stroke). The
 *    trace alone is timed too (what of the contour time is tracing).
 *  - dots in this view at mix 0.5 (the fade; all rows in view at "world", up to the cap): main
 *    drew a heat frame and then scanned every row in JS (points-layer.ts, no fade); now one
 *    kernel frame with hw_dots.
 *  - dots up close (Tokyo, cities()' largest city, zoom 10, mix 1): the same two ways. */
async function timeLayers(kernel: HeatKernel, ctx: CanvasRenderingContext2D,
  style: Omit<FrameParams, "x0" | "y0" | "zoom" | "width" | "height">,
  warm: number, frames: number) {
  const root = document.createElement("div");
  const contours = new ContourLayer(root, () => ({ lut, scale: "linear", spec: "auto" }));
  const over = makeCanvas();
  const octx = over.getContext("2d")!;
  const rows = { lon, lat, length: N };
  const dots = (mix: number) => ({ radius: HW_DOT_RADIUS, mix, cap: HW_DOTS_CAP });
  const out = {
    heat: [] as number[], traceBefore: [] as number[], traceAfter: [] as number[],
    contoursBefore: [] as number[], contoursAfter: [] as number[], ringsBefore: 0, ringsAfter: 0,
    fadeBefore: [] as number[], fadeAfter: [] as number[], fadeDrawnBefore: 0, fadeDrawnAfter: 0,
    closeBefore: [] as number[], closeAfter: [] as number[], closeDrawnBefore: 0, closeDrawnAfter: 0,
    step: traceStep(RADIUS),
  };
  const heatFrame = (v: { x0: number; y0: number; zoom: number }, mix = 0) => {
    const f = kernel.frame({ ...style, ...v, width: W, height: H, dots: mix > 0 ? dots(mix) : undefined });
    if (!f) throw new Error("kernel out of memory");
    ctx.putImageData(f.image, 0, 0);
    return f;
  };
  resetView();
  for (let i = 0; i < warm + frames; i++) {
    await nextFrame();
    const v = panAndOrigin();
    const t0 = now();
    const f = heatFrame(v);
    const t1 = now();
    const wanted = levels("auto", f.vmin, f.vmax, "linear");
    out.ringsBefore = contoursFull(octx, f.grid, W, H, wanted, lut, f.vmax);
    const t2 = now();
    contours.frame(f.grid, W, H, f.vmin, f.vmax, RADIUS);
    const t3 = now();
    traceFull(f.grid, W, H, wanted);
    const t4 = now();
    trace(f.grid, W, H, wanted, out.step);
    const t5 = now();
    out.fadeDrawnBefore = scanPoints(map, octx, rows, lut);
    const t6 = now();
    const g = heatFrame(v, 0.5);
    const t7 = now();
    out.fadeDrawnAfter = g.dotsDrawn;
    if (i >= warm) {
      out.heat.push(t1 - t0);
      out.contoursBefore.push(t2 - t1);
      out.contoursAfter.push(t3 - t2);
      out.traceBefore.push(t4 - t3);
      out.traceAfter.push(t5 - t4);
      out.fadeBefore.push(t1 - t0 + (t6 - t5));
      out.fadeAfter.push(t7 - t6);
    }
  }
  out.ringsAfter = Number(root.dataset.contours ?? 0);
  const saved = { center: CENTER, zoom: ZOOM };
  CENTER = [35.68, 139.69];
  ZOOM = 10;
  resetView();
  for (let i = 0; i < warm + frames; i++) {
    await nextFrame();
    const v = panAndOrigin();
    const t0 = now();
    heatFrame(v);
    out.closeDrawnBefore = scanPoints(map, octx, rows, lut);
    const t1 = now();
    out.closeDrawnAfter = heatFrame(v, 1).dotsDrawn;
    const t2 = now();
    if (i >= warm) {
      out.closeBefore.push(t1 - t0);
      out.closeAfter.push(t2 - t1);
    }
  }
  CENTER = saved.center;
  ZOOM = saved.zoom;
  resetView();
  contours.dispose();
  over.remove();
  return out;
}

// ---- plain JS: the same maths as heat.c in TypedArrays ---------------------------------------

function boxRadii(sigma: number): number[] {
  const n = 3;
  const var12 = 12 * sigma * sigma;
  let wl = Math.floor(Math.sqrt(var12 / n + 1));
  if (wl % 2 === 0) wl--;
  if (wl < 1) wl = 1;
  const wu = wl + 2;
  const m = Math.floor((var12 - n * wl * wl - 4 * n * wl - 3 * n) / (-4 * wl - 4) + 0.5);
  return [0, 1, 2].map((i) => ((i < m ? wl : wu) - 1) / 2);
}

function makePlainJs(ctx: CanvasRenderingContext2D) {
  const t0 = now();
  // Project once, on load, as the kernel does (hw_points_append): normalised Web Mercator.
  const nx = new Float64Array(N);
  const ny = new Float64Array(N);
  const MAXLAT = 85.0511287798;
  for (let i = 0; i < N; i++) {
    let x = lon[i] / 360 + 0.5;
    nx[i] = x - Math.floor(x);
    const la = Math.max(-MAXLAT, Math.min(MAXLAT, lat[i]));
    const s = Math.sin((la * Math.PI) / 180);
    ny[i] = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }
  const setupMs = now() - t0;
  const r = boxRadii(RADIUS / 2);
  const margin = r[0] + r[1] + r[2];
  const pw = W + 2 * margin;
  const ph = H + 2 * margin;
  const pad = new Float32Array(pw * ph);
  const aux = new Float32Array(pw * ph);
  const line = new Float32Array(Math.max(pw, ph) + 2);
  const acc = new Float32Array(pw);
  const grid = new Float32Array(W * H);
  const image = new ImageData(W, H);
  const px32 = new Uint32Array(image.data.buffer);
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const a = Math.floor((lut[4 * i + 3] * Math.min(i, 64) + 32) / 64);
    table[i] = (lut[4 * i] | (lut[4 * i + 1] << 8) | (lut[4 * i + 2] << 16) | (a << 24)) >>> 0;
  }
  table[0] &= 0x00ffffff;

  const frame = (v: { x0: number; y0: number; zoom: number }) => {
    const world = 256 * Math.pow(2, v.zoom);
    const ox = v.x0 - margin;
    const oy = v.y0 - margin;
    pad.fill(0);
    // splat (every world copy that meets the padded frame, as the kernel does)
    for (let i = 0; i < N; i++) {
      const py = ny[i] * world - oy;
      if (!(py >= 0 && py < ph)) continue;
      const row = Math.floor(py) * pw;
      let px = nx[i] * world - ox;
      px -= Math.floor(px / world) * world;
      const wi = wt[i];
      for (; px < pw; px += world) pad[row + Math.floor(px)] += wi;
    }
    // 3 box passes along rows, then 3 down columns (running sums, zero outside)
    for (let y = 0; y < ph; y++) {
      const base = y * pw;
      for (let p = 0; p < 3; p++) {
        const rp = r[p];
        if (!rp) continue;
        const inv = 1 / (2 * rp + 1);
        for (let x = 0; x < pw; x++) line[x] = pad[base + x];
        let s = 0;
        for (let x = 0; x < rp && x < pw; x++) s += line[x];
        for (let x = 0; x < pw; x++) {
          if (x + rp < pw) s += line[x + rp];
          pad[base + x] = s * inv;
          if (x - rp >= 0) s -= line[x - rp];
        }
      }
    }
    let src = pad;
    let dst = aux;
    for (let p = 0; p < 3; p++) {
      const rp = r[p];
      if (!rp) continue;
      const inv = 1 / (2 * rp + 1);
      acc.fill(0);
      for (let y = 0; y < rp && y < ph; y++) for (let x = 0; x < pw; x++) acc[x] += src[y * pw + x];
      for (let y = 0; y < ph; y++) {
        if (y + rp < ph) {
          const o = (y + rp) * pw;
          for (let x = 0; x < pw; x++) acc[x] += src[o + x];
        }
        const o = y * pw;
        for (let x = 0; x < pw; x++) dst[o + x] = acc[x] * inv;
        if (y >= rp) {
          const q = (y - rp) * pw;
          for (let x = 0; x < pw; x++) acc[x] -= src[q + x];
        }
      }
      const t = src;
      src = dst;
      dst = t;
    }
    // crop + max (normalise), colour through the LUT, draw
    let mx = 0;
    for (let y = 0; y < H; y++) {
      const o = (y + margin) * pw + margin;
      const g = y * W;
      for (let x = 0; x < W; x++) {
        const val = src[o + x];
        grid[g + x] = val;
        if (val > mx) mx = val;
      }
    }
    const inv = mx > 0 ? 1 / mx : 0;
    for (let i = 0; i < W * H; i++) {
      const val = grid[i];
      if (!(val > 0)) {
        px32[i] = 0;
        continue;
      }
      let t = val * inv;
      if (t > 1) t = 1;
      px32[i] = table[(t * 255 + 0.5) | 0];
    }
    ctx.putImageData(image, 0, 0);
    return { image, grid, max: mx };
  };
  return { frame, setupMs, radii: r };
}

async function runPlainJs(warm: number, frames: number): Promise<Result> {
  resetView();
  const canvas = makeCanvas();
  const js = makePlainJs(canvas.getContext("2d")!);
  const times = await timeFrames(warm, frames, () => void js.frame(panAndOrigin()));
  const cov = coverage(canvas);
  canvas.remove();
  return { times, setupMs: js.setupMs, extra: { radii: js.radii, coverage: cov } };
}

/** Our frame vs the plain JS renderer (the kernel's original maths, exact per point) on the
 * same view: how many pixels differ, and by how much (RGBA levels). */
async function check(): Promise<Record<string, number>> {
  resetView();
  const canvas = makeCanvas();
  const ctx = canvas.getContext("2d")!;
  const kernel = await HeatKernel.create();
  kernel.load(wirePoints());
  kernel.setLut(lut);
  const v = panAndOrigin();
  const f = kernel.frame({ radius: RADIUS, aggregation: "sum", vmin: 0, vmax: "auto", scale: "linear",
    threshold: 0, ...v, width: W, height: H })!;
  const oursMax = f.max;
  const k = (kernel as unknown as { wasm: Exports & { hw_frame_grid(): number } }).wasm;
  const a = new Float32Array(k.memory.buffer, k.hw_frame_grid(), W * H).slice();
  kernel.free();
  const js = makePlainJs(ctx).frame(v);
  canvas.remove();
  // normalised densities (v / frame max, what picks the colour), over pixels either one drew
  let over = 0, maxDiff = 0, drawn = 0, sum = 0;
  for (let i = 0; i < a.length; i++) {
    if (!(a[i] > 0) && !(js.grid[i] > 0)) continue;
    drawn++;
    const d = Math.abs(a[i] / oursMax - js.grid[i] / js.max);
    if (d > 2 / 255) over++;
    maxDiff = Math.max(maxDiff, d);
    sum += d;
  }
  return { pixelsOver2: over / drawn, maxDiff, meanDiff: sum / drawn, oursMax, jsMax: js.max };
}

// ---- leaflet.heat on the real L.Map ----------------------------------------------------------

async function runLeafletHeat(warm: number, frames: number, budgetMs: number): Promise<Result> {
  resetView();
  const t0 = now();
  const latlngs: [number, number, number][] = new Array(N);
  for (let i = 0; i < N; i++) latlngs[i] = [lat[i], lon[i], wt[i]];
  const setupMs = now() - t0;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const layer: any = (L as any).heatLayer([], { radius: LH_RADIUS, blur: LH_BLUR });
  layer.addTo(map);
  // It redraws on every moveend by itself; detach that so each pan is followed by exactly one
  // timed full redraw (_reset = position the canvas + _redraw: project, cluster, draw, colour).
  map.off("moveend", layer._reset, layer);
  layer._latlngs = latlngs;
  const times = await timeFrames(warm, frames, () => {
    map.panBy([PAN_PX, 0], { animate: false });
    layer._reset();
  }, budgetMs);
  const cov = coverage(layer._canvas);
  map.removeLayer(layer);
  layer._latlngs = [];
  return { times, setupMs, extra: { coverage: cov } };
}

// ---- deck.gl HeatmapLayer (WebGL; software here) ---------------------------------------------

function deckViewState() {
  const c = map.getCenter();
  // deck's web-mercator zoom uses 512-px tiles: deck zoom = Leaflet zoom - 1 for the same scale
  return { longitude: c.lng, latitude: c.lat, zoom: map.getZoom() - 1, pitch: 0, bearing: 0 };
}

async function runDeck(mode: "reaggregate" | "cached", warm: number, frames: number,
  budgetMs: number): Promise<Result> {
  resetView();
  const div = document.createElement("div");
  div.style.cssText = `position:absolute;left:0;top:0;width:${W}px;height:${H}px;`;
  document.body.appendChild(div);
  const pixel = new Uint8Array(4);
  let rendered: (() => void) | null = null;
  let renderer = "";
  let deckError: unknown = null;
  const deck = await new Promise<Deck>((resolve, reject) => {
    const d: Deck = new Deck({
      parent: div, width: W, height: H, useDevicePixels: false, controller: false,
      views: new MapView({ repeat: false }),
      viewState: deckViewState(),
      layers: [],
      deviceProps: { adapters: [webgl2Adapter], type: "webgl" } as never,
      onLoad: () => resolve(d),
      onError: (e: unknown) => { deckError = e; reject(e); },
      onAfterRender: ({ gl }: { gl: WebGL2RenderingContext }) => {
        if (!rendered) return;
        // Same task as the draw, before compositing: the pixel is the frame's, and reading it
        // waits for the (software) GPU to finish the frame.
        gl.readPixels(W / 2, H / 2, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
        const r = rendered;
        rendered = null;
        r();
      },
    } as never);
  });
  {
    const gl = (deck as unknown as { device: { gl: WebGL2RenderingContext } }).device.gl;
    const dbg = gl.getExtension("WEBGL_debug_renderer_info");
    renderer = String(dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  }
  const t0 = now();
  const pos = new Float32Array(2 * N);
  for (let i = 0; i < N; i++) {
    pos[2 * i] = lon[i];
    pos[2 * i + 1] = lat[i];
  }
  const setupMs = now() - t0;
  let version = 0;
  const layer = () => new HeatmapLayer({
    id: "heat",
    // A new object each time: deck treats it as new data and re-aggregates.
    data: { length: N, attributes: { getPosition: { value: pos, size: 2 }, getWeight: { value: wt, size: 1 } }, version: version++ },
    radiusPixels: DECK_RADIUS_PX,
    debounceTimeout: 0,
    aggregation: "SUM",
  } as never);
  const drawn = () => new Promise<void>((r) => { rendered = r; });

  let times: number[];
  let aggregateMs = 0;
  if (mode === "reaggregate") {
    // full re-aggregation: new data prop + a pan; wait for deck's own next frame and a pixel
    times = await timeFrames(warm, frames, async () => {
      map.panBy([PAN_PX, 0], { animate: false });
      const p = drawn();
      deck.setProps({ layers: [layer()], viewState: deckViewState() });
      await p;
    }, budgetMs);
  } else {
    // repaint over cached weights: a pan only (within the weights texture's bounds). The one
    // aggregation it needs first is reported as aggregateMs.
    const keep = layer();
    const a = now();
    const p = drawn();
    deck.setProps({ layers: [keep], viewState: deckViewState() });
    await p;
    aggregateMs = now() - a;
    times = await timeFrames(warm, frames, async () => {
      map.panBy([PAN_PX, 0], { animate: false });
      const q = drawn();
      deck.setProps({ layers: [keep], viewState: deckViewState() });
      await q;
    }, budgetMs);
  }
  deck.finalize();
  div.remove();
  if (deckError) throw deckError;
  return { times, setupMs, extra: { aggregateMs, renderer, pixel: Array.from(pixel) } };
}

// ---- exposed to run.py -----------------------------------------------------------------------

async function run(name: string, warm: number, frames: number, budgetMs = 60000): Promise<Result> {
  await sleep(50);
  switch (name) {
    case "ours": return runOurs(warm, frames);
    case "js": return runPlainJs(warm, frames);
    case "leaflet.heat": return runLeafletHeat(warm, frames, budgetMs);
    case "deck": return runDeck("reaggregate", warm, frames, budgetMs);
    case "deck-cached": return runDeck("cached", warm, frames, budgetMs);
    default: throw new Error(`unknown renderer ${name}`);
  }
}

function free(): void {
  lon = lat = new Float64Array(0);
  wt = new Float32Array(0);
  N = 0;
}

function setLut(bytes: number[]): void {
  lut = Uint8Array.from(bytes);
}

function webgl(): string {
  const c = document.createElement("canvas");
  const gl = c.getContext("webgl2");
  if (!gl) return "";
  const dbg = gl.getExtension("WEBGL_debug_renderer_info");
  return String(dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
}

(window as unknown as { bench: unknown }).bench = { load, free, run, check, setView, setLut, webgl, ready: true };

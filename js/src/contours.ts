// Isolines over the heat (issue 12): `contours` is "auto" (five levels evenly spaced across the
// colour domain, as the scale spreads it) or a list of density levels, traced by d3-contour's
// marching squares and drawn with every frame the heat layer draws (pans, zooms, new data) on
// a canvas above the heat, in the colormap's colour for each level (with a thin dark halo so
// they read on any colour). The density is smooth at the footprint's scale (sigma = radius / 2
// pixels), so the lines are traced on the frame's density sampled every `traceStep(radius)`
// pixels rather than at every pixel: at radius 25 a 16th of the cells (bench/run.py's
// "contours" rows measure both).
import { contours as d3contours } from "d3-contour";
import type { Scale, Traits } from "./model";

const AUTO_LEVELS = 5;
/** The coarsest sampling: lines within a pixel or two of the full-resolution trace. */
const MAX_STEP = 8;
const MAX_LEVELS = 20;

/** Where a density sits along the colour bar (0..1) for a scale, as the kernel colours it. */
export function position(v: number, vmin: number, vmax: number, scale: Scale): number {
  if (!(vmax > vmin)) return 1;
  let t: number;
  if (scale === "log") {
    const lo = vmin > 0 ? vmin : vmax / 1000;
    t = (Math.log(Math.max(v, lo)) - Math.log(lo)) / (Math.log(vmax) - Math.log(lo));
  } else {
    t = (v - vmin) / (vmax - vmin);
    if (scale === "sqrt") t = Math.sqrt(Math.max(0, t));
  }
  return Math.min(1, Math.max(0, t));
}

/** The levels `contours` asks for in a frame whose colour domain is [vmin, vmax]. */
export function levels(spec: Traits["contours"], vmin: number, vmax: number, scale: Scale): number[] {
  if (spec == null) return [];
  if (spec !== "auto") return spec.filter((v) => Number.isFinite(v) && v > 0).slice(0, MAX_LEVELS);
  if (!(vmax > 0)) return [];
  const out: number[] = [];
  for (let i = 1; i <= AUTO_LEVELS; i++) {
    const t = i / (AUTO_LEVELS + 1);
    // the density at colour-bar position t, inverting `position`
    let v: number;
    if (scale === "log") {
      const lo = vmin > 0 ? vmin : vmax / 1000;
      v = lo * (vmax / lo) ** t;
    } else if (scale === "sqrt") v = vmin + t * t * (vmax - vmin);
    else v = vmin + t * (vmax - vmin);
    if (v > 0) out.push(v);
  }
  return out;
}

/** The sampling step for a footprint of `radius` pixels: the largest power of two at most
 * radius / 4 (sigma / 2), from 1 to MAX_STEP. Between samples the density is nearly linear, as
 * marching squares assumes. */
export function traceStep(radius: number): number {
  let step = 1;
  while (step * 2 <= radius / 4 && step * 2 <= MAX_STEP) step *= 2;
  return step;
}

/** A frame pixel's coordinate from d3-contour's on a grid sampled every `step` pixels from
 * pixel step / 2 (d3-contour puts sample i at i + 0.5). */
const toPixel = (v: number, step: number) => (v - 0.5) * step + Math.floor(step / 2) + 0.5;

/** The rings of the isolines at `wanted` levels of a width x height density grid (row-major,
 * top row first), traced on every `step`-th pixel; coordinates are frame pixels. */
export function trace(grid: ArrayLike<number>, width: number, height: number, wanted: number[],
  step: number): { value: number; rings: [number, number][][] }[] {
  if (!wanted.length) return [];
  const o = Math.floor(step / 2);
  const w = Math.max(1, Math.ceil((width - o) / step));
  const h = Math.max(1, Math.ceil((height - o) / step));
  let values: ArrayLike<number> = grid;
  if (step > 1) {
    const sampled = new Float32Array(w * h);
    for (let j = 0; j < h; j++) {
      const row = (o + j * step) * width + o;
      for (let i = 0; i < w; i++) sampled[j * w + i] = grid[row + i * step];
    }
    values = sampled;
  }
  const traced = d3contours().size([w, h]).thresholds(wanted)(values as unknown as number[]);
  return traced.map((c) => ({
    value: c.value,
    rings: c.coordinates.flatMap((polygon) =>
      polygon.map((ring) => ring.map(([x, y]): [number, number] => [toPixel(x, step), toPixel(y, step)]))),
  }));
}

/** What the contours read at drawing time: the colour table, scale and `contours` trait. */
export type ContourSettings = () => { lut: Uint8Array; scale: Scale; spec: Traits["contours"] };

/** The isolines' canvas: the heat layer places it with the heat's (heat-layer.ts attach), so it
 * pans and scales with the frame it was traced from. */
export class ContourLayer {
  readonly canvas = document.createElement("canvas");
  private ctx = this.canvas.getContext("2d");

  constructor(private root: HTMLElement, private settings: ContourSettings) {
    this.canvas.className = "heatwidget-contours";
    this.canvas.style.pointerEvents = "none";
  }

  /** A frame was drawn: trace its density (`grid` is read now, before the kernel moves it) at
   * the levels asked for and draw them; `radius` is the frame's footprint in pixels. */
  frame(grid: Float32Array | null, width: number, height: number, vmin: number, vmax: number,
    radius: number): void {
    const ctx = this.ctx;
    const { lut, scale, spec } = this.settings();
    if (!ctx || !grid || spec == null) {
      this.clear();
      return;
    }
    const t0 = performance.now();
    if (this.canvas.width !== width) this.canvas.width = width;
    if (this.canvas.height !== height) this.canvas.height = height;
    ctx.clearRect(0, 0, width, height);
    const traced = trace(grid, width, height, levels(spec, vmin, vmax, scale), traceStep(radius));
    let rings = 0;
    ctx.lineJoin = "round";
    for (const c of traced) {
      const i = Math.round(position(c.value, vmin, vmax, scale) * 255);
      ctx.beginPath();
      for (const ring of c.rings) {
        rings++;
        ring.forEach(([x, y], k) => {
          if (k) ctx.lineTo(x, y);
          else ctx.moveTo(x, y);
        });
        ctx.closePath();
      }
      ctx.strokeStyle = "rgba(0, 0, 0, 0.45)";
      ctx.lineWidth = 3;
      ctx.stroke();
      ctx.strokeStyle = `rgb(${lut[4 * i]}, ${lut[4 * i + 1]}, ${lut[4 * i + 2]})`;
      ctx.lineWidth = 1.5;
      ctx.stroke();
    }
    this.root.dataset.contours = String(rings);
    this.root.dataset.contourMs = (performance.now() - t0).toFixed(1);
  }

  dispose(): void {
    this.canvas.remove();
  }

  private clear(): void {
    this.ctx?.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.root.dataset.contours = "0";
  }
}

// Isolines over the heat (issue 12): `contours` is "auto" (five levels evenly spaced across the
// colour domain, as the scale spreads it) or a list of density levels, traced by d3-contour's
// marching squares on the density grid of the frame the view drew, and drawn on a canvas above
// the heat in the colormap's colour for each level (with a thin dark halo so they read on any
// colour). Tracing costs a few ms per level on a full frame, so it happens once the map has
// settled (after DELAY_MS without a new frame), not on every frame of a pan or zoom.
import { contours as d3contours } from "d3-contour";
import * as L from "leaflet";
import type { Scale, Traits } from "./model";

const DELAY_MS = 120;
const AUTO_LEVELS = 5;
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

/** What the contours read at drawing time: the colour table, scale and `contours` trait. */
export type ContourSettings = () => { lut: Uint8Array; scale: Scale; spec: Traits["contours"] };

interface Settled {
  grid: Float32Array;
  width: number;
  height: number;
  vmin: number;
  vmax: number;
  topLeft: L.Point;
}

export class ContourLayer {
  private canvas = document.createElement("canvas");
  private ctx = this.canvas.getContext("2d");
  private timer = 0;
  private pending: Settled | null = null;

  constructor(private map: L.Map, private root: HTMLElement, private settings: ContourSettings) {
    this.canvas.className = "heatwidget-contours";
    this.canvas.style.position = "absolute";
    this.canvas.style.pointerEvents = "none";
    map.getPanes().overlayPane.appendChild(this.canvas);
    map.on("zoomstart movestart", this.hide);
  }

  /** A frame was drawn: keep a copy of its grid (the kernel's view moves on the next call) and
   * trace it once the map has settled. */
  frame(grid: Float32Array | null, width: number, height: number, vmin: number, vmax: number) {
    window.clearTimeout(this.timer);
    if (!grid || this.settings().spec == null) {
      this.pending = null;
      this.clear();
      return;
    }
    const topLeft = this.map.containerPointToLayerPoint([0, 0]);
    this.pending = { grid: grid.slice(), width, height, vmin, vmax, topLeft };
    this.timer = window.setTimeout(() => this.draw(), DELAY_MS);
  }

  dispose(): void {
    window.clearTimeout(this.timer);
    this.map.off("zoomstart movestart", this.hide);
    this.canvas.remove();
  }

  private readonly hide = (): void => {
    this.canvas.style.display = "none";
  };

  private clear(): void {
    this.ctx?.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.root.dataset.contours = "0";
  }

  private draw(): void {
    const f = this.pending;
    const ctx = this.ctx;
    if (!f || !ctx) return;
    const { lut, scale, spec } = this.settings();
    const t0 = performance.now();
    if (this.canvas.width !== f.width) this.canvas.width = f.width;
    if (this.canvas.height !== f.height) this.canvas.height = f.height;
    L.DomUtil.setPosition(this.canvas, f.topLeft);
    this.canvas.style.display = "";
    ctx.clearRect(0, 0, f.width, f.height);
    const wanted = levels(spec, f.vmin, f.vmax, scale);
    const traced = wanted.length
      ? d3contours().size([f.width, f.height]).thresholds(wanted)(f.grid as unknown as number[])
      : [];
    let rings = 0;
    ctx.lineJoin = "round";
    for (const c of traced) {
      const i = Math.round(position(c.value, f.vmin, f.vmax, scale) * 255);
      ctx.beginPath();
      for (const polygon of c.coordinates) {
        for (const ring of polygon) {
          rings++;
          ring.forEach(([x, y], k) => {
            if (k) ctx.lineTo(x, y);
            else ctx.moveTo(x, y);
          });
          ctx.closePath();
        }
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
}

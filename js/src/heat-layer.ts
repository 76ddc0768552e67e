// A Leaflet layer that owns the heat canvas and decides when a frame is drawn: at most one per
// animation frame, however many moves and trait changes asked for one. Up close (points_zoom)
// the kernel draws the rows in view as dots on the same frame (heat.h hw_dots): nothing here
// reads rows.
import * as L from "leaflet";
import { HW_DOT_RADIUS } from "./abi";
import { dotParams, fadesBetween, zoomProgress } from "./dots";
import type { Frame, FrameParams } from "./kernel";
import type { Getter, Traits } from "./model";
import type { ViewKernel } from "./model-kernel";

/** The frame parameters that come from traits rather than from the map. */
export type HeatStyle = Omit<FrameParams, "x0" | "y0" | "zoom" | "width" | "height" | "dots"> & {
  radiusUnits: "pixels" | "meters";
  /** From this zoom on only the rows as dots; the zoom level below it fades heat into dots. */
  pointsZoom: number | null;
  pointsRadius: number;
};

/** The style the traits ask for, drawing the time window `window` (the play clock's). */
export function heatStyle(get: Getter, window: Traits["time_window"]): HeatStyle {
  const decay = get("time_decay");
  return {
    radius: get("radius"), radiusUnits: get("radius_units") ?? "pixels",
    aggregation: get("aggregation"), vmin: get("vmin"), vmax: get("vmax"),
    scale: get("scale"), threshold: get("threshold"),
    t0: window?.[0] ?? NaN, t1: window?.[1] ?? NaN, halfLife: decay ? decay * 1000 : 0,
    pointsZoom: get("points_zoom") ?? null,
    pointsRadius: get("points_radius") ?? HW_DOT_RADIUS,
  };
}


// Leaflet's EPSG:3857 sphere (L.Projection.SphericalMercator.R).
const EARTH_RADIUS = 6378137;

/** `radius` in pixels for a map: metres are converted at the view's centre latitude, with the
 * same formula as heatwidget/_viewport.py's meters_per_pixel. */
export function radiusPixels(map: L.Map, radius: number, units: HeatStyle["radiusUnits"]): number {
  if (units !== "meters") return radius;
  const lat = Math.max(-85.0511287798, Math.min(85.0511287798, map.getCenter().lat));
  const metersPerPixel = (2 * Math.PI * EARTH_RADIUS * Math.cos((lat * Math.PI) / 180)) /
    (256 * 2 ** map.getZoom());
  return radius / metersPerPixel;
}

export interface FrameStats {
  frame: Frame | null;
  /** Kernel (density + colour) plus putImageData, in milliseconds. */
  ms: number;
  /** The kernel's share of `ms`. */
  kernelMs: number;
  /** Points the kernel held when drawing. */
  points: number;
  /** How far dots replaced the heat (0..1), and the rows drawn as dots. */
  dotsMix: number;
  dotsDrawn: number;
}

// Rows splatted ahead at a time (about 1.5 ms of the kernel's time).
const AHEAD_SLICE = 1 << 17;

// Leaflet's zoom animation: a CSS transition of 0.25 s (leaflet.css, .leaflet-zoom-anim).
const ZOOM_ANIMATION_MS = 250;

// Leaflet computes an animated zoom's target pixel origin with this private method; the
// renderers in Leaflet itself use it the same way.
type MapInternals = L.Map & {
  _getNewPixelOrigin(center: L.LatLng, zoom: number): L.Point;
  _zoomAnimated?: boolean;
  _animatingZoom?: boolean;
};

export class HeatLayer extends L.Layer {
  private canvas: HTMLCanvasElement;
  private ctx: CanvasRenderingContext2D;
  private kernel: ViewKernel | null = null;
  private style: HeatStyle;
  private onFrame: (stats: FrameStats) => void;
  private pending = 0;
  /** The view the canvas shows, so a zoom animation can scale it from there. */
  private drawnCenter: L.LatLng | null = null;
  private drawnZoom = 0;
  /** The last frame's top-left world pixel at drawnZoom. */
  private drawnOrigin: L.Point | null = null;
  /** A zoom animation drawn frame by frame (the dots' fade), while it runs. */
  private zoomAnim: { raf: number; start: number; from: L.Point; to: L.Point; scale: number } | null =
    null;
  /** Canvases drawn from each frame (the isolines): placed, moved and scaled with the heat. */
  private overlays: HTMLCanvasElement[] = [];

  constructor(style: HeatStyle, onFrame: (stats: FrameStats) => void) {
    super();
    this.style = style;
    this.onFrame = onFrame;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "heatwidget-heat";
    this.ctx = this.canvas.getContext("2d")!;
  }

  override onAdd(map: L.Map): this {
    const m = map as MapInternals;
    for (const c of this.canvases()) {
      if (m._zoomAnimated) c.classList.add("leaflet-zoom-animated");
      this.getPane()!.appendChild(c);
    }
    this.resize();
    this.redraw();
    return this;
  }

  override onRemove(): this {
    if (this.pending) cancelAnimationFrame(this.pending);
    this.pending = 0;
    this.endZoomAnimation();
    for (const c of this.canvases()) c.remove();
    return this;
  }

  /** Puts `canvas` over the heat, where the heat's frame is, for as long as the layer is on a
   * map: the isolines traced from a frame pan and scale with it. */
  attach(canvas: HTMLCanvasElement): void {
    this.overlays.push(canvas);
    canvas.style.position = "absolute";
    if (this._map) {
      if ((this._map as MapInternals)._zoomAnimated) canvas.classList.add("leaflet-zoom-animated");
      this.getPane()!.appendChild(canvas);
    }
  }

  private canvases(): HTMLCanvasElement[] {
    return [this.canvas, ...this.overlays];
  }

  override getEvents(): { [name: string]: L.LeafletEventHandlerFn } {
    const redraw = () => this.redraw();
    return {
      // 'move' fires during drags and fly-to animations, not only at their end.
      move: redraw,
      zoom: redraw,
      viewreset: redraw,
      zoomend: redraw,
      resize: () => {
        this.resize();
        this.redraw();
      },
      zoomanim: ((e: L.ZoomAnimEvent) => this.animateZoom(e)) as L.LeafletEventHandlerFn,
    };
  }

  setKernel(kernel: ViewKernel | null): void {
    this.kernel = kernel;
    this.redraw();
  }

  setStyle(style: Partial<HeatStyle>): void {
    this.style = { ...this.style, ...style };
    this.redraw();
  }

  /** The footprint's radius in pixels at the current view. */
  radiusPixels(): number {
    return this._map ? radiusPixels(this._map, this.style.radius, this.style.radiusUnits) : 0;
  }

  setOpacity(opacity: number): void {
    this.canvas.style.opacity = String(opacity);
  }

  /** Asks for a frame at the next animation frame (coalesced). */
  redraw(): void {
    if (!this._map || this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.draw();
    });
  }

  private resize(): void {
    const size = this._map.getSize();
    // One canvas pixel per CSS pixel (the kernel's frame is in CSS pixels).
    if (this.canvas.width !== size.x) this.canvas.width = size.x;
    if (this.canvas.height !== size.y) this.canvas.height = size.y;
    this.canvas.style.width = `${size.x}px`;
    this.canvas.style.height = `${size.y}px`;
  }

  private draw(): void {
    const map = this._map as MapInternals;
    // Mid-animation the canvas is CSS-scaled (or drawn by stepZoom); the real frame comes at
    // zoomend.
    if (!map || map._animatingZoom) return;
    this.endZoomAnimation();
    const topLeft = map.containerPointToLayerPoint([0, 0]);
    this.drawnCenter = map.getCenter();
    this.drawnZoom = map.getZoom();
    this.drawnOrigin = map.getPixelOrigin().add(topLeft);
    this.render(this.drawnOrigin, this.drawnZoom, topLeft);
  }

  /** One frame whose top-left is the world pixel `origin` at `zoom`, placed at the layer point
   * `position`. */
  private render(origin: L.Point, zoom: number, position: L.Point): void {
    const size = this._map.getSize();
    const kernel = this.kernel;
    for (const c of this.canvases()) L.DomUtil.setPosition(c, position);
    const t0 = performance.now();
    if (!kernel || kernel.pointCount === 0 || size.x === 0 || size.y === 0) {
      this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
      // An empty frame is still a frame drawn (tests wait on the count), once there is a kernel.
      if (kernel) {
        this.onFrame({ frame: null, ms: performance.now() - t0, kernelMs: 0, points: 0, dotsMix: 0,
          dotsDrawn: 0 });
      }
      return;
    }
    const params = this.params(origin, zoom, size);
    const { dots } = params;
    const frame = kernel.frame(params);
    const t1 = performance.now();
    if (frame) this.ctx.putImageData(frame.image, 0, 0);
    else this.ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.onFrame({ frame, ms: performance.now() - t0, kernelMs: t1 - t0, points: kernel.pointCount,
      dotsMix: dots?.mix ?? 0, dotsDrawn: frame?.dotsDrawn ?? 0 });
  }

  /** The parameters of a frame whose top-left is the world pixel `origin` at `zoom`. */
  private params(origin: L.Point, zoom: number, size: L.Point): FrameParams {
    const { pointsZoom, pointsRadius, ...style } = this.style;
    return {
      ...style,
      dots: dotParams(zoom, pointsZoom, pointsRadius),
      radius: this.radiusPixels(),
      x0: origin.x,
      y0: origin.y,
      zoom,
      width: size.x,
      height: size.y,
    };
  }

  /** While a big reset's parts arrive (no frame is drawn until the last): splats the rows so
   * far into the frame the next draw() makes of the view as it is (ViewKernel.splatAhead), so
   * that frame splats only the rest. A view that moves meanwhile draws as usual. In slices of
   * AHEAD_SLICE rows for about `budgetMs`, so that the next part's message, which the page's
   * one thread takes too, waits little. Returns the rows the frame holds, or -1 (none). */
  splatAhead(budgetMs: number): number {
    const map = this._map as MapInternals;
    const kernel = this.kernel;
    if (!map || map._animatingZoom || !kernel || kernel.pointCount === 0) return -1;
    const size = map.getSize();
    if (size.x === 0 || size.y === 0) return -1;
    const origin = map.getPixelOrigin().add(map.containerPointToLayerPoint([0, 0]));
    const p = this.params(origin, map.getZoom(), size);
    const t0 = performance.now();
    let held = kernel.splatAhead(p, AHEAD_SLICE);
    while (held >= 0 && held < kernel.pointCount && performance.now() - t0 < budgetMs) {
      held = kernel.splatAhead(p, AHEAD_SLICE);
    }
    return held;
  }

  // As Leaflet's own renderers do: scale the last frame about the zoom's focus while the zoom
  // animates, instead of computing frames for intermediate zooms. Except where the animation
  // crosses the dots' fade (the zoom level below points_zoom): there the kernel draws a frame
  // at each animation frame's zoom, so the dots fade in or out as the map zooms.
  private animateZoom(e: L.ZoomAnimEvent): void {
    const map = this._map as MapInternals;
    if (!this.drawnCenter) return;
    const scale = map.getZoomScale(e.zoom, this.drawnZoom);
    const offset = map.getSize().multiplyBy(-0.5 * scale)
      .add(map.project(this.drawnCenter, e.zoom))
      .subtract(map._getNewPixelOrigin(e.center, e.zoom));
    if (this.drawnOrigin && fadesBetween(this.drawnZoom, e.zoom, this.style.pointsZoom)) {
      this.endZoomAnimation();
      // no CSS transition for these canvases: stepZoom places each frame itself
      for (const c of this.canvases()) c.classList.remove("leaflet-zoom-animated");
      const from = L.DomUtil.getPosition(this.canvas);
      this.zoomAnim = { raf: 0, start: performance.now(), from, to: offset, scale };
      this.zoomAnim.raf = requestAnimationFrame(this.stepZoom);
      return;
    }
    for (const c of this.canvases()) L.DomUtil.setTransform(c, offset, scale);
  }

  /** One frame of a zoom animation: the view Leaflet's CSS transition shows the tiles at (its
   * transform interpolates position and scale linearly along its easing), drawn by the kernel
   * at that zoom. The old frame's pixel (u, v) would sit at from + p (to - from) + s (u, v)
   * with s = 1 + p (scale - 1): the world at zoom drawnZoom + log2(s), origin s * drawnOrigin. */
  private readonly stepZoom = (): void => {
    const a = this.zoomAnim;
    const origin = this.drawnOrigin;
    if (!a || !origin || !this._map) return;
    const p = zoomProgress((performance.now() - a.start) / ZOOM_ANIMATION_MS);
    const s = 1 + p * (a.scale - 1);
    const position = a.from.add(a.to.subtract(a.from).multiplyBy(p));
    this.render(origin.multiplyBy(s), this.drawnZoom + Math.log2(s), position);
    a.raf = p < 1 ? requestAnimationFrame(this.stepZoom) : 0;
  };

  private endZoomAnimation(): void {
    if (!this.zoomAnim) return;
    cancelAnimationFrame(this.zoomAnim.raf);
    this.zoomAnim = null;
    if ((this._map as MapInternals)?._zoomAnimated) {
      for (const c of this.canvases()) c.classList.add("leaflet-zoom-animated");
    }
  }
}

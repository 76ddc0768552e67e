// The browser host of the heat kernel (js/kernel/heat.h is the ABI): one compiled module for
// the page, one instance — so one linear memory — per widget view.
import wasmBytes from "heatwidget:kernel-wasm";
import {
  HW_ABI_VERSION,
  HW_AGG_COUNT,
  HW_AGG_MAX,
  HW_AGG_MEAN,
  HW_AGG_SUM,
  HW_APPEND_NEEDS_ARRIVAL_ORDER,
  HW_DROP_NEEDS_ARRIVAL_ORDER,
  HW_HAS_TIME,
  HW_HAS_WEIGHT,
  HW_SCALE_LINEAR,
  HW_SCALE_LOG,
  HW_SCALE_SQRT,
} from "./abi";
import type { WireChunk, WirePoints } from "./arrow";
import type { Aggregation, Scale, Vmax } from "./model";

const AGGREGATIONS: Record<Aggregation, number> = {
  sum: HW_AGG_SUM,
  count: HW_AGG_COUNT,
  mean: HW_AGG_MEAN,
  max: HW_AGG_MAX,
};
const SCALES: Record<Scale, number> = { linear: HW_SCALE_LINEAR, sqrt: HW_SCALE_SQRT, log: HW_SCALE_LOG };

/** The exports of heat.wasm. Pointers are byte offsets into `memory`, all kernel-owned. */
interface HeatExports {
  memory: WebAssembly.Memory;
  hw_abi_version(): number;
  hw_stage_capacity(): number;
  /** Staging rows: kernel-owned, written by the host, valid until the next [grows] call. */
  hw_stage_lon(): number;
  hw_stage_lat(): number;
  hw_stage_weight(): number;
  hw_stage_time(): number;
  /** Fixed-point staging (the wire's x/y), sharing memory with lon/lat staging. */
  hw_stage_x(): number;
  hw_stage_y(): number;
  /** [grows] Appends the staged x/y rows as they are: no projection in the page. */
  hw_points_append_fixed(n: number, flags: number): number;
  /** [grows] Spatial order now, rather than in the next frame. */
  hw_points_index(): void;
  /** [grows] */
  hw_points_reserve(capacity: number): number;
  hw_points_clear(): void;
  hw_points_drop_front(n: number): number;
  hw_time_window(t0: number, t1: number, halfLife: number): void;
  hw_frame_count_near(px: number, py: number, radius: number): number;
  /** Gives all point and frame memory back to the kernel's allocator. */
  hw_release(): void;
  hw_points_count(): number;
  /** [grows] */
  hw_density(x0: number, y0: number, zoom: number, width: number, height: number,
    radius: number, aggregation: number): number;
  /** Last frame's float32 grid: kernel-owned, read-only for the host, moved by hw_density. */
  hw_frame_grid(): number;
  hw_frame_quantile(q: number): number;
  /** 256 RGBA entries: kernel-owned, written by the host. */
  hw_lut(): number;
  hw_colorize(vmin: number, vmax: number, scale: number, threshold: number): void;
  /** Last frame's RGBA: kernel-owned, read-only for the host, moved by hw_density. */
  hw_frame_rgba(): number;
  hw_memory_bytes(): number;
  /** Dots over the last colour-mapped frame (heat.h hw_dots); rows drawn, or -1. */
  hw_dots(radius: number, mix: number, cap: number): number;
  /** [grows] The first frame of a load splatted ahead over the rows so far (heat.h); the rows
   * it holds, or -1 when it cannot be. */
  hw_density_ahead(x0: number, y0: number, zoom: number, width: number, height: number,
    radius: number, aggregation: number, limit: number): number;
  /** [grows] A frame's padded grid to fill (heat.h "Frames from a grid"); 0 without memory. */
  hw_grid_begin(width: number, height: number, radius: number, aggregation: number): number;
  /** The last hw_grid_begin's {f, margin, gw, gh}: 4 uint32, kernel-owned. */
  hw_grid_geometry(): number;
  /** [grows] The frame from the grid filled since hw_grid_begin; -1 on failure. */
  hw_density_grid(x0: number, y0: number, zoom: number): number;
}

/** A frame's padded grid (heat.h "Frames from a grid"): gw x gh cells of f px, margin px. */
export interface GridGeometry {
  f: number;
  margin: number;
  gw: number;
  gh: number;
}

/** A binned grid's planes, gh x gw float32 each, top row first; a missing plane is zeros. */
export interface GridPlanes {
  sum?: Float32Array;
  count?: Float32Array;
  max?: Float32Array;
}

// Compiling is the slow part and the module is immutable: every view shares one compile. A
// compile that failed is forgotten, so the next view tries again instead of failing forever.
let compiled: Promise<WebAssembly.Module> | undefined;
export function compileKernel(): Promise<WebAssembly.Module> {
  if (!compiled) {
    const attempt: Promise<WebAssembly.Module> = WebAssembly.compile(wasmBytes).catch((err) => {
      if (compiled === attempt) compiled = undefined;
      throw err;
    });
    compiled = attempt;
  }
  return compiled;
}

export interface FrameParams {
  /** Top-left world pixel of the frame at `zoom` (Leaflet's pixel origin + pane offset). */
  x0: number;
  y0: number;
  zoom: number;
  width: number;
  height: number;
  radius: number;
  aggregation: Aggregation;
  vmin: number;
  vmax: Vmax;
  scale: Scale;
  threshold: number;
  /** Time window [t0, t1) in ms (NaN: unbounded) and the decay's half-life in ms (0: none). */
  t0?: number;
  t1?: number;
  halfLife?: number;
  /** Up close: the rows in view as dots of `radius` px over the heat, cross-faded by `mix`
   * (0: heat only, 1: dots only), at most `cap` rows (heat.h hw_dots). */
  dots?: DotParams;
}

export interface DotParams {
  radius: number;
  mix: number;
  cap: number;
}

export interface Frame {
  /** A view of the kernel's RGBA: draw it before the next kernel call, which may move it. */
  image: ImageData;
  /** The colour domain used: vmin as the kernel applied it (log: vmax / 1000 if ≤ 0), vmax. */
  vmin: number;
  vmax: number;
  /** The largest density in the frame. */
  max: number;
  /** A view of the kernel's density grid (rows × columns, top row first): read it before the
   * next kernel call, which may move it. */
  grid: Float32Array;
  /** Rows drawn as dots (0 without `dots`). */
  dotsDrawn: number;
}

export class OutOfMemoryError extends Error {}
/** The points are in spatial order, which keeps no arrival numbers (heat.h "Memory a row"),
 * and a drop or rows with times need the arrival order: nothing was changed; load the rows
 * again (in arrival order: the page asks Python for them). */
export class ArrivalOrderLost extends Error {}

export class HeatKernel {
  private wasm: HeatExports | null;
  /** The host's copy of the colour table, written into the kernel before each colouring. */
  private lut = new Uint8Array(1024);
  private count = 0;
  /** A sliding window has met spatial order: every load from now on stays in arrival order
   * (hw_points_drop_front(0) once rows are held), so drops never need another reload. */
  private windowed = false;
  /** Whether the kernel keeps the rows held in arrival order (until hw_points_clear). */
  private streaming = false;
  /** The last frame's size and origin, for valueAt / countNear. */
  private last: { x0: number; y0: number; width: number; height: number } | null = null;

  private constructor(exports: HeatExports) {
    this.wasm = exports;
  }

  static async create(): Promise<HeatKernel> {
    const module = await compileKernel();
    let wasm: HeatExports;
    try {
      const instance = await WebAssembly.instantiate(module, {});
      wasm = instance.exports as unknown as HeatExports;
      if (wasm.hw_abi_version() !== HW_ABI_VERSION) {
        throw new Error(`heatwidget: kernel ABI ${wasm.hw_abi_version()}, expected ${HW_ABI_VERSION}`);
      }
    } catch (err) {
      // A module that does not instantiate (or has another ABI) is no use to a later view.
      if (compiled) compiled = undefined;
      throw err;
    }
    return new HeatKernel(wasm);
  }

  get pointCount(): number {
    return this.count;
  }

  /** Bytes of linear memory the instance holds (it grows, never shrinks, until freed). */
  get memoryBytes(): number {
    return this.wasm ? this.wasm.memory.buffer.byteLength : 0;
  }

  private get k(): HeatExports {
    if (!this.wasm) throw new Error("heatwidget: kernel used after free()");
    return this.wasm;
  }

  /** Replaces the points held. Each row is copied once, from the chunk into staging. The
   * known total (`reserve`: these rows and those of the parts still to come) is reserved
   * first, so memory grows once, to the rows' size. */
  load(points: WirePoints, reserve = points.length): void {
    const k = this.k;
    k.hw_points_clear();
    this.count = 0;
    this.streaming = false;
    this.last = null;
    if (k.hw_points_reserve(Math.max(reserve, points.length)) < 0) {
      throw new OutOfMemoryError("heatwidget: out of memory");
    }
    this.append(points.chunks);
  }

  /** Adds rows after those held: costs in proportion to the rows added. */
  append(chunks: WireChunk[]): void {
    const cap = this.k.hw_stage_capacity();
    for (const chunk of chunks) {
      for (let start = 0; start < chunk.length; start += cap) {
        this.appendStaged(chunk, start, Math.min(cap, chunk.length - start));
      }
    }
  }

  /** Sorts the points into spatial order now (heat.h hw_points_index): call it when idle
   * after a load, so that no frame waits for it. */
  index(): void {
    this.k.hw_points_index();
  }

  /** Forgets the oldest n rows (the sliding window). */
  dropFront(n: number): void {
    this.last = null;
    if (n <= 0) return;
    const left = this.k.hw_points_drop_front(n) >>> 0;
    if (left === HW_DROP_NEEDS_ARRIVAL_ORDER) {
      this.windowed = true;
      throw new ArrivalOrderLost("heatwidget: a sliding window over points in spatial order");
    }
    this.count = left;
    this.streaming = left > 0; // a drop of every row clears, and the order with it
  }

  /** Rows that a sliding window will drop from (the model has `max_points`): kept in arrival
   * order from the next load or append on, never sorted (heat.h hw_points_drop_front(0)), so
   * that the first drop needs no reload of every row. */
  keepArrivalOrder(): void {
    this.windowed = true;
  }

  /** Whether the kernel keeps the rows held in arrival order (drops need no reload). */
  get arrivalOrderKept(): boolean {
    return this.streaming;
  }

  private appendStaged(chunk: WireChunk, start: number, n: number): void {
    const k = this.k;
    // Views are made per call: the previous append may have grown memory.
    const buf = k.memory.buffer;
    new Uint32Array(buf, k.hw_stage_x(), n).set(chunk.x.subarray(start, start + n));
    new Uint32Array(buf, k.hw_stage_y(), n).set(chunk.y.subarray(start, start + n));
    if (chunk.weight) {
      new Float32Array(buf, k.hw_stage_weight(), n).set(chunk.weight.subarray(start, start + n));
    }
    if (chunk.time) {
      new Float64Array(buf, k.hw_stage_time(), n).set(chunk.time.subarray(start, start + n));
    }
    const flags = (chunk.weight ? HW_HAS_WEIGHT : 0) | (chunk.time ? HW_HAS_TIME : 0);
    const total = k.hw_points_append_fixed(n, flags);
    if (total === -HW_APPEND_NEEDS_ARRIVAL_ORDER) {
      throw new ArrivalOrderLost("heatwidget: rows with times for points in spatial order");
    }
    if (total < 0) throw new OutOfMemoryError("heatwidget: out of memory");
    this.count = total;
    if (this.windowed && !this.streaming) {
      // rows loaded again for a sliding window: in arrival order from now on (heat.h)
      k.hw_points_drop_front(0);
      this.streaming = true;
    }
  }

  setLut(bytes: Uint8Array): void {
    this.lut.fill(0);
    this.lut.set(bytes.subarray(0, 1024));
  }

  /** Renders one frame; null when the kernel could not get memory for it. */
  frame(p: FrameParams): Frame | null {
    const k = this.k;
    k.hw_time_window(p.t0 ?? NaN, p.t1 ?? NaN, p.halfLife ?? 0);
    const max = k.hw_density(p.x0, p.y0, p.zoom, p.width, p.height, p.radius,
      AGGREGATIONS[p.aggregation] ?? 0);
    return this.finish(max, p);
  }

  /** Splats the rows loaded so far into the frame `frame(p)` will draw, while a load's parts
   * arrive (heat.h hw_density_ahead): that frame then splats only the rows loaded since.
   * Returns the rows the frame holds, or -1 when it cannot be splatted ahead (rows with times,
   * a time window, a frame drawn since the load...: `frame(p)` then draws as usual). The last
   * frame is no longer readable (valueAt, countNear) until the next `frame`. At most `limit`
   * rows a call: the next goes on from there. */
  splatAhead(p: FrameParams, limit = 0xffffffff): number {
    const k = this.k;
    this.last = null;
    k.hw_time_window(p.t0 ?? NaN, p.t1 ?? NaN, p.halfLife ?? 0);
    return k.hw_density_ahead(p.x0, p.y0, p.zoom, p.width, p.height, p.radius,
      AGGREGATIONS[p.aggregation] ?? 0, limit);
  }

  /** The geometry of the grid a frame of `p` bins into (server mode asks Python for it). */
  gridGeometry(p: Pick<FrameParams, "width" | "height" | "radius" | "aggregation">): GridGeometry | null {
    const k = this.k;
    if (!k.hw_grid_begin(p.width, p.height, p.radius, AGGREGATIONS[p.aggregation] ?? 0)) return null;
    const [f = 0, margin = 0, gw = 0, gh = 0] = new Uint32Array(k.memory.buffer, k.hw_grid_geometry(), 4);
    return { f, margin, gw, gh };
  }

  /** Renders one frame from a binned grid instead of points (hw_density_grid): the same
   * footprint, colours and hit-testing as `frame`. The planes must match `gridGeometry(p)`
   * (Error otherwise); null when the kernel could not get memory. */
  densityGrid(p: FrameParams, geometry: GridGeometry, planes: GridPlanes): Frame | null {
    const k = this.k;
    const ptr = k.hw_grid_begin(p.width, p.height, p.radius, AGGREGATIONS[p.aggregation] ?? 0);
    if (!ptr) return this.finish(-1, p);
    const [f, margin, gw = 0, gh = 0] = new Uint32Array(k.memory.buffer, k.hw_grid_geometry(), 4);
    const g = geometry;
    if (f !== g.f || margin !== g.margin || gw !== g.gw || gh !== g.gh) {
      throw new Error(`grid geometry ${JSON.stringify(g)} is not this frame's (${f}, ${margin}, ${gw}, ${gh})`);
    }
    const n = gw * gh;
    const cells = new Float32Array(k.memory.buffer, ptr, 3 * n);
    [planes.sum, planes.count, planes.max].forEach((plane, i) => {
      if (!plane) return; // hw_grid_begin zeroed it
      if (plane.length !== n) throw new Error(`a grid plane of ${plane.length} cells, not ${n}`);
      cells.set(plane, i * n);
    });
    return this.finish(k.hw_density_grid(p.x0, p.y0, p.zoom), p);
  }

  /** Normalise and colour the density just computed (largest value `max`, -1: failed). */
  private finish(max: number, p: FrameParams): Frame | null {
    const k = this.k;
    if (max < 0) {
      this.last = null;
      return null;
    }
    this.last = { x0: p.x0, y0: p.y0, width: p.width, height: p.height };
    let vmax: number;
    if (typeof p.vmax === "number") vmax = p.vmax;
    else if (p.vmax.startsWith("p")) vmax = k.hw_frame_quantile(Number(p.vmax.slice(1)) / 100);
    else vmax = max;
    const scale = SCALES[p.scale] ?? 0;
    // Cheap (1 KB) and keeps the table right whatever happened to memory since setLut.
    new Uint8Array(k.memory.buffer, k.hw_lut(), 1024).set(this.lut);
    k.hw_colorize(p.vmin, vmax, scale, p.threshold);
    const dotsDrawn = p.dots && p.dots.mix > 0 ? Math.max(0, k.hw_dots(p.dots.radius, p.dots.mix, p.dots.cap)) : 0;
    const rgba = new Uint8ClampedArray(k.memory.buffer, k.hw_frame_rgba(), p.width * p.height * 4);
    const vmin = p.scale === "log" && !(p.vmin > 0) ? vmax / 1000 : p.vmin;
    const grid = new Float32Array(k.memory.buffer, k.hw_frame_grid(), p.width * p.height);
    return { image: new ImageData(rgba, p.width, p.height), vmin, vmax, max, grid, dotsDrawn };
  }

  /** The last frame's density at frame pixel (x, y) (data units), or null outside it. */
  valueAt(x: number, y: number): number | null {
    const f = this.last;
    const i = Math.floor(x), j = Math.floor(y);
    if (!f || i < 0 || j < 0 || i >= f.width || j >= f.height) return null;
    const k = this.k;
    return new Float32Array(k.memory.buffer, k.hw_frame_grid(), f.width * f.height)[j * f.width + i];
  }

  /** Points of the last frame (its view and time window) within `radius` px of (x, y). */
  countNear(x: number, y: number, radius: number): number | null {
    if (!this.last) return null;
    return this.k.hw_frame_count_near(x, y, radius) >>> 0;
  }

  /** Gives the kernel's memory back and drops the instance; the object is unusable after. */
  free(): void {
    this.wasm?.hw_release();
    this.wasm = null;
    this.count = 0;
  }
}

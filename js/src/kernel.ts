// The browser host of the heat kernel (js/kernel/heat.h is the ABI): one compiled module for
// the page, one instance — so one linear memory — per widget view.
import wasmBytes from "heatwidget:kernel-wasm";
import type { PointChunk, Points } from "./arrow";
import type { Aggregation, Scale, Vmax } from "./model";

const ABI_VERSION = 2;
const HAS_WEIGHT = 1;
const AGGREGATIONS: Record<Aggregation, number> = { sum: 0, count: 1, mean: 2, max: 3 };
const SCALES: Record<Scale, number> = { linear: 0, sqrt: 1, log: 2 };

/** The exports of heat.wasm. Pointers are byte offsets into `memory`, all kernel-owned. */
interface HeatExports {
  memory: WebAssembly.Memory;
  hw_abi_version(): number;
  hw_stage_capacity(): number;
  /** Staging rows: kernel-owned, written by the host, valid until the next [grows] call. */
  hw_stage_lon(): number;
  hw_stage_lat(): number;
  hw_stage_weight(): number;
  /** [grows] */
  hw_points_append(n: number, flags: number): number;
  /** [grows] */
  hw_points_reserve(capacity: number): number;
  hw_points_clear(): void;
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
}

// Compiling is the slow part and the module is immutable: every view shares one compile.
let compiled: Promise<WebAssembly.Module> | undefined;
function compileKernel(): Promise<WebAssembly.Module> {
  return (compiled ??= WebAssembly.compile(wasmBytes));
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
}

export interface Frame {
  /** A view of the kernel's RGBA: draw it before the next kernel call, which may move it. */
  image: ImageData;
  /** The colour domain used: vmin as the kernel applied it (log: vmax / 1000 if ≤ 0), vmax. */
  vmin: number;
  vmax: number;
  /** The largest density in the frame. */
  max: number;
}

export class OutOfMemoryError extends Error {}

export class HeatKernel {
  private wasm: HeatExports | null;
  /** The host's copy of the colour table, written into the kernel before each colouring. */
  private lut = new Uint8Array(1024);
  private count = 0;

  private constructor(exports: HeatExports) {
    this.wasm = exports;
  }

  static async create(): Promise<HeatKernel> {
    const instance = await WebAssembly.instantiate(await compileKernel(), {});
    const wasm = instance.exports as unknown as HeatExports;
    if (wasm.hw_abi_version() !== ABI_VERSION) {
      throw new Error(`heatwidget: kernel ABI ${wasm.hw_abi_version()}, expected ${ABI_VERSION}`);
    }
    return new HeatKernel(wasm);
  }

  get pointCount(): number {
    return this.count;
  }

  private get k(): HeatExports {
    if (!this.wasm) throw new Error("heatwidget: kernel used after free()");
    return this.wasm;
  }

  /** Replaces the points held. Each row is copied once, from the chunk into staging. */
  load(points: Points): void {
    const k = this.k;
    k.hw_points_clear();
    this.count = 0;
    if (k.hw_points_reserve(points.length) < 0) throw new OutOfMemoryError("heatwidget: out of memory");
    const cap = k.hw_stage_capacity();
    for (const chunk of points.chunks) {
      for (let start = 0; start < chunk.length; start += cap) {
        this.append(chunk, start, Math.min(cap, chunk.length - start));
      }
    }
  }

  private append(chunk: PointChunk, start: number, n: number): void {
    const k = this.k;
    // Views are made per call: the previous append may have grown memory.
    const buf = k.memory.buffer;
    new Float64Array(buf, k.hw_stage_lon(), n).set(chunk.lon.subarray(start, start + n));
    new Float64Array(buf, k.hw_stage_lat(), n).set(chunk.lat.subarray(start, start + n));
    if (chunk.weight) {
      new Float32Array(buf, k.hw_stage_weight(), n).set(chunk.weight.subarray(start, start + n));
    }
    const total = k.hw_points_append(n, chunk.weight ? HAS_WEIGHT : 0);
    if (total < 0) throw new OutOfMemoryError("heatwidget: out of memory");
    this.count = total;
  }

  setLut(bytes: Uint8Array): void {
    this.lut.fill(0);
    this.lut.set(bytes.subarray(0, 1024));
  }

  /** Renders one frame; null when the kernel could not get memory for it. */
  frame(p: FrameParams): Frame | null {
    const k = this.k;
    const max = k.hw_density(p.x0, p.y0, p.zoom, p.width, p.height, p.radius,
      AGGREGATIONS[p.aggregation] ?? 0);
    if (max < 0) return null;
    let vmax: number;
    if (typeof p.vmax === "number") vmax = p.vmax;
    else if (p.vmax.startsWith("p")) vmax = k.hw_frame_quantile(Number(p.vmax.slice(1)) / 100);
    else vmax = max;
    const scale = SCALES[p.scale] ?? 0;
    // Cheap (1 KB) and keeps the table right whatever happened to memory since setLut.
    new Uint8Array(k.memory.buffer, k.hw_lut(), 1024).set(this.lut);
    k.hw_colorize(p.vmin, vmax, scale, p.threshold);
    const rgba = new Uint8ClampedArray(k.memory.buffer, k.hw_frame_rgba(), p.width * p.height * 4);
    const vmin = p.scale === "log" && !(p.vmin > 0) ? vmax / 1000 : p.vmin;
    return { image: new ImageData(rgba, p.width, p.height), vmin, vmax, max };
  }

  /** Gives the kernel's memory back and drops the instance; the object is unusable after. */
  free(): void {
    this.wasm?.hw_release();
    this.wasm = null;
    this.count = 0;
  }
}

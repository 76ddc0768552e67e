// A stand-in for anywidget's model that records what the front end sends, and Arrow IPC
// stream bytes made with flechette's encoder (the same layout Python's pyarrow writes).
import { float32, float64, tableFromArrays, tableToIPC, uint32 } from "@uwdata/flechette";
import { WIRE_KEY, WIRE_VERSION, type WirePoints } from "../src/arrow";
import type { Model, TraitName, Traits } from "../src/model";

// biome-ignore lint/suspicious/noExplicitAny: the model's callbacks take any arguments
type Callback = (...args: any[]) => void;

export class FakeModel implements Model {
  readonly sent: { content: unknown; buffers?: unknown }[] = [];
  private handlers = new Map<string, Set<Callback>>();

  constructor(private state: Partial<Traits> = {}) {}

  /** Like a Backbone model's: what the widget manager serialises (get_state). */
  get attributes(): Partial<Traits> {
    return this.state;
  }

  get<K extends TraitName>(name: K): Traits[K] {
    return this.state[name] as Traits[K];
  }

  set<K extends TraitName>(name: K, value: Traits[K]): void {
    this.state[name] = value;
  }

  save_changes(): void {}

  send(content: unknown, _callbacks?: unknown, buffers?: unknown): void {
    this.sent.push({ content, buffers });
  }

  on(event: string, fn: Callback): void {
    const set = this.handlers.get(event) ?? new Set<Callback>();
    this.handlers.set(event, set);
    set.add(fn);
  }

  off(event?: string | null, fn?: Callback | null): void {
    if (event && fn) this.handlers.get(event)?.delete(fn);
  }

  listeners(event: string): number {
    return this.handlers.get(event)?.size ?? 0;
  }

  /** A custom message from Python. */
  custom(content: unknown, buffers?: (DataView | ArrayBuffer)[]): void {
    for (const fn of [...(this.handlers.get("msg:custom") ?? [])]) fn(content, buffers);
  }
}

export interface Columns {
  lon: number[];
  lat: number[];
  weight?: number[];
  time?: number[];
}

/** heat.h "Coordinates" in plain float64 maths (Python's encoder is the kernel's bit for bit;
 * tests here need rows, not those bits). */
export function fixedPoint(lon: number, lat: number): [number, number] {
  let nx = lon / 360 + 0.5;
  nx -= Math.floor(nx);
  const l = (Math.max(-85.0511287798, Math.min(85.0511287798, lat)) * Math.PI) / 180;
  const s = Math.sin(l);
  const ny = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  const y = Math.min(Math.max(Math.floor(ny * 2 ** 32), 0), 2 ** 32 - 2);
  return [Math.floor(nx * 2 ** 32) % 2 ** 32, y];
}

/** Wire-format bytes (docs/architecture.md "Wire format") of the columns, in record batches of
 * at most `batchRows` rows; `version` overrides the schema's format version (null: none). */
export function ipc(cols: Columns, batchRows?: number, version: string | null = WIRE_VERSION): Uint8Array {
  const xy = cols.lon.map((lon, i) => fixedPoint(lon, cols.lat[i]));
  const data: Record<string, Uint32Array | Float64Array | Float32Array> = {
    x: Uint32Array.from(xy.map((p) => p[0])),
    y: Uint32Array.from(xy.map((p) => p[1])),
  };
  if (cols.weight) data.weight = Float32Array.from(cols.weight);
  if (cols.time) data.time = Float64Array.from(cols.time);
  const types = { x: uint32(), y: uint32(), weight: float32(), time: float64() };
  const table = tableFromArrays(data, { types, maxBatchRows: batchRows });
  table.schema.metadata = version === null ? null : new Map([[WIRE_KEY, version]]);
  const bytes = tableToIPC(table, { format: "stream" });
  if (!bytes) throw new Error("flechette wrote no bytes");
  return bytes;
}

/** Fixed point → degrees at the unit's centre: the inverse of heat.h "Coordinates" (within
 * 1/128 px at zoom 18), as Python's heatwidget.points.wire.decode reads the wire. */
export function degreesOf(x: number, y: number): [number, number] {
  const ny = (y + 0.5) / 2 ** 32;
  const lat = (Math.atan(Math.sinh(Math.PI * (1 - 2 * ny))) * 180) / Math.PI;
  return [((x + 0.5) / 2 ** 32) * 360 - 180, lat];
}

/** The longitudes of rows, back from fixed point (to 1e-6 degrees). */
export function lonsOf(points: WirePoints): number[] {
  return points.chunks.flatMap((c) => [...c.x].map((x) => Math.round(degreesOf(x, 0)[0] * 1e6) / 1e6));
}

/** The bytes as Jupyter hands buffers over: a DataView. */
export const view = (bytes: Uint8Array): DataView =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** node has no ImageData: the frame's pixels are only wrapped, never drawn, in these tests. */
export function stubImageData(): void {
  globalThis.ImageData ??= class {
    constructor(
      readonly data: Uint8ClampedArray,
      readonly width: number,
      readonly height: number,
    ) {}
  } as unknown as typeof ImageData;
}

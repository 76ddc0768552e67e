// A stand-in for anywidget's model that records what the front end sends, and Arrow IPC
// stream bytes made with flechette's encoder (the same layout Python's pyarrow writes).
import { float32, float64, tableFromArrays, tableToIPC } from "@uwdata/flechette";
import type { Model, TraitName, Traits } from "../src/model";

// biome-ignore lint/suspicious/noExplicitAny: the model's callbacks take any arguments
type Callback = (...args: any[]) => void;

export class FakeModel implements Model {
  readonly sent: { content: unknown; buffers?: unknown }[] = [];
  private handlers = new Map<string, Set<Callback>>();

  constructor(private state: Partial<Traits> = {}) {}

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

/** IPC stream bytes of the columns, in record batches of at most `batchRows` rows. */
export function ipc(cols: Columns, batchRows?: number): Uint8Array {
  const data: Record<string, Float64Array | Float32Array> = {
    lon: Float64Array.from(cols.lon),
    lat: Float64Array.from(cols.lat),
  };
  if (cols.weight) data.weight = Float32Array.from(cols.weight);
  if (cols.time) data.time = Float64Array.from(cols.time);
  const types = { lon: float64(), lat: float64(), weight: float32(), time: float64() };
  const table = tableFromArrays(data, { types, maxBatchRows: batchRows });
  const bytes = tableToIPC(table, { format: "stream" });
  if (!bytes) throw new Error("flechette wrote no bytes");
  return bytes;
}

/** The bytes as Jupyter hands buffers over: a DataView. */
export const view = (bytes: Uint8Array): DataView =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

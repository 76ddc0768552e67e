// Arrow IPC stream bytes (the `_points` trait) → column views for the kernel, without copying
// the columns: each record batch becomes one chunk whose arrays view the received bytes.
import { tableFromIPC } from "@uwdata/flechette";

/** One record batch's columns. Views into the trait's bytes: valid while those bytes are. */
export interface PointChunk {
  lon: Float64Array;
  lat: Float64Array;
  /** Absent when the table has no weight column: every weight is 1. */
  weight?: Float32Array;
  /** Absent when the table has no time column (ms since the epoch). */
  time?: Float64Array;
  length: number;
}

export interface Points {
  chunks: PointChunk[];
  length: number;
  hasWeight: boolean;
  hasTime: boolean;
}

const COLUMNS = new Set(["lon", "lat", "weight", "time"]);

export const NO_POINTS: Points = { chunks: [], length: 0, hasWeight: false, hasTime: false };

type Ctor<T> = { new (values: ArrayLike<number>): T; from(values: ArrayLike<number>): T };
type Numbers = { length: number; subarray(a: number, b: number): Numbers };

// The wire format says float64/float32; anything else (a producer that skipped _inputs) is
// converted rather than misread. Fewer values than rows (a truncated or forged batch) throws:
// a chunk must never claim rows its arrays do not have.
function as<T extends Numbers>(values: unknown, type: Ctor<T>, length: number, name: string): T {
  const have = (values as ArrayLike<number> | null)?.length ?? 0;
  if (have < length) throw new Error(`heatwidget: column ${name} has ${have} values for ${length} rows`);
  if (values instanceof type) return values.subarray(0, length) as T;
  return type.from(Array.prototype.slice.call(values as ArrayLike<number>, 0, length));
}

// Numbers only: a string or 64-bit integer column (BigInt) is not a coordinate.
const TYPE_INT = 2;
const TYPE_FLOAT = 3;
function checkNumeric(field: { name: string; type: { typeId: number; bitWidth?: number } }): void {
  const { typeId, bitWidth } = field.type;
  if (typeId === TYPE_FLOAT || (typeId === TYPE_INT && (bitWidth ?? 64) <= 32)) return;
  throw new Error(`heatwidget: column ${field.name} is not float64/float32 (Arrow type ${typeId})`);
}

export function decodePoints(bytes: Uint8Array): Points {
  if (bytes.byteLength === 0) return NO_POINTS;
  // Arrow buffers are 8-byte aligned within the stream; flechette makes Float64Array views at
  // those offsets, which needs the stream itself to start 8-byte aligned. Jupyter's buffers do,
  // but a view into a larger message may not: only then copy.
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  const table = tableFromIPC(bytes);
  const names = new Set(table.schema.fields.map((f) => f.name));
  if (!names.has("lon") || !names.has("lat")) {
    throw new Error(`heatwidget: _points needs lon and lat columns, got ${[...names].join(", ")}`);
  }
  // Other columns (a newer producer's) are ignored; ours must be numbers.
  for (const f of table.schema.fields) if (COLUMNS.has(f.name)) checkNumeric(f);
  const lon = table.getChild("lon");
  const lat = table.getChild("lat");
  const weight = names.has("weight") ? table.getChild("weight") : null;
  const time = names.has("time") ? table.getChild("time") : null;
  const chunks: PointChunk[] = [];
  let length = 0;
  for (let b = 0; b < lon.data.length; b++) {
    const n = lon.data[b].length;
    if (n === 0) continue;
    chunks.push({
      lon: as(lon.data[b].values, Float64Array, n, "lon"),
      lat: as(lat.data[b]?.values, Float64Array, n, "lat"),
      weight: weight ? as(weight.data[b]?.values, Float32Array, n, "weight") : undefined,
      time: time ? as(time.data[b]?.values, Float64Array, n, "time") : undefined,
      length: n,
    });
    length += n;
  }
  // The rows are what the chunks hold, whatever the batches' headers claim.
  return { chunks, length, hasWeight: weight !== null, hasTime: time !== null };
}

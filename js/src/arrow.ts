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

export const NO_POINTS: Points = { chunks: [], length: 0, hasWeight: false, hasTime: false };

type Ctor<T> = { new (values: ArrayLike<number>): T; from(values: ArrayLike<number>): T };

// The wire format says float64/float32; anything else (a producer that skipped _inputs) is
// converted rather than misread.
function as<T>(values: unknown, type: Ctor<T>, length: number): T {
  if (values instanceof type) {
    return (values as unknown as { subarray(a: number, b: number): T }).subarray(0, length);
  }
  return type.from(Array.prototype.slice.call(values as ArrayLike<number>, 0, length));
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
  const lon = table.getChild("lon");
  const lat = table.getChild("lat");
  const weight = names.has("weight") ? table.getChild("weight") : null;
  const time = names.has("time") ? table.getChild("time") : null;
  const chunks: PointChunk[] = [];
  for (let b = 0; b < lon.data.length; b++) {
    const n = lon.data[b].length;
    if (n === 0) continue;
    chunks.push({
      lon: as(lon.data[b].values, Float64Array, n),
      lat: as(lat.data[b].values, Float64Array, n),
      weight: weight ? as(weight.data[b].values, Float32Array, n) : undefined,
      time: time ? as(time.data[b].values, Float64Array, n) : undefined,
      length: n,
    });
  }
  return { chunks, length: table.numRows, hasWeight: weight !== null, hasTime: time !== null };
}

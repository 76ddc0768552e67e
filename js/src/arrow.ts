// Arrow IPC stream bytes (the `_points` trait, deltas and resets) → column views for the kernel,
// without copying the columns: each record batch becomes one chunk whose arrays view the
// received bytes. Wire format 2 (docs/architecture.md "Wire format"): x, y uint32 (the
// kernel's fixed-point Web Mercator, heat.h "Coordinates"), weight float32, time float64, and
// the version in the schema's metadata.
import { tableFromIPC } from "@uwdata/flechette";

/** One record batch's columns. Views into the received bytes: valid while those bytes are. */
export interface WireChunk {
  x: Uint32Array;
  y: Uint32Array;
  /** Absent when the table has no weight column: every weight is 1. */
  weight?: Float32Array;
  /** Absent when the table has no time column (ms since the epoch). */
  time?: Float64Array;
  length: number;
}

export interface WirePoints {
  chunks: WireChunk[];
  length: number;
  hasWeight: boolean;
  hasTime: boolean;
}

/** The wire format this front end reads, and where the producer says which it wrote. */
export const WIRE_VERSION = "2";
export const WIRE_KEY = "heatwidget.wire";

export const NO_POINTS: WirePoints = { chunks: [], length: 0, hasWeight: false, hasTime: false };

type Ctor<T> = { new (values: ArrayLike<number>): T; from(values: ArrayLike<number>): T };
type Numbers = { length: number; subarray(a: number, b: number): Numbers };

// Fewer values than rows (a truncated or forged batch) throws: a chunk must never claim rows
// its arrays do not have.
function as<T extends Numbers>(values: unknown, type: Ctor<T>, length: number, name: string): T {
  const have = (values as ArrayLike<number> | null)?.length ?? 0;
  if (have < length) throw new Error(`heatwidget: column ${name} has ${have} values for ${length} rows`);
  if (values instanceof type) return values.subarray(0, length) as T;
  throw new Error(`heatwidget: column ${name} is not ${type.name.replace("Array", "").toLowerCase()}`);
}

// Arrow type ids (flechette's Type): the wire's columns are exactly these; anything else is a
// producer that does not speak the format, refused rather than misread.
const TYPE_INT = 2;
const TYPE_FLOAT = 3;
const WIRE_TYPES: Record<string, { typeId: number; bits: number; signed?: boolean }> = {
  x: { typeId: TYPE_INT, bits: 32, signed: false },
  y: { typeId: TYPE_INT, bits: 32, signed: false },
  weight: { typeId: TYPE_FLOAT, bits: 32 },
  time: { typeId: TYPE_FLOAT, bits: 64 },
};

type FieldLike = { name: string; type: { typeId: number; bitWidth?: number; precision?: number; signed?: boolean } };
function checkType(field: FieldLike): void {
  const want = WIRE_TYPES[field.name];
  const t = field.type;
  const bits = t.typeId === TYPE_FLOAT ? 16 << (t.precision ?? -1) : t.bitWidth;
  if (t.typeId === want.typeId && bits === want.bits && (want.signed === undefined || t.signed === want.signed)) return;
  const wanted = want.typeId === TYPE_INT ? "uint32" : `float${want.bits}`;
  throw new Error(`heatwidget: column ${field.name} is not ${wanted} (Arrow type ${t.typeId}/${bits})`);
}

export function decodePoints(bytes: Uint8Array): WirePoints {
  if (bytes.byteLength === 0) return NO_POINTS;
  // Arrow buffers are 8-byte aligned within the stream; flechette makes Float64Array views at
  // those offsets, which needs the stream itself to start 8-byte aligned. Jupyter's buffers do,
  // but a view into a larger message may not: only then copy.
  if (bytes.byteOffset % 8 !== 0) bytes = bytes.slice();
  const table = tableFromIPC(bytes);
  const version = table.schema.metadata?.get(WIRE_KEY);
  if (version !== WIRE_VERSION) {
    throw new Error(
      `heatwidget: the points are in wire format ${version ?? "1 (no version)"}, this front end reads ` +
        `${WIRE_VERSION}: the Python package and the page are of different heatwidget versions ` +
        "(reload the page after upgrading)",
    );
  }
  const names = new Set(table.schema.fields.map((f) => f.name));
  if (!names.has("x") || !names.has("y")) {
    throw new Error(`heatwidget: _points needs x and y columns, got ${[...names].join(", ")}`);
  }
  // Other columns (a newer producer's) are ignored; ours must be of their types.
  for (const f of table.schema.fields) if (f.name in WIRE_TYPES) checkType(f);
  const x = table.getChild("x");
  const y = table.getChild("y");
  const weight = names.has("weight") ? table.getChild("weight") : null;
  const time = names.has("time") ? table.getChild("time") : null;
  const chunks: WireChunk[] = [];
  let length = 0;
  for (let b = 0; b < x.data.length; b++) {
    const n = x.data[b].length;
    if (n === 0) continue;
    chunks.push({
      x: as(x.data[b].values, Uint32Array, n, "x"),
      y: as(y.data[b]?.values, Uint32Array, n, "y"),
      weight: weight ? as(weight.data[b]?.values, Float32Array, n, "weight") : undefined,
      time: time ? as(time.data[b]?.values, Float64Array, n, "time") : undefined,
      length: n,
    });
    length += n;
  }
  // The rows are what the chunks hold, whatever the batches' headers claim.
  return { chunks, length, hasWeight: weight !== null, hasTime: time !== null };
}

// Every custom message between Python (heatwidget/widget/heatmap.py, views/snapshot.py,
// views/cell_wait.py) and the views, as it is on the wire. Trait changes are not messages.
//
// Python → view (ToView; one router per model dispatches them, see `listen`):
//   delta       {type: "delta", seq, rows, drop} + one Arrow IPC buffer when rows > 0:
//               append the rows, then forget the oldest `drop` (store.ts)
//   reset       {type: "reset", seq, rows?, parts?} + one IPC buffer: replace every row
//               (store.ts); a big one comes in `parts` (its first here, `rows` the total)
//   part        {type: "part", seq, part} + one IPC buffer: part 1 … parts − 1 of that reset
//   snapshot    {type: "snapshot", id}: send a PNG of this view (snapshot.ts)
//   ping        {type: "ping", id}: answer with a view "pong" (snapshot.ts; cell_wait.py)
//   fit_bounds  {type: "fit_bounds", bounds: [south, west, north, east], animate} (index.ts)
//   fly_to      {type: "fly_to", center: [lat, lon], zoom: number | null} (index.ts)
//   grid        server mode, the answer to a view's grid request (grid-layer.ts): {type: "grid",
//               id, f, margin, gw, gh, planes: ["sum" | "count" | "max", ...], rows, sum,
//               largest} + one float32 buffer (gh x gw) per plane, or {type: "grid", id, error}
//
// View → Python (ToPython; sent with `send`):
//   hello       {type: "hello", seq}: a model's store started holding rows up to seq
//   resync      {type: "resync", seq}: the store saw a gap in the deltas after seq
//   view        {type: "view", view, event: "hello" | "bye" | "pong", id?}: a view's life
//   snapshot    {type: "snapshot", id, view, index, count, width?, height?, tiles?,
//               tile_count?, ms?} + one PNG chunk buffer, or {type: "snapshot", id, view, error}
//   click       {type: "click", lat, lon, value, count, x, y} (when _listen has "click")
//   hover       {type: "hover", lat, lon, value, count, x, y} (when _listen has "hover")
//   grid        server mode: {type: "grid", id, x0, y0, zoom, width, height, radius,
//               aggregation, t0, t1}: this view's frame (t0/t1 ms or null), answered by id
//
// A message that is malformed or of an unknown type is ignored with a console warning (a
// malformed one of a known type is also reported to the tables' `malformed` handler: the
// store asks for a resync when a delta or reset is); a handler that throws is logged. Nothing
// reaches the view's own code as an exception.
import { type Aggregation, MAX_MESSAGE_BYTES, type Model } from "./model";

export type Bounds = [number, number, number, number];

export interface DeltaMsg {
  type: "delta";
  seq: number;
  rows: number;
  drop: number;
}
export interface ResetMsg {
  type: "reset";
  seq: number;
  /** All the reset's rows, and in how many messages they come (1: this one holds them all). */
  rows: number | null;
  parts: number;
}
export interface PartMsg {
  type: "part";
  seq: number;
  part: number;
}
export interface SnapshotRequest {
  type: "snapshot";
  id: string;
}
export interface PingMsg {
  type: "ping";
  id: string;
}
export interface FitBoundsMsg {
  type: "fit_bounds";
  bounds: Bounds;
  animate: boolean;
}
export interface FlyToMsg {
  type: "fly_to";
  center: [number, number];
  zoom: number | null;
}

export type GridPlane = "sum" | "count" | "max";
export interface GridAnswerMsg {
  type: "grid";
  id: number;
  f: number;
  margin: number;
  gw: number;
  gh: number;
  planes: GridPlane[];
  /** Rows in the grid, their summed weight, the largest weight: the grid's domain. */
  rows: number;
  sum: number;
  largest: number;
  error?: undefined;
}
export interface GridErrorMsg {
  type: "grid";
  id: number;
  error: string;
}

export type ToView = DeltaMsg | ResetMsg | PartMsg | SnapshotRequest | PingMsg | FitBoundsMsg | FlyToMsg | GridAnswerMsg | GridErrorMsg;
export type ToViewType = ToView["type"];

export interface HelloMsg {
  type: "hello";
  seq: number;
}
export interface ResyncMsg {
  type: "resync";
  seq: number;
}
export interface ViewEventMsg {
  type: "view";
  view: string;
  event: "hello" | "bye" | "pong";
  id?: string;
}
export interface SnapshotChunkMsg {
  type: "snapshot";
  id: string;
  view: string;
  index: number;
  count: number;
  /** The first chunk only. */
  width?: number;
  height?: number;
  tiles?: string;
  tile_count?: number;
  ms?: number;
}
export interface SnapshotErrorMsg {
  type: "snapshot";
  id: string;
  view: string;
  error: string;
}
/** What the pointer is over: the view's last frame at that pixel. */
export interface PointerInfo {
  lat: number;
  lon: number;
  value: number | null;
  count: number | null;
  x: number;
  y: number;
}
export interface PointerMsg extends PointerInfo {
  type: "click" | "hover";
}

/** What a server-mode grid depends on: the frame, its radius in px, aggregation and time
 * window (ms). */
export interface GridSpec {
  x0: number;
  y0: number;
  zoom: number;
  width: number;
  height: number;
  radius: number;
  aggregation: Aggregation;
  t0: number | null;
  t1: number | null;
}

export interface GridRequestMsg extends GridSpec {
  type: "grid";
  id: number;
}

export type ToPython =
  | GridRequestMsg
  | HelloMsg
  | ResyncMsg
  | ViewEventMsg
  | SnapshotChunkMsg
  | SnapshotErrorMsg
  | PointerMsg;

export type Buffers = readonly (DataView | ArrayBuffer)[];
type MessageOf<K extends ToViewType> = Extract<ToView, { type: K }>;
export type Handlers = { [K in ToViewType]?: (msg: MessageOf<K>, buffers: Buffers) => void } & {
  /** A message of a known type whose fields are wrong. */
  malformed?: (type: ToViewType, msg: unknown) => void;
};

type Fields = Record<string, unknown>;
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
/** Sequence numbers and row counts: integers ≥ 0 that a double holds exactly. */
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const optCount = (v: unknown): boolean => v === undefined || isCount(v);
const isNums = (v: unknown, n: number): boolean =>
  Array.isArray(v) && v.length === n && v.every(isNum);
const PLANES: ReadonlySet<string> = new Set(["sum", "count", "max"]);
const isPlanes = (v: unknown): v is GridPlane[] =>
  Array.isArray(v) && v.length > 0 && v.length <= 3 && new Set(v).size === v.length &&
  v.every((p) => typeof p === "string" && PLANES.has(p));

// One parser per type: the message as its type says it is, or null when a field is wrong.
const parsers: { [K in ToViewType]: (m: Fields) => MessageOf<K> | null } = {
  delta: (m) =>
    isCount(m.seq) && optCount(m.rows) && optCount(m.drop)
      ? { type: "delta", seq: m.seq, rows: (m.rows as number) ?? 0, drop: (m.drop as number) ?? 0 }
      : null,
  reset: (m) => {
    if (!isCount(m.seq)) return null;
    if (m.parts === undefined) return { type: "reset", seq: m.seq, rows: null, parts: 1 };
    return isCount(m.parts) && m.parts >= 1 && isCount(m.rows)
      ? { type: "reset", seq: m.seq, rows: m.rows, parts: m.parts }
      : null;
  },
  part: (m) =>
    isCount(m.seq) && isCount(m.part) && m.part >= 1
      ? { type: "part", seq: m.seq, part: m.part }
      : null,
  snapshot: (m) => (typeof m.id === "string" ? { type: "snapshot", id: m.id } : null),
  ping: (m) => (typeof m.id === "string" ? { type: "ping", id: m.id } : null),
  fit_bounds: (m) =>
    isNums(m.bounds, 4) && (m.animate === undefined || typeof m.animate === "boolean")
      ? { type: "fit_bounds", bounds: m.bounds as Bounds, animate: m.animate !== false }
      : null,
  fly_to: (m) =>
    isNums(m.center, 2) && (m.zoom == null || isNum(m.zoom))
      ? { type: "fly_to", center: m.center as [number, number], zoom: (m.zoom as number) ?? null }
      : null,
  grid: (m) => {
    if (!isCount(m.id)) return null;
    if (typeof m.error === "string") return { type: "grid", id: m.id, error: m.error };
    const ok = isCount(m.f) && isCount(m.margin) && isCount(m.gw) && isCount(m.gh) &&
      isPlanes(m.planes) && isNum(m.rows) && isNum(m.sum) && isNum(m.largest);
    return ok ? {
      type: "grid", id: m.id, f: m.f as number, margin: m.margin as number, gw: m.gw as number,
      gh: m.gh as number, planes: m.planes as GridPlane[], rows: m.rows as number,
      sum: m.sum as number, largest: m.largest as number,
    } : null;
  },
};

// A set, not `in parsers`: "toString" or "__proto__" are in every object.
const TYPES: ReadonlySet<string> = new Set(Object.keys(parsers));
const isType = (t: unknown): t is ToViewType => typeof t === "string" && TYPES.has(t);

/** A message from Python as its type, or null (and a warning) when it is not one we know. */
export function parse(msg: unknown): ToView | null {
  const type = typeof msg === "object" && msg !== null ? (msg as Fields).type : undefined;
  if (!isType(type)) {
    console.warn("heatwidget: ignoring a message of unknown type", msg);
    return null;
  }
  const parsed = parsers[type](msg as Fields);
  if (!parsed) console.warn(`heatwidget: ignoring a malformed "${type}" message`, msg);
  return parsed;
}

/** The one msg:custom listener of a model: parses each message once, then calls the handler
 * of its type in every table listening (the store's, each view's). */
class Router {
  readonly tables = new Set<Handlers>();

  constructor(private model: Model) {
    model.on("msg:custom", this.dispatch);
  }

  dispatch = (msg: unknown, buffers?: Buffers): void => {
    const parsed = parse(msg);
    // Jupyter gives a list of DataViews; anything else is no buffer at all.
    if (parsed) route(parsed, Array.isArray(buffers) ? buffers : [], this.tables);
    else {
      const type = typeof msg === "object" && msg !== null ? (msg as Fields).type : undefined;
      if (isType(type)) malformed(type, msg, this.tables);
    }
  };

  dispose(): void {
    this.model.off("msg:custom", this.dispatch);
  }
}

/** Calls each table's handler for `msg`; a handler that throws is logged, the others still run. */
export function route(msg: ToView, buffers: Buffers, tables: Iterable<Handlers>): void {
  for (const table of tables) {
    const handler = table[msg.type] as ((m: ToView, b: Buffers) => void) | undefined;
    if (!handler) continue;
    try {
      handler(msg, buffers);
    } catch (err) {
      console.error(`heatwidget: handling a "${msg.type}" message failed`, err);
    }
  }
}

function malformed(type: ToViewType, msg: unknown, tables: Iterable<Handlers>): void {
  for (const table of tables) {
    try {
      table.malformed?.(type, msg);
    } catch (err) {
      console.error(`heatwidget: handling a malformed "${type}" message failed`, err);
    }
  }
}

const routers = new WeakMap<Model, Router>();

/** Listens to the model's messages with `handlers`; returns the unsubscribe. */
export function listen(model: Model, handlers: Handlers): () => void {
  let router = routers.get(model);
  if (!router) {
    router = new Router(model);
    routers.set(model, router);
  }
  const r = router;
  r.tables.add(handlers);
  return () => {
    r.tables.delete(handlers);
    if (r.tables.size === 0 && routers.get(model) === r) {
      r.dispose();
      routers.delete(model);
    }
  };
}

/** Sends a message to Python; refuses (and logs) JSON near the message limit. False when it
 * was not sent. Buffers go beside the JSON (a snapshot's PNG chunk). */
export function send(model: Model, msg: ToPython, buffers?: ArrayBuffer[]): boolean {
  const size = JSON.stringify(msg).length;
  if (size > MAX_MESSAGE_BYTES) {
    console.error(`heatwidget: not sending a ${size}-byte message (limit ${MAX_MESSAGE_BYTES})`);
    return false;
  }
  model.send(msg, undefined, buffers);
  return true;
}

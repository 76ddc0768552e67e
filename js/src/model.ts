// The widget's synced traits as the front end sees them (docs/architecture.md, "Widget traits"),
// and the slice of anywidget's model interface the front end uses.

export type Aggregation = "sum" | "count" | "mean" | "max";
export type Scale = "linear" | "sqrt" | "log";
/** A number, "auto" (the frame's maximum) or "p<q>" (the frame's q-th percentile). */
export type Vmax = number | "auto" | `p${number}`;

export interface Tiles {
  url: string;
  attribution?: string;
  max_zoom?: number;
}

export interface Traits {
  /** Arrow IPC stream bytes; anywidget hands binary traits over as DataView. */
  _points: DataView | ArrayBuffer | Uint8Array | null;
  point_count: number;
  data_bounds: [number, number, number, number] | null;
  center: [number, number] | null;
  zoom: number | null;
  radius: number;
  radius_units: "pixels" | "meters";
  _lut: DataView | ArrayBuffer | Uint8Array | null;
  opacity: number;
  aggregation: Aggregation;
  vmin: number;
  vmax: Vmax;
  scale: Scale;
  threshold: number;
  _tiles: Tiles | null;
  legend: boolean;
  legend_title: string;
  height: number;
  _seq: number;
  _uid: string;
  max_points: number | null;
  /** [start, end) in ms since the epoch; null: unbounded on that side. */
  time_window: [number | null, number | null] | null;
  time_extent: [number, number] | null;
  /** Seconds. */
  time_decay: number | null;
  time_step: number | null;
  /** Steps per second. */
  time_speed: number;
  play: boolean;
  bounds: [number, number, number, number] | null;
  _tooltip: boolean;
  _listen: string[];
  /** A GeoJSON Polygon/MultiPolygon in lon/lat, checked by Python; null: no selection. */
  selection: SelectionGeometry | null;
  /** Density levels to draw isolines at, "auto", or null (none). */
  contours: number[] | "auto" | null;
  /** From this zoom on, the points are drawn instead of the heat; null: never. */
  points_zoom: number | null;
  points_radius: number;
  /** "server": the rows stay in Python and each view asks for its grids (grid-layer.ts). */
  mode: "client" | "server";
  /** Server mode: the number of the data served; a change makes every grid out of date. */
  _grid_version: number;
}

export type SelectionGeometry =
  | { type: "Polygon"; coordinates: number[][][] }
  | { type: "MultiPolygon"; coordinates: number[][][][] };

export type TraitName = keyof Traits;

// biome-ignore lint/suspicious/noExplicitAny: anywidget's callbacks take any arguments
type Callback = (...args: any[]) => void;

/** What anywidget's `model` offers (a subset; see anywidget's AnyModel). */
export interface Model {
  get<K extends TraitName>(name: K): Traits[K];
  set<K extends TraitName>(name: K, value: Traits[K]): void;
  save_changes(): void;
  send(content: unknown, callbacks?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): void;
  on(event: string, callback: Callback): void;
  off(event?: string | null, callback?: Callback | null): void;
}

/** Bytes of a binary trait without copying, whatever form the transport gave them in. */
export function bytesOf(value: DataView | ArrayBuffer | Uint8Array | null | undefined): Uint8Array {
  if (!value) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** Tornado drops the connection on a message over 10 MiB (websocket_max_message_size): the
 * front end keeps every message to Python far below it. */
export const MAX_MESSAGE_BYTES = 1 << 20;

/** A trait's value, or its Python default where the model lacks it. */
export type Getter = <K extends TraitName>(name: K) => Traits[K];

// Used where a trait is missing (an older or hand-made model), matching the Python defaults.
const DEFAULTS: Partial<Traits> = {
  radius: 25,
  opacity: 0.8,
  aggregation: "sum",
  vmin: 0,
  vmax: "auto",
  scale: "linear",
  threshold: 0,
  legend: true,
  legend_title: "",
  height: 450,
  time_speed: 4,
  play: false,
  _tooltip: false,
  _listen: [],
};

export function traitGetter(model: Model): Getter {
  return <K extends TraitName>(name: K) => (model.get(name) ?? DEFAULTS[name]) as Traits[K];
}

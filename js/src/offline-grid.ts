// A server-mode map saved with save_html (heatwidget/export/served_html.py): the page has no
// Python, so its views' "grid" requests are answered here from the pyramid levels embedded in
// the file (per-pixel sum/count/max of zooms 0..deepest). A frame at an integer zoom held
// with an integer origin bins exactly (its pixels are the level's pixels); any other frame
// bins the cells of level min(ceil(zoom) + 2, deepest) at their centres, as
// heatwidget/aggregate/aggregator.py does. Deeper than the deepest level the heat is that
// level's (coarser than the rows): a note on the map says so. The binning repeats
// heatwidget/aggregate/frame.py (itself frame.c's FOR_EACH_XY) operation for operation.
import { type GridGeometry, HeatKernel } from "./kernel";
import type { Aggregation } from "./model";
import type { GridPlane, GridRequestMsg } from "./protocol";

/** One embedded level: its cells' pixel x, y and their sum, count and largest weight. */
interface Level {
  level: number;
  px: Uint32Array;
  py: Uint32Array;
  total: Float32Array;
  count: Float32Array;
  largest: Float32Array;
}

export type Answer = [Record<string, unknown>, ArrayBuffer[]];
export type OfflineServer = (msg: unknown) => Promise<Answer | null>;

const PLANES: Record<Aggregation, GridPlane[]> = {
  sum: ["sum", "count"],
  count: ["count"],
  mean: ["sum", "count"],
  max: ["max", "count"],
};
const FIX = 4294967296;
const NO_POSITION = 0xffffffff;

/** The levels in `bytes`: per level [px u32, py u32, total, count, largest f32] × n cells. */
export function readLevels(bytes: DataView, table: [number, number][]): Level[] {
  const out: Level[] = [];
  let at = bytes.byteOffset;
  const buf = bytes.buffer.slice(at, at + bytes.byteLength) as ArrayBuffer; // aligned copy
  at = 0;
  for (const [level, n] of table) {
    const take = <T>(make: new (b: ArrayBuffer, o: number, n: number) => T): T => {
      const v = new make(buf, at, n);
      at += 4 * n;
      return v;
    };
    out.push({
      level, px: take(Uint32Array), py: take(Uint32Array), total: take(Float32Array),
      count: take(Float32Array), largest: take(Float32Array),
    });
  }
  return out;
}

/** The part of a view's grid request the offline file answers (no time window offline). */
type Request = Omit<GridRequestMsg, "type" | "t0" | "t1">;

function worldOf(zoom: number): number {
  const zi = Math.floor(zoom);
  const zf = zoom - zi;
  const w = 256 * 2 ** zi;
  return zf > 0 ? w * 2 ** zf : w;
}

/** The planes (sum, count, max) of `lv`'s cells binned into the frame (frame.py's cells()). */
export function binLevel(r: Request, g: GridGeometry, lv: Level, centre: boolean): Float64Array[] {
  const n = g.gw * g.gh;
  const sum = new Float64Array(n);
  const count = new Float64Array(n);
  const max = new Float64Array(n);
  const world = worldOf(r.zoom);
  const s = world / FIX;
  const m = g.margin;
  let left = (r.x0 - m) / world;
  left -= Math.floor(left);
  const fx = left * FIX;
  const fl = Math.floor(fx);
  const ox = fl >>> 0;
  const oxFracPx = (fx - fl) * s;
  const oyPx = r.y0 - m;
  const pw = r.width + 2 * m;
  const ph = r.height + 2 * m;
  const invF = 1 / g.f;
  const shift = 2 ** (24 - lv.level);
  const half = centre ? 2 ** (23 - lv.level) : 0;
  const wide = pw > world * 0.5;
  const add = (cell: number, i: number): void => {
    sum[cell]! += lv.total[i]!;
    count[cell]! += lv.count[i]!;
    if (lv.largest[i]! > max[cell]!) max[cell] = lv.largest[i]!;
  };
  for (let i = 0; i < lv.px.length; i++) {
    const x = (lv.px[i]! * shift + half) >>> 0;
    const y = (lv.py[i]! * shift + half) >>> 0;
    if (y === NO_POSITION) continue;
    const py = y * s - oyPx;
    if (!(py >= 0 && py < ph)) continue;
    const row = Math.trunc(py * invF) * g.gw;
    let px = ((x - ox) | 0) * s - oxFracPx;
    if (!wide) {
      if (px >= 0 && px < pw) add(row + Math.trunc(px * invF), i);
      continue;
    }
    if (px < 0) px += world; // every copy of the world that meets the frame
    for (; px < pw; px += world) add(row + Math.trunc(px * invF), i);
  }
  return [sum, count, max];
}

function request(msg: unknown): Request | null {
  if (typeof msg !== "object" || msg === null) return null;
  const r = msg as Record<string, unknown>;
  const nums = ["id", "x0", "y0", "zoom", "width", "height", "radius"] as const;
  if (r.type !== "grid" || nums.some((k) => typeof r[k] !== "number" || !Number.isFinite(r[k]))) {
    return null;
  }
  if (typeof r.aggregation !== "string" || !(r.aggregation in PLANES)) return null;
  return r as unknown as Request;
}

/** The page's answerer of grid requests, or null when the page embeds no levels. `note` is the
 * text shown on the map (which levels are embedded, and what deeper zooms show). */
export function offlineServer(
  state: Record<string, unknown>,
  root: HTMLElement,
): OfflineServer | null {
  const table = state._offline_levels as [number, number][] | undefined;
  const bytes = state._offline as DataView | undefined;
  if (!table?.length || !(bytes instanceof DataView)) return null;
  const levels = readLevels(bytes, table);
  const deepest = levels[levels.length - 1]!;
  const note = document.createElement("div");
  note.className = "heatwidget-offline-note";
  note.textContent = String(state._offline_note ?? "");
  Object.assign(note.style, {
    position: "absolute", bottom: "22px", left: "8px", zIndex: "1000", padding: "2px 6px",
    background: "rgba(255,255,255,0.85)", font: "11px sans-serif", color: "#333",
    borderRadius: "3px", pointerEvents: "none", maxWidth: "60%",
  });
  root.append(note);
  root.dataset.offlineLevels = String(deepest.level); // the page div (#heatwidget-page)
  const kernel = HeatKernel.create();
  return async (msg: unknown): Promise<Answer | null> => {
    const r = request(msg);
    if (!r) return null;
    const geometry = (await kernel).gridGeometry(r);
    if (!geometry) return [{ type: "grid", id: r.id, error: "no grid for this frame" }, []];
    const z = r.zoom;
    const exact = Number.isInteger(z) && Number.isInteger(r.x0) && Number.isInteger(r.y0);
    const wanted = exact && z <= deepest.level ? z : Math.min(Math.ceil(z) + 2, deepest.level);
    const lv = levels.find((l) => l.level === wanted) ?? deepest;
    const centre = !(exact && lv.level === z);
    note.dataset.deeper = z > deepest.level ? "1" : "0";
    const [sum, count, max] = binLevel(r, geometry, lv, centre);
    const planes: Record<GridPlane, Float64Array> = { sum: sum!, count: count!, max: max! };
    const names = PLANES[r.aggregation];
    let rows = 0;
    let total = 0;
    let largest = 0;
    for (let i = 0; i < count!.length; i++) {
      rows += count![i]!;
      total += sum![i]!;
      if (max![i]! > largest) largest = max![i]!;
    }
    const answer = {
      type: "grid", id: r.id, ...geometry, planes: names, rows: Math.round(rows),
      sum: Math.fround(total), largest,
    };
    return [answer, names.map((name) => Float32Array.from(planes[name]).buffer)];
  };
}

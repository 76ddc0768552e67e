// Server mode's view side: one request in flight, the latest wins, stale answers dropped, the
// last grid moved at once, and the kernel drawing a grid.
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { BUSY_MS, type Grid, GridClient, type GridSpec, resample } from "../src/grid-layer";
import { HeatKernel } from "../src/kernel";
import type { GridAnswerMsg, GridRequestMsg } from "../src/protocol";
import { stubImageData } from "./helpers";

afterEach(() => vi.useRealTimers());

beforeAll(stubImageData);

const spec = (x0: number, extra: Partial<GridSpec> = {}): GridSpec => ({
  x0, y0: 0, zoom: 3, width: 4, height: 2, radius: 0, aggregation: "count", t0: null, t1: null,
  ...extra,
});

function client() {
  const sent: GridRequestMsg[] = [];
  const grids: Grid[] = [];
  const busy: boolean[] = [];
  const c = new GridClient({
    send: (m) => sent.push(m) > 0, onGrid: (g) => grids.push(g), onBusy: (b) => busy.push(b),
  });
  return { c, sent, grids, busy };
}

function answer(req: GridRequestMsg, gw = 4, gh = 2, fill = 1): [GridAnswerMsg, ArrayBuffer[]] {
  const plane = new Float32Array(gw * gh).fill(fill);
  const msg: GridAnswerMsg = {
    type: "grid", id: req.id, f: 1, margin: 0, gw, gh, planes: ["count"], rows: gw * gh * fill,
    sum: 0, largest: 0,
  };
  return [msg, [plane.buffer]];
}

describe("GridClient", () => {
  it("keeps one request in flight and sends only the latest frame after it", () => {
    const { c, sent, grids } = client();
    c.want(spec(0));
    c.want(spec(1));
    c.want(spec(2));
    expect(sent.map((m) => m.x0)).toEqual([0]);
    expect(c.receive(...answer(sent[0]!))).toBe(true);
    expect(grids.map((g) => g.spec.x0)).toEqual([0]);
    expect(sent.map((m) => m.x0)).toEqual([0, 2]); // 1 was superseded, never sent
    c.receive(...answer(sent[1]!));
    c.want(spec(2)); // has it: no request
    expect(sent).toHaveLength(2);
  });

  it("drops answers whose id is not the one in flight", () => {
    const { c, sent, grids } = client();
    c.want(spec(0));
    const [msg, bufs] = answer(sent[0]!);
    expect(c.receive({ ...msg, id: msg.id + 1 }, bufs)).toBe(false);
    expect(c.stale).toBe(1);
    expect(grids).toHaveLength(0);
    c.invalidate(); // new data: the answer awaited is out of date, and asked again
    expect(c.receive(msg, bufs)).toBe(false);
    expect(sent).toHaveLength(2);
    expect(c.receive(...answer(sent[1]!))).toBe(true);
    expect(c.latest?.spec.x0).toBe(0);
  });

  it("gives each view of a model its own grids (every view hears every answer)", () => {
    const a = client(), b = client();
    a.c.want(spec(0));
    b.c.want(spec(5));
    expect(a.sent[0]!.id).not.toBe(b.sent[0]!.id);
    const answerA = answer(a.sent[0]!), answerB = answer(b.sent[0]!, 4, 2, 3);
    for (const msg of [answerA, answerB]) {
      a.c.receive(...msg);
      b.c.receive(...msg);
    }
    expect(a.grids.map((g) => g.rows)).toEqual([8]);
    expect(b.grids.map((g) => g.rows)).toEqual([24]);
    expect([a.c.stale, b.c.stale]).toEqual([1, 1]);
  });

  it("refuses an answer whose buffers do not fit its grid", () => {
    const { c, sent, grids } = client();
    c.want(spec(0));
    const [msg] = answer(sent[0]!);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    c.receive(msg, [new ArrayBuffer(12)]);
    expect(grids).toHaveLength(0);
    expect(warn).toHaveBeenCalled();
    warn.mockRestore();
  });

  it("shows the progress indicator only when an answer takes over BUSY_MS", () => {
    vi.useFakeTimers();
    const { c, sent, busy } = client();
    c.want(spec(0));
    vi.advanceTimersByTime(BUSY_MS - 1);
    expect(busy).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(busy).toEqual([true]);
    c.receive(...answer(sent[0]!));
    expect(busy).toEqual([true, false]);
  });
});

describe("resample", () => {
  const grid = (x0: number, zoom: number, values: number[], gw: number, gh: number): Grid => ({
    spec: spec(x0, { zoom, width: gw, height: gh }), f: 1, margin: 0, gw, gh, rows: 0,
    planes: { count: Float32Array.from(values), max: Float32Array.from(values) },
  });

  it("moves the last grid by whole pixels during a drag", () => {
    const g = grid(10, 3, [1, 2, 3, 4], 4, 1);
    const out = resample(g, { f: 1, margin: 0, gw: 4, gh: 1 }, spec(11, { width: 4, height: 1 }));
    expect(Array.from(out.count!)).toEqual([2, 3, 4, 0]);
  });

  it("keeps the totals when zooming out and shares them when zooming in", () => {
    const g = grid(0, 3, [1, 2, 3, 4], 4, 1);
    const out = resample(g, { f: 1, margin: 0, gw: 2, gh: 1 }, spec(0, { zoom: 2, width: 2, height: 1 }));
    expect(Array.from(out.count!)).toEqual([3, 7]);
    expect(Array.from(out.max!)).toEqual([2, 4]);
    const back = grid(0, 2, [4, 8], 2, 1);
    const zin = resample(back, { f: 1, margin: 0, gw: 4, gh: 2 }, spec(0, { zoom: 3, width: 4, height: 2 }));
    expect(Array.from(zin.count!)).toEqual([1, 1, 2, 2, 1, 1, 2, 2]);
  });
});

describe("HeatKernel.densityGrid", () => {
  it("draws a grid's counts at radius 0 and hit-tests them", async () => {
    const k = await HeatKernel.create();
    const p = {
      x0: 0, y0: 0, zoom: 3, width: 4, height: 2, radius: 0, aggregation: "count" as const,
      vmin: 0, vmax: "auto" as const, scale: "linear" as const, threshold: 0,
    };
    const geo = k.gridGeometry(p)!;
    // a cell a pixel, and a row and column more (the frame may start inside a pixel)
    expect(geo).toEqual({ f: 1, margin: 0, gw: 5, gh: 3 });
    const count = new Float32Array(15);
    count[1] = 5;
    count[5 + 2] = 2;
    const frame = k.densityGrid(p, geo, { count })!;
    expect(Array.from(frame.grid)).toEqual([0, 5, 0, 0, 0, 0, 2, 0]);
    expect(frame.vmax).toBe(5);
    expect(k.valueAt(1, 0)).toBe(5);
    expect(k.countNear(2.5, 1.5, 0.5)).toBe(2);
    expect(() => k.densityGrid(p, { ...geo, gw: 3 }, { count })).toThrow(/geometry/);
    k.free();
  });
});

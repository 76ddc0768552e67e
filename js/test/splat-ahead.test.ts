// A big reset's parts splatted into the first frame as they arrive (heat.h hw_density_ahead,
// ViewKernel.splatAhead): the frame drawn when the last part is in is the frame of all the rows
// loaded at once, to the bit (random float32 weights: equal sums mean the same additions in the
// same order).
import { beforeAll, describe, expect, it } from "vitest";
import type { FrameParams } from "../src/kernel";
import { ViewKernel } from "../src/model-kernel";
import { PointStore } from "../src/store";
import { type Columns, FakeModel, ipc, stubImageData, view } from "./helpers";

beforeAll(stubImageData);

/** Rows spread over the world with weights in (0, 10), from a fixed seed. */
function rows(n: number, seed: number): Columns {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const cols: Required<Pick<Columns, "lon" | "lat" | "weight">> = { lon: [], lat: [], weight: [] };
  for (let i = 0; i < n; i++) {
    cols.lon.push(next() * 360 - 180);
    cols.lat.push(next() * 160 - 80);
    cols.weight.push(0.1 + next() * 9.9);
  }
  return cols;
}

const slice = (c: Columns, a: number, b: number): Columns => ({
  lon: c.lon.slice(a, b), lat: c.lat.slice(a, b), weight: c.weight?.slice(a, b),
});

const STYLE = { vmin: 0, vmax: "auto", scale: "linear", threshold: 0 } as const;
// zoom 1 across the antimeridian, wider than the world (rows drawn at several copies)
const WIDE: FrameParams = {
  ...STYLE, x0: -300, y0: 10, zoom: 1, width: 900, height: 400, radius: 0, aggregation: "sum",
};
const MEAN: FrameParams = { ...WIDE, radius: 12, aggregation: "mean" };

/** A model whose view exists, then a reset of `all` in parts of `cuts`. */
async function parted(all: Columns, cuts: number[]) {
  const model = new FakeModel({ _points: view(ipc({ lon: [0], lat: [0] })), _seq: 1 });
  const store = new PointStore(model);
  const k = await ViewKernel.acquire(store, () => {});
  const parts = cuts.slice(1).map((b, i) => view(ipc(slice(all, cuts[i] ?? 0, b))));
  const send = (i: number) =>
    i === 0
      ? model.custom({ type: "reset", seq: 2, rows: all.lon.length, parts: parts.length }, [parts[0]!])
      : model.custom({ type: "part", seq: 2, part: i }, [parts[i]!]);
  return { k, store, send, count: parts.length };
}

/** The first frame of the rows loaded at once. */
async function whole(all: Columns, p: FrameParams): Promise<Float32Array> {
  const store = new PointStore(new FakeModel({ _points: view(ipc(all)), _seq: 1 }));
  const k = await ViewKernel.acquire(store, () => {});
  const grid = Float32Array.from(k.frame(p)?.grid ?? []);
  k.release();
  return grid;
}

describe("splatting a reset's parts ahead", () => {
  it.each([["sum, radius 0", WIDE], ["mean, radius 12", MEAN]])(
    "draws the frame of every row at once (%s)",
    async (_, p) => {
      const all = rows(20_000, 7);
      const cuts = [0, 6_000, 6_005, 13_000, 20_000];
      const run = await parted(all, cuts);
      const held: number[] = [];
      for (let i = 0; i < run.count; i++) {
        run.send(i);
        if (i < run.count - 1) held.push(run.k.splatAhead(p));
      }
      expect(held).toEqual([6_000, 6_005, 13_000]);
      expect(run.k.splatAhead(p, 10)).toBe(13_010); // a slice: the frame splats the rest
      const got = Float32Array.from(run.k.frame(p)?.grid ?? []);
      const expected = await whole(all, p);
      expect(expected.some((v) => v > 0)).toBe(true);
      expect(got.length).toBe(expected.length);
      expect(got.every((v, i) => v === expected[i])).toBe(true);
      run.k.release();
    },
  );

  it("only the model's first view splats ahead; a frame drawn meanwhile ends it", async () => {
    const all = rows(9_000, 11);
    const run = await parted(all, [0, 3_000, 6_000, 9_000]);
    const second = await ViewKernel.acquire(run.store, () => {});
    run.send(0);
    expect(second.splatAhead({ ...WIDE, width: 500 })).toBe(-1); // would undo the first's
    expect(run.k.splatAhead(WIDE)).toBe(3_000);
    // a view reads its frame meanwhile (hover): drawn again, over the rows so far...
    second.frame(MEAN);
    expect(second.valueAt(0, 0)).not.toBeNull();
    run.send(1);
    // ...which was the load's first frame: the next sorts the rows, so none is splatted ahead
    expect(run.k.splatAhead(WIDE)).toBe(-1);
    run.send(2);
    const expected = await whole(all, WIDE);
    const got = run.k.frame(WIDE)?.grid ?? new Float32Array();
    // drawn from rows in spatial order now: the same sums up to their order
    expect(got.length).toBe(expected.length);
    expect(got.every((v, i) => Math.abs(v - (expected[i] ?? 0)) <= 1e-5 * Math.abs(v))).toBe(true);
    second.release();
    run.k.release();
  });

  it("a view's last frame is drawn again before it is read after a part was splatted", async () => {
    const all = rows(4_000, 13);
    const run = await parted(all, [0, 2_000, 4_000]);
    run.k.frame(WIDE); // the frame of the model's one row before the reset
    run.send(0);
    expect(run.k.splatAhead(MEAN)).toBe(2_000); // the kernel's frame buffers hold MEAN's grid
    // hovering reads WIDE's frame of the 2,000 rows held, drawn again
    const first = await whole(slice(all, 0, 2_000), WIDE);
    const at = first.findIndex((v) => v > 0);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(run.k.valueAt(at % WIDE.width, Math.floor(at / WIDE.width))).toBe(first[at]);
    run.k.release();
  });
});

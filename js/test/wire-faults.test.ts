// Wire faults fed to the store and the decoder as Python (or anything pretending to be it)
// could send them: nothing throws, a refused message never takes its number, the rows held
// stay the last good ones, the store says it is at fault and asks for a resync, and the next
// message that applies clears the fault.
import { int64, tableFromArrays, tableToIPC, uint32, utf8 } from "@uwdata/flechette";
import { describe, expect, it } from "vitest";
import { decodePoints, WIRE_KEY, WIRE_VERSION } from "../src/arrow";
import { PointStore, type StoreEvent } from "../src/store";
import { FakeModel, fixedPoint, ipc, lonsOf, view } from "./helpers";

const rowsOf = (n: number, from = 100) => {
  const lon = Array.from({ length: n }, (_, i) => from + i);
  return view(ipc({ lon, lat: lon }));
};
const delta = (seq: number, rows: number, drop = 0) => ({ type: "delta", seq, rows, drop });
const lons = (store: PointStore) => lonsOf(store.rows());

function setup(rows = 2, seq = 1) {
  const lon = Array.from({ length: rows }, (_, i) => i);
  const model = new FakeModel({ _points: view(ipc({ lon, lat: lon })), _seq: seq });
  const store = new PointStore(model);
  const events: StoreEvent[] = [];
  store.subscribe((e) => events.push(e));
  const resyncs = () =>
    model.sent.map((s) => s.content as { type: string; seq: number }).filter((c) => c.type === "resync");
  return { model, store, events, resyncs };
}

/** Deterministic bytes (a seeded LCG), so a failure reproduces. */
function noise(n: number, seed: number): DataView {
  const bytes = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    bytes[i] = x >>> 24;
  }
  return view(bytes);
}

const truncated = (bytes: DataView, keep: number) =>
  new DataView(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + keep));

describe("a refused message keeps the rows and its number", () => {
  const bad: [string, unknown, (DataView | ArrayBuffer)[] | undefined][] = [
    ["a delta without its buffer", delta(2, 3), undefined],
    ["a delta with an empty buffer", delta(2, 3), [new ArrayBuffer(0)]],
    ["a delta with garbage bytes", delta(2, 3), [noise(256, 7)]],
    ["a delta with truncated IPC", delta(2, 3), [truncated(rowsOf(3), 200)]],
    ["a delta whose buffer holds fewer rows than it says", delta(2, 5), [rowsOf(3)]],
    ["a delta dropping more rows than held", delta(2, 0, 3), undefined],
    ["a delta with a negative drop", delta(2, 0, -1), undefined],
    ["a delta with a fractional seq", { type: "delta", seq: 2.5, rows: 0 }, undefined],
    ["a delta with a string seq", { type: "delta", seq: "2", rows: 0 }, undefined],
    ["a delta with no seq", { type: "delta", rows: 3 }, [rowsOf(3)]],
    ["a reset without its buffer", { type: "reset", seq: 2 }, undefined],
    ["a reset with an empty buffer", { type: "reset", seq: 2 }, [new ArrayBuffer(0)]],
    ["a reset with garbage bytes", { type: "reset", seq: 2 }, [noise(512, 3)]],
    ["a reset with truncated IPC", { type: "reset", seq: 2 }, [truncated(rowsOf(50), 300)]],
    ["a reset with a negative seq", { type: "reset", seq: -4 }, [rowsOf(3)]],
  ];

  it.each(bad)("%s", (_what, content, buffers) => {
    const { model, store, events, resyncs } = setup(2, 1);
    expect(() => model.custom(content, buffers)).not.toThrow();
    expect(store.seq).toBe(1);
    expect(lons(store)).toEqual([0, 1]);
    expect(events).toEqual([]);
    expect(store.fault).not.toBeNull();
    expect(resyncs()).toEqual([{ type: "resync", seq: 1 }]);
    // The real next delta still applies: nothing took its number.
    model.custom(delta(2, 1), [rowsOf(1, 170)]);
    expect(store.seq).toBe(2);
    expect(lons(store)).toEqual([0, 1, 170]);
    expect(store.fault).toBeNull();
  });
});

describe("schemas", () => {
  it("refuses a table without lon/lat, or with non-numeric coordinates", () => {
    const xy = tableToIPC(tableFromArrays({ x: [1, 2], y: [3, 4] }), { format: "stream" });
    const text = tableToIPC(
      tableFromArrays({ lon: ["a", "b"], lat: [1, 2] }, { types: { lon: utf8() } }),
      { format: "stream" },
    );
    const big = tableToIPC(
      tableFromArrays({ lon: [1n, 2n], lat: [1, 2] }, { types: { lon: int64() } }),
      { format: "stream" },
    );
    for (const bytes of [xy, text, big]) {
      if (!bytes) throw new Error("no bytes");
      expect(() => decodePoints(bytes)).toThrow();
      const { model, store } = setup(2, 1);
      model.custom({ type: "reset", seq: 5 }, [view(bytes)]);
      expect([store.seq, store.length]).toEqual([1, 2]);
      expect(store.fault).toMatch(/reset 5/);
    }
  });

  it("ignores extra columns", () => {
    const [x1, y1] = fixedPoint(1, 3);
    const [x2, y2] = fixedPoint(2, 4);
    const table = tableFromArrays(
      { x: Uint32Array.of(x1, x2), y: Uint32Array.of(y1, y2), colour: ["red", "blue"] },
      { types: { x: uint32(), y: uint32() } },
    );
    table.schema.metadata = new Map([[WIRE_KEY, WIRE_VERSION]]);
    const bytes = tableToIPC(table, { format: "stream" });
    if (!bytes) throw new Error("no bytes");
    const { model, store } = setup(2, 1);
    model.custom({ type: "reset", seq: 5 }, [view(bytes)]);
    expect([store.seq, store.length, store.fault]).toEqual([5, 2, null]);
    expect(lons(store)).toEqual([1, 2]);
  });
});

describe("numbers", () => {
  it("refuses duplicates, out-of-order and unknown-generation deltas, one resync per seq", () => {
    const { model, store, events, resyncs } = setup(2, 1);
    model.custom(delta(2, 1), [rowsOf(1, 170)]);
    for (const seq of [2, 1, 0, 4, 9, 1e9, Number.MAX_SAFE_INTEGER]) {
      model.custom(delta(seq, 1), [rowsOf(1, 175)]);
    }
    expect(lons(store)).toEqual([0, 1, 170]);
    expect(store.seq).toBe(2);
    expect(events.length).toBe(1);
    expect(resyncs()).toEqual([{ type: "resync", seq: 2 }]);
    expect(store.faults).toBe(7);
    // Python's answer: a reset to its state clears the fault.
    model.custom({ type: "reset", seq: 7 }, [rowsOf(4)]);
    expect([store.seq, store.length, store.fault]).toEqual([7, 4, null]);
  });

  it("takes a reset at its own seq while at fault (the answer to its resync)", () => {
    const { model, store } = setup(2, 1);
    model.custom(delta(5, 1), [rowsOf(1)]);
    expect(store.fault).not.toBeNull();
    model.custom({ type: "reset", seq: 1 }, [rowsOf(3)]);
    expect([store.seq, store.length, store.fault]).toEqual([1, 3, null]);
  });

  it("asks again while at fault, in case the answer was lost", async () => {
    const { vi } = await import("vitest");
    vi.useFakeTimers();
    try {
      const { model, resyncs } = setup(2, 1);
      model.custom(delta(3, 1), [rowsOf(1)]);
      vi.advanceTimersByTime(2100);
      expect(resyncs().length).toBe(2);
      model.custom({ type: "reset", seq: 3 }, [rowsOf(1)]);
      vi.advanceTimersByTime(10_000);
      expect(resyncs().length).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("floods and fuzz", () => {
  it("applies 1,000 deltas in order and keeps the window", () => {
    const { model, store } = setup(0, 0);
    const t0 = performance.now();
    for (let i = 1; i <= 1000; i++) model.custom(delta(i, 3, i > 100 ? 3 : 0), [rowsOf(3, i)]);
    const ms = performance.now() - t0;
    expect([store.seq, store.length, store.fault]).toEqual([1000, 300, null]);
    expect(ms).toBeLessThan(2000);
  });

  it("survives 1,000 bad deltas with one resync, then recovers with a reset", () => {
    const { model, store, resyncs } = setup(2, 1);
    for (let i = 0; i < 1000; i++) {
      const kind = i % 4;
      if (kind === 0) model.custom(delta(2, 3), [noise(64 + i, i)]);
      else if (kind === 1) model.custom(delta(i % 2, 1), [rowsOf(1)]);
      else if (kind === 2) model.custom(delta(2, 0, 1e6));
      else model.custom(delta(50 + i, 1), [rowsOf(1)]);
    }
    expect([store.seq, store.length, store.faults]).toEqual([1, 2, 1000]);
    expect(resyncs()).toEqual([{ type: "resync", seq: 1 }]);
    model.custom({ type: "reset", seq: 1001 }, [rowsOf(5)]);
    expect([store.seq, store.length, store.fault]).toEqual([1001, 5, null]);
  });

  it("never throws on random contents and buffers, and its rows stay consistent", () => {
    const { model, store } = setup(3, 1);
    const contents = (i: number): unknown => {
      const seq = [store.seq + 1, store.seq, -1, 1e300, Number.NaN, "x", null][i % 7];
      const rows = [0, 1, 3, -2, 2 ** 60, undefined][i % 6];
      return [
        { type: "delta", seq, rows, drop: [0, 1, 1e9, undefined][i % 4] },
        { type: "reset", seq },
        { type: "toString" },
        { type: "__proto__", seq },
        null,
        "delta",
        [1, 2],
      ][i % 7];
    };
    const buffers = (i: number) =>
      [undefined, [], [noise(i % 300, i)], [rowsOf(3)], [rowsOf(1), noise(10, 1)]][i % 5] as
        | (DataView | ArrayBuffer)[]
        | undefined;
    for (let i = 0; i < 3000; i++) {
      expect(() => model.custom(contents(i), buffers(i))).not.toThrow();
      const sum = store.chunks.reduce((n, c) => n + c.length, 0);
      expect(sum).toBe(store.length);
      expect(store.length).toBeGreaterThanOrEqual(0);
    }
  });
});

describe("fault listeners", () => {
  it("hear every refusal, even with the same reason, and the clearing once", () => {
    const { model, store } = setup(2, 1);
    const heard: (string | null)[] = [];
    store.watchFault((f) => heard.push(f));
    model.custom(delta(2, 3), [noise(100, 1)]);
    model.custom(delta(2, 3), [noise(100, 2)]);
    model.custom(delta(2, 1), [rowsOf(1)]);
    model.custom(delta(3, 1), [rowsOf(1)]);
    expect(heard).toEqual(["delta 2 does not decode", "delta 2 does not decode", null]);
    expect(store.faults).toBe(2);
  });
});

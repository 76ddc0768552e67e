import { describe, expect, it } from "vitest";
import { PointStore, type StoreEvent } from "../src/store";
import { FakeModel, ipc, lonsOf, view } from "./helpers";

function setup(rows = 2, seq = 1) {
  const lon = Array.from({ length: rows }, (_, i) => i);
  const model = new FakeModel({ _points: view(ipc({ lon, lat: lon })), _seq: seq });
  const store = new PointStore(model);
  const events: StoreEvent[] = [];
  store.subscribe((e) => events.push(e));
  return { model, store, events };
}

const delta = (seq: number, rows: number, drop = 0) => ({ type: "delta", seq, rows, drop });
const rowsOf = (n: number, from = 100) => {
  const lon = Array.from({ length: n }, (_, i) => from + i);
  return view(ipc({ lon, lat: lon }));
};
const lons = (store: PointStore) => lonsOf(store.rows());

describe("PointStore", () => {
  it("starts from the model's state and says hello with its seq", () => {
    const { model, store } = setup(3, 5);
    expect(store.length).toBe(3);
    expect(store.seq).toBe(5);
    expect(model.sent.map((s) => s.content)).toEqual([{ type: "hello", seq: 5 }]);
  });

  it("applies deltas in order: append, then drop the oldest", () => {
    const { model, store, events } = setup(2, 1);
    model.custom(delta(2, 3), [rowsOf(3)]);
    expect(store.length).toBe(5);
    expect(lons(store)).toEqual([0, 1, 100, 101, 102]);
    model.custom(delta(3, 1, 3), [rowsOf(1, 170)]);
    expect(store.seq).toBe(3);
    expect(lons(store)).toEqual([101, 102, 170]);
    expect(events.map((e) => e.kind)).toEqual(["append", "append"]);
    expect(events[1]).toMatchObject({ kind: "append", drop: 3 });
  });

  it("asks once for a resync when a delta is missing, and ignores old deltas", () => {
    const { model, store, events } = setup(2, 1);
    model.custom(delta(3, 1), [rowsOf(1)]);
    model.custom(delta(4, 1), [rowsOf(1)]);
    model.custom(delta(1, 1), [rowsOf(1)]);
    expect(store.seq).toBe(1);
    expect(store.length).toBe(2);
    expect(events).toEqual([]);
    const resyncs = model.sent.filter((s) => (s.content as { type: string }).type === "resync");
    expect(resyncs.map((s) => s.content)).toEqual([{ type: "resync", seq: 1 }]);
  });

  it("replaces everything on a reset, once per seq", () => {
    const { model, store, events } = setup(2, 1);
    model.custom({ type: "reset", seq: 9 }, [rowsOf(4)]);
    expect(store.seq).toBe(9);
    expect(store.length).toBe(4);
    model.custom({ type: "reset", seq: 9 }, [rowsOf(1)]);
    expect(store.length).toBe(4);
    expect(events.map((e) => e.kind)).toEqual(["reset"]);
  });

  it("asks for a resync when a delta's rows do not decode", () => {
    const { model, store } = setup(2, 1);
    model.custom(delta(2, 3), [new DataView(new ArrayBuffer(16))]);
    expect(store.seq).toBe(1);
    expect(model.sent[model.sent.length - 1]?.content).toEqual({ type: "resync", seq: 1 });
  });

  it("stops listening when disposed", () => {
    const { model, store } = setup(2, 1);
    expect(model.listeners("msg:custom")).toBe(1);
    store.dispose();
    expect(model.listeners("msg:custom")).toBe(0);
  });
});

import { describe, expect, it, vi } from "vitest";
import { PointStore, SETTLED_HELLO_MS, type StoreEvent } from "../src/store";
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

/** What ipywidgets' widget manager does to save a model's state (get_state + remove_buffers +
 * base64): every binary attribute is read; a detached buffer throws here. */
function saveState(attributes: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value instanceof DataView) out[key] = new Uint8Array(value.buffer, value.byteOffset, value.byteLength).length;
  }
  return out;
}

/** anywidget's model as a widget sees it: get/set/on/off/send/save_changes bound to the
 * Backbone model, which is reachable only through the widget manager. */
function proxyOf(backbone: FakeModel) {
  const sets: string[] = [];
  const proxy = {
    get: backbone.get.bind(backbone),
    set: (name: never, value: never) => {
      sets.push(name);
      backbone.set(name, value);
    },
    save_changes: () => {},
    send: backbone.send.bind(backbone),
    on: backbone.on.bind(backbone),
    off: backbone.off.bind(backbone),
    widget_manager: { _models: { other: Promise.resolve(new FakeModel()), mine: Promise.resolve(backbone) } },
  };
  return { proxy, sets };
}

describe("PointStore", () => {
  it("empties the model's state once released: a valid empty value, set silently, bytes freed", async () => {
    const backbone = new FakeModel({ _points: view(ipc({ lon: [1, 2, 3], lat: [0, 0, 0] })), _seq: 4 });
    const { proxy, sets } = proxyOf(backbone);
    const store = new PointStore(proxy);
    const bytes = (backbone.get("_points") as DataView).buffer;
    expect(saveState(backbone.attributes)._points).toBeGreaterThan(0);
    let changes = 0;
    proxy.on("change:_points", () => changes++);
    store.release();
    await store.emptied;
    expect(bytes.byteLength).toBe(0); // freed
    expect(saveState(backbone.attributes)).toEqual({ _points: 0 }); // the save does not throw
    expect([sets, changes]).toEqual([[], 0]); // nothing queued for Python, no change event
    // a store made later for this model (the page re-initialised) asks Python for the rows
    const again = new PointStore(proxy);
    expect([again.length, again.seq, again.fault]).toEqual([0, -1, null]);
    expect(backbone.sent[backbone.sent.length - 1]?.content).toEqual({ type: "hello", seq: -1 });
    again.dispose();
    store.dispose();
  });

  it("keeps the state bytes on a host whose models it cannot reach (a copy, not a broken save)", async () => {
    const backbone = new FakeModel({ _points: view(ipc({ lon: [1], lat: [0] })), _seq: 1 });
    const { proxy } = proxyOf(backbone);
    proxy.widget_manager._models = { other: Promise.resolve(new FakeModel()), mine: Promise.resolve(new FakeModel()) };
    const store = new PointStore(proxy);
    store.release();
    await store.emptied;
    expect(saveState(backbone.attributes)._points).toBeGreaterThan(0);
    store.dispose();
  });

  it("starts from the model's state and says hello with its seq", () => {
    const { model, store } = setup(3, 5);
    expect(store.length).toBe(3);
    expect(store.seq).toBe(5);
    expect(model.sent.map((s) => s.content)).toEqual([{ type: "hello", seq: 5 }]);
  });

  it("says its seq once deltas stop: the last ones of a burst may have been lost", () => {
    vi.useFakeTimers();
    try {
      const { model, store } = setup(2, 1);
      model.sent.length = 0;
      for (let seq = 2; seq <= 4; seq++) {
        model.custom(delta(seq, 1), [rowsOf(1)]);
        vi.advanceTimersByTime(SETTLED_HELLO_MS - 1); // still streaming: nothing said
      }
      expect(model.sent).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(model.sent.map((s) => s.content)).toEqual([{ type: "hello", seq: 4 }]);
      vi.advanceTimersByTime(10 * SETTLED_HELLO_MS); // once per pause, not a heartbeat
      expect(model.sent).toHaveLength(1);
      store.dispose();
    } finally {
      vi.useRealTimers();
    }
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

  it("takes a reset in parts: the first replaces, the others append, in order", () => {
    const { model, store, events } = setup(2, 1);
    model.custom({ type: "reset", seq: 4, rows: 6, parts: 3 }, [rowsOf(2, 10)]);
    expect(store.incoming).toBe(4);
    model.custom({ type: "part", seq: 4, part: 1 }, [rowsOf(3, 20)]);
    expect(store.incoming).toBe(1);
    model.custom({ type: "part", seq: 4, part: 2 }, [rowsOf(1, 30)]);
    expect(store.incoming).toBe(0);
    expect(lons(store)).toEqual([10, 11, 20, 21, 22, 30]);
    expect(store.seq).toBe(4);
    expect(store.fault).toBeNull();
    expect(events.map((e) => (e.kind === "append" ? `append${e.partial ? "…" : ""}` : e.kind)))
      .toEqual(["reset", "append…", "append"]);
    // The same reset again (another view's resync answered) passes, its parts too.
    model.custom({ type: "reset", seq: 4, rows: 6, parts: 2 }, [rowsOf(3)]);
    model.custom({ type: "part", seq: 4, part: 1 }, [rowsOf(3)]);
    expect(store.length).toBe(6);
    expect(store.fault).toBeNull();
  });

  it.each([
    ["a part out of order", { type: "part", seq: 4, part: 2 }, 1],
    ["a part of another reset", { type: "part", seq: 5, part: 1 }, 1],
    ["more rows than the reset said", { type: "part", seq: 4, part: 1 }, 9],
    ["a delta before the last part", { type: "delta", seq: 5, rows: 1, drop: 0 }, 1],
  ])("refuses %s and asks for the rows again", (_why, msg, rows) => {
    const { model, store, events } = setup(2, 1);
    model.custom({ type: "reset", seq: 4, rows: 6, parts: 3 }, [rowsOf(2, 10)]);
    model.custom(msg, [rowsOf(rows, 20)]);
    expect(store.fault).not.toBeNull();
    expect(store.length).toBe(2);
    expect(store.incoming).toBe(0);
    expect(events.map((e) => e.kind)).toEqual(["reset"]);
    expect(model.sent[model.sent.length - 1]?.content).toEqual({ type: "resync", seq: 4 });
    // The answer, a whole reset at that seq, clears the fault.
    model.custom({ type: "reset", seq: 4 }, [rowsOf(6)]);
    expect(store.fault).toBeNull();
    expect(store.length).toBe(6);
  });

  it("refuses a last part that leaves the reset short", () => {
    const { model, store } = setup(2, 1);
    model.custom({ type: "reset", seq: 4, rows: 6, parts: 2 }, [rowsOf(2, 10)]);
    model.custom({ type: "part", seq: 4, part: 1 }, [rowsOf(3, 20)]);
    expect(store.fault).toMatch(/says 6 rows, its parts hold 5/);
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

// The model's kernel (the real heat.wasm from `npm run build`), fed by the model's store.
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ViewKernel } from "../src/model-kernel";
import { PointStore } from "../src/store";
import { FakeModel, ipc, stubImageData, view } from "./helpers";

beforeAll(stubImageData);

function storeOf(lon: number[], lat: number[], seq = 1) {
  const model = new FakeModel({ _points: view(ipc({ lon, lat })), _seq: seq });
  return { model, store: new PointStore(model) };
}

// The whole world at zoom 0: 256 × 256 px, (lon 0, lat 0) at pixel (128, 128).
const WORLD = {
  x0: 0, y0: 0, zoom: 0, width: 256, height: 256, radius: 0,
  aggregation: "sum", vmin: 0, vmax: "auto", scale: "linear", threshold: 0,
} as const;

describe("ViewKernel", () => {
  it("loads the store's points and follows its deltas", async () => {
    const { model, store } = storeOf([0, 10, 20], [0, 0, 0]);
    const k = await ViewKernel.acquire(store, () => {});
    expect(k.pointCount).toBe(3);
    model.custom({ type: "delta", seq: 2, rows: 2, drop: 1 }, [view(ipc({ lon: [1, 2], lat: [3, 4] }))]);
    expect(k.pointCount).toBe(4);
    k.release();
  });

  it("draws a frame and reads the value and count under a pixel", async () => {
    const { store } = storeOf([0, 0, 90], [0, 0, 0]);
    const k = await ViewKernel.acquire(store, () => {});
    const frame = k.frame({ ...WORLD });
    expect(frame?.max).toBe(2);
    expect(k.valueAt(128, 128)).toBe(2);
    expect(k.valueAt(10, 10)).toBe(0);
    expect(k.valueAt(-1, 0)).toBeNull();
    expect(k.countNear(128.5, 128.5, 2)).toBe(2);
    k.release();
  });

  it("shares one kernel between the views of a model; the last to let go frees it", async () => {
    const { store } = storeOf([0], [0]);
    const a = await ViewKernel.acquire(store, () => {});
    const b = await ViewKernel.acquire(store, () => {});
    expect(a.model).toBe(b.model);
    expect(b.viewCount).toBe(2);
    a.frame({ ...WORLD });
    b.frame({ ...WORLD, x0: 128 }); // b's frame is the one the kernel holds now
    expect(a.valueAt(128, 128)).toBe(1); // a's frame drawn again before reading it
    a.release();
    expect(b.model.freed).toBe(false);
    b.release();
    expect(b.model.freed).toBe(true);
    expect(b.memoryBytes).toBe(0);
    const c = await ViewKernel.acquire(store, () => {});
    expect(c.model).not.toBe(a.model);
    c.release();
  });

  it("holds the rows once: the store lets them go once the kernel has them", async () => {
    const { model, store } = storeOf([0, 10, 20], [0, 0, 0]);
    expect(store.rows().length).toBe(3); // no kernel yet: the store keeps them
    const a = await ViewKernel.acquire(store, () => {});
    expect([store.holding, store.rows().length, store.length]).toEqual([false, 0, 3]);
    // ...and the model's state bytes (ipywidgets keeps them for the model's life) are freed,
    // leaving a valid empty value (a save of the widget state serialises it)
    const before = (model.get("_points") as DataView).buffer;
    await store.emptied;
    expect(before.byteLength).toBe(0);
    expect(new Uint8Array((model.get("_points") as DataView).buffer).length).toBe(0);
    // a store made again for this model (a re-initialised page) asks Python, without a fault
    const again = new PointStore(model);
    expect([again.length, again.seq, again.fault]).toEqual([0, -1, null]);
    expect(model.sent[model.sent.length - 1]?.content).toEqual({ type: "hello", seq: -1 });
    again.dispose();
    // deltas go to the kernel only
    model.custom({ type: "delta", seq: 2, rows: 2, drop: 1 }, [view(ipc({ lon: [1, 2], lat: [3, 4] }))]);
    expect([store.rows().length, store.length, a.pointCount]).toEqual([0, 4, 4]);
    a.release();
    // a view opened after the kernel was freed: the new kernel asks Python for the rows
    const b = await ViewKernel.acquire(store, () => {});
    expect(b.pointCount).toBe(0);
    expect(model.sent[model.sent.length - 1]?.content).toEqual({ type: "resync", seq: -1 });
    model.custom({ type: "reset", seq: 2 }, [view(ipc({ lon: [5, 6, 7, 8], lat: [0, 0, 0, 0] }))]);
    expect([b.pointCount, store.holding, store.rows().length, store.seq]).toEqual([4, false, 0, 2]);
    b.release();
  });

  it("sorted rows keep no arrival numbers: a first drop asks Python for the rows again", async () => {
    const fill = (n: number, v: number) => new Array<number>(n).fill(v);
    // 3,000 rows at lon 90, then 3,000 at lon -90: spatial order puts the later ones first
    const { model, store } = storeOf([...fill(3000, 90), ...fill(3000, -90)], fill(6000, 0));
    const k = await ViewKernel.acquire(store, () => {});
    const heat = await k.model.ready;
    heat.index();
    const sent = model.sent.length;
    model.custom({ type: "delta", seq: 2, rows: 1, drop: 3000 }, [view(ipc({ lon: [0], lat: [0] }))]);
    // refused, nothing dropped: the rows held are drawn until Python's reset
    expect(k.pointCount).toBe(6001);
    expect(model.sent.slice(sent).map((m) => m.content)).toEqual([{ type: "resync", seq: -1 }]);
    model.custom({ type: "reset", seq: 2 }, [
      view(ipc({ lon: [...fill(3000, -90), 0], lat: fill(3001, 0) })),
    ]);
    expect([k.pointCount, heat.arrivalOrderKept]).toEqual([3001, true]);
    heat.index(); // idle: the rows stay in arrival order now
    const asked = model.sent.length;
    model.custom({ type: "delta", seq: 3, rows: 3000, drop: 3000 }, [
      view(ipc({ lon: fill(3000, 45), lat: fill(3000, 0) })),
    ]);
    expect(model.sent.length).toBe(asked); // no second reload
    expect(k.pointCount).toBe(3001);
    k.frame({ ...WORLD });
    // exactly the oldest 3,000 (at lon -90) went
    expect([k.valueAt(64, 128), k.valueAt(128, 128), k.valueAt(160, 128)]).toEqual([0, 1, 3000]);
    k.release();
  });

  it("merges appended rows into spatial order once appends pause, then the views draw again", async () => {
    const fill = (n: number, v: number) => new Array<number>(n).fill(v);
    const { model, store } = storeOf(fill(64_000, 10), fill(64_000, 0));
    let redraws = 0;
    const k = await ViewKernel.acquire(store, () => redraws++);
    const heat = await k.model.ready;
    heat.index();
    const index = vi.spyOn(heat, "index");
    vi.useFakeTimers();
    try {
      const rows = (seq: number) => model.custom({ type: "delta", seq, rows: 5000, drop: 0 }, [
        view(ipc({ lon: fill(5000, -10), lat: fill(5000, 0) })),
      ]);
      rows(2);
      vi.advanceTimersByTime(900);
      rows(3); // still streaming: the merge waits for a pause
      vi.advanceTimersByTime(900);
      expect(index).not.toHaveBeenCalled();
      const before = redraws;
      vi.advanceTimersByTime(101); // 1 s without an append, then the idle callback
      expect(index).toHaveBeenCalledTimes(1);
      expect(redraws).toBe(before + 1);
      expect(k.pointCount).toBe(74_000);
    } finally {
      vi.useRealTimers();
      k.release();
    }
  });

  it("keeps a model with max_points in arrival order from the load on: its first drop needs no reload", async () => {
    const fill = (n: number, v: number) => new Array<number>(n).fill(v);
    const model = new FakeModel({
      _points: view(ipc({ lon: [...fill(3000, 90), ...fill(3000, -90)], lat: fill(6000, 0) })),
      _seq: 1,
      max_points: 6000,
    });
    const store = new PointStore(model);
    const k = await ViewKernel.acquire(store, () => {});
    const heat = await k.model.ready;
    k.frame({ ...WORLD });
    k.frame({ ...WORLD }); // a second frame may sort rows in spatial order (spatial.c)
    heat.index(); // and so may the idle sort: neither does, the window keeps arrival order
    expect(heat.arrivalOrderKept).toBe(true);
    const sent = model.sent.length;
    model.custom({ type: "delta", seq: 2, rows: 1, drop: 3000 }, [view(ipc({ lon: [0], lat: [0] }))]);
    expect(model.sent.length).toBe(sent); // no resync: the drop applied
    expect(k.pointCount).toBe(3001);
    k.frame({ ...WORLD });
    // exactly the oldest 3,000 (at lon 90) went
    expect([k.valueAt(64, 128), k.valueAt(128, 128), k.valueAt(192, 128)]).toEqual([3000, 1, 0]);
    k.release();
  });
});

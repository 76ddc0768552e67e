import { afterEach, describe, expect, it, vi } from "vitest";
import { listen, parse, send } from "../src/protocol";
import { FakeModel } from "./helpers";

afterEach(() => vi.restoreAllMocks());

const MALFORMED: unknown[] = [
  null,
  undefined,
  "delta",
  42,
  [],
  {},
  { type: 5 },
  { type: "no such type", seq: 1 },
  { type: "delta" },
  { type: "delta", seq: "2" },
  { type: "delta", seq: 2, rows: "3" },
  { type: "reset", seq: Number.NaN },
  { type: "reset", seq: 1, parts: 0, rows: 5 },
  { type: "reset", seq: 1, parts: 2 },
  { type: "reset", seq: 1, parts: 2, rows: -1 },
  { type: "part", seq: 1 },
  { type: "part", seq: 1, part: 0 },
  { type: "part", seq: 1, part: 1.5 },
  { type: "snapshot" },
  { type: "ping", id: 7 },
  { type: "fit_bounds", bounds: [1, 2, 3] },
  { type: "fit_bounds", bounds: [1, 2, 3, "4"] },
  { type: "fit_bounds", bounds: [1, 2, 3, 4], animate: "yes" },
  { type: "fly_to", center: [1] },
  { type: "fly_to", center: [1, 2], zoom: "3" },
];

describe("parse", () => {
  it.each(MALFORMED)("ignores %j with a warning", (msg) => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(parse(msg)).toBeNull();
    expect(warn).toHaveBeenCalledOnce();
  });

  it("gives each known message with its defaults", () => {
    expect(parse({ type: "delta", seq: 3 })).toEqual({ type: "delta", seq: 3, rows: 0, drop: 0 });
    expect(parse({ type: "reset", seq: 1, extra: true })).toEqual({
      type: "reset", seq: 1, rows: null, parts: 1,
    });
    expect(parse({ type: "reset", seq: 1, rows: 9, parts: 3 })).toEqual({
      type: "reset", seq: 1, rows: 9, parts: 3,
    });
    expect(parse({ type: "part", seq: 1, part: 2 })).toEqual({ type: "part", seq: 1, part: 2 });
    expect(parse({ type: "snapshot", id: "a" })).toEqual({ type: "snapshot", id: "a" });
    expect(parse({ type: "ping", id: "b" })).toEqual({ type: "ping", id: "b" });
    expect(parse({ type: "fit_bounds", bounds: [1, 2, 3, 4] })).toEqual({
      type: "fit_bounds", bounds: [1, 2, 3, 4], animate: true,
    });
    expect(parse({ type: "fly_to", center: [5, 6], zoom: null })).toEqual({
      type: "fly_to", center: [5, 6], zoom: null,
    });
  });
});

describe("listen", () => {
  it("routes by type to every table, and never throws into the view", () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    const model = new FakeModel();
    const pings: string[] = [];
    const unA = listen(model, {
      ping: () => {
        throw new Error("handler bug");
      },
    });
    const unB = listen(model, { ping: (m) => pings.push(m.id), delta: () => pings.push("delta") });
    expect(model.listeners("msg:custom")).toBe(1); // one router per model
    for (const msg of MALFORMED) expect(() => model.custom(msg)).not.toThrow();
    expect(pings).toEqual([]);
    expect(() => model.custom({ type: "ping", id: "x" })).not.toThrow();
    expect(pings).toEqual(["x"]);
    expect(error).toHaveBeenCalledOnce();
    model.custom({ type: "snapshot", id: "y" }); // no handler for it here: nothing happens
    expect(pings).toEqual(["x"]);
    unA();
    unB();
    expect(model.listeners("msg:custom")).toBe(0);
  });

  it("passes the buffers beside the message", () => {
    const model = new FakeModel();
    const got: number[] = [];
    listen(model, { reset: (_m, buffers) => got.push(buffers.length) });
    model.custom({ type: "reset", seq: 1 }, [new ArrayBuffer(8)]);
    model.custom({ type: "reset", seq: 2 });
    expect(got).toEqual([1, 0]);
  });
});

describe("send", () => {
  it("refuses a message over the limit", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const model = new FakeModel();
    expect(send(model, { type: "view", view: "v", event: "hello" })).toBe(true);
    expect(send(model, { type: "view", view: "v".repeat(2 << 20), event: "bye" })).toBe(false);
    expect(model.sent).toHaveLength(1);
  });
});

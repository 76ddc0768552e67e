import { tableFromArrays, tableToIPC } from "@uwdata/flechette";
import { describe, expect, it } from "vitest";
import { decodePoints, NO_POINTS } from "../src/arrow";
import fixture from "./fixtures/wire-v2.json";
import { degreesOf, fixedPoint, ipc, lonsOf } from "./helpers";

describe("decodePoints (wire format 2)", () => {
  it("gives the columns of every record batch as chunks", () => {
    const bytes = ipc({ lon: [1, 2, 3, 4, 5], lat: [-1, -2, -3, -4, -5] }, 2);
    const points = decodePoints(bytes);
    expect(points.length).toBe(5);
    expect(points.hasWeight).toBe(false);
    expect(points.hasTime).toBe(false);
    expect(points.chunks.map((c) => c.length)).toEqual([2, 2, 1]);
    expect(lonsOf(points)).toEqual([1, 2, 3, 4, 5]);
    expect(points.chunks.flatMap((c) => [...c.x])).toEqual([1, 2, 3, 4, 5].map((l) => fixedPoint(l, 0)[0]));
    expect(points.chunks[0].x).toBeInstanceOf(Uint32Array);
    expect(points.chunks[0].weight).toBeUndefined();
  });

  it("decodes Python's bytes: x/y bit for bit, weights float32, times float64", () => {
    // made by `python tests/test_wire.py` (tests/test_wire.py keeps it what encode() writes)
    const bytes = Uint8Array.from(atob(fixture.ipc_base64), (c) => c.charCodeAt(0));
    const want = fixture;
    const points = decodePoints(bytes);
    expect(points.hasWeight && points.hasTime).toBe(true);
    const col = (name: "x" | "y" | "weight" | "time") =>
      points.chunks.flatMap((c) => [...(c[name] ?? [])]);
    expect(col("x")).toEqual(want.x);
    expect(col("y")).toEqual(want.y);
    expect(col("weight")).toEqual(want.weight);
    expect(col("time")).toEqual(want.time);
    // the antimeridian is the world's left edge, ±85.0511° its top and bottom rows
    expect(want.x[0]).toBe(0);
    expect([want.y[1], want.y[2]]).toEqual([0, 2 ** 32 - 2]);
    // back to degrees within half a unit (1/128 px at zoom 18)
    const [lon, lat] = degreesOf(want.x[3], want.y[3]);
    expect(Math.abs(lon - 2.2945)).toBeLessThan(360 / 2 ** 33);
    expect(Math.abs(lat - 48.8584)).toBeLessThan(1e-7);
  });

  it("refuses another format version, or none, saying which", () => {
    const rows = { lon: [1], lat: [2] };
    expect(() => decodePoints(ipc(rows, undefined, "3"))).toThrow(/wire format 3, this front end reads 2/);
    expect(() => decodePoints(ipc(rows, undefined, null))).toThrow(/wire format 1 \(no version\)/);
  });

  it("refuses columns of another type (format 1's float64 lon/lat)", () => {
    const t = tableFromArrays({ x: Float64Array.of(1), y: Float64Array.of(2) });
    t.schema.metadata = new Map([["heatwidget.wire", "2"]]);
    const bytes = tableToIPC(t, { format: "stream" }) ?? new Uint8Array(1);
    expect(() => decodePoints(bytes)).toThrow(/column x is not uint32/);
  });

  it("views the received bytes without copying the columns", () => {
    const bytes = ipc({ lon: [1, 2, 3], lat: [4, 5, 6] });
    expect(decodePoints(bytes).chunks[0].x.buffer).toBe(bytes.buffer);
  });

  it("copies a stream that does not start 8-byte aligned", () => {
    const bytes = ipc({ lon: [7, 8], lat: [9, 10] });
    const shifted = new Uint8Array(bytes.byteLength + 4);
    shifted.set(bytes, 4);
    expect(lonsOf(decodePoints(shifted.subarray(4)))).toEqual([7, 8]);
  });

  it("gives no points for no bytes, and refuses a table without y", () => {
    expect(decodePoints(new Uint8Array(0))).toBe(NO_POINTS);
    const t = tableFromArrays({ x: Uint32Array.of(1) });
    t.schema.metadata = new Map([["heatwidget.wire", "2"]]);
    expect(() => decodePoints(tableToIPC(t, { format: "stream" }) ?? new Uint8Array(1))).toThrow(
      /needs x and y/,
    );
  });
});

import { tableFromArrays, tableToIPC } from "@uwdata/flechette";
import { describe, expect, it } from "vitest";
import { decodePoints, NO_POINTS } from "../src/arrow";
import { ipc } from "./helpers";

describe("decodePoints", () => {
  it("gives the columns of every record batch as chunks", () => {
    const bytes = ipc({ lon: [1, 2, 3, 4, 5], lat: [-1, -2, -3, -4, -5] }, 2);
    const points = decodePoints(bytes);
    expect(points.length).toBe(5);
    expect(points.hasWeight).toBe(false);
    expect(points.hasTime).toBe(false);
    expect(points.chunks.map((c) => c.length)).toEqual([2, 2, 1]);
    expect(points.chunks.flatMap((c) => [...c.lon])).toEqual([1, 2, 3, 4, 5]);
    expect(points.chunks.flatMap((c) => [...c.lat])).toEqual([-1, -2, -3, -4, -5]);
    expect(points.chunks[0].lon).toBeInstanceOf(Float64Array);
    expect(points.chunks[0].weight).toBeUndefined();
  });

  it("reads weights as float32 and times as float64", () => {
    const points = decodePoints(
      ipc({ lon: [10, 20], lat: [30, 40], weight: [0.5, 2], time: [1.7e12, 1.7e12 + 1] }),
    );
    expect(points.hasWeight && points.hasTime).toBe(true);
    const [chunk] = points.chunks;
    expect(chunk.weight).toBeInstanceOf(Float32Array);
    expect([...(chunk.weight ?? [])]).toEqual([0.5, 2]);
    expect([...(chunk.time ?? [])]).toEqual([1.7e12, 1.7e12 + 1]);
  });

  it("views the received bytes without copying the columns", () => {
    const bytes = ipc({ lon: [1, 2, 3], lat: [4, 5, 6] });
    expect(decodePoints(bytes).chunks[0].lon.buffer).toBe(bytes.buffer);
  });

  it("copies a stream that does not start 8-byte aligned", () => {
    const bytes = ipc({ lon: [7, 8], lat: [9, 10] });
    const shifted = new Uint8Array(bytes.byteLength + 4);
    shifted.set(bytes, 4);
    const points = decodePoints(shifted.subarray(4));
    expect([...points.chunks[0].lon]).toEqual([7, 8]);
  });

  it("gives no points for no bytes, and refuses a table without lat", () => {
    expect(decodePoints(new Uint8Array(0))).toBe(NO_POINTS);
    const lonOnly = tableToIPC(tableFromArrays({ lon: Float64Array.of(1) }), { format: "stream" });
    expect(() => decodePoints(lonOnly ?? new Uint8Array(1))).toThrow(/needs lon and lat/);
  });
});

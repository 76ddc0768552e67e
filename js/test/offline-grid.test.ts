// save_html's page of a served map: embedded levels read back, and binned into a frame's grid
// as heatwidget/aggregate/frame.py bins them (exact at an integer zoom, the world wrapped).
import { describe, expect, it } from "vitest";
import { binLevel, readLevels } from "../src/offline-grid";

function levelBytes(px: number[], py: number[], total: number[], count: number[], largest: number[]): DataView {
  const n = px.length;
  const buf = new ArrayBuffer(20 * n + 4);
  // offset by 4: the page's bytes need not be aligned
  new Uint32Array(buf, 4, n).set(px);
  new Uint32Array(buf, 4 + 4 * n, n).set(py);
  new Float32Array(buf, 4 + 8 * n, n).set(total);
  new Float32Array(buf, 4 + 12 * n, n).set(count);
  new Float32Array(buf, 4 + 16 * n, n).set(largest);
  return new DataView(buf, 4, 20 * n);
}

describe("offline grid", () => {
  const bytes = levelBytes([0, 9, 9], [1, 6, 6], [1.5, 2, 4], [1, 2, 3], [1.5, 1, 2]);

  it("reads the levels it was given", () => {
    const [lv] = readLevels(bytes, [[2, 3]]);
    expect(lv?.level).toBe(2);
    expect([...lv!.px]).toEqual([0, 9, 9]);
    expect([...lv!.largest]).toEqual([1.5, 1, 2]);
  });

  it("bins a level's pixels into the frame's cells at its zoom", () => {
    const [lv] = readLevels(bytes, [[2, 3]]);
    // zoom 2: the world is 1024 px and level 2's pixels are its pixels; cells of 4 px
    const r = { id: 1, x0: 0, y0: 0, zoom: 2, width: 16, height: 16, radius: 0, aggregation: "sum" as const };
    const g = { f: 4, margin: 0, gw: 5, gh: 5 };
    const [sum, count, max] = binLevel(r, g, lv!, false);
    expect(sum![0]).toBe(1.5);
    expect(sum![1 * 5 + 2]).toBe(6);
    expect(count![1 * 5 + 2]).toBe(5);
    expect(max![1 * 5 + 2]).toBe(2);
    expect(sum!.reduce((a, b) => a + b)).toBe(7.5);
    // the same frame one pixel to the right: pixel 0 leaves it, pixel 9 moves to cell x 2
    const [moved] = binLevel({ ...r, x0: 1 }, g, lv!, false);
    expect(moved!.reduce((a, b) => a + b)).toBe(6);
    expect(moved![1 * 5 + 2]).toBe(6);
  });

  it("wraps the world when the frame is wider than half of it", () => {
    const [lv] = readLevels(bytes, [[2, 3]]);
    // a frame of two worlds starting 256 px east: each pixel lands twice, 1024 px apart
    const r = { id: 1, x0: 256, y0: 0, zoom: 2, width: 2048, height: 256, radius: 0, aggregation: "count" as const };
    const g = { f: 256, margin: 0, gw: 9, gh: 2 };
    const [, count] = binLevel(r, g, lv!, false);
    expect(count![3]).toBe(6); // x 0 and x 9: 768 and 777 px
    expect(count![7]).toBe(6); // and again a world later
    expect(count!.reduce((a, b) => a + b)).toBe(12);
  });
});

import { describe, expect, it } from "vitest";
import { douglasPeucker, isSimpleRing, lassoRing, MAX_VERTICES, simplify, type XY } from "../src/lasso";

/** A circle drawn as a hand would, one point per pixel or so, with a little jitter. */
function circle(n: number, r = 100, jitter = 0.4): XY[] {
  return Array.from({ length: n }, (_, k) => {
    const a = (2 * Math.PI * k) / n;
    const j = jitter * Math.sin(k * 7.3);
    return [200 + (r + j) * Math.cos(a), 200 + (r + j) * Math.sin(a)] as XY;
  });
}

describe("lasso", () => {
  it("simplifies a free-hand loop to a few vertices, still round", () => {
    const ring = lassoRing(circle(2000));
    expect(ring).not.toBeNull();
    expect(ring!.length).toBeGreaterThan(12);
    expect(ring!.length).toBeLessThanOrEqual(MAX_VERTICES);
    for (const [x, y] of ring!) expect(Math.abs(Math.hypot(x - 200, y - 200) - 100)).toBeLessThan(2);
  });

  it("caps the vertices of a very wiggly path", () => {
    const wiggly = circle(20000, 1000, 30);
    expect(simplify(wiggly).length).toBeLessThanOrEqual(MAX_VERTICES);
  });

  it("drops collinear points", () => {
    expect(douglasPeucker([[0, 0], [1, 0], [2, 0], [3, 0]], 0.5)).toEqual([[0, 0], [3, 0]]);
  });

  it("refuses fewer than 3 distinct vertices, a line, and a path that crosses itself", () => {
    expect(lassoRing([[0, 0], [0, 0], [0, 0]])).toBeNull();
    expect(lassoRing([[0, 0], [50, 0], [0, 0]])).toBeNull();
    expect(lassoRing([[0, 0], [50, 0], [100, 0]])).toBeNull();
    // a figure of eight (bow tie)
    expect(lassoRing([[0, 0], [100, 100], [100, 0], [0, 100]])).toBeNull();
    expect(lassoRing([[0, 0], [100, 0], [100, 100], [0, 100]])).toEqual([[0, 0], [100, 0], [100, 100], [0, 100]]);
  });

  it("sees a vertex touching another edge as crossing", () => {
    expect(isSimpleRing([[0, 0], [100, 0], [100, 100], [50, 0]])).toBe(false);
    expect(isSimpleRing([[0, 0], [100, 0], [50, 50]])).toBe(true);
  });
});

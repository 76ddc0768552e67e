// Isolines traced on the frame's density sampled every traceStep(radius) pixels.
import { describe, expect, it } from "vitest";
import { levels, trace, traceStep } from "../src/contours";

/** A Gaussian bump of sigma `s` px centred at (cx, cy) in a w x h frame, peak 1. */
function bump(w: number, h: number, cx: number, cy: number, s: number): Float32Array {
  const g = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const d2 = (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2;
      g[y * w + x] = Math.exp(-d2 / (2 * s * s));
    }
  }
  return g;
}

describe("traceStep", () => {
  it("samples at half a sigma, a power of two from 1 to 8", () => {
    expect([0, 4, 7.9, 8, 16, 25, 32, 64, 500].map(traceStep)).toEqual([1, 1, 1, 2, 4, 4, 8, 8, 8]);
  });
});

describe("trace", () => {
  it("puts the isolines of a bump where the density crosses the level, at every step", () => {
    const [w, h, cx, cy, sigma] = [300, 200, 141.3, 97.8, 12.5];
    const g = bump(w, h, cx, cy, sigma);
    for (const level of [0.2, 0.5, 0.8]) {
      const want = sigma * Math.sqrt(-2 * Math.log(level)); // radius where the bump = level
      for (const step of [1, 2, 4, 8]) {
        const [c] = trace(g, w, h, [level], step);
        expect(c.value).toBe(level);
        expect(c.rings).toHaveLength(1);
        const error = Math.max(...c.rings[0].map(([x, y]) => Math.abs(Math.hypot(x - cx, y - cy) - want)));
        // linear interpolation between samples `step` apart cuts inside a convex bump
        expect(error).toBeLessThan(step === 1 ? 0.1 : 0.35 * step);
      }
    }
  });

  it("traces two bumps as two rings and nothing for a level above the peak", () => {
    const g = bump(200, 100, 50, 50, 8);
    const other = bump(200, 100, 150, 50, 8);
    for (let i = 0; i < g.length; i++) g[i] += other[i];
    const [low, high] = trace(g, 200, 100, [0.5, 2], 2);
    expect(low.rings).toHaveLength(2);
    expect(high.rings).toHaveLength(0);
    expect(trace(g, 200, 100, [], 2)).toEqual([]);
  });

  it("keeps auto levels inside the colour domain", () => {
    expect(levels("auto", 0, 6, "linear")).toEqual([1, 2, 3, 4, 5]);
    expect(levels([3, -1, Number.NaN, 2], 0, 6, "linear")).toEqual([3, 2]);
    expect(levels(null, 0, 6, "linear")).toEqual([]);
  });
});

// The dots up close: the fade's mix by zoom, and the real kernel drawing them on the frame.
import { beforeAll, describe, expect, it } from "vitest";
import { HW_DOT_RADIUS, HW_DOTS_CAP } from "../src/abi";
import { dotParams, dotsMix, fadesBetween, zoomProgress } from "../src/dots";
import { HeatKernel } from "../src/kernel";
import { fixedPoint, stubImageData } from "./helpers";

beforeAll(stubImageData);

describe("dotsMix", () => {
  it("fades the dots in over the zoom level below points_zoom", () => {
    expect(dotsMix(10, null)).toBe(0);
    expect(dotsMix(12.9, 14)).toBe(0);
    expect(dotsMix(13, 14)).toBe(0);
    expect(dotsMix(13.25, 14)).toBeCloseTo(0.25);
    expect(dotsMix(13.75, 14)).toBeCloseTo(0.75);
    expect(dotsMix(14, 14)).toBe(1);
    expect(dotsMix(18, 14)).toBe(1);
    expect(dotParams(13, 14, HW_DOT_RADIUS)).toBeUndefined();
    expect(dotParams(13.5, 14, HW_DOT_RADIUS)).toEqual({ radius: HW_DOT_RADIUS, mix: 0.5, cap: HW_DOTS_CAP });
    expect(dotParams(14, 14, 9)).toEqual({ radius: 9, mix: 1, cap: HW_DOTS_CAP });
  });
});

describe("the zoom animation", () => {
  it("knows which zooms pass through the fade", () => {
    expect(fadesBetween(10, 11, 14)).toBe(false); // below it
    expect(fadesBetween(14, 16, 14)).toBe(false); // dots only all the way
    expect(fadesBetween(12, 13, 14)).toBe(false); // up to where it starts
    expect(fadesBetween(12, 14, 14)).toBe(true);
    expect(fadesBetween(15, 13.5, 14)).toBe(true);
    expect(fadesBetween(13.2, 13.6, 14)).toBe(true);
    expect(fadesBetween(12, 14, null)).toBe(false);
  });

  it("follows Leaflet's easing, cubic-bezier(0, 0, 0.25, 1)", () => {
    expect(zoomProgress(-1)).toBe(0);
    expect(zoomProgress(0)).toBe(0);
    expect(zoomProgress(1)).toBe(1);
    expect(zoomProgress(2)).toBe(1);
    const ts = Array.from({ length: 21 }, (_, i) => i / 20);
    const ps = ts.map(zoomProgress);
    for (let i = 1; i < ps.length; i++) expect(ps[i]).toBeGreaterThan(ps[i - 1]);
    // an ease-out: ahead of time all the way, and at u = 0.5, x = 0.21875, y = 0.5
    for (let i = 1; i < ts.length - 1; i++) expect(ps[i]).toBeGreaterThan(ts[i]);
    expect(zoomProgress(0.21875)).toBeCloseTo(0.5, 6);
  });
});

// The whole world at zoom 0: 256 × 256 px, (lon 0, lat 0) at pixel (128, 128).
const WORLD = {
  x0: 0, y0: 0, zoom: 0, width: 256, height: 256, radius: 8,
  aggregation: "sum", vmin: 0, vmax: "auto", scale: "linear", threshold: 0,
} as const;

async function kernelWith(lon: number[], lat: number[]): Promise<HeatKernel> {
  const k = await HeatKernel.create();
  const n = lon.length;
  const xy = lon.map((l, i) => fixedPoint(l, lat[i])); // the wire's x/y (wire format 2)
  k.load({
    length: n, hasWeight: false, hasTime: false,
    chunks: [{ length: n, x: Uint32Array.from(xy.map((p) => p[0])), y: Uint32Array.from(xy.map((p) => p[1])) }],
  });
  const lut = new Uint8Array(1024);
  for (let i = 0; i < 256; i++) lut.set([i, 255 - i, 7, 255], 4 * i);
  k.setLut(lut);
  return k;
}

describe("HeatKernel.frame with dots", () => {
  it("draws the rows in view as dots over the heat, cross-faded by mix", async () => {
    const k = await kernelWith([0, 90, -90], [0, 0, 0]);
    const alphaAt = (f: { image: ImageData }, x: number, y: number) => f.image.data[4 * (y * 256 + x) + 3];
    const heat = k.frame({ ...WORLD });
    expect(heat?.dotsDrawn).toBe(0);
    const heatPixels = Uint8Array.from(heat!.image.data);
    const heatAlpha = alphaAt(heat!, 134, 128); // 6 px from a point: heat, outside its dot
    expect(heatAlpha).toBeGreaterThan(0);
    // mix 0: the heat frame exactly
    const none = k.frame({ ...WORLD, dots: { radius: 4, mix: 0, cap: 100 } });
    expect(none?.dotsDrawn).toBe(0);
    expect(Uint8Array.from(none!.image.data)).toEqual(heatPixels);
    // half way: the heat at half its alpha, the dot's colour (entry 200) at the point
    const half = k.frame({ ...WORLD, dots: { radius: 4, mix: 0.5, cap: 100 } });
    expect(half?.dotsDrawn).toBe(3);
    expect(alphaAt(half!, 134, 128)).toBe(Math.round(heatAlpha * 0.5));
    // all the way: no heat left, opaque dots where the points are
    const full = k.frame({ ...WORLD, dots: { radius: 4, mix: 1, cap: 2 } });
    expect(full?.dotsDrawn).toBe(2); // the cap
    const all = k.frame({ ...WORLD, dots: { radius: 4, mix: 1, cap: 100 } });
    expect(alphaAt(all!, 134, 128)).toBe(0);
    expect(Array.from(all!.image.data.subarray(4 * (128 * 256 + 128), 4 * (128 * 256 + 129)))).toEqual([
      200, 55, 7, 255,
    ]);
    k.free();
  });
});

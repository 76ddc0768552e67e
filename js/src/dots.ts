// Up close (issue 12's points_zoom): how far the kernel's dots replace the heat at a zoom, and
// the progress of Leaflet's zoom animation, during which heat-layer.ts draws the fade frame by
// frame. The kernel draws the dots (heat.h hw_dots) on the heat's own frame.
import { HW_DOTS_CAP } from "./abi";
import type { DotParams } from "./kernel";

/** How far the dots have replaced the heat at `zoom` (0: heat only, 1: dots only): they fade
 * in over the zoom level below `pointsZoom`. */
export function dotsMix(zoom: number, pointsZoom: number | null): number {
  if (pointsZoom == null) return 0;
  return Math.min(1, Math.max(0, zoom - (pointsZoom - 1)));
}

/** The kernel's dots of `radius` px for a frame at `zoom`, or undefined where there are none. */
export function dotParams(
  zoom: number,
  pointsZoom: number | null,
  radius: number,
): DotParams | undefined {
  const mix = dotsMix(zoom, pointsZoom);
  return mix > 0 ? { radius, mix, cap: HW_DOTS_CAP } : undefined;
}

/** Whether a zoom from `a` to `b` passes through the fade (some zoom between them where the dots
 * show but the heat is not gone yet, or the mix changes). */
export function fadesBetween(a: number, b: number, pointsZoom: number | null): boolean {
  if (pointsZoom == null) return false;
  return dotsMix(a, pointsZoom) !== dotsMix(b, pointsZoom) ||
    (Math.max(a, b) > pointsZoom - 1 && Math.min(a, b) < pointsZoom);
}

/** How far Leaflet's zoom animation has gone (0..1) at `t`, the fraction of its duration
 * elapsed: its CSS easing cubic-bezier(0, 0, 0.25, 1), x(u) = 0.75 (1 - u) u^2 + u^3 and
 * y(u) = 3 u^2 - 2 u^3, solved for x(u) = t by bisection (x is increasing). */
export function zoomProgress(t: number): number {
  if (!(t > 0)) return 0;
  if (t >= 1) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 30; i++) {
    const u = (lo + hi) / 2;
    if (0.75 * (1 - u) * u * u + u * u * u < t) lo = u;
    else hi = u;
  }
  const u = (lo + hi) / 2;
  return 3 * u * u - 2 * u * u * u;
}

// Up close (issue 12's points_zoom): how far the kernel's dots replace the heat at a zoom. The
// kernel draws them (heat.h hw_dots) on the heat's own frame; heat-layer.ts asks for them.
import { HW_DOT_RADIUS, HW_DOTS_CAP } from "./abi";
import type { DotParams } from "./kernel";

/** How far the dots have replaced the heat at `zoom` (0: heat only, 1: dots only): they fade
 * in over the zoom level below `pointsZoom`. */
export function dotsMix(zoom: number, pointsZoom: number | null): number {
  if (pointsZoom == null) return 0;
  return Math.min(1, Math.max(0, zoom - (pointsZoom - 1)));
}

/** The kernel's dots for a frame at `zoom`, or undefined where there are none. */
export function dotParams(zoom: number, pointsZoom: number | null): DotParams | undefined {
  const mix = dotsMix(zoom, pointsZoom);
  return mix > 0 ? { radius: HW_DOT_RADIUS, mix, cap: HW_DOTS_CAP } : undefined;
}

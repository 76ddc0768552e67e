// Main's layers before issue 12's dots and per-frame contours, frozen here as the bench's
// baseline (measured in the same run as what replaced them): the points drawn by scanning every
// row in JavaScript (js/src/points-layer.ts, deleted), and isolines traced by d3-contour on the
// full-resolution density grid (js/src/contours.ts before traceStep). Not shipped.
import { contours as d3contours } from "d3-contour";
import type L from "leaflet";

const MAX_POINTS = 200_000;
const DOT_RADIUS = 4;
const MAX_LATITUDE = 85.0511287798;

export interface Rows {
  lon: Float64Array;
  lat: Float64Array;
  length: number;
}

/** main's PointsLayer.draw: every row tested against the view, the ones in it drawn as arcs. */
export function scanPoints(map: L.Map, ctx: CanvasRenderingContext2D, rows: Rows, lut: Uint8Array): number {
  const size = map.getSize();
  const zoom = map.getZoom();
  const topLeft = map.containerPointToLayerPoint([0, 0]);
  const origin = map.getPixelOrigin().add(topLeft);
  ctx.clearRect(0, 0, size.x, size.y);
  const world = 256 * 2 ** zoom;
  const b = map.getBounds().pad(0.05);
  const [south, north] = [b.getSouth(), b.getNorth()];
  const wide = b.getEast() - b.getWest() >= 360;
  const i = 200;
  ctx.fillStyle = `rgb(${lut[4 * i]}, ${lut[4 * i + 1]}, ${lut[4 * i + 2]})`;
  ctx.strokeStyle = "rgba(20, 20, 20, 0.85)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  let drawn = 0;
  for (let k = 0; k < rows.length; k++) {
    const lat = rows.lat[k];
    if (lat < south || lat > north) continue;
    const s = Math.sin((Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, lat)) * Math.PI) / 180);
    let x = ((rows.lon[k] + 180) / 360) * world - origin.x;
    const y = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * world - origin.y;
    if (!wide) x -= Math.round((x - size.x / 2) / world) * world;
    if (x < -DOT_RADIUS || x > size.x + DOT_RADIUS || y < -DOT_RADIUS || y > size.y + DOT_RADIUS) continue;
    ctx.moveTo(x + DOT_RADIUS, y);
    ctx.arc(x, y, DOT_RADIUS, 0, 2 * Math.PI);
    if (++drawn >= MAX_POINTS) break;
  }
  ctx.fill();
  ctx.stroke();
  return drawn;
}

/** main's ContourLayer tracing: d3-contour on every pixel of the frame's grid. */
export function traceFull(grid: Float32Array, width: number, height: number, levels: number[]) {
  return d3contours().size([width, height]).thresholds(levels)(grid as unknown as number[]);
}

/** main's ContourLayer.draw: the full-resolution trace, stroked as the layer strokes it (the
 * same halo and line as now); returns the rings drawn. */
export function contoursFull(ctx: CanvasRenderingContext2D, grid: Float32Array, width: number,
  height: number, levels: number[], lut: Uint8Array, vmax: number): number {
  ctx.clearRect(0, 0, width, height);
  let rings = 0;
  ctx.lineJoin = "round";
  for (const c of traceFull(grid, width, height, levels)) {
    const i = Math.round(Math.min(1, Math.max(0, c.value / vmax)) * 255);
    ctx.beginPath();
    for (const polygon of c.coordinates) {
      for (const ring of polygon) {
        rings++;
        ring.forEach(([x, y], k) => {
          if (k) ctx.lineTo(x, y);
          else ctx.moveTo(x, y);
        });
        ctx.closePath();
      }
    }
    ctx.strokeStyle = "rgba(0, 0, 0, 0.45)";
    ctx.lineWidth = 3;
    ctx.stroke();
    ctx.strokeStyle = `rgb(${lut[4 * i]}, ${lut[4 * i + 1]}, ${lut[4 * i + 2]})`;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  }
  return rings;
}

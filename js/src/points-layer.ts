// Up close the heat gives way to the points (issue 12): at zoom >= `points_zoom` each row held
// (in the time window) is drawn as a dot on a canvas above the map and the heat is hidden, so
// a click lands on a visible point (on_click's `rows` are the rows nearest to it). Drawn on
// every frame the heat layer would draw, from the store's columns: only the rows inside the
// view are projected, and at most MAX_POINTS are drawn (data-points-drawn says how many).
import * as L from "leaflet";
import type { Points } from "./arrow";
import type { Traits } from "./model";

const MAX_POINTS = 200_000;
const DOT_RADIUS = 4;
const MAX_LATITUDE = 85.0511287798;

export type PointsSettings = () => {
  zoom: number | null;
  lut: Uint8Array;
  window: Traits["time_window"];
};

export class PointsLayer {
  private canvas = document.createElement("canvas");
  private ctx = this.canvas.getContext("2d");
  /** Whether the last draw showed the points (and the heat should be hidden). */
  active = false;

  constructor(
    private map: L.Map,
    private root: HTMLElement,
    private points: () => Points,
    private settings: PointsSettings,
  ) {
    this.canvas.className = "heatwidget-points";
    this.canvas.style.position = "absolute";
    this.canvas.style.pointerEvents = "none";
    map.getPanes().overlayPane.appendChild(this.canvas);
    map.on("zoomstart", this.hide);
  }

  /** Draws the points for the map's current view if its zoom asks for them; whether it did. */
  draw(): boolean {
    const { zoom: from, lut, window } = this.settings();
    const map = this.map;
    const ctx = this.ctx;
    const zoom = map.getZoom();
    this.active = from != null && zoom >= from && ctx !== null;
    this.root.dataset.pointsMode = this.active ? "1" : "0";
    if (!this.active || !ctx) {
      this.canvas.style.display = "none";
      return false;
    }
    const size = map.getSize();
    const topLeft = map.containerPointToLayerPoint([0, 0]);
    const origin = map.getPixelOrigin().add(topLeft);
    if (this.canvas.width !== size.x) this.canvas.width = size.x;
    if (this.canvas.height !== size.y) this.canvas.height = size.y;
    L.DomUtil.setPosition(this.canvas, topLeft);
    this.canvas.style.display = "";
    ctx.clearRect(0, 0, size.x, size.y);
    const world = 256 * 2 ** zoom;
    const b = map.getBounds().pad(0.05);
    const [south, north] = [b.getSouth(), b.getNorth()];
    const wide = b.getEast() - b.getWest() >= 360;
    const t0 = window?.[0] ?? -Infinity;
    const t1 = window?.[1] ?? Infinity;
    const i = 200; // the colormap's bright end, as the hottest heat
    ctx.fillStyle = `rgb(${lut[4 * i]}, ${lut[4 * i + 1]}, ${lut[4 * i + 2]})`;
    ctx.strokeStyle = "rgba(20, 20, 20, 0.85)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    let drawn = 0;
    outer: for (const c of this.points().chunks) {
      for (let k = 0; k < c.length; k++) {
        const lat = c.lat[k];
        if (lat < south || lat > north) continue;
        if (c.time && !(c.time[k] >= t0 && c.time[k] < t1)) continue;
        const s = Math.sin((Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, lat)) * Math.PI) / 180);
        let x = ((c.lon[k] + 180) / 360) * world - origin.x;
        const y = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * world - origin.y;
        if (!wide) x -= Math.round((x - size.x / 2) / world) * world; // the copy in view
        if (x < -DOT_RADIUS || x > size.x + DOT_RADIUS || y < -DOT_RADIUS || y > size.y + DOT_RADIUS) {
          continue;
        }
        ctx.moveTo(x + DOT_RADIUS, y);
        ctx.arc(x, y, DOT_RADIUS, 0, 2 * Math.PI);
        if (++drawn >= MAX_POINTS) break outer;
      }
    }
    ctx.fill();
    ctx.stroke();
    this.root.dataset.pointsDrawn = String(drawn);
    return true;
  }

  dispose(): void {
    this.map.off("zoomstart", this.hide);
    this.canvas.remove();
  }

  private readonly hide = (): void => {
    this.canvas.style.display = "none";
  };
}

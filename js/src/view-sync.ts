// Keeps the map's view and the `center` / `zoom` traits in step, both ways, without echoes.
import * as L from "leaflet";
import type { Model } from "./model";
import { Throttle } from "./throttle";

const WRITE_EVERY_MS = 150;
/** A data set of one point (or one place) would fit at the maximum zoom: stop here instead. */
const FIT_MAX_ZOOM = 16;
/** Views closer than this (in pixels at the current zoom) are the same view. */
const SAME_PX = 0.5;
const SAME_ZOOM = 1e-6;

export class ViewSync {
  private started = false;
  private readonly writes = new Throttle(WRITE_EVERY_MS, () => this.write());
  private applyQueued = false;

  constructor(private map: L.Map, private model: Model) {}

  /** Sets the first view; call once the container has a size (fitting needs one). */
  start(): void {
    if (this.started) return;
    this.started = true;
    if (!this.applyModelView()) this.map.setView([20, 0], 1, { animate: false });
    this.map.on("move", this.onMove);
    this.map.on("moveend", this.onMoveEnd);
    this.map.on("resize", this.onMoveEnd);
  }

  stop(): void {
    this.writes.cancel();
    this.map.off("move", this.onMove);
    this.map.off("moveend", this.onMoveEnd);
    this.map.off("resize", this.onMoveEnd);
    this.started = false;
  }

  /** center or zoom changed in the model: coalesce the pair into one setView. */
  modelChanged(): void {
    if (!this.started || this.applyQueued) return;
    this.applyQueued = true;
    queueMicrotask(() => {
      this.applyQueued = false;
      if (this.started) this.applyModelView();
    });
  }

  /** data_bounds changed: a view that was never set (center is None) fits the new data. */
  boundsChanged(): void {
    if (this.started && (this.model.get("center") == null || this.model.get("zoom") == null)) {
      this.applyModelView();
    }
  }

  /** Shows the model's view, or fits data_bounds when it has none. False if neither exists. */
  private applyModelView(): boolean {
    const center = this.model.get("center");
    const zoom = this.model.get("zoom");
    if (center && zoom != null) {
      if (!this.sameView(L.latLng(center[0], center[1]), zoom)) {
        this.map.setView(center, zoom, { animate: false });
      }
      return true;
    }
    const b = this.model.get("data_bounds");
    if (!b) return false;
    const [south, west, north, east] = b;
    this.map.fitBounds([[south, west], [north, east]], { animate: false, maxZoom: FIT_MAX_ZOOM });
    this.writes.now();
    return true;
  }

  private onMove = (): void => this.writes.request();

  private onMoveEnd = (): void => this.writes.now();

  private write(): void {
    const c = this.map.getCenter();
    const z = this.map.getZoom();
    const center = this.model.get("center");
    const zoom = this.model.get("zoom");
    const b = this.map.getBounds();
    const bounds: [number, number, number, number] =
      [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()];
    const old = this.model.get("bounds");
    const sameBounds = !!old && old.every((v, i) => Math.abs(v - bounds[i]) < 1e-9);
    if (center && zoom != null && this.sameView(L.latLng(center[0], center[1]), zoom) && sameBounds) {
      return;
    }
    // Longitude is written in [-180, 180) though the map may have panned across copies of the
    // world; sameView compares modulo 360, so the value coming back does not move the map.
    this.model.set("center", [c.lat, L.Util.wrapNum(c.lng, [-180, 180], true)]);
    this.model.set("zoom", z);
    // What the map shows (west/east not wrapped: a view across the antimeridian keeps east >
    // west), so Python can ask "what is on screen".
    this.model.set("bounds", bounds);
    this.model.save_changes();
  }

  private sameView(center: L.LatLng, zoom: number): boolean {
    const map = this.map as L.Map & { _loaded?: boolean };
    if (!map._loaded || Math.abs(map.getZoom() - zoom) > SAME_ZOOM) return false;
    const here = map.getCenter();
    const lng = center.lng - Math.round((center.lng - here.lng) / 360) * 360;
    const a = map.project(L.latLng(center.lat, lng), zoom);
    return a.distanceTo(map.project(here, zoom)) < SAME_PX;
  }
}

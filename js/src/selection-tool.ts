// The selection on the map (issue 12): a box tool sets the model's `selection` (a GeoJSON
// Polygon in lon/lat, which Python checks and answers with on_select / selected()); Escape or
// the toolbar's ✕ clears it; the selection, wherever it was set (Python, another view), is drawn
// as a Leaflet polygon. Shift-drag draws a box at any time (Leaflet's shift-drag box zoom is
// turned off for it); the toolbar's ▭ button makes a plain drag draw one too, and its lasso
// button a free-hand polygon (lasso.ts). A one-ring Polygon selection gets a small draggable
// marker on each vertex: dropping one moves that vertex and sets `selection` again.
import * as L from "leaflet";
import { isSimpleRing, lassoRing, MAX_VERTICES, type XY } from "./lasso";
import type { Model, SelectionGeometry } from "./model";

const STYLE: L.PathOptions = {
  color: "#1f6feb",
  weight: 2,
  fillColor: "#1f6feb",
  fillOpacity: 0.08,
  interactive: false,
};
/** Python reads every edge the short way round the antimeridian: wide boxes get more vertices. */
const MAX_EDGE_DEGREES = 90;
/** A press that moves less than this (CSS px) either way is a click, not a box. */
const MIN_DRAG = 4;

/** The closed GeoJSON ring of the box between two corners, no edge wider than 90°. */
export function boxPolygon(a: L.LatLng, b: L.LatLng): SelectionGeometry {
  const south = Math.min(a.lat, b.lat);
  const north = Math.max(a.lat, b.lat);
  const west = Math.min(a.lng, b.lng);
  const east = Math.max(a.lng, b.lng);
  const steps = Math.max(1, Math.ceil((east - west) / MAX_EDGE_DEGREES));
  const lons = Array.from({ length: steps + 1 }, (_, i) => west + ((east - west) * i) / steps);
  const ring = [
    ...lons.map((lon) => [lon, south]),
    ...lons.slice().reverse().map((lon) => [lon, north]),
  ];
  ring.push([west, south]);
  return { type: "Polygon", coordinates: [ring] };
}

/** A ring of positions [lon, lat] (first not repeated) as a closed GeoJSON Polygon, with
 * vertices added on edges wider than 90° of longitude (Python reads each edge the short way);
 * null when Python would refuse it (fewer than 3 distinct vertices, or crossing itself). */
export function ringPolygon(lonLats: XY[]): SelectionGeometry | null {
  const ring: XY[] = [];
  lonLats.forEach((p, k) => {
    const q = lonLats[(k + 1) % lonLats.length];
    const steps = Math.max(1, Math.ceil(Math.abs(q[0] - p[0]) / MAX_EDGE_DEGREES));
    for (let i = 0; i < steps; i++) {
      ring.push([p[0] + ((q[0] - p[0]) * i) / steps, p[1] + ((q[1] - p[1]) * i) / steps]);
    }
  });
  if (!isSimpleRing(ring)) return null;
  return { type: "Polygon", coordinates: [[...ring, ring[0]]] };
}

function latLngs(g: SelectionGeometry): L.LatLngExpression[][][] {
  const polygons = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
  return polygons.map((rings) => rings.map((ring) => ring.map(([lon, lat]) => [lat, lon])));
}

export class SelectionTool {
  private shape: L.Polygon | null = null;
  private preview: L.Polygon | null = null;
  private start: L.LatLng | null = null;
  private startPoint: L.Point | null = null;
  /** What a plain (unshifted) drag draws; null: it pans the map. */
  private mode: "box" | "lasso" | null = null;
  /** The lasso drawn so far (container pixels); null while drawing a box. */
  private path: XY[] | null = null;
  private handles: L.Marker[] = [];
  private readonly bar: L.Control;
  private readonly boxButton: HTMLAnchorElement;
  private readonly lassoButton: HTMLAnchorElement;
  private readonly container: HTMLElement;

  constructor(private map: L.Map, private model: Model) {
    this.container = map.getContainer();
    map.boxZoom.disable(); // shift-drag selects instead of zooming
    const bar = new L.Control({ position: "topleft" });
    const div = L.DomUtil.create("div", "leaflet-bar heatwidget-selection-bar");
    this.boxButton = this.button(div, "heatwidget-select-box", "▭", "Select a box (or shift-drag)",
      () => this.setMode(this.mode === "box" ? null : "box"));
    this.lassoButton = this.button(div, "heatwidget-select-lasso", "◌", "Select free-hand (lasso)",
      () => this.setMode(this.mode === "lasso" ? null : "lasso"));
    this.button(div, "heatwidget-select-clear", "✕", "Clear the selection (Esc)", () => this.clear());
    L.DomEvent.disableClickPropagation(div);
    bar.onAdd = () => div;
    this.bar = bar.addTo(map);
    L.DomEvent.on(this.container, "mousedown", this.onDown as L.DomEvent.EventHandlerFn);
    L.DomEvent.on(this.container, "keydown", this.onKey as L.DomEvent.EventHandlerFn);
    this.draw();
  }

  handlers(): Record<string, () => void> {
    return { "change:selection": () => this.draw() };
  }

  dispose(): void {
    L.DomEvent.off(this.container, "mousedown", this.onDown as L.DomEvent.EventHandlerFn);
    L.DomEvent.off(this.container, "keydown", this.onKey as L.DomEvent.EventHandlerFn);
    this.stopDrag();
    this.shape?.remove();
    this.removeHandles();
    this.bar.remove();
  }

  private button(parent: HTMLElement, cls: string, text: string, title: string, act: () => void) {
    const a = L.DomUtil.create("a", cls, parent) as HTMLAnchorElement;
    a.href = "#";
    a.textContent = text;
    a.title = title;
    a.setAttribute("role", "button");
    L.DomEvent.on(a, "click", (e) => {
      L.DomEvent.preventDefault(e);
      act();
    });
    return a;
  }

  private setMode(mode: "box" | "lasso" | null): void {
    this.mode = mode;
    this.boxButton.classList.toggle("heatwidget-active", mode === "box");
    this.lassoButton.classList.toggle("heatwidget-active", mode === "lasso");
    if (mode) this.map.dragging.disable();
    else this.map.dragging.enable();
  }

  private select(g: SelectionGeometry): void {
    this.model.set("selection", g);
    this.model.save_changes();
  }

  private clear(): void {
    if (this.model.get("selection") == null) return;
    this.model.set("selection", null);
    this.model.save_changes();
  }

  private draw(): void {
    const g = this.model.get("selection");
    this.shape?.remove();
    this.shape = g ? L.polygon(latLngs(g), STYLE).addTo(this.map) : null;
    this.container.dataset.selection = g ? "1" : "0";
    this.drawHandles(g);
  }

  private removeHandles(): void {
    for (const h of this.handles) h.remove();
    this.handles = [];
  }

  /** A draggable marker on each vertex of a one-ring Polygon (not too many to grab). */
  private drawHandles(g: SelectionGeometry | null): void {
    this.removeHandles();
    if (g?.type !== "Polygon" || g.coordinates.length !== 1) return;
    const ring = g.coordinates[0].slice(0, -1) as XY[];
    if (ring.length > MAX_VERTICES) return;
    const icon = L.divIcon({ className: "heatwidget-vertex", iconSize: [10, 10] });
    this.handles = ring.map(([lon, lat], k) => {
      const h = L.marker([lat, lon], { icon, draggable: true, keyboard: false,
        title: "Drag to move this vertex" });
      const moved = (): XY[] => ring.map((p, i) => {
        if (i !== k) return p;
        const at = h.getLatLng();
        return [at.lng, at.lat];
      });
      // follow the mouse on the map; set the selection once, on the drop
      h.on("drag", () => {
        this.shape?.setLatLngs(moved().map(([x, y]): L.LatLngTuple => [y, x]));
      });
      h.on("dragend", () => {
        const next = ringPolygon(moved());
        // a drop that makes the ring cross itself is refused: the shape goes back
        if (next) this.select(next);
        else this.draw();
      });
      return h.addTo(this.map);
    });
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    if (e.key !== "Escape") return;
    if (this.start) this.stopDrag();
    else this.clear();
    if (this.mode) this.setMode(null);
  };

  private readonly onDown = (e: MouseEvent): void => {
    if (e.button !== 0 || !(e.shiftKey || this.mode)) return;
    // the toolbar, or a vertex handle (which drags itself)
    if ((e.target as HTMLElement).closest(".leaflet-control, .heatwidget-vertex")) return;
    L.DomEvent.stop(e);
    this.container.focus();
    this.start = this.map.mouseEventToLatLng(e);
    this.startPoint = this.map.mouseEventToContainerPoint(e);
    // shift-drag is always a box; the lasso only from its button
    this.path = this.mode === "lasso" && !e.shiftKey ? [[this.startPoint.x, this.startPoint.y]] : null;
    document.addEventListener("mousemove", this.onMove);
    document.addEventListener("mouseup", this.onUp);
  };

  private readonly onMove = (e: MouseEvent): void => {
    if (!this.start) return;
    let ring: L.LatLngExpression[] | L.LatLngExpression[][][];
    if (this.path) {
      const p = this.map.mouseEventToContainerPoint(e);
      this.path.push([p.x, p.y]);
      ring = this.path.map(([x, y]) => this.map.containerPointToLatLng([x, y]));
    } else ring = latLngs(boxPolygon(this.start, this.map.mouseEventToLatLng(e)));
    if (this.preview) this.preview.setLatLngs(ring);
    else this.preview = L.polygon(ring, { ...STYLE, dashArray: "4 4" }).addTo(this.map);
  };

  private readonly onUp = (e: MouseEvent): void => {
    const start = this.start;
    const from = this.startPoint;
    const path = this.path;
    this.stopDrag();
    if (!start || !from) return;
    if (path) {
      const to = this.map.mouseEventToContainerPoint(e);
      path.push([to.x, to.y]);
      // simplified and closed; a scribble with no area or crossing itself selects nothing
      const px = lassoRing(path);
      const g = px && ringPolygon(px.map(([x, y]) => {
        const at = this.map.containerPointToLatLng([x, y]);
        return [at.lng, at.lat] as XY;
      }));
      if (g) this.select(g);
      if (g && this.mode) this.setMode(null);
      return;
    }
    // a click, or a box too flat to be a polygon (Python would refuse it): nothing selected
    const to = this.map.mouseEventToContainerPoint(e);
    if (Math.abs(to.x - from.x) < MIN_DRAG || Math.abs(to.y - from.y) < MIN_DRAG) return;
    this.select(boxPolygon(start, this.map.mouseEventToLatLng(e)));
    if (this.mode) this.setMode(null);
  };

  private stopDrag(): void {
    document.removeEventListener("mousemove", this.onMove);
    document.removeEventListener("mouseup", this.onUp);
    this.preview?.remove();
    this.preview = null;
    this.start = null;
    this.startPoint = null;
    this.path = null;
  }
}

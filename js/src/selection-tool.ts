// The selection on the map (issue 12): a box tool sets the model's `selection` (a GeoJSON
// Polygon in lon/lat, which Python checks and answers with on_select / selected()); Escape or
// the toolbar's ✕ clears it; the selection, wherever it was set (Python, another view), is drawn
// as a Leaflet polygon. Shift-drag draws a box at any time (Leaflet's shift-drag box zoom is
// turned off for it); the toolbar's ▭ button makes a plain drag draw one too.
import * as L from "leaflet";
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

function latLngs(g: SelectionGeometry): L.LatLngExpression[][][] {
  const polygons = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
  return polygons.map((rings) => rings.map((ring) => ring.map(([lon, lat]) => [lat, lon])));
}

export class SelectionTool {
  private shape: L.Polygon | null = null;
  private preview: L.Polygon | null = null;
  private start: L.LatLng | null = null;
  private startPoint: L.Point | null = null;
  private boxMode = false;
  private readonly bar: L.Control;
  private readonly boxButton: HTMLAnchorElement;
  private readonly container: HTMLElement;

  constructor(private map: L.Map, private model: Model) {
    this.container = map.getContainer();
    map.boxZoom.disable(); // shift-drag selects instead of zooming
    const bar = new L.Control({ position: "topleft" });
    const div = L.DomUtil.create("div", "leaflet-bar heatwidget-selection-bar");
    this.boxButton = this.button(div, "heatwidget-select-box", "▭", "Select a box (or shift-drag)",
      () => this.setBoxMode(!this.boxMode));
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

  private setBoxMode(on: boolean): void {
    this.boxMode = on;
    this.boxButton.classList.toggle("heatwidget-active", on);
    if (on) this.map.dragging.disable();
    else this.map.dragging.enable();
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
  }

  private readonly onKey = (e: KeyboardEvent): void => {
    if (e.key !== "Escape") return;
    if (this.start) this.stopDrag();
    else this.clear();
    if (this.boxMode) this.setBoxMode(false);
  };

  private readonly onDown = (e: MouseEvent): void => {
    if (e.button !== 0 || !(e.shiftKey || this.boxMode)) return;
    if ((e.target as HTMLElement).closest(".leaflet-control")) return;
    L.DomEvent.stop(e);
    this.container.focus();
    this.start = this.map.mouseEventToLatLng(e);
    this.startPoint = this.map.mouseEventToContainerPoint(e);
    document.addEventListener("mousemove", this.onMove);
    document.addEventListener("mouseup", this.onUp);
  };

  private readonly onMove = (e: MouseEvent): void => {
    if (!this.start) return;
    const ring = latLngs(boxPolygon(this.start, this.map.mouseEventToLatLng(e)));
    if (this.preview) this.preview.setLatLngs(ring);
    else this.preview = L.polygon(ring, { ...STYLE, dashArray: "4 4" }).addTo(this.map);
  };

  private readonly onUp = (e: MouseEvent): void => {
    const start = this.start;
    const from = this.startPoint;
    this.stopDrag();
    if (!start || !from) return;
    // a click, or a box too flat to be a polygon (Python would refuse it): nothing selected
    const to = this.map.mouseEventToContainerPoint(e);
    if (Math.abs(to.x - from.x) < MIN_DRAG || Math.abs(to.y - from.y) < MIN_DRAG) return;
    this.model.set("selection", boxPolygon(start, this.map.mouseEventToLatLng(e)));
    this.model.save_changes();
    if (this.boxMode) this.setBoxMode(false);
  };

  private stopDrag(): void {
    document.removeEventListener("mousemove", this.onMove);
    document.removeEventListener("mouseup", this.onUp);
    this.preview?.remove();
    this.preview = null;
    this.start = null;
    this.startPoint = null;
  }
}

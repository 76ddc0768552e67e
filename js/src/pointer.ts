// The pointer over the map: clicks and hovers go to Python when it listens (`_listen`), and
// the tooltip shows the value and count under the pointer (`tooltip`).
import type * as L from "leaflet";
import type { Getter, Model } from "./model";
import type { ViewKernel } from "./model-kernel";
import { type PointerInfo, send } from "./protocol";
import { Throttle } from "./throttle";

/** Hover events reach Python (and the tooltip updates) at most this often. */
const HOVER_EVERY_MS = 100;

export class Pointer {
  private readonly tip = document.createElement("div");
  private readonly hovers = new Throttle(HOVER_EVERY_MS, () => this.hover());
  private hoverEvent: L.LeafletMouseEvent | null = null;

  /** `kernel` is the view's kernel once loaded; `radius` its heat radius in pixels. */
  constructor(
    private readonly map: L.Map,
    root: HTMLElement,
    private readonly model: Model,
    private readonly get: Getter,
    private readonly kernel: () => ViewKernel | null,
    private readonly radius: () => number,
  ) {
    this.tip.className = "heatwidget-tooltip";
    this.tip.style.display = "none";
    root.append(this.tip);
    map.on("click", this.onClick);
    map.on("mousemove", this.onMove);
    map.on("mouseout", this.onOut);
  }

  /** The model's changes the pointer follows, by event name. */
  handlers(): Record<string, () => void> {
    return { "change:_tooltip": () => this.hideTip() };
  }

  dispose(): void {
    this.hovers.cancel();
    this.map.off("click", this.onClick);
    this.map.off("mousemove", this.onMove);
    this.map.off("mouseout", this.onOut);
    this.tip.remove();
  }

  private listening(name: string): boolean {
    return (this.get("_listen") ?? []).includes(name);
  }

  private probe(e: L.LeafletMouseEvent): PointerInfo {
    const p = e.containerPoint;
    const k = this.kernel();
    const value = k?.valueAt(p.x, p.y) ?? null;
    const count = k?.countNear(p.x, p.y, this.radius()) ?? null;
    const ll = e.latlng.wrap();
    return { lat: ll.lat, lon: ll.lng, value, count, x: p.x, y: p.y };
  }

  private onClick = (e: L.LeafletMouseEvent): void => {
    if (this.listening("click")) send(this.model, { type: "click", ...this.probe(e) });
  };

  private onMove = (e: L.LeafletMouseEvent): void => {
    if (!this.listening("hover") && !this.get("_tooltip")) return;
    this.hoverEvent = e;
    this.hovers.request();
  };

  private onOut = (): void => {
    this.hoverEvent = null;
    this.hideTip();
  };

  private hideTip(): void {
    this.tip.style.display = "none";
  }

  private hover(): void {
    const e = this.hoverEvent;
    if (!e) return;
    const info = this.probe(e);
    if (this.listening("hover")) send(this.model, { type: "hover", ...info });
    if (this.get("_tooltip")) {
      const tip = this.tip;
      tip.style.display = "";
      tip.style.left = `${info.x}px`;
      tip.style.top = `${info.y}px`;
      const v = info.value === null ? "–" : info.value.toPrecision(4);
      tip.textContent = `${info.lat.toFixed(4)}, ${info.lon.toFixed(4)}  value ${v}  count ${info.count ?? "–"}`;
    }
  }
}

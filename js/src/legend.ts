// The colour legend: a Leaflet control with the colour bar drawn from `_lut` and the domain of
// the last frame.
import * as L from "leaflet";
import type { Scale } from "./model";
import { Throttle } from "./throttle";

const BAR_WIDTH = 160;
const BAR_HEIGHT = 10;
// New labels at most this often: while rows stream in, the domain changes every frame, and each
// relabel made Leaflet's next getBoundingClientRect (a pan's pointer events) lay the page out
// again (60–100 ms a second of the main thread at 50 frames a second).
const RELABEL_MS = 250;

export interface LegendState {
  lut: Uint8Array;
  title: string;
  visible: boolean;
  scale: Scale;
  /** The domain the last frame was coloured with; null before any frame. */
  vmin: number | null;
  vmax: number | null;
}

const format = (v: number): string =>
  Math.abs(v) >= 1e5 || (v !== 0 && Math.abs(v) < 1e-3)
    ? v.toExponential(1)
    : v.toLocaleString("en-US", { maximumSignificantDigits: 3 });

// The value at the bar's middle (t = 0.5) under each scale, so a non-linear scale reads right.
function middle(vmin: number, vmax: number, scale: Scale): number {
  if (scale === "log") return Math.sqrt(vmin * vmax);
  if (scale === "sqrt") return vmin + 0.25 * (vmax - vmin);
  return (vmin + vmax) / 2;
}

export class Legend extends L.Control {
  private root = L.DomUtil.create("div", "heatwidget-legend");
  private title = L.DomUtil.create("div", "heatwidget-legend-title", this.root);
  private bar = L.DomUtil.create("canvas", "heatwidget-legend-bar", this.root) as HTMLCanvasElement;
  private labels = L.DomUtil.create("div", "heatwidget-legend-labels", this.root);
  private shown = "";
  private drawnLut: Uint8Array | null = null;
  private latest: LegendState | null = null;
  private readonly relabel = new Throttle(RELABEL_MS, () => this.label());

  constructor() {
    super({ position: "bottomright" });
    this.bar.width = BAR_WIDTH;
    this.bar.height = BAR_HEIGHT;
    L.DomEvent.disableClickPropagation(this.root);
  }

  override onAdd(): HTMLElement {
    return this.root;
  }

  override onRemove(): void {
    this.relabel.cancel();
  }

  /** Shows `s`: the bar and visibility now, the labels within RELABEL_MS (the latest). */
  update(s: LegendState): void {
    this.root.style.display = s.visible ? "" : "none";
    if (s.lut !== this.drawnLut) this.drawBar(s.lut);
    this.latest = s;
    this.relabel.request();
  }

  /** Shows the latest labels now (a snapshot reads them from the DOM). */
  flush(): void {
    if (this.relabel.pending) this.relabel.now();
  }

  private label(): void {
    const s = this.latest;
    if (!s) return;
    const vals = s.vmin === null || s.vmax === null
      ? ["", "", ""]
      : [s.vmin, middle(s.vmin, s.vmax, s.scale), s.vmax].map(format);
    const key = [s.title, s.scale, ...vals].join("\u0000");
    if (key === this.shown) return; // every frame calls update: touch the DOM only on change
    this.shown = key;
    // Text, never HTML; clamped to three lines by widget.css, the whole title on hover.
    this.title.textContent = s.title;
    this.title.title = s.title;
    this.title.style.display = s.title ? "" : "none";
    this.labels.replaceChildren(...vals.map((v) => {
      const span = document.createElement("span");
      span.textContent = v;
      return span;
    }));
  }

  private drawBar(lut: Uint8Array): void {
    this.drawnLut = lut;
    const ctx = this.bar.getContext("2d");
    if (!ctx || lut.length < 1024) return;
    const img = ctx.createImageData(BAR_WIDTH, BAR_HEIGHT);
    for (let x = 0; x < BAR_WIDTH; x++) {
      const i = Math.round((x / (BAR_WIDTH - 1)) * 255);
      // The kernel fades the low end with alpha ramp min(1, i / 64): show the same fade.
      const alpha = Math.round((lut[4 * i + 3] * Math.min(i, 64)) / 64);
      for (let y = 0; y < BAR_HEIGHT; y++) {
        const o = 4 * (y * BAR_WIDTH + x);
        img.data[o] = lut[4 * i];
        img.data[o + 1] = lut[4 * i + 1];
        img.data[o + 2] = lut[4 * i + 2];
        img.data[o + 3] = alpha;
      }
    }
    ctx.putImageData(img, 0, 0);
  }
}

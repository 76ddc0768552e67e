// The view's DOM, as the browser tests and snapshot.ts rely on it (docs/architecture.md, "The
// DOM the front end makes"): div.heatwidget holding div.heatwidget-map, and the root's data-*
// attributes that say what the view has drawn.
import type { FrameStats } from "./heat-layer";

export function createRoot(el: HTMLElement, version: string, height: number) {
  const root = document.createElement("div");
  root.className = "heatwidget";
  Object.assign(root.dataset, { version, pointCount: "0", frames: "0" });
  root.style.height = `${height}px`;
  const mapEl = document.createElement("div");
  mapEl.className = "heatwidget-map";
  // Inline, not only in widget.css: Jupyter may load the CSS after this render, and Leaflet
  // makes a container it finds `position: static` relative (0 px high under inset: 0).
  Object.assign(mapEl.style, { position: "absolute", inset: "0" });
  root.append(mapEl);
  el.append(root);
  el.classList.add("heatwidget-host");
  return { root, mapEl };
}

/** data-frames, data-frame-ms, data-kernel-ms, data-append-frame-ms and data-ready. */
export class FrameMarks {
  private frames = 0;
  private appendedAt = 0;

  constructor(private readonly root: HTMLElement) {}

  /** Rows arrived at `at`; appends faster than the screen refreshes share the next frame. */
  appended(at: number): void {
    if (!this.appendedAt) this.appendedAt = at;
  }

  frame({ frame, ms, kernelMs, points }: FrameStats): void {
    const data = this.root.dataset;
    data.frames = String(++this.frames);
    if (this.appendedAt) {
      // From a delta's arrival to the frame that shows it (decode + kernel append + frame).
      data.appendFrameMs = (performance.now() - this.appendedAt).toFixed(1);
      this.appendedAt = 0;
    }
    data.frameMs = ms.toFixed(2);
    data.kernelMs = kernelMs.toFixed(2);
    if (frame && points > 0) data.ready = "1";
  }
}

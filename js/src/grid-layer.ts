// Server mode (heatwidget/widget/serving.py): the rows stay in Python and this view draws the
// binned grid of its frame, which it asks for with a "grid" message (protocol.ts). The kernel
// takes the grid (hw_density_grid) and runs the same footprint, colours, legend and
// hit-testing as for points.
//
// GridClient keeps at most one request in flight per view: a frame that changes while one is
// out replaces the one waiting (the latest wins, nothing queues), and an answer whose id is
// not the one in flight is stale and dropped. GridViewKernel is the ViewKernel the heat layer
// draws through: the grid of the frame when it has it, else at once the last grid moved and
// scaled to the frame (a drag or zoom keeps drawing), then the fresh one when it arrives.
import type { Frame, FrameParams, GridGeometry, GridPlanes, HeatKernel } from "./kernel";
import type { Model } from "./model";
import { type ModelKernel, ViewKernel } from "./model-kernel";
import { type Buffers, type GridAnswerMsg, type GridErrorMsg, type GridRequestMsg, type GridSpec, send } from "./protocol";

export type { GridSpec };

export interface Grid extends GridGeometry {
  spec: GridSpec;
  planes: GridPlanes;
  rows: number;
}

/** An answer taking longer than this shows the progress indicator. */
export const BUSY_MS = 200;
/** An answer that never comes (a request Python refused) frees the slot after this. */
export const LOST_MS = 30_000;
/** The largest grid accepted (cells), whatever Python sends. */
const MAX_CELLS = 1 << 24;

const finiteOrNull = (v: number | undefined): number | null =>
  v === undefined || !Number.isFinite(v) ? null : v;

export function specOf(p: FrameParams): GridSpec {
  return {
    x0: p.x0, y0: p.y0, zoom: p.zoom, width: p.width, height: p.height, radius: p.radius,
    aggregation: p.aggregation, t0: finiteOrNull(p.t0), t1: finiteOrNull(p.t1),
  };
}

export function sameSpec(a: GridSpec | null | undefined, b: GridSpec | null | undefined): boolean {
  if (!a || !b) return false;
  return a.x0 === b.x0 && a.y0 === b.y0 && a.zoom === b.zoom && a.width === b.width &&
    a.height === b.height && a.radius === b.radius && a.aggregation === b.aggregation &&
    a.t0 === b.t0 && a.t1 === b.t1;
}

// Unique across the views of the page (they all hear every answer) and, from a random start,
// across pages showing the same kernel's model.
let nextId = Math.floor(Math.random() * 2 ** 40);

export interface GridClientOptions {
  /** Sends a request; false when it could not be sent. */
  send: (msg: GridRequestMsg) => boolean;
  /** A fresh grid arrived. */
  onGrid: (grid: Grid) => void;
  /** An answer has been awaited for BUSY_MS (true), or no longer is (false). */
  onBusy?: (busy: boolean) => void;
  /** Bytes of the planes of each answer taken (tests count them). */
  onBytes?: (bytes: number) => void;
}

export class GridClient {
  latest: Grid | null = null;
  /** Answers dropped as stale, requests sent, answers taken (for tests and debugging). */
  stale = 0;
  sent = 0;
  taken = 0;
  lastError: string | null = null;
  private inFlight: { id: number; spec: GridSpec } | null = null;
  private waiting: GridSpec | null = null;
  private busyTimer: ReturnType<typeof setTimeout> | undefined;
  private lostTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly opts: GridClientOptions) {}

  /** This view now shows `spec`: ask for its grid unless it has it or asked for it already. */
  want(spec: GridSpec): void {
    if (sameSpec(spec, this.inFlight?.spec) || (sameSpec(spec, this.latest?.spec) && !this.inFlight)) {
      this.waiting = null;
      return;
    }
    this.waiting = spec;
    this.pump();
  }

  /** An answer from Python (every view hears every answer): taken when it is the one in
   * flight, else dropped. Whether it was taken. */
  receive(msg: GridAnswerMsg | GridErrorMsg, buffers: Buffers): boolean {
    const flight = this.inFlight;
    if (!flight || msg.id !== flight.id) {
      this.stale += 1;
      return false;
    }
    this.settle();
    if (msg.error !== undefined) {
      this.lastError = msg.error;
      console.warn(`heatwidget: the server could not bin this view: ${msg.error}`);
    } else {
      const grid = gridOf(msg, buffers, flight.spec);
      if (grid) {
        this.latest = grid;
        this.taken += 1;
        this.lastError = null;
        this.opts.onBytes?.(msg.planes.length * 4 * msg.gw * msg.gh);
        this.opts.onGrid(grid);
      }
    }
    this.pump();
    return true;
  }

  /** The served data changed: every grid held is out of date, and so is the answer awaited. */
  invalidate(): void {
    const spec = this.waiting ?? this.inFlight?.spec ?? this.latest?.spec ?? null;
    this.latest = null;
    this.settle();
    if (spec) this.want(spec);
  }

  dispose(): void {
    this.settle();
    this.waiting = null;
  }

  private pump(): void {
    const spec = this.waiting;
    if (this.inFlight || !spec) return;
    this.waiting = null;
    const id = nextId++;
    if (!this.opts.send({ type: "grid", id, ...spec })) return;
    this.sent += 1;
    this.inFlight = { id, spec };
    this.busyTimer = setTimeout(() => this.opts.onBusy?.(true), BUSY_MS);
    this.lostTimer = setTimeout(() => {
      this.settle();
      this.pump();
    }, LOST_MS);
  }

  private settle(): void {
    clearTimeout(this.busyTimer);
    clearTimeout(this.lostTimer);
    if (this.inFlight) this.opts.onBusy?.(false);
    this.inFlight = null;
  }
}

/** An answer's planes as a Grid, or null (and a warning) when its buffers do not fit it. */
function gridOf(msg: GridAnswerMsg, buffers: Buffers, spec: GridSpec): Grid | null {
  const n = msg.gw * msg.gh;
  if (n > MAX_CELLS || buffers.length !== msg.planes.length) {
    console.warn("heatwidget: ignoring a grid answer whose buffers do not fit it", msg);
    return null;
  }
  const planes: GridPlanes = {};
  for (const [i, name] of msg.planes.entries()) {
    const buf = buffers[i]!;
    const bytes = buf instanceof DataView
      ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
      : new Uint8Array(buf);
    if (bytes.byteLength !== 4 * n) {
      console.warn(`heatwidget: a grid plane of ${bytes.byteLength} bytes, not ${4 * n}`);
      return null;
    }
    // A copy: the buffer may be unaligned for float32 and is not ours to keep.
    planes[name] = new Float32Array(bytes.slice().buffer);
  }
  const { f, margin, gw, gh, rows } = msg;
  return { spec, f, margin, gw, gh, rows, planes };
}

/** The grid `from` moved and scaled onto the geometry `to` of the frame `spec`: what the view
 * shows at once while the fresh grid is on its way. Counts and sums follow the area (a cell
 * split in four gives a quarter to each), maxima are kept; an approximation, replaced soon. */
export function resample(from: Grid, to: GridGeometry, spec: GridSpec): GridPlanes {
  const scale = 2 ** (spec.zoom - from.spec.zoom); // new pixels per old pixel
  const n = to.gw * to.gh;
  const out: GridPlanes = {};
  const names = Object.keys(from.planes) as (keyof GridPlanes)[];
  for (const name of names) out[name] = new Float32Array(n);
  // World pixel (at the new zoom) of the top-left corner of each grid.
  const ox = from.spec.x0 - from.margin, oy = from.spec.y0 - from.margin;
  const nx = spec.x0 - to.margin, ny = spec.y0 - to.margin;
  if (from.f * scale >= to.f) {
    // Old cells as big as new ones or bigger: each new cell takes the old cell at its centre.
    const share = (to.f / (from.f * scale)) ** 2;
    for (let j = 0; j < to.gh; j++) {
      const oj = Math.floor(((ny + (j + 0.5) * to.f) / scale - oy) / from.f);
      if (oj < 0 || oj >= from.gh) continue;
      for (let i = 0; i < to.gw; i++) {
        const oi = Math.floor(((nx + (i + 0.5) * to.f) / scale - ox) / from.f);
        if (oi < 0 || oi >= from.gw) continue;
        const src = oj * from.gw + oi, dst = j * to.gw + i;
        for (const name of names) {
          const v = from.planes[name]![src]!;
          out[name]![dst] = name === "max" ? v : v * share;
        }
      }
    }
    return out;
  }
  // Old cells smaller: each goes whole into the new cell holding its centre.
  for (let oj = 0; oj < from.gh; oj++) {
    const j = Math.floor(((oy + (oj + 0.5) * from.f) * scale - ny) / to.f);
    if (j < 0 || j >= to.gh) continue;
    for (let oi = 0; oi < from.gw; oi++) {
      const i = Math.floor(((ox + (oi + 0.5) * from.f) * scale - nx) / to.f);
      if (i < 0 || i >= to.gw) continue;
      const src = oj * from.gw + oi, dst = j * to.gw + i;
      for (const name of names) {
        const v = from.planes[name]![src]!;
        const o = out[name]!;
        o[dst] = name === "max" ? Math.max(o[dst]!, v) : o[dst]! + v;
      }
    }
  }
  return out;
}

/** The heat layer's ViewKernel in server mode: frames from this view's grids. */
export class GridViewKernel extends ViewKernel {
  private gridLut = new Uint8Array(1024);
  private lastParams: FrameParams | null = null;

  private constructor(
    shared: ModelKernel,
    redraw: () => void,
    private readonly heat: HeatKernel,
    readonly client: GridClient,
    private readonly rows: () => number,
  ) {
    super(shared, redraw);
  }

  /** Takes over `view`'s place in the model's kernel (which it keeps alive) and lets `view` go. */
  static async replace(view: ViewKernel, client: GridClient, rows: () => number): Promise<GridViewKernel> {
    const heat = await view.model.ready;
    const grid = new GridViewKernel(view.model, view.redraw, heat, client, rows);
    view.model.views.add(grid);
    view.release();
    return grid;
  }

  /** The rows served (the heat layer draws nothing while it is 0). */
  override get pointCount(): number {
    return this.rows();
  }

  override setLut(bytes: Uint8Array): void {
    super.setLut(bytes);
    this.gridLut.fill(0);
    this.gridLut.set(bytes.subarray(0, 1024));
  }

  override frame(p: FrameParams): Frame | null {
    this.lastParams = p;
    const spec = specOf(p);
    this.client.want(spec);
    const grid = this.client.latest;
    if (!grid) return null;
    const geometry = this.heat.gridGeometry(p);
    if (!geometry) return null;
    const exact = sameSpec(grid.spec, spec);
    const planes = exact ? grid.planes : resample(grid, geometry, spec);
    this.heat.setLut(this.gridLut);
    this.model.owner = this;
    return this.heat.densityGrid(p, geometry, planes);
  }

  override valueAt(x: number, y: number): number | null {
    return this.ownsFrame() ? this.heat.valueAt(x, y) : null;
  }

  override countNear(x: number, y: number, radius: number): number | null {
    return this.ownsFrame() ? this.heat.countNear(x, y, radius) : null;
  }

  override release(): void {
    this.client.dispose();
    super.release();
  }

  /** Whether the kernel holds this view's last grid frame (drawing it again if not). */
  private ownsFrame(): boolean {
    if (this.model.owner === (this as ViewKernel)) return true;
    return this.lastParams !== null && this.frame(this.lastParams) !== null;
  }
}

/** A view's server mode: its GridClient, wired to the model, the progress indicator
 * (div.heatwidget-progress, shown while an answer takes over BUSY_MS) and the root's marks
 * data-grid-requests, data-grid-answers, data-grid-stale, data-grid-bytes (the planes' bytes
 * this view took, in total) and data-grid-error. */
export class ServerMode {
  readonly client: GridClient;
  private progress: HTMLElement;
  private bytes = 0;

  constructor(model: Model, private readonly root: HTMLElement, redraw: () => void) {
    this.progress = document.createElement("div");
    this.progress.className = "heatwidget-progress";
    this.progress.textContent = "binning…";
    this.progress.hidden = true;
    // Inline: the stylesheet is owned by the client-mode layers and may load late.
    Object.assign(this.progress.style, {
      position: "absolute", top: "8px", left: "50%", transform: "translateX(-50%)",
      zIndex: "1000", padding: "2px 8px", borderRadius: "4px", pointerEvents: "none",
      background: "rgba(255,255,255,0.85)", font: "12px sans-serif", color: "#333",
    });
    root.append(this.progress);
    this.client = new GridClient({
      send: (msg) => send(model, msg),
      onGrid: () => {
        this.mark();
        redraw();
      },
      onBusy: (busy) => {
        this.progress.hidden = !busy;
        root.dataset.gridBusy = busy ? "1" : "0";
      },
      onBytes: (n) => {
        this.bytes += n;
      },
    });
    root.dataset.mode = "server";
  }

  /** The view's ViewKernel becomes a GridViewKernel drawing this view's grids. */
  take(view: ViewKernel, rows: () => number): Promise<GridViewKernel> {
    return GridViewKernel.replace(view, this.client, rows);
  }

  receive(msg: GridAnswerMsg | GridErrorMsg, buffers: Buffers): void {
    this.client.receive(msg, buffers);
    this.mark();
  }

  private mark(): void {
    const c = this.client, data = this.root.dataset;
    Object.assign(data, {
      gridRequests: String(c.sent), gridAnswers: String(c.taken), gridStale: String(c.stale),
      gridBytes: String(this.bytes),
    });
    if (c.lastError) data.gridError = c.lastError;
    else delete data.gridError;
  }

  dispose(): void {
    this.client.dispose();
    this.progress.remove();
  }
}

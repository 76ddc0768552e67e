// One heat kernel per widget model in the page, shared by all the model's views: the points
// live once in WebAssembly memory however many views show them (a map displayed in two cells,
// or a second Lab view of an output). The kernel is fed every change of the model's store
// before the views hear of it, once, and freed when the last view lets go.
//
// The kernel keeps one frame, the last one drawn, which hover and click read (value, count
// near). So each view draws through its own ViewKernel, which carries the view's colour table
// and its last frame's parameters, and draws that frame again before reading it if another
// view has drawn since.
import { NO_POINTS } from "./arrow";
import { ArrivalOrderLost, type Frame, type FrameParams, HeatKernel } from "./kernel";
import type { PointStore, StoreEvent } from "./store";

// requestIdleCallback where there is one (not in every browser), else soon after this task.
export function whenIdle(fn: () => void): void {
  const ric = (globalThis as { requestIdleCallback?: (cb: () => void, o?: object) => number })
    .requestIdleCallback;
  if (ric) ric(fn, { timeout: 500 });
  else setTimeout(fn, 0);
}

// How long appends must pause before the rows appended are merged into spatial order.
const QUIET_MS = 1000;

export class ModelKernel {
  readonly ready: Promise<HeatKernel>;
  private kernel: HeatKernel | null = null;
  /** The last view let go: the kernel's memory is given back. */
  freed = false;
  readonly views = new Set<ViewKernel>();
  /** The view whose frame the kernel holds. */
  owner: ViewKernel | null = null;
  /** Milliseconds the last full load took (decode excluded: the store did that). */
  loadMs = 0;
  /** Loaded but not yet in spatial order (heat.h hw_points_index). */
  private indexPending = false;
  private indexing = false;
  private quiet: ReturnType<typeof setTimeout> | undefined;
  private unfeed: () => void;

  constructor(private store: PointStore, private onForget: () => void) {
    this.unfeed = store.feed(this.onStore);
    // No view can let go before this resolves (each gets its ViewKernel from it).
    this.ready = HeatKernel.create().then((k) => {
      this.kernel = k;
      this.loadAll();
      return k;
    });
  }

  get pointCount(): number {
    return this.kernel ? this.kernel.pointCount : 0;
  }

  get memoryBytes(): number {
    return this.kernel ? this.kernel.memoryBytes : 0;
  }

  // The store's rows into the kernel, which then holds them alone (store.release). A store
  // that has let its rows go (a kernel made after the last one was freed, or re-made after a
  // failure) asks Python for them; its reset comes back here.
  private loadAll(): void {
    const k = this.kernel;
    if (!k) return;
    const t0 = performance.now();
    try {
      if (this.store.windowed) k.keepArrivalOrder();
      if (this.store.holding) {
        const rows = this.store.rows();
        k.load(rows, rows.length + this.store.incoming);
        this.store.release();
      } else {
        k.load(NO_POINTS);
        this.store.refetch();
      }
      this.indexPending = true;
    } catch (err) {
      console.error(err);
      this.store.refetch();
    }
    this.loadMs = performance.now() - t0;
    this.owner = null;
  }

  private onStore = (e: StoreEvent): void => {
    const k = this.kernel;
    if (!k) return; // loads everything when it is ready
    if (e.kind === "reset") {
      this.loadAll();
      return;
    }
    try {
      k.append(e.chunks);
      k.dropFront(e.drop);
      if (e.chunks.length) this.mergeWhenQuiet();
    } catch (err) {
      if (err instanceof ArrivalOrderLost) {
        // The rows are in spatial order, which keeps no arrival numbers (4 B a row saved):
        // a first sliding-window drop (or rows with times) asks Python for the rows again,
        // in arrival order; the views draw the rows held until its reset arrives (loadAll).
        this.store.refetch();
      } else {
        console.error(err);
        this.loadAll();
      }
    }
    this.owner = null;
  };

  /** After the first frame of a load: sorts the points when the page is idle (so that no frame
   * waits for it), then every view draws again from the sorted order, which later frames and
   * the Python host draw from too. */
  indexSoon(): void {
    // Not while a reset's parts arrive: rows appended after the sort would stay out of order.
    if (!this.indexPending || this.indexing || this.store.incoming > 0) return;
    this.indexing = true;
    whenIdle(() => {
      this.indexing = false;
      if (!this.kernel || !this.indexPending) return;
      this.indexPending = false;
      this.kernel.index();
      this.owner = null;
      for (const view of this.views) view.redraw();
    });
  }

  /** Appended rows wait in arrival order, drawn one by one, until a frame merges them (at an
   * eighth of the rows: up to 45 ms a frame at 25M). Once appends pause for QUIET_MS, the
   * kernel merges them when the page is idle (hw_points_index), and the views draw again. */
  private mergeWhenQuiet(): void {
    if (this.store.windowed) return; // a sliding window keeps arrival order: nothing to merge
    clearTimeout(this.quiet);
    this.quiet = setTimeout(() => {
      this.indexPending = true;
      this.indexSoon();
    }, QUIET_MS);
  }

  frame(view: ViewKernel, p: FrameParams, lut: Uint8Array): Frame | null {
    const k = this.kernel;
    if (!k) return null;
    k.setLut(lut);
    this.owner = view;
    return k.frame(p);
  }

  /** A big reset's part (not the last) is in: `view`'s next frame is splatted ahead over the
   * rows so far (HeatKernel.splatAhead). Only the model's first view does: views of other
   * sizes would start each other's frame again. The rows the frame holds, or -1. */
  splatAhead(view: ViewKernel, p: FrameParams, limit?: number): number {
    const k = this.kernel;
    if (!k || this.views.values().next().value !== view) return -1;
    this.owner = null; // the kernel's last frame is gone: a view reading it draws it again
    return k.splatAhead(p, limit);
  }

  valueAt(x: number, y: number): number | null {
    return this.kernel ? this.kernel.valueAt(x, y) : null;
  }

  countNear(x: number, y: number, radius: number): number | null {
    return this.kernel ? this.kernel.countNear(x, y, radius) : null;
  }

  release(view: ViewKernel): void {
    this.views.delete(view);
    if (this.owner === view) this.owner = null;
    if (this.views.size > 0) return;
    this.freed = true;
    clearTimeout(this.quiet);
    this.unfeed();
    this.kernel?.free();
    this.kernel = null;
    this.onForget();
  }
}

const kernels = new WeakMap<PointStore, ModelKernel>();

/** What one view draws through: the model's shared kernel, with this view's colour table and
 * last frame. */
export class ViewKernel {
  private lut = new Uint8Array(1024);
  private last: FrameParams | null = null;
  private released = false;

  constructor(private shared: ModelKernel, readonly redraw: () => void) {}

  /** The model's kernel for a new view of `store`'s model, once it has loaded the points.
   * `redraw` is called when the view should draw again (the points were sorted). */
  static acquire(store: PointStore, redraw: () => void): Promise<ViewKernel> {
    let shared = kernels.get(store);
    if (!shared) {
      shared = new ModelKernel(store, () => kernels.delete(store));
      kernels.set(store, shared);
    }
    const view = new ViewKernel(shared, redraw);
    shared.views.add(view);
    return shared.ready.then(() => view, (err) => {
      view.release();
      throw err;
    });
  }

  get pointCount(): number {
    return this.shared.pointCount;
  }

  /** How long the model's last full load took, in ms. */
  get loadMs(): number {
    return this.shared.loadMs;
  }

  /** How many views draw from this kernel (this one included). */
  get viewCount(): number {
    return this.shared.views.size;
  }

  /** The model's kernel (the same object for every view of the model). */
  get model(): ModelKernel {
    return this.shared;
  }

  /** Bytes of WebAssembly memory the model's kernel holds, for all its views. */
  get memoryBytes(): number {
    return this.shared.memoryBytes;
  }

  setLut(bytes: Uint8Array): void {
    this.lut.fill(0);
    this.lut.set(bytes.subarray(0, 1024));
  }

  /** See HeatKernel.frame: draw the image before the next kernel call. */
  frame(p: FrameParams): Frame | null {
    this.last = p;
    const frame = this.shared.frame(this, p, this.lut);
    if (frame) this.shared.indexSoon();
    return frame;
  }

  /** While a big reset's parts arrive: the rows so far splatted into the frame `frame(p)` will
   * draw when the last is in (ModelKernel.splatAhead), at most `limit` more. The rows it
   * holds, or -1. */
  splatAhead(p: FrameParams, limit?: number): number {
    return this.shared.splatAhead(this, p, limit);
  }

  /** This view's last frame's density at frame pixel (x, y), or null outside it. */
  valueAt(x: number, y: number): number | null {
    return this.ownFrame() ? this.shared.valueAt(x, y) : null;
  }

  /** Points of this view's last frame within `radius` px of (x, y). */
  countNear(x: number, y: number, radius: number): number | null {
    return this.ownFrame() ? this.shared.countNear(x, y, radius) : null;
  }

  /** Whether the kernel holds this view's last frame (drawing it again if another view drew
   * since: the cost of sharing, paid only on hover and click). */
  private ownFrame(): boolean {
    if (this.shared.owner === this) return true;
    return this.last !== null && this.shared.frame(this, this.last, this.lut) !== null;
  }

  /** Lets go of the model's kernel: the last view to do so frees it. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.shared.release(this);
  }
}

// The points of one widget model, shared by every view of it in the page. Python sends the
// full rows only to a model that starts (its `_points`/`_seq` state: first display, page
// reload) and numbered deltas afterwards ("delta" and "reset" messages, protocol.ts).
// A delta whose seq is not the next one means a message was missed (the page was not there,
// the IOPub rate limit dropped it): the store asks Python for a reset ("resync").
// The model's kernel (model-kernel.ts) is fed each change first, once; then the views redraw.
import { decodePoints, type PointChunk, type Points } from "./arrow";
import { bytesOf, type Model } from "./model";
import { type Buffers, type DeltaMsg, listen, type ResetMsg, send } from "./protocol";

export type StoreEvent =
  | { kind: "reset" }
  | { kind: "append"; chunks: PointChunk[]; drop: number; at: number };

type Listener = (e: StoreEvent) => void;

export class PointStore {
  chunks: PointChunk[] = [];
  length = 0;
  seq = 0;
  private listeners = new Set<Listener>();
  private feeds = new Set<Listener>();
  private askedAt = -1;
  private unlisten: () => void;

  constructor(private model: Model) {
    this.resetFrom(bytesOf(model.get("_points")), model.get("_seq") ?? 0);
    this.unlisten = listen(model, { delta: this.onDelta, reset: this.onReset });
    model.on("change:_seq", this.onState);
    model.on("change:_points", this.onState);
    // Deltas sent between Python's state reply and this listener would be lost: say which
    // state we hold, Python answers with a reset if it has moved on.
    send(model, { type: "hello", seq: this.seq });
  }

  dispose(): void {
    this.unlisten();
    this.model.off("change:_seq", this.onState);
    this.model.off("change:_points", this.onState);
    this.listeners.clear();
    this.feeds.clear();
  }

  points(): Points {
    return {
      chunks: this.chunks,
      length: this.length,
      hasWeight: this.chunks.some((c) => c.weight),
      hasTime: this.chunks.some((c) => c.time),
    };
  }

  /** The views: `fn` hears every change after this call; returns the unsubscribe. */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Like subscribe, but heard before every view (the kernel the views draw from). */
  feed(fn: Listener): () => void {
    this.feeds.add(fn);
    return () => this.feeds.delete(fn);
  }

  /** The first subscribed view drives the play animation (one clock per page). */
  isFirst(fn: Listener): boolean {
    return this.listeners.values().next().value === fn;
  }

  private emit(e: StoreEvent): void {
    for (const fn of this.feeds) fn(e);
    for (const fn of this.listeners) fn(e);
  }

  private resetFrom(bytes: Uint8Array, seq: number): void {
    let points: Points;
    try {
      points = decodePoints(bytes);
    } catch (err) {
      console.error("heatwidget: bad points", err);
      points = decodePoints(new Uint8Array(0));
    }
    this.chunks = [...points.chunks];
    this.length = points.length;
    this.seq = seq;
  }

  // A full state arrived (ipywidgets broadcasts it to every page when one page asks for it):
  // only a different seq means different rows.
  private onState = (): void => {
    const seq = this.model.get("_seq") ?? 0;
    if (seq === this.seq) return;
    this.resetFrom(bytesOf(this.model.get("_points")), seq);
    this.emit({ kind: "reset" });
  };

  private onReset = (msg: ResetMsg, buffers: Buffers): void => {
    if (msg.seq === this.seq) return;
    this.resetFrom(bytesOf(buffers[0] ?? null), msg.seq);
    this.emit({ kind: "reset" });
  };

  private onDelta = (msg: DeltaMsg, buffers: Buffers): void => {
    if (msg.seq <= this.seq) return;
    if (msg.seq !== this.seq + 1) {
      if (this.askedAt !== this.seq) {
        this.askedAt = this.seq;
        send(this.model, { type: "resync", seq: this.seq });
      }
      return;
    }
    const at = performance.now();
    let chunks: PointChunk[] = [];
    if (msg.rows > 0 && buffers[0]) {
      try {
        chunks = decodePoints(bytesOf(buffers[0])).chunks;
      } catch (err) {
        console.error("heatwidget: bad delta", err);
        send(this.model, { type: "resync", seq: this.seq });
        return;
      }
    }
    for (const c of chunks) {
      this.chunks.push(c);
      this.length += c.length;
    }
    const drop = Math.min(msg.drop, this.length);
    this.dropFront(drop);
    this.seq = msg.seq;
    this.emit({ kind: "append", chunks, drop, at });
  };

  private dropFront(n: number): void {
    this.length -= n;
    while (n > 0 && this.chunks.length) {
      const c = this.chunks[0];
      if (c.length <= n) {
        this.chunks.shift();
        n -= c.length;
      } else {
        this.chunks[0] = {
          lon: c.lon.subarray(n), lat: c.lat.subarray(n),
          weight: c.weight?.subarray(n), time: c.time?.subarray(n), length: c.length - n,
        };
        n = 0;
      }
    }
  }
}

// One store per model in this page, made by anywidget's `initialize` (which lives as long as
// the model, unlike a view's listeners), found by the model's `_uid`.
const stores = new Map<string, PointStore>();

export function createStore(model: Model): () => void {
  const uid = model.get("_uid") ?? "";
  stores.get(uid)?.dispose();
  const store = new PointStore(model);
  stores.set(uid, store);
  return () => {
    store.dispose();
    if (stores.get(uid) === store) stores.delete(uid);
  };
}

/** The model's store (made here if `initialize` did not run: then it lives with this view). */
export function storeFor(model: Model): { store: PointStore; owned: boolean } {
  const found = stores.get(model.get("_uid") ?? "");
  if (found) return { store: found, owned: false };
  return { store: new PointStore(model), owned: true };
}

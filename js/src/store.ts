// The points of one widget model, shared by every view of it in the page. Python sends the
// full rows only to a model that starts (its `_points`/`_seq` state: first display, page
// reload) and numbered deltas afterwards ("delta" and "reset" messages, protocol.ts).
// A message is checked whole before it takes its number: one that does not decode, claims
// rows its buffer lacks, drops more rows than are held, or is not the next number (a gap, a
// duplicate, a number from another state) changes nothing. The store keeps its rows (the
// views keep their last frame), says it is at fault (the views show it) and asks Python for
// a reset ("resync"); the next message that applies clears the fault.
// A big reset comes in parts (a "reset" with the first rows, then "part" 1, 2, …): each part
// is fed to the kernel as an append as it arrives, and a part out of order is a fault too.
// The model's kernel (model-kernel.ts) is fed each change first, once; then the views redraw.
// The rows are held once in the page: once the kernel has taken them (`release`) the store
// keeps only their count and seq, and a kernel made later (the last view closed and a new one
// opened, or a kernel re-made after a failure) asks Python for them again (`refetch`: a
// resync at seq -1, answered with a reset).
import { decodePoints, type WireChunk, type WirePoints } from "./arrow";
import { bytesOf, type Model } from "./model";
import { type Buffers, type DeltaMsg, listen, type PartMsg, type ResetMsg, send } from "./protocol";

/** An append is `partial` when it is a part of a reset whose last part is still to come. */
export type StoreEvent =
  | { kind: "reset" }
  | { kind: "append"; chunks: WireChunk[]; drop: number; at: number; partial: boolean };

/** A reset still arriving in parts: the next part expected, how many, and all their rows. */
interface PartsPending {
  seq: number;
  next: number;
  parts: number;
  rows: number;
}

type Listener = (e: StoreEvent) => void;
/** Why the rows may not be Python's (a message was refused), or null when they are. */
export type FaultListener = (fault: string | null) => void;

/** While at fault, the resync is asked again this often (its answer may have been lost). */
export const RESYNC_RETRY_MS = 2000;
const RESYNC_RETRIES = 5;
/** Once deltas stop for this long, the store says its seq to Python (a `hello`): the last
 * deltas of a burst can be lost on the way (a ZMQ queue of 1,000 messages, the IOPub rate
 * limit) with no later message to show the gap; Python answers with a reset if it has moved on. */
export const SETTLED_HELLO_MS = 1000;

export class PointStore {
  /** The rows, while no kernel has taken them (see `holding`). */
  chunks: WireChunk[] = [];
  length = 0;
  /** Whether `chunks` are the rows held; false once the kernel took them (`release`). */
  holding = true;
  /** Settles once `release` has emptied the model's `_points` (a second copy of the rows). */
  emptied: Promise<void> = Promise.resolve();
  /** Rows asked of Python (`refetch`) and not yet arrived. */
  wanting = false;
  seq = 0;
  /** Why the last numbered message was refused; null once one applies. */
  fault: string | null = null;
  /** Messages refused so far (for tests and debugging). */
  faults = 0;
  private listeners = new Set<Listener>();
  private feeds = new Set<Listener>();
  private faultListeners = new Set<FaultListener>();
  private askedAt = -Infinity;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private settled: ReturnType<typeof setTimeout> | null = null;
  private retries = 0;
  private decodeError = "";
  private unlisten: () => void;
  private partial: PartsPending | null = null;

  constructor(private model: Model) {
    // The state an earlier store of this model emptied (emptyState): no rows here, ask.
    const asking = stateEmptied(model);
    const first = asking ? null : this.decodeState(bytesOf(model.get("_points")));
    // Rows that do not decode are none, at no seq (-1): the hello below gets every row.
    this.take(first ?? decodePoints(new Uint8Array(0)), first ? this.stateSeq() : -1);
    if (first === null && !asking) {
      this.faults++;
      this.fault = "the initial rows do not decode";
      console.warn(`heatwidget: ${this.fault} (${this.decodeError}); asking Python for them`);
    }
    this.unlisten = listen(model, {
      delta: this.onDelta,
      reset: this.onReset,
      part: this.onPart,
      malformed: (type) => {
        if (type === "delta" || type === "reset" || type === "part") this.refuse(`malformed ${type}`);
      },
    });
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
    if (this.retry !== null) clearTimeout(this.retry);
    if (this.settled !== null) clearTimeout(this.settled);
    this.listeners.clear();
    this.feeds.clear();
    this.faultListeners.clear();
  }

  /** The rows the store still holds, as they came (what a kernel loads). */
  rows(): WirePoints {
    return {
      chunks: this.chunks,
      length: this.chunks.reduce((n, c) => n + c.length, 0),
      hasWeight: this.chunks.some((c) => c.weight),
      hasTime: this.chunks.some((c) => c.time),
    };
  }

  /** Whether Python keeps a sliding window over the rows (`max_points`): drops will come. */
  get windowed(): boolean {
    return this.model.get("max_points") != null;
  }

  /** Rows of a reset in parts that are still to come (0 when none is arriving). */
  get incoming(): number {
    return this.partial ? Math.max(0, this.partial.rows - this.length) : 0;
  }

  /** The kernel has taken the rows: forget them (keep the count and seq). */
  release(): void {
    this.chunks = [];
    this.holding = false;
    this.emptied = emptyState(this.model).catch((err: unknown) => {
      console.warn(`heatwidget: could not free the model's state bytes (${String(err)})`);
    });
  }

  /** A kernel needs the rows the store let go: ask Python for all of them (a reset). */
  refetch(): void {
    if (this.holding || this.wanting) return;
    this.wanting = true;
    this.askResync(false, -1);
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

  /** `fn` hears the fault change (set, or cleared with null); returns the unsubscribe. */
  watchFault(fn: FaultListener): () => void {
    this.faultListeners.add(fn);
    return () => this.faultListeners.delete(fn);
  }

  /** The first subscribed view drives the play animation (one clock per page). */
  isFirst(fn: Listener): boolean {
    return this.listeners.values().next().value === fn;
  }

  private emit(e: StoreEvent): void {
    for (const fn of this.feeds) fn(e);
    for (const fn of this.listeners) fn(e);
  }

  // Every refusal is heard (the count moves even when the reason repeats), and the clearing.
  private setFault(fault: string | null): void {
    this.fault = fault;
    for (const fn of this.faultListeners) fn(fault);
  }

  /** Nothing changes; the views say so, and Python is asked for the rows. One warning per
   * episode: a flood of bad messages is counted (data-faults), not logged a thousand times. */
  private refuse(why: string): void {
    this.partial = null;
    this.faults++;
    if (this.fault === null) {
      const detail = this.decodeError ? ` (${this.decodeError})` : "";
      console.warn(`heatwidget: refused a message: ${why}${detail}; asking Python for the rows`);
    }
    this.decodeError = "";
    this.setFault(why);
    this.askResync(false);
  }

  // One resync per seq at a time: a flood of bad messages is one question. Asked again after
  // RESYNC_RETRY_MS while still at fault, in case the answer was lost (IOPub rate limit).
  private askResync(retrying: boolean, seq = this.wanting ? -1 : this.seq): void {
    if (retrying || this.askedAt !== seq) {
      this.askedAt = seq;
      send(this.model, { type: "resync", seq });
    }
    if (this.retry !== null) return;
    if (!retrying) this.retries = 0;
    this.retry = setTimeout(() => {
      this.retry = null;
      const waiting = this.fault !== null || this.wanting;
      if (waiting && ++this.retries <= RESYNC_RETRIES) this.askResync(true);
    }, RESYNC_RETRY_MS);
  }

  private applied(): void {
    this.askedAt = -Infinity;
    if (this.fault !== null) this.setFault(null);
  }

  private decodeState(bytes: Uint8Array): WirePoints | null {
    try {
      return decodePoints(bytes);
    } catch (err) {
      this.decodeError = String(err); // said by refuse()
      return null;
    }
  }

  private take(points: WirePoints, seq: number): void {
    this.chunks = [...points.chunks];
    this.length = points.length;
    this.seq = seq;
    this.holding = true;
    this.wanting = false;
  }

  private stateSeq(): number {
    const seq = this.model.get("_seq");
    return Number.isSafeInteger(seq) && seq >= 0 ? seq : 0;
  }

  // A full state arrived (ipywidgets broadcasts it to every page when one page asks for it):
  // only a different seq means different rows.
  private onState = (): void => {
    const seq = this.stateSeq();
    if (seq === this.seq && this.fault === null && !this.wanting) return;
    const points = this.decodeState(bytesOf(this.model.get("_points")));
    if (points === null) this.refuse("the rows in the state do not decode");
    else this.replace(points, seq);
  };

  // A reset at our own seq is news only while at fault (the answer to our resync).
  private onReset = (msg: ResetMsg, buffers: Buffers): void => {
    if (msg.seq === this.seq && this.fault === null && !this.wanting && !this.partial) return;
    // Python's rows, even none, are an IPC stream with a schema: never zero bytes.
    const buffer = buffers[0];
    const points = buffer?.byteLength ? this.decodeState(bytesOf(buffer)) : null;
    if (points === null) this.refuse(`reset ${msg.seq} has no rows that decode`);
    else if (msg.rows !== null && points.length > msg.rows) {
      this.refuse(`reset ${msg.seq} says ${msg.rows} rows, its first part holds ${points.length}`);
    } else {
      const rows = msg.rows ?? points.length;
      this.replace(points, msg.seq, msg.parts > 1 ? { seq: msg.seq, next: 1, parts: msg.parts, rows } : null);
    }
  };

  // The parts of a reset this store let pass (it held that state already) pass too.
  private onPart = (msg: PartMsg, buffers: Buffers): void => {
    const at = performance.now();
    const p = this.partial;
    if (p === null && msg.seq === this.seq && this.fault === null && !this.wanting) return;
    const why = this.partRows(msg, buffers, p);
    if (typeof why === "string" || p === null) {
      this.refuse(typeof why === "string" ? why : `part ${msg.part} of reset ${msg.seq}`);
      return;
    }
    for (const c of why) {
      if (this.holding) this.chunks.push(c);
      this.length += c.length;
    }
    p.next++;
    if (p.next === p.parts) this.partial = null;
    this.emit({ kind: "append", chunks: why, drop: 0, at, partial: this.partial !== null });
  };

  /** The part's rows if it is the next one and fits its reset, else why not. */
  private partRows(msg: PartMsg, buffers: Buffers, p: PartsPending | null): WireChunk[] | string {
    if (p === null || p.seq !== msg.seq) return `part ${msg.part} of reset ${msg.seq}, which is not arriving`;
    if (msg.part !== p.next) return `part ${msg.part} of reset ${msg.seq} after part ${p.next - 1}`;
    const buffer = buffers[0];
    const points = buffer?.byteLength ? this.decodeState(bytesOf(buffer)) : null;
    if (points === null) return `part ${msg.part} of reset ${msg.seq} does not decode`;
    const rows = this.length + points.length;
    const last = msg.part === p.parts - 1;
    if (rows > p.rows || (last && rows !== p.rows)) {
      return `reset ${msg.seq} says ${p.rows} rows, its parts hold ${rows}${last ? "" : " so far"}`;
    }
    return points.chunks;
  }

  private replace(points: WirePoints, seq: number, partial: PartsPending | null = null): void {
    this.take(points, seq);
    this.partial = partial;
    this.applied();
    this.emit({ kind: "reset" });
  }

  private onDelta = (msg: DeltaMsg, buffers: Buffers): void => {
    const at = performance.now();
    const chunks = this.deltaRows(msg, buffers);
    if (typeof chunks === "string") {
      this.refuse(chunks);
      return;
    }
    for (const c of chunks) {
      if (this.holding) this.chunks.push(c);
      this.length += c.length;
    }
    this.dropFront(msg.drop);
    this.seq = msg.seq;
    this.applied();
    this.helloWhenSettled();
    this.emit({ kind: "append", chunks, drop: msg.drop, at, partial: false });
  };

  private helloWhenSettled(): void {
    if (this.settled !== null) clearTimeout(this.settled);
    this.settled = setTimeout(() => {
      this.settled = null;
      send(this.model, { type: "hello", seq: this.seq });
    }, SETTLED_HELLO_MS);
  }

  /** The delta's rows if it can apply whole, else why not. */
  private deltaRows(msg: DeltaMsg, buffers: Buffers): WireChunk[] | string {
    // Python sends in order on one channel: any number but the next is a fault (a gap: a
    // message was lost; a repeat or an older one: this store is not on Python's history).
    if (msg.seq !== this.seq + 1) return `delta ${msg.seq} after ${this.seq}`;
    if (this.partial) return `delta ${msg.seq} before the last part of reset ${this.seq}`;
    if (msg.drop > this.length + msg.rows) {
      return `delta ${msg.seq} drops ${msg.drop} of ${this.length + msg.rows} rows`;
    }
    if (msg.rows === 0) return [];
    const buffer = buffers[0];
    if (!buffer) return `delta ${msg.seq} has no rows buffer`;
    const points = this.decodeState(bytesOf(buffer));
    if (points === null) return `delta ${msg.seq} does not decode`;
    if (points.length !== msg.rows) {
      return `delta ${msg.seq} says ${msg.rows} rows, holds ${points.length}`;
    }
    return points.chunks;
  }

  private dropFront(n: number): void {
    this.length -= n;
    if (!this.holding) return;
    while (n > 0 && this.chunks.length) {
      const c = this.chunks[0];
      if (c.length <= n) {
        this.chunks.shift();
        n -= c.length;
      } else {
        this.chunks[0] = {
          x: c.x.subarray(n), y: c.y.subarray(n),
          weight: c.weight?.subarray(n), time: c.time?.subarray(n), length: c.length - n,
        };
        n = 0;
      }
    }
  }
}

// ipywidgets keeps the state a model started with (`_points`: every row, as the wire bytes) for
// the model's life. Once the kernel holds the rows those bytes are a second copy nobody reads,
// so the model's `_points` becomes an empty value and the bytes are freed. It must stay a valid
// value: JupyterLab's "Save Widget State Automatically", nbconvert and Voilà serialise every
// attribute (widget manager get_state), and a detached buffer throws there (so does Backbone's
// equality check when Python later sends a full state). The empty value is written into the
// Backbone model's attributes directly: `model.set` would queue it for the next save_changes
// and send it to Python, whose `_points` cannot be set. Saved widget state therefore holds no
// rows (the static picture shows the map there). A store made later for this model finds the
// empty value (`emptied`) and asks Python for the rows.

/** The empty `_points` values put in place here (zero bytes that are not Python's rows). */
const emptied = new WeakSet<object>();

/** The slice of an ipywidgets (Backbone) model this file touches. */
interface Attributes {
  attributes: Record<string, unknown>;
}

function hasAttributes(value: unknown): value is Attributes {
  const attributes = (value as Partial<Attributes> | null)?.attributes;
  return typeof attributes === "object" && attributes !== null;
}

/** The Backbone model behind anywidget's model (which exposes only get/set/on/...): the one of
 * its widget manager's models holding this very `_points` value. Null on hosts that are not
 * ipywidgets (the bytes are then kept: a second copy rather than a broken save). */
async function backboneOf(model: Model, value: unknown): Promise<Attributes | null> {
  if (hasAttributes(model)) return model;
  const manager = (model as { widget_manager?: { _models?: Record<string, unknown> } })
    .widget_manager;
  for (const entry of Object.values(manager?._models ?? {})) {
    const found: unknown = await Promise.resolve(entry).catch(() => null);
    if (hasAttributes(found) && found.attributes._points === value) return found;
  }
  return null;
}

/** Replaces the model's `_points` with an empty value, silently, and frees its bytes. */
async function emptyState(model: Model): Promise<void> {
  const value = model.get("_points");
  if (value === null || value === undefined || emptied.has(value)) return;
  const holder = await backboneOf(model, value);
  if (holder === null || holder.attributes._points !== value) return; // a new state came
  const empty = new DataView(new ArrayBuffer(0));
  emptied.add(empty);
  holder.attributes._points = empty;
  const buffer = value instanceof ArrayBuffer ? value : value.buffer;
  // Backbone's previous attributes may still point at the bytes until the model's next set:
  // transferring them to a clone that is dropped frees them now. Each Jupyter buffer is its
  // own ArrayBuffer (the comm deserializer slices them), so nothing else loses bytes.
  if (buffer instanceof ArrayBuffer && buffer.byteLength > 0 && typeof structuredClone === "function") {
    structuredClone(buffer, { transfer: [buffer] });
  }
}

/** Whether the model's `_points` is the empty value a store left (the rows are in Python). */
function stateEmptied(model: Model): boolean {
  const value = model.get("_points");
  return value !== null && value !== undefined && emptied.has(value);
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

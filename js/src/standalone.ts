// The model of save_html's page (heatwidget/export/html.py): a stand-in for the slice of
// anywidget's model the front end uses, over the traits embedded in the page. html.py puts the
// bundle before this script with its default export as `__HW_WIDGET__`. Nothing is sent
// anywhere: there is no kernel.
import type { Model, TraitName, Traits } from "./model";
import type { OfflineServer, offlineServer } from "./offline-grid";

type Callback = (value?: unknown, buffers?: unknown) => void;
type Widget = { render(props: { model: Model; el: HTMLElement }): unknown };
declare const __HW_WIDGET__: Widget;
// A served map's page: the bundle's offline grid answerer (html.py defines it when exported).
declare const __HW_OFFLINE__: typeof offlineServer | undefined;

/** Binary traits in the page: base64 in a <script type="application/octet-stream">. */
function bytesIn(id: string): DataView {
  const text = (document.getElementById(id)?.textContent ?? "").replace(/\s+/g, "");
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new DataView(bytes.buffer); // anywidget hands binary traits over as DataView
}

/** set() fires "change:<name>" at once, as Backbone does. */
export class StandaloneModel implements Model {
  private handlers = new Map<string, Set<Callback>>();

  constructor(private state: Record<string, unknown>) {}

  get<K extends TraitName>(name: K): Traits[K] {
    return this.state[name] as Traits[K];
  }

  set<K extends TraitName>(name: K, value: Traits[K]): void {
    const old = this.state[name];
    this.state[name] = value;
    if (JSON.stringify(old) !== JSON.stringify(value)) this.trigger(`change:${name}`, value);
  }

  save_changes(): void {}

  /** A served map's grid requests go to its embedded levels (offline-grid.ts); else nowhere. */
  server: OfflineServer | null = null;

  send(content?: unknown): void {
    this.server?.(content).then(
      (answer) => answer && this.trigger("msg:custom", answer[0], answer[1]),
      (err) => console.error("heatwidget: offline grid failed", err),
    );
  }

  on(event: string, fn: Callback): void {
    for (const name of String(event).split(/\s+/)) {
      const set = this.handlers.get(name) ?? new Set<Callback>();
      this.handlers.set(name, set);
      set.add(fn);
    }
  }

  off(event?: string | null, fn?: Callback | null): void {
    if (event == null) {
      this.handlers.clear();
      return;
    }
    for (const name of String(event).split(/\s+/)) {
      const set = this.handlers.get(name);
      if (!set) continue;
      if (fn == null) set.clear();
      else set.delete(fn);
    }
  }

  trigger(event: string, value?: unknown, buffers?: unknown): void {
    for (const fn of [...(this.handlers.get(event) ?? [])]) {
      try {
        fn(value, buffers);
      } catch (err) {
        console.error(err);
      }
    }
  }
}

/** Reads the page's state (`#heatwidget-state`, binaries by id) and renders the bundle's
 * widget into `#heatwidget-page`. */
export function start(): StandaloneModel {
  const state = JSON.parse(document.getElementById("heatwidget-state")?.textContent ?? "{}");
  for (const name of state.__binary__ ?? []) state[name] = bytesIn(`heatwidget-${name}`);
  delete state.__binary__;
  const model = new StandaloneModel(state);
  const el = document.getElementById("heatwidget-page") as HTMLElement;
  if (typeof __HW_OFFLINE__ === "function") model.server = __HW_OFFLINE__(state, el);
  (window as unknown as { heatwidgetModel: StandaloneModel }).heatwidgetModel = model;
  Promise.resolve(__HW_WIDGET__.render({ model, el })).catch((err) =>
    console.error("heatwidget: render failed", err),
  );
  return model;
}

start();

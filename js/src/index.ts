// The anywidget entry: builds one view (map, outlines, basemap, heat layer, legend) and wires
// it to the model. The views of one model draw from one kernel (model-kernel.ts); each lets go
// of it in the cleanup it returns, and the last one frees it.
import * as L from "leaflet";
import { HeatLayer, type FrameStats, type HeatStyle } from "./heat-layer";
import { Legend } from "./legend";
import { Basemap, createMap } from "./map";
import { ViewKernel } from "./model-kernel";
import { bytesOf, sendToPython, type Model, type TraitName, type Traits } from "./model";
import { addOutlines } from "./outlines";
import { attachSnapshots } from "./snapshot";
import { createStore, storeFor, type StoreEvent } from "./store";
import { TimeControl } from "./time-control";
import { ViewSync } from "./view-sync";

/** Hover events reach Python (and the tooltip updates) at most this often. */
const HOVER_EVERY_MS = 100;
/** The play animation writes `time_window` back to Python at most this often. */
const PLAY_WRITE_EVERY_MS = 150;

export const version: string = __HEATWIDGET_VERSION__;

// Used where a trait is missing (an older or hand-made model), matching the Python defaults.
const DEFAULTS: Partial<Traits> = {
  radius: 25, opacity: 0.8, aggregation: "sum", vmin: 0, vmax: "auto", scale: "linear",
  threshold: 0, legend: true, legend_title: "", height: 450, time_speed: 4, play: false,
  tooltip: false, _listen: [],
};

type Window = [number | null, number | null];

function render({ model, el }: { model: Model; el: HTMLElement }): () => void {
  const get = <K extends TraitName>(name: K): Traits[K] =>
    (model.get(name) ?? DEFAULTS[name]) as Traits[K];
  // The time window this view draws: the model's, or the play animation's latest step.
  let timeWindow: Window | null = get("time_window") ?? null;
  const style = (): HeatStyle => {
    const decay = get("time_decay");
    return {
      radius: get("radius"), radiusUnits: get("radius_units") ?? "pixels",
      aggregation: get("aggregation"), vmin: get("vmin"),
      vmax: get("vmax"), scale: get("scale"), threshold: get("threshold"),
      t0: timeWindow?.[0] ?? NaN, t1: timeWindow?.[1] ?? NaN,
      halfLife: decay ? decay * 1000 : 0,
    };
  };

  const root = document.createElement("div");
  root.className = "heatwidget";
  root.dataset.version = version;
  root.dataset.pointCount = "0";
  root.dataset.frames = "0";
  root.style.height = `${get("height")}px`;
  const mapEl = document.createElement("div");
  mapEl.className = "heatwidget-map";
  // Inline, not only in widget.css: Jupyter may load the CSS after this render, and Leaflet
  // makes a container it finds `position: static` relative (0 px high under inset: 0).
  mapEl.style.position = "absolute";
  mapEl.style.inset = "0";
  root.append(mapEl);
  el.append(root);
  el.classList.add("heatwidget-host");

  const map = createMap(mapEl);
  // For notebooks and tests: the Leaflet map, and the kernel once it has loaded.
  const handle: { map: L.Map; kernel?: ViewKernel } = { map };
  (root as any).__heatwidget = handle;
  (el as any).__heatwidget = handle;
  addOutlines(map);
  const basemap = new Basemap(map, (url) => {
    root.dataset.tiles = "unreachable";
    root.dataset.unreachableTiles = url; // which basemap gave up (tests wait for it)
  });
  basemap.set(get("_tiles"));

  let lut = bytesOf(get("_lut"));
  let domain: { vmin: number; vmax: number } | null = null;
  const legend = new Legend().addTo(map);
  const updateLegend = () => legend.update({
    lut, title: get("legend_title"), visible: get("legend"), scale: get("scale"),
    vmin: domain?.vmin ?? null, vmax: domain?.vmax ?? null,
  });
  updateLegend();

  let frames = 0;
  const onFrame = ({ frame, ms, kernelMs, points }: FrameStats) => {
    root.dataset.frames = String(++frames);
    if (appendedAt) {
      // From a delta's arrival to the frame that shows it (decode + kernel append + frame).
      root.dataset.appendFrameMs = (performance.now() - appendedAt).toFixed(1);
      appendedAt = 0;
    }
    root.dataset.frameMs = ms.toFixed(2);
    root.dataset.kernelMs = kernelMs.toFixed(2);
    if (frame && points > 0) root.dataset.ready = "1";
    if (frame) domain = { vmin: frame.vmin, vmax: frame.vmax };
    else if (points === 0) domain = null;
    updateLegend();
  };
  const layer = new HeatLayer(style(), onFrame);
  layer.setOpacity(get("opacity"));
  layer.addTo(map);

  // The model's points live in its store (store.ts) and, once, in its kernel (model-kernel.ts),
  // both shared by the views of the page; the kernel hears of a change before this view does.
  const { store, owned } = storeFor(model);
  let kernel: ViewKernel | null = null;
  let disposed = false;
  let appendedAt = 0;
  const showCount = () => {
    root.dataset.pointCount = String(kernel ? kernel.pointCount : 0);
    root.dataset.seq = String(store.seq);
  };
  const onStore = (e: StoreEvent) => {
    if (!kernel) return; // draws everything when the kernel is ready
    if (e.kind === "reset") root.dataset.loadMs = kernel.loadMs.toFixed(1);
    // Appends faster than the screen refreshes share the next frame (the layer coalesces).
    else if (!appendedAt) appendedAt = e.at;
    showCount();
    layer.redraw();
  };
  const unsubscribe = store.subscribe(onStore);
  ViewKernel.acquire(store, () => layer.redraw()).then((k) => {
    if (disposed) return k.release();
    kernel = k;
    handle.kernel = k;
    k.setLut(lut);
    root.dataset.loadMs = k.loadMs.toFixed(1);
    root.dataset.views = String(k.viewCount); // views drawing from this model's kernel
    showCount();
    layer.setKernel(k);
  }, (err) => disposed || console.error("heatwidget: the heat kernel did not load", err));

  // ---- time: the play control ----------------------------------------------------------------
  let playTimer: ReturnType<typeof setInterval> | undefined;
  let lastWindowWrite = 0;
  let windowWriteTimer: ReturnType<typeof setTimeout> | undefined;
  const extent = () => get("time_extent") ?? null;
  const stepMs = () => {
    const ext = extent();
    const step = get("time_step");
    if (step) return step * 1000;
    return ext && ext[1] > ext[0] ? (ext[1] - ext[0]) / 100 : 1000;
  };
  const writeWindow = (now = false) => {
    clearTimeout(windowWriteTimer);
    windowWriteTimer = undefined;
    const wait = lastWindowWrite + PLAY_WRITE_EVERY_MS - performance.now();
    if (!now && wait > 0) {
      windowWriteTimer = setTimeout(() => writeWindow(true), wait);
      return;
    }
    lastWindowWrite = performance.now();
    model.set("time_window", timeWindow);
    model.save_changes();
  };
  const setWindow = (w: Window | null, write: boolean) => {
    timeWindow = w;
    layer.setStyle(style());
    updateControl();
    if (write) writeWindow();
  };
  const stepOnce = () => {
    const ext = extent();
    if (!ext) return;
    const step = stepMs();
    const w = timeWindow;
    const width = w && w[0] !== null && w[1] !== null ? w[1] - w[0] : step;
    let start = (w?.[0] ?? ext[0] - step) + step;
    if (start > ext[1]) {
      // At the end: stop there (play again to start over from the beginning).
      model.set("play", false);
      writeWindow(true);
      return;
    }
    if (start < ext[0]) start = ext[0];
    setWindow([Math.round(start), Math.round(start + width)], true);
  };
  const syncPlay = () => {
    clearInterval(playTimer);
    playTimer = undefined;
    // One clock per page: the first view of the model animates, the others follow the model.
    if (get("play") && extent() && store.isFirst(onStore)) {
      const ext = extent()!;
      if (timeWindow?.[0] != null && timeWindow[0] + stepMs() > ext[1]) {
        setWindow([ext[0], ext[0] + stepMs()], true); // start over
      }
      playTimer = setInterval(stepOnce, 1000 / Math.max(0.01, get("time_speed")));
    }
    updateControl();
  };
  const control = new TimeControl({
    seek: (start) => {
      const w = timeWindow;
      const width = w && w[0] !== null && w[1] !== null ? w[1] - w[0] : stepMs();
      setWindow([Math.round(start), Math.round(start + width)], true);
    },
    toggle: () => {
      model.set("play", !get("play"));
      model.save_changes();
      syncPlay();
    },
    speed: (v) => {
      model.set("time_speed", v);
      model.save_changes();
      syncPlay();
    },
    step: (seconds) => {
      model.set("time_step", seconds);
      model.save_changes();
      updateControl();
    },
  });
  const updateControl = () => control.update({
    extent: extent(), window: timeWindow, playing: !!get("play"), speed: get("time_speed"),
    step: get("time_step") ?? null,
  });
  control.addTo(map);
  updateControl();
  syncPlay();

  // ---- the map talks to Python ------------------------------------------------------------------
  const tip = document.createElement("div");
  tip.className = "heatwidget-tooltip";
  tip.style.display = "none";
  root.append(tip);
  const probe = (e: L.LeafletMouseEvent) => {
    const p = e.containerPoint;
    const value = kernel?.valueAt(p.x, p.y) ?? null;
    const count = kernel?.countNear(p.x, p.y, layer.radiusPixels()) ?? null;
    const ll = e.latlng.wrap();
    return { lat: ll.lat, lon: ll.lng, value, count, x: p.x, y: p.y };
  };
  const listening = (name: string) => (get("_listen") ?? []).includes(name);
  map.on("click", (e: L.LeafletMouseEvent) => {
    if (!listening("click")) return;
    sendToPython(model, { type: "click", ...probe(e) });
  });
  let lastHover = 0;
  let hoverTimer: ReturnType<typeof setTimeout> | undefined;
  let hoverEvent: L.LeafletMouseEvent | null = null;
  const hover = () => {
    hoverTimer = undefined;
    lastHover = performance.now();
    const e = hoverEvent;
    if (!e) return;
    const info = probe(e);
    if (listening("hover")) sendToPython(model, { type: "hover", ...info });
    if (get("tooltip")) {
      tip.style.display = "";
      tip.style.left = `${info.x}px`;
      tip.style.top = `${info.y}px`;
      const v = info.value === null ? "–" : info.value.toPrecision(4);
      tip.textContent = `${info.lat.toFixed(4)}, ${info.lon.toFixed(4)}  value ${v}  count ${info.count ?? "–"}`;
    }
  };
  map.on("mousemove", (e: L.LeafletMouseEvent) => {
    if (!listening("hover") && !get("tooltip")) return;
    hoverEvent = e;
    const wait = lastHover + HOVER_EVERY_MS - performance.now();
    if (wait <= 0) hover();
    else if (hoverTimer === undefined) hoverTimer = setTimeout(hover, wait);
  });
  map.on("mouseout", () => {
    hoverEvent = null;
    tip.style.display = "none";
  });
  const onCustom = (msg: { type?: string; bounds?: number[]; center?: [number, number];
    zoom?: number | null; animate?: boolean }) => {
    if (msg?.type === "fit_bounds" && msg.bounds) {
      const [s, w, n, e] = msg.bounds;
      map.fitBounds([[s, w], [n, e]], { animate: msg.animate !== false });
    } else if (msg?.type === "fly_to" && msg.center) {
      map.flyTo(msg.center, msg.zoom ?? map.getZoom());
    }
  };
  model.on("msg:custom", onCustom);

  // Python asks for a PNG of what this view shows (m.snapshot()): snapshot.ts composes it.
  const detachSnapshots = attachSnapshots(model, root, map);

  const sync = new ViewSync(map, model);
  // Jupyter may render into a detached element: Leaflet learns its size from here, and the
  // first view (fitting data_bounds needs a size) waits for one.
  const resizes = new ResizeObserver(() => {
    if (mapEl.clientWidth === 0 || mapEl.clientHeight === 0) return;
    map.invalidateSize({ animate: false });
    sync.start();
  });
  resizes.observe(mapEl);

  const restyle = () => layer.setStyle(style());
  const handlers: Record<string, () => void> = {
    "change:time_window": () => setWindow(get("time_window") ?? null, false),
    "change:time_decay": restyle,
    "change:time_extent": () => {
      updateControl();
      syncPlay();
    },
    "change:play": syncPlay,
    "change:time_speed": syncPlay,
    "change:time_step": updateControl,
    "change:tooltip": () => (tip.style.display = "none"),
    "change:_lut": () => {
      lut = bytesOf(get("_lut"));
      kernel?.setLut(lut);
      updateLegend();
      layer.redraw();
    },
    "change:radius": restyle,
    "change:radius_units": restyle,
    "change:aggregation": restyle,
    "change:vmin": restyle,
    "change:vmax": restyle,
    "change:threshold": restyle,
    "change:scale": () => {
      restyle();
      updateLegend();
    },
    "change:opacity": () => layer.setOpacity(get("opacity")),
    "change:_tiles": () => basemap.set(get("_tiles")),
    "change:legend": updateLegend,
    "change:legend_title": updateLegend,
    "change:center": () => sync.modelChanged(),
    "change:zoom": () => sync.modelChanged(),
    "change:data_bounds": () => sync.boundsChanged(),
    "change:height": () => (root.style.height = `${get("height")}px`),
  };
  for (const [event, fn] of Object.entries(handlers)) model.on(event, fn);

  return () => {
    disposed = true;
    for (const [event, fn] of Object.entries(handlers)) model.off(event, fn);
    model.off("msg:custom", onCustom);
    detachSnapshots();
    clearInterval(playTimer);
    clearTimeout(windowWriteTimer);
    clearTimeout(hoverTimer);
    unsubscribe();
    if (owned) store.dispose();
    resizes.disconnect();
    sync.stop();
    basemap.clear();
    el.classList.remove("heatwidget-host");
    map.remove();
    kernel?.release();
    kernel = null;
    delete handle.kernel;
    delete (root as any).__heatwidget;
    delete (el as any).__heatwidget;
    root.remove();
  };
}

/** Once per model (anywidget): the point store that outlives any one view. */
function initialize({ model }: { model: Model }): () => void {
  return createStore(model);
}

export default { initialize, render };

// Leaflet is bundled; tests and notebooks may want the same instance.
export { L };

// The anywidget entry: builds one view (map, outlines, basemap, heat layer, legend, play
// control, pointer) and wires it to the model. The views of one model draw from one kernel
// (model-kernel.ts); each lets go of it in the cleanup render returns, and the last frees it.
import * as L from "leaflet";
import { watchConnection } from "./connection";
import { ContourLayer } from "./contours";
import { ServerMode } from "./grid-layer";
import { type FrameStats, HeatLayer, heatStyle } from "./heat-layer";
import { Legend } from "./legend";
import { Basemap, createMap } from "./map";
import { bytesOf, type Model, traitGetter } from "./model";
import { ViewKernel, whenIdle } from "./model-kernel";
import { addOutlines } from "./outlines";
import { PlayClock } from "./play-clock";
import { Pointer } from "./pointer";
import { listen } from "./protocol";
import { createRoot, FrameMarks } from "./root";
import { SelectionTool } from "./selection-tool";
import { attachSnapshots } from "./snapshot";
import { StatusBadge } from "./status";
import { createStore, type StoreEvent, storeFor } from "./store";
import { ViewSync } from "./view-sync";

export const version: string = __HEATWIDGET_VERSION__;

/** Milliseconds of splatting ahead per idle callback (HeatLayer.splatAhead). */
const AHEAD_BUDGET_MS = 5;

/** Traits that change only the heat layer's style. */
const RESTYLE = ["time_decay", "radius", "radius_units", "aggregation", "vmin", "vmax", "threshold"];

type Handle = { map: L.Map; model: Model; kernel?: ViewKernel };
type Tagged = HTMLElement & { __heatwidget?: Handle };

function render({ model, el }: { model: Model; el: HTMLElement }): () => void {
  const get = traitGetter(model);
  const { root, mapEl } = createRoot(el, version, get("height"));

  const map = createMap(mapEl);
  // For notebooks and tests: the Leaflet map, the model, and the kernel once it has loaded.
  const handle: Handle = { map, model };
  (root as Tagged).__heatwidget = handle;
  (el as Tagged).__heatwidget = handle;
  addOutlines(map);
  const basemap = new Basemap(map, (url) => {
    root.dataset.tiles = "unreachable";
    root.dataset.unreachableTiles = url; // which basemap gave up (tests wait for it)
  });
  basemap.set(get("_tiles"));

  let lut = bytesOf(get("_lut"));
  let domain: { vmin: number; vmax: number } | null = null;
  const legend = new Legend().addTo(map);
  const updateLegend = () =>
    legend.update({
      lut, title: get("legend_title"), visible: get("legend"), scale: get("scale"),
      vmin: domain?.vmin ?? null, vmax: domain?.vmax ?? null,
    });
  updateLegend();

  // The model's points live in its store (store.ts) and, once, in its kernel (model-kernel.ts),
  // both shared by the views of the page; the kernel hears of a change before this view does.
  const { store, owned } = storeFor(model);
  let kernel: ViewKernel | null = null;
  let disposed = false;
  const marks = new FrameMarks(root);
  const contours = new ContourLayer(root, () => ({
    lut, scale: get("scale"), spec: get("contours") ?? null,
  }));
  const onFrame = (stats: FrameStats) => {
    marks.frame(stats);
    // up close the kernel drew the rows in view as dots on the heat's frame (heat-layer.ts)
    root.dataset.pointsMode = stats.dotsMix > 0 ? "1" : "0";
    root.dataset.pointsMix = stats.dotsMix.toFixed(2);
    root.dataset.pointsDrawn = String(stats.dotsDrawn);
    const { frame, points } = stats;
    const { width, height } = frame?.image ?? { width: 0, height: 0 };
    contours.frame(frame?.grid ?? null, width, height, frame?.vmin ?? 0, frame?.vmax ?? 0,
      layer.radiusPixels());
    if (frame) domain = { vmin: frame.vmin, vmax: frame.vmax };
    else if (points === 0) domain = null;
    updateLegend();
  };
  const onStore = (e: StoreEvent) => {
    if (!kernel) return; // draws everything when the kernel is ready
    if (e.kind === "reset") root.dataset.loadMs = kernel.loadMs.toFixed(1);
    else marks.appended(e.at); // the layer coalesces redraws into one frame
    showCount();
    // No frame until a big reset's last part is in: a frame drawn over part of the rows lets
    // the next frame sort all of them inside itself (spatial.c spatial_frame_begins), and
    // takes the thread the parts arrive on. The parts are splatted into that frame instead
    // once the page is idle (the next part's message first), so the frame splats the last.
    if (e.kind === "append" ? e.partial : store.incoming > 0) {
      splatAheadSoon();
      return;
    }
    layer.redraw();
  };
  // Splats the parts so far into the first frame when the page is idle, a few ms at a time,
  // until they are all in it; once the last part is in, the frame splats what is left.
  let aheadQueued = false;
  const splatAheadSoon = () => {
    if (aheadQueued) return;
    aheadQueued = true;
    whenIdle(() => {
      aheadQueued = false;
      if (store.incoming === 0) return;
      const held = layer.splatAhead(AHEAD_BUDGET_MS);
      root.dataset.aheadRows = String(held);
      if (held >= 0 && held < (kernel?.pointCount ?? 0)) splatAheadSoon();
    });
  };
  const showCount = () => {
    root.dataset.pointCount = String(kernel ? kernel.pointCount : 0);
    root.dataset.seq = String(store.seq);
  };

  const clock = new PlayClock(model, get, () => store.isFirst(onStore), () => restyle());
  const style = () => heatStyle(get, clock.window);
  const layer = new HeatLayer(style(), onFrame);
  const restyle = () => layer.setStyle(style());
  layer.setOpacity(get("opacity"));
  layer.attach(contours.canvas);
  layer.addTo(map);

  const unsubscribe = store.subscribe(onStore);
  // A refused message or a dead kernel: the last frame stays, with a badge saying why.
  const status = new StatusBadge(root);
  status.setFault(store.fault, store.faults);
  const unwatchFault = store.watchFault((fault) => status.setFault(fault, store.faults));
  const unwatchConnection = watchConnection(model, el, (live) => status.setLive(live));
  // Server mode: the rows stay in Python; this view draws the grids it asks for (grid-layer.ts).
  const served = get("mode") === "server" ? new ServerMode(model, root, () => layer.redraw()) : null;
  ViewKernel.acquire(store, () => layer.redraw()).then(
    (k): ViewKernel | Promise<ViewKernel> => (served ? served.take(k, () => get("point_count")) : k),
  ).then(
    (k: ViewKernel) => {
      if (disposed) return k.release();
      kernel = k;
      handle.kernel = k;
      k.setLut(lut);
      root.dataset.loadMs = k.loadMs.toFixed(1);
      root.dataset.views = String(k.viewCount); // views drawing from this model's kernel
      showCount();
      layer.setKernel(k);
    },
    (err) => disposed || console.error("heatwidget: the heat kernel did not load", err),
  );

  clock.addTo(map);
  const pointer = new Pointer(map, root, model, get, () => kernel, () => layer.radiusPixels());
  const unlisten = listen(model, {
    fit_bounds: ({ bounds: [s, w, n, e], animate }) => map.fitBounds([[s, w], [n, e]], { animate }),
    fly_to: ({ center, zoom }) => map.flyTo(center, zoom ?? map.getZoom()),
    grid: (msg, buffers) => served?.receive(msg, buffers),
  });
  // Python asks for a PNG of what this view shows (m.snapshot()): snapshot.ts composes it.
  const detachSnapshots = attachSnapshots(model, root, map, () => legend.flush());

  const selection = new SelectionTool(map, model);
  const sync = new ViewSync(map, model);
  // Jupyter may render into a detached element: Leaflet learns its size from here, and the
  // first view (fitting data_bounds needs a size) waits for one.
  const resizes = new ResizeObserver(() => {
    if (mapEl.clientWidth === 0 || mapEl.clientHeight === 0) return;
    map.invalidateSize({ animate: false });
    sync.start();
  });
  resizes.observe(mapEl);

  const handlers: Record<string, () => void> = {
    ...clock.handlers(),
    ...pointer.handlers(),
    ...selection.handlers(),
    ...Object.fromEntries(RESTYLE.map((name) => [`change:${name}`, restyle])),
    "change:_lut": () => {
      lut = bytesOf(get("_lut"));
      kernel?.setLut(lut);
      updateLegend();
      layer.redraw();
    },
    "change:scale": () => {
      restyle();
      updateLegend();
    },
    "change:opacity": () => layer.setOpacity(get("opacity")),
    "change:points_zoom": restyle,
    "change:points_radius": restyle,
    "change:contours": () => layer.redraw(),
    "change:_tiles": () => basemap.set(get("_tiles")),
    "change:legend": updateLegend,
    "change:legend_title": updateLegend,
    "change:center": () => sync.modelChanged(),
    "change:zoom": () => sync.modelChanged(),
    "change:data_bounds": () => sync.boundsChanged(),
    "change:_grid_version": () => {
      served?.client.invalidate();
      showCount(); // the rows served
      layer.redraw();
    },
    "change:height": () => {
      root.style.height = `${get("height")}px`;
    },
  };
  for (const [event, fn] of Object.entries(handlers)) model.on(event, fn);

  return () => {
    disposed = true;
    for (const [event, fn] of Object.entries(handlers)) model.off(event, fn);
    unlisten();
    served?.dispose();
    detachSnapshots();
    clock.dispose();
    pointer.dispose();
    selection.dispose();
    contours.dispose();
    unsubscribe();
    unwatchFault();
    unwatchConnection();
    status.dispose();
    if (owned) store.dispose();
    resizes.disconnect();
    sync.stop();
    basemap.clear();
    el.classList.remove("heatwidget-host");
    map.remove();
    kernel?.release();
    kernel = null;
    delete handle.kernel;
    delete (root as Tagged).__heatwidget;
    delete (el as Tagged).__heatwidget;
    root.remove();
  };
}

/** Once per model (anywidget): the point store that outlives any one view. */
function initialize({ model }: { model: Model }): () => void {
  return createStore(model);
}

export default { initialize, render };

// save_html's page of a served map answers its views' grids from embedded levels.
export { offlineServer } from "./offline-grid";
// Leaflet is bundled; tests and notebooks may want the same instance.
export { L };

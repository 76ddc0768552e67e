// The anywidget entry: builds one view (map, outlines, basemap, heat layer, legend) and wires
// it to the model. Each view owns its kernel instance and frees it in the cleanup it returns.
import * as L from "leaflet";
import { decodePoints, NO_POINTS, type Points } from "./arrow";
import { HeatLayer, type FrameStats, type HeatStyle } from "./heat-layer";
import { HeatKernel } from "./kernel";
import { Legend } from "./legend";
import { Basemap, createMap } from "./map";
import { bytesOf, type Model, type TraitName, type Traits } from "./model";
import { addOutlines } from "./outlines";
import { ViewSync } from "./view-sync";

export const version: string = __HEATWIDGET_VERSION__;

// Used where a trait is missing (an older or hand-made model), matching the Python defaults.
const DEFAULTS: Partial<Traits> = {
  radius: 25, opacity: 0.8, aggregation: "sum", vmin: 0, vmax: "auto", scale: "linear",
  threshold: 0, legend: true, legend_title: "", height: 450,
};

function render({ model, el }: { model: Model; el: HTMLElement }): () => void {
  const get = <K extends TraitName>(name: K): Traits[K] =>
    (model.get(name) ?? DEFAULTS[name]) as Traits[K];
  const style = (): HeatStyle => ({
    radius: get("radius"), aggregation: get("aggregation"), vmin: get("vmin"),
    vmax: get("vmax"), scale: get("scale"), threshold: get("threshold"),
  });

  const root = document.createElement("div");
  root.className = "heatwidget";
  root.dataset.version = version;
  root.dataset.pointCount = "0";
  root.dataset.frames = "0";
  root.style.height = `${get("height")}px`;
  const mapEl = document.createElement("div");
  mapEl.className = "heatwidget-map";
  root.append(mapEl);
  el.append(root);

  const map = createMap(mapEl);
  const handle = { map };
  (root as any).__heatwidget = handle;
  (el as any).__heatwidget = handle;
  addOutlines(map);
  const basemap = new Basemap(map, () => (root.dataset.tiles = "unreachable"));
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

  // Points wait here until the kernel is instantiated; after loading, the kernel has its copy.
  let pending: Points | null = null;
  let kernel: HeatKernel | null = null;
  let disposed = false;
  let decodeMs = 0;
  const loadPending = () => {
    if (!kernel || !pending) return;
    const t0 = performance.now();
    try {
      kernel.load(pending);
    } catch (err) {
      console.error(err);
    }
    pending = null;
    root.dataset.loadMs = (decodeMs + performance.now() - t0).toFixed(1);
    root.dataset.pointCount = String(kernel.pointCount);
    layer.redraw();
  };
  const setPoints = () => {
    const t0 = performance.now();
    try {
      pending = decodePoints(bytesOf(get("_points")));
    } catch (err) {
      console.error(err);
      pending = NO_POINTS;
    }
    decodeMs = performance.now() - t0;
    loadPending();
  };
  setPoints();
  HeatKernel.create().then((k) => {
    if (disposed) return k.free();
    kernel = k;
    k.setLut(lut);
    loadPending();
    layer.setKernel(k);
  }, (err) => console.error("heatwidget: the heat kernel did not load", err));

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
    "change:_points": setPoints,
    "change:_lut": () => {
      lut = bytesOf(get("_lut"));
      kernel?.setLut(lut);
      updateLegend();
      layer.redraw();
    },
    "change:radius": restyle,
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
    resizes.disconnect();
    sync.stop();
    basemap.clear();
    map.remove();
    kernel?.free();
    kernel = null;
    pending = null;
    delete (root as any).__heatwidget;
    delete (el as any).__heatwidget;
    root.remove();
  };
}

export default { render };

// Leaflet is bundled; tests and notebooks may want the same instance.
export { L };

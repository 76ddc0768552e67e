// Modules and constants that js/build.mjs provides at bundle time.

/** The package version, from js/package.json. */
declare const __HEATWIDGET_VERSION__: string;

/** The kernel's bytes (heatwidget/static/heat.wasm), inlined by esbuild's binary loader. */
declare module "heatwidget:kernel-wasm" {
  const bytes: Uint8Array<ArrayBuffer>;
  export default bytes;
}

/** Natural Earth countries as TopoJSON (world-atlas), with `land` and `countries` objects. */
declare module "heatwidget:atlas" {
  import type { GeometryCollection, Topology } from "topojson-specification";

  const topology: Topology<{ land: GeometryCollection; countries: GeometryCollection }>;
  export default topology;
}

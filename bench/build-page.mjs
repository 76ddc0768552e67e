// Bundles bench/page/main.ts (with js/src/kernel.ts and the built heatwidget/static/heat.wasm
// inlined, exactly as js/build.mjs does for the widget) into bench/.cache/page.js.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const wasm = join(here, "..", "heatwidget", "static", "heat.wasm");
if (!existsSync(wasm)) throw new Error(`missing ${wasm}: run npm run build in js/`);

await esbuild.build({
  entryPoints: [join(here, "page", "main.ts")],
  outfile: join(here, ".cache", "page.js"),
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: false,
  logLevel: "warning",
  loader: { ".wasm": "binary" },
  // the kernel's own imports resolve from js/node_modules; ours from bench/node_modules
  nodePaths: [join(here, "node_modules"), join(here, "..", "js", "node_modules")],
  plugins: [{
    name: "heatwidget-kernel-wasm",
    setup(build) {
      build.onResolve({ filter: /^heatwidget:kernel-wasm$/ }, () => ({ path: wasm }));
    },
  }],
});
console.log("bench page bundled");

// Builds heatwidget's front end into heatwidget/static/:
//   heat.wasm   the kernel (js/kernel/*.c, ABI in heat.h), compiled with `python -m ziglang cc`
//   widget.js   the anywidget ESM bundle, with heat.wasm and the Natural Earth outlines inlined
//   widget.css  Leaflet's CSS and ours
// Usage: node build.mjs [--kernel-only]
// Environment: PYTHON (interpreter that has ziglang), HEATWIDGET_ATLAS (110m | 50m).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "heatwidget", "static");
const kernelDir = join(here, "kernel");
// The kernel's rooms (kernel.h lists them), compiled and linked into one module.
const kernelSources = readdirSync(kernelDir).filter((f) => f.endsWith(".c")).sort();
const wasmOut = join(outDir, "heat.wasm");
const pkg = JSON.parse(readFileSync(join(here, "package.json"), "utf8"));
// 110m keeps the bundle small (anywidget sends _esm to every view); 50m adds ~0.6 MB.
const atlas = process.env.HEATWIDGET_ATLAS ?? "110m";

const WASM_FLAGS = [
  "-mcpu=generic+simd128+bulk_memory", "-O3", "-s", "-nostdlib",
  "-Wl,--no-entry", "-Wl,--export-dynamic",
];

function run(cmd, args) {
  return spawnSync(cmd, args, { cwd: join(here, "kernel"), encoding: "utf8" });
}

// The interpreter that has ziglang: PYTHON if set (so pip's build isolation can name its own),
// then python3, then python; the first that can import it.
function findZigPython() {
  const candidates = [process.env.PYTHON, "python3", "python"].filter(Boolean);
  for (const py of candidates) {
    if (run(py, ["-c", "import ziglang"]).status === 0) return py;
  }
  return null;
}

function buildKernel() {
  mkdirSync(outDir, { recursive: true });
  const py = findZigPython();
  // Debian's clang + lld compile the same C to the same module: the fallback when ziglang is
  // not installed. Its triple is plain wasm32 (zig spells it wasm32-freestanding).
  const [cmd, args, label] = py
    ? [py, ["-m", "ziglang", "cc", "--target=wasm32-freestanding", ...WASM_FLAGS], `${py} -m ziglang cc`]
    : ["clang", ["--target=wasm32", ...WASM_FLAGS], "clang"];
  const res = run(cmd, [...args, "-Wall", "-Wextra", "-o", wasmOut, ...kernelSources]);
  if (res.error || res.status !== 0) {
    const why = res.error ? res.error.message : res.stderr;
    throw new Error(`kernel build failed (${label}):\n${why}\n` +
      (py ? "" : "Install ziglang (pip install ziglang) or Debian's clang and lld.\n"));
  }
  if (res.stderr.trim()) process.stderr.write(res.stderr);
  return label;
}

// Virtual modules, so the sources name what they need and the build decides where it lives:
//   heatwidget:kernel-wasm  the built heat.wasm as a Uint8Array (esbuild's binary loader)
//   heatwidget:atlas        the Natural Earth countries topology (land + countries objects)
const virtualModules = {
  name: "heatwidget-virtual",
  setup(build) {
    build.onResolve({ filter: /^heatwidget:kernel-wasm$/ }, () => ({ path: wasmOut }));
    build.onResolve({ filter: /^heatwidget:atlas$/ }, () => ({
      path: join(here, "node_modules", "world-atlas", `countries-${atlas}.json`),
    }));
  },
};

function size(path) {
  const b = statSync(path).size;
  return b >= 1024 * 1024 ? `${(b / 1048576).toFixed(2)} MB` : `${(b / 1024).toFixed(1)} KB`;
}

async function main() {
  const t0 = performance.now();
  const kernelOnly = process.argv.includes("--kernel-only");
  if (!kernelSources.length) throw new Error(`no kernel sources in ${kernelDir}`);
  const compiler = buildKernel();
  const outputs = [wasmOut];
  if (!kernelOnly) {
    const common = { bundle: true, minify: true, logLevel: "warning", legalComments: "eof" };
    await Promise.all([
      esbuild.build({
        ...common,
        entryPoints: [join(here, "src", "index.ts")],
        outfile: join(outDir, "widget.js"),
        format: "esm",
        target: "es2020",
        sourcemap: false,
        loader: { ".wasm": "binary", ".json": "json" },
        define: { __HEATWIDGET_VERSION__: JSON.stringify(pkg.version) },
        plugins: [virtualModules],
      }),
      esbuild.build({
        ...common,
        entryPoints: [join(here, "src", "widget.css")],
        outfile: join(outDir, "widget.css"),
        // Leaflet's CSS names marker and layer-control images we never show.
        loader: { ".png": "empty", ".svg": "empty" },
      }),
    ]);
    outputs.push(join(outDir, "widget.js"), join(outDir, "widget.css"));
  }
  for (const p of outputs) console.log(`  ${relative(process.cwd(), p).padEnd(40)} ${size(p)}`);
  console.log(`heatwidget ${pkg.version}: kernel by ${compiler}, atlas ${atlas}, ` +
    `${Math.round(performance.now() - t0)} ms`);
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});

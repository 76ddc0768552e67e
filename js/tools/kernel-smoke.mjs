// A quick self-check of heatwidget/static/heat.wasm in node: loads N random points the way
// js/src/kernel.ts does (chunks of hw_stage_capacity) and times hw_density + hw_colorize.
// Usage: node tools/kernel-smoke.mjs [points=1000000] [radius=25]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const N = Number(process.argv[2] ?? 1_000_000);
const RADIUS = Number(process.argv[3] ?? 25);
const W = 1024, H = 768, ZOOM = 2, RUNS = 20;

const wasmPath = fileURLToPath(new URL("../../heatwidget/static/heat.wasm", import.meta.url));
const bytes = readFileSync(wasmPath);
const { instance } = await WebAssembly.instantiate(bytes, {});
const k = instance.exports;

// Deterministic points: half in a few clusters (Gaussian), half spread over land-ish latitudes.
let seed = 42;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 4294967296);
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
const centers = [[-74, 40.7], [2.35, 48.85], [139.7, 35.7], [-46.6, -23.5], [77.2, 28.6]];
const lon = new Float64Array(N), lat = new Float64Array(N), weight = new Float32Array(N);
for (let i = 0; i < N; i++) {
  if (i % 2) {
    const [cx, cy] = centers[i % centers.length];
    lon[i] = cx + 4 * gauss();
    lat[i] = Math.max(-85, Math.min(85, cy + 3 * gauss()));
  } else {
    lon[i] = rand() * 360 - 180;
    lat[i] = rand() * 120 - 60;
  }
  weight[i] = rand();
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

let t = performance.now();
k.hw_points_reserve(N);
const cap = k.hw_stage_capacity();
for (let s = 0; s < N; s += cap) {
  const n = Math.min(cap, N - s);
  const buf = k.memory.buffer; // re-made per chunk: hw_points_append may grow memory
  new Float64Array(buf, k.hw_stage_lon(), n).set(lon.subarray(s, s + n));
  new Float64Array(buf, k.hw_stage_lat(), n).set(lat.subarray(s, s + n));
  new Float32Array(buf, k.hw_stage_weight(), n).set(weight.subarray(s, s + n));
  if (k.hw_points_append(n, 1) < 0) throw new Error("out of memory");
}
const loadMs = performance.now() - t;
if (k.hw_points_count() !== N) throw new Error(`held ${k.hw_points_count()} points, not ${N}`);

const lut = new Uint8Array(k.memory.buffer, k.hw_lut(), 1024);
for (let i = 0; i < 256; i++) lut.set([i, 64, 255 - i, 255], 4 * i);

// The world at zoom 2 is 1024 px wide: a 1024x768 frame centred on the equator.
const x0 = 0, y0 = 512 - H / 2;
const results = {};
for (const [name, agg] of [["sum", 0], ["count", 1], ["mean", 2], ["max", 3]]) {
  const dens = [], col = [];
  let max = 0;
  for (let r = 0; r < RUNS + 2; r++) {
    t = performance.now();
    max = k.hw_density(x0, y0, ZOOM, W, H, RADIUS, agg);
    const t1 = performance.now();
    k.hw_colorize(0, max, 0, 0);
    const t2 = performance.now();
    if (r >= 2) { dens.push(t1 - t); col.push(t2 - t1); } // two warm-up runs
  }
  if (!(max > 0)) throw new Error(`${name}: empty frame (max ${max})`);
  const rgba = new Uint8Array(k.memory.buffer, k.hw_frame_rgba(), W * H * 4);
  let lit = 0;
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i]) lit++;
  results[name] = { density: median(dens), colorize: median(col), max, lit };
}

console.log(`heat.wasm ${bytes.length} bytes; ${N.toLocaleString("en-US")} points loaded in ` +
  `${loadMs.toFixed(1)} ms; frame ${W}x${H} zoom ${ZOOM} radius ${RADIUS}; median of ${RUNS}`);
for (const [name, r] of Object.entries(results)) {
  console.log(`  ${name.padEnd(6)} density ${r.density.toFixed(2).padStart(7)} ms  colorize ` +
    `${r.colorize.toFixed(2).padStart(6)} ms  total ${(r.density + r.colorize).toFixed(2).padStart(7)} ms` +
    `  max ${r.max.toPrecision(4)}  lit ${(100 * r.lit / (W * H)).toFixed(1)}%`);
}
console.log(`  memory ${(k.hw_memory_bytes() / 1048576).toFixed(1)} MiB`);

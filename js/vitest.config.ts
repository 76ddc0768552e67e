// Unit tests in node (no browser): js/test/*.test.ts. The kernel is the built .wasm
// (`npm run build` first), served under the bundle's virtual module name.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const wasm = fileURLToPath(new URL("../heatwidget/static/heat.wasm", import.meta.url));
const VIRTUAL = "\0heatwidget:kernel-wasm";

export default defineConfig({
  define: { __HEATWIDGET_VERSION__: JSON.stringify("test") },
  plugins: [
    {
      name: "heatwidget-kernel-wasm",
      resolveId: (id) => (id === "heatwidget:kernel-wasm" ? VIRTUAL : null),
      load: (id) =>
        id === VIRTUAL
          ? `export default new Uint8Array(Buffer.from(${JSON.stringify(
              readFileSync(wasm).toString("base64"),
            )}, "base64"));`
          : null,
    },
  ],
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});

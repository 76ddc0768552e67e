// The page's one compile of heat.wasm: cached, and forgotten when it fails.
import { afterEach, describe, expect, it, vi } from "vitest";
import { compileKernel, HeatKernel } from "../src/kernel";

afterEach(() => vi.restoreAllMocks());

describe("compileKernel", () => {
  it("tries again after a failed compile instead of caching the failure", async () => {
    const compile = vi.spyOn(WebAssembly, "compile").mockRejectedValueOnce(new Error("no memory"));
    await expect(HeatKernel.create()).rejects.toThrow("no memory");
    const kernel = await HeatKernel.create();
    expect(kernel.pointCount).toBe(0);
    expect(compile).toHaveBeenCalledTimes(2);
    // Now cached: a third kernel does not compile again.
    await HeatKernel.create();
    expect(compile).toHaveBeenCalledTimes(2);
    expect(await compileKernel()).toBe(await compileKernel());
  });

  it("compiles again after a failed instantiate", async () => {
    const first = await compileKernel();
    vi.spyOn(WebAssembly, "instantiate").mockRejectedValueOnce(new Error("link error"));
    await expect(HeatKernel.create()).rejects.toThrow("link error");
    expect(await compileKernel()).not.toBe(first);
  });
});

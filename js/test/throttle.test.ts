import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Throttle } from "../src/throttle";

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(0);
});
afterEach(() => vi.useRealTimers());

describe("Throttle", () => {
  it("runs at most once per period and never drops the last request", () => {
    vi.advanceTimersByTime(1000);
    const runs: number[] = [];
    const t = new Throttle(100, () => runs.push(performance.now()));
    t.request(); // the last run is old: at once
    t.request();
    t.request(); // one run at the end of the period serves both
    expect(runs).toHaveLength(1);
    expect(t.pending).toBe(true);
    vi.advanceTimersByTime(99);
    expect(runs).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(runs).toHaveLength(2);
    expect(runs[1] - runs[0]).toBe(100);
    expect(t.pending).toBe(false);
  });

  it("now() runs at once and drops the pending run; cancel() drops it too", () => {
    vi.advanceTimersByTime(1000);
    let runs = 0;
    const t = new Throttle(100, () => runs++);
    t.request();
    t.request();
    t.now();
    expect(runs).toBe(2);
    vi.advanceTimersByTime(500);
    expect(runs).toBe(2);
    t.request();
    t.request();
    t.cancel();
    vi.advanceTimersByTime(500);
    expect(runs).toBe(3);
  });
});

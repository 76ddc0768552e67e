// Calls at most once per period, and never drops the last call: the front end's writes to
// Python (view changes, play steps) and its hover probes.

export class Throttle {
  private last = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `fn` reads the latest state itself when it runs. */
  constructor(
    private readonly ms: number,
    private readonly fn: () => void,
  ) {}

  /** Runs `fn` now if the last run is at least `ms` old, else once when it is. */
  request(): void {
    const wait = this.last + this.ms - performance.now();
    if (wait <= 0) this.now();
    else if (this.timer === undefined) this.timer = setTimeout(() => this.now(), wait);
  }

  /** Runs `fn` now (and drops a pending run). */
  now(): void {
    this.cancel();
    this.last = performance.now();
    this.fn();
  }

  /** Drops a pending run. */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }
}

// The time window a view draws and the play control that moves it. One clock per page: the
// first view of a model animates and writes `time_window` back; the others follow the model.
import type * as L from "leaflet";
import type { Getter, Model, Traits } from "./model";
import { Throttle } from "./throttle";
import { TimeControl } from "./time-control";

/** The play animation writes `time_window` back to Python at most this often. */
const PLAY_WRITE_EVERY_MS = 150;

export type TimeWindow = NonNullable<Traits["time_window"]>;

export class PlayClock {
  /** The time window this view draws: the model's, or the play animation's latest step. */
  window: TimeWindow | null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly writes: Throttle;
  private readonly control: TimeControl;

  /** `leads` says whether this view drives the animation; `changed` hears each new window. */
  constructor(
    private readonly model: Model,
    private readonly get: Getter,
    private readonly leads: () => boolean,
    private readonly changed: () => void,
  ) {
    this.window = get("time_window") ?? null;
    this.writes = new Throttle(PLAY_WRITE_EVERY_MS, () => {
      model.set("time_window", this.window);
      model.save_changes();
    });
    this.control = new TimeControl({
      seek: (start) => this.setWindow(this.windowAt(start), true),
      toggle: () => {
        model.set("play", !get("play"));
        model.save_changes();
        this.sync();
      },
      speed: (v) => {
        model.set("time_speed", v);
        model.save_changes();
        this.sync();
      },
      step: (seconds) => {
        model.set("time_step", seconds);
        model.save_changes();
        this.updateControl();
      },
    });
  }

  addTo(map: L.Map): void {
    this.control.addTo(map);
    this.updateControl();
    this.sync();
  }

  /** The model's changes this clock follows, by event name. */
  handlers(): Record<string, () => void> {
    return {
      "change:time_window": () => this.setWindow(this.get("time_window") ?? null, false),
      "change:time_extent": () => {
        this.updateControl();
        this.sync();
      },
      "change:play": () => this.sync(),
      "change:time_speed": () => this.sync(),
      "change:time_step": () => this.updateControl(),
    };
  }

  dispose(): void {
    clearInterval(this.timer);
    this.writes.cancel();
  }

  private extent(): [number, number] | null {
    return this.get("time_extent") ?? null;
  }

  private stepMs(): number {
    const ext = this.extent();
    const step = this.get("time_step");
    if (step) return step * 1000;
    return ext && ext[1] > ext[0] ? (ext[1] - ext[0]) / 100 : 1000;
  }

  /** The window of the current width (or one step) starting at `start`. */
  private windowAt(start: number): TimeWindow {
    const w = this.window;
    const width = w && w[0] !== null && w[1] !== null ? w[1] - w[0] : this.stepMs();
    return [Math.round(start), Math.round(start + width)];
  }

  private setWindow(w: TimeWindow | null, write: boolean): void {
    this.window = w;
    this.changed();
    this.updateControl();
    if (write) this.writes.request();
  }

  private stepOnce(): void {
    const ext = this.extent();
    if (!ext) return;
    const step = this.stepMs();
    let start = (this.window?.[0] ?? ext[0] - step) + step;
    if (start > ext[1]) {
      // At the end: stop there (play again to start over from the beginning).
      this.model.set("play", false);
      this.writes.now();
      return;
    }
    if (start < ext[0]) start = ext[0];
    this.setWindow(this.windowAt(start), true);
  }

  private sync(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    const ext = this.extent();
    if (this.get("play") && ext && this.leads()) {
      const start = this.window?.[0];
      if (start != null && start + this.stepMs() > ext[1]) {
        this.setWindow([ext[0], ext[0] + this.stepMs()], true); // start over
      }
      this.timer = setInterval(() => this.stepOnce(), 1000 / Math.max(0.01, this.get("time_speed")));
    }
    this.updateControl();
  }

  private updateControl(): void {
    this.control.update({
      extent: this.extent(),
      window: this.window,
      playing: !!this.get("play"),
      speed: this.get("time_speed"),
      step: this.get("time_step") ?? null,
    });
  }
}

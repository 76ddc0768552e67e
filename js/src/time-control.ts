// The play control: a Leaflet control with play/pause, a slider over the data's time extent,
// the window shown, and the speed. It edits a window that index.ts owns; index.ts syncs it
// with the `time_window`/`play`/`time_speed` traits.
import * as L from "leaflet";

export interface TimeControlState {
  extent: [number, number] | null;
  window: [number | null, number | null] | null;
  playing: boolean;
  speed: number;
  /** Seconds the window moves per step; null: 1/100 of the extent. */
  step: number | null;
}

export interface TimeControlEvents {
  /** The user dragged the slider to put the window's start at `start` (ms). */
  seek(start: number): void;
  toggle(): void;
  speed(stepsPerSecond: number): void;
  /** Seconds per step, or null for 1/100 of the extent. */
  step(seconds: number | null): void;
}

const SPEEDS = [0.5, 1, 2, 4, 8, 16, 30, 60];
// Steps offered in the UI, in seconds (Python's `time_step` may hold any other).
const STEPS: [number, string][] = [
  [60, "1 min"], [600, "10 min"], [3600, "1 h"], [6 * 3600, "6 h"], [86400, "1 day"],
  [7 * 86400, "1 week"], [30 * 86400, "30 days"],
];

function stepLabel(seconds: number): string {
  const known = STEPS.find(([s]) => s === seconds);
  return known ? known[1] : `${seconds} s`;
}
const SLIDER_STEPS = 1000;

function label(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "…";
  const iso = new Date(ms).toISOString(); // UTC, as the traits are
  return iso.endsWith("T00:00:00.000Z") ? iso.slice(0, 10) : iso.slice(0, 19).replace("T", " ");
}

export class TimeControl extends L.Control {
  private root = L.DomUtil.create("div", "heatwidget-time leaflet-bar");
  private button = L.DomUtil.create("button", "heatwidget-time-play", this.root) as HTMLButtonElement;
  private slider = L.DomUtil.create("input", "heatwidget-time-slider", this.root) as HTMLInputElement;
  private text = L.DomUtil.create("span", "heatwidget-time-label", this.root);
  private speedSel = L.DomUtil.create("select", "heatwidget-time-speed", this.root) as HTMLSelectElement;
  private stepSel = L.DomUtil.create("select", "heatwidget-time-step", this.root) as HTMLSelectElement;
  private state: TimeControlState = {
    extent: null, window: null, playing: false, speed: 4, step: null,
  };

  constructor(private events: TimeControlEvents) {
    super({ position: "bottomleft" });
    this.button.type = "button";
    this.button.title = "Play / pause the time window";
    this.slider.type = "range";
    this.slider.min = "0";
    this.slider.max = String(SLIDER_STEPS);
    this.slider.title = "Time window start";
    this.speedSel.title = "Steps per second";
    L.DomEvent.disableClickPropagation(this.root);
    L.DomEvent.disableScrollPropagation(this.root);
    this.button.addEventListener("click", () => this.events.toggle());
    this.slider.addEventListener("input", () => {
      const ext = this.state.extent;
      if (!ext) return;
      this.events.seek(ext[0] + (Number(this.slider.value) / SLIDER_STEPS) * (ext[1] - ext[0]));
    });
    this.speedSel.addEventListener("change", () => this.events.speed(Number(this.speedSel.value)));
    this.stepSel.title = "How far each step moves the window";
    this.stepSel.addEventListener("change", () =>
      this.events.step(this.stepSel.value === "auto" ? null : Number(this.stepSel.value)));
  }

  override onAdd(): HTMLElement {
    return this.root;
  }

  update(s: TimeControlState): void {
    this.state = s;
    this.root.style.display = s.extent ? "" : "none";
    this.root.dataset.playing = s.playing ? "1" : "0";
    this.button.textContent = s.playing ? "❚❚" : "▶";
    const ext = s.extent;
    const start = s.window?.[0] ?? null;
    if (ext && document.activeElement !== this.slider) {
      const t = start === null || ext[1] <= ext[0] ? 0 : (start - ext[0]) / (ext[1] - ext[0]);
      this.slider.value = String(Math.round(Math.min(1, Math.max(0, t)) * SLIDER_STEPS));
    }
    this.text.textContent = s.window ? `${label(s.window[0])} – ${label(s.window[1])}` : "all times";
    const speeds = SPEEDS.includes(s.speed) ? SPEEDS : [...SPEEDS, s.speed].sort((a, b) => a - b);
    if (this.speedSel.options.length !== speeds.length) {
      this.speedSel.replaceChildren(...speeds.map((v) => new Option(`${v}/s`, String(v))));
    }
    this.speedSel.value = String(s.speed);
    const steps = STEPS.map(([v]) => v);
    if (s.step !== null && !steps.includes(s.step)) steps.push(s.step);
    steps.sort((a, b) => a - b);
    const options = ["auto", ...steps.map(String)];
    if ([...this.stepSel.options].map((o) => o.value).join() !== options.join()) {
      this.stepSel.replaceChildren(
        new Option("step: auto", "auto"),
        ...steps.map((v) => new Option(`step: ${stepLabel(v)}`, String(v))),
      );
    }
    this.stepSel.value = s.step === null ? "auto" : String(s.step);
  }
}

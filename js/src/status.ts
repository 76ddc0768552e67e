// What the view cannot vouch for, shown on the map: the rows may not be Python's (a message
// was refused and a resync asked for, store.ts), or the kernel is gone (connection.ts). The
// last good frame stays under the badge. The root carries it for tests and debugging:
// data-fault (why, while at fault), data-faults (messages refused so far) and
// data-connection ("live" | "disconnected"); the badge is div.heatwidget-status[data-status].
export class StatusBadge {
  private readonly badge = document.createElement("div");
  private fault: string | null = null;
  private live = true;

  constructor(private readonly root: HTMLElement) {
    this.badge.className = "heatwidget-status";
    this.badge.setAttribute("role", "status");
    this.badge.hidden = true;
    root.dataset.connection = "live";
    root.append(this.badge);
  }

  setFault(fault: string | null, faults: number): void {
    this.fault = fault;
    this.root.dataset.faults = String(faults);
    if (fault === null) delete this.root.dataset.fault;
    else this.root.dataset.fault = fault;
    this.show();
  }

  setLive(live: boolean): void {
    this.live = live;
    this.root.dataset.connection = live ? "live" : "disconnected";
    this.show();
  }

  dispose(): void {
    this.badge.remove();
  }

  // A dead kernel outranks a fault: no resync can come until the cell runs again.
  private show(): void {
    const status = !this.live ? "disconnected" : this.fault !== null ? "fault" : null;
    this.badge.hidden = status === null;
    if (status === null) {
      delete this.badge.dataset.status;
      return;
    }
    this.badge.dataset.status = status;
    // textContent: the reason comes from the store, but nothing here is ever HTML.
    this.badge.textContent =
      status === "disconnected"
        ? "Kernel disconnected: showing the last frame. Run the cell again."
        : "Out of sync: waiting for the rows from Python.";
    this.badge.title = status === "fault" ? (this.fault ?? "") : "";
  }
}

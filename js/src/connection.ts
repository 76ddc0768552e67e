// Whether the kernel behind the model is still there. anywidget's model has no `comm_live`,
// but its `on` passes any event name to the ipywidgets model underneath, which fires
// "comm_live_update" when the widget manager marks the comm dead (JupyterLab and Notebook 7
// do it for every model when the kernel restarts) and "comm:close" when the comm closes
// (`m.close()`, a kernel shutdown seen by the manager). The event carries no value: ipywidgets
// also sets the class jupyter-widgets-disconnected on the view's element (`el`) before our
// listener runs, which says which way it went; without that class a "comm_live_update" can
// only mean dead (ipywidgets never revives a model's comm).
import type { Model } from "./model";

const DISCONNECTED_CLASS = "jupyter-widgets-disconnected";

export function watchConnection(model: Model, el: HTMLElement, onChange: (live: boolean) => void) {
  let live = true;
  const set = (next: boolean) => {
    if (next === live) return;
    live = next;
    onChange(live);
  };
  const onLiveUpdate = () => {
    const marked = el.classList.contains(DISCONNECTED_CLASS);
    const managed = el.classList.contains("jupyter-widgets") || marked;
    set(managed ? !marked : false);
  };
  const onClose = () => set(false);
  model.on("comm_live_update", onLiveUpdate);
  model.on("comm:close", onClose);
  // The class can also change without the event reaching us (a view made while disconnected).
  const classes = new MutationObserver(() => {
    if (el.classList.contains(DISCONNECTED_CLASS)) set(false);
  });
  classes.observe(el, { attributes: true, attributeFilter: ["class"] });
  if (el.classList.contains(DISCONNECTED_CLASS)) set(false);
  return () => {
    model.off("comm_live_update", onLiveUpdate);
    model.off("comm:close", onClose);
    classes.disconnect();
  };
}

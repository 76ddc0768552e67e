// Snapshots: this view composes what it shows (tiles, outlines, heat, legend, attribution) onto
// one canvas at device pixel ratio 1 and sends the PNG to Python in chunks (heatwidget/
// _snapshot.py reassembles them). It also tells Python it is live ("hello" / "bye").
import type * as L from "leaflet";
import { MAX_MESSAGE_BYTES, type Model } from "./model";
import { listen, send } from "./protocol";

/** Bytes of PNG per message: the JSON beside it is tiny, so a message stays within 1 MiB. */
export const CHUNK_BYTES = MAX_MESSAGE_BYTES - 4096;

export interface Composed {
  canvas: HTMLCanvasElement;
  /** "drawn" (n tiles), "none" (no tile loaded or no basemap), or "left out: why". */
  tiles: string;
  tileCount: number;
}

type Rect = { x: number; y: number; w: number; h: number };

/** Composes the map `root` shows (one `div.heatwidget`) at device pixel ratio 1. */
export function compose(root: HTMLElement, map: L.Map): Composed {
  const size = map.getSize();
  const container = map.getContainer();
  const box = container.getBoundingClientRect();
  // CSS pixels of the page → canvas pixels (1 unless the page is zoomed by CSS).
  const sx = box.width ? size.x / box.width : 1;
  const sy = box.height ? size.y / box.height : 1;
  const rectOf = (el: Element): Rect => {
    const r = el.getBoundingClientRect();
    return { x: (r.left - box.left) * sx, y: (r.top - box.top) * sy, w: r.width * sx, h: r.height * sy };
  };
  const canvas = document.createElement("canvas");
  canvas.width = size.x;
  canvas.height = size.y;
  const ctx = canvas.getContext("2d")!;
  ctx.fillStyle = getComputedStyle(container).backgroundColor || "#d4e6ee";
  ctx.fillRect(0, 0, size.x, size.y);

  const drawEl = (c: CanvasRenderingContext2D, el: HTMLCanvasElement | HTMLImageElement) => {
    const r = rectOf(el);
    if (r.w <= 0 || r.h <= 0) return;
    c.globalAlpha = opacityOf(el, container);
    c.drawImage(el, r.x, r.y, r.w, r.h);
    c.globalAlpha = 1;
  };

  // 1. Natural Earth outlines (a Leaflet canvas renderer in their own pane, under the tiles).
  const outlines = map.getPane("heatwidget-outlines");
  for (const c of outlines?.querySelectorAll("canvas") ?? []) drawEl(ctx, c);

  // 2. Tiles that loaded, on their own canvas first: a tile from another origin without CORS
  // would taint it, and then they are left out (the rest of the picture stays readable).
  const tileImgs = Array.from(map.getPane("tilePane")?.querySelectorAll("img.leaflet-tile") ?? [])
    .filter((img): img is HTMLImageElement => img instanceof HTMLImageElement &&
      img.complete && img.naturalWidth > 1 && !img.src.startsWith("data:"));
  let tiles = "none";
  if (tileImgs.length) {
    const layer = document.createElement("canvas");
    layer.width = size.x;
    layer.height = size.y;
    const lctx = layer.getContext("2d")!;
    for (const img of tileImgs) drawEl(lctx, img);
    try {
      lctx.getImageData(0, 0, 1, 1); // throws SecurityError on a tainted canvas
      ctx.drawImage(layer, 0, 0);
      tiles = "drawn";
    } catch {
      tiles = "left out: the tile server does not allow cross-origin use (tainted canvas)";
    }
  }

  // 3. The heat canvas, with its opacity (and its transform mid-zoom, through its rect).
  for (const c of root.querySelectorAll<HTMLCanvasElement>("canvas.heatwidget-heat")) drawEl(ctx, c);

  // 4. The legend and the attribution, drawn from their DOM.
  const legend = root.querySelector<HTMLElement>(".heatwidget-legend");
  if (legend && visible(legend)) drawLegend(ctx, legend, rectOf);
  const credit = container.querySelector<HTMLElement>(".leaflet-control-attribution");
  if (credit && visible(credit)) {
    drawBox(ctx, credit, rectOf(credit));
    drawText(ctx, credit, rectOf(credit));
  }
  return { canvas, tiles, tileCount: tiles === "drawn" ? tileImgs.length : 0 };
}

function visible(el: HTMLElement): boolean {
  return el.offsetParent !== null && getComputedStyle(el).visibility !== "hidden";
}

/** The product of CSS opacities from `el` up to `stop`. */
function opacityOf(el: Element, stop: Element): number {
  let a = 1;
  for (let e: Element | null = el; e && e !== stop; e = e.parentElement) {
    a *= parseFloat(getComputedStyle(e).opacity || "1");
  }
  return a;
}

function drawBox(ctx: CanvasRenderingContext2D, el: HTMLElement, r: Rect): void {
  const cs = getComputedStyle(el);
  ctx.fillStyle = cs.backgroundColor;
  ctx.beginPath();
  ctx.roundRect(r.x, r.y, r.w, r.h, parseFloat(cs.borderTopLeftRadius) || 0);
  ctx.fill();
}

/** The element's text in its font and colour, wrapped to its width as the page wraps it. */
function drawText(ctx: CanvasRenderingContext2D, el: HTMLElement, r: Rect): void {
  // innerText, not textContent: the text as the page lays it out (hidden parts left out).
  // biome-ignore lint/performance/useDomNodeTextContent: see above
  const text = (el.innerText ?? el.textContent ?? "").replace(/\s+/g, " ").trim();
  if (!text) return;
  const cs = getComputedStyle(el);
  ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
  ctx.fillStyle = cs.color;
  ctx.textBaseline = "middle";
  const padL = parseFloat(cs.paddingLeft) || 0;
  const padR = parseFloat(cs.paddingRight) || 0;
  const padT = parseFloat(cs.paddingTop) || 0;
  const width = Math.max(1, r.w - padL - padR);
  const lineHeight = parseFloat(cs.lineHeight) || parseFloat(cs.fontSize) * 1.2;
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    const next = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(next).width > width + 0.5) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  lines.push(line);
  // As many lines as the page shows (the legend title is clamped, widget.css), the last one
  // ending in an ellipsis when text was cut.
  const fit = Math.max(1, Math.floor((r.h - padT + 0.5) / lineHeight));
  if (lines.length > fit) {
    lines.length = fit;
    let last = lines[fit - 1];
    // A first cut in proportion (a line can be one 5,000-letter word), then letter by letter.
    const over = ctx.measureText(last).width;
    if (over > width) last = last.slice(0, Math.ceil((last.length * width) / over));
    while (last && ctx.measureText(`${last}…`).width > width) last = last.slice(0, -1);
    lines[fit - 1] = `${last}…`;
  }
  lines.forEach((l, i) => {
    ctx.fillText(l, r.x + padL, r.y + padT + (i + 0.5) * lineHeight, width);
  });
}

function drawLegend(ctx: CanvasRenderingContext2D, legend: HTMLElement, rectOf: (el: Element) => Rect): void {
  drawBox(ctx, legend, rectOf(legend));
  const title = legend.querySelector<HTMLElement>(".heatwidget-legend-title");
  if (title && visible(title)) drawText(ctx, title, rectOf(title));
  const bar = legend.querySelector<HTMLCanvasElement>("canvas.heatwidget-legend-bar");
  if (bar) {
    const r = rectOf(bar);
    // The page shows a checkerboard under the bar's faded low end: draw one too.
    const cell = 5;
    for (let y = 0; y < r.h; y += cell) {
      for (let x = 0; x < r.w; x += cell) {
        ctx.fillStyle = (Math.floor(x / cell) + Math.floor(y / cell)) % 2 ? "#fff" : "#ddd";
        ctx.fillRect(r.x + x, r.y + y, Math.min(cell, r.w - x), Math.min(cell, r.h - y));
      }
    }
    ctx.drawImage(bar, r.x, r.y, r.w, r.h);
  }
  for (const span of legend.querySelectorAll<HTMLElement>(".heatwidget-legend-labels > span")) {
    drawText(ctx, span, rectOf(span));
  }
}

/** How long toBlob may take before the PNG is encoded at once instead. */
const TO_BLOB_MS = 150;

/** The canvas as PNG bytes. Chromium encodes toBlob's PNG in idle time, and a page that is
 * never idle (an animation, a busy notebook) waits up to 1 s + 5 s for it (its idle-task
 * timeouts): past TO_BLOB_MS the PNG is encoded now, on this thread, by toDataURL. */
const toPng = (canvas: HTMLCanvasElement): Promise<ArrayBuffer> =>
  new Promise((resolve, reject) => {
    let done = false;
    const finish = (bytes: Promise<ArrayBuffer> | ArrayBuffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(bytes);
    };
    const timer = setTimeout(() => {
      try {
        finish(dataUrlBytes(canvas.toDataURL("image/png")));
      } catch (err) {
        done = true;
        reject(err);
      }
    }, TO_BLOB_MS);
    canvas.toBlob((b) => {
      if (b) finish(b.arrayBuffer());
      else if (!done) {
        done = true;
        clearTimeout(timer);
        reject(new Error("canvas.toBlob gave nothing"));
      }
    }, "image/png");
  });

function dataUrlBytes(url: string): ArrayBuffer {
  const text = atob(url.slice(url.indexOf(",") + 1));
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes.buffer;
}

/** The next frame (so pending redraws are on the canvas), or 100 ms in a hidden tab. */
const settled = (): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, 100);
    requestAnimationFrame(() => requestAnimationFrame(() => {
      clearTimeout(t);
      resolve();
    }));
  });

/** Resolves once the view has drawn its data (data-ready), or a frame with no points, or after
 * `ms`: a view asked right after it appeared ("Run all") is still loading its kernel. */
const drawn = (root: HTMLElement, ms: number): Promise<void> =>
  new Promise((resolve) => {
    const done = () => root.dataset.ready === "1" ||
      (root.dataset.frames !== "0" && root.dataset.pointCount === "0");
    if (done()) return resolve();
    const finish = () => {
      observer.disconnect();
      clearTimeout(timer);
      resolve();
    };
    const observer = new MutationObserver(() => done() && finish());
    const timer = setTimeout(finish, ms);
    observer.observe(root, { attributes: true, attributeFilter: ["data-ready", "data-frames"] });
  });

/** How long a snapshot waits for a view that has not drawn its data yet. */
const FIRST_FRAME_MS = 10_000;

/** Wires snapshots for one view: says hello/bye, answers {type: "snapshot", id} and
 * {type: "ping", id}. Returns the cleanup. */
export function attachSnapshots(
  model: Model, root: HTMLElement, map: L.Map, beforeCompose: () => void = () => {},
): () => void {
  const view = Math.random().toString(36).slice(2) + Date.now().toString(36);
  root.dataset.view = view;
  const say = (event: "hello" | "bye" | "pong", id?: string) => {
    try {
      send(model, { type: "view", view, event, id });
    } catch {
      // the comm is closing: the kernel forgets views that do not answer anyway
    }
  };
  let alive = true;
  const answer = async (id: string) => {
    const t0 = performance.now();
    try {
      await drawn(root, FIRST_FRAME_MS);
      await settled();
      if (!alive) return;
      // Leaflet keeps the last size of a map that was hidden since: ask the element.
      const { clientWidth: x, clientHeight: y } = map.getContainer();
      if (x === 0 || y === 0) throw new Error(`the map is not visible (${x} × ${y} px)`);
      beforeCompose();
      const { canvas, tiles, tileCount } = compose(root, map);
      const bytes = await toPng(canvas);
      const count = Math.max(1, Math.ceil(bytes.byteLength / CHUNK_BYTES));
      const ms = Math.round(performance.now() - t0);
      for (let index = 0; index < count; index++) {
        const head = index === 0
          ? { width: canvas.width, height: canvas.height, tiles, tile_count: tileCount, ms }
          : {};
        const chunk = bytes.slice(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES);
        send(model, { type: "snapshot", id, view, index, count, ...head }, [chunk]);
      }
      root.dataset.snapshotMs = String(ms);
      root.dataset.snapshotChunks = String(count);
    } catch (err) {
      console.error("heatwidget: snapshot failed", err);
      send(model, { type: "snapshot", id, view, error: String(err) });
    }
  };
  const unlisten = listen(model, {
    snapshot: (msg) => void answer(msg.id),
    // Python asks which thread reads the views' messages now (see heatwidget/views/cell_wait.py).
    ping: (msg) => say("pong", msg.id),
  });
  // A page that goes away runs no cleanup: say bye while it can (the kernel also forgets views
  // that do not answer a snapshot in time).
  const onHide = () => say("bye");
  window.addEventListener("pagehide", onHide);
  say("hello");
  return () => {
    alive = false;
    window.removeEventListener("pagehide", onHide);
    unlisten();
    say("bye");
  };
}

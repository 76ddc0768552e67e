// The Leaflet map and its tile basemap.
import * as L from "leaflet";
import type { Tiles } from "./model";
import { attributionHtml, safeTileUrl } from "./sanitize";

/** Zooms beyond a basemap's max_zoom show its last tiles enlarged; the heat stays sharp. */
export const MAX_ZOOM = 20;

const TRANSPARENT_GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";
/** Tile failures, with none loaded, after which the tile server is taken as unreachable. */
const GIVE_UP_AFTER = 12;

export function createMap(container: HTMLElement): L.Map {
  return L.map(container, {
    // zoomSnap 0: the view is whatever `zoom` says (the Python host renders the same zoom).
    zoomSnap: 0,
    zoomDelta: 1,
    wheelPxPerZoomLevel: 120,
    minZoom: 0,
    maxZoom: MAX_ZOOM,
    // Past the antimeridian the view jumps back to the same place in the middle world, where
    // the outlines are drawn (outlines.ts draws the neighbouring copies too, not endless ones).
    worldCopyJump: true,
    attributionControl: true,
    zoomControl: true,
  });
}

/** The `_tiles` basemap: one tile layer at a time, replaced when the trait changes. */
export class Basemap {
  private layer: L.TileLayer | null = null;
  private credit: string | null = null;

  constructor(private map: L.Map, private onUnreachable: (url: string) => void) {}

  set(tiles: Tiles | null): void {
    this.clear();
    if (!tiles?.url) return;
    // Python checks both (traits/basemaps.py); `_tiles` can still be set by hand or by a page.
    const url = safeTileUrl(tiles.url);
    if (url === null) {
      console.warn("heatwidget: refusing a basemap URL that is not http(s) or relative", tiles.url);
      return;
    }
    const credit = typeof tiles.attribution === "string" ? attributionHtml(tiles.attribution) : "";
    const maxNative = Number.isInteger(tiles.max_zoom) ? Number(tiles.max_zoom) : 19;
    const layer = L.tileLayer(url, {
      // Leaflet writes attributions as HTML: only the allow-listed part of it (sanitize.ts).
      attribution: credit,
      maxZoom: MAX_ZOOM,
      maxNativeZoom: Math.max(0, Math.min(MAX_ZOOM, maxNative)),
      // A failed tile (offline, blocked) shows nothing, so the outlines beneath stay readable.
      errorTileUrl: TRANSPARENT_GIF,
      crossOrigin: true,
    });
    let loaded = 0;
    let failed = 0;
    layer.on("tileload", () => loaded++);
    // Offline every pan would fetch more tiles that cannot arrive: stop asking, keep the credit.
    layer.on("tileerror", () => {
      if (++failed < GIVE_UP_AFTER || loaded > 0 || this.layer !== layer) return;
      this.clear();
      if (credit) {
        this.credit = credit;
        this.map.attributionControl?.addAttribution(this.credit);
      }
      this.onUnreachable(url);
    });
    layer.addTo(this.map);
    this.layer = layer;
  }

  clear(): void {
    if (this.layer) this.map.removeLayer(this.layer);
    this.layer = null;
    if (this.credit) this.map.attributionControl?.removeAttribution(this.credit);
    this.credit = null;
  }
}

// Natural Earth land and country borders, drawn beneath the tiles from data in the bundle, so
// the map still reads as a map when no tile server can be reached.

import atlas from "heatwidget:atlas";
import * as L from "leaflet";
import { feature, mesh } from "topojson-client";

const PANE = "heatwidget-outlines";
// Leaflet's tile pane is at z-index 200: below it, tiles (when they load) cover the outlines.
const PANE_Z = "150";
const LAND = { fill: true, fillColor: "#f3f1ec", fillOpacity: 1, color: "#9fb7c2", weight: 0.8 };
const BORDERS = { fill: false, color: "#bcb5a8", weight: 0.6 };

type Position = number[];
type Shape = GeoJSON.Polygon | GeoJSON.MultiPolygon | GeoJSON.LineString | GeoJSON.MultiLineString;

// Natural Earth rings that cross the antimeridian (Russia, Fiji) jump from +180 to -180, which
// a flat map draws as a line across the world: make each ring's longitudes continuous instead
// (Chukotka then reaches 190°E, drawn right by the world copies below).
function unwrap(line: Position[]): Position[] {
  let offset = 0;
  return line.map((p, i) => {
    if (i > 0) {
      const prev = line[i - 1][0];
      if (p[0] - prev > 180) offset -= 360;
      else if (prev - p[0] > 180) offset += 360;
    }
    return [p[0] + offset, p[1]];
  });
}

function unwrapShape(g: Shape): Shape {
  switch (g.type) {
    case "LineString": return { ...g, coordinates: unwrap(g.coordinates) };
    case "MultiLineString": return { ...g, coordinates: g.coordinates.map(unwrap) };
    case "Polygon": return { ...g, coordinates: g.coordinates.map(unwrap) };
    case "MultiPolygon": return { ...g, coordinates: g.coordinates.map((p) => p.map(unwrap)) };
  }
}

function geometries(obj: GeoJSON.Feature | GeoJSON.FeatureCollection | GeoJSON.Geometry): Shape[] {
  if (obj.type === "FeatureCollection") return obj.features.flatMap(geometries);
  if (obj.type === "Feature") return obj.geometry ? geometries(obj.geometry) : [];
  if (obj.type === "GeometryCollection") return obj.geometries.flatMap(geometries);
  return obj.type === "Point" || obj.type === "MultiPoint" ? [] : [unwrapShape(obj)];
}

// Decoded once per page: every view shares the same GeoJSON.
let cached: { land: Shape[]; borders: Shape[] } | undefined;
function shapes() {
  cached ??= {
    land: geometries(feature(atlas, atlas.objects.land)),
    borders: geometries(mesh(atlas, atlas.objects.countries, (a, b) => a !== b)),
  };
  return cached;
}

/** Adds the outlines to `map`; returns the layer that holds them. */
export function addOutlines(map: L.Map): L.LayerGroup {
  const pane = map.getPane(PANE) ?? map.createPane(PANE);
  pane.style.zIndex = PANE_Z;
  pane.style.pointerEvents = "none";
  const renderer = L.canvas({ pane: PANE, padding: 0.25 });
  const { land, borders } = shapes();
  const group = L.layerGroup([], { pane: PANE, attribution: "Natural Earth" });
  // Leaflet draws vectors on one copy of the world; the tiles and the heat repeat zoomed out,
  // so the outlines are drawn at the neighbouring copies too.
  for (const shift of [-360, 0, 360]) {
    const opts = {
      pane: PANE,
      renderer,
      interactive: false,
      coordsToLatLng: (c: number[]) => L.latLng(c[1], c[0] + shift),
    };
    for (const g of land) group.addLayer(L.geoJSON(g, { ...opts, style: LAND }));
    for (const g of borders) group.addLayer(L.geoJSON(g, { ...opts, style: BORDERS }));
  }
  return group.addTo(map);
}

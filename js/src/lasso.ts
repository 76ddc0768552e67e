// The lasso's geometry (issue 12), pure so vitest can check it: the free-hand path the mouse
// drew (container pixels) is simplified to a few vertices, then checked the way Python's
// selection.Shape will check the ring, so that a lasso Python would refuse (fewer than 3
// distinct vertices, or crossing itself) is refused quietly here instead of raising there.

/** A pixel position [x, y]. */
export type XY = [number, number];

/** Douglas-Peucker tolerance (CSS px): finer than a hand draws, coarse enough to drop jitter. */
export const TOLERANCE = 1.5;
/** At most this many vertices (the path is simplified harder until it fits). */
export const MAX_VERTICES = 200;

function segmentDistance(p: XY, a: XY, b: XY): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

/** Douglas-Peucker on an open path (iterative: a long drag must not blow the stack). */
export function douglasPeucker(path: XY[], tolerance: number): XY[] {
  if (path.length <= 2) return path.slice();
  const keep = new Uint8Array(path.length);
  keep[0] = keep[path.length - 1] = 1;
  const stack: [number, number][] = [[0, path.length - 1]];
  while (stack.length) {
    const [i, j] = stack.pop() as [number, number];
    let worst = -1;
    let at = -1;
    for (let k = i + 1; k < j; k++) {
      const d = segmentDistance(path[k], path[i], path[j]);
      if (d > worst) {
        worst = d;
        at = k;
      }
    }
    if (at >= 0 && worst > tolerance) {
      keep[at] = 1;
      stack.push([i, at], [at, j]);
    }
  }
  return path.filter((_, k) => keep[k]);
}

/** The path simplified to at most MAX_VERTICES, repeated points dropped (not closed). */
export function simplify(path: XY[]): XY[] {
  const distinct = path.filter((p, k) => k === 0 || p[0] !== path[k - 1][0] || p[1] !== path[k - 1][1]);
  let tol = TOLERANCE;
  let out = douglasPeucker(distinct, tol);
  while (out.length > MAX_VERTICES) {
    tol *= 1.5;
    out = douglasPeucker(distinct, tol);
  }
  // the path's end joins its start: drop an end that sits on the start
  while (out.length > 1 && out[out.length - 1][0] === out[0][0] && out[out.length - 1][1] === out[0][1]) {
    out.pop();
  }
  return out;
}

function orient(a: XY, b: XY, c: XY): number {
  const v = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]);
  return v > 0 ? 1 : v < 0 ? -1 : 0;
}

function onSegment(a: XY, b: XY, p: XY): boolean {
  return (
    Math.min(a[0], b[0]) <= p[0] && p[0] <= Math.max(a[0], b[0]) &&
    Math.min(a[1], b[1]) <= p[1] && p[1] <= Math.max(a[1], b[1])
  );
}

function segmentsMeet(a: XY, b: XY, c: XY, d: XY): boolean {
  const o1 = orient(a, b, c);
  const o2 = orient(a, b, d);
  const o3 = orient(c, d, a);
  const o4 = orient(c, d, b);
  if (o1 !== o2 && o3 !== o4) return true;
  return (
    (o1 === 0 && onSegment(a, b, c)) || (o2 === 0 && onSegment(a, b, d)) ||
    (o3 === 0 && onSegment(c, d, a)) || (o4 === 0 && onSegment(c, d, b))
  );
}

/** Whether the closed ring through `v` (first vertex not repeated) is a simple polygon: at
 * least 3 distinct vertices, no two non-adjacent edges meeting (Python refuses the others). */
export function isSimpleRing(v: XY[]): boolean {
  const n = v.length;
  if (new Set(v.map(([x, y]) => `${x},${y}`)).size < 3 || new Set(v.map(([x, y]) => `${x},${y}`)).size < n) {
    return false;
  }
  // all on one line: no area
  if (v.every((p) => orient(v[0], v[1], p) === 0)) return false;
  for (let i = 0; i < n; i++) {
    const a = v[i];
    const b = v[(i + 1) % n];
    for (let j = i + 2; j < n; j++) {
      if (i === 0 && j === n - 1) continue; // adjacent through the closing edge
      if (segmentsMeet(a, b, v[j], v[(j + 1) % n])) return false;
    }
  }
  return true;
}

/** A free-hand path's selection ring in pixels, or null when it is no polygon to select. */
export function lassoRing(path: XY[]): XY[] | null {
  const ring = simplify(path);
  return ring.length >= 3 && isSimpleRing(ring) ? ring : null;
}

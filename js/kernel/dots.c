/* dots.c — up close, the rows in view as dots (issue 12's points_zoom): drawn over the last
 * colour-mapped frame, cross-faded with its heat. Calls colour.c (the table), frame.c (the
 * frame and its placement), spatial.c (the tile index) and points.c; owns the weight domain.
 *
 * The rows visited are those of the frame's time window; points in spatial order are visited
 * by the level-8 tiles the frame meets (spatial.c), so a frame up close costs in proportion to
 * the rows in view, not the rows held. Each dot is drawn once per world copy that meets the
 * frame, in the order the rows are held, later dots over earlier ones. */
#include "kernel.h"
#include "maths.h"

/* The weights held, min..max, measured when first needed after the rows changed (O(N) once
 * per change, no memory): dots_forget() drops it. */
static int dom_valid;
static uint32_t dom_count;
static float dom[2];
static uint32_t drawn;

void dots_forget(void) { dom_valid = 0; }

const float *hw_dots_domain(void) { return dom; }

static void measure_domain(const Points *p) {
  if (dom_valid && dom_count == p->count) return;
  float lo = __builtin_inff(), hi = -__builtin_inff();
  if (p->w)
    for (uint32_t i = 0; i < p->count; i++) {
      float w = p->w[i];
      lo = w < lo ? w : lo;
      hi = w > hi ? w : hi;
    }
  if (!(lo <= hi)) lo = hi = 1.0f; /* unweighted (or no rows): one weight, 1 */
  dom[0] = lo;
  dom[1] = hi;
  dom_count = p->count;
  dom_valid = 1;
}

/* Straight-alpha "over": colour rgb (packed RGBA word, alpha ignored) at alpha a8 (0..255)
 * over the straight-alpha word dst. */
static inline uint32_t over(uint32_t dst, uint32_t rgb, uint32_t a8) {
  uint32_t da = dst >> 24;
  if (a8 == 255 || da == 0) return rgb | a8 << 24; /* the colour itself */
  uint32_t out = 0;
  if (da == 255) { /* over an opaque pixel (dense dots, full heat): integers only */
    for (int c = 0; c < 24; c += 8) {
      uint32_t v = ((rgb >> c) & 0xFF) * a8 + ((dst >> c) & 0xFF) * (255 - a8) + 128;
      out |= ((v + (v >> 8)) >> 8) << c; /* v / 255, rounded */
    }
    return out | 0xFF000000u;
  }
  float a = (float)a8 * (1.0f / 255.0f);
  float keep = (float)da * (1.0f / 255.0f) * (1.0f - a), oa = a + keep, inv = 1.0f / oa;
  for (int c = 0; c < 24; c += 8) {
    float v = ((float)((rgb >> c) & 0xFF) * a + (float)((dst >> c) & 0xFF) * keep) * inv;
    out |= (uint32_t)(v + 0.5f) << c;
  }
  return out | (uint32_t)(oa * 255.0f + 0.5f) << 24;
}

typedef struct Pen {
  uint32_t *rgba;
  uint32_t width, height;
  float radius, mix;
  float margin; /* the padded frame's margin: positions from FOR_EACH_XY are offset by it */
  const uint8_t *lut;
  float lo, inv_span; /* the weight domain; inv_span 0: one colour */
  int weighted;
} Pen;

#define RING_RGB 0x141414u /* the outline, rgb(20, 20, 20), at the dots' alpha (mix) */
#define ONE_COLOUR 200u /* the table entry of unweighted rows: the bright end, as hot heat */

/* Columns [i0, i1] of a row in colour rgb at alpha a8; at full alpha a plain fill. */
static inline void fill(uint32_t *row, int64_t i0, int64_t i1, uint32_t rgb, uint32_t a8) {
  if (a8 == 255) {
    uint32_t word = rgb | 0xFF000000u;
    for (int64_t i = i0; i <= i1; i++) row[i] = word;
  } else {
    for (int64_t i = i0; i <= i1; i++) row[i] = over(row[i], rgb, a8);
  }
}

/* The columns [*i0, *i1] of a row whose pixel centres lie within `half` of cx, clipped to
 * the frame; false if none. */
static inline int span(double cx, double half, int64_t width, int64_t *i0, int64_t *i1) {
  *i0 = (int64_t)__builtin_ceil(cx - half - 0.5);
  *i1 = (int64_t)f64_floor(cx + half - 0.5);
  if (*i0 < 0) *i0 = 0;
  if (*i1 >= width) *i1 = width - 1;
  return *i0 <= *i1;
}

/* One dot whose centre is at frame position (cx, cy): the pixels whose centre lies within the
 * radius, and always the pixel the point is in; an outline one pixel wide from radius 2 on.
 * Drawn row by row, each row's span from one square root. */
static void dot(const Pen *pen, double cx, double cy, float w) {
  uint32_t k = ONE_COLOUR;
  if (pen->weighted && pen->inv_span > 0.0f) {
    float t = (w - pen->lo) * pen->inv_span;
    t = t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
    k = (uint32_t)(t * 255.0f + 0.5f);
  }
  const uint8_t *e = pen->lut + 4 * k;
  uint32_t rgb = e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16;
  uint32_t a = (uint32_t)(pen->mix * (float)e[3] + 0.5f), ring_a = (uint32_t)(pen->mix * 255.0f + 0.5f);
  double r = pen->radius, outer = r >= 2.0 ? r + 1.0 : r;
  int64_t width = pen->width, height = pen->height;
  int64_t pi = (int64_t)f64_floor(cx), pj = (int64_t)f64_floor(cy);
  int64_t j0 = (int64_t)f64_floor(cy - outer), j1 = (int64_t)f64_floor(cy + outer);
  if (j0 < 0) j0 = 0;
  if (j1 >= height) j1 = height - 1;
  for (int64_t j = j0; j <= j1; j++) {
    double dy = (double)j + 0.5 - cy, dy2 = dy * dy;
    uint32_t *row = pen->rgba + (uint32_t)j * pen->width;
    int64_t o0, o1, d0 = 1, d1 = 0; /* the outline's span, the disc's (empty: d0 > d1) */
    if (dy2 <= outer * outer && span(cx, __builtin_sqrt(outer * outer - dy2), width, &o0, &o1)) {
      if (dy2 <= r * r && !span(cx, __builtin_sqrt(r * r - dy2), width, &d0, &d1)) d0 = 1, d1 = 0;
      if (d0 > d1) {
        fill(row, o0, o1, RING_RGB, ring_a);
      } else {
        fill(row, o0, d0 - 1, RING_RGB, ring_a);
        fill(row, d1 + 1, o1, RING_RGB, ring_a);
        fill(row, d0, d1, rgb, a);
      }
    }
    if (j == pj && pi >= 0 && pi < width && (pi < d0 || pi > d1)) row[pi] = over(row[pi], rgb, a);
  }
}

/* Draws every `stride`-th row of [begin, end) (time-tested when `rows` asks) until `cap`
 * dots; false once capped. */
static int draw_rows(const Pen *pen, const Splat *sp, const Rows *rows, uint32_t begin,
                     uint32_t end, uint32_t stride, uint32_t cap) {
  const Points *p = points();
  for (uint32_t i = begin; i < end; i += stride) {
    if (rows->check_time && !(p->t[i] >= rows->t0 && p->t[i] < rows->t1)) continue;
    float w = p->w ? p->w[i] : 1.0f;
    int seen = 0;
    FOR_EACH_XY(*sp, p->x[i], p->y[i], {
      dot(pen, px - pen->margin, py - pen->margin, w);
      seen = 1;
    });
    if (seen && ++drawn >= cap) return 0;
  }
  return 1;
}

/* Every k-th row, k the smallest that brings `rows` rows under the cap (1 when they fit). */
static uint32_t stride_for(uint32_t rows, uint32_t cap) {
  return rows > cap ? (rows + cap - 1) / cap : 1;
}

int32_t hw_dots(float radius, float mix, uint32_t cap) {
  const Frame *fr = frame();
  drawn = 0;
  if (!fr->placed || !fr->rgba) return -1;
  if (!(mix > 0.0f)) return 0; /* the heat alone, untouched */
  if (mix > 1.0f) mix = 1.0f;
  if (!(radius >= 0.0f)) radius = 0.0f;
  if (radius > 64.0f) radius = 64.0f;
  const Points *p = points();
  measure_domain(p);
  uint32_t n = fr->width * fr->height;
  /* the heat fades out as the dots fade in */
  float keep = 1.0f - mix;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t c = fr->rgba[i], a = (uint32_t)((float)(c >> 24) * keep + 0.5f);
    fr->rgba[i] = a ? (c & 0xFFFFFFu) | a << 24 : 0; /* transparent is 0, as hw_colorize's */
  }
  Pen pen = {fr->rgba, fr->width, fr->height, radius, mix, 0.0f, hw_lut(), dom[0], 0.0f,
             p->w != NULL};
  if (dom[1] > dom[0]) pen.inv_span = 1.0f / (dom[1] - dom[0]);
  uint32_t margin = (uint32_t)radius + 2u;
  pen.margin = (float)margin;
  Splat sp = splat_setup(fr->x0, fr->y0, fr->zoom, margin, fr->width, fr->height, 1);
  Rows rows = rows_in_window();
  if (rows.end <= rows.begin || cap == 0) return 0;
  const uint32_t *tiles = spatial_tiles();
  TileSpan ts;
  if (spatial_ready(0) && tiles &&
      spatial_tiles_in(fr->x0 - margin, fr->y0 - margin, sp.pw, sp.ph, sp.world, &ts)) {
    /* more rows in the tiles met than the cap: every k-th, so the dots thin out evenly */
    uint32_t tail = p->count - spatial_sorted(), met = tail;
    for (int64_t ty = ts.ty0; ty <= ts.ty1; ty++)
      for (int64_t tx = ts.tx0; tx <= ts.tx1; tx++) {
        uint32_t t = morton12((uint32_t)(tx & 255), (uint32_t)ty);
        met += tiles[t + 1] - tiles[t];
      }
    uint32_t stride = stride_for(met, cap);
    for (int64_t ty = ts.ty0; ty <= ts.ty1; ty++)
      for (int64_t tx = ts.tx0; tx <= ts.tx1; tx++) {
        uint32_t t = morton12((uint32_t)(tx & 255), (uint32_t)ty);
        if (!draw_rows(&pen, &sp, &rows, tiles[t], tiles[t + 1], stride, cap))
          return (int32_t)drawn;
      }
    draw_rows(&pen, &sp, &rows, spatial_sorted(), p->count, stride, cap); /* the unsorted tail */
  } else {
    draw_rows(&pen, &sp, &rows, rows.begin, rows.end, stride_for(rows.end - rows.begin, cap),
              cap);
  }
  return (int32_t)drawn;
}

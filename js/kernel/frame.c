/* frame.c — one frame: the grid, the footprint, splatting points (or pyramid cells), and
 * reading the visible density back. Calls window.c, spatial.c, points.c and memory.c; owns the
 * frame's buffers (colour.c reads them through frame()). */
#include "kernel.h"
#include "maths.h"

/* ---- Frames ------------------------------------------------------------------------------
 * A frame is computed on a padded grid (the frame plus the footprint's reach on every side) at
 * one of two resolutions:
 *  - full resolution (one cell per pixel) when the radius is 0 or small: points land in the
 *    cell they fall in, exactly the binning of heat.h;
 *  - for larger footprints, cells of f x f pixels (f a power of two chosen so that the
 *    Gaussian's sigma spans 2 to 4 cells): points are binned into the cell they fall in, the
 *    Gaussian is applied on the small grid, and the frame is read back by bilinear
 *    interpolation. Binning and interpolation are themselves small blurs (a box, variance
 *    f^2/12, and a tent, f^2/6, per axis), which the Gaussian on the grid leaves out, so the
 *    total has the variance of heat.h's Gaussian and nearly its shape (tests bound the
 *    difference). This makes a frame's cost nearly independent of the radius, and a coarse
 *    grid that fits in cache makes binning millions of points cheap. */

static Frame fr;
/* A frame from a host's grid (hw_grid_begin): its three planes, their geometry, whether they
 * await hw_density_grid, and whether the last frame came from them (hit-testing reads their
 * counts then). */
static float *grid_cells;
static uint32_t grid_cells_cap, grid_geometry[4];
static int grid_pending, grid_frame;

const Frame *frame(void) { return &fr; }

float *frame_scratch(uint32_t n) { return fit(&fr.sorted, &fr.sorted_cap, n) ? NULL : fr.sorted; }

static int frame_alloc(uint32_t width, uint32_t height, uint32_t margin, uint32_t f) {
  if (width == 0 || height == 0 || width > 16384 || height > 16384) return -1;
  uint32_t gw = (width + 2 * margin + f - 1) / f + 1, gh = (height + 2 * margin + f - 1) / f + 1;
  uint32_t cells = gw * gh, visible = width * height;
  uint32_t longest = gw > gh ? gw : gh;
  /* box rows: 2 lines of 4-row vectors; read-back: 2 interpolated rows + column tables */
  uint32_t line = 8 * (longest + 64) + 4 * (width + 8);
  if (fit(&fr.pad, &fr.pad_cap, cells) || fit(&fr.aux, &fr.aux_cap, cells) ||
      fit(&fr.line, &fr.line_cap, line) || fit(&fr.grid, &fr.grid_cap, visible) ||
      fit(&fr.rgba, &fr.rgba_cap, visible))
    return -1;
  fr.width = width;
  fr.height = height;
  fr.margin = margin;
  fr.f = f;
  fr.gw = gw;
  fr.gh = gh;
  return 0;
}

float *hw_frame_grid(void) { return fr.grid; }
uint8_t *hw_frame_rgba(void) { return (uint8_t *)fr.rgba; }

void frame_release(void) {
  hw_free(grid_cells);
  grid_cells = NULL;
  grid_cells_cap = 0;
  grid_pending = grid_frame = 0;
  hw_free(fr.pad);
  hw_free(fr.aux);
  hw_free(fr.cnt);
  hw_free(fr.line);
  hw_free(fr.grid);
  hw_free(fr.rgba);
  hw_free(fr.sorted);
  __builtin_memset(&fr, 0, sizeof fr);
  frame_ahead_forget();
}


/* ---- The footprint ----------------------------------------------------------------------- */

#define MAX_TAPS 41 /* 2 * 20 + 1: the Gaussian on the grid has sigma < 5 cells */

typedef struct Taps {
  uint32_t reach; /* taps on each side of the centre */
  float w[MAX_TAPS];
} Taps;

/* Gaussian taps out to 3.5 sigma; `normalise` makes them sum to 1 (mass-preserving blur),
 * otherwise the centre is 1 (the "max" spread). */
static Taps gaussian_taps(double sigma, int normalise) {
  Taps t;
  uint32_t reach = (uint32_t)(3.5 * sigma + 0.999);
  if (reach > (MAX_TAPS - 1) / 2) reach = (MAX_TAPS - 1) / 2;
  t.reach = reach;
  double sum = 0.0;
  for (uint32_t i = 0; i <= 2 * reach; i++) {
    double d = (double)i - (double)reach;
    double v = sigma > 0.0 ? exp_neg(-0.5 * d * d / (sigma * sigma)) : (d == 0.0);
    t.w[i] = (float)v;
    sum += v;
  }
  if (normalise)
    for (uint32_t i = 0; i <= 2 * reach; i++) t.w[i] = (float)(t.w[i] / sum);
  return t;
}


/* One separable pass along the rows: g (w x h) convolved with the taps, in place; `line` is
 * scratch of w + 2 * reach + 4 floats. A "max" pass takes the largest product instead of
 * the sum. The inner loop runs over 4 pixels at a time. */
static void pass_rows(float *g, uint32_t w, uint32_t h, const Taps *t, int max, float *line) {
  uint32_t r = t->reach, n = 2 * r + 1;
  __builtin_memset(line, 0, (w + 2 * r + 4) * 4u);
  for (uint32_t y = 0; y < h; y++) {
    float *row = g + y * w;
    __builtin_memcpy(line + r, row, w * 4u);
    uint32_t x = 0;
    for (; x + 4 <= w; x += 4) {
      v4f acc = {0, 0, 0, 0};
      for (uint32_t k = 0; k < n; k++) {
        v4f v = *(const v4f_u *)(line + x + k) * t->w[k];
        acc = max ? __builtin_wasm_pmax_f32x4(acc, v) : acc + v;
      }
      *(v4f_u *)(row + x) = acc;
    }
    for (; x < w; x++) {
      float acc = 0.0f;
      for (uint32_t k = 0; k < n; k++) {
        float v = line[x + k] * t->w[k];
        acc = max ? (v > acc ? v : acc) : acc + v;
      }
      row[x] = acc;
    }
  }
}

/* One separable pass down the columns of src into dst, whole rows at a time (the inner loop
 * runs along contiguous memory and vectorises). */
static void pass_columns(const float *src, float *dst, uint32_t w, uint32_t h, const Taps *t,
                         int max) {
  uint32_t r = t->reach;
  for (uint32_t y = 0; y < h; y++) {
    float *out = dst + y * w;
    __builtin_memset(out, 0, w * 4u);
    uint32_t lo = y >= r ? y - r : 0, hi = y + r < h ? y + r : h - 1;
    for (uint32_t j = lo; j <= hi; j++) {
      float k = t->w[j + r - y];
      const float *in = src + j * w;
      if (max)
        for (uint32_t x = 0; x < w; x++) {
          float v = in[x] * k;
          out[x] = v > out[x] ? v : out[x];
        }
      else
        for (uint32_t x = 0; x < w; x++) out[x] += in[x] * k;
    }
  }
}

/* The footprint on the grid g (fr.gw x fr.gh); fr.aux is scratch; the result is in g. */
static void spread(float *g, const Taps *t, int max) {
  pass_rows(g, fr.gw, fr.gh, t, max, fr.line);
  pass_columns(g, fr.aux, fr.gw, fr.gh, t, max);
  __builtin_memcpy(g, fr.aux, fr.gw * fr.gh * 4u);
}

/* ---- Splat --------------------------------------------------------------------------------
 * Longitude wraps through 32-bit arithmetic: (int32)(x - ox) is the point's offset from the
 * padded frame's left edge, taken within half a world either way; when the frame is wider than
 * half a world, the other copies of the world are added explicitly (Splat and FOR_EACH_XY
 * are in kernel.h: dots.c places its dots with them). */

static double world_pixels(double zoom) {
  /* 256 * 2^zoom without libm: integer part by doubling, fraction by exp(frac * ln 2) */
  double world = 256.0;
  int zi = (int)f64_floor(zoom);
  double zf = zoom - zi;
  for (int i = 0; i < zi; i++) world *= 2.0;
  for (int i = 0; i > zi; i--) world *= 0.5;
  if (zf > 0) world /= exp_neg(-zf * 0.69314718055994530942);
  return world;
}

Splat splat_setup(double x0, double y0, double zoom, uint32_t margin, uint32_t width,
                  uint32_t height, uint32_t f) {
  Splat sp;
  double world = world_pixels(zoom);
  sp.world = world;
  sp.s = world / 4294967296.0;
  double left = (x0 - margin) / world; /* in worlds */
  left -= f64_floor(left);
  double fx = left * 4294967296.0;
  double fl = f64_floor(fx);
  sp.ox = (uint32_t)(uint64_t)fl;
  sp.ox_frac_px = (fx - fl) * sp.s;
  sp.oy_px = y0 - margin;
  sp.pw = width + 2.0 * margin;
  sp.ph = height + 2.0 * margin;
  sp.inv_f = 1.0 / f;
  sp.copies = sp.pw > world * 0.5 ? (int)(sp.pw / world) + 2 : 0;
  return sp;
}

/* The same for row i of the points' coordinates xs, ys. */
#define FOR_EACH_POSITION(sp, xs, ys, i, BODY) FOR_EACH_XY(sp, (xs)[i], (ys)[i], BODY)

/* Deposits w into the cell under (px, py) at full resolution. */
#define DEPOSIT_CELL(g, gw, px, py, OP) OP((g)[(uint32_t)(py) * (gw) + (uint32_t)(px)])

/* Adds w to the f x f-pixel cell under (px, py). */
#define DEPOSIT_COARSE(g, gw, inv_f, px, py, OP) \
  OP((g)[(uint32_t)((py) * (inv_f)) * (gw) + (uint32_t)((px) * (inv_f))])

/* The weight of row i in this frame (weights, then time decay), or < 0 to skip the row. */
static inline float row_weight(const Points *p, const Rows *rows, uint32_t i) {
  float w = p->w ? p->w[i] : 1.0f;
  if (rows->check_time && !(p->t[i] >= rows->t0 && p->t[i] < rows->t1)) return -1.0f;
  if (rows->decay) w *= exp2_fast((float)(rows->t_ref - p->t[i]) * rows->decay_k);
  return w;
}

static void splat(const Splat *sp, uint32_t aggregation, const Rows *rows) {
  const Points *p = points();
  float *g = fr.pad, *c = fr.cnt;
  uint32_t gw = fr.gw;
  double inv_f = sp->inv_f;
  int full = fr.f == 1, plain = !rows->check_time && !rows->decay;
  const float *w = p->w;
#define ADD1(cell) ((cell) += 1.0f)
#define ADDW(cell) ((cell) += w[i])
  if (full && plain && (aggregation == HW_AGG_COUNT || (aggregation == HW_AGG_SUM && !w))) {
    const uint32_t *xs = p->x, *ys = p->y;
    for (uint32_t i = rows->begin; i < rows->end; i++)
      FOR_EACH_POSITION(*sp, xs, ys, i, DEPOSIT_CELL(g, gw, px, py, ADD1));
    return;
  }
  if (full && plain && aggregation == HW_AGG_SUM) {
    const uint32_t *xs = p->x, *ys = p->y;
    for (uint32_t i = rows->begin; i < rows->end; i++)
      FOR_EACH_POSITION(*sp, xs, ys, i, DEPOSIT_CELL(g, gw, px, py, ADDW));
    return;
  }
  if (!full && plain && (aggregation == HW_AGG_COUNT || (aggregation == HW_AGG_SUM && !w))) {
    const uint32_t *xs = p->x, *ys = p->y;
    for (uint32_t i = rows->begin; i < rows->end; i++)
      FOR_EACH_POSITION(*sp, xs, ys, i, DEPOSIT_COARSE(g, gw, inv_f, px, py, ADD1));
    return;
  }
  if (!full && plain && aggregation == HW_AGG_SUM) {
    const uint32_t *xs = p->x, *ys = p->y;
    for (uint32_t i = rows->begin; i < rows->end; i++)
      FOR_EACH_POSITION(*sp, xs, ys, i, DEPOSIT_COARSE(g, gw, inv_f, px, py, ADDW));
    return;
  }
  /* everything else: one general loop */
  const uint32_t *xs = p->x, *ys = p->y;
  for (uint32_t i = rows->begin; i < rows->end; i++) {
    float wi = row_weight(p, rows, i);
    if (wi < 0.0f) continue;
    float value = aggregation == HW_AGG_COUNT ? (rows->decay ? wi / (p->w ? p->w[i] : 1.0f) : 1.0f)
                                              : wi;
    if (aggregation == HW_AGG_MAX) {
      FOR_EACH_POSITION(*sp, xs, ys, i, {
        float *cell = g + (uint32_t)(py * inv_f) * gw + (uint32_t)(px * inv_f);
        *cell = *cell > value ? *cell : value;
      });
    } else {
      FOR_EACH_POSITION(*sp, xs, ys, i, {
        uint32_t cell = (uint32_t)(py * inv_f) * gw + (uint32_t)(px * inv_f);
        g[cell] += value;
        if (aggregation == HW_AGG_MEAN) c[cell] += 1.0f;
      });
    }
  }
#undef ADD1
#undef ADDW
}

/* Splats the cells of pyramid level l instead of points (aggregates per cell). */
static void splat_level(const Splat *sp, uint32_t aggregation, int l) {
  const Level *lv = pyramid(l);
  float *g = fr.pad, *c = fr.cnt;
  uint32_t gw = fr.gw, shift = 32 - (uint32_t)l, half = 1u << (31 - l);
  double inv_f = sp->inv_f;
  for (uint32_t i = 0; i < lv->n; i++) {
    if (!(lv->cnt[i] > 0.0f)) continue; /* emptied by a sliding window (window.c) */
    uint32_t x = (lv->cx[i] << shift) | half, y = (lv->cy[i] << shift) | half;
    FOR_EACH_XY(*sp, x, y, {
      uint32_t cell = (uint32_t)(py * inv_f) * gw + (uint32_t)(px * inv_f);
      if (aggregation == HW_AGG_MAX) {
        g[cell] = g[cell] > lv->mx[i] ? g[cell] : lv->mx[i];
      } else if (aggregation == HW_AGG_COUNT) {
        g[cell] += lv->cnt[i];
      } else {
        g[cell] += lv->sum[i];
        if (aggregation == HW_AGG_MEAN) c[cell] += lv->cnt[i];
      }
    });
  }
}

/* The pyramid level whose cells are at most half a grid cell (within a quarter of a grid cell
 * of their points), or 0 when none may stand for the points: radius 0 promises exact binning,
 * and "max" spreads steeply on the flanks, where moving a point by a quarter of a cell changes
 * the value by up to a fifth. */
static int pyramid_level(const Splat *sp, float radius, uint32_t aggregation) {
  if (!(radius > 0.0f) || aggregation == HW_AGG_MAX) return 0;
  int l = PYR_MIN;
  while (l <= PYR_MAX && sp->world / (double)(1u << l) > fr.f * 0.5) l++;
  return l <= PYR_MAX ? l : 0;
}

/* A frame over points in spatial order: pyramid cells when they are at most half a grid cell
 * (radius > 0 only: radius 0 promises exact binning), else the rows of the tiles in view; then
 * the unsorted tail row by row. */
static void splat_spatial(const Splat *sp, uint32_t aggregation, const Rows *rows, double x0,
                          double y0, float radius) {
  uint32_t count = points()->count, sorted = spatial_sorted();
  Rows part = *rows;
  int l = pyramid_level(sp, radius, aggregation);
  if (l && pyramid(l)->n) {
    splat_level(sp, aggregation, l);
    part.begin = sorted;
    part.end = count;
    splat(sp, aggregation, &part);
    return;
  }
  TileSpan ts;
  if (!spatial_tiles_in(x0 - fr.margin, y0 - fr.margin, sp->pw, sp->ph, sp->world, &ts)) {
    part.begin = 0;
    part.end = count;
    splat(sp, aggregation, &part);
    return;
  }
  const uint32_t *tile_start = spatial_tiles();
  for (int64_t ty = ts.ty0; ty <= ts.ty1; ty++) {
    for (int64_t tx = ts.tx0; tx <= ts.tx1; tx++) {
      uint32_t t = morton12((uint32_t)(tx & 255), (uint32_t)ty);
      part.begin = tile_start[t];
      part.end = tile_start[t + 1];
      if (part.end > part.begin) splat(sp, aggregation, &part);
    }
  }
  part.begin = sorted;
  part.end = count;
  splat(sp, aggregation, &part);
}

/* ---- Reading the frame back ---------------------------------------------------------------- */

/* Copies the visible part of a full-resolution grid into dst (dividing by counts when given,
 * for "mean") and returns its maximum. */
static float read_full(const float *g, const float *cnt, float cnt_min, float *dst) {
  uint32_t m = fr.margin, gw = fr.gw;
  float mx = 0.0f;
  for (uint32_t y = 0; y < fr.height; y++) {
    const float *src = g + (y + m) * gw + m;
    float *out = dst + y * fr.width;
    if (cnt) {
      const float *cs = cnt + (y + m) * gw + m;
      for (uint32_t x = 0; x < fr.width; x++) out[x] = cs[x] >= cnt_min ? src[x] / cs[x] : 0.0f;
    } else {
      __builtin_memcpy(out, src, fr.width * 4u);
    }
    for (uint32_t x = 0; x < fr.width; x++) mx = out[x] > mx ? out[x] : mx;
  }
  return mx;
}

/* Bilinear read-back of a coarse grid: pixel centre (m + x + 0.5) sits at cell coordinate
 * (m + x + 0.5) / f - 0.5. `scale` turns a cell's content into a per-pixel density. */
static void read_coarse(const float *g, float scale, float *dst) {
  uint32_t f = fr.f, m = fr.margin, gw = fr.gw, w = fr.width;
  float inv_f = 1.0f / (float)f;
  uint32_t *col = (uint32_t *)fr.line;
  float *fu = fr.line + w, *above = fu + w, *below = above + w;
  for (uint32_t x = 0; x < w; x++) {
    float u = ((float)(m + x) + 0.5f) * inv_f - 0.5f;
    col[x] = (uint32_t)u;
    fu[x] = u - (float)col[x];
  }
  uint32_t have = 0xFFFFFFFFu;
  for (uint32_t y = 0; y < fr.height; y++) {
    float v = ((float)(m + y) + 0.5f) * inv_f - 0.5f;
    uint32_t l = (uint32_t)v;
    float fv = v - (float)l;
    if (l != have) { /* interpolate the two grid rows along x once per grid row */
      const float *r0 = g + l * gw, *r1 = r0 + gw;
      for (uint32_t x = 0; x < w; x++) {
        uint32_t k = col[x];
        above[x] = (r0[k] + (r0[k + 1] - r0[k]) * fu[x]) * scale;
        below[x] = (r1[k] + (r1[k + 1] - r1[k]) * fu[x]) * scale;
      }
      have = l;
    }
    float *out = dst + y * w;
    for (uint32_t x = 0; x < w; x++) out[x] = above[x] + (below[x] - above[x]) * fv;
  }
}

/* The maximum of the visible grid; also divides sums by counts for "mean". */
static float finish_coarse(float cnt_min) {
  uint32_t n = fr.width * fr.height;
  float mx = 0.0f;
  float *g = fr.grid;
  if (fr.cnt && cnt_min > 0.0f) {
    const float *c = fr.sorted; /* the read-back counts */
    for (uint32_t i = 0; i < n; i++) {
      float v = c[i] >= cnt_min ? g[i] / c[i] : 0.0f;
      g[i] = v;
      mx = v > mx ? v : mx;
    }
    return mx;
  }
  for (uint32_t i = 0; i < n; i++) mx = g[i] > mx ? g[i] : mx;
  return mx;
}

/* ---- Frames from points or from a host's grid ----------------------------------------------- */

/* A frame's cell size, margin and footprint: one plan for frames from points and from grids. */
typedef struct Plan {
  float radius;
  uint32_t aggregation, f, margin;
  double sigma;
  Taps taps;
} Plan;

static Plan plan_frame(float radius, uint32_t aggregation) {
  Plan pl;
  if (!(radius >= 0.0f)) radius = 0.0f;
  if (radius > 2000.0f) radius = 2000.0f;
  if (aggregation > HW_AGG_MAX) aggregation = HW_AGG_SUM;
  int max = aggregation == HW_AGG_MAX;
  double sigma = radius * 0.5;
  /* cells of f pixels keep the grid's Gaussian between 2 and 4 cells wide */
  uint32_t f = 1;
  while (sigma / f >= 4.0 && f < 256) f *= 2;
  /* the variance binning and read-back already add (f^2/12 + f^2/6 per axis, in pixels^2);
   * at full resolution none is allowed for, so that radius 0 means exact binning */
  double extra = f > 1 ? (double)f * f / 4.0 : 0.0;
  double sigma_cells = sigma * sigma > extra ? __builtin_sqrt(sigma * sigma - extra) / f : 0.0;
  if (max) sigma_cells = sigma / f; /* a max spread keeps the peak; variance is not its aim */
  pl.radius = radius;
  pl.aggregation = aggregation;
  pl.f = f;
  pl.sigma = sigma;
  pl.taps = gaussian_taps(sigma_cells, !max);
  pl.margin = radius > 0.0f ? (pl.taps.reach + 1) * f : 0;
  return pl;
}

/* Sizes the frame for the plan and zeroes its grid (and counts, for "mean"). */
static int frame_begin(const Plan *pl, uint32_t width, uint32_t height) {
  if (frame_alloc(width, height, pl->margin, pl->f)) return -1;
  uint32_t cells = fr.gw * fr.gh;
  __builtin_memset(fr.pad, 0, cells * 4u);
  if (pl->aggregation == HW_AGG_MEAN) {
    if (fit(&fr.cnt, &fr.cnt_cap, cells)) return -1;
    __builtin_memset(fr.cnt, 0, cells * 4u);
  }
  return 0;
}

static void frame_place(double x0, double y0, double zoom) {
  fr.x0 = x0;
  fr.y0 = y0;
  fr.zoom = zoom;
  fr.placed = 1;
}

/* The binned grid -> the footprint, "mean"'s division and the read-back; returns the maximum. */
static float frame_finish(const Plan *pl) {
  uint32_t aggregation = pl->aggregation, f = pl->f, width = fr.width, height = fr.height;
  int max = aggregation == HW_AGG_MAX, mean = aggregation == HW_AGG_MEAN;
  if (pl->taps.reach) {
    spread(fr.pad, &pl->taps, max);
    if (mean) spread(fr.cnt, &pl->taps, 0);
  }
  /* "mean" is left empty where the spread count is below one point's density at `radius`
   * (e^-2 of its peak), so its footprints fade like the others' (heat.h) */
  float cnt_min = 0.5f;
  if (mean && pl->radius > 0.0f)
    cnt_min = (float)(0.1353352832 / (6.283185307 * pl->sigma * pl->sigma));

  if (f == 1) return read_full(fr.pad, mean ? fr.cnt : NULL, cnt_min, fr.grid);
  /* a coarse cell holds the mass of f^2 pixels, except for "max", whose values are weights */
  float scale = max ? 1.0f : 1.0f / (float)(f * f);
  read_coarse(fr.pad, scale, fr.grid);
  if (mean) {
    if (fit(&fr.sorted, &fr.sorted_cap, width * height)) return -1.0f;
    read_coarse(fr.cnt, scale, fr.sorted);
    return finish_coarse(cnt_min);
  }
  return finish_coarse(0.0f);
}

/* The plan of the frame hw_grid_begin sized. */
static Plan grid_plan;

/* ---- The first frame splatted ahead (hw_density_ahead) ----------------------------------------
 * While a big load arrives in parts, the host splats each part into the first frame's grid as
 * it comes; the frame itself (hw_density with the same arguments) then splats only the rows
 * since and finishes as usual. Only where hw_density would splat every row held in arrival
 * order into a zeroed grid (ahead_possible): each cell then receives the same additions in
 * the same order, so the frame is the same bit for bit. */
static struct {
  int active;
  double x0, y0, zoom;
  uint32_t width, height, aggregation, done; /* done: rows [0, done) are in fr.pad */
  float radius;
} ahead;

void frame_ahead_forget(void) { ahead.active = 0; }

/* The first frame since the load, of rows without times, no time window, no sliding window. */
static int ahead_possible(void) {
  Rows rows = rows_in_window();
  return !points()->t && !spatial_streaming() && spatial_first_frame() && rows.begin == 0 &&
         rows.end == points()->count && !rows.check_time && !rows.decay;
}

static int ahead_same(double x0, double y0, double zoom, uint32_t width, uint32_t height,
                      float radius, uint32_t aggregation) {
  return ahead.active && ahead.x0 == x0 && ahead.y0 == y0 && ahead.zoom == zoom &&
         ahead.width == width && ahead.height == height && ahead.radius == radius &&
         ahead.aggregation == aggregation && ahead.done <= points()->count;
}

/* The rows a frame with these arguments finds splatted ahead in fr.pad (0: none, the frame
 * starts from a zeroed grid); the frame splatted ahead is used up either way. */
static uint32_t ahead_take(double x0, double y0, double zoom, uint32_t width, uint32_t height,
                           float radius, uint32_t aggregation) {
  int same = ahead_same(x0, y0, zoom, width, height, radius, aggregation) && ahead_possible();
  ahead.active = 0;
  return same ? ahead.done : 0;
}

int32_t hw_density_ahead(double x0, double y0, double zoom, uint32_t width, uint32_t height,
                         float radius, uint32_t aggregation, uint32_t limit) {
  if (!ahead_possible()) {
    ahead.active = 0;
    return -1;
  }
  Plan pl = plan_frame(radius, aggregation);
  if (!ahead_same(x0, y0, zoom, width, height, radius, aggregation)) {
    ahead.active = 0;
    grid_pending = grid_frame = 0;
    fr.placed = 0; /* the last frame's buffers are this one's now */
    if (frame_begin(&pl, width, height)) return -1;
    ahead.active = 1;
    ahead.x0 = x0;
    ahead.y0 = y0;
    ahead.zoom = zoom;
    ahead.width = width;
    ahead.height = height;
    ahead.radius = radius;
    ahead.aggregation = aggregation;
    ahead.done = 0;
  }
  Rows rows = rows_in_window();
  rows.begin = ahead.done;
  if (rows.end - rows.begin > limit) rows.end = rows.begin + limit;
  Splat sp = splat_setup(x0, y0, zoom, pl.margin, width, height, pl.f);
  splat(&sp, pl.aggregation, &rows);
  ahead.done = rows.end;
  return (int32_t)ahead.done;
}

float hw_density(double x0, double y0, double zoom, uint32_t width, uint32_t height,
                 float radius, uint32_t aggregation) {
  Plan pl = plan_frame(radius, aggregation);
  uint32_t ahead_rows = ahead_take(x0, y0, zoom, width, height, radius, aggregation);
  grid_pending = grid_frame = 0;
  if (!ahead_rows && frame_begin(&pl, width, height)) return -1.0f;
  aggregation = pl.aggregation;
  Rows rows = rows_in_window();
  Splat sp = splat_setup(x0, y0, zoom, pl.margin, width, height, pl.f);
  frame_place(x0, y0, zoom);
  int may_sort = spatial_frame_begins();
  int timed = points()->t != NULL;
  int window_level = spatial_streaming() && !timed ? pyramid_level(&sp, pl.radius, aggregation) : 0;
  if (window_level && sw_level(window_level))
    splat_level(&sp, aggregation, window_level); /* a sliding window's pyramid (window.c) */
  else if (!timed && rows.end > rows.begin && spatial_ready(may_sort))
    splat_spatial(&sp, aggregation, &rows, x0, y0, pl.radius);
  else {
    rows.begin += ahead_rows; /* ahead_take: rows splatted ahead come only to this branch */
    splat(&sp, aggregation, &rows);
  }
  return frame_finish(&pl);
}

float *hw_grid_begin(uint32_t width, uint32_t height, float radius, uint32_t aggregation) {
  grid_plan = plan_frame(radius, aggregation);
  ahead.active = 0;
  grid_pending = grid_frame = 0;
  fr.placed = 0;
  if (frame_alloc(width, height, grid_plan.margin, grid_plan.f)) return NULL;
  uint32_t cells = fr.gw * fr.gh;
  if (fit(&grid_cells, &grid_cells_cap, 3 * cells)) return NULL;
  __builtin_memset(grid_cells, 0, 3 * cells * 4u);
  grid_geometry[0] = fr.f;
  grid_geometry[1] = fr.margin;
  grid_geometry[2] = fr.gw;
  grid_geometry[3] = fr.gh;
  grid_pending = 1;
  return grid_cells;
}

const uint32_t *hw_grid_geometry(void) { return grid_geometry; }

float hw_density_grid(double x0, double y0, double zoom) {
  if (!grid_pending) return -1.0f;
  const Plan *pl = &grid_plan;
  ahead.active = 0;
  if (frame_begin(pl, fr.width, fr.height)) return -1.0f;
  uint32_t cells = fr.gw * fr.gh;
  const float *sum = grid_cells, *cnt = grid_cells + cells, *mx = grid_cells + 2 * cells;
  /* the plane a frame from points would have splatted (heat.h HW_AGG_*); "max" starts at 0 */
  if (pl->aggregation == HW_AGG_MAX)
    for (uint32_t i = 0; i < cells; i++) fr.pad[i] = mx[i] > 0.0f ? mx[i] : 0.0f;
  else
    __builtin_memcpy(fr.pad, pl->aggregation == HW_AGG_COUNT ? cnt : sum, cells * 4u);
  if (pl->aggregation == HW_AGG_MEAN) __builtin_memcpy(fr.cnt, cnt, cells * 4u);
  frame_place(x0, y0, zoom);
  grid_frame = 1;
  return frame_finish(pl);
}

/* Hit-testing a frame from a grid: the counts of the cells whose centre lies within `radius`
 * (at least half a cell) of the frame position (px, py). */
static uint32_t grid_count_near(double px, double py, float radius) {
  double f = fr.f, m = fr.margin, r = radius > 0.5f * fr.f ? radius : 0.5 * fr.f;
  const float *cnt = grid_cells + fr.gw * fr.gh;
  double total = 0.0;
  for (uint32_t cy = 0; cy < fr.gh; cy++) {
    double dy = (cy + 0.5) * f - m - py;
    if (dy * dy > r * r) continue;
    for (uint32_t cx = 0; cx < fr.gw; cx++) {
      double dx = (cx + 0.5) * f - m - px;
      if (dx * dx + dy * dy <= r * r) total += cnt[cy * fr.gw + cx];
    }
  }
  return (uint32_t)(total + 0.5);
}

uint32_t hw_frame_count_near(double px, double py, float radius) {
  if (!fr.placed) return 0;
  if (grid_frame) return grid_count_near(px, py, radius);
  const Points *p = points();
  const uint32_t *xs = p->x, *ys = p->y;
  Rows rows = rows_in_window();
  uint32_t m = (uint32_t)(radius > 0.0f ? radius + 2.0f : 2.0f);
  Splat sp = splat_setup(fr.x0 + px - m, fr.y0 + py - m, fr.zoom, 0, 2 * m, 2 * m, 1);
  double r2 = (double)radius * radius;
  uint32_t n = 0;
  for (uint32_t i = rows.begin; i < rows.end; i++) {
    if (row_weight(p, &rows, i) < 0.0f) continue;
    FOR_EACH_POSITION(sp, xs, ys, i, {
      double dx = px - m;
      double dy = py - m;
      if (dx * dx + dy * dy <= r2) n++;
    });
  }
  return n;
}

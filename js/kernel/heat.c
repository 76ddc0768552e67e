/*
 * heat.c — heatwidget's heat kernel: project, splat, blur, normalise, colour.
 * The ABI, its units and buffer ownership are documented in heat.h; this file only says why.
 *
 * Built with -nostdlib for wasm32 (see js/build.mjs): no libc, so the few maths functions the
 * kernel needs (sin, log, exp) are written here, and memory comes from a small allocator over
 * memory.grow.
 */
#include "heat.h"

#define NULL ((void *)0)
typedef uint32_t size_t;

/* ---- Memory -------------------------------------------------------------------------------
 * A first-fit allocator over one contiguous heap that grows with memory.grow. The kernel holds
 * a handful of large buffers (points, frame grids), so a simple list of blocks is enough; free
 * blocks are merged with free neighbours so that reallocating a growing buffer reuses space. */

extern unsigned char __heap_base;

typedef struct Block {
  uint32_t size; /* bytes of the block, header included, multiple of 16 */
  uint32_t used;
  uint32_t pad[2]; /* keeps payloads 16-byte aligned for SIMD */
} Block;

static unsigned char *heap_start;
static unsigned char *heap_end;

static void heap_init(void) {
  if (heap_start) return;
  uintptr_t base = ((uintptr_t)&__heap_base + 15u) & ~(uintptr_t)15u;
  heap_start = heap_end = (unsigned char *)base;
}

static int heap_extend(uint32_t bytes) {
  uintptr_t limit = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
  uintptr_t need = (uintptr_t)heap_end + bytes;
  if (need < (uintptr_t)heap_end) return -1; /* wrapped past 4 GiB */
  if (need > limit) {
    uintptr_t pages = (need - limit + 65535u) / 65536u;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return -1;
  }
  heap_end += bytes;
  return 0;
}

static void *hw_malloc(uint32_t bytes) {
  heap_init();
  if (bytes > 0xF0000000u) return NULL;
  uint32_t need = (bytes + sizeof(Block) + 15u) & ~15u;
  Block *last = NULL;
  for (unsigned char *p = heap_start; p < heap_end; p += ((Block *)p)->size) {
    Block *b = (Block *)p;
    last = b;
    if (b->used || b->size < need) continue;
    if (b->size - need >= 64u) { /* split: the rest stays free */
      Block *rest = (Block *)(p + need);
      rest->size = b->size - need;
      rest->used = 0;
      b->size = need;
    }
    b->used = 1;
    return b + 1;
  }
  if (last && !last->used) { /* grow the free tail block in place */
    if (heap_extend(need - last->size)) return NULL;
    last->size = need;
    last->used = 1;
    return last + 1;
  }
  Block *b = (Block *)heap_end;
  if (heap_extend(need)) return NULL;
  b->size = need;
  b->used = 1;
  return b + 1;
}

static void hw_free(void *ptr) {
  if (!ptr) return;
  ((Block *)ptr - 1)->used = 0;
  /* merge runs of free blocks; the list is short (a dozen blocks at most) */
  for (unsigned char *p = heap_start; p < heap_end; p += ((Block *)p)->size) {
    Block *b = (Block *)p;
    if (b->used) continue;
    while (p + b->size < heap_end && !((Block *)(p + b->size))->used)
      b->size += ((Block *)(p + b->size))->size;
  }
}

/* ---- Maths without libm ------------------------------------------------------------------ */

#define PI 3.14159265358979323846
#define MAX_LATITUDE 85.0511287798

static inline double f64_floor(double x) { return __builtin_floor(x); }

/* sin for |x| <= pi/2 (latitudes are clamped to +-85.05 degrees first): Taylor series to x^23,
 * whose truncation error there is below 1e-17. */
static double sin_small(double x) {
  double x2 = x * x, term = x, sum = x;
  for (int k = 1; k <= 11; k++) {
    term *= -x2 / (double)((2 * k) * (2 * k + 1));
    sum += term;
  }
  return sum;
}

/* Natural log of q > 0: q = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(u), u = (m - 1) / (m + 1), |u| < 0.172: the series to u^25 is exact to 1e-19. */
static double log_pos(double q) {
  union { double d; uint64_t u; } v = {q};
  int e = (int)((v.u >> 52) & 0x7ff) - 1023;
  v.u = (v.u & 0x000fffffffffffffull) | 0x3ff0000000000000ull; /* m in [1, 2) */
  double m = v.d;
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  double u = (m - 1.0) / (m + 1.0), u2 = u * u, term = u, sum = u;
  for (int k = 3; k <= 25; k += 2) {
    term *= u2;
    sum += term / (double)k;
  }
  return 2.0 * sum + (double)e * 0.69314718055994530942;
}

/* exp for the footprint's table (x <= 0, a few hundred calls per frame). */
static double exp_neg(double x) {
  int halvings = 0;
  while (x < -0.5) { /* e^x = (e^(x/2))^2 */
    x *= 0.5;
    halvings++;
  }
  double term = 1.0, sum = 1.0;
  for (int k = 1; k <= 20; k++) {
    term *= x / (double)k;
    sum += term;
  }
  while (halvings--) sum *= sum;
  return sum;
}

/* log2 for colour mapping, float precision is plenty (the result picks one of 256 colours). */
static inline float log2_fast(float x) {
  union { float f; uint32_t u; } v = {x};
  float e = (float)((int)((v.u >> 23) & 0xff) - 127);
  v.u = (v.u & 0x007fffffu) | 0x3f800000u; /* m in [1, 2) */
  float m = v.f;
  /* minimax-style cubic for log2(m) on [1, 2), max error ~5e-4 */
  float p = -1.7417939f + (2.8212026f + (-1.4699568f + (0.44717955f - 0.056570851f * m) * m) * m) * m;
  return e + p;
}

/* ---- Points ------------------------------------------------------------------------------ */

#define STAGE_ROWS 65536u
/* y of a point without a position (NaN coordinates): never drawn */
#define NO_POSITION 0xFFFFFFFFu

static double stage_lon[STAGE_ROWS];
static double stage_lat[STAGE_ROWS];
static float stage_weight[STAGE_ROWS];
static uint8_t lut[256 * 4];

static uint32_t *pt_x, *pt_y; /* fixed-point Web Mercator (heat.h) */
static float *pt_w;           /* NULL while every weight is 1 */
static uint32_t pt_count, pt_capacity;

uint32_t hw_abi_version(void) { return HW_ABI_VERSION; }
uint32_t hw_stage_capacity(void) { return STAGE_ROWS; }
double *hw_stage_lon(void) { return stage_lon; }
double *hw_stage_lat(void) { return stage_lat; }
float *hw_stage_weight(void) { return stage_weight; }
uint8_t *hw_lut(void) { return lut; }
uint32_t hw_points_count(void) { return pt_count; }
uint32_t hw_memory_bytes(void) { return (uint32_t)__builtin_wasm_memory_size(0) * 65536u; }

/* Moves `count` live elements of 4 bytes into a new buffer of `capacity` elements. */
static void *regrow(void *old, uint32_t count, uint32_t capacity) {
  void *p = hw_malloc(capacity * 4u);
  if (!p) return NULL;
  if (old) {
    __builtin_memcpy(p, old, count * 4u);
    hw_free(old);
  }
  return p;
}

static int ensure_weights(void) {
  if (pt_w) return 0;
  pt_w = hw_malloc(pt_capacity * 4u);
  if (!pt_w) return -1;
  for (uint32_t i = 0; i < pt_count; i++) pt_w[i] = 1.0f;
  return 0;
}

int32_t hw_points_reserve(uint32_t capacity) {
  if (capacity <= pt_capacity) return 0;
  if (capacity > 0x3FFFFFFFu) return -1;
  uint32_t *x = regrow(pt_x, pt_count, capacity);
  if (!x) return -1;
  pt_x = x;
  uint32_t *y = regrow(pt_y, pt_count, capacity);
  if (!y) return -1;
  pt_y = y;
  if (pt_w) {
    float *w = regrow(pt_w, pt_count, capacity);
    if (!w) return -1;
    pt_w = w;
  }
  pt_capacity = capacity;
  return 0;
}

int32_t hw_points_append(uint32_t n, uint32_t flags) {
  if (n > STAGE_ROWS) n = STAGE_ROWS;
  uint32_t total = pt_count + n;
  if (total < pt_count) return -1;
  if (total > pt_capacity) {
    /* grow by a quarter: the memory budget is 1.5x the input bytes, so no doubling */
    uint32_t grown = pt_capacity + pt_capacity / 4u;
    if (hw_points_reserve(total > grown ? total : grown)) return -1;
  }
  if ((flags & HW_HAS_WEIGHT) && ensure_weights()) return -1;

  uint32_t *xs = pt_x + pt_count, *ys = pt_y + pt_count;
  for (uint32_t i = 0; i < n; i++) {
    double lon = stage_lon[i], lat = stage_lat[i];
    if (!(lon - lon == 0.0) || !(lat - lat == 0.0)) { /* NaN or infinite */
      xs[i] = 0;
      ys[i] = NO_POSITION;
      continue;
    }
    double nx = lon / 360.0 + 0.5;
    nx -= f64_floor(nx);
    xs[i] = (uint32_t)(uint64_t)(nx * 4294967296.0);
    if (lat > MAX_LATITUDE) lat = MAX_LATITUDE;
    if (lat < -MAX_LATITUDE) lat = -MAX_LATITUDE;
    double s = sin_small(lat * (PI / 180.0));
    double ny = 0.5 - log_pos((1.0 + s) / (1.0 - s)) / (4.0 * PI);
    double fy = ny * 4294967296.0;
    if (fy < 0.0) fy = 0.0;
    if (fy > 4294967294.0) fy = 4294967294.0;
    ys[i] = (uint32_t)fy;
  }
  if (pt_w) {
    float *ws = pt_w + pt_count;
    if (flags & HW_HAS_WEIGHT)
      __builtin_memcpy(ws, stage_weight, n * 4u);
    else
      for (uint32_t i = 0; i < n; i++) ws[i] = 1.0f;
  }
  pt_count = total;
  return (int32_t)pt_count;
}

void hw_points_clear(void) { pt_count = 0; }

/* ---- Frames ------------------------------------------------------------------------------ */

typedef struct Frame {
  uint32_t width, height; /* the visible frame */
  uint32_t margin;        /* padding on every side: the footprint's reach */
  uint32_t pw, ph;        /* padded size */
  float *pad;             /* padded density, pw*ph */
  float *aux;             /* padded scratch: the blur's target */
  float *cnt;             /* padded counts, for "mean" only */
  float *line;            /* one padded row or column plus the blur's reach */
  float *grid;            /* visible density, width*height */
  uint32_t *rgba;         /* visible colours, width*height */
  float *sorted;          /* scratch for quantiles, width*height */
  uint32_t pad_cap, aux_cap, cnt_cap, line_cap, grid_cap, rgba_cap, sorted_cap;
} Frame;

static Frame fr;

/* (Re)allocates a buffer of `count` 4-byte cells when its capacity is short; contents are
 * lost. Buffers only grow, so panning and zooming at one size allocate nothing. */
static int fit(void *buf, uint32_t *cap, uint32_t count) {
  void **p = (void **)buf;
  if (count <= *cap && *p) return 0;
  hw_free(*p);
  *p = hw_malloc(count * 4u);
  *cap = *p ? count : 0;
  return *p ? 0 : -1;
}

static int frame_alloc(uint32_t width, uint32_t height, uint32_t margin) {
  uint64_t pw = width + 2ull * margin, ph = height + 2ull * margin;
  if (pw * ph > 0x0FFFFFFFu || width == 0 || height == 0) return -1;
  uint32_t padded = (uint32_t)(pw * ph), visible = width * height;
  /* two interleaved 4-row lines for box_rows4, also used as one row of running sums */
  uint32_t line = 8 * ((uint32_t)(pw > ph ? pw : ph) + 2 * margin + 4);
  if (fit(&fr.pad, &fr.pad_cap, padded) || fit(&fr.aux, &fr.aux_cap, padded) ||
      fit(&fr.line, &fr.line_cap, line) || fit(&fr.grid, &fr.grid_cap, visible) ||
      fit(&fr.rgba, &fr.rgba_cap, visible))
    return -1;
  fr.width = width;
  fr.height = height;
  fr.margin = margin;
  fr.pw = (uint32_t)pw;
  fr.ph = (uint32_t)ph;
  return 0;
}

float *hw_frame_grid(void) { return fr.grid; }
uint8_t *hw_frame_rgba(void) { return (uint8_t *)fr.rgba; }

void hw_release(void) {
  hw_free(pt_x);
  hw_free(pt_y);
  hw_free(pt_w);
  pt_x = pt_y = NULL;
  pt_w = NULL;
  pt_count = pt_capacity = 0;
  hw_free(fr.pad);
  hw_free(fr.aux);
  hw_free(fr.line);
  hw_free(fr.grid);
  hw_free(fr.rgba);
  hw_free(fr.sorted);
  hw_free(fr.cnt);
  __builtin_memset(&fr, 0, sizeof fr);
}

/* ---- The footprint: three box blurs --------------------------------------------------------
 * HW_BLUR_PASSES boxes whose widths give the variance of the Gaussian (Kovesi's "boxes for
 * Gauss"): box widths are odd integers, so the variance matches sigma^2 to within about
 * (1/3) of a pixel^2, and the compound kernel (a quadratic B-spline-like shape) differs from the
 * Gaussian by at most ~3% of its peak (tests/test_kernel.py measures and bounds it). */
#define HW_BLUR_PASSES 3

static void box_radii(float sigma, uint32_t r[HW_BLUR_PASSES]) {
  const int n = HW_BLUR_PASSES;
  double var12 = 12.0 * (double)sigma * (double)sigma;
  double ideal = __builtin_sqrt(var12 / n + 1.0);
  int wl = (int)ideal;
  if (wl % 2 == 0) wl--;
  if (wl < 1) wl = 1;
  int wu = wl + 2;
  double mideal = (var12 - n * wl * wl - 4.0 * n * wl - 3.0 * n) / (-4.0 * wl - 4.0);
  int m = (int)(mideal + 0.5);
  for (int i = 0; i < n; i++) r[i] = (uint32_t)(((i < m ? wl : wu) - 1) / 2);
}

typedef float v4f __attribute__((vector_size(16)));

/* Box passes along 4 rows at once: the rows are interleaved so that each SIMD lane carries one
 * row, which turns the running sum (a serial chain along a row) into vector work. `a` and `b`
 * each hold w + 2 * reach + 2 vectors; their ends stay zero, which is the padding. */
static void box_rows4(float *g, uint32_t w, uint32_t rows, const uint32_t r[HW_BLUR_PASSES],
                      uint32_t reach, v4f *a, v4f *b) {
  uint32_t R = reach + 1, len = w + 2 * R;
  __builtin_memset(a, 0, len * sizeof(v4f));
  __builtin_memset(b, 0, len * sizeof(v4f));
  for (uint32_t x = 0; x < w; x++)
    for (uint32_t k = 0; k < 4; k++) a[R + x][k] = k < rows ? g[k * w + x] : 0.0f;
  for (int p = 0; p < HW_BLUR_PASSES; p++) {
    uint32_t rp = r[p];
    if (!rp) continue;
    float inv = 1.0f / (float)(2 * rp + 1);
    v4f acc = {0, 0, 0, 0};
    for (uint32_t i = R - rp; i < R + rp; i++) acc += a[i];
    for (uint32_t x = R; x < R + w; x++) {
      acc += a[x + rp];
      b[x] = acc * inv;
      acc -= a[x - rp];
    }
    v4f *t = a;
    a = b;
    b = t;
  }
  for (uint32_t x = 0; x < w; x++)
    for (uint32_t k = 0; k < rows; k++) g[k * w + x] = a[R + x][k];
}

/* One box pass down the columns of src into dst: whole rows at a time, so the inner loops run
 * across contiguous memory and vectorise. `acc` is one row of running sums. */
static void box_columns(const float *src, float *dst, uint32_t w, uint32_t h, uint32_t r,
                        float *acc) {
  float inv = 1.0f / (float)(2 * r + 1);
  __builtin_memset(acc, 0, w * 4u);
  for (uint32_t y = 0; y < r && y < h; y++)
    for (uint32_t x = 0; x < w; x++) acc[x] += src[y * w + x];
  for (uint32_t y = 0; y < h; y++) {
    if (y + r < h) {
      const float *in = src + (y + r) * w;
      for (uint32_t x = 0; x < w; x++) acc[x] += in[x];
    }
    float *out = dst + y * w;
    for (uint32_t x = 0; x < w; x++) out[x] = acc[x] * inv;
    if (y >= r) {
      const float *old = src + (y - r) * w;
      for (uint32_t x = 0; x < w; x++) acc[x] -= old[x];
    }
  }
}

/* Gaussian blur of a padded grid in place (aux is scratch). */
static void blur(float *g, uint32_t w, uint32_t h, const uint32_t r[HW_BLUR_PASSES]) {
  uint32_t reach = 0;
  for (int p = 0; p < HW_BLUR_PASSES; p++) reach = r[p] > reach ? r[p] : reach;
  v4f *a = (v4f *)fr.line, *b = a + (w + 2 * reach + 2);
  for (uint32_t y = 0; y < h; y += 4)
    box_rows4(g + y * w, w, h - y < 4 ? h - y : 4, r, reach, a, b);
  float *src = g, *dst = fr.aux;
  for (int p = 0; p < HW_BLUR_PASSES; p++) {
    if (!r[p]) continue;
    box_columns(src, dst, w, h, r[p], fr.line);
    float *t = src;
    src = dst;
    dst = t;
  }
  if (src != g) __builtin_memcpy(g, src, w * h * 4u);
}

/* "max" with a footprint: each pixel takes the largest weight times the Gaussian of its
 * distance (a max-product convolution, separable because the Gaussian is). Slower than the
 * box blur (O(radius) per pixel), and only used for this aggregation. */
static void max_spread(float *g, uint32_t w, uint32_t h, float sigma, uint32_t reach) {
  float k[512];
  if (reach > 511) reach = 511;
  for (uint32_t i = 0; i <= reach; i++)
    k[i] = (float)exp_neg(-0.5 * (double)i * i / ((double)sigma * sigma));
  float *line = fr.line;
  for (uint32_t y = 0; y < h; y++) {
    float *row = g + y * w;
    __builtin_memcpy(line, row, w * 4u);
    for (uint32_t x = 0; x < w; x++) {
      float best = line[x];
      uint32_t lo = x > reach ? x - reach : 0, hi = x + reach < w ? x + reach : w - 1;
      for (uint32_t j = lo; j <= hi; j++) {
        uint32_t d = j > x ? j - x : x - j;
        float v = line[j] * k[d];
        best = v > best ? v : best;
      }
      row[x] = best;
    }
  }
  float *out = fr.aux;
  for (uint32_t y = 0; y < h; y++) {
    float *o = out + y * w;
    __builtin_memcpy(o, g + y * w, w * 4u);
    uint32_t lo = y > reach ? y - reach : 0, hi = y + reach < h ? y + reach : h - 1;
    for (uint32_t j = lo; j <= hi; j++) {
      uint32_t d = j > y ? j - y : y - j;
      float kd = k[d];
      const float *in = g + j * w;
      for (uint32_t x = 0; x < w; x++) {
        float v = in[x] * kd;
        o[x] = v > o[x] ? v : o[x];
      }
    }
  }
  __builtin_memcpy(g, out, w * h * 4u);
}

/* ---- Splat --------------------------------------------------------------------------------
 * Longitude wraps through 32-bit arithmetic: (int32)(x - ox) is the point's offset from the
 * padded frame's left edge, taken within half a world either way; when the frame is wider than
 * half a world, the other copies of the world are added explicitly. */

typedef struct Splat {
  uint32_t ox;            /* padded frame's left edge, fixed point, floor */
  double ox_frac_px;      /* what floor() removed, in pixels */
  double oy_px;           /* padded frame's top edge, world pixels */
  double s;               /* pixels per fixed-point unit */
  double world;           /* world width in pixels */
  uint32_t pw, ph;
  int copies;             /* world copies to try beyond the first */
} Splat;

static Splat splat_setup(double x0, double y0, double zoom) {
  Splat sp;
  double world = 256.0;
  /* 2^zoom without libm: integer part by doubling, fraction by exp(frac * ln 2) */
  int zi = (int)f64_floor(zoom);
  double zf = zoom - zi;
  for (int i = 0; i < zi; i++) world *= 2.0;
  for (int i = 0; i > zi; i--) world *= 0.5;
  if (zf > 0) world *= 1.0 / exp_neg(-zf * 0.69314718055994530942);
  sp.world = world;
  sp.s = world / 4294967296.0;
  double left = (x0 - fr.margin) / world; /* in worlds */
  left -= f64_floor(left);
  double fx = left * 4294967296.0;
  double fl = f64_floor(fx);
  sp.ox = (uint32_t)(uint64_t)fl;
  sp.ox_frac_px = (fx - fl) * sp.s;
  sp.oy_px = y0 - fr.margin;
  sp.pw = fr.pw;
  sp.ph = fr.ph;
  sp.copies = (double)fr.pw > world * 0.5 ? (int)((double)fr.pw / world) + 2 : 0;
  return sp;
}

/* Visits every padded-frame cell a point lands in (one per world copy in view). */
#define FOR_EACH_CELL(sp, i, CELL)                                                  \
  do {                                                                              \
    uint32_t yy = pt_y[i];                                                          \
    if (yy == NO_POSITION) break;                                                   \
    double py = (double)yy * (sp).s - (sp).oy_px;                                   \
    if (!(py >= 0.0 && py < (double)(sp).ph)) break;                                \
    uint32_t row = (uint32_t)py * (sp).pw;                                          \
    double px = (double)(int32_t)(pt_x[i] - (sp).ox) * (sp).s - (sp).ox_frac_px;    \
    if (!(sp).copies) {                                                             \
      if (px >= 0.0 && px < (double)(sp).pw) {                                      \
        uint32_t cell = row + (uint32_t)px;                                         \
        CELL;                                                                       \
      }                                                                             \
      break;                                                                        \
    }                                                                               \
    for (int k = -1; k <= (sp).copies; k++) {                                       \
      double cx = px + k * (sp).world;                                              \
      if (cx >= 0.0 && cx < (double)(sp).pw) {                                      \
        uint32_t cell = row + (uint32_t)cx;                                         \
        CELL;                                                                       \
      }                                                                             \
    }                                                                               \
  } while (0)

static void splat(const Splat *sp, uint32_t aggregation) {
  float *g = fr.pad, *c = fr.cnt;
  const float *w = pt_w;
  uint32_t n = pt_count;
  if (aggregation == HW_AGG_COUNT || (aggregation == HW_AGG_SUM && !w)) {
    for (uint32_t i = 0; i < n; i++) FOR_EACH_CELL(*sp, i, g[cell] += 1.0f);
  } else if (aggregation == HW_AGG_SUM) {
    for (uint32_t i = 0; i < n; i++) FOR_EACH_CELL(*sp, i, g[cell] += w[i]);
  } else if (aggregation == HW_AGG_MAX) {
    for (uint32_t i = 0; i < n; i++) {
      float wi = w ? w[i] : 1.0f;
      FOR_EACH_CELL(*sp, i, g[cell] = g[cell] > wi ? g[cell] : wi);
    }
  } else { /* mean: sums in pad, counts in cnt */
    for (uint32_t i = 0; i < n; i++) {
      float wi = w ? w[i] : 1.0f;
      FOR_EACH_CELL(*sp, i, { g[cell] += wi; c[cell] += 1.0f; });
    }
  }
}

float hw_density(double x0, double y0, double zoom, uint32_t width, uint32_t height,
                 float radius, uint32_t aggregation) {
  if (!(radius >= 0.0f)) radius = 0.0f;
  if (radius > 1000.0f) radius = 1000.0f;
  float sigma = radius * 0.5f;
  uint32_t r[HW_BLUR_PASSES] = {0};
  uint32_t margin = 0;
  if (radius > 0.0f) {
    box_radii(sigma, r);
    if (aggregation == HW_AGG_MAX)
      margin = (uint32_t)(3.0f * sigma + 1.0f);
    else
      for (int p = 0; p < HW_BLUR_PASSES; p++) margin += r[p];
  }
  if (frame_alloc(width, height, margin)) return -1.0f;
  uint32_t pw = fr.pw, ph = fr.ph;
  __builtin_memset(fr.pad, 0, pw * ph * 4u);
  if (aggregation == HW_AGG_MEAN) {
    if (fit(&fr.cnt, &fr.cnt_cap, pw * ph)) return -1.0f;
    __builtin_memset(fr.cnt, 0, pw * ph * 4u);
  }

  Splat sp = splat_setup(x0, y0, zoom);
  splat(&sp, aggregation);

  if (margin) {
    if (aggregation == HW_AGG_MAX) {
      max_spread(fr.pad, pw, ph, sigma, margin);
    } else {
      blur(fr.pad, pw, ph, r);
      /* "mean": blur sums and counts alike, then divide: a footprint-weighted mean */
      if (aggregation == HW_AGG_MEAN) blur(fr.cnt, pw, ph, r);
    }
  }

  /* copy the visible part out (dividing for "mean") and find its maximum */
  float mx = 0.0f;
  for (uint32_t y = 0; y < height; y++) {
    const float *src = fr.pad + (y + margin) * pw + margin;
    float *dst = fr.grid + y * width;
    if (aggregation == HW_AGG_MEAN) {
      /* where the spread count is below one point's value at `radius`, the mean is the
       * average of faint tails: leave it empty so footprints fade like "sum" (heat.h) */
      float cnt_min = margin ? 0.13533528f / (6.2831853f * sigma * sigma) : 0.5f;
      const float *cnt = fr.cnt + (y + margin) * pw + margin;
      for (uint32_t x = 0; x < width; x++) {
        float v = cnt[x] >= cnt_min ? src[x] / cnt[x] : 0.0f;
        dst[x] = v;
        mx = v > mx ? v : mx;
      }
    } else {
      for (uint32_t x = 0; x < width; x++) {
        float v = src[x];
        dst[x] = v;
        mx = v > mx ? v : mx;
      }
    }
  }
  return mx;
}

/* ---- Domain and colour -------------------------------------------------------------------- */

/* k-th smallest of a[0..n) by quickselect (reorders a). */
static float select_kth(float *a, uint32_t n, uint32_t k) {
  uint32_t lo = 0, hi = n - 1;
  while (lo < hi) {
    float pivot = a[lo + (hi - lo) / 2];
    uint32_t i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        float t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j)
      hi = j;
    else if (k >= i)
      lo = i;
    else
      return a[k];
  }
  return a[k];
}

float hw_frame_quantile(float q) {
  uint32_t n = fr.width * fr.height, m = 0;
  if (!fr.grid || !n) return 0.0f;
  if (fit(&fr.sorted, &fr.sorted_cap, n)) return 0.0f;
  for (uint32_t i = 0; i < n; i++)
    if (fr.grid[i] > 0.0f) fr.sorted[m++] = fr.grid[i];
  if (!m) return 0.0f;
  if (!(q >= 0.0f)) q = 0.0f;
  if (q > 1.0f) q = 1.0f;
  /* nearest rank: the smallest value with at least q of the values at or below it */
  uint32_t k = (uint32_t)(q * (float)m);
  if (k >= m) k = m - 1;
  return select_kth(fr.sorted, m, k);
}

void hw_colorize(float vmin, float vmax, uint32_t scale, float threshold) {
  uint32_t n = fr.width * fr.height;
  if (!fr.grid || !fr.rgba) return;
  /* the colour table with the alpha ramp applied, packed as little-endian RGBA words */
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t a = lut[4 * i + 3];
    uint32_t ramp = i < 64 ? i : 64;
    a = (a * ramp + 32) / 64;
    table[i] = lut[4 * i] | (uint32_t)lut[4 * i + 1] << 8 | (uint32_t)lut[4 * i + 2] << 16 |
               a << 24;
  }
  table[0] &= 0x00FFFFFFu; /* index 0 is always fully transparent through the ramp */

  float lo = vmin, span = vmax - vmin;
  float log_lo = 0.0f, log_span = 0.0f;
  if (scale == HW_SCALE_LOG) {
    if (!(lo > 0.0f)) lo = vmax / 1000.0f;
    log_lo = log2_fast(lo);
    log_span = log2_fast(vmax) - log_lo;
  }
  float inv = span > 0.0f ? 1.0f / span : 0.0f;
  float log_inv = log_span > 0.0f ? 1.0f / log_span : 0.0f;
  const float *g = fr.grid;
  for (uint32_t i = 0; i < n; i++) {
    float v = g[i];
    if (!(v > 0.0f) || v < threshold) {
      fr.rgba[i] = 0;
      continue;
    }
    float t;
    if (scale == HW_SCALE_LOG)
      t = v > lo ? (log2_fast(v) - log_lo) * log_inv : 0.0f;
    else
      t = (v - lo) * inv;
    if (span <= 0.0f) t = v >= vmax ? 1.0f : 0.0f;
    t = t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
    if (scale == HW_SCALE_SQRT) t = __builtin_sqrtf(t);
    fr.rgba[i] = table[(uint32_t)(t * 255.0f + 0.5f)];
  }
}

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

/* exp for x <= 0: the footprint's taps and fractional zoom scales (a few calls per frame). */
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
  /* a polynomial for ln(m) on [1, 2) (max error ~5e-4), scaled to log2 */
  float p = -1.7417939f + (2.8212026f + (-1.4699568f + (0.44717955f - 0.056570851f * m) * m) * m) * m;
  return e + p * 1.44269504f;
}

/* exp2 for time decay, float precision: 2^x = 2^floor(x) * 2^frac, the fraction by a
 * polynomial (relative error ~2e-7 on [0, 1)). */
static inline float exp2_fast(float x) {
  if (x < -126.0f) return 0.0f;
  if (x > 127.0f) x = 127.0f;
  float fl = __builtin_floorf(x), f = x - fl;
  float p = 1.0f + f * (0.69314720f + f * (0.24022652f + f * (0.055504087f +
            f * (0.0096788410f + f * 0.0013391333f))));
  union { float f; uint32_t u; } v;
  v.u = (uint32_t)((int32_t)fl + 127) << 23;
  return p * v.f;
}

/* ---- Points ------------------------------------------------------------------------------ */

#define STAGE_ROWS 65536u
/* y of a point without a position (NaN coordinates): never drawn */
#define NO_POSITION 0xFFFFFFFFu

static double stage_lon[STAGE_ROWS];
static double stage_lat[STAGE_ROWS];
static double stage_time[STAGE_ROWS];
static float stage_weight[STAGE_ROWS];
static uint8_t lut[256 * 4];

static uint32_t *pt_x, *pt_y; /* fixed-point Web Mercator (heat.h) */
static float *pt_w;           /* NULL while every weight is 1 */
static double *pt_t;          /* NULL while no row has a time */
static uint32_t pt_count, pt_capacity;
/* Whether the times held never decrease, so a time window is one run of rows. */
static int pt_t_sorted = 1;
/* Rows [0, sp_sorted) are in spatial order (see "Spatial order"); the rest, the tail, are in
 * the order they came. pt_seq numbers rows in arrival order once rows have been reordered, so
 * that the oldest can still be dropped. */
static uint32_t sp_sorted;
static uint32_t *pt_seq;
static uint32_t seq_next;
static void spatial_forget(void);
static int arrival_order(void);

uint32_t hw_abi_version(void) { return HW_ABI_VERSION; }
uint32_t hw_stage_capacity(void) { return STAGE_ROWS; }
double *hw_stage_lon(void) { return stage_lon; }
double *hw_stage_lat(void) { return stage_lat; }
double *hw_stage_time(void) { return stage_time; }
float *hw_stage_weight(void) { return stage_weight; }
uint8_t *hw_lut(void) { return lut; }
uint32_t hw_points_count(void) { return pt_count; }
uint32_t hw_memory_bytes(void) { return (uint32_t)__builtin_wasm_memory_size(0) * 65536u; }

/* Moves `count` live elements of `size` bytes into a new buffer of `capacity` elements. */
static void *regrow(void *old, uint32_t count, uint32_t capacity, uint32_t size) {
  void *p = hw_malloc(capacity * size);
  if (!p) return NULL;
  if (old) {
    __builtin_memcpy(p, old, count * size);
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

static int ensure_times(void) {
  if (pt_t) return 0;
  pt_t = hw_malloc(pt_capacity * 8u);
  if (!pt_t) return -1;
  for (uint32_t i = 0; i < pt_count; i++) pt_t[i] = __builtin_nan("");
  pt_t_sorted = pt_count == 0;
  return 0;
}

int32_t hw_points_reserve(uint32_t capacity) {
  if (capacity <= pt_capacity) return 0;
  if (capacity > 0x1FFFFFFFu) return -1;
  uint32_t *x = regrow(pt_x, pt_count, capacity, 4);
  if (!x) return -1;
  pt_x = x;
  uint32_t *y = regrow(pt_y, pt_count, capacity, 4);
  if (!y) return -1;
  pt_y = y;
  if (pt_w) {
    float *w = regrow(pt_w, pt_count, capacity, 4);
    if (!w) return -1;
    pt_w = w;
  }
  if (pt_t) {
    double *t = regrow(pt_t, pt_count, capacity, 8);
    if (!t) return -1;
    pt_t = t;
  }
  if (pt_seq) {
    uint32_t *q = regrow(pt_seq, pt_count, capacity, 4);
    if (!q) return -1;
    pt_seq = q;
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
  if ((flags & HW_HAS_TIME) && (arrival_order() || ensure_times())) return -1;

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
  if (pt_t) {
    double *ts = pt_t + pt_count;
    if (flags & HW_HAS_TIME) {
      __builtin_memcpy(ts, stage_time, n * 8u);
      double prev = pt_count ? pt_t[pt_count - 1] : -__builtin_inf();
      for (uint32_t i = 0; i < n && pt_t_sorted; i++) {
        if (!(ts[i] >= prev)) pt_t_sorted = 0; /* a decrease, or NaN */
        prev = ts[i];
      }
    } else {
      for (uint32_t i = 0; i < n; i++) ts[i] = __builtin_nan("");
      if (n) pt_t_sorted = 0;
    }
  }
  if (pt_seq)
    for (uint32_t i = pt_count; i < total; i++) pt_seq[i] = seq_next++;
  pt_count = total;
  return (int32_t)pt_count;
}

static void spatial_compact(uint32_t cut);

uint32_t hw_points_drop_front(uint32_t n) {
  if (n >= pt_count) {
    hw_points_clear();
    return 0;
  }
  if (sp_sorted) { /* rows were reordered: drop by arrival number instead of position */
    /* the rows held arrived as numbers [seq_next - pt_count, seq_next): drop the first n */
    spatial_compact(seq_next - pt_count + n);
    return pt_count;
  }
  uint32_t left = pt_count - n;
  __builtin_memmove(pt_x, pt_x + n, left * 4u);
  __builtin_memmove(pt_y, pt_y + n, left * 4u);
  if (pt_w) __builtin_memmove(pt_w, pt_w + n, left * 4u);
  if (pt_t) __builtin_memmove(pt_t, pt_t + n, left * 8u);
  if (pt_seq) __builtin_memmove(pt_seq, pt_seq + n, left * 4u);
  pt_count = left;
  return left;
}

void hw_points_clear(void) {
  pt_count = 0;
  pt_t_sorted = 1;
  seq_next = 0;
  spatial_forget();
}

/* ---- Spatial order ------------------------------------------------------------------------
 * Points without times are kept in Morton (Z) order of their level-12 cell (the world cut into
 * 4096 x 4096 cells), which gives two shortcuts:
 *  - a tile index: the rows of each of the 256 x 256 level-8 tiles are one run, so a frame
 *    visits only the tiles it meets;
 *  - a pyramid: for levels 4..12, each non-empty cell's sum, count and largest weight. A
 *    zoomed-out frame whose grid cells hold many level cells splats cells instead of points,
 *    so its cost follows the cells in view, not the points.
 * Rows that arrive later form a tail in arrival order, splatted row by row, until it is an
 * eighth of the sorted rows; then everything is sorted again (O(N), in place). Points with
 * times stay in arrival (time) order instead, where a time window is one run of rows. */

#define PYR_MIN 4
#define PYR_MAX 12

static int fit(void *buf, uint32_t *cap, uint32_t count);

typedef struct Level {
  uint32_t n, cap;
  uint32_t *cx, *cy;   /* cell coordinates at this level */
  float *sum, *cnt, *mx;
} Level;

static Level pyr[PYR_MAX + 1];
static uint32_t *tile_start; /* 65537 row offsets into the sorted rows, by level-8 Morton key */
static uint32_t *sort_key;
static uint32_t sort_key_cap;

/* Interleaves the low 12 bits of x (even bits) and y (odd bits). */
static inline uint32_t morton12(uint32_t x, uint32_t y) {
  x &= 0xFFF;
  y &= 0xFFF;
  x = (x | (x << 8)) & 0x00FF00FFu;
  x = (x | (x << 4)) & 0x0F0F0F0Fu;
  x = (x | (x << 2)) & 0x33333333u;
  x = (x | (x << 1)) & 0x55555555u;
  y = (y | (y << 8)) & 0x00FF00FFu;
  y = (y | (y << 4)) & 0x0F0F0F0Fu;
  y = (y | (y << 2)) & 0x33333333u;
  y = (y | (y << 1)) & 0x55555555u;
  return x | (y << 1);
}

static inline uint32_t cell_key(uint32_t i) {
  if (pt_y[i] == NO_POSITION) return 1u << 24; /* after every cell */
  return morton12(pt_x[i] >> 20, pt_y[i] >> 20);
}

static inline void swap_rows(uint32_t a, uint32_t b) {
  uint32_t t;
  t = pt_x[a]; pt_x[a] = pt_x[b]; pt_x[b] = t;
  t = pt_y[a]; pt_y[a] = pt_y[b]; pt_y[b] = t;
  t = pt_seq[a]; pt_seq[a] = pt_seq[b]; pt_seq[b] = t;
  t = sort_key[a]; sort_key[a] = sort_key[b]; sort_key[b] = t;
  if (pt_w) {
    float u = pt_w[a];
    pt_w[a] = pt_w[b];
    pt_w[b] = u;
  }
  if (pt_t) {
    double u = pt_t[a];
    pt_t[a] = pt_t[b];
    pt_t[b] = u;
  }
}

/* In-place MSD radix sort of rows [lo, hi) by sort_key, 8 bits at a time from `shift`
 * ("American flag sort"): no second copy of the points is ever made. */
static void flag_sort(uint32_t lo, uint32_t hi, int shift) {
  if (hi - lo < 24) {
    for (uint32_t i = lo + 1; i < hi; i++)
      for (uint32_t j = i; j > lo && sort_key[j - 1] > sort_key[j]; j--) swap_rows(j - 1, j);
    return;
  }
  uint32_t count[256] = {0}, start[257], next[256];
  for (uint32_t i = lo; i < hi; i++) count[(sort_key[i] >> shift) & 0xFF]++;
  start[0] = lo;
  for (int b = 0; b < 256; b++) start[b + 1] = start[b] + count[b];
  for (int b = 0; b < 256; b++) next[b] = start[b];
  for (int b = 0; b < 256; b++) {
    while (next[b] < start[b + 1]) {
      uint32_t i = next[b], d = (sort_key[i] >> shift) & 0xFF;
      if (d == (uint32_t)b)
        next[b]++;
      else
        swap_rows(i, next[d]++);
    }
  }
  if (shift == 0) return;
  for (int b = 0; b < 256; b++)
    if (start[b + 1] - start[b] > 1) flag_sort(start[b], start[b + 1], shift - 8);
}

static int ensure_seq(void) {
  if (pt_seq) return 0;
  pt_seq = hw_malloc(pt_capacity * 4u);
  if (!pt_seq) return -1;
  for (uint32_t i = 0; i < pt_count; i++) pt_seq[i] = i;
  seq_next = pt_count;
  return 0;
}

static int level_fit(Level *l, uint32_t n) {
  if (n <= l->cap && l->cx) return 0;
  hw_free(l->cx);
  l->cx = hw_malloc(n * 20u);
  if (!l->cx) {
    l->cap = l->n = 0;
    return -1;
  }
  l->cap = n;
  l->cy = l->cx + n;
  l->sum = (float *)(l->cy + n);
  l->cnt = l->sum + n;
  l->mx = l->cnt + n;
  return 0;
}

/* The tile index and the pyramid of the sorted rows; sort_key must hold their keys. */
static void spatial_index(void) {
  uint32_t n = sp_sorted;
  for (int l = PYR_MIN; l <= PYR_MAX; l++) pyr[l].n = 0;
  if (!tile_start) tile_start = hw_malloc(65537u * 4u);
  if (!tile_start) return;
  for (uint32_t t = 0, i = 0; t <= 65536u; t++) {
    while (i < n && sort_key[i] < (1u << 24) && (sort_key[i] >> 8) < t) i++;
    tile_start[t] = i;
  }
  /* count each level's cells in one pass, then build the finest level whose cells are at most
   * a quarter of the points (a pyramid bigger than that saves little), coarser ones from it */
  uint32_t cells[PYR_MAX + 1] = {0}, prev = 0xFFFFFFFFu, drawn = 0;
  for (uint32_t i = 0; i < n && sort_key[i] < (1u << 24); i++, drawn++) {
    uint32_t diff = sort_key[i] ^ prev;
    for (int l = PYR_MIN; l <= PYR_MAX; l++)
      if (prev == 0xFFFFFFFFu || (diff >> (2 * (PYR_MAX - l)))) cells[l]++;
    prev = sort_key[i];
  }
  int base = 0;
  for (int l = PYR_MAX; l >= PYR_MIN; l--)
    if (cells[l] <= drawn / 4) {
      base = l;
      break;
    }
  if (!base || level_fit(&pyr[base], cells[base])) return;
  Level *b = &pyr[base];
  int shift = 2 * (PYR_MAX - base);
  uint32_t k = 0;
  for (uint32_t i = 0; i < drawn; i++) {
    uint32_t key = sort_key[i] >> shift;
    float w = pt_w ? pt_w[i] : 1.0f;
    if (i == 0 || key != (sort_key[i - 1] >> shift)) {
      b->cx[k] = pt_x[i] >> (32 - base);
      b->cy[k] = pt_y[i] >> (32 - base);
      b->sum[k] = b->cnt[k] = b->mx[k] = 0.0f;
      k++;
    }
    b->sum[k - 1] += w;
    b->cnt[k - 1] += 1.0f;
    b->mx[k - 1] = w > b->mx[k - 1] ? w : b->mx[k - 1];
  }
  b->n = k;
  for (int l = base - 1; l >= PYR_MIN; l--) {
    Level *f = &pyr[l + 1], *c = &pyr[l];
    if (level_fit(c, cells[l])) return;
    uint32_t m = 0;
    for (uint32_t i = 0; i < f->n; i++) {
      uint32_t cx = f->cx[i] >> 1, cy = f->cy[i] >> 1;
      if (m == 0 || cx != c->cx[m - 1] || cy != c->cy[m - 1]) {
        c->cx[m] = cx;
        c->cy[m] = cy;
        c->sum[m] = c->cnt[m] = c->mx[m] = 0.0f;
        m++;
      }
      c->sum[m - 1] += f->sum[i];
      c->cnt[m - 1] += f->cnt[i];
      c->mx[m - 1] = f->mx[i] > c->mx[m - 1] ? f->mx[i] : c->mx[m - 1];
    }
    c->n = m;
  }
}

static int keys_for(uint32_t n) {
  if (fit(&sort_key, &sort_key_cap, n ? n : 1)) return -1;
  return 0;
}

static void keys_done(void) {
  hw_free(sort_key);
  sort_key = NULL;
  sort_key_cap = 0;
}

/* Sorts every row into spatial order when the unsorted tail has grown; points with times
 * are never reordered. Returns whether the spatial shortcuts may be used. */
static int spatial_ready(void) {
  if (pt_t) return 0;
  uint32_t tail = pt_count - sp_sorted;
  if (tail >= 4096 && tail * 8 >= sp_sorted) {
    if (ensure_seq() || keys_for(pt_count)) return sp_sorted > 0;
    for (uint32_t i = 0; i < pt_count; i++) sort_key[i] = cell_key(i);
    flag_sort(0, pt_count, 24);
    sp_sorted = pt_count;
    spatial_index();
    keys_done();
  }
  return sp_sorted > 0;
}

/* Removes rows whose arrival number is below `cut`, keeping the order of the rest. */
static void spatial_compact(uint32_t cut) {
  uint32_t k = 0, sorted = 0;
  for (uint32_t i = 0; i < pt_count; i++) {
    if (pt_seq[i] < cut) continue;
    pt_x[k] = pt_x[i];
    pt_y[k] = pt_y[i];
    pt_seq[k] = pt_seq[i];
    if (pt_w) pt_w[k] = pt_w[i];
    if (pt_t) pt_t[k] = pt_t[i];
    if (i < sp_sorted) sorted++;
    k++;
  }
  pt_count = k;
  sp_sorted = sorted;
  if (sp_sorted && !keys_for(sp_sorted)) {
    for (uint32_t i = 0; i < sp_sorted; i++) sort_key[i] = cell_key(i);
    spatial_index();
    keys_done();
  } else {
    for (int l = PYR_MIN; l <= PYR_MAX; l++) pyr[l].n = 0;
  }
}

/* Puts rows back in arrival order (when times arrive for points held in spatial order). */
static int arrival_order(void) {
  if (!sp_sorted) return 0;
  if (keys_for(pt_count)) return -1;
  for (uint32_t i = 0; i < pt_count; i++) sort_key[i] = pt_seq[i];
  flag_sort(0, pt_count, 24);
  keys_done();
  spatial_forget();
  return 0;
}

static void spatial_forget(void) {
  sp_sorted = 0;
  for (int l = PYR_MIN; l <= PYR_MAX; l++) pyr[l].n = 0;
}

/* ---- Time window -------------------------------------------------------------------------- */

static double win_t0 = -__builtin_inf(), win_t1 = __builtin_inf(), win_half_life = 0.0;
static int win_bounded;

void hw_time_window(double t0, double t1, double half_life) {
  win_bounded = (t0 == t0) || (t1 == t1);
  win_t0 = t0 == t0 ? t0 : -__builtin_inf();
  win_t1 = t1 == t1 ? t1 : __builtin_inf();
  win_half_life = half_life > 0.0 ? half_life : 0.0;
}

/* The rows a frame visits, and how it treats each. */
typedef struct Rows {
  uint32_t begin, end;
  int check_time; /* test each row's time against the window */
  int decay;      /* multiply weights by the half-life decay */
  double t_ref;   /* decay reference time */
  float decay_k;  /* -1 / half_life */
} Rows;

/* First row whose time is >= t (times sorted), by bisection. */
static uint32_t lower_bound(double t) {
  uint32_t lo = 0, hi = pt_count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (pt_t[mid] < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static Rows rows_in_window(void) {
  Rows r = {0, pt_count, 0, 0, 0.0, 0.0f};
  int timed = win_bounded || win_half_life > 0.0;
  if (!timed) return r;
  if (!pt_t) { /* no times held: a bounded window shows nothing */
    if (win_bounded) r.end = 0;
    return r;
  }
  if (win_bounded) {
    if (pt_t_sorted) {
      r.begin = win_t0 == -__builtin_inf() ? 0 : lower_bound(win_t0);
      r.end = win_t1 == __builtin_inf() ? pt_count : lower_bound(win_t1);
      if (r.end < r.begin) r.end = r.begin;
    } else {
      r.check_time = 1;
    }
  }
  if (win_half_life > 0.0) {
    r.decay = 1;
    r.decay_k = (float)(-1.0 / win_half_life);
    if (win_t1 != __builtin_inf()) {
      r.t_ref = win_t1;
    } else {
      double latest = -__builtin_inf();
      for (uint32_t i = 0; i < pt_count; i++) latest = pt_t[i] > latest ? pt_t[i] : latest;
      r.t_ref = latest;
    }
  }
  return r;
}

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

typedef struct Frame {
  uint32_t width, height; /* the visible frame */
  uint32_t margin;        /* padding on every side in pixels: the footprint's reach */
  uint32_t f;             /* pixels per cell side (1, 2, 4, ...) */
  uint32_t gw, gh;        /* grid size in cells */
  float *pad;             /* the grid: density per cell */
  float *aux;             /* grid-sized scratch: the blur's target */
  float *cnt;             /* grid-sized counts, for "mean" only */
  float *line;            /* scratch rows for the blur and the read-back */
  float *grid;            /* visible density, width*height */
  uint32_t *rgba;         /* visible colours, width*height */
  float *sorted;          /* scratch for quantiles, width*height */
  uint32_t pad_cap, aux_cap, cnt_cap, line_cap, grid_cap, rgba_cap, sorted_cap;
  /* the last frame's placement, for hw_frame_count_near */
  double x0, y0, zoom;
  int placed;
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

void hw_release(void) {
  hw_free(pt_x);
  hw_free(pt_y);
  hw_free(pt_w);
  hw_free(pt_t);
  pt_x = pt_y = NULL;
  pt_w = NULL;
  pt_t = NULL;
  pt_count = pt_capacity = 0;
  pt_t_sorted = 1;
  hw_free(pt_seq);
  pt_seq = NULL;
  seq_next = 0;
  spatial_forget();
  for (int l = PYR_MIN; l <= PYR_MAX; l++) {
    hw_free(pyr[l].cx);
    pyr[l] = (Level){0};
  }
  hw_free(tile_start);
  tile_start = NULL;
  hw_free(fr.pad);
  hw_free(fr.aux);
  hw_free(fr.cnt);
  hw_free(fr.line);
  hw_free(fr.grid);
  hw_free(fr.rgba);
  hw_free(fr.sorted);
  __builtin_memset(&fr, 0, sizeof fr);
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

typedef float v4f __attribute__((vector_size(16)));
typedef float v4f_u __attribute__((vector_size(16), aligned(4)));

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
 * half a world, the other copies of the world are added explicitly. */

typedef struct Splat {
  uint32_t ox;       /* padded frame's left edge, fixed point, floor */
  double ox_frac_px; /* what floor() removed, in pixels */
  double oy_px;      /* padded frame's top edge, world pixels */
  double s;          /* pixels per fixed-point unit */
  double world;      /* world width in pixels */
  double pw, ph;     /* padded frame size in pixels */
  double inv_f;      /* cells per pixel */
  int copies;        /* world copies to try beyond the first */
} Splat;

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

static Splat splat_setup(double x0, double y0, double zoom, uint32_t margin, uint32_t width,
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

/* Calls BODY with (px, py), the position in the padded frame in pixels of the fixed-point
 * point (X, Y), once per world copy that meets the padded frame. */
#define FOR_EACH_XY(sp, X, Y, BODY)                                                     \
  do {                                                                                  \
    uint32_t yy_ = (Y);                                                                 \
    if (yy_ == NO_POSITION) break;                                                      \
    double py = (double)yy_ * (sp).s - (sp).oy_px;                                      \
    if (!(py >= 0.0 && py < (sp).ph)) break;                                            \
    double px0_ = (double)(int32_t)((X) - (sp).ox) * (sp).s - (sp).ox_frac_px;          \
    if (!(sp).copies) {                                                                 \
      double px = px0_;                                                                 \
      if (px >= 0.0 && px < (sp).pw) BODY;                                              \
      break;                                                                            \
    }                                                                                   \
    /* px0_ >= -world / 2, so one world to the right is the first copy at or past 0 */   \
    for (double px = px0_ < 0.0 ? px0_ + (sp).world : px0_; px < (sp).pw; px += (sp).world) \
      BODY;                                                                             \
  } while (0)

/* The same for row i of the points. */
#define FOR_EACH_POSITION(sp, i, BODY) FOR_EACH_XY(sp, pt_x[i], pt_y[i], BODY)

/* Deposits w into the cell under (px, py) at full resolution. */
#define DEPOSIT_CELL(g, gw, px, py, OP) OP((g)[(uint32_t)(py) * (gw) + (uint32_t)(px)])

/* Adds w to the f x f-pixel cell under (px, py). */
#define DEPOSIT_COARSE(g, gw, inv_f, px, py, OP) \
  OP((g)[(uint32_t)((py) * (inv_f)) * (gw) + (uint32_t)((px) * (inv_f))])

/* The weight of row i in this frame (weights, then time decay), or < 0 to skip the row. */
static inline float row_weight(const Rows *rows, uint32_t i) {
  float w = pt_w ? pt_w[i] : 1.0f;
  if (rows->check_time && !(pt_t[i] >= win_t0 && pt_t[i] < win_t1)) return -1.0f;
  if (rows->decay) w *= exp2_fast((float)(rows->t_ref - pt_t[i]) * rows->decay_k);
  return w;
}

static void splat(const Splat *sp, uint32_t aggregation, const Rows *rows) {
  float *g = fr.pad, *c = fr.cnt;
  uint32_t gw = fr.gw;
  double inv_f = sp->inv_f;
  int full = fr.f == 1, plain = !rows->check_time && !rows->decay;
  const float *w = pt_w;
#define ADD1(cell) ((cell) += 1.0f)
#define ADDW(cell) ((cell) += w[i])
  if (full && plain && (aggregation == HW_AGG_COUNT || (aggregation == HW_AGG_SUM && !w))) {
    for (uint32_t i = rows->begin; i < rows->end; i++)
      FOR_EACH_POSITION(*sp, i, DEPOSIT_CELL(g, gw, px, py, ADD1));
    return;
  }
  if (full && plain && aggregation == HW_AGG_SUM) {
    for (uint32_t i = rows->begin; i < rows->end; i++)
      FOR_EACH_POSITION(*sp, i, DEPOSIT_CELL(g, gw, px, py, ADDW));
    return;
  }
  if (!full && plain && (aggregation == HW_AGG_COUNT || (aggregation == HW_AGG_SUM && !w))) {
    for (uint32_t i = rows->begin; i < rows->end; i++)
      FOR_EACH_POSITION(*sp, i, DEPOSIT_COARSE(g, gw, inv_f, px, py, ADD1));
    return;
  }
  if (!full && plain && aggregation == HW_AGG_SUM) {
    for (uint32_t i = rows->begin; i < rows->end; i++)
      FOR_EACH_POSITION(*sp, i, DEPOSIT_COARSE(g, gw, inv_f, px, py, ADDW));
    return;
  }
  /* everything else: one general loop */
  for (uint32_t i = rows->begin; i < rows->end; i++) {
    float wi = row_weight(rows, i);
    if (wi < 0.0f) continue;
    float value = aggregation == HW_AGG_COUNT ? (rows->decay ? wi / (pt_w ? pt_w[i] : 1.0f) : 1.0f)
                                              : wi;
    if (aggregation == HW_AGG_MAX) {
      FOR_EACH_POSITION(*sp, i, {
        float *cell = g + (uint32_t)(py * inv_f) * gw + (uint32_t)(px * inv_f);
        *cell = *cell > value ? *cell : value;
      });
    } else {
      FOR_EACH_POSITION(*sp, i, {
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
  const Level *lv = &pyr[l];
  float *g = fr.pad, *c = fr.cnt;
  uint32_t gw = fr.gw, shift = 32 - (uint32_t)l, half = 1u << (31 - l);
  double inv_f = sp->inv_f;
  for (uint32_t i = 0; i < lv->n; i++) {
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

/* A frame over points in spatial order: pyramid cells when they are at most half a grid cell
 * (radius > 0 only: radius 0 promises exact binning), else the rows of the tiles in view; then
 * the unsorted tail row by row. */
static void splat_spatial(const Splat *sp, uint32_t aggregation, const Rows *rows, double x0,
                          double y0, float radius) {
  Rows part = *rows;
  /* "max" keeps points: its spread is steep on the flanks, where moving a point by a quarter
   * of a cell changes the value by up to a fifth */
  if (radius > 0.0f && aggregation != HW_AGG_MAX) {
    int l = PYR_MIN;
    while (l <= PYR_MAX && sp->world / (double)(1u << l) > fr.f * 0.5) l++;
    if (l <= PYR_MAX && pyr[l].n) {
      splat_level(sp, aggregation, l);
      part.begin = sp_sorted;
      part.end = pt_count;
      splat(sp, aggregation, &part);
      return;
    }
  }
  double tile = sp->world / 256.0;
  double left = x0 - fr.margin, top = y0 - fr.margin;
  int64_t tx0 = (int64_t)f64_floor(left / tile), tx1 = (int64_t)f64_floor((left + sp->pw) / tile);
  int64_t ty0 = (int64_t)f64_floor(top / tile), ty1 = (int64_t)f64_floor((top + sp->ph) / tile);
  if (ty0 < 0) ty0 = 0;
  if (ty1 > 255) ty1 = 255;
  if (tx1 - tx0 + 1 >= 256 || (tx1 - tx0 + 1) * (ty1 - ty0 + 1) > 4096) {
    part.begin = 0;
    part.end = pt_count;
    splat(sp, aggregation, &part);
    return;
  }
  for (int64_t ty = ty0; ty <= ty1; ty++) {
    for (int64_t tx = tx0; tx <= tx1; tx++) {
      uint32_t t = morton12((uint32_t)(tx & 255), (uint32_t)ty);
      part.begin = tile_start[t];
      part.end = tile_start[t + 1];
      if (part.end > part.begin) splat(sp, aggregation, &part);
    }
  }
  part.begin = sp_sorted;
  part.end = pt_count;
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

float hw_density(double x0, double y0, double zoom, uint32_t width, uint32_t height,
                 float radius, uint32_t aggregation) {
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
  Taps taps = gaussian_taps(sigma_cells, !max);
  uint32_t margin = radius > 0.0f ? (taps.reach + 1) * f : 0;

  if (frame_alloc(width, height, margin, f)) return -1.0f;
  uint32_t cells = fr.gw * fr.gh;
  __builtin_memset(fr.pad, 0, cells * 4u);
  if (aggregation == HW_AGG_MEAN) {
    if (fit(&fr.cnt, &fr.cnt_cap, cells)) return -1.0f;
    __builtin_memset(fr.cnt, 0, cells * 4u);
  }
  Rows rows = rows_in_window();
  Splat sp = splat_setup(x0, y0, zoom, margin, width, height, f);
  fr.x0 = x0;
  fr.y0 = y0;
  fr.zoom = zoom;
  fr.placed = 1;
  if (!pt_t && rows.end > rows.begin && spatial_ready())
    splat_spatial(&sp, aggregation, &rows, x0, y0, radius);
  else
    splat(&sp, aggregation, &rows);

  int mean = aggregation == HW_AGG_MEAN;
  if (taps.reach) {
    spread(fr.pad, &taps, max);
    if (mean) spread(fr.cnt, &taps, 0);
  }
  /* "mean" is left empty where the spread count is below one point's density at `radius`
   * (e^-2 of its peak), so its footprints fade like the others' (heat.h) */
  float cnt_min = 0.5f;
  if (mean && radius > 0.0f) cnt_min = (float)(0.1353352832 / (6.283185307 * sigma * sigma));

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

uint32_t hw_frame_count_near(double px, double py, float radius) {
  if (!fr.placed) return 0;
  Rows rows = rows_in_window();
  uint32_t m = (uint32_t)(radius > 0.0f ? radius + 2.0f : 2.0f);
  Splat sp = splat_setup(fr.x0 + px - m, fr.y0 + py - m, fr.zoom, 0, 2 * m, 2 * m, 1);
  double r2 = (double)radius * radius;
  uint32_t n = 0;
  for (uint32_t i = rows.begin; i < rows.end; i++) {
    if (row_weight(&rows, i) < 0.0f) continue;
    FOR_EACH_POSITION(sp, i, {
      double dx = px - m;
      double dy = py - m;
      if (dx * dx + dy * dy <= r2) n++;
    });
  }
  return n;
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
  float rank = q * (float)m;
  uint32_t k = (uint32_t)rank;
  if ((float)k < rank) k++; /* ceil */
  k = k ? k - 1 : 0;
  if (k >= m) k = m - 1;
  return select_kth(fr.sorted, m, k);
}

void hw_colorize(float vmin, float vmax, uint32_t scale, float threshold) {
  uint32_t n = fr.width * fr.height;
  if (!fr.grid || !fr.rgba) return;
  /* the colour table with the alpha ramp applied, packed as little-endian RGBA words;
   * entry 256 is "transparent", for pixels without heat */
  uint32_t table[257];
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t a = lut[4 * i + 3];
    uint32_t ramp = i < 64 ? i : 64;
    a = (a * ramp + 32) / 64;
    table[i] = lut[4 * i] | (uint32_t)lut[4 * i + 1] << 8 | (uint32_t)lut[4 * i + 2] << 16 |
               a << 24;
  }
  table[256] = 0;

  float lo = vmin, span = vmax - vmin;
  float log_lo = 0.0f, log_span = 0.0f;
  if (scale == HW_SCALE_LOG) {
    if (!(lo > 0.0f)) lo = vmax / 1000.0f;
    log_lo = log2_fast(lo);
    log_span = log2_fast(vmax) - log_lo;
  }
  float inv = span > 0.0f ? 1.0f / span : 0.0f;
  float log_inv = log_span > 0.0f ? 1.0f / log_span : 0.0f;
  /* values at or below zero, and below the threshold, are transparent */
  float floor_v = threshold > 0.0f ? threshold : 0.0f;
  const float *g = fr.grid;
  uint32_t start = 0;
  if (span > 0.0f && scale != HW_SCALE_LOG) {
    /* linear and sqrt: four pixels at a time, the table look-ups stay scalar */
    typedef int32_t v4i __attribute__((vector_size(16)));
    const v4f zero = {0, 0, 0, 0}, one = {1, 1, 1, 1};
    const v4f lo4 = {lo, lo, lo, lo}, inv4 = {inv, inv, inv, inv};
    const v4f fl4 = {floor_v, floor_v, floor_v, floor_v};
    const v4f k255 = {255.0f, 255.0f, 255.0f, 255.0f}, half = {0.5f, 0.5f, 0.5f, 0.5f};
    const v4i none = {256, 256, 256, 256};
    for (; start + 4 <= n; start += 4) {
      v4f v = *(const v4f_u *)(g + start);
      v4i empty = (v <= zero) | (v < fl4);
      v4f t = __builtin_wasm_pmin_f32x4(__builtin_wasm_pmax_f32x4((v - lo4) * inv4, zero), one);
      if (scale == HW_SCALE_SQRT) t = __builtin_elementwise_sqrt(t);
      v4i index = __builtin_convertvector(t * k255 + half, v4i);
      index = (empty & none) | (~empty & index);
      uint32_t *out = fr.rgba + start;
      out[0] = table[index[0]];
      out[1] = table[index[1]];
      out[2] = table[index[2]];
      out[3] = table[index[3]];
    }
  }
  for (uint32_t i = start; i < n; i++) {
    float v = g[i];
    uint32_t index;
    if (!(v > 0.0f) || v < floor_v) {
      index = 256;
    } else {
      float t;
      if (span <= 0.0f)
        t = v >= vmax ? 1.0f : 0.0f;
      else if (scale == HW_SCALE_LOG)
        t = v > lo ? (log2_fast(v) - log_lo) * log_inv : 0.0f;
      else
        t = (v - lo) * inv;
      t = t < 0.0f ? 0.0f : (t > 1.0f ? 1.0f : t);
      if (scale == HW_SCALE_SQRT) t = __builtin_sqrtf(t);
      index = (uint32_t)(t * 255.0f + 0.5f);
    }
    fr.rgba[i] = table[index];
  }
}

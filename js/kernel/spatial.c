/* spatial.c — points without times in spatial order: tile index and pyramid. Calls points.c
 * and memory.c only (the levels' streaming upkeep is window.c's, above it). */
#include "kernel.h"
#include "maths.h"

static uint32_t sp_sorted;
/* Set by the first hw_points_drop_front: rows then stay in arrival order until cleared. */
static int sp_streaming;
/* Whether a frame has been drawn since the data were loaded: the first frame after a load
 * does not wait for the first sort (hw_points_index), so data show as soon as they arrive. */
static int sp_frame_drawn;
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



static Level pyr[PYR_MAX + 1];
static uint32_t *tile_start; /* 65537 row offsets into the sorted rows, by level-8 Morton key */
/* flag_sort's keys are computed from the row when read, never stored: a key buffer would be
 * 4 B a row more at its high-water mark, which WebAssembly memory never gives back. */

const Level *pyramid(int l) { return &pyr[l]; }
Level *spatial_levels(void) { return pyr; }
uint32_t spatial_sorted(void) { return sp_sorted; }
const uint32_t *spatial_tiles(void) { return tile_start; }
int spatial_streaming(void) { return sp_streaming; }

static inline uint32_t xy_key(uint32_t x, uint32_t y) {
  if (y == NO_POSITION) return 1u << 24; /* after every cell */
  return morton12(x >> 20, y >> 20);
}

static inline uint32_t cell_key(const Points *p, uint32_t i) { return xy_key(p->x[i], p->y[i]); }

static inline uint32_t sort_key(const Points *p, uint32_t i) { return cell_key(p, i); }

static inline void swap_rows(const Points *p, uint32_t a, uint32_t b) {
  uint32_t t;
  t = p->x[a]; p->x[a] = p->x[b]; p->x[b] = t;
  t = p->y[a]; p->y[a] = p->y[b]; p->y[b] = t;
  if (p->w) {
    float u = p->w[a];
    p->w[a] = p->w[b];
    p->w[b] = u;
  }
  if (p->t) {
    double u = p->t[a];
    p->t[a] = p->t[b];
    p->t[b] = u;
  }
}

/* In-place MSD radix sort of rows [lo, hi) by sort_key(), 8 bits at a time from `shift`
 * ("American flag sort"): no second copy of the points is ever made. */
static void flag_sort(const Points *p, uint32_t lo, uint32_t hi, int shift) {
  if (hi - lo < 24) {
    for (uint32_t i = lo + 1; i < hi; i++)
      for (uint32_t j = i; j > lo && sort_key(p, j - 1) > sort_key(p, j); j--) swap_rows(p, j - 1, j);
    return;
  }
  uint32_t count[256] = {0}, start[257], next[256];
  for (uint32_t i = lo; i < hi; i++) count[(sort_key(p, i) >> shift) & 0xFF]++;
  start[0] = lo;
  for (int b = 0; b < 256; b++) start[b + 1] = start[b] + count[b];
  for (int b = 0; b < 256; b++) next[b] = start[b];
  for (int b = 0; b < 256; b++) {
    while (next[b] < start[b + 1]) {
      uint32_t i = next[b], d = (sort_key(p, i) >> shift) & 0xFF;
      if (d == (uint32_t)b)
        next[b]++;
      else
        swap_rows(p, i, next[d]++);
    }
  }
  if (shift == 0) return;
  for (int b = 0; b < 256; b++)
    if (start[b + 1] - start[b] > 1) flag_sort(p, start[b], start[b + 1], shift - 8);
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

/* The tile index and the pyramid of the sorted rows. */
static void spatial_index(void) {
  const Points *p = points();
  uint32_t n = sp_sorted;
  for (int l = PYR_MIN; l <= PYR_MAX; l++) pyr[l].n = 0;
  if (!tile_start) tile_start = hw_malloc(65537u * 4u);
  if (!tile_start) return;
  for (uint32_t t = 0, i = 0; t <= 65536u; t++) {
    while (i < n && cell_key(p, i) < (1u << 24) && (cell_key(p, i) >> 8) < t) i++;
    tile_start[t] = i;
  }
  /* count each level's cells in one pass, then build the finest level whose cells are at most
   * a quarter of the points (a pyramid bigger than that saves little), coarser ones from it */
  uint32_t cells[PYR_MAX + 1] = {0}, prev = 0xFFFFFFFFu, drawn = 0;
  for (uint32_t i = 0; i < n && cell_key(p, i) < (1u << 24); i++, drawn++) {
    uint32_t key = cell_key(p, i), diff = key ^ prev;
    for (int l = PYR_MIN; l <= PYR_MAX; l++)
      if (prev == 0xFFFFFFFFu || (diff >> (2 * (PYR_MAX - l)))) cells[l]++;
    prev = key;
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
    uint32_t key = cell_key(p, i) >> shift;
    float w = p->w ? p->w[i] : 1.0f;
    if (i == 0 || key != (cell_key(p, i - 1) >> shift)) {
      b->cx[k] = p->x[i] >> (32 - base);
      b->cy[k] = p->y[i] >> (32 - base);
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

/* Moves row `from` to row `to`. */
static inline void move_row(const Points *p, uint32_t from, uint32_t to) {
  p->x[to] = p->x[from];
  p->y[to] = p->y[from];
  if (p->w) p->w[to] = p->w[from];
}

/* Merges the tail into the sorted rows: the tail is sorted on its own, copied aside, and the
 * two runs are merged from the back, so the work is one pass over the rows rather than a
 * sort of all of them, and the extra memory is the tail's (at most an eighth of the rows:
 * spatial_ready). Returns -1 (nothing changed) if the copy cannot be had. */
static int merge_tail(const Points *p) {
  uint32_t m = sp_sorted, n = p->count - sp_sorted, cols = p->w ? 3 : 2;
  flag_sort(p, m, p->count, 24);
  uint32_t *copy = hw_malloc(n * cols * 4u);
  if (!copy) return -1;
  uint32_t *cx = copy, *cy = cx + n;
  float *cw = (float *)(cy + n);
  __builtin_memcpy(cx, p->x + m, n * 4u);
  __builtin_memcpy(cy, p->y + m, n * 4u);
  if (p->w) __builtin_memcpy(cw, p->w + m, n * 4u);
  uint32_t i = m, j = n, k = p->count; /* one past the next row to take from each run */
  while (j > 0) {
    k--;
    if (i > 0 && cell_key(p, i - 1) > xy_key(cx[j - 1], cy[j - 1])) { /* equal keys: older rows stay first */
      move_row(p, --i, k);
    } else {
      j--;
      p->x[k] = cx[j];
      p->y[k] = cy[j];
      if (p->w) p->w[k] = cw[j];
    }
  }
  hw_free(copy);
  return 0;
}

/* Brings every row into spatial order when the unsorted tail has grown to an eighth of the
 * sorted rows (so each row is merged a bounded number of times as data streams in): the first
 * time by sorting, then by merging the tail (only if `may_sort`). Points with times are never
 * reordered. Returns
 * whether the spatial shortcuts may be used (never for points with times, nor once a
 * sliding window has dropped rows: see hw_points_drop_front). */
/* A frame merges the tail once it is an eighth of the sorted rows (it pays inside the frame);
 * an idle host's hw_points_index once it is a 64th (nothing waits then, and every frame after
 * splats fewer rows one by one: at 25M rows an eighth is 3M, ~45 ms a frame). */
#define FRAME_TAIL_SHARE 8u
#define IDLE_TAIL_SHARE 64u

static int order_rows(int may_sort, uint32_t share) {
  const Points *p = points();
  if (p->t || sp_streaming) return 0;
  uint32_t tail = p->count - sp_sorted;
  if (may_sort && tail >= 4096 && (uint64_t)tail * share >= sp_sorted) {
    if (!sp_sorted)
      flag_sort(p, 0, p->count, 24);
    else if (merge_tail(p))
      flag_sort(p, 0, p->count, 24); /* no memory for the copy: sort in place instead */
    sp_sorted = p->count;
    spatial_index();
  }
  return sp_sorted > 0;
}

int spatial_ready(int may_sort) { return order_rows(may_sort, FRAME_TAIL_SHARE); }

/* Whether rows with times may be appended: only to rows in arrival order, which spatial order
 * cannot be put back into (no arrival numbers, heat.h "Memory a row"): then
 * -HW_APPEND_NEEDS_ARRIVAL_ORDER, nothing changed, and the host loads the rows again. */
int arrival_order(void) { return sp_sorted ? -(int)HW_APPEND_NEEDS_ARRIVAL_ORDER : 0; }

void spatial_forget(void) {
  sp_sorted = 0;
  for (int l = PYR_MIN; l <= PYR_MAX; l++) pyr[l].n = 0;
}

void spatial_clear(void) {
  sp_streaming = 0;
  sp_frame_drawn = 0;
  spatial_forget();
}

int spatial_stream(void) {
  int first = !sp_streaming;
  sp_streaming = 1;
  return first;
}

int spatial_frame_begins(void) {
  int may_sort = sp_sorted > 0 || sp_frame_drawn;
  sp_frame_drawn = 1;
  return may_sort;
}

int spatial_first_frame(void) { return !sp_sorted && !sp_frame_drawn; }

/* Frees the pyramid and the tile index (lifetime.c has window.c free its tables first). */
void spatial_release(void) {
  spatial_forget();
  for (int l = PYR_MIN; l <= PYR_MAX; l++) {
    hw_free(pyr[l].cx);
    pyr[l] = (Level){0};
  }
  hw_free(tile_start);
  tile_start = NULL;
}

void hw_points_index(void) {
  sp_frame_drawn = 1;
  order_rows(1, IDLE_TAIL_SHARE);
}

int spatial_tiles_in(double left, double top, double width, double height, double world,
                     TileSpan *s) {
  double tile = world / 256.0;
  s->tx0 = (int64_t)f64_floor(left / tile);
  s->tx1 = (int64_t)f64_floor((left + width) / tile);
  s->ty0 = (int64_t)f64_floor(top / tile);
  s->ty1 = (int64_t)f64_floor((top + height) / tile);
  if (s->ty0 < 0) s->ty0 = 0;
  if (s->ty1 > 255) s->ty1 = 255;
  return !(s->tx1 - s->tx0 + 1 >= 256 || (s->tx1 - s->tx0 + 1) * (s->ty1 - s->ty0 + 1) > 4096);
}

/* window.c — the pyramid of a sliding window.
 *
 * Once hw_points_drop_front has been called, rows stay in arrival order (points.c), so there
 * is no tile index; but the pyramid's per-cell sums and counts can follow every append and
 * every drop, cell by cell, through a hash table of each level's cells. Zoomed-out frames then
 * splat cells (frame.c) and cost in proportion to the cells in view, as in spatial order.
 * Cells emptied by drops stay in place (count 0, skipped by frames) until there are as many of
 * them as live ones; then the level is rebuilt from the rows. A level that grows past a quarter
 * of the points is given up (frames use the rows instead), as spatial.c does. The levels are
 * spatial.c's (spatial_levels()); while rows stream, this room alone changes them. Calls
 * spatial.c, points.c and memory.c.
 *
 * A row is looked up in the hash table of its finest level only: each cell keeps the index of
 * its parent cell one level coarser (up[]), so the coarser levels are reached by following
 * those links, not by eight more hash lookups (at 1M rows/s appended and as many dropped, the
 * lookups were the page's largest cost of taking a delta). Every cell receives the same
 * additions in the same order as by a lookup per level, so the sums are the same floats. */
#include "kernel.h"

/* Whether the levels follow the rows (set by sw_build, cleared by sw_reset). */
static int sw_on;

#define NO_CELL 0xFFFFFFFFu
/* up[l][e]: the index of cell e's parent in level l - 1, or NO_CELL when not yet known (found
 * on first use); room for pyr[l].cap cells. */
static uint32_t *up[PYR_MAX + 1];
static uint32_t up_cap[PYR_MAX + 1];

static inline uint32_t mix(uint32_t k) {
  k ^= k >> 16;
  k *= 0x7feb352du;
  k ^= k >> 15;
  return k;
}

/* Makes room for `cap` parent links of level `level`, keeping the n held. */
static int links_fit(int level, uint32_t cap, uint32_t n) {
  if (cap <= up_cap[level] && up[level]) return 0;
  uint32_t *links = hw_malloc(cap * 4u);
  if (!links) return -1;
  if (up[level]) {
    __builtin_memcpy(links, up[level], n * 4u);
    hw_free(up[level]);
  }
  up[level] = links;
  up_cap[level] = cap;
  return 0;
}

/* Makes room for `cap` cells, keeping the n held (and their parent links). The cells may have
 * been made by spatial.c, without links: they get room for them here. */
static int cells_fit(Level *l, uint32_t cap) {
  int level = (int)(l - spatial_levels());
  uint32_t n = l->n;
  if (cap <= l->cap && l->cx) return links_fit(level, l->cap, n);
  if (links_fit(level, cap, n)) return -1;
  uint32_t *p = hw_malloc(cap * 20u);
  if (!p) return -1;
  uint32_t *cy = p + cap;
  float *sum = (float *)(cy + cap), *cnt = sum + cap, *mx = cnt + cap;
  if (l->cx) {
    __builtin_memcpy(p, l->cx, n * 4u);
    __builtin_memcpy(cy, l->cy, n * 4u);
    __builtin_memcpy(sum, l->sum, n * 4u);
    __builtin_memcpy(cnt, l->cnt, n * 4u);
    __builtin_memcpy(mx, l->mx, n * 4u);
    hw_free(l->cx);
  }
  l->cx = p;
  l->cy = cy;
  l->sum = sum;
  l->cnt = cnt;
  l->mx = mx;
  l->cap = cap;
  return 0;
}

/* A hash table of `slots` (a power of two) entries for the cells held: entry = cell index + 1,
 * 0 = empty. */
static int slots_fit(Level *l, uint32_t slots) {
  if (slots > l->slots) {
    hw_free(l->slot);
    l->slot = hw_malloc(slots * 4u);
    if (!l->slot) {
      l->slots = 0;
      return -1;
    }
  }
  if (slots > l->slots) l->slots = slots;
  __builtin_memset(l->slot, 0, l->slots * 4u);
  for (uint32_t i = 0; i < l->n; i++) {
    uint32_t m = l->slots - 1, j = mix(morton12(l->cx[i], l->cy[i])) & m;
    while (l->slot[j]) j = (j + 1) & m;
    l->slot[j] = i + 1;
  }
  return 0;
}

static void give_up(Level *l) {
  l->n = l->live = 0;
  l->usable = 0;
}

/* The index of level-l cell (cx, cy), or NO_CELL if not held; with `create`, a cell not held
 * is made (empty: no count, no sum, not live), unless the level is then given up (too many
 * cells, or no memory). */
static uint32_t cell_find(Level *l, uint32_t cx, uint32_t cy, int create) {
  uint32_t m = l->slots - 1, j = mix(morton12(cx, cy)) & m;
  for (;; j = (j + 1) & m) {
    uint32_t e = l->slot[j];
    if (!e) break;
    e--;
    if (l->cx[e] == cx && l->cy[e] == cy) return e;
  }
  if (!create) return NO_CELL;
  uint32_t count = points()->count;
  uint32_t limit = count / 4 > 4096 ? count / 4 : 4096;
  if (l->n >= limit || (l->n == l->cap && cells_fit(l, l->cap ? l->cap * 2 : 1024))) {
    give_up(l);
    return NO_CELL;
  }
  uint32_t e = l->n++;
  l->cx[e] = cx;
  l->cy[e] = cy;
  l->sum[e] = l->cnt[e] = l->mx[e] = 0.0f;
  up[l - spatial_levels()][e] = NO_CELL;
  l->slot[j] = e + 1;
  if (l->n * 2 > l->slots && slots_fit(l, l->slots * 2)) {
    give_up(l);
    return NO_CELL;
  }
  return e;
}

/* Adds (sign 1) or removes (sign -1) one point of weight w at cell e. */
static void cell_apply(Level *l, uint32_t e, float w, float sign) {
  if (l->cnt[e] <= 0.0f && sign > 0) l->live++;
  l->sum[e] += sign * w;
  l->cnt[e] += sign;
  if (l->cnt[e] < 0.5f) { /* empty again: no float residue of the sums */
    if (l->live) l->live--;
    l->cnt[e] = l->sum[e] = 0.0f;
  }
}

/* Adds or removes one point at level-l cell (cx, cy), found by its hash; returns the cell
 * (NO_CELL: a removal of a cell not held, or the level was given up). */
static uint32_t cell_add(Level *l, uint32_t cx, uint32_t cy, float w, float sign) {
  uint32_t e = cell_find(l, cx, cy, sign > 0);
  if (e != NO_CELL) cell_apply(l, e, w, sign);
  return e;
}

/* Adds or removes the point at fixed-point (x, y) in levels PYR_MIN..top: a hash lookup at
 * `top`, then the parent links (a link not yet known is looked up and kept). */
static void point_add(Level *pyr, int top, uint32_t x, uint32_t y, float w, float sign) {
  int level = top;
  uint32_t e = NO_CELL;
  for (; level >= PYR_MIN; level--) {
    Level *l = &pyr[level];
    if (!l->usable) continue;
    uint32_t cx = x >> (32 - (uint32_t)level), cy = y >> (32 - (uint32_t)level);
    if (e == NO_CELL) e = cell_find(l, cx, cy, sign > 0);
    if (e == NO_CELL) continue; /* not held (a removal), or the level was given up */
    cell_apply(l, e, w, sign);
    if (level == PYR_MIN || !pyr[level - 1].usable) {
      e = NO_CELL;
      continue;
    }
    uint32_t parent = up[level][e];
    if (parent == NO_CELL) {
      parent = cell_find(&pyr[level - 1], cx >> 1, cy >> 1, sign > 0);
      /* a cell given up since (l->usable) holds no links to keep */
      if (l->usable) up[level][e] = parent;
    }
    e = parent;
  }
}

/* Forgets every parent link of the levels (after a level is rebuilt, its cells are new). */
static void links_forget(void) {
  Level *pyr = spatial_levels();
  for (int level = PYR_MIN; level <= PYR_MAX; level++)
    if (up[level]) __builtin_memset(up[level], 0xFF, pyr[level].n * 4u);
}

/* Builds level l from every row held. */
static void level_build(Level *l, int level) {
  const Points *p = points();
  l->n = l->live = 0;
  l->usable = 1;
  if (cells_fit(l, 1024) || slots_fit(l, 4096)) {
    give_up(l);
    return;
  }
  uint32_t shift = 32 - (uint32_t)level;
  for (uint32_t i = 0; i < p->count && l->usable; i++) {
    if (p->y[i] == NO_POSITION) continue;
    cell_add(l, p->x[i] >> shift, p->y[i] >> shift, p->w ? p->w[i] : 1.0f, 1.0f);
  }
}

void sw_build(void) {
  Level *pyr = spatial_levels();
  if (points()->t) return; /* frames with times use the rows in the time window instead */
  sw_on = 1;
  for (int level = PYR_MIN; level <= PYR_MAX; level++) level_build(&pyr[level], level);
  links_forget();
}

void sw_rows(uint32_t begin, uint32_t end, float sign) {
  if (!sw_on) return;
  const Points *p = points();
  Level *pyr = spatial_levels();
  if (p->t) { /* times arrived: the levels cannot follow a time window */
    sw_reset();
    return;
  }
  for (uint32_t i = begin; i < end; i++) {
    if (p->y[i] == NO_POSITION) continue;
    point_add(pyr, PYR_MAX, p->x[i], p->y[i], p->w ? p->w[i] : 1.0f, sign);
  }
  /* as many empty cells as live ones: rebuild from the rows (after a removal, the caller
   * has not dropped the rows yet, so rebuild on the next addition instead) */
  int rebuilt = 0;
  for (int level = PYR_MIN; level <= PYR_MAX; level++) {
    Level *l = &pyr[level];
    if (sign > 0 && l->usable && l->n > 2 * l->live + 1024) {
      level_build(l, level);
      rebuilt = 1;
    }
  }
  if (rebuilt) links_forget();
}

int sw_level(int level) {
  const Level *l = pyramid(level);
  return sw_on && l->usable && l->n ? 1 : 0;
}

void sw_reset(void) {
  Level *pyr = spatial_levels();
  sw_on = 0;
  for (int level = PYR_MIN; level <= PYR_MAX; level++) give_up(&pyr[level]);
}

void sw_release(void) {
  Level *pyr = spatial_levels();
  sw_reset();
  for (int level = PYR_MIN; level <= PYR_MAX; level++) {
    hw_free(pyr[level].slot);
    pyr[level].slot = NULL;
    pyr[level].slots = 0;
    hw_free(up[level]);
    up[level] = NULL;
    up_cap[level] = 0;
  }
}

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
 * Only the levels frames use are kept up to date: each append and drop costs a hash update per
 * level followed, which at 1M rows a second in and out was the page's largest cost while
 * panning (9 levels: ~170 ms a second). A level no frame has asked for (nor one a level away)
 * during SW_IDLE_APPENDS appends is set aside; the next frame that needs it rebuilds it from
 * the rows (one pass over them). */
#include "kernel.h"

/* Whether the levels follow the rows (set by sw_build, cleared by sw_reset). */
static int sw_on;
/* Appends since a frame last asked for each level (or one next to it); set aside: 0 = followed,
 * 1 = set aside until a frame asks for it (rebuilt then). */
#define SW_IDLE_APPENDS 64u
static uint32_t sw_idle[PYR_MAX + 1];
static int sw_aside[PYR_MAX + 1];

static inline uint32_t mix(uint32_t k) {
  k ^= k >> 16;
  k *= 0x7feb352du;
  k ^= k >> 15;
  return k;
}

/* Makes room for `cap` cells, keeping the n held. */
static int cells_fit(Level *l, uint32_t cap) {
  if (cap <= l->cap && l->cx) return 0;
  uint32_t *p = hw_malloc(cap * 20u);
  if (!p) return -1;
  uint32_t n = l->n;
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

/* Adds (sign 1) or removes (sign -1) one point of weight w at level-l cell (cx, cy). */
static void cell_add(Level *l, uint32_t cx, uint32_t cy, float w, float sign) {
  uint32_t m = l->slots - 1, j = mix(morton12(cx, cy)) & m;
  for (;; j = (j + 1) & m) {
    uint32_t e = l->slot[j];
    if (!e) break;
    e--;
    if (l->cx[e] != cx || l->cy[e] != cy) continue;
    if (l->cnt[e] <= 0.0f && sign > 0) l->live++;
    l->sum[e] += sign * w;
    l->cnt[e] += sign;
    if (l->cnt[e] < 0.5f) { /* empty again: no float residue of the sums */
      if (l->live) l->live--;
      l->cnt[e] = l->sum[e] = 0.0f;
    }
    return;
  }
  if (sign < 0) return; /* not held: nothing to remove */
  uint32_t count = points()->count;
  uint32_t limit = count / 4 > 4096 ? count / 4 : 4096;
  if (l->n >= limit || (l->n == l->cap && cells_fit(l, l->cap ? l->cap * 2 : 1024))) {
    give_up(l);
    return;
  }
  uint32_t e = l->n++;
  l->cx[e] = cx;
  l->cy[e] = cy;
  l->sum[e] = w;
  l->cnt[e] = 1.0f;
  l->mx[e] = 0.0f;
  l->live++;
  l->slot[j] = e + 1;
  if (l->n * 2 > l->slots && slots_fit(l, l->slots * 2)) give_up(l);
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
  for (int level = PYR_MIN; level <= PYR_MAX; level++) {
    level_build(&pyr[level], level);
    sw_idle[level] = 0;
    sw_aside[level] = 0;
  }
}

void sw_rows(uint32_t begin, uint32_t end, float sign) {
  if (!sw_on) return;
  const Points *p = points();
  Level *pyr = spatial_levels();
  if (p->t) { /* times arrived: the levels cannot follow a time window */
    sw_reset();
    return;
  }
  for (int level = PYR_MIN; level <= PYR_MAX; level++) {
    Level *l = &pyr[level];
    if (sw_aside[level] || !l->usable) continue;
    if (sign > 0 && ++sw_idle[level] > SW_IDLE_APPENDS) {
      give_up(l);
      sw_aside[level] = 1;
      continue;
    }
    uint32_t shift = 32 - (uint32_t)level;
    for (uint32_t i = begin; i < end && l->usable; i++) {
      if (p->y[i] == NO_POSITION) continue;
      cell_add(l, p->x[i] >> shift, p->y[i] >> shift, p->w ? p->w[i] : 1.0f, sign);
    }
    /* as many empty cells as live ones: rebuild from the rows (after a removal, the caller
     * has not dropped the rows yet, so rebuild on the next addition instead) */
    if (sign > 0 && l->usable && l->n > 2 * l->live + 1024) level_build(l, level);
  }
}

int sw_level(int level) {
  if (!sw_on) return 0;
  Level *pyr = spatial_levels();
  for (int near = level - 1; near <= level + 1; near++) {
    if (near < PYR_MIN || near > PYR_MAX) continue;
    sw_idle[near] = 0; /* a zoom of one step next is likely: keep the neighbours followed */
    if (near == level && sw_aside[near]) {
      sw_aside[near] = 0;
      level_build(&pyr[near], near);
    }
  }
  const Level *l = &pyr[level];
  return l->usable && l->n ? 1 : 0;
}

uint32_t hw_window_levels(void) {
  uint32_t bits = 0;
  for (int level = PYR_MIN; level <= PYR_MAX; level++)
    if (sw_on && !sw_aside[level] && pyramid(level)->usable) bits |= 1u << level;
  return bits;
}

void sw_reset(void) {
  Level *pyr = spatial_levels();
  sw_on = 0;
  for (int level = PYR_MIN; level <= PYR_MAX; level++) {
    give_up(&pyr[level]);
    sw_aside[level] = 0;
  }
}

void sw_release(void) {
  Level *pyr = spatial_levels();
  sw_reset();
  for (int level = PYR_MIN; level <= PYR_MAX; level++) {
    hw_free(pyr[level].slot);
    pyr[level].slot = NULL;
    pyr[level].slots = 0;
  }
}

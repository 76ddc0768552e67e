/* points.c — the points held: staging, projection to fixed-point Web Mercator, appends,
 * removals, and which rows a frame visits (the time window). The bottom of the rooms above
 * memory.c: it calls nothing but the allocator. What the others read is points() (the rows
 * and counts, read-only) and rows_in_window(); only spatial.c reorders rows, in place. */
#include "kernel.h"
#include "mercator.h"

/* Degrees or fixed point (heat.h hw_stage_x/hw_stage_y), one at a time: the same memory. */
static union {
  double deg[STAGE_ROWS];
  uint32_t fixed[STAGE_ROWS];
} stage_a, stage_b;
#define stage_lon stage_a.deg
#define stage_lat stage_b.deg
static double stage_time[STAGE_ROWS];
static float stage_weight[STAGE_ROWS];

static Points P = {.t_sorted = 1};
/* Rows dropped from the front but not yet moved away (a sliding window): the arrays start
 * `front` cells into their buffers, so a drop is a pointer step, not a move of every row held;
 * the rows move back to the buffers' start once, when an append needs the room (compact). */
static uint32_t front;

/* Moves the rows held back to the start of their buffers (front = 0). */
static void compact(void) {
  if (!front) return;
  uint32_t n = P.count;
  __builtin_memmove(P.x - front, P.x, n * 4u);
  P.x -= front;
  __builtin_memmove(P.y - front, P.y, n * 4u);
  P.y -= front;
  if (P.w) {
    __builtin_memmove(P.w - front, P.w, n * 4u);
    P.w -= front;
  }
  if (P.t) {
    __builtin_memmove(P.t - front, P.t, n * 8u);
    P.t -= front;
  }
  front = 0;
}

const Points *points(void) { return &P; }

uint32_t hw_abi_version(void) { return HW_ABI_VERSION; }
uint32_t hw_stage_capacity(void) { return STAGE_ROWS; }
double *hw_stage_lon(void) { return stage_lon; }
double *hw_stage_lat(void) { return stage_lat; }
uint32_t *hw_stage_x(void) { return stage_a.fixed; }
uint32_t *hw_stage_y(void) { return stage_b.fixed; }
double *hw_stage_time(void) { return stage_time; }
float *hw_stage_weight(void) { return stage_weight; }
uint32_t hw_points_count(void) { return P.count; }
const uint32_t *hw_points_x(void) { return P.x; }
const uint32_t *hw_points_y(void) { return P.y; }

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
  if (P.w) return 0;
  compact();
  P.w = hw_malloc(P.capacity * 4u);
  if (!P.w) return -1;
  for (uint32_t i = 0; i < P.count; i++) P.w[i] = 1.0f;
  return 0;
}

int points_ensure_times(void) {
  if (P.t) return 0;
  compact();
  P.t = hw_malloc(P.capacity * 8u);
  if (!P.t) return -1;
  for (uint32_t i = 0; i < P.count; i++) P.t[i] = __builtin_nan("");
  P.t_sorted = P.count == 0;
  return 0;
}

int32_t hw_points_reserve(uint32_t capacity) {
  compact();
  if (capacity <= P.capacity) return 0;
  if (capacity > 0x1FFFFFFFu) return -1;
  uint32_t *x = regrow(P.x, P.count, capacity, 4);
  if (!x) return -1;
  P.x = x;
  uint32_t *y = regrow(P.y, P.count, capacity, 4);
  if (!y) return -1;
  P.y = y;
  if (P.w) {
    float *w = regrow(P.w, P.count, capacity, 4);
    if (!w) return -1;
    P.w = w;
  }
  if (P.t) {
    double *t = regrow(P.t, P.count, capacity, 8);
    if (!t) return -1;
    P.t = t;
  }
  P.capacity = capacity;
  return 0;
}

int points_room(uint32_t n, uint32_t flags) {
  uint32_t total = P.count + n;
  if (total < P.count) return -1;
  if (front && front + total > P.capacity) {
    /* A sliding window: move the rows back once per quarter of the rows held dropped (the
     * room grows to a quarter more than it holds), not at every drop. */
    uint32_t slack = P.count / 4u;
    if (total + slack > P.capacity) {
      if (hw_points_reserve(total + slack)) return -1;
    } else {
      compact();
    }
  }
  if (total > P.capacity) {
    /* grow by a quarter: the memory budget is 1.5x the input bytes, so no doubling */
    uint32_t grown = P.capacity + P.capacity / 4u;
    if (hw_points_reserve(total > grown ? total : grown)) return -1;
  }
  if ((flags & HW_HAS_WEIGHT) && ensure_weights()) return -1;
  return 0;
}

void points_append_staged(uint32_t n, uint32_t flags) {
  uint32_t total = P.count + n;
  uint32_t *xs = P.x + P.count, *ys = P.y + P.count;
  if (flags & POINTS_STAGED_FIXED) { /* projected by the host already (the wire's x/y) */
    __builtin_memcpy(xs, stage_a.fixed, n * 4u);
    __builtin_memcpy(ys, stage_b.fixed, n * 4u);
  } else {
    for (uint32_t i = 0; i < n; i++) mercator_fixed(stage_lon[i], stage_lat[i], xs + i, ys + i);
  }
  if (P.w) {
    float *ws = P.w + P.count;
    if (flags & HW_HAS_WEIGHT)
      __builtin_memcpy(ws, stage_weight, n * 4u);
    else
      for (uint32_t i = 0; i < n; i++) ws[i] = 1.0f;
  }
  if (P.t) {
    double *ts = P.t + P.count;
    if (flags & HW_HAS_TIME) {
      __builtin_memcpy(ts, stage_time, n * 8u);
      double prev = P.count ? P.t[P.count - 1] : -__builtin_inf();
      for (uint32_t i = 0; i < n && P.t_sorted; i++) {
        if (!(ts[i] >= prev)) P.t_sorted = 0; /* a decrease, or NaN */
        prev = ts[i];
      }
    } else {
      for (uint32_t i = 0; i < n; i++) ts[i] = __builtin_nan("");
      if (n) P.t_sorted = 0;
    }
  }
  P.count = total;
}

void points_drop_oldest(uint32_t n) {
  /* a step of the arrays' start (see `front`): the rows stay where they are */
  P.x += n;
  P.y += n;
  if (P.w) P.w += n;
  if (P.t) P.t += n;
  front += n;
  P.count -= n;
}

void points_clear(void) {
  P.count = 0;
  compact(); /* no rows: only the pointers go back */
  P.t_sorted = 1;
}

void points_release(void) {
  P.count = 0;
  compact();
  hw_free(P.x);
  hw_free(P.y);
  hw_free(P.w);
  hw_free(P.t);
  P.x = P.y = NULL;
  P.w = NULL;
  P.t = NULL;
  P.count = P.capacity = 0;
  P.t_sorted = 1;
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

/* First row whose time is >= t (times sorted), by bisection. */
static uint32_t lower_bound(double t) {
  uint32_t lo = 0, hi = P.count;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (P.t[mid] < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

Rows rows_in_window(void) {
  Rows r = {0, P.count, 0, 0, 0.0, 0.0f, win_t0, win_t1};
  int timed = win_bounded || win_half_life > 0.0;
  if (!timed) return r;
  if (!P.t) { /* no times held: a bounded window shows nothing */
    if (win_bounded) r.end = 0;
    return r;
  }
  if (win_bounded) {
    if (P.t_sorted) {
      r.begin = win_t0 == -__builtin_inf() ? 0 : lower_bound(win_t0);
      r.end = win_t1 == __builtin_inf() ? P.count : lower_bound(win_t1);
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
      for (uint32_t i = 0; i < P.count; i++) latest = P.t[i] > latest ? P.t[i] : latest;
      r.t_ref = latest;
    }
  }
  return r;
}

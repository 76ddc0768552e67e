/* points.c — the points held: staging, projection to fixed-point Web Mercator, appends,
 * the sliding window, and which rows a frame visits (the time window). */
#include "kernel.h"
#include "maths.h"

static double stage_lon[STAGE_ROWS];
static double stage_lat[STAGE_ROWS];
static double stage_time[STAGE_ROWS];
static float stage_weight[STAGE_ROWS];

uint32_t *pt_x, *pt_y;
float *pt_w;
double *pt_t;
uint32_t *pt_seq;
uint32_t pt_count, pt_capacity, seq_next;
int pt_t_sorted = 1;

uint32_t hw_abi_version(void) { return HW_ABI_VERSION; }
uint32_t hw_stage_capacity(void) { return STAGE_ROWS; }
double *hw_stage_lon(void) { return stage_lon; }
double *hw_stage_lat(void) { return stage_lat; }
double *hw_stage_time(void) { return stage_time; }
float *hw_stage_weight(void) { return stage_weight; }
uint32_t hw_points_count(void) { return pt_count; }

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
  uint32_t first = pt_count;
  pt_count = total;
  if (sp_streaming) sw_rows(first, total, 1.0f);
  return (int32_t)pt_count;
}

uint32_t hw_points_drop_front(uint32_t n) {
  if (n >= pt_count) {
    hw_points_clear();
    return 0;
  }
  /* A sliding window drops rows at every append: in spatial order each drop would rewrite
   * every row and rebuild the index, so from the first drop on rows stay in arrival order
   * (until hw_points_clear), where dropping the oldest is one move of memory. */
  int first = !sp_streaming;
  sp_streaming = 1;
  if (sp_sorted && arrival_order()) {
    /* no memory to restore the order: drop by arrival number, in place */
    spatial_compact(seq_next - pt_count + n);
    return pt_count;
  }
  if (first) sw_build(); /* the window's pyramid, which then follows every change */
  sw_rows(0, n, -1.0f);
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
  sp_streaming = 0;
  sw_reset();
  sp_frame_drawn = 0;
  pt_t_sorted = 1;
  seq_next = 0;
  spatial_forget();
}

/* ---- Time window -------------------------------------------------------------------------- */

double win_t0 = -__builtin_inf(), win_t1 = __builtin_inf(), win_half_life = 0.0;
int win_bounded;

void hw_time_window(double t0, double t1, double half_life) {
  win_bounded = (t0 == t0) || (t1 == t1);
  win_t0 = t0 == t0 ? t0 : -__builtin_inf();
  win_t1 = t1 == t1 ? t1 : __builtin_inf();
  win_half_life = half_life > 0.0 ? half_life : 0.0;
}


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

Rows rows_in_window(void) {
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

void hw_release(void) {
  hw_free(pt_x);
  hw_free(pt_y);
  hw_free(pt_w);
  hw_free(pt_t);
  hw_free(pt_seq);
  pt_x = pt_y = pt_seq = NULL;
  pt_w = NULL;
  pt_t = NULL;
  pt_count = pt_capacity = seq_next = 0;
  pt_t_sorted = 1;
  spatial_release();
  frame_release();
}

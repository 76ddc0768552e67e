/* lifetime.c — the exports that change what is held in several rooms at once: appends, drops,
 * clearing and release. The top of the rooms (kernel.h): it calls points.c, spatial.c,
 * window.c, frame.c and dots.c, and none of them calls it, so each room below only looks after its
 * own state. */
#include "kernel.h"

static int32_t append(uint32_t n, uint32_t flags) {
  if (n > STAGE_ROWS) n = STAGE_ROWS;
  if (points_room(n, flags)) return -1;
  /* times keep rows in arrival order (heat.h "Cost"): rows in spatial order cannot take them */
  if (flags & HW_HAS_TIME) {
    int restored = arrival_order();
    if (restored) return restored; /* -HW_APPEND_NEEDS_ARRIVAL_ORDER: the host loads the rows again */
    if (points_ensure_times()) return -1;
  }
  uint32_t first = points()->count;
  points_append_staged(n, flags);
  uint32_t total = points()->count;
  if (spatial_streaming()) sw_rows(first, total, 1.0f);
  dots_forget();
  return (int32_t)total;
}

int32_t hw_points_append(uint32_t n, uint32_t flags) {
  return append(n, flags & (HW_HAS_WEIGHT | HW_HAS_TIME));
}

int32_t hw_points_append_fixed(uint32_t n, uint32_t flags) {
  return append(n, (flags & (HW_HAS_WEIGHT | HW_HAS_TIME)) | POINTS_STAGED_FIXED);
}

uint32_t hw_points_drop_front(uint32_t n) {
  const Points *p = points();
  if (n >= p->count) {
    hw_points_clear();
    return 0;
  }
  /* Spatial order keeps no arrival numbers (heat.h "Memory a row"): which rows are the oldest
   * is lost, so the drop is not made and the host loads the rows again, in arrival order. */
  if (spatial_sorted()) return HW_DROP_NEEDS_ARRIVAL_ORDER;
  /* A sliding window drops rows at every append: in spatial order each drop would rewrite
   * every row and rebuild the index, so from the first drop on rows stay in arrival order
   * (until hw_points_clear), where dropping the oldest is one move of memory. */
  dots_forget();
  int first = spatial_stream();
  if (first) sw_build(); /* the window's pyramid, which then follows every change */
  sw_rows(0, n, -1.0f);
  points_drop_oldest(n);
  return p->count;
}

void hw_points_clear(void) {
  points_clear();
  dots_forget();
  sw_reset();
  spatial_clear();
  frame_ahead_forget();
}

void hw_release(void) {
  points_release();
  sw_release();
  spatial_release();
  frame_release();
  dots_forget();
}

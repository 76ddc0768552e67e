/* project.c — the staged lon/lat projected to fixed point for a host, without appending them:
 * server-side aggregation (heatwidget/aggregate) bins the very x/y a frame would, from one
 * copy of the maths (mercator.h, which points.c appends with). Calls points.c only (the
 * staging buffers). */
#include "kernel.h"
#include "mercator.h"

static uint32_t out_x[STAGE_ROWS];
static uint32_t out_y[STAGE_ROWS];

uint32_t *hw_project_x(void) { return out_x; }
uint32_t *hw_project_y(void) { return out_y; }

uint32_t hw_project_staged(uint32_t n) {
  if (n > STAGE_ROWS) n = STAGE_ROWS;
  const double *lon = hw_stage_lon(), *lat = hw_stage_lat();
  for (uint32_t i = 0; i < n; i++) mercator_fixed(lon[i], lat[i], out_x + i, out_y + i);
  return n;
}

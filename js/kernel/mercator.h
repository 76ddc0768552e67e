/* mercator.h — the one projection of lon/lat to fixed-point Web Mercator (heat.h
 * "Coordinates"): points.c uses it to append rows, project.c to hand the same x/y back to a
 * host (server-side aggregation bins exactly what a frame would). Inline: it sits in the
 * append loop. */
#ifndef HEATWIDGET_MERCATOR_H
#define HEATWIDGET_MERCATOR_H
#include "kernel.h"
#include "maths.h"

/* Writes the fixed-point position of (lon, lat) degrees to *x, *y; a NaN or infinite
 * coordinate gives x = 0, y = NO_POSITION (never drawn). */
static inline void mercator_fixed(double lon, double lat, uint32_t *x, uint32_t *y) {
  if (!(lon - lon == 0.0) || !(lat - lat == 0.0)) { /* NaN or infinite */
    *x = 0;
    *y = NO_POSITION;
    return;
  }
  double nx = lon / 360.0 + 0.5;
  nx -= f64_floor(nx);
  *x = (uint32_t)(uint64_t)(nx * 4294967296.0);
  if (lat > MAX_LATITUDE) lat = MAX_LATITUDE;
  if (lat < -MAX_LATITUDE) lat = -MAX_LATITUDE;
  double s = sin_small(lat * (PI / 180.0));
  double ny = 0.5 - log_pos((1.0 + s) / (1.0 - s)) / (4.0 * PI);
  double fy = ny * 4294967296.0;
  if (fy < 0.0) fy = 0.0;
  if (fy > 4294967294.0) fy = 4294967294.0;
  *y = (uint32_t)fy;
}

#endif

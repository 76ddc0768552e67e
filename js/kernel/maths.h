/* maths.h — the few maths functions the kernel needs, without libm (-nostdlib: see the build
 * in js/build.mjs). Inline: they sit in hot loops. */
#ifndef HEATWIDGET_MATHS_H
#define HEATWIDGET_MATHS_H
#include <stdint.h>

/* ---- Maths without libm ------------------------------------------------------------------ */

#define PI 3.14159265358979323846
#define MAX_LATITUDE 85.0511287798

static inline double f64_floor(double x) { return __builtin_floor(x); }

/* sin for |x| <= pi/2 (latitudes are clamped to +-85.05 degrees first): Taylor series to x^23,
 * whose truncation error there is below 1e-17. */
static inline double sin_small(double x) {
  double x2 = x * x, term = x, sum = x;
  for (int k = 1; k <= 11; k++) {
    term *= -x2 / (double)((2 * k) * (2 * k + 1));
    sum += term;
  }
  return sum;
}

/* Natural log of q > 0: q = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln m = 2 atanh(u), u = (m - 1) / (m + 1), |u| < 0.172: the series to u^25 is exact to 1e-19. */
static inline double log_pos(double q) {
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
static inline double exp_neg(double x) {
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

#endif

/* colour.c — the colour domain (quantiles) and colour mapping through the table. Reads the
 * last frame through frame() (frame.c); writes only the table and the frame's colours. */
#include "kernel.h"
#include "maths.h"

static uint8_t lut[256 * 4];

uint8_t *hw_lut(void) { return lut; }

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
  const Frame *fr = frame();
  uint32_t n = fr->width * fr->height, m = 0;
  if (!fr->grid || !n) return 0.0f;
  float *sorted = frame_scratch(n);
  if (!sorted) return 0.0f;
  for (uint32_t i = 0; i < n; i++)
    if (fr->grid[i] > 0.0f) sorted[m++] = fr->grid[i];
  if (!m) return 0.0f;
  if (!(q >= 0.0f)) q = 0.0f;
  if (q > 1.0f) q = 1.0f;
  /* nearest rank: the smallest value with at least q of the values at or below it */
  float rank = q * (float)m;
  uint32_t k = (uint32_t)rank;
  if ((float)k < rank) k++; /* ceil */
  k = k ? k - 1 : 0;
  if (k >= m) k = m - 1;
  return select_kth(sorted, m, k);
}

void hw_colorize(float vmin, float vmax, uint32_t scale, float threshold) {
  const Frame *fr = frame();
  uint32_t n = fr->width * fr->height;
  if (!fr->grid || !fr->rgba) return;
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
  const float *g = fr->grid;
  uint32_t *rgba = fr->rgba;
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
      uint32_t *out = rgba + start;
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
    rgba[i] = table[index];
  }
}

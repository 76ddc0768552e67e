/*
 * kernel.h — what the kernel's rooms share. Not the ABI (that is heat.h): nothing here is
 * exported. The rooms, in the order a point meets them:
 *   points.c   staging, projection to fixed point, appends, sliding window, time window
 *   spatial.c  points without times in Morton order: tile index and pyramid
 *   frame.c    the grid, splatting, the Gaussian footprint, reading the density back
 *   window.c   the pyramid of a sliding window, following appends and drops
 *   colour.c   the colour domain (quantiles) and colour mapping
 *   memory.c   the allocator; maths.h the maths without libm
 */
#ifndef HEATWIDGET_KERNEL_H
#define HEATWIDGET_KERNEL_H
#include "heat.h"

#define NULL ((void *)0)
typedef uint32_t size_t;
typedef float v4f __attribute__((vector_size(16)));
typedef float v4f_u __attribute__((vector_size(16), aligned(4)));

/* ---- memory.c ---- */
void *hw_malloc(uint32_t bytes);
void hw_free(void *ptr);
/* (Re)allocates a buffer of `count` 4-byte cells when its capacity is short (contents lost). */
int fit(void *buf, uint32_t *cap, uint32_t count);

/* ---- points.c ---- */
#define STAGE_ROWS 65536u
/* y of a point without a position (NaN coordinates): never drawn */
#define NO_POSITION 0xFFFFFFFFu

extern uint32_t *pt_x, *pt_y; /* fixed-point Web Mercator (heat.h) */
extern float *pt_w;           /* NULL while every weight is 1 */
extern double *pt_t;          /* NULL while no row has a time */
/* Arrival numbers, once rows have been reordered (spatial.c), so the oldest can be dropped;
 * the rows held arrived as [seq_next - pt_count, seq_next). */
extern uint32_t *pt_seq;
extern uint32_t pt_count, pt_capacity, seq_next;
/* Whether the times held never decrease, so a time window is one run of rows. */
extern int pt_t_sorted;

/* The time window (hw_time_window). */
extern double win_t0, win_t1, win_half_life;
extern int win_bounded;

/* The rows a frame visits, and how it treats each. */
typedef struct Rows {
  uint32_t begin, end;
  int check_time; /* test each row's time against the window */
  int decay;      /* multiply weights by the half-life decay */
  double t_ref;   /* decay reference time */
  float decay_k;  /* -1 / half_life */
} Rows;
Rows rows_in_window(void);

/* ---- spatial.c ---- */
#define PYR_MIN 4
#define PYR_MAX 12

/* Rows [0, sp_sorted) are in spatial order; the rest, the tail, in arrival order. */
extern uint32_t sp_sorted;
/* Set by the first hw_points_drop_front: rows then stay in arrival order until cleared. */
extern int sp_streaming;
typedef struct Level {
  uint32_t n, cap;
  uint32_t *cx, *cy;   /* cell coordinates at this level */
  float *sum, *cnt, *mx;
  /* window.c only: a hash table of the cells, and how many hold points */
  uint32_t *slot, slots, live;
  int usable;
} Level;
extern Level pyr[PYR_MAX + 1];
extern uint32_t *tile_start; /* 65537 row offsets into the sorted rows, by level-8 Morton key */

/* Interleaves the low 12 bits of x (even bits) and y (odd bits). */
static inline uint32_t morton12(uint32_t x, uint32_t y) {
  x &= 0xFFF;
  y &= 0xFFF;
  x = (x | (x << 8)) & 0x00FF00FFu;
  x = (x | (x << 4)) & 0x0F0F0F0Fu;
  x = (x | (x << 2)) & 0x33333333u;
  x = (x | (x << 1)) & 0x55555555u;
  y = (y | (y << 8)) & 0x00FF00FFu;
  y = (y | (y << 4)) & 0x0F0F0F0Fu;
  y = (y | (y << 2)) & 0x33333333u;
  y = (y | (y << 1)) & 0x55555555u;
  return x | (y << 1);
}

int spatial_ready(int may_sort);
extern int sp_frame_drawn;
void spatial_forget(void);
void spatial_compact(uint32_t cut);
int arrival_order(void);
void spatial_release(void);

/* ---- window.c: the pyramid of a sliding window (rows in arrival order) ---- */
void sw_build(void);
/* Adds (sign 1) or removes (sign -1) rows [begin, end) to or from the levels. */
void sw_rows(uint32_t begin, uint32_t end, float sign);
/* Whether level l follows the rows (frames may splat its cells). */
int sw_level(int level);
void sw_reset(void);
void sw_release(void);

/* ---- frame.c ---- */
typedef struct Frame {
  uint32_t width, height; /* the visible frame */
  uint32_t margin;        /* padding on every side in pixels: the footprint's reach */
  uint32_t f;             /* pixels per cell side (1, 2, 4, ...) */
  uint32_t gw, gh;        /* grid size in cells */
  float *pad;             /* the grid: density per cell */
  float *aux;             /* grid-sized scratch: the blur's target */
  float *cnt;             /* grid-sized counts, for "mean" only */
  float *line;            /* scratch rows for the blur and the read-back */
  float *grid;            /* visible density, width*height */
  uint32_t *rgba;         /* visible colours, width*height */
  float *sorted;          /* scratch for quantiles, width*height */
  uint32_t pad_cap, aux_cap, cnt_cap, line_cap, grid_cap, rgba_cap, sorted_cap;
  /* the last frame's placement, for hw_frame_count_near */
  double x0, y0, zoom;
  int placed;
} Frame;
extern Frame fr;
void frame_release(void);

#endif

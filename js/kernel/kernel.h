/*
 * kernel.h — what the kernel's rooms share. Not the ABI (that is heat.h): nothing here is
 * exported. The rooms, in the order a point meets them:
 *   memory.c   the allocator; maths.h the maths without libm
 *   points.c   staging, projection to fixed point (mercator.h), appends and removals, the
 *              time window
 *   project.c  the same projection handed back to a host (server-side aggregation)
 *   spatial.c  points without times in Morton order: tile index and pyramid
 *   window.c   the pyramid of a sliding window, following appends and drops
 *   frame.c    the grid, splatting, the Gaussian footprint, reading the density back
 *   colour.c   the colour domain (quantiles) and colour mapping
 *   dots.c     up close: the rows in view as dots over the colours, cross-faded with the heat
 *   lifetime.c the exports that change what is held in several rooms: append, drop, clear,
 *              release
 *
 * The calls between rooms form a DAG in that order: a room calls only rooms before it,
 *   memory <- points <- project <- spatial <- window <- frame <- colour <- dots <- lifetime
 * (lifetime.c calls points, spatial, window, frame and dots; no room calls it). Each room's state is
 * file-static: others read it through the const accessors below (points(), pyramid(),
 * frame()) and change it through the room's functions. Two hand-overs of buffers, not of
 * variables: spatial.c reorders the rows of points.c in place, and window.c fills the levels
 * of spatial.c's pyramid (spatial_levels()) while rows stream.
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

/* The rows held (points.c writes them; spatial.c may reorder rows in place). */
typedef struct Points {
  uint32_t *x, *y; /* fixed-point Web Mercator (heat.h) */
  float *w;        /* NULL while every weight is 1 */
  double *t;       /* NULL while no row has a time */
  /* No arrival numbers (heat.h "Memory a row"): rows in spatial order that need arrival order
   * back (a drop, times) are loaded again by the host. */
  uint32_t count, capacity;
  int t_sorted; /* whether the times held never decrease, so a time window is one run of rows */
} Points;
const Points *points(void);

/* Appending, in three steps so lifetime.c can restore arrival order between them: room for n
 * more rows (and weights, with HW_HAS_WEIGHT), then times, then the staged rows themselves. */
int points_room(uint32_t n, uint32_t flags);
/* A flag of points_append_staged beside heat.h's: the rows are staged as fixed point. */
#define POINTS_STAGED_FIXED 0x100u
int points_ensure_times(void);
void points_append_staged(uint32_t n, uint32_t flags);
/* Forgets the oldest n rows, rows in arrival order (n < count). */
void points_drop_oldest(uint32_t n);
void points_clear(void);
void points_release(void);

/* The rows a frame visits, and how it treats each. */
typedef struct Rows {
  uint32_t begin, end;
  int check_time; /* test each row's time against the window */
  int decay;      /* multiply weights by the half-life decay */
  double t_ref;   /* decay reference time */
  float decay_k;  /* -1 / half_life */
  double t0, t1;  /* the window, when check_time */
} Rows;
Rows rows_in_window(void);

/* ---- spatial.c ---- */
#define PYR_MIN 4
#define PYR_MAX 12

typedef struct Level {
  uint32_t n, cap;
  uint32_t *cx, *cy;   /* cell coordinates at this level */
  float *sum, *cnt, *mx;
  /* window.c only: a hash table of the cells, and how many hold points */
  uint32_t *slot, slots, live;
  int usable;
} Level;
/* Level l (PYR_MIN..PYR_MAX) of the pyramid, for reading; spatial_levels() is the whole
 * array, for window.c, which alone changes it while rows stream. */
const Level *pyramid(int l);
Level *spatial_levels(void);
/* Rows [0, spatial_sorted()) are in spatial order; the rest, the tail, in arrival order. */
uint32_t spatial_sorted(void);
/* 65537 row offsets into the sorted rows, by level-8 Morton key. */
const uint32_t *spatial_tiles(void);

/* The level-8 tiles (256 x 256 over the world) a rectangle of world pixels meets, at a zoom
 * whose world is `world` pixels wide: columns tx0..tx1 (past 255 they wrap: use tx & 255) and
 * rows ty0..ty1. */
typedef struct TileSpan {
  int64_t tx0, tx1, ty0, ty1;
} TileSpan;
/* Fills *s for the rectangle; returns 0 when it meets so many tiles that visiting every row is
 * as cheap (frame.c and dots.c then do). */
int spatial_tiles_in(double left, double top, double width, double height, double world,
                     TileSpan *s);

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
/* A frame begins: returns whether it may sort (the first sort waits for the second frame, or
 * hw_points_index; merges do not wait). */
int spatial_frame_begins(void);
/* Whether the next frame is the first since the load and the rows are in arrival order (no
 * sort, no frame drawn, no hw_points_index): it then splats every row in order (frame.c). */
int spatial_first_frame(void);
/* Whether a sliding window has dropped rows (or hw_points_drop_front(0) was called on rows in
 * arrival order): they then stay in arrival order until cleared. */
int spatial_streaming(void);
/* The first hw_points_drop_front: rows stay in arrival order from now on; returns whether this
 * is the first. */
int spatial_stream(void);
/* 0 when the rows are in arrival order (times may be appended), else
 * -HW_APPEND_NEEDS_ARRIVAL_ORDER (no arrival numbers to restore it: the host reloads). */
int arrival_order(void);
void spatial_forget(void);
/* hw_points_clear: forgets the order, the streaming mode, and that a frame was drawn. */
void spatial_clear(void);
void spatial_release(void);

/* ---- window.c: the pyramid of a sliding window (rows in arrival order) ---- */
void sw_build(void);
/* Adds (sign 1) or removes (sign -1) rows [begin, end) to or from the levels. */
void sw_rows(uint32_t begin, uint32_t end, float sign);
/* Whether level l follows the rows (frames may splat its cells); a frame's asking keeps it
 * and its neighbours followed, and rebuilds it from the rows if it had been set aside. */
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
/* Where a frame's points land (frame.c's splat_setup): the padded frame of width x height
 * pixels plus `margin` on every side, whose top-left is the world pixel (x0 - margin,
 * y0 - margin) at `zoom`, in cells of f pixels. */
typedef struct Splat {
  uint32_t ox;       /* padded frame's left edge, fixed point, floor */
  double ox_frac_px; /* what floor() removed, in pixels */
  double oy_px;      /* padded frame's top edge, world pixels */
  double s;          /* pixels per fixed-point unit */
  double world;      /* world width in pixels */
  double pw, ph;     /* padded frame size in pixels */
  double inv_f;      /* cells per pixel */
  int copies;        /* world copies to try beyond the first */
} Splat;
Splat splat_setup(double x0, double y0, double zoom, uint32_t margin, uint32_t width,
                  uint32_t height, uint32_t f);
/* Calls BODY with (px, py), the position in the padded frame in pixels of the fixed-point
 * point (X, Y), once per world copy that meets the padded frame. */
#define FOR_EACH_XY(sp, X, Y, BODY)                                                     \
  do {                                                                                  \
    uint32_t yy_ = (Y);                                                                 \
    if (yy_ == NO_POSITION) break;                                                      \
    double py = (double)yy_ * (sp).s - (sp).oy_px;                                      \
    if (!(py >= 0.0 && py < (sp).ph)) break;                                            \
    double px0_ = (double)(int32_t)((X) - (sp).ox) * (sp).s - (sp).ox_frac_px;          \
    if (!(sp).copies) {                                                                 \
      double px = px0_;                                                                 \
      if (px >= 0.0 && px < (sp).pw) BODY;                                              \
      break;                                                                            \
    }                                                                                   \
    /* px0_ >= -world / 2, so one world to the right is the first copy at or past 0 */   \
    for (double px = px0_ < 0.0 ? px0_ + (sp).world : px0_; px < (sp).pw; px += (sp).world) \
      BODY;                                                                             \
  } while (0)

/* The last frame, for reading (colour.c writes the pixels of rgba, which frame.c allocates
 * with the grid). */
const Frame *frame(void);
/* The frame's scratch of n floats (quantiles, "mean" counts), or NULL if memory is short. */
float *frame_scratch(uint32_t n);
void frame_release(void);
/* The rows held were replaced (hw_points_clear): a frame splatted ahead is forgotten. */
void frame_ahead_forget(void);

/* ---- dots.c ---- */
/* The rows held changed (append, drop, clear, release): the weight domain is measured again. */
void dots_forget(void);

#endif

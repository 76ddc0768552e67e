/*
 * heat.h — the ABI of heatwidget's WebAssembly heat kernel.
 *
 * One .wasm (built from the sources kernel.h lists) is used by two hosts: the browser (js/src/kernel.ts) and
 * Python (heatwidget/_kernel.py, through wasmtime). Both call exactly these exports, in the
 * same order, so a PNG rendered in Python and a frame drawn in the browser are the same pixels.
 *
 * Ownership
 *   The kernel owns all of its linear memory. Every pointer returned here points into it and
 *   is owned by the kernel; hosts only read or write through it. Calls marked [grows] may grow
 *   the memory (which detaches JS views of memory.buffer) or move buffers: after such a call a
 *   host re-reads every pointer it needs and re-makes its typed views.
 *
 * Coordinates
 *   Points are stored as Web Mercator coordinates in 32-bit fixed point: x = floor(nx * 2^32)
 *   mod 2^32 and y = clamp(floor(ny * 2^32), 0, 2^32 - 2)
 *   (2^32 - 1 marks a row without a position: NaN or infinite coordinates, never drawn), where
 *     nx = lon / 360 + 0.5,   ny = 0.5 - atanh(sin(lat')) / (2 pi),
 *   lat' = lat clamped to +-85.0511287798 degrees (Leaflet's SphericalMercator.MAX_LATITUDE).
 *   This is Leaflet's EPSG:3857 with 256-px tiles: at zoom z a point sits at world pixel
 *   (nx, ny) * 256 * 2^z, and one fixed-point unit is 1/64 px at zoom 18.
 *
 * Frames and the pixel convention
 *   A frame is `width` x `height` pixels whose top-left corner is the world pixel (x0, y0) at
 *   `zoom` (fractional zooms allowed). A point whose world pixel is (px, py) lands in the frame
 *   pixel (floor(px - x0), floor(py - y0)): pixel (i, j) covers [i, i+1) x [j, j+1). Rows are
 *   stored top first. Longitude wraps: a point is drawn at every copy of the world that meets
 *   the frame (zoomed out, the world repeats as Leaflet's tiles do).
 *
 * The footprint
 *   With radius r > 0 each point's value is spread by a Gaussian with sigma = r / 2, so a
 *   point's heat falls to e^-2 (13.5%) of its peak at r pixels, and the total is conserved.
 *   For speed the Gaussian is applied on a grid of f x f-pixel cells, f the power of two with
 *   2 <= sigma / f < 4 (f = 1 when sigma < 4): a point counts at the centre of its cell (at most
 *   f / 2 pixels from where it is: half a pixel, or sigma / 4 on coarser grids), and the
 *   spread has the Gaussian's variance
 *   exactly and its shape to within 5.2% of the peak (tests/test_kernel.py measures both).
 *   Points up to 3.5 sigma + f outside the frame contribute to it. r = 0 means no spreading:
 *   each pixel holds exactly the aggregation of the points that land in it.
 *
 * Cost
 *   Points without times are kept in spatial order with a tile index and a pyramid of
 *   per-cell aggregates (built at the first frame after a load, O(N), in place), so a frame
 *   costs in proportion to the points in view, and a zoomed-out frame with a radius in
 *   proportion to the pyramid cells in view (each at most half a grid cell, so within a quarter
 *   of a grid cell of its points; "max" and radius 0 always use the points themselves). Points
 *   with times stay in arrival order, where a time window is one run of rows, and so do all
 *   points once hw_points_drop_front has been called (a sliding window), where dropping the
 *   oldest is a move of memory; the pyramid then follows each append and drop cell by cell
 *   (window.c), so zoomed-out frames with a radius still cost in proportion to the cells in
 *   view, and other frames in proportion to the rows held.
 *   Memory a row: x, y (8 B), weight (4 B, once any weight is not 1), time (8 B, once any row
 *   has one); the sort keeps no key buffer and no arrival numbers. So once points are in
 *   spatial order, which rows arrived first is forgotten: a first hw_points_drop_front, or
 *   times appended, then return HW_DROP_NEEDS_ARRIVAL_ORDER / HW_APPEND_NEEDS_ARRIVAL_ORDER
 *   and change nothing, and the host loads the rows again in arrival order (the page asks
 *   Python for them) and calls hw_points_drop_front(0) after loading them, which keeps them in
 *   arrival order from then on (until hw_points_clear).
 */
#ifndef HEATWIDGET_HEAT_H
#define HEATWIDGET_HEAT_H
#include <stdint.h>

/* Every export is declared with HW_API, which makes it visible to the linker's
 * --export-dynamic (clang's wasm target hides symbols by default). */
#define HW_API __attribute__((visibility("default")))

/* ABI version; bumped on any change to this file. */
#define HW_ABI_VERSION 8u

/* Flags of hw_points_append. */
#define HW_HAS_WEIGHT 1u
#define HW_HAS_TIME 2u

/* Aggregations of hw_density. */
#define HW_AGG_SUM 0u   /* sum of weights */
#define HW_AGG_COUNT 1u /* number of points */
#define HW_AGG_MEAN 2u  /* sum of weights / number of points, each spread by the footprint,
                         * then divided; shown only where the spread count reaches e^-2 of
                         * one point's peak (within `radius` of a point), so edges fade */
#define HW_AGG_MAX 3u   /* largest weight in the pixel (then blurred) */

/* Scales of hw_colorize. */
#define HW_SCALE_LINEAR 0u
#define HW_SCALE_SQRT 1u
#define HW_SCALE_LOG 2u

/* hw_dots: the dot radius in pixels both hosts draw with, and the rows drawn at most (50k dots
 * of radius 4 cover a 1024 x 768 frame three times over). */
#define HW_DOT_RADIUS 4u
#define HW_DOTS_CAP 50000u

/* Returns HW_ABI_VERSION. */
HW_API uint32_t hw_abi_version(void);

/* ---- Points ------------------------------------------------------------------------------ */

/* Rows per staging chunk: hosts load data in chunks of at most this many rows. */
HW_API uint32_t hw_stage_capacity(void);
/* Staging buffers (kernel-owned, host-written): lon and lat in degrees as float64, weights as
 * float32. Valid until the next [grows] call. */
HW_API double *hw_stage_lon(void);
HW_API double *hw_stage_lat(void);
HW_API float *hw_stage_weight(void);
/* Staged times (float64, any unit; heatwidget uses milliseconds since the Unix epoch). */
HW_API double *hw_stage_time(void);
/* Staging for rows already in fixed point ("Coordinates": the wire's x/y, docs/architecture.md):
 * x and y as uint32 (kernel-owned, host-written), for hw_points_append_fixed. They share memory
 * with hw_stage_lon and hw_stage_lat (stage one kind of row at a time). Valid until the next
 * [grows] call. */
HW_API uint32_t *hw_stage_x(void);
HW_API uint32_t *hw_stage_y(void);

/* [grows] Projects the first n staged rows and appends them to the points held. With
 * HW_HAS_WEIGHT in flags the staged weights are used, otherwise each weight is 1. With
 * HW_HAS_TIME the staged times are kept (rows without a time get NaN, which no finite time
 * window contains). Returns the new number of points, or -1 if memory could not grow (the
 * points held are unchanged), or -2 (HW_APPEND_NEEDS_ARRIVAL_ORDER) if rows with times arrive
 * for points held in spatial order (see "Cost": nothing is appended; load the rows again). The
 * kernel may keep rows in another order (points without times are sorted spatially at the
 * next frame; see spatial.c), but "oldest" always means the first to arrive. */
HW_API int32_t hw_points_append(uint32_t n, uint32_t flags);
/* [grows] hw_points_append for rows staged with hw_stage_x/hw_stage_y: copied as they are, no
 * projection (y = 2^32 - 1: a row without a position). Same flags, result and ownership; the
 * staged weights and times as for hw_points_append. */
HW_API int32_t hw_points_append_fixed(uint32_t n, uint32_t flags);
/* [grows] Reserves room for `capacity` points in all, so a known total loads without
 * reallocation. Returns 0, or -1 if memory could not grow. */
HW_API int32_t hw_points_reserve(uint32_t capacity);
/* [grows] Puts the points held in spatial order now (see "Cost"), so a later frame does not
 * have to. Otherwise the first frame after hw_points_clear draws without it (data show as soon
 * as they are loaded) and the next frame sorts. Hosts call this when idle after a load, and
 * when appends pause: rows appended to points in spatial order wait in arrival order (drawn one
 * by one) until a frame merges them, at an eighth of the rows, or this, at a 64th. */
HW_API void hw_points_index(void);
/* What hw_points_drop_front returns for points in spatial order, which keep no arrival numbers:
 * nothing is dropped; load the rows again in arrival order (see "Cost"). */
#define HW_DROP_NEEDS_ARRIVAL_ORDER 4294967295u
/* hw_points_append's -2, as a positive number: -HW_APPEND_NEEDS_ARRIVAL_ORDER is returned. */
#define HW_APPEND_NEEDS_ARRIVAL_ORDER 2u
/* Forgets the oldest n points (a sliding window); returns the number left (or
 * HW_DROP_NEEDS_ARRIVAL_ORDER, above). n = 0 on points in arrival order keeps them in arrival
 * order from now on, as a drop does (until hw_points_clear). The rows held stay
 * where they are (the arrays' start steps forward); they move back once an append needs the
 * room, and a window's room grows once to a quarter more than it holds, so appends and drops
 * at a steady size move each row about once per quarter of the window that passes. */
HW_API uint32_t hw_points_drop_front(uint32_t n);
/* The pyramid levels a sliding window keeps up to date (bit l for level l): those frames have
 * asked for lately and their neighbours; the others are rebuilt from the rows when a frame
 * next needs them. 0 before the first hw_points_drop_front. */
HW_API uint32_t hw_window_levels(void);
/* Forgets all points (keeps their memory for reuse). */
HW_API void hw_points_clear(void);
/* Releases all point and frame memory back to the kernel's allocator. */
HW_API void hw_release(void);
HW_API uint32_t hw_points_count(void);
/* For tests and hosts that check the projection: the fixed-point x and y of the points held
 * (hw_points_count() each, uint32, kernel-owned, read-only; valid until the next [grows] call
 * or frame, which may put rows in spatial order: before the first frame or hw_points_index
 * they are in arrival order). */
HW_API const uint32_t *hw_points_x(void);
HW_API const uint32_t *hw_points_y(void);

/* ---- Projection only (server-side aggregation) --------------------------------------------- */

/* Projects the first n staged lon/lat rows (hw_stage_lon, hw_stage_lat; n is capped at
 * hw_stage_capacity()) to fixed point exactly as hw_points_append does (one function for
 * both), into hw_project_x() and hw_project_y(), without holding them. Returns n. A host bins
 * these x/y for a frame (see "Frames from a grid") and gets the pixels a frame from points
 * would. */
HW_API uint32_t hw_project_staged(uint32_t n);
/* Its results: hw_stage_capacity() uint32 each, kernel-owned, host-read; valid until the next
 * hw_project_staged. */
HW_API uint32_t *hw_project_x(void);
HW_API uint32_t *hw_project_y(void);

/* ---- Frames ------------------------------------------------------------------------------ */

/* [grows] Computes the density grid of one frame (see "Frames" above) and returns the largest
 * value in it, or -1 if memory could not grow. The grid is then at hw_frame_grid(). */
HW_API float hw_density(double x0, double y0, double zoom, uint32_t width, uint32_t height,
                 float radius, uint32_t aggregation);
/* Restricts the following frames to points whose time t satisfies t0 <= t < t1 (NaN for t0 or
 * t1: unbounded on that side; without times held, a bounded window shows nothing). With
 * half_life > 0 each point's weight is multiplied by 2^(-(t_ref - t) / half_life), where t_ref
 * is t1 when finite, else the latest time held. When the times held are non-decreasing
 * (data in time order), a frame visits only the rows inside the window. */
HW_API void hw_time_window(double t0, double t1, double half_life);

/* [grows] Splats ahead the first frame after a load while the load's rows arrive in parts: the
 * first call sizes and zeroes the grid of a frame with these arguments, exactly as hw_density
 * would, and splats the rows held into it; each later call with the same arguments splats
 * the rows appended since; each call at most `limit` rows (the next call goes on from there,
 * so a host can splat in slices between other work). The next hw_density with the same arguments (and time window)
 * then splats only the rows not yet splatted and finishes as usual: the same
 * frame, bit for bit, as hw_density over every row (each cell receives the same additions in
 * the same order). Only for the frame that would splat every row held in arrival order: the
 * first frame since hw_points_clear (no frame drawn, no hw_points_index), rows without times,
 * no bounded time window, no hw_points_drop_front. Returns the rows the frame holds so far, or
 * -1 when it cannot be splatted ahead (that case, or memory): hw_density then draws as usual.
 * Arguments that differ from the last call start again; any other frame (hw_density with
 * other arguments, hw_grid_begin) and hw_points_clear forget it. The last frame drawn is
 * not readable after this call (hw_colorize, hw_dots, hw_frame_count_near): draw it again. */
HW_API int32_t hw_density_ahead(double x0, double y0, double zoom, uint32_t width,
                                uint32_t height, float radius, uint32_t aggregation,
                                uint32_t limit);

/* ---- Frames from a grid (server-side aggregation) ----------------------------------------------
 * A host that aggregates rows itself (heatwidget/aggregate) hands the kernel the binned grid of
 * a frame instead of points; the kernel then runs the same footprint, "mean" division,
 * read-back, quantiles, colours as hw_density. The grid is the frame's padded grid: gw x gh
 * cells of f x f pixels, row-major, top row first, where cell (i, j) holds the rows whose
 * position in the frame (heat.h "Frames") is (px, py) with floor((px + margin) / f) = i and
 * floor((py + margin) / f) = j, each world copy counted (longitude wraps). At radius 0,
 * f = 1 and margin = 0: a cell is a pixel. */

/* [grows] Sizes a frame of width x height pixels for `radius` and `aggregation` exactly as
 * hw_density would, and returns its grid to fill: 3 * gw * gh float32, zeroed, kernel-owned,
 * host-written, in three planes: the sum of weights, the number of rows, and the largest
 * weight of each cell (0 where none); or NULL if memory could not grow. The geometry is at
 * hw_grid_geometry(). Valid until the next [grows] call other than hw_density_grid. */
HW_API float *hw_grid_begin(uint32_t width, uint32_t height, float radius, uint32_t aggregation);
/* The last hw_grid_begin's geometry: 4 uint32 {f, margin, gw, gh} (kernel-owned, read-only). */
HW_API const uint32_t *hw_grid_geometry(void);
/* [grows] The frame from the grid filled since hw_grid_begin, placed at the world pixel
 * (x0, y0) at `zoom` (for hit-testing): as hw_density, returns the largest value of the
 * density, then at hw_frame_grid(), or -1 (memory, or no hw_grid_begin before it). Reading
 * the planes it needs (sum, count, both for "mean", max), it leaves them as they are.
 * hw_frame_count_near then sums the counts of the cells whose centre lies within `radius`
 * (at least f / 2) of the position: a cell's rows are known to within its f pixels. */
HW_API float hw_density_grid(double x0, double y0, double zoom);

/* The last frame's density: width*height float32, row-major, top row first. */
HW_API float *hw_frame_grid(void);
/* [grows] The q-quantile (0..1) of the last frame's non-zero densities (0 if there are none;
 * nearest rank). */
HW_API float hw_frame_quantile(float q);

/* The colour table: 256 RGBA entries (kernel-owned, host-written). Entry 0 is the colour of
 * vmin, entry 255 of vmax. The kernel multiplies each entry's alpha by the alpha ramp
 * min(1, i / 64), so faint heat fades into the map. */
HW_API uint8_t *hw_lut(void);

/* Colour-maps the last frame into hw_frame_rgba(): t = scale((v - vmin) / (vmax - vmin))
 * clamped to [0, 1], colour = lut[round(t * 255)]. Pixels with v <= 0 or v < threshold are
 * fully transparent. For HW_SCALE_LOG, t = log(v / vmin) / log(vmax / vmin), with vmin taken
 * as vmax / 1000 when vmin <= 0. */
HW_API void hw_colorize(float vmin, float vmax, uint32_t scale, float threshold);
/* The last colour-mapped frame: width*height*4 bytes RGBA (not premultiplied). */
HW_API uint8_t *hw_frame_rgba(void);

/* ---- Dots up close ------------------------------------------------------------------------- */

/* Draws the rows of the last frame's view and time window as dots over its colours
 * (hw_frame_rgba, after hw_colorize), cross-faded with the heat by `mix` in [0, 1]: the heat's
 * alpha is multiplied by 1 - mix and each dot is composited over it ("over", straight alpha)
 * at alpha mix times its table entry's alpha. So mix 0 leaves the frame exactly as it was
 * (no dot is drawn) and mix 1 leaves no heat. A dot is the pixels whose centre lies within
 * `radius` pixels (0..64) of the point's frame position, always including the pixel the point
 * lands in (heat.h "Frames"), with an outline one pixel wide of rgb(20, 20, 20) at alpha
 * mix from radius 2 on (alphas are rounded to 1/255); a point is drawn at every world copy that meets the frame, and
 * later rows over earlier ones.
 * Colour: the table entry round(255 * t), t = (w - lo) / (hi - lo) clamped to [0, 1], over the
 * weights held lo..hi (hw_dots_domain; time decay does not change a dot's colour); rows without
 * weights, or all of one weight, take entry 200 (the bright end, as hot heat). The table's own
 * alpha is used, without the heat's alpha ramp.
 * Cost: the rows of the level-8 tiles the frame meets (points in spatial order), else the rows
 * of the time window, plus one pass over the frame's pixels; the domain is measured once per
 * change of the rows held (O(N), no memory). At most `cap` rows are drawn (0: none): where
 * the rows visited outnumber it, every k-th of them (k = ceil(visited / cap)), so the dots
 * thin out evenly over the view rather than stop at some tile.
 * Returns the number of rows drawn (each once, whatever its copies), or -1 when no frame has
 * been drawn to draw over. Draws the points held: over a frame from a grid (hw_density_grid)
 * those are whatever the host loaded besides. Does not grow. */
HW_API int32_t hw_dots(float radius, float mix, uint32_t cap);
/* The weight domain the last hw_dots used: 2 float32 {lo, hi} (kernel-owned, read-only). */
HW_API const float *hw_dots_domain(void);

/* Points of the last frame's view and time window whose frame position lies within `radius`
 * pixels of the frame position (px, py) (positions as in "Frames" above). */
HW_API uint32_t hw_frame_count_near(double px, double py, float radius);

/* Bytes of linear memory the kernel has reserved (for memory budgets and tests). */
HW_API uint32_t hw_memory_bytes(void);

#endif

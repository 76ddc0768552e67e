/* memory.c — the kernel's allocator: the kernel owns all of its linear memory (heat.h). */
#include "kernel.h"

/* ---- Memory -------------------------------------------------------------------------------
 * A first-fit allocator over one contiguous heap that grows with memory.grow. The kernel holds
 * a handful of large buffers (points, frame grids), so a simple list of blocks is enough; free
 * blocks are merged with free neighbours so that reallocating a growing buffer reuses space. */

extern unsigned char __heap_base;

typedef struct Block {
  uint32_t size; /* bytes of the block, header included, multiple of 16 */
  uint32_t used;
  uint32_t pad[2]; /* keeps payloads 16-byte aligned for SIMD */
} Block;

static unsigned char *heap_start;
static unsigned char *heap_end;

static void heap_init(void) {
  if (heap_start) return;
  uintptr_t base = ((uintptr_t)&__heap_base + 15u) & ~(uintptr_t)15u;
  heap_start = heap_end = (unsigned char *)base;
}

static int heap_extend(uint32_t bytes) {
  uintptr_t limit = (uintptr_t)__builtin_wasm_memory_size(0) * 65536u;
  uintptr_t need = (uintptr_t)heap_end + bytes;
  if (need < (uintptr_t)heap_end) return -1; /* wrapped past 4 GiB */
  if (need > limit) {
    uintptr_t pages = (need - limit + 65535u) / 65536u;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return -1;
  }
  heap_end += bytes;
  return 0;
}

void *hw_malloc(uint32_t bytes) {
  heap_init();
  if (bytes > 0xF0000000u) return NULL;
  uint32_t need = (bytes + sizeof(Block) + 15u) & ~15u;
  Block *last = NULL;
  for (unsigned char *p = heap_start; p < heap_end; p += ((Block *)p)->size) {
    Block *b = (Block *)p;
    last = b;
    if (b->used || b->size < need) continue;
    if (b->size - need >= 64u) { /* split: the rest stays free */
      Block *rest = (Block *)(p + need);
      rest->size = b->size - need;
      rest->used = 0;
      b->size = need;
    }
    b->used = 1;
    return b + 1;
  }
  if (last && !last->used) { /* grow the free tail block in place */
    if (heap_extend(need - last->size)) return NULL;
    last->size = need;
    last->used = 1;
    return last + 1;
  }
  Block *b = (Block *)heap_end;
  if (heap_extend(need)) return NULL;
  b->size = need;
  b->used = 1;
  return b + 1;
}

void hw_free(void *ptr) {
  if (!ptr) return;
  ((Block *)ptr - 1)->used = 0;
  /* merge runs of free blocks; the list is short (a dozen blocks at most) */
  for (unsigned char *p = heap_start; p < heap_end; p += ((Block *)p)->size) {
    Block *b = (Block *)p;
    if (b->used) continue;
    while (p + b->size < heap_end && !((Block *)(p + b->size))->used)
      b->size += ((Block *)(p + b->size))->size;
  }
}

/* (Re)allocates a buffer of `count` 4-byte cells when its capacity is short; contents are
 * lost. Buffers only grow, so panning and zooming at one size allocate nothing. */
int fit(void *buf, uint32_t *cap, uint32_t count) {
  void **p = (void **)buf;
  if (count <= *cap && *p) return 0;
  hw_free(*p);
  *p = hw_malloc(count * 4u);
  *cap = *p ? count : 0;
  return *p ? 0 : -1;
}

uint32_t hw_memory_bytes(void) { return (uint32_t)__builtin_wasm_memory_size(0) * 65536u; }

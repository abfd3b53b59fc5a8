/* alloc.c - malloc interception for race builds.
 *
 * The race library defines malloc and friends; glibc supports replacing
 * them, and we delegate the allocation itself to glibc's own allocator
 * (__libc_malloc...), so behaviour and performance stay glibc's. Each live
 * block is recorded (size, allocating goroutine, its stack) in a hash table
 * with per-bucket locks, for "Location is heap block of size N ...
 * allocated by goroutine M". Freeing a block writes it, and so does
 * realloc the old one, as the detector sees them (so an unordered access
 * by another goroutine is reported). The write stays in the shadow, so
 * an access after the free that is not ordered after it is reported too
 * (a use after free, until the address is handed out again). Each block
 * handed out starts with its shadow cleared: a block at a reused address
 * has no history. Only a block over a page where some block ended can
 * find anything there, so only those are cleared (shadow.c notes the
 * pages): a fresh block's shadow stays untouched. The detector's own
 * memory comes from glibc directly (race_internal_alloc) and is never
 * recorded. */
#include "detector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

enum { BUCKETS = 1 << 14 };

struct block {
    struct block *next;
    struct race_block_desc d;
};

static struct {
    rt_lock lock;
    struct block *head;
} table[BUCKETS];

void *race_internal_alloc(size_t n) {
    void *p = __libc_malloc(n);
    if (!p) rt_fatal("race detector: out of memory");
    return p;
}

void *race_internal_calloc(size_t n, size_t size) {
    void *p = __libc_calloc(n, size);
    if (!p) rt_fatal("race detector: out of memory");
    return p;
}

void race_internal_free(void *p) { __libc_free(p); }

static unsigned bucket_of(uintptr_t p) {
    return (unsigned)(((uint64_t)p * 0x9E3779B97F4A7C15ull) >> (64 - 14));
}

/* A block this large may come straight from mmap, over memory the
 * program once mapped, checked and unmapped itself: its shadow is cleared
 * whatever, which gives whole shadow pages back rather than touching them. */
enum { ALWAYS_CLEARED = 32 << 10 };

static void record(void *p, size_t size, uintptr_t pc) {
    if (!p) return;
    if (size >= ALWAYS_CLEARED || race_shadow_may_hold_records((uintptr_t)p, size))
        race_shadow_clear((uintptr_t)p, size);
    struct block *b = __libc_malloc(sizeof *b);
    if (!b) return;
    struct race_g *rg = race_cur;
    b->d.start = (uintptr_t)p;
    b->d.size = size;
    b->d.goid = rg ? rg->goid : 0;
    b->d.depth = rg ? race_current_stack(rg, pc, b->d.pcs, 16) : 0;
    unsigned i = bucket_of((uintptr_t)p);
    rt_lock_acquire(&table[i].lock);
    b->next = table[i].head;
    table[i].head = b;
    rt_lock_release(&table[i].lock);
}

/* The records of the blocks freed last, so that a use after free can
 * still name the block it was in: each stays until FREED_KEPT newer frees
 * have come, or is only looked at when no live block holds the address. */
enum { FREED_KEPT = 1024 };
static struct {
    rt_lock lock;
    unsigned next;
    struct block *b[FREED_KEPT];
} freed;

static void keep_freed(struct block *b) {
    rt_lock_acquire(&freed.lock);
    struct block *oldest = freed.b[freed.next % FREED_KEPT];
    freed.b[freed.next++ % FREED_KEPT] = b;
    rt_lock_release(&freed.lock);
    __libc_free(oldest);
}

/* Forget p's record; returns its size, 0 if unknown. */
static size_t forget(void *p) {
    unsigned i = bucket_of((uintptr_t)p);
    struct block *found = NULL;
    rt_lock_acquire(&table[i].lock);
    for (struct block **pp = &table[i].head; *pp; pp = &(*pp)->next)
        if ((*pp)->d.start == (uintptr_t)p) {
            found = *pp;
            *pp = found->next;
            break;
        }
    rt_lock_release(&table[i].lock);
    if (!found) return 0;
    size_t size = found->d.size;
    keep_freed(found);
    return size;
}

static bool holds(const struct block *b, uintptr_t addr) {
    return b && addr >= b->d.start && addr < b->d.start + (b->d.size ? b->d.size : 1);
}

bool race_heap_block(uintptr_t addr, struct race_block_desc *out) {
    for (unsigned i = 0; i < BUCKETS; i++) {
        if (!table[i].head) continue;
        rt_lock_acquire(&table[i].lock);
        for (struct block *b = table[i].head; b; b = b->next)
            if (holds(b, addr)) {
                *out = b->d;
                rt_lock_release(&table[i].lock);
                return true;
            }
        rt_lock_release(&table[i].lock);
    }
    bool found = false;
    rt_lock_acquire(&freed.lock);
    for (unsigned k = 1; k <= FREED_KEPT && !found; k++) {
        const struct block *b = freed.b[(freed.next - k) % FREED_KEPT];
        if (holds(b, addr)) {
            *out = b->d;
            found = true;
        }
    }
    rt_lock_release(&freed.lock);
    return found;
}

int race_span_by_start(const void *a, const void *b) {
    uintptr_t x = ((const struct race_span *)a)->start, y = ((const struct race_span *)b)->start;
    return x < y ? -1 : x > y;
}

/* The finder calls this with the world stopped; only threads the runtime
 * did not create can record blocks meanwhile, and those may be missed
 * (docs/race.md lists what the trace cannot see). */
struct race_span *race_heap_spans(size_t *n) {
    size_t count = 0;
    for (unsigned i = 0; i < BUCKETS; i++)
        for (struct block *b = table[i].head; b; b = b->next) count++;
    struct race_span *spans = race_internal_alloc((count ? count : 1) * sizeof *spans);
    size_t k = 0;
    for (unsigned i = 0; i < BUCKETS && k < count; i++) {
        if (!table[i].head) continue;
        rt_lock_acquire(&table[i].lock);
        for (struct block *b = table[i].head; b && k < count; b = b->next)
            spans[k++] = (struct race_span){b->d.start, b->d.start + (b->d.size ? b->d.size : 1)};
        rt_lock_release(&table[i].lock);
    }
    qsort(spans, k, sizeof *spans, race_span_by_start);
    *n = k;
    return spans;
}

/* Blocks up to this size are checked whole when freed or moved; a larger
 * one would fault in shadow pages the program never touched. */
enum { CHECKED_RELEASE_MAX = 1 << 20 };

/* Ends p's life, for free and realloc alike (C ends the old object of a
 * realloc even when the new one starts at the same address): every byte
 * of it is written, so a racing access is a use-after-free in waiting.
 * The write stays until the address is handed out again (record), which a
 * realloc in place does at once. A block too large to check is forgotten
 * at once instead. */
static void release_block(void *p, uintptr_t pc) {
    size_t size = forget(p);
    if (!size) return;
    race_shadow_note_ended((uintptr_t)p, size);
    struct race_g *rg = race_cur;
    if (rg && !rg->ignore && size <= CHECKED_RELEASE_MAX)
        race_access_range(rg, (uintptr_t)p, size, true, pc);
    else race_shadow_clear((uintptr_t)p, size);
}

void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    record(p, n, (uintptr_t)__builtin_return_address(0));
    return p;
}

void free(void *p) {
    if (!p) return;
    release_block(p, (uintptr_t)__builtin_return_address(0));
    __libc_free(p);
}

void *calloc(size_t n, size_t size) {
    void *p = __libc_calloc(n, size);
    record(p, n * size, (uintptr_t)__builtin_return_address(0));
    return p;
}

void *realloc(void *old, size_t n) {
    if (old) release_block(old, (uintptr_t)__builtin_return_address(0));
    void *p = __libc_realloc(old, n);
    if (p) record(p, n, (uintptr_t)__builtin_return_address(0));
    return p;
}

void *memalign(size_t align, size_t n) {
    void *p = __libc_memalign(align, n);
    record(p, n, (uintptr_t)__builtin_return_address(0));
    return p;
}

void *aligned_alloc(size_t align, size_t n) { return memalign(align, n); }

int posix_memalign(void **out, size_t align, size_t n) {
    if (align < sizeof(void *) || (align & (align - 1))) return EINVAL;
    void *p = memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n) { return memalign(4096, n); }

/* shadow.c - shadow memory and the access check (FastTrack with byte
 * masks).
 *
 * Every 8 application bytes have a 16-byte cell: the last write and the
 * last read, each a shadow word (detector.h: byte mask, atomic bit, slot,
 * epoch). The cell of address x is found by arithmetic alone: three
 * application windows cover where Linux x86-64 puts programs — low
 * addresses (non-PIE binaries, brk heap), 0x5400.. to 0x5800.. (PIE
 * binaries and their heap) and 0x7c00.. to 0x8000.. (mmap, libraries,
 * thread stacks, goroutine stacks) — and map linearly into one 48 TiB
 * MAP_NORESERVE reservation at 0x1000_0000_0000, so only touched shadow
 * pages cost memory. Addresses outside the windows are not checked.
 *
 * A read overwrites the read word when the previous read happened before
 * it (or was by the same slot); two concurrent reads inflate the read word
 * into a read set, stored in a side table and guarded by a striped lock,
 * so a later write is checked against every concurrent reader (FastTrack's
 * read-shared state). A write checks the write word and the read word or
 * set, then owns the cell. Byte masks keep neighbouring fields of one
 * word from being confused; atomic accesses never race with each other.
 * Updates are plain atomic loads and stores: two racing accesses may lose
 * one update, but one of them still sees the other and reports. */
#include "detector.h"

#include <string.h>
#include <sys/mman.h>

#define SHADOW_BASE 0x100000000000ull
#define SHADOW_SIZE (48ull << 40)
#define LOW_END 0x100000000000ull
#define PIE_BEGIN 0x540000000000ull
#define PIE_END 0x580000000000ull
#define HIGH_BEGIN 0x7c0000000000ull
#define HIGH_END 0x800000000000ull

struct cell {
    _Atomic uint64_t w;
    _Atomic uint64_t r;
};

/* A read word holding this mask byte and this slot is a read-set index. */
#define RSET_TAG (0xFFull << 56 | SH_SLOT_MASK << SH_EPOCH_BITS)
static inline bool is_rset(uint64_t r) { return (r & RSET_TAG) == RSET_TAG && !sh_atomic(r); }

static bool shadow_ok;

static inline struct cell *cell_of(uintptr_t x) {
    uint64_t off;
    if (x < LOW_END) off = x;
    else if (x - PIE_BEGIN < PIE_END - PIE_BEGIN) off = (LOW_END) + (x - PIE_BEGIN);
    else if (x - HIGH_BEGIN < HIGH_END - HIGH_BEGIN)
        off = LOW_END + (PIE_END - PIE_BEGIN) + (x - HIGH_BEGIN);
    else return NULL;
    return (struct cell *)(SHADOW_BASE + (off & ~7ull) * 2);
}

void race_shadow_init(void) {
    void *p = mmap((void *)SHADOW_BASE, SHADOW_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)SHADOW_BASE) {
        rt_printf(2, "==goroutine race detector: cannot reserve shadow memory at %p; "
                     "races will not be detected\n", (void *)SHADOW_BASE);
        if (p != MAP_FAILED) munmap(p, SHADOW_SIZE);
        return;
    }
    madvise(p, SHADOW_SIZE, MADV_NOHUGEPAGE);
    shadow_ok = true;
}

/* ---- read sets ---- */

enum { RSET_STRIPES = 1024, RSET_MAX = 64 };

struct rset {
    uint32_t n;
    uint32_t next_free;
    uint64_t e[RSET_MAX];
};

static rt_lock stripes[RSET_STRIPES];
static rt_lock rsets_lock;
static struct rset **rsets;          /* index -> set; index 0 unused */
static uint32_t nrsets, rsets_cap, rset_free;

static rt_lock *stripe_of(struct cell *c) {
    return &stripes[((uintptr_t)c >> 4) % RSET_STRIPES];
}

static uint32_t rset_new(void) {
    rt_lock_acquire(&rsets_lock);
    uint32_t i = rset_free;
    if (i) {
        rset_free = rsets[i]->next_free;
    } else {
        if (nrsets + 1 >= rsets_cap) {
            uint32_t cap = rsets_cap ? 2 * rsets_cap : 1024;
            struct rset **grown = race_internal_alloc(cap * sizeof *grown);
            if (rsets) memcpy(grown, rsets, (nrsets + 1) * sizeof *grown);
            /* Old array stays valid for readers holding a stripe lock. */
            rsets = grown;
            rsets_cap = cap;
        }
        i = ++nrsets;
        rsets[i] = race_internal_alloc(sizeof(struct rset));
    }
    rsets[i]->n = 0;
    rt_lock_release(&rsets_lock);
    return i;
}

static struct rset *rset_get(uint64_t r) {
    rt_lock_acquire(&rsets_lock);
    struct rset *s = rsets[(uint32_t)(r & 0xFFFFFFFFu)];
    rt_lock_release(&rsets_lock);
    return s;
}

static void rset_release(uint64_t r) {
    uint32_t i = (uint32_t)(r & 0xFFFFFFFFu);
    rt_lock_acquire(&rsets_lock);
    rsets[i]->next_free = rset_free;
    rset_free = i;
    rt_lock_release(&rsets_lock);
}

/* ---- the check ---- */

static inline bool happened_before(struct race_g *rg, uint64_t s) {
    return sh_slot(s) == rg->slot || sh_epoch(s) <= vc_get(&rg->vc, sh_slot(s));
}

static inline bool conflicts(uint64_t s, uint8_t mask, bool atomic) {
    return s && (sh_mask(s) & mask) && !(atomic && sh_atomic(s));
}

static void report_pair(struct race_g *rg, uintptr_t addr, size_t size, bool write, bool atomic,
                        uintptr_t pc, uint64_t prev, bool prev_write) {
    uintptr_t pcs[RT_MAX_FRAMES];
    int n = race_current_stack(rg, pc, pcs, RT_MAX_FRAMES);
    struct race_access_desc cur = {
        .addr = addr, .size = size, .write = write, .atomic = atomic, .slot = rg->slot,
        .epoch = rg->epoch, .goid = rg->goid, .pcs = pcs, .npcs = n,
    };
    struct race_access_desc old = {
        .addr = addr, .size = size, .write = prev_write, .atomic = sh_atomic(prev),
        .slot = sh_slot(prev), .epoch = sh_epoch(prev),
    };
    race_report(&cur, &old);
}

/* The read word is a set: check (write) or join (read) under its stripe. */
static void shared_reads(struct race_g *rg, struct cell *c, uintptr_t addr, size_t size,
                         bool write, bool atomic, uintptr_t pc, uint64_t me, uint8_t mask) {
    rt_lock *l = stripe_of(c);
    rt_lock_acquire(l);
    uint64_t r = atomic_load_explicit(&c->r, memory_order_relaxed);
    if (!is_rset(r)) {
        rt_lock_release(l);
        return;
    }
    struct rset *s = rset_get(r);
    if (write) {
        uint64_t racing = 0;
        for (uint32_t i = 0; i < s->n; i++)
            if (conflicts(s->e[i], mask, atomic) && !happened_before(rg, s->e[i])) racing = s->e[i];
        atomic_store_explicit(&c->r, 0, memory_order_relaxed);
        rset_release(r);
        rt_lock_release(l);
        if (racing) report_pair(rg, addr, size, write, atomic, pc, racing, false);
        return;
    }
    /* Drop readers we are ordered after, then add or replace our entry. */
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->n; i++)
        if (!happened_before(rg, s->e[i])) s->e[k++] = s->e[i];
    s->n = k;
    if (s->n < RSET_MAX) s->e[s->n++] = me;
    else s->e[RSET_MAX - 1] = me;
    rt_lock_release(l);
}

static void inflate(struct cell *c, uint64_t old, uint64_t me) {
    rt_lock *l = stripe_of(c);
    rt_lock_acquire(l);
    if (atomic_load_explicit(&c->r, memory_order_relaxed) == old) {
        uint64_t tag = RSET_TAG | rset_new();
        struct rset *s = rset_get(tag);
        s->e[0] = old;
        s->e[1] = me;
        s->n = 2;
        atomic_store_explicit(&c->r, tag, memory_order_relaxed);
    }
    rt_lock_release(l);
}

/* One access within a single 8-byte word. */
static void check_word(struct race_g *rg, struct cell *c, uintptr_t addr, size_t size,
                       uint8_t mask, bool write, bool atomic, uintptr_t pc) {
    uint64_t me = sh_make(mask, atomic, rg->slot, rg->epoch);
    uint64_t w = atomic_load_explicit(&c->w, memory_order_relaxed);
    if (conflicts(w, mask, atomic) && !happened_before(rg, w)) {
        report_pair(rg, addr, size, write, atomic, pc, w, true);
        w = 0;
    }
    uint64_t r = atomic_load_explicit(&c->r, memory_order_relaxed);
    if (write) {
        if (is_rset(r)) {
            shared_reads(rg, c, addr, size, write, atomic, pc, me, mask);
        } else if (r) {
            if (conflicts(r, mask, atomic) && !happened_before(rg, r))
                report_pair(rg, addr, size, write, atomic, pc, r, false);
            atomic_store_explicit(&c->r, 0, memory_order_relaxed);
        }
        uint64_t keep = (w && sh_slot(w) == rg->slot) ? (uint64_t)(sh_mask(w) & ~mask) << 56 : 0;
        atomic_store_explicit(&c->w, me | keep, memory_order_relaxed);
        return;
    }
    if (is_rset(r)) {
        shared_reads(rg, c, addr, size, write, atomic, pc, me, mask);
    } else if (!r || happened_before(rg, r) || !(sh_mask(r) & mask)) {
        uint64_t keep = (r && sh_slot(r) == rg->slot) ? (uint64_t)(sh_mask(r) & ~mask) << 56 : 0;
        atomic_store_explicit(&c->r, me | keep, memory_order_relaxed);
    } else {
        inflate(c, r, me);
    }
}

/* The common case, decided without a clock: the cell was last written
 * and read by this slot (or never). Returns false when the full check is
 * needed. */
static inline bool own_cell_fast(struct race_g *rg, struct cell *c, uint64_t me, bool write) {
    uint64_t w = atomic_load_explicit(&c->w, memory_order_relaxed);
    uint64_t r = atomic_load_explicit(&c->r, memory_order_relaxed);
    if ((w && (sh_slot(w) != rg->slot || sh_atomic(w))) ||
        (r && (sh_slot(r) != rg->slot || sh_atomic(r) || is_rset(r))))
        return false;
    if (write) {
        atomic_store_explicit(&c->w, me, memory_order_relaxed);
        if (r) atomic_store_explicit(&c->r, 0, memory_order_relaxed);
    } else if (r != me) {
        atomic_store_explicit(&c->r, me, memory_order_relaxed);
    }
    return true;
}

static void check_range(struct race_g *rg, uintptr_t addr, size_t size, bool write, uintptr_t pc) {
    uintptr_t end = addr + size;
    /* Whole aligned words in one window: walk their cells directly. */
    uintptr_t first = (addr + 7) & ~(uintptr_t)7, last = end & ~(uintptr_t)7;
    struct cell *c0 = first < last ? cell_of(first) : NULL;
    if (c0 && cell_of(last - 8) == c0 + (last - first) / 8 - 1) {
        if (addr < first) check_range(rg, addr, first - addr, write, pc);
        uint64_t me = sh_make(0xFF, false, rg->slot, rg->epoch);
        size_t n = (last - first) / 8;
        for (size_t i = 0; i < n; i++)
            if (!own_cell_fast(rg, &c0[i], me, write))
                check_word(rg, &c0[i], addr, size, 0xFF, write, false, pc);
        if (last < end) check_range(rg, last, end - last, write, pc);
        return;
    }
    for (uintptr_t a = addr; a < end;) {
        uintptr_t word_end = (a & ~(uintptr_t)7) + 8;
        uintptr_t stop = word_end < end ? word_end : end;
        struct cell *c = cell_of(a);
        if (c) {
            unsigned off = a & 7, len = (unsigned)(stop - a);
            uint8_t mask = (uint8_t)(((1u << len) - 1) << off);
            check_word(rg, c, addr, size, mask, write, false, pc);
        }
        a = stop;
    }
}

/* Each access is one event: it advances the epoch and enters the history,
 * whatever its size. */
void race_access(struct race_g *rg, uintptr_t addr, size_t size, bool write, bool atomic,
                 uintptr_t pc) {
    if (!shadow_ok) return;
    rg->epoch++;
    race_history_add(rg, pc, EV_ACCESS);
    unsigned off = addr & 7;
    if (RT_LIKELY(off + size <= 8)) {
        struct cell *c = cell_of(addr);
        if (!c) return;
        uint8_t mask = (uint8_t)(((1u << size) - 1) << off);
        if (mask == 0xFF && !atomic &&
            own_cell_fast(rg, c, sh_make(0xFF, false, rg->slot, rg->epoch), write))
            return;
        check_word(rg, c, addr, size, mask, write, atomic, pc);
        return;
    }
    check_range(rg, addr, size, write, pc);
}

void race_access_range(struct race_g *rg, uintptr_t addr, size_t size, bool write, uintptr_t pc) {
    if (!shadow_ok || size == 0) return;
    rg->epoch++;
    race_history_add(rg, pc, EV_ACCESS);
    check_range(rg, addr, size, write, pc);
}

void race_shadow_clear(uintptr_t addr, size_t size) {
    if (!shadow_ok || size == 0) return;
    uintptr_t a = addr & ~(uintptr_t)7, end = addr + size;
    struct cell *first = cell_of(a), *last = cell_of(end - 1);
    if (!first || !last || last < first) return;
    char *lo = (char *)first, *hi = (char *)(last + 1);
    /* Large ranges: whole pages go back to the kernel (zero on next use),
     * which also costs no page faults for shadow never touched. */
    if (hi - lo >= 64 << 10) {
        char *plo = (char *)(((uintptr_t)lo + 4095) & ~(uintptr_t)4095);
        char *phi = (char *)((uintptr_t)hi & ~(uintptr_t)4095);
        memset(lo, 0, (size_t)(plo - lo));
        madvise(plo, (size_t)(phi - plo), MADV_DONTNEED);
        memset(phi, 0, (size_t)(hi - phi));
        return;
    }
    memset(lo, 0, (size_t)(hi - lo));
}

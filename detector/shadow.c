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
 * it and covered no other bytes (or was its own, in the same segment); two
 * concurrent reads, or reads of different bytes, inflate the read word
 * into a read set, stored in a side table and guarded by a striped lock,
 * so a later write is checked against every reader (FastTrack's
 * read-shared state). A write checks the write word and the read word or
 * set, then owns the bytes it wrote; records of other bytes stay, and a
 * word whose bytes were written by different goroutines (or across a
 * release) is split into a cell per byte. Byte masks keep neighbouring
 * fields of one word apart; atomic accesses never race with each other.
 * Updates are plain atomic loads and stores: two racing accesses may lose
 * one update, but one of them still sees the other and reports. */
#include "detector.h"
#include "race_abi.h"

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

/* The windows laid end to end: x's offset there, or APP_NONE outside. */
#define APP_SIZE (LOW_END + (PIE_END - PIE_BEGIN) + (HIGH_END - HIGH_BEGIN))
#define APP_NONE UINT64_MAX
static inline uint64_t app_offset(uintptr_t x) {
    if (x < LOW_END) return x;
    if (x - PIE_BEGIN < PIE_END - PIE_BEGIN) return LOW_END + (x - PIE_BEGIN);
    if (x - HIGH_BEGIN < HIGH_END - HIGH_BEGIN) return LOW_END + (PIE_END - PIE_BEGIN) + (x - HIGH_BEGIN);
    return APP_NONE;
}

static inline struct cell *cell_of(uintptr_t x) {
    uint64_t off = app_offset(x);
    if (off == APP_NONE) return NULL;
    return (struct cell *)(SHADOW_BASE + (off & ~7ull) * 2);
}

/* Pages (4 KiB of the windows) where a heap block ended (alloc.c): only
 * those can leave records in the shadow of a block malloc hands out
 * later, so only a block over one of them needs its shadow cleared.
 * Clearing every block's would fault in its shadow pages, memory that
 * fresh blocks never touched through the detector would not use (about
 * 2 KiB per goroutine parked on a channel of its own). One bit per page,
 * in a reservation the kernel backs only where bits are set. */
static _Atomic uint64_t *ended_pages;

static bool ended_range(uintptr_t addr, size_t size, uint64_t *first, uint64_t *last) {
    uint64_t lo = app_offset(addr), hi = app_offset(addr + size - 1);
    if (!ended_pages || size == 0 || lo == APP_NONE || hi == APP_NONE || hi < lo) return false;
    *first = lo >> 12;
    *last = hi >> 12;
    return true;
}

void race_shadow_note_ended(uintptr_t addr, size_t size) {
    uint64_t first, last;
    if (!ended_range(addr, size, &first, &last)) return;
    for (uint64_t pg = first; pg <= last; pg++)
        if (!(atomic_load_explicit(&ended_pages[pg / 64], memory_order_relaxed) & (1ull << pg % 64)))
            atomic_fetch_or_explicit(&ended_pages[pg / 64], 1ull << pg % 64, memory_order_relaxed);
}

bool race_shadow_may_hold_records(uintptr_t addr, size_t size) {
    uint64_t first, last;
    if (!ended_range(addr, size, &first, &last)) return true;
    for (uint64_t pg = first; pg <= last; pg++)
        if (atomic_load_explicit(&ended_pages[pg / 64], memory_order_relaxed) & (1ull << pg % 64))
            return true;
    return false;
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
    size_t bitmap = APP_SIZE / 4096 / 8;
    void *bits = mmap(NULL, bitmap, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (bits != MAP_FAILED) ended_pages = bits;
    shadow_ok = true;
}

/* ---- side tables: read sets and split words ----
 * Items are found by a 32-bit index kept in the shadow word. The index
 * array grows by copying and old arrays are never freed, so a lookup needs
 * no lock: an index is published (stored in shadow with release order)
 * only after its item is in the array, and every later array copies it.
 * Released items wait in a FIFO until SIDE_QUARANTINE others have been
 * released after them, so a lock-free reader that loaded an index just
 * before its release (refresh_own_read, check_bytes) never finds the item
 * already serving another word. */

enum { SIDE_QUARANTINE = 256 };

struct side_table {
    rt_lock lock;              /* serialises new and release */
    void **_Atomic items;      /* index -> item; index 0 unused */
    uint32_t n, cap;
    uint32_t *free_ring;       /* released indices, oldest at free_head */
    uint32_t free_head, nfree;
};

static void side_grow(struct side_table *t) {
    uint32_t cap = t->cap ? 2 * t->cap : 1024;
    void **grown = race_internal_alloc(cap * sizeof *grown);
    uint32_t *ring = race_internal_alloc(cap * sizeof *ring);
    void **items = atomic_load_explicit(&t->items, memory_order_relaxed);
    if (items) memcpy(grown, items, (t->n + 1) * sizeof *grown);
    for (uint32_t k = 0; k < t->nfree; k++) ring[k] = t->free_ring[(t->free_head + k) % t->cap];
    if (t->free_ring) race_internal_free(t->free_ring);
    atomic_store_explicit(&t->items, grown, memory_order_release);
    t->free_ring = ring;
    t->free_head = 0;
    t->cap = cap;
}

static uint32_t side_new(struct side_table *t, size_t item_size) {
    rt_lock_acquire(&t->lock);
    uint32_t i;
    if (t->nfree > SIDE_QUARANTINE) {
        i = t->free_ring[t->free_head];
        t->free_head = (t->free_head + 1) % t->cap;
        t->nfree--;
    } else {
        if (t->n + 1 >= t->cap) side_grow(t);
        i = ++t->n;
        atomic_load_explicit(&t->items, memory_order_relaxed)[i] = race_internal_alloc(item_size);
    }
    memset(atomic_load_explicit(&t->items, memory_order_relaxed)[i], 0, item_size);
    rt_lock_release(&t->lock);
    return i;
}

static void *side_get(struct side_table *t, uint32_t i) {
    return atomic_load_explicit(&t->items, memory_order_acquire)[i];
}

static void side_release(struct side_table *t, uint32_t i) {
    rt_lock_acquire(&t->lock);
    t->free_ring[(t->free_head + t->nfree++) % t->cap] = i;
    rt_lock_release(&t->lock);
}

/* ---- read sets ---- */

enum { RSET_STRIPES = 1024, RSET_MAX = 64 };

/* Changed under the cell's stripe lock, except that a reader moves its
 * own entry to a later epoch without it (refresh_own_read). */
struct rset {
    uint32_t n;
    uint64_t e[RSET_MAX];
};

static race_spinlock stripes[RSET_STRIPES];
static struct side_table rsets;

static race_spinlock *stripe_of(struct cell *c) {
    return &stripes[((uintptr_t)c >> 4) % RSET_STRIPES];
}

static uint64_t rset_new(void) { return RSET_TAG | side_new(&rsets, sizeof(struct rset)); }
static struct rset *rset_get(uint64_t r) { return side_get(&rsets, (uint32_t)r); }
static void rset_release(uint64_t r) { side_release(&rsets, (uint32_t)r); }

/* ---- split words ----
 * A word whose bytes were last written by different goroutines, or by one
 * goroutine on both sides of a release (adjacent int fields of a struct),
 * needs a write record per byte: one record for the word would either
 * forget a write or give it a wrong epoch. Such a word's write word holds
 * SPLIT_TAG and an index; its eight bytes then have a cell each, used like
 * a whole cell with a one-byte mask (so they never split again). It takes
 * unordered or release-separated writes to different bytes of one word, so
 * splits are rare; a word stays split until its shadow is cleared.
 * Clearing a range below 32 KiB (a freed block, a finished goroutine's
 * stack) returns its words' read sets and per-byte cells; larger ranges
 * give their shadow pages back to the kernel unread, and theirs stay
 * allocated. */
#define SPLIT_TAG (0xFFull << 56 | SH_ATOMIC | SH_SLOT_MASK << SH_EPOCH_BITS)
static inline bool is_split(uint64_t w) { return (w & ~SH_EPOCH_MASK) == SPLIT_TAG; }

struct split {
    struct cell byte[8];
};

static struct side_table splits;

static inline uint64_t with_mask(uint64_t s, uint8_t mask) {
    return mask ? (s & ~(0xFFull << 56)) | (uint64_t)mask << 56 : 0;
}

/* ---- the check ---- */

static inline bool conflicts(uint64_t s, uint8_t mask, bool atomic) {
    return s && (sh_mask(s) & mask) && !(atomic && sh_atomic(s));
}

/* A record of rg's own in its current segment, of the same kind: one
 * record can stand for both accesses (see says_recorded below). */
static inline bool mergeable(const struct race_g *rg, uint64_t s, bool atomic) {
    return sh_slot(s) == rg->slot && sh_atomic(s) == atomic && sh_epoch(s) >= rg->segment_start;
}

void race_report_pair(struct race_g *rg, uintptr_t addr, size_t size, bool write, bool atomic,
                      uintptr_t pc, uint64_t prev, bool prev_write, uintptr_t prev_leaf_pc) {
    uintptr_t pcs[RT_MAX_FRAMES];
    int n = race_current_stack(rg, pc, pcs, RT_MAX_FRAMES);
    struct race_access_desc cur = {
        .addr = addr, .size = size, .write = write, .atomic = atomic, .slot = rg->slot,
        .epoch = rg->epoch, .goid = rg->goid, .pcs = pcs, .npcs = n,
    };
    struct race_access_desc old = {
        .addr = addr, .size = size, .write = prev_write, .atomic = sh_atomic(prev),
        .slot = sh_slot(prev), .epoch = sh_epoch(prev), .leaf_pc = prev_leaf_pc,
    };
    race_report(&cur, &old);
}

/* The read word is a set: check (write) or join (read) under its stripe.
 * Entries keep their byte masks: an access only supersedes the bytes it
 * covers. */
static void shared_reads(struct race_g *rg, struct cell *c, uintptr_t addr, size_t size,
                         bool write, bool atomic, uintptr_t pc, uint64_t me, uint8_t mask) {
    race_spinlock *l = stripe_of(c);
    race_spin_lock(l);
    uint64_t r = atomic_load_explicit(&c->r, memory_order_relaxed);
    if (!is_rset(r)) {
        race_spin_unlock(l);
        return;
    }
    struct rset *s = rset_get(r);
    uint64_t racing = 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        uint64_t e = s->e[i];
        bool before = race_happened_before(rg, e);
        if (write && conflicts(e, mask, atomic) && !before) racing = e;
        /* A write ends every read of its bytes (reported if racing); a
         * read supersedes the reads of its bytes it is ordered after. */
        uint64_t rest = write || before ? with_mask(e, sh_mask(e) & ~mask) : e;
        if (rest) __atomic_store_n(&s->e[k++], rest, __ATOMIC_RELAXED);
    }
    if (!write) __atomic_store_n(&s->e[k < RSET_MAX ? k++ : RSET_MAX - 1], me, __ATOMIC_RELAXED);
    __atomic_store_n(&s->n, k, __ATOMIC_RELEASE);
    if (write && !k) {
        atomic_store_explicit(&c->r, 0, memory_order_relaxed);
        rset_release(r);
    }
    race_spin_unlock(l);
    if (racing) race_report_pair(rg, addr, size, write, atomic, pc, racing, false, 0);
}

/* The common read of a read-shared word: a goroutine already in the set
 * reads the same bytes again (a field several goroutines keep reading
 * between their releases). Its entry moves to this epoch by a plain store,
 * with no lock and no locked instruction (each costs ~10 ns on the VMs we
 * target); entries of others it is ordered after stay (a writer ordered
 * after this read is ordered after them too). The store is always a true
 * record of this read; landing while a locked change rewrites the set, it
 * can only overwrite another entry moved there, losing that record, as
 * two racing shadow updates can anywhere (the item itself cannot be
 * reused meanwhile: see SIDE_QUARANTINE). */
static inline __attribute__((always_inline)) bool refresh_own_read(uint64_t r, uint64_t me) {
    struct rset *s = rset_get(r);
    uint32_t n = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < RSET_MAX; i++) {
        if ((__atomic_load_n(&s->e[i], __ATOMIC_RELAXED) & ~SH_EPOCH_MASK) != (me & ~SH_EPOCH_MASK))
            continue;
        __atomic_store_n(&s->e[i], me, __ATOMIC_RELAXED);
        return true;
    }
    return false;
}

/* Turns the read word, if it still holds seen, into the set {kept, me}. */
static void inflate(struct cell *c, uint64_t seen, uint64_t kept, uint64_t me) {
    race_spinlock *l = stripe_of(c);
    race_spin_lock(l);
    if (atomic_load_explicit(&c->r, memory_order_relaxed) == seen) {
        uint64_t tag = rset_new();
        struct rset *s = rset_get(tag);
        s->e[0] = kept;
        s->e[1] = me;
        s->n = 2;
        atomic_store_explicit(&c->r, tag, memory_order_relaxed);
    }
    race_spin_unlock(l);
}

/* The read record of one byte of a word whose read word is r. */
static uint64_t byte_reads(uint64_t r, uint8_t bit) {
    if (!is_rset(r)) return with_mask(r, sh_mask(r) & bit);
    struct rset *s = rset_get(r);
    uint64_t found[RSET_MAX];
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n; i++)
        if (sh_mask(s->e[i]) & bit) found[n++] = with_mask(s->e[i], bit);
    if (n <= 1) return n ? found[0] : 0;
    uint64_t tag = rset_new();
    struct rset *own = rset_get(tag);
    memcpy(own->e, found, n * sizeof *found);
    own->n = n;
    return tag;
}

/* Gives c a cell per byte, each holding what c recorded of that byte;
 * returns c's new write word. */
static uint64_t split_word(struct cell *c) {
    race_spinlock *l = stripe_of(c);
    race_spin_lock(l);
    uint64_t w = atomic_load_explicit(&c->w, memory_order_relaxed);
    if (!is_split(w)) {
        uint64_t r = atomic_load_explicit(&c->r, memory_order_relaxed);
        uint32_t i = side_new(&splits, sizeof(struct split));
        struct split *sp = side_get(&splits, i);
        for (int b = 0; b < 8; b++) {
            uint8_t bit = (uint8_t)(1u << b);
            atomic_store_explicit(&sp->byte[b].w, with_mask(w, sh_mask(w) & bit),
                                  memory_order_relaxed);
            atomic_store_explicit(&sp->byte[b].r, r ? byte_reads(r, bit) : 0,
                                  memory_order_relaxed);
        }
        if (is_rset(r)) rset_release(r);
        atomic_store_explicit(&c->r, 0, memory_order_relaxed);
        w = SPLIT_TAG | i;
        atomic_store_explicit(&c->w, w, memory_order_release);
    }
    race_spin_unlock(l);
    return w;
}

static void check_word(struct race_g *rg, struct cell *c, uintptr_t addr, size_t size,
                       uint8_t mask, bool write, bool atomic, uintptr_t pc);

static void check_bytes(struct race_g *rg, uint64_t w, uintptr_t addr, size_t size, uint8_t mask,
                        bool write, bool atomic, uintptr_t pc) {
    struct split *sp = side_get(&splits, (uint32_t)(w & SH_EPOCH_MASK));
    for (int b = 0; b < 8; b++)
        if (mask & (1u << b))
            check_word(rg, &sp->byte[b], addr, size, (uint8_t)(1u << b), write, atomic, pc);
}

/* One access within a single 8-byte word. */
static void check_word(struct race_g *rg, struct cell *c, uintptr_t addr, size_t size,
                       uint8_t mask, bool write, bool atomic, uintptr_t pc) {
    uint64_t me = sh_make(mask, atomic, rg->slot, rg->epoch);
    uint64_t w = atomic_load_explicit(&c->w, memory_order_acquire);
    /* A write leaving other bytes' write record behind, which it cannot
     * stand for: each byte gets its own record. */
    if (write && w && !is_split(w) && (sh_mask(w) & ~mask) && !mergeable(rg, w, atomic))
        w = split_word(c);
    if (is_split(w)) {
        check_bytes(rg, w, addr, size, mask, write, atomic, pc);
        return;
    }
    if (conflicts(w, mask, atomic) && !race_happened_before(rg, w))
        race_report_pair(rg, addr, size, write, atomic, pc, w, true, 0);
    uint64_t r = atomic_load_explicit(&c->r, memory_order_relaxed);
    if (write) {
        if (is_rset(r)) {
            shared_reads(rg, c, addr, size, write, atomic, pc, me, mask);
        } else if (r) {
            if (conflicts(r, mask, atomic) && !race_happened_before(rg, r))
                race_report_pair(rg, addr, size, write, atomic, pc, r, false, 0);
            atomic_store_explicit(&c->r, with_mask(r, sh_mask(r) & ~mask), memory_order_relaxed);
        }
        /* w is ours from this segment, or covers no byte beyond mask. */
        uint64_t merged = w ? (uint64_t)(sh_mask(w) & ~mask) << 56 : 0;
        atomic_store_explicit(&c->w, me | merged, memory_order_relaxed);
        return;
    }
    if (is_rset(r)) {
        if (!refresh_own_read(r, me)) shared_reads(rg, c, addr, size, write, atomic, pc, me, mask);
    } else if (r && mergeable(rg, r, atomic)) {
        atomic_store_explicit(&c->r, me | (uint64_t)(sh_mask(r) & ~mask) << 56, memory_order_relaxed);
    } else if (!r || (race_happened_before(rg, r) && !(sh_mask(r) & ~mask))) {
        atomic_store_explicit(&c->r, me, memory_order_relaxed);
    } else {
        /* Unordered, or of bytes we do not cover: both stay. */
        inflate(c, r, race_happened_before(rg, r) ? with_mask(r, sh_mask(r) & ~mask) : r, me);
    }
}

/* A record of the same goroutine's from its current segment (which
 * began at segment_start) that covers me, an access by it: of the same kind (plain or atomic) and covering its bytes.
 * (Tagged words never match: no slot is the tags' all-ones slot.) */
static inline bool covers(uint64_t s, uint64_t me, uint64_t segment_start) {
    uint64_t kind = (me & 0xFFull << 56) | SH_ATOMIC | SH_SLOT_MASK << SH_EPOCH_BITS;
    return (s & kind) == (me & ~SH_EPOCH_MASK) && sh_epoch(s) >= segment_start;
}

/* Whether read set r holds an entry that covers me. Lock-free, as
 * refresh_own_read: a word many goroutines read (a flag others spin on)
 * would otherwise record each of our reads of it again, each one an
 * event that pushes older ones out of the history. */
static bool rset_covers(uint64_t r, uint64_t me, uint64_t segment_start) {
    struct rset *s = rset_get(r);
    uint32_t n = __atomic_load_n(&s->n, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < RSET_MAX; i++)
        if (covers(__atomic_load_n(&s->e[i], __ATOMIC_RELAXED), me, segment_start)) return true;
    return false;
}

/* Whether a cell with records w and r already says all that me, an
 * access by a goroutine whose segment began at segment_start, would
 * record: a read or write of ours from this segment
 * covers a read of the same kind; our write covers a write unless another
 * goroutine has read those bytes since (that read must be checked).
 * Nobody can be ordered after the earlier access without being after this
 * one, so this one needs no event. Atomic accesses count too: a mutex's
 * lock and unlock in one segment record its state word once. */
static inline __attribute__((always_inline)) bool
says_recorded(uint64_t w, uint64_t r, uint64_t me, uint64_t segment_start, bool write) {
    if (!write)
        return covers(r, me, segment_start) || covers(w, me, segment_start) ||
               (RT_UNLIKELY(is_rset(r)) && rset_covers(r, me, segment_start));
    return covers(w, me, segment_start) &&
           (!r || (!is_rset(r) && (!(sh_mask(r) & sh_mask(me)) || sh_slot(r) == sh_slot(me))));
}

/* The last foreign write and read records found to happen before us. A
 * range usually meets long runs of cells with the same record (one range
 * check, or one segment, wrote them all), so one clock lookup serves the
 * whole run. */
struct hb_cache {
    uint64_t w, r;
};

/* Whether record s is none or an access that happens before rg's
 * current access; false for the tag of a read set or a split word (whose
 * all-ones slot no goroutine has, and which is never cached). */
static inline bool ordered_before(struct race_g *rg, uint64_t s, uint64_t *cached) {
    if (!s || s == *cached || sh_slot(s) == rg->slot) return true;
    if (sh_slot(s) == SH_SLOT_MASK || sh_epoch(s) > race_vc_get(&rg->vc, sh_slot(s))) return false;
    *cached = s;
    return true;
}

/* Whether record s is none or a plain access by the slot of me: the
 * cheapest test, which a sweep over its own memory passes on every word. */
static inline bool own_plain_or_none(uint64_t s, uint64_t me) {
    uint64_t slot = SH_SLOT_MASK << SH_EPOCH_BITS;
    return !s || (s & (SH_ATOMIC | slot)) == (me & slot);
}

/* me, an access ordered after the records of c (r its read record), takes
 * them over. */
static inline void take_cell(struct cell *c, uint64_t r, uint64_t me, bool write) {
    if (write) {
        atomic_store_explicit(&c->w, me, memory_order_relaxed);
        if (r) atomic_store_explicit(&c->r, 0, memory_order_relaxed);
    } else {
        atomic_store_explicit(&c->r, me, memory_order_relaxed);
    }
}

/* The common case of a plain access, me, to a cell whose records w and r
 * are single accesses (not a read set or a split word) that all happen
 * before it: rg's own from earlier segments, or those of goroutines it
 * has synchronised with since. It takes over the records it replaces, as
 * FastTrack does, with no report: the read record for a read, both for a
 * write, each only if it covers no byte beyond me's (check_word keeps or
 * splits those). Returns false when check_word must decide. */
static inline __attribute__((always_inline)) bool
ordered_cell_take(struct race_g *rg, struct cell *c, uint64_t w, uint64_t r, uint64_t me, bool write,
                  struct hb_cache *seen) {
    uint8_t beyond = (uint8_t)~sh_mask(me);
    if ((sh_mask(r) & beyond) || (write && (sh_mask(w) & beyond))) return false;
    if (!(own_plain_or_none(w, me) && own_plain_or_none(r, me)) &&
        !(ordered_before(rg, w, &seen->w) && ordered_before(rg, r, &seen->r)))
        return false;
    take_cell(c, r, me, write);
    return true;
}

/* A read of a read-shared word whose set already holds rg's entry, after
 * the write w it is ordered after: check_word's outcome, inline. */
static inline __attribute__((always_inline)) bool
shared_read_refresh(struct race_g *rg, uint64_t w, uint64_t r, uint64_t me, struct hb_cache *seen) {
    return (!conflicts(w, sh_mask(me), sh_atomic(me)) || ordered_before(rg, w, &seen->w)) &&
           refresh_own_read(r, me);
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
        uint64_t segment_start = rg->segment_start;
        struct hb_cache seen = {0, 0};
        /* A cell with the same records as the one before it (the common
         * case: one range check or one segment wrote a run of them) gets
         * the same outcome: already recorded, or taken over. */
        enum { UNKNOWN, RECORDED, TAKEN } outcome = UNKNOWN;
        uint64_t run_w = 0, run_r = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t w = atomic_load_explicit(&c0[i].w, memory_order_relaxed);
            uint64_t r = atomic_load_explicit(&c0[i].r, memory_order_relaxed);
            if (outcome != UNKNOWN && w == run_w && r == run_r) {
                if (outcome == TAKEN) take_cell(&c0[i], r, me, write);
                continue;
            }
            run_w = w;
            run_r = r;
            if (says_recorded(w, r, me, segment_start, write)) {
                outcome = RECORDED;
            } else if (ordered_cell_take(rg, &c0[i], w, r, me, write, &seen)) {
                outcome = TAKEN;
            } else {
                outcome = UNKNOWN;
                if (write || !is_rset(r) || !shared_read_refresh(rg, w, r, me, &seen))
                    check_word(rg, &c0[i], first + 8 * i, 8, 0xFF, write, false, pc);
            }
        }
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
            check_word(rg, c, a, len, mask, write, false, pc);
        }
        a = stop;
    }
}

/* The same for a split word: every byte's cell must say it (a mutex's
 * state word shares its word with a field initialised by a plain store,
 * so its lock and unlock meet a split word). */
static bool split_recorded(const struct race_g *rg, uint64_t w, uint8_t mask, bool write,
                           bool atomic) {
    struct split *sp = side_get(&splits, (uint32_t)(w & SH_EPOCH_MASK));
    for (int b = 0; b < 8; b++) {
        if (!(mask & (1u << b))) continue;
        uint64_t bw = atomic_load_explicit(&sp->byte[b].w, memory_order_relaxed);
        uint64_t br = atomic_load_explicit(&sp->byte[b].r, memory_order_relaxed);
        if (!says_recorded(bw, br, sh_make((uint8_t)(1u << b), atomic, rg->slot, 0),
                           rg->segment_start, write))
            return false;
    }
    return true;
}

/* Each access that records something is one event: it advances the epoch
 * and enters the history, whatever its size. caller_sp: where the
 * instrumented caller's hook runs, 0 when unknown (detector.h:
 * race_frames_skipped). */
static inline __attribute__((always_inline)) void
access_at(struct race_g *rg, uintptr_t addr, size_t size, bool write, bool atomic, uintptr_t pc,
          uintptr_t caller_sp) {
    if (!shadow_ok) return;
    unsigned off = addr & 7;
    if (RT_LIKELY(off + size <= 8)) {
        struct cell *c = cell_of(addr);
        if (!c) return;
        uint8_t mask = (uint8_t)(((1u << size) - 1) << off);
        /* One load of each record serves every fast path below. */
        uint64_t w = atomic_load_explicit(&c->w, memory_order_relaxed);
        uint64_t r = atomic_load_explicit(&c->r, memory_order_relaxed);
        uint64_t kind = sh_make(mask, atomic, rg->slot, 0);
        if (RT_UNLIKELY(is_split(w)) ? split_recorded(rg, w, mask, write, atomic)
                                     : says_recorded(w, r, kind, rg->segment_start, write))
            return;
        if (RT_UNLIKELY(race_frames_skipped(rg, caller_sp, false)))
            race_end_skipped_frames(rg, caller_sp, false);
        rg->epoch++;
        race_history_add(rg, pc, EV_ACCESS);
        uint64_t me = kind | sh_epoch(rg->epoch);
        struct hb_cache none = {0, 0};
        if (is_rset(r)) {
            if (!write && shared_read_refresh(rg, w, r, me, &none)) return;
        } else if (!atomic && ordered_cell_take(rg, c, w, r, me, write, &none)) {
            return;
        }
        check_word(rg, c, addr, size, mask, write, atomic, pc);
        return;
    }
    rg->epoch++;
    race_history_add(rg, pc, EV_ACCESS);
    check_range(rg, addr, size, write, pc);
}

/* An atomic wider than a word (16 bytes, a 24-byte _Atomic struct) is
 * checked word by word: the range check records plain accesses, and
 * atomics must not race with each other. */
void race_access(struct race_g *rg, uintptr_t addr, size_t size, bool write, bool atomic,
                 uintptr_t pc) {
    if (!atomic || (addr & 7) + size <= 8) {
        access_at(rg, addr, size, write, atomic, pc, 0);
        return;
    }
    for (uintptr_t a = addr, end = addr + size; a < end;) {
        uintptr_t word_end = (a & ~(uintptr_t)7) + 8;
        uintptr_t stop = word_end < end ? word_end : end;
        access_at(rg, a, stop - a, write, true, pc, 0);
        a = stop;
    }
}

/* The instrumentation's plain accesses (race_abi.h) are defined here, not
 * with the other entry points in interface.c, so that each inlines the
 * check with its size and kind constant: the common case (a word this
 * goroutine already recorded in this segment) is then a few instructions. */
#define DEFINE_ACCESS(N)                                                                   \
    void __gorace_read##N(void *a) {                                                       \
        struct race_g *rg = race_cur;                                                      \
        if (RT_LIKELY(rg && !rg->ignore))                                                  \
            access_at(rg, (uintptr_t)a, N, false, false, (uintptr_t)__builtin_return_address(0), \
                      (uintptr_t)__builtin_frame_address(0));                                \
    }                                                                                      \
    void __gorace_write##N(void *a) {                                                      \
        struct race_g *rg = race_cur;                                                      \
        if (RT_LIKELY(rg && !rg->ignore))                                                  \
            access_at(rg, (uintptr_t)a, N, true, false, (uintptr_t)__builtin_return_address(0), \
                      (uintptr_t)__builtin_frame_address(0));                                 \
    }
DEFINE_ACCESS(1)
DEFINE_ACCESS(2)
DEFINE_ACCESS(4)
DEFINE_ACCESS(8)
DEFINE_ACCESS(16)

/* The accesses the runtime makes for a goroutine (race.h), a channel's
 * element and closed flag most of all: like the instrumentation's, one
 * word's check is inlined here rather than reached through
 * race_access_range. */
static inline __attribute__((always_inline)) void
runtime_access(const void *p, size_t n, bool write, uintptr_t pc) {
    struct race_g *rg = race_cur;
    if (!rg) return;
    note_stack_depth(rg);
    if (rg->ignore || !n) return;
    uintptr_t addr = (uintptr_t)p;
    if (RT_LIKELY((addr & 7) + n <= 8)) access_at(rg, addr, n, write, false, pc, 0);
    else race_access_range(rg, addr, n, write, pc);
}

void race_read_range_pc(const void *p, size_t n, uintptr_t pc) { runtime_access(p, n, false, pc); }
void race_write_range_pc(const void *p, size_t n, uintptr_t pc) { runtime_access(p, n, true, pc); }

/* A loop that sweeps the same memory again and again between two
 * releases checks the same range each time (the pass checks a loop's
 * range before the loop). The first check left our records on every word;
 * a later racing access by another goroutine meets them and is reported
 * then, so the repeats are skipped. */
void race_access_range(struct race_g *rg, uintptr_t addr, size_t size, bool write, uintptr_t pc) {
    if (!shadow_ok || size == 0) return;
    /* Within one word (a channel element, a flag): the word check is
     * cheaper and knows when the access is already recorded. */
    if ((addr & 7) + size <= 8) {
        access_at(rg, addr, size, write, false, pc, 0);
        return;
    }
    if (addr >= rg->range_lo && addr + size <= rg->range_hi &&
        rg->range_segment == rg->segment_start && (rg->range_write || !write))
        return;
    rg->epoch++;
    race_history_add(rg, pc, EV_ACCESS);
    check_range(rg, addr, size, write, pc);
    rg->range_lo = addr;
    rg->range_hi = addr + size;
    rg->range_segment = rg->segment_start;
    rg->range_write = write;
}

/* Returns the side tables' items that cells in [first, last] refer to. */
static void release_side_items(struct cell *first, struct cell *last) {
    for (struct cell *c = first; c <= last; c++) {
        uint64_t w = atomic_load_explicit(&c->w, memory_order_relaxed);
        uint64_t r = atomic_load_explicit(&c->r, memory_order_relaxed);
        if (is_rset(r)) rset_release(r);
        if (!is_split(w)) continue;
        uint32_t i = (uint32_t)(w & SH_EPOCH_MASK);
        struct split *sp = side_get(&splits, i);
        for (int b = 0; b < 8; b++) {
            uint64_t br = atomic_load_explicit(&sp->byte[b].r, memory_order_relaxed);
            if (is_rset(br)) rset_release(br);
        }
        side_release(&splits, i);
    }
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
    release_side_items(first, last);
    memset(lo, 0, (size_t)(hi - lo));
}

/* detector.h - the race detector's internals, shared by its source files.
 *
 * Happens-before by vector clocks, FastTrack-style: every goroutine runs in
 * a slot (a vector-clock index) and counts its events (memory accesses,
 * calls, returns) in an epoch; shadow memory keeps, per 8 bytes, the last
 * write and the last read as (slot, epoch, byte mask) words, and a read set
 * only while reads are truly shared. Slots are recycled only when that is
 * sound (the spawning goroutine already knows every access the previous
 * occupants recorded), so there is no cap on goroutines and no global
 * reset. Vector clocks share their arrays copy-on-write, which makes a
 * spawn O(1). Each slot keeps a bounded event history from which the stack
 * of any recent access is rebuilt for reports. */
#ifndef GOROUTINE_DETECTOR_H
#define GOROUTINE_DETECTOR_H

#include "../runtime/rt.h"
#include "race.h"
#include "clock.h"

#include <sched.h>

#pragma GCC visibility push(hidden)

/* ---- epochs and shadow words ----
 * bits 63..56 byte mask within the 8-byte word, 55 atomic access,
 * 54..34 slot (21 bits), 33..0 epoch. 0 means "no access". */
#define SH_EPOCH_BITS 34
#define SH_SLOT_BITS 21
#define SH_EPOCH_MASK ((1ull << SH_EPOCH_BITS) - 1)
#define SH_SLOT_MASK ((1ull << SH_SLOT_BITS) - 1)
#define SH_ATOMIC (1ull << 55)
static inline uint64_t sh_make(uint8_t mask, bool atomic, uint32_t slot, uint64_t epoch) {
    return (uint64_t)mask << 56 | (atomic ? SH_ATOMIC : 0) |
           (uint64_t)slot << SH_EPOCH_BITS | (epoch & SH_EPOCH_MASK);
}
static inline uint8_t sh_mask(uint64_t s) { return (uint8_t)(s >> 56); }
static inline uint32_t sh_slot(uint64_t s) { return (uint32_t)((s >> SH_EPOCH_BITS) & SH_SLOT_MASK); }
static inline uint64_t sh_epoch(uint64_t s) { return s & SH_EPOCH_MASK; }
static inline bool sh_atomic(uint64_t s) { return s & SH_ATOMIC; }

/* ---- spinlocks ----
 * For the detector's own short critical sections, whose holders never
 * block: one atomic exchange to take, a plain store to drop (a sleeping
 * rt_lock needs a second atomic operation to drop). A waiter that spins
 * too long yields its thread in case the holder was preempted. */
typedef struct {
    _Atomic uint32_t busy;
} race_spinlock;

static inline void race_spin_lock(race_spinlock *l) {
    for (int spins = 0;; spins++) {
        if (!atomic_load_explicit(&l->busy, memory_order_relaxed) &&
            !atomic_exchange_explicit(&l->busy, 1, memory_order_acquire))
            return;
        if (spins < 64) __builtin_ia32_pause();
        else sched_yield();
    }
}

static inline void race_spin_unlock(race_spinlock *l) {
    atomic_store_explicit(&l->busy, 0, memory_order_release);
}

/* ---- per-goroutine state (gp->race) ---- */
enum { RACE_HELD_MAX = 8 };

/* A mutex a goroutine holds (lockorder.c); state, when not NULL, is a
 * word whose locked_bit is set while the mutex is locked. */
struct race_held {
    uintptr_t addr;
    const int32_t *state;
    int32_t locked_bit;
};

struct race_g {
    uint32_t slot;
    uint64_t epoch;            /* own clock; the vc's own entry may lag */
    uint64_t segment_start;    /* first epoch after the last release */
    /* The last range checked in this segment (shadow.c): checking it, or
     * a part of it, again in the same segment records nothing new. */
    uintptr_t range_lo, range_hi;
    uint64_t range_segment;
    bool range_write;
    struct vclock vc;
    /* The goroutine whose clock covers vc but for this one's own entry,
     * since their last hand-off (handoff.c); 0: none. Whatever joins
     * another clock into vc clears it (race_learn). */
    uint64_t vc_within;
    int ignore;                /* go_race_disable nesting */
    uint64_t goid;
    /* The shadow call stack: stack[i] is frame i's caller pc, and
     * stack[stack_cap + i] the stack address its entry was seen at
     * (interface.c: how frames a longjmp skipped are found). */
    uintptr_t *stack;
    int depth, stack_cap;
    uint64_t *hpos, *hend;     /* current history part */
    struct rt_g *g;
    /* The deepest point of its own stack the goroutine was seen at
     * (interface.c): nothing below it has shadow to clear at exit. */
    uintptr_t stack_low;
    /* C11 fences (atomics.c) are the goroutine's, not its thread's: what
     * its relaxed loads read, for its next acquire fence, and whether a
     * release fence made its later relaxed stores release, with the clock
     * it had at that fence. Like held below, the clocks are allocated on
     * first use (most goroutines never need them) and kept with the G. */
    struct vclock *loaded_vc;
    bool release_fenced;
    struct vclock *fence_vc;
    struct race_held *held; /* RACE_HELD_MAX entries, most recent last */
    int nheld;
};

/* The goroutine running on this thread, NULL outside goroutines; kept up
 * to date by the scheduler's switch hook. */
extern __thread struct race_g *race_cur __attribute__((tls_model("initial-exec")));

/* Detector work done on a goroutine's behalf (a report and its
 * symbolisers, the leak check): meanwhile the goroutine's accesses are not
 * checked, and the locks the libraries it calls take order nothing
 * (pthread.c); taking them into the lock-order graph could even deadlock
 * on the graph's own lock. Such work never parks, so the thread can keep
 * the count. */
extern __thread int race_internal_depth __attribute__((tls_model("initial-exec")));
static inline void race_internal_enter(struct race_g *rg) {
    if (rg) rg->ignore++;
    race_internal_depth++;
}
static inline void race_internal_leave(struct race_g *rg) {
    if (rg) rg->ignore--;
    race_internal_depth--;
}

/* Whether the access recorded as s happened before rg's current one. */
static inline bool race_happened_before(const struct race_g *rg, uint64_t s) {
    return sh_slot(s) == rg->slot || sh_epoch(s) <= race_vc_get(&rg->vc, sh_slot(s));
}

/* rg's clock learns src (an acquire): it may no longer be within the
 * clock of the goroutine it last handed off with. */
static inline void race_learn(struct race_g *rg, const struct vclock *src) {
    rg->vc_within = 0;
    race_vc_join(&rg->vc, src);
}

/* A goroutine's stack is reused by later goroutines, so race_go_end clears
 * the shadow of the part it used, which lies above the deepest point the
 * goroutine was seen at: every instrumented function reports its entry
 * from below its own frame, and the runtime's and the annotations'
 * accesses, which may come from uninstrumented frames, report from below
 * those. (Missed: a variable-length array below its function's entry that
 * only that function accesses, and only after its last instrumented call.) */
static inline void note_stack_depth(struct race_g *rg) {
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    if (sp < rg->stack_low) rg->stack_low = sp;
}

/* A longjmp (or a C++ exception through uninstrumented frames) leaves
 * without the exits of the frames it skips. Their entries were seen
 * deeper in the stack than anything that runs after: the next entry seen
 * at or above one of them, or the next exit or recorded access above one
 * (sp: the address its hook was called at), ends them first
 * (interface.c), each with an exit event, so the history's replay stays
 * matched too. */
static inline bool race_frames_skipped(const struct race_g *rg, uintptr_t sp, bool entering) {
    if (rg->depth == 0) return false;
    uintptr_t top = rg->stack[rg->stack_cap + rg->depth - 1];
    return entering ? top <= sp : top < sp;
}
void race_end_skipped_frames(struct race_g *rg, uintptr_t sp, bool entering);

/* ---- options.c ---- */
struct race_options {
    const char *log_path;
    int exitcode;
    const char *strip_path_prefix;
    int history_size;
    bool halt_on_error;
    int atexit_sleep_ms;
    bool json;
};
extern struct race_options race_opts;
/* Parses GORACE; on an error returns false with a message in err. */
bool race_parse_options(const char *text, struct race_options *out, char *err, size_t errlen);

/* ---- history.c: per-slot event history ---- */
enum { EV_ACCESS = 0, EV_ENTRY = 1, EV_EXIT = 2, EV_START = 3 };
/* Append an event for rg at its current epoch (after the tick). */
void race_history_new_part(struct race_g *rg);
static inline void race_history_add(struct race_g *rg, uintptr_t pc, unsigned kind) {
    if (RT_UNLIKELY(rg->hpos == rg->hend)) race_history_new_part(rg);
    *rg->hpos++ = (uint64_t)pc << 2 | kind;
}
/* rg's current epoch was just published (a release, a spawn): later
 * accesses must not be covered by it. Each recorded access takes a new
 * epoch anyway, so it is enough that the next one starts a new segment.
 * Within a segment nobody can know of one access without knowing of all:
 * shadow.c keeps the segment's first record of a word instead of
 * rewriting it on every access. Until rg's next event, its epoch is one
 * that others may know (see chansend.c). */
static inline void race_end_segment(struct race_g *rg) { rg->segment_start = rg->epoch + 1; }
/* Rebuild the stack (leaf first) of slot's event at epoch; returns the
 * number of pcs, 0 when the history no longer holds it. A nonzero leaf_pc
 * is an access made at epoch after that event, recorded without one of
 * its own (chansend.c): it replaces the event's pc as the leaf. */
int race_history_restore(uint32_t slot, uint64_t epoch, uintptr_t leaf_pc, uintptr_t *pcs, int max);
void race_history_start_goroutine(struct race_g *rg);
void race_history_init(void);

/* ---- slot.c: slots and who ran in them ---- */
uint32_t race_slot_alloc(struct race_g *parent, uint64_t *start_epoch);
void race_slot_free(struct race_g *rg);
/* Record rg as the slot's occupant from its current epoch, with its
 * creation stack. */
void race_slot_occupy(struct race_g *rg, const uintptr_t *create_pcs, int depth);
struct race_occupant {
    uint64_t goid;
    uint64_t from_epoch;
    bool finished;
    int depth;
    uintptr_t create_pcs[8];
};
/* The goroutine that ran in slot at epoch; false if forgotten. */
bool race_slot_occupant(uint32_t slot, uint64_t epoch, struct race_occupant *out);

/* ---- shadow.c ---- */
void race_shadow_init(void);
void race_access(struct race_g *rg, uintptr_t addr, size_t size, bool write, bool atomic, uintptr_t pc);
void race_access_range(struct race_g *rg, uintptr_t addr, size_t size, bool write, uintptr_t pc);
void race_shadow_clear(uintptr_t addr, size_t size);
/* Heap blocks (alloc.c): where one ended (freed, or moved by realloc),
 * and whether a block handed out over [addr, addr+size) may find records
 * there (true when unknown). */
void race_shadow_note_ended(uintptr_t addr, size_t size);
bool race_shadow_may_hold_records(uintptr_t addr, size_t size);
/* Report rg's access against prev, a shadow word of an earlier one (whose
 * stack race_history_restore rebuilds with prev_leaf_pc). */
void race_report_pair(struct race_g *rg, uintptr_t addr, size_t size, bool write, bool atomic,
                      uintptr_t pc, uint64_t prev, bool prev_write, uintptr_t prev_leaf_pc);

/* ---- sync.c ---- */
void race_sync_acquire(struct race_g *rg, uintptr_t addr);
void race_sync_release(struct race_g *rg, uintptr_t addr);
void race_sync_release_acquire(struct race_g *rg, uintptr_t addr);
void race_sync_copy(uintptr_t dst, uintptr_t src);
/* addr's clock (NULL: it has none and create is false), with addr's
 * bucket locked until race_sync_drop(addr). */
struct vclock *race_sync_hold(uintptr_t addr, bool create);
void race_sync_drop(uintptr_t addr);
/* False only if addr has no clock (a hint, read without the lock). */
bool race_sync_may_exist(uintptr_t addr);

/* ---- report.c ---- */
struct race_access_desc {
    uintptr_t addr;
    size_t size;
    bool write, atomic;
    uint32_t slot;
    uint64_t epoch;
    uint64_t goid;     /* 0: find it from the slot */
    const uintptr_t *pcs;  /* current access: the stack; previous: NULL */
    int npcs;
    uintptr_t leaf_pc;     /* previous: see race_history_restore */
};
void race_report(struct race_access_desc *cur, struct race_access_desc *prev);
/* One edge of a lock-order cycle: goroutine goid acquired `acquired`
 * while holding `held`, at the stack pcs. */
struct race_lock_edge_desc {
    uintptr_t held, acquired;
    uint64_t goid;
    const uintptr_t *pcs;
    int npcs;
};
/* Reports the cycle edges[0] => ... => edges[n-1] (each edge's acquired
 * mutex is the next one's held mutex, the last one's is edges[0]'s). */
void race_report_lock_cycle(const struct race_lock_edge_desc *edges, int n);
/* A goroutine the leak finder (leak.c) found blocked forever. */
struct race_leak_desc {
    uint64_t goid;
    const char *wait_reason;
    int64_t waited_seconds;
    const uintptr_t *pcs, *create_pcs;
    int npcs, create_depth;
};
void race_report_leak(const struct race_leak_desc *leak);
size_t race_lock_inversions(void);
void race_reports_init(void);

/* ---- alloc.c ---- */
struct race_block_desc {
    uintptr_t start;
    size_t size;
    uint64_t goid;
    int depth;
    uintptr_t pcs[16];
};
bool race_heap_block(uintptr_t addr, struct race_block_desc *out);
/* The live heap blocks, sorted by start, for the leak finder's trace: an
 * array from race_internal_alloc, its length in *n. */
struct race_span {
    uintptr_t start, end;
};
struct race_span *race_heap_spans(size_t *n);
/* qsort's comparison of spans (or of structs that start with one). */
int race_span_by_start(const void *a, const void *b);
void *race_internal_alloc(size_t n);
void *race_internal_calloc(size_t n, size_t size);
void race_internal_free(void *p);

/* A clock of rg's allocated on first use (*slot NULL until then). */
static inline struct vclock *race_own_clock(struct vclock **slot) {
    if (RT_UNLIKELY(!*slot)) *slot = race_internal_calloc(1, sizeof **slot);
    return *slot;
}
static inline void race_clear_own_clock(struct vclock *v) {
    if (v) race_vc_clear(v);
}

/* ---- leak.c ---- */
void race_leaks_at_exit(void);
size_t race_leaks(void);

/* Current stack of rg with pc as frame #0 (leaf first). */
int race_current_stack(struct race_g *rg, uintptr_t pc, uintptr_t *pcs, int max);

#pragma GCC visibility pop
#endif

/* sync.c - synchronisation objects: a vector clock per address that some
 * goroutine released to (a mutex, a channel slot, an atomic variable...).
 *
 * A hash table of address-keyed objects in buckets with their own locks;
 * objects live as long as the process (an address reused for another
 * object keeps its clock, which can only hide races, never invent one).
 * Release merges the goroutine's clock, with its own current epoch, into
 * the object's; acquire merges the object's clock into the goroutine's.
 * With copy-on-write clocks both are usually O(1), so the bucket lock is
 * what an operation mostly costs: a race_spinlock. Buffered channel slots
 * are the one kind of object whose owner keeps the clocks (below). */
#include "detector.h"

#include <string.h>

enum { BUCKETS = 1 << 16 };

struct sync_obj {
    uintptr_t addr;
    struct sync_obj *next;
    struct vclock vc;
};

struct bucket {
    race_spinlock lock;
    struct sync_obj *head;
};

static struct bucket table[BUCKETS];

static struct bucket *bucket_of(uintptr_t addr) {
    uint64_t h = (uint64_t)addr * 0x9E3779B97F4A7C15ull;
    return &table[h >> (64 - 16)];
}

/* The object for addr, created if absent; its bucket is locked. */
static struct sync_obj *lookup(struct bucket *b, uintptr_t addr, bool create) {
    for (struct sync_obj *o = b->head; o; o = o->next)
        if (o->addr == addr) return o;
    if (!create) return NULL;
    struct sync_obj *o = race_internal_alloc(sizeof *o);
    memset(o, 0, sizeof *o);
    o->addr = addr;
    o->next = b->head;
    __atomic_store_n(&b->head, o, __ATOMIC_RELEASE); /* race_sync_may_exist */
    return o;
}

/* addr's clock with its bucket locked: the one way in for every
 * operation here and for atomics.c, whose atomic variables change their
 * clock and their value under the bucket lock as one step (a load that
 * read a value then acquires the clock of the store that wrote it, even
 * when another store replaces that clock right after). */
struct vclock *race_sync_hold(uintptr_t addr, bool create) {
    struct bucket *b = bucket_of(addr);
    race_spin_lock(&b->lock);
    struct sync_obj *o = lookup(b, addr, create);
    return o ? &o->vc : NULL;
}

void race_sync_drop(uintptr_t addr) { race_spin_unlock(&bucket_of(addr)->lock); }

void race_sync_acquire(struct race_g *rg, uintptr_t addr) {
    struct vclock *vc = race_sync_hold(addr, false);
    if (vc) race_learn(rg, vc);
    race_sync_drop(addr);
}

void race_sync_release(struct race_g *rg, uintptr_t addr) {
    struct vclock *vc = race_sync_hold(addr, true);
    race_vc_join(vc, &rg->vc);
    race_vc_raise(vc, rg->slot, rg->epoch);
    race_sync_drop(addr);
    race_end_segment(rg);
}

/* Through a local copy: holding both buckets at once could deadlock
 * against another copy taking them in the other order. */
void race_sync_copy(uintptr_t dst, uintptr_t src) {
    struct vclock snapshot = {0};
    struct vclock *from = race_sync_hold(src, false);
    if (from) race_vc_copy(&snapshot, from);
    race_sync_drop(src);
    race_vc_copy(race_sync_hold(dst, true), &snapshot);
    race_sync_drop(dst);
    race_vc_clear(&snapshot);
}

/* A glance without the lock, for an operation that has nothing to do
 * without an object: an object created before an atomic store whose
 * value the caller has loaded is seen (release and acquire order). */
bool race_sync_may_exist(uintptr_t addr) {
    return __atomic_load_n(&bucket_of(addr)->head, __ATOMIC_ACQUIRE) != NULL;
}

/* Acquire then release on the clock obj: rg then knows everything obj
 * did, so obj becomes (a shared copy of) rg's clock. */
static void pass_through(struct race_g *rg, struct vclock *obj) {
    race_learn(rg, obj);
    race_vc_publish(obj, &rg->vc, rg->slot, rg->epoch);
}

void race_sync_release_acquire(struct race_g *rg, uintptr_t addr) {
    pass_through(rg, race_sync_hold(addr, true));
    race_sync_drop(addr);
    race_end_segment(rg);
}

/* Buffered channel slots (race.h). The channel's lock orders the
 * operations on a slot (send, receive, send...), so their clocks live in
 * an array the channel owns instead of the table: no bucket lock, no
 * hashed lookup, and calloc leaves the pages of slots never used
 * untouched. The passes themselves wait until the channel's lock is
 * dropped: a slot's clock was last written by the goroutine on the other
 * side, often on another core, and fetching its cache line with the lock
 * held would make the other side wait for the lock as long. Under the
 * lock an operation only notes its pass with its ticket, its rank among
 * the slot's operations; after the lock it waits for the slot's turn to
 * reach that ticket, passes, and moves the turn on. The operation before
 * it on the slot is then already under way or done: every path that
 * notes a pass flushes it right after dropping the lock, before anything
 * that could park, so no goroutine switch can come between (an operation
 * with no goroutine to pass for still takes its turn). The notes are the
 * thread's: one operation makes at most two (a hand-off passes for both
 * sides, the current goroutine first). */
struct slot_pass {
    struct race_g *rg;
    struct vclock *slot;
    uint32_t ticket;
};

static __thread struct slot_pass noted[2] __attribute__((tls_model("initial-exec")));
__thread int race_slot_passes_noted __attribute__((tls_model("initial-exec")));

void race_chan_slot_note(struct rt_g *gp, void **slots, size_t cap, size_t i, uint32_t ticket) {
    if (!*slots) *slots = race_internal_calloc(cap, sizeof(struct vclock));
    if (race_slot_passes_noted == 2)
        rt_fatal("race detector: a third buffer-slot pass in one channel operation");
    noted[race_slot_passes_noted++] = (struct slot_pass){gp ? gp->race : race_cur,
                                                         &((struct vclock *)*slots)[i], ticket};
}

static void wait_turn(struct vclock *slot, uint32_t ticket) {
    for (int spins = 0; atomic_load_explicit(&slot->turn, memory_order_acquire) != ticket; spins++) {
        if (spins < 64) __builtin_ia32_pause();
        else sched_yield();
    }
}

void race_chan_slot_passes_make(void) {
    for (int k = 0; k < race_slot_passes_noted; k++) {
        struct slot_pass *p = &noted[k];
        wait_turn(p->slot, p->ticket);
        if (p->rg) {
            pass_through(p->rg, p->slot);
            race_end_segment(p->rg);
        }
        atomic_store_explicit(&p->slot->turn, p->ticket + 1, memory_order_release);
    }
    race_slot_passes_noted = 0;
}

void race_chan_slots_free(void *slots, size_t cap) {
    if (!slots) return;
    for (size_t i = 0; i < cap; i++) race_vc_clear(&((struct vclock *)slots)[i]);
    race_internal_free(slots);
}

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
    if (vc) race_vc_join(&rg->vc, vc);
    race_sync_drop(addr);
}

void race_sync_release(struct race_g *rg, uintptr_t addr) {
    struct vclock *vc = race_sync_hold(addr, true);
    race_vc_join(vc, &rg->vc);
    race_vc_raise(vc, rg->slot, rg->epoch);
    race_sync_drop(addr);
    race_end_segment(rg);
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
    race_vc_join(&rg->vc, obj);
    race_vc_publish(obj, &rg->vc, rg->slot, rg->epoch);
}

void race_sync_release_acquire(struct race_g *rg, uintptr_t addr) {
    pass_through(rg, race_sync_hold(addr, true));
    race_sync_drop(addr);
    race_end_segment(rg);
}

/* Buffered channel slots (race.h): the channel's lock already serialises
 * them, so their clocks live in an array the channel owns instead of the
 * table, and a send or receive costs neither a bucket lock nor the cache
 * misses of a hashed lookup. calloc leaves the pages of slots never used
 * untouched. */
void race_chan_slot_pass(struct rt_g *gp, void **slots, size_t cap, size_t i) {
    struct race_g *rg = gp ? gp->race : race_cur;
    if (!rg) return;
    if (!*slots) *slots = race_internal_calloc(cap, sizeof(struct vclock));
    pass_through(rg, &((struct vclock *)*slots)[i]);
    race_end_segment(rg);
}

void race_chan_slots_free(void *slots, size_t cap) {
    if (!slots) return;
    for (size_t i = 0; i < cap; i++) race_vc_clear(&((struct vclock *)slots)[i]);
    race_internal_free(slots);
}

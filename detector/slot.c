/* slot.c - vector-clock slots, their recycling, and who ran in them.
 *
 * A slot is reused only when the spawning goroutine's clock already covers
 * the latest access any previous occupant recorded: the new occupant takes
 * the slot's old shadow records for its own, which is sound only when
 * they happen before it starts. Its epochs continue above the previous
 * occupant's last one, so clock entries published before (which never
 * exceed that) claim nothing about the new occupant. Accesses, not the
 * final epoch, are what must be known: a goroutine's last events are
 * usually a release (a WaitGroup's Done) and returns, and whoever acquires
 * that release knows every access before it. Otherwise a fresh slot is
 * taken. Only a few free slots are tried, keeping spawn O(1).
 *
 * Each slot remembers its last few occupants (goroutine id, first epoch,
 * creation stack) so a report about an old access can still name the
 * goroutine that made it and where it was created, and owns its event
 * history (history.c), which successive occupants continue; older
 * occupants are named from the history alone. */
#include "detector.h"
#include "slot.h"

#include <sched.h>
#include <string.h>

enum { CHUNK_SHIFT = 10, CHUNK = 1 << CHUNK_SHIFT, MAX_CHUNKS = (1 << SH_SLOT_BITS) / CHUNK,
       REUSE_TRIES = 4, STASH = 16 };

static struct race_slot *_Atomic chunks[MAX_CHUNKS];
static rt_lock slots_lock;
static uint32_t nslots = 1;          /* slot 0 is never used: 0 means "none" */
/* Free slots, a queue in a ring of free_cap (a power of two) entries
 * holding nfree from free_first, oldest first. */
static uint32_t *free_ring;
static uint32_t free_first, nfree, free_cap;
/* The slots last freed on this thread, newest at the end: a goroutine
 * usually ends on the thread that spawns the next, so most spawns and
 * exits need no lock. A thread holds back at most STASH slots. */
static __thread struct {
    uint32_t n;
    uint32_t slot[STASH];
} stash __attribute__((tls_model("initial-exec")));

static struct race_slot *chunk_of(uint32_t slot) {
    return atomic_load_explicit(&chunks[slot >> CHUNK_SHIFT], memory_order_acquire);
}

struct race_slot *race_slot_get(uint32_t slot) {
    struct race_slot *c = chunk_of(slot);
    return c ? &c[slot & (CHUNK - 1)] : NULL;
}

/* A slot that has been handed out: its chunk exists. */
static struct race_slot *live_slot(uint32_t slot) { return &chunk_of(slot)[slot & (CHUNK - 1)]; }

static uint32_t new_slot(void) {
    uint32_t s = nslots++;
    /* The all-ones slot marks tagged shadow words (read sets, split
     * words), so no goroutine may run in it. */
    if (s >= SH_SLOT_MASK) rt_fatal("race detector: more than 2M goroutines alive at once");
    if (!atomic_load_explicit(&chunks[s >> CHUNK_SHIFT], memory_order_relaxed)) {
        struct race_slot *c = race_internal_alloc(CHUNK * sizeof *c);
        memset(c, 0, CHUNK * sizeof *c);
        atomic_store_explicit(&chunks[s >> CHUNK_SHIFT], c, memory_order_release);
    }
    return s;
}

static uint32_t *ring_at(uint32_t i) { return &free_ring[(free_first + i) & (free_cap - 1)]; }

static void ring_make_room(void) {
    if (nfree < free_cap) return;
    uint32_t cap = free_cap ? 2 * free_cap : 1024;
    uint32_t *grown = race_internal_alloc(cap * sizeof *grown);
    for (uint32_t i = 0; i < nfree; i++) grown[i] = *ring_at(i);
    race_internal_free(free_ring);
    free_ring = grown;
    free_first = 0;
    free_cap = cap;
}

/* Whether parent may give slot s to a child, and from which epoch. */
static bool reusable(const struct race_g *parent, uint32_t s, uint64_t *start_epoch) {
    const struct race_slot *rs = live_slot(s);
    if (race_vc_get(&parent->vc, s) < rs->access_bound) return false;
    *start_epoch = rs->final_epoch + 1;
    return true;
}

/* Whether a slot's epochs have run so high that it must be retired. */
static bool worn_out(uint32_t s) {
    return live_slot(s)->final_epoch + 1 >= SH_EPOCH_MASK / 2;
}

/* Tries the thread's stash newest first (its memory is warm, and a child
 * whose end was a release its spawner has since acquired is known), then
 * the queue oldest first (the longer ago a goroutine ended, the likelier
 * its spawner has learnt of its last access). A slot the spawner cannot
 * take yet goes to the back of the queue: slots nobody may ever take must
 * not keep the others from being reused. */
uint32_t race_slot_alloc(struct race_g *parent, uint64_t *start_epoch) {
    if (parent)
        for (uint32_t k = 0; k < REUSE_TRIES && k < stash.n; k++) {
            uint32_t i = stash.n - 1 - k, s = stash.slot[i];
            if (reusable(parent, s, start_epoch)) {
                stash.n--;
                memmove(&stash.slot[i], &stash.slot[i + 1], (stash.n - i) * sizeof stash.slot[0]);
                return s;
            }
        }
    rt_lock_acquire(&slots_lock);
    for (uint32_t k = 0; parent && k < REUSE_TRIES && nfree; k++) {
        uint32_t s = *ring_at(0);
        free_first = (free_first + 1) & (free_cap - 1);
        nfree--;
        if (reusable(parent, s, start_epoch)) {
            rt_lock_release(&slots_lock);
            return s;
        }
        *ring_at(nfree++) = s;
    }
    uint32_t s = new_slot();
    rt_lock_release(&slots_lock);
    *start_epoch = 1;
    return s;
}

/* The occupants change under a sequence count (odd while changing), with
 * one writer at a time: the slot's owner. Readers retry. */
static void occupants_change(struct race_slot *rs) {
    uint32_t seq = atomic_load_explicit(&rs->occupants_seq, memory_order_relaxed);
    atomic_store_explicit(&rs->occupants_seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void occupants_changed(struct race_slot *rs) {
    uint32_t seq = atomic_load_explicit(&rs->occupants_seq, memory_order_relaxed);
    atomic_store_explicit(&rs->occupants_seq, seq + 1, memory_order_release);
}

void race_slot_free(struct race_g *rg) {
    struct race_slot *rs = live_slot(rg->slot);
    rs->access_bound = race_history_leave(rg, rs);
    rs->final_epoch = rg->epoch;
    occupants_change(rs);
    rs->occupants[rs->newest].finished = true;
    occupants_changed(rs);
    if (worn_out(rg->slot)) return;
    if (stash.n == STASH) {
        /* Hand the older half to everyone. */
        rt_lock_acquire(&slots_lock);
        for (uint32_t i = 0; i < STASH / 2; i++) {
            ring_make_room();
            *ring_at(nfree++) = stash.slot[i];
        }
        rt_lock_release(&slots_lock);
        memmove(stash.slot, stash.slot + STASH / 2, (STASH - STASH / 2) * sizeof stash.slot[0]);
        stash.n -= STASH / 2;
    }
    stash.slot[stash.n++] = rg->slot;
}

void race_slot_occupy(struct race_g *rg, const uintptr_t *create_pcs, int depth) {
    struct race_slot *rs = live_slot(rg->slot);
    occupants_change(rs);
    rs->newest = (rs->newest + 1) % SLOT_OCCUPANTS;
    struct race_occupant *o = &rs->occupants[rs->newest];
    o->goid = rg->goid;
    o->from_epoch = rg->epoch;
    o->finished = false;
    if (depth > 8) depth = 8;
    o->depth = depth;
    memcpy(o->create_pcs, create_pcs, (size_t)depth * sizeof *create_pcs);
    occupants_changed(rs);
}

bool race_slot_occupant(uint32_t slot, uint64_t epoch, struct race_occupant *out) {
    struct race_slot *rs = race_slot_get(slot);
    if (!rs) return false;
    bool found;
    for (;;) {
        uint32_t seq = atomic_load_explicit(&rs->occupants_seq, memory_order_acquire);
        found = false;
        uint64_t best = 0;
        if (!(seq & 1))
            for (int i = 0; i < SLOT_OCCUPANTS; i++) {
                struct race_occupant *o = &rs->occupants[i];
                if (o->goid && o->from_epoch <= epoch && o->from_epoch >= best) {
                    best = o->from_epoch;
                    *out = *o;
                    found = true;
                }
            }
        atomic_thread_fence(memory_order_acquire);
        if (!(seq & 1) && atomic_load_explicit(&rs->occupants_seq, memory_order_relaxed) == seq)
            break;
        sched_yield();
    }
    if (found) return true;
    /* Occupants since have pushed it out: its id may still be in the
     * history; its creation stack is gone. */
    memset(out, 0, sizeof *out);
    out->finished = true;
    return race_history_goroutine(slot, epoch, &out->goid);
}

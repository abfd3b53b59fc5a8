/* slot.c - vector-clock slots, their recycling, and who ran in them.
 *
 * A slot is reused only when the spawning goroutine's clock already covers
 * the previous occupant's final epoch: then everything the old occupant
 * did happens before the new one starts, and the new occupant's epochs
 * continue above the old ones, so no stale epoch can be mistaken for a new
 * one. Otherwise a fresh slot is taken. The free list is LIFO and only its
 * first few entries are tried, keeping spawn O(1).
 *
 * Each slot remembers its last few occupants (goroutine id, first epoch,
 * creation stack) so a report about an old access can still name the
 * goroutine that made it, and owns its event history (history.c). */
#include "detector.h"
#include "slot.h"

#include <string.h>

enum { CHUNK_SHIFT = 10, CHUNK = 1 << CHUNK_SHIFT, MAX_CHUNKS = (1 << SH_SLOT_BITS) / CHUNK,
       REUSE_TRIES = 4 };

static struct race_slot *_Atomic chunks[MAX_CHUNKS];
static rt_lock slots_lock;
static uint32_t nslots = 1;          /* slot 0 is never used: 0 means "none" */
static uint32_t *free_slots;
static uint32_t nfree, free_cap;

struct race_slot *race_slot_get(uint32_t slot) {
    struct race_slot *c = atomic_load_explicit(&chunks[slot >> CHUNK_SHIFT], memory_order_acquire);
    return c ? &c[slot & (CHUNK - 1)] : NULL;
}

static uint32_t new_slot(void) {
    uint32_t s = nslots++;
    if (s >= (1u << SH_SLOT_BITS)) rt_fatal("race detector: more than 2M goroutines alive at once");
    if (!atomic_load_explicit(&chunks[s >> CHUNK_SHIFT], memory_order_relaxed)) {
        struct race_slot *c = race_internal_alloc(CHUNK * sizeof *c);
        memset(c, 0, CHUNK * sizeof *c);
        atomic_store_explicit(&chunks[s >> CHUNK_SHIFT], c, memory_order_release);
    }
    return s;
}

uint32_t race_slot_alloc(struct race_g *parent, uint64_t *start_epoch) {
    rt_lock_acquire(&slots_lock);
    for (uint32_t k = 0; k < REUSE_TRIES && k < nfree; k++) {
        uint32_t i = nfree - 1 - k;
        uint32_t s = free_slots[i];
        struct race_slot *rs = race_slot_get(s);
        bool known = parent && (parent->slot == s ||
                                vc_get(&parent->vc, s) >= rs->final_epoch);
        if (!known || rs->final_epoch + 1 >= SH_EPOCH_MASK / 2) continue;
        free_slots[i] = free_slots[--nfree];
        *start_epoch = rs->final_epoch + 1;
        rt_lock_release(&slots_lock);
        return s;
    }
    uint32_t s = new_slot();
    rt_lock_release(&slots_lock);
    *start_epoch = 1;
    return s;
}

void race_slot_free(uint32_t slot, uint64_t final_epoch) {
    struct race_slot *rs = race_slot_get(slot);
    rt_lock_acquire(&rs->lock);
    rs->final_epoch = final_epoch;
    rs->occupants[rs->newest].finished = true;
    rt_lock_release(&rs->lock);
    rt_lock_acquire(&slots_lock);
    if (nfree == free_cap) {
        uint32_t cap = free_cap ? 2 * free_cap : 1024;
        uint32_t *grown = race_internal_alloc(cap * sizeof *grown);
        if (free_slots) memcpy(grown, free_slots, nfree * sizeof *grown);
        race_internal_free(free_slots);
        free_slots = grown;
        free_cap = cap;
    }
    free_slots[nfree++] = slot;
    rt_lock_release(&slots_lock);
}

void race_slot_occupy(struct race_g *rg, const uintptr_t *create_pcs, int depth) {
    struct race_slot *rs = race_slot_get(rg->slot);
    rt_lock_acquire(&rs->lock);
    rs->newest = (rs->newest + 1) % SLOT_OCCUPANTS;
    struct race_occupant *o = &rs->occupants[rs->newest];
    o->goid = rg->goid;
    o->from_epoch = rg->epoch;
    o->finished = false;
    if (depth > 8) depth = 8;
    o->depth = depth;
    memcpy(o->create_pcs, create_pcs, (size_t)depth * sizeof *create_pcs);
    rt_lock_release(&rs->lock);
}

bool race_slot_occupant(uint32_t slot, uint64_t epoch, struct race_occupant *out) {
    struct race_slot *rs = race_slot_get(slot);
    if (!rs) return false;
    bool found = false;
    uint64_t best = 0;
    rt_lock_acquire(&rs->lock);
    for (int i = 0; i < SLOT_OCCUPANTS; i++) {
        struct race_occupant *o = &rs->occupants[i];
        if (o->goid && o->from_epoch <= epoch && o->from_epoch >= best) {
            best = o->from_epoch;
            *out = *o;
            found = true;
        }
    }
    rt_lock_release(&rs->lock);
    return found;
}

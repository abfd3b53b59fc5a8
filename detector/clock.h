/* clock.h - vector clocks as two-level copy-on-write arrays.
 *
 * A clock's entries live in chunks of VC_CHUNK entries reached through a
 * spine of chunk pointers, plus up to VC_OVERRIDES (slot, value) pairs
 * that take precedence. Spines and chunks are reference-counted and
 * immutable while shared. Copying a clock shares its spine, so a spawn or
 * a hand-off costs O(1); the child's knowledge of its parent's epoch lives
 * in an override. Making a shared spine private copies its pointers and
 * shares every chunk; a write then copies only the chunk it lands in. So
 * a goroutine whose clock many others share (main handing off to 100,000
 * parked goroutines) pays O(length / VC_CHUNK + VC_CHUNK) per change, not
 * O(length), and the versions it leaves behind share all but a few
 * chunks. A join skips the chunks both spines hold, merges into its own
 * private chunks in place, and takes over a source chunk that covers one
 * it shares instead of copying that. Reading an entry costs one dependent
 * load more than a flat array would.
 *
 * A spine also remembers the id of the spine it was last built to cover
 * (everything in that spine is <= its own entries), so joining a clock
 * that shares or is covered by our spine only merges the overrides: a
 * WaitGroup collecting thousands of children spawned by one parent stays
 * O(1) per Done. Every spine that is changed in place gets a new id, so
 * "covers" can never be stale. Chunk by chunk, a spine that joins others
 * remembers the source chunk it last merged or found behind its own (and
 * holds a reference to it, so no other chunk can take its address): a
 * WaitGroup collecting children released one by one, whose clocks are
 * successive versions of one parent's, compares only the chunks the
 * parent changed in between, besides one pointer per chunk.
 *
 * Invariants: a spine's entries at or past its len are 0 and never read.
 * A chunk is written only while both it and its spine have one reference.
 * Every chunk has room for the entries its spine keeps in it; only a
 * spine's last chunk may be shorter than VC_CHUNK, which keeps small
 * clocks small. Lens only grow and a spine only takes a chunk from one at
 * most as long, so a chunk's entries past the len of any spine holding it
 * are 0. Chunks nobody wrote are one static zero chunk, never counted. */
#ifndef GOROUTINE_DETECTOR_CLOCK_H
#define GOROUTINE_DETECTOR_CLOCK_H

#include <stdint.h>

#pragma GCC visibility push(hidden)

#define VC_OVERRIDES 4
/* Each version of a long clock that others hold costs a spine of
 * length / VC_CHUNK pointers, and each write to a shared chunk a copy of
 * VC_CHUNK entries: 128 keeps both small at 100,000 slots. */
#define VC_CHUNK_SHIFT 7
#define VC_CHUNK (1u << VC_CHUNK_SHIFT)

struct vc_chunk {
    _Atomic uint32_t refs;
    uint32_t cap;        /* entries allocated, <= VC_CHUNK */
    uint64_t c[];
};

struct vc_spine {
    _Atomic uint32_t refs;
    uint32_t len;        /* entries */
    uint32_t cap;        /* chunk pointers allocated; grows geometrically */
    uint64_t id;
    uint64_t covers;     /* id of a spine this one is known to cover */
    /* Per chunk, another spine's chunk known to be <= ours, or NULL
     * (each one referenced). Allocated by the first join of a clock of
     * several chunks; a copy of a shared spine starts without. */
    struct vc_chunk **covered;
    struct vc_chunk *chunk[];
};

struct vclock {
    struct vc_spine *spine;
    uint32_t n_over;
    uint32_t over_slot[VC_OVERRIDES];
    /* Not part of the clock: what would be padding, given to a buffered
     * channel slot's clock for its turn counter (sync.c), which must share
     * the clock's cache line. */
    _Atomic uint32_t turn;
    uint64_t over_val[VC_OVERRIDES];
};
_Static_assert(sizeof(struct vclock) == 64, "a clock is one cache line");

static inline uint64_t race_vc_spine_get(const struct vc_spine *s, uint32_t slot) {
    return s && slot < s->len ? s->chunk[slot >> VC_CHUNK_SHIFT]->c[slot & (VC_CHUNK - 1)] : 0;
}
static inline uint64_t race_vc_get(const struct vclock *v, uint32_t slot) {
    for (uint32_t i = 0; i < v->n_over; i++)
        if (v->over_slot[i] == slot) return v->over_val[i];
    return race_vc_spine_get(v->spine, slot);
}
/* v[slot] = max(v[slot], val) when the overrides are full. */
void race_vc_raise_spill(struct vclock *v, uint32_t slot, uint64_t val);
/* v[slot] = max(v[slot], val). */
static inline void race_vc_raise(struct vclock *v, uint32_t slot, uint64_t val) {
    for (uint32_t i = 0; i < v->n_over; i++)
        if (v->over_slot[i] == slot) {
            if (val > v->over_val[i]) v->over_val[i] = val;
            return;
        }
    if (race_vc_spine_get(v->spine, slot) >= val) return;
    if (v->n_over < VC_OVERRIDES) {
        v->over_slot[v->n_over] = slot;
        v->over_val[v->n_over++] = val;
        return;
    }
    race_vc_raise_spill(v, slot, val);
}
void race_vc_join(struct vclock *dst, const struct vclock *src);
void race_vc_copy(struct vclock *dst, const struct vclock *src);
/* dst = src raised to epoch at slot: what a goroutine hands on to a clock
 * that is to know everything it knows (a child it spawns, an object it has
 * just acquired). O(1): src's overrides are folded first when full, so dst
 * shares src's spine and has room for the epoch. */
void race_vc_publish(struct vclock *dst, struct vclock *src, uint32_t slot, uint64_t epoch);
/* The unbuffered hand-off (handoff.c): a, the current goroutine's clock,
 * learns b, the parked one's, and b's epoch at b_slot; b becomes what a
 * then knows, raised to a's epoch at a_slot. Two goroutines handing off
 * to each other again and again share one spine with a few overrides:
 * then this merges two short arrays and touches no reference count. */
void race_vc_exchange(struct vclock *a, uint32_t a_slot, uint64_t a_epoch, struct vclock *b,
                      uint32_t b_slot, uint64_t b_epoch);
/* Fold the overrides into the spine, so copies of v have room for theirs. */
void race_vc_compact(struct vclock *v);
void race_vc_clear(struct vclock *v);

#pragma GCC visibility pop
#endif

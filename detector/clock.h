/* clock.h - vector clocks whose arrays are shared copy-on-write.
 *
 * A clock is an array (shared, reference-counted, immutable while shared)
 * plus up to VC_OVERRIDES (slot, value) pairs that take precedence. Copying
 * a clock shares its array, so a spawn costs O(1); the child's knowledge of
 * its parent's epoch lives in an override. An array also remembers the id
 * of the array it was last built to cover (everything in that array is <=
 * its own entries), so joining a clock that shares or is covered by our
 * array only merges the overrides: a WaitGroup collecting thousands of
 * children spawned by one parent stays O(1) per Done. Every array that is
 * changed in place gets a new id, so "covers" can never be stale. */
#ifndef GOROUTINE_DETECTOR_CLOCK_H
#define GOROUTINE_DETECTOR_CLOCK_H

#include <stdint.h>

#pragma GCC visibility push(hidden)

#define VC_OVERRIDES 4

struct vc_array {
    _Atomic uint32_t refs;
    uint32_t len;
    uint32_t cap;        /* grows geometrically: joins of new slots stay O(1) */
    uint64_t id;
    uint64_t covers;     /* id of an array this one is known to cover */
    uint64_t c[];
};

struct vclock {
    struct vc_array *arr;
    uint32_t n_over;
    uint32_t over_slot[VC_OVERRIDES];
    uint64_t over_val[VC_OVERRIDES];
};

static inline uint64_t vc_get(const struct vclock *v, uint32_t slot) {
    for (uint32_t i = 0; i < v->n_over; i++)
        if (v->over_slot[i] == slot) return v->over_val[i];
    return v->arr && slot < v->arr->len ? v->arr->c[slot] : 0;
}
/* v[slot] = max(v[slot], val) when the overrides are full. */
void vc_raise_spill(struct vclock *v, uint32_t slot, uint64_t val);
/* v[slot] = max(v[slot], val). */
static inline void vc_raise(struct vclock *v, uint32_t slot, uint64_t val) {
    for (uint32_t i = 0; i < v->n_over; i++)
        if (v->over_slot[i] == slot) {
            if (val > v->over_val[i]) v->over_val[i] = val;
            return;
        }
    if (v->arr && slot < v->arr->len && v->arr->c[slot] >= val) return;
    if (v->n_over < VC_OVERRIDES) {
        v->over_slot[v->n_over] = slot;
        v->over_val[v->n_over++] = val;
        return;
    }
    vc_raise_spill(v, slot, val);
}
void vc_join(struct vclock *dst, const struct vclock *src);
void vc_copy(struct vclock *dst, const struct vclock *src);
/* dst = src raised to epoch at slot: what a goroutine hands on to a clock
 * that is to know everything it knows (a child it spawns, an object it has
 * just acquired). O(1): src's overrides are folded first when full, so dst
 * shares src's array and has room for the epoch. */
void vc_publish(struct vclock *dst, struct vclock *src, uint32_t slot, uint64_t epoch);
/* Fold the overrides into the array, so copies of v have room for theirs. */
void vc_compact(struct vclock *v);
void vc_clear(struct vclock *v);

#pragma GCC visibility pop
#endif

/* atomics.c - C11 atomics as the pass rewrites them: the detector performs
 * the operation (sequentially consistent in hardware, whatever was asked:
 * stronger is always correct) and records it by the order the program
 * asked for. Every atomic operation is also an access marked atomic, so
 * atomics never race with each other but do race with plain accesses to
 * the same bytes.
 *
 * A variable's sync object holds what an acquirer of its current value
 * learns (C11's release sequence headed by the last release store):
 *  - a release store replaces it with the storing goroutine's clock (an
 *    acquirer reading this value synchronises with this store only, as
 *    ThreadSanitizer's and Go's detectors model it);
 *  - a relaxed store empties it (it ends every release sequence);
 *  - a read-modify-write continues the sequence: a releasing one merges
 *    its clock in, a relaxed one leaves it; an acquiring one acquires it;
 *  - a compare-exchange releases only when it succeeds, and acquires by
 *    the order of its outcome.
 * The operation and the change of the clock happen under the object's
 * bucket lock, so a load acquires exactly what the store it read from
 * released, even when another store replaces the clock right after.
 *
 * Fences: a release fence takes a copy of the goroutine's clock; its
 * later relaxed stores and read-modify-writes release that copy, not
 * what it learns after the fence. An acquire fence acquires the variables
 * of the relaxed loads made since the last one (up to a few), as they are
 * at the fence: a release that reached such a variable after the load
 * read it is acquired too, which can hide a race but never invents one. */
#include "detector.h"
#include "race_abi.h"

static inline bool is_acquire(int mo) {
    return mo == __ATOMIC_CONSUME || mo == __ATOMIC_ACQUIRE || mo == __ATOMIC_ACQ_REL ||
           mo == __ATOMIC_SEQ_CST;
}
static inline bool is_release(int mo) {
    return mo == __ATOMIC_RELEASE || mo == __ATOMIC_ACQ_REL || mo == __ATOMIC_SEQ_CST;
}

/* A store or read-modify-write of order mo publishes a clock: the
 * goroutine's own, or the one its last release fence took. */
static inline bool releases(const struct race_g *rg, int mo) {
    return is_release(mo) || rg->release_fenced;
}

/* What a load of order mo, or the load half of a read-modify-write,
 * learns: the variable's clock now (acquire), or, remembered for the next
 * acquire fence, nothing yet. vc: the held clock, or NULL. */
static void load_done(struct race_g *rg, const volatile void *a, const struct vclock *vc, int mo) {
    if (!is_acquire(mo)) rg->relaxed_loads[rg->nrelaxed++ % RACE_FENCE_LOADS] = (uintptr_t)a;
    else if (vc) vc_join(&rg->vc, vc);
}

/* The releasing half of a store (replace) or read-modify-write (merge)
 * of order mo, into the held clock vc. */
static void publish(struct race_g *rg, struct vclock *vc, int mo, bool replace) {
    if (!is_release(mo)) {
        if (replace) vc_copy(vc, &rg->fence_vc);
        else vc_join(vc, &rg->fence_vc);
    } else if (replace) {
        vc_publish(vc, &rg->vc, rg->slot, rg->epoch);
    } else {
        vc_join(vc, &rg->vc);
        vc_raise(vc, rg->slot, rg->epoch);
    }
}

/* The goroutine's own epoch went out with a release: later accesses are
 * not covered by it. */
static inline void released(struct race_g *rg, int mo) {
    if (is_release(mo)) race_end_segment(rg);
}

#define PC ((uintptr_t)__builtin_return_address(0))

#define DEFINE_ATOMICS(N, T)                                                            \
    T __gorace_atomic##N##_load(const volatile T *a, int mo) {                          \
        struct race_g *rg = race_cur;                                                   \
        if (!rg || rg->ignore) return __atomic_load_n(a, __ATOMIC_SEQ_CST);             \
        race_access(rg, (uintptr_t)a, N, false, true, PC);                              \
        if (!is_acquire(mo)) {                                                          \
            load_done(rg, a, NULL, mo);                                                 \
            return __atomic_load_n(a, __ATOMIC_SEQ_CST);                                \
        }                                                                               \
        struct vclock *vc = race_sync_hold((uintptr_t)a, false);                        \
        T v = __atomic_load_n(a, __ATOMIC_SEQ_CST);                                     \
        load_done(rg, a, vc, mo);                                                       \
        race_sync_drop((uintptr_t)a);                                                   \
        return v;                                                                       \
    }                                                                                   \
    void __gorace_atomic##N##_store(volatile T *a, T v, int mo) {                       \
        struct race_g *rg = race_cur;                                                   \
        if (!rg || rg->ignore) {                                                        \
            __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                   \
            return;                                                                     \
        }                                                                               \
        race_access(rg, (uintptr_t)a, N, true, true, PC);                               \
        bool rel = releases(rg, mo);                                                    \
        if (!rel && !race_sync_may_exist((uintptr_t)a)) {                               \
            __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                   \
            return;                                                                     \
        }                                                                               \
        struct vclock *vc = race_sync_hold((uintptr_t)a, rel);                          \
        if (rel) publish(rg, vc, mo, true);                                             \
        else if (vc) vc_clear(vc);                                                      \
        __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                       \
        race_sync_drop((uintptr_t)a);                                                   \
        released(rg, mo);                                                               \
    }                                                                                   \
    DEFINE_RMW(N, T, exchange, __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST))             \
    DEFINE_RMW(N, T, fetch_add, __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST))             \
    DEFINE_RMW(N, T, fetch_sub, __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST))             \
    DEFINE_RMW(N, T, fetch_and, __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST))             \
    DEFINE_RMW(N, T, fetch_or, __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST))               \
    DEFINE_RMW(N, T, fetch_xor, __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST))             \
    DEFINE_RMW(N, T, fetch_nand, __atomic_fetch_nand(a, v, __ATOMIC_SEQ_CST))           \
    T __gorace_atomic##N##_compare_exchange(volatile T *a, T expected, T desired,       \
                                            int success_mo, int failure_mo) {           \
        struct race_g *rg = race_cur;                                                   \
        T old = expected;                                                               \
        if (!rg || rg->ignore) {                                                        \
            __atomic_compare_exchange_n(a, &old, desired, false, __ATOMIC_SEQ_CST,      \
                                        __ATOMIC_SEQ_CST);                              \
            return old;                                                                 \
        }                                                                               \
        race_access(rg, (uintptr_t)a, N, true, true, PC);                               \
        bool rel = releases(rg, success_mo);                                            \
        bool syncs = rel || is_acquire(success_mo) || is_acquire(failure_mo);           \
        struct vclock *vc = syncs ? race_sync_hold((uintptr_t)a, rel) : NULL;           \
        bool ok = __atomic_compare_exchange_n(a, &old, desired, false, __ATOMIC_SEQ_CST, \
                                              __ATOMIC_SEQ_CST);                        \
        int mo = ok ? success_mo : failure_mo;                                          \
        load_done(rg, a, vc, mo);                                                       \
        if (ok && rel) publish(rg, vc, success_mo, false);                              \
        if (syncs) race_sync_drop((uintptr_t)a);                                        \
        if (ok) released(rg, success_mo);                                               \
        return old;                                                                     \
    }

#define DEFINE_RMW(N, T, name, op)                                                      \
    T __gorace_atomic##N##_##name(volatile T *a, T v, int mo) {                         \
        struct race_g *rg = race_cur;                                                   \
        if (!rg || rg->ignore) return op;                                               \
        race_access(rg, (uintptr_t)a, N, true, true, PC);                               \
        bool rel = releases(rg, mo), syncs = rel || is_acquire(mo);                     \
        struct vclock *vc = syncs ? race_sync_hold((uintptr_t)a, rel) : NULL;           \
        T old = op;                                                                     \
        load_done(rg, a, vc, mo);                                                       \
        if (rel) publish(rg, vc, mo, false);                                            \
        if (syncs) race_sync_drop((uintptr_t)a);                                        \
        released(rg, mo);                                                               \
        return old;                                                                     \
    }

GORACE_SIZES(DEFINE_ATOMICS)
#ifdef __SIZEOF_INT128__
DEFINE_ATOMICS(16, unsigned __int128)
#endif

void __gorace_atomic_thread_fence(int mo) {
    struct race_g *rg = race_cur;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!rg || rg->ignore) return;
    if (is_acquire(mo)) {
        unsigned n = rg->nrelaxed < RACE_FENCE_LOADS ? rg->nrelaxed : RACE_FENCE_LOADS;
        for (unsigned i = 0; i < n; i++) race_sync_acquire(rg, rg->relaxed_loads[i]);
        rg->nrelaxed = 0;
    }
    if (is_release(mo)) {
        vc_publish(&rg->fence_vc, &rg->vc, rg->slot, rg->epoch);
        rg->release_fenced = true;
        race_end_segment(rg);
    }
}

void __gorace_atomic_signal_fence(int mo) {
    (void)mo;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

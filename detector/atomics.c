/* atomics.c - C11 atomics as the pass rewrites them (and libatomic's
 * generic calls for atomics of any size, at the end): the detector performs
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
 *    the order of its outcome; only a success is recorded as a write (a
 *    failure is an atomic read, as C11 has it, so a plain read beside it
 *    is no race; ThreadSanitizer and Go's detector record a write).
 * The operation and the change of the clock happen under the object's
 * bucket lock, so a load acquires exactly what the store it read from
 * released, even when another store replaces the clock right after.
 *
 * Fences: a release fence takes a copy of the goroutine's clock; its
 * later relaxed stores and read-modify-writes release that copy, not
 * what it learns after the fence. A relaxed load (or read-modify-write)
 * joins what it read into the goroutine's pending clock, which its next
 * acquire fence acquires: what the stores it read from released, not
 * what reached the variables later. */
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

/* The releasing half of a store (replace) or read-modify-write (merge)
 * of order mo, into the held clock vc. */
static void publish(struct race_g *rg, struct vclock *vc, int mo, bool replace) {
    if (!is_release(mo)) {
        if (replace) race_vc_copy(vc, rg->fence_vc);
        else race_vc_join(vc, rg->fence_vc);
    } else if (replace) {
        race_vc_publish(vc, &rg->vc, rg->slot, rg->epoch);
    } else {
        race_vc_join(vc, &rg->vc);
        race_vc_raise(vc, rg->slot, rg->epoch);
    }
}

/* The goroutine's own epoch went out with a release: later accesses are
 * not covered by it. */
static inline void released(struct race_g *rg, int mo) {
    if (is_release(mo)) race_end_segment(rg);
}

/* One atomic operation's hold on its variable's clock. */
struct hold {
    uintptr_t addr;
    struct vclock *vc; /* NULL: none, or not locked */
    bool locked;
};

/* Before an operation that reads the variable (reads) and/or releases
 * into it (rel): lock its clock, created if it releases, when there is
 * anything to do with it. A variable nobody ever released to has no
 * clock, and an operation that would only read it takes no lock (see
 * learn for the race with a first release). */
static inline struct hold hold_for(uintptr_t addr, bool reads, bool rel) {
    struct hold h = {addr, NULL, rel || (reads && race_sync_may_exist(addr))};
    if (h.locked) h.vc = race_sync_hold(addr, rel);
    return h;
}

/* After the operation: its load half (reads) learns the variable's clock,
 * at once for an acquire, for the next acquire fence otherwise (the clock
 * as it is now, when the load read its value: a later release is not
 * acquired by the fence). Unlocked, a first release may have created the
 * clock between the glance and the load and stored the value read: the
 * clock is then taken as it is now, a superset (a possible missed race,
 * never a false one). */
static inline void learn(struct race_g *rg, const struct hold *h, bool reads, int mo) {
    if (!reads) return;
    struct vclock *vc = h->vc;
    bool look_again = !h->locked && race_sync_may_exist(h->addr);
    if (look_again) vc = race_sync_hold(h->addr, false);
    if (vc) {
        if (is_acquire(mo)) race_learn(rg, vc);
        else race_vc_join(race_own_clock(&rg->loaded_vc), vc);
    }
    if (look_again) race_sync_drop(h->addr);
}

static inline void release_hold(const struct hold *h) {
    if (h->locked) race_sync_drop(h->addr);
}

#define PC ((uintptr_t)__builtin_return_address(0))

#define DEFINE_ATOMICS(N, T)                                                            \
    T __gorace_atomic##N##_load(const volatile T *a, int mo) {                          \
        struct race_g *rg = race_cur;                                                   \
        if (!rg || rg->ignore) return __atomic_load_n(a, __ATOMIC_SEQ_CST);             \
        race_access(rg, (uintptr_t)a, N, false, true, PC);                              \
        struct hold h = hold_for((uintptr_t)a, true, false);                            \
        T v = __atomic_load_n(a, __ATOMIC_SEQ_CST);                                     \
        learn(rg, &h, true, mo);                                                        \
        release_hold(&h);                                                               \
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
        /* A relaxed store empties an existing clock: it ends the sequence. */          \
        struct hold h = hold_for((uintptr_t)a, !rel, rel);                              \
        if (rel) publish(rg, h.vc, mo, true);                                           \
        else if (h.vc) race_vc_clear(h.vc);                                                  \
        __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                       \
        release_hold(&h);                                                               \
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
        bool rel = releases(rg, success_mo);                                            \
        struct hold h = hold_for((uintptr_t)a, true, rel);                              \
        bool ok = __atomic_compare_exchange_n(a, &old, desired, false, __ATOMIC_SEQ_CST, \
                                              __ATOMIC_SEQ_CST);                        \
        /* Only a success writes (C11: a failure is a load). Recorded before   */      \
        /* the release below, which must cover it.                             */      \
        race_access(rg, (uintptr_t)a, N, ok, true, PC);                                 \
        learn(rg, &h, true, ok ? success_mo : failure_mo);                              \
        if (ok && rel) publish(rg, h.vc, success_mo, false);                            \
        release_hold(&h);                                                               \
        if (ok) released(rg, success_mo);                                               \
        return old;                                                                     \
    }

#define DEFINE_RMW(N, T, name, op)                                                      \
    T __gorace_atomic##N##_##name(volatile T *a, T v, int mo) {                         \
        struct race_g *rg = race_cur;                                                   \
        if (!rg || rg->ignore) return op;                                               \
        race_access(rg, (uintptr_t)a, N, true, true, PC);                               \
        bool rel = releases(rg, mo);                                                    \
        struct hold h = hold_for((uintptr_t)a, true, rel);                              \
        T old = op;                                                                     \
        learn(rg, &h, true, mo);                                                        \
        if (rel) publish(rg, h.vc, mo, false);                                          \
        release_hold(&h);                                                               \
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
        if (rg->loaded_vc) race_learn(rg, rg->loaded_vc);
        race_clear_own_clock(rg->loaded_vc);
    }
    if (is_release(mo)) {
        race_vc_publish(race_own_clock(&rg->fence_vc), &rg->vc, rg->slot, rg->epoch);
        rg->release_fenced = true;
        race_end_segment(rg);
    }
}

void __gorace_atomic_signal_fence(int mo) {
    (void)mo;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* ---- atomics of any size ----
 * An _Atomic struct (or a 16-byte atomic without cmpxchg16b) compiles to
 * libatomic's generic calls, which take the size and pointers to values.
 * The race library defines them instead (the executable's definitions
 * win), so the pass need not know them: each operation is made byte by
 * byte under the variable's bucket lock, which every other atomic
 * operation of this library on the variable also holds, and is recorded
 * as the sized ones are. Uninstrumented code using libatomic's own
 * functions on the same variable would not be excluded. */

static void copy_bytes(void *dst, const void *src, size_t n) {
    /* volatile: a loop the compiler turned into memcpy would reach the
     * interceptor. */
    volatile unsigned char *d = dst;
    const volatile unsigned char *s = src;
    for (size_t i = 0; i < n; i++) d[i] = s[i];
}

static bool same_bytes(const void *a, const void *b, size_t n) {
    const volatile unsigned char *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i]) return false;
    return true;
}

static inline struct race_g *checked_goroutine(void) {
    struct race_g *rg = race_cur;
    return rg && !rg->ignore ? rg : NULL;
}

void race_generic_atomic_load(size_t n, void *src, void *ret, int mo) __asm__("__atomic_load");
void race_generic_atomic_load(size_t n, void *src, void *ret, int mo) {
    struct race_g *rg = checked_goroutine();
    if (rg) race_access(rg, (uintptr_t)src, n, false, true, PC);
    struct hold h = {(uintptr_t)src, race_sync_hold((uintptr_t)src, false), true};
    copy_bytes(ret, src, n);
    if (rg) learn(rg, &h, true, mo);
    release_hold(&h);
}

void race_generic_atomic_store(size_t n, void *dst, void *val, int mo) __asm__("__atomic_store");
void race_generic_atomic_store(size_t n, void *dst, void *val, int mo) {
    struct race_g *rg = checked_goroutine();
    if (rg) race_access(rg, (uintptr_t)dst, n, true, true, PC);
    bool rel = rg && releases(rg, mo);
    struct hold h = {(uintptr_t)dst, race_sync_hold((uintptr_t)dst, rel), true};
    if (rel) publish(rg, h.vc, mo, true);
    else if (rg && h.vc) race_vc_clear(h.vc);
    copy_bytes(dst, val, n);
    release_hold(&h);
    if (rg) released(rg, mo);
}

void race_generic_atomic_exchange(size_t n, void *obj, void *val, void *ret, int mo)
    __asm__("__atomic_exchange");
void race_generic_atomic_exchange(size_t n, void *obj, void *val, void *ret, int mo) {
    struct race_g *rg = checked_goroutine();
    if (rg) race_access(rg, (uintptr_t)obj, n, true, true, PC);
    bool rel = rg && releases(rg, mo);
    struct hold h = {(uintptr_t)obj, race_sync_hold((uintptr_t)obj, rel), true};
    copy_bytes(ret, obj, n);
    copy_bytes(obj, val, n);
    if (rg) learn(rg, &h, true, mo);
    if (rel) publish(rg, h.vc, mo, false);
    release_hold(&h);
    if (rg) released(rg, mo);
}

bool race_generic_atomic_compare_exchange(size_t n, void *obj, void *expected, void *desired,
                                          int success_mo, int failure_mo)
    __asm__("__atomic_compare_exchange");
bool race_generic_atomic_compare_exchange(size_t n, void *obj, void *expected, void *desired,
                                          int success_mo, int failure_mo) {
    struct race_g *rg = checked_goroutine();
    bool rel = rg && releases(rg, success_mo);
    struct hold h = {(uintptr_t)obj, race_sync_hold((uintptr_t)obj, rel), true};
    bool ok = same_bytes(obj, expected, n);
    if (ok) copy_bytes(obj, desired, n);
    else copy_bytes(expected, obj, n);
    if (rg) {
        /* As the sized compare-exchange: a failure is a load. */
        race_access(rg, (uintptr_t)obj, n, ok, true, PC);
        learn(rg, &h, true, ok ? success_mo : failure_mo);
        if (ok && rel) publish(rg, h.vc, success_mo, false);
    }
    release_hold(&h);
    if (rg && ok) released(rg, success_mo);
    return ok;
}

/* atomics.c - C11 atomics as the pass rewrites them: the detector performs
 * the operation (sequentially consistent in hardware, whatever was asked:
 * stronger is always correct) and records it by the order the program
 * asked for. Acquire loads acquire the variable's sync object, release
 * stores release to it, read-modify-writes do both as their order says;
 * relaxed operations order nothing. Every atomic operation is also an
 * access marked atomic, so atomics never race with each other but do race
 * with plain accesses to the same bytes.
 *
 * Fences: a release fence makes the goroutine's following relaxed stores
 * release (as if the fence's clock travelled with them), and an acquire
 * fence acquires the variables of the relaxed loads made since the last
 * one (up to a few), which is what the C11 fence rules require for the
 * usual message-passing idioms. */
#include "detector.h"
#include "race_abi.h"

static inline bool is_acquire(int mo) {
    return mo == __ATOMIC_CONSUME || mo == __ATOMIC_ACQUIRE || mo == __ATOMIC_ACQ_REL ||
           mo == __ATOMIC_SEQ_CST;
}
static inline bool is_release(int mo) {
    return mo == __ATOMIC_RELEASE || mo == __ATOMIC_ACQ_REL || mo == __ATOMIC_SEQ_CST;
}

enum { RELAXED_LOADS = 4 };
static __thread uintptr_t relaxed_loads[RELAXED_LOADS];
static __thread unsigned nrelaxed;
static __thread bool release_fenced;

static void before(struct race_g *rg, const volatile void *a, size_t n, bool write, int mo,
                   uintptr_t pc) {
    race_access(rg, (uintptr_t)a, n, write, true, pc);
    if (write && (is_release(mo) || release_fenced)) race_sync_release(rg, (uintptr_t)a);
}

static void after(struct race_g *rg, const volatile void *a, bool read, int mo) {
    if (!read) return;
    if (is_acquire(mo)) race_sync_acquire(rg, (uintptr_t)a);
    else relaxed_loads[nrelaxed++ % RELAXED_LOADS] = (uintptr_t)a;
}

#define PC ((uintptr_t)__builtin_return_address(0))

#define DEFINE_ATOMICS(N, T)                                                            \
    T __gorace_atomic##N##_load(const volatile T *a, int mo) {                          \
        struct race_g *rg = race_cur;                                                   \
        if (rg && !rg->ignore) race_access(rg, (uintptr_t)a, N, false, true, PC);       \
        T v = __atomic_load_n(a, __ATOMIC_SEQ_CST);                                      \
        if (rg && !rg->ignore) after(rg, a, true, mo);                                  \
        return v;                                                                       \
    }                                                                                   \
    void __gorace_atomic##N##_store(volatile T *a, T v, int mo) {                       \
        struct race_g *rg = race_cur;                                                   \
        if (rg && !rg->ignore) before(rg, a, N, true, mo, PC);                          \
        __atomic_store_n(a, v, __ATOMIC_SEQ_CST);                                        \
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
        bool check = rg && !rg->ignore;                                                 \
        if (check) before(rg, a, N, true, success_mo, PC);                              \
        T old = expected;                                                               \
        bool ok = __atomic_compare_exchange_n(a, &old, desired, false, __ATOMIC_SEQ_CST, \
                                              __ATOMIC_SEQ_CST);                        \
        if (check) after(rg, a, true, ok ? success_mo : failure_mo);                    \
        return old;                                                                     \
    }

#define DEFINE_RMW(N, T, name, op)                                                      \
    T __gorace_atomic##N##_##name(volatile T *a, T v, int mo) {                         \
        struct race_g *rg = race_cur;                                                   \
        bool check = rg && !rg->ignore;                                                 \
        if (check) before(rg, a, N, true, mo, PC);                                      \
        T old = op;                                                                     \
        if (check) after(rg, a, true, mo);                                              \
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
        unsigned n = nrelaxed < RELAXED_LOADS ? nrelaxed : RELAXED_LOADS;
        for (unsigned i = 0; i < n; i++) race_sync_acquire(rg, relaxed_loads[i]);
        nrelaxed = 0;
    }
    if (is_release(mo)) release_fenced = true;
}

void __gorace_atomic_signal_fence(int mo) {
    (void)mo;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* lock.c - the runtime's internal mutex (rt_lock) and futex wrappers.
 *
 * Three states, as in Drepper's "Futexes Are Tricky": 0 unlocked, 1 locked,
 * 2 locked with possible sleepers. Critical sections in the runtime are a
 * few dozen instructions, and a futex wake-up costs microseconds on the VMs
 * we target, so acquire spins in user space first and sleeps in the kernel
 * only when the holder seems to have been descheduled. Release issues a
 * FUTEX_WAKE only when state 2 says someone may be asleep. */
#include "rt.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { SPIN_ACTIVE = 64, SPIN_PASSIVE = 4 };

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

void rt_futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t timeout_ns) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
}

void rt_futex_wake(_Atomic uint32_t *addr, int n) {
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

void rt_lock_acquire(rt_lock *l) {
    uint32_t expected = 0;
    if (RT_LIKELY(atomic_compare_exchange_weak_explicit(
            &l->key, &expected, 1, memory_order_acquire, memory_order_relaxed)))
        return;
    /* Once we have slept, we must leave the lock in state 2 when we take
     * it, since other sleepers may remain. */
    uint32_t wait_state = 1;
    for (;;) {
        for (int i = 0; i < SPIN_ACTIVE; i++) {
            uint32_t v = atomic_load_explicit(&l->key, memory_order_relaxed);
            if (v == 0 && atomic_compare_exchange_weak_explicit(
                              &l->key, &v, wait_state, memory_order_acquire,
                              memory_order_relaxed))
                return;
            cpu_relax();
        }
        for (int i = 0; i < SPIN_PASSIVE; i++) {
            uint32_t v = atomic_load_explicit(&l->key, memory_order_relaxed);
            if (v == 0 && atomic_compare_exchange_weak_explicit(
                              &l->key, &v, wait_state, memory_order_acquire,
                              memory_order_relaxed))
                return;
            sched_yield();
        }
        if (atomic_exchange_explicit(&l->key, 2, memory_order_acquire) == 0)
            return;
        wait_state = 2;
        rt_futex_wait(&l->key, 2, -1);
    }
}

void rt_lock_release(rt_lock *l) {
    if (atomic_exchange_explicit(&l->key, 0, memory_order_release) == 2)
        rt_futex_wake(&l->key, 1);
}

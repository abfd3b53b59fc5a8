/* mutex.c - go_mutex, Go's sync.Mutex algorithm.
 *
 * state_ holds LOCKED, WOKEN and STARVING bits and, above them, the number
 * of goroutines parked (or about to park) on sema_. A free mutex is 0, so
 * the uncontended lock is one CAS 0 -> LOCKED and the uncontended unlock one
 * atomic subtract that leaves 0.
 *
 * Normal mode: waiters queue FIFO, but a woken waiter does not own the
 * mutex; it competes with newly arriving goroutines, which usually win (they
 * are already on a CPU). While the holder runs on another processor a
 * locker spins briefly instead of parking, and sets WOKEN so that unlock does
 * not wake a second goroutine for nothing. A woken waiter that loses goes
 * back to the *front* of the queue.
 *
 * Starvation mode: once a waiter has waited more than 1 ms it sets STARVING.
 * Unlock then hands the mutex directly to the oldest waiter (the LOCKED bit
 * stays clear while it is in transit, and newcomers neither spin nor grab
 * it; they queue at the tail). The mutex returns to normal mode when the
 * waiter that receives it is the last one, or waited less than 1 ms.
 *
 * A mutex is not tied to a goroutine: any goroutine may unlock it.
 *
 * Happens-before for the race detector: go_mutex_lock and go_mutex_trylock
 * each return through one point once the mutex is held (the acquire side of
 * unlock -> lock), and go_mutex_unlock starts with it still held (the
 * release side). The embedded uses (rt_mutex_lock) record nothing: their
 * owners record on their own objects. */
#include "proc.h"
#include "sema.h"
#include "../detector/race.h"

#define MUTEX_WAITER_ONE ((int32_t)1 << RT_MUTEX_WAITER_SHIFT)
#define MUTEX_STARVATION_THRESHOLD_NS (1 * GO_MILLISECOND)

/* Go's active_spin / active_spin_cnt. */
enum { MUTEX_SPIN_ROUNDS = 4, MUTEX_SPIN_PAUSES = 30 };

static inline int32_t mutex_load(go_mutex *m) {
    return __atomic_load_n(&m->state_, __ATOMIC_RELAXED);
}

static inline bool mutex_cas(go_mutex *m, int32_t *old, int32_t new_state) {
    return __atomic_compare_exchange_n(&m->state_, old, new_state, false,
                                       __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
}

/* Go's sync_runtime_canSpin. Spinning only pays off for a moment, and only
 * when the holder can be running on another processor: GOMAXPROCS > 1 and
 * some other P is busy (not idle, not merely looking for work). Never when
 * our own P has goroutines waiting to run: they may include the holder. */
static bool mutex_can_spin(int rounds) {
    if (rounds >= MUTEX_SPIN_ROUNDS)
        return false;
    int32_t procs = atomic_load_explicit(&rt_sched.gomaxprocs, memory_order_relaxed);
    int32_t idle = atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed) +
                   atomic_load_explicit(&rt_sched.nmspinning, memory_order_relaxed);
    if (procs <= idle + 1)
        return false;
    struct rt_m *m = rt_getm();
    return m != NULL && m->p != NULL && rt_runq_empty(m->p);
}

static void mutex_spin(void) {
    for (int i = 0; i < MUTEX_SPIN_PAUSES; i++) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ volatile("yield");
#else
        __asm__ volatile("" ::: "memory");
#endif
    }
}

void rt_mutex_lock_slow(go_mutex *m, enum rt_wait_reason reason, void *wait_obj) {
    int64_t wait_start = 0;
    bool starving = false;
    bool awoke = false; /* we hold the WOKEN bit */
    int spins = 0;
    int32_t old = mutex_load(m);
    for (;;) {
        if ((old & (RT_MUTEX_LOCKED | RT_MUTEX_STARVING)) == RT_MUTEX_LOCKED &&
            mutex_can_spin(spins)) {
            if (!awoke && !(old & RT_MUTEX_WOKEN) &&
                (old >> RT_MUTEX_WAITER_SHIFT) != 0 &&
                mutex_cas(m, &old, old | RT_MUTEX_WOKEN))
                awoke = true;
            mutex_spin();
            spins++;
            old = mutex_load(m);
            continue;
        }
        int32_t new_state = old;
        /* In starvation mode the mutex belongs to the queue: don't grab it. */
        if (!(old & RT_MUTEX_STARVING))
            new_state |= RT_MUTEX_LOCKED;
        if (old & (RT_MUTEX_LOCKED | RT_MUTEX_STARVING))
            new_state += MUTEX_WAITER_ONE;
        /* Switch to starvation mode, unless the mutex is free by now (the
         * unlocker expects a starving mutex to have waiters to hand to). */
        if (starving && (old & RT_MUTEX_LOCKED))
            new_state |= RT_MUTEX_STARVING;
        if (awoke) {
            if (!(new_state & RT_MUTEX_WOKEN))
                rt_fatal("sync: inconsistent mutex state");
            new_state &= ~RT_MUTEX_WOKEN;
        }
        if (!mutex_cas(m, &old, new_state))
            continue;
        if (!(old & (RT_MUTEX_LOCKED | RT_MUTEX_STARVING)))
            return; /* took it with the CAS */
        bool requeue = wait_start != 0;
        if (!requeue)
            wait_start = rt_nanotime();
        rt_sema_acquire(&m->sema_, reason, wait_obj, requeue);
        starving = starving ||
                   rt_nanotime() - wait_start > MUTEX_STARVATION_THRESHOLD_NS;
        old = mutex_load(m);
        if (old & RT_MUTEX_STARVING) {
            /* Handed to us directly: LOCKED is clear and we are still
             * counted as a waiter. Take ownership in one step. */
            if ((old & (RT_MUTEX_LOCKED | RT_MUTEX_WOKEN)) ||
                (old >> RT_MUTEX_WAITER_SHIFT) == 0)
                rt_fatal("sync: inconsistent mutex state");
            int32_t delta = RT_MUTEX_LOCKED - MUTEX_WAITER_ONE;
            if (!starving || (old >> RT_MUTEX_WAITER_SHIFT) == 1)
                delta -= RT_MUTEX_STARVING;
            __atomic_add_fetch(&m->state_, delta, __ATOMIC_ACQ_REL);
            return;
        }
        awoke = true;
        spins = 0;
    }
}

void rt_mutex_unlock_slow(go_mutex *m, int32_t new_state) {
    if (!((new_state + RT_MUTEX_LOCKED) & RT_MUTEX_LOCKED))
        rt_fatal("sync: unlock of unlocked mutex");
    if (new_state & RT_MUTEX_STARVING) {
        /* Hand ownership to the first waiter and yield to it. */
        rt_sema_release(&m->sema_, true);
        return;
    }
    int32_t old = new_state;
    for (;;) {
        /* Nobody to wake, or someone already locked it, was woken, or the
         * mutex went into starvation mode meanwhile (then the unlocker
         * that saw it starving hands it over). */
        if ((old >> RT_MUTEX_WAITER_SHIFT) == 0 ||
            (old & (RT_MUTEX_LOCKED | RT_MUTEX_WOKEN | RT_MUTEX_STARVING)))
            return;
        if (mutex_cas(m, &old, (old - MUTEX_WAITER_ONE) | RT_MUTEX_WOKEN)) {
            rt_sema_release(&m->sema_, false);
            return;
        }
    }
}

/* Lock, TryLock and Unlock update the state word atomically, as Go's do:
 * overwriting a mutex in use is a race. */
#define RACE_STATE_UPDATE(m) \
    RACE(race_atomic_update_pc(&(m)->state_, sizeof (m)->state_, (uintptr_t)__builtin_return_address(0)))
/* For the lock-order checker: m is held while its locked bit is set. */
#define RACE_MUTEX_LOCKED(m, waited)                                               \
    RACE(race_mutex_locked(m, &(m)->state_, RT_MUTEX_LOCKED, waited,               \
                           (uintptr_t)__builtin_return_address(0)))

void go_mutex_lock(go_mutex *m) {
    RACE_STATE_UPDATE(m);
    rt_mutex_lock(m, WAIT_MUTEX_LOCK, m);
    RACE(race_acquire(m));
    RACE_MUTEX_LOCKED(m, true);
    RT_KEEP_FRAME();
}

bool go_mutex_trylock(go_mutex *m) {
    RACE_STATE_UPDATE(m);
    int32_t old = mutex_load(m);
    if (old & (RT_MUTEX_LOCKED | RT_MUTEX_STARVING))
        return false;
    /* A failed trylock orders nothing. */
    if (!__atomic_compare_exchange_n(&m->state_, &old, old | RT_MUTEX_LOCKED,
                                     false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return false;
    RACE(race_acquire(m));
    RACE_MUTEX_LOCKED(m, false);
    return true;
}

void go_mutex_unlock(go_mutex *m) {
    RACE_STATE_UPDATE(m);
    RACE(race_release(m));
    RACE(race_mutex_unlocked(m));
    rt_mutex_unlock(m);
    RT_KEEP_FRAME(); /* a handoff yields to the next owner from in here */
}

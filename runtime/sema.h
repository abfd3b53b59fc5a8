/* sema.h - internals shared by the sync primitives (mutex.c, rwmutex.c,
 * waitgroup.c, once.c, cond.c).
 *
 * rt_sema_* is Go's runtime semaphore (sema.go) bound to one go_sema_: a
 * count of available units and a queue of goroutines parked waiting for one.
 * The blocking calls take the wait reason and the user-visible object
 * (the go_mutex *, go_rwmutex *, go_waitgroup *, ...) that the parked
 * goroutine is reported as waiting on, whatever internal sema it sleeps on.
 *
 * rt_mutex_lock/rt_mutex_unlock are go_mutex's algorithm without the
 * user-level bookkeeping of go_mutex_lock/unlock (the detector's hooks), for
 * primitives built on an embedded mutex (RWMutex's writer lock, Once): they
 * record their own synchronisation on their own object and name their own
 * wait reason. The fast paths are inline so every caller gets a single
 * atomic operation when the mutex is free. */
#ifndef GOROUTINE_SEMA_H
#define GOROUTINE_SEMA_H

#include "rt.h"

#pragma GCC visibility push(hidden)

/* A parked goroutine's traceback starts at the public go_* function it
 * called (the runtime's frames below it are hidden), so a public function
 * must not leave the stack through a tail jump into the code that parks.
 * Placed after such a call, this empty asm keeps it a real call. It costs
 * no instruction, and marks where the blocking operation is complete. */
#define RT_KEEP_FRAME() __asm__ volatile("")

/* Take one unit, parking until one is available. lifo queues the caller at
 * the front (Go's mutex does so for waiters that were woken and lost the
 * race again, so they do not go back to the end of the line). */
void rt_sema_acquire(go_sema_ *s, enum rt_wait_reason reason, void *wait_obj,
                     bool lifo);
/* Add one unit and wake the oldest waiter, if any. With handoff the unit
 * goes straight to that waiter (no barging) and the caller yields to it:
 * starvation mode of the mutex. */
void rt_sema_release(go_sema_ *s, bool handoff);

/* go_mutex state_: three flag bits, then the number of parked waiters. */
enum {
    RT_MUTEX_LOCKED = 1,
    RT_MUTEX_WOKEN = 2,    /* a waiter is awake and competing: unlock
                              need not wake another */
    RT_MUTEX_STARVING = 4, /* ownership is handed to the oldest waiter */
    RT_MUTEX_WAITER_SHIFT = 3,
};

void rt_mutex_lock_slow(go_mutex *m, enum rt_wait_reason reason, void *wait_obj);
void rt_mutex_unlock_slow(go_mutex *m, int32_t new_state);

static inline void rt_mutex_lock(go_mutex *m, enum rt_wait_reason reason,
                                 void *wait_obj) {
    int32_t unlocked = 0;
    if (RT_UNLIKELY(!__atomic_compare_exchange_n(&m->state_, &unlocked,
                                                 RT_MUTEX_LOCKED, false,
                                                 __ATOMIC_ACQUIRE,
                                                 __ATOMIC_RELAXED)))
        rt_mutex_lock_slow(m, reason, wait_obj);
}

static inline void rt_mutex_unlock(go_mutex *m) {
    int32_t new_state =
        __atomic_sub_fetch(&m->state_, RT_MUTEX_LOCKED, __ATOMIC_RELEASE);
    if (RT_UNLIKELY(new_state != 0))
        rt_mutex_unlock_slow(m, new_state);
}

#pragma GCC visibility pop
#endif

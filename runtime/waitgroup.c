/* waitgroup.c - go_waitgroup, Go's sync.WaitGroup algorithm.
 *
 * state_ packs the counter (signed, high 32 bits) and the number of
 * goroutines parked in Wait (low 32 bits), so one atomic add both changes
 * the counter and tells the goroutine that brings it to zero how many
 * waiters to release. That goroutine resets state_ to 0 before waking them,
 * which makes the group reusable as soon as every Wait has returned.
 *
 * Misuse Go detects is detected the same way: a negative counter; an Add
 * that starts a new round (counter from 0 to positive) while waiters from
 * the last round are still recorded; state_ changing between the final
 * Done seeing waiters and it resetting state_ (an Add concurrent with that
 * Wait); and a woken waiter finding state_ non-zero (reused too early).
 *
 * Happens-before for the race detector: done -> wait goes from the start of
 * go_wg_add with a negative delta to the one point where go_wg_wait
 * returns. */
#include "sema.h"
#include "../detector/race.h"

void go_wg_add(go_waitgroup *wg, int delta) {
    if (delta < 0) RACE(race_release(wg));  /* done -> the wait it ends */
    uint64_t state = __atomic_add_fetch(
        &wg->state_, (uint64_t)(int64_t)delta << 32, __ATOMIC_SEQ_CST);
    int32_t counter = (int32_t)(state >> 32);
    uint32_t waiters = (uint32_t)state;
    if (counter < 0)
        rt_panic("sync: negative WaitGroup counter");
    if (waiters != 0 && delta > 0 && counter == delta)
        rt_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
    /* The first Add of a round "reads" the WaitGroup and the first Wait
     * "writes" it, so an Add racing with a Wait is a reported race, as in
     * Go. */
    if (delta > 0 && counter == delta)
        RACE(race_read_range_pc(&wg->sema_, 1, (uintptr_t)__builtin_return_address(0)));
    if (counter > 0 || waiters == 0)
        return;
    /* The counter just reached zero with goroutines waiting. Nothing else
     * may change state_ now: waiters do not while the counter is zero, and
     * an Add would be the misuse checked here. */
    if (__atomic_load_n(&wg->state_, __ATOMIC_SEQ_CST) != state)
        rt_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
    __atomic_store_n(&wg->state_, 0, __ATOMIC_SEQ_CST);
    for (; waiters != 0; waiters--)
        rt_sema_release(&wg->sema_, false);
}

void go_wg_done(go_waitgroup *wg) {
    go_wg_add(wg, -1);
}

static void wg_wait_slow(go_waitgroup *wg, uintptr_t pc) {
    uint64_t state = __atomic_load_n(&wg->state_, __ATOMIC_SEQ_CST);
    for (;;) {
        if ((int32_t)(state >> 32) == 0)
            return;
        if (__atomic_compare_exchange_n(&wg->state_, &state, state + 1, true,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            if ((uint32_t)state == 0)
                RACE(race_write_range_pc(&wg->sema_, 1, pc));
            break;
        }
    }
    rt_sema_acquire(&wg->sema_, WAIT_WAITGROUP, wg, false);
    if (__atomic_load_n(&wg->state_, __ATOMIC_SEQ_CST) != 0)
        rt_panic("sync: WaitGroup is reused before previous Wait has returned");
}

void go_wg_wait(go_waitgroup *wg) {
    if ((int32_t)(__atomic_load_n(&wg->state_, __ATOMIC_ACQUIRE) >> 32) != 0)
        wg_wait_slow(wg, (uintptr_t)__builtin_return_address(0));
    RACE(race_acquire(wg));
    RT_KEEP_FRAME();
}

/* deadlock.c - the global-deadlock check, run by the last M to go idle.
 *
 * Every goroutine asleep means: none runnable, running or in a system call,
 * none sleeping or waiting for I/O (those wake by themselves), and no
 * pending timer whose firing could wake a blocked goroutine. Go gives up on
 * the verdict whenever any timer is pending; we ask each timer (can_wake),
 * so a forgotten timer does not hide a real deadlock. */
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

bool rt_wakes_by_itself(struct rt_g *gp) {
    switch (atomic_load(&gp->status)) {
    case G_RUNNABLE:
    case G_RUNNING:
    case G_SYSCALL:
        return true;
    case G_WAITING:
        return gp->wait_reason == WAIT_SLEEP || gp->wait_reason == WAIT_IO ||
               gp->wait_reason == WAIT_SYSCALL;
    default:
        return false;
    }
}

static int by_id(const void *a, const void *b) {
    uint64_t x = (*(struct rt_g *const *)a)->id, y = (*(struct rt_g *const *)b)->id;
    return x < y ? -1 : x > y;
}

void rt_check_dead(void) {
    rt_lock_acquire(&rt_allgs_lock);
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next)
        if (rt_wakes_by_itself(gp)) {
            rt_lock_release(&rt_allgs_lock);
            return;
        }
    rt_lock_release(&rt_allgs_lock);
    if (atomic_load(&rt_sched.runq_size) != 0 || rt_timers_any_can_wake()) return;

    /* One report, even if another thread reached the same verdict. */
    static _Atomic int reporting;
    if (atomic_exchange(&reporting, 1))
        for (;;) pause();
    fflush(NULL);
    if (atomic_load(&rt_sched.ngoroutines) <= 0) {
        rt_printf(2, "fatal error: no goroutines (main called go_exit) - deadlock!\n");
        _exit(2);
    }
    rt_printf(2, "fatal error: all goroutines are asleep - deadlock!\n\n");
    rt_lock_acquire(&rt_allgs_lock);
    size_t n = 0;
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next) n++;
    struct rt_g **blocked = malloc(n * sizeof *blocked);
    size_t nblocked = 0;
    for (struct rt_g *gp = rt_allgs; gp && blocked; gp = gp->all_next)
        if (atomic_load(&gp->status) == G_WAITING) blocked[nblocked++] = gp;
    if (blocked) qsort(blocked, nblocked, sizeof *blocked, by_id);
    for (size_t i = 0; i < nblocked; i++) rt_print_goroutine(2, blocked[i], NULL);
    rt_lock_release(&rt_allgs_lock);
    _exit(2);
}

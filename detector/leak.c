/* leak.c - goroutine leaks (partial deadlocks), reported in race builds.
 *
 * A goroutine is leaked when it is blocked forever: on a channel, mutex,
 * WaitGroup, Cond, Once, errgroup or select that no live goroutine can
 * reach. This finder decides only what it can decide without tracing the
 * heap, and never raises a false alarm:
 * - at exit (main returned or exit() was called) nothing can run any more,
 *   so when no goroutine is running, runnable, sleeping, in I/O or in a
 *   system call, every goroutine still blocked is leaked (DESIGN.md: once
 *   main has returned and nothing else can run, globals reach nothing);
 * - at any time, a goroutine blocked on a nil channel or in a select with
 *   no cases can never be woken.
 * Goroutines blocked on objects a live goroutine might still reach are not
 * reported while anything is live; that needs a reachability trace and is
 * left to a later version of this file. Findings count towards exit status
 * 66, like races. */
#include "detector.h"
#include "../runtime/proc.h"

#include <stdlib.h>

static _Atomic size_t nleaks;
static _Atomic int exiting;

size_t race_leaks(void) { return atomic_load(&nleaks); }

static bool forever_by_itself(struct rt_g *gp) {
    switch (gp->wait_reason) {
    case WAIT_CHAN_SEND_NIL:
    case WAIT_CHAN_RECV_NIL:
    case WAIT_SELECT_NO_CASES:
        return true;
    default:
        return false;
    }
}

static void report(struct rt_g *gp) {
    int64_t waited = (rt_nanotime() - gp->wait_since) / GO_SECOND;
    rt_printf(2, "==================\nWARNING: GOROUTINE LEAK\n");
    rt_printf(2, "goroutine %llu [%s (leaked)", (unsigned long long)gp->id,
              rt_wait_reason_string(gp->wait_reason));
    if (waited >= 1) rt_printf(2, ", %lld second%s", (long long)waited, waited == 1 ? "" : "s");
    rt_printf(2, "]:\n");
    uintptr_t pcs[RT_MAX_FRAMES];
    int n = rt_g_callers(gp, pcs, RT_MAX_FRAMES);
    rt_print_frames(2, pcs, n);
    if (gp->create_depth > 0) {
        rt_printf(2, "Goroutine %llu created at:\n", (unsigned long long)gp->id);
        rt_print_frames(2, gp->create_pcs, gp->create_depth);
    }
    rt_printf(2, "==================\n");
}

static int by_id(const void *a, const void *b) {
    uint64_t x = (*(struct rt_g *const *)a)->id, y = (*(struct rt_g *const *)b)->id;
    return x < y ? -1 : x > y;
}

/* Report what can be proven leaked now; at exit, everything blocked when
 * nothing is live. Each goroutine is reported once. */
static int find_leaks(bool at_exit) {
    struct race_g *rg = race_cur;
    race_internal_enter(rg);
    rt_lock_acquire(&rt_allgs_lock);
    size_t n = 0;
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next) n++;
    struct rt_g **found = race_internal_alloc((n ? n : 1) * sizeof *found);
    bool any_live = false;
    struct rt_g *self = rt_getg();
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next)
        if (gp != self && rt_wakes_by_itself(gp)) any_live = true;
    size_t k = 0;
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next) {
        if (gp == self || atomic_load(&gp->status) != G_WAITING || rt_wakes_by_itself(gp) || gp->leak_reported)
            continue;
        if (forever_by_itself(gp) || (at_exit && !any_live)) found[k++] = gp;
    }
    qsort(found, k, sizeof *found, by_id);
    for (size_t i = 0; i < k; i++) {
        found[i]->leak_reported = true;
        report(found[i]);
    }
    rt_lock_release(&rt_allgs_lock);
    race_internal_free(found);
    atomic_fetch_add(&nleaks, k);
    race_internal_leave(rg);
    return (int)k;
}

int go_leakcheck(void) { return find_leaks(atomic_load(&exiting)); }

void race_leaks_at_exit(void) {
    atomic_store(&exiting, 1);
    find_leaks(true);
}

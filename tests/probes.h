/* probes.h - what the CUnit suites ask of the runtime while a case runs:
 * run a body at several GOMAXPROCS values, wait (by yielding) until a
 * goroutine is parked for a given reason or a channel has n waiters.
 * Waits are bounded only on their failure path, so a bug fails the case
 * instead of hanging it; nothing depends on how long anything takes.
 * Everything is static inline: each suite uses a different subset. */
#ifndef GOROUTINE_TEST_PROBES_H
#define GOROUTINE_TEST_PROBES_H

#include <CUnit/CUnit.h>
#include <goroutine.h>
#include <stdbool.h>
#include <stdlib.h>

#include "chan.h"
#include "rt.h"

/* Runs body once at each GOMAXPROCS value given, then restores it. */
#define AT_PROCS(body, ...)                                                    \
    at_procs(body, (const int[]){__VA_ARGS__}, sizeof((const int[]){__VA_ARGS__}) / sizeof(int))
static inline void at_procs(void (*body)(void), const int *procs, size_t n) {
    int saved = go_maxprocs(0);
    for (size_t i = 0; i < n; i++) {
        go_maxprocs(procs[i]);
        body();
    }
    go_maxprocs(saved);
}

/* Yield until cond holds; fail the case instead of hanging if it never
 * does. */
#define YIELD_UNTIL(cond)                                                      \
    do {                                                                       \
        long spins_ = 0;                                                       \
        while (!(cond) && ++spins_ < 50000000L) go_yield();                    \
        CU_ASSERT_FATAL(cond);                                                 \
    } while (0)

/* Is goroutine id parked with this wait reason? */
static inline bool is_parked(uint64_t id, enum rt_wait_reason reason) {
    bool parked = false;
    rt_lock_acquire(&rt_allgs_lock);
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next)
        if (gp->id == id && atomic_load(&gp->status) == G_WAITING) {
            parked = gp->wait_reason == reason;
            break;
        }
    rt_lock_release(&rt_allgs_lock);
    return parked;
}

static inline bool yield_until_parked(uint64_t id, enum rt_wait_reason reason) {
    for (long spins = 0; !is_parked(id, reason); spins++) {
        if (spins == 200000L) return false;
        go_yield();
    }
    return true;
}

static inline size_t queue_len(go_chan *c, enum go_dir dir) {
    rt_lock_acquire(&c->lock);
    size_t n = 0;
    for (rt_waiter *w = (dir == GO_SEND ? c->sendq : c->recvq).first; w; w = w->next)
        n++;
    rt_lock_release(&c->lock);
    return n;
}

/* Yield until n goroutines wait on c in direction dir. */
static inline bool yield_until_queued(go_chan *c, enum go_dir dir, size_t n) {
    for (long spins = 0; queue_len(c, dir) < n; spins++) {
        if (spins == 50000000L) return false;
        go_yield();
    }
    return true;
}

static inline void wait_queued(go_chan *c, enum go_dir dir, size_t n) {
    CU_ASSERT_FATAL(yield_until_queued(c, dir, n));
}

/* Children have no CUnit registry: they give up by aborting. */
static inline void child_wait_queued(go_chan *c, enum go_dir dir, size_t n) {
    if (!yield_until_queued(c, dir, n)) abort();
}

#endif

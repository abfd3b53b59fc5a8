/* errgroup.c - golang.org/x/sync/errgroup: goroutines working on parts of
 * one task, the first failure cancelling the rest.
 *
 * A group owns a cancel context derived from its parent. Each function runs
 * on its own goroutine with that context; the first non-zero result is
 * kept and cancels the context, and go_errgroup_wait waits for every
 * function started so far, cancels the context and returns that result.
 *
 * State lives under one rt_lock: `active` counts functions started and not
 * yet returned (Wait returns when it reaches zero), `holding` counts those
 * that took a slot under the limit. Under a limit, go_errgroup_go parks in
 * FIFO order while every slot is taken; a finishing function hands its slot
 * straight to the oldest such caller (counting the caller's function as
 * active at once, so Wait cannot slip in between), which keeps callers from
 * overtaking each other and makes try_go fail whenever anyone is queued. As
 * in Go, a limit may only be changed while no goroutine holds a slot;
 * functions started with no limit in force never hold one.
 *
 * Parked callers and waiters are records on their own stacks, readied only
 * after the lock is dropped (the rt_park protocol in rt.h). A finishing
 * goroutine touches the group only under its lock, so once Wait has
 * returned the group may be freed.
 *
 * Memory model: every function's return happens before the Wait that
 * covers it returns. The decrement of `active` in finish_job, under the
 * lock, is the single release point; go_errgroup_wait's read of the result
 * under the same lock, once active has reached zero, is the single acquire
 * point. Under a limit of n, as with Go's semaphore channel of capacity n,
 * the k-th return of a slot holder happens before the (k+n)-th slot is
 * taken, and so before the function that takes it starts: slot takes are
 * numbered, and take k and release k meet at slot k mod n (limit_slot).
 *
 * Race builds: go_errgroup_go and go_errgroup_try_go spawn on the user's
 * behalf, from runtime code the detector's shadow call stack does not
 * see. Each enters a shadow frame of its own, as the instrumented library
 * function it stands for (Go's errgroup.Go) would, so the new goroutine's
 * "created at" runs through the helper to the user's call site. */
#include "rt.h"
#include "../detector/race.h"

#include <stdio.h>
#include <stdlib.h>

struct eg_waiter {
    struct rt_g *g;
    struct eg_waiter *next;
    bool holds_slot;       /* slot waiters: granted with a slot */
};

struct go_errgroup {
    go_ctx *ctx;
    rt_lock lock;
    int active;
    int holding;
    uint64_t slot_takes;   /* slots taken since the limit was set */
    int limit;             /* < 0: no limit */
    bool failed;
    int err;               /* first non-zero result, once failed */
    struct eg_waiter *slot_first, *slot_last; /* parked in go_errgroup_go */
    struct eg_waiter *waiters;                 /* parked in go_errgroup_wait */
};

struct eg_job {
    go_errgroup *g;
    go_errfunc fn;
    void *arg;
    bool holds_slot;
};

go_errgroup *go_errgroup_make(go_ctx *parent) {
    go_errgroup *g = calloc(1, sizeof *g);
    if (!g)
        rt_fatal("out of memory allocating an errgroup");
    g->ctx = go_ctx_with_cancel(parent ? parent : go_ctx_background());
    g->limit = -1;
    return g;
}

go_ctx *go_errgroup_ctx(go_errgroup *g) { return g->ctx; }

/* Race builds: the sync object standing for the slot that take number k
 * (and release number k) uses, under a limit > 0. */
static inline const void *limit_slot(go_errgroup *g, uint64_t k) {
    uint64_t i = k % (uint64_t)g->limit;
    return (const void *)((((uintptr_t)g << 16) ^ (uintptr_t)(i + 1)) | (1ull << 63));
}

/* Take the next slot (lock held): for the current goroutine, or for the
 * parked go caller `parked`, handed the slot by whoever freed it (after
 * its release). */
static void take_slot(go_errgroup *g, struct rt_g *parked) {
    if (parked) {
        RACE(race_acquire_g(parked, limit_slot(g, g->slot_takes)));
        RACE(race_release_g(parked, limit_slot(g, g->slot_takes)));
    } else {
        RACE(race_release_acquire(limit_slot(g, g->slot_takes)));
    }
    g->slot_takes++;
    g->holding++;
}

/* Hand slots (or, with no limit, plain starts) to parked go callers while
 * the limit allows. g->lock held; returns the list of callers to ready. */
static struct eg_waiter *grant_slots(go_errgroup *g) {
    struct eg_waiter *granted = NULL, **tail = &granted;
    while (g->slot_first && (g->limit < 0 || g->holding < g->limit)) {
        struct eg_waiter *w = g->slot_first;
        g->slot_first = w->next;
        if (!g->slot_first)
            g->slot_last = NULL;
        w->holds_slot = g->limit >= 0;
        if (w->holds_slot)
            take_slot(g, w->g);
        g->active++;
        w->next = NULL;
        *tail = w;
        tail = &w->next;
    }
    return granted;
}

static void ready_all(struct eg_waiter *w) {
    while (w) {
        struct eg_waiter *next = w->next;
        rt_ready(w->g);
        w = next;
    }
}

void go_errgroup_set_limit(go_errgroup *g, int n) {
    rt_lock_acquire(&g->lock);
    if (n >= 0 && g->holding != 0) {
        int holding = g->holding;
        rt_lock_release(&g->lock);
        char msg[96];
        snprintf(msg, sizeof msg,
                 "errgroup: modify limit while %d goroutines in the group are still active",
                 holding);
        rt_panic(msg);
    }
    g->limit = n < 0 ? -1 : n;
    g->slot_takes = 0;
    struct eg_waiter *granted = grant_slots(g);
    rt_lock_release(&g->lock);
    ready_all(granted);
}

/* Runs as the last thing of each function's goroutine. */
static void finish_job(struct eg_job *job, int err) {
    go_errgroup *g = job->g;
    RACE(race_release(g));   /* the function's work -> Wait returning */
    if (err != 0) {
        rt_lock_acquire(&g->lock);
        bool first = !g->failed;
        if (first) {
            g->failed = true;
            g->err = err;
        }
        rt_lock_release(&g->lock);
        if (first)
            go_ctx_cancel(g->ctx);
    }
    rt_lock_acquire(&g->lock);
    g->active--;
    if (job->holds_slot) {
        /* Release number slot_takes - holding; none if the limit was lifted
         * meanwhile (Go's done() with no semaphore left). */
        if (g->limit > 0)
            RACE(race_release_acquire(limit_slot(g, g->slot_takes - (uint64_t)g->holding)));
        g->holding--;
    }
    struct eg_waiter *wake = grant_slots(g);
    if (g->active == 0) {
        struct eg_waiter **tail = &wake;
        while (*tail)
            tail = &(*tail)->next;
        *tail = g->waiters;
        g->waiters = NULL;
    }
    rt_lock_release(&g->lock);
    ready_all(wake);
}

static void run_job(void *arg) {
    struct eg_job *job = arg;
    finish_job(job, job->fn(job->g->ctx, job->arg));
}

static void start_job(go_errgroup *g, go_errfunc fn, void *arg, bool holds_slot) {
    struct eg_job job = {.g = g, .fn = fn, .arg = arg, .holds_slot = holds_slot};
    go_spawn_copy(run_job, &job, sizeof job);
}

/* Take a slot (or just count the start) if the limit allows; lock held. */
static bool try_start(go_errgroup *g, bool *holds_slot) {
    *holds_slot = g->limit >= 0;
    if (*holds_slot) {
        if (g->holding >= g->limit)
            return false;
        take_slot(g, NULL);
    }
    g->active++;
    return true;
}

void go_errgroup_go(go_errgroup *g, go_errfunc fn, void *arg) {
    RACE_ENTER_FROM_USER();
    bool holds_slot;
    rt_lock_acquire(&g->lock);
    if (try_start(g, &holds_slot)) {
        rt_lock_release(&g->lock);
    } else {
        struct eg_waiter me = {.g = rt_getg()};
        if (g->slot_last)
            g->slot_last->next = &me;
        else
            g->slot_first = &me;
        g->slot_last = &me;
        rt_park(rt_commit_unlock, &g->lock, WAIT_ERRGROUP_GO, g);
        holds_slot = me.holds_slot;
    }
    start_job(g, fn, arg, holds_slot);
    RACE_LEAVE_TO_USER();
}

bool go_errgroup_try_go(go_errgroup *g, go_errfunc fn, void *arg) {
    RACE_ENTER_FROM_USER();
    bool holds_slot;
    rt_lock_acquire(&g->lock);
    bool started = try_start(g, &holds_slot);
    rt_lock_release(&g->lock);
    if (started)
        start_job(g, fn, arg, holds_slot);
    RACE_LEAVE_TO_USER();
    return started;
}

int go_errgroup_wait(go_errgroup *g) {
    rt_lock_acquire(&g->lock);
    if (g->active > 0) {
        struct eg_waiter me = {.g = rt_getg(), .next = g->waiters};
        g->waiters = &me;
        rt_park(rt_commit_unlock, &g->lock, WAIT_ERRGROUP_WAIT, g);
        rt_lock_acquire(&g->lock);
    }
    int err = g->failed ? g->err : 0;
    rt_lock_release(&g->lock);
    RACE(race_acquire(g));
    go_ctx_cancel(g->ctx);
    return err;
}

void go_errgroup_free(go_errgroup *g) {
    if (!g)
        return;
    rt_lock_acquire(&g->lock);
    bool busy = g->active != 0 || g->slot_first || g->waiters;
    rt_lock_release(&g->lock);
    if (busy)
        rt_fatal("errgroup: free of group with active goroutines");
    go_ctx_release(g->ctx);
    free(g);
}

/* timer.c - timers on per-P min-heaps, run by the scheduler.
 *
 * A timer lives in the heap of the P that started it, under that P's
 * timers_lock; t->p names the heap (NULL when not pending) and may change
 * only with that heap's lock held, so stop/reset lock t->p and re-check it.
 * p->timer0_when mirrors the heap's minimum so the scheduler can tell
 * without locking whether anything is due: each P runs its own due timers
 * whenever it schedules, spinning Ms run other Ps' due timers while
 * stealing, and when every M is idle one of them (the timer sleeper) sleeps
 * only until the earliest deadline of all heaps. Starting a timer earlier
 * than the sleeper's deadline wakes it.
 *
 * fire() runs with no timer lock held (it readies goroutines and sends on
 * channels); p->running_timer lets rt_timer_stop_sync wait it out before
 * the timer's memory is freed. Nothing touches a timer after its fire()
 * has begun: a sleep timer's memory is the sleeper's stack. A ticker is
 * re-armed before it fires. */
#include "proc.h"

#include <limits.h>
#include <stdlib.h>

void rt_timer_p_init(struct rt_p *p) {
    atomic_store(&p->timer0_when, INT64_MAX);
}

static void heap_swap(struct rt_p *p, int i, int j) {
    struct rt_timer *a = p->timers[i], *b = p->timers[j];
    p->timers[i] = b;
    b->index = i;
    p->timers[j] = a;
    a->index = j;
}

static void sift_up(struct rt_p *p, int i) {
    while (i > 0) {
        int parent = (i - 1) / 4;
        if (p->timers[parent]->when <= p->timers[i]->when) break;
        heap_swap(p, i, parent);
        i = parent;
    }
}

static void sift_down(struct rt_p *p, int i) {
    for (;;) {
        int best = i;
        for (int c = 4 * i + 1; c <= 4 * i + 4 && c < p->ntimers; c++)
            if (p->timers[c]->when < p->timers[best]->when) best = c;
        if (best == i) return;
        heap_swap(p, i, best);
        i = best;
    }
}

static void update_timer0(struct rt_p *p) {
    atomic_store_explicit(&p->timer0_when,
                          p->ntimers ? p->timers[0]->when : INT64_MAX,
                          memory_order_release);
}

/* p->timers_lock held. */
static void heap_add(struct rt_p *p, struct rt_timer *t) {
    if (p->ntimers == p->timers_cap) {
        int cap = p->timers_cap ? 2 * p->timers_cap : 16;
        struct rt_timer **grown = realloc(p->timers, (size_t)cap * sizeof *grown);
        if (!grown) rt_fatal("out of memory adding a timer");
        p->timers = grown;
        p->timers_cap = cap;
    }
    t->p = p;
    t->index = p->ntimers++;
    p->timers[t->index] = t;
    sift_up(p, t->index);
    update_timer0(p);
}

/* p->timers_lock held. */
static void heap_remove(struct rt_p *p, struct rt_timer *t) {
    int i = t->index, last = --p->ntimers;
    if (i != last) {
        heap_swap(p, i, last);
        sift_down(p, i);
        sift_up(p, i);
    }
    t->index = -1;
    t->p = NULL;
    update_timer0(p);
}

/* Lock the heap holding t; NULL (nothing locked) when t is not pending. */
static struct rt_p *lock_timer_heap(struct rt_timer *t) {
    for (;;) {
        struct rt_p *p = __atomic_load_n(&t->p, __ATOMIC_ACQUIRE);
        if (!p) return NULL;
        rt_lock_acquire(&p->timers_lock);
        if (t->p == p) return p;
        rt_lock_release(&p->timers_lock);
    }
}

static void wake_sleeper_if_later(int64_t when) {
    if (when >= atomic_load_explicit(&rt_sched.timer_sleep_until, memory_order_acquire)) return;
    struct rt_m *sleeper = atomic_load(&rt_sched.timer_sleeper);
    if (sleeper) rt_wake_sleeper(sleeper);
    else rt_wakep();
}

void rt_timer_start(struct rt_timer *t, int64_t when) {
    struct rt_m *m = rt_getm();
    struct rt_p *p = m && m->p ? m->p : rt_sched.allp[0];
    t->when = when;
    rt_lock_acquire(&p->timers_lock);
    heap_add(p, t);
    rt_lock_release(&p->timers_lock);
    wake_sleeper_if_later(when);
}

bool rt_timer_stop(struct rt_timer *t) {
    struct rt_p *p = lock_timer_heap(t);
    if (!p) return false;
    heap_remove(p, t);
    rt_lock_release(&p->timers_lock);
    return true;
}

bool rt_timer_reset(struct rt_timer *t, int64_t when) {
    bool was_pending = rt_timer_stop(t);
    rt_timer_start(t, when);
    return was_pending;
}

static bool being_fired(struct rt_timer *t) {
    for (int i = 0; i < rt_sched.nprocs_made; i++)
        if (atomic_load_explicit(&rt_sched.allp[i]->running_timer, memory_order_acquire) == t)
            return true;
    return false;
}

void rt_timer_stop_sync(struct rt_timer *t) {
    for (;;) {
        rt_timer_stop(t);
        if (!being_fired(t) && __atomic_load_n(&t->p, __ATOMIC_ACQUIRE) == NULL) return;
        sched_yield();
    }
}

void rt_timers_run(struct rt_p *p, int64_t now) {
    /* One runner per heap at a time (the owner, or an M stealing): the
     * heap's running_timer slot names at most one timer. */
    if (atomic_exchange_explicit(&p->timers_running, 1, memory_order_acquire)) return;
    rt_lock_acquire(&p->timers_lock);
    while (p->ntimers && p->timers[0]->when <= now) {
        struct rt_timer *t = p->timers[0];
        int64_t when = t->when;
        if (t->period > 0) {
            /* Skip periods missed while we were late, as Go does. */
            t->when = when + t->period * (1 + (now - when) / t->period);
            sift_down(p, 0);
            update_timer0(p);
        } else {
            heap_remove(p, t);
        }
        atomic_store_explicit(&p->running_timer, t, memory_order_release);
        rt_lock_release(&p->timers_lock);
        t->fire(t, now);
        rt_lock_acquire(&p->timers_lock);
        atomic_store_explicit(&p->running_timer, NULL, memory_order_release);
    }
    rt_lock_release(&p->timers_lock);
    atomic_store_explicit(&p->timers_running, 0, memory_order_release);
}

int64_t rt_timers_next(void) {
    int64_t next = INT64_MAX;
    for (int i = 0; i < rt_sched.nprocs_made; i++) {
        int64_t w = atomic_load_explicit(&rt_sched.allp[i]->timer0_when, memory_order_acquire);
        if (w < next) next = w;
    }
    return next;
}

void rt_timers_move(struct rt_p *from, struct rt_p *to) {
    if (from == to) return;
    /* Lock in id order so two movers cannot deadlock. */
    struct rt_p *first = from->id < to->id ? from : to;
    struct rt_p *second = first == from ? to : from;
    rt_lock_acquire(&first->timers_lock);
    rt_lock_acquire(&second->timers_lock);
    bool moved = from->ntimers > 0;
    while (from->ntimers) {
        struct rt_timer *t = from->timers[from->ntimers - 1];
        heap_remove(from, t);
        heap_add(to, t);
    }
    rt_lock_release(&second->timers_lock);
    rt_lock_release(&first->timers_lock);
    /* A sleeper part-way through rt_timers_next may have read `to` before
     * and `from` after the move, missing them: it looks again. (Callers
     * hold sched.lock, so no rt_wakep here: an M going idle without a
     * sleeper becomes one, and sees them.) */
    struct rt_m *sleeper = atomic_load(&rt_sched.timer_sleeper);
    if (moved && sleeper) rt_wake_sleeper(sleeper);
}

bool rt_timers_any_can_wake(void) {
    for (int i = 0; i < rt_sched.nprocs_made; i++) {
        struct rt_p *p = rt_sched.allp[i];
        rt_lock_acquire(&p->timers_lock);
        for (int k = 0; k < p->ntimers; k++) {
            struct rt_timer *t = p->timers[k];
            if (!t->can_wake || t->can_wake(t)) {
                rt_lock_release(&p->timers_lock);
                return true;
            }
        }
        rt_lock_release(&p->timers_lock);
    }
    return false;
}

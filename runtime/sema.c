/* sema.c - the semaphore under every sync primitive (Go's runtime/sema.go).
 *
 * A go_sema_ is embedded in the object it serves, so unlike Go there is no
 * global table of semaphore roots: each one carries its own rt_lock and
 * queue. count_ is the number of available units; head_/tail_ form a
 * singly linked FIFO of sema_waiter records, each on the stack of its
 * parked goroutine (alive until that goroutine is made runnable again).
 *
 * Invariants:
 *  - count_ changes only by atomic operations; the queue only under lock_.
 *  - head_ is non-NULL exactly when some goroutine is queued. A releaser
 *    reads it without the lock to skip locking when nobody waits; this is
 *    safe because an acquirer publishes itself in the queue *before* its
 *    last look at count_, and a releaser bumps count_ *before* looking at
 *    head_ (both sequentially consistent): either the acquirer sees the
 *    new unit, or the releaser sees the acquirer.
 *  - A released waiter is unlinked under lock_ by its waker, which alone
 *    then owns the record until rt_ready(): the record (and the handoff
 *    flag written into it) must not be touched after that call.
 *  - A woken waiter has no claim on the unit its waker added (others may
 *    barge in and take it) unless handed_off is set, in which case the
 *    waker already took the unit on its behalf. */
#include "sema.h"

struct sema_waiter {
    struct rt_g *g;
    struct sema_waiter *next;
    bool handed_off;
};

static bool sema_try_acquire(go_sema_ *s) {
    uint32_t n = __atomic_load_n(&s->count_, __ATOMIC_SEQ_CST);
    while (n != 0) {
        if (__atomic_compare_exchange_n(&s->count_, &n, n - 1, true,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return true;
    }
    return false;
}

/* head_ is read without the lock by rt_sema_release, so every write to it
 * is atomic; the lock holder's own reads need not be. */
static void sema_set_head(go_sema_ *s, struct sema_waiter *w) {
    __atomic_store_n(&s->head_, (void *)w, __ATOMIC_SEQ_CST);
}

/* Queue w; returns the previous tail so a FIFO enqueue can be undone. */
static struct sema_waiter *sema_enqueue(go_sema_ *s, struct sema_waiter *w,
                                        bool lifo) {
    struct sema_waiter *head = s->head_, *tail = s->tail_;
    if (head == NULL) {
        w->next = NULL;
        s->tail_ = w;
        sema_set_head(s, w);
    } else if (lifo) {
        w->next = head;
        sema_set_head(s, w);
    } else {
        w->next = NULL;
        tail->next = w;
        s->tail_ = w;
    }
    return tail;
}

/* Take back the record sema_enqueue just queued (nothing else ran under
 * the lock in between). */
static void sema_unqueue_newest(go_sema_ *s, struct sema_waiter *w, bool lifo,
                                struct sema_waiter *prev_tail) {
    if (lifo || prev_tail == NULL) {
        if (w->next == NULL)
            s->tail_ = NULL;
        sema_set_head(s, w->next);
    } else {
        prev_tail->next = NULL;
        s->tail_ = prev_tail;
    }
}

static struct sema_waiter *sema_dequeue(go_sema_ *s) {
    struct sema_waiter *w = s->head_;
    if (w != NULL) {
        if (w->next == NULL)
            s->tail_ = NULL;
        sema_set_head(s, w->next);
    }
    return w;
}

void rt_sema_acquire(go_sema_ *s, enum rt_wait_reason reason, void *wait_obj,
                     bool lifo) {
    if (sema_try_acquire(s))
        return;
    rt_lock *lock = rt_lock_of(&s->lock_);
    struct sema_waiter w = {.g = rt_getg()};
    for (;;) {
        rt_lock_acquire(lock);
        w.handed_off = false;
        struct sema_waiter *prev_tail = sema_enqueue(s, &w, lifo);
        if (sema_try_acquire(s)) {
            sema_unqueue_newest(s, &w, lifo, prev_tail);
            rt_lock_release(lock);
            return;
        }
        rt_park(rt_commit_unlock, lock, reason, wait_obj);
        if (w.handed_off || sema_try_acquire(s))
            return;
        /* Someone barged in and took the unit we were woken for. Go back
         * to sleep, with the same queueing discipline as before. */
    }
}

void rt_sema_release(go_sema_ *s, bool handoff) {
    __atomic_add_fetch(&s->count_, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->head_, __ATOMIC_SEQ_CST) == NULL)
        return;
    rt_lock *lock = rt_lock_of(&s->lock_);
    rt_lock_acquire(lock);
    struct sema_waiter *w = sema_dequeue(s);
    rt_lock_release(lock);
    if (w == NULL)
        return;
    bool handed_off = handoff && sema_try_acquire(s);
    w->handed_off = handed_off;
    rt_ready(w->g);
    /* Let the waiter we handed the unit to run now rather than after our
     * time slice: under starvation that is the whole point. */
    if (handed_off)
        go_yield();
}

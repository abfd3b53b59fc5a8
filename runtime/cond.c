/* cond.c - go_cond, Go's sync.Cond on the runtime's notifyList.
 *
 * Tickets make Wait's "unlock m, then sleep" atomic with respect to
 * notifications without holding any lock across the unlock: a waiter takes
 * ticket wait_ticket_++ while it still holds m, unlocks m, then queues
 * itself under lock_ unless notify_ticket_ has already passed its ticket
 * (a signal that arrived in between is not lost). notify_ticket_ is the
 * oldest ticket not yet notified; Signal advances it by one and wakes the
 * holder of that ticket if it is queued already; Broadcast advances it to
 * wait_ticket_ and wakes everyone queued. A notification with no ticket
 * outstanding is dropped: signals are not remembered.
 *
 * Invariants: tickets compare by wrap-around difference; notify_ticket_
 * only moves under lock_ and never passes wait_ticket_; the queue holds only
 * tickets >= notify_ticket_, each once, in no particular order (ticket
 * order and queueing order can differ), so Signal searches by ticket.
 * Waiter records live on the parked goroutines' stacks.
 *
 * Happens-before for the race detector: signal -> wake goes from a Signal
 * or Broadcast that notifies some ticket to where the wait resumes, before
 * m is locked again. The release comes before the ticket moves on, so a
 * waiter that finds its ticket passed without sleeping acquires it too; a
 * notification that finds no ticket outstanding orders nothing (Go's Cond
 * orders nothing by itself at all, only through its lock). */
#include "sema.h"
#include "../detector/race.h"

struct cond_waiter {
    struct rt_g *g;
    uint32_t ticket;
    struct cond_waiter *next;
};

static inline bool ticket_before(uint32_t a, uint32_t b) {
    return (int32_t)(a - b) < 0;
}

static void cond_wait_ticket(go_cond *c, uint32_t ticket) {
    rt_lock *lock = rt_lock_of(&c->lock_);
    rt_lock_acquire(lock);
    if (ticket_before(ticket, c->notify_ticket_)) {
        rt_lock_release(lock);
        return;
    }
    struct cond_waiter w = {.g = rt_getg(), .ticket = ticket, .next = NULL};
    struct cond_waiter *tail = c->tail_;
    if (tail == NULL)
        c->head_ = &w;
    else
        tail->next = &w;
    c->tail_ = &w;
    rt_park(rt_commit_unlock, lock, WAIT_COND, c);
}

void go_cond_wait(go_cond *c, go_mutex *m) {
    uint32_t ticket = __atomic_fetch_add(&c->wait_ticket_, 1, __ATOMIC_SEQ_CST);
    go_mutex_unlock(m);
    cond_wait_ticket(c, ticket);
    RACE(race_acquire(c));   /* signal/broadcast -> this wake */
    go_mutex_lock(m);
}

/* Nothing to do when every ticket taken has been notified. Checked
 * without the lock: a ticket taken after this load was taken after the
 * notification, which it may then miss. */
static bool cond_all_notified(go_cond *c) {
    return __atomic_load_n(&c->wait_ticket_, __ATOMIC_SEQ_CST) ==
           __atomic_load_n(&c->notify_ticket_, __ATOMIC_SEQ_CST);
}

void go_cond_signal(go_cond *c) {
    if (cond_all_notified(c))
        return;
    rt_lock *lock = rt_lock_of(&c->lock_);
    rt_lock_acquire(lock);
    uint32_t ticket = c->notify_ticket_;
    if (ticket == __atomic_load_n(&c->wait_ticket_, __ATOMIC_SEQ_CST)) {
        rt_lock_release(lock);
        return;
    }
    RACE(race_release(c));
    __atomic_store_n(&c->notify_ticket_, ticket + 1, __ATOMIC_SEQ_CST);
    /* The ticket's holder may not have queued yet; then it will see
     * notify_ticket_ past its ticket and not sleep at all. */
    struct cond_waiter *prev = NULL;
    for (struct cond_waiter *w = c->head_; w != NULL; prev = w, w = w->next) {
        if (w->ticket != ticket)
            continue;
        if (prev == NULL)
            c->head_ = w->next;
        else
            prev->next = w->next;
        if (w->next == NULL)
            c->tail_ = prev;
        rt_lock_release(lock);
        rt_ready(w->g);
        return;
    }
    rt_lock_release(lock);
}

void go_cond_broadcast(go_cond *c) {
    if (cond_all_notified(c))
        return;
    rt_lock *lock = rt_lock_of(&c->lock_);
    rt_lock_acquire(lock);
    struct cond_waiter *w = c->head_;
    c->head_ = NULL;
    c->tail_ = NULL;
    uint32_t taken = __atomic_load_n(&c->wait_ticket_, __ATOMIC_SEQ_CST);
    if (taken != c->notify_ticket_)
        RACE(race_release(c));
    __atomic_store_n(&c->notify_ticket_, taken, __ATOMIC_SEQ_CST);
    rt_lock_release(lock);
    while (w != NULL) {
        /* The record dies once its goroutine runs: read next first. */
        struct cond_waiter *next = w->next;
        rt_ready(w->g);
        w = next;
    }
}

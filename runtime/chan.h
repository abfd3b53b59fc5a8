/* chan.h - channel internals shared by chan.c and select.c (and, read-only,
 * by the leak finder, which walks g->waiting to learn what a goroutine is
 * blocked on).
 *
 * A channel is one allocation: the go_chan header, then cap elements of
 * elem_size bytes as a ring buffer. Goroutines blocked on it wait in two FIFO
 * queues of rt_waiter records (Go's sudog); each record lives on the stack of
 * its parked goroutine (or, for a select with many cases, in a block that
 * goroutine owns) and stays valid until that goroutine is made runnable.
 *
 * Invariants (all under c->lock unless said otherwise):
 *  - recvq is non-empty only while the buffer is empty; sendq is non-empty
 *    only while the buffer is full (always, for an unbuffered channel).
 *  - A closed channel has an empty sendq and an empty recvq: close wakes
 *    every waiter and nobody queues on a closed channel.
 *  - closed, count and the queues' first pointers are also read without the
 *    lock by the non-blocking fast paths, so every write to them is an
 *    atomic store; the lock holder's own reads need not be atomic.
 *  - A waiter removed from a queue by a waker belongs to that waker until it
 *    calls rt_ready() on the waiter's goroutine: the waker fills in success
 *    (and copies the element) first and never touches the record afterwards.
 *  - A select goroutine sits in several queues at once. Whoever dequeues one
 *    of its waiters claims it by a CAS of g->select_done from 0 to 1; a
 *    waker that loses the CAS drops that waiter and looks at the next one.
 *    The goroutine removes its other waiters itself once it runs again, with
 *    every channel of the select locked, and only then resets select_done. */
#ifndef GOROUTINE_RT_CHAN_H
#define GOROUTINE_RT_CHAN_H

#include <string.h>
#include "rt.h"
#include "../detector/race.h"

#pragma GCC visibility push(hidden)

typedef struct rt_waiter {
    struct rt_g *g;
    struct rt_waiter *next, *prev; /* links in the channel's queue */
    struct rt_waiter *waitlink;    /* next record of the same goroutine
                                      (g->waiting list; select only) */
    struct go_chan *c;
    void *elem;           /* value to send, or where to store the received one */
    uint32_t case_index;  /* select case this record stands for */
    uint8_t dir;          /* GO_SEND or GO_RECV: which queue of c it is on */
    bool is_select;
    bool success;         /* woken by a transfer (true) or by close (false) */
} rt_waiter;

typedef struct {
    rt_waiter *first, *last;
} rt_waitq;

/* Everything a send or receive writes (lock, count, an index) shares the
 * first cache line. Buffered channels are cache-line aligned, with the
 * buffer on lines of its own; unbuffered ones are a plain 88-byte block,
 * because a million goroutines parked on their own channels is a pattern
 * where every byte counts. */
struct go_chan {
    rt_lock lock;
    uint32_t closed;
    size_t count;         /* elements in the buffer */
    size_t cap;
    size_t elem_size;
    size_t sendx, recvx;  /* ring buffer indices */
    rt_waitq recvq, sendq;
    unsigned char *buf;
#ifdef GOROUTINE_RACE_RUNTIME
    /* Set on a timer's channel: making or resetting the timer releases
     * on the timer, each tick sent takes a snapshot of that clock (kept
     * at &race_timer), and a receive acquires the snapshot: Go orders a
     * timer's start or reset before the ticks it sends, not before a tick
     * sent earlier and still buffered. */
    const void *race_timer;
    /* Buffered: the clocks of the buffer's slots (race.h), and how many
     * times the sends and the receives have gone round the buffer (a
     * slot's tickets). */
    void *race_slots;
    uint32_t race_send_rounds, race_recv_rounds;
    /* Sends' reads of closed, as the close will check them. Every send
     * writes them, so in a buffered channel (whose header is cache-line
     * aligned) they start a line of their own, which no receive reads. */
    char race_senders_line[16];
    struct race_chan_senders race_senders;
#endif
};

/* ---- element copies: inline for the common sizes, so the hot paths make
 * no call to memcpy ---- */
static inline void rt_elem_copy(void *dst, const void *src, size_t size) {
    switch (size) {
    case 0: break;
    case 1: memcpy(dst, src, 1); break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, size); break;
    }
}

static inline void rt_elem_clear(void *dst, size_t size) {
    if (dst != NULL && size != 0)
        memset(dst, 0, size);
}

/* ---- the ring buffer (lock held) ---- */
static inline void *rt_chan_slot(go_chan *c, size_t i) {
    return c->buf + i * c->elem_size;
}

/* Race builds: gp (NULL: the current goroutine) passes through buffer
 * slot i's clock, one per slot, element size 0 included, so the k-th
 * receive orders only the (k+C)-th send. Sends and receives each use the
 * slots in order, so a slot's ticket is its round: 2 * round for a send,
 * one more for a receive. The pass is made by race_chan_slots_flush once
 * the lock is dropped (RT_CHAN_RACE_FLUSH, on every path that moves data). */
#ifdef GOROUTINE_RACE_RUNTIME
void rt_chan_race_slot(go_chan *c, struct rt_g *gp, size_t i, bool send);
#define RT_CHAN_RACE_SLOT(c, gp, i, send) rt_chan_race_slot((c), (gp), (i), (send))
#define RT_CHAN_RACE_FLUSH() race_chan_slots_flush()
#else
#define RT_CHAN_RACE_SLOT(c, gp, i, send) ((void)0)
#define RT_CHAN_RACE_FLUSH() ((void)0)
#endif

/* Race builds: the edges of a send (cur_sends) or receive that completes
 * with waiter w's parked goroutine on the other side.
 *  - Unbuffered: the send happens before the receive completes and the
 *    receive before the send completes, so the edge goes both ways: the
 *    two goroutines exchange what they know (detector/handoff.c).
 *  - Buffered: as if through buffer slot i. The current goroutine passes
 *    through the slot first, then the parked one, each acquiring then
 *    releasing (Go's racenotify). The later of the two sees the earlier,
 *    never the reverse: a parked receiver sees the send, but its receive
 *    orders only the send C slots later; a parked sender sees the receive
 *    that freed its slot. */
static inline void rt_chan_race_handoff(go_chan *c, rt_waiter *w, size_t i, bool cur_sends) {
    if (c->cap == 0) {
        RACE(race_handoff_g(w->g));
    } else {
        RT_CHAN_RACE_SLOT(c, NULL, i, cur_sends);
        RT_CHAN_RACE_SLOT(c, w->g, i, !cur_sends);
    }
}

/* Race builds: what an operation does to memory. A send reads its element
 * and the channel as it starts, whether or not it completes, as Go
 * evaluates a send's operands first (a close is a write of the channel, so
 * a close racing with a send is reported). A completed receive writes its
 * destination, and one that returns because of close acquires what the
 * close released. */
/* A send's reads: its element, and the closed flag (shadow memory; see
 * rt_chan_race_sent_locked for the cheaper record a locked send makes). */
static inline void rt_chan_race_sent(go_chan *c, const void *elem, uintptr_t pc) {
    RACE(race_read_range_pc(&c->closed, 1, pc));
    if (elem != NULL) RACE(race_read_range_pc(elem, c->elem_size, pc));
}

/* The closed-flag read of a send that holds c's lock and found it open. */
static inline void rt_chan_race_sent_locked(go_chan *c, uintptr_t pc) {
    RACE(race_chan_sent(&c->race_senders, &c->closed, pc));
}

/* A send that holds c's lock and will complete: on a timer's channel, the
 * tick it carries takes the timer's clock as it is now. */
static inline void rt_chan_race_tick(go_chan *c) {
#ifdef GOROUTINE_RACE_RUNTIME
    if (c->race_timer) race_sync_snapshot(&c->race_timer, c->race_timer);
#endif
}

static inline void rt_chan_race_received(go_chan *c, void *elem, bool closed, uintptr_t pc) {
    if (closed) RACE(race_acquire(c));
#ifdef GOROUTINE_RACE_RUNTIME
    if (c->race_timer) race_acquire(&c->race_timer);
#endif
    if (elem != NULL) RACE(race_write_range_pc(elem, c->elem_size, pc));
}

static inline void rt_chan_set_count(go_chan *c, size_t n) {
    __atomic_store_n(&c->count, n, __ATOMIC_RELAXED);
}

static inline void rt_chan_buf_put(go_chan *c, const void *elem) {
    RT_CHAN_RACE_SLOT(c, NULL, c->sendx, true);
    rt_elem_copy(rt_chan_slot(c, c->sendx), elem, c->elem_size);
    if (++c->sendx == c->cap)
        c->sendx = 0;
    rt_chan_set_count(c, c->count + 1);
}

/* elem may be NULL: the value is dropped. */
static inline void rt_chan_buf_get(go_chan *c, void *elem) {
    void *slot = rt_chan_slot(c, c->recvx);
    RT_CHAN_RACE_SLOT(c, NULL, c->recvx, false);
    if (elem != NULL)
        rt_elem_copy(elem, slot, c->elem_size);
    if (++c->recvx == c->cap)
        c->recvx = 0;
    rt_chan_set_count(c, c->count - 1);
}

/* ---- wait queues (lock held) ---- */
static inline void rt_waitq_set_first(rt_waitq *q, rt_waiter *w) {
    __atomic_store_n(&q->first, w, __ATOMIC_RELAXED);
}

static inline void rt_waitq_enqueue(rt_waitq *q, rt_waiter *w) {
    w->next = NULL;
    w->prev = q->last;
    if (q->last != NULL)
        q->last->next = w;
    else
        rt_waitq_set_first(q, w);
    q->last = w;
}

/* The oldest waiter that this caller may wake, unlinked; NULL if none.
 * Select waiters already claimed by another waker are unlinked and
 * skipped. */
static inline rt_waiter *rt_waitq_dequeue(rt_waitq *q) {
    for (;;) {
        rt_waiter *w = q->first;
        if (w == NULL)
            return NULL;
        rt_waiter *next = w->next;
        if (next != NULL)
            next->prev = NULL;
        else
            q->last = NULL;
        rt_waitq_set_first(q, next);
        w->next = NULL;
        if (!w->is_select)
            return w;
        uint32_t unclaimed = 0;
        if (atomic_compare_exchange_strong(&w->g->select_done, &unclaimed, 1))
            return w;
    }
}

/* Unlink w if it is still queued: a waker that lost the select_done race
 * may have unlinked it already (then both links are NULL and it is not
 * first). */
static inline void rt_waitq_remove(rt_waitq *q, rt_waiter *w) {
    rt_waiter *prev = w->prev, *next = w->next;
    if (prev != NULL)
        prev->next = next;
    else if (q->first == w)
        rt_waitq_set_first(q, next);
    else
        return;
    if (next != NULL)
        next->prev = prev;
    else
        q->last = prev;
    w->next = w->prev = NULL;
}

/* ---- transfers with a dequeued waiter (lock held). Each returns the
 * goroutine to rt_ready() once the caller has dropped its locks. These and
 * the two buffer functions above are the only places where data moves, for
 * chan.c and select.c alike. ---- */

/* Send elem straight to the waiting receiver w (the buffer is empty). */
static inline struct rt_g *rt_chan_send_to(go_chan *c, rt_waiter *w,
                                           const void *elem) {
    rt_chan_race_handoff(c, w, c->recvx, true);
    if (c->cap != 0) {
        /* As if through the (empty) buffer: keeps the slot sequence. */
        if (++c->recvx == c->cap)
            c->recvx = 0;
        c->sendx = c->recvx;
    }
    if (w->elem != NULL)
        rt_elem_copy(w->elem, elem, c->elem_size);
    w->success = true;
    w->g->param = (uintptr_t)w;
    return w->g;
}

/* Receive into elem (NULL: drop) from the waiting sender w. Unbuffered: take
 * its value directly. Buffered, so full: take the oldest element and put the
 * sender's value in the slot that frees, which keeps FIFO order. */
static inline struct rt_g *rt_chan_recv_from(go_chan *c, rt_waiter *w,
                                             void *elem) {
    rt_chan_race_handoff(c, w, c->recvx, false);
    if (c->cap == 0) {
        if (elem != NULL)
            rt_elem_copy(elem, w->elem, c->elem_size);
    } else {
        void *slot = rt_chan_slot(c, c->recvx);
        if (elem != NULL)
            rt_elem_copy(elem, slot, c->elem_size);
        rt_elem_copy(slot, w->elem, c->elem_size);
        if (++c->recvx == c->cap)
            c->recvx = 0;
        c->sendx = c->recvx;
    }
    w->success = true;
    w->g->param = (uintptr_t)w;
    return w->g;
}

/* The channel operations with Go's block flag: without it they return
 * false instead of parking (Go's select with a default case). A nil channel
 * is never ready. rt_chan_recv sets *ok only when it returns true. pc is
 * the user's call site, for the race detector. */
bool rt_chan_send(go_chan *c, const void *elem, bool block, uintptr_t pc);
bool rt_chan_recv(go_chan *c, void *elem, bool block, bool *ok, uintptr_t pc);

/* Park the calling goroutine for good (nil channel, select with no ready
 * case possible). */
_Noreturn void rt_chan_block_forever(enum rt_wait_reason reason);

#pragma GCC visibility pop
#endif

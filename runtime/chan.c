/* chan.c - channels (Go's runtime/chan.go).
 *
 * Every operation takes the channel's rt_lock, except two non-blocking
 * questions that can be answered from single atomic reads (used by
 * go_select_nb with one case and by timers):
 *  - a send on an open channel that is full (unbuffered: nobody receiving)
 *    cannot proceed. Read "open" first, then "full": a buffer cannot fill
 *    up once closed, so if a close fell between the two reads the buffer
 *    was full just before it, with the channel still open. (For an
 *    unbuffered channel, a close in between may have just woken the
 *    receivers; the send then reports "not ready" where it could have
 *    panicked. Only a send racing with close, itself a race in the
 *    program, can tell, and Go answers the same.)
 *  - a receive on an empty channel (unbuffered: nobody sending) cannot
 *    proceed if the channel is open, and returns zero if it is closed. An
 *    empty channel read as open is "not ready"; one read as closed must be
 *    read empty once more, after the closed flag, since a close may have
 *    raced with a send.
 *
 * With the lock held, a send first hands its value to the oldest waiting
 * receiver (copied straight into that receiver's destination), else fills a
 * buffer slot, else queues a waiter on its own stack and parks. Receive is
 * symmetric. Goroutines are readied only after the lock is dropped, so a
 * channel lock never nests outside a scheduler lock (select.c takes several
 * channel locks, always in address order).
 *
 * A send completes at the hand-off to a receiver, at its buffer write, or
 * when its parked sender is woken with success; a receive completes at the
 * take from a sender, at its buffer read, when it returns because of close,
 * or when its parked receiver is woken. The race detector's happens-before
 * edges belong exactly there. */
#include "chan.h"

#include <stddef.h>
#include <stdlib.h>

static bool commit_nothing(struct rt_g *gp, void *arg) { return true; }

void rt_chan_block_forever(enum rt_wait_reason reason) {
    for (;;)
        rt_park(commit_nothing, NULL, reason, NULL);
}

/* A buffered channel's buffer starts on a cache line of its own (see
 * chan.h). */
go_chan *go_chan_make(size_t elem_size, size_t cap) {
    size_t room = SIZE_MAX - sizeof(go_chan) - RT_CACHE_LINE;
    if (elem_size != 0 && cap > room / elem_size)
        rt_panic("makechan: size out of range");
    size_t buf = elem_size * cap, header = sizeof(go_chan);
    go_chan *c;
    if (buf == 0) {
        c = malloc(header);
    } else {
        header = (header + RT_CACHE_LINE - 1) & ~(size_t)(RT_CACHE_LINE - 1);
        size_t size = (header + buf + RT_CACHE_LINE - 1) & ~(size_t)(RT_CACHE_LINE - 1);
        c = aligned_alloc(RT_CACHE_LINE, size);
    }
    if (c == NULL)
        rt_fatal("out of memory allocating a channel");
    *c = (go_chan){0};
    c->elem_size = elem_size;
    c->cap = cap;
    c->buf = (unsigned char *)c + header;
    return c;
}

void go_chan_free(go_chan *c) {
    if (c == NULL)
        return;
    rt_lock_acquire(&c->lock);
    bool waiters = c->recvq.first != NULL || c->sendq.first != NULL;
    rt_lock_release(&c->lock);
    if (waiters)
        rt_fatal("free of channel with blocked goroutines");
    RACE(race_chan_slots_free(c->race_slots, c->cap));
    free(c);
}

size_t go_chan_len(go_chan *c) {
    return c == NULL ? 0 : __atomic_load_n(&c->count, __ATOMIC_RELAXED);
}

size_t go_chan_cap(go_chan *c) { return c == NULL ? 0 : c->cap; }

static inline bool chan_full(go_chan *c) {
    if (c->cap == 0)
        return __atomic_load_n(&c->recvq.first, __ATOMIC_ACQUIRE) == NULL;
    return __atomic_load_n(&c->count, __ATOMIC_ACQUIRE) == c->cap;
}

static inline bool chan_empty(go_chan *c) {
    if (c->cap == 0)
        return __atomic_load_n(&c->sendq.first, __ATOMIC_ACQUIRE) == NULL;
    return __atomic_load_n(&c->count, __ATOMIC_ACQUIRE) == 0;
}

static inline bool chan_closed(go_chan *c) {
    return __atomic_load_n(&c->closed, __ATOMIC_ACQUIRE) != 0;
}

#ifdef GOROUTINE_RACE_RUNTIME
_Static_assert(offsetof(go_chan, race_senders) == 2 * RT_CACHE_LINE,
               "a channel's send records start a cache line");

/* Out of line, so that the transfers it is called from stay small enough
 * to inline where the unbuffered hand-off needs none of it. */
void rt_chan_race_slot(go_chan *c, struct rt_g *gp, size_t i, bool send) {
    uint32_t *rounds = send ? &c->race_send_rounds : &c->race_recv_rounds;
    race_chan_slot_note(gp, &c->race_slots, c->cap, i, 2 * *rounds + !send);
    if (i == c->cap - 1)
        ++*rounds;
}
#endif

/* Park the calling goroutine on one queue of c (lock held; released by the
 * park). Returns whether it was woken by a transfer rather than by close. */
static __attribute__((noinline)) bool chan_wait(go_chan *c, rt_waitq *q,
                                                void *elem, enum go_dir dir) {
    struct rt_g *gp = rt_getg();
    rt_waiter me = {.g = gp, .c = c, .elem = elem, .dir = dir};
    rt_waitq_enqueue(q, &me);
    gp->waiting = &me;
    rt_park(rt_commit_unlock, &c->lock,
            dir == GO_SEND ? WAIT_CHAN_SEND : WAIT_CHAN_RECV, c);
    gp->waiting = NULL;
    gp->param = 0;
    return me.success;
}

/* Inlined into each entry point, so that the public function is the frame
 * a traceback shows a blocked goroutine in (no tail call hides it). */
static inline __attribute__((always_inline)) bool
chan_send(go_chan *c, const void *elem, bool block, uintptr_t pc) {
    if (c == NULL) {
        if (!block)
            return false;
        rt_chan_block_forever(WAIT_CHAN_SEND_NIL);
    }
    if (elem != NULL)
        RACE(race_read_range_pc(elem, c->elem_size, pc));
    if (!block && !chan_closed(c) && chan_full(c)) {
        RACE(race_read_range_pc(&c->closed, 1, pc));
        return false;
    }

    rt_lock_acquire(&c->lock);
    if (c->closed) {
        rt_lock_release(&c->lock);
        RACE(race_read_range_pc(&c->closed, 1, pc));
        rt_panic("send on closed channel");
    }
    rt_chan_race_sent_locked(c, pc);
    rt_waiter *receiver = rt_waitq_dequeue(&c->recvq);
    if (receiver != NULL) {
        rt_chan_race_tick(c);
        struct rt_g *gp = rt_chan_send_to(c, receiver, elem);
        rt_lock_release(&c->lock);
        RT_CHAN_RACE_FLUSH();
        rt_ready(gp);
        return true;
    }
    if (c->count < c->cap) {
        rt_chan_race_tick(c);
        rt_chan_buf_put(c, elem);
        rt_lock_release(&c->lock);
        RT_CHAN_RACE_FLUSH();
        return true;
    }
    if (!block) {
        rt_lock_release(&c->lock);
        return false;
    }
    if (!chan_wait(c, &c->sendq, (void *)elem, GO_SEND))
        rt_panic("send on closed channel");
    return true;
}

static inline __attribute__((always_inline)) bool
chan_recv(go_chan *c, void *elem, bool block, bool *ok, uintptr_t pc) {
    if (c == NULL) {
        if (!block)
            return false;
        rt_chan_block_forever(WAIT_CHAN_RECV_NIL);
    }
    if (!block && chan_empty(c)) {
        if (!chan_closed(c))
            return false;
        if (chan_empty(c)) {
            rt_elem_clear(elem, c->elem_size);
            *ok = false;
            rt_chan_race_received(c, elem, true, pc);
            return true;
        }
    }

    rt_lock_acquire(&c->lock);
    if (c->closed) {
        if (c->count == 0) {
            rt_lock_release(&c->lock);
            rt_elem_clear(elem, c->elem_size);
            *ok = false;
            rt_chan_race_received(c, elem, true, pc);
            return true;
        }
    } else {
        rt_waiter *sender = rt_waitq_dequeue(&c->sendq);
        if (sender != NULL) {
            struct rt_g *gp = rt_chan_recv_from(c, sender, elem);
            rt_lock_release(&c->lock);
            RT_CHAN_RACE_FLUSH();
            rt_ready(gp);
            *ok = true;
            rt_chan_race_received(c, elem, false, pc);
            return true;
        }
    }
    if (c->count > 0) {
        rt_chan_buf_get(c, elem);
        rt_lock_release(&c->lock);
        RT_CHAN_RACE_FLUSH();
        *ok = true;
        rt_chan_race_received(c, elem, false, pc);
        return true;
    }
    if (!block) {
        rt_lock_release(&c->lock);
        return false;
    }
    *ok = chan_wait(c, &c->recvq, elem, GO_RECV);
    if (!*ok)
        rt_elem_clear(elem, c->elem_size);
    rt_chan_race_received(c, elem, !*ok, pc);
    return true;
}

#define CALLER_PC ((uintptr_t)__builtin_return_address(0))

void go_chan_send(go_chan *c, const void *elem) { chan_send(c, elem, true, CALLER_PC); }

bool go_chan_recv(go_chan *c, void *elem) {
    bool ok;
    chan_recv(c, elem, true, &ok, CALLER_PC);
    return ok;
}

bool rt_chan_send(go_chan *c, const void *elem, bool block, uintptr_t pc) {
    return chan_send(c, elem, block, pc);
}

bool rt_chan_recv(go_chan *c, void *elem, bool block, bool *ok, uintptr_t pc) {
    return chan_recv(c, elem, block, ok, pc);
}

bool rt_chan_send_nb(go_chan *c, const void *elem) {
    return chan_send(c, elem, false, CALLER_PC);
}

bool rt_chan_has_receivers(go_chan *c) {
    return c != NULL && __atomic_load_n(&c->recvq.first, __ATOMIC_ACQUIRE) != NULL;
}

void go_chan_close(go_chan *c) {
    if (c == NULL)
        rt_panic("close of nil channel");
    rt_lock_acquire(&c->lock);
    if (c->closed) {
        rt_lock_release(&c->lock);
        rt_panic("close of closed channel");
    }
    RACE(race_chan_closing(&c->race_senders, &c->closed, CALLER_PC));
    RACE(race_release(c));
    __atomic_store_n(&c->closed, 1, __ATOMIC_RELEASE);

    /* Collect every waiter in queue order (linked through next, which
     * dequeue cleared), then wake them with the lock dropped. Receivers zero
     * their own destination when they see success == false. */
    rt_waiter *wake = NULL, **tail = &wake, *w;
    while ((w = rt_waitq_dequeue(&c->recvq)) != NULL ||
           (w = rt_waitq_dequeue(&c->sendq)) != NULL) {
        w->success = false;
        w->g->param = (uintptr_t)w;
        *tail = w;
        tail = &w->next;
    }
    rt_lock_release(&c->lock);
    while (wake != NULL) {
        w = wake;
        wake = w->next;
        rt_ready(w->g);
    }
}

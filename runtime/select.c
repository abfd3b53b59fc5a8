/* select.c - go_select and go_select_nb (Go's runtime/select.go).
 *
 * A select with one live case is that channel operation (as Go's compiler
 * rewrites it). Otherwise the cases with a channel are visited in a random
 * order (pollorder, a Fisher-Yates shuffle), which makes the choice uniform
 * among ready cases, in three passes:
 *  1. Take the first case that completes with only its own channel locked,
 *     trying only channels that look ready from a few unlocked reads. Most
 *     selects that do not block end here, one lock instead of all of them.
 *  2. Lock every channel, in address order (lockorder, sorted), each
 *     distinct channel once (a channel may appear in several cases), so
 *     that selects over the same channels cannot deadlock each other. Poll
 *     again: now "nothing is ready" holds at one instant. If so, return -1
 *     (go_select_nb), or queue one waiter per case, in lockorder, chained
 *     through waitlink from g->waiting, and park with WAIT_SELECT; the
 *     park's commit unlocks the channels (see select_commit).
 *  3. Woken: the waker claimed this goroutine through g->select_done, did
 *     the transfer (or reported close) through the waiter it found, and left
 *     that waiter in g->param. Lock everything again, reset select_done,
 *     unlink the other waiters, and report the winning case.
 * Only the winning case's elem is read or written, by whoever completes it;
 * the race detector is told that every send case reads its element on
 * entry, as Go evaluates them all.
 *
 * The orders and waiters of small selects live on the stack; only selects
 * with more than SELECT_STACK_CASES cases allocate. */
#include "chan.h"

#include <limits.h>
#include <stdlib.h>

enum { SELECT_STACK_CASES = 16, INSERTION_SORT_CASES = 16 };

static inline go_chan *case_chan(const go_case *cases, uint32_t i) {
    return cases[i].chan;
}
static inline uintptr_t case_addr(const go_case *cases, uint32_t i) {
    return (uintptr_t)cases[i].chan;
}

static void sift_down(const go_case *cases, uint32_t *order, size_t root, size_t n) {
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && case_addr(cases, order[child]) < case_addr(cases, order[child + 1]))
            child++;
        if (case_addr(cases, order[root]) >= case_addr(cases, order[child]))
            return;
        uint32_t t = order[root];
        order[root] = order[child];
        order[child] = t;
        root = child;
    }
}

/* lockorder = pollorder sorted by channel address. Insertion sort for the
 * usual handful of cases; heapsort (no recursion, no allocation) keeps big
 * selects O(n log n). */
static void sort_by_chan(const go_case *cases, const uint32_t *pollorder,
                         uint32_t *lockorder, size_t n) {
    if (n <= INSERTION_SORT_CASES) {
        for (size_t k = 0; k < n; k++) {
            uint32_t x = pollorder[k];
            size_t j = k;
            for (; j > 0 && case_addr(cases, lockorder[j - 1]) > case_addr(cases, x); j--)
                lockorder[j] = lockorder[j - 1];
            lockorder[j] = x;
        }
        return;
    }
    memcpy(lockorder, pollorder, n * sizeof *lockorder);
    for (size_t root = n / 2; root-- > 0;)
        sift_down(cases, lockorder, root, n);
    for (size_t end = n; end-- > 1;) {
        uint32_t t = lockorder[0];
        lockorder[0] = lockorder[end];
        lockorder[end] = t;
        sift_down(cases, lockorder, 0, end);
    }
}

static void lock_all(const go_case *cases, const uint32_t *lockorder, size_t n) {
    go_chan *last = NULL;
    for (size_t k = 0; k < n; k++) {
        go_chan *c = case_chan(cases, lockorder[k]);
        if (c != last)
            rt_lock_acquire(&c->lock);
        last = c;
    }
}

static void unlock_all(const go_case *cases, const uint32_t *lockorder, size_t n) {
    for (size_t k = n; k-- > 0;) {
        go_chan *c = case_chan(cases, lockorder[k]);
        if (k == 0 || c != case_chan(cases, lockorder[k - 1]))
            rt_lock_release(&c->lock);
    }
}

/* Runs once the selecting goroutine has switched away. The moment one lock
 * is released, a waker on that channel may ready the goroutine, which then
 * runs elsewhere and blocks in lock_all on a channel still held here: so the
 * waiter chain (on its stack, or freed by it right after) may be read only
 * until the last release. Waiters of one channel are adjacent (lockorder), and
 * each lock is released after its last waiter has been passed. */
static bool select_commit(struct rt_g *gp, void *unused) {
    go_chan *last = NULL;
    for (rt_waiter *w = gp->waiting; w != NULL; w = w->waitlink) {
        if (last != NULL && w->c != last)
            rt_lock_release(&last->lock);
        last = w->c;
    }
    rt_lock_release(&last->lock);
    return true;
}

/* A hint read without the lock: pass 1 locks only channels that seem able
 * to complete their case. */
static inline bool case_looks_ready(const go_case *cas) {
    go_chan *c = cas->chan;
    if (__atomic_load_n(&c->closed, __ATOMIC_RELAXED))
        return true;
    if (cas->dir == GO_RECV)
        return __atomic_load_n(&c->sendq.first, __ATOMIC_RELAXED) != NULL ||
               __atomic_load_n(&c->count, __ATOMIC_RELAXED) != 0;
    return __atomic_load_n(&c->recvq.first, __ATOMIC_RELAXED) != NULL ||
           __atomic_load_n(&c->count, __ATOMIC_RELAXED) < c->cap;
}

enum case_result { CASE_NOT_READY, CASE_DONE, CASE_SEND_ON_CLOSED };

/* Complete cas if it can, with its channel locked. A goroutine this wakes
 * is left in *wake, to be readied once the locks are dropped. */
static enum case_result try_case(go_case *cas, struct rt_g **wake) {
    go_chan *c = cas->chan;
    if (cas->dir == GO_RECV) {
        rt_waiter *sender = rt_waitq_dequeue(&c->sendq);
        if (sender != NULL) {
            *wake = rt_chan_recv_from(c, sender, cas->elem);
            cas->ok = true;
        } else if (c->count > 0) {
            rt_chan_buf_get(c, cas->elem);
            cas->ok = true;
        } else if (c->closed) {
            rt_elem_clear(cas->elem, c->elem_size);
            cas->ok = false;
        } else {
            return CASE_NOT_READY;
        }
        return CASE_DONE;
    }
    if (c->closed)
        return CASE_SEND_ON_CLOSED;
    rt_waiter *receiver = rt_waitq_dequeue(&c->recvq);
    if (receiver != NULL)
        *wake = rt_chan_send_to(c, receiver, cas->elem);
    else if (c->count < c->cap)
        rt_chan_buf_put(c, cas->elem);
    else
        return CASE_NOT_READY;
    return CASE_DONE;
}

/* Finish a select whose case i completed (r) with the locks dropped: a
 * receive's accesses are checked once its buffer-slot pass is made. */
static int select_done(go_case *cases, int i, enum case_result r, struct rt_g *wake, void *heap,
                       uintptr_t pc) {
    RT_CHAN_RACE_FLUSH();
    go_case *cas = &cases[i];
    if (r == CASE_DONE && cas->dir == GO_RECV)
        rt_chan_race_received(cas->chan, cas->elem, !cas->ok, pc);
    free(heap);
    if (r == CASE_SEND_ON_CLOSED)
        rt_panic("send on closed channel");
    if (wake != NULL)
        rt_ready(wake);
    return i;
}

/* One-case select: the plain channel operation. */
static int select_one(go_case *cas, bool block, uintptr_t pc) {
    if (cas->dir == GO_SEND)
        return rt_chan_send(cas->chan, cas->elem, block, pc) ? 0 : -1;
    bool ok;
    if (!rt_chan_recv(cas->chan, cas->elem, block, &ok, pc))
        return -1;
    cas->ok = ok;
    return 0;
}

/* Inlined into go_select and go_select_nb, so that the public function is
 * the frame a traceback shows a goroutine blocked in. */
static inline __attribute__((always_inline)) int
select_cases(go_case *cases, size_t n, bool block, uintptr_t pc) {
    if (n > INT_MAX)
        rt_panic("select: too many cases");
    for (size_t i = 0; i < n; i++)
        if (cases[i].dir != GO_SEND && cases[i].dir != GO_RECV)
            rt_panic("select: case direction is neither GO_SEND nor GO_RECV");
    if (n == 1 && cases[0].chan != NULL)
        return select_one(&cases[0], block, pc);
    /* Go evaluates every send case's operands on entering a select: each
     * send case reads its element and channel here, whichever completes.
     * A send that parks has then read before the receiver that wakes it
     * writes. */
    for (size_t i = 0; i < n; i++)
        if (cases[i].dir == GO_SEND && cases[i].chan != NULL)
            rt_chan_race_sent(cases[i].chan, cases[i].elem, pc);

    uint32_t stack_orders[2 * SELECT_STACK_CASES];
    rt_waiter stack_waiters[SELECT_STACK_CASES];
    uint32_t *pollorder = stack_orders;
    rt_waiter *waiters = stack_waiters;
    void *heap = NULL;
    if (n > SELECT_STACK_CASES) {
        heap = malloc(n * (sizeof(rt_waiter) + 2 * sizeof(uint32_t)));
        if (heap == NULL)
            rt_fatal("out of memory in select");
        waiters = heap;
        pollorder = (uint32_t *)(waiters + n);
    }

    size_t norder = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (cases[i].chan == NULL)
            continue;
        uint32_t j = rt_fastrandn((uint32_t)norder + 1);
        if (j != norder)
            pollorder[norder] = pollorder[j];
        pollorder[j] = i;
        norder++;
    }
    if (norder == 0) {
        free(heap);
        if (!block)
            return -1;
        rt_chan_block_forever(WAIT_SELECT_NO_CASES);
    }
    /* Pass 1: the first case in poll order that looks ready, with only its
     * own channel locked. */
    for (size_t k = 0; k < norder; k++) {
        go_case *cas = &cases[pollorder[k]];
        if (!case_looks_ready(cas))
            continue;
        go_chan *c = cas->chan;
        struct rt_g *wake = NULL;
        rt_lock_acquire(&c->lock);
        enum case_result r = try_case(cas, &wake);
        rt_lock_release(&c->lock);
        if (r != CASE_NOT_READY)
            return select_done(cases, (int)pollorder[k], r, wake, heap, pc);
    }

    /* Pass 2: the same with every channel locked, so that "nothing is
     * ready" holds at one instant; if so, queue a waiter on every case. */
    uint32_t *lockorder = pollorder + norder;
    sort_by_chan(cases, pollorder, lockorder, norder);
    lock_all(cases, lockorder, norder);
    for (size_t k = 0; k < norder; k++) {
        struct rt_g *wake = NULL;
        enum case_result r = try_case(&cases[pollorder[k]], &wake);
        if (r != CASE_NOT_READY) {
            unlock_all(cases, lockorder, norder);
            return select_done(cases, (int)pollorder[k], r, wake, heap, pc);
        }
    }
    if (!block) {
        unlock_all(cases, lockorder, norder);
        free(heap);
        return -1;
    }

    struct rt_g *gp = rt_getg();
    for (size_t k = 0; k < norder; k++) {
        uint32_t i = lockorder[k];
        go_case *cas = &cases[i];
        rt_waiter *w = &waiters[k];
        *w = (rt_waiter){.g = gp, .c = cas->chan, .elem = cas->elem,
                         .case_index = i, .dir = (uint8_t)cas->dir,
                         .is_select = true};
        rt_waitq_enqueue(cas->dir == GO_SEND ? &cas->chan->sendq : &cas->chan->recvq, w);
        if (k > 0)
            waiters[k - 1].waitlink = w;
    }
    gp->waiting = waiters;
    gp->param = 0;
    rt_park(select_commit, NULL, WAIT_SELECT, NULL);

    /* Pass 3: woken by the waker of one waiter; drop the others. */
    rt_waiter *won = (rt_waiter *)gp->param;
    if (won == NULL)
        rt_fatal("select: woken without a case");
    gp->param = 0;
    lock_all(cases, lockorder, norder);
    /* No waker can look at select_done while we hold every lock, and the
     * next one to do so will take one of them first: a plain store will do. */
    atomic_store_explicit(&gp->select_done, 0, memory_order_relaxed);
    for (size_t k = 0; k < norder; k++) {
        rt_waiter *w = &waiters[k];
        if (w != won)
            rt_waitq_remove(w->dir == GO_SEND ? &w->c->sendq : &w->c->recvq, w);
    }
    gp->waiting = NULL;
    unlock_all(cases, lockorder, norder);

    int chosen = (int)won->case_index;
    bool success = won->success;
    free(heap);
    go_case *cas = &cases[chosen];
    if (cas->dir == GO_SEND) {
        if (!success)
            rt_panic("send on closed channel");
    } else {
        cas->ok = success;
        if (!success)
            rt_elem_clear(cas->elem, cas->chan->elem_size);
        rt_chan_race_received(cas->chan, cas->elem, !success, pc);
    }
    return chosen;
}

int go_select(go_case *cases, size_t n) {
    return select_cases(cases, n, true, (uintptr_t)__builtin_return_address(0));
}

int go_select_nb(go_case *cases, size_t n) {
    return select_cases(cases, n, false, (uintptr_t)__builtin_return_address(0));
}

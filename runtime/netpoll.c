/* netpoll.c - goroutine-aware I/O on non-blocking descriptors (Go's
 * netpoll.go), and its place in the scheduler.
 *
 * Each descriptor the I/O calls touch gets a poll descriptor (pd), found in
 * a two-level table indexed by fd and never freed (a reused fd number reuses
 * its pd). The descriptor is made non-blocking and registered once,
 * edge-triggered for both directions. rg/wg hold, per direction, 0, READY
 * (an edge arrived with nobody waiting) or the parked goroutine; the
 * waiter's commit CASes 0 -> G after it has switched away, the poller swaps
 * the slot, so an edge is never lost between EAGAIN and parking.
 *
 * A descriptor closed with plain close() silently leaves epoll; if its
 * number is reused, our pd still says "registered". So before parking the
 * waiter re-adds the registration: EEXIST is the normal answer, success
 * means it was stale. Every I/O call runs inside the system-call bracket,
 * so even a reused descriptor that is blocking again only costs a thread,
 * never a P.
 *
 * go_close wakes the descriptor's waiters (their call fails with EBADF),
 * unregisters it and closes it; pd->seq tells the woken waiters that their
 * descriptor is gone even if the number is reused at once. */
#include "proc.h"
#include "netpoll_backend.h"
#include "../detector/race.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum { PD_READY = 1, TABLE_SHIFT = 10, TABLE_CHUNK = 1 << TABLE_SHIFT, TABLE_CHUNKS = 1 << 12 };

struct poll_desc {
    rt_lock lock;
    int fd;
    bool registered;
    bool pollable;       /* epoll accepts it (regular files are not) */
    bool socket;
    _Atomic uint32_t seq;/* bumped by go_close */
    _Atomic uintptr_t rg, wg;
};

static struct poll_desc *_Atomic table[TABLE_CHUNKS];
static rt_lock table_lock;
static _Atomic int inited;          /* 0 no, 1 in progress, 2 yes */
static _Atomic int32_t waiters;

bool rt_netpoll_inited(void) { return atomic_load_explicit(&inited, memory_order_acquire) == 2; }
bool rt_netpoll_waiting(void) { return atomic_load_explicit(&waiters, memory_order_relaxed) > 0; }

static void netpoll_init(void) {
    rt_lock_acquire(&table_lock);
    if (atomic_load(&inited) != 2) {
        int err = rt_poll_backend_init();
        if (err) rt_fatal("cannot initialise the netpoller (epoll)");
        atomic_store_explicit(&inited, 2, memory_order_release);
    }
    rt_lock_release(&table_lock);
}

static struct poll_desc *pd_lookup(int fd) {
    if (fd < 0 || fd >= TABLE_CHUNK * TABLE_CHUNKS) return NULL;
    struct poll_desc *chunk = atomic_load_explicit(&table[fd >> TABLE_SHIFT], memory_order_acquire);
    return chunk ? &chunk[fd & (TABLE_CHUNK - 1)] : NULL;
}

static struct poll_desc *pd_get(int fd) {
    if (RT_UNLIKELY(!rt_netpoll_inited())) netpoll_init();
    struct poll_desc *pd = pd_lookup(fd);
    if (RT_LIKELY(pd && pd->registered)) return pd;
    if (fd < 0 || fd >= TABLE_CHUNK * TABLE_CHUNKS) return NULL;
    if (!pd) {
        rt_lock_acquire(&table_lock);
        if (!atomic_load(&table[fd >> TABLE_SHIFT])) {
            struct poll_desc *chunk = calloc(TABLE_CHUNK, sizeof *chunk);
            if (!chunk) rt_fatal("out of memory in the netpoller");
            for (int i = 0; i < TABLE_CHUNK; i++) chunk[i].fd = (fd & ~(TABLE_CHUNK - 1)) + i;
            atomic_store_explicit(&table[fd >> TABLE_SHIFT], chunk, memory_order_release);
        }
        rt_lock_release(&table_lock);
        pd = pd_lookup(fd);
    }
    rt_lock_acquire(&pd->lock);
    if (!pd->registered) {
        int flags = fcntl(fd, F_GETFL);
        if (flags >= 0 && !(flags & O_NONBLOCK)) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        pd->pollable = rt_poll_backend_add(fd, pd) >= 0;
        struct stat st;
        pd->socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
        pd->registered = true;
    }
    rt_lock_release(&pd->lock);
    return pd;
}

static bool park_on_slot(struct rt_g *gp, void *slot_arg) {
    _Atomic uintptr_t *slot = slot_arg;
    uintptr_t expected = 0;
    if (atomic_compare_exchange_strong(slot, &expected, (uintptr_t)gp)) return true;
    atomic_store(slot, 0);           /* it was READY: consume it, don't sleep */
    atomic_fetch_sub(&waiters, 1);
    return false;
}

/* Wait for readiness in one direction; false if the descriptor was closed
 * with go_close meanwhile. */
static bool pd_wait(struct poll_desc *pd, _Atomic uintptr_t *slot) {
    uint32_t seq = atomic_load(&pd->seq);
    uintptr_t ready = PD_READY;
    if (atomic_compare_exchange_strong(slot, &ready, 0)) return true;
    if (!pd->pollable) return true;   /* blocking-only file: just retry */
    if (rt_poll_backend_add(pd->fd, pd) == 0) {
        /* The registration was stale (closed with close(), fd reused):
         * the descriptor may be blocking again. */
        int flags = fcntl(pd->fd, F_GETFL);
        if (flags >= 0 && !(flags & O_NONBLOCK)) fcntl(pd->fd, F_SETFL, flags | O_NONBLOCK);
    }
    atomic_fetch_add(&waiters, 1);
    rt_park(park_on_slot, slot, WAIT_IO, pd);
    return atomic_load(&pd->seq) == seq;
}

/* The goroutine waiting in slot, if any, now marked runnable; otherwise
 * the edge is remembered as READY. */
static struct rt_g *pd_ready(_Atomic uintptr_t *slot) {
    for (;;) {
        uintptr_t old = atomic_load(slot);
        if (old == PD_READY) return NULL;
        uintptr_t next = old == 0 ? PD_READY : 0;
        if (!atomic_compare_exchange_weak(slot, &old, next)) continue;
        if (old == 0) return NULL;
        struct rt_g *gp = (struct rt_g *)old;
        atomic_fetch_sub(&waiters, 1);
        uint32_t st = G_WAITING;
        if (!atomic_compare_exchange_strong(&gp->status, &st, G_RUNNABLE))
            rt_fatal("netpoll: woke a goroutine that was not waiting");
        return gp;
    }
}

struct rt_g *rt_netpoll(int64_t delay) {
    if (!rt_netpoll_inited()) return NULL;
    struct rt_poll_event events[128];
    int n = rt_poll_backend_wait(delay, events, 128);
    struct rt_g *head = NULL;
    for (int i = 0; i < n; i++) {
        struct poll_desc *pd = events[i].desc;
        struct rt_g *gp;
        if (events[i].readable && (gp = pd_ready(&pd->rg))) {
            gp->sched_link = head;
            head = gp;
        }
        if (events[i].writable && (gp = pd_ready(&pd->wg))) {
            gp->sched_link = head;
            head = gp;
        }
    }
    return head;
}

void rt_netpoll_break(void) {
    if (rt_netpoll_inited()) rt_poll_backend_break();
}

/* Run one I/O system call with the P released if it blocks; its errno is
 * read at once into err. errno is only ever touched through rt_errno and
 * rt_set_errno here: these functions can resume on another thread after
 * any park, and the compiler would keep using the first thread's errno. */
#define BRACKETED(call, err)          \
    ({                                \
        go_syscall_enter();           \
        __typeof__(call) r_ = (call); \
        (err) = rt_errno();           \
        go_syscall_exit();            \
        r_;                           \
    })

static ssize_t fail(int err) {
    rt_set_errno(err);
    return -1;
}

ssize_t go_read(int fd, void *buf, size_t n) {
    struct poll_desc *pd = pd_get(fd);
    if (!pd) return read(fd, buf, n);
    for (;;) {
        int err;
        ssize_t r = BRACKETED(read(fd, buf, n), err);
        if (r > 0) RACE(race_write_range_pc(buf, (size_t)r, (uintptr_t)__builtin_return_address(0)));
        if (r >= 0) return r;
        if (err == EINTR) continue;
        if (err != EAGAIN) return fail(err);
        if (!pd_wait(pd, &pd->rg)) return fail(EBADF);
    }
}

/* Sockets are written with send(MSG_NOSIGNAL): a peer that went away is
 * EPIPE, not a SIGPIPE that kills the program (Go's behaviour). */
static ssize_t write_once(struct poll_desc *pd, const void *buf, size_t n) {
    if (pd->socket) return send(pd->fd, buf, n, MSG_NOSIGNAL);
    return write(pd->fd, buf, n);
}

ssize_t go_write(int fd, const void *buf, size_t n) {
    RACE(race_read_range_pc(buf, n, (uintptr_t)__builtin_return_address(0)));
    struct poll_desc *pd = pd_get(fd);
    if (!pd) return write(fd, buf, n);
    size_t done = 0;
    while (done < n) {
        int err;
        ssize_t r = BRACKETED(write_once(pd, (const char *)buf + done, n - done), err);
        if (r >= 0) {
            done += (size_t)r;
            continue;
        }
        if (err == EINTR) continue;
        if (err != EAGAIN) return done ? (ssize_t)done : fail(err);
        if (!pd_wait(pd, &pd->wg)) return done ? (ssize_t)done : fail(EBADF);
    }
    return (ssize_t)done;
}

int go_accept(int fd, struct sockaddr *sa, socklen_t *len) {
    struct poll_desc *pd = pd_get(fd);
    if (!pd) return accept(fd, sa, len);
    for (;;) {
        int err;
        int r = BRACKETED(accept(fd, sa, len), err);
        if (r >= 0) return r;
        if (err == EINTR) continue;
        if (err != EAGAIN) return (int)fail(err);
        if (!pd_wait(pd, &pd->rg)) return (int)fail(EBADF);
    }
}

int go_connect(int fd, const struct sockaddr *sa, socklen_t len) {
    struct poll_desc *pd = pd_get(fd);
    if (!pd) return connect(fd, sa, len);
    int err;
    int r = BRACKETED(connect(fd, sa, len), err);
    if (r == 0) return 0;
    if (err != EINPROGRESS && err != EINTR) return (int)fail(err);
    for (;;) {
        if (!pd_wait(pd, &pd->wg)) return (int)fail(EBADF);
        int soerr = 0;
        socklen_t elen = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) < 0) return (int)fail(rt_errno());
        if (soerr != 0) return (int)fail(soerr);
        /* A spurious edge (or a write-ready before connection): make sure
         * we are really connected. */
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        if (getpeername(fd, (struct sockaddr *)&peer, &plen) == 0) return 0;
        if (rt_errno() != ENOTCONN) return (int)fail(rt_errno());
    }
}

int go_close(int fd) {
    struct poll_desc *pd = pd_lookup(fd);
    if (pd && pd->registered) {
        rt_lock_acquire(&pd->lock);
        pd->registered = false;
        atomic_fetch_add(&pd->seq, 1);
        if (pd->pollable) rt_poll_backend_del(fd);
        struct rt_g *gp;
        if ((gp = pd_ready(&pd->rg))) rt_globrunq_put_list((gp->sched_link = NULL, gp));
        if ((gp = pd_ready(&pd->wg))) rt_globrunq_put_list((gp->sched_link = NULL, gp));
        atomic_store(&pd->rg, 0);
        atomic_store(&pd->wg, 0);
        rt_lock_release(&pd->lock);
        rt_wakep();
    }
    return close(fd);
}

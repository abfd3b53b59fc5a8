/* netpoll_epoll.c - the Linux epoll backend of the netpoller. An eventfd,
 * registered like any descriptor but with a NULL desc, interrupts a blocked
 * epoll_wait; a pending interruption is coalesced in the eventfd counter. */
#include "netpoll_backend.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int epfd = -1;
static int breakfd = -1;
static _Atomic int break_pending;

int rt_poll_backend_init(void) {
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return -errno;
    breakfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (breakfd < 0) return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, breakfd, &ev) < 0) return -errno;
    return 0;
}

int rt_poll_backend_add(int fd, void *desc) {
    struct epoll_event ev = {
        .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
        .data.ptr = desc,
    };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0) return 0;
    return errno == EEXIST ? 1 : -errno;
}

void rt_poll_backend_del(int fd) {
    struct epoll_event ev = {0};
    epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev);
}

int rt_poll_backend_wait(int64_t delay, struct rt_poll_event *events, int max) {
    enum { BATCH = 128 };
    struct epoll_event evs[BATCH];
    if (max > BATCH) max = BATCH;
    /* epoll_pwait2 takes nanoseconds, so timers are not rounded up to the
     * next millisecond; kernels before 5.11 lack it. */
    struct timespec ts = {delay / 1000000000, delay % 1000000000};
    int n = epoll_pwait2(epfd, evs, max, delay < 0 ? NULL : &ts, NULL);
    if (n < 0 && errno == ENOSYS) {
        int ms = delay < 0 ? -1 : delay == 0 ? 0 : (int)((delay + 999999) / 1000000);
        n = epoll_wait(epfd, evs, max, ms);
    }
    int out = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.ptr == NULL) {
            uint64_t v;
            while (read(breakfd, &v, sizeof v) > 0) {}
            atomic_store(&break_pending, 0);
            continue;
        }
        uint32_t e = evs[i].events;
        events[out].desc = evs[i].data.ptr;
        events[out].readable = e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
        events[out].writable = e & (EPOLLOUT | EPOLLHUP | EPOLLERR);
        out++;
    }
    return out;
}

void rt_poll_backend_break(void) {
    if (atomic_exchange(&break_pending, 1)) return;
    uint64_t one = 1;
    ssize_t r = write(breakfd, &one, sizeof one);
    (void)r;
}

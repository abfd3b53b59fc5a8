/* netpoll_backend.h - what the netpoller needs from the kernel's readiness
 * API: one implementation file per backend (netpoll_epoll.c today; kqueue or
 * io_uring later), so netpoll.c stays the same. Registrations are
 * edge-triggered for both directions and carry the poll descriptor. */
#ifndef GOROUTINE_NETPOLL_BACKEND_H
#define GOROUTINE_NETPOLL_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

struct rt_poll_event {
    void *desc;
    bool readable;   /* or error/hang-up: a reader must look */
    bool writable;
};

int rt_poll_backend_init(void);             /* 0, or -errno */
/* 0 when registered now, 1 when it already was, -errno otherwise. */
int rt_poll_backend_add(int fd, void *desc);
void rt_poll_backend_del(int fd);
/* Wait up to delay ns (< 0 forever, 0 not at all); returns the number of
 * events stored, the wake-up from rt_poll_backend_break not included. */
int rt_poll_backend_wait(int64_t delay, struct rt_poll_event *events, int max);
void rt_poll_backend_break(void);

#pragma GCC visibility pop
#endif

/* goroutine/sync.h - Mutex, RWMutex, WaitGroup, Once and Cond.
 *
 * Every type is complete so it can live in your structs and on the stack,
 * and is ready to use when zero-initialised (= {0} or static), as in Go.
 * There are no init or destroy calls. The fields are private to the
 * runtime: touch them only through these functions. */
#ifndef GOROUTINE_SYNC_H
#define GOROUTINE_SYNC_H

#include <stdbool.h>
#include <stdint.h>
#include "sched.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A counting semaphore with a FIFO of parked goroutines (Go's sema.go),
 * embedded in the types below. */
typedef struct go_sema_ {
    uint32_t count_;
    uint32_t lock_;
    void *head_;
    void *tail_;
} go_sema_;

typedef struct go_mutex {
    int32_t state_;
    go_sema_ sema_;
} go_mutex;

typedef struct go_rwmutex {
    go_mutex w_;
    go_sema_ writer_sem_;
    go_sema_ reader_sem_;
    int32_t reader_count_;
    int32_t reader_wait_;
} go_rwmutex;

typedef struct go_waitgroup {
    uint64_t state_; /* counter in the high 32 bits, waiters in the low */
    go_sema_ sema_;
} go_waitgroup;

typedef struct go_once {
    uint32_t done_;
    go_mutex m_;
} go_once;

typedef struct go_cond {
    uint32_t wait_ticket_;
    uint32_t notify_ticket_;
    uint32_t lock_;
    void *head_;
    void *tail_;
} go_cond;

void go_mutex_lock(go_mutex *m);
void go_mutex_unlock(go_mutex *m);
bool go_mutex_trylock(go_mutex *m);

void go_rwmutex_lock(go_rwmutex *rw);
void go_rwmutex_unlock(go_rwmutex *rw);
void go_rwmutex_rlock(go_rwmutex *rw);
void go_rwmutex_runlock(go_rwmutex *rw);

void go_wg_add(go_waitgroup *wg, int delta);
void go_wg_done(go_waitgroup *wg);
void go_wg_wait(go_waitgroup *wg);

void go_once_do(go_once *o, go_func fn, void *arg);

void go_cond_wait(go_cond *c, go_mutex *m);
void go_cond_signal(go_cond *c);
void go_cond_broadcast(go_cond *c);

#ifdef __cplusplus
}
#endif
#endif

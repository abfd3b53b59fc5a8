/* rwmutex.c - go_rwmutex, Go's sync.RWMutex algorithm.
 *
 * reader_count_ counts readers holding or waiting for the lock. A writer
 * first takes w_ (so writers are serialised among themselves), then
 * subtracts RWMUTEX_MAX_READERS: a negative reader_count_ tells new readers
 * that a writer is pending, and they park on reader_sem_ instead of
 * entering. That is writer preference: a stream of readers cannot starve a
 * writer. The readers that were already inside when the writer arrived are
 * moved to reader_wait_; the last of them to leave wakes the writer on
 * writer_sem_. Unlock adds RWMUTEX_MAX_READERS back and releases one unit
 * of reader_sem_ per reader that queued meanwhile, then drops w_.
 *
 * Misuse is detected from the counts and is fatal, as in Go.
 *
 * Happens-before for the race detector: each lock entry point returns
 * through one point once the lock is held, and each unlock starts with it
 * still held; the writer unlock -> lock/rlock and reader unlock -> writer
 * lock edges go there. */
#include "sema.h"
#include "../detector/race.h"

#define RWMUTEX_MAX_READERS ((int32_t)1 << 30)

static inline int32_t rw_add(int32_t *word, int32_t delta) {
    return __atomic_add_fetch(word, delta, __ATOMIC_ACQ_REL);
}

void go_rwmutex_rlock(go_rwmutex *rw) {
    if (RT_UNLIKELY(rw_add(&rw->reader_count_, 1) < 0))
        rt_sema_acquire(&rw->reader_sem_, WAIT_RWMUTEX_RLOCK, rw, false);
    RACE(race_acquire(&rw->reader_sem_));   /* writer unlock -> rlock */
    RACE(race_mutex_locked(rw, NULL, 0, true, (uintptr_t)__builtin_return_address(0)));
    RT_KEEP_FRAME();
}

static void rwmutex_runlock_slow(go_rwmutex *rw, int32_t readers) {
    if (readers + 1 == 0 || readers + 1 == -RWMUTEX_MAX_READERS)
        rt_fatal("sync: RUnlock of unlocked RWMutex");
    /* A writer is pending: the last departing reader lets it in. */
    if (rw_add(&rw->reader_wait_, -1) == 0)
        rt_sema_release(&rw->writer_sem_, false);
}

void go_rwmutex_runlock(go_rwmutex *rw) {
    RACE(race_release(&rw->writer_sem_));   /* reader unlock -> lock */
    RACE(race_mutex_unlocked(rw));
    int32_t readers = rw_add(&rw->reader_count_, -1);
    if (RT_UNLIKELY(readers < 0))
        rwmutex_runlock_slow(rw, readers);
}

void go_rwmutex_lock(go_rwmutex *rw) {
    rt_mutex_lock(&rw->w_, WAIT_RWMUTEX_LOCK, rw);
    int32_t active =
        rw_add(&rw->reader_count_, -RWMUTEX_MAX_READERS) + RWMUTEX_MAX_READERS;
    if (active != 0 && rw_add(&rw->reader_wait_, active) != 0)
        rt_sema_acquire(&rw->writer_sem_, WAIT_RWMUTEX_LOCK, rw, false);
    RACE(race_acquire(&rw->reader_sem_));
    RACE(race_acquire(&rw->writer_sem_));
    RACE(race_mutex_locked(rw, &rw->w_.state_, RT_MUTEX_LOCKED, true,
                           (uintptr_t)__builtin_return_address(0)));
    RT_KEEP_FRAME();
}

void go_rwmutex_unlock(go_rwmutex *rw) {
    RACE(race_release(&rw->reader_sem_));
    RACE(race_mutex_unlocked(rw));
    int32_t waiting_readers = rw_add(&rw->reader_count_, RWMUTEX_MAX_READERS);
    if (RT_UNLIKELY(waiting_readers >= RWMUTEX_MAX_READERS))
        rt_fatal("sync: Unlock of unlocked RWMutex");
    for (int32_t i = 0; i < waiting_readers; i++)
        rt_sema_release(&rw->reader_sem_, false);
    rt_mutex_unlock(&rw->w_);
    RT_KEEP_FRAME(); /* a handoff yields to the next writer from in here */
}

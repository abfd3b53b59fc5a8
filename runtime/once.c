/* once.c - go_once, Go's sync.Once algorithm.
 *
 * done_ becomes 1 only after fn has returned, so the fast path is a single
 * acquire load: seeing 1 means fn's effects are visible. Until then callers
 * serialise on m_; the first to get it runs fn, the others wait (reported
 * as sync.Once.Do on the go_once) and find done_ set when they get m_.
 * A fn that calls go_once_do on the same go_once deadlocks, as in Go.
 *
 * Happens-before for the race detector: fn -> return goes from fn's return
 * in once_do_slow to the one point where go_once_do returns. Stacks taken
 * inside fn run through go_once_do's caller (RACE_ENTER_FROM_USER). */
#include "sema.h"
#include "../detector/race.h"

static void once_do_slow(go_once *o, go_func fn, void *arg) {
    rt_mutex_lock(&o->m_, WAIT_ONCE, o);
    if (o->done_ == 0) {
        fn(arg);
        RACE(race_release(o));
        __atomic_store_n(&o->done_, 1, __ATOMIC_RELEASE);
    }
    rt_mutex_unlock(&o->m_);
}

void go_once_do(go_once *o, go_func fn, void *arg) {
    if (RT_UNLIKELY(__atomic_load_n(&o->done_, __ATOMIC_ACQUIRE) == 0)) {
        RACE_ENTER_FROM_USER();
        once_do_slow(o, fn, arg);
        RACE_LEAVE_TO_USER();
    }
    RACE(race_acquire(o));
    RT_KEEP_FRAME();
}

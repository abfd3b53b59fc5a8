/* waitreason.c - the text of each wait reason, as goroutine headers show it.
 *
 * The strings are Go's own (runtime/runtime2.go's waitReasonStrings) for
 * every reason Go has, so a Go user reads a dump or a deadlock report
 * exactly as they would read Go's; the errgroup reasons are ours, named
 * after the package function in Go's style. The table is indexed by enum
 * rt_wait_reason, whose order rt.h keeps in step with it. */
#include "rt.h"

static const char *const reason_strings[WAIT_REASON_COUNT] = {
    [WAIT_NONE] = "",
    [WAIT_CHAN_SEND] = "chan send",
    [WAIT_CHAN_RECV] = "chan receive",
    [WAIT_CHAN_SEND_NIL] = "chan send (nil chan)",
    [WAIT_CHAN_RECV_NIL] = "chan receive (nil chan)",
    [WAIT_SELECT] = "select",
    [WAIT_SELECT_NO_CASES] = "select (no cases)",
    [WAIT_MUTEX_LOCK] = "sync.Mutex.Lock",
    [WAIT_RWMUTEX_LOCK] = "sync.RWMutex.Lock",
    [WAIT_RWMUTEX_RLOCK] = "sync.RWMutex.RLock",
    [WAIT_WAITGROUP] = "sync.WaitGroup.Wait",
    [WAIT_COND] = "sync.Cond.Wait",
    [WAIT_ONCE] = "sync.Once.Do",
    [WAIT_ERRGROUP_WAIT] = "errgroup.Wait",
    [WAIT_ERRGROUP_GO] = "errgroup.Go",
    [WAIT_SLEEP] = "sleep",
    [WAIT_IO] = "IO wait",
    [WAIT_SYSCALL] = "syscall",
    [WAIT_GOEXIT] = "goexit",
};

const char *rt_wait_reason_string(enum rt_wait_reason r) {
    if ((unsigned)r >= WAIT_REASON_COUNT) return "unknown wait reason";
    return reason_strings[r];
}

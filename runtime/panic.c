/* panic.c - panics and fatal errors: Go's wording, the stack, exit status 2.
 *
 * There is no recover in C, so both kinds end the process the same way Go
 * ends it for an unrecovered panic:
 *
 *     panic: send on closed channel
 *
 *     goroutine 1 [running]:
 *         #0 go_chan_send /src/runtime/chan.c:201:9
 *         #1 main /src/app/main.c:12:5
 *
 * and _exit(2). The user's buffered stdio output is flushed first so that
 * everything the program printed before the failure is seen before it.
 * From scheduler context (no goroutine) the thread's whole stack is shown
 * under Go's "runtime stack:" heading instead of a goroutine.
 *
 * Only one thread reports: the first to fail claims the report and any
 * other thread failing meanwhile waits for the process to end, so two
 * reports never interleave. A failure on a thread that is already
 * reporting (a fault while printing or symbolising) is a panic during
 * panic: it is said in one line and the process ends at once. */
#include <stdio.h>
#include <unistd.h>

#include "rt.h"
#include "symbolize.h"

enum { EXIT_STATUS = 2 };

static _Atomic bool reporting;        /* some thread owns the report */
static _Thread_local bool dying;      /* this thread is reporting */

static __attribute__((noinline)) _Noreturn void die(const char *kind, const char *msg) {
    if (dying) {
        rt_printf(2, "panic during panic: %s\n", msg);
        _exit(EXIT_STATUS);
    }
    dying = true;
    if (atomic_exchange(&reporting, true))
        for (;;) pause(); /* the reporting thread ends the process */

    fflush(NULL);
    rt_printf(2, "%s: %s\n\n", kind, msg);
    struct rt_g *gp = rt_getg();
    if (gp) {
        rt_print_goroutine(2, gp, "running");
    } else {
        rt_printf(2, "runtime stack:\n");
        rt_print_thread_stack(2, 1);
        rt_printf(2, "\n");
    }
    _exit(EXIT_STATUS);
}

void rt_panic(const char *msg) { die("panic", msg); }

void rt_fatal(const char *msg) { die("fatal error", msg); }

/* test_syscall.c - blocking-system-call hand-off: go_syscall_enter and
 * go_syscall_exit around a call that blocks its thread must let the other
 * goroutines run on the processor (P) the caller leaves behind.
 *
 * The proofs run at GOMAXPROCS 1, where nothing else can run unless the P
 * is handed off. Each is an ordering, never a duration: the blocked call
 * waits for data that only another goroutine writes after making progress,
 * or for a pthread barrier that opens only when every goroutine is inside
 * its call at once. Without the hand-off those scenarios cannot finish, so
 * they run in a child process (harness_child) whose timeout turns a hang
 * into a failed case. Cases that cannot hang run in this process: many
 * short brackets (some long enough to lose the P), errno set by the call
 * surviving go_syscall_exit (the goroutine may come back on another
 * thread), and brackets on a thread the runtime does not know.
 *
 * Goroutines never call CUnit (it is not thread-safe); children report by
 * printing a line and by their exit status. */
#include <goroutine.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"

/* In a child: print what failed and exit 1. */
#define CHILD_CHECK(cond)                                                      \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("check failed at line %d: %s\n", __LINE__, #cond);          \
            fflush(stdout);                                                    \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define YIELD_UNTIL(cond)                                                      \
    do {                                                                       \
        long spins_ = 0;                                                       \
        while (!(cond) && ++spins_ < 50000000L) go_yield();                    \
        CHILD_CHECK(cond);                                                     \
    } while (0)

static bool goroutine_in_syscall(uint64_t id) {
    bool found = false;
    rt_lock_acquire(&rt_allgs_lock);
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next)
        if (gp->id == id) {
            found = atomic_load(&gp->status) == G_SYSCALL;
            break;
        }
    rt_lock_release(&rt_allgs_lock);
    return found;
}

/* ---- a goroutine blocked in read() on a pipe another goroutine fills ---- */

enum { PROGRESS_STEPS = 1000 };

static struct {
    int pipe[2];
    atomic_long progress;
    long progress_when_read_returned;
    ssize_t read_result;
    int value;
    go_waitgroup wg;
} hp;

static void blocked_reader(void *arg) {
    (void)arg;
    go_syscall_enter();
    hp.read_result = read(hp.pipe[0], &hp.value, sizeof hp.value);
    go_syscall_exit();
    hp.progress_when_read_returned = atomic_load(&hp.progress);
    go_wg_done(&hp.wg);
}

/* Makes progress, yielding at each step, then writes what the reader
 * waits for. */
static void progress_then_write(void *arg) {
    (void)arg;
    for (int i = 0; i < PROGRESS_STEPS; i++) {
        atomic_fetch_add(&hp.progress, 1);
        go_yield();
    }
    int v = 4242;
    CHILD_CHECK(write(hp.pipe[1], &v, sizeof v) == sizeof v);
    go_wg_done(&hp.wg);
}

static void child_handoff_pipe(void) {
    go_maxprocs(1);
    CHILD_CHECK(pipe(hp.pipe) == 0); /* blocking: read() blocks the thread */
    go_wg_add(&hp.wg, 2);
    uint64_t retakes_before = rt_sysmon_stats.retakes;
    uint64_t reader = go_spawn(blocked_reader, NULL);
    /* Only once the reader is inside its call does the writer exist: any
     * progress it makes happens while the call is blocked. (main itself
     * runs here only because the reader's P was taken from it.) */
    YIELD_UNTIL(goroutine_in_syscall(reader));
    go_spawn(progress_then_write, NULL);
    go_wg_wait(&hp.wg);
    CHILD_CHECK(hp.read_result == sizeof hp.value && hp.value == 4242);
    CHILD_CHECK(hp.progress_when_read_returned == PROGRESS_STEPS);
    CHILD_CHECK(rt_sysmon_stats.retakes > retakes_before);
    printf("reader returned after %ld steps of progress on the only P\n",
           hp.progress_when_read_returned);
    exit(0);
}

/* ---- a goroutine in sleep(1) while another counts ---- */

static struct {
    atomic_long progress;
    atomic_bool stop;
    long before, after;
    go_waitgroup wg;
} hs;

static void counter_loop(void *arg) {
    (void)arg;
    while (!atomic_load(&hs.stop)) {
        atomic_fetch_add(&hs.progress, 1);
        go_yield();
    }
    go_wg_done(&hs.wg);
}

static void sleeper(void *arg) {
    (void)arg;
    /* No scheduling point between the reads and the bracket: on one P the
     * counter can move between them only if the P was handed off. */
    hs.before = atomic_load(&hs.progress);
    go_syscall_enter();
    sleep(1);
    go_syscall_exit();
    hs.after = atomic_load(&hs.progress);
    atomic_store(&hs.stop, true);
    go_wg_done(&hs.wg);
}

static void child_handoff_sleep(void) {
    go_maxprocs(1);
    go_wg_add(&hs.wg, 2);
    go_spawn(counter_loop, NULL);
    go_spawn(sleeper, NULL);
    go_wg_wait(&hs.wg);
    CHILD_CHECK(hs.after > hs.before);
    printf("counter advanced during sleep(1): yes\n");
    exit(0);
}

/* ---- many goroutines inside bracketed calls at once ---- */

enum { IN_CALLS = 32 };

static struct {
    pthread_barrier_t barrier;
    atomic_int inside_max, inside, finished;
    go_waitgroup wg;
} mc;

static void wait_at_barrier(void *arg) {
    (void)arg;
    go_syscall_enter();
    int now = atomic_fetch_add(&mc.inside, 1) + 1;
    int max = atomic_load(&mc.inside_max);
    while (now > max && !atomic_compare_exchange_weak(&mc.inside_max, &max, now)) {}
    /* Opens only when all IN_CALLS goroutines are blocked here, each on
     * its own thread, while GOMAXPROCS is 1. */
    pthread_barrier_wait(&mc.barrier);
    atomic_fetch_sub(&mc.inside, 1);
    go_syscall_exit();
    /* The runtime works again after the call: park and wake once. */
    go_yield();
    atomic_fetch_add(&mc.finished, 1);
    go_wg_done(&mc.wg);
}

static void child_many_in_calls(void) {
    go_maxprocs(1);
    CHILD_CHECK(pthread_barrier_init(&mc.barrier, NULL, IN_CALLS) == 0);
    for (int round = 0; round < 3; round++) {
        go_wg_add(&mc.wg, IN_CALLS);
        for (int i = 0; i < IN_CALLS; i++) go_spawn(wait_at_barrier, NULL);
        go_wg_wait(&mc.wg);
    }
    CHILD_CHECK(atomic_load(&mc.finished) == 3 * IN_CALLS);
    CHILD_CHECK(atomic_load(&mc.inside_max) == IN_CALLS);
    printf("%d goroutines were inside blocking calls at once on 1 P\n",
           atomic_load(&mc.inside_max));
    exit(0);
}

/* ---- brackets from main ---- */

static struct {
    int pipe[2];
    atomic_long progress;
    go_chan *done;
} bm;

static void feed_main(void *arg) {
    (void)arg;
    for (int i = 0; i < PROGRESS_STEPS; i++) {
        atomic_fetch_add(&bm.progress, 1);
        go_yield();
    }
    char c = 'm';
    CHILD_CHECK(write(bm.pipe[1], &c, 1) == 1);
    int steps = PROGRESS_STEPS;
    go_chan_send(bm.done, &steps);
}

static void child_brackets_from_main(void) {
    go_maxprocs(1);
    CHILD_CHECK(pipe(bm.pipe) == 0);
    bm.done = go_chan_make(sizeof(int), 0);
    go_spawn(feed_main, NULL);
    char c = 0;
    go_syscall_enter();
    ssize_t n = read(bm.pipe[0], &c, 1);
    go_syscall_exit();
    CHILD_CHECK(n == 1 && c == 'm');
    CHILD_CHECK(atomic_load(&bm.progress) == PROGRESS_STEPS);
    /* main holds a P again: channels, sleeps and spawns work as before. */
    int steps = 0;
    CHILD_CHECK(go_chan_recv(bm.done, &steps) && steps == PROGRESS_STEPS);
    go_sleep(GO_MILLISECOND);
    CHILD_CHECK(go_id() == 1);
    /* A second bracket from main, around a call that does not block. */
    go_syscall_enter();
    pid_t pid = getpid();
    go_syscall_exit();
    CHILD_CHECK(pid > 0);
    printf("main's blocked read returned after %ld steps of progress\n",
           atomic_load(&bm.progress));
    exit(0);
}

/* ---- parent side of the children ---- */

static bool has_line(const char *output, const char *line) {
    size_t n = strlen(line);
    for (const char *p = output; (p = strstr(p, line)) != NULL; p++)
        if ((p == output || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
            return true;
    return false;
}

/* Run a child with one P from the start (it also calls go_maxprocs(1),
 * for an environment that already sets GOMAXPROCS). */
static void expect_child(const char *child, const char *line) {
    static const char *const one_proc[] = {"GOMAXPROCS=1", NULL};
    static harness_result r;
    harness_child(child, one_proc, 60, &r);
    CU_ASSERT_FALSE(r.timed_out);
    CU_ASSERT_TRUE(r.exited);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_TRUE(has_line(r.output, line));
    if (r.timed_out || !r.exited || r.status != 0 || !has_line(r.output, line))
        fprintf(stderr, "\n--- child %s (%s, status %d) ---\n%s\n---\n", child,
                r.timed_out ? "timed out" : r.exited ? "exited" : "killed",
                r.status, r.output);
}

static void test_handoff_pipe(void) {
    char line[128];
    snprintf(line, sizeof line, "reader returned after %d steps of progress on the only P",
             PROGRESS_STEPS);
    expect_child("handoff_pipe", line);
}

static void test_handoff_sleep(void) {
    expect_child("handoff_sleep", "counter advanced during sleep(1): yes");
}

static void test_many_in_calls(void) {
    char line[128];
    snprintf(line, sizeof line, "%d goroutines were inside blocking calls at once on 1 P",
             IN_CALLS);
    expect_child("many_in_calls", line);
}

static void test_brackets_from_main(void) {
    char line[128];
    snprintf(line, sizeof line, "main's blocked read returned after %d steps of progress",
             PROGRESS_STEPS);
    expect_child("brackets_from_main", line);
}

/* ---- in-process stress: short calls, some long enough to be retaken ---- */

enum { STRESS_GOROUTINES = 8, STRESS_CALLS = 5000 };

static struct {
    atomic_long calls, wrong_id, mismatches;
    go_waitgroup wg;
} st;

static void bracket_loop(void *arg) {
    (void)arg;
    uint64_t me = go_id();
    long own = 0;
    for (int i = 0; i < STRESS_CALLS; i++) {
        go_syscall_enter();
        if (i % 64 == 0)
            usleep(200); /* long enough for the monitor to take the P */
        else
            (void)getppid();
        go_syscall_exit();
        own++;
        atomic_fetch_add(&st.calls, 1);
        if (go_id() != me) atomic_fetch_add(&st.wrong_id, 1);
        if (i % 16 == 0) go_yield();
    }
    if (own != STRESS_CALLS) atomic_fetch_add(&st.mismatches, 1);
    go_wg_done(&st.wg);
}

static void test_stress_short_calls(void) {
    int saved = go_maxprocs(0);
    for (int procs = 1; procs <= 4; procs *= 2) {
        go_maxprocs(procs);
        memset(&st, 0, sizeof st);
        go_wg_add(&st.wg, STRESS_GOROUTINES);
        for (int i = 0; i < STRESS_GOROUTINES; i++) go_spawn(bracket_loop, NULL);
        go_wg_wait(&st.wg);
        CU_ASSERT_EQUAL(atomic_load(&st.calls), (long)STRESS_GOROUTINES * STRESS_CALLS);
        CU_ASSERT_EQUAL(atomic_load(&st.wrong_id), 0);
        CU_ASSERT_EQUAL(atomic_load(&st.mismatches), 0);
    }
    go_maxprocs(saved);
}

/* ---- errno set inside the bracket survives go_syscall_exit ---- */

enum { ERRNO_ROUNDS = 100 };

static struct {
    atomic_bool stop;
    int wrong;
    int last_errno;
    go_waitgroup wg;
} en;

static void keep_p_busy(void *arg) {
    (void)arg;
    while (!atomic_load(&en.stop)) go_yield();
    go_wg_done(&en.wg);
}

/* The usual pattern: errno is read after the bracket. The call outlasts
 * the monitor's tick, so its P is taken and given to keep_p_busy; the
 * goroutine then resumes on whichever thread holds a P, and errno must
 * have come along. */
static __attribute__((noinline)) void failing_call_in_bracket(void) {
    char c;
    go_syscall_enter();
    usleep(2000);
    ssize_t n = read(-1, &c, 1);
    go_syscall_exit();
    int err = errno;
    if (n != -1 || err != EBADF) {
        en.wrong++;
        en.last_errno = err;
    }
}

static void errno_checker(void *arg) {
    (void)arg;
    for (int i = 0; i < ERRNO_ROUNDS; i++) failing_call_in_bracket();
    atomic_store(&en.stop, true);
    go_wg_done(&en.wg);
}

static void test_errno_survives_exit(void) {
    int saved = go_maxprocs(1);
    memset(&en, 0, sizeof en);
    go_wg_add(&en.wg, 2);
    go_spawn(keep_p_busy, NULL);
    go_spawn(errno_checker, NULL);
    go_wg_wait(&en.wg);
    CU_ASSERT_EQUAL(en.wrong, 0);
    if (en.wrong)
        fprintf(stderr, "\n    errno after go_syscall_exit was %d (%s), not EBADF, %d of %d times\n",
                en.last_errno, strerror(en.last_errno), en.wrong, ERRNO_ROUNDS);
    go_maxprocs(saved);
}

/* ---- brackets on a thread the runtime does not run ---- */

static void *foreign_thread(void *arg) {
    /* No goroutine here: both calls do nothing, and must not crash. */
    go_syscall_enter();
    *(pid_t *)arg = getpid();
    go_syscall_exit();
    return NULL;
}

static void test_foreign_thread(void) {
    pthread_t t;
    pid_t pid = 0;
    CU_ASSERT_FATAL(pthread_create(&t, NULL, foreign_thread, &pid) == 0);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(pid, getpid());
    /* The runtime is unaffected: a goroutine still runs. */
    go_chan *c = go_chan_make(sizeof(int), 1);
    int v = 7;
    go_chan_send(c, &v);
    v = 0;
    CU_ASSERT_TRUE(go_chan_recv(c, &v));
    CU_ASSERT_EQUAL(v, 7);
    go_chan_free(c);
}

int main(int argc, char **argv) {
    static const harness_case handoff_cases[] = {
        {"blocked_read_lets_writer_run", test_handoff_pipe},
        {"sleep_lets_counter_run", test_handoff_sleep},
        {"many_goroutines_in_calls_at_once", test_many_in_calls},
        {"brackets_from_main", test_brackets_from_main},
        {NULL, NULL}};
    static const harness_case bracket_cases[] = {
        {"stress_short_calls", test_stress_short_calls},
        {"errno_survives_exit", test_errno_survives_exit},
        {"foreign_thread", test_foreign_thread},
        {NULL, NULL}};
    static const harness_suite suites[] = {
        {"handoff", handoff_cases},
        {"brackets", bracket_cases},
        {NULL, NULL}};
    static const harness_child_fn children[] = {
        {"handoff_pipe", child_handoff_pipe},
        {"handoff_sleep", child_handoff_sleep},
        {"many_in_calls", child_many_in_calls},
        {"brackets_from_main", child_brackets_from_main},
        {NULL, NULL}};
    return harness_main(argc, argv, suites, children);
}

/* test_errgroup.c - go_errgroup: results, cancellation, the limit.
 *
 * Concurrency under a limit is measured, not timed: each function counts
 * itself into an atomic while it runs and records the maximum, and the
 * first ones hold on until that maximum has reached the limit, so the
 * assert "maximum == limit" cannot depend on scheduling luck. Cases whose
 * outcome is a process exit (a panic, a fatal error, a deadlock report or
 * the absence of one) run in child processes. */
#include <goroutine.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "probes.h"

/* ---- results ---- */

static atomic_int ran;

static int succeed(go_ctx *ctx, void *arg) {
    if (go_ctx_err(ctx) == 0)
        atomic_fetch_add(&ran, 1);
    return 0;
}

static void all_succeed_body(void) {
    atomic_store(&ran, 0);
    go_errgroup *g = go_errgroup_make(NULL);
    go_ctx *ctx = go_errgroup_ctx(g);
    CU_ASSERT_EQUAL(go_ctx_err(ctx), 0);
    for (int i = 0; i < 100; i++)
        go_errgroup_go(g, succeed, NULL);
    CU_ASSERT_EQUAL(go_errgroup_wait(g), 0);
    CU_ASSERT_EQUAL(atomic_load(&ran), 100);
    /* Wait cancels the group's context. */
    CU_ASSERT_EQUAL(go_ctx_err(ctx), GO_ECANCELED);
    CU_ASSERT_EQUAL(go_errgroup_wait(g), 0);
    go_errgroup_free(g);
}

static void test_all_succeed(void) { AT_PROCS(all_succeed_body, 1, 2, 8); }

static void test_empty_group(void) {
    go_errgroup *g = go_errgroup_make(go_ctx_background());
    CU_ASSERT_EQUAL(go_errgroup_wait(g), 0);
    go_errgroup_free(g);
}

enum { FIRST_ERROR = 42, OBSERVERS = 20 };

static struct {
    atomic_int observed;
    atomic_int values_seen;
} fe;

static int fail_at_once(go_ctx *ctx, void *arg) { return FIRST_ERROR; }

/* Fails too, but only after seeing the group cancelled: never first. */
static int fail_after_cancel(go_ctx *ctx, void *arg) {
    go_chan_recv(go_ctx_done(ctx), NULL);
    if (go_ctx_err(ctx) == GO_ECANCELED)
        atomic_fetch_add(&fe.observed, 1);
    if (go_ctx_value(ctx, &fe) == (void *)&fe)
        atomic_fetch_add(&fe.values_seen, 1);
    return 100 + (int)(intptr_t)arg;
}

static void first_error_body(void) {
    memset(&fe, 0, sizeof fe);
    go_ctx *parent = go_ctx_with_value(go_ctx_background(), &fe, &fe);
    go_errgroup *g = go_errgroup_make(parent);
    for (intptr_t i = 0; i < OBSERVERS; i++) {
        if (i == OBSERVERS / 2)
            go_errgroup_go(g, fail_at_once, NULL);
        go_errgroup_go(g, fail_after_cancel, (void *)i);
    }
    CU_ASSERT_EQUAL(go_errgroup_wait(g), FIRST_ERROR);
    CU_ASSERT_EQUAL(atomic_load(&fe.observed), OBSERVERS);
    CU_ASSERT_EQUAL(atomic_load(&fe.values_seen), OBSERVERS);
    CU_ASSERT_EQUAL(go_ctx_err(go_errgroup_ctx(g)), GO_ECANCELED);
    CU_ASSERT_EQUAL(go_errgroup_wait(g), FIRST_ERROR);
    go_errgroup_free(g);
    go_ctx_release(parent);
}

static void test_first_error_wins(void) { AT_PROCS(first_error_body, 1, 2, 8); }

/* Cancelling the parent reaches the group's functions. */
static int return_on_cancel(go_ctx *ctx, void *arg) {
    go_chan_recv(go_ctx_done(ctx), NULL);
    atomic_fetch_add(&fe.observed, 1);
    return 0;
}

static void test_parent_cancel(void) {
    memset(&fe, 0, sizeof fe);
    go_ctx *parent = go_ctx_with_cancel(go_ctx_background());
    go_errgroup *g = go_errgroup_make(parent);
    for (int i = 0; i < 10; i++)
        go_errgroup_go(g, return_on_cancel, NULL);
    go_ctx_cancel(parent);
    CU_ASSERT_EQUAL(go_errgroup_wait(g), 0);
    CU_ASSERT_EQUAL(atomic_load(&fe.observed), 10);
    go_errgroup_free(g);
    go_ctx_release(parent);
}

/* ---- the limit ---- */

static struct {
    atomic_int cur, max;
    int limit;
    atomic_int done;
} lim;

static int count_concurrency(go_ctx *ctx, void *arg) {
    int now = atomic_fetch_add(&lim.cur, 1) + 1;
    int max = atomic_load(&lim.max);
    while (now > max && !atomic_compare_exchange_weak(&lim.max, &max, now)) {}
    /* The first functions hold their slots until the limit has been
     * reached once; later ones just yield a little. */
    long spins = 0;
    while (atomic_load(&lim.max) < lim.limit && ++spins < 50000000L)
        go_yield();
    for (int i = 0; i < 3; i++)
        go_yield();
    atomic_fetch_sub(&lim.cur, 1);
    atomic_fetch_add(&lim.done, 1);
    return 0;
}

enum { LIMITED_TASKS = 60, SUBMITTERS = 4 };

struct submitter {
    go_errgroup *g;
    go_waitgroup *wg;
};

static void submit(void *arg) {
    struct submitter *s = arg;
    for (int i = 0; i < LIMITED_TASKS / SUBMITTERS; i++)
        go_errgroup_go(s->g, count_concurrency, NULL);
    go_wg_done(s->wg);
}

static void limit_run(int limit, bool from_many_goroutines) {
    memset(&lim, 0, sizeof lim);
    lim.limit = limit;
    go_errgroup *g = go_errgroup_make(NULL);
    go_errgroup_set_limit(g, limit);
    if (from_many_goroutines) {
        go_waitgroup wg = {0};
        struct submitter s = {g, &wg};
        go_wg_add(&wg, SUBMITTERS);
        for (int i = 0; i < SUBMITTERS; i++)
            go_spawn(submit, &s);
        go_wg_wait(&wg);
    } else {
        for (int i = 0; i < LIMITED_TASKS; i++)
            go_errgroup_go(g, count_concurrency, NULL);
    }
    CU_ASSERT_EQUAL(go_errgroup_wait(g), 0);
    CU_ASSERT_EQUAL(atomic_load(&lim.done), LIMITED_TASKS);
    CU_ASSERT_EQUAL(atomic_load(&lim.max), limit);
    if (atomic_load(&lim.max) != limit)
        fprintf(stderr, "\nlimit %d: measured %d\n", limit, atomic_load(&lim.max));
    /* With no goroutine active the limit may change. */
    go_errgroup_set_limit(g, limit + 1);
    go_errgroup_set_limit(g, -1);
    go_errgroup_free(g);
}

static void limit_body(void) {
    static const int limits[] = {1, 3, 7};
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        limit_run(limits[i], false);
        limit_run(limits[i], true);
    }
}

static void test_limit_bounds_concurrency(void) { AT_PROCS(limit_body, 1, 2, 8); }

static go_chan *gate; /* int, unbuffered: each receive lets one function end */

static int wait_at_gate(go_ctx *ctx, void *arg) {
    go_chan_recv(gate, NULL);
    atomic_fetch_add(&ran, 1);
    return 0;
}

static void try_go_body(void) {
    atomic_store(&ran, 0);
    gate = go_chan_make(sizeof(int), 0);
    go_errgroup *g = go_errgroup_make(NULL);
    go_errgroup_set_limit(g, 2);
    CU_ASSERT_TRUE(go_errgroup_try_go(g, wait_at_gate, NULL));
    CU_ASSERT_TRUE(go_errgroup_try_go(g, wait_at_gate, NULL));
    CU_ASSERT_FALSE(go_errgroup_try_go(g, wait_at_gate, NULL));
    CU_ASSERT_FALSE(go_errgroup_try_go(g, wait_at_gate, NULL));

    int one = 1;
    go_chan_send(gate, &one);
    /* The slot frees once that function has returned. */
    bool started = false;
    YIELD_UNTIL(started || (started = go_errgroup_try_go(g, wait_at_gate, NULL)));
    CU_ASSERT_FALSE(go_errgroup_try_go(g, wait_at_gate, NULL));
    go_chan_close(gate);
    CU_ASSERT_EQUAL(go_errgroup_wait(g), 0);
    CU_ASSERT_EQUAL(atomic_load(&ran), 3);

    /* A limit of zero refuses everything; no limit refuses nothing. */
    go_errgroup_set_limit(g, 0);
    CU_ASSERT_FALSE(go_errgroup_try_go(g, wait_at_gate, NULL));
    go_errgroup_set_limit(g, -1);
    for (int i = 0; i < 10; i++)
        CU_ASSERT_TRUE(go_errgroup_try_go(g, wait_at_gate, NULL));
    CU_ASSERT_EQUAL(go_errgroup_wait(g), 0);
    CU_ASSERT_EQUAL(atomic_load(&ran), 13);
    go_errgroup_free(g);
    go_chan_free(gate);
}

static void test_try_go(void) { AT_PROCS(try_go_body, 1, 2, 8); }

/* Callers parked in go_errgroup_go under a limit of zero start when the
 * limit is lifted. */
static void go_under_zero_limit(void *arg) {
    go_errgroup_go(arg, succeed, NULL);
}

static void test_lifting_limit_releases_callers(void) {
    atomic_store(&ran, 0);
    go_errgroup *g = go_errgroup_make(NULL);
    go_errgroup_set_limit(g, 0);
    for (int i = 0; i < 5; i++)
        go_spawn(go_under_zero_limit, g);
    for (int i = 0; i < 100; i++)
        go_yield();
    CU_ASSERT_EQUAL(atomic_load(&ran), 0);
    go_errgroup_set_limit(g, 2);
    YIELD_UNTIL(atomic_load(&ran) == 5);
    CU_ASSERT_EQUAL(go_errgroup_wait(g), 0);
    go_errgroup_free(g);
}

/* ---- misuse and deadlocks, in child processes ---- */

static go_chan *never;

static int block_forever(go_ctx *ctx, void *arg) {
    go_chan_recv(never, NULL);
    return 0;
}

static void child_modify_limit_while_active(void) {
    never = go_chan_make(0, 0);
    go_errgroup *g = go_errgroup_make(NULL);
    go_errgroup_set_limit(g, 1);
    go_errgroup_go(g, block_forever, NULL);
    go_errgroup_set_limit(g, 2);
}

static void child_wait_deadlock(void) {
    never = go_chan_make(0, 0);
    go_errgroup *g = go_errgroup_make(NULL);
    go_errgroup_go(g, block_forever, NULL);
    go_errgroup_wait(g);
}

static void child_go_deadlock(void) {
    never = go_chan_make(0, 0);
    go_errgroup *g = go_errgroup_make(NULL);
    go_errgroup_set_limit(g, 1);
    go_errgroup_go(g, block_forever, NULL);
    go_errgroup_go(g, block_forever, NULL);
}

static void child_free_while_active(void) {
    never = go_chan_make(0, 0);
    go_errgroup *g = go_errgroup_make(NULL);
    go_errgroup_go(g, block_forever, NULL);
    go_errgroup_free(g);
}

static int wait_for_done(go_ctx *ctx, void *arg) {
    go_chan_recv(go_ctx_done(ctx), NULL);
    return go_ctx_err(ctx);
}

/* main in Wait, the functions on the Done of a context whose deadline is
 * pending: not a deadlock; the first function to see the deadline fails
 * the group with it. */
static void child_wait_for_deadline(void) {
    go_ctx *parent = go_ctx_with_timeout(go_ctx_background(), 30 * GO_MILLISECOND);
    go_errgroup *g = go_errgroup_make(parent);
    for (int i = 0; i < 3; i++)
        go_errgroup_go(g, wait_for_done, NULL);
    int err = go_errgroup_wait(g);
    printf("wait: %s\n", err == GO_EDEADLINE ? "deadline" : "wrong result");
    go_errgroup_free(g);
    go_ctx_release(parent);
}

static bool has_line(const char *output, const char *line) {
    size_t n = strlen(line);
    for (const char *p = output; (p = strstr(p, line)) != NULL; p++)
        if ((p == output || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
            return true;
    return false;
}

static const char *const procs_env[][2] = {
    {"GOMAXPROCS=1", NULL}, {"GOMAXPROCS=2", NULL}, {"GOMAXPROCS=8", NULL}};

/* Run the child at each GOMAXPROCS; expect the status and every line. */
static void expect_child(const char *child, int status, const char *const *lines) {
    for (size_t i = 0; i < sizeof procs_env / sizeof *procs_env; i++) {
        static harness_result r;
        harness_child(child, procs_env[i], 60, &r);
        bool ok = !r.timed_out && r.exited && r.status == status;
        CU_ASSERT_FALSE(r.timed_out);
        CU_ASSERT_TRUE(r.exited);
        CU_ASSERT_EQUAL(r.status, status);
        for (const char *const *l = lines; *l; l++) {
            CU_ASSERT_TRUE(has_line(r.output, *l));
            ok = ok && has_line(r.output, *l);
        }
        if (!ok)
            fprintf(stderr, "\n--- child %s (%s) output ---\n%s\n---\n", child,
                    procs_env[i][0], r.output);
    }
}

static void test_modify_limit_while_active(void) {
    static const char *const lines[] = {
        "panic: errgroup: modify limit while 1 goroutines in the group are still active",
        "goroutine 1 [running]:", NULL};
    expect_child("modify_limit_while_active", 2, lines);
}

static void test_wait_deadlock_report(void) {
    static const char *const lines[] = {
        "fatal error: all goroutines are asleep - deadlock!",
        "goroutine 1 [errgroup.Wait]:", "goroutine 2 [chan receive]:", NULL};
    expect_child("wait_deadlock", 2, lines);
}

static void test_go_deadlock_report(void) {
    static const char *const lines[] = {
        "fatal error: all goroutines are asleep - deadlock!",
        "goroutine 1 [errgroup.Go]:", "goroutine 2 [chan receive]:", NULL};
    expect_child("go_deadlock", 2, lines);
}

static void test_free_while_active(void) {
    static const char *const lines[] = {
        "fatal error: errgroup: free of group with active goroutines", NULL};
    expect_child("free_while_active", 2, lines);
}

static void test_pending_deadline_is_not_deadlock(void) {
    static const char *const lines[] = {"wait: deadline", NULL};
    expect_child("wait_for_deadline", 0, lines);
}

int main(int argc, char **argv) {
    static const harness_case result_cases[] = {
        {"all_succeed", test_all_succeed},
        {"empty_group", test_empty_group},
        {"first_error_wins", test_first_error_wins},
        {"parent_cancel", test_parent_cancel},
        {"pending_deadline_is_not_deadlock", test_pending_deadline_is_not_deadlock},
        {NULL, NULL}};
    static const harness_case limit_cases[] = {
        {"bounds_concurrency", test_limit_bounds_concurrency},
        {"try_go", test_try_go},
        {"lifting_limit_releases_callers", test_lifting_limit_releases_callers},
        {"modify_while_active", test_modify_limit_while_active},
        {NULL, NULL}};
    static const harness_case misuse_cases[] = {
        {"wait_deadlock_report", test_wait_deadlock_report},
        {"go_deadlock_report", test_go_deadlock_report},
        {"free_while_active", test_free_while_active},
        {NULL, NULL}};
    static const harness_suite suites[] = {
        {"results", result_cases},
        {"limit", limit_cases},
        {"misuse", misuse_cases},
        {NULL, NULL}};
    static const harness_child_fn children[] = {
        {"modify_limit_while_active", child_modify_limit_while_active},
        {"wait_deadlock", child_wait_deadlock},
        {"go_deadlock", child_go_deadlock},
        {"free_while_active", child_free_while_active},
        {"wait_for_deadline", child_wait_for_deadline},
        {NULL, NULL}};
    return harness_main(argc, argv, suites, children);
}

/* test_stack.c - goroutine stacks: sizes (go_spawn_stack, go_set_stack_size,
 * GOROUTINE_STACK_SIZE), overflow reports, and a million parked goroutines.
 *
 * A stack is usable when a goroutine can fill it with locals, so the size
 * cases run functions with large arrays and touch every page of them. The
 * overflow cases run in children and expect "fatal error: stack overflow"
 * with exit status 2, for a guarded stack, for one of the unguarded stacks
 * handed out once the guard-page budget is spent (stack.c keeps a quarter of
 * vm.max_map_count for guards, two mappings each), and for frames larger
 * than a guard page. Nothing is timed; the million-goroutine case prints
 * its durations and resident memory per goroutine as information only.
 *
 * GOROUTINE_TEST_SCALE (a factor, default 1) shrinks the big case for slow
 * builds; sanitizer builds start from 100,000 goroutines instead of 10^6. */
#include <goroutine.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rt.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

enum { KIB = 1024, MIB = 1024 * 1024 };

static double test_scale(void) {
    const char *s = getenv("GOROUTINE_TEST_SCALE");
    double v = s && *s ? strtod(s, NULL) : 1.0;
    return v > 0 ? v : 1.0;
}

static bool has_line(const char *output, const char *line) {
    size_t n = strlen(line);
    for (const char *p = output; (p = strstr(p, line)) != NULL; p++)
        if ((p == output || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0)) return true;
    return false;
}

/* A "goroutine N [running]:" header with N > 1. */
static bool has_goroutine_running_header(const char *out) {
    for (const char *p = out; (p = strstr(p, "goroutine ")) != NULL; p++) {
        unsigned long long id;
        int end = 0;
        if ((p == out || p[-1] == '\n') &&
            sscanf(p, "goroutine %llu [running]:%n", &id, &end) == 1 && end > 0 && id > 1)
            return true;
    }
    return false;
}

static void show_on_failure(bool ok, const char *child, const harness_result *r) {
    if (!ok)
        fprintf(stderr, "\n--- child %s: exited=%d status=%d timed_out=%d ---\n%s\n---\n",
                child, r->exited, r->status, r->timed_out, r->output);
}

/* ---- sizes ---- */

/* The usable stack of the running goroutine, from its G. */
static size_t own_stack_size(void) {
    struct rt_g *gp = rt_getg();
    return (size_t)((char *)gp->stack_hi - (char *)gp->stack_lo);
}

/* Fill bytes of locals, one write per page and both ends, and read them
 * back; returns whether all of it held. */
static __attribute__((noinline)) bool use_locals_900k(void) {
    volatile unsigned char buf[900 * KIB];
    for (size_t i = 0; i < sizeof buf; i += 4096) buf[i] = (unsigned char)(i >> 12);
    buf[sizeof buf - 1] = 0xA5;
    bool ok = buf[sizeof buf - 1] == 0xA5;
    for (size_t i = 0; i < sizeof buf; i += 4096) ok = ok && buf[i] == (unsigned char)(i >> 12);
    return ok;
}

struct size_report {
    size_t stack_size;
    bool locals_ok;
};

static go_chan *size_reports;

/* Uses the locals only on a stack big enough for them, so that a wrong
 * size fails the case instead of crashing the suite. */
static void big_locals_worker(void *arg) {
    (void)arg;
    struct size_report r = {own_stack_size(), false};
    if (r.stack_size >= 1 * MIB) r.locals_ok = use_locals_900k();
    go_chan_send(size_reports, &r);
}

static void size_only_worker(void *arg) {
    (void)arg;
    struct size_report r = {own_stack_size(), true};
    go_chan_send(size_reports, &r);
}

static void test_spawn_stack_1mib(void) {
    size_reports = go_chan_make(sizeof(struct size_report), 0);
    struct size_report r;
    for (int i = 0; i < 4; i++) {   /* fresh and reused stacks of that size */
        go_spawn_stack(big_locals_worker, NULL, 1 * MIB);
        go_chan_recv(size_reports, &r);
        CU_ASSERT_TRUE(r.stack_size >= 1 * MIB);
        CU_ASSERT_TRUE(r.locals_ok);
    }
    go_chan_free(size_reports);
}

static void test_spawn_stack_at_least_requested(void) {
    static const size_t sizes[] = {1, 4095, 20000, 64 * KIB + 1, 3 * MIB + 1};
    size_reports = go_chan_make(sizeof(struct size_report), 0);
    size_t deflt = go_set_stack_size(0);
    struct size_report r;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        go_spawn_stack(size_only_worker, NULL, sizes[i]);
        go_chan_recv(size_reports, &r);
        CU_ASSERT_TRUE(r.stack_size >= sizes[i]);
    }
    go_spawn_stack(size_only_worker, NULL, 0);   /* 0: the default */
    go_chan_recv(size_reports, &r);
    CU_ASSERT_TRUE(r.stack_size >= deflt);
    go_chan_free(size_reports);
}

static void test_set_stack_size(void) {
    size_reports = go_chan_make(sizeof(struct size_report), 0);
    size_t deflt = go_set_stack_size(0);
    CU_ASSERT_TRUE(deflt >= 64 * KIB);
    CU_ASSERT_EQUAL(go_set_stack_size(0), deflt);   /* 0 only queries */
    CU_ASSERT_EQUAL(go_set_stack_size(1 * MIB), deflt);
    CU_ASSERT_EQUAL(go_set_stack_size(0), 1 * MIB);
    struct size_report r;
    for (int i = 0; i < 4; i++) {
        go_spawn(big_locals_worker, NULL);
        go_chan_recv(size_reports, &r);
        CU_ASSERT_TRUE(r.stack_size >= 1 * MIB);
        CU_ASSERT_TRUE(r.locals_ok);
    }
    /* go_spawn_copy takes the default size too. */
    char small = 'x';
    go_spawn_copy(big_locals_worker, &small, 1);
    go_chan_recv(size_reports, &r);
    CU_ASSERT_TRUE(r.stack_size >= 1 * MIB);
    CU_ASSERT_TRUE(r.locals_ok);

    CU_ASSERT_EQUAL(go_set_stack_size(deflt), 1 * MIB);
    CU_ASSERT_EQUAL(go_set_stack_size(0), deflt);
    go_spawn(size_only_worker, NULL);
    go_chan_recv(size_reports, &r);
    CU_ASSERT_TRUE(r.stack_size >= deflt);
    CU_ASSERT_TRUE(r.stack_size < 1 * MIB || deflt >= 1 * MIB);
    go_chan_free(size_reports);
}

static void child_print_stack_size(void) {
    size_reports = go_chan_make(sizeof(struct size_report), 0);
    go_spawn(size_only_worker, NULL);
    struct size_report r;
    go_chan_recv(size_reports, &r);
    printf("default=%zu\n", go_set_stack_size(0));
    printf("usable_at_least_default=%d\n", r.stack_size >= go_set_stack_size(0));
}

static void expect_stack_size_env(const char *value, const char *line) {
    char entry[64];
    snprintf(entry, sizeof entry, "GOROUTINE_STACK_SIZE=%s", value);
    const char *const env[] = {entry, NULL};
    static harness_result r;
    harness_child("print_stack_size", env, 60, &r);
    bool ok = r.exited && r.status == 0 && has_line(r.output, line) &&
              has_line(r.output, "usable_at_least_default=1");
    CU_ASSERT_TRUE(ok);
    show_on_failure(ok, entry, &r);
}

static void test_stack_size_env(void) {
    expect_stack_size_env("2m", "default=2097152");
    expect_stack_size_env("2M", "default=2097152");
    expect_stack_size_env("300k", "default=307200");
    expect_stack_size_env("131072", "default=131072");
    static const char *const bad[] = {"12q", "k", "0", "-5m"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char entry[64], message[64];
        snprintf(entry, sizeof entry, "GOROUTINE_STACK_SIZE=%s", bad[i]);
        snprintf(message, sizeof message, "bad GOROUTINE_STACK_SIZE=%s", bad[i]);
        const char *const env[] = {entry, NULL};
        static harness_result r;
        harness_child("print_stack_size", env, 60, &r);
        bool ok = r.exited && r.status == 2 && strstr(r.output, message) &&
                  !strstr(r.output, "default=");
        CU_ASSERT_TRUE(ok);
        show_on_failure(ok, entry, &r);
    }
}

/* ---- overflow ---- */

static volatile int never_true;

static __attribute__((noinline)) int recurse_small(int depth) {
    volatile char frame[256];
    frame[0] = (char)depth;
    if (never_true) return frame[0];
    return recurse_small(depth + 1) + frame[0];
}

/* Frames larger than a guard page; each writes the far end of its frame
 * first, as a function filling a local array from the start would. */
static __attribute__((noinline)) int recurse_large(int depth) {
    volatile char frame[20000];
    frame[0] = (char)depth;
    if (never_true) return frame[0];
    return recurse_large(depth + 1) + frame[0];
}

static void overflow_small(void *arg) {
    (void)arg;
    printf("%d\n", recurse_small(0));
}

static void overflow_large(void *arg) {
    (void)arg;
    printf("%d\n", recurse_large(0));
}

static void overflow_then_report(go_func fn) {
    go_chan *never = go_chan_make(0, 0);
    go_spawn(fn, NULL);
    go_chan_recv(never, NULL);
}

static void child_overflow_guarded(void) { overflow_then_report(overflow_small); }

static void child_overflow_large_frames(void) { overflow_then_report(overflow_large); }

/* Spend the guard budget with parked goroutines first, so the overflowing
 * goroutine's stack is one of the unguarded ones. */
static go_chan *parked_forever;

static void park_forever(void *arg) {
    (void)arg;
    go_chan_recv(parked_forever, NULL);
}

static long guard_budget_plus_margin(void) {
    long max_maps = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max_maps) != 1) max_maps = 65530;
        fclose(f);
    }
    return max_maps / 8 + 2000;
}

static void child_overflow_unguarded(void) {
    long parked = guard_budget_plus_margin();
    parked_forever = go_chan_make(0, 0);
    for (long i = 0; i < parked; i++) go_spawn(park_forever, NULL);
    printf("%ld goroutines parked\n", parked);
    fflush(stdout);
    overflow_then_report(overflow_small);
}

static void expect_overflow(const char *child, const char *first_line) {
    static harness_result r;
    harness_child(child, NULL, 120, &r);
    bool ok = !r.timed_out && r.exited && r.status == 2 &&
              (!first_line || has_line(r.output, first_line)) &&
              has_line(r.output, "fatal error: stack overflow") &&
              has_goroutine_running_header(r.output);
    CU_ASSERT_FALSE(r.timed_out);
    CU_ASSERT_TRUE(r.exited);
    CU_ASSERT_EQUAL(r.status, 2);
    CU_ASSERT_TRUE(has_line(r.output, "fatal error: stack overflow"));
    CU_ASSERT_TRUE(has_goroutine_running_header(r.output));
    show_on_failure(ok, child, &r);
}

static void test_overflow_guarded(void) { expect_overflow("overflow_guarded", NULL); }

static void test_overflow_unguarded(void) {
#if defined(__SANITIZE_ADDRESS__)
    /* ASan's redzones see the run into the neighbouring stack first and
     * report it themselves (stack-buffer-underflow). */
    fprintf(stderr, "(skipped under AddressSanitizer) ");
    return;
#endif
    long parked = guard_budget_plus_margin();
    if (parked > 300000) {
        fprintf(stderr, "(skipped: vm.max_map_count too large to spend the guard budget) ");
        return;
    }
    char line[64];
    snprintf(line, sizeof line, "%ld goroutines parked", parked);
    expect_overflow("overflow_unguarded", line);
}

static void test_overflow_large_frames(void) { expect_overflow("overflow_large_frames", NULL); }

/* ---- a million parked goroutines ---- */

static go_chan *million_shared;
static go_waitgroup million_wg;
static _Atomic long million_started, million_woken;

/* Even goroutines wait on one shared channel, released by a close; odd
 * ones each on their own, released by a send. */
static void million_member(void *arg) {
    go_chan *own = arg;
    atomic_fetch_add_explicit(&million_started, 1, memory_order_relaxed);
    if (own) {
        long v = 0;
        go_chan_recv(own, &v);
        if (v != 1) abort();
    } else {
        go_chan_recv(million_shared, NULL);
    }
    atomic_fetch_add_explicit(&million_woken, 1, memory_order_relaxed);
    go_wg_done(&million_wg);
}

static long rss_bytes(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
    fclose(f);
    return resident * 4096;
}

static bool settle_to_main(void) {
    for (long spins = 0; go_num_goroutine() != 1; spins++) {
        if (spins == 100000000L) return false;
        go_yield();
    }
    return true;
}

static void child_million_parked(void) {
#ifdef TEST_ASAN
    double base = 100000;
#else
    double base = 1000000;
#endif
    long n = (long)(base * test_scale());
    if (n < 1000) n = 1000;
    long nown = n / 2;
    go_chan **own = malloc((size_t)nown * sizeof *own);
    if (!own) abort();
    for (long i = 0; i < nown; i++) own[i] = go_chan_make(sizeof(long), 0);
    million_shared = go_chan_make(0, 0);

    long rss0 = rss_bytes();
    int64_t t0 = go_nanotime();
    go_wg_add(&million_wg, (int)n);
    for (long i = 0; i < n; i++) go_spawn(million_member, i % 2 ? own[i / 2] : NULL);
    size_t live = go_num_goroutine();
    long spins = 0;
    while (atomic_load(&million_started) < n && spins++ < 100000000L) go_yield();
    int64_t t1 = go_nanotime();
    long rss1 = rss_bytes();
    printf("goroutines=%ld live_after_spawn=%zu started=%ld\n", n, live,
           atomic_load(&million_started));
    printf("info: spawn+park %.2f s (%.1f us each), rss %.0f bytes per goroutine\n",
           (double)(t1 - t0) / 1e9, (double)(t1 - t0) / 1e3 / (double)n,
           (double)(rss1 - rss0) / (double)n);
    fflush(stdout);

    go_chan_close(million_shared);
    for (long i = 0; i < nown; i++) {
        long v = 1;
        go_chan_send(own[i], &v);
    }
    go_wg_wait(&million_wg);
    bool settled = settle_to_main();
    int64_t t2 = go_nanotime();
    printf("woken=%ld settled=%d live_after=%zu\n", atomic_load(&million_woken), settled,
           go_num_goroutine());
    printf("info: release and exit %.2f s\n", (double)(t2 - t1) / 1e9);
    for (long i = 0; i < nown; i++) go_chan_free(own[i]);
    free(own);
    go_chan_free(million_shared);
}

static void test_million_parked(void) {
    static harness_result r;
    /* Below CTest's 300 s for the whole suite, so that a slow run fails
     * here, with the child's output, rather than by CTest's kill. */
    harness_child("million_parked", NULL, 280, &r);
    long n = -1, started = -2, woken = -3;
    size_t live = 0, live_after = 99;
    int settled = 0;
    const char *p = strstr(r.output, "goroutines=");
    const char *q = strstr(r.output, "woken=");
    if (p) sscanf(p, "goroutines=%ld live_after_spawn=%zu started=%ld", &n, &live, &started);
    if (q) sscanf(q, "woken=%ld settled=%d live_after=%zu", &woken, &settled, &live_after);
    bool ok = !r.timed_out && r.exited && r.status == 0 && n > 0;
    CU_ASSERT_FALSE(r.timed_out);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(live, (size_t)n + 1);
    CU_ASSERT_EQUAL(started, n);
    CU_ASSERT_EQUAL(woken, n);
    CU_ASSERT_EQUAL(settled, 1);
    CU_ASSERT_EQUAL(live_after, 1);
    ok = ok && live == (size_t)n + 1 && started == n && woken == n && settled && live_after == 1;
    show_on_failure(ok, "million_parked", &r);
    /* The durations and memory are information, not assertions. */
    for (const char *line = r.output; (line = strstr(line, "info: ")) != NULL; line++) {
        const char *end = strchr(line, '\n');
        fprintf(stderr, "\n    %.*s", (int)(end ? end - line : (long)strlen(line)), line);
    }
    fprintf(stderr, "\n    ");
}

int main(int argc, char **argv) {
    /* Children get it only from the cases' own environments (harness_child
     * appends to ours, and getenv finds the first). */
    unsetenv("GOROUTINE_STACK_SIZE");
    static const harness_case size_cases[] = {
        {"go_spawn_stack 1 MiB holds 900 KiB of locals", test_spawn_stack_1mib},
        {"go_spawn_stack gives at least the size asked", test_spawn_stack_at_least_requested},
        {"go_set_stack_size sets the default", test_set_stack_size},
        {"GOROUTINE_STACK_SIZE", test_stack_size_env},
        {NULL, NULL}};
    static const harness_case overflow_cases[] = {
        {"guarded stack", test_overflow_guarded},
        {"unguarded stack (guard budget spent)", test_overflow_unguarded},
        {"frames larger than a guard page", test_overflow_large_frames},
        {NULL, NULL}};
    static const harness_case parked_cases[] = {
        {"a million parked goroutines", test_million_parked},
        {NULL, NULL}};
    static const harness_suite suites[] = {
        {"stack sizes", size_cases},
        {"stack overflow", overflow_cases},
        {"parked goroutines", parked_cases},
        {NULL, NULL}};
    static const harness_child_fn children[] = {
        {"print_stack_size", child_print_stack_size},
        {"overflow_guarded", child_overflow_guarded},
        {"overflow_unguarded", child_overflow_unguarded},
        {"overflow_large_frames", child_overflow_large_frames},
        {"million_parked", child_million_parked},
        {NULL, NULL}};
    return harness_main(argc, argv, suites, children);
}

/* test_timer.c - go_sleep, one-shot timers and tickers, and how pending
 * timers weigh in the global-deadlock verdict.
 *
 * Time only ever appears as a lower bound the runtime guarantees (a sleep
 * lasts at least its duration; a timer's value is at least its creation
 * time plus its duration), never as "this was fast". Where the outcome of
 * a stop or reset depends on whether the timer had fired yet, both
 * outcomes are checked for consistency (stopped: nothing is ever
 * delivered; already fired: exactly one value is) and the clock is only
 * used to demand the pending outcome when the call provably returned
 * before the deadline. Cases about delivery after a stop run at
 * GOMAXPROCS 1, where no timer can fire concurrently with the caller.
 * Cases whose outcome is a process exit (deadlock reports) run in a child. */
#include <goroutine.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "probes.h"
#include "rt.h"

enum { SPIN_LIMIT = 20000000 };

/* ---- helpers ---- */

static int64_t recv_time(go_timer *t) {
    int64_t v = 0;
    go_chan_recv(go_timer_chan(t), &v);
    return v;
}

/* Block until a fresh timer of ns has fired: the "later" marker that gives
 * anything wrongly still pending the chance to show itself. */
static void wait_marker(int64_t ns) {
    go_timer *marker = go_timer_make(ns);
    recv_time(marker);
    go_timer_free(marker);
}

static bool has_line(const char *output, const char *line) {
    size_t n = strlen(line);
    for (const char *p = output; (p = strstr(p, line)) != NULL; p++)
        if ((p == output || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0)) return true;
    return false;
}

static void show_on_failure(bool ok, const char *child, const harness_result *r) {
    if (!ok)
        fprintf(stderr, "\n--- child %s: exited=%d status=%d timed_out=%d ---\n%s\n---\n",
                child, r->exited, r->status, r->timed_out, r->output);
}

static void expect_child(const char *child, const char *const *env, int status,
                         const char *const *lines) {
    static harness_result r;
    harness_child(child, env, 60, &r);
    bool ok = !r.timed_out && r.exited && r.status == status;
    CU_ASSERT_FALSE(r.timed_out);
    CU_ASSERT_TRUE(r.exited);
    CU_ASSERT_EQUAL(r.status, status);
    for (const char *const *l = lines; l && *l; l++) {
        bool found = has_line(r.output, *l);
        CU_ASSERT_TRUE(found);
        if (!found) fprintf(stderr, "\nmissing line: %s\n", *l);
        ok = ok && found;
    }
    /* One report, from one thread. */
    int reports = 0;
    for (const char *p = r.output; (p = strstr(p, "fatal error:")) != NULL; p++) reports++;
    CU_ASSERT_TRUE(reports <= 1);
    if (reports > 1) fprintf(stderr, "\n%d reports\n", reports);
    ok = ok && reports <= 1;
    show_on_failure(ok, child, &r);
}

/* ---- go_sleep ---- */

struct sleep_msg {
    char tag;
    int64_t slept;
};

struct sleeper {
    char tag;
    int64_t ns;
};

static go_chan *sleep_msgs;

static void tagged_sleeper(void *arg) {
    const struct sleeper *s = arg;
    int64_t before = go_nanotime();
    go_sleep(s->ns);
    struct sleep_msg m = {s->tag, go_nanotime() - before};
    go_chan_send(sleep_msgs, &m);
}

/* The long sleeper starts first, so the short one can only win by waking
 * first. The margin is wide (1 ms against 250 ms) because a scheduler
 * stall as long as the difference would let the long one's timer come due
 * in the same pass, and the order then depends on run-queue order. */
static void sleep_order_body(void) {
    static const struct sleeper slow = {'L', 250 * GO_MILLISECOND};
    static const struct sleeper fast = {'S', 1 * GO_MILLISECOND};
    sleep_msgs = go_chan_make(sizeof(struct sleep_msg), 0);
    go_spawn(tagged_sleeper, (void *)&slow);
    go_spawn(tagged_sleeper, (void *)&fast);
    struct sleep_msg first, second;
    go_chan_recv(sleep_msgs, &first);
    go_chan_recv(sleep_msgs, &second);
    CU_ASSERT_EQUAL(first.tag, 'S');
    CU_ASSERT_EQUAL(second.tag, 'L');
    CU_ASSERT_TRUE((first.tag == 'S' ? first : second).slept >= fast.ns);
    CU_ASSERT_TRUE((first.tag == 'L' ? first : second).slept >= slow.ns);
    go_chan_free(sleep_msgs);
}

static void test_sleep_order(void) { AT_PROCS(sleep_order_body, 1, 2); }

static void test_sleep_at_least(void) {
    static const int64_t durations[] = {1, GO_MICROSECOND, 50 * GO_MICROSECOND,
                                        GO_MILLISECOND, 5 * GO_MILLISECOND};
    for (size_t i = 0; i < sizeof durations / sizeof *durations; i++) {
        int64_t before = go_nanotime();
        go_sleep(durations[i]);
        CU_ASSERT_TRUE(go_nanotime() - before >= durations[i]);
    }
    go_sleep(0);    /* return at once */
    go_sleep(-GO_SECOND);
}

/* Many goroutines sleeping at once, on every P: each sleeps at least its
 * duration, and every one wakes. */
enum { SLEEPERS = 200 };
static _Atomic int sleep_short;
static go_chan *sleep_done;

static void varied_sleeper(void *arg) {
    int64_t ns = (int64_t)(intptr_t)arg;
    for (int i = 0; i < 5; i++) {
        int64_t before = go_nanotime();
        go_sleep(ns);
        if (go_nanotime() - before < ns) atomic_fetch_add(&sleep_short, 1);
    }
    go_chan_send(sleep_done, NULL);
}

static void many_sleepers_body(void) {
    sleep_done = go_chan_make(0, SLEEPERS);
    atomic_store(&sleep_short, 0);
    for (int i = 0; i < SLEEPERS; i++)
        go_spawn(varied_sleeper, (void *)(intptr_t)((i * 7919 % 2000 + 1) * GO_MICROSECOND));
    for (int i = 0; i < SLEEPERS; i++) go_chan_recv(sleep_done, NULL);
    CU_ASSERT_EQUAL(atomic_load(&sleep_short), 0);
    go_chan_free(sleep_done);
}

static void test_many_sleepers(void) { AT_PROCS(many_sleepers_body, 1, 2, 8); }

/* At GOMAXPROCS 1 a sleeping goroutine gives its thread away: the worker
 * spawned before main sleeps runs during that sleep, so it has counted at
 * least once by the time main wakes (were the thread asleep, the worker
 * would first run after main set stop, and count nothing). */
static _Atomic int progress_stop;
static _Atomic long progress_count;
static go_chan *progress_done;

static void progress_worker(void *arg) {
    (void)arg;
    while (!atomic_load(&progress_stop)) {
        atomic_fetch_add(&progress_count, 1);
        go_yield();
    }
    go_chan_send(progress_done, NULL);
}

static void test_sleep_parks_goroutine(void) {
    int saved = go_maxprocs(1);
    progress_done = go_chan_make(0, 0);
    atomic_store(&progress_stop, 0);
    atomic_store(&progress_count, 0);
    go_spawn(progress_worker, NULL);
    go_sleep(20 * GO_MILLISECOND);
    long during = atomic_load(&progress_count);
    atomic_store(&progress_stop, 1);
    go_chan_recv(progress_done, NULL);
    CU_ASSERT_TRUE(during >= 1);
    go_chan_free(progress_done);
    go_maxprocs(saved);

    static const char *const env[] = {"GOMAXPROCS=1", NULL};
    static const char *const lines[] = {"10000 round trips while one goroutine sleeps", NULL};
    expect_child("work_while_sleeping", env, 0, lines);
}

static go_chan *pp_ping, *pp_pong;

static void pong_worker(void *arg) {
    long n = (long)(intptr_t)arg;
    for (long i = 0; i < n; i++) {
        long v;
        go_chan_recv(pp_ping, &v);
        v++;
        go_chan_send(pp_pong, &v);
    }
}

static void hour_sleeper(void *arg) {
    (void)arg;
    go_sleep(3600 * GO_SECOND);
}

/* One goroutine sleeps for an hour at GOMAXPROCS 1; the rest of the
 * program runs to completion around it and main's return ends it. */
static void child_work_while_sleeping(void) {
    if (go_maxprocs(0) != 1) abort();
    uint64_t sleeper = go_spawn(hour_sleeper, NULL);
    if (!yield_until_parked(sleeper, WAIT_SLEEP)) abort();
    pp_ping = go_chan_make(sizeof(long), 0);
    pp_pong = go_chan_make(sizeof(long), 0);
    go_spawn(pong_worker, (void *)(intptr_t)10000);
    long v = 0;
    for (int i = 0; i < 10000; i++) {
        go_chan_send(pp_ping, &v);
        go_chan_recv(pp_pong, &v);
    }
    if (!is_parked(sleeper, WAIT_SLEEP)) abort();
    printf("%ld round trips while one goroutine sleeps\n", v);
}

/* ---- one-shot timers ---- */

static void test_timer_value(void) {
    static const int64_t durations[] = {0, 1, GO_MICROSECOND, GO_MILLISECOND,
                                        5 * GO_MILLISECOND, -GO_SECOND};
    for (size_t i = 0; i < sizeof durations / sizeof *durations; i++) {
        int64_t before = go_nanotime();
        go_timer *t = go_timer_make(durations[i]);
        int64_t fired = recv_time(t);
        int64_t after = go_nanotime();
        CU_ASSERT_TRUE(fired >= before + (durations[i] > 0 ? durations[i] : 0));
        CU_ASSERT_TRUE(fired <= after);
        go_timer_free(t);
    }
}

static void test_timer_stop_pending(void) {
    int saved = go_maxprocs(1);
    /* An hour away: certainly pending. */
    go_timer *t = go_timer_make(3600 * GO_SECOND);
    CU_ASSERT_TRUE(go_timer_stop(t));
    CU_ASSERT_FALSE(go_timer_stop(t));   /* no longer pending */
    wait_marker(2 * GO_MILLISECOND);
    CU_ASSERT_EQUAL(go_chan_len(go_timer_chan(t)), 0);
    go_timer_free(t);

    /* 20 ms away, then a marker well past that deadline. */
    for (int i = 0; i < 5; i++) {
        int64_t before = go_nanotime();
        t = go_timer_make(20 * GO_MILLISECOND);
        bool stopped = go_timer_stop(t);
        int64_t after_stop = go_nanotime();
        if (after_stop < before + 20 * GO_MILLISECOND) CU_ASSERT_TRUE(stopped);
        wait_marker(40 * GO_MILLISECOND);
        CU_ASSERT_EQUAL(go_chan_len(go_timer_chan(t)), stopped ? 0 : 1);
        go_timer_free(t);
    }
    go_maxprocs(saved);
}

static void test_timer_stop_after_fire(void) {
    int saved = go_maxprocs(1);
    go_timer *t = go_timer_make(GO_MILLISECOND);
    recv_time(t);
    CU_ASSERT_FALSE(go_timer_stop(t));
    CU_ASSERT_FALSE(go_timer_stop(t));
    go_timer_free(t);

    /* Fired but not read: stop still says it was no longer pending, and
     * the value stays for the reader. */
    t = go_timer_make(0);
    wait_marker(GO_MILLISECOND);
    CU_ASSERT_FALSE(go_timer_stop(t));
    CU_ASSERT_EQUAL(go_chan_len(go_timer_chan(t)), 1);
    go_timer_free(t);
    go_maxprocs(saved);
}

static void test_timer_reset(void) {
    int saved = go_maxprocs(1);
    go_timer *t = go_timer_make(3600 * GO_SECOND);
    int64_t before = go_nanotime();
    CU_ASSERT_TRUE(go_timer_reset(t, 2 * GO_MILLISECOND));   /* was pending */
    CU_ASSERT_TRUE(recv_time(t) >= before + 2 * GO_MILLISECOND);

    before = go_nanotime();
    CU_ASSERT_FALSE(go_timer_reset(t, GO_MILLISECOND));      /* had fired */
    CU_ASSERT_TRUE(recv_time(t) >= before + GO_MILLISECOND);

    CU_ASSERT_FALSE(go_timer_reset(t, 3600 * GO_SECOND));
    CU_ASSERT_TRUE(go_timer_stop(t));
    before = go_nanotime();
    CU_ASSERT_FALSE(go_timer_reset(t, 0));                   /* was stopped */
    CU_ASSERT_TRUE(recv_time(t) >= before);

    /* Pushed back from 20 ms to an hour: nothing comes at 20 ms. */
    before = go_nanotime();
    CU_ASSERT_FALSE(go_timer_reset(t, 20 * GO_MILLISECOND));
    bool pending = go_timer_reset(t, 3600 * GO_SECOND);
    if (go_nanotime() < before + 20 * GO_MILLISECOND) CU_ASSERT_TRUE(pending);
    wait_marker(40 * GO_MILLISECOND);
    CU_ASSERT_EQUAL(go_chan_len(go_timer_chan(t)), pending ? 0 : 1);
    go_timer_free(t);
    go_maxprocs(saved);
}

/* ---- tickers ---- */

static void test_ticker(void) {
    int saved = go_maxprocs(1);
    const int64_t period = GO_MILLISECOND;
    int64_t created = go_nanotime();
    go_timer *tk = go_ticker_make(period);
    int64_t prev = recv_time(tk);
    CU_ASSERT_TRUE(prev >= created + period);
    for (int i = 0; i < 20; i++) {
        int64_t v = recv_time(tk);
        CU_ASSERT_TRUE(v > prev);
        prev = v;
    }

    /* A new period takes effect. */
    int64_t before = go_nanotime();
    CU_ASSERT_TRUE(go_timer_reset(tk, 3 * GO_MILLISECOND));
    go_chan_recv(go_timer_chan(tk), NULL);          /* maybe a tick from before */
    int64_t a = recv_time(tk), b = recv_time(tk);
    CU_ASSERT_TRUE(a >= before + 3 * GO_MILLISECOND);
    CU_ASSERT_TRUE(b >= a);

    /* A ticker is pending until stopped; after that it delivers nothing
     * (at GOMAXPROCS 1 no tick can be in flight). */
    CU_ASSERT_TRUE(go_timer_stop(tk));
    CU_ASSERT_FALSE(go_timer_stop(tk));
    int64_t stopped_at = go_nanotime();
    if (go_chan_len(go_timer_chan(tk)) == 1) CU_ASSERT_TRUE(recv_time(tk) <= stopped_at);
    wait_marker(10 * period);
    CU_ASSERT_EQUAL(go_chan_len(go_timer_chan(tk)), 0);
    go_timer_free(tk);
    go_maxprocs(saved);
}

/* A reader that falls behind still gets ticks, in order (missed ones are
 * dropped, not queued). */
static void test_ticker_slow_reader(void) {
    go_timer *tk = go_ticker_make(GO_MILLISECOND);
    wait_marker(20 * GO_MILLISECOND);
    int64_t first = recv_time(tk), second = recv_time(tk);
    CU_ASSERT_TRUE(second > first);
    go_timer_free(tk);
}

static void child_ticker_zero(void) {
    go_ticker_make(0);
    printf("made a ticker of period 0\n");
}

static void test_ticker_zero_panics(void) {
    static harness_result r;
    harness_child("ticker_zero", NULL, 60, &r);
    bool ok = r.exited && r.status == 2 && strstr(r.output, "panic: non-positive interval") &&
              !strstr(r.output, "made a ticker");
    CU_ASSERT_TRUE(ok);
    show_on_failure(ok, "ticker_zero", &r);
}

/* ---- many timers ---- */

static int64_t spread_duration(int i) { return (int64_t)(i * 7919 % 50) * 100 * GO_MICROSECOND; }

/* Every timer delivers exactly once: one value each, none after a marker
 * later than all their deadlines. */
static void ten_thousand_body(void) {
    enum { N = 10000 };
    static go_timer *timers[N];
    static int64_t created[N];
    for (int i = 0; i < N; i++) {
        created[i] = go_nanotime();
        timers[i] = go_timer_make(spread_duration(i));
    }
    int early = 0;
    for (int i = 0; i < N; i++) early += recv_time(timers[i]) < created[i] + spread_duration(i);
    CU_ASSERT_EQUAL(early, 0);
    wait_marker(10 * GO_MILLISECOND);
    int again = 0, still_pending = 0;
    for (int i = 0; i < N; i++) {
        again += go_chan_len(go_timer_chan(timers[i])) != 0;
        still_pending += go_timer_stop(timers[i]);
        go_timer_free(timers[i]);
    }
    CU_ASSERT_EQUAL(again, 0);
    CU_ASSERT_EQUAL(still_pending, 0);
}

static void test_ten_thousand_timers(void) { AT_PROCS(ten_thousand_body, 1, 2); }

/* Timers started by goroutines spread over the Ps, each waited for by its
 * own goroutine. */
enum { STARTERS = 64, PER_STARTER = 100 };
static _Atomic int many_early, many_again, many_received;
static go_chan *many_done;

static void timer_starter(void *arg) {
    int seed = (int)(intptr_t)arg;
    go_timer *timers[PER_STARTER];
    int64_t created[PER_STARTER];
    for (int i = 0; i < PER_STARTER; i++) {
        created[i] = go_nanotime();
        timers[i] = go_timer_make(spread_duration(seed * PER_STARTER + i) / 2);
        if (i % 10 == 0) go_yield();   /* move between Ps meanwhile */
    }
    for (int i = 0; i < PER_STARTER; i++) {
        int64_t v = recv_time(timers[i]);
        if (v < created[i] + spread_duration(seed * PER_STARTER + i) / 2)
            atomic_fetch_add(&many_early, 1);
        atomic_fetch_add(&many_received, 1);
    }
    wait_marker(5 * GO_MILLISECOND);
    for (int i = 0; i < PER_STARTER; i++) {
        if (go_chan_len(go_timer_chan(timers[i])) != 0) atomic_fetch_add(&many_again, 1);
        go_timer_free(timers[i]);
    }
    go_chan_send(many_done, NULL);
}

static void many_starters_body(void) {
    atomic_store(&many_early, 0);
    atomic_store(&many_again, 0);
    atomic_store(&many_received, 0);
    many_done = go_chan_make(0, STARTERS);
    for (int i = 0; i < STARTERS; i++) go_spawn(timer_starter, (void *)(intptr_t)i);
    for (int i = 0; i < STARTERS; i++) go_chan_recv(many_done, NULL);
    CU_ASSERT_EQUAL(atomic_load(&many_received), STARTERS * PER_STARTER);
    CU_ASSERT_EQUAL(atomic_load(&many_early), 0);
    CU_ASSERT_EQUAL(atomic_load(&many_again), 0);
    go_chan_free(many_done);
}

static void test_timers_from_many_goroutines(void) {
    AT_PROCS(many_starters_body, 1, 2, 8);
}

/* Goroutines on different Ps race to stop the same timers: each pending
 * timer is stopped exactly once. */
enum { STOPPERS = 8, STOP_TIMERS = 1000 };
static go_timer *race_timers[STOP_TIMERS];
static _Atomic int stops_won;
static go_chan *stoppers_done;

static void stopper(void *arg) {
    int me = (int)(intptr_t)arg;
    for (int k = 0; k < STOP_TIMERS; k++) {
        int i = (k + me * (STOP_TIMERS / STOPPERS)) % STOP_TIMERS;
        if (go_timer_stop(race_timers[i])) atomic_fetch_add(&stops_won, 1);
    }
    go_chan_send(stoppers_done, NULL);
}

static void concurrent_stop_body(void) {
    atomic_store(&stops_won, 0);
    stoppers_done = go_chan_make(0, STOPPERS);
    for (int i = 0; i < STOP_TIMERS; i++) race_timers[i] = go_timer_make(3600 * GO_SECOND);
    for (int i = 0; i < STOPPERS; i++) go_spawn(stopper, (void *)(intptr_t)i);
    for (int i = 0; i < STOPPERS; i++) go_chan_recv(stoppers_done, NULL);
    CU_ASSERT_EQUAL(atomic_load(&stops_won), STOP_TIMERS);
    for (int i = 0; i < STOP_TIMERS; i++) go_timer_free(race_timers[i]);
    go_chan_free(stoppers_done);
}

static void test_concurrent_stop(void) { AT_PROCS(concurrent_stop_body, 1, 2, 8); }

/* ---- go_timer_free ---- */

enum { FREERS = 16, FREE_EACH = 200 };
static go_chan *free_done;

/* Frees timers that are due about now, so that some are freed while
 * firing on another P. */
static void racing_freer(void *arg) {
    int seed = (int)(intptr_t)arg;
    go_timer *timers[FREE_EACH];
    for (int i = 0; i < FREE_EACH; i++)
        timers[i] = i % 3 ? go_timer_make((seed + i) % 5 * 20 * GO_MICROSECOND)
                          : go_ticker_make(((seed + i) % 5 + 1) * 20 * GO_MICROSECOND);
    for (int i = 0; i < FREE_EACH; i++) {
        if (i % 7 == 0) go_yield();
        go_timer_free(timers[i]);
    }
    go_chan_send(free_done, NULL);
}

static void free_body(void) {
    free_done = go_chan_make(0, FREERS);
    for (int i = 0; i < FREERS; i++) go_spawn(racing_freer, (void *)(intptr_t)i);
    for (int i = 0; i < FREERS; i++) go_chan_recv(free_done, NULL);
    wait_marker(2 * GO_MILLISECOND);
    go_chan_free(free_done);
}

static void test_timer_free(void) {
    go_timer_free(NULL);
    /* Pending ones: never fire afterwards (a sanitizer build would see a
     * use after free). */
    for (int i = 0; i < 1000; i++) go_timer_free(go_timer_make(i % 2 ? GO_MILLISECOND : 3600 * GO_SECOND));
    go_timer_free(go_ticker_make(GO_MILLISECOND));
    wait_marker(5 * GO_MILLISECOND);
    AT_PROCS(free_body, 1, 2, 8);
}

/* ---- timers and the deadlock verdict ---- */

static go_chan *never, *done;

static void timer_waiter(void *arg) {
    go_timer *t = arg;
    int64_t v = recv_time(t);
    printf("timer delivered %s\n", v > 0 ? "a time" : "zero");
    go_chan_send(done, NULL);
}

/* Every goroutine blocked, but the timer has a receiver: not a deadlock. */
static void child_timer_wakes_goroutine(void) {
    done = go_chan_make(0, 0);
    go_spawn(timer_waiter, go_timer_make(30 * GO_MILLISECOND));
    go_chan_recv(done, NULL);
    printf("main woke\n");
}

static void child_timer_wakes_main(void) {
    go_timer *t = go_timer_make(30 * GO_MILLISECOND);
    recv_time(t);
    printf("main woke\n");
}

static void child_timer_wakes_select(void) {
    never = go_chan_make(0, 0);
    go_timer *t = go_timer_make(30 * GO_MILLISECOND);
    go_case cases[] = {{never, GO_RECV, NULL, false}, {go_timer_chan(t), GO_RECV, NULL, false}};
    printf("select chose %d\n", go_select(cases, 2));
}

static void child_ticker_wakes_main(void) {
    go_timer *tk = go_ticker_make(5 * GO_MILLISECOND);
    for (int i = 0; i < 3; i++) recv_time(tk);
    printf("main woke\n");
}

static void delayed_sender(void *arg) {
    (void)arg;
    go_sleep(30 * GO_MILLISECOND);
    go_chan_send(done, NULL);
}

static void child_sleeper_wakes_main(void) {
    done = go_chan_make(0, 0);
    go_spawn(delayed_sender, NULL);
    go_chan_recv(done, NULL);
    printf("main woke\n");
}

static void test_pending_timer_not_deadlock(void) {
    static const char *const goroutine_lines[] = {"timer delivered a time", "main woke", NULL};
    static const char *const main_lines[] = {"main woke", NULL};
    static const char *const select_lines[] = {"select chose 1", NULL};
    static const char *const env1[] = {"GOMAXPROCS=1", NULL};
    static const char *const env4[] = {"GOMAXPROCS=4", NULL};
    const char *const *envs[] = {NULL, env1, env4};
    for (int i = 0; i < 3; i++) {
        expect_child("timer_wakes_goroutine", envs[i], 0, goroutine_lines);
        expect_child("timer_wakes_main", envs[i], 0, main_lines);
        expect_child("timer_wakes_select", envs[i], 0, select_lines);
        expect_child("ticker_wakes_main", envs[i], 0, main_lines);
        expect_child("sleeper_wakes_main", envs[i], 0, main_lines);
    }
}

/* Timers nobody can be woken by do not hide a deadlock. */
static void child_useless_timers(void) {
    never = go_chan_make(0, 0);
    go_timer *unread = go_timer_make(3600 * GO_SECOND);
    go_timer *ticker = go_ticker_make(GO_MILLISECOND);
    (void)unread;
    (void)ticker;
    go_chan_recv(never, NULL);
}

/* A goroutine waiting on a stopped timer's channel waits forever. */
static void child_stopped_timer(void) {
    go_timer *t = go_timer_make(3600 * GO_SECOND);
    go_timer_stop(t);
    recv_time(t);
}

/* Deadlocked only once the timer has delivered. */
static void waiter_then_stuck(void *arg) {
    recv_time(arg);
    printf("timer delivered\n");
    fflush(stdout);
    go_chan_recv(never, NULL);
}

static void child_deadlock_after_timer(void) {
    never = go_chan_make(0, 0);
    done = go_chan_make(0, 0);
    go_spawn(waiter_then_stuck, go_timer_make(20 * GO_MILLISECOND));
    go_chan_recv(done, NULL);
}

static void test_useless_timer_deadlock(void) {
    static const char *const useless[] = {
        "fatal error: all goroutines are asleep - deadlock!",
        "goroutine 1 [chan receive]:", NULL};
    static const char *const after[] = {
        "timer delivered", "fatal error: all goroutines are asleep - deadlock!",
        "goroutine 1 [chan receive]:", NULL};
    static const char *const env1[] = {"GOMAXPROCS=1", NULL};
    static const char *const env4[] = {"GOMAXPROCS=4", NULL};
    const char *const *envs[] = {NULL, env1, env4};
    for (int i = 0; i < 3; i++) {
        expect_child("useless_timers", envs[i], 2, useless);
        expect_child("stopped_timer", envs[i], 2, useless);
        expect_child("deadlock_after_timer", envs[i], 2, after);
    }
}

int main(int argc, char **argv) {
    /* Children get GOMAXPROCS only from the cases' own environments
     * (harness_child appends to ours, and getenv finds the first). */
    unsetenv("GOMAXPROCS");
    static const harness_case sleep_cases[] = {
        {"1 ms sleeper wakes before 250 ms one", test_sleep_order},
        {"sleeps last at least their duration", test_sleep_at_least},
        {"many sleepers on every P", test_many_sleepers},
        {"sleep parks the goroutine, not the thread", test_sleep_parks_goroutine},
        {NULL, NULL}};
    static const harness_case timer_cases[] = {
        {"value is the fire time, after the deadline", test_timer_value},
        {"stop before firing: true, nothing delivered", test_timer_stop_pending},
        {"stop after firing: false", test_timer_stop_after_fire},
        {"reset", test_timer_reset},
        {"ticker delivers repeatedly and stops", test_ticker},
        {"ticker with a slow reader drops ticks", test_ticker_slow_reader},
        {"ticker of period 0 panics", test_ticker_zero_panics},
        {"10,000 timers fire exactly once", test_ten_thousand_timers},
        {"timers from many goroutines on every P", test_timers_from_many_goroutines},
        {"concurrent stops: one winner per timer", test_concurrent_stop},
        {"go_timer_free of pending and firing timers", test_timer_free},
        {NULL, NULL}};
    static const harness_case deadlock_cases[] = {
        {"a pending timer someone waits on is no deadlock", test_pending_timer_not_deadlock},
        {"useless timers do not hide a deadlock", test_useless_timer_deadlock},
        {NULL, NULL}};
    static const harness_suite suites[] = {
        {"sleep", sleep_cases},
        {"timers", timer_cases},
        {"deadlock", deadlock_cases},
        {NULL, NULL}};
    static const harness_child_fn children[] = {
        {"work_while_sleeping", child_work_while_sleeping},
        {"ticker_zero", child_ticker_zero},
        {"timer_wakes_goroutine", child_timer_wakes_goroutine},
        {"timer_wakes_main", child_timer_wakes_main},
        {"timer_wakes_select", child_timer_wakes_select},
        {"ticker_wakes_main", child_ticker_wakes_main},
        {"sleeper_wakes_main", child_sleeper_wakes_main},
        {"useless_timers", child_useless_timers},
        {"stopped_timer", child_stopped_timer},
        {"deadlock_after_timer", child_deadlock_after_timer},
        {NULL, NULL}};
    return harness_main(argc, argv, suites, children);
}

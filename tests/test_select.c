/* test_select.c - go_select and go_select_nb: readiness, default, fairness,
 * duplicate channels, mixed directions, close, many cases, misuse, and
 * stress with checksums.
 *
 * As in test_chan.c, "goroutine X is blocked" is established by yielding
 * until its waiter shows up in a channel's queue (runtime internals), never
 * by sleeping. Fairness bounds are many standard deviations wide. */
#include <goroutine.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "probes.h"

/* ---- helpers ---- */

static void join(go_chan *done, int n) {
    for (int i = 0; i < n; i++)
        go_chan_recv(done, NULL);
}

static void expect_exit(const char *child, int status, const char *line,
                        harness_result *r) {
    harness_child(child, NULL, 30, r);
    CU_ASSERT_FALSE(r->timed_out);
    CU_ASSERT_TRUE(r->exited);
    CU_ASSERT_EQUAL(r->status, status);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->output, line));
    if (!r->exited || r->status != status || !strstr(r->output, line))
        fprintf(stderr, "\n--- child %s output ---\n%s\n---\n", child, r->output);
}

static bool has_running_goroutine_line(const char *out) {
    for (const char *p = out; (p = strstr(p, "goroutine ")) != NULL; p++) {
        unsigned long id;
        int end = 0;
        if (sscanf(p, "goroutine %lu [running]:%n", &id, &end) == 1 && end > 0 && id > 0)
            return true;
    }
    return false;
}

enum { SENTINEL = 0x5a5a5a5a };

/* A goroutine that runs one blocking select and reports the result. */
struct selector {
    go_case cases[4];
    size_t n;
    int chosen;
    go_chan *done;
};

static void run_selector(void *arg) {
    struct selector *s = arg;
    s->chosen = go_select(s->cases, s->n);
    go_chan_send(s->done, NULL);
}

/* ---- readiness and default ---- */

static void test_ready_case(void) {
    go_chan *a = go_chan_make(sizeof(int), 1), *b = go_chan_make(sizeof(int), 1);
    int five = 5, x = SENTINEL, y = SENTINEL;
    go_chan_send(b, &five);
    go_case cases[] = {{a, GO_RECV, &x, false}, {b, GO_RECV, &y, false}};
    CU_ASSERT_EQUAL(go_select(cases, 2), 1);
    CU_ASSERT_EQUAL(y, 5);
    CU_ASSERT_TRUE(cases[1].ok);
    CU_ASSERT_EQUAL(x, SENTINEL);
    CU_ASSERT_FALSE(cases[0].ok);

    /* A send case on a channel with room. */
    y = SENTINEL;
    go_case mixed[] = {{a, GO_SEND, &five, false}, {b, GO_RECV, &y, false}};
    CU_ASSERT_EQUAL(go_select_nb(mixed, 2), 0);
    CU_ASSERT_EQUAL(go_chan_len(a), 1);
    CU_ASSERT_EQUAL(y, SENTINEL);
    CU_ASSERT_EQUAL(go_select_nb(mixed, 2), -1); /* a full, b empty */
    go_chan_free(a);
    go_chan_free(b);
}

static void test_default(void) {
    go_chan *u = go_chan_make(sizeof(int), 0), *b = go_chan_make(sizeof(int), 1);
    int x = SENTINEL, y = SENTINEL, one = 1;
    go_chan_send(b, &one);
    go_case cases[] = {{u, GO_RECV, &x, false}, {u, GO_SEND, &one, false},
                       {b, GO_SEND, &y, false}, {NULL, GO_RECV, &x, false}};
    CU_ASSERT_EQUAL(go_select_nb(cases, 4), -1);
    CU_ASSERT_EQUAL(x, SENTINEL);
    CU_ASSERT_EQUAL(go_select_nb(NULL, 0), -1);
    go_case nils[] = {{NULL, GO_RECV, &x, false}, {NULL, GO_SEND, &y, false}};
    CU_ASSERT_EQUAL(go_select_nb(nils, 2), -1);
    CU_ASSERT_EQUAL(go_select_nb(nils, 1), -1);
    /* One case: the non-blocking channel operation. */
    CU_ASSERT_EQUAL(go_select_nb(&cases[0], 1), -1);
    CU_ASSERT_EQUAL(go_select_nb(&cases[2], 1), -1);
    go_case take = {b, GO_RECV, &x, false};
    CU_ASSERT_EQUAL(go_select_nb(&take, 1), 0);
    CU_ASSERT_EQUAL(x, 1);
    CU_ASSERT_TRUE(take.ok);
    go_chan_free(u);
    go_chan_free(b);
}

/* ---- fairness ---- */

enum { TRIALS = 3000 };

static void test_fairness(void) {
    go_chan *a = go_chan_make(sizeof(int), 1), *b = go_chan_make(sizeof(int), 1),
            *s = go_chan_make(sizeof(int), 1);
    int v = 1, x, y;
    go_chan_send(a, &v);
    go_chan_send(b, &v);
    go_case cases[] = {{a, GO_RECV, &x, false}, {b, GO_RECV, &y, false},
                       {s, GO_SEND, &v, false}};
    int hits[3] = {0};
    for (int t = 0; t < TRIALS; t++) {
        int i = go_select(cases, 3);
        CU_ASSERT_FATAL(i >= 0 && i < 3);
        hits[i]++;
        if (i == 2)
            go_chan_recv(s, NULL);
        else
            go_chan_send(cases[i].chan, &v);
    }
    /* Expected 1000 each, standard deviation about 26. */
    for (int i = 0; i < 3; i++)
        CU_ASSERT(hits[i] > 700);
    go_chan_free(a);
    go_chan_free(b);
    go_chan_free(s);
}

/* ---- duplicate channels ---- */

static void test_duplicate_channels_ready(void) {
    go_chan *c = go_chan_make(sizeof(int), 1);
    int v = 3, x = 0, y = 0;
    go_case cases[] = {{c, GO_RECV, &x, false}, {c, GO_RECV, &y, false}};
    int hits[2] = {0};
    for (int t = 0; t < TRIALS; t++) {
        go_chan_send(c, &v);
        int i = go_select(cases, 2);
        CU_ASSERT_FATAL(i == 0 || i == 1);
        hits[i]++;
    }
    CU_ASSERT(hits[0] > 1000 && hits[1] > 1000);
    go_chan_free(c);
}

static void test_duplicate_channels_blocking(void) {
    go_chan *c = go_chan_make(sizeof(int), 0), *d = go_chan_make(sizeof(int), 0);
    struct selector s = {.n = 3, .done = go_chan_make(0, 1)};
    int x = SENTINEL, y = SENTINEL, z = SENTINEL;
    s.cases[0] = (go_case){c, GO_RECV, &x, false};
    s.cases[1] = (go_case){d, GO_RECV, &y, false};
    s.cases[2] = (go_case){c, GO_RECV, &z, false};
    go_spawn(run_selector, &s);
    wait_queued(c, GO_RECV, 2);
    wait_queued(d, GO_RECV, 1);
    int v = 77;
    go_chan_send(c, &v);
    join(s.done, 1);
    CU_ASSERT(s.chosen == 0 || s.chosen == 2);
    CU_ASSERT_EQUAL(s.chosen == 0 ? x : z, 77);
    CU_ASSERT_EQUAL(s.chosen == 0 ? z : x, SENTINEL);
    CU_ASSERT_EQUAL(y, SENTINEL);
    CU_ASSERT_TRUE(s.cases[s.chosen].ok);
    /* Every other waiter is gone from the queues. */
    CU_ASSERT_EQUAL(queue_len(c, GO_RECV), 0);
    CU_ASSERT_EQUAL(queue_len(d, GO_RECV), 0);
    go_chan_free(c);
    go_chan_free(d);
    go_chan_free(s.done);
}

/* ---- blocking select woken by each kind of partner ---- */

static void test_blocked_send_case(void) {
    go_chan *a = go_chan_make(sizeof(int), 0), *b = go_chan_make(sizeof(int), 0);
    struct selector s = {.n = 2, .done = go_chan_make(0, 1)};
    int out = 11, in = SENTINEL;
    s.cases[0] = (go_case){a, GO_SEND, &out, false};
    s.cases[1] = (go_case){b, GO_RECV, &in, false};
    go_spawn(run_selector, &s);
    wait_queued(a, GO_SEND, 1);
    int got = 0;
    CU_ASSERT_TRUE(go_chan_recv(a, &got));
    join(s.done, 1);
    CU_ASSERT_EQUAL(s.chosen, 0);
    CU_ASSERT_EQUAL(got, 11);
    CU_ASSERT_EQUAL(in, SENTINEL);

    go_spawn(run_selector, &s);
    wait_queued(b, GO_RECV, 1);
    int v = 22;
    go_chan_send(b, &v);
    join(s.done, 1);
    CU_ASSERT_EQUAL(s.chosen, 1);
    CU_ASSERT_EQUAL(in, 22);
    CU_ASSERT_TRUE(s.cases[1].ok);
    CU_ASSERT_EQUAL(queue_len(a, GO_SEND), 0);
    go_chan_free(a);
    go_chan_free(b);
    go_chan_free(s.done);
}

/* A blocked select on a full buffered channel is completed by a receiver
 * that moves its value into the buffer. */
static void test_blocked_send_case_buffered(void) {
    go_chan *a = go_chan_make(sizeof(int), 2), *never = go_chan_make(0, 0);
    struct selector s = {.n = 2, .done = go_chan_make(0, 1)};
    int out = 3;
    for (int i = 1; i <= 2; i++)
        go_chan_send(a, &i);
    s.cases[0] = (go_case){never, GO_RECV, NULL, false};
    s.cases[1] = (go_case){a, GO_SEND, &out, false};
    go_spawn(run_selector, &s);
    wait_queued(a, GO_SEND, 1);
    for (int i = 1; i <= 3; i++) {
        int v = 0;
        CU_ASSERT_TRUE(go_chan_recv(a, &v));
        CU_ASSERT_EQUAL(v, i);
    }
    join(s.done, 1);
    CU_ASSERT_EQUAL(s.chosen, 1);
    go_chan_free(a);
    go_chan_free(never);
    go_chan_free(s.done);
}

/* Two selects meet on unbuffered channels, in both directions. */
enum { EXCHANGES = 5000 };

static struct {
    go_chan *c, *quit, *done;
    long sum;
} meet;

static void select_sender(void *arg) {
    for (long i = 1; i <= EXCHANGES; i++) {
        go_case cases[] = {{meet.quit, GO_RECV, NULL, false}, {meet.c, GO_SEND, &i, false}};
        if (go_select(cases, 2) != 1)
            break;
    }
    go_chan_send(meet.done, NULL);
}

static void select_receiver(void *arg) {
    for (int i = 0; i < EXCHANGES; i++) {
        long v = 0;
        go_case cases[] = {{meet.c, GO_RECV, &v, false}, {meet.quit, GO_RECV, NULL, false}};
        if (go_select(cases, 2) != 0)
            break;
        meet.sum += v;
    }
    go_chan_send(meet.done, NULL);
}

static void select_meets_select_body(void) {
    meet.c = go_chan_make(sizeof(long), 0);
    meet.quit = go_chan_make(0, 0);
    meet.done = go_chan_make(0, 2);
    meet.sum = 0;
    go_spawn(select_receiver, NULL);
    go_spawn(select_sender, NULL);
    join(meet.done, 2);
    CU_ASSERT_EQUAL(meet.sum, (long)EXCHANGES * (EXCHANGES + 1) / 2);
    go_chan_free(meet.c);
    go_chan_free(meet.quit);
    go_chan_free(meet.done);
}

static void test_select_meets_select(void) { AT_PROCS(select_meets_select_body, 1, 2); }

/* ---- close ---- */

static void test_closed_ready(void) {
    go_chan *c = go_chan_make(sizeof(long), 1), *never = go_chan_make(sizeof(long), 0);
    long v = 9, x = SENTINEL, y = SENTINEL;
    go_chan_send(c, &v);
    go_chan_close(c);
    go_case cases[] = {{never, GO_RECV, &y, false}, {c, GO_RECV, &x, false}};
    CU_ASSERT_EQUAL(go_select(cases, 2), 1);
    CU_ASSERT_EQUAL(x, 9);
    CU_ASSERT_TRUE(cases[1].ok);
    x = SENTINEL;
    CU_ASSERT_EQUAL(go_select_nb(cases, 2), 1);
    CU_ASSERT_EQUAL(x, 0);
    CU_ASSERT_FALSE(cases[1].ok);
    x = SENTINEL;
    cases[1].ok = true;
    CU_ASSERT_EQUAL(go_select_nb(&cases[1], 1), 0);
    CU_ASSERT_EQUAL(x, 0);
    CU_ASSERT_FALSE(cases[1].ok);
    CU_ASSERT_EQUAL(y, SENTINEL);
    go_chan_free(c);
    go_chan_free(never);
}

static void test_blocked_select_woken_by_close(void) {
    go_chan *a = go_chan_make(sizeof(long), 0), *b = go_chan_make(sizeof(long), 0);
    struct selector s = {.n = 2, .done = go_chan_make(0, 1)};
    long x = SENTINEL, y = SENTINEL;
    s.cases[0] = (go_case){a, GO_RECV, &x, false};
    s.cases[1] = (go_case){b, GO_RECV, &y, true};
    go_spawn(run_selector, &s);
    wait_queued(b, GO_RECV, 1);
    go_chan_close(b);
    join(s.done, 1);
    CU_ASSERT_EQUAL(s.chosen, 1);
    CU_ASSERT_FALSE(s.cases[1].ok);
    CU_ASSERT_EQUAL(y, 0);
    CU_ASSERT_EQUAL(x, SENTINEL);
    CU_ASSERT_EQUAL(queue_len(a, GO_RECV), 0);
    go_chan_free(a);
    go_chan_free(b);
    go_chan_free(s.done);
}

/* ---- many cases (heap-allocated waiters) ---- */

enum { MANY = 100, TARGET = 73 };

static struct {
    go_chan *chans[MANY];
    go_case cases[MANY];
    long values[MANY];
    long received;
    int chosen;
    go_chan *done;
} many;

static void many_receiver(void *arg) {
    go_chan_recv(many.chans[0], &many.received);
    go_chan_send(many.done, NULL);
}

static void many_selector(void *arg) {
    many.chosen = go_select(many.cases, MANY);
    go_chan_send(many.done, NULL);
}

static void test_many_cases(void) {
    many.done = go_chan_make(0, 1);
    for (int i = 0; i < MANY; i++) {
        many.chans[i] = go_chan_make(sizeof(long), 0);
        many.values[i] = SENTINEL;
        /* Every fifth case is a nil channel, every third a send. */
        many.cases[i] = (go_case){i % 5 == 4 ? NULL : many.chans[i],
                                  i % 3 == 0 ? GO_SEND : GO_RECV, &many.values[i], false};
    }
    CU_ASSERT_EQUAL(go_select_nb(many.cases, MANY), -1);
    go_spawn(many_selector, NULL);
    wait_queued(many.chans[TARGET], GO_RECV, 1);
    long v = 1234;
    go_chan_send(many.chans[TARGET], &v);
    join(many.done, 1);
    CU_ASSERT_EQUAL(many.chosen, TARGET);
    CU_ASSERT_EQUAL(many.values[TARGET], 1234);
    int untouched = 0, queued = 0;
    for (int i = 0; i < MANY; i++) {
        untouched += i == TARGET || many.values[i] == SENTINEL;
        queued += queue_len(many.chans[i], GO_SEND) + queue_len(many.chans[i], GO_RECV);
    }
    CU_ASSERT_EQUAL(untouched, MANY);
    CU_ASSERT_EQUAL(queued, 0);

    /* A ready send case among them, found without blocking. */
    many.values[0] = 55;
    go_spawn(many_receiver, NULL);
    wait_queued(many.chans[0], GO_RECV, 1);
    CU_ASSERT_EQUAL(go_select_nb(many.cases, MANY), 0);
    join(many.done, 1);
    CU_ASSERT_EQUAL(many.received, 55);
    for (int i = 0; i < MANY; i++)
        go_chan_free(many.chans[i]);
    go_chan_free(many.done);
}

/* ---- stress: many selectors over shared channels ----
 * senders --(select over NCHANS send cases)--> chans
 * relays  --(select: receive from chans while empty-handed, else send
 *            to one of NOUTS)--> outs (both directions in one select)
 * receivers --(select over NOUTS receive cases, some polling first)
 * Each stage ends when its inputs are closed and drained; every value is
 * unique, so the checksums catch a value lost or delivered twice. */

enum { NCHANS = 4, NOUTS = 2, SENDERS = 6, RELAYS = 4, RECEIVERS = 6, PER_SENDER = 3000 };

static struct {
    go_chan *chans[NCHANS], *outs[NOUTS];
    go_chan *done;
    atomic_long sum, count;
    atomic_int seen[SENDERS * PER_SENDER];
} st;

static void stress_sender(void *arg) {
    long base = (long)(intptr_t)arg * PER_SENDER;
    for (long i = 0; i < PER_SENDER; i++) {
        long v = base + i;
        go_case cases[NCHANS];
        for (int k = 0; k < NCHANS; k++)
            cases[k] = (go_case){st.chans[k], GO_SEND, &v, false};
        go_select(cases, NCHANS);
    }
    go_chan_send(st.done, NULL);
}

static void stress_relay(void *arg) {
    go_chan *in[NCHANS];
    memcpy(in, st.chans, sizeof in);
    long held = 0, got = 0;
    bool holding = false;
    for (int open = NCHANS; open > 0 || holding;) {
        /* A nil channel disables a case: receive only while empty-handed,
         * send only while holding a value. */
        go_case cases[NCHANS + NOUTS];
        for (int k = 0; k < NCHANS; k++)
            cases[k] = (go_case){holding ? NULL : in[k], GO_RECV, &got, false};
        for (int k = 0; k < NOUTS; k++)
            cases[NCHANS + k] = (go_case){holding ? st.outs[k] : NULL, GO_SEND, &held, false};
        int i = go_select(cases, NCHANS + NOUTS);
        if (i >= NCHANS) {
            holding = false;
        } else if (cases[i].ok) {
            held = got;
            holding = true;
        } else {
            in[i] = NULL; /* closed and drained: never ready again */
            open--;
        }
    }
    go_chan_send(st.done, NULL);
}

static void stress_receiver(void *arg) {
    go_case cases[NOUTS];
    long v;
    for (int k = 0; k < NOUTS; k++)
        cases[k] = (go_case){st.outs[k], GO_RECV, &v, false};
    for (int open = NOUTS; open > 0;) {
        /* Half the receivers poll first, as a select with default would. */
        int i = (intptr_t)arg % 2 ? go_select_nb(cases, NOUTS) : -1;
        if (i < 0)
            i = go_select(cases, NOUTS);
        if (!cases[i].ok) {
            cases[i].chan = NULL;
            open--;
            continue;
        }
        atomic_fetch_add(&st.sum, v);
        atomic_fetch_add(&st.count, 1);
        atomic_fetch_add(&st.seen[v], 1);
    }
    go_chan_send(st.done, NULL);
}

static void stress_body(void) {
    memset(&st, 0, sizeof st);
    static const size_t caps[NCHANS] = {0, 0, 1, 16}, out_caps[NOUTS] = {0, 4};
    for (int k = 0; k < NCHANS; k++)
        st.chans[k] = go_chan_make(sizeof(long), caps[k]);
    for (int k = 0; k < NOUTS; k++)
        st.outs[k] = go_chan_make(sizeof(long), out_caps[k]);
    st.done = go_chan_make(0, SENDERS + RELAYS + RECEIVERS);
    for (intptr_t i = 0; i < RECEIVERS; i++)
        go_spawn(stress_receiver, (void *)i);
    for (intptr_t i = 0; i < RELAYS; i++)
        go_spawn(stress_relay, NULL);
    for (intptr_t i = 0; i < SENDERS; i++)
        go_spawn(stress_sender, (void *)i);
    /* Relays cannot finish before chans are closed, nor receivers before
     * outs are, so the done signals arrive stage by stage. */
    join(st.done, SENDERS);
    for (int k = 0; k < NCHANS; k++)
        go_chan_close(st.chans[k]);
    join(st.done, RELAYS);
    for (int k = 0; k < NOUTS; k++)
        go_chan_close(st.outs[k]);
    join(st.done, RECEIVERS);
    long n = (long)SENDERS * PER_SENDER;
    CU_ASSERT_EQUAL(atomic_load(&st.count), n);
    CU_ASSERT_EQUAL(atomic_load(&st.sum), n * (n - 1) / 2);
    int bad = 0;
    for (long i = 0; i < n; i++)
        bad += atomic_load(&st.seen[i]) != 1;
    CU_ASSERT_EQUAL(bad, 0);
    for (int k = 0; k < NCHANS; k++)
        go_chan_free(st.chans[k]);
    for (int k = 0; k < NOUTS; k++)
        go_chan_free(st.outs[k]);
    go_chan_free(st.done);
}

static void test_stress(void) { AT_PROCS(stress_body, 1, 2); }

/* ---- children ---- */

static void child_send_case_closed(void) {
    go_chan *c = go_chan_make(sizeof(int), 1), *never = go_chan_make(0, 0);
    go_chan_close(c);
    int v = 1;
    go_case cases[] = {{never, GO_RECV, NULL, false}, {c, GO_SEND, &v, false}};
    go_select(cases, 2);
}

static void blocked_send_selector(void *arg) {
    go_chan *c = arg, *never = go_chan_make(0, 0);
    int v = 1;
    go_case cases[] = {{never, GO_RECV, NULL, false}, {c, GO_SEND, &v, false}};
    go_select(cases, 2);
}

static void child_blocked_send_case_closed(void) {
    go_chan *c = go_chan_make(sizeof(int), 0);
    go_spawn(blocked_send_selector, c);
    child_wait_queued(c, GO_SEND, 1);
    go_chan_close(c);
    go_chan_recv(go_chan_make(0, 0), NULL); /* the panic ends the process */
}

static void child_no_cases(void) { go_select(NULL, 0); }

static void child_all_nil(void) {
    go_case cases[] = {{NULL, GO_RECV, NULL, false}, {NULL, GO_SEND, NULL, false}};
    go_select(cases, 2);
}

static void child_blocked_select(void) {
    go_case cases[] = {{go_chan_make(0, 0), GO_RECV, NULL, false},
                       {go_chan_make(0, 0), GO_SEND, NULL, false}};
    go_select(cases, 2);
}

static void test_panic_send_case_closed(void) {
    harness_result r;
    expect_exit("send_case_closed", 2, "panic: send on closed channel\n", &r);
    CU_ASSERT_TRUE(has_running_goroutine_line(r.output));
    expect_exit("blocked_send_case_closed", 2, "panic: send on closed channel\n", &r);
    CU_ASSERT_TRUE(has_running_goroutine_line(r.output));
}

static void test_blocks_forever(void) {
    static const char dead[] = "fatal error: all goroutines are asleep - deadlock!";
    harness_result r;
    expect_exit("no_cases", 2, dead, &r);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.output, "goroutine 1 [select (no cases)"));
    expect_exit("all_nil", 2, dead, &r);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.output, "goroutine 1 [select (no cases)"));
    expect_exit("blocked_select", 2, dead, &r);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.output, "goroutine 1 [select"));
    CU_ASSERT_PTR_NULL(strstr(r.output, "no cases"));
}

static const harness_case select_cases[] = {
    {"ready case", test_ready_case},
    {"default", test_default},
    {"fairness", test_fairness},
    {"duplicate channels, ready", test_duplicate_channels_ready},
    {"duplicate channels, blocking", test_duplicate_channels_blocking},
    {"blocked send and receive cases", test_blocked_send_case},
    {"blocked send case, buffered", test_blocked_send_case_buffered},
    {"select meets select", test_select_meets_select},
    {"closed channel ready", test_closed_ready},
    {"blocked select woken by close", test_blocked_select_woken_by_close},
    {"many cases", test_many_cases},
    {"stress with checksums", test_stress},
    {"panic: send case on closed channel", test_panic_send_case_closed},
    {"blocks forever", test_blocks_forever},
    {NULL, NULL},
};

static const harness_suite suites[] = {{"select", select_cases}, {NULL, NULL}};

static const harness_child_fn children[] = {
    {"send_case_closed", child_send_case_closed},
    {"blocked_send_case_closed", child_blocked_send_case_closed},
    {"no_cases", child_no_cases},
    {"all_nil", child_all_nil},
    {"blocked_select", child_blocked_select},
    {NULL, NULL},
};

int main(int argc, char **argv) { return harness_main(argc, argv, suites, children); }

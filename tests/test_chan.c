/* test_chan.c - channels: hand-off, buffering, FIFO order, close, nil and
 * zero-size channels, the scheduler-context entry points, and misuse.
 *
 * Orderings are made deterministic without sleeping: a case that needs a
 * goroutine to be blocked first yields until that goroutine's waiter is in
 * the channel's queue (read through the runtime's channel internals). Cases
 * whose outcome is a panic, a fatal error or a deadlock report run in a child
 * process and check its exit status and report lines. Stress cases run at
 * GOMAXPROCS 1 and 2 and check counts and checksums, never durations. */
#include <goroutine.h>

#include <pthread.h>
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

/* Is there a line "goroutine N [running]:" with N > 0 in out? */
static bool has_running_goroutine_line(const char *out) {
    for (const char *p = out; (p = strstr(p, "goroutine ")) != NULL; p++) {
        unsigned long id;
        int end = 0;
        if (sscanf(p, "goroutine %lu [running]:%n", &id, &end) == 1 && end > 0 && id > 0)
            return true;
    }
    return false;
}

/* Run child, check its exit status and that its output holds line. */
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

static void expect_panic(const char *child, const char *line) {
    harness_result r;
    expect_exit(child, 2, line, &r);
    CU_ASSERT_TRUE(has_running_goroutine_line(r.output));
}

/* ---- unbuffered ---- */

enum { PINGS = 10000 };

static void counter_sender(void *arg) {
    go_chan *c = arg;
    for (long i = 1; i <= PINGS; i++)
        go_chan_send(c, &i);
}

static void test_unbuffered_order(void) {
    go_chan *c = go_chan_make(sizeof(long), 0);
    go_spawn(counter_sender, c);
    for (long i = 1; i <= PINGS; i++) {
        long v = 0;
        CU_ASSERT_TRUE(go_chan_recv(c, &v));
        if (v != i) {
            CU_FAIL("values out of order");
            break;
        }
    }
    CU_ASSERT_EQUAL(go_chan_len(c), 0);
    go_chan_free(c);
}

struct pingpong {
    go_chan *ping, *pong;
};

static void ponger(void *arg) {
    struct pingpong *pp = arg;
    long v;
    while (go_chan_recv(pp->ping, &v)) {
        v++;
        go_chan_send(pp->pong, &v);
    }
    go_chan_close(pp->pong);
}

static void pingpong_body(void) {
    struct pingpong pp = {go_chan_make(sizeof(long), 0), go_chan_make(sizeof(long), 0)};
    go_spawn(ponger, &pp);
    long v = 0;
    for (int i = 0; i < PINGS; i++) {
        go_chan_send(pp.ping, &v);
        CU_ASSERT_TRUE(go_chan_recv(pp.pong, &v));
    }
    CU_ASSERT_EQUAL(v, PINGS);
    go_chan_close(pp.ping);
    CU_ASSERT_FALSE(go_chan_recv(pp.pong, &v));
    go_chan_free(pp.ping);
    go_chan_free(pp.pong);
}

static void test_pingpong(void) { AT_PROCS(pingpong_body, 1, 2); }

/* A sender blocked on an unbuffered channel has its value copied straight
 * out of its own frame by the receiver. */
struct big {
    char bytes[100];
};

static void big_sender(void *arg) {
    go_chan *c = arg;
    struct big b;
    for (int i = 0; i < 100; i++)
        b.bytes[i] = (char)i;
    go_chan_send(c, &b);
}

static void test_large_elements(void) {
    go_chan *c = go_chan_make(sizeof(struct big), 0);
    go_spawn(big_sender, c);
    wait_queued(c, GO_SEND, 1);
    struct big b;
    memset(&b, 0xff, sizeof b);
    CU_ASSERT_TRUE(go_chan_recv(c, &b));
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(b.bytes[i], (char)i);
    go_chan_free(c);
}

/* ---- buffered ---- */

static void test_buffered_fill_drain(void) {
    go_chan *c = go_chan_make(sizeof(int), 4);
    CU_ASSERT_EQUAL(go_chan_cap(c), 4);
    for (int round = 0; round < 3; round++) { /* wraps the ring */
        for (int i = 0; i < 3; i++) {
            int v = round * 10 + i;
            go_chan_send(c, &v);
            CU_ASSERT_EQUAL(go_chan_len(c), (size_t)i + 1);
        }
        for (int i = 0; i < 3; i++) {
            int v = -1;
            CU_ASSERT_TRUE(go_chan_recv(c, &v));
            CU_ASSERT_EQUAL(v, round * 10 + i);
        }
        CU_ASSERT_EQUAL(go_chan_len(c), 0);
    }
    go_chan_free(c);
}

static void test_len_cap(void) {
    CU_ASSERT_EQUAL(go_chan_len(NULL), 0);
    CU_ASSERT_EQUAL(go_chan_cap(NULL), 0);
    go_chan *u = go_chan_make(8, 0);
    CU_ASSERT_EQUAL(go_chan_cap(u), 0);
    CU_ASSERT_EQUAL(go_chan_len(u), 0);
    go_chan *b = go_chan_make(1, 100);
    char x = 'x';
    for (int i = 0; i < 100; i++)
        go_chan_send(b, &x);
    CU_ASSERT_EQUAL(go_chan_len(b), 100);
    CU_ASSERT_EQUAL(go_chan_cap(b), 100);
    go_chan_close(b);
    CU_ASSERT_EQUAL(go_chan_len(b), 100);
    go_chan_free(u);
    go_chan_free(b);
    go_chan_free(NULL);
}

enum { PRODUCERS = 8, CONSUMERS = 8, PER_PRODUCER = 5000 };

static struct {
    go_chan *c, *done;
    atomic_long sum, count;
    atomic_int seen[PRODUCERS * PER_PRODUCER];
} mpmc;

static void mpmc_producer(void *arg) {
    long base = (long)(intptr_t)arg * PER_PRODUCER;
    for (long i = 0; i < PER_PRODUCER; i++) {
        long v = base + i;
        go_chan_send(mpmc.c, &v);
    }
    go_chan_send(mpmc.done, NULL);
}

static void mpmc_consumer(void *arg) {
    long v;
    while (go_chan_recv(mpmc.c, &v)) {
        atomic_fetch_add(&mpmc.sum, v);
        atomic_fetch_add(&mpmc.count, 1);
        atomic_fetch_add(&mpmc.seen[v], 1);
    }
    go_chan_send(mpmc.done, NULL);
}

static void run_mpmc(size_t cap) {
    memset(&mpmc, 0, sizeof mpmc);
    mpmc.c = go_chan_make(sizeof(long), cap);
    mpmc.done = go_chan_make(0, PRODUCERS + CONSUMERS);
    for (intptr_t i = 0; i < CONSUMERS; i++)
        go_spawn(mpmc_consumer, NULL);
    for (intptr_t i = 0; i < PRODUCERS; i++)
        go_spawn(mpmc_producer, (void *)i);
    join(mpmc.done, PRODUCERS);
    go_chan_close(mpmc.c);
    join(mpmc.done, CONSUMERS);
    long n = (long)PRODUCERS * PER_PRODUCER;
    CU_ASSERT_EQUAL(atomic_load(&mpmc.count), n);
    CU_ASSERT_EQUAL(atomic_load(&mpmc.sum), n * (n - 1) / 2);
    int bad = 0;
    for (long i = 0; i < n; i++)
        bad += atomic_load(&mpmc.seen[i]) != 1;
    CU_ASSERT_EQUAL(bad, 0);
    go_chan_free(mpmc.c);
    go_chan_free(mpmc.done);
}

static void mpmc_body(void) {
    run_mpmc(0);
    run_mpmc(1);
    run_mpmc(64);
}

static void test_many_producers_consumers(void) { AT_PROCS(mpmc_body, 1, 2); }

/* ---- FIFO order of blocked goroutines ---- */

enum { QUEUED = 6 };

static struct {
    go_chan *c, *done;
    int got[QUEUED];
} fifo;

static void fifo_receiver(void *arg) {
    int slot = (int)(intptr_t)arg, v = -1;
    go_chan_recv(fifo.c, &v);
    fifo.got[slot] = v;
    go_chan_send(fifo.done, NULL);
}

static void fifo_sender(void *arg) {
    int v = (int)(intptr_t)arg;
    go_chan_send(fifo.c, &v);
    go_chan_send(fifo.done, NULL);
}

static void test_fifo_receivers(void) {
    fifo.c = go_chan_make(sizeof(int), 0);
    fifo.done = go_chan_make(0, QUEUED);
    for (intptr_t i = 0; i < QUEUED; i++) {
        go_spawn(fifo_receiver, (void *)i);
        wait_queued(fifo.c, GO_RECV, (size_t)i + 1);
    }
    for (int i = 0; i < QUEUED; i++)
        go_chan_send(fifo.c, &i);
    join(fifo.done, QUEUED);
    for (int i = 0; i < QUEUED; i++)
        CU_ASSERT_EQUAL(fifo.got[i], i);
    go_chan_free(fifo.c);
    go_chan_free(fifo.done);
}

/* Blocked senders of a full buffered channel follow the buffered values,
 * in the order they blocked. */
static void fifo_senders_body(size_t cap) {
    fifo.c = go_chan_make(sizeof(int), cap);
    fifo.done = go_chan_make(0, QUEUED);
    for (int i = 0; i < (int)cap; i++)
        go_chan_send(fifo.c, &i);
    for (intptr_t i = 0; i < QUEUED; i++) {
        go_spawn(fifo_sender, (void *)(cap + i));
        wait_queued(fifo.c, GO_SEND, (size_t)i + 1);
    }
    for (int i = 0; i < (int)cap + QUEUED; i++) {
        int v = -1;
        CU_ASSERT_TRUE(go_chan_recv(fifo.c, &v));
        CU_ASSERT_EQUAL(v, i);
    }
    join(fifo.done, QUEUED);
    CU_ASSERT_EQUAL(go_chan_len(fifo.c), 0);
    go_chan_free(fifo.c);
    go_chan_free(fifo.done);
}

static void test_fifo_senders(void) {
    fifo_senders_body(0);
    fifo_senders_body(3);
}

/* ---- close ---- */

static void test_close_drains_then_false(void) {
    go_chan *c = go_chan_make(sizeof(long), 3);
    for (long i = 1; i <= 3; i++)
        go_chan_send(c, &i);
    go_chan_close(c);
    for (long i = 1; i <= 3; i++) {
        long v = 0;
        CU_ASSERT_TRUE(go_chan_recv(c, &v));
        CU_ASSERT_EQUAL(v, i);
    }
    for (int i = 0; i < 3; i++) {
        long v = -1;
        CU_ASSERT_FALSE(go_chan_recv(c, &v));
        CU_ASSERT_EQUAL(v, 0);
    }
    CU_ASSERT_FALSE(go_chan_recv(c, NULL));
    go_chan_free(c);
}

static struct {
    go_chan *c, *done;
    atomic_int closed_seen;
} wakeall;

static void closed_receiver(void *arg) {
    struct big b;
    memset(&b, 0xff, sizeof b);
    if (!go_chan_recv(wakeall.c, &b)) {
        bool zero = true;
        for (int i = 0; i < 100; i++)
            zero &= b.bytes[i] == 0;
        if (zero)
            atomic_fetch_add(&wakeall.closed_seen, 1);
    }
    go_chan_send(wakeall.done, NULL);
}

static void close_wakes_all_body(void) {
    enum { N = 20 };
    wakeall.c = go_chan_make(sizeof(struct big), 0);
    wakeall.done = go_chan_make(0, N);
    atomic_store(&wakeall.closed_seen, 0);
    for (int i = 0; i < N; i++)
        go_spawn(closed_receiver, NULL);
    wait_queued(wakeall.c, GO_RECV, N);
    go_chan_close(wakeall.c);
    join(wakeall.done, N);
    CU_ASSERT_EQUAL(atomic_load(&wakeall.closed_seen), N);
    go_chan_free(wakeall.c);
    go_chan_free(wakeall.done);
}

static void test_close_wakes_all_receivers(void) { AT_PROCS(close_wakes_all_body, 1, 2); }

/* ---- zero-size elements and NULL destinations ---- */

static void signal_sender(void *arg) {
    for (int i = 0; i < 100; i++)
        go_chan_send(arg, NULL);
    go_chan_close(arg);
}

static void test_zero_size(void) {
    go_chan *u = go_chan_make(0, 0);
    go_spawn(signal_sender, u);
    int n = 0;
    while (go_chan_recv(u, NULL))
        n++;
    CU_ASSERT_EQUAL(n, 100);
    go_chan_free(u);

    go_chan *b = go_chan_make(0, 3);
    for (int i = 0; i < 3; i++)
        go_chan_send(b, NULL);
    CU_ASSERT_EQUAL(go_chan_len(b), 3);
    CU_ASSERT_TRUE(go_chan_recv(b, NULL));
    CU_ASSERT_EQUAL(go_chan_len(b), 2);
    go_chan_close(b);
    CU_ASSERT_TRUE(go_chan_recv(b, NULL));
    CU_ASSERT_TRUE(go_chan_recv(b, NULL));
    CU_ASSERT_FALSE(go_chan_recv(b, NULL));
    go_chan_free(b);
}

static void test_null_elem_drops_value(void) {
    go_chan *c = go_chan_make(sizeof(int), 2);
    int one = 1, two = 2, v = 0;
    go_chan_send(c, &one);
    go_chan_send(c, &two);
    CU_ASSERT_TRUE(go_chan_recv(c, NULL));
    CU_ASSERT_TRUE(go_chan_recv(c, &v));
    CU_ASSERT_EQUAL(v, 2);
    go_chan_free(c);

    go_chan *u = go_chan_make(sizeof(long), 0);
    go_spawn(counter_sender, u);
    CU_ASSERT_TRUE(go_chan_recv(u, NULL));
    long w = 0;
    CU_ASSERT_TRUE(go_chan_recv(u, &w));
    CU_ASSERT_EQUAL(w, 2);
    for (long i = 3; i <= PINGS; i++)
        go_chan_recv(u, NULL);
    go_chan_free(u);
}

/* ---- rt_chan_send_nb / rt_chan_has_receivers (timers, contexts) ---- */

static void test_send_nb(void) {
    go_chan *c = go_chan_make(sizeof(int), 1);
    int v = 7, w = 0;
    CU_ASSERT_FALSE(rt_chan_has_receivers(c));
    CU_ASSERT_TRUE(rt_chan_send_nb(c, &v));
    CU_ASSERT_FALSE(rt_chan_send_nb(c, &v));
    CU_ASSERT_TRUE(go_chan_recv(c, &w));
    CU_ASSERT_EQUAL(w, 7);
    go_chan_free(c);

    go_chan *u = go_chan_make(sizeof(int), 0);
    CU_ASSERT_FALSE(rt_chan_send_nb(u, &v)); /* nobody receiving */
    CU_ASSERT_FALSE(rt_chan_send_nb(NULL, &v));
    CU_ASSERT_FALSE(rt_chan_has_receivers(NULL));
    go_chan_free(u);
}

static struct {
    go_chan *c;
    int value;
    bool sent;
} foreign;

static void *foreign_thread(void *arg) {
    foreign.sent = rt_chan_send_nb(foreign.c, &foreign.value);
    return NULL;
}

/* From a thread that runs no goroutine, a non-blocking send hands the value
 * to a parked receiver and readies it. */
static void test_send_nb_from_foreign_thread(void) {
    foreign.c = go_chan_make(sizeof(int), 0);
    foreign.value = 42;
    fifo.c = foreign.c;
    fifo.done = go_chan_make(0, 1);
    fifo.got[0] = -1;
    go_spawn(fifo_receiver, (void *)0);
    wait_queued(foreign.c, GO_RECV, 1);
    CU_ASSERT_TRUE(rt_chan_has_receivers(foreign.c));
    pthread_t t;
    pthread_create(&t, NULL, foreign_thread, NULL);
    pthread_join(t, NULL);
    CU_ASSERT_TRUE(foreign.sent);
    join(fifo.done, 1);
    CU_ASSERT_EQUAL(fifo.got[0], 42);
    CU_ASSERT_FALSE(rt_chan_has_receivers(foreign.c));
    go_chan_free(foreign.c);
    go_chan_free(fifo.done);
}

/* ---- children: panics, fatal errors, blocking forever ---- */

static void child_send_on_closed(void) {
    go_chan *c = go_chan_make(sizeof(int), 1);
    go_chan_close(c);
    int v = 1;
    go_chan_send(c, &v);
}

static void blocked_sender(void *arg) {
    int v = 1;
    go_chan_send(arg, &v);
}

/* A sender blocked when the channel is closed panics once woken. */
static void child_blocked_send_then_close(void) {
    go_chan *c = go_chan_make(sizeof(int), 0);
    go_spawn(blocked_sender, c);
    child_wait_queued(c, GO_SEND, 1);
    go_chan_close(c);
    go_chan_recv(go_chan_make(0, 0), NULL); /* the panic ends the process */
}

static void child_close_closed(void) {
    go_chan *c = go_chan_make(0, 0);
    go_chan_close(c);
    go_chan_close(c);
}

static void child_close_nil(void) { go_chan_close(NULL); }

static void child_free_with_waiters(void) {
    go_chan *c = go_chan_make(sizeof(int), 0);
    go_spawn(blocked_sender, c);
    child_wait_queued(c, GO_SEND, 1);
    go_chan_free(c);
}

static void child_recv_nil(void) { go_chan_recv(NULL, NULL); }

static void child_send_nil(void) { go_chan_send(NULL, NULL); }

static void test_panic_send_on_closed(void) {
    expect_panic("send_on_closed", "panic: send on closed channel\n");
}

static void test_panic_blocked_send_closed(void) {
    expect_panic("blocked_send_then_close", "panic: send on closed channel\n");
}

static void test_panic_close_closed(void) {
    expect_panic("close_closed", "panic: close of closed channel\n");
}

static void test_panic_close_nil(void) {
    expect_panic("close_nil", "panic: close of nil channel\n");
}

static void test_fatal_free_with_waiters(void) {
    harness_result r;
    expect_exit("free_with_waiters", 2,
                "fatal error: free of channel with blocked goroutines\n", &r);
}

static void test_nil_channel_blocks(void) {
    harness_result r;
    expect_exit("recv_nil", 2, "fatal error: all goroutines are asleep - deadlock!", &r);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.output, "goroutine 1 [chan receive (nil chan)"));
    expect_exit("send_nil", 2, "fatal error: all goroutines are asleep - deadlock!", &r);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.output, "goroutine 1 [chan send (nil chan)"));
}

static const harness_case chan_cases[] = {
    {"unbuffered order", test_unbuffered_order},
    {"ping-pong", test_pingpong},
    {"large elements", test_large_elements},
    {"buffered fill and drain", test_buffered_fill_drain},
    {"len and cap", test_len_cap},
    {"many producers and consumers", test_many_producers_consumers},
    {"FIFO receivers", test_fifo_receivers},
    {"FIFO senders", test_fifo_senders},
    {"close drains then false", test_close_drains_then_false},
    {"close wakes all receivers", test_close_wakes_all_receivers},
    {"zero-size elements", test_zero_size},
    {"NULL elem drops the value", test_null_elem_drops_value},
    {"non-blocking send", test_send_nb},
    {"non-blocking send from a foreign thread", test_send_nb_from_foreign_thread},
    {"panic: send on closed", test_panic_send_on_closed},
    {"panic: blocked send then close", test_panic_blocked_send_closed},
    {"panic: close of closed", test_panic_close_closed},
    {"panic: close of nil", test_panic_close_nil},
    {"fatal: free with waiters", test_fatal_free_with_waiters},
    {"nil channel blocks forever", test_nil_channel_blocks},
    {NULL, NULL},
};

static const harness_suite suites[] = {{"chan", chan_cases}, {NULL, NULL}};

static const harness_child_fn children[] = {
    {"send_on_closed", child_send_on_closed},
    {"blocked_send_then_close", child_blocked_send_then_close},
    {"close_closed", child_close_closed},
    {"close_nil", child_close_nil},
    {"free_with_waiters", child_free_with_waiters},
    {"recv_nil", child_recv_nil},
    {"send_nil", child_send_nil},
    {NULL, NULL},
};

int main(int argc, char **argv) { return harness_main(argc, argv, suites, children); }

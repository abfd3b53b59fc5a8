/* test_stress.c - millions of messages through thousands of goroutines,
 * proving that nothing is lost, duplicated or corrupted.
 *
 * Every message is a unique id. Its receiver checks it off in a shared
 * bitmap (a second check-off is a duplicate) and adds it to a count, a sum
 * and an xor; at the end these must equal the closed forms over all ids,
 * so a lost, repeated or mangled message shows. The phases:
 *   buffered    producers and consumers sharing one buffered channel
 *   unbuffered  the same over an unbuffered channel
 *   select      producers select-send over both kinds of channel at once,
 *               consumers select-receive (some with go_select_nb and
 *               go_yield), and closing ends them
 *   mutex       goroutines fold ids into one shared record under go_mutex
 *   spawn tree  goroutines spawn goroutines four levels wide, each folding
 *               its id in, joined by one go_waitgroup
 * Each configuration runs in its own child with a timeout, so a hang fails
 * its case: GOMAXPROCS 1, 2 and 8, and a random one drawn from a printed
 * seed (GOROUTINE_TEST_SEED repeats it) during which a goroutine keeps
 * changing GOMAXPROCS at random. Nothing is timed.
 *
 * GOROUTINE_TEST_SCALE (a factor, default 1) scales the messages per
 * producer for slower builds; sanitizer builds start from a quarter. */
#include <goroutine.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

enum {
    PRODUCERS = 1000,
    CONSUMERS = 1000,
    NB_CONSUMERS = 8,       /* of the select phase's consumers */
    BUFFER = 128,
    LOCKERS = 2000,
    TREE_WIDTH = 4,
    TREE_DEPTH = 7,         /* 1 + 4 + ... + 4^7 = 21,845 goroutines */
};

static double test_scale(void) {
    const char *s = getenv("GOROUTINE_TEST_SCALE");
    double v = s && *s ? strtod(s, NULL) : 1.0;
    return v > 0 ? v : 1.0;
}

static uint64_t per_producer(void) {
#ifdef TEST_ASAN
    double base = 500;
#else
    double base = 2000;
#endif
    double n = base * test_scale();
    return n < 10 ? 10 : (uint64_t)n;
}

/* xorshift64*: the random configuration's only source of randomness. */
static uint64_t rng_next(uint64_t *state) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1Dull;
}

/* ---- the tally every phase checks ---- */

struct tally {
    _Atomic uint64_t count, sum, xor_, dups, out_of_range;
    _Atomic uint64_t *seen;   /* one bit per id */
    uint64_t n;               /* ids are 0 .. n-1 */
};

static struct tally tally;

static void tally_reset(uint64_t n) {
    free(tally.seen);
    memset(&tally, 0, sizeof tally);
    tally.n = n;
    tally.seen = calloc((n + 63) / 64, sizeof *tally.seen);
    if (!tally.seen) abort();
}

/* A receiver's running totals, folded into the tally once at its end. */
struct local {
    uint64_t count, sum, xor_;
};

static void check_off(struct local *l, uint64_t id) {
    if (id >= tally.n) {
        atomic_fetch_add(&tally.out_of_range, 1);
        return;
    }
    uint64_t bit = 1ull << (id % 64);
    if (atomic_fetch_or_explicit(&tally.seen[id / 64], bit, memory_order_relaxed) & bit)
        atomic_fetch_add(&tally.dups, 1);
    l->count++;
    l->sum += id;
    l->xor_ ^= id;
}

static void fold(const struct local *l) {
    atomic_fetch_add(&tally.count, l->count);
    atomic_fetch_add(&tally.sum, l->sum);
    atomic_fetch_xor(&tally.xor_, l->xor_);
}

static uint64_t xor_upto(uint64_t n) {   /* 0 ^ 1 ^ ... ^ (n-1) */
    uint64_t last = n - 1;
    switch (last % 4) {
    case 0: return last;
    case 1: return 1;
    case 2: return last + 1;
    default: return 0;
    }
}

/* Print the phase's verdict; false if anything is off. */
static bool tally_verdict(const char *phase) {
    uint64_t n = tally.n;
    uint64_t want_sum = n % 2 ? (n - 1) / 2 * n : n / 2 * (n - 1);
    uint64_t count = atomic_load(&tally.count), sum = atomic_load(&tally.sum);
    uint64_t x = atomic_load(&tally.xor_), dups = atomic_load(&tally.dups);
    uint64_t bad = atomic_load(&tally.out_of_range), missing = 0;
    for (uint64_t id = 0; id < n; id++)
        missing += !(atomic_load_explicit(&tally.seen[id / 64], memory_order_relaxed) >> (id % 64) & 1);
    bool ok = count == n && sum == want_sum && x == xor_upto(n) && dups == 0 && bad == 0 &&
              missing == 0;
    printf("%s %s: messages=%llu (want %llu) sum=%llu (want %llu) xor=%llu (want %llu) "
           "dups=%llu missing=%llu out_of_range=%llu\n",
           ok ? "ok" : "MISMATCH", phase, (unsigned long long)count, (unsigned long long)n,
           (unsigned long long)sum, (unsigned long long)want_sum, (unsigned long long)x,
           (unsigned long long)xor_upto(n), (unsigned long long)dups,
           (unsigned long long)missing, (unsigned long long)bad);
    fflush(stdout);
    return ok;
}

/* ---- channel phases ---- */

static go_chan *chan_a, *chan_b;    /* the phase's channels */
static go_waitgroup producers_wg, consumers_wg;
static uint64_t messages_each;

static void producer(void *arg) {
    uint64_t first = (uint64_t)(uintptr_t)arg * messages_each;
    for (uint64_t id = first; id < first + messages_each; id++) go_chan_send(chan_a, &id);
    go_wg_done(&producers_wg);
}

static void consumer(void *arg) {
    (void)arg;
    struct local l = {0};
    uint64_t id;
    while (go_chan_recv(chan_a, &id)) check_off(&l, id);
    fold(&l);
    go_wg_done(&consumers_wg);
}

static void select_producer(void *arg) {
    uint64_t first = (uint64_t)(uintptr_t)arg * messages_each;
    for (uint64_t id = first; id < first + messages_each; id++) {
        go_case cases[] = {{chan_a, GO_SEND, &id, false}, {chan_b, GO_SEND, &id, false}};
        go_select(cases, 2);
    }
    go_wg_done(&producers_wg);
}

static void select_consumer(void *arg) {
    bool nonblocking = arg != NULL;
    struct local l = {0};
    uint64_t id;
    go_case cases[] = {{chan_a, GO_RECV, &id, false}, {chan_b, GO_RECV, &id, false}};
    while (cases[0].chan || cases[1].chan) {
        int i = nonblocking ? go_select_nb(cases, 2) : go_select(cases, 2);
        if (i < 0) {
            go_yield();
            continue;
        }
        if (cases[i].ok) check_off(&l, id);
        else cases[i].chan = NULL;   /* closed and drained: a nil channel from now on */
    }
    fold(&l);
    go_wg_done(&consumers_wg);
}

static void closer(void *arg) {
    (void)arg;
    go_wg_wait(&producers_wg);
    go_chan_close(chan_a);
    if (chan_b) go_chan_close(chan_b);
}

static bool channel_phase(const char *name, size_t cap_a, bool with_select) {
    tally_reset((uint64_t)PRODUCERS * messages_each);
    chan_a = go_chan_make(sizeof(uint64_t), cap_a);
    chan_b = with_select ? go_chan_make(sizeof(uint64_t), 0) : NULL;
    go_wg_add(&producers_wg, PRODUCERS);
    go_wg_add(&consumers_wg, CONSUMERS);
    /* Interleave the spawns so both sides are running from the start. */
    for (int i = 0; i < PRODUCERS || i < CONSUMERS; i++) {
        if (i < CONSUMERS) {
            if (!with_select) go_spawn(consumer, NULL);
            else go_spawn(select_consumer, i < NB_CONSUMERS ? (void *)1 : NULL);
        }
        if (i < PRODUCERS)
            go_spawn(with_select ? select_producer : producer, (void *)(uintptr_t)i);
    }
    go_spawn(closer, NULL);
    go_wg_wait(&consumers_wg);
    bool ok = tally_verdict(name);
    go_chan_free(chan_a);
    if (chan_b) go_chan_free(chan_b);
    return ok;
}

/* ---- mutex phase ---- */

static go_mutex shared_mu;
static struct local shared;   /* under shared_mu */
static go_waitgroup lockers_wg;

static void locker(void *arg) {
    uint64_t first = (uint64_t)(uintptr_t)arg * messages_each;
    for (uint64_t id = first; id < first + messages_each; id++) {
        go_mutex_lock(&shared_mu);
        shared.count++;
        shared.sum += id;
        shared.xor_ ^= id;
        go_mutex_unlock(&shared_mu);
        struct local ignored = {0};
        check_off(&ignored, id);   /* the bitmap still proves uniqueness */
        if (id % 32 == 0) go_yield();
    }
    go_wg_done(&lockers_wg);
}

static bool mutex_phase(void) {
    tally_reset((uint64_t)LOCKERS * messages_each);
    memset(&shared, 0, sizeof shared);
    go_wg_add(&lockers_wg, LOCKERS);
    for (int i = 0; i < LOCKERS; i++) go_spawn(locker, (void *)(uintptr_t)i);
    go_wg_wait(&lockers_wg);
    go_mutex_lock(&shared_mu);
    fold(&shared);
    go_mutex_unlock(&shared_mu);
    return tally_verdict("mutex");
}

/* ---- spawn tree phase ---- */

static go_waitgroup tree_wg;

/* Node ids number the tree breadth-first: the children of k are
 * WIDTH*k+1 .. WIDTH*k+WIDTH. */
static void tree_node(void *arg) {
    uint64_t id = (uint64_t)(uintptr_t)arg;
    int depth = 0;
    for (uint64_t k = id; k > 0; k = (k - 1) / TREE_WIDTH) depth++;
    if (depth < TREE_DEPTH) {
        go_wg_add(&tree_wg, TREE_WIDTH);
        for (int c = 1; c <= TREE_WIDTH; c++)
            go_spawn(tree_node, (void *)(uintptr_t)(TREE_WIDTH * id + (uint64_t)c));
    }
    struct local l = {0};
    check_off(&l, id);
    fold(&l);
    go_wg_done(&tree_wg);
}

static bool tree_phase(void) {
    uint64_t nodes = 0, level = 1;
    for (int d = 0; d <= TREE_DEPTH; d++, level *= TREE_WIDTH) nodes += level;
    tally_reset(nodes);
    go_wg_add(&tree_wg, 1);
    go_spawn(tree_node, (void *)(uintptr_t)0);
    go_wg_wait(&tree_wg);
    return tally_verdict("spawn tree");
}

/* ---- the random configuration's GOMAXPROCS changer ---- */

static _Atomic int resizer_stop;
static go_chan *resizer_done;

static void resizer(void *arg) {
    uint64_t *state = arg;
    long changes = 0;
    while (!atomic_load(&resizer_stop)) {
        uint64_t r = rng_next(state);
        go_maxprocs(1 + (int)(r % 12));
        go_sleep((int64_t)(r >> 32) % 500 * GO_MICROSECOND);
        changes++;
    }
    go_chan_send(resizer_done, &changes);
}

static void child_stress(void) {
    const char *procs = getenv("GOROUTINE_STRESS_PROCS");
    const char *seed_text = getenv("GOROUTINE_STRESS_SEED");
    if (!procs) abort();
    messages_each = per_producer();
    bool random = strcmp(procs, "random") == 0;
    /* The seed fixes the starting GOMAXPROCS and the resizer's sequence of
     * settings (not the interleavings, which are the OS's). */
    uint64_t resizer_state = 0;
    if (random) {
        uint64_t state = seed_text ? strtoull(seed_text, NULL, 10) : 1;
        if (state == 0) state = 1;
        go_maxprocs(1 + (int)(rng_next(&state) % 16));
        resizer_state = rng_next(&state) | 1;
    } else {
        go_maxprocs(atoi(procs));
    }
    printf("GOMAXPROCS=%d%s, %llu messages per producer\n", go_maxprocs(0),
           random ? " (then changing at random)" : "", (unsigned long long)messages_each);
    fflush(stdout);
    if (random) {
        resizer_done = go_chan_make(sizeof(long), 0);
        go_spawn(resizer, &resizer_state);
    }

    bool ok = channel_phase("buffered", BUFFER, false);
    ok = channel_phase("unbuffered", 0, false) && ok;
    ok = channel_phase("select", BUFFER, true) && ok;
    ok = mutex_phase() && ok;
    ok = tree_phase() && ok;

    if (random) {
        atomic_store(&resizer_stop, 1);
        long changes = 0;
        go_chan_recv(resizer_done, &changes);
        printf("GOMAXPROCS changed %ld times\n", changes);
    }
    printf("%s\n", ok ? "ALL OK" : "FAILED");
    fflush(stdout);
    exit(ok ? 0 : 1);
}

/* ---- the parent's cases ---- */

static void run_config(const char *procs, uint64_t seed) {
    char procs_entry[64], seed_entry[64];
    snprintf(procs_entry, sizeof procs_entry, "GOROUTINE_STRESS_PROCS=%s", procs);
    snprintf(seed_entry, sizeof seed_entry, "GOROUTINE_STRESS_SEED=%llu",
             (unsigned long long)seed);
    const char *const env[] = {procs_entry, seed_entry, NULL};
    static harness_result r;
    harness_child("stress", env, 120, &r);
    bool ok = !r.timed_out && r.exited && r.status == 0 && strstr(r.output, "ALL OK");
    CU_ASSERT_FALSE(r.timed_out);
    CU_ASSERT_TRUE(r.exited);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.output, "ALL OK"));
    if (!ok)
        fprintf(stderr, "\n--- stress GOMAXPROCS=%s seed=%llu: exited=%d status=%d "
                        "timed_out=%d ---\n%s\n---\n",
                procs, (unsigned long long)seed, r.exited, r.status, r.timed_out, r.output);
}

static void test_procs_1(void) { run_config("1", 0); }
static void test_procs_2(void) { run_config("2", 0); }
static void test_procs_8(void) { run_config("8", 0); }

static void test_procs_random(void) {
    const char *env = getenv("GOROUTINE_TEST_SEED");
    uint64_t seed;
    if (env && *env) {
        seed = strtoull(env, NULL, 10);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec ^
                (uint64_t)getpid() << 20) % 1000000000000ull;
    }
    fprintf(stderr, "\n    seed %llu (GOROUTINE_TEST_SEED=%llu repeats it) ",
            (unsigned long long)seed, (unsigned long long)seed);
    run_config("random", seed);
}

int main(int argc, char **argv) {
    static const harness_case cases[] = {
        {"GOMAXPROCS 1", test_procs_1},
        {"GOMAXPROCS 2", test_procs_2},
        {"GOMAXPROCS 8", test_procs_8},
        {"random GOMAXPROCS, changing", test_procs_random},
        {NULL, NULL}};
    static const harness_suite suites[] = {{"stress", cases}, {NULL, NULL}};
    static const harness_child_fn children[] = {{"stress", child_stress}, {NULL, NULL}};
    return harness_main(argc, argv, suites, children);
}

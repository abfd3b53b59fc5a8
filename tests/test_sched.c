/* test_sched.c - goroutines and the scheduler's public controls: spawning
 * (go_spawn_copy's private, aligned, writable copies), ids, the live count,
 * names, go_yield, GOMAXPROCS (queried, changed while goroutines run,
 * lowered below a P left in a system call, read from the environment),
 * stopping the world (the leak finder's), go_exit from a goroutine and
 * from main, and main's return ending the process. Stack sizes are
 * test_stack.c's.
 *
 * Nothing here measures time. A case that needs a goroutine to be parked
 * first yields until the runtime shows it parked with the expected wait
 * reason (read from its G through rt.h); a spin that waits for another
 * goroutine has a bound only on its failure path, so a bug fails the case
 * instead of hanging it. Goroutines never call CUnit (it is not
 * thread-safe): they count what went wrong in atomics that the main
 * goroutine asserts. Cases whose outcome is a process exit run in a child. */
#include <goroutine.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "probes.h"
#include "proc.h"

enum { SPIN_LIMIT = 20000000 };

/* ---- helpers ---- */

/* Goroutines that signalled completion may still be on their way out:
 * yield until the live count is back to want. */
static bool settle_goroutines(size_t want) {
    for (long spins = 0; go_num_goroutine() != want; spins++) {
        if (spins == SPIN_LIMIT) return false;
        go_yield();
    }
    return true;
}

/* Wait for the goroutines of earlier cases to be gone: every case here
 * ends with only main left, give or take goroutines still exiting. */
static size_t quiesced(void) {
    CU_ASSERT_TRUE(settle_goroutines(1));
    return 1;
}

static void join(go_chan *done, size_t n) {
    for (size_t i = 0; i < n; i++) go_chan_recv(done, NULL);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Does output hold exactly this line? */
static bool has_line(const char *output, const char *line) {
    size_t n = strlen(line);
    for (const char *p = output; (p = strstr(p, line)) != NULL; p++)
        if ((p == output || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0)) return true;
    return false;
}

/* Does a line of output start with prefix? */
static bool has_line_prefix(const char *output, const char *prefix) {
    for (const char *p = output; (p = strstr(p, prefix)) != NULL; p++)
        if (p == output || p[-1] == '\n') return true;
    return false;
}

static void show_on_failure(bool ok, const char *child, const harness_result *r) {
    if (!ok)
        fprintf(stderr, "\n--- child %s: exited=%d status=%d timed_out=%d ---\n%s\n---\n",
                child, r->exited, r->status, r->timed_out, r->output);
}

/* Run child with env; expect exit status and every listed line. */
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
    show_on_failure(ok, child, &r);
}

/* ---- go_spawn_copy ---- */

enum { COPIES = 1000 };

struct copy_arg {
    uint64_t index;
    char tag[13];   /* odd size: the copy's alignment must not come from it */
};

struct copy_report {
    uint64_t index;
    uintptr_t addr;
    bool aligned, intact, writable;
};

static go_chan *copy_reports, *copy_release;

static void copy_worker(void *p) {
    struct copy_arg *a = p;
    struct copy_report r = {
        .index = a->index,
        .addr = (uintptr_t)a,
        .aligned = (uintptr_t)a % _Alignof(max_align_t) == 0,
    };
    char want[sizeof a->tag];
    snprintf(want, sizeof want, "arg-%llu", (unsigned long long)a->index);
    r.intact = strcmp(a->tag, want) == 0;
    a->index = ~a->index;
    memset(a->tag, 'w', sizeof a->tag);
    r.writable = a->index == ~r.index && a->tag[sizeof a->tag - 1] == 'w';
    go_chan_send(copy_reports, &r);
    /* Stay alive so that every copy exists at once: their addresses must
     * then all differ. */
    go_chan_recv(copy_release, NULL);
}

static void copies_body(void) {
    size_t base = quiesced();
    copy_reports = go_chan_make(sizeof(struct copy_report), COPIES);
    copy_release = go_chan_make(0, 0);
    struct copy_arg arg;
    for (uint64_t i = 0; i < COPIES; i++) {
        memset(&arg, 0, sizeof arg);
        arg.index = i;
        snprintf(arg.tag, sizeof arg.tag, "arg-%llu", (unsigned long long)i);
        go_spawn_copy(copy_worker, &arg, sizeof arg);
        /* The loop-variable bug: the goroutine must not see this. */
        memset(&arg, 0xEE, sizeof arg);
    }
    static bool seen[COPIES];
    static uintptr_t addrs[COPIES];
    memset(seen, 0, sizeof seen);
    int dup = 0, bad_index = 0, misaligned = 0, corrupt = 0, readonly = 0, shared = 0;
    for (int i = 0; i < COPIES; i++) {
        struct copy_report r;
        go_chan_recv(copy_reports, &r);
        if (r.index >= COPIES) { bad_index++; continue; }
        if (seen[r.index]) dup++;
        seen[r.index] = true;
        addrs[i] = r.addr;
        misaligned += !r.aligned;
        corrupt += !r.intact;
        readonly += !r.writable;
        shared += r.addr == (uintptr_t)&arg;
    }
    qsort(addrs, COPIES, sizeof *addrs, cmp_u64);
    int same_addr = 0;
    for (int i = 1; i < COPIES; i++) same_addr += addrs[i] == addrs[i - 1];
    CU_ASSERT_EQUAL(bad_index, 0);
    CU_ASSERT_EQUAL(dup, 0);
    CU_ASSERT_EQUAL(misaligned, 0);
    CU_ASSERT_EQUAL(corrupt, 0);
    CU_ASSERT_EQUAL(readonly, 0);
    CU_ASSERT_EQUAL(shared, 0);
    CU_ASSERT_EQUAL(same_addr, 0);
    go_chan_close(copy_release);
    CU_ASSERT_TRUE(settle_goroutines(base));
    go_chan_free(copy_reports);
    go_chan_free(copy_release);
}

static void test_spawn_copy_private(void) { AT_PROCS(copies_body, 1, 2, 8); }

/* Copies of every awkward size are aligned for any type and hold exactly
 * the caller's bytes; up to 100 KiB (the default 256 KiB stack takes
 * arguments up to half its size). */
static size_t sized_len;
static _Atomic int sized_misaligned, sized_corrupt;
static go_chan *sized_done;

static unsigned char pattern_byte(size_t i, size_t len) {
    return (unsigned char)(i * 131 + len * 7 + 1);
}

static void sized_worker(void *p) {
    unsigned char *b = p;
    size_t len = sized_len;
    if ((uintptr_t)b % _Alignof(max_align_t) != 0) atomic_fetch_add(&sized_misaligned, 1);
    for (size_t i = 0; i < len; i++)
        if (b[i] != pattern_byte(i, len)) {
            atomic_fetch_add(&sized_corrupt, 1);
            break;
        }
    memset(b, 0x5A, len);   /* writable, all of it */
    for (size_t i = 0; i < len; i++)
        if (b[i] != 0x5A) {
            atomic_fetch_add(&sized_corrupt, 1);
            break;
        }
    go_chan_send(sized_done, NULL);
}

static void test_spawn_copy_sizes(void) {
    static const size_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100,
                                   4095, 4096, 4097, 65537, 100 << 10};
    static unsigned char buf[100 << 10];
    sized_done = go_chan_make(0, 0);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        sized_len = sizes[k];
        for (size_t i = 0; i < sized_len; i++) buf[i] = pattern_byte(i, sized_len);
        go_spawn_copy(sized_worker, buf, sized_len);
        go_chan_recv(sized_done, NULL);
        for (size_t i = 0; i < sized_len; i++)
            CU_ASSERT_EQUAL_FATAL(buf[i], pattern_byte(i, sized_len)); /* source untouched */
    }
    CU_ASSERT_EQUAL(atomic_load(&sized_misaligned), 0);
    CU_ASSERT_EQUAL(atomic_load(&sized_corrupt), 0);
    go_chan_free(sized_done);
}

static void child_copy_too_large(void) {
    size_t size = go_set_stack_size(0);   /* the whole default stack */
    unsigned char *big = calloc(1, size);
    go_spawn_copy(sized_worker, big, size);
    printf("spawned a copy as large as the stack\n");
}

static void test_spawn_copy_too_large(void) {
    static const char *const lines[] = {
        "panic: go_spawn_copy: argument larger than half the goroutine's stack", NULL};
    expect_child("copy_too_large", NULL, 2, lines);
}

/* go_spawn passes arg through untouched; go() is its shorthand. */
static go_chan *plain_done;

static void plain_worker(void *arg) { go_chan_send(plain_done, &arg); }

static void test_spawn_plain_arg(void) {
    plain_done = go_chan_make(sizeof(void *), 0);
    int local;
    void *got = NULL;
    go_spawn(plain_worker, &local);
    go_chan_recv(plain_done, &got);
    CU_ASSERT_PTR_EQUAL(got, &local);
    go(plain_worker, NULL);
    go_chan_recv(plain_done, &got);
    CU_ASSERT_PTR_NULL(got);
    go_chan_free(plain_done);
}

/* ---- ids ---- */

enum { ID_SPAWNERS = 8, ID_LEAVES = 250 };

struct id_record {
    uint64_t reported;   /* go_id() inside the goroutine */
    uint64_t returned;   /* what go_spawn returned for it */
};

static go_chan *id_reports;

static void id_leaf(void *arg) {
    (void)arg;
    uint64_t id = go_id();
    go_chan_send(id_reports, &id);
}

static void id_spawner(void *arg) {
    uint64_t *returned = arg;
    for (int i = 0; i < ID_LEAVES; i++) returned[i] = go_spawn(id_leaf, NULL);
    id_leaf(NULL);
}

static void ids_body(void) {
    enum { TOTAL = ID_SPAWNERS * (ID_LEAVES + 1) };
    static uint64_t returned[TOTAL], reported[TOTAL];
    size_t base = quiesced();
    id_reports = go_chan_make(sizeof(uint64_t), 64);
    for (int s = 0; s < ID_SPAWNERS; s++)
        returned[ID_SPAWNERS * ID_LEAVES + s] =
            go_spawn(id_spawner, &returned[s * ID_LEAVES]);
    for (int i = 0; i < TOTAL; i++) go_chan_recv(id_reports, &reported[i]);
    CU_ASSERT_TRUE(settle_goroutines(base));   /* every spawner has filled in returned */
    qsort(returned, TOTAL, sizeof *returned, cmp_u64);
    qsort(reported, TOTAL, sizeof *reported, cmp_u64);
    int mismatched = 0, repeated = 0;
    for (int i = 0; i < TOTAL; i++) {
        mismatched += returned[i] != reported[i];
        if (i > 0) repeated += reported[i] == reported[i - 1];
    }
    CU_ASSERT_EQUAL(mismatched, 0);
    CU_ASSERT_EQUAL(repeated, 0);
    CU_ASSERT_TRUE(reported[0] > 1);   /* 1 is main's */
    go_chan_free(id_reports);
}

static void test_ids(void) {
    CU_ASSERT_EQUAL(go_id(), 1);
    AT_PROCS(ids_body, 1, 2, 8);
    CU_ASSERT_EQUAL(go_id(), 1);
}

/* ---- the live count ---- */

static go_chan *count_gate;

static void count_worker(void *arg) {
    (void)arg;
    go_chan_recv(count_gate, NULL);
}

static void count_body(void) {
    enum { N = 500 };
    size_t base = quiesced();
    count_gate = go_chan_make(0, 0);
    for (int i = 0; i < N; i++) {
        go_spawn(count_worker, NULL);
        /* Counted from go_spawn on, whether or not it has started. */
        CU_ASSERT_EQUAL(go_num_goroutine(), base + (size_t)i + 1);
    }
    go_chan_close(count_gate);
    CU_ASSERT_TRUE(settle_goroutines(base));
    go_chan_free(count_gate);
}

static void test_num_goroutine(void) {
    AT_PROCS(count_body, 1, 2, 8);
}

/* ---- names ---- */

static go_chan *name_done;
static _Atomic int name_failures;

static void name_worker(void *arg) {
    (void)arg;
    char buf[32];
    strcpy(buf, "fetcher");
    go_set_name(buf);
    strcpy(buf, "clobbered");          /* the name is copied */
    struct rt_g *gp = rt_getg();
    if (!gp->name || strcmp(gp->name, "fetcher") != 0) atomic_fetch_add(&name_failures, 1);
    go_set_name("renamed");
    if (!gp->name || strcmp(gp->name, "renamed") != 0) atomic_fetch_add(&name_failures, 1);
    go_set_name(NULL);
    if (gp->name) atomic_fetch_add(&name_failures, 1);
    go_set_name("exits named");        /* freed by the exit */
    go_chan_send(name_done, NULL);
}

static void test_set_name(void) {
    name_done = go_chan_make(0, 0);
    go_spawn(name_worker, NULL);
    go_chan_recv(name_done, NULL);
    CU_ASSERT_EQUAL(atomic_load(&name_failures), 0);
    go_chan_free(name_done);
}

static go_chan *never;

static void named_blocker(void *arg) {
    (void)arg;
    go_set_name("fetcher");
    go_chan_recv(never, NULL);
}

static void child_named_deadlock(void) {
    never = go_chan_make(0, 0);
    uint64_t id = go_spawn(named_blocker, NULL);
    if (!yield_until_parked(id, WAIT_CHAN_RECV)) abort();
    printf("fetcher is goroutine %llu\n", (unsigned long long)id);
    go_set_name("main loop");
    go_chan_recv(never, NULL);
}

/* Names show in reports: the child deadlocks with two named goroutines. */
static void test_named_report(void) {
    static harness_result r;
    harness_child("named_deadlock", NULL, 60, &r);
    unsigned long long id = 0;
    const char *p = strstr(r.output, "fetcher is goroutine ");
    bool ok = p && sscanf(p, "fetcher is goroutine %llu", &id) == 1;
    char line[64];
    snprintf(line, sizeof line, "goroutine %llu \"fetcher\" [chan receive]:", id);
    ok = ok && r.exited && r.status == 2 &&
         has_line(r.output, "fatal error: all goroutines are asleep - deadlock!") &&
         has_line(r.output, "goroutine 1 \"main loop\" [chan receive]:") &&
         has_line(r.output, line);
    CU_ASSERT_TRUE(ok);
    show_on_failure(ok, "named_deadlock", &r);
}

/* ---- go_yield ---- */

static _Atomic int yield_flag, yield_waiter_started, yield_failures;
static go_chan *yield_done;

static void yield_waiter(void *arg) {
    (void)arg;
    atomic_store(&yield_waiter_started, 1);
    long spins = 0;
    while (!atomic_load(&yield_flag) && spins < SPIN_LIMIT) {
        go_yield();
        spins++;
    }
    if (!atomic_load(&yield_flag)) atomic_fetch_add(&yield_failures, 1);
    go_chan_send(yield_done, NULL);
}

static void yield_setter(void *arg) {
    (void)arg;
    atomic_store(&yield_flag, 1);
    go_chan_send(yield_done, NULL);
}

/* A ring of goroutines takes turns through a plain shared variable, each
 * spinning with go_yield until its turn: at GOMAXPROCS 1 the ring moves
 * only if every yield lets the others run. */
enum { RING = 16, RING_ROUNDS = 200 };
static _Atomic int ring_turn;

static void ring_member(void *arg) {
    int me = (int)(intptr_t)arg;
    for (int round = 0; round < RING_ROUNDS; round++) {
        long spins = 0;
        while (atomic_load(&ring_turn) != me) {
            if (++spins == SPIN_LIMIT) {
                atomic_fetch_add(&yield_failures, 1);
                go_chan_send(yield_done, NULL);
                return;
            }
            go_yield();
        }
        atomic_store(&ring_turn, (me + 1) % RING);
    }
    go_chan_send(yield_done, NULL);
}

static void test_yield_at_procs_1(void) {
    int saved = go_maxprocs(1);
    yield_done = go_chan_make(0, RING);
    atomic_store(&yield_failures, 0);

    /* The spawned goroutine gets to run while main yields. */
    atomic_store(&yield_flag, 0);
    go_spawn(yield_setter, NULL);
    long spins = 0;
    while (!atomic_load(&yield_flag) && spins++ < SPIN_LIMIT) go_yield();
    CU_ASSERT_EQUAL(atomic_load(&yield_flag), 1);
    go_chan_recv(yield_done, NULL);

    /* A goroutine spinning on go_yield lets one spawned later run. */
    atomic_store(&yield_flag, 0);
    atomic_store(&yield_waiter_started, 0);
    go_spawn(yield_waiter, NULL);
    spins = 0;
    while (!atomic_load(&yield_waiter_started) && spins++ < SPIN_LIMIT) go_yield();
    CU_ASSERT_EQUAL(atomic_load(&yield_waiter_started), 1);
    go_spawn(yield_setter, NULL);
    join(yield_done, 2);
    CU_ASSERT_EQUAL(atomic_load(&yield_failures), 0);

    atomic_store(&ring_turn, 0);
    for (int i = 0; i < RING; i++) go_spawn(ring_member, (void *)(intptr_t)i);
    join(yield_done, RING);
    CU_ASSERT_EQUAL(atomic_load(&yield_failures), 0);
    CU_ASSERT_EQUAL(atomic_load(&ring_turn), 0);

    go_yield();   /* alone: returns at once */
    go_chan_free(yield_done);
    go_maxprocs(saved);
}

/* ---- GOMAXPROCS ---- */

static void test_maxprocs_query_set(void) {
    int saved = go_maxprocs(0);
    CU_ASSERT_TRUE(saved >= 1);
    CU_ASSERT_EQUAL(go_maxprocs(-1), saved);
    CU_ASSERT_EQUAL(go_maxprocs(3), saved);
    CU_ASSERT_EQUAL(go_maxprocs(0), 3);
    CU_ASSERT_EQUAL(go_maxprocs(3), 3);
    CU_ASSERT_EQUAL(go_maxprocs(1), 3);
    CU_ASSERT_EQUAL(go_maxprocs(8), 1);
    CU_ASSERT_EQUAL(go_maxprocs(2), 8);
    CU_ASSERT_EQUAL(go_maxprocs(saved), 2);
    CU_ASSERT_EQUAL(go_maxprocs(0), saved);
}

/* Two goroutines that each wait, without go_yield, for the other to have
 * started can both finish only when they run at the same time. The spins
 * give the CPU back to the OS (not to the scheduler), and only the failure
 * path has a bound. */
static _Atomic int par_main_in, par_peer_in, par_peer_saw_main;

static bool spin_until(bool (*cond)(void *), void *arg) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; !cond(arg); i++) {
        sched_yield();
        if (i % 1024 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - start.tv_sec > 30) return false;
        }
    }
    return true;
}

static bool flag_set(void *flag) { return atomic_load((_Atomic int *)flag); }

static bool spin_for(_Atomic int *flag) { return spin_until(flag_set, flag); }

static void par_peer(void *arg) {
    (void)arg;
    atomic_store(&par_peer_in, 1);
    atomic_store(&par_peer_saw_main, spin_for(&par_main_in));
}

static void test_maxprocs_parallel(void) {
    int saved = go_maxprocs(2);
    size_t base = quiesced();
    atomic_store(&par_main_in, 0);
    atomic_store(&par_peer_in, 0);
    go_spawn(par_peer, NULL);
    atomic_store(&par_main_in, 1);
    CU_ASSERT_TRUE(spin_for(&par_peer_in));
    CU_ASSERT_TRUE(settle_goroutines(base));
    CU_ASSERT_EQUAL(atomic_load(&par_peer_saw_main), 1);
    go_maxprocs(saved);
}

/* Work of every kind while main raises and lowers GOMAXPROCS under it: a
 * token ring over unbuffered channels, mutex-protected counting, sleepers
 * (whose timers live on per-P heaps that retiring Ps hand over) and
 * spawning. Every piece must complete with exact totals. */
enum {
    RS_RING = 32, RS_LAPS = 300,
    RS_LOCKERS = 16, RS_LOCKS = 3000,
    RS_SLEEPERS = 8, RS_SLEEPS = 20,
    RS_SPAWNERS = 4, RS_SPAWNS = 500,
};

static go_chan *rs_ring[RS_RING];
static go_chan *rs_result;
static go_mutex rs_mu;
static long rs_counter;
static _Atomic long rs_spawned, rs_sleeps;
static _Atomic int rs_finished;
static go_waitgroup rs_wg;

static void rs_ring_member(void *arg) {
    int me = (int)(intptr_t)arg;
    go_chan *in = rs_ring[me], *out = rs_ring[(me + 1) % RS_RING];
    for (;;) {
        long token;
        go_chan_recv(in, &token);
        if (token < 0) {             /* shutdown travels once round */
            if (me != RS_RING - 1) go_chan_send(out, &token);
            break;
        }
        token++;
        if (me == RS_RING - 1 && token == (long)RS_RING * RS_LAPS) {
            go_chan_send(rs_result, &token);
            continue;
        }
        go_chan_send(out, &token);
    }
    atomic_fetch_add(&rs_finished, 1);
    go_wg_done(&rs_wg);
}

static void rs_locker(void *arg) {
    (void)arg;
    for (int i = 0; i < RS_LOCKS; i++) {
        go_mutex_lock(&rs_mu);
        rs_counter++;
        go_mutex_unlock(&rs_mu);
        if (i % 64 == 0) go_yield();
    }
    atomic_fetch_add(&rs_finished, 1);
    go_wg_done(&rs_wg);
}

static void rs_sleeper(void *arg) {
    (void)arg;
    for (int i = 0; i < RS_SLEEPS; i++) {
        go_sleep(50 * GO_MICROSECOND);
        atomic_fetch_add(&rs_sleeps, 1);
    }
    atomic_fetch_add(&rs_finished, 1);
    go_wg_done(&rs_wg);
}

static void rs_leaf(void *arg) {
    (void)arg;
    atomic_fetch_add(&rs_spawned, 1);
    go_wg_done(&rs_wg);
}

static void rs_spawner(void *arg) {
    (void)arg;
    for (int i = 0; i < RS_SPAWNS; i++) {
        go_wg_add(&rs_wg, 1);
        go_spawn(rs_leaf, NULL);
    }
    atomic_fetch_add(&rs_finished, 1);
    go_wg_done(&rs_wg);
}

static void test_maxprocs_resize_while_running(void) {
    static const int sequence[] = {1, 8, 2, 1, 3, 8, 1, 2, 5, 1, 8, 2};
    enum { WORKERS = RS_LOCKERS + RS_SLEEPERS + RS_SPAWNERS };
    int saved = go_maxprocs(2);
    size_t base = quiesced();
    memset(&rs_wg, 0, sizeof rs_wg);
    rs_counter = 0;
    atomic_store(&rs_spawned, 0);
    atomic_store(&rs_sleeps, 0);
    atomic_store(&rs_finished, 0);
    rs_result = go_chan_make(sizeof(long), 1);
    for (int i = 0; i < RS_RING; i++) rs_ring[i] = go_chan_make(sizeof(long), 0);
    go_wg_add(&rs_wg, RS_RING + WORKERS);
    for (int i = 0; i < RS_RING; i++) go_spawn(rs_ring_member, (void *)(intptr_t)i);
    for (int i = 0; i < RS_LOCKERS; i++) go_spawn(rs_locker, NULL);
    for (int i = 0; i < RS_SLEEPERS; i++) go_spawn(rs_sleeper, NULL);
    for (int i = 0; i < RS_SPAWNERS; i++) go_spawn(rs_spawner, NULL);
    long token = 0;
    go_chan_send(rs_ring[0], &token);

    size_t step = 0;
    long resizes = 0;
    while (atomic_load(&rs_finished) < WORKERS || go_chan_len(rs_result) == 0) {
        go_maxprocs(sequence[step++ % (sizeof sequence / sizeof *sequence)]);
        resizes++;
        for (int i = 0; i < 8; i++) go_yield();
        CU_ASSERT_FATAL(resizes < SPIN_LIMIT);
    }
    go_chan_recv(rs_result, &token);
    CU_ASSERT_EQUAL(token, (long)RS_RING * RS_LAPS);
    token = -1;
    go_chan_send(rs_ring[0], &token);
    go_maxprocs(8);
    go_wg_wait(&rs_wg);
    CU_ASSERT_EQUAL(rs_counter, (long)RS_LOCKERS * RS_LOCKS);
    CU_ASSERT_EQUAL(atomic_load(&rs_sleeps), (long)RS_SLEEPERS * RS_SLEEPS);
    CU_ASSERT_EQUAL(atomic_load(&rs_spawned), (long)RS_SPAWNERS * RS_SPAWNS);
    CU_ASSERT_TRUE(settle_goroutines(base));
    for (int i = 0; i < RS_RING; i++) go_chan_free(rs_ring[i]);
    go_chan_free(rs_result);
    go_maxprocs(saved);
}

/* A P whose M lets go of it after GOMAXPROCS shrank below it retires: it
 * never joins the idle list, whose length find_runnable takes as the
 * number of Ps not in use (an idle list longer than GOMAXPROCS stopped the
 * M woken for a due timer from spinning, so a timer on another idle P
 * never ran). Here the M lets go of it in a system call: the victim
 * blocks in read() on a P above the new GOMAXPROCS, with idle Ps below it,
 * until sysmon retakes that P and hands it off. In a child, so the
 * runtime is quiet and nothing else takes the P off the idle list. */
static struct {
    int pipe[2];
    _Atomic int p_id;      /* the victim's P, -1 until it knows */
    _Atomic int in_call;
    go_waitgroup wg;
} rp;

static void retake_victim(void *arg) {
    (void)arg;
    atomic_store(&rp.p_id, rt_getm()->p->id);
    go_syscall_enter();
    atomic_store(&rp.in_call, 1);
    char byte;
    bool got = read(rp.pipe[0], &byte, 1) == 1;
    go_syscall_exit();
    if (!got) abort();
    go_wg_done(&rp.wg);
}

static void release_victim(void) {
    if (write(rp.pipe[1], "x", 1) != 1) abort();
    go_wg_wait(&rp.wg);
}

static bool on_idle_list(struct rt_p *p) {
    bool found = false;
    rt_lock_acquire(&rt_sched.lock);
    for (struct rt_p *q = rt_sched.pidle; q; q = q->idle_link) found |= q == p;
    rt_lock_release(&rt_sched.lock);
    return found;
}

static bool let_go(void *p) {
    return atomic_load(&((struct rt_p *)p)->status) == P_RETIRED || on_idle_list(p);
}

static void child_retake_after_shrink(void) {
    if (pipe(rp.pipe) != 0) abort();
    /* Main on P 0, the others idle: the victim, stolen from main (which
     * spins without yielding), lands on another P, most likely the
     * highest. It needs one above P 1, so that a P other than main's stays
     * idle below the new GOMAXPROCS: sysmon then hands the victim's P to
     * the idle list rather than to a new M. And sysmon must retake it
     * after the shrink, not before: else try again. */
    go_maxprocs(1);
    go_maxprocs(4);
    struct rt_p *p = NULL;
    for (int attempt = 0; attempt < 100 && !p; attempt++) {
        atomic_store(&rp.p_id, -1);
        atomic_store(&rp.in_call, 0);
        go_wg_add(&rp.wg, 1);
        go_spawn(retake_victim, NULL);
        if (!spin_for(&rp.in_call)) abort();
        int victim = atomic_load(&rp.p_id);
        if (victim >= 2) {
            go_maxprocs(victim);
            if (atomic_load(&rt_sched.allp[victim]->status) == P_SYSCALL) {
                p = rt_sched.allp[victim];
                break;
            }
            go_maxprocs(4);
        }
        release_victim();
    }
    if (!p) abort();
    /* Spinning, not yielding: main stays off the global queue, which
     * would send sysmon's hand-off down another path. */
    spin_until(let_go, p);
    printf("victim on P %d of 4, GOMAXPROCS now %d\n%s\n", p->id, p->id,
           atomic_load(&p->status) == P_RETIRED ? "retired"
           : on_idle_list(p)                     ? "idle beyond GOMAXPROCS"
                                                 : "never retaken");
    release_victim();
}

static void test_maxprocs_retake_after_shrink(void) {
    static const char *const env1[] = {"GOMAXPROCS=1", NULL};
    static const char *const lines[] = {"retired", NULL};
    expect_child("retake_after_shrink", env1, 0, lines);
}

/* GOMAXPROCS from the environment, read at start-up. */
static void child_print_maxprocs(void) {
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
    printf("maxprocs=%d\n", go_maxprocs(0));
    printf("cpus=%d\n", cpus);
}

static void test_maxprocs_env(void) {
    static const char *const env3[] = {"GOMAXPROCS=3", NULL};
    static const char *const lines3[] = {"maxprocs=3", NULL};
    expect_child("print_maxprocs", env3, 0, lines3);
    static const char *const env1[] = {"GOMAXPROCS=1", NULL};
    static const char *const lines1[] = {"maxprocs=1", NULL};
    expect_child("print_maxprocs", env1, 0, lines1);

    /* Unset or empty: the CPUs this process may run on. */
    static const char *const unset[] = {NULL};
    static const char *const empty[] = {"GOMAXPROCS=", NULL};
    const char *const *envs[] = {unset, empty};
    for (int k = 0; k < 2; k++) {
        static harness_result r;
        harness_child("print_maxprocs", envs[k], 60, &r);
        int procs = -2, cpus = -3;
        const char *p = strstr(r.output, "maxprocs="), *q = strstr(r.output, "cpus=");
        if (p) sscanf(p, "maxprocs=%d", &procs);
        if (q) sscanf(q, "cpus=%d", &cpus);
        bool ok = r.exited && r.status == 0 && procs == cpus && procs >= 1;
        CU_ASSERT_TRUE(ok);
        show_on_failure(ok, "print_maxprocs", &r);
    }
}

static void test_maxprocs_env_bad(void) {
    static const char *const bad[] = {"abc", "0", "-1", "2x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char env_entry[32], message[64];
        snprintf(env_entry, sizeof env_entry, "GOMAXPROCS=%s", bad[i]);
        snprintf(message, sizeof message, "bad GOMAXPROCS=%s", bad[i]);
        const char *const env[] = {env_entry, NULL};
        static harness_result r;
        harness_child("print_maxprocs", env, 60, &r);
        bool ok = r.exited && r.status == 2 && strstr(r.output, message) &&
                  !strstr(r.output, "maxprocs=");
        CU_ASSERT_TRUE(ok);
        show_on_failure(ok, env_entry, &r);
    }
}

/* ---- go_exit ---- */

static _Atomic int exit_overran;
static go_chan *exit_started;

static __attribute__((noinline)) void exit_from_depth(int depth) {
    if (depth == 0) go_exit();
    exit_from_depth(depth - 1);
    atomic_store(&exit_overran, 1);
}

static void exiting_worker(void *arg) {
    (void)arg;
    go_set_name("about to exit");
    go_chan_send(exit_started, NULL);
    exit_from_depth(3);
    atomic_store(&exit_overran, 1);
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

static void exit_body(void) {
    enum { EXITERS = 300, PINGS = 2000 };
    size_t base = quiesced();
    atomic_store(&exit_overran, 0);
    exit_started = go_chan_make(0, EXITERS);
    pp_ping = go_chan_make(sizeof(long), 0);
    pp_pong = go_chan_make(sizeof(long), 0);
    go_spawn(pong_worker, (void *)(intptr_t)PINGS);
    for (int i = 0; i < EXITERS; i++) go_spawn(exiting_worker, NULL);
    /* The others carry on while those exit. */
    long v = 0;
    for (int i = 0; i < PINGS; i++) {
        go_chan_send(pp_ping, &v);
        go_chan_recv(pp_pong, &v);
    }
    CU_ASSERT_EQUAL(v, PINGS);
    join(exit_started, EXITERS);
    CU_ASSERT_TRUE(settle_goroutines(base));
    CU_ASSERT_EQUAL(atomic_load(&exit_overran), 0);
    go_chan_free(exit_started);
    go_chan_free(pp_ping);
    go_chan_free(pp_pong);
}

static void test_exit_from_goroutine(void) { AT_PROCS(exit_body, 1, 2, 8); }

/* main leaves with go_exit; a chain of workers finishes the job. */
enum { CHAIN = 3 };
static go_chan *chain[CHAIN + 1];   /* worker i reads chain[i] */

static void chain_worker(void *arg) {
    int stage = (int)(intptr_t)arg;
    int v;
    go_chan_recv(chain[stage], &v);
    printf("worker %d got %d\n", stage, v);
    fflush(stdout);
    if (stage < CHAIN) {
        v *= 10;
        go_chan_send(chain[stage + 1], &v);
    }
}

static void child_exit_main_then_none(void) {
    for (int i = 1; i <= CHAIN; i++) {
        chain[i] = go_chan_make(sizeof(int), 0);
        go_spawn(chain_worker, (void *)(intptr_t)i);
    }
    int v = 7;
    go_chan_send(chain[1], &v);
    printf("main exits\n");
    go_exit();
}

static void test_exit_main_none_left(void) {
    static const char *const lines[] = {
        "main exits", "worker 1 got 7", "worker 2 got 70", "worker 3 got 700",
        "fatal error: no goroutines (main called go_exit) - deadlock!", NULL};
    expect_child("exit_main_then_none", NULL, 2, lines);
    static const char *const env1[] = {"GOMAXPROCS=1", NULL};
    expect_child("exit_main_then_none", env1, 2, lines);
}

/* After main's go_exit, a goroutine left blocked forever is an ordinary
 * deadlock; main, gone, is not listed. */
static void child_exit_main_then_blocked(void) {
    never = go_chan_make(0, 0);
    go_spawn(named_blocker, NULL);
    go_exit();
}

static void test_exit_main_others_blocked(void) {
    static harness_result r;
    harness_child("exit_main_then_blocked", NULL, 60, &r);
    bool ok = r.exited && r.status == 2 &&
              has_line(r.output, "fatal error: all goroutines are asleep - deadlock!") &&
              strstr(r.output, "\"fetcher\" [chan receive]:") &&
              !has_line_prefix(r.output, "goroutine 1 ");
    CU_ASSERT_TRUE(ok);
    show_on_failure(ok, "exit_main_then_blocked", &r);
}

/* After main's go_exit the process lives on until a goroutine ends it. */
static void exiting_process(void *arg) {
    (void)arg;
    for (int i = 0; i < 100; i++) go_yield();
    go_sleep(GO_MILLISECOND);
    printf("last goroutine calls exit\n");
    exit(7);
}

static void child_exit_main_then_exit(void) {
    go_spawn(exiting_process, NULL);
    go_exit();
}

static void test_exit_main_then_process_exit(void) {
    static const char *const lines[] = {"last goroutine calls exit", NULL};
    expect_child("exit_main_then_exit", NULL, 7, lines);
}

/* ---- main's return ---- */

static void forever_yielding(void *arg) {
    (void)arg;
    for (;;) go_yield();
}

static void forever_sleeping(void *arg) {
    (void)arg;
    go_sleep(3600 * GO_SECOND);
}

static void blocker(void *arg) {
    (void)arg;
    go_chan_recv(never, NULL);
}

static void child_main_returns(void) {
    never = go_chan_make(0, 0);
    for (int i = 0; i < 1000; i++) go_spawn(blocker, NULL);
    go_spawn(forever_sleeping, NULL);
    for (int i = 0; i < 3; i++) go_spawn(forever_yielding, NULL);
    for (int i = 0; i < 100; i++) go_yield();
    printf("main returns with %zu goroutines\n", go_num_goroutine());
}

static void test_main_return_ends_process(void) {
    static const char *const lines[] = {"main returns with 1005 goroutines", NULL};
    expect_child("main_returns", NULL, 0, lines);
    static const char *const env1[] = {"GOMAXPROCS=1", NULL};
    expect_child("main_returns", env1, 0, lines);
}

/* What goroutines killed by main's return still reference (their names,
 * heap blocks held in their locals) is not a leak: a sanitizer build's
 * leak check at exit must see it as reachable. */
static void holding_blocker(void *arg) {
    (void)arg;
    go_set_name("holder");
    char *volatile held = malloc(100);
    go_chan_recv(never, NULL);
    free(held);
}

static void child_main_returns_holding(void) {
    never = go_chan_make(0, 0);
    for (int i = 0; i < 100; i++) go_spawn(holding_blocker, NULL);
    for (int i = 0; i < 200; i++) go_yield();
    printf("main returns\n");
}

static void test_main_return_with_held_memory(void) {
    static const char *const lines[] = {"main returns", NULL};
    expect_child("main_returns_holding", NULL, 0, lines);
}

/* ---- stopping the world (rt_world_stop, the leak finder's) ---- */

static _Atomic long world_steps;
static _Atomic int world_quit;
static go_waitgroup world_done;

/* Reaches a schedule point at every step. */
static void world_yielder(void *arg) {
    (void)arg;
    while (!atomic_load(&world_quit)) {
        atomic_fetch_add(&world_steps, 1);
        go_yield();
    }
    go_wg_done(&world_done);
}

/* Reaches none until told to stop. */
static void world_spinner(void *arg) {
    (void)arg;
    atomic_fetch_add(&world_steps, 1);
    while (!atomic_load(&world_quit)) {}
    go_wg_done(&world_done);
}

static void world_begin(go_func fn, int goroutines) {
    atomic_store(&world_quit, 0);
    atomic_store(&world_steps, 0);
    go_wg_add(&world_done, goroutines);
    for (int i = 0; i < goroutines; i++) go_spawn(fn, NULL);
    while (atomic_load(&world_steps) < goroutines) go_yield();
}

static void world_end(void) {
    atomic_store(&world_quit, 1);
    go_wg_wait(&world_done);
}

/* While stopped nothing else runs and no timer fires, however long the
 * caller keeps the world (here 3 ms past a 1 ms timer's deadline). */
static void test_world_stop_freezes(void) {
    int saved = go_maxprocs(3);
    world_begin(world_yielder, 4);
    go_timer *t = go_timer_make(GO_MILLISECOND);
    bool stopped = false;
    for (int attempt = 0; attempt < 100 && !stopped; attempt++) stopped = rt_world_stop();
    CU_ASSERT_FATAL(stopped);
    long frozen = atomic_load(&world_steps);
    int64_t until = go_nanotime() + 4 * GO_MILLISECOND;
    while (go_nanotime() < until) sched_yield();
    CU_ASSERT_EQUAL(atomic_load(&world_steps), frozen);
    CU_ASSERT_EQUAL(go_chan_len(go_timer_chan(t)), 0);
    rt_world_start();
    CU_ASSERT_TRUE(go_chan_recv(go_timer_chan(t), NULL));
    while (atomic_load(&world_steps) == frozen) go_yield();
    world_end();
    go_timer_free(t);
    go_maxprocs(saved);
}

/* A goroutine that never reaches a schedule point keeps its P: the stop
 * gives up and hands back what it took, and the world runs on. */
static void test_world_stop_gives_up(void) {
    int saved = go_maxprocs(2);
    world_begin(world_spinner, 1);
    CU_ASSERT_FALSE(rt_world_stop());
    CU_ASSERT_FALSE(atomic_load(&rt_sched.stop_wanted));
    world_end();
    world_begin(world_yielder, 2);
    world_end();
    go_maxprocs(saved);
}

int main(int argc, char **argv) {
    /* Children get GOMAXPROCS only from the cases' own environments
     * (harness_child appends to ours, and getenv finds the first). */
    unsetenv("GOMAXPROCS");
    static const harness_case spawn_cases[] = {
        {"go_spawn passes arg; go() shorthand", test_spawn_plain_arg},
        {"go_spawn_copy: private aligned writable copies", test_spawn_copy_private},
        {"go_spawn_copy: every size, up to 100 KiB", test_spawn_copy_sizes},
        {"go_spawn_copy: larger than half the stack panics", test_spawn_copy_too_large},
        {NULL, NULL}};
    static const harness_case goroutine_cases[] = {
        {"go_id: main is 1, ids unique", test_ids},
        {"go_num_goroutine counts live goroutines", test_num_goroutine},
        {"go_set_name", test_set_name},
        {"go_set_name shows in reports", test_named_report},
        {"go_yield lets others run at GOMAXPROCS 1", test_yield_at_procs_1},
        {NULL, NULL}};
    static const harness_case maxprocs_cases[] = {
        {"query and set return the previous value", test_maxprocs_query_set},
        {"GOMAXPROCS 2 runs two goroutines at once", test_maxprocs_parallel},
        {"raising and lowering while goroutines run", test_maxprocs_resize_while_running},
        {"a P left in a system call retires after a shrink", test_maxprocs_retake_after_shrink},
        {"stopping the world freezes goroutines and timers", test_world_stop_freezes},
        {"stopping the world gives up beside a spinner", test_world_stop_gives_up},
        {"GOMAXPROCS from the environment", test_maxprocs_env},
        {"bad GOMAXPROCS is an error, exit 2", test_maxprocs_env_bad},
        {NULL, NULL}};
    static const harness_case exit_cases[] = {
        {"go_exit from goroutines; others continue", test_exit_from_goroutine},
        {"go_exit from main, then nothing left", test_exit_main_none_left},
        {"go_exit from main, others blocked", test_exit_main_others_blocked},
        {"go_exit from main, a goroutine exits the process", test_exit_main_then_process_exit},
        {"main returning ends the process", test_main_return_ends_process},
        {"main returning: what goroutines hold is no leak", test_main_return_with_held_memory},
        {NULL, NULL}};
    static const harness_suite suites[] = {
        {"spawn", spawn_cases},
        {"goroutines", goroutine_cases},
        {"maxprocs", maxprocs_cases},
        {"exit", exit_cases},
        {NULL, NULL}};
    static const harness_child_fn children[] = {
        {"copy_too_large", child_copy_too_large},
        {"named_deadlock", child_named_deadlock},
        {"print_maxprocs", child_print_maxprocs},
        {"retake_after_shrink", child_retake_after_shrink},
        {"exit_main_then_none", child_exit_main_then_none},
        {"exit_main_then_blocked", child_exit_main_then_blocked},
        {"exit_main_then_exit", child_exit_main_then_exit},
        {"main_returns", child_main_returns},
        {"main_returns_holding", child_main_returns_holding},
        {NULL, NULL}};
    return harness_main(argc, argv, suites, children);
}

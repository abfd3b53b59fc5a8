/* test_sync.c - Mutex, RWMutex, WaitGroup, Once and Cond.
 *
 * Stress cases run at GOMAXPROCS 1, 2 and 8 in this process (go_maxprocs);
 * they check invariants (mutual exclusion, counts, orderings) and never how
 * long anything took. Cases whose outcome is a fatal error, a panic or a
 * deadlock report run in a child process and check its exit status and
 * exact report lines. Some cases look at private state (the sync fields,
 * the goroutines' wait reasons) only to know that a goroutine has reached a
 * given point, so that an ordering can be asserted without sleeping. */
#include <goroutine.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "probes.h"
#include "sema.h"

/* ---- Mutex ---- */

enum { MUTEX_WORKERS = 50, MUTEX_ROUNDS = 2000 };

static struct {
    go_mutex mu;
    long counter;              /* protected by mu */
    atomic_int inside;
    atomic_int violations;
    go_waitgroup wg;
} mx;

static void mutex_worker(void *arg) {
    bool use_trylock = (intptr_t)arg % 4 == 0;
    for (int i = 0; i < MUTEX_ROUNDS; i++) {
        if (!(use_trylock && go_mutex_trylock(&mx.mu)))
            go_mutex_lock(&mx.mu);
        if (atomic_fetch_add(&mx.inside, 1) != 0)
            atomic_fetch_add(&mx.violations, 1);
        mx.counter++;
        if (i % 64 == 0)
            go_yield(); /* hold the lock across a reschedule now and then */
        atomic_fetch_sub(&mx.inside, 1);
        go_mutex_unlock(&mx.mu);
    }
    go_wg_done(&mx.wg);
}

static void mutex_contention_body(void) {
    memset(&mx, 0, sizeof mx);
    go_wg_add(&mx.wg, MUTEX_WORKERS);
    for (intptr_t i = 0; i < MUTEX_WORKERS; i++)
        go_spawn(mutex_worker, (void *)i);
    go_wg_wait(&mx.wg);
    CU_ASSERT_EQUAL(mx.counter, (long)MUTEX_WORKERS * MUTEX_ROUNDS);
    CU_ASSERT_EQUAL(atomic_load(&mx.violations), 0);
    CU_ASSERT_EQUAL(mx.mu.state_, 0);
}

static void test_mutex_contention(void) { AT_PROCS(mutex_contention_body, 1, 2, 8); }

static atomic_int trylock_seen;

static void trylock_from_other(void *arg) {
    go_mutex *m = arg;
    atomic_store(&trylock_seen, go_mutex_trylock(m) ? 1 : 2);
}

static void test_mutex_trylock(void) {
    go_mutex m = {0};
    CU_ASSERT_TRUE(go_mutex_trylock(&m));
    CU_ASSERT_FALSE(go_mutex_trylock(&m));
    atomic_store(&trylock_seen, 0);
    go_spawn(trylock_from_other, &m);
    YIELD_UNTIL(atomic_load(&trylock_seen) != 0);
    CU_ASSERT_EQUAL(atomic_load(&trylock_seen), 2);
    go_mutex_unlock(&m);
    CU_ASSERT_TRUE(go_mutex_trylock(&m));
    go_mutex_unlock(&m);
    go_mutex_lock(&m);
    CU_ASSERT_FALSE(go_mutex_trylock(&m));
    go_mutex_unlock(&m);
    CU_ASSERT_EQUAL(m.state_, 0);
}

static void unlock_it(void *arg) { go_mutex_unlock(arg); }

static void mutex_unlock_by_other_body(void) {
    go_mutex m = {0};
    for (int i = 0; i < 100; i++) {
        go_mutex_lock(&m);
        go_spawn(unlock_it, &m);
        go_mutex_lock(&m); /* blocks until the other goroutine unlocks */
        go_mutex_unlock(&m);
    }
    CU_ASSERT_EQUAL(m.state_, 0);
}

static void test_mutex_unlock_by_other(void) { AT_PROCS(mutex_unlock_by_other_body, 1, 2, 8); }

/* Starvation: hammers take the lock back-to-back and hold it for a while
 * (yielding, so the others run and queue up even at GOMAXPROCS 1), so a
 * victim that has to wait soon waits longer than the 1 ms threshold. In
 * normal mode a running hammer re-locks before the woken victim gets to
 * try, so the victim switches the mutex to starvation mode; the next unlock
 * hands it over directly. Whoever holds the lock records seeing the
 * STARVING bit. The victim must keep getting the lock (the loop
 * ends), and the mutex must be back in normal mode (state 0) once everyone
 * has stopped. */
enum { STARVE_HAMMERS = 3, STARVE_VICTIM_ROUNDS = 20 };

static struct {
    go_mutex mu;
    atomic_bool stop;
    atomic_int starving_seen;
    go_waitgroup hammers;
} sv;

/* Called with sv.mu held. */
static void note_starvation_mode(void) {
    if (__atomic_load_n(&sv.mu.state_, __ATOMIC_RELAXED) & RT_MUTEX_STARVING)
        atomic_fetch_add(&sv.starving_seen, 1);
}

static void starve_hammer(void *arg) {
    while (!atomic_load(&sv.stop)) {
        go_mutex_lock(&sv.mu);
        note_starvation_mode();
        /* Hold the lock a while, letting everyone else run and queue. */
        int64_t until = go_nanotime() + 300 * GO_MICROSECOND;
        while (go_nanotime() < until)
            go_yield();
        go_mutex_unlock(&sv.mu);
    }
    go_wg_done(&sv.hammers);
}

static void mutex_starvation_body(void) {
    memset(&sv, 0, sizeof sv);
    go_wg_add(&sv.hammers, STARVE_HAMMERS);
    for (int i = 0; i < STARVE_HAMMERS; i++)
        go_spawn(starve_hammer, NULL);
    /* Take the lock as the victim, yielding in between so the hammers run
     * even at GOMAXPROCS 1, until starvation mode has been seen. */
    for (int rounds = 0; rounds < STARVE_VICTIM_ROUNDS ||
                         (atomic_load(&sv.starving_seen) == 0 && rounds < 5000);
         rounds++) {
        go_mutex_lock(&sv.mu);
        note_starvation_mode();
        go_mutex_unlock(&sv.mu);
        go_yield();
    }
    atomic_store(&sv.stop, true);
    go_wg_wait(&sv.hammers);
    CU_ASSERT_TRUE(atomic_load(&sv.starving_seen) > 0);
    CU_ASSERT_EQUAL(sv.mu.state_, 0);
}

static void test_mutex_starvation(void) { AT_PROCS(mutex_starvation_body, 1, 2, 8); }

/* ---- RWMutex ---- */

enum { RW_READERS = 8 };

static struct {
    go_rwmutex rw;
    atomic_int readers_in;
    atomic_int writers_in;
    atomic_int violations;
    atomic_int seq;
    int writer_done_at, reader_got_at;
    go_waitgroup wg;
} rws;

static void parallel_reader(void *arg) {
    go_rwmutex_rlock(&rws.rw);
    atomic_fetch_add(&rws.readers_in, 1);
    /* Every reader holds the lock until all of them do: only possible if
     * read locks are shared. */
    long spins = 0;
    while (atomic_load(&rws.readers_in) < RW_READERS && ++spins < 50000000L)
        go_yield();
    if (atomic_load(&rws.readers_in) < RW_READERS)
        atomic_fetch_add(&rws.violations, 1);
    go_rwmutex_runlock(&rws.rw);
    go_wg_done(&rws.wg);
}

static void rwmutex_parallel_readers_body(void) {
    memset(&rws, 0, sizeof rws);
    go_wg_add(&rws.wg, RW_READERS);
    for (int i = 0; i < RW_READERS; i++)
        go_spawn(parallel_reader, NULL);
    go_wg_wait(&rws.wg);
    CU_ASSERT_EQUAL(atomic_load(&rws.violations), 0);
    CU_ASSERT_EQUAL(rws.rw.reader_count_, 0);
}

static void test_rwmutex_parallel_readers(void) { AT_PROCS(rwmutex_parallel_readers_body, 1, 2, 8); }

enum { RW_MIX_WORKERS = 24, RW_MIX_ROUNDS = 1500 };
static long rw_protected; /* written by writers only */

static void rw_mixed_worker(void *arg) {
    bool writer = (intptr_t)arg % 3 == 0;
    for (int i = 0; i < RW_MIX_ROUNDS; i++) {
        if (writer) {
            go_rwmutex_lock(&rws.rw);
            if (atomic_fetch_add(&rws.writers_in, 1) != 0 ||
                atomic_load(&rws.readers_in) != 0)
                atomic_fetch_add(&rws.violations, 1);
            rw_protected++;
            if (i % 32 == 0)
                go_yield();
            atomic_fetch_sub(&rws.writers_in, 1);
            go_rwmutex_unlock(&rws.rw);
        } else {
            go_rwmutex_rlock(&rws.rw);
            atomic_fetch_add(&rws.readers_in, 1);
            if (atomic_load(&rws.writers_in) != 0)
                atomic_fetch_add(&rws.violations, 1);
            long seen = rw_protected;
            if (i % 32 == 0)
                go_yield();
            if (rw_protected != seen)
                atomic_fetch_add(&rws.violations, 1);
            atomic_fetch_sub(&rws.readers_in, 1);
            go_rwmutex_runlock(&rws.rw);
        }
    }
    go_wg_done(&rws.wg);
}

static void rwmutex_writer_exclusion_body(void) {
    memset(&rws, 0, sizeof rws);
    rw_protected = 0;
    go_wg_add(&rws.wg, RW_MIX_WORKERS);
    for (intptr_t i = 0; i < RW_MIX_WORKERS; i++)
        go_spawn(rw_mixed_worker, (void *)i);
    go_wg_wait(&rws.wg);
    CU_ASSERT_EQUAL(atomic_load(&rws.violations), 0);
    CU_ASSERT_EQUAL(rw_protected, (long)(RW_MIX_WORKERS / 3) * RW_MIX_ROUNDS);
    CU_ASSERT_EQUAL(rws.rw.reader_count_, 0);
    CU_ASSERT_EQUAL(rws.rw.reader_wait_, 0);
    CU_ASSERT_EQUAL(rws.rw.w_.state_, 0);
}

static void test_rwmutex_writer_exclusion(void) { AT_PROCS(rwmutex_writer_exclusion_body, 1, 2, 8); }

static void pending_writer(void *arg) {
    go_rwmutex_lock(&rws.rw);
    rws.writer_done_at = atomic_fetch_add(&rws.seq, 1);
    go_rwmutex_unlock(&rws.rw);
    go_wg_done(&rws.wg);
}

static void late_reader(void *arg) {
    go_rwmutex_rlock(&rws.rw);
    rws.reader_got_at = atomic_fetch_add(&rws.seq, 1);
    go_rwmutex_runlock(&rws.rw);
    go_wg_done(&rws.wg);
}

/* A reader that arrives while a reader holds the lock and a writer waits
 * must wait for that writer. reader_count_ tells us (not the clock) that
 * the writer is pending and that the late reader has announced itself. */
static void rwmutex_writer_preference_body(void) {
    memset(&rws, 0, sizeof rws);
    go_wg_add(&rws.wg, 2);
    go_rwmutex_rlock(&rws.rw);
    go_spawn(pending_writer, NULL);
    YIELD_UNTIL(__atomic_load_n(&rws.rw.reader_count_, __ATOMIC_SEQ_CST) < 0);
    int32_t with_writer = __atomic_load_n(&rws.rw.reader_count_, __ATOMIC_SEQ_CST);
    go_spawn(late_reader, NULL);
    YIELD_UNTIL(__atomic_load_n(&rws.rw.reader_count_, __ATOMIC_SEQ_CST) ==
                with_writer + 1);
    CU_ASSERT_EQUAL(atomic_load(&rws.seq), 0);
    go_rwmutex_runlock(&rws.rw);
    go_wg_wait(&rws.wg);
    CU_ASSERT_EQUAL(rws.writer_done_at, 0);
    CU_ASSERT_EQUAL(rws.reader_got_at, 1);
    CU_ASSERT_EQUAL(rws.rw.reader_count_, 0);
}

static void test_rwmutex_writer_preference(void) { AT_PROCS(rwmutex_writer_preference_body, 1, 2, 8); }

/* ---- WaitGroup ---- */

enum { WG_FANOUT = 1000, WG_WAITERS = 5, WG_REUSE_ROUNDS = 200 };

static struct {
    go_waitgroup work;
    go_waitgroup waiters_done;
    atomic_int finished;
    atomic_int early_wakeups;
    int expected;
} wgs;

static void wg_worker(void *arg) {
    if ((intptr_t)arg % 7 == 0)
        go_yield();
    atomic_fetch_add(&wgs.finished, 1);
    go_wg_done(&wgs.work);
}

static void wg_extra_waiter(void *arg) {
    go_wg_wait(&wgs.work);
    if (atomic_load(&wgs.finished) != wgs.expected)
        atomic_fetch_add(&wgs.early_wakeups, 1);
    go_wg_done(&wgs.waiters_done);
}

static void waitgroup_fanout_body(void) {
    memset(&wgs, 0, sizeof wgs);
    wgs.expected = WG_FANOUT;
    go_wg_add(&wgs.work, WG_FANOUT);
    go_wg_add(&wgs.waiters_done, WG_WAITERS);
    for (int i = 0; i < WG_WAITERS; i++)
        go_spawn(wg_extra_waiter, NULL);
    for (intptr_t i = 0; i < WG_FANOUT; i++)
        go_spawn(wg_worker, (void *)i);
    go_wg_wait(&wgs.work);
    CU_ASSERT_EQUAL(atomic_load(&wgs.finished), WG_FANOUT);
    go_wg_wait(&wgs.waiters_done);
    CU_ASSERT_EQUAL(atomic_load(&wgs.early_wakeups), 0);
    CU_ASSERT_EQUAL(wgs.work.state_, 0);
}

static void test_waitgroup_fanout(void) { AT_PROCS(waitgroup_fanout_body, 1, 2, 8); }

/* Each round reuses both groups once every Wait of the previous round has
 * returned (waiters_done guarantees that). */
static void waitgroup_reuse_body(void) {
    memset(&wgs, 0, sizeof wgs);
    for (int round = 0; round < WG_REUSE_ROUNDS; round++) {
        int workers = 1 + round % 13;
        wgs.expected += workers;
        go_wg_add(&wgs.work, workers);
        go_wg_add(&wgs.waiters_done, WG_WAITERS);
        for (int i = 0; i < WG_WAITERS; i++)
            go_spawn(wg_extra_waiter, NULL);
        for (intptr_t i = 0; i < workers; i++)
            go_spawn(wg_worker, (void *)i);
        go_wg_wait(&wgs.work);
        go_wg_wait(&wgs.waiters_done);
    }
    CU_ASSERT_EQUAL(atomic_load(&wgs.finished), wgs.expected);
    CU_ASSERT_EQUAL(atomic_load(&wgs.early_wakeups), 0);
    CU_ASSERT_EQUAL(wgs.work.state_, 0);
    CU_ASSERT_EQUAL(wgs.waiters_done.state_, 0);
}

static void test_waitgroup_reuse(void) { AT_PROCS(waitgroup_reuse_body, 1, 2, 8); }

static void test_waitgroup_zero(void) {
    go_waitgroup wg = {0};
    go_wg_wait(&wg); /* counter zero: returns at once */
    go_wg_add(&wg, 3);
    go_wg_add(&wg, -2);
    go_wg_done(&wg);
    go_wg_wait(&wg);
    CU_ASSERT_EQUAL(wg.state_, 0);
}

/* ---- Once ---- */

enum { ONCE_CALLERS = 64 };

static struct {
    go_once once;
    atomic_int runs;
    atomic_bool fn_returned;
    atomic_int early_returns;
    go_waitgroup wg;
} on;

static void once_fn(void *arg) {
    atomic_fetch_add(&on.runs, 1);
    CU_ASSERT_PTR_EQUAL(arg, &on);
    /* Give the other callers time to pile up behind us. */
    for (int i = 0; i < 100; i++)
        go_yield();
    go_sleep(GO_MILLISECOND);
    atomic_store(&on.fn_returned, true);
}

static void once_caller(void *arg) {
    go_once_do(&on.once, once_fn, &on);
    if (!atomic_load(&on.fn_returned))
        atomic_fetch_add(&on.early_returns, 1);
    go_wg_done(&on.wg);
}

static void once_concurrent_body(void) {
    memset(&on, 0, sizeof on);
    go_wg_add(&on.wg, ONCE_CALLERS);
    for (int i = 0; i < ONCE_CALLERS; i++)
        go_spawn(once_caller, NULL);
    go_wg_wait(&on.wg);
    go_once_do(&on.once, once_fn, &on);
    CU_ASSERT_EQUAL(atomic_load(&on.runs), 1);
    CU_ASSERT_EQUAL(atomic_load(&on.early_returns), 0);
}

static void test_once_concurrent(void) { AT_PROCS(once_concurrent_body, 1, 2, 8); }

/* ---- Cond ---- */

enum { PC_CAP = 4, PC_PRODUCERS = 4, PC_CONSUMERS = 4, PC_ITEMS = 2000 };

static struct {
    go_mutex mu;
    go_cond not_empty, not_full;
    long buf[PC_CAP];
    int head, len;
    int producers_left;
    long consumed_sum;
    long consumed_count;
    go_waitgroup wg;
} pc;

static void producer(void *arg) {
    long base = (intptr_t)arg * PC_ITEMS;
    for (long i = 1; i <= PC_ITEMS; i++) {
        go_mutex_lock(&pc.mu);
        while (pc.len == PC_CAP)
            go_cond_wait(&pc.not_full, &pc.mu);
        pc.buf[(pc.head + pc.len) % PC_CAP] = base + i;
        pc.len++;
        go_cond_signal(&pc.not_empty);
        go_mutex_unlock(&pc.mu);
    }
    go_mutex_lock(&pc.mu);
    if (--pc.producers_left == 0)
        go_cond_broadcast(&pc.not_empty); /* consumers may stop now */
    go_mutex_unlock(&pc.mu);
    go_wg_done(&pc.wg);
}

static void consumer(void *arg) {
    go_mutex_lock(&pc.mu);
    for (;;) {
        while (pc.len == 0 && pc.producers_left > 0)
            go_cond_wait(&pc.not_empty, &pc.mu);
        if (pc.len == 0)
            break;
        pc.consumed_sum += pc.buf[pc.head];
        pc.consumed_count++;
        pc.head = (pc.head + 1) % PC_CAP;
        pc.len--;
        go_cond_signal(&pc.not_full);
    }
    go_mutex_unlock(&pc.mu);
    go_wg_done(&pc.wg);
}

static void cond_producer_consumer_body(void) {
    memset(&pc, 0, sizeof pc);
    pc.producers_left = PC_PRODUCERS;
    go_wg_add(&pc.wg, PC_PRODUCERS + PC_CONSUMERS);
    for (intptr_t i = 0; i < PC_CONSUMERS; i++)
        go_spawn(consumer, NULL);
    for (intptr_t i = 0; i < PC_PRODUCERS; i++)
        go_spawn(producer, (void *)i);
    go_wg_wait(&pc.wg);
    long n = (long)PC_PRODUCERS * PC_ITEMS;
    /* sum over p of sum_{i=1..N}(p*N + i) */
    long expect = (long)PC_ITEMS * PC_ITEMS * (PC_PRODUCERS * (PC_PRODUCERS - 1) / 2) +
                  (long)PC_PRODUCERS * PC_ITEMS * (PC_ITEMS + 1) / 2;
    CU_ASSERT_EQUAL(pc.consumed_count, n);
    CU_ASSERT_EQUAL(pc.consumed_sum, expect);
    CU_ASSERT_PTR_NULL(pc.not_empty.head_);
    CU_ASSERT_PTR_NULL(pc.not_full.head_);
}

static void test_cond_producer_consumer(void) { AT_PROCS(cond_producer_consumer_body, 1, 2, 8); }

enum { COND_WAITERS = 16 };

static struct {
    go_mutex mu;
    go_cond cond;
    bool go_ahead;       /* protected by mu */
    int woken;           /* written under mu, polled atomically */
    int order[COND_WAITERS];
    go_waitgroup wg;
} cw;

static void broadcast_waiter(void *arg) {
    go_mutex_lock(&cw.mu);
    while (!cw.go_ahead)
        go_cond_wait(&cw.cond, &cw.mu);
    cw.woken++;
    go_mutex_unlock(&cw.mu);
    go_wg_done(&cw.wg);
}

static uint32_t cond_tickets_taken(void) {
    return __atomic_load_n(&cw.cond.wait_ticket_, __ATOMIC_SEQ_CST);
}

static void cond_broadcast_body(void) {
    memset(&cw, 0, sizeof cw);
    go_wg_add(&cw.wg, COND_WAITERS);
    for (int i = 0; i < COND_WAITERS; i++)
        go_spawn(broadcast_waiter, NULL);
    /* A ticket is taken with mu held, inside go_cond_wait: once all
     * are taken, every waiter is committed to being woken. */
    YIELD_UNTIL(cond_tickets_taken() == COND_WAITERS);
    go_mutex_lock(&cw.mu);
    CU_ASSERT_EQUAL(cw.woken, 0);
    cw.go_ahead = true;
    go_cond_broadcast(&cw.cond);
    go_mutex_unlock(&cw.mu);
    go_wg_wait(&cw.wg);
    CU_ASSERT_EQUAL(cw.woken, COND_WAITERS);
}

static void test_cond_broadcast(void) { AT_PROCS(cond_broadcast_body, 1, 2, 8); }

static void ordered_waiter(void *arg) {
    go_mutex_lock(&cw.mu);
    go_cond_wait(&cw.cond, &cw.mu);
    cw.order[__atomic_fetch_add(&cw.woken, 1, __ATOMIC_SEQ_CST)] = (int)(intptr_t)arg;
    go_mutex_unlock(&cw.mu);
    go_wg_done(&cw.wg);
}

/* Signal wakes waiters in the order they started waiting, one per signal;
 * a signal with nobody waiting is dropped. */
static void cond_signal_order_body(void) {
    memset(&cw, 0, sizeof cw);
    go_cond_signal(&cw.cond); /* nobody waits: not remembered */
    go_cond_broadcast(&cw.cond);
    CU_ASSERT_EQUAL(cw.cond.notify_ticket_, 0);
    go_wg_add(&cw.wg, COND_WAITERS);
    for (intptr_t i = 0; i < COND_WAITERS; i++) {
        go_spawn(ordered_waiter, (void *)i);
        YIELD_UNTIL(cond_tickets_taken() == (uint32_t)i + 1);
    }
    for (int i = 0; i < COND_WAITERS; i++) {
        go_cond_signal(&cw.cond);
        YIELD_UNTIL(__atomic_load_n(&cw.woken, __ATOMIC_SEQ_CST) == i + 1);
    }
    go_wg_wait(&cw.wg);
    for (int i = 0; i < COND_WAITERS; i++)
        CU_ASSERT_EQUAL(cw.order[i], i);
    CU_ASSERT_EQUAL(cw.cond.notify_ticket_, COND_WAITERS);
    CU_ASSERT_PTR_NULL(cw.cond.head_);
}

static void test_cond_signal_order(void) { AT_PROCS(cond_signal_order_body, 1, 2, 8); }

/* ---- what a blocked goroutine is reported as waiting on ---- */

/* Is some goroutine parked with this wait reason on this object? */
static bool goroutine_waits_on(enum rt_wait_reason reason, const void *obj) {
    bool found = false;
    rt_lock_acquire(&rt_allgs_lock);
    for (struct rt_g *g = rt_allgs; g != NULL && !found; g = g->all_next)
        found = atomic_load(&g->status) == G_WAITING && g->wait_reason == reason &&
                g->wait_obj == obj;
    rt_lock_release(&rt_allgs_lock);
    return found;
}

static struct {
    go_mutex mu;
    go_rwmutex rw;
    go_waitgroup wg;
    go_once once;
    go_cond cond;
    go_mutex once_fn_gate;
    go_waitgroup finished;
} wr;

static void wr_lock(void *arg) { go_mutex_lock(&wr.mu); go_mutex_unlock(&wr.mu); go_wg_done(&wr.finished); }
static void wr_rlock(void *arg) { go_rwmutex_rlock(&wr.rw); go_rwmutex_runlock(&wr.rw); go_wg_done(&wr.finished); }
static void wr_wlock(void *arg) { go_rwmutex_lock(&wr.rw); go_rwmutex_unlock(&wr.rw); go_wg_done(&wr.finished); }
static void wr_wait(void *arg) { go_wg_wait(&wr.wg); go_wg_done(&wr.finished); }
static void wr_once_fn(void *arg) { go_mutex_lock(&wr.once_fn_gate); go_mutex_unlock(&wr.once_fn_gate); }
static void wr_once(void *arg) { go_once_do(&wr.once, wr_once_fn, NULL); go_wg_done(&wr.finished); }
static void wr_cond(void *arg) {
    go_mutex_lock(&wr.mu);
    go_cond_wait(&wr.cond, &wr.mu);
    go_mutex_unlock(&wr.mu);
    go_wg_done(&wr.finished);
}

/* Each primitive parks its waiters with its own wait reason and the
 * user-visible object (not the internal sema or mutex they sleep on). */
static void test_wait_reasons(void) {
    memset(&wr, 0, sizeof wr);

    go_mutex_lock(&wr.mu);
    go_wg_add(&wr.finished, 1);
    go_spawn(wr_lock, NULL);
    YIELD_UNTIL(goroutine_waits_on(WAIT_MUTEX_LOCK, &wr.mu));
    go_mutex_unlock(&wr.mu);
    go_wg_wait(&wr.finished);

    go_rwmutex_lock(&wr.rw);
    go_wg_add(&wr.finished, 2);
    go_spawn(wr_rlock, NULL);
    YIELD_UNTIL(goroutine_waits_on(WAIT_RWMUTEX_RLOCK, &wr.rw));
    go_spawn(wr_wlock, NULL); /* parks on the writers' mutex */
    YIELD_UNTIL(goroutine_waits_on(WAIT_RWMUTEX_LOCK, &wr.rw));
    go_rwmutex_unlock(&wr.rw);
    go_wg_wait(&wr.finished);

    go_rwmutex_rlock(&wr.rw);
    go_wg_add(&wr.finished, 1);
    go_spawn(wr_wlock, NULL); /* parks waiting for the reader to leave */
    YIELD_UNTIL(goroutine_waits_on(WAIT_RWMUTEX_LOCK, &wr.rw));
    go_rwmutex_runlock(&wr.rw);
    go_wg_wait(&wr.finished);

    go_wg_add(&wr.wg, 1);
    go_wg_add(&wr.finished, 1);
    go_spawn(wr_wait, NULL);
    YIELD_UNTIL(goroutine_waits_on(WAIT_WAITGROUP, &wr.wg));
    go_wg_done(&wr.wg);
    go_wg_wait(&wr.finished);

    go_mutex_lock(&wr.once_fn_gate);
    go_wg_add(&wr.finished, 2);
    go_spawn(wr_once, NULL); /* runs the function, which blocks on the gate */
    YIELD_UNTIL(goroutine_waits_on(WAIT_MUTEX_LOCK, &wr.once_fn_gate));
    go_spawn(wr_once, NULL);
    YIELD_UNTIL(goroutine_waits_on(WAIT_ONCE, &wr.once));
    go_mutex_unlock(&wr.once_fn_gate);
    go_wg_wait(&wr.finished);

    go_wg_add(&wr.finished, 1);
    go_spawn(wr_cond, NULL);
    YIELD_UNTIL(goroutine_waits_on(WAIT_COND, &wr.cond));
    go_cond_signal(&wr.cond);
    go_wg_wait(&wr.finished);
}

/* ---- misuse, in child processes ---- */

static void child_unlock_unlocked(void) {
    go_mutex m = {0};
    go_mutex_unlock(&m);
}

static void unlock_twice(void *arg) {
    go_mutex_lock(arg);
    go_mutex_unlock(arg);
    go_mutex_unlock(arg);
}

static void child_unlock_unlocked_in_goroutine(void) {
    static go_mutex m;
    go_spawn(unlock_twice, &m);
    go_sleep(10 * GO_SECOND);
}

static void child_negative_wg(void) {
    go_waitgroup wg = {0};
    go_wg_add(&wg, 1);
    go_wg_done(&wg);
    go_wg_done(&wg);
}

static void done_too_often(void *arg) { go_wg_done(arg); }

static void child_negative_wg_in_goroutine(void) {
    static go_waitgroup wg;
    go_spawn(done_too_often, &wg);
    go_sleep(10 * GO_SECOND);
}

static void child_runlock_unlocked(void) {
    go_rwmutex rw = {0};
    go_rwmutex_runlock(&rw);
}

static void child_unlock_unlocked_rw(void) {
    go_rwmutex rw = {0};
    go_rwmutex_rlock(&rw);
    go_rwmutex_runlock(&rw);
    go_rwmutex_unlock(&rw);
}

/* Every goroutine ends up parked on a sync primitive: a global deadlock,
 * whose report names each wait and starts each stack at the public call.
 * (A child has no CUnit test running: it must not use CU_ASSERT; the
 * parent's timeout covers a wait that never ends.) */
static void dl_lock(void *arg) { go_mutex_lock(&wr.mu); }
static void dl_rlock(void *arg) { go_rwmutex_rlock(&wr.rw); }
static void dl_wlock(void *arg) { go_rwmutex_lock(&wr.rw); }
static void dl_once_fn(void *arg) { go_mutex_lock(&wr.once_fn_gate); }
static void dl_once(void *arg) { go_once_do(&wr.once, dl_once_fn, NULL); }
static void dl_cond(void *arg) {
    go_mutex_lock(&wr.mu);
    go_cond_wait(&wr.cond, &wr.mu);
}

static void child_deadlock_report(void) {
    go_rwmutex_lock(&wr.rw);
    go_mutex_lock(&wr.once_fn_gate);
    go_spawn(dl_cond, NULL);
    while (!goroutine_waits_on(WAIT_COND, &wr.cond))
        go_yield();
    go_mutex_lock(&wr.mu);
    go_spawn(dl_lock, NULL);
    go_spawn(dl_rlock, NULL);
    go_spawn(dl_wlock, NULL);
    go_spawn(dl_once, NULL);
    while (!goroutine_waits_on(WAIT_MUTEX_LOCK, &wr.once_fn_gate))
        go_yield();
    go_spawn(dl_once, NULL);
    go_wg_add(&wr.wg, 1);
    go_wg_wait(&wr.wg);
}

/* Does output hold exactly this line? */
static bool has_line(const char *output, const char *line) {
    size_t n = strlen(line);
    for (const char *p = output; (p = strstr(p, line)) != NULL; p++)
        if ((p == output || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
            return true;
    return false;
}

/* A "goroutine N [running]:" stack header, N a goroutine id. */
static bool has_running_header(const char *output) {
    for (const char *p = output; (p = strstr(p, "goroutine ")) != NULL; p++) {
        if (p != output && p[-1] != '\n')
            continue;
        const char *q = p + strlen("goroutine ");
        if (*q < '1' || *q > '9')
            continue;
        while (*q >= '0' && *q <= '9')
            q++;
        if (strncmp(q, " [running]:\n", strlen(" [running]:\n")) == 0)
            return true;
    }
    return false;
}

static void expect_report(const char *child, const char *line) {
    static const char *const procs_env[][2] = {
        {"GOMAXPROCS=1", NULL}, {"GOMAXPROCS=2", NULL}, {"GOMAXPROCS=8", NULL}};
    for (size_t i = 0; i < sizeof procs_env / sizeof *procs_env; i++) {
        static harness_result r;
        harness_child(child, procs_env[i], 30, &r);
        CU_ASSERT_FALSE(r.timed_out);
        CU_ASSERT_TRUE(r.exited);
        CU_ASSERT_EQUAL(r.status, 2);
        CU_ASSERT_TRUE(has_line(r.output, line));
        CU_ASSERT_TRUE(has_running_header(r.output));
        if (!has_line(r.output, line) || r.status != 2 || !has_running_header(r.output))
            fprintf(stderr, "\n--- %s (%s) output ---\n%s\n---\n", child,
                    procs_env[i][0], r.output);
    }
}

static void test_deadlock_report(void) {
    static const char *const waits[] = {
        "[sync.Mutex.Lock]:\n    #0 go_mutex_lock ",
        "[sync.RWMutex.RLock]:\n    #0 go_rwmutex_rlock ",
        "[sync.RWMutex.Lock]:\n    #0 go_rwmutex_lock ",
        "[sync.WaitGroup.Wait]:\n    #0 go_wg_wait ",
        "[sync.Once.Do]:\n    #0 go_once_do ",
        "[sync.Cond.Wait]:\n    #0 go_cond_wait ",
    };
    static harness_result r;
    harness_child("deadlock_report", NULL, 30, &r);
    CU_ASSERT_FALSE(r.timed_out);
    CU_ASSERT_TRUE(r.exited);
    CU_ASSERT_EQUAL(r.status, 2);
    CU_ASSERT_TRUE(has_line(r.output, "fatal error: all goroutines are asleep - deadlock!"));
    bool all = true;
    for (size_t i = 0; i < sizeof waits / sizeof *waits; i++) {
        bool found = strstr(r.output, waits[i]) != NULL;
        CU_ASSERT_TRUE(found);
        all = all && found;
    }
    if (!all || r.status != 2)
        fprintf(stderr, "\n--- deadlock_report output ---\n%s\n---\n", r.output);
}

static void test_misuse_unlock_unlocked(void) {
    expect_report("unlock_unlocked", "fatal error: sync: unlock of unlocked mutex");
    expect_report("unlock_unlocked_in_goroutine",
                  "fatal error: sync: unlock of unlocked mutex");
}

static void test_misuse_negative_wg(void) {
    expect_report("negative_wg", "panic: sync: negative WaitGroup counter");
    expect_report("negative_wg_in_goroutine", "panic: sync: negative WaitGroup counter");
}

static void test_misuse_rwmutex(void) {
    expect_report("runlock_unlocked", "fatal error: sync: RUnlock of unlocked RWMutex");
    expect_report("unlock_unlocked_rw", "fatal error: sync: Unlock of unlocked RWMutex");
}

int main(int argc, char **argv) {
    static const harness_case mutex_cases[] = {
        {"contention", test_mutex_contention},
        {"trylock", test_mutex_trylock},
        {"unlock_by_other_goroutine", test_mutex_unlock_by_other},
        {"starvation_mode", test_mutex_starvation},
        {"misuse_unlock_unlocked", test_misuse_unlock_unlocked},
        {NULL, NULL}};
    static const harness_case rwmutex_cases[] = {
        {"parallel_readers", test_rwmutex_parallel_readers},
        {"writer_exclusion", test_rwmutex_writer_exclusion},
        {"writer_preference", test_rwmutex_writer_preference},
        {"misuse", test_misuse_rwmutex},
        {NULL, NULL}};
    static const harness_case waitgroup_cases[] = {
        {"fanout", test_waitgroup_fanout},
        {"reuse", test_waitgroup_reuse},
        {"zero_counter", test_waitgroup_zero},
        {"misuse_negative_counter", test_misuse_negative_wg},
        {NULL, NULL}};
    static const harness_case once_cases[] = {
        {"concurrent_callers", test_once_concurrent},
        {NULL, NULL}};
    static const harness_case cond_cases[] = {
        {"producer_consumer", test_cond_producer_consumer},
        {"broadcast", test_cond_broadcast},
        {"signal_order", test_cond_signal_order},
        {NULL, NULL}};
    static const harness_case report_cases[] = {
        {"wait_reasons", test_wait_reasons},
        {"deadlock_report", test_deadlock_report},
        {NULL, NULL}};
    static const harness_suite suites[] = {
        {"mutex", mutex_cases},
        {"rwmutex", rwmutex_cases},
        {"waitgroup", waitgroup_cases},
        {"once", once_cases},
        {"cond", cond_cases},
        {"reports", report_cases},
        {NULL, NULL}};
    static const harness_child_fn children[] = {
        {"unlock_unlocked", child_unlock_unlocked},
        {"unlock_unlocked_in_goroutine", child_unlock_unlocked_in_goroutine},
        {"negative_wg", child_negative_wg},
        {"negative_wg_in_goroutine", child_negative_wg_in_goroutine},
        {"runlock_unlocked", child_runlock_unlocked},
        {"unlock_unlocked_rw", child_unlock_unlocked_rw},
        {"deadlock_report", child_deadlock_report},
        {NULL, NULL}};
    return harness_main(argc, argv, suites, children);
}

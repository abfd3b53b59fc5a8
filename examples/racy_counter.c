/* racy_counter.c - many goroutines incrementing one counter: the racy
 * version loses updates, and the three ways to fix it.
 *
 * Go original:
 *   var counter int
 *   var wg sync.WaitGroup
 *   for i := 0; i < 10; i++ {
 *       wg.Add(1)
 *       go func() {
 *           defer wg.Done()
 *           for j := 0; j < 100000; j++ { counter++ } // DATA RACE
 *       }()
 *   }
 *   wg.Wait()
 *   fmt.Println(counter) // anything up to 1000000
 * Fixes: guard counter with a sync.Mutex; use atomic.AddInt64; or let one
 * goroutine own the counter and send it increments over a channel ("share
 * memory by communicating").
 *
 * counter++ is a load, an add and a store. Two goroutines on two threads
 * can load the same value and both store value + 1: one increment is lost.
 * The final count of the racy version differs from run to run (on one
 * processor it is often right, which is how such bugs ship). A race build
 * reports it as WARNING: DATA RACE with both stacks. */
#include <goroutine.h>
#include <stdatomic.h>
#include <stdio.h>

enum { WORKERS = 10, INCREMENTS = 100000 };
static const long expected = (long)WORKERS * INCREMENTS;

static go_waitgroup wg;

/* volatile only stops the compiler from folding the increments into
 * one addition; it makes nothing atomic: the race is still there. */
static volatile long racy_counter;

static void racy_worker(void *arg) {
    (void)arg;
    for (int j = 0; j < INCREMENTS; j++) racy_counter++;
    go_wg_done(&wg);
}

/* Fix 1: a mutex makes the load-add-store one indivisible step. */
static go_mutex mu;
static long locked_counter; /* guarded by mu */

static void mutex_worker(void *arg) {
    (void)arg;
    for (int j = 0; j < INCREMENTS; j++) {
        go_mutex_lock(&mu);
        locked_counter++;
        go_mutex_unlock(&mu);
    }
    go_wg_done(&wg);
}

/* Fix 2: an atomic read-modify-write. */
static atomic_long atomic_counter;

static void atomic_worker(void *arg) {
    (void)arg;
    for (int j = 0; j < INCREMENTS; j++) atomic_fetch_add(&atomic_counter, 1);
    go_wg_done(&wg);
}

/* Fix 3: one goroutine owns the count; the others send it increments. */
typedef struct {
    go_chan *increments; /* long */
    go_chan *total;      /* long, the owner's answer once increments closes */
    go_waitgroup owner_exited; /* its last channel operation has returned */
} owned_counter;

static void counter_owner(void *arg) {
    owned_counter *oc = arg;
    long count = 0, delta;
    while (go_chan_recv(oc->increments, &delta)) count += delta;
    go_chan_send(oc->total, &count);
    go_wg_done(&oc->owner_exited);
}

static void channel_worker(void *arg) {
    owned_counter *oc = arg;
    long one = 1;
    for (int j = 0; j < INCREMENTS; j++) go_chan_send(oc->increments, &one);
    go_wg_done(&wg);
}

static void run_workers(go_func worker, void *arg) {
    go_wg_add(&wg, WORKERS);
    for (int i = 0; i < WORKERS; i++) go_spawn(worker, arg);
    go_wg_wait(&wg);
}

int main(void) {
    printf("%d goroutines x %d increments, expecting %ld\n", WORKERS, INCREMENTS, expected);

    run_workers(racy_worker, NULL);
    printf("racy:    %ld (lost %ld updates this time)\n", racy_counter,
           expected - racy_counter);

    run_workers(mutex_worker, NULL);
    printf("mutex:   %ld\n", locked_counter);

    run_workers(atomic_worker, NULL);
    printf("atomic:  %ld\n", atomic_load(&atomic_counter));

    owned_counter oc = {go_chan_make(sizeof(long), 128), go_chan_make(sizeof(long), 0), {0}};
    go_wg_add(&oc.owner_exited, 1);
    go(counter_owner, &oc);
    run_workers(channel_worker, &oc);
    go_chan_close(oc.increments); /* every worker's sends have returned */
    long total;
    go_chan_recv(oc.total, &total);
    printf("channel: %ld\n", total);

    /* Free the channels only once no operation on them can be in flight:
     * our receive may complete before the owner's send has returned. */
    go_wg_wait(&oc.owner_exited);
    go_chan_free(oc.increments);
    go_chan_free(oc.total);
    return 0;
}

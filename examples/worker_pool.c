/* worker_pool.c - the seed's worker pool: a jobs channel feeds four worker
 * goroutines, results come back on a second channel, a WaitGroup tells when
 * every worker is done so the results channel can be closed.
 *
 * Go original:
 *   jobs := make(chan int, 100); results := make(chan result, 100)
 *   for w := 1; w <= 4; w++ { wg.Add(1); go worker(w, jobs, results, &wg) }
 *   for j := 1; j <= 20; j++ { jobs <- j }; close(jobs)
 *   go func() { wg.Wait(); close(results) }()
 *   for r := range results { ... } */
#include <goroutine.h>
#include <stdio.h>

enum { WORKERS = 4, JOBS = 20 };

typedef struct {
    int job;
    int worker;
    long square;
} result;

typedef struct {
    int id;
    go_chan *jobs;
    go_chan *results;
    go_waitgroup *wg;
} worker_args;

static void worker(void *p) {
    worker_args *w = p; /* this goroutine's own copy (go_spawn_copy) */
    int job;
    while (go_chan_recv(w->jobs, &job)) {
        go_sleep(GO_MILLISECOND); /* pretend to work */
        result r = {job, w->id, (long)job * job};
        go_chan_send(w->results, &r);
    }
    go_wg_done(w->wg);
}

static void closer(void *p) {
    worker_args *w = p;
    go_wg_wait(w->wg);
    go_chan_close(w->results);
}

int main(void) {
    go_chan *jobs = go_chan_make(sizeof(int), 100);
    go_chan *results = go_chan_make(sizeof(result), 100);
    go_waitgroup wg = {0};

    for (int id = 1; id <= WORKERS; id++) {
        worker_args w = {id, jobs, results, &wg};
        go_wg_add(&wg, 1);
        go_spawn_copy(worker, &w, sizeof w);
    }
    for (int j = 1; j <= JOBS; j++) go_chan_send(jobs, &j);
    go_chan_close(jobs);

    worker_args c = {0, jobs, results, &wg};
    go_spawn_copy(closer, &c, sizeof c);

    long squares[JOBS + 1] = {0};
    int per_worker[WORKERS + 1] = {0}, received = 0;
    result r;
    while (go_chan_recv(results, &r)) {
        squares[r.job] = r.square;
        per_worker[r.worker]++;
        received++;
    }
    long total = 0;
    for (int j = 1; j <= JOBS; j++) {
        printf("job %2d -> %3ld\n", j, squares[j]);
        total += squares[j];
    }
    int busy = 0;
    for (int w = 1; w <= WORKERS; w++) busy += per_worker[w] > 0;
    printf("%d workers (%d of them busy) processed %d jobs; sum of squares %ld\n",
           WORKERS, busy, received, total);
    /* Every worker's last receive on jobs returned before its wg_done, and
     * the closer waited for all of them: jobs has no operation left in
     * flight. results does (the closer may still be returning from its
     * close), so it is left to the process exit. */
    go_chan_free(jobs);
    return 0;
}

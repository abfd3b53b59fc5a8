/* WorkerPool: the classic Go pool. A jobs channel (capacity 128) feeds 4
 * workers; the main goroutine sends n job numbers, closes the channel and
 * waits on a WaitGroup. Job j hashes its own 64-word slice of a shared
 * array (about 100 ns of integer work), so the figure shows how much the
 * channel and scheduler add to real work, per item.
 *
 * The array is read-only once the workers start (its initialisation happens
 * before go_spawn), and each worker keeps its own running hash, so the
 * benchmark is race-free and the race-build variant measures the same
 * program. The hash mixes with xor and shifts so no compiler can
 * reassociate the chain: C and Go do the same work. */
#include "bench.h"

enum { WORKERS = 4, SLICES = 1024, SLICE_LEN = 64, CAPACITY = 128 };

static uint64_t input[SLICES * SLICE_LEN];

typedef struct {
    go_chan *jobs;
    go_waitgroup *wg;
    uint64_t hash;
    int64_t done;
} worker;

static uint64_t work(const uint64_t *slice, uint64_t h) {
    for (int k = 0; k < SLICE_LEN; k++) {
        h ^= slice[k];
        h *= 0x9E3779B97F4A7C15u;
        h ^= h >> 29;
    }
    return h;
}

/* Tallies stay in locals until the end: the worker structs share cache
 * lines, and false sharing would only add noise. */
static void run_worker(void *arg) {
    worker *w = arg;
    go_chan *jobs = w->jobs;
    uint64_t hash = 0;
    int64_t j, done = 0;
    while (go_chan_recv(jobs, &j)) {
        hash += work(&input[(j % SLICES) * SLICE_LEN], (uint64_t)j);
        done++;
    }
    w->hash = hash;
    w->done = done;
    go_wg_done(w->wg);
}

static int64_t worker_pool(int64_t n, void *unused) {
    go_waitgroup wg = {0};
    worker workers[WORKERS];
    go_chan *jobs = go_chan_make(sizeof(int64_t), CAPACITY);
    int64_t start = bench_now();
    go_wg_add(&wg, WORKERS);
    for (int i = 0; i < WORKERS; i++) {
        workers[i] = (worker){.jobs = jobs, .wg = &wg};
        go_spawn(run_worker, &workers[i]);
    }
    for (int64_t j = 0; j < n; j++)
        go_chan_send(jobs, &j);
    go_chan_close(jobs);
    go_wg_wait(&wg);
    int64_t elapsed = bench_now() - start;
    int64_t total = 0;
    for (int i = 0; i < WORKERS; i++)
        total += workers[i].done;
    bench_check(total == n, "every job done once");
    go_chan_free(jobs);
    return elapsed;
}

int main(int argc, char **argv) {
    bench_opts o = bench_parse(argc, argv);
    for (size_t i = 0; i < sizeof input / sizeof input[0]; i++)
        input[i] = i * 0x2545F4914F6CDD1Du;
    bench_report("WorkerPool", bench_calibrate(&o, worker_pool, NULL), "ns/op");
    return 0;
}

/* SpawnJoin: the cost of starting a goroutine that does nothing but
 * go_wg_done, and of joining it, per goroutine.
 *
 * Go twin: wg.Add(1); go func() { wg.Done() }() ... wg.Wait(). Goroutines
 * are joined in batches so a spawner that outruns the other processors
 * cannot pile up an unbounded number of live goroutines (both sides batch
 * alike). */
#include "bench.h"

enum { BATCH = 10000 };

static void done(void *wg) { go_wg_done(wg); }

static int64_t spawn_join(int64_t n, void *unused) {
    go_waitgroup wg = {0};
    int64_t start = bench_now();
    for (int64_t i = 0; i < n; i += BATCH) {
        int64_t batch = n - i < BATCH ? n - i : BATCH;
        for (int64_t j = 0; j < batch; j++) {
            go_wg_add(&wg, 1);
            go_spawn(done, &wg);
        }
        go_wg_wait(&wg);
    }
    return bench_now() - start;
}

int main(int argc, char **argv) {
    bench_opts o = bench_parse(argc, argv);
    bench_report("SpawnJoin", bench_calibrate(&o, spawn_join, NULL), "ns/op");
    return 0;
}

/* MemoryHeavy: 2 goroutines each read-modify-write and sum their own half
 * of a 4M-element int64 array (32 MiB, far beyond the caches), 4 passes;
 * time per run. Memory bandwidth bound: the runtime should add nothing, so
 * the ratio to Go mostly compares the compilers' loops. The array is
 * written once before timing, so page faults are not measured. */
#include "bench.h"

enum { ELEMS = 4 << 20, PASSES = 4, WORKERS = 2 };

typedef struct {
    int64_t *lo, *hi;
    int64_t sum;
    go_waitgroup *wg;
} half;

static void sweep(void *arg) {
    half *h = arg;
    int64_t sum = 0;
    for (int64_t pass = 1; pass <= PASSES; pass++) {
        for (int64_t *p = h->lo; p < h->hi; p++) {
            int64_t v = *p + pass;
            *p = v;
            sum += v;
        }
    }
    h->sum = sum;
    go_wg_done(h->wg);
}

static int64_t memory_heavy(int64_t n, void *array) {
    int64_t *a = array;
    int64_t start = bench_now();
    for (int64_t run = 0; run < n; run++) {
        go_waitgroup wg = {0};
        half halves[WORKERS];
        go_wg_add(&wg, WORKERS);
        for (int i = 0; i < WORKERS; i++) {
            halves[i] = (half){a + (int64_t)i * ELEMS / WORKERS, a + (int64_t)(i + 1) * ELEMS / WORKERS, 0, &wg};
            go_spawn(sweep, &halves[i]);
        }
        go_wg_wait(&wg);
        bench_check(halves[0].sum != 0 || halves[1].sum != 0, "sums computed");
    }
    return bench_now() - start;
}

int main(int argc, char **argv) {
    bench_opts o = bench_parse(argc, argv);
    int64_t *a = malloc(ELEMS * sizeof *a);
    bench_check(a != NULL, "allocate the array");
    for (int64_t i = 0; i < ELEMS; i++) /* fault every page in, untimed */
        a[i] = i;
    double ns = bench_calibrate(&o, memory_heavy, a);
    bench_report("MemoryHeavy", ns / (double)GO_MILLISECOND, "ms/run");
    free(a);
    return 0;
}

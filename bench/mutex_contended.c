/* MutexContended: 4 goroutines increment one counter under one go_mutex,
 * per increment. With 2 processors the lock is contended nearly all the
 * time, so this measures the mutex's spin/park/hand-off policy. */
#include "bench.h"

enum { GOROUTINES = 4 };

typedef struct {
    go_mutex mu;
    int64_t counter;
    go_waitgroup wg;
} shared;

typedef struct {
    shared *s;
    int64_t increments;
} share;

static void increment(void *arg) {
    share *my = arg;
    shared *s = my->s;
    int64_t increments = my->increments;
    for (int64_t i = 0; i < increments; i++) {
        go_mutex_lock(&s->mu);
        s->counter++;
        go_mutex_unlock(&s->mu);
    }
    go_wg_done(&s->wg);
}

static int64_t mutex_contended(int64_t n, void *unused) {
    shared s = {0};
    share shares[GOROUTINES];
    int64_t start = bench_now();
    go_wg_add(&s.wg, GOROUTINES);
    for (int i = 0; i < GOROUTINES; i++) {
        shares[i] = (share){&s, n / GOROUTINES + (i < n % GOROUTINES)};
        go_spawn(increment, &shares[i]);
    }
    go_wg_wait(&s.wg);
    int64_t elapsed = bench_now() - start;
    bench_check(s.counter == n, "no increment lost");
    return elapsed;
}

int main(int argc, char **argv) {
    bench_opts o = bench_parse(argc, argv);
    bench_report("MutexContended", bench_calibrate(&o, mutex_contended, NULL), "ns/op");
    return 0;
}

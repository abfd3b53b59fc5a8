/* Select2: one goroutine selects over two unbuffered channels, each fed by
 * its own producer, per item received. Exercises select's lock-all/enqueue
 * path and the wake-up of a goroutine parked in a select. */
#include "bench.h"

typedef struct {
    go_chan *c;
    int64_t n;
    go_waitgroup *exited; /* the producer's last send has returned */
} feed;

static void produce(void *arg) {
    feed *f = arg;
    go_chan *c = f->c;
    int64_t n = f->n;
    for (int64_t i = 0; i < n; i++)
        go_chan_send(c, &i);
    go_wg_done(f->exited);
}

static int64_t select2(int64_t n, void *unused) {
    go_waitgroup exited = {0};
    feed a = {go_chan_make(sizeof(int64_t), 0), n / 2, &exited};
    feed b = {go_chan_make(sizeof(int64_t), 0), n - n / 2, &exited};
    int64_t va, vb, got[2] = {0, 0};
    go_case cases[2] = {
        {.chan = a.c, .dir = GO_RECV, .elem = &va},
        {.chan = b.c, .dir = GO_RECV, .elem = &vb},
    };
    go_wg_add(&exited, 2);
    int64_t start = bench_now();
    go_spawn(produce, &a);
    go_spawn(produce, &b);
    for (int64_t i = 0; i < n; i++)
        got[go_select(cases, 2)]++;
    int64_t elapsed = bench_now() - start;
    bench_check(got[0] == a.n && got[1] == b.n, "every item received once");
    go_wg_wait(&exited);
    go_chan_free(a.c);
    go_chan_free(b.c);
    return elapsed;
}

int main(int argc, char **argv) {
    bench_opts o = bench_parse(argc, argv);
    bench_report("Select2", bench_calibrate(&o, select2, NULL), "ns/op");
    return 0;
}

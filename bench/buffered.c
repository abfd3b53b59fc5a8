/* BufferedThroughput: one producer and one consumer on a channel of
 * capacity 128, per item. Mostly buffer copies under the channel lock; the
 * two sides park only when the buffer runs full or empty. */
#include "bench.h"

enum { CAPACITY = 128 };

typedef struct {
    go_chan *c;
    int64_t n;
    go_waitgroup exited; /* the producer's close has returned */
} feed;

static void produce(void *arg) {
    feed *f = arg;
    for (int64_t i = 0; i < f->n; i++)
        go_chan_send(f->c, &i);
    go_chan_close(f->c);
    go_wg_done(&f->exited);
}

static int64_t buffered(int64_t n, void *unused) {
    feed f = {go_chan_make(sizeof(int64_t), CAPACITY), n, {0}};
    go_wg_add(&f.exited, 1);
    int64_t start = bench_now();
    go_spawn(produce, &f);
    int64_t v, count = 0, sum = 0;
    while (go_chan_recv(f.c, &v)) {
        count++;
        sum += v;
    }
    int64_t elapsed = bench_now() - start;
    bench_check(count == n && sum == n * (n - 1) / 2, "every item received once");
    go_wg_wait(&f.exited);
    go_chan_free(f.c);
    return elapsed;
}

int main(int argc, char **argv) {
    bench_opts o = bench_parse(argc, argv);
    bench_report("BufferedThroughput", bench_calibrate(&o, buffered, NULL), "ns/op");
    return 0;
}

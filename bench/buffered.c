/* BufferedThroughput: one producer and one consumer on a channel of
 * capacity 128, per item. Mostly buffer copies under the channel lock; the
 * two sides park only when the buffer runs full or empty. Each goroutine
 * keeps the channel in a local, as the Go twin's closure captures it by
 * value: a struct field both read on every item would be, under the race
 * detector, a word read by two goroutines between their releases (a read
 * set, its cache line moving between the cores), which the Go twin does
 * not have. */
#include "bench.h"

enum { CAPACITY = 128 };

typedef struct {
    go_chan *c;
    int64_t n;
    go_waitgroup exited; /* the producer's close has returned */
} feed;

static void produce(void *arg) {
    feed *f = arg;
    go_chan *c = f->c;
    int64_t n = f->n;
    for (int64_t i = 0; i < n; i++)
        go_chan_send(c, &i);
    go_chan_close(c);
    go_wg_done(&f->exited);
}

static int64_t buffered(int64_t n, void *unused) {
    go_chan *c = go_chan_make(sizeof(int64_t), CAPACITY);
    feed f = {c, n, {0}};
    go_wg_add(&f.exited, 1);
    int64_t start = bench_now();
    go_spawn(produce, &f);
    int64_t v, count = 0, sum = 0;
    while (go_chan_recv(c, &v)) {
        count++;
        sum += v;
    }
    int64_t elapsed = bench_now() - start;
    bench_check(count == n && sum == n * (n - 1) / 2, "every item received once");
    go_wg_wait(&f.exited);
    go_chan_free(c);
    return elapsed;
}

int main(int argc, char **argv) {
    bench_opts o = bench_parse(argc, argv);
    bench_report("BufferedThroughput", bench_calibrate(&o, buffered, NULL), "ns/op");
    return 0;
}

/* PingPong: two goroutines bounce an int over two unbuffered channels; the
 * cost of one round trip (two hand-offs, two parks, two wake-ups), with one
 * processor (every hand-off is a switch on one thread) and with two (the
 * partner may be parked on, or woken on, the other processor). The echo
 * goroutine signals a WaitGroup after its last channel operation, so the
 * channels are freed only once no operation on them is in progress. Both
 * goroutines keep the channels in locals, as the Go twin's closure
 * captures them by value (see buffered.c for why that matters). */
#include "bench.h"

typedef struct {
    go_chan *ping;
    go_chan *pong;
    go_waitgroup exited;
} pair;

/* Echoes every value back until ping is closed. */
static void echo(void *arg) {
    pair *p = arg;
    go_chan *ping = p->ping, *pong = p->pong;
    int64_t v;
    while (go_chan_recv(ping, &v))
        go_chan_send(pong, &v);
    go_chan_close(pong);
    go_wg_done(&p->exited);
}

static int64_t ping_pong(int64_t n, void *unused) {
    go_chan *ping = go_chan_make(sizeof(int64_t), 0), *pong = go_chan_make(sizeof(int64_t), 0);
    pair p = {ping, pong, {0}};
    go_wg_add(&p.exited, 1);
    go_spawn(echo, &p);
    int64_t start = bench_now();
    for (int64_t i = 0; i < n; i++) {
        int64_t v = i;
        go_chan_send(ping, &v);
        go_chan_recv(pong, &v);
        bench_check(v == i, "echoed value");
    }
    int64_t elapsed = bench_now() - start;
    go_chan_close(ping);
    bench_check(!go_chan_recv(pong, NULL), "echo closes pong");
    go_wg_wait(&p.exited);
    go_chan_free(ping);
    go_chan_free(pong);
    return elapsed;
}

int main(int argc, char **argv) {
    bench_opts o = bench_parse(argc, argv);
    int before = go_maxprocs(1);
    bench_report("PingPong/1P", bench_calibrate(&o, ping_pong, NULL), "ns/op");
    go_maxprocs(2);
    bench_report("PingPong/2P", bench_calibrate(&o, ping_pong, NULL), "ns/op");
    go_maxprocs(before);
    return 0;
}

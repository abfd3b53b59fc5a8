/* Echo: a loopback TCP echo server with one goroutine per connection, and
 * 1,000 client connections, each on its own goroutine, doing round trips of
 * a 64-byte message (write it, read the whole echo back, check it). One
 * operation is one round trip; n operations are spread evenly over the
 * connections, which all run at once. Reported per round trip (ns/op,
 * aggregate over the connections) and as messages per second.
 *
 * Connections are made once, before calibration, and kept: the figure is
 * the cost of goroutine-aware I/O (parking on the netpoller, waking, the
 * system-call bracket around each read and write), not of the handshake.
 * Both sides set TCP_NODELAY, as Go's net package does by default, so no
 * round trip waits for Nagle's algorithm. The Go twin (bench/go/echo.go)
 * uses the net package with the same shape: dispatch over a channel per
 * client, a WaitGroup for the round, the same message bytes and checks. */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

enum { MESSAGE = 64, CONNECTIONS = 1000, QUICK_CONNECTIONS = 50 };

typedef struct {
    int id;
    int fd;
    go_chan *work;      /* int64_t round trips to make; closed at the end */
    go_waitgroup *round;
    go_waitgroup *exited;
} client;

typedef struct {
    int listener;
    int count;
    go_waitgroup *servers;
} acceptor_args;

static go_waitgroup servers_done;

static void set_nodelay(int fd) {
    int one = 1;
    bench_check(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "TCP_NODELAY");
}

static void fill_message(unsigned char *msg, int id, int64_t trip) {
    for (int k = 0; k < MESSAGE; k++)
        msg[k] = (unsigned char)(id * 31 + trip * 7 + k);
}

/* Echoes whatever arrives until the client closes. */
static void serve(void *arg) {
    int fd = (int)(intptr_t)arg;
    unsigned char buf[4 * MESSAGE];
    ssize_t n;
    while ((n = go_read(fd, buf, sizeof buf)) > 0)
        bench_check(go_write(fd, buf, (size_t)n) == n, "server write");
    bench_check(n == 0, "server read");
    go_close(fd);
    go_wg_done(&servers_done);
}

static void accept_all(void *arg) {
    acceptor_args *a = arg;
    for (int i = 0; i < a->count; i++) {
        int fd = go_accept(a->listener, NULL, NULL);
        bench_check(fd >= 0, "accept");
        set_nodelay(fd);
        go_spawn(serve, (void *)(intptr_t)fd);
    }
}

static void run_client(void *arg) {
    client *c = arg;
    unsigned char msg[MESSAGE], echo[MESSAGE];
    int64_t trips;
    while (go_chan_recv(c->work, &trips)) {
        for (int64_t t = 0; t < trips; t++) {
            fill_message(msg, c->id, t);
            bench_check(go_write(c->fd, msg, MESSAGE) == MESSAGE, "client write");
            for (size_t got = 0; got < MESSAGE;) {
                ssize_t n = go_read(c->fd, echo + got, MESSAGE - got);
                bench_check(n > 0, "client read");
                got += (size_t)n;
            }
            bench_check(memcmp(msg, echo, MESSAGE) == 0, "echoed bytes");
        }
        go_wg_done(c->round);
    }
    go_close(c->fd);
    go_wg_done(c->exited);
}

typedef struct {
    client *clients;
    int count;
    go_waitgroup round;
} echo_bench;

static int64_t echo_round_trips(int64_t n, void *arg) {
    echo_bench *b = arg;
    go_wg_add(&b->round, b->count);
    int64_t start = bench_now();
    for (int i = 0; i < b->count; i++) {
        int64_t trips = n / b->count + (i < n % b->count);
        go_chan_send(b->clients[i].work, &trips);
    }
    go_wg_wait(&b->round);
    return bench_now() - start;
}

/* Two descriptors per connection (client and server side): use the hard
 * limit, as Go's runtime does at start-up. */
static void raise_fd_limit(int connections) {
    struct rlimit rl;
    bench_check(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
    rl.rlim_cur = rl.rlim_max;
    bench_check(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit");
    bench_check(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)(2 * connections + 64),
                "RLIMIT_NOFILE too low for the connections");
}

int main(int argc, char **argv) {
    bench_opts o = bench_parse(argc, argv);
    int count = o.quick ? QUICK_CONNECTIONS : CONNECTIONS;
    raise_fd_limit(count);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    bench_check(listener >= 0 && bind(listener, (struct sockaddr *)&addr, len) == 0 &&
                    listen(listener, count) == 0 &&
                    getsockname(listener, (struct sockaddr *)&addr, &len) == 0,
                "listen on 127.0.0.1");
    go_wg_add(&servers_done, count);
    acceptor_args acc = {listener, count, &servers_done};
    go_spawn(accept_all, &acc);

    echo_bench b = {calloc((size_t)count, sizeof(client)), count, {0}};
    go_waitgroup exited = {0};
    go_wg_add(&exited, count);
    for (int i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bench_check(fd >= 0 && go_connect(fd, (struct sockaddr *)&addr, len) == 0, "connect");
        set_nodelay(fd);
        b.clients[i] = (client){i, fd, go_chan_make(sizeof(int64_t), 1), &b.round, &exited};
        go_spawn(run_client, &b.clients[i]);
    }

    double ns = bench_calibrate(&o, echo_round_trips, &b);
    char name[64];
    snprintf(name, sizeof name, "Echo/%dconns", count);
    bench_report(name, ns, "ns/op");
    bench_report(name, 1e9 / ns, "msg/s");

    for (int i = 0; i < count; i++) go_chan_close(b.clients[i].work);
    go_wg_wait(&exited);
    go_wg_wait(&servers_done);
    go_close(listener);
    for (int i = 0; i < count; i++) go_chan_free(b.clients[i].work);
    free(b.clients);
    return 0;
}

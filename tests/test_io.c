/* test_io.c - goroutine-aware I/O: go_read, go_write, go_accept,
 * go_connect and go_close on sockets and pipes.
 *
 * The centre piece is an echo server with one goroutine per connection and
 * 10,000 client goroutines connected at once, each sending several KB in
 * chunks and checking the echo by length and checksum. The other cases pin
 * down single behaviours: parking on a pipe at GOMAXPROCS 1, a refused
 * connection, go_close waking a blocked reader, writer or acceptor,
 * descriptors closed with plain close() whose number is reused, partial
 * reads, multi-megabyte writes, I/O completing while every P is busy.
 *
 * Goroutines never call CUnit (it is not thread-safe): they record what
 * they saw and main asserts it after joining them. Where a case must know
 * that a goroutine is blocked before it acts (to wake it), it looks at the
 * goroutine's state through the runtime's internals instead of sleeping;
 * nothing here depends on how long anything takes. */
#include <goroutine.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "probes.h"
#include "rt.h"

/* ---- helpers ----
 *
 * errno is per thread and a goroutine may resume on another thread after
 * any call that can park, while the compiler may reuse errno's address
 * across calls. So errno is only ever read right after the call that set
 * it, and never written before one. */

/* Is goroutine id in the given state (and, for G_WAITING, wait reason)? */
static bool goroutine_is(uint64_t id, enum rt_gstatus status, enum rt_wait_reason why) {
    bool found = false;
    rt_lock_acquire(&rt_allgs_lock);
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next) {
        if (gp->id != id) continue;
        uint32_t st = atomic_load(&gp->status);
        found = st == status && (status != G_WAITING || gp->wait_reason == why);
        break;
    }
    rt_lock_release(&rt_allgs_lock);
    return found;
}

/* A deterministic byte stream per seed (xorshift64*), and FNV-1a over it. */
static uint64_t stream_next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void stream_fill(uint64_t *s, unsigned char *buf, size_t n) {
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(stream_next(s) >> 56);
}

enum { FNV_INIT = 0 };
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n) {
    if (h == FNV_INIT) h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static struct sockaddr_in loopback(uint16_t port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* A listening TCP socket on 127.0.0.1 and an ephemeral port. */
static int listen_loopback(int backlog, struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_FATAL(fd >= 0);
    *addr = loopback(0);
    CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)addr, sizeof *addr) == 0);
    CU_ASSERT_FATAL(listen(fd, backlog) == 0);
    socklen_t len = sizeof *addr;
    CU_ASSERT_FATAL(getsockname(fd, (struct sockaddr *)addr, &len) == 0);
    return fd;
}

static int open_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    CU_ASSERT_FATAL(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* ---- the echo server and 10,000 clients ---- */

enum {
    ECHO_CLIENTS = 10000,
    ECHO_CONNECTING = 512,   /* handshakes in flight at once */
    ECHO_MIN_BYTES = 4096,   /* each client sends 4 to 8 KB */
    ECHO_MAX_CHUNK = 1500,
};

static struct {
    int nclients;
    int listener;
    struct sockaddr_in addr;
    go_chan *connect_slots;  /* capacity ECHO_CONNECTING: a semaphore */
    go_chan *start;          /* closed once every client is connected */
    go_waitgroup connected, accepted, clients_done, servers_done;
    atomic_int connect_errors, accept_errors, server_errors;
    atomic_int connections_started;
    atomic_int clients_ok, clients_bad, peak_goroutines;
} echo;

static void echo_connection(void *arg) {
    int fd = (int)(intptr_t)arg;
    atomic_fetch_add(&echo.connections_started, 1);
    unsigned char buf[2048];
    for (;;) {
        ssize_t n = go_read(fd, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0 || go_write(fd, buf, (size_t)n) != n) {
            atomic_fetch_add(&echo.server_errors, 1);
            break;
        }
    }
    go_close(fd);
    go_wg_done(&echo.servers_done);
}

static void echo_acceptor(void *arg) {
    (void)arg;
    for (int i = 0; i < echo.nclients; i++) {
        int fd = go_accept(echo.listener, NULL, NULL);
        if (fd < 0) {
            atomic_fetch_add(&echo.accept_errors, echo.nclients - i);
            go_wg_add(&echo.servers_done, -(echo.nclients - i));
            go_wg_add(&echo.accepted, -(echo.nclients - i));
            break;
        }
        go_spawn(echo_connection, (void *)(intptr_t)fd);
        go_wg_done(&echo.accepted);
    }
}

static void echo_client(void *arg) {
    int id = *(int *)arg;
    int token = 0;
    go_chan_send(echo.connect_slots, &token);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : go_connect(fd, (struct sockaddr *)&echo.addr, sizeof echo.addr);
    go_chan_recv(echo.connect_slots, &token);
    go_wg_done(&echo.connected);
    if (rc != 0) {
        atomic_fetch_add(&echo.connect_errors, 1);
        if (fd >= 0) go_close(fd);
        go_wg_done(&echo.clients_done);
        return;
    }
    go_chan_recv(echo.start, NULL);

    /* Send the whole message in chunks of varying size, then half-close:
     * the server echoes until it reads end-of-file. */
    uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(id + 1);
    size_t total = ECHO_MIN_BYTES + (size_t)(stream_next(&seed) % ECHO_MIN_BYTES);
    uint64_t sent_sum = FNV_INIT, echo_sum = FNV_INIT;
    unsigned char chunk[ECHO_MAX_CHUNK];
    bool ok = true;
    for (size_t sent = 0; ok && sent < total;) {
        size_t n = 1 + (size_t)(stream_next(&seed) % ECHO_MAX_CHUNK);
        if (n > total - sent) n = total - sent;
        stream_fill(&seed, chunk, n);
        sent_sum = fnv(sent_sum, chunk, n);
        ok = go_write(fd, chunk, n) == (ssize_t)n;
        sent += n;
    }
    ok = ok && shutdown(fd, SHUT_WR) == 0;
    size_t received = 0;
    while (ok) {
        ssize_t n = go_read(fd, chunk, sizeof chunk);
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        echo_sum = fnv(echo_sum, chunk, (size_t)n);
        received += (size_t)n;
    }
    go_close(fd);
    ok = ok && received == total && echo_sum == sent_sum;
    atomic_fetch_add(ok ? &echo.clients_ok : &echo.clients_bad, 1);
    go_wg_done(&echo.clients_done);
}

/* Clients and server connections each hold a descriptor, all at once:
 * raise the soft limit to the hard one, and use fewer clients if even that
 * is too low. */
static int echo_client_count(void) {
    struct rlimit rl;
    CU_ASSERT_FATAL(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        CU_ASSERT_FATAL(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    long spare = 32; /* the netpoller's, the listener, the harness's */
    long usable = (long)(rl.rlim_cur == RLIM_INFINITY ? 1 << 20 : rl.rlim_cur) - open_fds() - spare;
    long n = usable / 2 < ECHO_CLIENTS ? usable / 2 : ECHO_CLIENTS;
    if (n < ECHO_CLIENTS)
        printf("\n    echo: RLIMIT_NOFILE is %llu (hard limit), so %ld clients instead of %d ",
               (unsigned long long)rl.rlim_cur, n, ECHO_CLIENTS);
    CU_ASSERT_FATAL(n >= 100);
    return (int)n;
}

static void test_echo_10k(void) {
    memset(&echo, 0, sizeof echo);
    echo.nclients = echo_client_count();
    echo.listener = listen_loopback(4096, &echo.addr);
    echo.connect_slots = go_chan_make(sizeof(int), ECHO_CONNECTING);
    echo.start = go_chan_make(0, 0);
    go_wg_add(&echo.connected, echo.nclients);
    go_wg_add(&echo.accepted, echo.nclients);
    go_wg_add(&echo.clients_done, echo.nclients);
    go_wg_add(&echo.servers_done, echo.nclients);
    size_t before = go_num_goroutine();

    go_spawn(echo_acceptor, NULL);
    for (int i = 0; i < echo.nclients; i++) go_spawn_copy(echo_client, &i, sizeof i);

    /* Every client is connected and every connection has its server
     * goroutine: all of them are alive at once. */
    go_wg_wait(&echo.connected);
    go_wg_wait(&echo.accepted);
    CU_ASSERT_EQUAL(atomic_load(&echo.connect_errors), 0);
    CU_ASSERT_EQUAL(atomic_load(&echo.accept_errors), 0);
    /* (Counted on their own: goroutines of earlier cases that are still
     * exiting make a difference from `before` unreliable.) */
    YIELD_UNTIL(atomic_load(&echo.connections_started) == echo.nclients);
    CU_ASSERT(go_num_goroutine() >= 1 + 2 * (size_t)echo.nclients);
    go_chan_close(echo.start);

    go_wg_wait(&echo.clients_done);
    go_wg_wait(&echo.servers_done);
    CU_ASSERT_EQUAL(atomic_load(&echo.clients_ok), echo.nclients);
    CU_ASSERT_EQUAL(atomic_load(&echo.clients_bad), 0);
    CU_ASSERT_EQUAL(atomic_load(&echo.server_errors), 0);
    go_close(echo.listener);
    /* Every client and server goroutine has signalled its last step;
     * wait until they have all exited too. */
    YIELD_UNTIL(go_num_goroutine() <= before);
    go_chan_free(echo.connect_slots);
    go_chan_free(echo.start);
}

/* ---- pipes at GOMAXPROCS 1 ---- */

enum { PIPE_BYTES = 4 << 20, PING_ROUNDS = 2000 };

typedef struct {
    int fd;
    size_t bytes;
    uint64_t sum;
    bool ok;
    go_waitgroup *wg;
} pipe_end;

static void pipe_writer(void *arg) {
    pipe_end *e = arg;
    uint64_t seed = 42;
    unsigned char buf[9000];
    e->ok = true;
    for (size_t done = 0; e->ok && done < e->bytes;) {
        size_t n = 1 + (size_t)(stream_next(&seed) % sizeof buf);
        if (n > e->bytes - done) n = e->bytes - done;
        stream_fill(&seed, buf, n);
        e->sum = fnv(e->sum, buf, n);
        e->ok = go_write(e->fd, buf, n) == (ssize_t)n;
        done += n;
    }
    go_close(e->fd);
    go_wg_done(e->wg);
}

static void pipe_reader(void *arg) {
    pipe_end *e = arg;
    unsigned char buf[3000];
    size_t want = 1;
    for (;;) {
        /* Vary the read size so reads straddle the writer's chunks. */
        want = (want + 777) % sizeof buf + 1;
        ssize_t n = go_read(e->fd, buf, want);
        if (n <= 0) {
            e->ok = n == 0;
            break;
        }
        e->sum = fnv(e->sum, buf, (size_t)n);
        e->bytes += (size_t)n;
    }
    go_close(e->fd);
    go_wg_done(e->wg);
}

typedef struct {
    int in, out;
    int rounds;
    int last;        /* the last value it read */
    go_waitgroup *wg;
} pinger;

/* Reads a counter, writes it back incremented, until it reaches rounds. */
static void ping_echo(void *arg) {
    pinger *p = arg;
    int v;
    while (go_read(p->in, &v, sizeof v) == sizeof v) {
        p->last = v;
        v++;
        if (go_write(p->out, &v, sizeof v) != sizeof v || v >= p->rounds) break;
    }
    go_wg_done(p->wg);
}

static void test_pipe_gomaxprocs1(void) {
    int saved = go_maxprocs(1);

    /* Bulk: 4 MB through a 64 KB pipe, so both sides park again and again
     * on the only P. */
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
    go_waitgroup wg = {0};
    pipe_end w = {.fd = p[1], .bytes = PIPE_BYTES, .sum = FNV_INIT, .wg = &wg};
    pipe_end r = {.fd = p[0], .sum = FNV_INIT, .wg = &wg};
    go_wg_add(&wg, 2);
    go_spawn(pipe_reader, &r);
    go_spawn(pipe_writer, &w);
    go_wg_wait(&wg);
    CU_ASSERT_TRUE(w.ok);
    CU_ASSERT_TRUE(r.ok);
    CU_ASSERT_EQUAL(r.bytes, (size_t)PIPE_BYTES);
    CU_ASSERT_EQUAL(r.sum, w.sum);

    /* Ping-pong: every round parks one side in IO wait and the other's
     * write wakes it. */
    int a[2], b[2];
    CU_ASSERT_FATAL(pipe2(a, O_CLOEXEC) == 0 && pipe2(b, O_CLOEXEC) == 0);
    pinger echoer = {.in = a[0], .out = b[1], .rounds = PING_ROUNDS, .wg = &wg};
    go_wg_add(&wg, 1);
    go_spawn(ping_echo, &echoer);
    int v = 0, got = -1;
    for (;;) {
        CU_ASSERT_FATAL(go_write(a[1], &v, sizeof v) == sizeof v);
        CU_ASSERT_FATAL(go_read(b[0], &got, sizeof got) == sizeof got);
        CU_ASSERT_FATAL(got == v + 1);
        if (got >= PING_ROUNDS) break;
        v = got;
    }
    CU_ASSERT_EQUAL(got, PING_ROUNDS);
    go_wg_wait(&wg);
    CU_ASSERT_EQUAL(echoer.last, PING_ROUNDS - 1);
    go_close(a[0]);
    go_close(a[1]);
    go_close(b[0]);
    go_close(b[1]);
    go_maxprocs(saved);
}

/* ---- connect ---- */

static void test_connect_refused(void) {
    /* A bound socket that is not listening: the port stays ours, and a
     * connection to it is refused (RST). */
    int bound = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = loopback(0);
    CU_ASSERT_FATAL(bind(bound, (struct sockaddr *)&addr, sizeof addr) == 0);
    socklen_t len = sizeof addr;
    CU_ASSERT_FATAL(getsockname(bound, (struct sockaddr *)&addr, &len) == 0);

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = go_connect(fd, (struct sockaddr *)&addr, sizeof addr);
    int err = errno;
    CU_ASSERT_EQUAL(rc, -1);
    CU_ASSERT_EQUAL(err, ECONNREFUSED);
    go_close(fd);

    /* The same port, listening now: the next attempt connects. */
    CU_ASSERT_FATAL(listen(bound, 1) == 0);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CU_ASSERT_EQUAL(go_connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    int conn = go_accept(bound, NULL, NULL);
    CU_ASSERT_FATAL(conn >= 0);
    CU_ASSERT_EQUAL(go_write(fd, "hi", 2), 2);
    char buf[2];
    CU_ASSERT_EQUAL(go_read(conn, buf, 2), 2);
    CU_ASSERT_EQUAL(memcmp(buf, "hi", 2), 0);
    go_close(conn);
    go_close(fd);
    go_close(bound);
}

/* ---- go_close wakes blocked goroutines ---- */

typedef struct {
    int fd;
    ssize_t result;
    int err;
    atomic_bool finished;
} blocked_op;

static void blocked_read(void *arg) {
    blocked_op *op = arg;
    char buf[16];
    op->result = go_read(op->fd, buf, sizeof buf);
    op->err = errno;
    atomic_store(&op->finished, true);
}

static void blocked_write(void *arg) {
    blocked_op *op = arg;
    static const char buf[100];
    op->result = go_write(op->fd, buf, sizeof buf);
    op->err = errno;
    atomic_store(&op->finished, true);
}

static void blocked_accept(void *arg) {
    blocked_op *op = arg;
    op->result = go_accept(op->fd, NULL, NULL);
    op->err = errno;
    atomic_store(&op->finished, true);
}

/* Start op on its own goroutine, wait until it is parked in IO wait, then
 * go_close its descriptor: the call must return -1 with EBADF. */
static void close_while_blocked(go_func op_fn, int fd) {
    blocked_op op = {.fd = fd};
    uint64_t id = go_spawn(op_fn, &op);
    YIELD_UNTIL(goroutine_is(id, G_WAITING, WAIT_IO));
    CU_ASSERT_FALSE(atomic_load(&op.finished));
    CU_ASSERT_EQUAL(go_close(fd), 0);
    YIELD_UNTIL(atomic_load(&op.finished));
    CU_ASSERT_EQUAL(op.result, -1);
    CU_ASSERT_EQUAL(op.err, EBADF);
}

static void test_close_wakes_blocked(void) {
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
    close_while_blocked(blocked_read, p[0]);
    go_close(p[1]);

    /* A writer blocked on a full pipe. */
    CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
    char fill[4096] = {0};
    ssize_t w;
    while ((w = write(p[1], fill, sizeof fill)) > 0) {}
    int err = errno;
    CU_ASSERT_EQUAL(w, -1);
    CU_ASSERT_EQUAL(err, EAGAIN);
    close_while_blocked(blocked_write, p[1]);
    go_close(p[0]);

    /* An acceptor on a listener nobody connects to: how a server stops. */
    struct sockaddr_in addr;
    close_while_blocked(blocked_accept, listen_loopback(8, &addr));

    /* Under GOMAXPROCS 1 too: the woken goroutine needs the only P. */
    int saved = go_maxprocs(1);
    CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
    close_while_blocked(blocked_read, p[0]);
    go_close(p[1]);
    go_maxprocs(saved);
}

/* ---- descriptors closed with close() and reused ---- */

typedef struct {
    int fd;
    char buf[32];
    ssize_t n;
    atomic_bool finished;
} reader_state;

static void read_once(void *arg) {
    reader_state *r = arg;
    r->n = go_read(r->fd, r->buf, sizeof r->buf);
    atomic_store(&r->finished, true);
}

/* Use a pipe through the netpoller, close() it behind the runtime's back,
 * and put a fresh pipe (blocking or not, as pipe_flags say) at the same two
 * descriptor numbers. A reader that must wait, then a write, then a read of
 * what was written, must all work on the new pipe. */
static void reuse_after_plain_close(int pipe_flags, enum rt_gstatus reader_waits_as) {
    int old[2];
    CU_ASSERT_FATAL(pipe2(old, O_CLOEXEC) == 0);
    CU_ASSERT_EQUAL(go_write(old[1], "old", 3), 3);
    char buf[8];
    CU_ASSERT_EQUAL(go_read(old[0], buf, sizeof buf), 3);
    close(old[0]);
    close(old[1]);

    int fresh[2];
    CU_ASSERT_FATAL(pipe2(fresh, O_CLOEXEC | pipe_flags) == 0);
    for (int i = 0; i < 2; i++) {
        if (fresh[i] == old[i]) continue;
        CU_ASSERT_FATAL(dup3(fresh[i], old[i], O_CLOEXEC) == old[i]);
        close(fresh[i]);
    }

    reader_state r = {.fd = old[0]};
    uint64_t id = go_spawn(read_once, &r);
    YIELD_UNTIL(goroutine_is(id, reader_waits_as, WAIT_IO));
    CU_ASSERT_EQUAL(go_write(old[1], "new", 3), 3);
    YIELD_UNTIL(atomic_load(&r.finished));
    CU_ASSERT_EQUAL(r.n, 3);
    CU_ASSERT_EQUAL(memcmp(r.buf, "new", 3), 0);

    /* And the other direction, on a socket pair at the same numbers. */
    close(old[0]);
    close(old[1]);
    int sp[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | pipe_flags, 0, sp) == 0);
    for (int i = 0; i < 2; i++) {
        if (sp[i] == old[i]) continue;
        CU_ASSERT_FATAL(dup3(sp[i], old[i], O_CLOEXEC) == old[i]);
        close(sp[i]);
    }
    reader_state back = {.fd = old[1]};
    id = go_spawn(read_once, &back);
    YIELD_UNTIL(goroutine_is(id, reader_waits_as, WAIT_IO));
    CU_ASSERT_EQUAL(go_write(old[0], "back", 4), 4);
    YIELD_UNTIL(atomic_load(&back.finished));
    CU_ASSERT_EQUAL(back.n, 4);
    CU_ASSERT_EQUAL(memcmp(back.buf, "back", 4), 0);
    go_close(old[0]);
    go_close(old[1]);
}

static void test_closed_fd_reused(void) {
    /* Non-blocking: the reader gets EAGAIN and parks in the netpoller,
     * which must re-register the new descriptor. */
    reuse_after_plain_close(O_NONBLOCK, G_WAITING);
    /* Blocking again (the runtime set O_NONBLOCK on the old one): the read
     * blocks its thread inside the system-call bracket instead. */
    reuse_after_plain_close(0, G_SYSCALL);
    /* At GOMAXPROCS 1 the blocked read must not hold the only P. */
    int saved = go_maxprocs(1);
    reuse_after_plain_close(O_NONBLOCK, G_WAITING);
    reuse_after_plain_close(0, G_SYSCALL);
    go_maxprocs(saved);
}

/* ---- partial reads ---- */

typedef struct {
    int fd;
    go_chan *acks; /* the reader acknowledges each piece it got */
} partial_writer;

static void write_pieces(void *arg) {
    partial_writer *w = arg;
    static const size_t pieces[] = {100, 1, 4000, 7};
    unsigned char buf[4000];
    memset(buf, 'x', sizeof buf);
    for (size_t i = 0; i < sizeof pieces / sizeof *pieces; i++) {
        go_write(w->fd, buf, pieces[i]);
        go_chan_recv(w->acks, NULL);
    }
    go_close(w->fd);
}

static void test_partial_reads(void) {
    int sp[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
    partial_writer w = {.fd = sp[1], .acks = go_chan_make(0, 0)};
    go_spawn(write_pieces, &w);

    /* A read returns what has arrived, never waiting to fill the buffer:
     * the writer sends nothing more until we acknowledge. */
    unsigned char buf[8192];
    CU_ASSERT_EQUAL(go_read(sp[0], buf, sizeof buf), 100);
    go_chan_send(w.acks, NULL);
    CU_ASSERT_EQUAL(go_read(sp[0], buf, sizeof buf), 1);
    go_chan_send(w.acks, NULL);

    /* A read smaller than what is there takes only its size. */
    size_t got = 0;
    while (got < 4000) {
        ssize_t n = go_read(sp[0], buf, 300);
        CU_ASSERT_FATAL(n > 0 && n <= 300);
        got += (size_t)n;
    }
    CU_ASSERT_EQUAL(got, 4000);
    go_chan_send(w.acks, NULL);
    CU_ASSERT_EQUAL(go_read(sp[0], buf, 3), 3);
    CU_ASSERT_EQUAL(go_read(sp[0], buf, 3), 3);
    CU_ASSERT_EQUAL(go_read(sp[0], buf, 3), 1);
    go_chan_send(w.acks, NULL);
    /* End of file once the writer has closed. */
    CU_ASSERT_EQUAL(go_read(sp[0], buf, sizeof buf), 0);
    go_close(sp[0]);
    go_chan_free(w.acks);
}

/* ---- large writes ---- */

enum { LARGE_BYTES = 24 << 20 };

static void large_writes_body(int domain) {
    int fds[2];
    if (domain == AF_UNIX) {
        CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    } else {
        struct sockaddr_in addr;
        int l = listen_loopback(1, &addr);
        fds[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CU_ASSERT_FATAL(go_connect(fds[1], (struct sockaddr *)&addr, sizeof addr) == 0);
        fds[0] = go_accept(l, NULL, NULL);
        CU_ASSERT_FATAL(fds[0] >= 0);
        go_close(l);
    }
    unsigned char *big = malloc(LARGE_BYTES);
    CU_ASSERT_FATAL(big != NULL);
    uint64_t seed = 7;
    stream_fill(&seed, big, LARGE_BYTES);

    go_waitgroup wg = {0};
    pipe_end r = {.fd = fds[0], .sum = FNV_INIT, .wg = &wg};
    go_wg_add(&wg, 1);
    go_spawn(pipe_reader, &r);
    /* One call: go_write loops over partial writes and parks whenever the
     * socket buffer is full, until every byte is out. */
    CU_ASSERT_EQUAL(go_write(fds[1], big, LARGE_BYTES), (ssize_t)LARGE_BYTES);
    go_close(fds[1]);
    go_wg_wait(&wg);
    CU_ASSERT_TRUE(r.ok);
    CU_ASSERT_EQUAL(r.bytes, (size_t)LARGE_BYTES);
    CU_ASSERT_EQUAL(r.sum, fnv(FNV_INIT, big, LARGE_BYTES));
    free(big);
}

static void test_large_writes(void) {
    int saved = go_maxprocs(0);
    for (int procs = 1; procs <= 2; procs++) {
        go_maxprocs(procs);
        large_writes_body(AF_UNIX);
        large_writes_body(AF_INET);
    }
    go_maxprocs(saved);
}

/* ---- I/O completes while every P is busy ---- */

static void *write_from_thread(void *arg) {
    blocked_op *op = arg;
    op->result = write(op->fd, "ping", 4);
    return NULL;
}

static void spin_yielding(void *arg) {
    atomic_bool *stop = arg;
    while (!atomic_load(stop)) go_yield();
}

static void test_io_while_busy(void) {
    /* GOMAXPROCS 1 and the only P never idle: main and a goroutine yield
     * in loops, so the scheduler always finds a runnable goroutine and
     * never polls the network itself. The reader's descriptor becomes
     * ready by a write from a plain thread; a thread without a P (the
     * sleeper in epoll_wait, or the monitor thread) must find it and queue
     * the reader. */
    int saved = go_maxprocs(1);
    int p[2];
    CU_ASSERT_FATAL(pipe2(p, O_CLOEXEC) == 0);
    /* Static: the spinner may still be running when this case returns. */
    static atomic_bool stop;
    atomic_store(&stop, false);
    reader_state r = {.fd = p[0]};
    uint64_t id = go_spawn(read_once, &r);
    go_spawn(spin_yielding, &stop);
    YIELD_UNTIL(goroutine_is(id, G_WAITING, WAIT_IO));
    blocked_op w = {.fd = p[1]};
    pthread_t t;
    CU_ASSERT_FATAL(pthread_create(&t, NULL, write_from_thread, &w) == 0);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(w.result, 4);
    YIELD_UNTIL(atomic_load(&r.finished));
    CU_ASSERT_EQUAL(r.n, 4);
    atomic_store(&stop, true);
    go_close(p[0]);
    go_close(p[1]);
    go_maxprocs(saved);
}

/* ---- descriptors the netpoller cannot watch ---- */

static void test_regular_file(void) {
    /* epoll refuses regular files; go_read/go_write must fall back to
     * plain (always ready) calls. */
    char path[] = "/tmp/test_io_XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    unlink(path);
    CU_ASSERT_EQUAL(go_write(fd, "regular file", 12), 12);
    CU_ASSERT_EQUAL(lseek(fd, 0, SEEK_SET), 0);
    char buf[32];
    CU_ASSERT_EQUAL(go_read(fd, buf, sizeof buf), 12);
    CU_ASSERT_EQUAL(memcmp(buf, "regular file", 12), 0);
    CU_ASSERT_EQUAL(go_read(fd, buf, sizeof buf), 0);
    CU_ASSERT_EQUAL(go_close(fd), 0);
}

static void test_write_to_closed_peer(void) {
    /* With SIGPIPE ignored (main does), a write to a socket whose peer is
     * gone fails with EPIPE instead of hanging or killing us. */
    int sp[2];
    CU_ASSERT_FATAL(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
    go_close(sp[0]);
    ssize_t rc = go_write(sp[1], "x", 1);
    int err = errno;
    CU_ASSERT_EQUAL(rc, -1);
    CU_ASSERT_EQUAL(err, EPIPE);
    go_close(sp[1]);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    static const harness_case echo_cases[] = {
        {"echo_10k_clients", test_echo_10k},
        {NULL, NULL}};
    static const harness_case io_cases[] = {
        {"pipe_gomaxprocs1", test_pipe_gomaxprocs1},
        {"connect_refused", test_connect_refused},
        {"close_wakes_blocked", test_close_wakes_blocked},
        {"closed_fd_reused", test_closed_fd_reused},
        {"partial_reads", test_partial_reads},
        {"large_writes", test_large_writes},
        {"io_while_every_p_busy", test_io_while_busy},
        {"regular_file", test_regular_file},
        {"write_to_closed_peer", test_write_to_closed_peer},
        {NULL, NULL}};
    static const harness_suite suites[] = {
        {"io", io_cases},
        {"echo", echo_cases},
        {NULL, NULL}};
    return harness_main(argc, argv, suites, NULL);
}

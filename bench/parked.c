/* Parked: N goroutines each blocked receiving on its own unbuffered
 * channel, for N = 100k and 1M (1k and 10k with --quick). Three figures per
 * N:
 *   Parked/N B/g        growth of the resident set (/proc/self/statm)
 *                       while creating them, per goroutine: the goroutine,
 *                       its stack pages, its channel and its slot in the
 *                       channel array;
 *   Parked/N pt-B/g     growth of the page tables (VmPTE), per goroutine:
 *                       not in the resident set, but real memory, and large
 *                       when stacks are spread thinly over address space;
 *   Parked/N create-ns/g from the first spawn until every goroutine has
 *                       started (each signals a WaitGroup just before it
 *                       blocks);
 *   Parked/N release-ns/g from the first send (one to each channel, which
 *                       wakes its goroutine) until all have exited.
 * The RSS is read after a short sleep so the last goroutines have parked;
 * neither timing includes that sleep. Each size runs in a fresh process
 * (the program re-executes itself with --size N LABEL): a second run in the same
 * process would reuse the first run's dead goroutines and stacks and show
 * less growth than a program that really keeps N goroutines parked. */
#include "bench.h"

#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

typedef struct {
    go_waitgroup started;
    go_waitgroup exited;
} tally;

static tally t;

static void wait_for_value(void *chan) {
    go_wg_done(&t.started);
    int64_t v;
    go_chan_recv(chan, &v);
    go_wg_done(&t.exited);
}

static void parked(const char *label, int64_t n) {
    go_chan **chans = malloc((size_t)n * sizeof *chans);
    bench_check(chans != NULL, "allocate the channel array");
    go_wg_add(&t.started, (int)n);
    go_wg_add(&t.exited, (int)n);
    int64_t rss_before = bench_rss_bytes();
    int64_t pt_before = bench_pagetable_bytes();

    int64_t start = bench_now();
    for (int64_t i = 0; i < n; i++) {
        chans[i] = go_chan_make(sizeof(int64_t), 0);
        go_spawn(wait_for_value, chans[i]);
    }
    go_wg_wait(&t.started);
    int64_t created = bench_now() - start;

    go_sleep(20 * GO_MILLISECOND);
    int64_t rss_after = bench_rss_bytes();
    int64_t pt_after = bench_pagetable_bytes();
    bench_check(go_num_goroutine() >= (size_t)n, "every goroutine alive");

    start = bench_now();
    for (int64_t i = 0; i < n; i++)
        go_chan_send(chans[i], &i);
    go_wg_wait(&t.exited);
    int64_t released = bench_now() - start;

    for (int64_t i = 0; i < n; i++)
        go_chan_free(chans[i]);
    free(chans);

    char name[64];
    snprintf(name, sizeof name, "Parked/%s", label);
    bench_report(name, (double)(rss_after - rss_before) / (double)n, "B/g");
    bench_report(name, (double)(pt_after - pt_before) / (double)n, "pt-B/g");
    bench_report(name, (double)created / (double)n, "create-ns/g");
    bench_report(name, (double)released / (double)n, "release-ns/g");
}

/* Runs "this program --size n label" and waits for it. */
static void parked_in_child(const char *label, int64_t n) {
    char size[32];
    snprintf(size, sizeof size, "%lld", (long long)n);
    char *args[] = {"/proc/self/exe", "--size", size, (char *)label, NULL};
    pid_t pid;
    int status;
    fflush(stdout);
    bench_check(posix_spawn(&pid, args[0], NULL, NULL, args, environ) == 0, "spawn the measuring process");
    go_syscall_enter();
    pid_t waited = waitpid(pid, &status, 0);
    go_syscall_exit();
    bench_check(waited == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0, "measuring process succeeded");
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--size") == 0) {
        parked(argv[3], strtoll(argv[2], NULL, 10));
        return 0;
    }
    bench_opts o = bench_parse(argc, argv);
    if (o.quick) {
        parked_in_child("1k", 1000);
        parked_in_child("10k", 10000);
    } else {
        parked_in_child("100k", 100000);
        parked_in_child("1M", 1000000);
    }
    return 0;
}

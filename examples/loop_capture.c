/* loop_capture.c - fan out with a WaitGroup, and give each goroutine its
 * own copy of the loop variable.
 *
 * Go original (before Go 1.22 made the loop variable per-iteration):
 *   var wg sync.WaitGroup
 *   for i := 1; i <= 5; i++ {
 *       wg.Add(1)
 *       go func() {             // BUG: every goroutine shares one i
 *           defer wg.Done()
 *           fmt.Println("worker", i)
 *       }()
 *   }
 *   wg.Wait()
 * printed "worker 6" five times (or any mix), because the closures read i
 * when they run, not when they are started. The fix was to pass i as an
 * argument: go func(i int) { ... }(i).
 *
 * The same bug in C is passing the address of the loop variable:
 *
 *   for (int i = 1; i <= 5; i++) {
 *       go_wg_add(&wg, 1);
 *       go(worker, &i);          // BUG: all five point at the same i
 *   }
 *
 * Each worker reads *arg whenever it gets to run: by then main has moved i
 * on (often past the end: "worker 6"), and once the loop's scope ends the
 * pointer dangles. go_spawn_copy is C's "pass it as an argument": it copies
 * the bytes at arg when the goroutine is created, and the goroutine gets a
 * pointer to its own copy, valid until it exits. */
#include <goroutine.h>
#include <stdio.h>

enum { WORKERS = 5 };

typedef struct {
    int id;
    go_waitgroup *wg;
    long *squares; /* worker id writes squares[id]; nobody else does */
} worker_args;

static void worker(void *arg) {
    worker_args *w = arg; /* this goroutine's own copy */
    w->squares[w->id] = (long)w->id * w->id;
    printf("worker %d done\n", w->id);
    go_wg_done(w->wg);    /* Go's defer wg.Done(): the last thing it does */
}

int main(void) {
    go_waitgroup wg = {0};
    long squares[WORKERS + 1] = {0};

    for (int i = 1; i <= WORKERS; i++) {
        worker_args args = {i, &wg, squares};
        go_wg_add(&wg, 1); /* before go: Wait must not see a zero count early */
        go_spawn_copy(worker, &args, sizeof args);
        /* args (and i) may change or vanish now: the worker has its copy */
    }
    go_wg_wait(&wg);

    /* go_wg_done happens before the go_wg_wait it unblocks, so every
     * worker's write to squares is visible here. */
    long sum = 0;
    for (int i = 1; i <= WORKERS; i++) sum += squares[i];
    printf("all %d workers done; sum of squares %ld\n", WORKERS, sum);
    return 0;
}

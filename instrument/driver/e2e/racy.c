/* racy.c - two goroutines increment a global without synchronisation: a
 * race build must report it and exit with status 66. The WaitGroup orders
 * both increments before the final read, so that read is not a race. */
#include <goroutine.h>
#include <stdio.h>

static long counter;
static go_waitgroup wg;

static void increment(void *arg) {
    (void)arg;
    counter++;
    go_wg_done(&wg);
}

int main(void) {
    go_wg_add(&wg, 2);
    go(increment, NULL);
    go(increment, NULL);
    go_wg_wait(&wg);
    printf("counter %ld\n", counter);
    return 0;
}

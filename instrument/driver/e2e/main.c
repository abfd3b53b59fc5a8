/* main.c - the other half of the two-file program (worker.c): sums what
 * four workers send, so it prints "sum 14", then "race build" when it was
 * compiled under -fgoroutine-race. */
#include <goroutine.h>
#include <stdio.h>

#include "worker.h"

int main(void) {
    go_chan *results = go_chan_make(sizeof(int), 0);
    start_workers(results, 4);
    int sum = 0;
    for (int i = 0; i < 4; i++) {
        int v = 0;
        go_chan_recv(results, &v);
        sum += v;
    }
    printf("sum %d\n", sum);
#ifdef GOROUTINE_RACE
    printf("race build\n");
#endif
    go_chan_free(results);
    return 0;
}

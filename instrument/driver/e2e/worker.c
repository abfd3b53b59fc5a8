/* worker.c - the half of a two-file program that lives in an object, an
 * archive or a shared object: workers that each send the square of their
 * index. */
#include <goroutine.h>

#include "worker.h"

struct job {
    go_chan *results;
    int index;
};

static void square(void *arg) {
    struct job *job = arg;
    int v = job->index * job->index;
    go_chan_send(job->results, &v);
}

void start_workers(go_chan *results, int n) {
    for (int i = 0; i < n; i++) {
        struct job job = {results, i};
        go_spawn_copy(square, &job, sizeof job);
    }
}

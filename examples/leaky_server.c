/* leaky_server.c - a request handler that gives up on a slow query leaks
 * the goroutine running it: that goroutine later blocks forever sending its
 * answer on a channel nobody will read again.
 *
 * Go original:
 *   func handle(req int) (int, error) {
 *       reply := make(chan int)               // BUG: unbuffered
 *       go func() { reply <- slowQuery(req) }()
 *       select {
 *       case v := <-reply:
 *           return v, nil
 *       case <-time.After(10 * time.Millisecond):
 *           return 0, errTimeout              // nobody receives from reply now
 *       }
 *   }
 * The fix: reply := make(chan int, 1). The late send then lands in the
 * buffer, the goroutine exits, and the channel is garbage.
 *
 * Nothing crashes and nothing is reported: a leaked goroutine costs only
 * its stack and what it holds, one request at a time, until the server runs
 * out of memory. A plain build says nothing; the race build's leak finder
 * reports it (WARNING: GOROUTINE LEAK, goroutine N [chan send (leaked)])
 * when main returns. A go_leakcheck() call before that would not: the
 * server's request table still holds the reply channel, so for all the
 * finder can tell, some code could still receive from it.
 *
 * Here each request's "database" answers only when main releases it, after
 * the handler has timed out, so the run is the same every time. */
#include <goroutine.h>
#include <stdio.h>

typedef struct {
    int id;
    go_chan *backend; /* closed when the database answers */
    go_chan *reply;
} request;

/* The server's table of requests, for the life of the process. */
static request requests[2];

static int slow_query(request *r) {
    go_chan_recv(r->backend, NULL);
    return r->id * 100;
}

static void run_query(void *arg) {
    request *r = arg;
    int v = slow_query(r);
    go_chan_send(r->reply, &v); /* unbuffered and abandoned: blocks forever */
}

/* Returns true and the answer, or false after a 10 ms timeout. */
static bool handle(request *r, int *answer) {
    go_spawn(run_query, r);

    go_timer *timeout = go_timer_make(10 * GO_MILLISECOND);
    go_case cases[] = {
        {.chan = r->reply, .dir = GO_RECV, .elem = answer},
        {.chan = go_timer_chan(timeout), .dir = GO_RECV},
    };
    int chosen = go_select(cases, 2);
    go_timer_stop(timeout);
    go_timer_free(timeout);
    return chosen == 0;
}

static void serve(request *r, int id, size_t reply_cap) {
    *r = (request){id, go_chan_make(0, 0), go_chan_make(sizeof(int), reply_cap)};
    int answer;
    if (handle(r, &answer))
        printf("request %d: answer %d\n", id, answer);
    else
        printf("request %d: timed out after 10 ms (reply channel capacity %zu)\n",
               id, reply_cap);
    go_chan_close(r->backend); /* the database answers, too late */
}

int main(void) {
    serve(&requests[0], 1, 0); /* the bug */
    serve(&requests[1], 2, 1); /* the fix */

    /* Request 2's query goroutine finds room in the buffer and exits; wait
     * for that. Request 1's never will: it is blocked in go_chan_send. */
    while (go_num_goroutine() > 2) go_yield();
    printf("goroutines alive: %zu (main, and request 1's query goroutine, "
           "blocked forever on its send)\n", go_num_goroutine());

    /* Request 2's channels are done with. Request 1's stay: its goroutine
     * still holds them, and always will. That is the leak. */
    go_chan_free(requests[1].backend);
    go_chan_free(requests[1].reply);
    return 0;
}

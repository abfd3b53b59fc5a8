/* errgroup_cancel.c - several goroutines work on parts of one task; the
 * first failure cancels the others through the group's context, and Wait
 * returns that first error.
 *
 * Go original (golang.org/x/sync/errgroup):
 *   g, ctx := errgroup.WithContext(context.Background())
 *   for _, name := range []string{"users", "orders", "prices"} {
 *       name := name
 *       g.Go(func() error {
 *           if name == "orders" {
 *               return fmt.Errorf("%s: connection refused", name)
 *           }
 *           select {
 *           case <-ctx.Done():                 // someone else failed
 *               return ctx.Err()
 *           case <-time.After(time.Hour):      // the real work
 *               return nil
 *           }
 *       })
 *   }
 *   if err := g.Wait(); err != nil { fmt.Println("fetch failed:", err) }
 *
 * Errors are ints here (errno values, 0 for success). Each fetch that was
 * still working sees go_ctx_done(ctx) closed and returns
 * go_ctx_err(ctx) == GO_ECANCELED; their errors are dropped, Wait returns
 * only the first. Without the context they would keep working for an
 * hour on a result nobody wants. */
#include <goroutine.h>
#include <stdio.h>
#include <string.h>

enum { FETCHES = 3 };

typedef struct {
    const char *name;
    bool fails;
    int result;      /* written by the fetch, read by main after Wait */
} fetch;

static int do_fetch(go_ctx *ctx, void *arg) {
    fetch *f = arg;
    if (f->fails)
        return f->result = ECONNREFUSED;

    go_timer *work = go_timer_make(60 * 60 * GO_SECOND); /* an hour of work */
    go_case cases[] = {
        {.chan = go_ctx_done(ctx), .dir = GO_RECV},
        {.chan = go_timer_chan(work), .dir = GO_RECV},
    };
    int chosen = go_select(cases, 2);
    go_timer_stop(work);
    go_timer_free(work);
    return f->result = chosen == 0 ? go_ctx_err(ctx) : 0;
}

int main(void) {
    fetch fetches[FETCHES] = {
        {"users", false, -1},
        {"orders", true, -1},
        {"prices", false, -1},
    };
    /* The group's context (go_errgroup_ctx) is what each function
     * receives as its first argument. */
    go_errgroup *g = go_errgroup_make(go_ctx_background());
    for (int i = 0; i < FETCHES; i++) go_errgroup_go(g, do_fetch, &fetches[i]);

    int err = go_errgroup_wait(g);
    /* Every function has returned before Wait does: their results are
     * visible here. */
    for (int i = 0; i < FETCHES; i++)
        printf("fetch %-6s -> %s\n", fetches[i].name, strerror(fetches[i].result));
    printf("fetch failed: %s\n", strerror(err));
    go_errgroup_free(g);
    return 0;
}

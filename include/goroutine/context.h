/* goroutine/context.h - Go's context package and errgroup. */
#ifndef GOROUTINE_CONTEXT_H
#define GOROUTINE_CONTEXT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include "chan.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GO_ECANCELED ECANCELED
#define GO_EDEADLINE ETIMEDOUT

typedef struct go_ctx go_ctx;

go_ctx *go_ctx_background(void);
go_ctx *go_ctx_with_cancel(go_ctx *parent);
go_ctx *go_ctx_with_timeout(go_ctx *parent, int64_t ns);
go_ctx *go_ctx_with_deadline(go_ctx *parent, int64_t deadline);
go_ctx *go_ctx_with_value(go_ctx *parent, const void *key, void *value);
void go_ctx_cancel(go_ctx *c);
void go_ctx_release(go_ctx *c);
go_chan *go_ctx_done(go_ctx *c);
int go_ctx_err(go_ctx *c);
void *go_ctx_value(go_ctx *c, const void *key);

typedef struct go_errgroup go_errgroup;
typedef int (*go_errfunc)(go_ctx *ctx, void *arg);

go_errgroup *go_errgroup_make(go_ctx *parent);
go_ctx *go_errgroup_ctx(go_errgroup *g);
void go_errgroup_set_limit(go_errgroup *g, int n);
void go_errgroup_go(go_errgroup *g, go_errfunc fn, void *arg);
bool go_errgroup_try_go(go_errgroup *g, go_errfunc fn, void *arg);
int go_errgroup_wait(go_errgroup *g);
void go_errgroup_free(go_errgroup *g);

#ifdef __cplusplus
}
#endif
#endif

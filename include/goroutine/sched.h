/* goroutine/sched.h - goroutines and the scheduler's public controls. */
#ifndef GOROUTINE_SCHED_H
#define GOROUTINE_SCHED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GO_NANOSECOND  ((int64_t)1)
#define GO_MICROSECOND ((int64_t)1000)
#define GO_MILLISECOND ((int64_t)1000000)
#define GO_SECOND      ((int64_t)1000000000)

typedef void (*go_func)(void *arg);

/* Start fn(arg) on a new goroutine; returns its id. */
uint64_t go_spawn(go_func fn, void *arg);
/* Like go_spawn, but fn receives a pointer to the goroutine's own copy of
 * the size bytes at arg, aligned for any type, valid until it exits. */
uint64_t go_spawn_copy(go_func fn, const void *arg, size_t size);
/* Like go_spawn, with a stack of at least stack_size bytes (0: default). */
uint64_t go_spawn_stack(go_func fn, void *arg, size_t stack_size);
/* Default stack size for new goroutines; returns the previous value.
 * 0 queries. Also set at start-up by GOROUTINE_STACK_SIZE (bytes, or with a
 * k/m suffix). */
size_t go_set_stack_size(size_t bytes);

#ifndef GOROUTINE_NO_SHORTHAND
#define go(fn, arg) go_spawn((go_func)(fn), (void *)(arg))
#endif

uint64_t go_id(void);
void go_yield(void);
_Noreturn void go_exit(void);
int go_maxprocs(int n);
size_t go_num_goroutine(void);
void go_sleep(int64_t ns);
int64_t go_nanotime(void);
void go_set_name(const char *name);

#ifdef __cplusplus
}
#endif
#endif

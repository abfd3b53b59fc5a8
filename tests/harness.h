/* harness.h - what every CUnit suite shares.
 *
 * A suite's main() calls harness_main() with its suites. Cases whose
 * outcome is a process exit (a panic, a deadlock report) run in a child:
 * harness_child() re-executes the suite binary with "--child NAME", which
 * runs the registered child function NAME alone, and returns its exit
 * status and output. A child that outlives its timeout is killed and
 * reported as such, so a hang fails the case instead of the suite. */
#ifndef GOROUTINE_TEST_HARNESS_H
#define GOROUTINE_TEST_HARNESS_H

#include <CUnit/CUnit.h>
#include <stddef.h>

typedef struct {
    const char *name;
    void (*fn)(void);
} harness_case;

typedef struct {
    const char *name;
    const harness_case *cases; /* terminated by {NULL, NULL} */
} harness_suite;

typedef struct {
    int exited;        /* 1 if it exited normally */
    int status;        /* exit status, or the signal that killed it */
    int timed_out;
    char output[16384];/* stdout and stderr, NUL-terminated, truncated */
} harness_result;

/* Child functions, run by name in a fresh process. */
typedef struct {
    const char *name;
    void (*fn)(void);
} harness_child_fn;

int harness_main(int argc, char **argv, const harness_suite *suites,
                 const harness_child_fn *children);
/* Run child `name` with extra environment entries ("K=V", NULL-terminated
 * or NULL) and a timeout in seconds. */
void harness_child(const char *name, const char *const *env, int timeout_s,
                   harness_result *out);

#endif

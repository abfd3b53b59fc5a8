/* time.c - the monotonic clock. clock_gettime(CLOCK_MONOTONIC) goes through
 * the vDSO, so reading it costs no system call. */
#include "rt.h"

#include <time.h>

int64_t rt_nanotime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t go_nanotime(void) { return rt_nanotime(); }

/* intercept.c - resolving the C library's implementations (intercept.h). */
#include "intercept.h"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

void *race_real_resolve(_Atomic(void *) *cache, const char *name) {
    void *p = dlsym(RTLD_NEXT, name);
    if (!p) {
        /* Not through write(): that may be the function missing. */
        static const char msg[] = "race detector: the C library's functions were not found "
                                  "(a static executable cannot be race-checked)\n";
        syscall(SYS_write, 2, msg, sizeof msg - 1);
        _exit(2);
    }
    atomic_store_explicit(cache, p, memory_order_release);
    return p;
}

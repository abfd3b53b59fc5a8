/* dump.c - go_dump_goroutines and the SIGQUIT dump (Go's behaviour: every
 * goroutine's state and stack, then exit status 2), in the same format as
 * the global-deadlock report, plus what sysmon learnt about CPU hogs. The
 * handler is installed at start-up (rt_init) only where SIGQUIT is at its
 * default action, so a program's own handler wins. */
#include "proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int by_id(const void *a, const void *b) {
    uint64_t x = (*(struct rt_g *const *)a)->id, y = (*(struct rt_g *const *)b)->id;
    return x < y ? -1 : x > y;
}

/* Every goroutine that exists (not dead, not a free slot), sorted by id.
 * rt_allgs_lock held; the caller frees the array. */
static struct rt_g **live_goroutines(size_t *count) {
    size_t n = 0;
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next) n++;
    struct rt_g **all = malloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (struct rt_g *gp = rt_allgs; gp && all; gp = gp->all_next) {
        uint32_t st = atomic_load(&gp->status);
        if (st != G_DEAD && st != G_IDLE) all[k++] = gp;
    }
    if (all) qsort(all, k, sizeof *all, by_id);
    *count = k;
    return all;
}

void go_dump_goroutines(int fd) {
    rt_init();
    rt_lock_acquire(&rt_allgs_lock);
    size_t n;
    struct rt_g **all = live_goroutines(&n);
    for (size_t i = 0; i < n; i++) {
        rt_print_goroutine(fd, all[i], NULL);
        uint32_t hogs = __atomic_load_n(&all[i]->hogs, __ATOMIC_RELAXED);
        if (hogs)
            rt_printf(fd, "    (CPU hog: kept its P for over 10 ms without a scheduling point, %u time%s)\n\n",
                      hogs, hogs == 1 ? "" : "s");
    }
    rt_lock_release(&rt_allgs_lock);
    free(all);
    uint64_t total_hogs = __atomic_load_n(&rt_sysmon_stats.hogs, __ATOMIC_RELAXED);
    if (total_hogs)
        rt_printf(fd, "CPU hogs seen: %llu (C code cannot be preempted; add go_yield() calls to long loops)\n",
                  (unsigned long long)total_hogs);
}

static void on_sigquit(int sig) {
    (void)sig;
    fflush(NULL);
    rt_printf(2, "SIGQUIT: quit\n\n");
    go_dump_goroutines(2);
    _exit(2);
}

void rt_install_sigquit(void) {
    struct sigaction old;
    if (sigaction(SIGQUIT, NULL, &old) != 0 || old.sa_handler != SIG_DFL) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigquit;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGQUIT, &sa, NULL);
}

/* syscall.c - blocking-system-call hand-off (Go's entersyscall/exitsyscall).
 *
 * go_syscall_enter marks the goroutine G_SYSCALL and its P P_SYSCALL
 * without giving the P away: most calls are short, and a hand-off costs a
 * thread wake-up. sysmon takes the P (CAS P_SYSCALL -> P_IDLE) from a call
 * that lasts longer than its tick and hands it to another M. On exit the
 * goroutine CASes its old P back (the common, cheap case), else takes any
 * idle P, else queues itself and lets its thread sleep. Between the two
 * calls the goroutine must not use the runtime: its M holds no P. */
#include "proc.h"

#include <errno.h>

__attribute__((noinline)) int rt_errno(void) {
    __asm__ __volatile__("" ::: "memory");
    return errno;
}

__attribute__((noinline)) void rt_set_errno(int err) {
    __asm__ __volatile__("" ::: "memory");
    errno = err;
}

void go_syscall_enter(void) {
    struct rt_m *m = rt_getm();
    struct rt_g *gp = m ? m->curg : NULL;
    if (!gp || !m->p) return;
    struct rt_p *p = m->p;
    atomic_fetch_add_explicit(&p->syscalltick, 1, memory_order_relaxed);
    m->oldp = p;
    m->p = NULL;
    atomic_store_explicit(&gp->status, G_SYSCALL, memory_order_relaxed);
    atomic_store_explicit(&p->status, P_SYSCALL, memory_order_release);
    rt_sysmon_wake();
}

void go_syscall_exit(void) {
    struct rt_m *m = rt_getm();
    struct rt_g *gp = m ? m->curg : NULL;
    if (!gp || atomic_load_explicit(&gp->status, memory_order_relaxed) != G_SYSCALL) return;
    struct rt_p *p = m->oldp;
    m->oldp = NULL;
    uint32_t st = P_SYSCALL;
    if (atomic_compare_exchange_strong_explicit(&p->status, &st, P_RUNNING,
                                                memory_order_acq_rel, memory_order_relaxed)) {
        m->p = p;
        atomic_store_explicit(&gp->status, G_RUNNING, memory_order_relaxed);
        return;
    }
    /* The goroutine resumes on whichever thread picks it up: carry the
     * call's errno over. */
    int err = rt_errno();
    rt_syscall_exit_park(m, gp);
    rt_set_errno(err);
}

/* sysmon.c - the monitor thread (Go's sysmon). It holds no P and runs no
 * goroutines; it wakes every 20 us while something may need it, backing off
 * to 10 ms when nothing happens (go_syscall_enter wakes it from a long
 * sleep), and:
 * - retakes a P whose M has sat in one system call for a whole tick, and
 *   hands it to another M, so a blocked call never stalls other goroutines;
 * - notices goroutines that keep their P for over 10 ms without a schedule
 *   point (C code cannot be preempted safely): it counts them, in total and
 *   per goroutine, so the goroutine dump can name CPU hogs;
 * - polls the network when nobody has for 10 ms, so I/O completes even
 *   while every P is busy. */
#include "proc.h"

#include <pthread.h>
#include <signal.h>

enum {
    TICK_MIN_NS = 20000,
    TICK_MAX_NS = 10000000,
    IDLE_TICKS_BEFORE_BACKOFF = 50,
    HOG_NS = 10000000,
};

struct rt_sysmon_stats rt_sysmon_stats;
static _Atomic uint32_t sysmon_wake;
static _Atomic int sysmon_sleeping_long;

void rt_sysmon_wake(void) {
    if (atomic_load_explicit(&sysmon_sleeping_long, memory_order_relaxed)) {
        atomic_store(&sysmon_sleeping_long, 0);
        atomic_store(&sysmon_wake, 1);
        rt_futex_wake(&sysmon_wake, 1);
    }
}

static bool retake_from_syscall(struct rt_p *p, int64_t now) {
    uint32_t tick = atomic_load_explicit(&p->syscalltick, memory_order_relaxed);
    if (p->sysmon_tick != tick || p->sysmon_when == 0) {
        p->sysmon_tick = tick;
        p->sysmon_when = now;
        return false;
    }
    if (now - p->sysmon_when < TICK_MIN_NS) return false;
    /* Nothing for the P to do and other Ps free to take new work: leave
     * it, unless the call has lasted long. */
    if (rt_runq_empty(p) && atomic_load(&p->timer0_when) == INT64_MAX &&
        atomic_load(&rt_sched.nmspinning) + atomic_load(&rt_sched.npidle) > 0 &&
        now - p->sysmon_when < HOG_NS)
        return false;
    uint32_t st = P_SYSCALL;
    if (!atomic_compare_exchange_strong(&p->status, &st, P_IDLE)) return false;
    rt_sysmon_stats.retakes++;
    rt_handoff_p(p);
    return true;
}

static void watch_running(struct rt_p *p, int64_t now) {
    uint32_t tick = p->schedtick;
    if (p->sysmon_tick != tick || p->sysmon_when == 0) {
        p->sysmon_tick = tick;
        p->sysmon_when = now;
        return;
    }
    if (now - p->sysmon_when < HOG_NS) return;
    p->sysmon_when = now;    /* count each further 10 ms once more */
    struct rt_m *m = p->m;
    struct rt_g *gp = m ? __atomic_load_n(&m->curg, __ATOMIC_RELAXED) : NULL;
    if (gp) __atomic_fetch_add(&gp->hogs, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&rt_sysmon_stats.hogs, 1, __ATOMIC_RELAXED);
}

static bool poll_network(int64_t now) {
    static int64_t last_poll;
    if (!rt_netpoll_waiting() || atomic_load(&rt_sched.timer_sleeper)) {
        last_poll = now;
        return false;
    }
    if (now - last_poll < TICK_MAX_NS) return false;
    last_poll = now;
    struct rt_g *ready = rt_netpoll(0);
    if (!ready) return false;
    rt_globrunq_put_list(ready);
    rt_wakep();
    return true;
}

static void *sysmon_main(void *arg) {
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    int idle = 0;
    int64_t delay = TICK_MIN_NS;
    for (;;) {
        if (idle > IDLE_TICKS_BEFORE_BACKOFF && delay < TICK_MAX_NS) delay *= 2;
        if (delay > TICK_MAX_NS) delay = TICK_MAX_NS;
        bool long_sleep = delay >= TICK_MAX_NS / 4;
        atomic_store(&sysmon_wake, 0);
        if (long_sleep) atomic_store(&sysmon_sleeping_long, 1);
        rt_futex_wait(&sysmon_wake, 0, delay);
        if (long_sleep && atomic_exchange(&sysmon_sleeping_long, 0) == 0) {
            idle = 0;
            delay = TICK_MIN_NS;
        }
        int64_t now = rt_nanotime();
        bool acted = false, in_syscall = false;
        for (int i = 0; i < rt_sched.nprocs_made; i++) {
            struct rt_p *p = rt_sched.allp[i];
            switch (atomic_load(&p->status)) {
            case P_SYSCALL:
                in_syscall = true;
                acted |= retake_from_syscall(p, now);
                break;
            case P_RUNNING:
                watch_running(p, now);
                break;
            default:
                p->sysmon_when = 0;
            }
        }
        acted |= poll_network(now);
        if (acted || in_syscall) {
            idle = 0;
            delay = TICK_MIN_NS;
        } else {
            idle++;
        }
    }
    return NULL;
}

void rt_sysmon_start(void) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 << 10);
    if (pthread_create(&t, &attr, sysmon_main, NULL) != 0)
        rt_fatal("pthread_create failed: cannot start the monitor thread");
    pthread_attr_destroy(&attr);
}

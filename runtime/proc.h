/* proc.h - scheduler internals shared by sched.c, stack.c, timer.c and
 * deadlock.c: the M and P structures and the global scheduler state.
 *
 * Invariants:
 * - An M runs goroutines only while it holds a P (m->p). A P's local run
 *   queue is written only by its owner (tail) and read by anyone (head,
 *   stealing); runnext is swapped atomically.
 * - sched.lock protects the global run queue and the idle P and M lists; the
 *   counters beside them are atomics so fast paths can read them unlocked.
 *   GOMAXPROCS changes under it too, and the idle P list holds only Ps
 *   below GOMAXPROCS (a P beyond it retires instead), so GOMAXPROCS - npidle
 *   is the number of Ps in use.
 * - An idle M has no P and sleeps on its own futex word; whoever hands it a
 *   P sets m->nextp first, then wakes it. */
#ifndef GOROUTINE_SCHED_H_INTERNAL
#define GOROUTINE_SCHED_H_INTERNAL

#include <pthread.h>
#include "rt.h"

#pragma GCC visibility push(hidden)

#define RT_MAX_PROCS 256
#define RT_RUNQ_SIZE 256

enum rt_pstatus { P_IDLE, P_RUNNING, P_SYSCALL, P_RETIRED };

struct rt_p {
    int id;
    _Atomic uint32_t status;                /* enum rt_pstatus */
    struct rt_m *m;
    struct rt_p *idle_link;
    uint32_t schedtick;
    _Atomic uint32_t syscalltick;           /* bumped by go_syscall_enter */
    /* sysmon.c's view of this P at its last look */
    uint32_t sysmon_tick;
    int64_t sysmon_when;
    struct rt_g *gfree;                     /* dead Gs with default stacks */
    int ngfree;
    _Alignas(RT_CACHE_LINE) _Atomic uint32_t runq_head;
    _Atomic uint32_t runq_tail;
    struct rt_g *_Atomic runnext;
    struct rt_g *_Atomic runq[RT_RUNQ_SIZE];
    /* timer.c: a binary min-heap under timers_lock; timer0_when mirrors the
     * earliest deadline (INT64_MAX when empty) for lock-free peeks. */
    _Alignas(RT_CACHE_LINE) rt_lock timers_lock;
    struct rt_timer **timers;
    int ntimers, timers_cap;
    _Atomic int64_t timer0_when;
    /* The timer whose fire() this P is running (rt_timer_stop_sync waits
     * for it). Kept here, not in the timer: a sleep timer lives on the
     * sleeper's stack, which may be reused the moment fire() readies it. */
    struct rt_timer *_Atomic running_timer;
    _Atomic int timers_running;
};

/* Work the next context runs right after a switch, on the same M: it must
 * not run on the stack that is being switched away from. */
typedef void (*rt_after_fn)(struct rt_m *m, struct rt_g *prev, void *arg);

struct rt_m {
    int id;
    struct rt_g *g0;         /* scheduler context on this thread's stack */
    struct rt_g *curg;       /* goroutine running now, or NULL on g0 */
    struct rt_p *p;
    struct rt_p *nextp;      /* P handed over by the waker */
    struct rt_p *oldp;       /* P it held when it entered a system call */
    bool spinning;
    _Atomic uint32_t wake;   /* futex word for sleeping while idle */
    struct rt_m *idle_link;
    rt_after_fn after;
    rt_commit_fn commit;     /* rt_park's commit, run by park_finish */
    struct rt_g *after_prev;
    void *after_arg;
    uint64_t rand;
    pthread_t thread;
    void *altstack;
};

struct rt_sched {
    rt_lock lock;
    struct rt_g *runq_head, *runq_tail;
    _Atomic int32_t runq_size;
    struct rt_p *pidle;
    _Atomic int32_t npidle;
    struct rt_m *midle;
    int32_t nmidle;
    int32_t nsleeping;              /* the timer/netpoll sleeper, 0 or 1 */
    int32_t mcount;
    _Atomic int32_t nmspinning;
    _Atomic int32_t gomaxprocs;
    int32_t nprocs_made;            /* allp[0..nprocs_made) initialised */
    struct rt_p *allp[RT_MAX_PROCS];
    _Atomic uint64_t goid_gen;
    _Atomic int64_t ngoroutines;    /* live, main included */
    /* timer.c: the idle M that sleeps until the earliest timer. */
    struct rt_m *_Atomic timer_sleeper;
    _Atomic int64_t timer_sleep_until;
    /* rt_world_stop is collecting the Ps: Ms give theirs up at their next
     * schedule and take no idle one. */
    _Atomic int stop_wanted;
};

extern struct rt_sched rt_sched;

struct rt_m *rt_getm(void);
void rt_wakep(void);
/* Make the timer sleeper (an idle M) look at the timers and I/O again. */
void rt_wake_sleeper(struct rt_m *sleeper);
void rt_runq_put(struct rt_p *p, struct rt_g *gp, bool next);
bool rt_runq_empty(struct rt_p *p);
/* Queue a list of runnable Gs linked by sched_link on the global queue. */
void rt_globrunq_put_list(struct rt_g *head);
/* Give a P whose M left it (system call retaken) to an M, or to the idle
 * list when there is nothing for it to do. */
void rt_handoff_p(struct rt_p *p);
/* go_syscall_exit's slow path: no P is free, so queue gp and let the M
 * sleep. Returns when gp runs again. */
void rt_syscall_exit_park(struct rt_m *m, struct rt_g *gp);
/* Called by a goroutine: collect every other P, so that no other
 * goroutine runs and no timer fires until rt_world_start. Fails, taking
 * nothing, when some P is not given up within a few milliseconds (a
 * goroutine that never parks, one in a system call). The caller must not
 * block in between. */
bool rt_world_stop(void);
void rt_world_start(void);

/* sysmon.c */
void rt_sysmon_start(void);
void rt_sysmon_wake(void);
struct rt_sysmon_stats { uint64_t retakes; uint64_t hogs; };
extern struct rt_sysmon_stats rt_sysmon_stats;

/* netpoll.c: readiness of descriptors, integrated with the scheduler. */
bool rt_netpoll_waiting(void);       /* goroutines parked on I/O */
/* Ready goroutines (status already G_RUNNABLE) linked by sched_link;
 * blocks up to delay ns (< 0 forever, 0 not at all). */
struct rt_g *rt_netpoll(int64_t delay);
void rt_netpoll_break(void);         /* interrupt a blocked rt_netpoll */
bool rt_netpoll_inited(void);

/* stack.c */
extern size_t rt_default_stack_size;
struct rt_g *rt_gfget(struct rt_p *p, size_t stack_size);
void rt_gfput(struct rt_p *p, struct rt_g *gp);
void rt_stack_check(struct rt_g *gp);
void rt_stack_init(void);
void rt_stack_thread_init(struct rt_m *m);
size_t rt_stack_size_from_env(void);
struct rt_g *rt_g0_make(size_t size);   /* a scheduler stack for M0 */

/* timer.c */
void rt_timers_run(struct rt_p *p, int64_t now);
int64_t rt_timers_next(void);           /* earliest deadline over all Ps */
void rt_timers_move(struct rt_p *from, struct rt_p *to);
bool rt_timers_any_can_wake(void);
void rt_timer_p_init(struct rt_p *p);

/* dump.c */
void rt_install_sigquit(void);

/* deadlock.c */
void rt_check_dead(void);
/* Whether gp can run again without another goroutine's help: running,
 * runnable, in a system call, or waiting on a sleep or I/O. */
bool rt_wakes_by_itself(struct rt_g *gp);

/* The assembly context switch and trampoline. */
void rt_switch(void **save_sp, void *new_sp);
void go_goroutine_start(void);

#pragma GCC visibility pop
#endif

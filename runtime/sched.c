/* sched.c - the M:N scheduler: Go's G/M/P model.
 *
 * GOMAXPROCS Ps each own a bounded lock-free run queue (256 slots, owner
 * pushes at the tail, anyone pops at the head) and a runnext slot for the
 * goroutine just readied or spawned, which runs next and inherits the
 * current time slice (so ping-pong pairs stay on one P). A global queue
 * under sched.lock takes overflow and yields, and is polled every 61st
 * schedule for fairness. An M without local work steals half of another
 * P's queue; at most half the busy Ps' worth of Ms spin looking for work,
 * and they spin a bounded time before parking on a futex, because a futex
 * wake-up costs microseconds on the VMs we target.
 *
 * Switching: a goroutine that parks or exits switches straight to the next
 * local goroutine when there is one (one context switch), and to its M's
 * scheduler context g0 otherwise. Work that must not run on the stack being
 * left (publishing a parked goroutine, freeing a dead one) is handed to the
 * next context through m->after, which runs right after every switch: this
 * is Go's "unlock after switching away", and it is what makes rt_park free of
 * lost wake-ups.
 *
 * main() runs as goroutine 1 on the process's own stack; the M0 scheduler
 * context gets a separate stack. Every M reads its identity through
 * rt_getm(), never a cached TLS address: a goroutine may resume on another
 * thread after any switch. */
#include "proc.h"
#include "../detector/race.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif
#ifdef RT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

enum {
    G0_STACK_SIZE = 256 << 10,
    GLOBAL_POLL_TICKS = 61,
    STEAL_TRIES = 4,
    SPIN_NS = 50000,           /* how long an idle M spins before sleeping */
    SPAWN_YIELD_QUEUE = 64,    /* local queue length at which spawn yields */
    RUNNEXT_GRACE_NS = 3000,   /* how long a thief leaves a running P's runnext */
};

struct rt_sched rt_sched;
struct rt_g *rt_allgs;
rt_lock rt_allgs_lock;

static struct rt_m m0;
static struct rt_g g1;
static _Atomic int init_state;   /* 0 not started, 1 in progress, 2 done */
static _Atomic int32_t next_m_id;
static __thread struct rt_m *tls_m __attribute__((tls_model("initial-exec")));

static _Noreturn void sched_loop(struct rt_m *m);

/* Out of line on purpose: a goroutine can resume on another thread after
 * any call that switches, so the TLS address must be recomputed each time. */
__attribute__((noinline)) struct rt_m *rt_getm(void) {
    __asm__ __volatile__("" ::: "memory");
    return tls_m;
}

struct rt_g *rt_getg(void) {
    struct rt_m *m = rt_getm();
    return m ? m->curg : NULL;
}

int rt_gomaxprocs(void) { return atomic_load_explicit(&rt_sched.gomaxprocs, memory_order_relaxed); }

/* ---- random numbers (wyrand) ---- */
static _Atomic uint64_t foreign_rand = 0x9E3779B97F4A7C15ull;

uint32_t rt_fastrand(void) {
    struct rt_m *m = rt_getm();
    uint64_t s;
    if (m) s = (m->rand += 0xa0761d6478bd642full);
    else s = atomic_fetch_add_explicit(&foreign_rand, 0xa0761d6478bd642full,
                                       memory_order_relaxed);
    __uint128_t t = (__uint128_t)s * (s ^ 0xe7037ed1a0b428dbull);
    return (uint32_t)((uint64_t)(t >> 64) ^ (uint64_t)t);
}

/* ---- context switching ---- */

static inline void asan_start_switch(struct rt_g *from, struct rt_g *to, bool from_exiting) {
#ifdef RT_ASAN
    __sanitizer_start_switch_fiber(from_exiting ? NULL : &from->asan_fake_stack,
                                   to->stack_lo,
                                   (char *)to->stack_hi - (char *)to->stack_lo);
#else
    (void)from; (void)to; (void)from_exiting;
#endif
}

static inline void asan_finish_switch(struct rt_g *resumed) {
#ifdef RT_ASAN
    __sanitizer_finish_switch_fiber(resumed ? resumed->asan_fake_stack : NULL, NULL, NULL);
#else
    (void)resumed;
#endif
}

static inline void run_after(struct rt_m *m) {
    rt_after_fn fn = m->after;
    if (fn) {
        m->after = NULL;
        fn(m, m->after_prev, m->after_arg);
    }
}

/* Leave `from` (the running goroutine or g0) for `to` on M m. Returns when
 * `from` is resumed, possibly on another M, with that M's after-work done. */
static void switch_to(struct rt_m *m, struct rt_g *from, struct rt_g *to, bool from_exiting) {
    if (to == m->g0) {
        m->curg = NULL;
    } else {
        m->curg = to;
        to->m = m;
        atomic_store_explicit(&to->status, G_RUNNING, memory_order_relaxed);
    }
    asan_start_switch(from, to, from_exiting);
    rt_switch(&from->sp, to->sp);
    asan_finish_switch(from);
    RACE(race_switch_to(from));
    run_after(rt_getm());
}

/* Build the initial switch frame of a goroutine that starts in
 * go_goroutine_start with gp in r12 (see switch_x86_64.S). */
static void frame_init(struct rt_g *gp, void *top) {
    uint64_t *sp = (uint64_t *)(((uintptr_t)top & ~(uintptr_t)15) - 16 - 64);
    sp[0] = 0x1F80ull | (0x037Full << 32);      /* default MXCSR, x87 CW */
    sp[1] = sp[2] = sp[3] = 0;                   /* r15 r14 r13 */
    sp[4] = (uint64_t)(uintptr_t)gp;             /* r12 */
    sp[5] = sp[6] = 0;                           /* rbx rbp */
    sp[7] = (uint64_t)(uintptr_t)go_goroutine_start;
    gp->sp = sp;
}

/* ---- run queues ---- */

static void globrunq_put_batch(struct rt_g *head, struct rt_g *tail, int32_t n) {
    tail->sched_link = NULL;
    if (rt_sched.runq_tail) rt_sched.runq_tail->sched_link = head;
    else rt_sched.runq_head = head;
    rt_sched.runq_tail = tail;
    atomic_fetch_add_explicit(&rt_sched.runq_size, n, memory_order_release);
}

static void globrunq_put(struct rt_g *gp) {
    rt_lock_acquire(&rt_sched.lock);
    globrunq_put_batch(gp, gp, 1);
    rt_lock_release(&rt_sched.lock);
}

void rt_globrunq_put_list(struct rt_g *head) {
    if (!head) return;
    struct rt_g *tail = head;
    int32_t n = 1;
    while (tail->sched_link) {
        tail = tail->sched_link;
        n++;
    }
    rt_lock_acquire(&rt_sched.lock);
    globrunq_put_batch(head, tail, n);
    rt_lock_release(&rt_sched.lock);
}

/* Move half the local queue plus gp to the global queue; false if the
 * queue changed under us (a thief took some), so the caller retries. */
static bool runq_put_slow(struct rt_p *p, struct rt_g *gp, uint32_t h, uint32_t t) {
    struct rt_g *batch[RT_RUNQ_SIZE / 2 + 1];
    uint32_t n = (t - h) / 2;
    for (uint32_t i = 0; i < n; i++)
        batch[i] = atomic_load_explicit(&p->runq[(h + i) % RT_RUNQ_SIZE], memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&p->runq_head, &h, h + n,
                                                 memory_order_release, memory_order_relaxed))
        return false;
    batch[n] = gp;
    for (uint32_t i = 0; i < n; i++) batch[i]->sched_link = batch[i + 1];
    rt_lock_acquire(&rt_sched.lock);
    globrunq_put_batch(batch[0], batch[n], (int32_t)n + 1);
    rt_lock_release(&rt_sched.lock);
    return true;
}

void rt_runq_put(struct rt_p *p, struct rt_g *gp, bool next) {
    if (next) {
        gp = atomic_exchange_explicit(&p->runnext, gp, memory_order_acq_rel);
        if (!gp) return;
    }
    for (;;) {
        uint32_t h = atomic_load_explicit(&p->runq_head, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&p->runq_tail, memory_order_relaxed);
        if (t - h < RT_RUNQ_SIZE) {
            atomic_store_explicit(&p->runq[t % RT_RUNQ_SIZE], gp, memory_order_relaxed);
            atomic_store_explicit(&p->runq_tail, t + 1, memory_order_release);
            return;
        }
        if (runq_put_slow(p, gp, h, t)) return;
    }
}

static struct rt_g *runq_get(struct rt_p *p) {
    struct rt_g *next = atomic_load_explicit(&p->runnext, memory_order_relaxed);
    if (next && atomic_compare_exchange_strong_explicit(&p->runnext, &next, NULL,
                                                        memory_order_acq_rel, memory_order_relaxed))
        return next;
    for (;;) {
        uint32_t h = atomic_load_explicit(&p->runq_head, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&p->runq_tail, memory_order_relaxed);
        if (t == h) return NULL;
        struct rt_g *gp = atomic_load_explicit(&p->runq[h % RT_RUNQ_SIZE], memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&p->runq_head, &h, h + 1,
                                                  memory_order_release, memory_order_relaxed))
            return gp;
    }
}

bool rt_runq_empty(struct rt_p *p) {
    uint32_t h = atomic_load_explicit(&p->runq_head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&p->runq_tail, memory_order_acquire);
    return h == t && atomic_load_explicit(&p->runnext, memory_order_relaxed) == NULL;
}

/* Steal half of victim's queue into p's; returns one stolen G to run. */
static struct rt_g *runq_steal(struct rt_p *p, struct rt_p *victim, bool take_runnext) {
    uint32_t t = atomic_load_explicit(&p->runq_tail, memory_order_relaxed);
    for (;;) {
        uint32_t h = atomic_load_explicit(&victim->runq_head, memory_order_acquire);
        uint32_t vt = atomic_load_explicit(&victim->runq_tail, memory_order_acquire);
        uint32_t n = vt - h;
        n -= n / 2;
        if (n == 0) {
            if (!take_runnext) return NULL;
            struct rt_g *next = atomic_load_explicit(&victim->runnext, memory_order_relaxed);
            if (next && victim->status == P_RUNNING) {
                /* The victim has probably just readied next and is about
                 * to park (a channel hand-off): give it the few
                 * microseconds it needs to run next itself, rather than
                 * bounce the pair between Ps (Go backs off the same way). */
                int64_t until = rt_nanotime() + RUNNEXT_GRACE_NS;
                do {
                    for (int i = 0; i < 16; i++) __builtin_ia32_pause();
                    next = atomic_load_explicit(&victim->runnext, memory_order_relaxed);
                } while (next && rt_nanotime() < until);
            }
            if (next && atomic_compare_exchange_strong_explicit(
                            &victim->runnext, &next, NULL, memory_order_acq_rel,
                            memory_order_relaxed))
                return next;
            return NULL;
        }
        if (n > RT_RUNQ_SIZE / 2) continue;   /* read h and vt inconsistently */
        for (uint32_t i = 0; i < n; i++) {
            struct rt_g *gp = atomic_load_explicit(&victim->runq[(h + i) % RT_RUNQ_SIZE],
                                                   memory_order_relaxed);
            atomic_store_explicit(&p->runq[(t + i) % RT_RUNQ_SIZE], gp, memory_order_relaxed);
        }
        if (atomic_compare_exchange_strong_explicit(&victim->runq_head, &h, h + n,
                                                    memory_order_release, memory_order_relaxed)) {
            n--;
            struct rt_g *gp = atomic_load_explicit(&p->runq[(t + n) % RT_RUNQ_SIZE],
                                                   memory_order_relaxed);
            if (n) atomic_store_explicit(&p->runq_tail, t + n, memory_order_release);
            return gp;
        }
    }
}

/* Take a share of the global queue: one to run, more into p's queue.
 * sched.lock held. */
static struct rt_g *globrunq_get(struct rt_p *p, int32_t max) {
    int32_t size = atomic_load_explicit(&rt_sched.runq_size, memory_order_relaxed);
    if (size == 0) return NULL;
    int32_t n = size / rt_gomaxprocs() + 1;
    if (n > size) n = size;
    if (max > 0 && n > max) n = max;
    if (n > RT_RUNQ_SIZE / 2) n = RT_RUNQ_SIZE / 2;
    atomic_fetch_sub_explicit(&rt_sched.runq_size, n, memory_order_relaxed);
    struct rt_g *gp = rt_sched.runq_head;
    rt_sched.runq_head = gp->sched_link;
    for (int32_t i = 1; i < n; i++) {
        struct rt_g *more = rt_sched.runq_head;
        rt_sched.runq_head = more->sched_link;
        rt_runq_put(p, more, false);
    }
    if (!rt_sched.runq_head) rt_sched.runq_tail = NULL;
    return gp;
}

static struct rt_g *globrunq_get_locked(struct rt_p *p, int32_t max) {
    if (atomic_load_explicit(&rt_sched.runq_size, memory_order_acquire) == 0) return NULL;
    rt_lock_acquire(&rt_sched.lock);
    struct rt_g *gp = globrunq_get(p, max);
    rt_lock_release(&rt_sched.lock);
    return gp;
}

/* ---- idle Ps and Ms (sched.lock held) ---- */

/* p has no M and an empty run queue: only its M fills that queue, and
 * the M is letting go of it. Its timers go to P 0. */
static void retire_unowned(struct rt_p *p) {
    p->status = P_RETIRED;
    p->m = NULL;
    rt_timers_move(p, rt_sched.allp[0]);
}

/* A P beyond GOMAXPROCS never idles, it retires. GOMAXPROCS changes under
 * sched.lock too, so the idle list holds only Ps below it and
 * GOMAXPROCS - npidle counts the Ps in use: find_runnable spins (running
 * other Ps' due timers) only while that count says so. */
static void pidle_put(struct rt_p *p) {
    if (p->id >= rt_gomaxprocs()) {
        retire_unowned(p);
        return;
    }
    p->status = P_IDLE;
    p->m = NULL;
    p->idle_link = rt_sched.pidle;
    rt_sched.pidle = p;
    atomic_fetch_add_explicit(&rt_sched.npidle, 1, memory_order_release);
}

static struct rt_p *pidle_get(void) {
    if (atomic_load_explicit(&rt_sched.stop_wanted, memory_order_relaxed)) return NULL;
    struct rt_p *p = rt_sched.pidle;
    if (p) {
        rt_sched.pidle = p->idle_link;
        atomic_fetch_sub_explicit(&rt_sched.npidle, 1, memory_order_release);
    }
    return p;
}

static struct rt_m *midle_get(void) {
    struct rt_m *m = rt_sched.midle;
    if (m) {
        rt_sched.midle = m->idle_link;
        rt_sched.nmidle--;
    }
    return m;
}

static void acquire_p(struct rt_m *m, struct rt_p *p) {
    m->p = p;
    p->m = m;
    p->status = P_RUNNING;
}

/* ---- starting and stopping Ms ---- */

static void *thread_main(void *arg) {
    struct rt_m *m = arg;
    tls_m = m;
    pthread_attr_t attr;
    void *lo = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        pthread_attr_getstack(&attr, &lo, &size);
        pthread_attr_destroy(&attr);
    }
    m->g0->stack_lo = lo;
    m->g0->stack_hi = (char *)lo + size;
    rt_stack_thread_init(m);
    struct rt_p *p = m->nextp;
    m->nextp = NULL;
    acquire_p(m, p);
    sched_loop(m);
}

static void new_m(struct rt_p *p, bool spinning) {
    struct rt_m *m = calloc(1, sizeof *m);
    struct rt_g *g0 = calloc(1, sizeof *g0);
    if (!m || !g0) rt_fatal("out of memory creating a thread");
    m->id = atomic_fetch_add(&next_m_id, 1);
    m->g0 = g0;
    m->rand = (uint64_t)rt_nanotime() ^ ((uint64_t)m->id << 32) ^ (uintptr_t)m;
    m->spinning = spinning;
    m->nextp = p;
    rt_lock_acquire(&rt_sched.lock);
    rt_sched.mcount++;
    rt_lock_release(&rt_sched.lock);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = pthread_create(&m->thread, &attr, thread_main, m);
    pthread_attr_destroy(&attr);
    if (err) rt_fatal("pthread_create failed: cannot start a scheduler thread");
}

/* Start an M to run p (or any idle P when p is NULL). */
static void start_m(struct rt_p *p, bool spinning) {
    rt_lock_acquire(&rt_sched.lock);
    if (!p) p = pidle_get();
    if (!p) {
        rt_lock_release(&rt_sched.lock);
        if (spinning) atomic_fetch_sub(&rt_sched.nmspinning, 1);
        return;
    }
    struct rt_m *m = midle_get();
    rt_lock_release(&rt_sched.lock);
    if (!m) {
        new_m(p, spinning);
        return;
    }
    m->spinning = spinning;
    __atomic_store_n(&m->nextp, p, __ATOMIC_RELEASE);
    atomic_store_explicit(&m->wake, 1, memory_order_release);
    rt_futex_wake(&m->wake, 1);
}

void rt_wakep(void) {
    /* Pairs with the spinning M's decrement-then-recheck in find_runnable:
     * our run-queue store must be visible before we read the counters, or
     * both sides could miss each other (x86 lets a load pass a store). */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&rt_sched.npidle, memory_order_acquire) == 0 ||
        atomic_load_explicit(&rt_sched.nmspinning, memory_order_acquire) != 0)
        return;
    int32_t zero = 0;
    if (!atomic_compare_exchange_strong(&rt_sched.nmspinning, &zero, 1)) return;
    start_m(NULL, true);
}

static void stop_spinning(struct rt_m *m) {
    m->spinning = false;
    if (atomic_fetch_sub(&rt_sched.nmspinning, 1) == 1) rt_wakep();
}

/* Called with sched.lock held by an M about to sleep: if it is the last
 * one awake, nothing can make progress unless a timer or I/O will. */
static bool last_awake(void) {
    return rt_sched.nmidle + rt_sched.nsleeping == rt_sched.mcount &&
           atomic_load(&rt_sched.runq_size) == 0;
}

/* The deadlock check must see a still world: it runs only on the last M
 * awake. While a sleeper exists it is the one to check (it may wake by
 * itself at its deadline and run goroutines while we scan), so an M that
 * goes idle last wakes it up to look. timer.c wakes it for an earlier
 * timer. */
void rt_wake_sleeper(struct rt_m *sleeper) {
    if (rt_netpoll_inited()) {
        rt_netpoll_break();
    } else {
        atomic_store_explicit(&sleeper->wake, 1, memory_order_release);
        rt_futex_wake(&sleeper->wake, 1);
    }
}

/* The sleeper: the one idle M that waits for the earliest timer and for
 * I/O readiness (in epoll_wait when the netpoller is in use, on its futex
 * otherwise). It is not on the idle list, so nobody hands it a P; on
 * waking it takes an idle P itself, or queues what it found globally. */
static bool sleep_for_timers_and_io(struct rt_m *m) {
    if (rt_timers_next() == INT64_MAX && !rt_netpoll_waiting()) return false;
    /* Cleared before m is published as the sleeper: a wake_sleeper that
     * finds m (the last M going idle asking for the deadlock check) must
     * not be erased. */
    atomic_store_explicit(&m->wake, 0, memory_order_relaxed);
    struct rt_m *none = NULL;
    if (!atomic_compare_exchange_strong(&rt_sched.timer_sleeper, &none, m)) return false;
    rt_lock_acquire(&rt_sched.lock);
    rt_sched.nsleeping = 1;
    bool last = last_awake();
    rt_lock_release(&rt_sched.lock);
    if (last) rt_check_dead();

    int64_t until = rt_timers_next();
    atomic_store(&rt_sched.timer_sleep_until, until);
    int64_t delay = -1;                  /* no timer: until woken */
    if (until != INT64_MAX) {
        delay = until - rt_nanotime();
        if (delay < 0) delay = 0;        /* overdue: just go and run it */
    }
    struct rt_g *ready = NULL;
    if (delay != 0) {
        if (rt_netpoll_inited()) ready = rt_netpoll(delay);
        else if (atomic_load(&m->wake) == 0) rt_futex_wait(&m->wake, 0, delay);
    }
    atomic_store(&rt_sched.timer_sleep_until, INT64_MAX);
    rt_lock_acquire(&rt_sched.lock);
    rt_sched.nsleeping = 0;
    atomic_store(&rt_sched.timer_sleeper, NULL);
    struct rt_p *p = pidle_get();
    if (!p) {
        if (ready) {
            rt_lock_release(&rt_sched.lock);
            rt_globrunq_put_list(ready);
            return false;
        }
        rt_lock_release(&rt_sched.lock);
        return false;
    }
    rt_lock_release(&rt_sched.lock);
    acquire_p(m, p);
    while (ready) {
        struct rt_g *next = ready->sched_link;
        rt_runq_put(p, ready, false);
        ready = next;
    }
    return true;
}

/* Sleep until this M has a P again. */
static void stop_m(struct rt_m *m) {
    for (;;) {
        if (sleep_for_timers_and_io(m)) return;
        atomic_store_explicit(&m->wake, 0, memory_order_relaxed);
        rt_lock_acquire(&rt_sched.lock);
        /* A sleeper may have left while we decided; never leave timers or
         * I/O without one. */
        if (!atomic_load(&rt_sched.timer_sleeper) &&
            (rt_timers_next() != INT64_MAX || rt_netpoll_waiting())) {
            rt_lock_release(&rt_sched.lock);
            continue;
        }
        m->idle_link = rt_sched.midle;
        rt_sched.midle = m;
        rt_sched.nmidle++;
        bool last = last_awake();
        struct rt_m *sleeper = atomic_load(&rt_sched.timer_sleeper);
        rt_lock_release(&rt_sched.lock);
        if (last && sleeper) rt_wake_sleeper(sleeper);
        else if (last) rt_check_dead();
        while (!__atomic_load_n(&m->nextp, __ATOMIC_ACQUIRE))
            rt_futex_wait(&m->wake, 0, -1);
        struct rt_p *p = m->nextp;
        m->nextp = NULL;
        acquire_p(m, p);
        return;
    }
}

void rt_handoff_p(struct rt_p *p) {
    if (!rt_runq_empty(p) || atomic_load(&rt_sched.runq_size) != 0) {
        start_m(p, false);
        return;
    }
    if (atomic_load(&rt_sched.nmspinning) + atomic_load(&rt_sched.npidle) == 0) {
        int32_t zero = 0;
        if (atomic_compare_exchange_strong(&rt_sched.nmspinning, &zero, 1)) {
            start_m(p, true);
            return;
        }
    }
    if (atomic_load(&p->timer0_when) != INT64_MAX && !atomic_load(&rt_sched.timer_sleeper)) {
        start_m(p, false);
        return;
    }
    rt_lock_acquire(&rt_sched.lock);
    pidle_put(p);
    rt_lock_release(&rt_sched.lock);
}

/* ---- finding work ---- */

/* m lets go of p: for a smaller GOMAXPROCS (pidle_put retires it) or for
 * rt_world_stop (which collects it from the idle list). Its queue goes to
 * the global one, for an idle P to pick up; while the world is stopped
 * the goroutines wait there, runnable, so live. */
static void let_go_of_p(struct rt_m *m, struct rt_p *p) {
    if (m->spinning) stop_spinning(m);
    struct rt_g *gp;
    while ((gp = runq_get(p)) != NULL) globrunq_put(gp);
    rt_lock_acquire(&rt_sched.lock);
    m->p = NULL;
    pidle_put(p);
    rt_lock_release(&rt_sched.lock);
    rt_wakep();
}

static void run_due_timers(struct rt_p *p) {
    int64_t when = atomic_load_explicit(&p->timer0_when, memory_order_relaxed);
    if (when != INT64_MAX) {
        int64_t now = rt_nanotime();
        if (now >= when) rt_timers_run(p, now);
    }
}

static struct rt_g *steal_work(struct rt_m *m, struct rt_p *p) {
    int n = rt_sched.nprocs_made;
    for (int round = 0; round < STEAL_TRIES; round++) {
        int start = (int)rt_fastrandn((uint32_t)n);
        for (int i = 0; i < n; i++) {
            struct rt_p *victim = rt_sched.allp[(start + i) % n];
            if (victim == p) continue;
            run_due_timers(victim);
            struct rt_g *gp = runq_get(p);   /* timers may have readied some */
            if (gp) return gp;
            if (victim->status != P_RUNNING && rt_runq_empty(victim)) continue;
            gp = runq_steal(p, victim, round == STEAL_TRIES - 1);
            if (gp) return gp;
        }
    }
    return NULL;
}

static bool any_runq_nonempty(void) {
    for (int i = 0; i < rt_sched.nprocs_made; i++)
        if (!rt_runq_empty(rt_sched.allp[i])) return true;
    return atomic_load(&rt_sched.runq_size) != 0;
}

/* Returns a runnable G with m->p held; sleeps while there is none. */
static struct rt_g *find_runnable(struct rt_m *m) {
    for (;;) {
        if (!m->p) stop_m(m);
        struct rt_p *p = m->p;
        if (RT_UNLIKELY(p->id >= rt_gomaxprocs() ||
                        atomic_load_explicit(&rt_sched.stop_wanted, memory_order_relaxed))) {
            let_go_of_p(m, p);
            continue;
        }
        run_due_timers(p);
        struct rt_g *gp;
        if (p->schedtick % GLOBAL_POLL_TICKS == 0 && (gp = globrunq_get_locked(p, 1)))
            return gp;
        if ((gp = runq_get(p)) || (gp = globrunq_get_locked(p, 0))) return gp;
        if (rt_netpoll_waiting() && !atomic_load(&rt_sched.timer_sleeper)) {
            struct rt_g *ready = rt_netpoll(0);
            if (ready) {
                gp = ready;
                for (struct rt_g *more = gp->sched_link; more;) {
                    struct rt_g *next = more->sched_link;
                    rt_runq_put(p, more, false);
                    more = next;
                }
                return gp;
            }
        }

        int32_t busy = rt_gomaxprocs() - atomic_load(&rt_sched.npidle);
        if (!m->spinning && 2 * atomic_load(&rt_sched.nmspinning) < busy) {
            m->spinning = true;
            atomic_fetch_add(&rt_sched.nmspinning, 1);
        }
        if (m->spinning) {
            int64_t deadline = rt_nanotime() + SPIN_NS;
            do {
                if ((gp = steal_work(m, p)) || (gp = globrunq_get_locked(p, 0))) return gp;
                run_due_timers(p);
                if ((gp = runq_get(p))) return gp;
                for (int i = 0; i < 64; i++) __builtin_ia32_pause();
            } while (rt_nanotime() < deadline);
        }

        /* Nothing to do: give up the P, then look once more before sleeping,
         * since a G readied after our last look would not wake anyone while
         * we still counted as spinning. */
        rt_lock_acquire(&rt_sched.lock);
        if ((gp = globrunq_get(p, 0))) {
            rt_lock_release(&rt_sched.lock);
            return gp;
        }
        m->p = NULL;
        pidle_put(p);
        rt_lock_release(&rt_sched.lock);
        if (m->spinning) {
            m->spinning = false;
            atomic_fetch_sub(&rt_sched.nmspinning, 1);
            if (any_runq_nonempty()) {
                rt_lock_acquire(&rt_sched.lock);
                struct rt_p *again = pidle_get();
                rt_lock_release(&rt_sched.lock);
                if (again) {
                    acquire_p(m, again);
                    m->spinning = true;
                    atomic_fetch_add(&rt_sched.nmspinning, 1);
                    continue;
                }
            }
        }
        stop_m(m);
    }
}

static _Noreturn void sched_loop(struct rt_m *m) {
    for (;;) {
        struct rt_g *gp = find_runnable(m);
        if (m->spinning) stop_spinning(m);
        m->p->schedtick++;
        switch_to(m, m->g0, gp, false);
    }
}

/* The next goroutine to switch to directly, without the scheduler
 * context: only cheap local work; anything else goes through g0. */
static struct rt_g *next_local(struct rt_m *m) {
    struct rt_p *p = m->p;
    p->schedtick++;
    if (RT_UNLIKELY(p->id >= rt_gomaxprocs() ||
                    atomic_load_explicit(&rt_sched.stop_wanted, memory_order_relaxed)))
        return NULL;
    if (p->schedtick % GLOBAL_POLL_TICKS == 0 &&
        atomic_load_explicit(&rt_sched.runq_size, memory_order_relaxed) != 0)
        return NULL;
    if (RT_UNLIKELY(atomic_load_explicit(&p->timer0_when, memory_order_relaxed) != INT64_MAX) &&
        rt_nanotime() >= atomic_load_explicit(&p->timer0_when, memory_order_relaxed))
        return NULL;
    return runq_get(p);
}

/* Switch the running goroutine away, leaving `after` for the next context. */
static void switch_away(struct rt_m *m, struct rt_g *gp, rt_after_fn after, void *arg,
                        bool exiting) {
    if (gp->stack) rt_stack_check(gp);
    m->after = after;
    m->after_prev = gp;
    m->after_arg = arg;
    struct rt_g *next = next_local(m);
    switch_to(m, gp, next ? next : m->g0, exiting);
}

/* ---- goroutine entry, park, ready, exit ---- */

void rt_goroutine_main(struct rt_g *gp);

void rt_goroutine_main(struct rt_g *gp) {
    struct rt_m *m = rt_getm();
    asan_finish_switch(NULL);
    run_after(m);
    if (gp == m->g0) {
        RACE(race_switch_to(NULL));
        sched_loop(m);
    }
    RACE(race_goroutine_begins(gp, (uintptr_t)__builtin_return_address(0)));
    gp->fn(gp->arg);
    go_exit();
}

static void park_finish(struct rt_m *m, struct rt_g *gp, void *arg) {
    gp->m = NULL;
    atomic_store_explicit(&gp->status, G_WAITING, memory_order_release);
    if (!m->commit(gp, arg)) rt_ready(gp);
}

void rt_park(rt_commit_fn commit, void *arg, enum rt_wait_reason reason, void *wait_obj) {
    struct rt_m *m = rt_getm();
    struct rt_g *gp = m ? m->curg : NULL;
    if (!gp) rt_fatal("blocking operation on a thread that is not running a goroutine");
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    gp->wait_since = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    gp->wait_reason = reason;
    gp->wait_obj = wait_obj;
    m->commit = commit;
    switch_away(m, gp, park_finish, arg, false);
    gp->wait_reason = WAIT_NONE;
    gp->wait_obj = NULL;
}

bool rt_commit_unlock(struct rt_g *gp, void *lock) {
    (void)gp;
    rt_lock_release(lock);
    return true;
}

void rt_ready(struct rt_g *gp) {
    uint32_t st = G_WAITING;
    if (!atomic_compare_exchange_strong_explicit(&gp->status, &st, G_RUNNABLE,
                                                 memory_order_acq_rel, memory_order_relaxed))
        rt_fatal("ready of a goroutine that is not waiting");
    struct rt_m *m = rt_getm();
    if (m && m->p) rt_runq_put(m->p, gp, true);
    else globrunq_put(gp);
    rt_wakep();
}

static void exit_finish(struct rt_m *m, struct rt_g *gp, void *arg) {
    (void)arg;
    if (gp->stack) rt_gfput(m->p, gp);
}

_Noreturn void go_exit(void) {
    struct rt_m *m = rt_getm();
    struct rt_g *gp = m ? m->curg : NULL;
    if (!gp) rt_fatal("go_exit called outside a goroutine");
    RACE(race_go_end(gp));
    gp->leak_reported = false;
    free((void *)gp->name);
    gp->name = NULL;
    gp->m = NULL;
    gp->wait_reason = gp->stack ? WAIT_NONE : WAIT_GOEXIT;
    atomic_store_explicit(&gp->status, G_DEAD, memory_order_release);
    atomic_fetch_sub_explicit(&rt_sched.ngoroutines, 1, memory_order_relaxed);
    switch_away(m, gp, exit_finish, NULL, true);
    __builtin_unreachable();
}

static void yield_finish(struct rt_m *m, struct rt_g *gp, void *arg) {
    (void)m; (void)arg;
    gp->m = NULL;
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    globrunq_put(gp);
}

void go_yield(void) {
    struct rt_m *m = rt_getm();
    struct rt_g *gp = m ? m->curg : NULL;
    if (!gp) {
        sched_yield();
        return;
    }
    switch_away(m, gp, yield_finish, NULL, false);
}

/* On g0: run gp on an idle P if there is one, else queue it globally. */
static void syscall_exit_finish(struct rt_m *m, struct rt_g *gp, void *arg) {
    (void)arg;
    gp->m = NULL;
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    rt_lock_acquire(&rt_sched.lock);
    struct rt_p *p = pidle_get();
    if (p) {
        rt_lock_release(&rt_sched.lock);
        acquire_p(m, p);
        rt_runq_put(p, gp, true);
        return;
    }
    globrunq_put_batch(gp, gp, 1);
    rt_lock_release(&rt_sched.lock);
    rt_wakep();
}

void rt_syscall_exit_park(struct rt_m *m, struct rt_g *gp) {
    m->after = syscall_exit_finish;
    m->after_prev = gp;
    m->after_arg = NULL;
    switch_to(m, gp, m->g0, false);
}

/* ---- spawning ---- */

/* Ids come from one counter, so a program's goroutines are numbered in
 * spawn order whichever P spawns them (reports and tests read better;
 * Go's per-P batches make its ids jump). */
static uint64_t new_goid(void) {
    return atomic_fetch_add_explicit(&rt_sched.goid_gen, 1, memory_order_relaxed) + 1;
}

/* The creator's stack by frame pointers: walk up from our own frame to the
 * one returning to first_pc, then collect its callers. Bounded by the
 * creator's own stack, so user code built without frame pointers cannot
 * make us fault; it can only shorten the trace. */
static int creation_stack(struct rt_g *parent, uintptr_t first_pc, uintptr_t *pcs, int max) {
    int n = 0;
    pcs[n++] = first_pc;
    if (!parent) return n;
    uintptr_t lo = (uintptr_t)parent->stack_lo, hi = (uintptr_t)parent->stack_hi;
    uintptr_t *fp = __builtin_frame_address(0);
    bool found = false;
    for (int depth = 0; n < max && depth < 64; depth++) {
        uintptr_t f = (uintptr_t)fp;
        if (f < lo || f + 16 > hi || (f & 7)) break;
        uintptr_t ret = fp[1];
        if (found) {
            if (ret < 4096) break;
            pcs[n++] = ret;
        } else if (ret == first_pc) {
            found = true;
        }
        uintptr_t *next = (uintptr_t *)fp[0];
        if ((uintptr_t)next <= f) break;
        fp = next;
    }
    return n;
}

static uint64_t spawn(go_func fn, void *arg, const void *copy, size_t copy_size,
                      size_t stack_size, uintptr_t caller_pc) __attribute__((noinline));

static uint64_t spawn(go_func fn, void *arg, const void *copy, size_t copy_size,
                      size_t stack_size, uintptr_t caller_pc) {
    if (RT_UNLIKELY(atomic_load_explicit(&init_state, memory_order_acquire) != 2)) rt_init();
    if (!fn) rt_panic("go of nil func value");
    struct rt_m *m = rt_getm();
    struct rt_p *p = m ? m->p : NULL;
    struct rt_g *parent = m ? m->curg : NULL;
    struct rt_g *gp = rt_gfget(p, stack_size);
    gp->id = new_goid();
    gp->fn = fn;
    gp->arg = arg;
    gp->parent_id = parent ? parent->id : 0;
    gp->create_depth = creation_stack(parent, caller_pc, gp->create_pcs, 8);
    void *top = gp->stack_hi;
    if (copy_size) {
        size_t room = (char *)gp->stack_hi - (char *)gp->stack_lo;
        if (copy_size > room / 2) rt_panic("go_spawn_copy: argument larger than half the goroutine's stack");
        top = (void *)(((uintptr_t)top - copy_size) & ~(uintptr_t)(_Alignof(max_align_t) - 1));
        /* The spawner reads the argument, as Go evaluates a go
         * statement's arguments before the goroutine starts. */
        RACE(race_read_range_pc(copy, copy_size, caller_pc));
        memcpy(top, copy, copy_size);
        gp->arg = top;
    }
    frame_init(gp, top);
    RACE(race_go_start(parent, gp));
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_relaxed);
    atomic_fetch_add_explicit(&rt_sched.ngoroutines, 1, memory_order_relaxed);
    uint64_t id = gp->id;
    if (!p) {
        globrunq_put(gp);
        rt_wakep();
        return id;
    }
    /* Race builds vary the order goroutines run in, as Go's -race does, so
     * tests cannot come to depend on one interleaving. */
    rt_runq_put(p, gp, race_pick_runnext());
    rt_wakep();
    /* C code cannot be preempted, so a goroutine spawning in a loop would
     * let its children pile up, each holding a stack whose first touch is a
     * page fault. Once the local queue is long, spawning yields: the
     * children run, finish and hand their stacks back for reuse. */
    uint32_t queued = atomic_load_explicit(&p->runq_tail, memory_order_relaxed) -
                      atomic_load_explicit(&p->runq_head, memory_order_relaxed);
    if (queued >= SPAWN_YIELD_QUEUE && parent) go_yield();
    return id;
}

uint64_t go_spawn(go_func fn, void *arg) {
    return spawn(fn, arg, NULL, 0, rt_default_stack_size,
                 (uintptr_t)__builtin_return_address(0));
}

uint64_t go_spawn_copy(go_func fn, const void *arg, size_t size) {
    return spawn(fn, NULL, arg, size, rt_default_stack_size,
                 (uintptr_t)__builtin_return_address(0));
}

uint64_t go_spawn_stack(go_func fn, void *arg, size_t stack_size) {
    size_t size = stack_size ? stack_size : rt_default_stack_size;
    if (size != rt_default_stack_size) {
        size = (size + 4095) & ~(size_t)4095;
        if (size < 16384) size = 16384;
    }
    return spawn(fn, arg, NULL, 0, size, (uintptr_t)__builtin_return_address(0));
}

/* ---- small public calls ---- */

uint64_t go_id(void) {
    struct rt_g *gp = rt_getg();
    return gp ? gp->id : 0;
}

size_t go_num_goroutine(void) {
    int64_t n = atomic_load_explicit(&rt_sched.ngoroutines, memory_order_relaxed);
    return n > 0 ? (size_t)n : 0;
}

void go_set_name(const char *name) {
    struct rt_g *gp = rt_getg();
    if (!gp) return;
    const char *old = gp->name;
    gp->name = name ? strdup(name) : NULL;
    free((void *)old);
}

static void sleep_fire(struct rt_timer *t, int64_t now) {
    (void)now;
    rt_ready(t->arg);
}

static bool sleep_can_wake(struct rt_timer *t) {
    (void)t;
    return true;
}

static bool sleep_commit(struct rt_g *gp, void *arg) {
    struct rt_timer *t = arg;
    rt_timer_start(t, t->when);
    return true;
}

void go_sleep(int64_t ns) {
    if (ns <= 0) return;
    struct rt_g *gp = rt_getg();
    if (!gp) {
        struct timespec ts = {ns / 1000000000, ns % 1000000000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        return;
    }
    struct rt_timer t = {
        .when = rt_nanotime() + ns, .fire = sleep_fire, .can_wake = sleep_can_wake,
        .arg = gp, .index = -1,
    };
    rt_park(sleep_commit, &t, WAIT_SLEEP, NULL);
}

/* ---- GOMAXPROCS ---- */

static struct rt_p *p_make(int id) {
    struct rt_p *p = aligned_alloc(RT_CACHE_LINE, (sizeof(struct rt_p) + RT_CACHE_LINE - 1) &
                                                      ~(size_t)(RT_CACHE_LINE - 1));
    if (!p) rt_fatal("out of memory");
    memset(p, 0, sizeof *p);
    p->id = id;
    rt_timer_p_init(p);
    return p;
}

/* sched.lock held. Retired Ps below n are revived; idle Ps beyond n are
 * retired now, the others (running, or in a system call) when their M lets
 * go of them: at its next schedule, or in pidle_put. */
static void procs_resize(int n) {
    for (int i = rt_sched.nprocs_made; i < n; i++) {
        rt_sched.allp[i] = p_make(i);
        rt_sched.allp[i]->status = P_RETIRED;
        rt_sched.nprocs_made = i + 1;
    }
    atomic_store(&rt_sched.gomaxprocs, n);
    for (int i = 0; i < n; i++)
        if (rt_sched.allp[i]->status == P_RETIRED) pidle_put(rt_sched.allp[i]);
    for (struct rt_p **pp = &rt_sched.pidle; *pp;) {
        struct rt_p *p = *pp;
        if (p->id >= n) {
            *pp = p->idle_link;
            atomic_fetch_sub(&rt_sched.npidle, 1);
            retire_unowned(p);
        } else {
            pp = &p->idle_link;
        }
    }
}

int go_maxprocs(int n) {
    rt_init();
    int old = rt_gomaxprocs();
    if (n < 1 || n == old) return old;
    if (n > RT_MAX_PROCS) n = RT_MAX_PROCS;
    rt_lock_acquire(&rt_sched.lock);
    procs_resize(n);
    rt_lock_release(&rt_sched.lock);
    for (int i = old; i < n; i++) rt_wakep();
    struct rt_m *m = rt_getm();
    if (m && m->curg && m->p && m->p->id >= n) go_yield();
    return old;
}

/* ---- stopping the world ----
 * A goroutine runs only on an M holding a P, and timers fire only on Ms
 * holding Ps, so a goroutine that holds every P has the world to itself:
 * other goroutines stay where they are (parked, or queued as runnable)
 * until it gives the Ps back. It cannot take a P from a running M, so it
 * asks: while stop_wanted is set, an M gives its P up at its next
 * schedule (next_local, find_runnable) and no M takes an idle one
 * (pidle_get), and the stopper collects the idle list until it has every
 * P. A goroutine that never parks keeps its P; after STOP_WAIT_NS the
 * stopper gives up and hands back what it took. Used by the leak finder
 * (detector/leak.c). */
enum { STOP_WAIT_NS = 20 * 1000 * 1000 };

static struct rt_p *stopped_ps;

bool rt_world_stop(void) {
    struct rt_m *m = rt_getm();
    if (!m || !m->curg || !m->p) return false;
    int none = 0;
    if (!atomic_compare_exchange_strong(&rt_sched.stop_wanted, &none, 1)) return false;
    int64_t deadline = rt_nanotime() + STOP_WAIT_NS;
    int collected = 0;
    for (;;) {
        rt_lock_acquire(&rt_sched.lock);
        while (rt_sched.pidle) {
            struct rt_p *p = rt_sched.pidle;
            rt_sched.pidle = p->idle_link;
            atomic_fetch_sub(&rt_sched.npidle, 1);
            p->idle_link = stopped_ps;
            stopped_ps = p;
            collected++;
        }
        bool all = m->p->id < rt_gomaxprocs() && collected == rt_gomaxprocs() - 1;
        rt_lock_release(&rt_sched.lock);
        if (all) return true;
        if (rt_nanotime() > deadline) {
            rt_world_start();
            return false;
        }
        sched_yield();
    }
}

void rt_world_start(void) {
    rt_lock_acquire(&rt_sched.lock);
    atomic_store(&rt_sched.stop_wanted, 0);
    while (stopped_ps) {
        struct rt_p *p = stopped_ps;
        stopped_ps = p->idle_link;
        pidle_put(p);
    }
    rt_lock_release(&rt_sched.lock);
    rt_wakep();
}

static int default_procs(void) {
    const char *env = getenv("GOMAXPROCS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end || v < 1) {
            fprintf(stderr, "goroutine: bad GOMAXPROCS=%s: want a positive integer\n", env);
            exit(2);
        }
        return v > RT_MAX_PROCS ? RT_MAX_PROCS : (int)v;
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* ---- start-up ---- */

void rt_init(void) {
    if (atomic_load_explicit(&init_state, memory_order_acquire) == 2) return;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&init_state, &expected, 1)) {
        while (atomic_load(&init_state) != 2) sched_yield();
        return;
    }
    rt_stack_init();
    m0.id = atomic_fetch_add(&next_m_id, 1);
    m0.thread = pthread_self();
    m0.rand = (uint64_t)rt_nanotime() ^ (uint64_t)getpid() << 32;
    m0.g0 = rt_g0_make(G0_STACK_SIZE);
    frame_init(m0.g0, m0.g0->stack_hi);

    g1.id = 1;
    atomic_store(&rt_sched.goid_gen, 1);
    atomic_store(&g1.status, G_RUNNING);
    g1.m = &m0;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *lo;
        size_t size;
        pthread_attr_getstack(&attr, &lo, &size);
        pthread_attr_destroy(&attr);
        g1.stack_lo = lo;
        g1.stack_hi = (char *)lo + size;
    }
    rt_allgs = &g1;
    m0.curg = &g1;
    rt_sched.mcount = 1;
    atomic_store(&rt_sched.ngoroutines, 1);
    atomic_store(&rt_sched.timer_sleep_until, INT64_MAX);
    rt_lock_acquire(&rt_sched.lock);
    procs_resize(default_procs());
    struct rt_p *p0 = rt_sched.allp[0];
    for (struct rt_p **pp = &rt_sched.pidle; *pp; pp = &(*pp)->idle_link)
        if (*pp == p0) {
            *pp = p0->idle_link;
            atomic_fetch_sub(&rt_sched.npidle, 1);
            break;
        }
    acquire_p(&m0, p0);
    rt_lock_release(&rt_sched.lock);
    tls_m = &m0;
    rt_stack_thread_init(&m0);
    RACE(race_init(&g1));
    atomic_store_explicit(&init_state, 2, memory_order_release);
    rt_install_sigquit();
    rt_sysmon_start();
}

__attribute__((constructor(101))) static void rt_constructor(void) { rt_init(); }

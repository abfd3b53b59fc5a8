/* rt.h - the runtime's internal interface, shared by every runtime file.
 *
 * The scheduler follows Go's G/M/P model: a G is a goroutine (its stack and
 * saved context), an M is an OS thread, a P is a processor token that an M
 * must hold to run Gs; there are GOMAXPROCS Ps. Everything here is private to
 * the library (symbols use the rt_ prefix; only go_* names are public).
 *
 * Blocking protocol (Go's gopark/goready): a goroutine that must wait puts a
 * waiter record (usually on its own stack, which stays alive while it is
 * parked) on the object's queue while holding the object's rt_lock, then
 * calls rt_park() with a commit function that releases that lock. The commit
 * runs only after the goroutine has switched away, so a waker that takes the
 * lock and calls rt_ready() always finds a fully parked goroutine: no lost
 * wake-ups and no double runs. */
#ifndef GOROUTINE_RT_H
#define GOROUTINE_RT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "goroutine.h"

/* Nothing declared below is exported from the shared library. */
#pragma GCC visibility push(hidden)

#define RT_LIKELY(x) __builtin_expect(!!(x), 1)
#define RT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RT_CACHE_LINE 64

/* ---- lock.c: a futex mutex that spins briefly before sleeping. Zero is
 * unlocked. Used for runtime-internal critical sections only (never held
 * across a park, except the one rt_park's commit releases). */
typedef struct rt_lock {
    _Atomic uint32_t key;
} rt_lock;
void rt_lock_acquire(rt_lock *l);
void rt_lock_release(rt_lock *l);
/* The public sync structs keep their lock word as a plain uint32_t. */
static inline rt_lock *rt_lock_of(uint32_t *word) { return (rt_lock *)(void *)word; }

/* Futex wrappers (lock.c). */
void rt_futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t timeout_ns);
void rt_futex_wake(_Atomic uint32_t *addr, int n);

/* ---- goroutine states and wait reasons ---- */
enum rt_gstatus {
    G_IDLE = 0,   /* allocated, not yet started or on a free list */
    G_RUNNABLE,
    G_RUNNING,
    G_WAITING,    /* parked; wait_reason says why */
    G_SYSCALL,
    G_DEAD,
};

/* Order matches rt_wait_reason_string(); the strings are Go's. */
enum rt_wait_reason {
    WAIT_NONE = 0,
    WAIT_CHAN_SEND,
    WAIT_CHAN_RECV,
    WAIT_CHAN_SEND_NIL,
    WAIT_CHAN_RECV_NIL,
    WAIT_SELECT,
    WAIT_SELECT_NO_CASES,
    WAIT_MUTEX_LOCK,
    WAIT_RWMUTEX_LOCK,
    WAIT_RWMUTEX_RLOCK,
    WAIT_WAITGROUP,
    WAIT_COND,
    WAIT_ONCE,
    WAIT_ERRGROUP_WAIT,
    WAIT_ERRGROUP_GO,
    WAIT_SLEEP,
    WAIT_IO,
    WAIT_SYSCALL,
    WAIT_GOEXIT,      /* main after go_exit: not a goroutine any more */
    WAIT_REASON_COUNT
};
const char *rt_wait_reason_string(enum rt_wait_reason r);

struct rt_m;
struct rt_p;
struct rt_stack;

/* A goroutine. For goroutines with a pooled stack the struct lives at the
 * top of that stack's mapping, so a parked goroutine costs one page plus
 * what it blocks on. Gs are never freed: they are reused with their stack,
 * and rt_allgs links every G ever made (dead ones included). */
struct rt_g {
    void *sp;                    /* saved switch frame while not running */
    struct rt_m *m;              /* M running it, NULL otherwise */
    uint64_t id;
    _Atomic uint32_t status;     /* enum rt_gstatus */
    enum rt_wait_reason wait_reason;
    int64_t wait_since;          /* go_nanotime() when it parked */
    void *wait_obj;              /* channel / sync object it waits on */
    void *waiting;               /* chan.c's waiter list while blocked in
                                    a channel op or select */
    _Atomic uint32_t select_done;/* claimed by the first waker of a select */
    uintptr_t param;             /* value handed over by the waker */
    go_func fn;
    void *arg;
    uint64_t parent_id;
    uintptr_t create_pcs[8];     /* creation stack (leaf first) */
    int create_depth;
    const char *name;            /* go_set_name, malloc'd */
    void *stack_lo;              /* usable stack [stack_lo, stack_hi) */
    void *stack_hi;
    struct rt_stack *stack;      /* NULL for main's native stack */
    struct rt_g *sched_link;     /* run queue / free list link */
    struct rt_g *all_next;       /* rt_allgs chain */
    uint32_t hogs;               /* times sysmon saw it keep its P > 10 ms */
    void *race;                  /* detector state (race builds) */
    bool leak_reported;          /* the leak finder has named it */
    void *asan_fake_stack;       /* ASan fiber bookkeeping */
};

/* ---- sched.c ---- */
/* The running goroutine, or NULL on a scheduler stack or a thread the
 * runtime did not create. */
struct rt_g *rt_getg(void);
typedef bool (*rt_commit_fn)(struct rt_g *gp, void *arg);
/* Park the current goroutine; see the protocol above. If commit returns
 * false the goroutine is resumed without waiting. */
void rt_park(rt_commit_fn commit, void *arg, enum rt_wait_reason reason, void *wait_obj);
/* A commit function that releases the rt_lock passed as arg. */
bool rt_commit_unlock(struct rt_g *gp, void *lock);
/* Make a parked goroutine runnable. Callable from goroutines, from
 * scheduler context (timers) and from threads without a P. */
void rt_ready(struct rt_g *gp);
/* Every G ever allocated; walk with rt_allgs_lock held. */
extern struct rt_g *rt_allgs;
extern rt_lock rt_allgs_lock;
/* Ensure the runtime is initialised (idempotent). */
void rt_init(void);
/* Number of Ps and Ms, for reports. */
int rt_gomaxprocs(void);

/* ---- rand: cheap per-thread pseudo-random numbers (sched.c) ---- */
uint32_t rt_fastrand(void);
static inline uint32_t rt_fastrandn(uint32_t n) {
    return (uint32_t)(((uint64_t)rt_fastrand() * n) >> 32);
}

/* ---- syscall.c: errno of the thread running now. Code that may have
 * parked since its last look must use these: the compiler keeps errno's
 * (per-thread) address across calls. ---- */
int rt_errno(void);
void rt_set_errno(int err);

/* ---- time.c ---- */
int64_t rt_nanotime(void);

/* ---- timer.c: per-P timer heaps ---- */
struct rt_timer {
    int64_t when;     /* next fire time, go_nanotime clock */
    int64_t period;   /* > 0 for a ticker */
    /* Runs on a thread holding a P, outside any timer lock; must not
     * block (it may rt_ready goroutines or do non-blocking channel ops). */
    void (*fire)(struct rt_timer *t, int64_t now);
    /* Could firing this timer wake a blocked goroutine? Asked by the
     * global-deadlock check with every goroutine parked. */
    bool (*can_wake)(struct rt_timer *t);
    void *arg;
    /* private to timer.c */
    struct rt_p *p;
    int32_t index;           /* heap slot, -1 when not pending */
};
void rt_timer_start(struct rt_timer *t, int64_t when);
bool rt_timer_stop(struct rt_timer *t);          /* true if it was pending */
bool rt_timer_reset(struct rt_timer *t, int64_t when); /* true if it was pending */
/* Stop and wait until a concurrent fire() has returned (before freeing). */
void rt_timer_stop_sync(struct rt_timer *t);

/* ---- chan.c, for timers and contexts (no current goroutine needed) ---- */
bool rt_chan_send_nb(go_chan *c, const void *elem); /* false if full */
bool rt_chan_has_receivers(go_chan *c);  /* some goroutine blocked receiving */

/* ---- panic.c: Go's wording, the goroutine's stack, exit status 2 ---- */
_Noreturn void rt_panic(const char *msg);        /* "panic: msg" */
_Noreturn void rt_fatal(const char *msg);        /* "fatal error: msg" */

/* ---- traceback.c / symbolize.c ---- */
#define RT_MAX_FRAMES 64
/* PCs of the calling stack (leaf first), skipping `skip` frames above the
 * caller. */
int rt_callers(int skip, uintptr_t *pcs, int max);
/* PCs of a goroutine that is not running, from its saved switch frame. */
int rt_g_callers(struct rt_g *gp, uintptr_t *pcs, int max);
/* Print "    #i function file:line:col" lines, dropping the runtime's own
 * leading frames below the public API function. */
void rt_print_frames(int fd, const uintptr_t *pcs, int n);
/* "goroutine N [reason, duration]:" + its stack + "created by" lines.
 * state_override replaces the wait reason text when not NULL. */
void rt_print_goroutine(int fd, struct rt_g *gp, const char *state_override);

/* ---- dprintf-style output that never allocates (print.c) ---- */
void rt_printf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#pragma GCC visibility pop
#endif

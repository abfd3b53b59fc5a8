/* pthread.c - POSIX and C11 threads synchronisation, as the detector sees it.
 *
 * C code run as goroutines keeps the locks it was written with: a
 * pthread mutex around a shared table, a semaphore, pthread_once. The
 * detector would see none of their ordering and report every access they
 * protect. Like ThreadSanitizer's interceptors, the race library defines
 * these functions (intercept.h): each makes the call through glibc's
 * implementation and records the edge the C and POSIX memory models give
 * it, as the runtime records go_mutex's:
 *
 * - a mutex (pthread_mutex_*, C11 mtx_*) or spinlock: unlock releases on
 *   its address (unless glibc refuses it: not the owner), a lock that
 *   succeeds acquires it;
 * - a rwlock: a write unlock releases on its address, which every lock
 *   acquires; a read unlock releases on a second clock (address + 1) that
 *   only write locks acquire, so readers stay unordered with each other,
 *   as go_rwmutex's do. pthread_rwlock_unlock does not say which lock it
 *   ends; glibc itself tells by __cur_writer, the id of the thread holding
 *   the write lock, and so do we;
 * - a condition wait releases its mutex before waiting and acquires it
 *   again before returning (signal and broadcast order nothing of their
 *   own, as under ThreadSanitizer: the mutex does);
 * - sem_post releases, a wait that succeeds acquires;
 * - pthread_barrier_wait releases before waiting and acquires after (on
 *   one clock for every round, as under ThreadSanitizer: a goroutine slow
 *   to leave one round also takes in arrivals for the next);
 * - pthread_once and call_once: the init routine's return before any
 *   call returns.
 *
 * Mutex and rwlock locks also enter the lock-order checker (lockorder.c),
 * as go_mutex's do; a trylock, which cannot wait, makes no edge there. A
 * pthread_once routine's stack goes through its caller's, as a qsort
 * comparator's does (libc.c).
 *
 * Edges are recorded whoever calls, instrumented or not: a library built
 * without -fgoroutine-race can hand the user's data from goroutine to
 * goroutine under its own mutex. Not on a thread that runs no goroutine
 * (its accesses are not checked either), and not inside the detector
 * (race_internal_depth), whose symbolisers take locks of their own. A
 * goroutine blocked in one of these calls blocks its thread, as any
 * blocking call does (docs/guide.md). */
#include "detector.h"
#include "intercept.h"
#include "race.h"
#include "race_abi.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/syscall.h>
#include <threads.h>
#include <unistd.h>

/* glibc's flag for robust mutexes in __kind (its PTHREAD_MUTEX_ROBUST_NORMAL_NP). */
enum { ROBUST_KIND = 16 };

#define INTERCEPTED(X)                                                                  \
    X(pthread_mutex_lock) X(pthread_mutex_trylock) X(pthread_mutex_timedlock)           \
    X(pthread_mutex_clocklock) X(pthread_mutex_unlock) X(pthread_rwlock_rdlock)         \
    X(pthread_rwlock_tryrdlock) X(pthread_rwlock_timedrdlock) X(pthread_rwlock_clockrdlock) \
    X(pthread_rwlock_wrlock) X(pthread_rwlock_trywrlock) X(pthread_rwlock_timedwrlock)  \
    X(pthread_rwlock_clockwrlock) X(pthread_rwlock_unlock) X(pthread_spin_lock)         \
    X(pthread_spin_trylock) X(pthread_spin_unlock) X(pthread_cond_wait)                 \
    X(pthread_cond_timedwait) X(pthread_cond_clockwait) X(pthread_barrier_wait)         \
    X(pthread_once) X(sem_wait) X(sem_trywait) X(sem_timedwait) X(sem_clockwait)        \
    X(sem_post) X(mtx_lock) X(mtx_trylock) X(mtx_timedlock) X(mtx_unlock) X(cnd_wait)   \
    X(cnd_timedwait) X(call_once)

RACE_REAL_TABLE(INTERCEPTED)

/* The goroutine whose edges to record, NULL when none. */
static inline struct race_g *recording(void) {
    return race_internal_depth ? NULL : race_cur;
}

static void acquire(const void *addr) {
    struct race_g *rg = recording();
    if (rg) race_sync_acquire(rg, (uintptr_t)addr);
}

static void release(const void *addr) {
    struct race_g *rg = recording();
    if (rg) race_sync_release(rg, (uintptr_t)addr);
}

/* A lock that succeeded: the edge, and the lock for the lock-order graph
 * (waited: not a trylock, which cannot deadlock). */
static void locked(const void *lock, bool waited, uintptr_t pc) {
    struct race_g *rg = recording();
    if (!rg) return;
    race_sync_acquire(rg, (uintptr_t)lock);
    race_mutex_locked(lock, NULL, 0, waited, pc);
}

static void unlocking(const void *lock) {
    struct race_g *rg = recording();
    if (!rg) return;
    race_mutex_unlocked(lock);
    race_sync_release(rg, (uintptr_t)lock);
}

/* The calling thread's id, as glibc keeps a mutex's owner and a rwlock's
 * writer. A goroutine can move to another thread only when it parks,
 * never between this and the unlock it is asked for. */
static pid_t thread_id(void) {
    static __thread pid_t tid;
    if (!tid) tid = (pid_t)syscall(SYS_gettid);
    return tid;
}

/* glibc refuses (EPERM) to unlock a recursive, error-checking or robust
 * mutex its thread does not own, and such an unlock releases nothing. A
 * normal mutex is not checked: unlocking it from another thread is
 * undefined, but it unlocks, as when the goroutine that locked it moved
 * to another thread meanwhile. */
static bool unlock_refused(const pthread_mutex_t *m) {
    int kind = m->__data.__kind;
    bool owner_checked = (kind & 3) == PTHREAD_MUTEX_RECURSIVE_NP ||
                         (kind & 3) == PTHREAD_MUTEX_ERRORCHECK_NP || (kind & ROBUST_KIND);
    return owner_checked && m->__data.__owner != thread_id();
}

/* A robust mutex whose owner died is locked all the same (C11's mtx calls
 * return thrd_success, 0, when they lock). */
static void mutex_locked(const void *m, int rc, bool waited, uintptr_t pc) {
    if (rc == 0 || rc == EOWNERDEAD) locked(m, waited, pc);
}

/* The clock read unlocks release to, for the next write lock. */
static const void *readers_clock(const void *rw) { return (const char *)rw + 1; }

static void read_locked(const void *rw, int rc, bool waited, uintptr_t pc) {
    if (rc == 0) locked(rw, waited, pc);
}

static void write_locked(const void *rw, int rc, bool waited, uintptr_t pc) {
    if (rc != 0) return;
    locked(rw, waited, pc);
    acquire(readers_clock(rw));
}

static void sem_acquired(const void *s, int rc, bool waited, uintptr_t pc) {
    (void)waited, (void)pc;
    if (rc == 0) acquire(s);
}

/* A lock or wait: glibc's call, then what its result means for object
 * (waited: whether the call could wait, for the lock-order graph). */
#define LOCK_INTERCEPTOR(name, params, args, object, outcome, waited) \
    INTERCEPTOR int name params {                                     \
        int rc = REAL(name) args;                                     \
        outcome(object, rc, waited, CALLER);                          \
        return rc;                                                    \
    }

/* A condition wait gives its mutex up and takes it back, whatever it
 * returns (a timed-out wait holds the mutex again too). */
#define COND_WAIT_INTERCEPTOR(name, params, args, mutex) \
    INTERCEPTOR int name params {                        \
        unlocking(mutex);                                \
        int rc = REAL(name) args;                        \
        locked(mutex, true, CALLER);                     \
        return rc;                                       \
    }

typedef const struct timespec *restrict deadline_t;

LOCK_INTERCEPTOR(pthread_mutex_lock, (pthread_mutex_t *m), (m), m, mutex_locked, true)
LOCK_INTERCEPTOR(pthread_mutex_trylock, (pthread_mutex_t *m), (m), m, mutex_locked, false)
LOCK_INTERCEPTOR(pthread_mutex_timedlock, (pthread_mutex_t *restrict m, deadline_t deadline),
                 (m, deadline), m, mutex_locked, true)
LOCK_INTERCEPTOR(pthread_mutex_clocklock,
                 (pthread_mutex_t *restrict m, clockid_t clock, deadline_t deadline),
                 (m, clock, deadline), m, mutex_locked, true)

INTERCEPTOR int pthread_mutex_unlock(pthread_mutex_t *m) {
    if (recording() && !unlock_refused(m)) unlocking(m);
    return REAL(pthread_mutex_unlock)(m);
}

LOCK_INTERCEPTOR(pthread_rwlock_rdlock, (pthread_rwlock_t *rw), (rw), rw, read_locked, true)
LOCK_INTERCEPTOR(pthread_rwlock_tryrdlock, (pthread_rwlock_t *rw), (rw), rw, read_locked, false)
LOCK_INTERCEPTOR(pthread_rwlock_timedrdlock, (pthread_rwlock_t *restrict rw, deadline_t deadline),
                 (rw, deadline), rw, read_locked, true)
LOCK_INTERCEPTOR(pthread_rwlock_clockrdlock,
                 (pthread_rwlock_t *restrict rw, clockid_t clock, deadline_t deadline),
                 (rw, clock, deadline), rw, read_locked, true)
LOCK_INTERCEPTOR(pthread_rwlock_wrlock, (pthread_rwlock_t *rw), (rw), rw, write_locked, true)
LOCK_INTERCEPTOR(pthread_rwlock_trywrlock, (pthread_rwlock_t *rw), (rw), rw, write_locked, false)
LOCK_INTERCEPTOR(pthread_rwlock_timedwrlock, (pthread_rwlock_t *restrict rw, deadline_t deadline),
                 (rw, deadline), rw, write_locked, true)
LOCK_INTERCEPTOR(pthread_rwlock_clockwrlock,
                 (pthread_rwlock_t *restrict rw, clockid_t clock, deadline_t deadline),
                 (rw, clock, deadline), rw, write_locked, true)

INTERCEPTOR int pthread_rwlock_unlock(pthread_rwlock_t *rw) {
    if (recording()) {
        bool writer = __atomic_load_n(&rw->__data.__cur_writer, __ATOMIC_RELAXED) == thread_id();
        race_mutex_unlocked(rw);
        release(writer ? (const void *)rw : readers_clock(rw));
    }
    return REAL(pthread_rwlock_unlock)(rw);
}

LOCK_INTERCEPTOR(pthread_spin_lock, (pthread_spinlock_t *s), (s), (const void *)s, mutex_locked, true)
LOCK_INTERCEPTOR(pthread_spin_trylock, (pthread_spinlock_t *s), (s), (const void *)s, mutex_locked,
                 false)

INTERCEPTOR int pthread_spin_unlock(pthread_spinlock_t *s) {
    unlocking((const void *)s);
    return REAL(pthread_spin_unlock)(s);
}

COND_WAIT_INTERCEPTOR(pthread_cond_wait, (pthread_cond_t *restrict c, pthread_mutex_t *restrict m),
                      (c, m), m)
COND_WAIT_INTERCEPTOR(pthread_cond_timedwait,
                      (pthread_cond_t *restrict c, pthread_mutex_t *restrict m, deadline_t deadline),
                      (c, m, deadline), m)
COND_WAIT_INTERCEPTOR(pthread_cond_clockwait,
                      (pthread_cond_t *restrict c, pthread_mutex_t *restrict m, clockid_t clock,
                       deadline_t deadline),
                      (c, m, clock, deadline), m)

INTERCEPTOR int pthread_barrier_wait(pthread_barrier_t *b) {
    release(b);
    int rc = REAL(pthread_barrier_wait)(b);
    acquire(b);
    return rc;
}

LOCK_INTERCEPTOR(sem_wait, (sem_t *s), (s), s, sem_acquired, true)
LOCK_INTERCEPTOR(sem_trywait, (sem_t *s), (s), s, sem_acquired, false)
LOCK_INTERCEPTOR(sem_timedwait, (sem_t *restrict s, deadline_t deadline), (s, deadline), s,
                 sem_acquired, true)
LOCK_INTERCEPTOR(sem_clockwait, (sem_t *restrict s, clockid_t clock, deadline_t deadline),
                 (s, clock, deadline), s, sem_acquired, true)

INTERCEPTOR int sem_post(sem_t *s) {
    release(s);
    return REAL(sem_post)(s);
}

/* The init routine takes no argument, so the routine and its control
 * word reach the trampoline through the thread: glibc runs the routine
 * at once on the calling thread, and the trampoline takes both before
 * the routine could park (and move the goroutine) or start a once of its
 * own. */
static __thread struct {
    void (*routine)(void);
    const void *control;
} once_pending;

static void run_once_routine(void) {
    void (*routine)(void) = once_pending.routine;
    const void *control = once_pending.control;
    routine();
    release(control);
}

/* As for qsort's comparator (libc.c), the routine's frames go on top of
 * the caller's, when the caller is instrumented. */
INTERCEPTOR int pthread_once(pthread_once_t *control, void (*routine)(void)) {
    bool checked = CHECKED() != NULL;
    once_pending.routine = routine;
    once_pending.control = control;
    if (checked) __gorace_func_entry((void *)CALLER);
    int rc = REAL(pthread_once)(control, run_once_routine);
    if (checked) __gorace_func_exit();
    if (rc == 0) acquire(control);
    return rc;
}

INTERCEPTOR void call_once(once_flag *flag, void (*routine)(void)) {
    bool checked = CHECKED() != NULL;
    once_pending.routine = routine;
    once_pending.control = flag;
    if (checked) __gorace_func_entry((void *)CALLER);
    REAL(call_once)(flag, run_once_routine);
    if (checked) __gorace_func_exit();
    acquire(flag);
}

/* C11's threads call glibc's pthread functions internally, past the ones
 * above: their mutex is the same object at the same address. */
LOCK_INTERCEPTOR(mtx_lock, (mtx_t *m), (m), m, mutex_locked, true)
LOCK_INTERCEPTOR(mtx_trylock, (mtx_t *m), (m), m, mutex_locked, false)
LOCK_INTERCEPTOR(mtx_timedlock, (mtx_t *restrict m, deadline_t deadline), (m, deadline), m,
                 mutex_locked, true)

INTERCEPTOR int mtx_unlock(mtx_t *m) {
    if (recording() && !unlock_refused((const pthread_mutex_t *)m)) unlocking(m);
    return REAL(mtx_unlock)(m);
}

COND_WAIT_INTERCEPTOR(cnd_wait, (cnd_t *c, mtx_t *m), (c, m), m)
COND_WAIT_INTERCEPTOR(cnd_timedwait, (cnd_t *restrict c, mtx_t *restrict m, deadline_t deadline),
                      (c, m, deadline), m)

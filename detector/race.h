/* race.h - what the runtime calls in a race build (libgoroutine-race).
 *
 * The runtime is compiled twice from the same sources; in the race build
 * GOROUTINE_RACE_RUNTIME is defined and the RACE() hooks below record
 * happens-before edges and the accesses channel operations make. Because
 * the runtime records them itself, uninstrumented callers get them too.
 * In the plain build RACE(x) expands to nothing. */
#ifndef GOROUTINE_DETECTOR_RACE_H
#define GOROUTINE_DETECTOR_RACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "race_abi.h"

#ifdef GOROUTINE_RACE_RUNTIME
#define RACE(x) x
#else
#define RACE(x) ((void)0)
#endif

/* The runtime is not instrumented, so its entry points have no frame on
 * the shadow call stack that report stacks come from: a stack taken in a
 * user callback an entry point runs (go_once_do's function), or in a
 * goroutine it spawns on the user's behalf (errgroup's), would skip the
 * user function that called the entry point. Such an entry point opens a
 * frame around that work as an instrumented function does. Macros: the
 * return address must be the entry point's own. */
#define RACE_ENTER_FROM_USER() RACE(__gorace_func_entry(__builtin_return_address(0)))
#define RACE_LEAVE_TO_USER() RACE(__gorace_func_exit())

#pragma GCC visibility push(hidden)

struct rt_g;

/* Goroutine life. */
void race_go_start(struct rt_g *parent, struct rt_g *child);  /* at spawn */
void race_go_end(struct rt_g *gp);                             /* at exit */

/* Synchronisation on an address-keyed sync object. */
void race_acquire(const void *addr);
void race_release(const void *addr);        /* merge into the object */
void race_release_acquire(const void *addr);/* buffered-channel slot */
/* dst's clock becomes a copy of src's (a timer's clock at one firing, for
 * the tick it sends), with no goroutine involved. */
void race_sync_snapshot(const void *dst, const void *src);
/* The same for a goroutine other than the current one (a receiver woken
 * by a sender that copied into it, for instance). */
void race_acquire_g(struct rt_g *gp, const void *addr);
void race_release_g(struct rt_g *gp, const void *addr);
/* An unbuffered channel hand-off between the current goroutine and the
 * parked gp: each sees everything the other did before it (handoff.c). */
void race_handoff_g(struct rt_g *gp);
/* Slot i of a buffered channel of capacity cap, whose clocks the channel
 * keeps in *slots (allocated on first use): gp (NULL: the current
 * goroutine) acquires what the slot's last user released, then releases
 * into it. Noted under the channel's lock with the operation's ticket
 * (its rank among the slot's operations: 2k for the slot's k-th send,
 * 2k + 1 for its k-th receive), made by race_chan_slots_flush, which the
 * same thread must call right after dropping the lock (sync.c). */
void race_chan_slot_note(struct rt_g *gp, void **slots, size_t cap, size_t i, uint32_t ticket);
extern __thread int race_slot_passes_noted __attribute__((tls_model("initial-exec")));
void race_chan_slot_passes_make(void);
static inline void race_chan_slots_flush(void) {
    if (__builtin_expect(race_slot_passes_noted != 0, 0)) race_chan_slot_passes_make();
}
void race_chan_slots_free(void *slots, size_t cap);

/* Mutexes for the lock-order checker (lockorder.c): the current goroutine
 * has locked m (state, when not NULL, has locked_bit set while m is
 * locked), or has unlocked it. waited: whether the lock could have waited
 * (not a trylock). pc: the caller of the lock function. */
void race_mutex_locked(const void *m, const int32_t *state, int32_t locked_bit, bool waited,
                       uintptr_t pc);
void race_mutex_unlocked(const void *m);

/* Accesses the runtime makes on the user's behalf (channel elements,
 * go_read buffers), attributed to the calling goroutine at pc. */
void race_read_range_pc(const void *p, size_t n, uintptr_t pc);
void race_write_range_pc(const void *p, size_t n, uintptr_t pc);
/* A close is a write on the channel itself, a send a read of it: the
 * channel keeps its sends' reads (chansend.c). Both calls are made under
 * the channel's lock; race_chan_closing also records the close's write. */
#define RACE_CHAN_SENDERS 2
struct race_chan_senders {
    uint64_t who[RACE_CHAN_SENDERS]; /* a send's slot and epoch; 0: none */
    uintptr_t pc[RACE_CHAN_SENDERS];
};
void race_chan_sent(struct race_chan_senders *s, const void *closed, uintptr_t pc);
void race_chan_closing(struct race_chan_senders *s, const void *closed, uintptr_t pc);
/* An atomic read-modify-write of n bytes at p (a mutex's state word):
 * races only with plain accesses, such as overwriting a locked mutex. */
void race_atomic_update_pc(const void *p, size_t n, uintptr_t pc);

/* Run-time choice randomisation, so tests can't rely on one interleaving. */
bool race_coin(void);
/* Whether a new or readied goroutine takes the runnext slot. */
static inline bool race_pick_runnext(void) {
#ifdef GOROUTINE_RACE_RUNTIME
    return race_coin();
#else
    return true;
#endif
}

/* Scheduler hooks: start-up with main's G, the goroutine now running on
 * this thread (NULL: scheduler context), and a goroutine's first frame. */
void race_init(struct rt_g *main_g);
void race_switch_to(struct rt_g *gp);
void race_goroutine_begins(struct rt_g *gp, uintptr_t trampoline_pc);

/* Counts for the exit summary. */
size_t race_reports(void);

#pragma GCC visibility pop
#endif

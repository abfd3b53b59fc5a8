/* interface.c - the detector's entry points: the instrumentation ABI
 * (race_abi.h), the public go_race_* calls, and the hooks the runtime
 * calls in a race build (race.h). Accesses from threads that are not
 * running a goroutine (race_cur == NULL) and from goroutines inside
 * go_race_disable are not checked. */
#include "detector.h"
#include "race_abi.h"
#include "../runtime/proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__thread struct race_g *race_cur __attribute__((tls_model("initial-exec")));
__thread int race_internal_depth __attribute__((tls_model("initial-exec")));

#define CALLER_PC ((uintptr_t)__builtin_return_address(0))

int race_current_stack(struct race_g *rg, uintptr_t pc, uintptr_t *pcs, int max) {
    int n = 0;
    if (pc && n < max) pcs[n++] = pc;
    for (int i = rg->depth - 1; i >= 0 && n < max; i--) pcs[n++] = rg->stack[i];
    return n;
}

static void push_frame(struct race_g *rg, uintptr_t pc, uintptr_t sp) {
    if (RT_UNLIKELY(rg->depth == rg->stack_cap)) {
        int cap = rg->stack_cap ? 2 * rg->stack_cap : 16;
        uintptr_t *grown = race_internal_alloc(2 * (size_t)cap * sizeof *grown);
        if (rg->stack) {
            memcpy(grown, rg->stack, (size_t)rg->depth * sizeof *grown);
            memcpy(grown + cap, rg->stack + rg->stack_cap, (size_t)rg->depth * sizeof *grown);
        }
        race_internal_free(rg->stack);
        rg->stack = grown;
        rg->stack_cap = cap;
    }
    rg->stack[rg->stack_cap + rg->depth] = sp;
    rg->stack[rg->depth++] = pc;
}

void race_end_skipped_frames(struct race_g *rg, uintptr_t sp, bool entering) {
    while (race_frames_skipped(rg, sp, entering)) {
        rg->epoch++;
        race_history_add(rg, 0, EV_EXIT);
        rg->depth--;
    }
}

/* ---- instrumentation ABI ---- */

/* __gorace_readN/writeN are in shadow.c, beside the check they inline. */

void __gorace_read_range(void *a, size_t n) {
    struct race_g *rg = race_cur;
    if (rg && !rg->ignore) race_access_range(rg, (uintptr_t)a, n, false, CALLER_PC);
}

void __gorace_write_range(void *a, size_t n) {
    struct race_g *rg = race_cur;
    if (rg && !rg->ignore) race_access_range(rg, (uintptr_t)a, n, true, CALLER_PC);
}

void __gorace_func_entry(void *caller_pc) {
    struct race_g *rg = race_cur;
    if (!rg) return;
    note_stack_depth(rg);
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    if (RT_UNLIKELY(race_frames_skipped(rg, sp, true))) race_end_skipped_frames(rg, sp, true);
    rg->epoch++;
    race_history_add(rg, (uintptr_t)caller_pc, EV_ENTRY);
    push_frame(rg, (uintptr_t)caller_pc, sp);
}

void __gorace_func_exit(void) {
    struct race_g *rg = race_cur;
    if (!rg) return;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    if (RT_UNLIKELY(race_frames_skipped(rg, sp, false))) race_end_skipped_frames(rg, sp, false);
    rg->epoch++;
    race_history_add(rg, 0, EV_EXIT);
    if (rg->depth > 0) rg->depth--;
}

void *__gorace_memcpy(void *dst, const void *src, size_t n) {
    struct race_g *rg = race_cur;
    if (rg && !rg->ignore && n) {
        race_access_range(rg, (uintptr_t)src, n, false, CALLER_PC);
        race_access_range(rg, (uintptr_t)dst, n, true, CALLER_PC);
    }
    return memcpy(dst, src, n);
}

void *__gorace_memmove(void *dst, const void *src, size_t n) {
    struct race_g *rg = race_cur;
    if (rg && !rg->ignore && n) {
        race_access_range(rg, (uintptr_t)src, n, false, CALLER_PC);
        race_access_range(rg, (uintptr_t)dst, n, true, CALLER_PC);
    }
    return memmove(dst, src, n);
}

void *__gorace_memset(void *dst, int c, size_t n) {
    struct race_g *rg = race_cur;
    if (rg && !rg->ignore && n) race_access_range(rg, (uintptr_t)dst, n, true, CALLER_PC);
    return memset(dst, c, n);
}

/* clang's ThreadSanitizer pass, kept on only so functions carry the
 * sanitize_thread attribute that no_sanitize("thread") removes, still
 * emits a module constructor calling this. */
void __tsan_init(void) {}

/* ---- public interface ---- */

void go_race_acquire(const void *addr) {
    struct race_g *rg = race_cur;
    if (rg) race_sync_acquire(rg, (uintptr_t)addr);
}

void go_race_release(const void *addr) {
    struct race_g *rg = race_cur;
    if (rg) race_sync_release(rg, (uintptr_t)addr);
}

void go_race_read_range(const void *p, size_t n) {
    struct race_g *rg = race_cur;
    if (rg) note_stack_depth(rg);
    if (rg && !rg->ignore) race_access_range(rg, (uintptr_t)p, n, false, CALLER_PC);
}

void go_race_write_range(const void *p, size_t n) {
    struct race_g *rg = race_cur;
    if (rg) note_stack_depth(rg);
    if (rg && !rg->ignore) race_access_range(rg, (uintptr_t)p, n, true, CALLER_PC);
}

void go_race_disable(void) {
    struct race_g *rg = race_cur;
    if (rg) rg->ignore++;
}

void go_race_enable(void) {
    struct race_g *rg = race_cur;
    if (rg && rg->ignore > 0) rg->ignore--;
}

size_t go_race_count(void) { return race_reports(); }

/* ---- runtime hooks ---- */

void race_acquire(const void *addr) { go_race_acquire(addr); }
void race_release(const void *addr) { go_race_release(addr); }

void race_release_acquire(const void *addr) {
    struct race_g *rg = race_cur;
    if (rg) race_sync_release_acquire(rg, (uintptr_t)addr);
}

void race_sync_snapshot(const void *dst, const void *src) {
    race_sync_copy((uintptr_t)dst, (uintptr_t)src);
}

void race_acquire_g(struct rt_g *gp, const void *addr) {
    if (gp && gp->race) race_sync_acquire(gp->race, (uintptr_t)addr);
}

void race_release_g(struct rt_g *gp, const void *addr) {
    if (gp && gp->race) race_sync_release(gp->race, (uintptr_t)addr);
}

void race_atomic_update_pc(const void *p, size_t n, uintptr_t pc) {
    struct race_g *rg = race_cur;
    if (rg && !rg->ignore && n) race_access(rg, (uintptr_t)p, n, true, true, pc);
}

bool race_coin(void) { return rt_fastrand() & 1; }

void race_go_start(struct rt_g *parent, struct rt_g *child) {
    struct race_g *p = parent ? parent->race : NULL;
    struct race_g *rg = child->race;
    if (!rg) {
        rg = race_internal_alloc(sizeof *rg);
        memset(rg, 0, sizeof *rg);
        child->race = rg;
    }
    rg->g = child;
    rg->goid = child->id;
    rg->ignore = 0;
    rg->depth = 0;
    rg->nheld = 0;
    rg->stack_low = (uintptr_t)child->stack_hi;
    rg->release_fenced = false;
    race_clear_own_clock(rg->loaded_vc);
    race_clear_own_clock(rg->fence_vc);
    rg->slot = race_slot_alloc(p, &rg->epoch);
    race_vc_clear(&rg->vc);
    rg->vc_within = 0;
    uintptr_t pcs[16];
    int n = 0;
    if (p) {
        note_stack_depth(p);   /* the child may be handed the parent's frames */
        race_vc_publish(&rg->vc, &p->vc, p->slot, p->epoch);
        n = race_current_stack(p, child->create_pcs[0], pcs, 16);
    }
    race_history_start_goroutine(rg);
    race_slot_occupy(rg, pcs, n);
    rg->segment_start = rg->epoch;
    rg->range_hi = 0;
    /* The parent's later accesses are not before the child's start. */
    if (p) race_end_segment(p);
}

void race_go_end(struct rt_g *gp) {
    struct race_g *rg = gp->race;
    if (!rg || !rg->slot) return;
    /* The next goroutine on this stack must not meet these accesses. */
    if (gp->stack) {
        uintptr_t lo = (uintptr_t)gp->stack_lo, hi = (uintptr_t)gp->stack_hi;
        uintptr_t used = rg->stack_low > lo ? rg->stack_low : lo;
        if (used < hi) race_shadow_clear(used, hi - used);
    }
    race_slot_free(rg);
    rg->slot = 0;
    race_vc_clear(&rg->vc);
    race_clear_own_clock(rg->loaded_vc);
    race_clear_own_clock(rg->fence_vc);
    if (race_cur == rg) race_cur = NULL;
}

void race_switch_to(struct rt_g *gp) { race_cur = gp ? gp->race : NULL; }

/* The goroutine's bottom frame: its entry trampoline. */
void race_goroutine_begins(struct rt_g *gp, uintptr_t trampoline_pc) {
    struct race_g *rg = gp->race;
    race_cur = rg;
    if (!rg) return;
    rg->epoch++;
    race_history_add(rg, trampoline_pc, EV_ENTRY);
    push_frame(rg, trampoline_pc, UINTPTR_MAX);
}

static void at_exit(void) {
    if (race_opts.atexit_sleep_ms > 0) usleep((useconds_t)race_opts.atexit_sleep_ms * 1000);
    fflush(NULL); /* the program's output comes before the leak reports */
    race_leaks_at_exit();
    size_t n = race_reports(), leaks = race_leaks(), inversions = race_lock_inversions();
    if (!n && !leaks && !inversions) return;
    fflush(NULL);
    if (leaks) rt_printf(2, "Found %zu leaked goroutine(s)\n", leaks);
    if (inversions) rt_printf(2, "Found %zu lock-order inversion(s)\n", inversions);
    if (!n) _exit(race_opts.exitcode);
    extern size_t race_unrestored_reports(void);
    size_t lost = race_unrestored_reports();
    fflush(NULL);
    rt_printf(2, "Found %zu data race(s)\n", n);
    if (lost)
        rt_printf(2, "(%zu of them with the previous stack unavailable: history too old)\n", lost);
    _exit(race_opts.exitcode);
}

void race_init(struct rt_g *main_g) {
    char err[512];
    if (!race_parse_options(getenv("GORACE"), &race_opts, err, sizeof err)) {
        rt_printf(2, "%s\n", err);
        _exit(2);
    }
    race_shadow_init();
    race_history_init();
    race_reports_init();
    race_go_start(NULL, main_g);
    race_cur = main_g->race;
    atexit(at_exit);
}

/* leak.c - goroutine leaks (partial deadlocks), reported in race builds.
 *
 * A goroutine is leaked when it is blocked forever: on a channel, mutex,
 * WaitGroup, Cond, Once, errgroup or select that no live goroutine can
 * reach. As Go's GC-based leak profile does, the finder decides this by a
 * trace, but a conservative one, since C has no pointer maps:
 *  - With the world stopped (sched.c: the finder's goroutine collects
 *    every P, so nothing else runs and no timer fires), it marks what the
 *    live goroutines can reach. Live are those that wake by themselves
 *    (running, runnable, sleeping, in I/O) and the caller of
 *    go_leakcheck. The roots are their stacks from the saved stack
 *    pointer up, the writable segments of the program and its libraries
 *    (globals, while any goroutine is live), and pending timers (a timer
 *    will fire, and what it holds is reached).
 *  - Every aligned word of marked memory that points into a live heap
 *    block (alloc.c) marks the whole block, and one that points into a
 *    goroutine's stack marks that stack; marked memory is scanned in turn.
 *  - A blocked goroutine whose object (each channel of its select) lies in
 *    marked memory can be woken, so it is live: its stack is traced too,
 *    until nothing changes. What stays blocked then is leaked.
 * Every word that looks like a pointer counts as one, and an object in
 * memory the finder does not know (mapped by the program itself, on a
 * thread the runtime did not create) counts as reached: a stale pointer
 * can hide a leak, and only a pointer the trace cannot see at all
 * (docs/race.md lists where) could make it report a goroutine that can
 * still be woken. When the world cannot be stopped (another goroutine
 * keeps running, or one is in a system call) the finder reports only what
 * needs no trace: a goroutine blocked on a nil channel or an empty select,
 * and, at exit with nothing live, every goroutine still blocked (DESIGN.md:
 * once main has returned and nothing else can run, globals reach nothing).
 * Findings count towards exit status 66, like races. */
#include "detector.h"
#include "../runtime/chan.h"
#include "../runtime/proc.h"

#include <link.h>
#include <stdlib.h>

static _Atomic size_t nleaks;
static _Atomic int exiting;

size_t race_leaks(void) { return atomic_load(&nleaks); }

static bool forever_by_itself(struct rt_g *gp) {
    switch (gp->wait_reason) {
    case WAIT_CHAN_SEND_NIL:
    case WAIT_CHAN_RECV_NIL:
    case WAIT_SELECT_NO_CASES:
        return true;
    default:
        return false;
    }
}

static void report(struct rt_g *gp) {
    uintptr_t pcs[RT_MAX_FRAMES];
    struct race_leak_desc leak = {
        .goid = gp->id,
        .wait_reason = rt_wait_reason_string(gp->wait_reason),
        .waited_seconds = (rt_nanotime() - gp->wait_since) / GO_SECOND,
        .pcs = pcs,
        .npcs = rt_g_callers(gp, pcs, RT_MAX_FRAMES),
        .create_pcs = gp->create_pcs,
        .create_depth = gp->create_depth,
    };
    race_report_leak(&leak);
}

static int by_id(const void *a, const void *b) {
    uint64_t x = (*(struct rt_g *const *)a)->id, y = (*(struct rt_g *const *)b)->id;
    return x < y ? -1 : x > y;
}

/* ---- the trace ---- */

/* A goroutine's stack as traced: from its saved stack pointer up. */
struct stack {
    struct race_span span;
    size_t g;       /* index in trace.gs */
    bool reached;
};

struct trace {
    struct rt_g **gs;
    bool *live;
    size_t ng;
    struct race_span *blocks;
    bool *block_reached;
    size_t nblocks;
    struct stack *stacks;   /* sorted by start */
    size_t *stack_of;       /* gs index -> stacks index, SIZE_MAX for none */
    size_t nstacks;
    struct race_span *globals;
    size_t nglobals, cap_globals;
    bool globals_reached;
    struct race_span *unscanned; /* marked memory not scanned yet */
    size_t nunscanned, cap_unscanned;
};

static void *grow(void *old, size_t *cap, size_t item) {
    size_t more = *cap ? 2 * *cap : 64;
    void *bigger = race_internal_alloc(more * item);
    if (old) {
        memcpy(bigger, old, *cap * item);
        race_internal_free(old);
    }
    *cap = more;
    return bigger;
}

static void push(struct trace *t, uintptr_t lo, uintptr_t hi) {
    if (lo >= hi) return;
    if (t->nunscanned == t->cap_unscanned)
        t->unscanned = grow(t->unscanned, &t->cap_unscanned, sizeof *t->unscanned);
    t->unscanned[t->nunscanned++] = (struct race_span){lo, hi};
}

/* Index of the span holding x among n spans sorted by start and laid
 * stride bytes apart, or -1. */
static ptrdiff_t span_at(const void *spans, size_t n, size_t stride, uintptr_t x) {
#define SPAN(i) ((const struct race_span *)((const char *)spans + (i) * stride))
    if (!n || x < SPAN(0)->start || x >= SPAN(n - 1)->end) return -1;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (SPAN(mid)->start <= x) lo = mid + 1;
        else hi = mid;
    }
    return lo > 0 && x < SPAN(lo - 1)->end ? (ptrdiff_t)lo - 1 : -1;
#undef SPAN
}

static ptrdiff_t block_at(const struct trace *t, uintptr_t x) {
    return span_at(t->blocks, t->nblocks, sizeof *t->blocks, x);
}

static ptrdiff_t stack_at(const struct trace *t, uintptr_t x) {
    return span_at(t->stacks, t->nstacks, sizeof *t->stacks, x);
}

static void reach_stack(struct trace *t, size_t s) {
    if (t->stacks[s].reached) return;
    t->stacks[s].reached = true;
    push(t, t->stacks[s].span.start, t->stacks[s].span.end);
}

/* Marks what word v points into, if anything not marked yet. */
static void reach(struct trace *t, uintptr_t v) {
    ptrdiff_t b = block_at(t, v);
    if (b >= 0) {
        if (!t->block_reached[b]) {
            t->block_reached[b] = true;
            push(t, t->blocks[b].start, t->blocks[b].end);
        }
        return;
    }
    ptrdiff_t s = stack_at(t, v);
    if (s >= 0) reach_stack(t, (size_t)s);
}

static void drain(struct trace *t) {
    while (t->nunscanned) {
        struct race_span r = t->unscanned[--t->nunscanned];
        for (uintptr_t a = (r.start + 7) & ~(uintptr_t)7; a + 8 <= r.end; a += 8)
            reach(t, *(const volatile uintptr_t *)a);
    }
}

static bool in_globals(const struct trace *t, uintptr_t x) {
    for (size_t i = 0; i < t->nglobals; i++)
        if (x >= t->globals[i].start && x < t->globals[i].end) return true;
    return false;
}

/* Whether the object at x is in marked memory, or in memory the trace
 * does not know (then it might be reached from there). */
static bool object_reached(const struct trace *t, uintptr_t x) {
    ptrdiff_t b = block_at(t, x);
    if (b >= 0) return t->block_reached[b];
    ptrdiff_t s = stack_at(t, x);
    if (s >= 0) return t->stacks[s].reached;
    if (in_globals(t, x)) return t->globals_reached;
    return true;
}

/* Whether blocked goroutine gp waits on something marked: a channel (each
 * of its select's), or a sync object. */
static bool waits_on_reached(const struct trace *t, const struct rt_g *gp) {
    const rt_waiter *w = gp->waiting;
    if (w) {
        for (; w; w = w->waitlink)
            if (object_reached(t, (uintptr_t)w->c)) return true;
        return false;
    }
    return !gp->wait_obj || object_reached(t, (uintptr_t)gp->wait_obj);
}

static void make_live(struct trace *t, size_t g) {
    t->live[g] = true;
    if (t->stack_of[g] != SIZE_MAX) reach_stack(t, t->stack_of[g]);
    reach(t, (uintptr_t)t->gs[g]->arg);
}

/* The runtime's and the detector's own globals (runtime/CMakeLists.txt
 * puts them in these sections) are no roots: they point at every
 * goroutine, and at what each one waits on. */
extern char __start_goroutine_rt_data[] __attribute__((weak));
extern char __stop_goroutine_rt_data[] __attribute__((weak));
extern char __start_goroutine_rt_bss[] __attribute__((weak));
extern char __stop_goroutine_rt_bss[] __attribute__((weak));

/* Adds [lo, hi) less the runtime's sections from the from-th on. */
static void add_globals(struct trace *t, uintptr_t lo, uintptr_t hi, int from) {
    const struct race_span own[] = {
        {(uintptr_t)__start_goroutine_rt_data, (uintptr_t)__stop_goroutine_rt_data},
        {(uintptr_t)__start_goroutine_rt_bss, (uintptr_t)__stop_goroutine_rt_bss},
    };
    for (int i = from; i < 2; i++)
        if (own[i].start < own[i].end && own[i].start < hi && own[i].end > lo) {
            add_globals(t, lo, own[i].start, i + 1);
            add_globals(t, own[i].end, hi, i + 1);
            return;
        }
    if (lo >= hi) return;
    if (t->nglobals == t->cap_globals)
        t->globals = grow(t->globals, &t->cap_globals, sizeof *t->globals);
    t->globals[t->nglobals++] = (struct race_span){lo, hi};
}

static int add_writable_segments(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W)) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        add_globals(arg, lo, lo + ph->p_memsz, 0);
    }
    return 0;
}

/* Stacks from their saved stack pointers; self's from own_sp. */
static void collect_stacks(struct trace *t, struct rt_g *self, uintptr_t own_sp) {
    t->stacks = race_internal_alloc((t->ng ? t->ng : 1) * sizeof *t->stacks);
    for (size_t g = 0; g < t->ng; g++) {
        struct rt_g *gp = t->gs[g];
        uintptr_t lo = gp == self ? own_sp : (uintptr_t)gp->sp, hi = (uintptr_t)gp->stack_hi;
        if (lo && lo < hi) t->stacks[t->nstacks++] = (struct stack){{lo, hi}, g, false};
    }
    qsort(t->stacks, t->nstacks, sizeof *t->stacks, race_span_by_start);
    t->stack_of = race_internal_alloc((t->ng ? t->ng : 1) * sizeof *t->stack_of);
    for (size_t g = 0; g < t->ng; g++) t->stack_of[g] = SIZE_MAX;
    for (size_t s = 0; s < t->nstacks; s++) t->stack_of[t->stacks[s].g] = s;
}

/* A pending timer will fire: it and what it holds are reached (a
 * go_timer's channel, a context's). A sleep timer sits on its sleeper's
 * stack, which is live anyway. */
static void reach_timers(struct trace *t) {
    for (int i = 0; i < rt_sched.nprocs_made; i++) {
        struct rt_p *p = rt_sched.allp[i];
        rt_lock_acquire(&p->timers_lock);
        for (int k = 0; k < p->ntimers; k++) {
            uintptr_t timer = (uintptr_t)p->timers[k];
            reach(t, timer);
            push(t, timer, timer + sizeof(struct rt_timer));
        }
        rt_lock_release(&p->timers_lock);
    }
}

/* With the world stopped and rt_allgs_lock held: marks t->live for every
 * goroutine something live can wake. Returns false, deciding nothing, if
 * a goroutine other than self is running or in a system call (its
 * registers are out of reach). */
static bool trace_live(struct trace *t, struct rt_g *self, bool self_live, uintptr_t own_sp) {
    for (size_t g = 0; g < t->ng; g++) {
        uint32_t st = atomic_load(&t->gs[g]->status);
        if (t->gs[g] != self && (st == G_RUNNING || st == G_SYSCALL)) return false;
    }
    t->blocks = race_heap_spans(&t->nblocks);
    t->block_reached = race_internal_calloc(t->nblocks ? t->nblocks : 1, sizeof *t->block_reached);
    collect_stacks(t, self, own_sp);
    bool any_live = false;
    for (size_t g = 0; g < t->ng; g++)
        if (t->gs[g] == self ? self_live : rt_wakes_by_itself(t->gs[g])) {
            make_live(t, g);
            any_live = true;
        }
    if (any_live) {
        dl_iterate_phdr(add_writable_segments, t);
        t->globals_reached = true;
        for (size_t i = 0; i < t->nglobals; i++) push(t, t->globals[i].start, t->globals[i].end);
        reach_timers(t);
    }
    drain(t);
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t g = 0; g < t->ng; g++) {
            struct rt_g *gp = t->gs[g];
            if (t->live[g] || atomic_load(&gp->status) != G_WAITING || forever_by_itself(gp) ||
                !waits_on_reached(t, gp))
                continue;
            make_live(t, g);
            drain(t);
            changed = true;
        }
    }
    return true;
}

static void trace_free(struct trace *t) {
    race_internal_free(t->blocks);
    race_internal_free(t->block_reached);
    race_internal_free(t->stacks);
    race_internal_free(t->stack_of);
    race_internal_free(t->globals);
    race_internal_free(t->unscanned);
}

/* A stop fails when some goroutine does not park within the scheduler's
 * wait (sched.c); one that was only busy for a while may be parked on a
 * second try. */
static bool stop_world_soon(void) {
    for (int attempt = 0; attempt < 3; attempt++) {
        if (rt_world_stop()) return true;
        go_yield();
    }
    return false;
}

/* Reports every goroutine found leaked, once each. own_sp: where the
 * caller's stack is traced from (its registers are saved below it). */
static int find_leaks(bool at_exit, uintptr_t own_sp) {
    struct rt_g *self = rt_getg();
    bool stopped = self && stop_world_soon();
    struct race_g *rg = race_cur;
    race_internal_enter(rg);
    rt_lock_acquire(&rt_allgs_lock);
    struct trace t = {0};
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next) t.ng++;
    t.gs = race_internal_alloc((t.ng ? t.ng : 1) * sizeof *t.gs);
    t.live = race_internal_calloc(t.ng ? t.ng : 1, sizeof *t.live);
    size_t ng = 0;
    bool any_live = false;
    for (struct rt_g *gp = rt_allgs; gp && ng < t.ng; gp = gp->all_next) {
        if (atomic_load(&gp->status) == G_DEAD) continue;
        t.gs[ng++] = gp;
        if (gp != self && rt_wakes_by_itself(gp)) any_live = true;
    }
    t.ng = ng;
    bool traced = stopped && !(at_exit && !any_live) && trace_live(&t, self, !at_exit, own_sp);
    if (stopped) rt_world_start();
    size_t k = 0;
    for (size_t g = 0; g < t.ng; g++) {
        struct rt_g *gp = t.gs[g];
        if (gp == self || atomic_load(&gp->status) != G_WAITING || rt_wakes_by_itself(gp) ||
            gp->leak_reported)
            continue;
        bool leaked = traced ? !t.live[g] : forever_by_itself(gp) || (at_exit && !any_live);
        if (leaked) t.gs[k++] = gp;
    }
    qsort(t.gs, k, sizeof *t.gs, by_id);
    for (size_t i = 0; i < k; i++) {
        t.gs[i]->leak_reported = true;
        report(t.gs[i]);
    }
    rt_lock_release(&rt_allgs_lock);
    trace_free(&t);
    race_internal_free(t.gs);
    race_internal_free(t.live);
    atomic_fetch_add(&nleaks, k);
    race_internal_leave(rg);
    return (int)k;
}

/* Not inlined, so that its callee-saved registers still hold the
 * caller's values or sit saved in its frame: the trace starts at
 * registers (its lowest local) and so covers both, but not the deeper
 * frames where earlier calls left stale pointers. */
__attribute__((noinline)) int go_leakcheck(void) {
    uintptr_t registers[6];
    __asm__ volatile("mov %%rbx, 0(%0)\n\tmov %%rbp, 8(%0)\n\tmov %%r12, 16(%0)\n\t"
                     "mov %%r13, 24(%0)\n\tmov %%r14, 32(%0)\n\tmov %%r15, 40(%0)"
                     : : "r"(registers) : "memory");
    return find_leaks(atomic_load(&exiting), (uintptr_t)registers);
}

void race_leaks_at_exit(void) {
    atomic_store(&exiting, 1);
    find_leaks(true, 0);
}

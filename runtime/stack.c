/* stack.c - goroutine stacks and the G structures that live on them.
 *
 * A stack slot is [guard page?][stack .......][struct rt_g] in an anonymous
 * MAP_NORESERVE mapping: pages are committed only when touched, so a parked
 * goroutine costs the one page that holds its G and its few frames. Slots are
 * carved from slabs (one mmap for many slots) and never unmapped: a dead G
 * keeps its stack and goes to a free list (per P for the default size, global
 * per size otherwise), because an mmap/munmap cycle costs far more than a
 * spawn.
 *
 * Guard pages: every PROT_NONE guard splits a mapping, and Linux allows only
 * vm.max_map_count (65,530 by default) mappings per process. Slots get a
 * guard page while guarded slots use at most a quarter of that budget; past
 * it, slabs are unguarded, one mapping each, and such stacks instead keep a
 * red zone at their low end that nothing legitimately touches: switching
 * away with the stack pointer below the usable stack is reported as a stack
 * overflow, and so is a fault in the red zone. Faults in guard pages are
 * caught on an alternate signal stack and reported as "fatal error: stack
 * overflow" with the goroutine's stack.
 *
 * Page faults are the dominant cost here (tens of microseconds each on the
 * VMs we target), so nothing reads or writes a stack page that its
 * goroutine would not touch anyway. */
#include "proc.h"

#include <signal.h>
#include <ucontext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif
#ifdef RT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/lsan_interface.h>
#endif

enum {
    PAGE = 4096,
    RED_ZONE = 2 * PAGE,          /* unguarded stacks' overflow margin */
    SLAB_BYTES = 16 << 20,        /* address space per slab */
    GFREE_LOCAL_MAX = 64,
    GFREE_BATCH = 32,
    ALTSTACK_SIZE = 256 << 10,
};

/* One per slab; every G carved from it points here. */
struct rt_stack {
    size_t stack_size;   /* usable bytes requested (size class) */
    size_t slot_size;
    bool guarded;
    struct rt_stack *next;  /* all slabs, so they stay reachable */
};

size_t rt_default_stack_size = 256 << 10;

static rt_lock stack_lock;
static struct {
    struct rt_stack *slab;
    char *next, *end;
} carve[2][16];                 /* [guarded][size class index] */
static size_t class_sizes[16];
static int nclasses;
static long guarded_slots, guarded_budget;
static struct rt_g *gfree_global[16];
static struct rt_stack *all_slabs;
static struct sigaction prev_segv, prev_bus;

static size_t round_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }
static size_t g_block(void) { return round_up(sizeof(struct rt_g), RT_CACHE_LINE); }

static int class_index(size_t stack_size) {
    for (int i = 0; i < nclasses; i++)
        if (class_sizes[i] == stack_size) return i;
    if (nclasses == 16) rt_fatal("too many distinct goroutine stack sizes (at most 16)");
    class_sizes[nclasses] = stack_size;
    return nclasses++;
}

static void *map_noreserve(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) rt_fatal("out of memory allocating goroutine stacks");
    return p;
}

/* A fresh G at the top of a newly carved slot; stack_lock held. */
static struct rt_g *carve_slot(size_t stack_size) {
    int ci = class_index(stack_size);
    bool guarded = guarded_slots < guarded_budget;
    size_t lead = guarded ? PAGE : RED_ZONE;
    size_t slot = lead + stack_size + g_block();
    slot = round_up(slot, PAGE);
    if (carve[guarded][ci].next == NULL ||
        carve[guarded][ci].next + slot > carve[guarded][ci].end) {
        size_t bytes = slot > SLAB_BYTES / 4 ? slot : SLAB_BYTES / slot * slot;
        struct rt_stack *s = malloc(sizeof *s);
        if (!s) rt_fatal("out of memory");
        *s = (struct rt_stack){stack_size, slot, guarded, all_slabs};
        all_slabs = s;
        char *base = map_noreserve(bytes);
#ifdef RT_ASAN
        /* LeakSanitizer does not scan mmap'd memory: goroutine stacks and
         * Gs must count as roots, or what only a live goroutine holds looks
         * leaked at exit. */
        __lsan_register_root_region(base, bytes);
#endif
        carve[guarded][ci].slab = s;
        carve[guarded][ci].next = base;
        carve[guarded][ci].end = base + bytes;
    }
    char *lo = carve[guarded][ci].next;
    carve[guarded][ci].next += slot;
    if (guarded) {
        if (mprotect(lo, PAGE, PROT_NONE) != 0)
            rt_fatal("mprotect of a stack guard page failed");
        guarded_slots++;
    }
    struct rt_g *gp = (struct rt_g *)(lo + slot - g_block());
    memset(gp, 0, sizeof *gp);
    gp->stack = carve[guarded][ci].slab;
    gp->stack_lo = lo + lead;
    gp->stack_hi = (char *)gp;
    atomic_store(&gp->status, G_IDLE);
    rt_lock_acquire(&rt_allgs_lock);
    gp->all_next = rt_allgs;
    rt_allgs = gp;
    rt_lock_release(&rt_allgs_lock);
    return gp;
}

/* Per-P caches trade with the global lists in batches of GFREE_BATCH
 * (Go's gfget/gfput do the same): with one P spawning and another running
 * the children to their end, dead Gs flow from one cache to the other, and
 * one stack_lock round trip per batch instead of per G keeps the two Ps off
 * each other's cache lines. */
struct rt_g *rt_gfget(struct rt_p *p, size_t stack_size) {
    bool local = p && stack_size == rt_default_stack_size;
    if (local && !p->gfree) {
        int ci = class_index(stack_size);
        rt_lock_acquire(&stack_lock);
        while (p->ngfree < GFREE_BATCH && gfree_global[ci]) {
            struct rt_g *gp = gfree_global[ci];
            gfree_global[ci] = gp->sched_link;
            gp->sched_link = p->gfree;
            p->gfree = gp;
            p->ngfree++;
        }
        rt_lock_release(&stack_lock);
    }
    struct rt_g *gp;
    if (local && p->gfree && p->gfree->stack->stack_size == stack_size) {
        gp = p->gfree;
        p->gfree = gp->sched_link;
        p->ngfree--;
    } else {
        rt_lock_acquire(&stack_lock);
        int ci = class_index(stack_size);
        gp = gfree_global[ci];
        if (gp) gfree_global[ci] = gp->sched_link;
        else gp = carve_slot(stack_size);
        rt_lock_release(&stack_lock);
    }
    gp->sched_link = NULL;
#ifdef RT_ASAN
    /* Frames of the previous goroutine never returned: clear their poison. */
    __asan_unpoison_memory_region(gp->stack_lo,
                                  (char *)gp->stack_hi - (char *)gp->stack_lo);
#endif
    return gp;
}

void rt_gfput(struct rt_p *p, struct rt_g *gp) {
    int ci = class_index(gp->stack->stack_size);
    if (gp->stack->stack_size != rt_default_stack_size || !p) {
        rt_lock_acquire(&stack_lock);
        gp->sched_link = gfree_global[ci];
        gfree_global[ci] = gp;
        rt_lock_release(&stack_lock);
        return;
    }
    gp->sched_link = p->gfree;
    p->gfree = gp;
    if (++p->ngfree < GFREE_LOCAL_MAX) return;
    rt_lock_acquire(&stack_lock);
    while (p->ngfree > GFREE_LOCAL_MAX - GFREE_BATCH) {
        struct rt_g *out = p->gfree;
        p->gfree = out->sched_link;
        p->ngfree--;
        int oci = class_index(out->stack->stack_size);
        out->sched_link = gfree_global[oci];
        gfree_global[oci] = out;
    }
    rt_lock_release(&stack_lock);
}

static _Noreturn void stack_overflow(struct rt_g *gp) {
    (void)gp;
    rt_fatal("stack overflow");
}

void rt_stack_check(struct rt_g *gp) {
    char here;
    if (RT_UNLIKELY((void *)&here < gp->stack_lo)) stack_overflow(gp);
}

/* The G whose stack (or guard/red zone) contains addr, judged from the
 * goroutine running on this thread. */
static bool is_stack_overflow(struct rt_g *gp, uintptr_t addr) {
    if (!gp || !gp->stack) return false;
    uintptr_t lo = (uintptr_t)gp->stack_lo;
    uintptr_t margin = gp->stack->guarded ? PAGE : RED_ZONE;
    return addr < lo && addr + margin + PAGE >= lo;
}

static void on_fault(int sig, siginfo_t *info, void *uctx) {
    struct rt_g *gp = rt_getg();
    /* A frame larger than the guard, or a run through an unguarded red
     * zone, faults far below the stack: the stack pointer tells. */
    uintptr_t sp = (uintptr_t)((ucontext_t *)uctx)->uc_mcontext.gregs[REG_RSP];
    if (is_stack_overflow(gp, (uintptr_t)info->si_addr) ||
        (gp && gp->stack && sp < (uintptr_t)gp->stack_lo &&
         sp + (64u << 20) > (uintptr_t)gp->stack_lo))
        stack_overflow(gp);
    struct sigaction *prev = sig == SIGSEGV ? &prev_segv : &prev_bus;
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction) { prev->sa_sigaction(sig, info, uctx); return; }
    } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    /* Default action: re-raise with the default disposition on return. */
    signal(sig, SIG_DFL);
}

void rt_stack_thread_init(struct rt_m *m) {
    m->altstack = mmap(NULL, ALTSTACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m->altstack == MAP_FAILED) rt_fatal("cannot allocate a signal stack");
    stack_t ss = {.ss_sp = m->altstack, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
    sigaltstack(&ss, NULL);
}

size_t rt_stack_size_from_env(void) {
    const char *s = getenv("GOROUTINE_STACK_SIZE");
    if (!s || !*s) return 0;
    char *end;
    unsigned long long v = *s == '-' ? 0 : strtoull(s, &end, 10);
    if (*s == '-') end = (char *)s;
    if (*end == 'k' || *end == 'K') { v <<= 10; end++; }
    else if (*end == 'm' || *end == 'M') { v <<= 20; end++; }
    if (*end != 0 || v == 0) {
        fprintf(stderr, "goroutine: bad GOROUTINE_STACK_SIZE=%s: want bytes, "
                        "or a number with a k or m suffix\n", s);
        exit(2);
    }
    return (size_t)v;
}

size_t go_set_stack_size(size_t bytes) {
    rt_init();
    size_t old = rt_default_stack_size;
    if (bytes) rt_default_stack_size = round_up(bytes < 16384 ? 16384 : bytes, PAGE);
    return old;
}

struct rt_g *rt_g0_make(size_t size) {
    char *lo = map_noreserve(size + g_block());
    struct rt_g *gp = (struct rt_g *)(lo + size);
    memset(gp, 0, sizeof *gp);
    gp->stack_lo = lo;
    gp->stack_hi = gp;
    return gp;
}

void rt_stack_init(void) {
    size_t env = rt_stack_size_from_env();
    if (env) rt_default_stack_size = round_up(env < 16384 ? 16384 : env, PAGE);
    long max_maps = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max_maps) != 1) max_maps = 65530;
        fclose(f);
    }
    guarded_budget = max_maps / 4 / 2;  /* two mappings per guarded slot */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &prev_segv);
    sigaction(SIGBUS, &sa, &prev_bus);
}

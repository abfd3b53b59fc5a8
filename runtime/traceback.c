/* traceback.c - goroutine stacks: capture with libunwind, print Go-style.
 *
 * Capture. rt_callers unwinds the calling thread from unw_getcontext. A
 * goroutine that is not running has no thread to unwind, only the frame
 * rt_switch left at gp->sp (layout in switch_x86_64.S): rbp, rbx, r12-r15
 * and the return address into whoever switched away. That is exactly a
 * register state at the instruction after the call, so it is loaded into a
 * libunwind context and unwound like any thread. The chain ends at
 * go_goroutine_start, whose CFI marks the return address undefined; main's
 * ends where libunwind finds the process's first frame. Should libunwind
 * fail, a frame-pointer walk (the runtime is built with frame pointers)
 * takes over, checked against the goroutine's stack bounds at every step.
 * The caller guarantees the goroutine stays off-CPU while it is unwound.
 *
 * PCs. Every pc recorded is a return address, even the leaf: symbolizers
 * look up pc - 1, the call instruction. The one exception in a real stack,
 * the interrupted instruction of a signal frame, is recorded plus one.
 *
 * Printing. Users care about their code and the API call they made, not
 * the runtime's insides, so runtime-internal frames (code under the
 * source tree's runtime/ or detector/, or without debug information the
 * rt_* names and the shared library's own symbols) are left out, except the
 * public go_* functions: a goroutine blocked in a receive shows
 * "#0 go_chan_recv" then the user's frames, ending in go_goroutine_start
 * (or, for goroutine 1, in main: the C start-up code below it is left out
 * too).
 * Creation stacks also drop go_spawn* itself, so their #0 is the creator.
 * Stacks with no goroutine (scheduler context), and every stack when
 * GOROUTINE_TRACEBACK=system is set (Go's GOTRACEBACK=system), are shown
 * whole. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "rt.h"
#include "proc.h"
#include "symbolize.h"

/* Is ip the signal return trampoline (sa_restorer)? Every x86-64 Linux
 * libc's is the rt_sigreturn system call, mov $15,%rax; syscall. Only
 * called on an ip libunwind has just unwound through as a signal frame, so
 * the code there is known to be mapped. */
static bool is_sigreturn_trampoline(unw_word_t ip) {
    static const unsigned char rt_sigreturn[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
    return memcmp((const void *)(uintptr_t)ip, rt_sigreturn, sizeof rt_sigreturn) == 0;
}

/* Unwind from cur, dropping the first `skip` frames. Returns the frame
 * count; *clean is set when the unwinder reached the end of the chain
 * rather than an error.
 * Signal frames: libunwind 1.6's unw_is_signal_frame answers one frame
 * late, for the interrupted frame rather than the trampoline before it. So
 * when it says yes and the previous frame is the trampoline, that frame is
 * taken back (it is no call site) and this one, the interrupted
 * instruction, is recorded plus one like every other pc. */
static int unwind(unw_cursor_t *cur, int skip, uintptr_t *pcs, int max, bool *clean) {
    int n = 0;
    unw_word_t prev_ip = 0;
    bool prev_recorded = false;
    int step = 1;
    while (n < max) {
        unw_word_t ip;
        if (unw_get_reg(cur, UNW_REG_IP, &ip) != 0 || ip == 0) break;
        bool interrupted = prev_ip != 0 && unw_is_signal_frame(cur) > 0 &&
                           is_sigreturn_trampoline(prev_ip);
        if (interrupted && prev_recorded) n--;
        if (skip > 0) {
            skip--;
            prev_recorded = false;
        } else {
            pcs[n++] = (uintptr_t)ip + (interrupted ? 1 : 0);
            prev_recorded = true;
        }
        prev_ip = ip;
        step = unw_step(cur);
        if (step <= 0) break;
    }
    if (clean) *clean = step >= 0;
    return n;
}

__attribute__((noinline)) int rt_callers(int skip, uintptr_t *pcs, int max) {
    unw_context_t uc;
    unw_cursor_t cur;
    if (max <= 0 || unw_getcontext(&uc) != 0 || unw_init_local(&cur, &uc) != 0)
        return 0;
    /* Frame 0 is rt_callers itself. */
    return unwind(&cur, skip + 1, pcs, max, NULL);
}

#if !defined(__x86_64__)
#error "rt_g_callers reads switch_x86_64.S's frame: port it with the switch"
#endif

/* The saved switch frame at gp->sp, in words. */
enum {
    SW_CONTROL, SW_R15, SW_R14, SW_R13, SW_R12, SW_RBX, SW_RBP, SW_RET,
    SW_WORDS /* the switching code's rsp after its return: gp->sp + 64 */
};

static bool in_stack(struct rt_g *gp, uintptr_t p, size_t len) {
    uintptr_t lo = (uintptr_t)gp->stack_lo, hi = (uintptr_t)gp->stack_hi;
    return lo != 0 && p >= lo && p <= hi && hi - p >= len;
}

/* Frame-pointer chain: [fp] is the caller's fp, [fp+8] the return address.
 * Frames grow towards higher addresses as we go up, which bounds the walk. */
__attribute__((no_sanitize("address")))
static int fp_walk(struct rt_g *gp, uintptr_t ret, uintptr_t fp, uintptr_t *pcs, int max) {
    int n = 0;
    pcs[n++] = ret;
    while (n < max && fp % sizeof(uintptr_t) == 0 && in_stack(gp, fp, 2 * sizeof(uintptr_t))) {
        const uintptr_t *frame = (const uintptr_t *)fp;
        if (frame[1] == 0) break;
        pcs[n++] = frame[1];
        if (frame[0] <= fp) break;
        fp = frame[0];
    }
    return n;
}

__attribute__((no_sanitize("address")))
int rt_g_callers(struct rt_g *gp, uintptr_t *pcs, int max) {
    uint32_t status = atomic_load(&gp->status);
    if (max <= 0 || !gp->sp || status == G_RUNNING || status == G_SYSCALL ||
        status == G_DEAD || status == G_IDLE)
        return 0;
    const uintptr_t *sw = gp->sp;
    uintptr_t ret = sw[SW_RET];
    /* Never run: the frame "returns" to the trampoline's first byte, which
     * is no return address (pc - 1 would name the code before it). */
    if (ret == (uintptr_t)&go_goroutine_start) {
        pcs[0] = ret + 1;
        return 1;
    }

    unw_context_t uc;
    memset(&uc, 0, sizeof uc);
    greg_t *r = uc.uc_mcontext.gregs;
    r[REG_RIP] = (greg_t)ret;
    r[REG_RSP] = (greg_t)(uintptr_t)(sw + SW_WORDS);
    r[REG_RBP] = (greg_t)sw[SW_RBP];
    r[REG_RBX] = (greg_t)sw[SW_RBX];
    r[REG_R12] = (greg_t)sw[SW_R12];
    r[REG_R13] = (greg_t)sw[SW_R13];
    r[REG_R14] = (greg_t)sw[SW_R14];
    r[REG_R15] = (greg_t)sw[SW_R15];
    unw_cursor_t cur;
    int n = 0;
    bool clean = false;
    if (unw_init_local(&cur, &uc) == 0) n = unwind(&cur, 0, pcs, max, &clean);
    if (clean && n > 0) return n;

    uintptr_t fallback[RT_MAX_FRAMES];
    int fb = fp_walk(gp, ret, sw[SW_RBP], fallback, max < RT_MAX_FRAMES ? max : RT_MAX_FRAMES);
    if (fb <= n) return n;
    memcpy(pcs, fallback, (size_t)fb * sizeof *pcs);
    return fb;
}

/* ---- printing ---- */

enum frame_filter {
    SHOW_ALL,       /* scheduler stacks, GOROUTINE_TRACEBACK=system */
    SHOW_USER,      /* hide runtime internals, keep go_* API frames */
    SHOW_CREATOR,   /* as SHOW_USER, and drop the leading go_spawn* frames */
};

static bool traceback_system(void) {
    static _Atomic int cached = -1;
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        const char *e = getenv("GOROUTINE_TRACEBACK");
        v = e && strcmp(e, "system") == 0;
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}

static bool has_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool rt_frame_internal(const struct rt_frame *f) {
    if (f->file)
        return has_prefix(f->file, GOROUTINE_SRC_DIR "/runtime/") ||
               has_prefix(f->file, GOROUTINE_SRC_DIR "/detector/");
    return f->runtime_module || (f->func && has_prefix(f->func, "rt_"));
}

bool rt_frame_api(const struct rt_frame *f) {
    return f->func && has_prefix(f->func, "go_");
}

static void print_frame(int fd, int index, const struct rt_frame *f) {
    if (f->func && f->file) {
        if (f->col > 0)
            rt_printf(fd, "    #%d %s %s:%d:%d\n", index, f->func, f->file, f->line, f->col);
        else
            rt_printf(fd, "    #%d %s %s:%d\n", index, f->func, f->file, f->line);
    } else if (f->module) {
        if (f->func)
            rt_printf(fd, "    #%d %s (%s+0x%zx)\n", index, f->func, f->module, (size_t)f->module_off);
        else
            rt_printf(fd, "    #%d 0x%zx (%s+0x%zx)\n", index, (size_t)f->addr, f->module,
                      (size_t)f->module_off);
    } else {
        rt_printf(fd, "    #%d 0x%zx\n", index, (size_t)f->addr);
    }
}

static void print_filtered(int fd, const uintptr_t *pcs, int n, enum frame_filter filter) {
    if (filter != SHOW_ALL && traceback_system()) filter = SHOW_ALL;
    int index = 0;
    bool leading = true;
    for (int i = 0; i < n; i++) {
        struct rt_frame chain[RT_MAX_INLINE];
        int k = rt_symbolize(pcs[i], chain, RT_MAX_INLINE);
        for (int j = 0; j < k; j++) {
            const struct rt_frame *f = &chain[j];
            if (filter != SHOW_ALL && rt_frame_internal(f)) {
                if (!rt_frame_api(f)) continue;
                if (filter == SHOW_CREATOR && leading && has_prefix(f->func, "go_spawn"))
                    continue;
            }
            leading = false;
            print_frame(fd, index++, f);
            /* What calls main is the C library's start-up, as uninteresting
             * as the runtime's own frames. */
            if (filter != SHOW_ALL && f->func && strcmp(f->func, "main") == 0) return;
        }
    }
}

void rt_print_frames(int fd, const uintptr_t *pcs, int n) {
    print_filtered(fd, pcs, n, SHOW_USER);
}

static const char *status_text(struct rt_g *gp, uint32_t status) {
    switch (status) {
    case G_RUNNABLE: return "runnable";
    case G_RUNNING: return "running";
    case G_SYSCALL: return "syscall";
    case G_DEAD: return "dead";
    case G_IDLE: return "idle";
    case G_WAITING: {
        const char *s = rt_wait_reason_string(gp->wait_reason);
        return *s ? s : "waiting";
    }
    default: return "unknown";
    }
}

void rt_print_goroutine(int fd, struct rt_g *gp, const char *state_override) {
    uint32_t status = atomic_load(&gp->status);
    bool self = gp == rt_getg();

    rt_printf(fd, "goroutine %llu", (unsigned long long)gp->id);
    if (gp->name) rt_printf(fd, " \"%s\"", gp->name);
    if (state_override) {
        rt_printf(fd, " [%s]:\n", state_override);
    } else {
        rt_printf(fd, " [%s", status_text(gp, status));
        /* Go adds the wait time once it reaches a minute, in whole minutes. */
        if (status == G_WAITING && gp->wait_since > 0) {
            int64_t minutes = (rt_nanotime() - gp->wait_since) / (60 * GO_SECOND);
            if (minutes >= 1) rt_printf(fd, ", %lld minutes", (long long)minutes);
        }
        rt_printf(fd, "]:\n");
    }

    uintptr_t pcs[RT_MAX_FRAMES];
    int n = 0;
    if (self) {
        n = rt_callers(1, pcs, RT_MAX_FRAMES); /* from our caller */
    } else if (status == G_RUNNING || status == G_SYSCALL) {
        rt_printf(fd, "    (running on another thread: stack unavailable)\n");
    } else {
        n = rt_g_callers(gp, pcs, RT_MAX_FRAMES);
    }
    print_filtered(fd, pcs, n, SHOW_USER);

    if (gp->id != 1 && gp->create_depth > 0) {
        if (gp->parent_id != 0)
            rt_printf(fd, "created by goroutine %llu at:\n", (unsigned long long)gp->parent_id);
        else /* spawned from a thread the runtime does not run */
            rt_printf(fd, "created at:\n");
        print_filtered(fd, gp->create_pcs, gp->create_depth, SHOW_CREATOR);
    }
    rt_printf(fd, "\n");
}

/* The calling thread's whole stack, for reports made outside any
 * goroutine (panic.c). */
void rt_print_thread_stack(int fd, int skip) {
    uintptr_t pcs[RT_MAX_FRAMES];
    int n = rt_callers(skip + 1, pcs, RT_MAX_FRAMES);
    print_filtered(fd, pcs, n, SHOW_ALL);
}

/* report.c - race reports, in DESIGN.md's format (text) or one JSON object
 * per report (GORACE=report_format=json), each pair of source locations
 * once. Reports are serialised by one lock and written with rt_printf, so
 * they never interleave and never allocate on the output path. The
 * previous access's stack comes from the slot's history; when that is gone
 * the race is still reported, saying so, and counted for the summary.
 *
 * A racy line in a loop or in many goroutines races again and again, and
 * symbolizing costs tens of microseconds, so a race is first looked up by
 * its raw pcs (the two accesses' leaf frames) in a lock-free cache of pairs
 * known to be reported already; only a miss symbolizes and takes the lock.
 * A location key depends on the leaf pc alone, so a pc pair maps to one
 * location pair: the cache holds only pairs whose location pair sits in
 * the seen table for good, and a hit is exactly what that table would have
 * said. Both tables are fixed in size; when either is full, races take the
 * slow path and, past the seen table's size, are reported again.
 *
 * Lock-order inversions (lockorder.c) and leaked goroutines (leak.c) are
 * printed here too, so they go where races go (log_path), in the same
 * format. */
#include "detector.h"
#include "../runtime/proc.h"
#include "../runtime/symbolize.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { SEEN_MAX = 4096, PC_PAIRS = 4096, PC_PAIR_PROBES = 8 };

static rt_lock report_lock;
static _Atomic size_t nreports, nunrestored;
static uintptr_t seen[SEEN_MAX][2];
static size_t nseen;

/* Open addressing, written only under report_lock, read without it.
 * Entries are never removed or changed once hi (non-zero) publishes them,
 * so a pair is absent as soon as its probe reaches an empty entry. */
static struct pc_pair {
    _Atomic uintptr_t hi, lo;
} reported_pcs[PC_PAIRS];

static uintptr_t leaf_pc(const uintptr_t *pcs, int n) { return n ? pcs[0] : 0; }

static size_t pc_pair_home(uintptr_t lo, uintptr_t hi) {
    uint64_t h = (uint64_t)hi * 0x9e3779b97f4a7c15ull ^ (uint64_t)lo * 0xc2b2ae3d27d4eb4full;
    return (size_t)(h >> 32) % PC_PAIRS;
}

/* Whether the unordered pair (a, b) is in the cache; if not, *vacant is
 * the entry it would take, or NULL when its probe has none left. */
static bool pc_pair_find(uintptr_t a, uintptr_t b, struct pc_pair **vacant) {
    uintptr_t lo = a < b ? a : b, hi = a < b ? b : a;
    size_t home = pc_pair_home(lo, hi);
    *vacant = NULL;
    for (size_t i = 0; i < PC_PAIR_PROBES; i++) {
        struct pc_pair *e = &reported_pcs[(home + i) % PC_PAIRS];
        uintptr_t eh = atomic_load_explicit(&e->hi, memory_order_acquire);
        if (!eh) {
            *vacant = e;
            return false;
        }
        if (eh == hi && atomic_load_explicit(&e->lo, memory_order_relaxed) == lo) return true;
    }
    return false;
}

static bool pc_pair_reported(uintptr_t a, uintptr_t b) {
    struct pc_pair *vacant;
    return pc_pair_find(a, b, &vacant);
}

/* Under report_lock, the only writer: a vacant entry stays vacant until here.
 * (0, 0) finds a vacant entry and leaves it so. */
static void pc_pair_remember(uintptr_t a, uintptr_t b) {
    struct pc_pair *e;
    if (pc_pair_find(a, b, &e) || !e) return;
    atomic_store_explicit(&e->lo, a < b ? a : b, memory_order_relaxed);
    atomic_store_explicit(&e->hi, a < b ? b : a, memory_order_release);
}

/* A source location's identity, from an access's leaf pc (0: no stack):
 * the symbolizer's file string (stable pointer) and line, or the pc when
 * there is no line information. */
static uintptr_t location_key(uintptr_t pc) {
    if (!pc) return 0;
    struct rt_frame fr[RT_MAX_INLINE];
    int k = rt_symbolize(pc, fr, RT_MAX_INLINE);
    if (k == 0 || !fr[0].file) return pc;
    return (uintptr_t)fr[0].file * 31 + (uintptr_t)fr[0].line;
}

static int out_fd = 2;

void race_reports_init(void) {
    const char *path = race_opts.log_path;
    if (!path || !*path || strcmp(path, "stderr") == 0) return;
    if (strcmp(path, "stdout") == 0) {
        out_fd = 1;
        return;
    }
    char name[4096];
    snprintf(name, sizeof name, "%s.%d", path, (int)getpid());
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rt_printf(2, "==goroutine race detector: cannot open log_path %s; writing to stderr\n", name);
        return;
    }
    out_fd = fd;
}

size_t race_reports(void) { return atomic_load(&nreports); }
size_t race_unrestored_reports(void);
size_t race_unrestored_reports(void) { return atomic_load(&nunrestored); }

/* Whether the location pair was seen before; *kept says whether the
 * table holds it now (it has no room left for new pairs once full). */
static bool already_seen(uintptr_t a, uintptr_t b, bool *kept) {
    if (a > b) { uintptr_t t = a; a = b; b = t; }
    *kept = true;
    for (size_t i = 0; i < nseen; i++)
        if (seen[i][0] == a && seen[i][1] == b) return true;
    if (nseen < SEEN_MAX) {
        seen[nseen][0] = a;
        seen[nseen][1] = b;
        nseen++;
    } else {
        *kept = false;
    }
    return false;
}

static const char *stripped(const char *file) {
    const char *pre = race_opts.strip_path_prefix;
    size_t n = pre ? strlen(pre) : 0;
    if (file && n && strncmp(file, pre, n) == 0) return file + n;
    return file;
}

/* ---- which frames a report shows ---- */

/* Prints the index-th shown frame; pc is the stack entry it came from
 * (several inlined frames share one). */
typedef void frame_printer(const struct rt_frame *fr, uintptr_t pc, int index);

/* Walk the stack pcs (leaf first) frame by frame, inlined ones included,
 * and pass to print the frames a report shows, in the text and the JSON
 * format alike: the runtime's own frames between a goroutine's entry
 * trampoline and its function (rt_*) say nothing to the user, and libc's
 * start-up below main is not the program's. A parked goroutine's stack
 * (hide_runtime) runs through more of them, down to where it switched
 * away: it is shown from its go_* call, as the runtime's tracebacks are. */
static void show_frames(const uintptr_t *pcs, int n, frame_printer *print, bool hide_runtime) {
    int index = 0;
    for (int i = 0; i < n; i++) {
        struct rt_frame fr[RT_MAX_INLINE];
        int k = rt_symbolize(pcs[i], fr, RT_MAX_INLINE);
        for (int j = 0; j < k; j++) {
            const char *func = fr[j].func ? fr[j].func : "??";
            if (strncmp(func, "rt_", 3) == 0 ||
                (hide_runtime && rt_frame_internal(&fr[j]) && !rt_frame_api(&fr[j])))
                continue;
            fr[j].func = func;
            print(&fr[j], pcs[i], index++);
            if (strcmp(func, "main") == 0) return;
        }
    }
}

/* ---- text ---- */

static void text_frame(const struct rt_frame *fr, uintptr_t pc, int index) {
    if (fr->file && fr->col)
        rt_printf(out_fd, "    #%d %s %s:%d:%d\n", index, fr->func, stripped(fr->file), fr->line,
                  fr->col);
    else if (fr->file)
        rt_printf(out_fd, "    #%d %s %s:%d\n", index, fr->func, stripped(fr->file), fr->line);
    else
        rt_printf(out_fd, "    #%d %s (%s+0x%lx)\n", index, fr->func,
                  fr->module ? fr->module : "?", (unsigned long)fr->module_off);
}

static void text_frames(const uintptr_t *pcs, int n) { show_frames(pcs, n, text_frame, false); }

static const char *access_word(const struct race_access_desc *a, bool previous) {
    static const char *words[2][2][2] = {
        {{"Read", "Write"}, {"Atomic read", "Atomic write"}},
        {{"Previous read", "Previous write"}, {"Previous atomic read", "Previous atomic write"}},
    };
    return words[previous][a->atomic][a->write];
}

static void goroutine_suffix(uint64_t goid, char *buf, size_t len) {
    snprintf(buf, len, "%s", goid == 1 ? " (main)" : "");
}

/* Describe where addr lives: a global, a heap block (blk, when one holds
 * it), a goroutine stack. */
static void text_location(uintptr_t addr, const struct race_block_desc *blk) {
    struct rt_data_symbol sym;
    if (blk) {
        rt_printf(out_fd, "Location is heap block of size %zu at %p allocated by ",
                  blk->size, (void *)blk->start);
        if (blk->goid) rt_printf(out_fd, "goroutine %llu:\n", (unsigned long long)blk->goid);
        else rt_printf(out_fd, "a thread outside goroutines:\n");
        text_frames(blk->pcs, blk->depth);
        return;
    }
    if (rt_symbolize_data(addr, &sym)) {
        rt_printf(out_fd, "Location is global '%s' of size %zu at %p (%s+0x%lx)\n", sym.name,
                  sym.size, (void *)sym.start, sym.module ? sym.module : "?",
                  (unsigned long)(sym.module_off - (addr - sym.start)));
        return;
    }
    rt_lock_acquire(&rt_allgs_lock);
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next) {
        if (atomic_load(&gp->status) == G_DEAD || atomic_load(&gp->status) == G_IDLE) continue;
        if (addr >= (uintptr_t)gp->stack_lo && addr < (uintptr_t)gp->stack_hi) {
            rt_lock_release(&rt_allgs_lock);
            rt_printf(out_fd, "Location is stack of goroutine %llu\n", (unsigned long long)gp->id);
            return;
        }
    }
    rt_lock_release(&rt_allgs_lock);
}

static void text_created(uint64_t goid, const struct race_occupant *occ, bool running) {
    if (goid == 1 || !occ || occ->depth == 0) return;
    rt_printf(out_fd, "Goroutine %llu (%s) created at:\n", (unsigned long long)goid,
              running ? "running" : occ->finished ? "finished" : "running");
    text_frames(occ->create_pcs, occ->depth);
}

/* ---- JSON ---- */

static void json_string(const char *s) {
    char buf[1024];
    size_t k = 0;
    buf[k++] = '"';
    for (; s && *s && k < sizeof buf - 8; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { buf[k++] = '\\'; buf[k++] = (char)c; }
        else if (c < 0x20) k += (size_t)snprintf(buf + k, sizeof buf - k, "\\u%04x", c);
        else buf[k++] = (char)c;
    }
    buf[k++] = '"';
    buf[k] = 0;
    rt_printf(out_fd, "%s", buf);
}

static void json_frame(const struct rt_frame *fr, uintptr_t pc, int index) {
    rt_printf(out_fd, "%s{\"func\":", index ? "," : "");
    json_string(fr->func);
    rt_printf(out_fd, ",\"file\":");
    json_string(fr->file ? stripped(fr->file) : "");
    rt_printf(out_fd, ",\"line\":%d,\"col\":%d,\"pc\":\"%p\"}", fr->line, fr->col, (void *)pc);
}

static void json_frames_shown(const uintptr_t *pcs, int n, bool hide_runtime) {
    rt_printf(out_fd, "[");
    show_frames(pcs, n, json_frame, hide_runtime);
    rt_printf(out_fd, "]");
}

static void json_frames(const uintptr_t *pcs, int n) { json_frames_shown(pcs, n, false); }

static void json_access(const char *key, const struct race_access_desc *a, const uintptr_t *pcs,
                        int n, uint64_t goid, bool available) {
    rt_printf(out_fd, "\"%s\":{\"kind\":\"%s\",\"atomic\":%s,\"addr\":\"%p\",\"goroutine\":%llu,"
                      "\"stack_available\":%s,\"stack\":",
              key, a->write ? "write" : "read", a->atomic ? "true" : "false", (void *)a->addr,
              (unsigned long long)goid, available ? "true" : "false");
    json_frames(pcs, n);
    rt_printf(out_fd, "}");
}

static void json_location(uintptr_t addr, const struct race_block_desc *blk) {
    struct rt_data_symbol sym;
    if (blk) {
        rt_printf(out_fd, "\"location\":{\"kind\":\"heap\",\"start\":\"%p\",\"size\":%zu,"
                          "\"goroutine\":%llu,\"stack\":",
                  (void *)blk->start, blk->size, (unsigned long long)blk->goid);
        json_frames(blk->pcs, blk->depth);
        rt_printf(out_fd, "}");
    } else if (rt_symbolize_data(addr, &sym)) {
        rt_printf(out_fd, "\"location\":{\"kind\":\"global\",\"name\":");
        json_string(sym.name);
        rt_printf(out_fd, ",\"start\":\"%p\",\"size\":%zu}", (void *)sym.start, sym.size);
    } else {
        rt_printf(out_fd, "\"location\":{\"kind\":\"unknown\"}");
    }
}

/* ---- the report ---- */

/* GORACE=halt_on_error=1: the first report of any kind ends the process. */
static void halt_if_asked(void) {
    if (!race_opts.halt_on_error) return;
    fflush(NULL);
    _exit(race_opts.exitcode);
}

void race_report(struct race_access_desc *cur, struct race_access_desc *prev) {
    struct race_g *rg = race_cur;
    race_internal_enter(rg);
    /* Before anything is symbolised: the symbolisers allocate, and a block
     * freed just before (a use after free) would hand them its address. */
    struct race_block_desc blk;
    const struct race_block_desc *heap = race_heap_block(cur->addr, &blk) ? &blk : NULL;
    uintptr_t prev_pcs[RT_MAX_FRAMES];
    int nprev = race_history_restore(prev->slot, prev->epoch, prev->leaf_pc, prev_pcs, RT_MAX_FRAMES);
    uintptr_t cur_pc = leaf_pc(cur->pcs, cur->npcs), prev_pc = leaf_pc(prev_pcs, nprev);
    if (pc_pair_reported(cur_pc, prev_pc)) {
        race_internal_leave(rg);
        return;
    }
    struct race_occupant prev_occ, cur_occ;
    bool prev_known = race_slot_occupant(prev->slot, prev->epoch, &prev_occ);
    bool cur_known = race_slot_occupant(cur->slot, cur->epoch, &cur_occ);
    uint64_t prev_goid = prev_known ? prev_occ.goid : 0;

    rt_lock_acquire(&report_lock);
    bool kept;
    bool seen_before = already_seen(location_key(cur_pc), location_key(prev_pc), &kept);
    if (kept) pc_pair_remember(cur_pc, prev_pc);
    if (seen_before) {
        rt_lock_release(&report_lock);
        race_internal_leave(rg);
        return;
    }
    atomic_fetch_add(&nreports, 1);
    if (!nprev) atomic_fetch_add(&nunrestored, 1);

    if (race_opts.json) {
        rt_printf(out_fd, "{\"kind\":\"data_race\",");
        json_access("access", cur, cur->pcs, cur->npcs, cur->goid, true);
        rt_printf(out_fd, ",");
        json_access("previous", prev, prev_pcs, nprev, prev_goid, nprev > 0);
        rt_printf(out_fd, ",");
        json_location(cur->addr, heap);
        rt_printf(out_fd, ",\"created\":{");
        if (cur_known && cur->goid != 1) {
            rt_printf(out_fd, "\"%llu\":", (unsigned long long)cur->goid);
            json_frames(cur_occ.create_pcs, cur_occ.depth);
        }
        if (prev_known && prev_goid != 1 && prev_goid != cur->goid) {
            rt_printf(out_fd, "%s\"%llu\":", cur_known && cur->goid != 1 ? "," : "",
                      (unsigned long long)prev_goid);
            json_frames(prev_occ.create_pcs, prev_occ.depth);
        }
        rt_printf(out_fd, "}}\n");
    } else {
        char suffix[16];
        rt_printf(out_fd, "==================\nWARNING: DATA RACE\n");
        goroutine_suffix(cur->goid, suffix, sizeof suffix);
        rt_printf(out_fd, "%s at %p by goroutine %llu%s:\n", access_word(cur, false),
                  (void *)cur->addr, (unsigned long long)cur->goid, suffix);
        text_frames(cur->pcs, cur->npcs);
        goroutine_suffix(prev_goid, suffix, sizeof suffix);
        if (prev_known)
            rt_printf(out_fd, "%s at %p by goroutine %llu%s:\n", access_word(prev, true),
                      (void *)prev->addr, (unsigned long long)prev_goid, suffix);
        else
            rt_printf(out_fd, "%s at %p by an unknown goroutine:\n", access_word(prev, true),
                      (void *)prev->addr);
        if (nprev) text_frames(prev_pcs, nprev);
        else
            rt_printf(out_fd, "    (stack unavailable: the access is older than the history kept; "
                              "raise GORACE=history_size=N)\n");
        text_location(cur->addr, heap);
        if (cur_known) text_created(cur->goid, &cur_occ, true);
        if (prev_known && prev_goid != cur->goid) text_created(prev_goid, &prev_occ, false);
        rt_printf(out_fd, "==================\n");
    }
    rt_lock_release(&report_lock);
    halt_if_asked();
    race_internal_leave(rg);
}

/* ---- lock-order inversions (lockorder.c) ---- */

static _Atomic size_t ninversions;

size_t race_lock_inversions(void) { return atomic_load(&ninversions); }

void race_report_lock_cycle(const struct race_lock_edge_desc *edges, int n) {
    rt_lock_acquire(&report_lock);
    atomic_fetch_add(&ninversions, 1);
    /* Mutex Mk is edges[k-1].held: the cycle starts at the first edge's. */
    if (race_opts.json) {
        rt_printf(out_fd, "{\"kind\":\"lock_order_inversion\",\"cycle\":[");
        for (int k = 0; k < n; k++)
            rt_printf(out_fd, "%s{\"mutex\":\"M%d\",\"addr\":\"%p\"}", k ? "," : "", k + 1,
                      (void *)edges[k].held);
        rt_printf(out_fd, "],\"edges\":[");
        for (int k = 0; k < n; k++) {
            rt_printf(out_fd, "%s{\"acquired\":\"M%d\",\"held\":\"M%d\",\"goroutine\":%llu,\"stack\":",
                      k ? "," : "", k + 1 < n ? k + 2 : 1, k + 1,
                      (unsigned long long)edges[k].goid);
            json_frames(edges[k].pcs, edges[k].npcs);
            rt_printf(out_fd, "}");
        }
        rt_printf(out_fd, "]}\n");
    } else {
        rt_printf(out_fd, "==================\nWARNING: LOCK-ORDER INVERSION (potential deadlock)\n"
                          "Cycle:");
        for (int k = 0; k < n; k++)
            rt_printf(out_fd, " M%d (%p) =>", k + 1, (void *)edges[k].held);
        rt_printf(out_fd, " M1\n");
        for (int k = 0; k < n; k++) {
            rt_printf(out_fd, "Mutex M%d acquired while holding M%d by goroutine %llu:\n",
                      k + 1 < n ? k + 2 : 1, k + 1, (unsigned long long)edges[k].goid);
            text_frames(edges[k].pcs, edges[k].npcs);
        }
        rt_printf(out_fd, "==================\n");
    }
    rt_lock_release(&report_lock);
    halt_if_asked();
}

/* ---- leaked goroutines (leak.c) ---- */

void race_report_leak(const struct race_leak_desc *leak) {
    rt_lock_acquire(&report_lock);
    if (race_opts.json) {
        rt_printf(out_fd, "{\"kind\":\"goroutine_leak\",\"goroutine\":%llu,\"wait_reason\":",
                  (unsigned long long)leak->goid);
        json_string(leak->wait_reason);
        rt_printf(out_fd, ",\"waited_seconds\":%lld,\"stack\":", (long long)leak->waited_seconds);
        json_frames_shown(leak->pcs, leak->npcs, true);
        rt_printf(out_fd, ",\"created\":{");
        if (leak->create_depth > 0) {
            rt_printf(out_fd, "\"%llu\":", (unsigned long long)leak->goid);
            json_frames(leak->create_pcs, leak->create_depth);
        }
        rt_printf(out_fd, "}}\n");
    } else {
        rt_printf(out_fd, "==================\nWARNING: GOROUTINE LEAK\ngoroutine %llu [%s (leaked)",
                  (unsigned long long)leak->goid, leak->wait_reason);
        if (leak->waited_seconds >= 1)
            rt_printf(out_fd, ", %lld second%s", (long long)leak->waited_seconds,
                      leak->waited_seconds == 1 ? "" : "s");
        rt_printf(out_fd, "]:\n");
        show_frames(leak->pcs, leak->npcs, text_frame, true);
        if (leak->create_depth > 0) {
            rt_printf(out_fd, "Goroutine %llu created at:\n", (unsigned long long)leak->goid);
            text_frames(leak->create_pcs, leak->create_depth);
        }
        rt_printf(out_fd, "==================\n");
    }
    rt_lock_release(&report_lock);
    halt_if_asked();
}

/* history.c - per-slot event histories, to rebuild the stack of a past
 * access (the "Previous write at ... by goroutine N:" stack).
 *
 * Every event a goroutine records (access, call, return) advances its epoch
 * by one, so the event of epoch e sits at index e - start of the part that
 * starts at or before e. A part begins with a snapshot of the innermost
 * frames of the shadow call stack; replaying calls and returns from there
 * up to e gives the stack at e. A goroutine's first part is small (most
 * goroutines do little, and a parked one must stay cheap); later parts are
 * larger. Each slot keeps at most (history_size + 1) * 64 KiB of parts,
 * dropping its oldest: a race against an access older than that is still
 * reported, with the previous stack marked unavailable. */
#include "detector.h"
#include "slot.h"

#include <string.h>

enum { HIST_STACK = 16, FIRST_PART_EVENTS = 32, PART_EVENTS = 4096, SLOT_BUDGET = 64 << 10 };

struct hist_part {
    struct hist_part *next;      /* older */
    uint64_t start_epoch;
    uint32_t nevents;            /* capacity */
    int depth;                   /* real depth at start (may exceed HIST_STACK) */
    uintptr_t stack[HIST_STACK]; /* innermost frames, outermost first */
    uint64_t ev[];
};

static size_t part_bytes(uint32_t n) { return sizeof(struct hist_part) + n * sizeof(uint64_t); }

void race_history_init(void) {}

static void trim(struct race_slot *rs) {
    size_t budget = (size_t)(race_opts.history_size + 1) * SLOT_BUDGET;
    struct hist_part *p = rs->parts;
    size_t kept = 0;
    while (p && p->next) {
        kept += part_bytes(p->nevents);
        if (kept + part_bytes(p->next->nevents) > budget) {
            struct hist_part *drop = p->next;
            p->next = NULL;
            while (drop) {
                struct hist_part *n = drop->next;
                rs->hist_bytes -= part_bytes(drop->nevents);
                race_internal_free(drop);
                drop = n;
            }
            return;
        }
        p = p->next;
    }
}

/* start: the epoch of the first event the part will hold. */
static void open_part(struct race_g *rg, uint32_t n, uint64_t start) {
    struct hist_part *p = race_internal_alloc(part_bytes(n));
    p->start_epoch = start;
    p->nevents = n;
    p->depth = rg->depth;
    int keep = rg->depth < HIST_STACK ? rg->depth : HIST_STACK;
    memcpy(p->stack, rg->stack + (rg->depth - keep), (size_t)keep * sizeof(uintptr_t));
    struct race_slot *rs = race_slot_get(rg->slot);
    rt_lock_acquire(&rs->lock);
    p->next = rs->parts;
    rs->parts = p;
    rs->hist_bytes += part_bytes(n);
    trim(rs);
    rt_lock_release(&rs->lock);
    rg->hpos = p->ev;
    rg->hend = p->ev + n;
}

/* Called with the epoch already advanced for the event about to be stored. */
void race_history_new_part(struct race_g *rg) { open_part(rg, PART_EVENTS, rg->epoch); }

void race_history_start_goroutine(struct race_g *rg) {
    open_part(rg, FIRST_PART_EVENTS, rg->epoch + 1);
}

int race_history_restore(uint32_t slot, uint64_t epoch, uintptr_t *pcs, int max) {
    struct race_slot *rs = race_slot_get(slot);
    if (!rs || max <= 0) return 0;
    int n = 0;
    rt_lock_acquire(&rs->lock);
    struct hist_part *p = rs->parts;
    uint64_t end = UINT64_MAX;
    while (p && p->start_epoch > epoch) {
        end = p->start_epoch;
        p = p->next;
    }
    if (p && epoch - p->start_epoch < p->nevents && epoch < end) {
        uintptr_t stack[256];
        int keep = p->depth < HIST_STACK ? p->depth : HIST_STACK;
        memcpy(stack, p->stack, (size_t)keep * sizeof(uintptr_t));
        int depth = keep;
        uint64_t last = epoch - p->start_epoch;
        uintptr_t leaf = 0;
        for (uint64_t i = 0; i <= last; i++) {
            uint64_t ev = p->ev[i];
            uintptr_t pc = (uintptr_t)(ev >> 2);
            switch (ev & 3) {
            case EV_ENTRY:
                if (depth < 256) stack[depth++] = pc;
                break;
            case EV_EXIT:
                if (depth > 0) depth--;
                break;
            default:
                if (i == last) leaf = pc;
            }
        }
        if (leaf) pcs[n++] = leaf;
        for (int i = depth - 1; i >= 0 && n < max; i--) pcs[n++] = stack[i];
    }
    rt_lock_release(&rs->lock);
    return n;
}

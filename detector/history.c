/* history.c - per-slot event histories, to rebuild the stack of a past
 * access (the "Previous write at ... by goroutine N:" stack).
 *
 * Every event a slot records (a goroutine's start, its accesses, calls and
 * returns) has the epoch one above the previous one's, so the event of
 * epoch e sits at index e - start of the part that starts at or before e. A part begins with a snapshot of the
 * innermost frames of the shadow call stack; replaying calls and returns
 * from there up to e gives the stack at e. A slot's occupants share its
 * parts: a new occupant's epochs continue right after the previous one's,
 * so its events continue in the same part, after a start event that
 * empties the replayed stack. Starting a goroutine in a reused slot thus
 * allocates nothing. A slot's first part is small (most goroutines do
 * little, and a parked one must stay cheap); each later part doubles, up
 * to a limit, so a slot's memory follows the events it records. Each
 * slot keeps at most (history_size + 1) * 64 KiB of parts, dropping its
 * oldest: a race against an access older than that is still reported,
 * with the previous stack marked unavailable. A start event
 * carries the goroutine's id, which names the goroutine of an event after
 * its slot has forgotten it as an occupant. */
#include "detector.h"
#include "slot.h"

#include <string.h>

enum { HIST_STACK = 16, FIRST_PART_EVENTS = 32, PART_EVENTS = 4096, SLOT_BUDGET = 64 << 10,
       LEAVE_SCAN = 64 };

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

/* Called with the epoch already advanced for the event about to be stored.
 * Each part of a slot is twice the size of the one before, up to
 * PART_EVENTS. */
void race_history_new_part(struct race_g *rg) {
    const struct hist_part *last = race_slot_get(rg->slot)->parts;
    uint32_t n = !last ? FIRST_PART_EVENTS : last->nevents < PART_EVENTS / 2 ? 2 * last->nevents
                                                                             : PART_EVENTS;
    open_part(rg, n, rg->epoch);
}

/* rg->epoch is the slot's next epoch: the start event's. */
void race_history_start_goroutine(struct race_g *rg) {
    struct race_slot *rs = race_slot_get(rg->slot);
    rg->hpos = rs->hpos;
    rg->hend = rs->hend;
    race_history_add(rg, (uintptr_t)rg->goid, EV_START);
}

/* The latest epoch, from rg's own down to a few events back, that may be
 * an access: calls and returns are skipped, and an access could
 * hide beyond the events looked at. */
static uint64_t last_access(const struct race_g *rg, const struct race_slot *rs) {
    uint64_t e = rg->epoch;
    if (rs->hend == rg->hend) {
        /* rg started in its current part, at the cursor its predecessor
         * left: the events since are rg's, by epoch, without touching the
         * part's header. */
        const uint64_t *ev = rg->hpos - 1;
        for (; ev >= rs->hpos && rg->epoch - e < LEAVE_SCAN; ev--, e--) {
            if ((*ev & 3) == EV_START) return rs->access_bound;
            if ((*ev & 3) == EV_ACCESS) break;
        }
        return e;
    }
    const struct hist_part *p = rs->parts;
    for (; rg->epoch - e < LEAVE_SCAN; e--) {
        while (p && e < p->start_epoch) p = p->next;
        if (!p || e - p->start_epoch >= p->nevents) break;
        uint64_t ev = p->ev[e - p->start_epoch];
        if ((ev & 3) == EV_START) return rs->access_bound;
        if ((ev & 3) == EV_ACCESS) break;
    }
    return e;
}

/* Only the slot's occupant changes its parts and cursor. */
uint64_t race_history_leave(struct race_g *rg, struct race_slot *rs) {
    uint64_t bound = last_access(rg, rs);
    rs->hpos = rg->hpos;
    rs->hend = rg->hend;
    return bound;
}

bool race_history_goroutine(uint32_t slot, uint64_t epoch, uint64_t *goid) {
    struct race_slot *rs = race_slot_get(slot);
    if (!rs) return false;
    bool found = false;
    rt_lock_acquire(&rs->lock);
    const struct hist_part *p = rs->parts;
    while (p && p->start_epoch > epoch) p = p->next;
    for (uint64_t e = epoch; p && e - p->start_epoch < p->nevents; e--) {
        uint64_t ev = p->ev[e - p->start_epoch];
        if ((ev & 3) == EV_START) {
            *goid = ev >> 2;
            found = true;
            break;
        }
        if (e == p->start_epoch) p = p->next;   /* parts are contiguous */
    }
    rt_lock_release(&rs->lock);
    return found;
}

int race_history_restore(uint32_t slot, uint64_t epoch, uintptr_t leaf_pc, uintptr_t *pcs, int max) {
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
        uintptr_t leaf = leaf_pc;
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
            case EV_START:
                depth = 0;
                break;
            default:
                if (i == last && !leaf_pc) leaf = pc;
            }
        }
        if (leaf) pcs[n++] = leaf;
        for (int i = depth - 1; i >= 0 && n < max; i--) pcs[n++] = stack[i];
    }
    rt_lock_release(&rs->lock);
    return n;
}

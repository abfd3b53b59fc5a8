/* slot.h - a slot's record, shared by slot.c and history.c. */
#ifndef GOROUTINE_DETECTOR_SLOT_H
#define GOROUTINE_DETECTOR_SLOT_H

#include "detector.h"

#pragma GCC visibility push(hidden)

enum { SLOT_OCCUPANTS = 2 };

struct hist_part;

struct race_slot {
    rt_lock lock;                 /* the part list */
    uint64_t final_epoch;         /* last epoch of the latest occupant */
    uint64_t access_bound;        /* no access of any occupant so far is later */
    _Atomic uint32_t occupants_seq;   /* slot.c: odd while they change */
    int newest;
    struct race_occupant occupants[SLOT_OCCUPANTS];
    struct hist_part *parts;      /* newest first */
    uint64_t *hpos, *hend;        /* where the next occupant's events go */
    size_t hist_bytes;
};

struct race_slot *race_slot_get(uint32_t slot);

/* rg is leaving its slot: park its history cursor in the slot and return
 * the latest epoch at which rg may have recorded an access (the slot's
 * previous bound if rg made none). */
uint64_t race_history_leave(struct race_g *rg, struct race_slot *rs);
/* The id of the goroutine that recorded slot's event at epoch, from its
 * start event; false when the history no longer holds that. */
bool race_history_goroutine(uint32_t slot, uint64_t epoch, uint64_t *goid);

#pragma GCC visibility pop
#endif

/* slot.h - a slot's record, shared by slot.c and history.c. */
#ifndef GOROUTINE_DETECTOR_SLOT_H
#define GOROUTINE_DETECTOR_SLOT_H

#include "detector.h"

#pragma GCC visibility push(hidden)

enum { SLOT_OCCUPANTS = 2 };

struct hist_part;

struct race_slot {
    rt_lock lock;                 /* occupants and the part list */
    uint64_t final_epoch;         /* last epoch of the latest occupant */
    int newest;
    struct race_occupant occupants[SLOT_OCCUPANTS];
    struct hist_part *parts;      /* newest first */
    size_t hist_bytes;
};

struct race_slot *race_slot_get(uint32_t slot);

#pragma GCC visibility pop
#endif

/* chansend.c - a send's read of its channel's closed flag, kept in the
 * channel instead of in shadow memory.
 *
 * DESIGN.md makes a close a write on the channel and a send a read of it,
 * so that a close concurrent with a send is reported. Every send makes
 * that read, and after each hand-off it starts a new segment, so in
 * shadow memory it is a fresh record every time: a cell of its own to
 * load, check and store, and an event in the history. Yet only one write
 * can ever meet it (the close), and the send holds the channel's lock
 * when it reads, as the close does when it writes. So the channel keeps
 * its own read records, FastTrack-style, beside its other state:
 *  - a send replaces its own goroutine's record, else one that is empty
 *    or ordered before it (a close ordered after this send is ordered
 *    after that one too); when both records belong to sends it is not
 *    ordered after, it records in shadow memory as before;
 *  - a record is the sender's slot and current epoch, with no event of
 *    its own unless a release has published that epoch since the
 *    sender's last event; the stack at that event differs from the
 *    send's only in the leaf, which the record keeps;
 *  - the close checks both records against its clock, then the shadow
 *    memory of the flag (the sends that went there, and select's send
 *    cases, which read before taking any lock).
 * A send that finds the channel closed reads the flag in shadow memory,
 * where the close's write is, before it panics. */
#include "detector.h"

void race_chan_sent(struct race_chan_senders *s, const void *closed, uintptr_t pc) {
    struct race_g *rg = race_cur;
    if (!rg || rg->ignore) return;
    if (rg->epoch < rg->segment_start) {
        /* No event since a release published this epoch. */
        rg->epoch++;
        race_history_add(rg, pc, EV_ACCESS);
    }
    uint64_t me = sh_make(1, false, rg->slot, rg->epoch);
    int k = -1;
    for (int i = 0; i < RACE_CHAN_SENDERS && k < 0; i++)
        if (s->who[i] && sh_slot(s->who[i]) == rg->slot) k = i;
    for (int i = 0; i < RACE_CHAN_SENDERS && k < 0; i++)
        if (!s->who[i] || race_happened_before(rg, s->who[i])) k = i;
    if (k < 0) {
        race_access(rg, (uintptr_t)closed, 1, false, false, pc);
        return;
    }
    s->who[k] = me;
    s->pc[k] = pc;
}

void race_chan_closing(struct race_chan_senders *s, const void *closed, uintptr_t pc) {
    struct race_g *rg = race_cur;
    if (rg && !rg->ignore)
        for (int i = 0; i < RACE_CHAN_SENDERS; i++)
            if (s->who[i] && !race_happened_before(rg, s->who[i]))
                race_report_pair(rg, (uintptr_t)closed, 1, true, false, pc, s->who[i], false, s->pc[i]);
    *s = (struct race_chan_senders){{0}, {0}};
    race_write_range_pc(closed, 1, pc);
}

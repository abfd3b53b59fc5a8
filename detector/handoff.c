/* handoff.c - the unbuffered channel hand-off (race.h: race_handoff_g).
 *
 * When a send meets a parked receiver, or a receive a parked sender, on an
 * unbuffered channel, the send happens before the receive completes and
 * the receive before the send completes: each goroutine must see what the
 * other did before the meeting, and nothing else. That is an exchange of
 * clocks between exactly two goroutines, so it goes through no sync
 * object. Go routes it through one per channel (racesync on the buffer's
 * first slot), which keeps a clock for every channel ever used and orders
 * every later pair meeting on that channel after every earlier one; here a
 * program that wakes 100,000 goroutines parked on their own channels keeps
 * no clock per channel, and two pairs meeting on one channel one after the
 * other stay unordered, as the memory model says.
 *
 * The parked goroutine is not running and cannot be woken by anyone else
 * (the caller has dequeued it under the channel lock), so its state is the
 * caller's to update. After the current goroutine has joined the parked
 * one's clock it knows everything the parked one knows, so the parked one
 * takes a shared copy of it: O(1), as it shares the spine. Both steps are
 * race_vc_exchange, which for two goroutines that keep handing off to each
 * other (already sharing a spine) only merges their override arrays.
 * The current goroutine's next change of its own clock then copies that
 * spine's pointers and the chunks it writes (clock.h): a main waking
 * 100,000 goroutines copies some 800 pointers and a chunk or two where a
 * flat array would copy 100,000 entries.
 *
 * After a hand-off each side's clock is within the other's, but for its
 * own entry (race_g.vc_within names the other). A goroutine's clock only
 * grows while it lives, so that stays true until the goroutine itself
 * learns something from elsewhere, which clears its vc_within. A side
 * whose clock is within the other's has nothing to teach it but its own
 * epoch: two goroutines that keep handing off to each other then only
 * raise one entry each, and a select serving several producers (each
 * within its clock since their last meeting) raises one entry and gives
 * the producer a copy. */
#include "detector.h"
#include "../runtime/proc.h"

void race_handoff_g(struct rt_g *gp) {
    struct race_g *cur = race_cur, *parked = gp ? gp->race : NULL;
    if (!cur || !parked) return;
    bool parked_within = parked->vc_within && parked->vc_within == cur->goid;
    bool cur_within = cur->vc_within && cur->vc_within == parked->goid;
    if (parked_within) race_vc_raise(&cur->vc, parked->slot, parked->epoch);
    if (cur_within) race_vc_raise(&parked->vc, cur->slot, cur->epoch);
    if (parked_within && !cur_within)
        race_vc_publish(&parked->vc, &cur->vc, cur->slot, cur->epoch);
    else if (cur_within && !parked_within)
        race_vc_publish(&cur->vc, &parked->vc, parked->slot, parked->epoch);
    else if (!cur_within)
        race_vc_exchange(&cur->vc, cur->slot, cur->epoch, &parked->vc, parked->slot, parked->epoch);
    cur->vc_within = parked->goid;
    parked->vc_within = cur->goid;
    /* Both epochs are now known to the other side: later accesses of
     * either are not covered by the hand-off. */
    race_end_segment(cur);
    race_end_segment(parked);
}

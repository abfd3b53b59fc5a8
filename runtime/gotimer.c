/* gotimer.c - the public go_timer API: one-shot timers and tickers whose
 * channel (capacity 1, as Go's time.Timer before Go 1.23) receives the
 * go_nanotime() of each firing; a value the reader has not taken yet is
 * not overwritten, so a slow reader of a ticker misses ticks instead of
 * queueing them. For the deadlock check, a timer can wake someone only when
 * a goroutine is blocked receiving on its channel. In race builds, making
 * or resetting a timer happens before receiving its ticks (Go's rule). */
#include "proc.h"
#include "chan.h"
#include "../detector/race.h"

#include <stdlib.h>

struct go_timer {
    struct rt_timer t;
    go_chan *c;
};

static void send_time(struct rt_timer *t, int64_t now) {
    struct go_timer *gt = t->arg;
    rt_chan_send_nb(gt->c, &now);
}

static bool receiver_waiting(struct rt_timer *t) {
    struct go_timer *gt = t->arg;
    return rt_chan_has_receivers(gt->c);
}

static go_timer *timer_new(int64_t ns, int64_t period) {
    rt_init();
    struct go_timer *gt = calloc(1, sizeof *gt);
    if (!gt) rt_fatal("out of memory");
    gt->c = go_chan_make(sizeof(int64_t), 1);
    RACE(gt->c->race_timer = gt);
    RACE(race_release(gt));
    gt->t.fire = send_time;
    gt->t.can_wake = receiver_waiting;
    gt->t.arg = gt;
    gt->t.index = -1;
    gt->t.period = period;
    rt_timer_start(&gt->t, rt_nanotime() + (ns > 0 ? ns : 0));
    return gt;
}

go_timer *go_timer_make(int64_t ns) { return timer_new(ns, 0); }

go_timer *go_ticker_make(int64_t period) {
    if (period <= 0) rt_panic("non-positive interval for go_ticker_make");
    return timer_new(period, period);
}

go_chan *go_timer_chan(go_timer *t) { return t->c; }

bool go_timer_stop(go_timer *t) { return rt_timer_stop(&t->t); }

bool go_timer_reset(go_timer *t, int64_t ns) {
    if (t->t.period > 0) {
        if (ns <= 0) rt_panic("non-positive interval for go_timer_reset of a ticker");
        t->t.period = ns;
    }
    RACE(race_release(t));
    return rt_timer_reset(&t->t, rt_nanotime() + (ns > 0 ? ns : 0));
}

void go_timer_free(go_timer *t) {
    if (!t) return;
    rt_timer_stop_sync(&t->t);
    go_chan_free(t->c);
    free(t);
}

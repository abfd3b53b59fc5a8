/* goroutine/timer.h - one-shot timers and tickers. Their channel delivers
 * the int64_t go_nanotime() at which the timer fired. */
#ifndef GOROUTINE_TIMER_H
#define GOROUTINE_TIMER_H

#include <stdbool.h>
#include <stdint.h>
#include "chan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct go_timer go_timer;

go_timer *go_timer_make(int64_t ns);
go_timer *go_ticker_make(int64_t period);
go_chan *go_timer_chan(go_timer *t);
bool go_timer_stop(go_timer *t);
bool go_timer_reset(go_timer *t, int64_t ns);
void go_timer_free(go_timer *t);

#ifdef __cplusplus
}
#endif
#endif

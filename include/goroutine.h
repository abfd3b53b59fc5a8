/* goroutine.h - umbrella header of the goroutine library.
 *
 * Go-style concurrency for C: goroutines on an M:N scheduler, channels,
 * select, timers, sync primitives, context and errgroup, goroutine-aware I/O,
 * and the race detector's interface. Every public name is part of the
 * contract in DESIGN.md; the area headers below hold the declarations. */
#ifndef GOROUTINE_H
#define GOROUTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/socket.h>

#include "goroutine/sched.h"
#include "goroutine/chan.h"
#include "goroutine/timer.h"
#include "goroutine/sync.h"
#include "goroutine/context.h"
#include "goroutine/io.h"
#include "goroutine/race.h"

#endif

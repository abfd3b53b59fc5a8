/* race_stubs.c - the detector interface in a plain build: every call is a
 * no-op, so code written for race builds compiles and links without the
 * detector. The race build (GOROUTINE_RACE_RUNTIME) takes these from
 * detector/ instead. */
#ifndef GOROUTINE_RACE_RUNTIME
#include "rt.h"

void go_race_acquire(const void *addr) { (void)addr; }
void go_race_release(const void *addr) { (void)addr; }
void go_race_read_range(const void *p, size_t n) { (void)p; (void)n; }
void go_race_write_range(const void *p, size_t n) { (void)p; (void)n; }
void go_race_disable(void) {}
void go_race_enable(void) {}
size_t go_race_count(void) { return 0; }
/* Leak finding is part of race builds; a plain build reports nothing. */
int go_leakcheck(void) { return 0; }
#endif

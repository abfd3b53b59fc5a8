/* goroutine/race.h - the detector's interface. Every call is a no-op in a
 * plain build, so code compiles and links both ways. */
#ifndef GOROUTINE_RACE_H
#define GOROUTINE_RACE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void go_race_acquire(const void *addr);
void go_race_release(const void *addr);
void go_race_read_range(const void *p, size_t n);
void go_race_write_range(const void *p, size_t n);
void go_race_disable(void);
void go_race_enable(void);
size_t go_race_count(void);
int go_leakcheck(void);
void go_dump_goroutines(int fd);

#ifdef __cplusplus
}
#endif
#endif

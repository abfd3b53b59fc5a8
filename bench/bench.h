/* bench.h - what every benchmark program shares: options, timing, the
 * calibration loop, RSS reading and the result format.
 *
 * Each benchmark is one program that prints one line per measurement,
 *     NAME VALUE UNIT
 * (e.g. "PingPong/1P 182.4 ns/op"), the same lines its Go twin in bench/go
 * prints, so bench/run.py can pair them by NAME.
 *
 * Calibration follows Go's testing.B: run the body with n = 1, then grow n
 * towards the target duration (at most 100x per step, 20% over the
 * prediction) until one run lasts at least the target, and report that last
 * run. Unlike testing.B the first run is never reported, however long it
 * took: it pays for starting threads and first touches of memory. The Go
 * twin implements the same loop, so both sides are measured with the same
 * number of attempts and comparable run lengths.
 *
 * Options: --quick (short runs and small sizes: a smoke run, numbers
 * meaningless), --time-ms N (target duration of one measured run) and
 * --cpu-time (time the process's CPU time instead of the wall clock: for
 * before/after comparisons of one build against another with GOMAXPROCS=1
 * on a machine other work is loading, where wall time counts the waits for
 * a CPU; its numbers are not comparable with Go's) and --ops N (run
 * exactly N operations once, no calibration: with `perf stat` it gives
 * instructions and cycles per operation, which other work on the machine
 * does not skew). */
#ifndef GOROUTINE_BENCH_H
#define GOROUTINE_BENCH_H

#include <goroutine.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    bool quick;
    int64_t target_ns;
    int64_t ops;   /* --ops: fixed operation count, 0 to calibrate */
} bench_opts;

/* The clock bench_now reads: CLOCK_PROCESS_CPUTIME_ID with --cpu-time. */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static inline void bench_usage(const char *prog) {
    fprintf(stderr, "usage: %s [--quick] [--time-ms N] [--cpu-time] [--ops N]\n", prog);
    exit(2);
}

static inline bench_opts bench_parse(int argc, char **argv) {
    bench_opts o = {.quick = false, .target_ns = 250 * GO_MILLISECOND};
    bool time_given = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o.quick = true;
        } else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc) {
            char *end;
            o.ops = strtoll(argv[++i], &end, 10);
            if (*end != '\0' || o.ops < 1)
                bench_usage(argv[0]);
        } else if (strcmp(argv[i], "--cpu-time") == 0) {
            bench_clock = CLOCK_PROCESS_CPUTIME_ID;
        } else if (strcmp(argv[i], "--time-ms") == 0 && i + 1 < argc) {
            char *end;
            long ms = strtol(argv[++i], &end, 10);
            if (*end != '\0' || ms < 1)
                bench_usage(argv[0]);
            o.target_ns = ms * GO_MILLISECOND;
            time_given = true;
        } else {
            bench_usage(argv[0]);
        }
    }
    if (o.quick && !time_given)
        o.target_ns = 5 * GO_MILLISECOND;
    return o;
}

/* Monotonic wall-clock time (or CPU time, see --cpu-time), independent
 * of the runtime under test. */
static inline int64_t bench_now(void) {
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (int64_t)ts.tv_sec * GO_SECOND + ts.tv_nsec;
}

/* Runs n operations and returns the nanoseconds its timed part took. */
typedef int64_t (*bench_body)(int64_t n, void *arg);

/* Nanoseconds per operation of the first run of body that lasts at least
 * the target duration. */
static inline double bench_calibrate(const bench_opts *o, bench_body body, void *arg) {
    if (o->ops)
        return (double)body(o->ops, arg) / (double)o->ops;
    int64_t n = 1;
    for (bool warm = false;; warm = true) {
        int64_t elapsed = body(n, arg);
        if (warm && (elapsed >= o->target_ns || n >= 1000000000))
            return (double)elapsed / (double)n;
        int64_t next = elapsed > 0 ? (int64_t)((double)n * 1.2 * (double)o->target_ns / (double)elapsed)
                                   : n * 100;
        if (next > n * 100)
            next = n * 100;
        if (next <= n)
            next = n + 1;
        n = next;
    }
}

static inline void bench_report(const char *name, double value, const char *unit) {
    printf("%s %.6g %s\n", name, value, unit);
    fflush(stdout);
}

/* A benchmark whose result is wrong stops the run: a fast wrong answer is
 * not a measurement. */
static inline void bench_check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "benchmark check failed: %s\n", what);
        exit(1);
    }
}

/* Resident set size in bytes (second field of /proc/self/statm). */
static inline int64_t bench_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    bench_check(f != NULL, "open /proc/self/statm");
    bench_check(fscanf(f, "%ld %ld", &size, &resident) == 2, "parse /proc/self/statm");
    fclose(f);
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

/* Page-table bytes (VmPTE in /proc/self/status): memory the process costs
 * the kernel that the resident set does not count. */
static inline int64_t bench_pagetable_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    bench_check(f != NULL, "open /proc/self/status");
    while (kb < 0 && fgets(line, sizeof line, f))
        if (strncmp(line, "VmPTE:", 6) == 0)
            kb = atol(line + 6);
    fclose(f);
    bench_check(kb >= 0, "find VmPTE in /proc/self/status");
    return (int64_t)kb * 1024;
}

#endif

/* intercept.h - how the race library's definitions of C library functions
 * (libc.c, wchar.c, scanf.c, pthread.c) reach the C library's own
 * implementations, and the shapes of checks those files share.
 *
 * The race library is a static archive, so a function it defines lands in
 * the executable and takes precedence over the C library's. Each file
 * lists the functions it defines in an X-macro and expands
 * RACE_REAL_TABLE with it: REAL(name) is then glibc's `name`, found
 * through dlsym(RTLD_NEXT), which skips the executable. glibc exports no
 * internal aliases of most string functions, and dlsym resolves the
 * CPU-specific (IFUNC) variant and a symbol's default version (the one a
 * program linked today gets: pthread_cond_wait's GLIBC_2.3.2). A
 * constructor resolves the whole table, so that fatal paths (which
 * write(2) with locks held) never run the dynamic linker, and a call made
 * before it resolves its function lazily. The resolution calls none of
 * the intercepted functions through the executable (glibc calls its own
 * internally).
 *
 * The checks of a call's accesses (libc.c, wchar.c, scanf.c) apply only
 * to calls made directly by instrumented code: CHECKED() below tells
 * (libc.c's opening comment explains how). */
#pragma once

#include "detector.h"

#include <stdatomic.h>
#include <stddef.h>

/* Weak: a program that defines a function of the same name (its own
 * send or puts) keeps it, as it would without the race build, instead of
 * failing to link; only that function goes unchecked. */
#define INTERCEPTOR __attribute__((weak))

/* glibc's `name`, stored in *cache; exits with a clear message when the C
 * library has no such function (a static executable). */
void *race_real_resolve(_Atomic(void *) *cache, const char *name);

static inline void *race_real(_Atomic(void *) *cache, const char *name) {
    void *p = atomic_load_explicit(cache, memory_order_acquire);
    return __builtin_expect(p != NULL, 1) ? p : race_real_resolve(cache, name);
}

#define RACE_REAL_ENUMERATE(name) REAL_##name,
#define RACE_REAL_NAME(name) #name,
#define RACE_REAL_TABLE(LIST)                                                     \
    enum { LIST(RACE_REAL_ENUMERATE) REAL_COUNT };                                \
    static const char *const real_names[REAL_COUNT] = {LIST(RACE_REAL_NAME)};     \
    static _Atomic(void *) real_fns[REAL_COUNT];                                  \
    __attribute__((constructor(101))) static void resolve_real_fns(void) {       \
        for (int fn = 0; fn < REAL_COUNT; fn++) race_real(&real_fns[fn], real_names[fn]); \
    }

#define REAL(name) ((__typeof__(&name))race_real(&real_fns[REAL_##name], #name))

/* The goroutine to check the call for, NULL when the interceptor's caller
 * (whose frame is saved at frame[0]) is not instrumented code of the
 * running goroutine, or it runs with checks disabled. */
__attribute__((always_inline)) static inline struct race_g *checked_goroutine(void *frame) {
    struct race_g *rg = race_cur;
    if (!rg || rg->ignore || rg->depth == 0 || !rg->g) return NULL;
    uintptr_t own = (uintptr_t)frame;
    uintptr_t lo = (uintptr_t)rg->g->stack_lo, hi = (uintptr_t)rg->g->stack_hi;
    if (own < lo || own >= hi) return NULL;
    uintptr_t caller = *(const uintptr_t *)frame;
    if (caller <= own || caller % sizeof(uintptr_t) || caller > hi - 2 * sizeof(uintptr_t))
        return NULL;
    uintptr_t callers_return = ((const uintptr_t *)caller)[1];
    return callers_return == rg->stack[rg->depth - 1] ? rg : NULL;
}

#define CHECKED() checked_goroutine(__builtin_frame_address(0))
/* The interceptor's caller: frame #0 of what it records. */
#define CALLER ((uintptr_t)__builtin_return_address(0))

static inline void check_read(const void *p, size_t n, uintptr_t pc) {
    if (n) race_read_range_pc(p, n, pc);
}

static inline void check_write(const void *p, size_t n, uintptr_t pc) {
    if (n) race_write_range_pc(p, n, pc);
}

/* Elements a bounded scan reads (strnlen, wcsnlen, strncpy's source...)
 * when it found len before the terminator, max at most: the terminator
 * too, unless it stopped at max. */
static inline size_t scan_length(size_t len, size_t max) { return len < max ? len + 1 : len; }

/* A parse reads the text it converted and the character that stopped it
 * (a terminator, or whatever followed the number): s up to end, counted
 * in s's characters, narrow or wide. */
#define CHECK_PARSED(s, end, pc) \
    check_read((s), ((size_t)((end) > (s) ? (end) - (s) : 0) + 1) * sizeof *(s), (pc))

/* strtol and its kin, narrow or wide: params must name the text s and the
 * end pointer endp; args pass &end, the call's own end pointer, so that
 * the parse is known even when the caller passes no endp. */
#define PARSE_INTERCEPTOR(type, name, params, args)                                 \
    INTERCEPTOR type name params {                                                  \
        __typeof__(**endp) *end;                                                    \
        type v = REAL(name) args;                                                   \
        if (CHECKED()) {                                                            \
            CHECK_PARSED(s, end, CALLER);                                           \
            if (endp) check_write(endp, sizeof *endp, CALLER);                      \
        }                                                                           \
        if (endp) *endp = end;                                                      \
        return v;                                                                   \
    }

/* symbolize.h - code addresses to function, file:line:col and module,
 * and the traceback helpers that build on it.
 *
 * Internal to the library (traceback.c and the detector's reports). Every
 * pc handed in is a return address, the convention of rt_callers and
 * rt_g_callers: the call instruction is the byte before it, so lookups use
 * pc - 1 (rt_callers adds 1 to the one pc that is not a return address, the
 * interrupted instruction of a signal context, to keep this uniform). */
#ifndef GOROUTINE_SYMBOLIZE_H
#define GOROUTINE_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma GCC visibility push(hidden)

/* One source-level frame. A pc inside inlined code yields several, the
 * innermost inlined function first and the real function last. The strings
 * point into the symbolizer's tables and stay valid for the process's life. */
struct rt_frame {
    uintptr_t addr;      /* looked-up address: pc - 1 */
    const char *func;    /* NULL when no symbol covers addr */
    const char *file;    /* NULL without line information */
    int line;
    int col;             /* 0 when the compiler recorded none */
    const char *module;  /* file name of the ELF object (no directory), or NULL */
    uintptr_t module_off;/* addr as an address of that ELF file (for addr2line) */
    bool runtime_module; /* the module is the shared libgoroutine itself */
};

enum { RT_MAX_INLINE = 8 };

/* Fill out[0..) with the frames for pc, innermost first; returns how many
 * (at least 1 when max >= 1: an unknown address still gets addr). Takes a
 * lock and loads debug information on first use, so it belongs in report
 * paths only. Re-entry from the same thread (a fault inside the
 * symbolizer that is itself being reported) returns bare addresses. */
int rt_symbolize(uintptr_t pc, struct rt_frame *out, int max);
/* Whether a frame is the runtime's or the detector's own (by its source
 * path), and whether it is a public go_* function: tracebacks show a
 * runtime frame only if it is one (traceback.c). */
bool rt_frame_internal(const struct rt_frame *f);
bool rt_frame_api(const struct rt_frame *f);

/* The global variable (ELF symbol) covering a data address, for the race
 * detector's "Location is global 'x' of size N" line; false if none. */
struct rt_data_symbol {
    const char *name;
    uintptr_t start;
    size_t size;
    const char *module;
    uintptr_t module_off;  /* addr as an address of that ELF file */
};
bool rt_symbolize_data(uintptr_t addr, struct rt_data_symbol *out);

/* traceback.c: print the calling thread's stack with every frame shown,
 * runtime ones included, dropping `skip` frames above the caller. For
 * reports made outside any goroutine (scheduler context). */
void rt_print_thread_stack(int fd, int skip);

#pragma GCC visibility pop
#endif

/* scanf.c - checks of the scanf family's accesses, made on behalf of the
 * uninstrumented C library (as libc.c does for the rest of it).
 *
 * A scanf call writes through the pointers it is given, one per
 * assigning conversion, and sscanf reads its input string. The call is
 * made first; its result says how many conversions assigned, and a walk
 * of the format over a copy of the arguments then records a write of
 * that many targets, each with its conversion's size: the integer or
 * floating type its length modifier names, %c's width, a string up to the
 * terminator scanf stored, %m's pointer. A %n directive stores the count
 * of characters consumed so far, sized by its length modifier; it is
 * recorded when the call certainly reached it: before the last
 * conversion that assigned, or right after it (or at the format's start)
 * with nothing between that can fail to match. sscanf's input is read up
 * to its terminator (how far the parse got is not known). Positional
 * arguments ("%1$d") or an unknown conversion stop the walk, leaving the
 * rest unchecked; wide characters (%lc, %ls, %l[) are not checked.
 *
 * glibc's headers turn scanf, fscanf and sscanf into __isoc99_scanf and
 * its kin in C99 and later modes (what clang compiles by default, and
 * this file too); a pre-C99 compile calls the plain names, glibc's GNU
 * variants, defined here by their symbol names. */
#include "intercept.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int __isoc99_vsscanf(const char *s, const char *fmt, va_list ap);
int __isoc99_vscanf(const char *fmt, va_list ap);
int __isoc99_vfscanf(FILE *f, const char *fmt, va_list ap);
int __isoc99_sscanf(const char *s, const char *fmt, ...);
int __isoc99_scanf(const char *fmt, ...);
int __isoc99_fscanf(FILE *f, const char *fmt, ...);

int gnu_vsscanf(const char *s, const char *fmt, va_list ap) __asm__("vsscanf");
int gnu_vscanf(const char *fmt, va_list ap) __asm__("vscanf");
int gnu_vfscanf(FILE *f, const char *fmt, va_list ap) __asm__("vfscanf");
int gnu_sscanf(const char *s, const char *fmt, ...) __asm__("sscanf");
int gnu_scanf(const char *fmt, ...) __asm__("scanf");
int gnu_fscanf(FILE *f, const char *fmt, ...) __asm__("fscanf");

/* REAL(vsscanf) is dlsym's "vsscanf": the GNU variant, as wanted. */
#define INTERCEPTED(X) \
    X(vsscanf) X(vscanf) X(vfscanf) X(__isoc99_vsscanf) X(__isoc99_vscanf) X(__isoc99_vfscanf)

RACE_REAL_TABLE(INTERCEPTED)

/* The bytes a numeric conversion stores, by its length modifier
 * (hh, h, none, l, ll and the rest) and whether it is floating. */
static size_t numeric_size(int shorts, int longs, bool wide, bool floating) {
    if (floating) return wide ? sizeof(long double) : longs ? sizeof(double) : sizeof(float);
    if (wide || longs > 1) return sizeof(long long);
    if (longs) return sizeof(long);
    return shorts == 2 ? sizeof(char) : shorts == 1 ? sizeof(short) : sizeof(int);
}

/* Whether the format text from p to end is white space only. */
static bool blank(const char *p, const char *end) {
    for (; p < end; p++)
        if (!isspace((unsigned char)*p)) return false;
    return true;
}

/* Records the writes of the first `assigned` assigning conversions of fmt,
 * whose targets are ap's arguments, and of the %n directives the call
 * certainly reached: those before the last conversion that assigned, and
 * those that follow it (or start the format) with nothing between that
 * can fail. White space between can fail only on a read error, so it
 * counts when the input is a string (from_string). */
static void check_scanned(const char *fmt, va_list ap, int assigned, bool from_string,
                          uintptr_t pc) {
    va_list args;
    va_copy(args, ap);
    for (const char *p = fmt, *directive; (directive = strchr(p, '%')) != NULL;) {
        /* Past the last assignment, only %n that nothing could stop. */
        bool settled = assigned > 0;
        if (!settled && p != directive && !(from_string && blank(p, directive))) break;
        p = directive + 1;
        if (*p == '%') {
            if (!settled) break;
            p++;
            continue;
        }
        bool suppressed = *p == '*';
        if (suppressed) p++;
        size_t width = 0;
        for (; *p >= '0' && *p <= '9'; p++) width = width * 10 + (size_t)(*p - '0');
        if (*p == '$') break;          /* positional: argument order unknown */
        bool allocates = *p == 'm';
        if (allocates) p++;
        int shorts = 0, longs = 0;
        bool wide = false;
        for (;; p++) {
            if (*p == 'h') shorts++;
            else if (*p == 'l') longs++;
            else if (*p == 'L' || *p == 'q' || *p == 'j' || *p == 'z' || *p == 't') wide = true;
            else break;
        }
        char conversion = *p++;
        if (conversion == '[') {       /* the set ends at the first ']' after "[" or "[^" */
            if (*p == '^') p++;
            if (*p == ']') p++;
            while (*p && *p != ']') p++;
            if (*p) p++;
        }
        if (conversion == 'n') {       /* the count so far, sized as an integer conversion's */
            if (!suppressed)
                check_write(va_arg(args, void *), numeric_size(shorts, longs, wide, false), pc);
            continue;
        }
        if (!settled || !strchr("diouxXaAeEfFgGsc[pC", conversion) || conversion == '\0') break;
        if (suppressed) continue;
        void *target = va_arg(args, void *);
        assigned--;
        bool text = conversion == 's' || conversion == 'c' || conversion == '[';
        if (allocates || conversion == 'p') {
            check_write(target, sizeof(void *), pc);
        } else if (text && !longs && conversion != 'C') {
            size_t n = conversion == 'c' ? (width ? width : 1) : strlen(target) + 1;
            check_write(target, n, pc);
        } else if (!text && conversion != 'C') {
            check_write(target, numeric_size(shorts, longs, wide, strchr("aAeEfFgG", conversion)), pc);
        }
    }
    va_end(args);
}

/* A scanf call `call`, which consumes ap: its targets are written as far
 * as it assigned, found on a copy of ap made before the call, and
 * sscanf's input (in, or NULL) is read. Evaluates to the call's result. */
#define SCANNED(in, fmt, ap, call)                                        \
    ({                                                                    \
        bool checked_ = CHECKED() != NULL;                               \
        va_list targets_;                                                 \
        va_copy(targets_, ap);                                            \
        int n_ = (call);                                                  \
        const char *input_ = (in);                                        \
        if (checked_ && input_) check_read(input_, strlen(input_) + 1, CALLER); \
        if (checked_ && n_ >= 0) check_scanned(fmt, targets_, n_, input_ != NULL, CALLER); \
        va_end(targets_);                                                 \
        n_;                                                               \
    })

/* The variadic forms, through the va_list ones. */
#define SCAN_VARIADIC(in, fmt, call)                                      \
    ({                                                                    \
        va_list ap;                                                       \
        va_start(ap, fmt);                                                \
        int n = SCANNED(in, fmt, ap, call);                               \
        va_end(ap);                                                       \
        n;                                                                \
    })

INTERCEPTOR int gnu_vsscanf(const char *s, const char *fmt, va_list ap) {
    return SCANNED(s, fmt, ap, REAL(vsscanf)(s, fmt, ap));
}

INTERCEPTOR int __isoc99_vsscanf(const char *s, const char *fmt, va_list ap) {
    return SCANNED(s, fmt, ap, REAL(__isoc99_vsscanf)(s, fmt, ap));
}

INTERCEPTOR int gnu_vscanf(const char *fmt, va_list ap) {
    return SCANNED(NULL, fmt, ap, REAL(vscanf)(fmt, ap));
}

INTERCEPTOR int __isoc99_vscanf(const char *fmt, va_list ap) {
    return SCANNED(NULL, fmt, ap, REAL(__isoc99_vscanf)(fmt, ap));
}

INTERCEPTOR int gnu_vfscanf(FILE *f, const char *fmt, va_list ap) {
    return SCANNED(NULL, fmt, ap, REAL(vfscanf)(f, fmt, ap));
}

INTERCEPTOR int __isoc99_vfscanf(FILE *f, const char *fmt, va_list ap) {
    return SCANNED(NULL, fmt, ap, REAL(__isoc99_vfscanf)(f, fmt, ap));
}

INTERCEPTOR int gnu_sscanf(const char *s, const char *fmt, ...) {
    return SCAN_VARIADIC(s, fmt, REAL(vsscanf)(s, fmt, ap));
}

INTERCEPTOR int __isoc99_sscanf(const char *s, const char *fmt, ...) {
    return SCAN_VARIADIC(s, fmt, REAL(__isoc99_vsscanf)(s, fmt, ap));
}

INTERCEPTOR int gnu_scanf(const char *fmt, ...) {
    return SCAN_VARIADIC(NULL, fmt, REAL(vscanf)(fmt, ap));
}

INTERCEPTOR int __isoc99_scanf(const char *fmt, ...) {
    return SCAN_VARIADIC(NULL, fmt, REAL(__isoc99_vscanf)(fmt, ap));
}

INTERCEPTOR int gnu_fscanf(FILE *f, const char *fmt, ...) {
    return SCAN_VARIADIC(NULL, fmt, REAL(vfscanf)(f, fmt, ap));
}

INTERCEPTOR int __isoc99_fscanf(FILE *f, const char *fmt, ...) {
    return SCAN_VARIADIC(NULL, fmt, REAL(__isoc99_vfscanf)(f, fmt, ap));
}

/* wchar.c - checks of the C library's wide-character string, memory,
 * number-parsing and formatting calls, made on behalf of the
 * uninstrumented C library as libc.c does for their byte versions (its
 * opening comment explains how, and why only calls made directly by
 * instrumented code are checked).
 *
 * Each call is checked over the ranges its byte twin is, counted in
 * wchar_t: a wide string up to and including its terminator, a
 * comparison up to the first difference (wmemcmp, like memcmp, all n),
 * a search up to its match, a copy's n elements with wcsncpy's padding,
 * a number as far as it was parsed with the character that stopped it.
 * swprintf and vswprintf write their output and its terminator when it
 * fits; when it does not they return -1 having promised nothing, and no
 * write is recorded. Their arguments (%s, %ls) are not checked.
 *
 * A program compiled with _FORTIFY_SOURCE calls glibc's checked variants
 * (__wmemcpy_chk for wmemcpy into an array of known size...), which take
 * the destination's size in elements after the plain function's
 * parameters: each is checked as its plain function is, then called, so
 * the overflow check stays. */
#undef _FORTIFY_SOURCE
#include "intercept.h"

#include <stdarg.h>
#include <stdint.h>
#include <wchar.h>

/* glibc's _FORTIFY_SOURCE variants, declared by its headers only in
 * fortified compiles. */
wchar_t *__wmemcpy_chk(wchar_t *dst, const wchar_t *src, size_t n, size_t dst_len);
wchar_t *__wmemmove_chk(wchar_t *dst, const wchar_t *src, size_t n, size_t dst_len);
wchar_t *__wmempcpy_chk(wchar_t *dst, const wchar_t *src, size_t n, size_t dst_len);
wchar_t *__wmemset_chk(wchar_t *dst, wchar_t c, size_t n, size_t dst_len);
wchar_t *__wcscpy_chk(wchar_t *dst, const wchar_t *src, size_t dst_len);
wchar_t *__wcpcpy_chk(wchar_t *dst, const wchar_t *src, size_t dst_len);
wchar_t *__wcsncpy_chk(wchar_t *dst, const wchar_t *src, size_t n, size_t dst_len);
wchar_t *__wcpncpy_chk(wchar_t *dst, const wchar_t *src, size_t n, size_t dst_len);
wchar_t *__wcscat_chk(wchar_t *dst, const wchar_t *src, size_t dst_len);
wchar_t *__wcsncat_chk(wchar_t *dst, const wchar_t *src, size_t n, size_t dst_len);
int __swprintf_chk(wchar_t *buf, size_t n, int flag, size_t buf_len, const wchar_t *fmt, ...);
int __vswprintf_chk(wchar_t *buf, size_t n, int flag, size_t buf_len, const wchar_t *fmt,
                    va_list ap);

/* Every intercepted function, for its glibc pointer. */
#define INTERCEPTED(X)                                                             \
    X(wcslen) X(wcsnlen) X(wcscpy) X(wcpcpy) X(wcsncpy) X(wcpncpy) X(wcscat)       \
    X(wcsncat) X(wcscmp) X(wcsncmp) X(wcschr) X(wcsrchr) X(wcsstr) X(wmemcpy)      \
    X(wmemmove) X(wmempcpy) X(wmemset) X(wmemcmp) X(wmemchr) X(wcstol)             \
    X(wcstoul) X(wcstoll) X(wcstoull) X(wcstod) X(wcstof) X(wcstold) X(vswprintf)  \
    X(__wmemcpy_chk) X(__wmemmove_chk) X(__wmempcpy_chk) X(__wmemset_chk)          \
    X(__wcscpy_chk) X(__wcpcpy_chk) X(__wcsncpy_chk) X(__wcpncpy_chk)              \
    X(__wcscat_chk) X(__wcsncat_chk) X(__vswprintf_chk)

RACE_REAL_TABLE(INTERCEPTED)

static void check_wide_read(const wchar_t *s, size_t count, uintptr_t pc) {
    check_read(s, count * sizeof *s, pc);
}

static void check_wide_write(wchar_t *s, size_t count, uintptr_t pc) {
    check_write(s, count * sizeof *s, pc);
}

#define UNPARENTHESISED(...) __VA_ARGS__

/* name, whose accesses `check` records (an expression of its parameters
 * and CALLER) before the call. */
#define CHECKED_BEFORE(type, name, params, args, check)                        \
    INTERCEPTOR type name params {                                             \
        if (CHECKED()) check;                                                  \
        return REAL(name) args;                                                \
    }

/* name and its fortified twin __name_chk, which takes the destination's
 * length after name's parameters, both checked by `check`. */
#define CHECKED_BEFORE_WITH_CHK(type, name, params, args, check)               \
    CHECKED_BEFORE(type, name, params, args, check)                            \
    INTERCEPTOR type __##name##_chk(UNPARENTHESISED params, size_t dst_len) {  \
        if (CHECKED()) check;                                                  \
        return REAL(__##name##_chk)(UNPARENTHESISED args, dst_len);            \
    }

/* ---- strings ---- */

INTERCEPTOR size_t wcslen(const wchar_t *s) {
    size_t n = REAL(wcslen)(s);
    if (CHECKED()) check_wide_read(s, n + 1, CALLER);
    return n;
}

INTERCEPTOR size_t wcsnlen(const wchar_t *s, size_t max) {
    size_t n = REAL(wcsnlen)(s, max);
    if (CHECKED()) check_wide_read(s, scan_length(n, max), CALLER);
    return n;
}

/* wcscpy and wcpcpy: src with its terminator, copied to dst. */
static void check_wide_copy(wchar_t *dst, const wchar_t *src, uintptr_t pc) {
    size_t n = REAL(wcslen)(src) + 1;
    check_wide_read(src, n, pc);
    check_wide_write(dst, n, pc);
}

CHECKED_BEFORE_WITH_CHK(wchar_t *, wcscpy, (wchar_t *dst, const wchar_t *src), (dst, src),
                        check_wide_copy(dst, src, CALLER))
CHECKED_BEFORE_WITH_CHK(wchar_t *, wcpcpy, (wchar_t *dst, const wchar_t *src), (dst, src),
                        check_wide_copy(dst, src, CALLER))

/* wcsncpy and wcpncpy: at most n elements of src, and n of dst (the rest
 * is padded with zeros). */
static void check_wide_padded_copy(wchar_t *dst, const wchar_t *src, size_t n, uintptr_t pc) {
    check_wide_read(src, scan_length(REAL(wcsnlen)(src, n), n), pc);
    check_wide_write(dst, n, pc);
}

CHECKED_BEFORE_WITH_CHK(wchar_t *, wcsncpy, (wchar_t *dst, const wchar_t *src, size_t n),
                        (dst, src, n), check_wide_padded_copy(dst, src, n, CALLER))
CHECKED_BEFORE_WITH_CHK(wchar_t *, wcpncpy, (wchar_t *dst, const wchar_t *src, size_t n),
                        (dst, src, n), check_wide_padded_copy(dst, src, n, CALLER))

/* wcscat (max SIZE_MAX) and wcsncat: dst up to its terminator is read,
 * and at most max elements of src are appended, with a terminator. */
static void check_wide_concat(wchar_t *dst, const wchar_t *src, size_t max, uintptr_t pc) {
    size_t kept = REAL(wcslen)(dst), appended = REAL(wcsnlen)(src, max);
    check_wide_read(src, scan_length(appended, max), pc);
    check_wide_read(dst, kept, pc);
    check_wide_write(dst + kept, appended + 1, pc);
}

CHECKED_BEFORE_WITH_CHK(wchar_t *, wcscat, (wchar_t *dst, const wchar_t *src), (dst, src),
                        check_wide_concat(dst, src, SIZE_MAX, CALLER))
CHECKED_BEFORE_WITH_CHK(wchar_t *, wcsncat, (wchar_t *dst, const wchar_t *src, size_t n),
                        (dst, src, n), check_wide_concat(dst, src, n, CALLER))

/* wcscmp (max SIZE_MAX) and wcsncmp read both strings up to the first
 * difference or terminator, max elements at most. */
static void check_wide_compare(const wchar_t *a, const wchar_t *b, size_t max, uintptr_t pc) {
    size_t i = 0;
    while (i < max && a[i] == b[i] && a[i]) i++;
    size_t read = i < max ? i + 1 : max;
    check_wide_read(a, read, pc);
    check_wide_read(b, read, pc);
}

CHECKED_BEFORE(int, wcscmp, (const wchar_t *a, const wchar_t *b), (a, b),
               check_wide_compare(a, b, SIZE_MAX, CALLER))
CHECKED_BEFORE(int, wcsncmp, (const wchar_t *a, const wchar_t *b, size_t n), (a, b, n),
               check_wide_compare(a, b, n, CALLER))

INTERCEPTOR wchar_t *wcschr(const wchar_t *s, wchar_t c) {
    wchar_t *found = REAL(wcschr)(s, c);
    if (CHECKED())
        check_wide_read(s, found ? (size_t)(found - s) + 1 : REAL(wcslen)(s) + 1, CALLER);
    return found;
}

CHECKED_BEFORE(wchar_t *, wcsrchr, (const wchar_t *s, wchar_t c), (s, c),
               check_wide_read(s, REAL(wcslen)(s) + 1, CALLER))

INTERCEPTOR wchar_t *wcsstr(const wchar_t *haystack, const wchar_t *needle) {
    wchar_t *found = REAL(wcsstr)(haystack, needle);
    if (CHECKED()) {
        size_t needle_len = REAL(wcslen)(needle);
        check_wide_read(needle, needle_len + 1, CALLER);
        check_wide_read(haystack,
                        found ? (size_t)(found - haystack) + needle_len : REAL(wcslen)(haystack) + 1,
                        CALLER);
    }
    return found;
}

/* ---- memory ---- */

static void check_wide_block_copy(wchar_t *dst, const wchar_t *src, size_t n, uintptr_t pc) {
    check_wide_read(src, n, pc);
    check_wide_write(dst, n, pc);
}

CHECKED_BEFORE_WITH_CHK(wchar_t *, wmemcpy, (wchar_t *dst, const wchar_t *src, size_t n),
                        (dst, src, n), check_wide_block_copy(dst, src, n, CALLER))
CHECKED_BEFORE_WITH_CHK(wchar_t *, wmemmove, (wchar_t *dst, const wchar_t *src, size_t n),
                        (dst, src, n), check_wide_block_copy(dst, src, n, CALLER))
CHECKED_BEFORE_WITH_CHK(wchar_t *, wmempcpy, (wchar_t *dst, const wchar_t *src, size_t n),
                        (dst, src, n), check_wide_block_copy(dst, src, n, CALLER))
CHECKED_BEFORE_WITH_CHK(wchar_t *, wmemset, (wchar_t *dst, wchar_t c, size_t n), (dst, c, n),
                        check_wide_write(dst, n, CALLER))

CHECKED_BEFORE(int, wmemcmp, (const wchar_t *a, const wchar_t *b, size_t n), (a, b, n),
               (check_wide_read(a, n, CALLER), check_wide_read(b, n, CALLER)))

INTERCEPTOR wchar_t *wmemchr(const wchar_t *s, wchar_t c, size_t n) {
    wchar_t *found = REAL(wmemchr)(s, c, n);
    if (CHECKED()) check_wide_read(s, found ? (size_t)(found - s) + 1 : n, CALLER);
    return found;
}

/* ---- number parsing ---- */

PARSE_INTERCEPTOR(long, wcstol, (const wchar_t *s, wchar_t **endp, int base), (s, &end, base))
PARSE_INTERCEPTOR(unsigned long, wcstoul, (const wchar_t *s, wchar_t **endp, int base),
                  (s, &end, base))
PARSE_INTERCEPTOR(long long, wcstoll, (const wchar_t *s, wchar_t **endp, int base), (s, &end, base))
PARSE_INTERCEPTOR(unsigned long long, wcstoull, (const wchar_t *s, wchar_t **endp, int base),
                  (s, &end, base))
PARSE_INTERCEPTOR(double, wcstod, (const wchar_t *s, wchar_t **endp), (s, &end))
PARSE_INTERCEPTOR(float, wcstof, (const wchar_t *s, wchar_t **endp), (s, &end))
PARSE_INTERCEPTOR(long double, wcstold, (const wchar_t *s, wchar_t **endp), (s, &end))

/* ---- formatting ---- */

/* A swprintf call `call` into buf: what it wrote, when it fit. Evaluates
 * to the call's result. */
#define WIDE_FORMATTED_INTO(buf, call)                                             \
    ({                                                                             \
        bool checked_ = CHECKED() != NULL;                                        \
        int len_ = (call);                                                         \
        if (checked_ && len_ >= 0) check_wide_write(buf, (size_t)len_ + 1, CALLER); \
        len_;                                                                      \
    })

INTERCEPTOR int vswprintf(wchar_t *buf, size_t n, const wchar_t *fmt, va_list ap) {
    return WIDE_FORMATTED_INTO(buf, REAL(vswprintf)(buf, n, fmt, ap));
}

INTERCEPTOR int __vswprintf_chk(wchar_t *buf, size_t n, int flag, size_t buf_len,
                                const wchar_t *fmt, va_list ap) {
    return WIDE_FORMATTED_INTO(buf, REAL(__vswprintf_chk)(buf, n, flag, buf_len, fmt, ap));
}

INTERCEPTOR int swprintf(wchar_t *buf, size_t n, const wchar_t *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = WIDE_FORMATTED_INTO(buf, REAL(vswprintf)(buf, n, fmt, ap));
    va_end(ap);
    return len;
}

INTERCEPTOR int __swprintf_chk(wchar_t *buf, size_t n, int flag, size_t buf_len,
                               const wchar_t *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = WIDE_FORMATTED_INTO(buf, REAL(__vswprintf_chk)(buf, n, flag, buf_len, fmt, ap));
    va_end(ap);
    return len;
}

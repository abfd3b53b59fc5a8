/* libc.c - checks of the C library's string, memory, formatting and I/O
 * calls, made on behalf of the uninstrumented C library.
 *
 * The pass sees only the loads and stores of instrumented code, so
 * strcpy(shared, s) in two goroutines, or strlen of a buffer another
 * goroutine writes, would go unnoticed. Like ThreadSanitizer's
 * interceptors, the race library (a static archive, so these definitions
 * land in the executable and take precedence over the C library's) defines
 * the functions below: each records the ranges the call reads and writes
 * as accesses of the calling goroutine, with the call's return address as
 * frame #0 (the user's line, as for the runtime's own accesses such as a
 * channel send's element read), then performs the call through glibc's
 * implementation.
 *
 * Only calls made directly by instrumented code are checked. The runtime
 * and the detector call these functions too (element copies, report
 * formatting, write(2) of reports), and so do libraries the executable
 * exports them to (libdw, libunwind); their buffers are ordered by
 * synchronisation the detector does not see, and checking from inside the
 * detector could recurse into a report. Every instrumented function pushes
 * its return address on the goroutine's shadow stack at entry; the
 * interceptor reads its caller's return address through the caller's frame
 * pointer (race builds keep frame pointers) and checks only when the two
 * match. The frame pointer is followed only when it lies inside the
 * goroutine's stack above the interceptor's own frame, so a caller
 * without frame pointers, a scheduler stack, a thread that runs no
 * goroutine, or a call before the detector starts (race_cur NULL) costs a
 * few compares and is passed straight through. go_race_disable applies.
 *
 * glibc's implementations are reached as intercept.h explains. A program
 * compiled with _FORTIFY_SOURCE calls glibc's checked variants instead
 * (__memcpy_chk for memcpy into an object of known size): each is checked
 * as its plain function is and then called, so the overflow check stays.
 *
 * Ranges follow what the function accesses: a string up to and including
 * its terminator, a comparison up to the first difference, a search up to
 * the match, an I/O buffer as far as the call filled it (fread's partial
 * last element as far as the stream's position shows), a number as far
 * as it was parsed (with the character that stopped the parse), strxfrm's
 * output only when it fits. The wide-character functions are wchar.c's,
 * the scanf family scanf.c's. The printf family
 * writes its output buffer (sprintf, snprintf, vsprintf, vsnprintf) and
 * reads its %s arguments (those and printf, fprintf, vprintf, vfprintf),
 * found by a small format parser: positional arguments or an unknown
 * conversion stop it, leaving the rest unchecked; wide strings and %n's
 * targets are not checked. */
#undef _FORTIFY_SOURCE
#include "detector.h"
#include "intercept.h"
#include "race_abi.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

/* <stdio.h> defines these as macros too, when optimising: the functions
 * are what a program that calls them (or takes their address) reaches. */
#undef fread_unlocked
#undef fwrite_unlocked
#undef fgets_unlocked
#undef fputs_unlocked

/* glibc's _FORTIFY_SOURCE variants, which its headers declare only in
 * fortified compiles: each checks its destination's size (the object
 * size the compiler knew) and otherwise behaves as the plain function. */
void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_size);
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dst_size);
void *__mempcpy_chk(void *dst, const void *src, size_t n, size_t dst_size);
void *__memset_chk(void *dst, int c, size_t n, size_t dst_size);
char *__strcpy_chk(char *dst, const char *src, size_t dst_size);
char *__stpcpy_chk(char *dst, const char *src, size_t dst_size);
char *__strncpy_chk(char *dst, const char *src, size_t n, size_t dst_size);
char *__stpncpy_chk(char *dst, const char *src, size_t n, size_t dst_size);
char *__strcat_chk(char *dst, const char *src, size_t dst_size);
char *__strncat_chk(char *dst, const char *src, size_t n, size_t dst_size);
int __sprintf_chk(char *buf, int flag, size_t buf_size, const char *fmt, ...);
int __snprintf_chk(char *buf, size_t size, int flag, size_t buf_size, const char *fmt, ...);
int __vsprintf_chk(char *buf, int flag, size_t buf_size, const char *fmt, va_list ap);
int __vsnprintf_chk(char *buf, size_t size, int flag, size_t buf_size, const char *fmt, va_list ap);
int __printf_chk(int flag, const char *fmt, ...);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __vprintf_chk(int flag, const char *fmt, va_list ap);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buf_size);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t offset, size_t buf_size);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buf_size, int flags);
size_t __fread_chk(void *buf, size_t buf_size, size_t size, size_t n, FILE *f);
char *__fgets_chk(char *buf, size_t buf_size, int n, FILE *f);

/* Every intercepted function, for its glibc pointer. */
#define INTERCEPTED(X)                                                             \
    X(strlen) X(strnlen) X(strcpy) X(stpcpy) X(strncpy) X(strcat) X(strncat)       \
    X(strcmp) X(strncmp) X(memcmp) X(bcmp) X(memchr) X(strchr) X(strrchr)          \
    X(strstr) X(strdup) X(strndup) X(memcpy) X(memmove) X(memset) X(bzero)         \
    X(vsnprintf) X(vsprintf) X(vprintf) X(vfprintf) X(qsort) X(qsort_r) X(bsearch) \
    X(read) X(write) X(pread) X(pwrite) X(recv) X(send) X(fread) X(fwrite)         \
    X(fgets) X(fputs) X(puts) X(getdelim) X(strtol) X(strtoul) X(strtoll)          \
    X(strtoull) X(strtod) X(strtof) X(strtold) X(strtok_r) X(readv) X(writev)      \
    X(mempcpy) X(stpncpy) X(__memcpy_chk) X(__memmove_chk) X(__mempcpy_chk)        \
    X(__memset_chk) X(__strcpy_chk) X(__stpcpy_chk) X(__strncpy_chk)               \
    X(__stpncpy_chk) X(__strcat_chk) X(__strncat_chk) X(__vsprintf_chk)            \
    X(__vsnprintf_chk) X(__vprintf_chk) X(__vfprintf_chk) X(__read_chk)            \
    X(__pread_chk) X(__recv_chk) X(__fread_chk) X(__fgets_chk) X(strcasecmp)       \
    X(strncasecmp) X(strchrnul) X(rawmemchr) X(strspn) X(strcspn) X(strpbrk)       \
    X(strsep) X(memrchr) X(memccpy) X(pread64) X(__pread64_chk) X(pwrite64)        \
    X(fread_unlocked) X(fgets_unlocked) X(fwrite_unlocked) X(fputs_unlocked)       \
    X(strtoimax) X(strtoumax) X(vasprintf) X(strftime) X(localtime_r) X(gmtime_r)  \
    X(strxfrm)

RACE_REAL_TABLE(INTERCEPTED)

/* Bytes a scan of s reads when it stops at its terminator or after max
 * bytes. */
static size_t scanned(const char *s, size_t max) {
    return scan_length(REAL(strnlen)(s, max), max);
}

/* ---- strings ---- */

INTERCEPTOR size_t strlen(const char *s) {
    size_t n = REAL(strlen)(s);
    if (CHECKED()) check_read(s, n + 1, CALLER);
    return n;
}

INTERCEPTOR size_t strnlen(const char *s, size_t max) {
    size_t n = REAL(strnlen)(s, max);
    if (CHECKED()) check_read(s, scan_length(n, max), CALLER);
    return n;
}

/* The accesses of copying the string src, terminator included, to dst. */
static void check_string_copy(char *dst, const char *src, uintptr_t pc) {
    size_t n = REAL(strlen)(src) + 1;
    check_read(src, n, pc);
    check_write(dst, n, pc);
}

INTERCEPTOR char *strcpy(char *dst, const char *src) {
    if (CHECKED()) check_string_copy(dst, src, CALLER);
    return REAL(strcpy)(dst, src);
}

INTERCEPTOR char *__strcpy_chk(char *dst, const char *src, size_t dst_size) {
    if (CHECKED()) check_string_copy(dst, src, CALLER);
    return REAL(__strcpy_chk)(dst, src, dst_size);
}

INTERCEPTOR char *stpcpy(char *dst, const char *src) {
    if (CHECKED()) check_string_copy(dst, src, CALLER);
    return REAL(stpcpy)(dst, src);
}

INTERCEPTOR char *__stpcpy_chk(char *dst, const char *src, size_t dst_size) {
    if (CHECKED()) check_string_copy(dst, src, CALLER);
    return REAL(__stpcpy_chk)(dst, src, dst_size);
}

/* strncpy and stpncpy: at most n bytes of src, and n bytes of dst (the
 * rest is padded with zeros). */
static void check_padded_copy(char *dst, const char *src, size_t n, uintptr_t pc) {
    check_read(src, scanned(src, n), pc);
    check_write(dst, n, pc);
}

INTERCEPTOR char *strncpy(char *dst, const char *src, size_t n) {
    if (CHECKED()) check_padded_copy(dst, src, n, CALLER);
    return REAL(strncpy)(dst, src, n);
}

INTERCEPTOR char *__strncpy_chk(char *dst, const char *src, size_t n, size_t dst_size) {
    if (CHECKED()) check_padded_copy(dst, src, n, CALLER);
    return REAL(__strncpy_chk)(dst, src, n, dst_size);
}

INTERCEPTOR char *stpncpy(char *dst, const char *src, size_t n) {
    if (CHECKED()) check_padded_copy(dst, src, n, CALLER);
    return REAL(stpncpy)(dst, src, n);
}

INTERCEPTOR char *__stpncpy_chk(char *dst, const char *src, size_t n, size_t dst_size) {
    if (CHECKED()) check_padded_copy(dst, src, n, CALLER);
    return REAL(__stpncpy_chk)(dst, src, n, dst_size);
}

/* strcat (max SIZE_MAX) and strncat: dst up to its terminator is read,
 * and at most max bytes of src are appended, with a terminator. */
static void check_concat(char *dst, const char *src, size_t max, uintptr_t pc) {
    size_t kept = REAL(strlen)(dst), appended = REAL(strnlen)(src, max);
    check_read(src, scan_length(appended, max), pc);
    check_read(dst, kept, pc);
    check_write(dst + kept, appended + 1, pc);
}

INTERCEPTOR char *strcat(char *dst, const char *src) {
    if (CHECKED()) check_concat(dst, src, SIZE_MAX, CALLER);
    return REAL(strcat)(dst, src);
}

INTERCEPTOR char *__strcat_chk(char *dst, const char *src, size_t dst_size) {
    if (CHECKED()) check_concat(dst, src, SIZE_MAX, CALLER);
    return REAL(__strcat_chk)(dst, src, dst_size);
}

INTERCEPTOR char *strncat(char *dst, const char *src, size_t n) {
    if (CHECKED()) check_concat(dst, src, n, CALLER);
    return REAL(strncat)(dst, src, n);
}

INTERCEPTOR char *__strncat_chk(char *dst, const char *src, size_t n, size_t dst_size) {
    if (CHECKED()) check_concat(dst, src, n, CALLER);
    return REAL(__strncat_chk)(dst, src, n, dst_size);
}

/* Compares up to max bytes as strncmp does (strncasecmp when fold_case),
 * recording the bytes read: both strings up to the first difference or
 * terminator. */
static int compare_checked(const char *a, const char *b, size_t max, bool fold_case, uintptr_t pc) {
    size_t i = 0;
    int diff = 0;
    for (; i < max; i++) {
        int ca = (unsigned char)a[i], cb = (unsigned char)b[i];
        diff = fold_case ? tolower(ca) - tolower(cb) : ca - cb;
        if (diff || !ca) break;
    }
    size_t read = i < max ? i + 1 : max;
    check_read(a, read, pc);
    check_read(b, read, pc);
    return i < max ? diff : 0;
}

INTERCEPTOR int strcmp(const char *a, const char *b) {
    if (CHECKED()) return compare_checked(a, b, SIZE_MAX, false, CALLER);
    return REAL(strcmp)(a, b);
}

INTERCEPTOR int strncmp(const char *a, const char *b, size_t n) {
    if (CHECKED()) return compare_checked(a, b, n, false, CALLER);
    return REAL(strncmp)(a, b, n);
}

INTERCEPTOR int strcasecmp(const char *a, const char *b) {
    if (CHECKED()) return compare_checked(a, b, SIZE_MAX, true, CALLER);
    return REAL(strcasecmp)(a, b);
}

INTERCEPTOR int strncasecmp(const char *a, const char *b, size_t n) {
    if (CHECKED()) return compare_checked(a, b, n, true, CALLER);
    return REAL(strncasecmp)(a, b, n);
}

INTERCEPTOR char *strchr(const char *s, int c) {
    char *found = REAL(strchr)(s, c);
    if (CHECKED()) check_read(s, found ? (size_t)(found - s) + 1 : REAL(strlen)(s) + 1, CALLER);
    return found;
}

INTERCEPTOR char *strchrnul(const char *s, int c) {
    char *found = REAL(strchrnul)(s, c);
    if (CHECKED()) check_read(s, (size_t)(found - s) + 1, CALLER);
    return found;
}

INTERCEPTOR void *rawmemchr(const void *s, int c) {
    void *found = REAL(rawmemchr)(s, c);
    if (CHECKED()) check_read(s, (size_t)((char *)found - (char *)s) + 1, CALLER);
    return found;
}

INTERCEPTOR char *strrchr(const char *s, int c) {
    if (CHECKED()) check_read(s, REAL(strlen)(s) + 1, CALLER);
    return REAL(strrchr)(s, c);
}

INTERCEPTOR char *strstr(const char *haystack, const char *needle) {
    char *found = REAL(strstr)(haystack, needle);
    if (CHECKED()) {
        size_t needle_len = REAL(strlen)(needle);
        check_read(needle, needle_len + 1, CALLER);
        check_read(haystack,
                   found ? (size_t)(found - haystack) + needle_len : REAL(strlen)(haystack) + 1,
                   CALLER);
    }
    return found;
}

/* strspn, strcspn, strpbrk and strsep read their whole set, and s up to
 * the byte that stopped them (its terminator at the latest). */
static void check_span(const char *s, size_t stop, const char *set, uintptr_t pc) {
    check_read(set, REAL(strlen)(set) + 1, pc);
    check_read(s, stop + 1, pc);
}

INTERCEPTOR size_t strspn(const char *s, const char *accept) {
    size_t n = REAL(strspn)(s, accept);
    if (CHECKED()) check_span(s, n, accept, CALLER);
    return n;
}

INTERCEPTOR size_t strcspn(const char *s, const char *reject) {
    size_t n = REAL(strcspn)(s, reject);
    if (CHECKED()) check_span(s, n, reject, CALLER);
    return n;
}

INTERCEPTOR char *strpbrk(const char *s, const char *accept) {
    char *found = REAL(strpbrk)(s, accept);
    if (CHECKED()) check_span(s, found ? (size_t)(found - s) : REAL(strlen)(s), accept, CALLER);
    return found;
}

/* strsep also ends the token it returns (writing the delimiter it found)
 * and moves *stringp past it. */
INTERCEPTOR char *strsep(char **stringp, const char *delim) {
    if (CHECKED()) {
        check_read(stringp, sizeof *stringp, CALLER);
        char *token = *stringp;
        if (token) {
            size_t len = REAL(strcspn)(token, delim);
            check_span(token, len, delim, CALLER);
            if (token[len]) check_write(token + len, 1, CALLER);
            check_write(stringp, sizeof *stringp, CALLER);
        }
    }
    return REAL(strsep)(stringp, delim);
}

/* malloc(size) as called from a frame of the calling interceptor, itself
 * called at pc, so that a block's "allocated by" stack shows the
 * interceptor as #0 and the user's call as #1. */
#define MALLOC_CALLED_AT(pc, size)                \
    ({                                            \
        __gorace_func_entry((void *)(pc));        \
        void *block_ = malloc(size);              \
        __gorace_func_exit();                     \
        block_;                                   \
    })

/* Terminated copy of the first len bytes of s into copy, if not NULL. */
static char *copy_string(char *copy, const char *s, size_t len) {
    if (copy) {
        REAL(memcpy)(copy, s, len);
        copy[len] = 0;
    }
    return copy;
}

INTERCEPTOR char *strdup(const char *s) {
    if (!CHECKED()) return REAL(strdup)(s);
    size_t len = REAL(strlen)(s);
    check_read(s, len + 1, CALLER);
    return copy_string(MALLOC_CALLED_AT(CALLER, len + 1), s, len);
}

INTERCEPTOR char *strndup(const char *s, size_t n) {
    if (!CHECKED()) return REAL(strndup)(s, n);
    size_t len = REAL(strnlen)(s, n);
    check_read(s, scanned(s, n), CALLER);
    return copy_string(MALLOC_CALLED_AT(CALLER, len + 1), s, len);
}

/* strxfrm reads all of src. When the transformed string fits in n bytes
 * it writes it with its terminator; when it does not, glibc has written
 * a prefix whose length depends on the locale's weights (possibly none),
 * so no write is recorded. */
INTERCEPTOR size_t strxfrm(char *dst, const char *src, size_t n) {
    size_t len = REAL(strxfrm)(dst, src, n);
    if (CHECKED()) {
        check_read(src, REAL(strlen)(src) + 1, CALLER);
        if (len < n) check_write(dst, len + 1, CALLER);
    }
    return len;
}

/* ---- memory ---- */

INTERCEPTOR int memcmp(const void *a, const void *b, size_t n) {
    if (CHECKED()) {
        check_read(a, n, CALLER);
        check_read(b, n, CALLER);
    }
    return REAL(memcmp)(a, b, n);
}

INTERCEPTOR int bcmp(const void *a, const void *b, size_t n) {
    if (CHECKED()) {
        check_read(a, n, CALLER);
        check_read(b, n, CALLER);
    }
    return REAL(bcmp)(a, b, n);
}

INTERCEPTOR void *memrchr(const void *s, int c, size_t n) {
    void *found = REAL(memrchr)(s, c, n);
    if (CHECKED()) {
        size_t from = found ? (size_t)((char *)found - (char *)s) : 0;
        check_read((const char *)s + from, n - from, CALLER);
    }
    return found;
}

INTERCEPTOR void *memchr(const void *s, int c, size_t n) {
    void *found = REAL(memchr)(s, c, n);
    if (CHECKED()) check_read(s, found ? (size_t)((char *)found - (char *)s) + 1 : n, CALLER);
    return found;
}

static void check_copy(void *dst, const void *src, size_t n, uintptr_t pc) {
    check_read(src, n, pc);
    check_write(dst, n, pc);
}

INTERCEPTOR void *memcpy(void *dst, const void *src, size_t n) {
    if (CHECKED()) check_copy(dst, src, n, CALLER);
    return REAL(memcpy)(dst, src, n);
}

INTERCEPTOR void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dst_size) {
    if (CHECKED()) check_copy(dst, src, n, CALLER);
    return REAL(__memcpy_chk)(dst, src, n, dst_size);
}

INTERCEPTOR void *memmove(void *dst, const void *src, size_t n) {
    if (CHECKED()) check_copy(dst, src, n, CALLER);
    return REAL(memmove)(dst, src, n);
}

INTERCEPTOR void *__memmove_chk(void *dst, const void *src, size_t n, size_t dst_size) {
    if (CHECKED()) check_copy(dst, src, n, CALLER);
    return REAL(__memmove_chk)(dst, src, n, dst_size);
}

INTERCEPTOR void *mempcpy(void *dst, const void *src, size_t n) {
    if (CHECKED()) check_copy(dst, src, n, CALLER);
    return REAL(mempcpy)(dst, src, n);
}

INTERCEPTOR void *__mempcpy_chk(void *dst, const void *src, size_t n, size_t dst_size) {
    if (CHECKED()) check_copy(dst, src, n, CALLER);
    return REAL(__mempcpy_chk)(dst, src, n, dst_size);
}

/* memccpy copies up to and including the first c, at most n bytes. */
INTERCEPTOR void *memccpy(void *dst, const void *src, int c, size_t n) {
    void *end = REAL(memccpy)(dst, src, c, n);
    if (CHECKED()) check_copy(dst, src, end ? (size_t)((char *)end - (char *)dst) : n, CALLER);
    return end;
}

INTERCEPTOR void *memset(void *dst, int c, size_t n) {
    if (CHECKED()) check_write(dst, n, CALLER);
    return REAL(memset)(dst, c, n);
}

INTERCEPTOR void *__memset_chk(void *dst, int c, size_t n, size_t dst_size) {
    if (CHECKED()) check_write(dst, n, CALLER);
    return REAL(__memset_chk)(dst, c, n, dst_size);
}

INTERCEPTOR void bzero(void *dst, size_t n) {
    if (CHECKED()) check_write(dst, n, CALLER);
    REAL(bzero)(dst, n);
}

/* The comparator's frames go on top of the sort's or search's caller, as
 * if the C library were instrumented: without that frame its stacks would
 * skip the caller. A sort writes the whole array (it moves elements); a
 * search's reads are its comparator's, checked there. */
#define WITH_CALLERS_FRAME(checked, call)                   \
    do {                                                    \
        bool pushed_ = (checked);                           \
        if (pushed_) __gorace_func_entry((void *)CALLER);   \
        call;                                               \
        if (pushed_) __gorace_func_exit();                  \
    } while (0)

INTERCEPTOR void qsort(void *base, size_t n, size_t size, int (*compare)(const void *, const void *)) {
    bool checked = CHECKED() != NULL;
    if (n > 1 && checked) check_write(base, n * size, CALLER);
    WITH_CALLERS_FRAME(checked, REAL(qsort)(base, n, size, compare));
}

INTERCEPTOR void qsort_r(void *base, size_t n, size_t size,
                         int (*compare)(const void *, const void *, void *), void *arg) {
    bool checked = CHECKED() != NULL;
    if (n > 1 && checked) check_write(base, n * size, CALLER);
    WITH_CALLERS_FRAME(checked, REAL(qsort_r)(base, n, size, compare, arg));
}

INTERCEPTOR void *bsearch(const void *key, const void *base, size_t n, size_t size,
                          int (*compare)(const void *, const void *)) {
    void *found;
    WITH_CALLERS_FRAME(CHECKED() != NULL, found = REAL(bsearch)(key, base, n, size, compare));
    return found;
}

/* ---- number parsing and tokens ---- */

PARSE_INTERCEPTOR(long, strtol, (const char *s, char **endp, int base), (s, &end, base))
PARSE_INTERCEPTOR(unsigned long, strtoul, (const char *s, char **endp, int base), (s, &end, base))
PARSE_INTERCEPTOR(long long, strtoll, (const char *s, char **endp, int base), (s, &end, base))
PARSE_INTERCEPTOR(unsigned long long, strtoull, (const char *s, char **endp, int base),
                  (s, &end, base))
PARSE_INTERCEPTOR(double, strtod, (const char *s, char **endp), (s, &end))
PARSE_INTERCEPTOR(float, strtof, (const char *s, char **endp), (s, &end))
PARSE_INTERCEPTOR(long double, strtold, (const char *s, char **endp), (s, &end))
PARSE_INTERCEPTOR(intmax_t, strtoimax, (const char *s, char **endp, int base), (s, &end, base))
PARSE_INTERCEPTOR(uintmax_t, strtoumax, (const char *s, char **endp, int base), (s, &end, base))

/* glibc's atoi and friends are strtol and strtod without an end pointer. */
INTERCEPTOR int atoi(const char *s) {
    char *end;
    long v = REAL(strtol)(s, &end, 10);
    if (CHECKED()) CHECK_PARSED(s, end, CALLER);
    return (int)v;
}

INTERCEPTOR long atol(const char *s) {
    char *end;
    long v = REAL(strtol)(s, &end, 10);
    if (CHECKED()) CHECK_PARSED(s, end, CALLER);
    return v;
}

INTERCEPTOR long long atoll(const char *s) {
    char *end;
    long long v = REAL(strtoll)(s, &end, 10);
    if (CHECKED()) CHECK_PARSED(s, end, CALLER);
    return v;
}

INTERCEPTOR double atof(const char *s) {
    char *end;
    double v = REAL(strtod)(s, &end);
    if (CHECKED()) CHECK_PARSED(s, end, CALLER);
    return v;
}

/* strtok_r reads the delimiters, reads the string from where it starts
 * (str, or *save) to where it leaves *save, and ends a token by writing
 * a terminator over the delimiter just before that point. */
static char *checked_strtok(char *str, const char *delim, char **save, uintptr_t pc) {
    check_read(delim, REAL(strlen)(delim) + 1, pc);
    check_write(save, sizeof *save, pc);
    char *from = str ? str : *save;
    char *token = REAL(strtok_r)(str, delim, save);
    if (!from) return token;
    char *stop = *save;
    if (token && stop == token + REAL(strlen)(token) + 1) {
        check_read(from, (size_t)(stop - 1 - from), pc);
        check_write(stop - 1, 1, pc);
    } else {
        check_read(from, (size_t)(stop - from) + 1, pc);
    }
    return token;
}

INTERCEPTOR char *strtok_r(char *str, const char *delim, char **save) {
    if (!CHECKED()) return REAL(strtok_r)(str, delim, save);
    return checked_strtok(str, delim, save, CALLER);
}

/* strtok is strtok_r on a hidden process-wide position, as in glibc; here
 * that position is this variable, so two goroutines tokenising at once
 * are reported as the race on it they are. */
static char *strtok_position;

INTERCEPTOR char *strtok(char *str, const char *delim) {
    if (!CHECKED()) return REAL(strtok_r)(str, delim, &strtok_position);
    return checked_strtok(str, delim, &strtok_position, CALLER);
}

/* ---- printf family ---- */

/* Records the reads of the %s arguments of a
 * format with arguments ap. */
static void check_format_args(const char *fmt, va_list ap, uintptr_t pc) {
    va_list args;
    va_copy(args, ap);
    for (const char *p = fmt; (p = REAL(strchr)(p, '%')) != NULL;) {
        p++;
        if (*p == '%') {
            p++;
            continue;
        }
        while (*p && REAL(strchr)("-+ #0'I", *p)) p++;
        if (*p == '*') {
            (void)va_arg(args, int);
            p++;
        }
        while (*p >= '0' && *p <= '9') p++;
        if (*p == '$') break;          /* positional: argument order unknown */
        long precision = -1;
        if (*p == '.') {
            p++;
            if (*p == '*') {
                precision = va_arg(args, int);
                p++;
            } else {
                for (precision = 0; *p >= '0' && *p <= '9'; p++) precision = precision * 10 + (*p - '0');
            }
        }
        int longs = 0;   /* l or ll; every other size is promoted to int */
        bool wide = false;
        for (;; p++) {
            if (*p == 'l') longs++;
            else if (*p == 'L' || *p == 'q' || *p == 'j' || *p == 'z' || *p == 'Z' || *p == 't') wide = true;
            else if (*p != 'h') break;
        }
        switch (*p++) {
        case 'c': case 'C':
            (void)va_arg(args, int);
            break;
        case 'd': case 'i': case 'o': case 'u': case 'x': case 'X':
            if (wide || longs) (void)va_arg(args, long long);
            else (void)va_arg(args, int);
            break;
        case 'a': case 'A': case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
            if (wide) (void)va_arg(args, long double);
            else (void)va_arg(args, double);
            break;
        case 's': {
            const char *s = va_arg(args, const char *);
            if (s && !longs)
                check_read(s, precision >= 0 ? scanned(s, (size_t)precision) : REAL(strlen)(s) + 1, pc);
            break;
        }
        case 'p': case 'S': case 'n':
            (void)va_arg(args, void *);
            break;
        case 'm':
            break;
        default:
            va_end(args);
            return;   /* unknown conversion: later arguments unknown */
        }
    }
    va_end(args);
}

/* The bytes vsnprintf wrote for a result of len into a buffer of size. */
static size_t formatted(int len, size_t size) {
    if (len < 0 || size == 0) return 0;
    return (size_t)len < size ? (size_t)len + 1 : size;
}

/* A printf call that formats into buf (size bytes at most, SIZE_MAX when
 * unbounded) by `call` on ap: its %s arguments are read, then what it
 * wrote is. Evaluates to the call's result. */
#define FORMATTED_INTO(buf, size, fmt, ap, call)                         \
    ({                                                                   \
        bool checked_ = CHECKED() != NULL;                              \
        if (checked_) check_format_args(fmt, ap, CALLER);               \
        int len_ = (call);                                               \
        if (checked_) check_write(buf, formatted(len_, size), CALLER);  \
        len_;                                                            \
    })

/* A printf call that writes to a stream: its %s arguments are read. */
#define FORMATTED_OUT(fmt, ap, call)                                     \
    ({                                                                   \
        if (CHECKED()) check_format_args(fmt, ap, CALLER);              \
        (call);                                                          \
    })

INTERCEPTOR int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    return FORMATTED_INTO(buf, size, fmt, ap, REAL(vsnprintf)(buf, size, fmt, ap));
}

INTERCEPTOR int __vsnprintf_chk(char *buf, size_t size, int flag, size_t buf_size,
                                const char *fmt, va_list ap) {
    return FORMATTED_INTO(buf, size, fmt, ap, REAL(__vsnprintf_chk)(buf, size, flag, buf_size, fmt, ap));
}

INTERCEPTOR int vsprintf(char *buf, const char *fmt, va_list ap) {
    return FORMATTED_INTO(buf, SIZE_MAX, fmt, ap, REAL(vsprintf)(buf, fmt, ap));
}

INTERCEPTOR int __vsprintf_chk(char *buf, int flag, size_t buf_size, const char *fmt, va_list ap) {
    return FORMATTED_INTO(buf, SIZE_MAX, fmt, ap, REAL(__vsprintf_chk)(buf, flag, buf_size, fmt, ap));
}

INTERCEPTOR int snprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = FORMATTED_INTO(buf, size, fmt, ap, REAL(vsnprintf)(buf, size, fmt, ap));
    va_end(ap);
    return len;
}

INTERCEPTOR int __snprintf_chk(char *buf, size_t size, int flag, size_t buf_size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = FORMATTED_INTO(buf, size, fmt, ap,
                             REAL(__vsnprintf_chk)(buf, size, flag, buf_size, fmt, ap));
    va_end(ap);
    return len;
}

INTERCEPTOR int sprintf(char *buf, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = FORMATTED_INTO(buf, SIZE_MAX, fmt, ap, REAL(vsprintf)(buf, fmt, ap));
    va_end(ap);
    return len;
}

INTERCEPTOR int __sprintf_chk(char *buf, int flag, size_t buf_size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = FORMATTED_INTO(buf, SIZE_MAX, fmt, ap, REAL(__vsprintf_chk)(buf, flag, buf_size, fmt, ap));
    va_end(ap);
    return len;
}

/* asprintf allocates its buffer (as from the user's call, through
 * malloc's interception) and writes the caller's pointer. */
INTERCEPTOR int vasprintf(char **out, const char *fmt, va_list ap) {
    bool checked = CHECKED() != NULL;
    if (checked) check_write(out, sizeof *out, CALLER);
    return FORMATTED_OUT(fmt, ap, REAL(vasprintf)(out, fmt, ap));
}

INTERCEPTOR int asprintf(char **out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (CHECKED()) check_write(out, sizeof *out, CALLER);
    int len = FORMATTED_OUT(fmt, ap, REAL(vasprintf)(out, fmt, ap));
    va_end(ap);
    return len;
}

INTERCEPTOR int vprintf(const char *fmt, va_list ap) {
    return FORMATTED_OUT(fmt, ap, REAL(vprintf)(fmt, ap));
}

INTERCEPTOR int __vprintf_chk(int flag, const char *fmt, va_list ap) {
    return FORMATTED_OUT(fmt, ap, REAL(__vprintf_chk)(flag, fmt, ap));
}

INTERCEPTOR int vfprintf(FILE *f, const char *fmt, va_list ap) {
    return FORMATTED_OUT(fmt, ap, REAL(vfprintf)(f, fmt, ap));
}

INTERCEPTOR int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap) {
    return FORMATTED_OUT(fmt, ap, REAL(__vfprintf_chk)(f, flag, fmt, ap));
}

INTERCEPTOR int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = FORMATTED_OUT(fmt, ap, REAL(vprintf)(fmt, ap));
    va_end(ap);
    return len;
}

INTERCEPTOR int __printf_chk(int flag, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = FORMATTED_OUT(fmt, ap, REAL(__vprintf_chk)(flag, fmt, ap));
    va_end(ap);
    return len;
}

INTERCEPTOR int fprintf(FILE *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = FORMATTED_OUT(fmt, ap, REAL(vfprintf)(f, fmt, ap));
    va_end(ap);
    return len;
}

INTERCEPTOR int __fprintf_chk(FILE *f, int flag, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = FORMATTED_OUT(fmt, ap, REAL(__vfprintf_chk)(f, flag, fmt, ap));
    va_end(ap);
    return len;
}

/* ---- time ---- */

/* strftime reads the broken-down time and its format, and writes what it
 * formatted (nothing it promises when the result does not fit). */
INTERCEPTOR size_t strftime(char *out, size_t max, const char *fmt, const struct tm *tm) {
    size_t n = REAL(strftime)(out, max, fmt, tm);
    if (CHECKED()) {
        check_read(fmt, REAL(strlen)(fmt) + 1, CALLER);
        check_read(tm, sizeof *tm, CALLER);
        if (n) check_write(out, n + 1, CALLER);
    }
    return n;
}

/* localtime_r and gmtime_r read the time and write the struct tm. */
#define BREAKDOWN_INTERCEPTOR(name)                                           \
    INTERCEPTOR struct tm *name(const time_t *t, struct tm *out) {            \
        if (CHECKED()) {                                                      \
            check_read(t, sizeof *t, CALLER);                                 \
            check_write(out, sizeof *out, CALLER);                            \
        }                                                                     \
        return REAL(name)(t, out);                                            \
    }

BREAKDOWN_INTERCEPTOR(localtime_r)
BREAKDOWN_INTERCEPTOR(gmtime_r)

/* ---- I/O ---- */

/* A read into buf, which the call fills as far as it returns. */
#define READ_INTERCEPTOR(name, params, args)                                     \
    INTERCEPTOR ssize_t name params {                                            \
        ssize_t got = REAL(name) args;                                           \
        if (got > 0 && CHECKED()) check_write(buf, (size_t)got, CALLER);        \
        return got;                                                              \
    }

READ_INTERCEPTOR(read, (int fd, void *buf, size_t n), (fd, buf, n))
READ_INTERCEPTOR(__read_chk, (int fd, void *buf, size_t n, size_t buf_size), (fd, buf, n, buf_size))
READ_INTERCEPTOR(pread, (int fd, void *buf, size_t n, off_t offset), (fd, buf, n, offset))
READ_INTERCEPTOR(__pread_chk, (int fd, void *buf, size_t n, off_t offset, size_t buf_size),
                 (fd, buf, n, offset, buf_size))
/* What <unistd.h> calls under _FILE_OFFSET_BITS=64. */
READ_INTERCEPTOR(pread64, (int fd, void *buf, size_t n, off64_t offset), (fd, buf, n, offset))
READ_INTERCEPTOR(__pread64_chk, (int fd, void *buf, size_t n, off64_t offset, size_t buf_size),
                 (fd, buf, n, offset, buf_size))

/* MSG_TRUNC makes recv return a datagram's full length, past n. */
static size_t received(ssize_t got, size_t n) { return (size_t)got < n ? (size_t)got : n; }

INTERCEPTOR ssize_t recv(int fd, void *buf, size_t n, int flags) {
    ssize_t got = REAL(recv)(fd, buf, n, flags);
    if (got > 0 && CHECKED()) check_write(buf, received(got, n), CALLER);
    return got;
}

INTERCEPTOR ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buf_size, int flags) {
    ssize_t got = REAL(__recv_chk)(fd, buf, n, buf_size, flags);
    if (got > 0 && CHECKED()) check_write(buf, received(got, n), CALLER);
    return got;
}

INTERCEPTOR ssize_t write(int fd, const void *buf, size_t n) {
    if (CHECKED()) check_read(buf, n, CALLER);
    return REAL(write)(fd, buf, n);
}

INTERCEPTOR ssize_t pwrite(int fd, const void *buf, size_t n, off_t offset) {
    if (CHECKED()) check_read(buf, n, CALLER);
    return REAL(pwrite)(fd, buf, n, offset);
}

INTERCEPTOR ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t offset) {
    if (CHECKED()) check_read(buf, n, CALLER);
    return REAL(pwrite64)(fd, buf, n, offset);
}

/* An I/O vector: the array itself is read, and its buffers, in order, as
 * far as n bytes (what a read filled, or all of a write's). */
static void check_iov(const struct iovec *iov, int count, size_t n, bool filled, uintptr_t pc) {
    if (count <= 0) return;
    check_read(iov, (size_t)count * sizeof *iov, pc);
    for (int i = 0; i < count && n; i++) {
        size_t part = iov[i].iov_len < n ? iov[i].iov_len : n;
        if (filled) check_write(iov[i].iov_base, part, pc);
        else check_read(iov[i].iov_base, part, pc);
        n -= part;
    }
}

INTERCEPTOR ssize_t readv(int fd, const struct iovec *iov, int count) {
    ssize_t got = REAL(readv)(fd, iov, count);
    if (CHECKED()) check_iov(iov, count, got > 0 ? (size_t)got : 0, true, CALLER);
    return got;
}

INTERCEPTOR ssize_t writev(int fd, const struct iovec *iov, int count) {
    if (CHECKED()) check_iov(iov, count, SIZE_MAX, false, CALLER);
    return REAL(writev)(fd, iov, count);
}

INTERCEPTOR ssize_t send(int fd, const void *buf, size_t n, int flags) {
    if (CHECKED()) check_read(buf, n, CALLER);
    return REAL(send)(fd, buf, n, flags);
}

/* The stream's position, or -1 (errno kept) when it has none (a pipe). */
static off_t stream_position(FILE *f) {
    int saved = errno;
    off_t at = ftello(f);
    errno = saved;
    return at;
}

/* The bytes an fread of n elements of size wrote when it returned got,
 * its stream having moved from start to end (-1 when unknown): its
 * elements, and the part of a last element a short read copied before
 * it stopped (glibc returns bytes / size). Only a move that fits the
 * result counts: a stream whose positions do not (a fopencookie seek
 * that ignores SEEK_CUR) gets whole elements. */
static size_t fread_bytes(size_t got, size_t size, size_t n, off_t start, off_t end) {
    size_t whole = got * size;
    if (got == n || start < 0 || end <= start) return whole;
    size_t moved = (size_t)(end - start);
    return moved > whole && moved - whole < size ? moved : whole;
}

/* Whether an fread of n elements of size from f may come up short:
 * glibc's stream buffer (its FILE fields are public) does not hold them. */
static bool may_read_short(const FILE *f, size_t size, size_t n) {
    return !f->_IO_read_ptr || (size_t)(f->_IO_read_end - f->_IO_read_ptr) / size < n;
}

/* fread and its variants write the bytes they read. When a short read
 * could leave part of an element (size > 1 and the buffer cannot serve
 * the call), the position is taken before and after the call under the
 * stream's lock (recursive, so the call takes it again), so that no other
 * thread's read comes between. Each position may cost a system call, but
 * only a call that refills the buffer (a read(2) itself) pays it. */
#define FREAD_INTERCEPTOR(name, params, args)                                  \
    INTERCEPTOR size_t name params {                                           \
        if (!CHECKED()) return REAL(name) args;                                \
        bool partial = size > 1 && may_read_short(f, size, n);                 \
        if (partial) flockfile(f);                                             \
        off_t start = partial ? stream_position(f) : -1;                       \
        size_t got = REAL(name) args;                                          \
        off_t end = start >= 0 ? stream_position(f) : -1;                      \
        if (partial) funlockfile(f);                                           \
        check_write(buf, fread_bytes(got, size, n, start, end), CALLER);       \
        return got;                                                            \
    }

FREAD_INTERCEPTOR(fread, (void *buf, size_t size, size_t n, FILE *f), (buf, size, n, f))
FREAD_INTERCEPTOR(__fread_chk, (void *buf, size_t buf_size, size_t size, size_t n, FILE *f),
                  (buf, buf_size, size, n, f))
FREAD_INTERCEPTOR(fread_unlocked, (void *buf, size_t size, size_t n, FILE *f), (buf, size, n, f))

/* fgets and its variants write the line they read, with its terminator. */
#define FGETS_INTERCEPTOR(name, params, args)                                       \
    INTERCEPTOR char *name params {                                                 \
        char *got = REAL(name) args;                                                \
        if (got && CHECKED()) check_write(buf, REAL(strlen)(buf) + 1, CALLER);      \
        return got;                                                                 \
    }

FGETS_INTERCEPTOR(fgets, (char *buf, int n, FILE *f), (buf, n, f))
FGETS_INTERCEPTOR(__fgets_chk, (char *buf, size_t buf_size, int n, FILE *f), (buf, buf_size, n, f))
FGETS_INTERCEPTOR(fgets_unlocked, (char *buf, int n, FILE *f), (buf, n, f))

INTERCEPTOR size_t fwrite(const void *buf, size_t size, size_t n, FILE *f) {
    if (CHECKED()) check_read(buf, size * n, CALLER);
    return REAL(fwrite)(buf, size, n, f);
}

INTERCEPTOR size_t fwrite_unlocked(const void *buf, size_t size, size_t n, FILE *f) {
    if (CHECKED()) check_read(buf, size * n, CALLER);
    return REAL(fwrite_unlocked)(buf, size, n, f);
}

INTERCEPTOR int fputs(const char *s, FILE *f) {
    if (CHECKED()) check_read(s, REAL(strlen)(s) + 1, CALLER);
    return REAL(fputs)(s, f);
}

INTERCEPTOR int fputs_unlocked(const char *s, FILE *f) {
    if (CHECKED()) check_read(s, REAL(strlen)(s) + 1, CALLER);
    return REAL(fputs_unlocked)(s, f);
}

INTERCEPTOR int puts(const char *s) {
    if (CHECKED()) check_read(s, REAL(strlen)(s) + 1, CALLER);
    return REAL(puts)(s);
}

/* getline and getdelim write the caller's pointer and size, and the line;
 * a buffer they grow is allocated as from the user's call. */
static ssize_t getdelim_checked(char **line, size_t *size, int delim, FILE *f, uintptr_t pc) {
    check_write(line, sizeof *line, pc);
    check_write(size, sizeof *size, pc);
    __gorace_func_entry((void *)pc);
    ssize_t got = REAL(getdelim)(line, size, delim, f);
    __gorace_func_exit();
    if (got > 0) check_write(*line, (size_t)got + 1, pc);
    return got;
}

INTERCEPTOR ssize_t getdelim(char **line, size_t *size, int delim, FILE *f) {
    if (!CHECKED()) return REAL(getdelim)(line, size, delim, f);
    return getdelim_checked(line, size, delim, f, CALLER);
}

/* What <stdio.h> makes of getdelim and getline with _GNU_SOURCE when
 * optimising. */
INTERCEPTOR ssize_t __getdelim(char **line, size_t *size, int delim, FILE *f) {
    if (!CHECKED()) return REAL(getdelim)(line, size, delim, f);
    return getdelim_checked(line, size, delim, f, CALLER);
}

INTERCEPTOR ssize_t getline(char **line, size_t *size, FILE *f) {
    if (!CHECKED()) return REAL(getdelim)(line, size, '\n', f);
    return getdelim_checked(line, size, '\n', f, CALLER);
}

/* print.c - rt_printf, the runtime's formatted output for fatal paths.
 *
 * Panics, fatal errors, deadlock reports and signal handlers print through
 * here, so it must work when the heap is corrupt, a malloc lock is held or
 * stdio is mid-update: it formats into a buffer on its own stack and hands
 * it to write(2) whenever the buffer fills, and touches nothing global
 * (no locale, no stdio, no malloc). Output of any length is written in
 * buffer-sized pieces; a single call's output is not atomic with respect to
 * other writers beyond what one write(2) of up to PRINT_BUF bytes gives.
 *
 * The format language is the integer and string subset of printf: flags
 * '-', '0' and '#', a width and a precision (digits or '*'), the length
 * modifiers hh h l ll z j t, and the conversions d i u x X o p s c %.
 * Floating point is not supported (the runtime never prints it); an unknown
 * conversion is copied to the output as written so the mistake is visible. */
#include "rt.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

enum { PRINT_BUF = 512 };

struct out {
    int fd;
    size_t len;
    char buf[PRINT_BUF];
};

static void flush(struct out *o) {
    const char *p = o->buf;
    size_t left = o->len;
    while (left > 0) {
        ssize_t k = write(o->fd, p, left);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break; /* nowhere to report a failing report */
        p += k;
        left -= (size_t)k;
    }
    o->len = 0;
}

static void put(struct out *o, char c) {
    if (o->len == PRINT_BUF) flush(o);
    o->buf[o->len++] = c;
}

static void put_n(struct out *o, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) put(o, s[i]);
}

static void pad(struct out *o, char c, int n) {
    while (n-- > 0) put(o, c);
}

struct spec {
    bool left;      /* '-' */
    bool zero;      /* '0' */
    bool alt;       /* '#': 0x before hex, 0 before octal, when non-zero */
    int width;
    int precision;  /* -1 when absent */
};

/* A field of text that the spec pads to its width. */
static void field(struct out *o, const struct spec *sp, const char *s, size_t n) {
    int fill = sp->width > (int)n ? sp->width - (int)n : 0;
    if (!sp->left) pad(o, ' ', fill);
    put_n(o, s, n);
    if (sp->left) pad(o, ' ', fill);
}

/* An unsigned magnitude with an optional sign or "0x" prefix. Zero padding
 * goes between the prefix and the digits, as printf does; a precision sets
 * the minimum digit count and disables zero padding. */
static void number(struct out *o, const struct spec *sp, unsigned long long v,
                   unsigned base, bool upper, const char *prefix) {
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24]; /* 2^64 in octal has 22 digits */
    int nd = 0;
    do {
        tmp[nd++] = digits[v % base];
        v /= base;
    } while (v != 0);
    if (sp->precision == 0 && nd == 1 && tmp[0] == '0') nd = 0;
    int prec_zeros = sp->precision > nd ? sp->precision - nd : 0;
    int plen = (int)strlen(prefix);
    int body = plen + prec_zeros + nd;
    int fill = sp->width > body ? sp->width - body : 0;
    bool zero_fill = sp->zero && !sp->left && sp->precision < 0;
    if (!sp->left && !zero_fill) pad(o, ' ', fill);
    put_n(o, prefix, (size_t)plen);
    if (zero_fill) pad(o, '0', fill);
    pad(o, '0', prec_zeros);
    while (nd > 0) put(o, tmp[--nd]);
    if (sp->left) pad(o, ' ', fill);
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_MAX, LEN_PTRDIFF };

static long long signed_arg(va_list *ap, enum length len) {
    switch (len) {
    case LEN_CHAR: return (signed char)va_arg(*ap, int);
    case LEN_SHORT: return (short)va_arg(*ap, int);
    case LEN_LONG: return va_arg(*ap, long);
    case LEN_LLONG: return va_arg(*ap, long long);
    case LEN_SIZE: return va_arg(*ap, ssize_t);
    case LEN_MAX: return va_arg(*ap, intmax_t);
    case LEN_PTRDIFF: return va_arg(*ap, ptrdiff_t);
    default: return va_arg(*ap, int);
    }
}

static unsigned long long unsigned_arg(va_list *ap, enum length len) {
    switch (len) {
    case LEN_CHAR: return (unsigned char)va_arg(*ap, unsigned);
    case LEN_SHORT: return (unsigned short)va_arg(*ap, unsigned);
    case LEN_LONG: return va_arg(*ap, unsigned long);
    case LEN_LLONG: return va_arg(*ap, unsigned long long);
    case LEN_SIZE: return va_arg(*ap, size_t);
    case LEN_MAX: return va_arg(*ap, uintmax_t);
    case LEN_PTRDIFF: return (unsigned long long)va_arg(*ap, ptrdiff_t);
    default: return va_arg(*ap, unsigned);
    }
}

static int read_int(const char **f, va_list *ap) {
    if (**f == '*') {
        (*f)++;
        return va_arg(*ap, int);
    }
    int v = 0;
    while (**f >= '0' && **f <= '9') v = v * 10 + (*(*f)++ - '0');
    return v;
}

static void format(struct out *o, const char *f, va_list *ap) {
    while (*f) {
        if (*f != '%') {
            put(o, *f++);
            continue;
        }
        const char *start = f++;
        struct spec sp = {.precision = -1};
        for (;; f++) {
            if (*f == '-') sp.left = true;
            else if (*f == '0') sp.zero = true;
            else if (*f == '#') sp.alt = true;
            else break;
        }
        sp.width = read_int(&f, ap);
        if (sp.width < 0) { /* printf: a negative '*' width means '-' */
            sp.left = true;
            sp.width = -sp.width;
        }
        if (*f == '.') {
            f++;
            sp.precision = read_int(&f, ap);
            if (sp.precision < 0) sp.precision = -1;
        }
        enum length len = LEN_INT;
        if (*f == 'h') {
            f++;
            len = LEN_SHORT;
            if (*f == 'h') { f++; len = LEN_CHAR; }
        } else if (*f == 'l') {
            f++;
            len = LEN_LONG;
            if (*f == 'l') { f++; len = LEN_LLONG; }
        } else if (*f == 'z') { f++; len = LEN_SIZE; }
        else if (*f == 'j') { f++; len = LEN_MAX; }
        else if (*f == 't') { f++; len = LEN_PTRDIFF; }

        switch (*f) {
        case 'd':
        case 'i': {
            long long v = signed_arg(ap, len);
            unsigned long long mag = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
            number(o, &sp, mag, 10, false, v < 0 ? "-" : "");
            break;
        }
        case 'u': number(o, &sp, unsigned_arg(ap, len), 10, false, ""); break;
        case 'x':
        case 'X':
        case 'o': {
            unsigned long long v = unsigned_arg(ap, len);
            bool hex = *f != 'o';
            const char *prefix = !sp.alt || v == 0 ? "" : !hex ? "0" : *f == 'x' ? "0x" : "0X";
            number(o, &sp, v, hex ? 16 : 8, *f == 'X', prefix);
            break;
        }
        case 'p': {
            void *p = va_arg(*ap, void *);
            if (p) number(o, &sp, (uintptr_t)p, 16, false, "0x");
            else field(o, &sp, "(nil)", 5);
            break;
        }
        case 's': {
            const char *s = va_arg(*ap, const char *);
            if (!s) s = "(null)";
            size_t n = sp.precision >= 0 ? strnlen(s, (size_t)sp.precision) : strlen(s);
            field(o, &sp, s, n);
            break;
        }
        case 'c': {
            char c = (char)va_arg(*ap, int);
            field(o, &sp, &c, 1);
            break;
        }
        case '%': put(o, '%'); break;
        default:
            /* Unsupported: show the directive itself. A trailing '%' at
             * the end of the format stops here too. */
            put_n(o, start, (size_t)(f - start) + (*f ? 1 : 0));
            if (!*f) return;
            break;
        }
        f++;
    }
}

void rt_printf(int fd, const char *fmt, ...) {
    struct out o;
    o.fd = fd;
    o.len = 0;
    va_list ap;
    va_start(ap, fmt);
    format(&o, fmt, &ap);
    va_end(ap);
    flush(&o);
}

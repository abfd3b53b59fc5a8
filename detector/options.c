/* options.c - GORACE, in Go's syntax ("key=value key=value") with Go's
 * keys plus ours. Parsing is a pure function (race_parse_options) so it
 * can be tested on malformed input; a bad option stops the program at
 * start-up with a message that names every valid key. */
#include "detector.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct race_options race_opts = {
    .exitcode = 66,
    .history_size = 1,
};

static const char valid_keys[] =
    "log_path, exitcode, strip_path_prefix, history_size (0-7), halt_on_error (0|1), "
    "atexit_sleep_ms, report_format (text|json)";

static bool parse_int(const char *v, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) return false;
    *out = n;
    return true;
}

/* Copies a value out of text; the strings live for the process. */
static const char *dup_value(const char *v, size_t n) {
    char *s = race_internal_alloc(n + 1);
    memcpy(s, v, n);
    s[n] = 0;
    return s;
}

bool race_parse_options(const char *text, struct race_options *out, char *err, size_t errlen) {
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n') p++;
        size_t toklen = (size_t)(p - tok);
        const char *eq = memchr(tok, '=', toklen);
        if (!eq) {
            snprintf(err, errlen, "GORACE: '%.*s' is not key=value; valid keys: %s",
                     (int)toklen, tok, valid_keys);
            return false;
        }
        size_t klen = (size_t)(eq - tok);
        const char *v = eq + 1;
        size_t vlen = toklen - klen - 1;
        char val[256];
        if (vlen >= sizeof val) vlen = sizeof val - 1;
        memcpy(val, v, vlen);
        val[vlen] = 0;
        long n;
#define KEY(name) (klen == sizeof(name) - 1 && memcmp(tok, name, klen) == 0)
        if (KEY("log_path")) out->log_path = dup_value(v, vlen);
        else if (KEY("strip_path_prefix")) out->strip_path_prefix = dup_value(v, vlen);
        else if (KEY("exitcode") && parse_int(val, 0, 255, &n)) out->exitcode = (int)n;
        else if (KEY("history_size") && parse_int(val, 0, 7, &n)) out->history_size = (int)n;
        else if (KEY("halt_on_error") && parse_int(val, 0, 1, &n)) out->halt_on_error = n;
        else if (KEY("atexit_sleep_ms") && parse_int(val, 0, 3600000, &n)) out->atexit_sleep_ms = (int)n;
        else if (KEY("report_format") && (strcmp(val, "text") == 0 || strcmp(val, "json") == 0))
            out->json = strcmp(val, "json") == 0;
        else if (KEY("log_path") || KEY("strip_path_prefix") || KEY("exitcode") ||
                 KEY("history_size") || KEY("halt_on_error") || KEY("atexit_sleep_ms") ||
                 KEY("report_format")) {
            snprintf(err, errlen, "GORACE: bad value '%s' for %.*s; valid keys: %s", val,
                     (int)klen, tok, valid_keys);
            return false;
        } else {
            snprintf(err, errlen, "GORACE: unknown key '%.*s'; valid keys: %s", (int)klen, tok,
                     valid_keys);
            return false;
        }
#undef KEY
    }
    return true;
}

/* args.h - goroutine-cc's command-line rewriting.
 *
 * goroutine-cc takes clang's command line plus -fgoroutine-race and turns it
 * into one clang command. The rewriting is a pure function of the arguments
 * and of a few paths resolved beforehand (driver_config): it reads no file,
 * runs nothing and prints nothing, so tests/test_driver.c checks every mode
 * without a compiler, and goroutine-cc.c does the I/O (finding clang, its
 * version, the plugin and the libraries) and execs the result.
 *
 * What is added, and where:
 * - Steps that preprocess (C-family sources, .S): -I<include_dir>, and under
 *   -fgoroutine-race -DGOROUTINE_RACE=1. Steps that only preprocess (-E, -M,
 *   -MM) get nothing else.
 * - Steps that generate code, under -fgoroutine-race: the pass plugin, -g
 *   unless the user chose a debug level (-g0 included), frame pointers, and
 *   ThreadSanitizer with all of its own instrumentation off (so clang honours
 *   no_sanitize("thread")) and its runtime never linked.
 * - Link steps: the runtime archive and what it needs, after everything the
 *   user gave; no runtime in -shared and -r links (the executable that loads
 *   the shared object carries it).
 * Compile flags go first, so the user's own later flags win; the link tail
 * goes last (before "--", if the command has one). Arguments are otherwise
 * copied in order and untouched, response files (@file) included: options
 * inside a response file are not seen, and a response file counts as an
 * input that may hold sources. A command without inputs (--version, -v,
 * -print-*) is passed through as is. */
#ifndef GOROUTINE_DRIVER_ARGS_H
#define GOROUTINE_DRIVER_ARGS_H

#include <stdbool.h>

/* Where the plugin for clang major version N lives, relative to a library
 * directory: <lib>/goroutine/libGoRacePass-N.so. */
#define DRIVER_PLUGIN_SUBDIR "goroutine"
#define DRIVER_PLUGIN_NAME_FORMAT "libGoRacePass-%d.so"

/* The installation, as goroutine-cc.c resolved it. */
typedef struct {
    const char *clang;       /* argv[0] of the rewritten command */
    const char *include_dir; /* holds goroutine.h */
    const char *lib_dir;     /* holds the runtime archive the link needs */
    const char *plugin;      /* the race pass plugin built for this clang */
} driver_config;

typedef enum {
    DRIVER_PREPROCESS, /* -E, -M, -MM */
    DRIVER_COMPILE,    /* -c, -S, -fsyntax-only and the like: no link */
    DRIVER_LINK,
} driver_phase;

/* What a command line asks for; tells goroutine-cc.c which paths it must
 * resolve before rewriting. */
typedef struct {
    bool race;          /* -fgoroutine-race; the last of it and
                           -fno-goroutine-race wins */
    bool print_config;  /* --goroutine-print-config */
    bool has_inputs;    /* an input file, "-" or a response file */
    driver_phase phase;
    bool preprocesses;  /* some input goes through the preprocessor */
    bool compiles;      /* some input goes through code generation */
    bool links_runtime; /* a link that gets the runtime archive */
} driver_plan;

void driver_plan_args(int argc, char *const argv[], driver_plan *plan);

/* The rewritten command. */
typedef struct {
    int argc;
    char **argv;    /* NULL-terminated */
    char *owned[4]; /* the strings built here (others point into the input) */
} driver_command;

/* Rewrites argv (argv[0] is goroutine-cc's own name and is replaced by
 * cfg->clang). Returns NULL, or a message naming what is missing (a path the
 * plan needs but cfg lacks, or memory); *out is then empty. */
const char *driver_rewrite(const driver_config *cfg, int argc, char *const argv[],
                           driver_command *out);
void driver_command_free(driver_command *cmd);

/* File name of the runtime archive a (race) link uses. */
const char *driver_runtime_archive(bool race);

#endif

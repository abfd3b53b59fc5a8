/* args.c - goroutine-cc's command-line rewriting (see args.h for what is
 * added where).
 *
 * Reading a clang command line takes only as much of clang's option grammar
 * as deciding three things needs: which arguments are inputs, what kind of
 * input each is, and how far the compilation goes.
 * - An input is an argument not starting with '-', the lone "-" (standard
 *   input), anything after "--", or a response file "@file". Options whose
 *   value may come as the next argument ("-o out", "-MF deps") are listed in
 *   options_with_separate_value so that value is not taken for an input; the
 *   joined spellings ("-oout", "-MFdeps") need no entry.
 * - An input's kind comes from the -x language in force (as in clang, -x
 *   applies to every later input until -x none), else from its extension;
 *   an unknown extension is a linker input, as clang treats it.
 * - The phase is clang's: -E, -M or -MM preprocess only (even with -c); else
 *   -c, -S, -fsyntax-only and the like stop before the link.
 * Everything the user wrote is copied in order. The only arguments dropped
 * are goroutine-cc's own options. */
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Preprocessing under -fgoroutine-race: code can tell a race build. */
static const char *const race_preprocess_flags[] = {
    "-DGOROUTINE_RACE=1",
};

/* Code generation under -fgoroutine-race, after -fpass-plugin=<plugin> and
 * (unless the user chose a debug level) -g, which give reports their file,
 * line and column. */
static const char *const race_codegen_flags[] = {
    /* Reports unwind by frame pointers, leaf functions included. */
    "-fno-omit-frame-pointer",
    "-mno-omit-leaf-frame-pointer",
    /* ThreadSanitizer with every instrumentation of its own turned off: clang
     * honours __attribute__((no_sanitize("thread"))) only when the sanitizer
     * is on, and the pass reads the sanitize_thread function attribute it
     * sets. Memory intrinsics are covered too: clang 14 turns
     * -fno-sanitize-thread-memory-access into
     * -mllvm -tsan-instrument-memintrinsics=0 itself, and LLVM rejects that
     * option when it is given twice, so it is not listed here. */
    "-fsanitize=thread",
    "-fno-sanitize-thread-memory-access",
    "-fno-sanitize-thread-func-entry-exit",
    "-fno-sanitize-thread-atomics",
    /* A command that compiles and links must not link TSan's runtime: the
     * race runtime is the only one. */
    "-fno-sanitize-link-runtime",
    /* The loop vectoriser reads a strided field (a[i].x) as whole vectors
     * that include the fields between (a[i].y) and discards those lanes:
     * harmless in LLVM's memory model, but a read of memory the program
     * never reads, which another goroutine may be writing - a false race. */
    "-mllvm", "-enable-interleaved-mem-accesses=0",
};

/* What the runtime archive needs, in link order after it: libunwind and
 * libdw for stacks and symbols; the race runtime also uses libatomic (its
 * 16-byte atomics, as runtime/CMakeLists.txt links goroutine_race). */
static const char *const plain_link_libs[] = {"-lunwind", "-ldw", "-lpthread"};
static const char *const race_link_libs[] = {"-lunwind", "-ldw", "-latomic", "-lpthread",
                                             "-ldl", "-lm"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *driver_runtime_archive(bool race) {
    return race ? "libgoroutine-race.a" : "libgoroutine.a";
}

/* Options that take their value from the next argument when written alone
 * (checked against clang 14: `clang -### -c OPT v.c x.c` compiles no v.c).
 * Missing an option here only risks taking its value for an input. Darwin's
 * options with several values are left out. */
static const char *const options_with_separate_value[] = {
    "-o", "-x", "-I", "-D", "-U", "-L", "-l", "-F", "-B", "-A", "-T", "-u", "-e",
    "-z", "-G", "-b", "-V", "-MF", "-MT", "-MQ", "-MJ", "-rpath",
    "-Xlinker", "-Xassembler", "-Xpreprocessor", "-Xclang", "-Xanalyzer",
    "-Xopenmp-target", "-Xcuda-fatbinary", "-Xcuda-ptxas", "-mllvm",
    "-include", "-imacros", "-include-pch", "-isystem", "-idirafter", "-iquote",
    "-iprefix", "-iwithprefix", "-iwithprefixbefore", "-iwithsysroot",
    "-isysroot", "-iframework", "-iframeworkwithsysroot", "-isystem-after",
    "-cxx-isystem", "-ivfsoverlay",
    "-target", "-arch", "-resource-dir", "-working-directory",
    "-serialize-diagnostics", "-dependency-file", "-dependency-dot",
    "-ftrapv-handler", "-ccc-install-dir", "-ccc-gcc-name",
    "-arcmt-migrate-report-output",
    "-framework", "-weak_framework", "-lazy_framework", "-install_name",
    "-weak_library", "-lazy_library", "-bundle_loader", "-filelist", "-init",
    "-undefined", "-exported_symbols_list", "-unexported_symbols_list",
    "--sysroot", "--param", "--config", "--serialize-diagnostics", "--output",
    "--language", "--include-directory", "--include-directory-after",
    "--include-prefix", "--include-with-prefix", "--include-with-prefix-after",
    "--include-with-prefix-before", "--library-directory", "--define-macro",
    "--undefine-macro", "--include", "--imacros", "--assert", "--prefix",
    "--for-linker", "--force-link", "--print-file-name", "--print-prog-name",
    "--rtlib", "--stdlib", "--system-header-prefix", "--no-system-header-prefix",
    "--dyld-prefix", "--mhwdiv",
};

/* -E, -M and -MM: preprocess only. */
static const char *const preprocess_only_options[] = {
    "-E", "-M", "-MM", "--preprocess", "--dependencies", "--user-dependencies",
};

/* Stop before the link. */
static const char *const no_link_options[] = {
    "-c", "-S", "-fsyntax-only", "--precompile", "--compile", "--assemble",
    "--analyze", "-emit-ast", "-emit-interface-stubs", "-rewrite-objc",
    "-rewrite-legacy-objc", "-verify-pch",
};

/* Links that make something other than an executable: no runtime inside. */
static const char *const library_link_options[] = {"-shared", "--shared", "-r"};

/* Options that choose a debug level, -g0 included. Feature switches such as
 * -gz, -gsplit-dwarf, -gcolumn-info or -gno-* are not levels: with only
 * those, a race build still adds -g. */
static const char *const debug_level_options[] = {
    "-g", "-g0", "-g1", "-g2", "-g3", "-ggdb", "-ggdb0", "-ggdb1", "-ggdb2",
    "-ggdb3", "-glldb", "-gsce", "-gdbx", "-gline-tables-only",
    "-gline-directives-only", "-gmlt", "-gdwarf", "-gdwarf-2", "-gdwarf-3",
    "-gdwarf-4", "-gdwarf-5", "-gfull", "-gused", "-gmodules", "--debug",
};

/* Extensions clang sends through code generation (C, C++, Objective-C,
 * their preprocessed and header forms, OpenCL, CUDA, HIP, LLVM IR). */
static const char *const code_extensions[] = {
    "c", "i", "h", "C", "cc", "CC", "cp", "cpp", "CPP", "cxx", "CXX", "c++",
    "C++", "ii", "H", "hh", "hpp", "hxx", "m", "mi", "M", "mm", "mii", "cl",
    "clcpp", "cu", "cui", "hip", "hipi", "cppm", "ll", "bc",
};
static const char *const asm_cpp_extensions[] = {"S", "sx"};
static const char *const asm_extensions[] = {"s"};

static bool in_list(const char *s, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0) return true;
    return false;
}
#define IN(s, list) in_list((s), (list), COUNT(list))

typedef enum {
    INPUT_CODE,    /* compiled to machine code */
    INPUT_ASM_CPP, /* preprocessed, then assembled */
    INPUT_ASM,     /* assembled only */
    INPUT_LINKER,  /* handed to the linker */
} input_kind;

static input_kind kind_of_language(const char *lang) {
    if (strcmp(lang, "assembler-with-cpp") == 0) return INPUT_ASM_CPP;
    if (strcmp(lang, "assembler") == 0) return INPUT_ASM;
    return INPUT_CODE; /* every other language clang knows is compiled */
}

static input_kind kind_of_file(const char *path) {
    if (strcmp(path, "-") == 0) return INPUT_CODE; /* stdin is C unless -x */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return INPUT_LINKER;
    const char *ext = dot + 1;
    if (IN(ext, code_extensions)) return INPUT_CODE;
    if (IN(ext, asm_cpp_extensions)) return INPUT_ASM_CPP;
    if (IN(ext, asm_extensions)) return INPUT_ASM;
    return INPUT_LINKER;
}

static bool takes_separate_value(const char *opt) {
    /* -Xarch_<arch> <arg> and -Xopenmp-target=<triple> <arg>. */
    if (strncmp(opt, "-Xarch_", 7) == 0 || strncmp(opt, "-Xopenmp-target=", 16) == 0)
        return true;
    return IN(opt, options_with_separate_value);
}

/* The -x language an option sets, or NULL. *value_used tells whether it
 * came from the next argument. */
static const char *language_option(const char *a, const char *next, bool *value_used) {
    *value_used = false;
    if (strcmp(a, "-x") == 0 || strcmp(a, "--language") == 0) {
        if (!next) return NULL;
        *value_used = true;
        return next;
    }
    if (strncmp(a, "-x", 2) == 0) return a + 2;
    if (strncmp(a, "--language=", 11) == 0) return a + 11;
    return NULL;
}

typedef struct {
    driver_plan plan;
    bool debug_level;     /* the user chose a debug level */
    const char *language_at_tail; /* the -x language in force where the
                                     link tail goes, or NULL */
    int tail_at;          /* where the link tail goes: "--" or argc */
    bool dangling;        /* the last argument is an option missing its
                             value: anything appended would become it */
    bool *dropped;        /* per argument: goroutine-cc's own, not passed on */
} scan;

static bool is_own_option(const char *a, scan *s) {
    if (strcmp(a, "-fgoroutine-race") == 0) s->plan.race = true;
    else if (strcmp(a, "-fno-goroutine-race") == 0) s->plan.race = false;
    else if (strcmp(a, "--goroutine-print-config") == 0) s->plan.print_config = true;
    else return false;
    return true;
}

static void scan_args(int argc, char *const argv[], scan *s) {
    memset(&s->plan, 0, sizeof s->plan);
    s->debug_level = false;
    s->dangling = false;
    s->language_at_tail = NULL;
    s->tail_at = argc;
    const char *language = NULL; /* NULL: from the extension */
    bool preprocess_only = false, no_link = false, library_link = false;
    size_t inputs[INPUT_LINKER + 1] = {0};
    size_t response_files = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool input = s->tail_at < i || a[0] != '-' || a[1] == '\0';
        if (s->tail_at > i && strcmp(a, "--") == 0) {
            s->tail_at = i;
            s->language_at_tail = language;
            continue;
        }
        if (input && a[0] == '@' && s->tail_at > i) {
            response_files++;
            continue;
        }
        if (input) {
            inputs[language ? kind_of_language(language) : kind_of_file(a)]++;
            continue;
        }
        if (is_own_option(a, s)) {
            if (s->dropped) s->dropped[i] = true;
            continue;
        }
        bool value_used;
        const char *lang = language_option(a, i + 1 < argc ? argv[i + 1] : NULL, &value_used);
        if (lang) {
            language = strcmp(lang, "none") == 0 ? NULL : lang;
            i += value_used;
            continue;
        }
        if (strcmp(a, "-x") == 0 || strcmp(a, "--language") == 0) {
            s->dangling = true;
            continue;
        }
        if (IN(a, preprocess_only_options)) preprocess_only = true;
        else if (IN(a, no_link_options)) no_link = true;
        else if (IN(a, library_link_options)) library_link = true;
        else if (IN(a, debug_level_options) || strncmp(a, "--debug=", 8) == 0)
            s->debug_level = true;
        else if (takes_separate_value(a)) {
            if (i + 1 < argc) i++;
            else s->dangling = true;
        }
    }
    if (s->tail_at == argc) s->language_at_tail = language;

    driver_plan *p = &s->plan;
    size_t code = inputs[INPUT_CODE] + response_files;
    p->has_inputs = code + inputs[INPUT_ASM_CPP] + inputs[INPUT_ASM] + inputs[INPUT_LINKER] > 0;
    p->phase = preprocess_only ? DRIVER_PREPROCESS : no_link ? DRIVER_COMPILE : DRIVER_LINK;
    p->preprocesses = code + inputs[INPUT_ASM_CPP] > 0;
    p->compiles = p->phase != DRIVER_PREPROCESS && code > 0;
    p->links_runtime = p->phase == DRIVER_LINK && p->has_inputs && !library_link;
}

void driver_plan_args(int argc, char *const argv[], driver_plan *plan) {
    scan s = {.dropped = NULL};
    scan_args(argc, argv, &s);
    *plan = s.plan;
}

static char *join(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

typedef struct {
    driver_command *cmd;
    bool failed;
} builder;

static void push(builder *b, const char *arg) {
    b->cmd->argv[b->cmd->argc++] = (char *)arg;
}

static void push_owned(builder *b, char *arg) {
    driver_command *c = b->cmd;
    size_t n = 0;
    while (n < COUNT(c->owned) && c->owned[n]) n++;
    if (!arg || n == COUNT(c->owned)) {
        free(arg);
        b->failed = true;
        return;
    }
    c->owned[n] = arg;
    push(b, arg);
}

static void push_all(builder *b, const char *const *flags, size_t n) {
    for (size_t i = 0; i < n; i++) push(b, flags[i]);
}

/* Flags for the compile and preprocess steps, placed before the user's. */
static void push_compile_flags(builder *b, const scan *s, const driver_config *cfg) {
    const driver_plan *p = &s->plan;
    if (!p->preprocesses && !p->compiles) return;
    push_owned(b, join("-I", cfg->include_dir, ""));
    if (!p->race) return;
    if (p->compiles) {
        push_owned(b, join("-fpass-plugin=", cfg->plugin, ""));
        if (!s->debug_level) push(b, "-g");
    }
    push_all(b, race_preprocess_flags, COUNT(race_preprocess_flags));
    if (p->compiles) push_all(b, race_codegen_flags, COUNT(race_codegen_flags));
}

/* The runtime and its dependencies, after the user's objects and libraries. */
static void push_link_tail(builder *b, const scan *s, const driver_config *cfg,
                           bool inputs_follow) {
    const driver_plan *p = &s->plan;
    if (!p->links_runtime || s->dangling) return;
    /* A -x still in force would make the archive a source; inputs after
     * "--" get their language back. */
    if (s->language_at_tail) {
        push(b, "-x");
        push(b, "none");
    }
    push_owned(b, join(cfg->lib_dir, "/", driver_runtime_archive(p->race)));
    if (p->race) push_all(b, race_link_libs, COUNT(race_link_libs));
    else push_all(b, plain_link_libs, COUNT(plain_link_libs));
    if (s->language_at_tail && inputs_follow) {
        push(b, "-x");
        push(b, s->language_at_tail);
    }
}

static const char *missing_path(const scan *s, const driver_config *cfg) {
    const driver_plan *p = &s->plan;
    if (!cfg->clang) return "goroutine-cc: no clang to run";
    if ((p->preprocesses || p->compiles) && !cfg->include_dir)
        return "goroutine-cc: the goroutine include directory was not found";
    if (p->race && p->compiles && !cfg->plugin)
        return "goroutine-cc: -fgoroutine-race needs the race pass plugin, which was not found";
    if (p->links_runtime && !cfg->lib_dir)
        return "goroutine-cc: the goroutine runtime library directory was not found";
    return NULL;
}

const char *driver_rewrite(const driver_config *cfg, int argc, char *const argv[],
                           driver_command *out) {
    memset(out, 0, sizeof *out);
    bool *dropped = calloc((size_t)argc + 1, sizeof *dropped);
    if (!dropped) return "goroutine-cc: out of memory";
    scan s = {.dropped = dropped};
    scan_args(argc, argv, &s);
    const char *error = missing_path(&s, cfg);
    if (error) {
        free(dropped);
        return error;
    }

    size_t room = (size_t)argc + COUNT(race_codegen_flags) + COUNT(race_preprocess_flags) +
                  COUNT(race_link_libs) + 12;
    out->argv = calloc(room, sizeof *out->argv);
    builder b = {out, out->argv == NULL};
    if (!b.failed) {
        push(&b, cfg->clang);
        if (s.plan.has_inputs) push_compile_flags(&b, &s, cfg);
        for (int i = 1; i < s.tail_at; i++)
            if (!dropped[i]) push(&b, argv[i]);
        push_link_tail(&b, &s, cfg, s.tail_at < argc);
        for (int i = s.tail_at; i < argc; i++) push(&b, argv[i]);
    }
    free(dropped);
    if (b.failed) {
        driver_command_free(out);
        return "goroutine-cc: out of memory";
    }
    return NULL;
}

void driver_command_free(driver_command *cmd) {
    for (size_t i = 0; i < COUNT(cmd->owned); i++) free(cmd->owned[i]);
    free(cmd->argv);
    memset(cmd, 0, sizeof *cmd);
}

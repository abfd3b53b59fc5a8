/* goroutine-cc.c - the compiler driver: clang's command line plus
 * -fgoroutine-race (clang cannot accept a new -f flag).
 *
 * This file does the I/O; args.c decides the command. goroutine-cc finds
 * everything relative to its own executable (/proc/self/exe), so a build
 * tree and an installation both work without configuration:
 *   build tree  <build>/bin/goroutine-cc, <build>/lib/libgoroutine{,-race}.a,
 *               <build>/lib/goroutine/libGoRacePass-<major>.so, and the
 *               headers in the source tree (its path is compiled in);
 *   install     <prefix>/bin/goroutine-cc, <prefix>/<libdir>/..., and
 *               <prefix>/<includedir>/goroutine.h.
 * The clang it runs is $GOROUTINE_CLANG if set (a path, or a name looked up
 * in PATH), else the clang found when goroutine-cc was configured, else
 * `clang` in PATH. A pass plugin works only in the clang it was built for,
 * so a race compile asks that clang for its major version (-dumpversion)
 * and loads libGoRacePass-<major>.so, or stops with an error naming what it
 * looked for. The command is exec'd directly (execv, no shell), so exit
 * status, signals and output are clang's.
 *
 * --goroutine-print-config prints what was resolved and, when the command
 * line has inputs, the clang command it would run, and runs nothing. */
#include "args.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef GOROUTINE_VERSION
#define GOROUTINE_VERSION "unknown"
#endif
#ifndef GOROUTINE_CONFIGURED_CLANG
#define GOROUTINE_CONFIGURED_CLANG ""
#endif
#ifndef GOROUTINE_SOURCE_INCLUDE_DIR
#define GOROUTINE_SOURCE_INCLUDE_DIR ""
#endif
#ifndef GOROUTINE_INSTALL_LIBDIR
#define GOROUTINE_INSTALL_LIBDIR "lib"
#endif
#ifndef GOROUTINE_INSTALL_INCLUDEDIR
#define GOROUTINE_INSTALL_INCLUDEDIR "include"
#endif

extern char **environ;

typedef char path_buf[PATH_MAX];

/* Candidate directories, most specific first. */
#define MAX_CANDIDATES 2
typedef struct {
    path_buf dir[MAX_CANDIDATES];
    int n;
} candidates;

__attribute__((format(printf, 1, 2))) static _Noreturn void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("goroutine-cc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static bool format_path(path_buf out, const char *a, const char *b, const char *c) {
    int n = snprintf(out, PATH_MAX, "%s%s%s", a, b, c);
    return n >= 0 && n < PATH_MAX;
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_executable(const char *path) {
    return is_file(path) && access(path, X_OK) == 0;
}

static void add_candidate(candidates *c, const char *base, const char *sub) {
    path_buf dir;
    bool ok = sub[0] == '/' ? format_path(dir, sub, "", "")
              : sub[0]      ? format_path(dir, base, "/", sub)
                            : format_path(dir, base, "", "");
    if (!ok || !dir[0]) return;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->dir[i], dir) == 0) return;
    if (c->n < MAX_CANDIDATES) memcpy(c->dir[c->n++], dir, sizeof dir);
}

/* The first candidate directory holding `name` (which may have a
 * subdirectory), as a full path in `out`. */
static bool find_in(const candidates *c, const char *name, path_buf out) {
    for (int i = 0; i < c->n; i++)
        if (format_path(out, c->dir[i], "/", name) && is_file(out)) return true;
    return false;
}

/* "A or B" for error messages. */
static const char *looked_for(const candidates *c, const char *name) {
    static char text[MAX_CANDIDATES * (PATH_MAX + 8)];
    text[0] = 0;
    for (int i = 0; i < c->n; i++) {
        size_t len = strlen(text);
        snprintf(text + len, sizeof text - len, "%s%s/%s", i ? " or " : "", c->dir[i], name);
    }
    return text[0] ? text : name;
}

static void self_path(path_buf out) {
    ssize_t n = readlink("/proc/self/exe", out, PATH_MAX - 1);
    if (n <= 0) die("cannot read /proc/self/exe: %s", strerror(errno));
    out[n] = 0;
}

/* <prefix> of <prefix>/bin/goroutine-cc. */
static void install_prefix(const char *self, path_buf out) {
    memcpy(out, self, PATH_MAX);
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(out, '/');
        if (!slash) break;
        *slash = 0;
    }
    if (!out[0]) strcpy(out, "/");
}

static bool search_path(const char *name, path_buf out) {
    const char *path = getenv("PATH");
    if (!path) path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;; p++) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char dir[PATH_MAX];
        if (len < sizeof dir) {
            memcpy(dir, len ? p : ".", len ? len : 1);
            dir[len ? len : 1] = 0;
            if (format_path(out, dir, "/", name) && is_executable(out)) return true;
        }
        if (!end) return false;
        p = end;
    }
}

static const char *resolve_clang(path_buf out) {
    const char *env = getenv("GOROUTINE_CLANG");
    if (env && env[0]) {
        if (strchr(env, '/') ? format_path(out, env, "", "") && is_executable(out)
                             : search_path(env, out))
            return "from GOROUTINE_CLANG";
        die("GOROUTINE_CLANG=%s: no such program", env);
    }
    if (GOROUTINE_CONFIGURED_CLANG[0] && is_executable(GOROUTINE_CONFIGURED_CLANG)) {
        format_path(out, GOROUTINE_CONFIGURED_CLANG, "", "");
        return "configured at build time";
    }
    if (search_path("clang", out)) return "from PATH";
    die("no clang found: set GOROUTINE_CLANG");
}

static bool same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

/* `clang -dumpversion`'s major number, or 0. */
static int clang_major(const char *clang) {
    int fds[2];
    if (pipe(fds) != 0) return 0;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    char *argv[] = {(char *)clang, "-dumpversion", NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, clang, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    char text[64] = "";
    size_t len = 0;
    ssize_t n;
    while (rc == 0 && len < sizeof text - 1 &&
           ((n = read(fds[0], text + len, sizeof text - 1 - len)) > 0 ||
            (n < 0 && errno == EINTR)))
        if (n > 0) len += (size_t)n;
    text[len] = 0;
    close(fds[0]);
    int status = 0;
    while (rc == 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 0;
    char *end;
    long major = strtol(text, &end, 10);
    return end != text && *end == '.' && major > 0 && major < 1000 ? (int)major : 0;
}

/* Prints an argument so a shell reads it back as the same word. */
static void print_word(const char *w) {
    if (w[0] && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                          "0123456789-_=+./,:@%") == strlen(w)) {
        fputs(w, stdout);
        return;
    }
    putchar('\'');
    for (const char *p = w; *p; p++) {
        if (*p == '\'') fputs("'\\''", stdout);
        else putchar(*p);
    }
    putchar('\'');
}

typedef struct {
    path_buf self, clang, include_dir, lib_dir, plugin;
    const char *clang_source;
    int major;
    bool have_include, have_lib, have_plugin;
    candidates includes, libs;
    path_buf archive_name, plugin_name;
} resolved;

static void print_found(const char *what, bool found, const char *path,
                        const candidates *c, const char *name) {
    if (found) printf("%s: %s\n", what, path);
    else printf("%s: missing (looked for %s)\n", what, looked_for(c, name));
}

static void print_config(const resolved *r, const driver_plan *plan,
                         const driver_command *cmd) {
    printf("goroutine-cc %s\n", GOROUTINE_VERSION);
    printf("executable: %s\n", r->self);
    printf("clang: %s (%s)\n", r->clang, r->clang_source);
    if (r->major) printf("clang major version: %d\n", r->major);
    else printf("clang major version: unknown (%s -dumpversion failed)\n", r->clang);
    print_found("include dir", r->have_include, r->include_dir, &r->includes, "goroutine.h");
    for (int race = 0; race < 2; race++) {
        path_buf path;
        const char *name = driver_runtime_archive(race);
        print_found(race ? "race runtime" : "runtime", find_in(&r->libs, name, path), path,
                    &r->libs, name);
    }
    if (r->major) print_found("race plugin", r->have_plugin, r->plugin, &r->libs, r->plugin_name);
    else printf("race plugin: unknown (needs the clang major version)\n");
    printf("race: %s\n", plan->race ? "on (-fgoroutine-race)" : "off");
    if (!cmd) return;
    printf("command:");
    for (int i = 0; i < cmd->argc; i++) {
        putchar(' ');
        print_word(cmd->argv[i]);
    }
    putchar('\n');
}

int main(int argc, char **argv) {
    driver_plan plan;
    driver_plan_args(argc, argv, &plan);
    bool needs_plugin = plan.race && plan.compiles;

    resolved r = {0};
    self_path(r.self);
    path_buf prefix;
    install_prefix(r.self, prefix);

    r.clang_source = resolve_clang(r.clang);
    if (same_file(r.clang, r.self))
        die("%s is goroutine-cc itself, not clang: set GOROUTINE_CLANG to a clang",
            r.clang);

    add_candidate(&r.includes, prefix, GOROUTINE_INSTALL_INCLUDEDIR);
    add_candidate(&r.includes, GOROUTINE_SOURCE_INCLUDE_DIR, "");
    path_buf header;
    r.have_include = find_in(&r.includes, "goroutine.h", header);
    if (r.have_include) {
        *strrchr(header, '/') = 0;
        memcpy(r.include_dir, header, sizeof header);
    }

    add_candidate(&r.libs, prefix, "lib");
    add_candidate(&r.libs, prefix, GOROUTINE_INSTALL_LIBDIR);
    format_path(r.archive_name, driver_runtime_archive(plan.race), "", "");
    path_buf archive;
    r.have_lib = find_in(&r.libs, r.archive_name, archive);
    if (r.have_lib) {
        *strrchr(archive, '/') = 0;
        memcpy(r.lib_dir, archive, sizeof archive);
    }

    if (needs_plugin || plan.print_config) {
        r.major = clang_major(r.clang);
        if (r.major) {
            char name[64];
            snprintf(name, sizeof name, DRIVER_PLUGIN_NAME_FORMAT, r.major);
            format_path(r.plugin_name, DRIVER_PLUGIN_SUBDIR "/", name, "");
            r.have_plugin = find_in(&r.libs, r.plugin_name, r.plugin);
        }
    }

    if (!plan.print_config) {
        if ((plan.preprocesses || plan.compiles) && !r.have_include)
            die("cannot find goroutine.h (looked for %s)",
                looked_for(&r.includes, "goroutine.h"));
        if (needs_plugin && !r.major)
            die("-fgoroutine-race: cannot tell the major version of %s "
                "(%s -dumpversion failed); the race pass plugin is chosen by it",
                r.clang, r.clang);
        if (needs_plugin && !r.have_plugin)
            die("-fgoroutine-race: no race pass plugin for clang %d (%s): looked for %s",
                r.major, r.clang, looked_for(&r.libs, r.plugin_name));
        if (plan.links_runtime && !r.have_lib)
            die("cannot find the runtime library: looked for %s",
                looked_for(&r.libs, r.archive_name));
    }

    driver_config cfg = {
        .clang = r.clang,
        .include_dir = r.have_include ? r.include_dir : NULL,
        .lib_dir = r.have_lib ? r.lib_dir : NULL,
        .plugin = r.have_plugin ? r.plugin : NULL,
    };
    driver_command cmd;
    const char *error = driver_rewrite(&cfg, argc, argv, &cmd);
    if (plan.print_config) {
        print_config(&r, &plan, plan.has_inputs && !error ? &cmd : NULL);
        if (error) printf("command: none: %s\n", error);
        if (!error) driver_command_free(&cmd);
        return 0;
    }
    if (error) {
        fprintf(stderr, "%s\n", error);
        return 1;
    }
    execv(cmd.argv[0], cmd.argv);
    int err = errno;
    fprintf(stderr, "goroutine-cc: cannot run %s: %s\n", cmd.argv[0], strerror(err));
    driver_command_free(&cmd);
    return 127;
}

/* harness.c - CUnit driver and re-exec'd child runner shared by the suites.
 * Children are started with posix_spawn of /proc/self/exe, never fork(): the
 * runtime's threads do not survive a fork. */
#include "harness.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const harness_child_fn *registered_children;

void harness_child(const char *name, const char *const *env, int timeout_s,
                   harness_result *out) {
    memset(out, 0, sizeof *out);
    int pipefd[2];
    if (pipe(pipefd) != 0) { perror("pipe"); exit(1); }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);

    size_t n = 0;
    while (environ[n]) n++;
    size_t extra = 0;
    while (env && env[extra]) extra++;
    /* The case's entries replace inherited ones of the same name (getenv
     * returns the first match). */
    char **envp = calloc(n + extra + 1, sizeof *envp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        bool overridden = false;
        for (size_t j = 0; j < extra && !overridden; j++) {
            const char *eq = strchr(env[j], '=');
            size_t keylen = eq ? (size_t)(eq - env[j]) : strlen(env[j]);
            overridden = strncmp(environ[i], env[j], keylen) == 0 && environ[i][keylen] == '=';
        }
        if (!overridden) envp[k++] = environ[i];
    }
    for (size_t i = 0; i < extra; i++) envp[k++] = (char *)env[i];

    char *argv[] = {"/proc/self/exe", "--child", (char *)name, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    free(envp);
    close(pipefd[1]);
    if (rc != 0) { errno = rc; perror("posix_spawn"); exit(1); }

    size_t len = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct pollfd p = {pipefd[0], POLLIN, 0};
        int r = poll(&p, 1, 100);
        if (r > 0) {
            char buf[4096];
            ssize_t k = read(pipefd[0], buf, sizeof buf);
            if (k <= 0) break;
            size_t room = sizeof out->output - 1 - len;
            size_t take = (size_t)k < room ? (size_t)k : room;
            memcpy(out->output + len, buf, take);
            len += take;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec >= timeout_s) {
            kill(pid, SIGKILL);
            out->timed_out = 1;
            break;
        }
    }
    close(pipefd[0]);
    out->output[len] = 0;
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(st)) { out->exited = 1; out->status = WEXITSTATUS(st); }
    else if (WIFSIGNALED(st)) out->status = WTERMSIG(st);
}

int harness_main(int argc, char **argv, const harness_suite *suites,
                 const harness_child_fn *children) {
    registered_children = children;
    if (argc == 3 && strcmp(argv[1], "--child") == 0) {
        for (const harness_child_fn *c = children; c && c->name; c++)
            if (strcmp(c->name, argv[2]) == 0) { c->fn(); return 0; }
        fprintf(stderr, "harness: no child named %s\n", argv[2]);
        return 127;
    }
    if (CU_initialize_registry() != CUE_SUCCESS) return 1;
    for (const harness_suite *s = suites; s->name; s++) {
        CU_pSuite suite = CU_add_suite(s->name, NULL, NULL);
        for (const harness_case *c = s->cases; c->name; c++)
            CU_add_test(suite, c->name, c->fn);
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failed || ran == 0) ? 1 : 0;
}

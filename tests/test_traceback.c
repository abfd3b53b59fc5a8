/* test_traceback.c - stack capture, symbolisation, goroutine printing,
 * panics and fatal errors, rt_printf, wait reason strings.
 *
 * Stacks are checked by symbolising what rt_callers and rt_g_callers
 * return and looking for this file's own noinline functions, in order.
 * A goroutine is inspected only once it is parked (its status says so,
 * read under no timing assumption: the test yields until it is). Outputs
 * are captured through a pipe. Cases that end the process (panic, fatal
 * error) run in a child and check its exit status and report. */
#include <goroutine.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "rt.h"
#include "symbolize.h"

#define NOINLINE __attribute__((noinline))
/* Keeps a call from becoming a tail call, so its caller's frame stays. */
#define KEEP_FRAME() __asm__ __volatile__("" ::: "memory")

/* ---- helpers ---- */

/* The function name of pcs[i] (its real function, not an inlined one). */
static const char *func_of(uintptr_t pc) {
    struct rt_frame f[RT_MAX_INLINE];
    int n = rt_symbolize(pc, f, RT_MAX_INLINE);
    return n > 0 && f[n - 1].func ? f[n - 1].func : "?";
}

/* Index of the first pc at or after `from` whose function is name, or -1. */
static int find_func(const uintptr_t *pcs, int n, int from, const char *name) {
    for (int i = from; i < n; i++)
        if (strcmp(func_of(pcs[i]), name) == 0) return i;
    return -1;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Run print(fd) with its output going to a pipe; return it in buf. */
static void capture(char *buf, size_t size, void (*print)(int fd, void *arg), void *arg) {
    int p[2];
    CU_ASSERT_FATAL(pipe(p) == 0);
    print(p[1], arg);
    close(p[1]);
    size_t len = 0;
    ssize_t k;
    while (len + 1 < size && (k = read(p[0], buf + len, size - 1 - len)) > 0) len += (size_t)k;
    buf[len] = 0;
    close(p[0]);
}

static struct rt_g *find_g(uint64_t id) {
    struct rt_g *found = NULL;
    rt_lock_acquire(&rt_allgs_lock);
    for (struct rt_g *gp = rt_allgs; gp; gp = gp->all_next)
        if (gp->id == id && atomic_load(&gp->status) != G_DEAD) found = gp;
    rt_lock_release(&rt_allgs_lock);
    return found;
}

/* Yield until goroutine gp is parked for `reason`; fail the case instead
 * of hanging if it never is. */
static void wait_parked(struct rt_g *gp, enum rt_wait_reason reason) {
    long spins = 0;
    while (!(atomic_load(&gp->status) == G_WAITING && gp->wait_reason == reason) &&
           ++spins < 50000000L)
        go_yield();
    CU_ASSERT_FATAL(atomic_load(&gp->status) == G_WAITING);
    CU_ASSERT_FATAL(gp->wait_reason == reason);
}

/* ---- rt_printf ---- */

static char printed[4096];

#define CHECK_FORMAT(...)                                              \
    do {                                                               \
        char want_[512];                                               \
        snprintf(want_, sizeof want_, __VA_ARGS__);                    \
        int p_[2];                                                     \
        CU_ASSERT_FATAL(pipe(p_) == 0);                                \
        rt_printf(p_[1], __VA_ARGS__);                                 \
        close(p_[1]);                                                  \
        ssize_t k_ = read(p_[0], printed, sizeof printed - 1);         \
        close(p_[0]);                                                  \
        printed[k_ > 0 ? k_ : 0] = 0;                                  \
        CU_ASSERT_STRING_EQUAL(printed, want_);                        \
    } while (0)

static void test_printf_matches_libc(void) {
    CHECK_FORMAT("plain text");
    CHECK_FORMAT("%d %d %d", 0, -42, 2147483647);
    CHECK_FORMAT("%i|%5d|%-5d|%05d|%.3d", -7, 42, 42, -42, 7);
    CHECK_FORMAT("%u %lu %llu %zu", 4000000000u, 123456789012UL, 18446744073709551615ULL,
                 (size_t)99);
    CHECK_FORMAT("%ld %lld %zd %jd %td", -5L, -9223372036854775807LL - 1, (ssize_t)-3,
                 (intmax_t)-8, (ptrdiff_t)-9);
    CHECK_FORMAT("%hhd %hd %hhu %hu", (signed char)-3, (short)-300, (unsigned char)250,
                 (unsigned short)65000);
    CHECK_FORMAT("%x %X %llx %08x %-6x|", 0xbeefu, 0xbeefu, 0ULL, 0x1fu, 0xau);
    CHECK_FORMAT("%o %zx", 8u, (size_t)0x7f3a2c001010);
    CHECK_FORMAT("%#x %#X %#o %#x %#010x %-#8x|", 0xabu, 0xabu, 8u, 0u, 0x1fu, 0x2u);
    CHECK_FORMAT("%p", (void *)0x7f3a2c001010);
    CHECK_FORMAT("%s|%10s|%-10s|%.2s|%*s|%-*s|", "abc", "right", "left", "truncate", 4, "w",
                 3, "l");
    CHECK_FORMAT("%c%c %% %5c", 'o', 'k', 'z');
    CHECK_FORMAT("goroutine %llu \"%s\" [%s]:", 7ULL, "worker", "chan receive");
    CHECK_FORMAT("    #%d %s %s:%d:%d", 3, "main", "/src/app/pool.c", 77, 5);
}

static void test_printf_edge_cases(void) {
    /* Cases where this formatter's choice is documented rather than
     * libc's (a trailing lone '%', a NULL string or pointer). */
    int p[2];
    CU_ASSERT_FATAL(pipe(p) == 0);
    rt_printf(p[1], "%s|%p|", (const char *)NULL, (void *)NULL);
    close(p[1]);
    ssize_t k = read(p[0], printed, sizeof printed - 1);
    close(p[0]);
    printed[k > 0 ? k : 0] = 0;
    CU_ASSERT_STRING_EQUAL(printed, "(null)|(nil)|");
}

static void print_long(int fd, void *arg) { rt_printf(fd, "<%s>", (const char *)arg); }

static void test_printf_longer_than_buffer(void) {
    /* The formatter flushes its stack buffer as it fills: any length works. */
    static char big[3000], out[3100], want[3100];
    for (size_t i = 0; i < sizeof big - 1; i++) big[i] = (char)('a' + i % 26);
    big[sizeof big - 1] = 0;
    snprintf(want, sizeof want, "<%s>", big);
    capture(out, sizeof out, print_long, big);
    CU_ASSERT_STRING_EQUAL(out, want);
}

/* ---- wait reasons ---- */

static void test_wait_reason_strings(void) {
    static const struct {
        enum rt_wait_reason reason;
        const char *text;
    } go_strings[] = {
        {WAIT_CHAN_SEND, "chan send"},
        {WAIT_CHAN_RECV, "chan receive"},
        {WAIT_CHAN_SEND_NIL, "chan send (nil chan)"},
        {WAIT_CHAN_RECV_NIL, "chan receive (nil chan)"},
        {WAIT_SELECT, "select"},
        {WAIT_SELECT_NO_CASES, "select (no cases)"},
        {WAIT_MUTEX_LOCK, "sync.Mutex.Lock"},
        {WAIT_RWMUTEX_LOCK, "sync.RWMutex.Lock"},
        {WAIT_RWMUTEX_RLOCK, "sync.RWMutex.RLock"},
        {WAIT_WAITGROUP, "sync.WaitGroup.Wait"},
        {WAIT_COND, "sync.Cond.Wait"},
        {WAIT_ONCE, "sync.Once.Do"},
        {WAIT_ERRGROUP_WAIT, "errgroup.Wait"},
        {WAIT_ERRGROUP_GO, "errgroup.Go"},
        {WAIT_SLEEP, "sleep"},
        {WAIT_IO, "IO wait"},
        {WAIT_SYSCALL, "syscall"},
        {WAIT_GOEXIT, "goexit"},
    };
    size_t n = sizeof go_strings / sizeof *go_strings;
    CU_ASSERT_EQUAL(n, WAIT_REASON_COUNT - 1); /* every reason but WAIT_NONE */
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(rt_wait_reason_string(go_strings[i].reason), go_strings[i].text);
    CU_ASSERT_PTR_NOT_NULL(rt_wait_reason_string(WAIT_REASON_COUNT));
}

/* ---- rt_callers and symbolisation ---- */

static uintptr_t inner_pcs[RT_MAX_FRAMES];
static int inner_n, inner_skip;
static int inner_call_line;

static NOINLINE void stack_inner(void) {
    inner_call_line = __LINE__ + 1;
    inner_n = rt_callers(inner_skip, inner_pcs, RT_MAX_FRAMES);
    KEEP_FRAME();
}

static NOINLINE void stack_middle(void) {
    stack_inner();
    KEEP_FRAME();
}

static NOINLINE void stack_outer(void) {
    stack_middle();
    KEEP_FRAME();
}

static void test_callers_in_order(void) {
    inner_skip = 0;
    stack_outer();
    CU_ASSERT_FATAL(inner_n >= 4);
    CU_ASSERT_STRING_EQUAL(func_of(inner_pcs[0]), "stack_inner");
    CU_ASSERT_STRING_EQUAL(func_of(inner_pcs[1]), "stack_middle");
    CU_ASSERT_STRING_EQUAL(func_of(inner_pcs[2]), "stack_outer");
    CU_ASSERT_STRING_EQUAL(func_of(inner_pcs[3]), "test_callers_in_order");
}

static void test_callers_skip(void) {
    inner_skip = 1;
    stack_outer();
    CU_ASSERT_FATAL(inner_n >= 2);
    CU_ASSERT_STRING_EQUAL(func_of(inner_pcs[0]), "stack_middle");
    CU_ASSERT_STRING_EQUAL(func_of(inner_pcs[1]), "stack_outer");
}

static void test_callers_respects_max(void) {
    uintptr_t pcs[2];
    CU_ASSERT_EQUAL(rt_callers(0, pcs, 2), 2);
    CU_ASSERT_EQUAL(rt_callers(0, pcs, 0), 0);
}

static uintptr_t signal_pcs[RT_MAX_FRAMES];
static int signal_n;

static void on_sigusr1(int sig) {
    (void)sig;
    signal_n = rt_callers(0, signal_pcs, RT_MAX_FRAMES);
}

static NOINLINE void raise_sigusr1(void) {
    raise(SIGUSR1);
    KEEP_FRAME();
}

static void test_callers_through_signal_frame(void) {
    struct sigaction sa = {.sa_handler = on_sigusr1}, old;
    sigemptyset(&sa.sa_mask);
    CU_ASSERT_FATAL(sigaction(SIGUSR1, &sa, &old) == 0);
    raise_sigusr1();
    struct sigaction installed;
    sigaction(SIGUSR1, &old, &installed);

    CU_ASSERT_FATAL(signal_n >= 3);
    CU_ASSERT_STRING_EQUAL(func_of(signal_pcs[0]), "on_sigusr1");
    CU_ASSERT(find_func(signal_pcs, signal_n, 1, "raise_sigusr1") > 1);
    /* The trampoline the handler returns to is no call site: left out. */
    CU_ASSERT_PTR_NOT_NULL_FATAL(installed.sa_restorer);
    for (int i = 0; i < signal_n; i++)
        CU_ASSERT(signal_pcs[i] != (uintptr_t)installed.sa_restorer);
}

static void test_symbolize_file_line(void) {
    inner_skip = 0;
    stack_outer();
    CU_ASSERT_FATAL(inner_n >= 1);
    struct rt_frame f[RT_MAX_INLINE];
    int n = rt_symbolize(inner_pcs[0], f, RT_MAX_INLINE);
    CU_ASSERT_FATAL(n >= 1);
    const struct rt_frame *leaf = &f[0];
    CU_ASSERT_PTR_NOT_NULL_FATAL(leaf->file);
    CU_ASSERT(ends_with(leaf->file, "/tests/test_traceback.c"));
    CU_ASSERT_EQUAL(leaf->line, inner_call_line);
    CU_ASSERT_PTR_NOT_NULL(leaf->module);
    CU_ASSERT(leaf->addr == inner_pcs[0] - 1);
}

static int inlined_call_line, inlined_site_line;

static inline __attribute__((always_inline)) void capture_inlined(void) {
    inlined_call_line = __LINE__ + 1;
    inner_n = rt_callers(0, inner_pcs, RT_MAX_FRAMES);
}

static NOINLINE void calls_inlined(void) {
    inlined_site_line = __LINE__ + 1;
    capture_inlined();
    KEEP_FRAME();
}

static void test_symbolize_inlined_chain(void) {
    /* One pc inside inlined code: the inlined function at its own line,
     * then the function it was inlined into at the call site. */
    calls_inlined();
    CU_ASSERT_FATAL(inner_n >= 1);
    struct rt_frame f[RT_MAX_INLINE];
    int n = rt_symbolize(inner_pcs[0], f, RT_MAX_INLINE);
    CU_ASSERT_FATAL(n == 2);
    CU_ASSERT_STRING_EQUAL(f[0].func, "capture_inlined");
    CU_ASSERT_EQUAL(f[0].line, inlined_call_line);
    CU_ASSERT_STRING_EQUAL(f[1].func, "calls_inlined");
    CU_ASSERT_EQUAL(f[1].line, inlined_site_line);
    CU_ASSERT(f[1].file && ends_with(f[1].file, "/tests/test_traceback.c"));
}

static void test_symbolize_unknown_address(void) {
    /* Not code of any module: still one frame, with its address. */
    struct rt_frame f[RT_MAX_INLINE];
    int n = rt_symbolize(0x10, f, RT_MAX_INLINE);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(f[0].addr, 0xf);
    CU_ASSERT_PTR_NULL(f[0].func);
    CU_ASSERT_PTR_NULL(f[0].file);
}

/* ---- parked goroutines ---- */

static NOINLINE void blocked_receiving(go_chan *c) {
    go_chan_recv(c, NULL);
    KEEP_FRAME();
}

static void receiver(void *arg) {
    go_set_name("receiver");
    blocked_receiving(arg);
    KEEP_FRAME();
}

static void test_g_callers_of_parked_goroutine(void) {
    go_chan *c = go_chan_make(0, 0);
    struct rt_g *gp = find_g(go_spawn(receiver, c));
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    wait_parked(gp, WAIT_CHAN_RECV);

    uintptr_t pcs[RT_MAX_FRAMES];
    int n = rt_g_callers(gp, pcs, RT_MAX_FRAMES);
    int api = find_func(pcs, n, 0, "go_chan_recv");
    int blocker = find_func(pcs, n, 0, "blocked_receiving");
    int entry = find_func(pcs, n, 0, "receiver");
    CU_ASSERT(api >= 0);
    CU_ASSERT(blocker > api);
    CU_ASSERT(entry > blocker);
    CU_ASSERT(n > 0 && strcmp(func_of(pcs[n - 1]), "go_goroutine_start") == 0);

    go_chan_send(c, NULL);
    go_chan_free(c);
}

static void print_g(int fd, void *gp) { rt_print_goroutine(fd, gp, NULL); }

static void test_print_parked_goroutine(void) {
    go_chan *c = go_chan_make(0, 0);
    uint64_t id = go_spawn(receiver, c);
    struct rt_g *gp = find_g(id);
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    wait_parked(gp, WAIT_CHAN_RECV);

    static char out[8192];
    capture(out, sizeof out, print_g, gp);
    char header[64];
    snprintf(header, sizeof header, "goroutine %llu \"receiver\" [chan receive]:\n    #0 go_chan_recv ",
             (unsigned long long)id);
    CU_ASSERT(strncmp(out, header, strlen(header)) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n    #1 blocked_receiving "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "/tests/test_traceback.c:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, " go_goroutine_start "));
    /* The runtime's own frames (rt_park, rt_switch, ...) are left out. */
    CU_ASSERT_PTR_NULL(strstr(out, " rt_"));
    const char *created = strstr(out, "created by goroutine 1 at:\n    #0 test_print_parked_goroutine ");
    CU_ASSERT_PTR_NOT_NULL(created);
    CU_ASSERT(ends_with(out, "\n\n"));

    go_chan_send(c, NULL);
    go_chan_free(c);
}

static void never_runs(void *arg) { (void)arg; }

static void test_g_callers_of_unstarted_goroutine(void) {
    /* With one P and no yield, a new goroutine stays runnable and unstarted:
     * its stack is only the entry trampoline. */
    int saved = go_maxprocs(1);
    struct rt_g *gp = find_g(go_spawn(never_runs, NULL));
    CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
    if (atomic_load(&gp->status) == G_RUNNABLE) {
        uintptr_t pcs[RT_MAX_FRAMES];
        int n = rt_g_callers(gp, pcs, RT_MAX_FRAMES);
        CU_ASSERT_EQUAL(n, 1);
        CU_ASSERT_STRING_EQUAL(func_of(pcs[0]), "go_goroutine_start");
    }
    go_maxprocs(saved);
    go_yield();
}

static NOINLINE void print_self(int fd, void *arg) {
    rt_print_goroutine(fd, rt_getg(), arg);
    KEEP_FRAME();
}

static void test_print_running_goroutine(void) {
    static char out[8192];
    capture(out, sizeof out, print_self, "running");
    CU_ASSERT(strncmp(out, "goroutine 1 [running]:\n    #0 print_self ", 41) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n    #1 capture "));
    CU_ASSERT_PTR_NULL(strstr(out, "created by"));
}

/* ---- panics and fatal errors (children) ---- */

enum { CLOSE_LINE = __LINE__ + 5 }; /* the go_chan_close call below */

static NOINLINE void close_nil_channel(void *arg) {
    (void)arg;
    printf("buffered output before the panic\n");
    go_chan_close(NULL);
    KEEP_FRAME();
}

static void child_panic_in_goroutine(void) {
    go_chan *never = go_chan_make(0, 0);
    go_spawn(close_nil_channel, NULL);
    go_chan_recv(never, NULL);
}

static void test_panic_in_goroutine(void) {
    harness_result r;
    harness_child("panic_in_goroutine", NULL, 30, &r);
    CU_ASSERT(r.exited && r.status == 2);
    const char *report = strstr(r.output, "panic: close of nil channel\n\ngoroutine ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(report);
    /* stdout was flushed before the report was written */
    CU_ASSERT(strstr(r.output, "buffered output before the panic\n") < report);
    CU_ASSERT_PTR_NOT_NULL(strstr(report, " [running]:\n    #0 go_chan_close "));
    CU_ASSERT_PTR_NOT_NULL(strstr(report, "\n    #1 close_nil_channel "));
    char where[64];
    snprintf(where, sizeof where, "/tests/test_traceback.c:%d:", CLOSE_LINE);
    CU_ASSERT_PTR_NOT_NULL(strstr(report, where));
    CU_ASSERT_PTR_NOT_NULL(strstr(report, "created by goroutine 1 at:\n    #0 child_panic_in_goroutine "));
}

static void close_nil_quietly(void *arg) {
    (void)arg;
    go_chan_close(NULL);
}

static void child_panics_on_two_threads(void) {
    go_maxprocs(2);
    go_chan *never = go_chan_make(0, 0);
    go_spawn(close_nil_quietly, NULL);
    go_spawn(close_nil_quietly, NULL);
    go_chan_recv(never, NULL);
}

static size_t count_of(const char *haystack, const char *needle) {
    size_t n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p++) n++;
    return n;
}

static void test_one_report_at_a_time(void) {
    /* However the two panics overlap, one report is written, whole. */
    harness_result r;
    harness_child("panics_on_two_threads", NULL, 30, &r);
    CU_ASSERT(r.exited && r.status == 2);
    CU_ASSERT_EQUAL(count_of(r.output, "panic: close of nil channel\n"), 1);
    CU_ASSERT_EQUAL(count_of(r.output, " [running]:\n"), 1);
}

static void *fatal_on_thread(void *arg) {
    (void)arg;
    rt_fatal("raised outside any goroutine");
}

static void child_fatal_on_plain_thread(void) {
    pthread_t t;
    pthread_create(&t, NULL, fatal_on_thread, NULL);
    pthread_join(t, NULL);
}

static void test_fatal_outside_goroutine(void) {
    harness_result r;
    harness_child("fatal_on_plain_thread", NULL, 30, &r);
    CU_ASSERT(r.exited && r.status == 2);
    CU_ASSERT(strncmp(r.output, "fatal error: raised outside any goroutine\n\nruntime stack:\n    #0 rt_fatal ",
                      74) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.output, " fatal_on_thread "));
    CU_ASSERT_PTR_NULL(strstr(r.output, "goroutine "));
}

/* A failure while a report is being written: here the report's first
 * write raises SIGPIPE (stderr is a pipe nobody reads), whose handler puts
 * stderr back and panics again. */
static int saved_stderr;

static void panic_again(int sig) {
    (void)sig;
    dup2(saved_stderr, 2);
    rt_panic("raised while reporting");
}

static void child_panic_during_panic(void) {
    saved_stderr = dup(2);
    int p[2];
    if (pipe(p) != 0) return;
    close(p[0]);
    dup2(p[1], 2);
    signal(SIGPIPE, panic_again);
    rt_panic("first");
}

static void test_panic_during_panic(void) {
    harness_result r;
    harness_child("panic_during_panic", NULL, 30, &r);
    CU_ASSERT(r.exited && r.status == 2);
    CU_ASSERT_STRING_EQUAL(r.output, "panic during panic: raised while reporting\n");
}

static void test_system_traceback_shows_runtime_frames(void) {
    /* GOROUTINE_TRACEBACK=system keeps the frames normally hidden. */
    static const char *const env[] = {"GOROUTINE_TRACEBACK=system", NULL};
    harness_result r;
    harness_child("panic_in_goroutine", env, 30, &r);
    CU_ASSERT(r.exited && r.status == 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.output, " rt_panic /"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.output, " rt_goroutine_main "));
}

static const harness_case printf_cases[] = {
    {"matches libc", test_printf_matches_libc},
    {"edge cases", test_printf_edge_cases},
    {"longer than its buffer", test_printf_longer_than_buffer},
    {NULL, NULL},
};

static const harness_case stack_cases[] = {
    {"wait reason strings", test_wait_reason_strings},
    {"rt_callers in order", test_callers_in_order},
    {"rt_callers skip", test_callers_skip},
    {"rt_callers max", test_callers_respects_max},
    {"rt_callers through a signal frame", test_callers_through_signal_frame},
    {"symbolize file and line", test_symbolize_file_line},
    {"symbolize inlined chain", test_symbolize_inlined_chain},
    {"symbolize unknown address", test_symbolize_unknown_address},
    {"rt_g_callers of a parked goroutine", test_g_callers_of_parked_goroutine},
    {"rt_g_callers of an unstarted goroutine", test_g_callers_of_unstarted_goroutine},
    {"print a parked goroutine", test_print_parked_goroutine},
    {"print the running goroutine", test_print_running_goroutine},
    {NULL, NULL},
};

static const harness_case panic_cases[] = {
    {"panic in a goroutine", test_panic_in_goroutine},
    {"fatal error outside a goroutine", test_fatal_outside_goroutine},
    {"panic during panic", test_panic_during_panic},
    {"one report at a time", test_one_report_at_a_time},
    {"GOROUTINE_TRACEBACK=system", test_system_traceback_shows_runtime_frames},
    {NULL, NULL},
};

static const harness_suite suites[] = {
    {"rt_printf", printf_cases},
    {"traceback", stack_cases},
    {"panic", panic_cases},
    {NULL, NULL},
};

static const harness_child_fn children[] = {
    {"panic_in_goroutine", child_panic_in_goroutine},
    {"fatal_on_plain_thread", child_fatal_on_plain_thread},
    {"panic_during_panic", child_panic_during_panic},
    {"panics_on_two_threads", child_panics_on_two_threads},
    {NULL, NULL},
};

int main(int argc, char **argv) { return harness_main(argc, argv, suites, children); }

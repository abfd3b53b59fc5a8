/* test_driver.c - goroutine-cc's command-line rewriting (instrument/driver/
 * args.c), a pure function: each case rewrites a command line written as
 * space-separated words and compares the whole resulting command. The
 * configuration is fake ("/clang", "/inc", "/lib", "/p.so"): nothing here
 * runs a compiler; instrument/driver/e2e.sh does, with the built driver. */
#include "args.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const driver_config full = {"/clang", "/inc", "/lib", "/p.so"};

/* What the rewriting adds, spelled out once. */
#define PLAIN_LINK "/lib/libgoroutine.a -lunwind -ldw -lpthread"
#define RACE_LINK "/lib/libgoroutine-race.a -lunwind -ldw -latomic -lpthread -ldl -lm"
#define RACE_PP "-I/inc -DGOROUTINE_RACE=1"
#define RACE_CODEGEN                                                                    \
    "-DGOROUTINE_RACE=1 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer "        \
    "-fsanitize=thread -fno-sanitize-thread-memory-access "                           \
    "-fno-sanitize-thread-func-entry-exit -fno-sanitize-thread-atomics "              \
    "-fno-sanitize-link-runtime -mllvm -enable-interleaved-mem-accesses=0"
#define RACE_COMPILE "-I/inc -fpass-plugin=/p.so -g " RACE_CODEGEN
#define RACE_COMPILE_NO_G "-I/inc -fpass-plugin=/p.so " RACE_CODEGEN

#define MAX_WORDS 64

/* Splits `line` into argv after "goroutine-cc"; returns argc. */
static int split(const char *line, char *copy, size_t size, char **argv) {
    snprintf(copy, size, "%s", line);
    int argc = 0;
    argv[argc++] = "goroutine-cc";
    for (char *w = strtok(copy, " "); w && argc < MAX_WORDS - 1; w = strtok(NULL, " "))
        argv[argc++] = w;
    argv[argc] = NULL;
    return argc;
}

/* The rewritten command as space-separated words, or "error: ...". */
static const char *rewrite_with(const driver_config *cfg, const char *line) {
    static char out[4096];
    char copy[1024];
    char *argv[MAX_WORDS];
    int argc = split(line, copy, sizeof copy, argv);
    driver_command cmd;
    const char *error = driver_rewrite(cfg, argc, argv, &cmd);
    if (error) {
        snprintf(out, sizeof out, "error: %s", error);
        return out;
    }
    CU_ASSERT_PTR_NULL(cmd.argv[cmd.argc]);
    out[0] = 0;
    for (int i = 0; i < cmd.argc; i++) {
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%s", i ? " " : "", cmd.argv[i]);
    }
    driver_command_free(&cmd);
    return out;
}

static const char *rewrite(const char *line) {
    return rewrite_with(&full, line);
}

static driver_plan plan_of(const char *line) {
    char copy[1024];
    char *argv[MAX_WORDS];
    int argc = split(line, copy, sizeof copy, argv);
    driver_plan plan;
    driver_plan_args(argc, argv, &plan);
    return plan;
}

#define EXPECT(line, expected) CU_ASSERT_STRING_EQUAL(rewrite(line), expected)

/* --- without -fgoroutine-race --- */

static void test_plain_compile_only(void) {
    EXPECT("-c foo.c", "/clang -I/inc -c foo.c");
    EXPECT("-O2 -Wall -c foo.c -o out/foo.o", "/clang -I/inc -O2 -Wall -c foo.c -o out/foo.o");
    EXPECT("-S foo.c -o foo.s", "/clang -I/inc -S foo.c -o foo.s");
    EXPECT("-fsyntax-only foo.c", "/clang -I/inc -fsyntax-only foo.c");
    /* The phase option may come after the inputs. */
    EXPECT("foo.c bar.c -c", "/clang -I/inc foo.c bar.c -c");
}

static void test_plain_preprocess(void) {
    EXPECT("-E foo.c", "/clang -I/inc -E foo.c");
    EXPECT("-E -dM foo.c -o foo.i", "/clang -I/inc -E -dM foo.c -o foo.i");
    EXPECT("-M foo.c", "/clang -I/inc -M foo.c");
    EXPECT("-MM foo.c", "/clang -I/inc -MM foo.c");
    EXPECT("-E -", "/clang -I/inc -E -");
}

static void test_plain_dependency_options(void) {
    EXPECT("-c -MD -MF foo.d foo.c -o foo.o", "/clang -I/inc -c -MD -MF foo.d foo.c -o foo.o");
    EXPECT("-c -MMD -MP -MT foo.o -MQ other.c foo.c",
           "/clang -I/inc -c -MMD -MP -MT foo.o -MQ other.c foo.c");
    EXPECT("-MM -MG -MF deps foo.c", "/clang -I/inc -MM -MG -MF deps foo.c");
    /* -MF's value is not an input: this is a link of objects only. */
    EXPECT("-MD -MF dep.c foo.o -o prog", "/clang -MD -MF dep.c foo.o -o prog " PLAIN_LINK);
    EXPECT("-Wp,-MD,foo.d -c foo.c", "/clang -I/inc -Wp,-MD,foo.d -c foo.c");
}

static void test_plain_link_only(void) {
    EXPECT("foo.o bar.o -o prog", "/clang foo.o bar.o -o prog " PLAIN_LINK);
    EXPECT("main.o -L. -lworker -lm -o prog",
           "/clang main.o -L. -lworker -lm -o prog " PLAIN_LINK);
    EXPECT("main.o libworker.a -Wl,--as-needed -o prog",
           "/clang main.o libworker.a -Wl,--as-needed -o prog " PLAIN_LINK);
    /* -o's value is not an input, whatever its name. */
    EXPECT("-o out.c foo.o", "/clang -o out.c foo.o " PLAIN_LINK);
    EXPECT("-Xlinker foo.c foo.o", "/clang -Xlinker foo.c foo.o " PLAIN_LINK);
}

static void test_plain_compile_and_link(void) {
    EXPECT("foo.c -o prog", "/clang -I/inc foo.c -o prog " PLAIN_LINK);
    EXPECT("foo.c", "/clang -I/inc foo.c " PLAIN_LINK);
    EXPECT("-O3 a.c b.c c.o libd.a -o prog -lm",
           "/clang -I/inc -O3 a.c b.c c.o libd.a -o prog -lm " PLAIN_LINK);
    /* -Xclang's value is clang's business, not a phase option here. */
    EXPECT("-Xclang -E foo.c", "/clang -I/inc -Xclang -E foo.c " PLAIN_LINK);
    EXPECT("-include pre.h foo.c", "/clang -I/inc -include pre.h foo.c " PLAIN_LINK);
}

static void test_plain_shared_and_relocatable(void) {
    EXPECT("-shared -fPIC foo.c -o libfoo.so", "/clang -I/inc -shared -fPIC foo.c -o libfoo.so");
    EXPECT("-shared foo.o -o libfoo.so", "/clang -shared foo.o -o libfoo.so");
    EXPECT("-r a.o b.o -o c.o", "/clang -r a.o b.o -o c.o");
}

static void test_plain_languages(void) {
    EXPECT("-x c foo.txt -o prog", "/clang -I/inc -x c foo.txt -o prog -x none " PLAIN_LINK);
    EXPECT("-xc foo.txt -c", "/clang -I/inc -xc foo.txt -c");
    EXPECT("--language=c foo.txt -o p", "/clang -I/inc --language=c foo.txt -o p -x none " PLAIN_LINK);
    EXPECT("-x c foo.txt -x none bar.o", "/clang -I/inc -x c foo.txt -x none bar.o " PLAIN_LINK);
    /* -x applies to later inputs only, whatever their extension. */
    EXPECT("foo.o -x c bar.o", "/clang -I/inc foo.o -x c bar.o -x none " PLAIN_LINK);
    EXPECT("-x c - -o prog", "/clang -I/inc -x c - -o prog -x none " PLAIN_LINK);
    EXPECT("-x assembler foo.txt -c", "/clang -x assembler foo.txt -c");
    EXPECT("-x assembler-with-cpp foo.txt -c", "/clang -I/inc -x assembler-with-cpp foo.txt -c");
    EXPECT("-x c++ foo.txt -c", "/clang -I/inc -x c++ foo.txt -c");
}

static void test_plain_extensions(void) {
    EXPECT("-c foo.S", "/clang -I/inc -c foo.S");
    EXPECT("-c foo.sx", "/clang -I/inc -c foo.sx");
    EXPECT("-c foo.s", "/clang -c foo.s");
    EXPECT("-c foo.cpp", "/clang -I/inc -c foo.cpp");
    EXPECT("-c foo.C", "/clang -I/inc -c foo.C");
    EXPECT("-c foo.i", "/clang -I/inc -c foo.i");
    EXPECT("-c foo.ll", "/clang -I/inc -c foo.ll");
    EXPECT("-c dir.c/foo.h", "/clang -I/inc -c dir.c/foo.h");
    /* Unknown extensions, none, and dot files are linker inputs. */
    EXPECT("foo.weird -o prog", "/clang foo.weird -o prog " PLAIN_LINK);
    EXPECT("dir.c/foo libbar.so.1 .c -o prog", "/clang dir.c/foo libbar.so.1 .c -o prog " PLAIN_LINK);
    EXPECT("foo.c.in -o prog", "/clang foo.c.in -o prog " PLAIN_LINK);
}

static void test_plain_response_files(void) {
    /* A response file may hold sources, so it counts as one. */
    EXPECT("@args.rsp", "/clang -I/inc @args.rsp " PLAIN_LINK);
    EXPECT("-c @srcs", "/clang -I/inc -c @srcs");
    EXPECT("main.o @objs -o prog", "/clang -I/inc main.o @objs -o prog " PLAIN_LINK);
    EXPECT("-shared @objs", "/clang -I/inc -shared @objs");
}

static void test_plain_passthrough(void) {
    EXPECT("", "/clang");
    EXPECT("--version", "/clang --version");
    EXPECT("-v", "/clang -v");
    EXPECT("-###", "/clang -###");
    EXPECT("--help", "/clang --help");
    EXPECT("-dumpversion", "/clang -dumpversion");
    EXPECT("-print-file-name=libc.so", "/clang -print-file-name=libc.so");
    EXPECT("--print-prog-name ld", "/clang --print-prog-name ld");
    EXPECT("-lm", "/clang -lm");
    /* With inputs, -v and -### show the rewritten command's work. */
    EXPECT("-### foo.c", "/clang -I/inc -### foo.c " PLAIN_LINK);
    EXPECT("-v -c foo.c", "/clang -I/inc -v -c foo.c");
}

static void test_plain_debug_and_optimisation_untouched(void) {
    EXPECT("-g3 -O0 -c foo.c", "/clang -I/inc -g3 -O0 -c foo.c");
    EXPECT("-Os -c foo.c", "/clang -I/inc -Os -c foo.c");
    EXPECT("-c foo.c", "/clang -I/inc -c foo.c"); /* no -g without the race flag */
}

static void test_dash_dash(void) {
    /* Everything after "--" is an input: the tail goes before it. */
    EXPECT("foo.o -- -weird.o", "/clang foo.o " PLAIN_LINK " -- -weird.o");
    EXPECT("-c -- -weird.c", "/clang -I/inc -c -- -weird.c");
    EXPECT("-x c -- odd", "/clang -I/inc -x c -x none " PLAIN_LINK " -x c -- odd");
    EXPECT("foo.o -- -- x.o", "/clang foo.o " PLAIN_LINK " -- -- x.o");
}

static void test_missing_value_is_left_to_clang(void) {
    /* Nothing is appended: it would become the value (-o the archive!). */
    EXPECT("foo.c -o", "/clang -I/inc foo.c -o");
    EXPECT("foo.o -Xlinker", "/clang foo.o -Xlinker");
    EXPECT("-x c foo.txt -x", "/clang -I/inc -x c foo.txt -x");
    EXPECT("-c foo.c -x", "/clang -I/inc -c foo.c -x");
}

/* --- with -fgoroutine-race --- */

static void test_race_compile_only(void) {
    EXPECT("-fgoroutine-race -c foo.c", "/clang " RACE_COMPILE " -c foo.c");
    EXPECT("-c foo.c -o foo.o -fgoroutine-race", "/clang " RACE_COMPILE " -c foo.c -o foo.o");
    EXPECT("-fgoroutine-race -S foo.c", "/clang " RACE_COMPILE " -S foo.c");
    EXPECT("-fgoroutine-race -c -MD -MF foo.d foo.c",
           "/clang " RACE_COMPILE " -c -MD -MF foo.d foo.c");
    EXPECT("-fgoroutine-race -fsyntax-only foo.c", "/clang " RACE_COMPILE " -fsyntax-only foo.c");
}

static void test_race_flag_last_wins(void) {
    EXPECT("-fgoroutine-race -fno-goroutine-race -c foo.c", "/clang -I/inc -c foo.c");
    EXPECT("-fno-goroutine-race -fgoroutine-race -c foo.c", "/clang " RACE_COMPILE " -c foo.c");
    EXPECT("-fno-goroutine-race foo.o", "/clang foo.o " PLAIN_LINK);
}

static void test_race_preprocess(void) {
    EXPECT("-fgoroutine-race -E foo.c", "/clang " RACE_PP " -E foo.c");
    EXPECT("-fgoroutine-race -M foo.c", "/clang " RACE_PP " -M foo.c");
    EXPECT("-fgoroutine-race -MM -MF deps foo.c", "/clang " RACE_PP " -MM -MF deps foo.c");
    /* -M and -MM preprocess only, even with -c (as in clang). */
    EXPECT("-fgoroutine-race -c -M foo.c", "/clang " RACE_PP " -c -M foo.c");
    EXPECT("-fgoroutine-race -c -MM foo.c -o foo.o", "/clang " RACE_PP " -c -MM foo.c -o foo.o");
    EXPECT("-fgoroutine-race -E -x c -", "/clang " RACE_PP " -E -x c -");
}

static void test_race_assembly(void) {
    EXPECT("-fgoroutine-race -c foo.S", "/clang " RACE_PP " -c foo.S");
    EXPECT("-fgoroutine-race -c foo.s", "/clang -c foo.s");
    EXPECT("-fgoroutine-race foo.s -o prog", "/clang foo.s -o prog " RACE_LINK);
    EXPECT("-fgoroutine-race -c foo.c bar.S", "/clang " RACE_COMPILE " -c foo.c bar.S");
}

static void test_race_link_only(void) {
    /* No compile flags at all, TSan's included, in a link of objects. */
    EXPECT("-fgoroutine-race foo.o bar.o -o prog", "/clang foo.o bar.o -o prog " RACE_LINK);
    EXPECT("-fgoroutine-race main.o -L. -lworker -o prog",
           "/clang main.o -L. -lworker -o prog " RACE_LINK);
    EXPECT("-fgoroutine-race main.o libworker.a", "/clang main.o libworker.a " RACE_LINK);
}

static void test_race_compile_and_link(void) {
    EXPECT("-fgoroutine-race foo.c -o prog", "/clang " RACE_COMPILE " foo.c -o prog " RACE_LINK);
    EXPECT("-fgoroutine-race -O2 a.c b.c c.o -lm -o prog",
           "/clang " RACE_COMPILE " -O2 a.c b.c c.o -lm -o prog " RACE_LINK);
    EXPECT("-fgoroutine-race -x c - -o prog",
           "/clang " RACE_COMPILE " -x c - -o prog -x none " RACE_LINK);
    EXPECT("-fgoroutine-race @args", "/clang " RACE_COMPILE " @args " RACE_LINK);
}

static void test_race_shared(void) {
    EXPECT("-fgoroutine-race -shared -fPIC foo.c -o libfoo.so",
           "/clang " RACE_COMPILE " -shared -fPIC foo.c -o libfoo.so");
    EXPECT("-fgoroutine-race -shared foo.o -o libfoo.so", "/clang -shared foo.o -o libfoo.so");
}

static void test_race_debug_levels(void) {
    /* The user's debug level is kept, -g0 included. */
    EXPECT("-fgoroutine-race -g0 -c foo.c", "/clang " RACE_COMPILE_NO_G " -g0 -c foo.c");
    EXPECT("-fgoroutine-race -g -c foo.c", "/clang " RACE_COMPILE_NO_G " -g -c foo.c");
    EXPECT("-fgoroutine-race -g1 -c foo.c", "/clang " RACE_COMPILE_NO_G " -g1 -c foo.c");
    EXPECT("-fgoroutine-race -ggdb3 -c foo.c", "/clang " RACE_COMPILE_NO_G " -ggdb3 -c foo.c");
    EXPECT("-fgoroutine-race -gline-tables-only -c foo.c",
           "/clang " RACE_COMPILE_NO_G " -gline-tables-only -c foo.c");
    EXPECT("-fgoroutine-race -gdwarf-4 -c foo.c", "/clang " RACE_COMPILE_NO_G " -gdwarf-4 -c foo.c");
    /* Feature switches are not levels. */
    EXPECT("-fgoroutine-race -gz -c foo.c", "/clang " RACE_COMPILE " -gz -c foo.c");
    EXPECT("-fgoroutine-race -gsplit-dwarf -c foo.c",
           "/clang " RACE_COMPILE " -gsplit-dwarf -c foo.c");
    EXPECT("-fgoroutine-race -gno-column-info -c foo.c",
           "/clang " RACE_COMPILE " -gno-column-info -c foo.c");
}

static void test_race_optimisation_levels(void) {
    EXPECT("-fgoroutine-race -O0 -c foo.c", "/clang " RACE_COMPILE " -O0 -c foo.c");
    EXPECT("-fgoroutine-race -O3 -c foo.c", "/clang " RACE_COMPILE " -O3 -c foo.c");
    EXPECT("-fgoroutine-race -Ofast -fomit-frame-pointer -c foo.c",
           "/clang " RACE_COMPILE " -Ofast -fomit-frame-pointer -c foo.c");
}

static void test_race_passthrough(void) {
    EXPECT("-fgoroutine-race --version", "/clang --version");
    EXPECT("-fgoroutine-race -v", "/clang -v");
    EXPECT("-fgoroutine-race -###", "/clang -###");
    EXPECT("-fgoroutine-race -### foo.o", "/clang -### foo.o " RACE_LINK);
}

static void test_missing_paths(void) {
    driver_config no_plugin = {"/clang", "/inc", "/lib", NULL};
    CU_ASSERT_STRING_EQUAL(rewrite_with(&no_plugin, "-fgoroutine-race foo.o"),
                           "/clang foo.o " RACE_LINK);
    CU_ASSERT_STRING_EQUAL(rewrite_with(&no_plugin, "-fgoroutine-race -E foo.c"),
                           "/clang " RACE_PP " -E foo.c");
    CU_ASSERT_PTR_NOT_NULL(strstr(rewrite_with(&no_plugin, "-fgoroutine-race -c foo.c"),
                                  "error: goroutine-cc: -fgoroutine-race needs the race pass plugin"));
    CU_ASSERT_STRING_EQUAL(rewrite_with(&no_plugin, "-c foo.c"), "/clang -I/inc -c foo.c");

    driver_config no_lib = {"/clang", "/inc", NULL, NULL};
    CU_ASSERT_STRING_EQUAL(rewrite_with(&no_lib, "-c foo.c"), "/clang -I/inc -c foo.c");
    CU_ASSERT_STRING_EQUAL(rewrite_with(&no_lib, "-shared foo.o"), "/clang -shared foo.o");
    CU_ASSERT_PTR_NOT_NULL(strstr(rewrite_with(&no_lib, "foo.o"), "error: "));

    driver_config nothing = {"/clang", NULL, NULL, NULL};
    CU_ASSERT_STRING_EQUAL(rewrite_with(&nothing, "--version"), "/clang --version");
    CU_ASSERT_PTR_NOT_NULL(strstr(rewrite_with(&nothing, "-E foo.c"), "error: "));
}

static void test_print_config_option(void) {
    EXPECT("--goroutine-print-config -c foo.c", "/clang -I/inc -c foo.c");
    driver_plan p = plan_of("--goroutine-print-config");
    CU_ASSERT_TRUE(p.print_config);
    CU_ASSERT_FALSE(p.has_inputs);
}

static void test_plans(void) {
    driver_plan p = plan_of("-fgoroutine-race -c foo.c");
    CU_ASSERT_TRUE(p.race);
    CU_ASSERT_EQUAL(p.phase, DRIVER_COMPILE);
    CU_ASSERT_TRUE(p.compiles);
    CU_ASSERT_FALSE(p.links_runtime);

    p = plan_of("-fgoroutine-race foo.o");
    CU_ASSERT_EQUAL(p.phase, DRIVER_LINK);
    CU_ASSERT_FALSE(p.compiles);
    CU_ASSERT_FALSE(p.preprocesses);
    CU_ASSERT_TRUE(p.links_runtime);

    p = plan_of("-M -c foo.c");
    CU_ASSERT_EQUAL(p.phase, DRIVER_PREPROCESS);
    CU_ASSERT_TRUE(p.preprocesses);
    CU_ASSERT_FALSE(p.compiles);

    p = plan_of("-shared foo.c");
    CU_ASSERT_TRUE(p.compiles);
    CU_ASSERT_FALSE(p.links_runtime);

    p = plan_of("--version");
    CU_ASSERT_FALSE(p.has_inputs);
    CU_ASSERT_FALSE(p.race);
}

static void test_arguments_with_spaces_are_kept_whole(void) {
    char *argv[] = {"goroutine-cc", "-fgoroutine-race", "-DMSG=\"a b\"", "my file.c",
                    "-o", "my prog", NULL};
    driver_command cmd;
    CU_ASSERT_PTR_NULL_FATAL(driver_rewrite(&full, 6, argv, &cmd));
    int i = 0;
    while (i < cmd.argc && strcmp(cmd.argv[i], "-DMSG=\"a b\"") != 0) i++;
    CU_ASSERT_FATAL(i + 3 < cmd.argc);
    CU_ASSERT_STRING_EQUAL(cmd.argv[i + 1], "my file.c");
    CU_ASSERT_STRING_EQUAL(cmd.argv[i + 2], "-o");
    CU_ASSERT_STRING_EQUAL(cmd.argv[i + 3], "my prog");
    CU_ASSERT_PTR_EQUAL(cmd.argv[i + 1], argv[3]); /* the user's own strings */
    driver_command_free(&cmd);
}

static const harness_case plain_cases[] = {
    {"compile only (-c, -S, -fsyntax-only)", test_plain_compile_only},
    {"preprocess only (-E, -M, -MM)", test_plain_preprocess},
    {"dependency options (-MD, -MF, -MT, -MQ)", test_plain_dependency_options},
    {"link only", test_plain_link_only},
    {"compile and link", test_plain_compile_and_link},
    {"-shared and -r links carry no runtime", test_plain_shared_and_relocatable},
    {"-x languages", test_plain_languages},
    {"input kinds by extension", test_plain_extensions},
    {"response files", test_plain_response_files},
    {"no inputs: passthrough", test_plain_passthrough},
    {"debug and optimisation levels untouched", test_plain_debug_and_optimisation_untouched},
    {"--", test_dash_dash},
    {"missing option values", test_missing_value_is_left_to_clang},
    {NULL, NULL},
};

static const harness_case race_cases[] = {
    {"compile only", test_race_compile_only},
    {"-fgoroutine-race / -fno-goroutine-race", test_race_flag_last_wins},
    {"preprocess only", test_race_preprocess},
    {"assembly", test_race_assembly},
    {"link only", test_race_link_only},
    {"compile and link", test_race_compile_and_link},
    {"-shared", test_race_shared},
    {"user debug levels", test_race_debug_levels},
    {"optimisation levels", test_race_optimisation_levels},
    {"no inputs: passthrough", test_race_passthrough},
    {NULL, NULL},
};

static const harness_case driver_cases[] = {
    {"missing paths", test_missing_paths},
    {"--goroutine-print-config", test_print_config_option},
    {"plans", test_plans},
    {"arguments with spaces", test_arguments_with_spaces_are_kept_whole},
    {NULL, NULL},
};

int main(int argc, char **argv) {
    static const harness_suite suites[] = {
        {"driver without -fgoroutine-race", plain_cases},
        {"driver with -fgoroutine-race", race_cases},
        {"driver", driver_cases},
        {NULL, NULL},
    };
    return harness_main(argc, argv, suites, NULL);
}

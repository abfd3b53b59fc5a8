#!/bin/sh
# e2e.sh - goroutine-cc end to end: builds the programs in e2e/ with a built
# goroutine-cc the ways build systems do, runs them and checks their output.
#
# Usage: e2e.sh MODE GOROUTINE_CC AR SRCDIR WORKDIR [FLAG...]
#   MODE  plain        no -fgoroutine-race: every build shape below
#         race         the same shapes under -fgoroutine-race, plus what clang
#                      was asked to do (-###): plugin and TSan flags at compile
#                      steps only, the race runtime after the user's objects
#         race-detect  a racy program is reported and exits with status 66
#   FLAGs go to every goroutine-cc command (a sanitized build's -fsanitize).
# The race modes exit 77 (skipped) with the reason when the race runtime or
# the pass plugin is not built yet, or when FLAGs are given: a race build
# does not combine with other sanitizers.
set -eu

mode=$1 cc=$2 ar=$3 src=$4 work=$5
shift 5

fail() {
    echo "FAIL: $*"
    exit 1
}
skip() {
    echo "SKIPPED: $*"
    exit 77
}
# Runs a command, echoing it first.
run() {
    echo "+ $*"
    "$@" || fail "exit status $?: $*"
}
# Runs ./PROGRAM and compares its output with EXPECTED.
check_output() {
    echo "+ ./$1"
    out=$("./$1" 2>&1) || fail "./$1 exited with status $?: $out"
    [ "$out" = "$2" ] || fail "./$1 printed '$out', expected '$2'"
}
# Fails unless TEXT has (or has no) line matching the grep pattern.
expect_match() {
    printf '%s\n' "$1" | grep -q -e "$2" || fail "expected '$2' in:
$(printf '%s\n' "$1" | head -n 20)"
}
expect_no_match() {
    if printf '%s\n' "$1" | grep -q -e "$2"; then
        fail "unexpected: $(printf '%s\n' "$1" | grep -e "$2" | head -n 5)"
    fi
}

rm -rf "$work"
mkdir -p "$work"
cd "$work"
cp "$src"/*.c "$src"/*.h .

race=""
expected="sum 14"
if [ "$mode" != plain ]; then
    [ $# -eq 0 ] || skip "-fgoroutine-race does not combine with $*"
    config=$("$cc" -fgoroutine-race --goroutine-print-config) || fail "--goroutine-print-config failed"
    for what in "race runtime" "race plugin"; do
        line=$(printf '%s\n' "$config" | grep "^$what: ") || fail "no '$what' in: $config"
        case $line in
        *missing* | *unknown*) skip "$line" ;;
        esac
    done
    race=-fgoroutine-race
    expected="sum 14
race build"
fi

gocc() {
    run "$cc" $race "$@"
}

if [ "$mode" = race-detect ]; then
    gocc -O1 "$@" racy.c -o racy
    echo "+ ./racy"
    status=0
    out=$(./racy 2>&1) || status=$?
    printf '%s\n' "$out"
    [ "$status" -eq 66 ] || fail "./racy exited with status $status, expected 66"
    expect_match "$out" "WARNING: DATA RACE"
    expect_match "$out" "racy.c:"
    echo PASS
    exit 0
fi

# Compile and link in one step, at two optimisation levels.
gocc -O0 "$@" hello.c -o hello
check_output hello "got 42"
gocc -O2 "$@" hello.c -o hello_O2
check_output hello_O2 "got 42"

# Compile apart (-o given, then the default name), link objects only.
gocc "$@" -c main.c -o main.o
gocc "$@" -c worker.c
[ -f worker.o ] || fail "-c without -o did not write worker.o"
gocc "$@" main.o worker.o -o split
check_output split "$expected"

# Several sources in one step, sources and objects mixed.
gocc "$@" main.c worker.c -o multi
check_output multi "$expected"
gocc "$@" main.c worker.o -o mixed
check_output mixed "$expected"

# A static archive of instrumented objects, made by ar, by -l and by path.
run "$ar" rcs libworker.a worker.o
gocc "$@" main.o -L. -lworker -o archived
check_output archived "$expected"
gocc "$@" main.o libworker.a -o archived_path
check_output archived_path "$expected"

# A shared object does not carry the runtime; the executable does.
gocc "$@" -fPIC -shared worker.c -o libworker.so
if command -v nm >/dev/null; then
    defined=$(nm -D --defined-only libworker.so)
    expect_no_match "$defined" " go_chan_send$"
fi
gocc "$@" main.o libworker.so "-Wl,-rpath,$work" -o with_shared
check_output with_shared "$expected"

# Standard input, and a source with an extension clang does not know.
echo "+ $cc $race $* -x c - -o from_stdin < hello.c"
"$cc" $race "$@" -x c - -o from_stdin <hello.c || fail "compiling standard input"
check_output from_stdin "got 42"
cp hello.c hello.txt
gocc "$@" -x c hello.txt -o from_txt
check_output from_txt "got 42"

# Through assembly (-S, then the .s as input).
gocc "$@" -S hello.c -o hello.s
gocc "$@" hello.s -o from_asm
check_output from_asm "got 42"

# A response file holding the link's inputs.
echo "main.o worker.o -o from_rsp" >link.rsp
gocc "$@" @link.rsp
check_output from_rsp "$expected"

# Preprocessing only: the include directory, GOROUTINE_RACE, dependencies.
echo "+ $cc $race -E -dM hello.c"
macros=$("$cc" $race "$@" -E -dM hello.c) || fail "-E -dM"
if [ -n "$race" ]; then
    expect_match "$macros" "^#define GOROUTINE_RACE 1$"
else
    expect_no_match "$macros" "^#define GOROUTINE_RACE "
fi
deps=$("$cc" $race "$@" -MM hello.c) || fail "-MM"
expect_match "$deps" "goroutine.h"
gocc "$@" -c -MD -MF hello.d hello.c -o hello.o
expect_match "$(cat hello.d)" "goroutine.h"

# Untouched without inputs.
expect_match "$("$cc" $race --version)" "clang version"

if [ -n "$race" ]; then
    # What clang ran: cc1 gets the plugin, TSan's attribute support, debug
    # info and frame pointers; the link gets the race runtime after the
    # user's objects and never TSan's runtime.
    steps=$("$cc" $race -### main.c worker.o -o x 2>&1) || fail "-###: $steps"
    cc1=$(printf '%s\n' "$steps" | grep -e '"-cc1"')
    link=$(printf '%s\n' "$steps" | grep -v -e '"-cc1"' | grep -e '"-o" "x"')
    expect_match "$cc1" '"-fpass-plugin=[^"]*libGoRacePass-[0-9]*\.so"'
    expect_match "$cc1" '"-fsanitize=thread"'
    expect_match "$cc1" '"-debug-info-kind='
    expect_match "$cc1" '"-mframe-pointer=all"'
    expect_match "$link" '"worker.o".*libgoroutine-race\.a".*"-lunwind"'
    expect_no_match "$link" 'tsan'
    steps=$("$cc" $race -### main.o -o x 2>&1) || fail "-###: $steps"
    expect_no_match "$steps" 'sanitize'
    expect_no_match "$steps" 'pass-plugin'
fi
echo PASS

# lit.cfg.py - tests of the race instrumentation pass (instrument/pass/).
#
# Each test is a C file (or LLVM IR) whose RUN lines compile it to IR with
# the plugin loaded and whose CHECK lines are what FileCheck expects of that
# IR. Nothing is linked: the detector runtime is not needed. clang skips the
# IR verifier in release builds, so the output goes through %verify:
#
#   // RUN: %gorace_cc -O2 %s | %verify | FileCheck %s
#
# Substitutions:
#   %gorace_cc    clang of the plugin's LLVM, loading the plugin, emitting
#                 textual IR on stdout for x86-64 Linux: add -O0..-O3, a
#                 source file, and any flags.
#   %race_flags   the ThreadSanitizer flags goroutine-cc adds in race builds
#                 (so that no_sanitize("thread") is visible to the pass).
#   %verify       opt running the IR verifier, printing the module again.
#   %opt_gorace   opt running only the pass on IR: `%opt_gorace %s`.
# FileCheck and the other LLVM tools of that LLVM are on PATH.
#
# Features, for IR tests: `typed-pointer-ir` when opt reads i32* (LLVM 14 to
# 16) and `opaque-pointer-ir` when it reads ptr (LLVM 15 on).
import os
import shlex

import lit.formats

config.name = "goroutine-pass"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".c", ".ll"]
config.excludes = ["lit.cfg.py", "lit.site.cfg.py.in"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.pass_tests_obj_root

config.environment["PATH"] = os.pathsep.join(
    [config.llvm_tools_dir, config.environment.get("PATH", "")])

major = config.llvm_version_major
if major < 17:
    config.available_features.add("typed-pointer-ir")
if major >= 15:
    config.available_features.add("opaque-pointer-ir")

clang = os.path.join(config.llvm_tools_dir, "clang")
opt = os.path.join(config.llvm_tools_dir, "opt")
plugin = config.plugin
gorace_cc = [clang, "--target=x86_64-unknown-linux-gnu", "-fpass-plugin=" + plugin,
             "-S", "-emit-llvm", "-o", "-"]
# clang turns -fno-sanitize-thread-memory-access into
# -mllvm -tsan-instrument-memintrinsics=0 itself (14 and 15 at least), and
# LLVM rejects the option given twice, so it is not repeated here.
race_flags = ["-fsanitize=thread", "-fno-sanitize-thread-memory-access",
              "-fno-sanitize-thread-func-entry-exit", "-fno-sanitize-thread-atomics"]
opt_gorace = [opt, "-load-pass-plugin=" + plugin, "-passes=gorace", "-S"]

config.substitutions.append(("%gorace_cc", shlex.join(gorace_cc)))
config.substitutions.append(("%race_flags", shlex.join(race_flags)))
config.substitutions.append(("%opt_gorace", shlex.join(opt_gorace)))
config.substitutions.append(("%verify", shlex.join([opt, "-passes=verify", "-S"])))

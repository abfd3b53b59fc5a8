// Coverage and profiling counters are incremented without synchronisation
// on purpose: not checked. The program's own accesses still are.
// RUN: %gorace_cc -O2 -fprofile-instr-generate %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 --coverage -Xclang -coverage-notes-file=%t.gcno %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 -fsanitize-coverage=inline-8bit-counters %s | %verify | FileCheck %s

int shared;
void set(int c) {
  if (c)
    shared = 1;
}
// CHECK-LABEL: define {{.*}}@set(
// CHECK-NOT: @__gorace_{{.*(__profc|__llvm_gcov_ctr|__sancov_gen)}}
// CHECK: call void @__gorace_write4({{.*}}@shared
// CHECK-NOT: @__gorace_{{.*(__profc|__llvm_gcov_ctr|__sancov_gen)}}
// CHECK: ret void

// The pass runs exactly once at every optimisation level (at -O0 on optnone
// functions too), under ThinLTO's pre-link pipeline, and a module that is
// compiled again (as IR) is not instrumented twice.
// RUN: %gorace_cc -O0 %s | %verify | FileCheck %s
// RUN: %gorace_cc -O1 %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 %s | %verify | FileCheck %s
// RUN: %gorace_cc -O3 %s | %verify | FileCheck %s
// RUN: %gorace_cc -Os %s | %verify | FileCheck %s
// RUN: %gorace_cc -Oz %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 -flto=thin %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 %s > %t.ll && %gorace_cc -O2 %t.ll | %verify | FileCheck %s
// RUN: %gorace_cc -O0 %s | %opt_gorace | %verify | FileCheck %s

int shared;
int bump(void) { return ++shared; }
// CHECK-LABEL: define {{.*}}@bump(
// CHECK: call void @__gorace_func_entry(
// CHECK-NOT: call void @__gorace_func_entry(
// CHECK: call void @__gorace_write4(
// CHECK-NOT: call void @__gorace_write4(
// CHECK: call void @__gorace_func_exit()
// CHECK-NOT: call void @__gorace_func_exit()
// CHECK: ret i32

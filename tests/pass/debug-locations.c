// Each inserted call carries the debug location of the access it checks:
// the detector's return address then maps to the access's file:line:column.
// The entry call carries the function's opening line.
// RUN: %gorace_cc -O2 -g %s | %verify | FileCheck %s

int shared;
int get(int *p) {
  return *p +
         shared;
}
// CHECK-LABEL: define {{.*}}@get(
// CHECK: call void @__gorace_func_entry({{.*}}), !dbg [[ENTRY:![0-9]+]]
// CHECK-DAG: call void @__gorace_read4({{.*}}), !dbg [[LINE8:![0-9]+]]
// CHECK-DAG: call void @__gorace_read4({{.*}}@shared{{.*}}), !dbg [[LINE9:![0-9]+]]
// CHECK: call void @__gorace_func_exit(), !dbg [[RET:![0-9]+]]
// CHECK-NEXT: ret i32 %{{[0-9]+}}, !dbg [[RET]]
// CHECK-DAG: [[ENTRY]] = !DILocation(line: 7, scope:
// CHECK-DAG: [[LINE8]] = !DILocation(line: 8, column: 10,
// CHECK-DAG: [[LINE9]] = !DILocation(line: 9, column: 10,

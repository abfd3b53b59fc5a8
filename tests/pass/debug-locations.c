// Each inserted call carries the debug location of the access it checks:
// the detector's return address then maps to the access's file:line:column.
// The entry call carries the function's opening line.
//
// Where the optimiser left an access or a call at line 0 (merged from both
// arms of an if/else) or without a location (hoisted out of a loop), the
// inserted call, and the call itself, borrow the nearest earlier line
// instead, so no report frame reads line 0; the access keeps its own.
// RUN: %gorace_cc -O2 -g %s | %verify | FileCheck %s

int shared;
int get(int *p) {
  return *p +
         shared;
}
// CHECK-LABEL: define {{.*}}@get(
// CHECK: call void @__gorace_func_entry({{.*}}), !dbg [[ENTRY:![0-9]+]]
// CHECK-DAG: call void @__gorace_read4({{.*}}), !dbg [[LINE13:![0-9]+]]
// CHECK-DAG: call void @__gorace_read4({{.*}}@shared{{.*}}), !dbg [[LINE14:![0-9]+]]
// CHECK: call void @__gorace_func_exit(), !dbg [[RET:![0-9]+]]
// CHECK-NEXT: ret i32 %{{[0-9]+}}, !dbg [[RET]]

int level;
void set_level(int high) {
  if (high)
    level = 1;
  else
    level = 2;
}
// CHECK-LABEL: define {{.*}}@set_level(
// CHECK: call void @__gorace_write4({{.*}}@level{{.*}}), !dbg [[LINE25:![0-9]+]]
// CHECK-NEXT: store i32 %{{[0-9]+}}, {{.*}}@level, align 4, !dbg [[MERGED_STORE:![0-9]+]]

void note(int *);
int hits, misses;
void count(int seen) {
  if (seen)
    note(&hits);
  else
    note(&misses);
}
// CHECK-LABEL: define {{.*}}@count(
// CHECK: call void @note({{.*}}){{.*}}, !dbg [[LINE37:![0-9]+]]

long total;
void accumulate(long n) {
  for (long i = 0; i < n; i++) {
    if (i & 1)
      total += 3;
    else
      total += 5;
  }
}
// CHECK-LABEL: define {{.*}}@accumulate(
// CHECK: call void @__gorace_read8({{.*}}@total{{.*}}), !dbg [[LINE47:![0-9]+]]
// CHECK-NEXT: load i64, {{.*}}@total, align 8{{$}}
// CHECK: call void @__gorace_write8({{.*}}@total{{.*}}), !dbg [[LINE48:![0-9]+]]
// CHECK-NEXT: store i64 %{{[0-9]+}}, {{.*}}@total, align 8, !dbg [[SUNK_STORE:![0-9]+]]

// CHECK-DAG: [[ENTRY]] = !DILocation(line: 12, scope:
// CHECK-DAG: [[LINE13]] = !DILocation(line: 13, column: 10,
// CHECK-DAG: [[LINE14]] = !DILocation(line: 14, column: 10,
// CHECK-DAG: [[LINE25]] = !DILocation(line: 25, column: 7,
// CHECK-DAG: [[MERGED_STORE]] = !DILocation(line: 0,
// CHECK-DAG: [[LINE37]] = !DILocation(line: 37, column: 7,
// CHECK-DAG: [[LINE47]] = !DILocation(line: 47, column: 3,
// CHECK-DAG: [[LINE48]] = !DILocation(line: 48, column: 9,
// CHECK-DAG: [[SUNK_STORE]] = !DILocation(line: 0,

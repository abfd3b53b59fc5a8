// Naturally aligned scalars of 1, 2, 4, 8 and 16 bytes are checked by the
// fixed-size entry points, immediately before the access. At -O0 the
// parameters' stack slots do not escape, so only the accesses through the
// parameters are checked.
// RUN: %gorace_cc -O0 %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 %s | %verify | FileCheck %s

void writes(_Bool *b, char *c, short *s, int *i, long *l, __int128 *w, void **p, float *f,
            double *d) {
  *b = 1;
  *c = 2;
  *s = 3;
  *i = 4;
  *l = 5;
  *w = 6;
  *p = 0;
  *f = 7;
  *d = 8;
}
// CHECK-LABEL: define {{.*}}@writes(
// CHECK: call void @__gorace_write1(
// CHECK-NEXT: store i8 1,
// CHECK: call void @__gorace_write1(
// CHECK-NEXT: store i8 2,
// CHECK: call void @__gorace_write2(
// CHECK-NEXT: store i16 3,
// CHECK: call void @__gorace_write4(
// CHECK-NEXT: store i32 4,
// CHECK: call void @__gorace_write8(
// CHECK-NEXT: store i64 5,
// CHECK: call void @__gorace_write16(
// CHECK-NEXT: store i128 6,
// CHECK: call void @__gorace_write8(
// CHECK-NEXT: store {{i8\*|ptr}} null,
// CHECK: call void @__gorace_write4(
// CHECK-NEXT: store float 7.0
// CHECK: call void @__gorace_write8(
// CHECK-NEXT: store double 8.0
// CHECK-NOT: @__gorace_{{read|write}}
// CHECK: ret void

long reads(char *c, short *s, int *i, long *l, __int128 *w, double *d) {
  return *c + *s + *i + *l + (long)*w + (long)*d;
}
// CHECK-LABEL: define {{.*}}@reads(
// CHECK-DAG: call void @__gorace_read1(
// CHECK-DAG: call void @__gorace_read2(
// CHECK-DAG: call void @__gorace_read4(
// CHECK-DAG: call void @__gorace_read8(
// CHECK-DAG: call void @__gorace_read16(
// CHECK-DAG: call void @__gorace_read8(
// CHECK-NOT: @__gorace_{{read|write}}
// CHECK: ret i64

// Each call sits right before its own access.
int read_then_use(int *p) { return *p; }
// CHECK-LABEL: define {{.*}}@read_then_use(
// CHECK: call void @__gorace_read4({{.*}})
// CHECK-NEXT: load i32, {{i32\*|ptr}} %{{[0-9]+}}, align 4

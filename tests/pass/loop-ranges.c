// Loops that walk memory contiguously and cannot synchronise are checked
// once, as a range, before the loop (instrument/pass/LoopRanges.cpp);
// everything else keeps a check per access. -O0 leaves loops alone.
// RUN: %gorace_cc -O0 %s | %verify | FileCheck %s --check-prefix=O0
// RUN: %gorace_cc -O2 -fno-vectorize -fno-unroll-loops %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 %s | %verify | FileCheck %s --check-prefix=VEC

void work(void);
struct point {
  long x, y;
};

void fill(long *a, long n) {
  for (long i = 0; i < n; i++)
    a[i] = i;
}
// O0-LABEL: define {{.*}}@fill(
// O0: call void @__gorace_write8(
// CHECK-LABEL: define {{.*}}@fill(
// CHECK: call void @__gorace_write_range(
// CHECK-NOT: call void @__gorace_write8(

// The read of a[i] is inside the written range: one write range.
void prefix_sums(long *a, long n) {
  long s = 0;
  for (long i = 0; i < n; i++) {
    s += a[i];
    a[i] = s;
  }
}
// CHECK-LABEL: define {{.*}}@prefix_sums(
// CHECK: call void @__gorace_write_range(
// CHECK-NOT: call void @__gorace_read
// CHECK-NOT: call void @__gorace_write8(

void copy_down(long *dst, const long *src, long n) {
  for (long i = n - 1; i >= 0; i--)
    dst[i] = src[i] + 1;
}
// CHECK-LABEL: define {{.*}}@copy_down(
// CHECK-DAG: call void @__gorace_write_range(
// CHECK-DAG: call void @__gorace_read_range(
// CHECK-NOT: call void @__gorace_{{read|write}}8(

// The loop may stop early: elements after the first zero are not touched.
void until_zero(long *a, long n) {
  for (long i = 0; i < n; i++) {
    if (a[i] == 0)
      break;
    a[i] = 1;
  }
}
// CHECK-LABEL: define {{.*}}@until_zero(
// CHECK-NOT: call void @__gorace_{{read|write}}_range(
// CHECK: call void @__gorace_read8(
// CHECK: call void @__gorace_write8(

// A call may synchronise.
void with_call(long *a, long n) {
  for (long i = 0; i < n; i++) {
    a[i] = 1;
    work();
  }
}
// CHECK-LABEL: define {{.*}}@with_call(
// CHECK-NOT: call void @__gorace_write_range(
// CHECK: call void @__gorace_write8(

// Only x is written: a range would cover the y fields in between.
void strided(struct point *p, long n) {
  for (long i = 0; i < n; i++)
    p[i].x = 0;
}
// CHECK-LABEL: define {{.*}}@strided(
// CHECK-NOT: call void @__gorace_write_range(
// CHECK: call void @__gorace_write8(

// Both fields: the writes of one iteration cover its whole stride.
void both_fields(struct point *p, long n) {
  for (long i = 0; i < n; i++) {
    p[i].x = i;
    p[i].y = -i;
  }
}
// CHECK-LABEL: define {{.*}}@both_fields(
// CHECK: call void @__gorace_write_range(
// CHECK-NOT: call void @__gorace_write8(

// Vectorised and interleaved: the vector loop and the scalar remainder
// are each one range per array.
void add(int *restrict a, const int *restrict b, long n) {
  for (long i = 0; i < n; i++)
    a[i] += b[i];
}
// VEC-LABEL: define {{.*}}@add(
// VEC-NOT: call void @__gorace_{{read|write}}4(
// VEC: call void @__gorace_write_range(
// VEC-NOT: call void @__gorace_{{read|write}}4(

// What cannot race is not checked: local objects whose address never
// escapes, constant globals, memory outside address space 0, profiling
// counters, and a read followed in the same block by a write of the same
// address with no call, atomic or fence in between.
// RUN: %gorace_cc -O0 %s | %verify | FileCheck %s --check-prefixes=CHECK,O0
// RUN: %gorace_cc -O2 %s | %verify | FileCheck %s --check-prefixes=CHECK,O2

void take(void *);
void work(void);

// -O0 keeps x in a stack slot; nobody else can see it.
int private_local(void) {
  int x = 1;
  x += 2;
  return x;
}
// CHECK-LABEL: define {{.*}}@private_local(
// CHECK-NOT: @__gorace
// CHECK: ret i32

int escaping_local(void) {
  int x = 1;
  take(&x);
  return x;
}
// O0-LABEL: define {{.*}}@escaping_local(
// O0: call void @__gorace_write4(
// O0-NEXT: store i32 1,
// O0: call void @take(
// O0: call void @__gorace_read4(
// O0-NEXT: load i32,
// O2-LABEL: define {{.*}}@escaping_local(
// O2: call void @__gorace_write4(
// O2-NEXT: store i32 1,
// O2: call void @take(
// O2: call void @__gorace_read4(
// O2-NEXT: load i32,

// Once &a[0] has escaped, a[1] is reachable too (the capture analysis
// follows the object, not the address of the access).
int escaped_array(void) {
  int a[2] = {0, 0};
  take(&a[0]);
  return a[1];
}
// O2-LABEL: define {{.*}}@escaped_array(
// O2: call void @take(
// O2: call void @__gorace_read4(
// O2-NEXT: load i32,

// A struct passed by value is the callee's own copy.
struct Big {
  long x[8];
};
long by_value(struct Big b) { return b.x[3]; }
// CHECK-LABEL: define {{.*}}@by_value(
// CHECK-NOT: @__gorace
// CHECK: ret i64

const int table[4] = {1, 2, 3, 5};
int constant_data(int i) { return table[i] + "abcd"[i]; }
// CHECK-LABEL: define {{.*}}@constant_data(
// CHECK-NOT: @__gorace
// CHECK: ret i32

// x86's %fs/%gs-relative memory is not an address the detector can shadow.
int segment(int __seg_fs *p) { return *p; }
// CHECK-LABEL: define {{.*}}@segment(
// CHECK-NOT: @__gorace
// CHECK: ret i32

// A read and then a write of the same address: the write alone is checked,
// a race with the read would be one with the write as well.
void increment(int *p) { *p += 1; }
// O2-LABEL: define {{.*}}@increment(
// O2-NOT: @__gorace_read
// O2: call void @__gorace_write4(
// O2-NEXT: store i32
// O2-NOT: @__gorace_read
// O2: ret void

// ...but not across a call, which may synchronise,
void increment_around_call(int *p) {
  int v = *p;
  work();
  *p = v + 1;
}
// O2-LABEL: define {{.*}}@increment_around_call(
// O2: call void @__gorace_read4(
// O2: call void @work()
// O2: call void @__gorace_write4(

// ...nor across an atomic operation or fence,
void increment_around_fence(int *p) {
  int v = *p;
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  *p = v + 1;
}
// O2-LABEL: define {{.*}}@increment_around_fence(
// O2: call void @__gorace_read4(
// O2: call void @__gorace_atomic_thread_fence(i32 2)
// O2: call void @__gorace_write4(

// ...nor when the write covers less than the read,
void narrower_write(int *p) {
  int v = *p;
  *(char *)p = (char)(v + 1);
}
// O2-LABEL: define {{.*}}@narrower_write(
// O2: call void @__gorace_read4(
// O2: call void @__gorace_write1(

// ...nor when they are in different blocks.
int write_in_other_block(int *p, int c) {
  int v = *p;
  if (c)
    *p = v + 1;
  return v;
}
// O2-LABEL: define {{.*}}@write_in_other_block(
// O2: call void @__gorace_read4(
// O2: br i1
// O2: call void @__gorace_write4(

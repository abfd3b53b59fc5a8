// memcpy, memmove and memset whose memory may be shared are performed by
// the detector. When one side is private, or the intrinsic must stay one
// (volatile, __builtin_memcpy_inline), the intrinsic stays and the shared
// sides are checked as ranges.
// RUN: %gorace_cc -O0 %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 %s | %verify | FileCheck %s

typedef __SIZE_TYPE__ size_t;
void *memcpy(void *, const void *, size_t);
void *memmove(void *, const void *, size_t);
void *memset(void *, int, size_t);

char shared[64];

void copy(char *d, const char *s, size_t n) { memcpy(d, s, n); }
// CHECK-LABEL: define {{.*}}@copy(
// CHECK: call {{.*}}@__gorace_memcpy({{.*}}, i64 %{{[0-9a-z.]+}})
// CHECK-NOT: @llvm.memcpy
// CHECK: ret void

void move(char *d, size_t n) { memmove(d, d + 1, n); }
// CHECK-LABEL: define {{.*}}@move(
// CHECK: call {{.*}}@__gorace_memmove(
// CHECK-NOT: @llvm.memmove
// CHECK: ret void

void fill(char *d, int c, size_t n) { memset(d, c, n); }
// CHECK-LABEL: define {{.*}}@fill(
// CHECK: [[BYTE:%[0-9a-z.]+]] = trunc i32 %{{.*}} to i8
// CHECK: [[FILL:%[0-9]+]] = zext i8 [[BYTE]] to i32
// CHECK: call {{.*}}@__gorace_memset({{.*}}, i32 [[FILL]], i64 %{{[0-9a-z.]+}})
// CHECK-NOT: @llvm.memset
// CHECK: ret void

// The copy into a private buffer only reads shared memory.
int snapshot(void) {
  char local[16];
  memcpy(local, shared, sizeof local);
  int sum = 0;
  for (int i = 0; i < 16; i++)
    sum += local[i];
  return sum;
}
// CHECK-LABEL: define {{.*}}@snapshot(
// CHECK-NOT: @__gorace_memcpy
// CHECK-NOT: @__gorace_write
// CHECK: call void @__gorace_read_range({{.*}}@shared{{.*}}, i64 16)
// CHECK-NOT: @__gorace_memcpy
// CHECK-NOT: @__gorace_write
// CHECK: ret i32

struct S {
  int a[8];
};
// Initialising shared memory from a constant only writes.
void init(struct S *out) {
  struct S value = {{1, 2, 3, 4, 5, 6, 7, 8}};
  *out = value;
}
// CHECK-LABEL: define {{.*}}@init(
// CHECK-NOT: @__gorace_read
// CHECK: call void @__gorace_write_range({{.*}}, i64 32)
// CHECK-NEXT: call void @llvm.memcpy
// CHECK-NOT: @__gorace_read
// CHECK: ret void

// Nothing shared, nothing checked.
int private_only(void) {
  char a[32], b[32];
  memset(a, 1, sizeof a);
  memcpy(b, a, sizeof b);
  return b[3];
}
// CHECK-LABEL: define {{.*}}@private_only(
// CHECK-NOT: @__gorace
// CHECK: ret i32

void copy_volatile(volatile struct S *d, struct S *s) { *d = *s; }
// CHECK-LABEL: define {{.*}}@copy_volatile(
// CHECK: call void @__gorace_read_range({{.*}}, i64 32)
// CHECK-NEXT: call void @__gorace_write_range({{.*}}, i64 32)
// CHECK-NEXT: call void @llvm.memcpy{{.*}}, i1 true)

void copy_inline(char *d, const char *s) { __builtin_memcpy_inline(d, s, 32); }
// CHECK-LABEL: define {{.*}}@copy_inline(
// CHECK: call void @__gorace_read_range({{.*}}, i64 32)
// CHECK-NEXT: call void @__gorace_write_range({{.*}}, i64 32)
// CHECK-NEXT: call void @llvm.memcpy.inline

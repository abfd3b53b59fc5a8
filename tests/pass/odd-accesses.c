// Accesses the fixed-size entry points cannot express go through the
// _range calls with their exact size, never dropped: unaligned scalars,
// sizes other than 1, 2, 4, 8 and 16 bytes, vectors.
// RUN: %gorace_cc -O2 %s | %verify | FileCheck %s

struct __attribute__((packed)) Packed {
  char tag;
  int i;
  __int128 w;
};

void unaligned(struct Packed *p) {
  p->i = 1;
  p->w = 2;
}
// CHECK-LABEL: define {{.*}}@unaligned(
// CHECK: call void @__gorace_write_range({{.*}}, i64 4)
// CHECK-NEXT: store i32 1, {{.*}}, align 1
// CHECK: call void @__gorace_write_range({{.*}}, i64 16)
// CHECK-NEXT: store i128 2, {{.*}}, align 1

// An under-aligned type: aligned to 2, a 4-byte access is not natural.
typedef int int_align2 __attribute__((aligned(2)));
int under_aligned(int_align2 *p) { return *p; }
// CHECK-LABEL: define {{.*}}@under_aligned(
// CHECK: call void @__gorace_read_range({{.*}}, i64 4)
// CHECK-NEXT: load i32, {{.*}}, align 2

// 16 bytes aligned to 8 only.
typedef __int128 int128_align8 __attribute__((aligned(8)));
void wide_align8(int128_align8 *p) { *p = 0; }
// CHECK-LABEL: define {{.*}}@wide_align8(
// CHECK: call void @__gorace_write_range({{.*}}, i64 16)
// CHECK-NEXT: store i128 0, {{.*}}, align 8

// x86's long double stores 10 bytes.
long double ld;
void long_double(void) { ld = 1.0L; }
// CHECK-LABEL: define {{.*}}@long_double(
// CHECK: call void @__gorace_write_range({{.*}}@ld{{.*}}, i64 10)
// CHECK-NEXT: store x86_fp80

// A 24-bit bitfield unit is a 3-byte access.
struct __attribute__((packed)) Bits {
  unsigned x : 24;
} bits;
void bitfield24(void) { bits.x = 5; }
// CHECK-LABEL: define {{.*}}@bitfield24(
// CHECK: call void @__gorace_write_range({{.*}}@bits{{.*}}, i64 3)
// CHECK-NEXT: store i24 5

typedef int v4i __attribute__((vector_size(16)));
typedef int v8i __attribute__((vector_size(32)));
void vectors(v4i *a, v8i *b) {
  *a += 1;
  *b = (v8i){0};
}
// The read of *a is covered by the write that follows it.
// CHECK-LABEL: define {{.*}}@vectors(
// CHECK-NOT: __gorace_read
// CHECK: call void @__gorace_write_range({{.*}}, i64 16)
// CHECK-NEXT: store <4 x i32>
// CHECK: call void @__gorace_write_range({{.*}}, i64 32)
// CHECK-NEXT: store <8 x i32>

v4i vector_read(v4i *a) { return *a; }
// CHECK-LABEL: define {{.*}}@vector_read(
// CHECK: call void @__gorace_read_range({{.*}}, i64 16)
// CHECK-NEXT: load <4 x i32>

// A struct copy is a memcpy, performed and checked by the detector.
struct Big {
  long x[5];
};
void struct_copy(struct Big *d, const struct Big *s) { *d = *s; }
// CHECK-LABEL: define {{.*}}@struct_copy(
// CHECK: call {{.*}}@__gorace_memcpy({{.*}}, i64 40)
// CHECK-NOT: llvm.memcpy
// CHECK: ret void

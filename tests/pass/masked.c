// Masked vector accesses touch only the lanes their mask enables: each
// lane is checked on its own, under its mask bit when the mask is not a
// constant. Expand-load and compress-store touch as many consecutive
// elements as the mask has bits set.
// RUN: %gorace_cc -O2 -mavx512f %s | %verify | FileCheck %s

#include <immintrin.h>

__m512i load_some(const int *src, __mmask16 m) {
  return _mm512_mask_loadu_epi32(_mm512_setzero_si512(), m, src);
}
// CHECK-LABEL: define {{.*}}@load_some(
// CHECK: [[ELT0:%[0-9]+]] = extractelement <16 x i1> [[MASK:%[0-9]+]], i64 0
// CHECK-NEXT: [[BIT0:%[0-9]+]] = freeze i1 [[ELT0]]
// CHECK-NEXT: br i1 [[BIT0]], label %[[LANE0:[0-9]+]], label %[[NEXT0:[0-9]+]]
// CHECK: [[LANE0]]:
// CHECK: call void @__gorace_read_range({{.*}}, i64 4)
// CHECK-NEXT: br label %[[NEXT0]]
// CHECK: [[NEXT0]]:
// CHECK-NEXT: extractelement <16 x i1> [[MASK]], i64 1
// CHECK-COUNT-15: call void @__gorace_read_range({{.*}}, i64 4)
// CHECK: call <16 x i32> @llvm.masked.load.v16i32{{.*}}({{.*}}, i32 1, <16 x i1> [[MASK]],
// CHECK-NOT: @__gorace_read
// CHECK: ret

// A constant mask: the eight enabled lanes, unconditionally.
void store_low_half(int *dst, __m512i v) { _mm512_mask_storeu_epi32(dst, 0x00ff, v); }
// CHECK-LABEL: define {{.*}}@store_low_half(
// CHECK-NOT: br
// CHECK-COUNT-8: call void @__gorace_write_range({{.*}}, i64 4)
// CHECK-NOT: @__gorace_write
// CHECK: call void @llvm.masked.store
// CHECK-NOT: @__gorace_write
// CHECK: ret void

void expand_compress(int *dst, const int *src, __mmask16 m) {
  __m512i v = _mm512_mask_expandloadu_epi32(_mm512_setzero_si512(), m, src);
  _mm512_mask_compressstoreu_epi32(dst, m, v);
}
// CHECK-LABEL: define {{.*}}@expand_compress(
// CHECK: [[N1:%[0-9]+]] = call i16 @llvm.ctpop.i16(i16 [[BITS:%[0-9]+]])
// CHECK-NEXT: [[N1W:%[0-9]+]] = zext i16 [[N1]] to i64
// CHECK-NEXT: [[B1:%[0-9]+]] = mul i64 [[N1W]], 4
// CHECK: call void @__gorace_read_range({{.*}}, i64 [[B1]])
// CHECK-NEXT: call <16 x i32> @llvm.masked.expandload
// CHECK: call i16 @llvm.ctpop.i16
// CHECK: call void @__gorace_write_range(
// CHECK-NEXT: call void @llvm.masked.compressstore

// The vectorizer gathers b[idx[i]]: each lane's address is checked.
void gather(int *restrict a, const int *b, const int *idx, int n) {
  for (int i = 0; i < n; i++)
    a[i] = b[idx[i]];
}
// CHECK-LABEL: define {{.*}}@gather(
// CHECK: extractelement <16 x {{i32\*|ptr}}> [[PTRS:%[0-9]+]], i64 0
// CHECK-COUNT-16: call void @__gorace_read4(
// CHECK: call <16 x i32> @llvm.masked.gather{{.*}}[[PTRS]]

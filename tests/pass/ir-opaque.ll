; IR that C sources on x86 rarely or never produce, written with opaque
; pointers, LLVM 15 on (ir-typed.ll is the same with typed pointers).
; First-class aggregate and scalable-vector accesses are checked as
; ranges; loads through a C++ vtable pointer and loads marked
; !invariant.load are not checked; a function already instrumented is left
; alone.
; REQUIRES: opaque-pointer-ir
; RUN: %opt_gorace %s | %verify | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-f80:128-n8:16:32:64-S128"
target triple = "x86_64-unknown-linux-gnu"

%pair = type { i64, i32 }

define void @aggregates(ptr %p, ptr %q) {
  %v = load %pair, ptr %p, align 8
  store %pair %v, ptr %p, align 8
  %a = load [3 x i16], ptr %q, align 2
  ret void
}
; CHECK-LABEL: define void @aggregates(
; CHECK-NOT: @__gorace_read_range
; CHECK: call void @__gorace_write_range({{.*}}, i64 16)
; CHECK-NEXT: store %pair
; CHECK: call void @__gorace_read_range({{.*}}, i64 6)
; CHECK-NEXT: load [3 x i16]

; A scalable vector's size is known at run time: vscale x its minimum.
define <vscale x 4 x i32> @scalable(ptr %v) {
  %x = load <vscale x 4 x i32>, ptr %v, align 16
  ret <vscale x 4 x i32> %x
}
; CHECK-LABEL: define <vscale x 4 x i32> @scalable(
; CHECK: [[VSCALE:%[0-9]+]] = call i64 @llvm.vscale.i64()
; CHECK-NEXT: [[BYTES:%[0-9]+]] = mul i64 [[VSCALE]], 16
; CHECK-NEXT: call void @__gorace_read_range({{.*}}, i64 [[BYTES]])
; CHECK-NEXT: %x = load <vscale x 4 x i32>

define i32 @constant_by_promise(ptr %obj, ptr %q) {
  %vptr = load ptr, ptr %obj, align 8, !tbaa !0
  %slot = getelementptr i8, ptr %vptr, i64 16
  %byte = load i8, i8* %slot, align 1
  %fixed = load i32, ptr %q, align 4, !invariant.load !3
  %r = zext i8 %byte to i32
  %s = add i32 %r, %fixed
  ret i32 %s
}
; The vtable pointer itself is a field of the object, checked as usual.
; CHECK-LABEL: define i32 @constant_by_promise(
; CHECK: call void @__gorace_read8(
; CHECK-NEXT: %vptr = load
; CHECK-NOT: @__gorace_read
; CHECK: ret i32

define i32 @already_done(ptr %p) #0 {
  %v = load i32, ptr %p, align 4
  ret i32 %v
}
; CHECK-LABEL: define i32 @already_done(
; CHECK-NOT: @__gorace
; CHECK: ret i32

attributes #0 = { "gorace-instrumented" }

!0 = !{!1, !1, i64 0}
!1 = !{!"vtable pointer", !2, i64 0}
!2 = !{!"Simple C++ TBAA"}
!3 = !{}

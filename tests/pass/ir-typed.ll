; IR that C sources on x86 rarely or never produce, written with LLVM 14's
; typed pointers (ir-opaque.ll is the same with opaque pointers).
; First-class aggregate and scalable-vector accesses are checked as
; ranges; loads through a C++ vtable pointer and loads marked
; !invariant.load are not checked; a function already instrumented is left
; alone.
; REQUIRES: typed-pointer-ir
; RUN: %opt_gorace %s | %verify | FileCheck %s

target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-f80:128-n8:16:32:64-S128"
target triple = "x86_64-unknown-linux-gnu"

%pair = type { i64, i32 }

define void @aggregates(%pair* %p, [3 x i16]* %q) {
  %v = load %pair, %pair* %p, align 8
  store %pair %v, %pair* %p, align 8
  %a = load [3 x i16], [3 x i16]* %q, align 2
  ret void
}
; CHECK-LABEL: define void @aggregates(
; CHECK-NOT: @__gorace_read_range
; CHECK: call void @__gorace_write_range({{.*}}, i64 16)
; CHECK-NEXT: store %pair
; CHECK: call void @__gorace_read_range({{.*}}, i64 6)
; CHECK-NEXT: load [3 x i16]

; A scalable vector's size is known at run time: vscale x its minimum.
define <vscale x 4 x i32> @scalable(<vscale x 4 x i32>* %v) {
  %x = load <vscale x 4 x i32>, <vscale x 4 x i32>* %v, align 16
  ret <vscale x 4 x i32> %x
}
; CHECK-LABEL: define <vscale x 4 x i32> @scalable(
; CHECK: [[VSCALE:%[0-9]+]] = call i64 @llvm.vscale.i64()
; CHECK-NEXT: [[BYTES:%[0-9]+]] = mul i64 [[VSCALE]], 16
; CHECK-NEXT: call void @__gorace_read_range({{.*}}, i64 [[BYTES]])
; CHECK-NEXT: %x = load <vscale x 4 x i32>

define i32 @constant_by_promise(i8** %obj, i32* %q) {
  %vptr = load i8*, i8** %obj, align 8, !tbaa !0
  %slot = getelementptr i8, i8* %vptr, i64 16
  %byte = load i8, i8* %slot, align 1
  %fixed = load i32, i32* %q, align 4, !invariant.load !3
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

define i32 @already_done(i32* %p) #0 {
  %v = load i32, i32* %p, align 4
  ret i32 %v
}
; CHECK-LABEL: define i32 @already_done(
; CHECK-NOT: @__gorace
; CHECK: ret i32

; Without a line of its own or a neighbour's, an access reports where its
; scope opens: its lexical block (here a store merged at line 0), or the
; function's opening line (a load without any location).
@level = global i32 0

define i32 @no_line_nearby(i32* %p) !dbg !10 {
  store i32 1, i32* @level, align 4, !dbg !14
  %v = load i32, i32* %p, align 4
  ret i32 %v
}
; CHECK-LABEL: define i32 @no_line_nearby(
; CHECK: call void @__gorace_write4({{.*}}), !dbg [[BLOCK:![0-9]+]]
; CHECK-NEXT: store i32 1, {{.*}} !dbg [[MERGED:![0-9]+]]
; CHECK: call void @__gorace_read4({{.*}}), !dbg [[OPENING:![0-9]+]]
; CHECK-NEXT: %v = load i32
; CHECK-DAG: [[BLOCK]] = !DILocation(line: 5, column: 7, scope: [[SCOPE:![0-9]+]])
; CHECK-DAG: [[MERGED]] = !DILocation(line: 0, scope: [[SCOPE]])
; CHECK-DAG: [[OPENING]] = !DILocation(line: 4, scope:

attributes #0 = { "gorace-instrumented" }

!0 = !{!1, !1, i64 0}
!1 = !{!"vtable pointer", !2, i64 0}
!2 = !{!"Simple C++ TBAA"}
!3 = !{}
!llvm.dbg.cu = !{!4}
!llvm.module.flags = !{!6}
!4 = distinct !DICompileUnit(language: DW_LANG_C99, file: !5, emissionKind: FullDebug)
!5 = !DIFile(filename: "lines.c", directory: "/src")
!6 = !{i32 2, !"Debug Info Version", i32 3}
!10 = distinct !DISubprogram(name: "no_line_nearby", scope: !5, file: !5, line: 3, type: !11, scopeLine: 4, spFlags: DISPFlagDefinition, unit: !4)
!11 = !DISubroutineType(types: !3)
!13 = distinct !DILexicalBlock(scope: !10, file: !5, line: 5, column: 7)
!14 = !DILocation(line: 0, scope: !13)

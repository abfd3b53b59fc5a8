// Fences become the detector's, with their order; a fence for a signal
// handler on the same thread (syncscope "singlethread") is a signal fence.
// RUN: %gorace_cc -O0 %s | %verify | FileCheck %s

void fences(void) {
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  __atomic_thread_fence(__ATOMIC_ACQ_REL);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  __atomic_signal_fence(__ATOMIC_ACQUIRE);
}
// CHECK-LABEL: define {{.*}}@fences(
// CHECK-NEXT: call {{.*}}@llvm.returnaddress
// CHECK-NEXT: call void @__gorace_func_entry(
// CHECK-NEXT: call void @__gorace_atomic_thread_fence(i32 2)
// CHECK-NEXT: call void @__gorace_atomic_thread_fence(i32 3)
// CHECK-NEXT: call void @__gorace_atomic_thread_fence(i32 4)
// CHECK-NEXT: call void @__gorace_atomic_thread_fence(i32 5)
// CHECK-NEXT: call void @__gorace_atomic_signal_fence(i32 5)
// CHECK-NEXT: call void @__gorace_atomic_signal_fence(i32 2)
// CHECK-NEXT: call void @__gorace_func_exit()
// CHECK-NEXT: ret void

// disable_sanitizer_instrumentation turns off every instrumentation, ours
// included, with or without -fsanitize=thread.
// RUN: %gorace_cc -O0 %race_flags %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 %s | %verify | FileCheck %s

int shared;
void work(void);

__attribute__((disable_sanitizer_instrumentation)) int untouched(void) {
  work();
  __atomic_fetch_add(&shared, 1, __ATOMIC_SEQ_CST);
  return shared;
}
// CHECK-LABEL: define {{.*}}@untouched(
// CHECK-NOT: @__gorace
// CHECK: atomicrmw add
// CHECK-NOT: @__gorace
// CHECK: ret i32

int checked(void) { return shared; }
// CHECK-LABEL: define {{.*}}@checked(
// CHECK: call void @__gorace_read4({{.*}}@shared

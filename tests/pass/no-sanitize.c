// Race builds compile with -fsanitize=thread and all of ThreadSanitizer's
// own instrumentation off, so that clang marks functions sanitize_thread
// and honours no_sanitize("thread"). Then the accesses of functions without
// sanitize_thread are not checked, but their atomics still synchronise and
// they keep their shadow frame, as under ThreadSanitizer. TSan itself adds
// nothing but its constructor calling __tsan_init (and nobuiltin marks on
// library calls). Loaded without -fsanitize=thread, the plugin checks
// every function.
// RUN: %gorace_cc -O0 %race_flags %s | %verify | FileCheck %s --check-prefixes=CHECK,RACE
// RUN: %gorace_cc -O2 %race_flags %s | %verify | FileCheck %s --check-prefixes=CHECK,RACE
// RUN: %gorace_cc -O2 %s | %verify | FileCheck %s --check-prefixes=CHECK,PLAIN

int shared;

int checked(void) { return shared; }
// CHECK-LABEL: define {{.*}}@checked(
// CHECK-NOT: @__tsan
// CHECK: call void @__gorace_func_entry(
// CHECK: call void @__gorace_read4({{.*}}@shared
// CHECK-NOT: @__tsan
// CHECK: ret i32

__attribute__((no_sanitize("thread"))) int opted_out(void) { return shared; }
// CHECK-LABEL: define {{.*}}@opted_out(
// RACE-NOT: @__gorace
// RACE-NOT: @__tsan
// PLAIN: call void @__gorace_read4({{.*}}@shared
// CHECK: ret i32

__attribute__((no_sanitize_thread)) int opted_out_gcc_style(void) { return shared; }
// CHECK-LABEL: define {{.*}}@opted_out_gcc_style(
// RACE-NOT: @__gorace
// PLAIN: call void @__gorace_read4({{.*}}@shared
// CHECK: ret i32

// An opted-out function still publishes with a release store: the
// detector must see it, or the readers of its data would race.
int data;
void work(void);
__attribute__((no_sanitize("thread"))) void publish(int *ready) {
  data = 42;
  work();
  __atomic_store_n(ready, 1, __ATOMIC_RELEASE);
}
// CHECK-LABEL: define {{.*}}@publish(
// CHECK: call void @__gorace_func_entry(
// RACE-NOT: call void @__gorace_write
// PLAIN: call void @__gorace_write4({{.*}}@data
// CHECK: call void @work()
// CHECK: call void @__gorace_atomic4_store({{.*}}, i32 3)
// CHECK: call void @__gorace_func_exit()

// RACE-LABEL: define internal void @tsan.module_ctor()
// RACE-NEXT: call void @__tsan_init()
// RACE-NEXT: ret void
// PLAIN-NOT: __tsan

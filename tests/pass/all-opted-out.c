// A module whose every function opted out has no sanitize_thread function
// left; ThreadSanitizer's constructor still shows it was compiled with
// -fsanitize=thread, so no access is checked.
// RUN: %gorace_cc -O0 %race_flags %s | %verify | FileCheck %s --check-prefix=RACE
// RUN: %gorace_cc -O2 %race_flags %s | %verify | FileCheck %s --check-prefix=RACE
// RUN: %gorace_cc -O2 %s | %verify | FileCheck %s --check-prefix=PLAIN

int shared;
__attribute__((no_sanitize("thread"))) int opted_out(void) { return shared; }
// RACE-NOT: call {{.*}}@__gorace
// RACE: define internal void @tsan.module_ctor()
// RACE-NOT: call {{.*}}@__gorace

// PLAIN: call void @__gorace_read4({{.*}}@shared

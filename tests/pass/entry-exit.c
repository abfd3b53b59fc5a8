// A function that accesses memory or calls starts with
// __gorace_func_entry(its own return address) and calls __gorace_func_exit
// on every way out: before each return, before a musttail call, and in a
// cleanup landing pad when an exception may unwind through it.
// RUN: %gorace_cc -O0 %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 %s | %verify | FileCheck %s
// RUN: %gorace_cc -O2 -fexceptions %s | %verify | FileCheck %s --check-prefix=EH

int counter;
void work(void);
int callee(int *p, int c);

int access(void) { return counter; }
// CHECK-LABEL: define {{.*}}@access(
// CHECK-NOT: call
// CHECK: [[PC:%[0-9]+]] = call {{i8\*|ptr}} @llvm.returnaddress(i32 0)
// CHECK-NEXT: call void @__gorace_func_entry({{i8\*|ptr}} [[PC]])
// CHECK: call void @__gorace_read4(
// CHECK: call void @__gorace_func_exit()
// CHECK-NEXT: ret i32

// Calls alone are enough: the callee's reports need this frame.
void calls(void) { work(); }
// CHECK-LABEL: define {{.*}}@calls(
// CHECK: call void @__gorace_func_entry(
// CHECK: call void @work()
// CHECK-NEXT: call void @__gorace_func_exit()
// CHECK-NEXT: ret void

// No access and no call: no report can show this frame.
int leaf(int a, int b) { return a * b + 1; }
// CHECK-LABEL: define {{.*}}@leaf(
// CHECK-NOT: @__gorace
// CHECK: ret i32

int two_exits(int *p, int c) {
  if (c)
    __attribute__((musttail)) return callee(p, c);
  *p = 1;
  return 0;
}
// The musttail call must stay right before its ret: the exit call goes
// before it.
// CHECK-LABEL: define {{.*}}@two_exits(
// CHECK: call void @__gorace_func_entry(
// CHECK: call void @__gorace_func_exit()
// CHECK-NEXT: [[R:%[0-9]+]] = musttail call i32 @callee(
// CHECK-NEXT: ret i32 [[R]]
// CHECK: call void @__gorace_write4(
// CHECK: call void @__gorace_func_exit()
// CHECK-NEXT: ret i32

void may_unwind(int *p) {
  *p = 1;
  work();
  *p = 2;
}
// EH-LABEL: define {{.*}}@may_unwind({{.*}} personality {{.*}}@__gcc_personality_v0
// EH: call void @__gorace_func_entry(
// EH: invoke void @work()
// EH-NEXT: to label %[[CONT:[0-9]+]] unwind label %[[CLEANUP:[0-9]+]]
// EH: [[CONT]]:
// EH: call void @__gorace_func_exit()
// EH-NEXT: ret void
// EH: [[CLEANUP]]:
// EH-NEXT: [[EXN:%[0-9]+]] = landingpad
// EH-NEXT: cleanup
// EH-NEXT: call void @__gorace_func_exit()
// EH-NEXT: resume {{.*}} [[EXN]]

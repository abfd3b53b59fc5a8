// Atomic operations are replaced by the detector's, which performs them:
// every size, operation and memory order (as its __ATOMIC_* value:
// relaxed 0, acquire 2, release 3, acq_rel 4, seq_cst 5; consume is
// emitted as acquire).
// RUN: %gorace_cc -O1 -mcx16 %s | %verify | FileCheck %s
// RUN: %gorace_cc -O1 -mcx16 %s | FileCheck %s --check-prefix=NONE-LEFT
// NONE-LEFT-NOT: load atomic
// NONE-LEFT-NOT: store atomic
// NONE-LEFT-NOT: atomicrmw
// NONE-LEFT-NOT: cmpxchg

int loads(int *p) {
  return __atomic_load_n(p, __ATOMIC_RELAXED) + __atomic_load_n(p, __ATOMIC_CONSUME) +
         __atomic_load_n(p, __ATOMIC_ACQUIRE) + __atomic_load_n(p, __ATOMIC_SEQ_CST);
}
// CHECK-LABEL: define {{.*}}@loads(
// CHECK: call i32 @__gorace_atomic4_load({{.*}}, i32 0)
// CHECK: call i32 @__gorace_atomic4_load({{.*}}, i32 2)
// CHECK: call i32 @__gorace_atomic4_load({{.*}}, i32 2)
// CHECK: call i32 @__gorace_atomic4_load({{.*}}, i32 5)

void stores(long *p) {
  __atomic_store_n(p, 1, __ATOMIC_RELAXED);
  __atomic_store_n(p, 2, __ATOMIC_RELEASE);
  __atomic_store_n(p, 3, __ATOMIC_SEQ_CST);
}
// CHECK-LABEL: define {{.*}}@stores(
// CHECK: call void @__gorace_atomic8_store({{.*}}, i64 1, i32 0)
// CHECK: call void @__gorace_atomic8_store({{.*}}, i64 2, i32 3)
// CHECK: call void @__gorace_atomic8_store({{.*}}, i64 3, i32 5)

int rmw(int *p) {
  return __atomic_exchange_n(p, 1, __ATOMIC_RELAXED) + __atomic_fetch_add(p, 2, __ATOMIC_ACQUIRE) +
         __atomic_fetch_sub(p, 3, __ATOMIC_RELEASE) + __atomic_fetch_and(p, 4, __ATOMIC_ACQ_REL) +
         __atomic_fetch_or(p, 5, __ATOMIC_SEQ_CST) + __atomic_fetch_xor(p, 6, __ATOMIC_RELAXED) +
         __atomic_fetch_nand(p, 7, __ATOMIC_RELAXED);
}
// CHECK-LABEL: define {{.*}}@rmw(
// CHECK: call i32 @__gorace_atomic4_exchange({{.*}}, i32 1, i32 0)
// CHECK: call i32 @__gorace_atomic4_fetch_add({{.*}}, i32 2, i32 2)
// CHECK: call i32 @__gorace_atomic4_fetch_sub({{.*}}, i32 3, i32 3)
// CHECK: call i32 @__gorace_atomic4_fetch_and({{.*}}, i32 4, i32 4)
// CHECK: call i32 @__gorace_atomic4_fetch_or({{.*}}, i32 5, i32 5)
// CHECK: call i32 @__gorace_atomic4_fetch_xor({{.*}}, i32 6, i32 0)
// CHECK: call i32 @__gorace_atomic4_fetch_nand({{.*}}, i32 7, i32 0)

// Narrow values are zero-extended, as for the C declarations' uint8_t and
// uint16_t.
char sizes(char *b, short *h, __int128 *w) {
  __atomic_fetch_add(h, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(w, 2, __ATOMIC_SEQ_CST);
  return __atomic_exchange_n(b, 3, __ATOMIC_SEQ_CST);
}
// CHECK-LABEL: define {{.*}}@sizes(
// CHECK: call i16 @__gorace_atomic2_fetch_add({{.*}}, i16 1, i32 5)
// CHECK: call void @__gorace_atomic16_store({{.*}}, i128 2, i32 5)
// CHECK: call i8 @__gorace_atomic1_exchange({{.*}}, i8 3, i32 5)

// Pointers travel as integers of their size.
void *pointer(void **p, void *v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
// CHECK-LABEL: define {{.*}}@pointer(
// CHECK: [[V:%[0-9]+]] = ptrtoint {{.*}} %1 to i64
// CHECK: [[OLD:%[0-9]+]] = call i64 @__gorace_atomic8_exchange({{.*}}, i64 [[V]], i32 4)
// CHECK: inttoptr i64 [[OLD]] to

_Bool cas(long *p, long *expected, long desired) {
  _Bool strong = __atomic_compare_exchange_n(p, expected, desired, 0, __ATOMIC_ACQ_REL,
                                             __ATOMIC_ACQUIRE);
  _Bool weak = __atomic_compare_exchange_n(p, expected, desired, 1, __ATOMIC_SEQ_CST,
                                           __ATOMIC_RELAXED);
  return strong & weak;
}
// CHECK-LABEL: define {{.*}}@cas(
// CHECK: [[OLD1:%[0-9]+]] = call i64 @__gorace_atomic8_compare_exchange({{.*}}, i64 [[E1:%[0-9]+]], i64 %2, i32 4, i32 2)
// CHECK: icmp eq i64 [[OLD1]], [[E1]]
// CHECK: [[OLD2:%[0-9]+]] = call i64 @__gorace_atomic8_compare_exchange({{.*}}, i64 [[E2:%[0-9]+]], i64 %2, i32 5, i32 0)
// CHECK: icmp eq i64 [[OLD2]], [[E2]]

// Operations without an entry point of their own become a compare-exchange
// loop: the success order is the operation's, a failed attempt is relaxed.
int max(int *p, int v) { return __atomic_fetch_max(p, v, __ATOMIC_ACQ_REL); }
// CHECK-LABEL: define {{.*}}@max(
// CHECK: [[INIT:%[0-9]+]] = call i32 @__gorace_atomic4_load({{.*}}, i32 0)
// CHECK: [[LOOP:[0-9a-z.]+]]:
// CHECK-NEXT: [[EXP:%[0-9a-z.]+]] = phi i32 [ [[INIT]], %{{[0-9]+}} ], [ [[SEEN:%[0-9]+]], %[[LOOP]] ]
// CHECK-NEXT: [[GT:%[0-9]+]] = icmp sgt i32 [[EXP]], %1
// CHECK-NEXT: [[NEW:%[0-9]+]] = select i1 [[GT]], i32 [[EXP]], i32 %1
// CHECK-NEXT: [[SEEN]] = call i32 @__gorace_atomic4_compare_exchange({{.*}}, i32 [[EXP]], i32 [[NEW]], i32 4, i32 0)
// CHECK-NEXT: [[DONE:%[0-9]+]] = icmp eq i32 [[SEEN]], [[EXP]]
// CHECK-NEXT: br i1 [[DONE]], label %{{.*}}, label %[[LOOP]]
// CHECK: ret i32 [[SEEN]]

unsigned umin(unsigned *p, unsigned v) { return __atomic_fetch_min(p, v, __ATOMIC_RELEASE); }
// CHECK-LABEL: define {{.*}}@umin(
// CHECK: icmp ule i32
// CHECK: call i32 @__gorace_atomic4_compare_exchange({{.*}}, i32 3, i32 0)

_Atomic float total;
float fadd(float v) { return __c11_atomic_fetch_add(&total, v, __ATOMIC_SEQ_CST); }
// CHECK-LABEL: define {{.*}}@fadd(
// CHECK: call i32 @__gorace_atomic4_load({{.*}}@total{{.*}}, i32 0)
// CHECK: bitcast i32 %{{.*}} to float
// CHECK: fadd float
// CHECK: bitcast float %{{.*}} to i32
// CHECK: call i32 @__gorace_atomic4_compare_exchange({{.*}}@total{{.*}}, i32 5, i32 0)

// CHECK-DAG: declare zeroext i16 @__gorace_atomic2_fetch_add({{.*}}, i16 zeroext, i32) [[NOUNWIND:#[0-9]+]]
// CHECK-DAG: declare zeroext i8 @__gorace_atomic1_exchange({{.*}}, i8 zeroext, i32) [[NOUNWIND]]
// CHECK-DAG: declare void @__gorace_atomic16_store({{.*}}, i128, i32) [[NOUNWIND]]
// CHECK-DAG: attributes [[NOUNWIND]] = { nounwind }

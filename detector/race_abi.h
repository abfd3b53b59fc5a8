/* race_abi.h - the calls the instrumentation pass (instrument/pass/) emits
 * and the detector (detector/) implements: the ABI between them. Every name
 * starts with __gorace_ so it cannot clash with ThreadSanitizer's __tsan_
 * runtime. Sizes are in bytes; pc arguments are return addresses used as
 * the access's source location.
 *
 * - Plain accesses: __gorace_readN / __gorace_writeN for N = 1, 2, 4, 8, 16
 *   when the access is naturally aligned; every other size, vector or
 *   unaligned access goes through the _range calls (never skipped).
 * - Function entry/exit maintain the shadow call stack that gives the
 *   current stack of a report without unwinding: entry passes the caller's
 *   return address (__builtin_return_address(0) of the instrumented
 *   function), exit pops it.
 * - Atomics: each operation is performed by the detector with the given
 *   memory order (one of the __ATOMIC_* values), so it is both the access and
 *   the synchronisation. cmpxchg returns the old value; the caller compares.
 * - mem*: the detector checks the ranges and performs the operation.
 * Calls may come from any thread: code outside goroutines (foreign threads,
 * constructors before the runtime starts) is tolerated and ignored. */
#ifndef GOROUTINE_RACE_ABI_H
#define GOROUTINE_RACE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GORACE_SIZES(X) X(1, uint8_t) X(2, uint16_t) X(4, uint32_t) X(8, uint64_t)

void __gorace_read1(void *addr);
void __gorace_read2(void *addr);
void __gorace_read4(void *addr);
void __gorace_read8(void *addr);
void __gorace_read16(void *addr);
void __gorace_write1(void *addr);
void __gorace_write2(void *addr);
void __gorace_write4(void *addr);
void __gorace_write8(void *addr);
void __gorace_write16(void *addr);
void __gorace_read_range(void *addr, size_t size);
void __gorace_write_range(void *addr, size_t size);

void __gorace_func_entry(void *caller_pc);
void __gorace_func_exit(void);

/* Atomics, for N in 1, 2, 4, 8 (T = uint8_t .. uint64_t) and 16
 * (T = unsigned __int128, where the target supports it):
 *   T    __gorace_atomicN_load(const volatile T *a, int mo);
 *   void __gorace_atomicN_store(volatile T *a, T v, int mo);
 *   T    __gorace_atomicN_exchange(volatile T *a, T v, int mo);
 *   T    __gorace_atomicN_fetch_add / fetch_sub / fetch_and / fetch_or /
 *        fetch_xor / fetch_nand(volatile T *a, T v, int mo);
 *   T    __gorace_atomicN_compare_exchange(volatile T *a, T expected,
 *        T desired, int success_mo, int failure_mo);   returns the old value
 */
#define GORACE_DECLARE_ATOMICS(N, T)                                              \
    T __gorace_atomic##N##_load(const volatile T *a, int mo);                     \
    void __gorace_atomic##N##_store(volatile T *a, T v, int mo);                  \
    T __gorace_atomic##N##_exchange(volatile T *a, T v, int mo);                  \
    T __gorace_atomic##N##_fetch_add(volatile T *a, T v, int mo);                 \
    T __gorace_atomic##N##_fetch_sub(volatile T *a, T v, int mo);                 \
    T __gorace_atomic##N##_fetch_and(volatile T *a, T v, int mo);                 \
    T __gorace_atomic##N##_fetch_or(volatile T *a, T v, int mo);                  \
    T __gorace_atomic##N##_fetch_xor(volatile T *a, T v, int mo);                 \
    T __gorace_atomic##N##_fetch_nand(volatile T *a, T v, int mo);                \
    T __gorace_atomic##N##_compare_exchange(volatile T *a, T expected, T desired, \
                                            int success_mo, int failure_mo);
GORACE_SIZES(GORACE_DECLARE_ATOMICS)
#ifdef __SIZEOF_INT128__
GORACE_DECLARE_ATOMICS(16, unsigned __int128)
#endif
#undef GORACE_DECLARE_ATOMICS

void __gorace_atomic_thread_fence(int mo);
void __gorace_atomic_signal_fence(int mo);

void *__gorace_memcpy(void *dst, const void *src, size_t n);
void *__gorace_memmove(void *dst, const void *src, size_t n);
void *__gorace_memset(void *dst, int c, size_t n);

#ifdef __cplusplus
}
#endif
#endif

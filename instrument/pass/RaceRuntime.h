//===- RaceRuntime.h - the detector's entry points, seen from the IR ------===//
//
// Declares, in the module being instrumented, the __gorace_* functions of
// detector/race_abi.h, the ABI between this pass and the detector. A
// function is declared the first time the pass calls it, so modules carry
// only the declarations they use.
//
// Every declaration is nounwind: the detector never throws, and exception
// handling must not wrap the inserted calls in invokes. 8- and 16-bit
// integer parameters and results are zeroext, as the C declarations with
// uint8_t/uint16_t require of callers on x86-64 and most other ABIs.
//
//===----------------------------------------------------------------------===//
#ifndef GORACE_RACE_RUNTIME_H
#define GORACE_RACE_RUNTIME_H

#include "llvm/IR/Instructions.h"
#include "llvm/IR/Module.h"

namespace gorace {

/// The atomic operations race_abi.h provides, for N = 1, 2, 4, 8, 16 bytes.
enum class AtomicOp {
  Load,
  Store,
  Exchange,
  FetchAdd,
  FetchSub,
  FetchAnd,
  FetchOr,
  FetchXor,
  FetchNand,
  CompareExchange,
};

class RaceRuntime {
public:
  explicit RaceRuntime(llvm::Module &M);

  /// Log2 of Bytes when the ABI has fixed-size entry points for it (1, 2,
  /// 4, 8, 16), otherwise -1.
  static int sizeIndex(uint64_t Bytes);

  /// __gorace_readN / __gorace_writeN (void *addr), N = 1 << SizeIndex.
  llvm::FunctionCallee access(bool IsWrite, int SizeIndex);
  /// __gorace_read_range / __gorace_write_range (void *addr, size_t size).
  llvm::FunctionCallee accessRange(bool IsWrite);
  llvm::FunctionCallee funcEntry(); // (void *caller_pc)
  llvm::FunctionCallee funcExit();  // (void)
  /// __gorace_atomicN_<op> on the integer type of 1 << SizeIndex bytes.
  llvm::FunctionCallee atomic(AtomicOp Op, int SizeIndex);
  llvm::FunctionCallee fence(bool SignalOnly); // (int mo)
  llvm::FunctionCallee memcpy();               // (void *dst, const void *src, size_t n)
  llvm::FunctionCallee memmove();              // (void *dst, const void *src, size_t n)
  llvm::FunctionCallee memset();               // (void *dst, int c, size_t n)

  /// The __ATOMIC_* constant of an LLVM ordering.
  llvm::ConstantInt *order(llvm::AtomicOrdering O);

  llvm::Type *voidPtrTy() const { return VoidPtrTy; }
  llvm::Type *sizeTy() const { return SizeTy; }
  llvm::IntegerType *intTy(int SizeIndex) const;

private:
  llvm::FunctionCallee declare(const llvm::Twine &Name, llvm::Type *Result,
                               llvm::ArrayRef<llvm::Type *> Params);

  llvm::Module &M;
  llvm::LLVMContext &Ctx;
  llvm::Type *VoidTy;
  llvm::Type *VoidPtrTy;    // i8* or ptr
  llvm::Type *SizeTy;       // size_t
  llvm::IntegerType *IntTy; // int (memory orders, memset's fill byte)
};

} // namespace gorace

#endif

//===- RaceRuntime.cpp - declarations of the __gorace_* functions ---------===//
//
// The names and parameter lists mirror detector/race_abi.h; see
// RaceRuntime.h for the attributes every declaration carries.
//
//===----------------------------------------------------------------------===//
#include "RaceRuntime.h"

#include "llvm_compat.h"

using namespace llvm;

namespace gorace {

RaceRuntime::RaceRuntime(Module &M)
    : M(M), Ctx(M.getContext()), VoidTy(Type::getVoidTy(Ctx)),
      VoidPtrTy(compat::pointerTo(Type::getInt8Ty(Ctx))),
      SizeTy(M.getDataLayout().getIntPtrType(Ctx)), IntTy(Type::getInt32Ty(Ctx)) {}

int RaceRuntime::sizeIndex(uint64_t Bytes) {
  switch (Bytes) {
  case 1: return 0;
  case 2: return 1;
  case 4: return 2;
  case 8: return 3;
  case 16: return 4;
  default: return -1;
  }
}

IntegerType *RaceRuntime::intTy(int SizeIndex) const {
  return IntegerType::get(Ctx, 8u << SizeIndex);
}

FunctionCallee RaceRuntime::declare(const Twine &Name, Type *Result, ArrayRef<Type *> Params) {
  AttributeList Attrs =
      AttributeList::get(Ctx, AttributeList::FunctionIndex, {Attribute::NoUnwind});
  // Integers narrower than int are extended by the caller (parameters) and
  // by the callee (results): the C ABI's rule for uint8_t and uint16_t.
  auto isNarrow = [](Type *T) { return T->isIntegerTy() && T->getIntegerBitWidth() < 32; };
  if (isNarrow(Result))
    Attrs = Attrs.addRetAttribute(Ctx, Attribute::ZExt);
  for (unsigned I = 0; I < Params.size(); ++I)
    if (isNarrow(Params[I]))
      Attrs = Attrs.addParamAttribute(Ctx, I, Attribute::ZExt);
  SmallString<48> Buffer;
  return M.getOrInsertFunction(Name.toStringRef(Buffer), FunctionType::get(Result, Params, false),
                               Attrs);
}

FunctionCallee RaceRuntime::access(bool IsWrite, int SizeIndex) {
  return declare(Twine(IsWrite ? "__gorace_write" : "__gorace_read") + Twine(1 << SizeIndex),
                 VoidTy, {VoidPtrTy});
}

FunctionCallee RaceRuntime::accessRange(bool IsWrite) {
  return declare(IsWrite ? "__gorace_write_range" : "__gorace_read_range", VoidTy,
                 {VoidPtrTy, SizeTy});
}

FunctionCallee RaceRuntime::funcEntry() {
  return declare("__gorace_func_entry", VoidTy, {VoidPtrTy});
}

FunctionCallee RaceRuntime::funcExit() { return declare("__gorace_func_exit", VoidTy, {}); }

FunctionCallee RaceRuntime::atomic(AtomicOp Op, int SizeIndex) {
  Type *T = intTy(SizeIndex);
  Type *Ptr = compat::pointerTo(T);
  std::string Prefix = ("__gorace_atomic" + Twine(1 << SizeIndex)).str();
  switch (Op) {
  case AtomicOp::Load: return declare(Prefix + "_load", T, {Ptr, IntTy});
  case AtomicOp::Store: return declare(Prefix + "_store", VoidTy, {Ptr, T, IntTy});
  case AtomicOp::Exchange: return declare(Prefix + "_exchange", T, {Ptr, T, IntTy});
  case AtomicOp::FetchAdd: return declare(Prefix + "_fetch_add", T, {Ptr, T, IntTy});
  case AtomicOp::FetchSub: return declare(Prefix + "_fetch_sub", T, {Ptr, T, IntTy});
  case AtomicOp::FetchAnd: return declare(Prefix + "_fetch_and", T, {Ptr, T, IntTy});
  case AtomicOp::FetchOr: return declare(Prefix + "_fetch_or", T, {Ptr, T, IntTy});
  case AtomicOp::FetchXor: return declare(Prefix + "_fetch_xor", T, {Ptr, T, IntTy});
  case AtomicOp::FetchNand: return declare(Prefix + "_fetch_nand", T, {Ptr, T, IntTy});
  case AtomicOp::CompareExchange:
    return declare(Prefix + "_compare_exchange", T, {Ptr, T, T, IntTy, IntTy});
  }
  llvm_unreachable("unknown atomic operation");
}

FunctionCallee RaceRuntime::fence(bool SignalOnly) {
  return declare(SignalOnly ? "__gorace_atomic_signal_fence" : "__gorace_atomic_thread_fence",
                 VoidTy, {IntTy});
}

FunctionCallee RaceRuntime::memcpy() {
  return declare("__gorace_memcpy", VoidPtrTy, {VoidPtrTy, VoidPtrTy, SizeTy});
}

FunctionCallee RaceRuntime::memmove() {
  return declare("__gorace_memmove", VoidPtrTy, {VoidPtrTy, VoidPtrTy, SizeTy});
}

FunctionCallee RaceRuntime::memset() {
  return declare("__gorace_memset", VoidPtrTy, {VoidPtrTy, IntTy, SizeTy});
}

ConstantInt *RaceRuntime::order(AtomicOrdering O) {
  // The values of GCC's and clang's __ATOMIC_* macros.
  enum { Relaxed = 0, Acquire = 2, Release = 3, AcqRel = 4, SeqCst = 5 };
  int Value = Relaxed;
  switch (O) {
  case AtomicOrdering::NotAtomic:
  case AtomicOrdering::Unordered:
  case AtomicOrdering::Monotonic: Value = Relaxed; break;
  case AtomicOrdering::Acquire: Value = Acquire; break;
  case AtomicOrdering::Release: Value = Release; break;
  case AtomicOrdering::AcquireRelease: Value = AcqRel; break;
  case AtomicOrdering::SequentiallyConsistent: Value = SeqCst; break;
  }
  return ConstantInt::get(IntTy, Value);
}

} // namespace gorace

//===- llvm_compat.h - the LLVM API differences the pass depends on -------===//
//
// The plugin is built against the LLVM of the clang that loads it: Debian's
// LLVM 14 (typed pointers) is the reference, newer releases must compile
// too. Every place where the C++ API changed between LLVM 14 and today goes
// through one function here, so the pass itself reads as plain LLVM code.
//
//   - Pointer types: LLVM 14 has typed pointers (i8*, i32*), 15 and 16 make
//     them opaque by default and 17 removes typed pointers (and with them
//     Type::getInt8PtrTy). pointerTo() yields the right kind; the pass always
//     casts addresses with CreatePointerCast, which is a no-op for opaque
//     pointers.
//   - Intrinsic::getDeclaration was renamed getOrInsertDeclaration in 20.
//   - PointerMayBeCaptured lost its StoreCaptures parameter (stores always
//     capture now); the overload is chosen by what the headers declare.
//   - buildAtomicRMWValue (the arithmetic of an atomicrmw on plain values)
//     is public from LLVM 15; LLVM 14 gets a local equivalent covering its
//     operations.
//   - memset.inline exists from LLVM 15.
//   - isSafeToExpandAt became a member of SCEVExpander in LLVM 15.
//   - The masked load/store/gather/scatter intrinsics carried their
//     alignment as an operand until LLVM 22, which made it an attribute of
//     the pointer argument (shifting the mask operand).
//   - Extension-point callbacks gained a ThinOrFullLTOPhase parameter in
//     LLVM 20; the plugin's callbacks are generic lambdas, which convert to
//     either std::function signature (see Plugin.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef GORACE_LLVM_COMPAT_H
#define GORACE_LLVM_COMPAT_H

#include "llvm/Analysis/CaptureTracking.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Intrinsics.h"
#include "llvm/IR/Module.h"
#include "llvm/Transforms/Utils/ScalarEvolutionExpander.h"
#if LLVM_VERSION_MAJOR >= 15
#include "llvm/Transforms/Utils/LowerAtomic.h"
#endif

#if LLVM_VERSION_MAJOR < 14
#error "the goroutine race pass needs LLVM 14 or newer"
#endif

namespace gorace {
namespace compat {

/// A pointer to Pointee in address space AS: typed where the context still
/// has typed pointers, opaque otherwise.
inline llvm::PointerType *pointerTo(llvm::Type *Pointee, unsigned AS = 0) {
#if LLVM_VERSION_MAJOR < 17
  return llvm::PointerType::get(Pointee, AS);
#else
  return llvm::PointerType::get(Pointee->getContext(), AS);
#endif
}

inline llvm::Function *intrinsicDeclaration(llvm::Module *M, llvm::Intrinsic::ID ID,
                                            llvm::ArrayRef<llvm::Type *> Types = {}) {
#if LLVM_VERSION_MAJOR < 20
  return llvm::Intrinsic::getDeclaration(M, ID, Types);
#else
  return llvm::Intrinsic::getOrInsertDeclaration(M, ID, Types);
#endif
}

namespace detail {
// The first overload exists while PointerMayBeCaptured takes (V,
// ReturnCaptures, StoreCaptures, MaxUses); once StoreCaptures is gone its
// four-argument call matches nothing, substitution fails, and the second
// overload (reached through the int -> long conversion) is used.
template <typename V>
auto mayBeCaptured(const V *Ptr, int) -> decltype(llvm::PointerMayBeCaptured(Ptr, true, true, 0u)) {
  return llvm::PointerMayBeCaptured(Ptr, /*ReturnCaptures=*/true,
                                    /*StoreCaptures=*/true, 0u);
}
template <typename V> bool mayBeCaptured(const V *Ptr, long) {
  return llvm::PointerMayBeCaptured(Ptr, /*ReturnCaptures=*/true, 0u);
}
} // namespace detail

/// True when the address of the object V may outlive the function or reach
/// another thread: returned, stored anywhere, passed to a call that may
/// keep it.
inline bool pointerMayBeCaptured(const llvm::Value *V) { return detail::mayBeCaptured(V, 0); }

/// The value an atomicrmw of operation Op stores when memory held Loaded.
inline llvm::Value *atomicRMWResult(llvm::AtomicRMWInst::BinOp Op, llvm::IRBuilderBase &B,
                                    llvm::Value *Loaded, llvm::Value *Operand) {
#if LLVM_VERSION_MAJOR >= 15
  return llvm::buildAtomicRMWValue(Op, B, Loaded, Operand);
#else
  using llvm::AtomicRMWInst;
  switch (Op) {
  case AtomicRMWInst::Xchg: return Operand;
  case AtomicRMWInst::Add: return B.CreateAdd(Loaded, Operand);
  case AtomicRMWInst::Sub: return B.CreateSub(Loaded, Operand);
  case AtomicRMWInst::And: return B.CreateAnd(Loaded, Operand);
  case AtomicRMWInst::Nand: return B.CreateNot(B.CreateAnd(Loaded, Operand));
  case AtomicRMWInst::Or: return B.CreateOr(Loaded, Operand);
  case AtomicRMWInst::Xor: return B.CreateXor(Loaded, Operand);
  case AtomicRMWInst::Max: return B.CreateSelect(B.CreateICmpSGT(Loaded, Operand), Loaded, Operand);
  case AtomicRMWInst::Min: return B.CreateSelect(B.CreateICmpSLE(Loaded, Operand), Loaded, Operand);
  case AtomicRMWInst::UMax:
    return B.CreateSelect(B.CreateICmpUGT(Loaded, Operand), Loaded, Operand);
  case AtomicRMWInst::UMin:
    return B.CreateSelect(B.CreateICmpULE(Loaded, Operand), Loaded, Operand);
  case AtomicRMWInst::FAdd: return B.CreateFAdd(Loaded, Operand);
  case AtomicRMWInst::FSub: return B.CreateFSub(Loaded, Operand);
  case AtomicRMWInst::BAD_BINOP: break;
  }
  llvm_unreachable("atomicrmw operation unknown to LLVM 14");
#endif
}

/// memcpy.inline and memset.inline promise never to call a library
/// function, so they must stay intrinsics.
inline bool isInlineMemIntrinsic(const llvm::MemIntrinsic *MI) {
#if LLVM_VERSION_MAJOR >= 15
  if (llvm::isa<llvm::MemSetInlineInst>(MI))
    return true;
#endif
  return llvm::isa<llvm::MemCpyInlineInst>(MI);
}

/// The operands of a masked memory intrinsic, wherever this LLVM keeps them.
struct MaskedAccess {
  llvm::Value *Pointers; // one pointer (load/store) or a vector (gather/scatter)
  llvm::Value *Mask;
  llvm::MaybeAlign Alignment; // of each lane's element; unknown means 1
  bool IsWrite;
  bool IsVectorOfPointers;
};

/// Describes II when it is a masked load, store, gather or scatter.
inline bool maskedAccess(llvm::IntrinsicInst *II, MaskedAccess &Out) {
  namespace Intrinsic = llvm::Intrinsic;
  unsigned PtrOp;
  switch (II->getIntrinsicID()) {
  case Intrinsic::masked_load:
    PtrOp = 0, Out.IsWrite = false, Out.IsVectorOfPointers = false;
    break;
  case Intrinsic::masked_gather:
    PtrOp = 0, Out.IsWrite = false, Out.IsVectorOfPointers = true;
    break;
  case Intrinsic::masked_store:
    PtrOp = 1, Out.IsWrite = true, Out.IsVectorOfPointers = false;
    break;
  case Intrinsic::masked_scatter:
    PtrOp = 1, Out.IsWrite = true, Out.IsVectorOfPointers = true;
    break;
  default: return false;
  }
  Out.Pointers = II->getArgOperand(PtrOp);
#if LLVM_VERSION_MAJOR >= 22
  Out.Mask = II->getArgOperand(PtrOp + 1);
  Out.Alignment = II->getParamAlign(PtrOp);
#else
  Out.Mask = II->getArgOperand(PtrOp + 2);
  uint64_t A = llvm::cast<llvm::ConstantInt>(II->getArgOperand(PtrOp + 1))->getZExtValue();
  // Before LLVM 22 a gather/scatter alignment of 0 meant "the element
  // type's ABI alignment".
  if (A == 0 && Out.IsVectorOfPointers) {
    llvm::Type *Elt = Out.IsWrite ? II->getArgOperand(0)->getType() : II->getType();
    Out.Alignment = II->getModule()->getDataLayout().getABITypeAlign(
        llvm::cast<llvm::VectorType>(Elt)->getElementType());
  } else {
    Out.Alignment = llvm::MaybeAlign(A);
  }
#endif
  return true;
}

/// Whether Expander can compute S at At without trapping or reading what
/// is not yet defined there.
inline bool isSafeToExpandAt(llvm::SCEVExpander &Expander, const llvm::SCEV *S,
                             const llvm::Instruction *At, llvm::ScalarEvolution &SE) {
#if LLVM_VERSION_MAJOR >= 15
  return Expander.isSafeToExpandAt(S, At);
#else
  return llvm::isSafeToExpandAt(S, At, SE);
#endif
}

} // namespace compat
} // namespace gorace

#endif

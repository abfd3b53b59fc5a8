//===- Atomics.cpp - atomic operations performed by the detector ----------===//
//
// An atomic operation is both a memory access and synchronisation, and the
// detector must see the two as one indivisible step: it records the
// happens-before edge of the access it performs itself. So atomics are not
// annotated but replaced: load/store atomic, atomicrmw, cmpxchg (weak ones
// too: a strong compare-exchange is a valid weak one) and fence become calls
// to __gorace_atomicN_* and __gorace_atomic_{thread,signal}_fence, with the
// memory order as its __ATOMIC_* value.
//
// The ABI works on integers of 1, 2, 4, 8 and 16 bytes. Pointers, floats
// and small vectors travel as the integer of their size and are converted
// back. atomicrmw operations without an ABI entry (min, max, umin, umax,
// fadd, fsub and whatever later LLVMs add) become a compare-exchange loop
// over the detector's cmpxchg, which keeps the operation atomic and keeps
// its success ordering; failed attempts are relaxed reads, as they would
// be in hardware.
//
//===----------------------------------------------------------------------===//
#include "Instrumenter.h"
#include "llvm_compat.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"

using namespace llvm;

namespace gorace {

namespace {

/// The same bits as an integer of IntTy's width.
Value *toInt(IRBuilder<> &IRB, Value *V, IntegerType *IntTy) {
  if (V->getType() == IntTy)
    return V;
  if (V->getType()->isPointerTy())
    return IRB.CreatePtrToInt(V, IntTy);
  return IRB.CreateBitCast(V, IntTy);
}

/// The inverse of toInt.
Value *fromInt(IRBuilder<> &IRB, Value *V, Type *Ty) {
  if (V->getType() == Ty)
    return V;
  if (Ty->isPointerTy())
    return IRB.CreateIntToPtr(V, Ty);
  return IRB.CreateBitCast(V, Ty);
}

bool hasABIEntry(AtomicRMWInst::BinOp Op, AtomicOp &Out) {
  switch (Op) {
  case AtomicRMWInst::Xchg: Out = AtomicOp::Exchange; return true;
  case AtomicRMWInst::Add: Out = AtomicOp::FetchAdd; return true;
  case AtomicRMWInst::Sub: Out = AtomicOp::FetchSub; return true;
  case AtomicRMWInst::And: Out = AtomicOp::FetchAnd; return true;
  case AtomicRMWInst::Or: Out = AtomicOp::FetchOr; return true;
  case AtomicRMWInst::Xor: Out = AtomicOp::FetchXor; return true;
  case AtomicRMWInst::Nand: Out = AtomicOp::FetchNand; return true;
  default: return false;
  }
}

/// atomicrmw Op as: old = load relaxed; loop { new = Op(old, v);
/// seen = cmpxchg(old, new); if seen == old, done; old = seen }.
/// Returns the value memory held before the operation, as an integer.
Value *emitCompareExchangeLoop(AtomicRMWInst *RMW, Value *Ptr, int SizeIndex, const DebugLoc &Where,
                               RaceRuntime &RT) {
  IntegerType *IntTy = RT.intTy(SizeIndex);
  Type *ValTy = RMW->getValOperand()->getType();
  IRBuilder<> IRB(RMW);
  IRB.SetCurrentDebugLocation(Where);
  Value *Relaxed = RT.order(AtomicOrdering::Monotonic);
  Value *Initial = IRB.CreateCall(RT.atomic(AtomicOp::Load, SizeIndex), {Ptr, Relaxed});

  BasicBlock *Head = RMW->getParent();
  BasicBlock *Done = Head->splitBasicBlock(RMW->getIterator(), "gorace.rmw.done");
  BasicBlock *Loop =
      BasicBlock::Create(RMW->getContext(), "gorace.rmw.loop", Head->getParent(), Done);
  Head->getTerminator()->setSuccessor(0, Loop);

  IRB.SetInsertPoint(Loop);
  PHINode *Expected = IRB.CreatePHI(IntTy, 2, "gorace.rmw.expected");
  Expected->addIncoming(Initial, Head);
  Value *Desired = compat::atomicRMWResult(RMW->getOperation(), IRB, fromInt(IRB, Expected, ValTy),
                                           RMW->getValOperand());
  Value *Seen = IRB.CreateCall(
      RT.atomic(AtomicOp::CompareExchange, SizeIndex),
      {Ptr, Expected, toInt(IRB, Desired, IntTy), RT.order(RMW->getOrdering()), Relaxed});
  Expected->addIncoming(Seen, Loop);
  IRB.CreateCondBr(IRB.CreateICmpEQ(Seen, Expected), Done, Loop);
  return Seen;
}

} // namespace

bool instrumentAtomic(Instruction *I, const DebugLoc &Where, RaceRuntime &RT) {
  IRBuilder<> IRB(I);
  IRB.SetCurrentDebugLocation(Where);
  if (auto *Fence = dyn_cast<FenceInst>(I)) {
    bool SignalOnly = Fence->getSyncScopeID() == SyncScope::SingleThread;
    IRB.CreateCall(RT.fence(SignalOnly), {RT.order(Fence->getOrdering())});
    Fence->eraseFromParent();
    return true;
  }

  Value *Addr = getLoadStorePointerOperand(I);
  Type *ValTy = nullptr;
  if (auto *RMW = dyn_cast<AtomicRMWInst>(I)) {
    Addr = RMW->getPointerOperand();
    ValTy = RMW->getValOperand()->getType();
  } else if (auto *CmpXchg = dyn_cast<AtomicCmpXchgInst>(I)) {
    Addr = CmpXchg->getPointerOperand();
    ValTy = CmpXchg->getNewValOperand()->getType();
  } else {
    ValTy = getLoadStoreType(I);
  }
  const DataLayout &DL = I->getModule()->getDataLayout();
  TypeSize Size = DL.getTypeStoreSize(ValTy);
  int SizeIndex = Size.isScalable() ? -1 : RaceRuntime::sizeIndex(Size.getFixedValue());
  if (SizeIndex < 0 || Addr->getType()->getPointerAddressSpace() != 0)
    return false;
  IntegerType *IntTy = RT.intTy(SizeIndex);
  Value *Ptr = IRB.CreatePointerCast(Addr, compat::pointerTo(IntTy));

  Value *Result = nullptr;
  if (auto *Load = dyn_cast<LoadInst>(I)) {
    Value *Loaded =
        IRB.CreateCall(RT.atomic(AtomicOp::Load, SizeIndex), {Ptr, RT.order(Load->getOrdering())});
    Result = fromInt(IRB, Loaded, ValTy);
  } else if (auto *Store = dyn_cast<StoreInst>(I)) {
    IRB.CreateCall(
        RT.atomic(AtomicOp::Store, SizeIndex),
        {Ptr, toInt(IRB, Store->getValueOperand(), IntTy), RT.order(Store->getOrdering())});
  } else if (auto *RMW = dyn_cast<AtomicRMWInst>(I)) {
    AtomicOp Op;
    Value *Old;
    if (hasABIEntry(RMW->getOperation(), Op)) {
      Old = IRB.CreateCall(RT.atomic(Op, SizeIndex), {Ptr, toInt(IRB, RMW->getValOperand(), IntTy),
                                                      RT.order(RMW->getOrdering())});
    } else {
      Old = emitCompareExchangeLoop(RMW, Ptr, SizeIndex, Where, RT);
      IRB.SetInsertPoint(RMW);
      IRB.SetCurrentDebugLocation(Where);
    }
    Result = fromInt(IRB, Old, ValTy);
  } else {
    auto *CmpXchg = cast<AtomicCmpXchgInst>(I);
    Value *Expected = toInt(IRB, CmpXchg->getCompareOperand(), IntTy);
    Value *Old = IRB.CreateCall(RT.atomic(AtomicOp::CompareExchange, SizeIndex),
                                {Ptr, Expected, toInt(IRB, CmpXchg->getNewValOperand(), IntTy),
                                 RT.order(CmpXchg->getSuccessOrdering()),
                                 RT.order(CmpXchg->getFailureOrdering())});
    Value *Pair =
        IRB.CreateInsertValue(PoisonValue::get(CmpXchg->getType()), fromInt(IRB, Old, ValTy), 0);
    Result = IRB.CreateInsertValue(Pair, IRB.CreateICmpEQ(Old, Expected), 1);
  }
  if (Result)
    I->replaceAllUsesWith(Result);
  I->eraseFromParent();
  return true;
}

} // namespace gorace

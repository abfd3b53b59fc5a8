//===- Accesses.cpp - plain memory accesses and what cannot race ----------===//
//
// A plain access becomes a call the detector checks against the shadow of
// the bytes it touches. A naturally aligned scalar of 1, 2, 4, 8 or 16 bytes
// has its own entry point (__gorace_readN/writeN); everything else - odd
// sizes such as 3-byte bitfield units or 10-byte long doubles, unaligned
// scalars, vectors, first-class aggregates - goes through
// __gorace_read_range/write_range with its exact size. Nothing is dropped
// for being awkward.
//
// mem* intrinsics whose operands may both race become the detector's
// __gorace_memcpy/memmove/memset, which check the ranges and do the work.
// When one side is private, or the intrinsic must stay an intrinsic
// (volatile, or the .inline forms that promise no library call), the
// intrinsic is kept and the racy sides are checked with _range calls.
//
// Masked vector intrinsics touch only the lanes their mask enables, so
// each lane is checked on its own, under its mask bit; expand-load and
// compress-store touch a contiguous prefix as long as the mask's
// population count.
//
//===----------------------------------------------------------------------===//
#include "Instrumenter.h"
#include "llvm_compat.h"

#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

using namespace llvm;

namespace gorace {

namespace {

/// Globals that coverage and profiling instrumentation (gcov,
/// -fprofile-instr-generate) increments without synchronisation on purpose.
/// (Sanitizer coverage marks its increments !nosanitize instead.)
bool isToolCounter(const GlobalVariable *GV) {
  StringRef Name = GV->getName();
  for (StringRef Prefix : {"__llvm_gcov_ctr", "__profc_", "__profbm_"})
    if (Name.take_front(Prefix.size()) == Prefix)
      return true;
  return false;
}

/// A load of a C++ object's vtable pointer: what is reached through it is
/// read-only for the whole run.
bool isVtablePointerLoad(const Value *V) {
  const auto *L = dyn_cast<LoadInst>(V);
  if (!L)
    return false;
  const MDNode *Tag = L->getMetadata(LLVMContext::MD_tbaa);
  return Tag && Tag->isTBAAVtableAccess();
}

/// Calls the fixed-size entry point when Ty is a naturally aligned scalar
/// of an ABI size, the _range one otherwise.
void emitAccess(IRBuilder<> &IRB, Value *Addr, Type *Ty, Align Alignment, bool IsWrite,
                RaceRuntime &RT) {
  const DataLayout &DL = IRB.GetInsertBlock()->getModule()->getDataLayout();
  TypeSize Size = DL.getTypeStoreSize(Ty);
  Value *Ptr = IRB.CreatePointerCast(Addr, RT.voidPtrTy());
  bool IsScalar = !Ty->isVectorTy() && !Ty->isAggregateType();
  if (!Size.isScalable() && IsScalar) {
    int Index = RaceRuntime::sizeIndex(Size.getFixedValue());
    if (Index >= 0 && Alignment.value() >= Size.getFixedValue()) {
      IRB.CreateCall(RT.access(IsWrite, Index), {Ptr});
      return;
    }
  }
  Value *Bytes = ConstantInt::get(RT.sizeTy(), Size.getKnownMinValue());
  if (Size.isScalable())
    Bytes = IRB.CreateMul(IRB.CreateIntrinsic(Intrinsic::vscale, {RT.sizeTy()}, {}), Bytes);
  IRB.CreateCall(RT.accessRange(IsWrite), {Ptr, Bytes});
}

} // namespace

// errno, reached through glibc's __errno_location(): the running thread's
// own, so two accesses to one errno are never concurrent. Goroutines that
// take turns on a thread share it, but so does every failing C library
// call behind their backs, and the idiom (clear it, call, read it at once)
// is right on any thread: reporting it would only be noise.
static bool isErrnoLocation(const Value *Object) {
  const auto *Call = dyn_cast<CallBase>(Object);
  const Function *Callee = Call ? Call->getCalledFunction() : nullptr;
  return Callee && Callee->getName() == "__errno_location";
}

bool AccessFilter::cannotRace(const Value *Addr) {
  if (Addr->getType()->getPointerAddressSpace() != 0)
    return true;
  const Value *Object = getUnderlyingObject(Addr);
  if (const auto *GV = dyn_cast<GlobalVariable>(Object))
    return GV->isConstant() || isToolCounter(GV);
  if (isVtablePointerLoad(Object) || isErrnoLocation(Object))
    return true;
  return isPrivateObject(Object);
}

bool AccessFilter::isPrivateObject(const Value *Object) {
  const auto *Arg = dyn_cast<Argument>(Object);
  if (!isa<AllocaInst>(Object) && !(Arg && Arg->hasByValAttr()))
    return false;
  auto Inserted = PrivateObjects.try_emplace(Object, false);
  if (Inserted.second)
    Inserted.first->second = !compat::pointerMayBeCaptured(Object);
  return Inserted.first->second;
}

uint64_t accessBytes(const Instruction *I) {
  const DataLayout &DL = I->getModule()->getDataLayout();
  return DL.getTypeStoreSize(getLoadStoreType(const_cast<Instruction *>(I))).getKnownMinValue();
}

void instrumentLoadOrStore(Instruction *I, const DebugLoc &Where, RaceRuntime &RT) {
  IRBuilder<> IRB(I);
  IRB.SetCurrentDebugLocation(Where);
  emitAccess(IRB, getLoadStorePointerOperand(I), getLoadStoreType(I), getLoadStoreAlignment(I),
             isa<StoreInst>(I), RT);
}

void instrumentMemIntrinsic(const MemIntrinsicAccess &Access, const DebugLoc &Where,
                            RaceRuntime &RT) {
  MemIntrinsic *MI = Access.MI;
  auto *Transfer = dyn_cast<MemTransferInst>(MI);
  IRBuilder<> IRB(MI);
  IRB.SetCurrentDebugLocation(Where);
  Value *Length = IRB.CreateZExtOrTrunc(MI->getLength(), RT.sizeTy());
  auto pointer = [&](Value *P) { return IRB.CreatePointerCast(P, RT.voidPtrTy()); };

  bool ReplaceByDetector = Access.MayRaceDest && (!Transfer || Access.MayRaceSource) &&
                           !MI->isVolatile() && !compat::isInlineMemIntrinsic(MI);
  if (ReplaceByDetector) {
    if (Transfer) {
      FunctionCallee Callee = isa<MemMoveInst>(Transfer) ? RT.memmove() : RT.memcpy();
      IRB.CreateCall(Callee,
                     {pointer(Transfer->getRawDest()), pointer(Transfer->getRawSource()), Length});
    } else {
      Value *Fill = IRB.CreateZExt(cast<MemSetInst>(MI)->getValue(), IRB.getInt32Ty());
      IRB.CreateCall(RT.memset(), {pointer(MI->getRawDest()), Fill, Length});
    }
    MI->eraseFromParent();
    return;
  }
  if (Access.MayRaceSource)
    IRB.CreateCall(RT.accessRange(false), {pointer(Transfer->getRawSource()), Length});
  if (Access.MayRaceDest)
    IRB.CreateCall(RT.accessRange(true), {pointer(MI->getRawDest()), Length});
}

void instrumentByValRead(CallBase *Call, unsigned Arg, const DebugLoc &Where, RaceRuntime &RT) {
  const DataLayout &DL = Call->getModule()->getDataLayout();
  IRBuilder<> IRB(Call);
  IRB.SetCurrentDebugLocation(Where);
  uint64_t Bytes = DL.getTypeAllocSize(Call->getParamByValType(Arg));
  IRB.CreateCall(RT.accessRange(false),
                 {IRB.CreatePointerCast(Call->getArgOperand(Arg), RT.voidPtrTy()),
                  ConstantInt::get(RT.sizeTy(), Bytes)});
}

void instrumentMaskedAccess(IntrinsicInst *II, const DebugLoc &Where, RaceRuntime &RT) {
  const DataLayout &DL = II->getModule()->getDataLayout();
  Intrinsic::ID ID = II->getIntrinsicID();
  if (ID == Intrinsic::masked_expandload || ID == Intrinsic::masked_compressstore) {
    bool IsWrite = ID == Intrinsic::masked_compressstore;
    auto *VecTy = cast<VectorType>(IsWrite ? II->getArgOperand(0)->getType() : II->getType());
    Value *Ptr = II->getArgOperand(IsWrite ? 1 : 0);
    Value *Mask = II->getArgOperand(IsWrite ? 2 : 1);
    IRBuilder<> IRB(II);
    IRB.SetCurrentDebugLocation(Where);
    unsigned Lanes = cast<FixedVectorType>(VecTy)->getNumElements();
    Value *Bits = IRB.CreateBitCast(Mask, IRB.getIntNTy(Lanes));
    Value *Enabled =
        IRB.CreateZExtOrTrunc(IRB.CreateUnaryIntrinsic(Intrinsic::ctpop, Bits), RT.sizeTy());
    Value *Bytes = IRB.CreateMul(
        Enabled, ConstantInt::get(RT.sizeTy(), DL.getTypeStoreSize(VecTy->getElementType())));
    IRB.CreateCall(RT.accessRange(IsWrite), {IRB.CreatePointerCast(Ptr, RT.voidPtrTy()), Bytes});
    return;
  }

  compat::MaskedAccess Masked{};
  compat::maskedAccess(II, Masked);
  auto *VecTy =
      cast<FixedVectorType>(Masked.IsWrite ? II->getArgOperand(0)->getType() : II->getType());
  Type *EltTy = VecTy->getElementType();
  uint64_t Stride = DL.getTypeAllocSize(EltTy);
  Align BaseAlign = Masked.Alignment.valueOrOne();
  unsigned AddressSpace = Masked.Pointers->getType()->getScalarType()->getPointerAddressSpace();
  for (unsigned Lane = 0; Lane < VecTy->getNumElements(); ++Lane) {
    Instruction *InsertBefore = II;
    auto *ConstMask = dyn_cast<Constant>(Masked.Mask);
    Constant *ConstBit = ConstMask ? ConstMask->getAggregateElement(Lane) : nullptr;
    if (ConstBit && (ConstBit->isNullValue() || isa<UndefValue>(ConstBit)))
      continue;
    if (!ConstBit || !ConstBit->isOneValue()) {
      // Frozen: branching on a poison lane would be undefined behaviour,
      // where the masked access itself is not.
      IRBuilder<> IRB(II);
      IRB.SetCurrentDebugLocation(Where);
      Value *Bit = IRB.CreateFreeze(IRB.CreateExtractElement(Masked.Mask, uint64_t(Lane)));
      InsertBefore = SplitBlockAndInsertIfThen(Bit, II, /*Unreachable=*/false);
    }
    IRBuilder<> IRB(InsertBefore);
    IRB.SetCurrentDebugLocation(Where);
    Value *Addr;
    Align LaneAlign = BaseAlign;
    if (Masked.IsVectorOfPointers) {
      Addr = IRB.CreateExtractElement(Masked.Pointers, uint64_t(Lane));
    } else {
      Value *Base = IRB.CreatePointerCast(Masked.Pointers, compat::pointerTo(EltTy, AddressSpace));
      Addr = IRB.CreateConstGEP1_32(EltTy, Base, Lane);
      LaneAlign = commonAlignment(BaseAlign, Lane * Stride);
    }
    emitAccess(IRB, Addr, EltTy, LaneAlign, Masked.IsWrite, RT);
  }
}

} // namespace gorace

//===- LoopRanges.cpp - one range check per loop instead of one per access ===//
//
// A loop that walks memory contiguously (`for (p = lo; p < hi; p++) *p +=
// k;`) would call the detector once per element. When the loop cannot
// synchronise, checking the whole range it touches once, in the preheader,
// before the first iteration, reports exactly the races the per-element
// checks would: with no synchronisation inside the loop, every iteration's
// access happens in the same happens-before position relative to every
// other goroutine, so whether element k races does not depend on when in
// the loop it is touched. An access is taken over when:
//
//   - its loop is innermost, is entered from one block, and its latch is
//     its only exiting block, with a backedge-taken count SCEV can compute:
//     reaching the loop's preheader (made if missing) then means every block that dominates the latch runs
//     exactly count + 1 times (the loop cannot leave early, and it has no
//     inner loop that might not terminate);
//   - its block dominates the latch (it runs on every iteration);
//   - its address is an affine recurrence of that loop with a constant
//     step;
//   - nothing in the loop can synchronise or leave the loop sideways: no
//     call other than intrinsics that only compute or move memory, no
//     atomic, no fence;
//   - the function is optimised (optnone code keeps its variables in
//     memory, and SCEV sees nothing).
//
// Accesses of one loop whose addresses advance by the same stride from
// starts a constant apart (an unrolled or vectorised loop touches a[i],
// a[i+2], ... in one iteration) are checked together: their writes as one
// range when the bytes they write in an iteration form an interval at
// least a stride long (so iterations leave no gap the range would wrongly
// cover), their reads likewise, except the reads inside the written
// interval, which the write range covers (a write races with everything a
// read races with). What does not fit stays checked access by access. A
// range check carries its first access's debug location, so a report names
// that line.
//
//===----------------------------------------------------------------------===//
#include "Instrumenter.h"
#include "llvm_compat.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Analysis/ScalarEvolution.h"
#include "llvm/Analysis/ScalarEvolutionExpressions.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/Transforms/Utils/BasicBlockUtils.h"

using namespace llvm;

namespace gorace {

namespace {

/// Intrinsics that neither synchronise nor transfer control elsewhere.
bool isQuietIntrinsic(const IntrinsicInst &II) {
  return II.isAssumeLikeIntrinsic() || isa<MemIntrinsic>(II) || !II.mayHaveSideEffects() ||
         II.getIntrinsicID() == Intrinsic::masked_load ||
         II.getIntrinsicID() == Intrinsic::masked_store;
}

bool canSynchronise(const Instruction &I) {
  if (I.isAtomic())
    return true;
  if (const auto *II = dyn_cast<IntrinsicInst>(&I))
    return !isQuietIntrinsic(*II);
  return isa<CallBase>(I);
}

} // namespace

LoopRanges::LoopRanges(Function &F, LoopInfo &LI, DominatorTree &DT, ScalarEvolution &SE)
    : F(F), LI(LI), DT(DT), SE(SE), Expander(SE, F.getParent()->getDataLayout(), "gorace.range") {}

bool LoopRanges::isQuietLoop(Loop *L) {
  auto Cached = QuietLoops.find(L);
  if (Cached != QuietLoops.end())
    return Cached->second;
  bool Quiet = L->isInnermost() && L->getLoopPredecessor() && L->getLoopLatch() &&
               L->getExitingBlock() == L->getLoopLatch() &&
               !isa<SCEVCouldNotCompute>(SE.getBackedgeTakenCount(L)) &&
               compat::isSafeToExpandAt(Expander, SE.getBackedgeTakenCount(L),
                                        L->getLoopPredecessor()->getTerminator(), SE);
  for (BasicBlock *BB : L->blocks()) {
    if (!Quiet)
      break;
    for (const Instruction &I : *BB)
      if (canSynchronise(I)) {
        Quiet = false;
        break;
      }
  }
  QuietLoops[L] = Quiet;
  return Quiet;
}

bool LoopRanges::add(Instruction *I) {
  Loop *L = LI.getLoopFor(I->getParent());
  if (!L || !isQuietLoop(L) || !DT.dominates(I->getParent(), L->getLoopLatch()))
    return false;
  auto *Load = dyn_cast<LoadInst>(I);
  auto *Store = dyn_cast<StoreInst>(I);
  if ((Load && Load->isVolatile()) || (Store && Store->isVolatile()) ||
      isa<ScalableVectorType>(getLoadStoreType(I)))
    return false;
  const auto *Rec = dyn_cast<SCEVAddRecExpr>(SE.getSCEV(getLoadStorePointerOperand(I)));
  if (!Rec || Rec->getLoop() != L || !Rec->isAffine())
    return false;
  const auto *Step = dyn_cast<SCEVConstant>(Rec->getStepRecurrence(SE));
  if (!Step || Step->getAPInt() == 0 || !Step->getAPInt().isSignedIntN(32))
    return false;
  int64_t Stride = Step->getAPInt().getSExtValue();
  Member M{I, 0, accessBytes(I), Store != nullptr};
  for (Group &G : Groups) {
    if (G.L != L || G.Stride != Stride)
      continue;
    const auto *Offset = dyn_cast<SCEVConstant>(SE.getMinusSCEV(Rec->getStart(), G.Start));
    if (Offset && Offset->getAPInt().isSignedIntN(32)) {
      M.Offset = Offset->getAPInt().getSExtValue();
      G.Members.push_back(M);
      return true;
    }
  }
  if (!compat::isSafeToExpandAt(Expander, Rec->getStart(),
                                L->getLoopPredecessor()->getTerminator(), SE))
    return false;
  Groups.push_back(Group{L, Rec->getStart(), Stride, {M}});
  return true;
}

/// The bytes [Low, High) relative to the group's start that the members
/// accepted by Want touch in one iteration, when they are one interval at
/// least a stride long: then the loop touches every byte of it, shifted by
/// the stride, with no gap between iterations.
bool LoopRanges::hull(const Group &G, function_ref<bool(const Member &)> Want, int64_t &Low,
                      int64_t &High) {
  SmallVector<std::pair<int64_t, int64_t>, 8> Spans;
  for (const Member &M : G.Members)
    if (Want(M))
      Spans.push_back({M.Offset, M.Offset + int64_t(M.Bytes)});
  if (Spans.empty())
    return false;
  llvm::sort(Spans);
  Low = Spans.front().first;
  High = Spans.front().second;
  for (const auto &Span : Spans) {
    if (Span.first > High)
      return false;
    High = std::max(High, Span.second);
  }
  return High - Low >= std::abs(G.Stride);
}

/// The block that runs exactly when the loop is entered, made if the loop
/// lacks one (the only block outside the loop that branches into it may
/// also branch elsewhere). Expanding there is safe wherever it was safe at
/// the end of that predecessor, which dominates it.
BasicBlock *LoopRanges::preheader(Loop *L) {
  if (BasicBlock *Existing = L->getLoopPreheader())
    return Existing;
  return SplitEdge(L->getLoopPredecessor(), L->getHeader(), &DT, &LI, nullptr, "gorace.preheader");
}

void LoopRanges::emitRange(const Group &G, int64_t Low, int64_t High, bool IsWrite,
                           const DebugLoc &Location, RaceRuntime &RT) {
  Instruction *Where = preheader(G.L)->getTerminator();
  const SCEV *Count = SE.getBackedgeTakenCount(G.L);
  Value *Start = Expander.expandCodeFor(G.Start, RT.voidPtrTy(), Where);
  Value *Taken = Expander.expandCodeFor(Count, Count->getType(), Where);

  IRBuilder<> IRB(Where);
  IRB.SetCurrentDebugLocation(Location);
  // Iterations after the first move the window by the stride.
  Value *Moves = IRB.CreateMul(IRB.CreateZExtOrTrunc(Taken, RT.sizeTy()),
                               ConstantInt::get(RT.sizeTy(), std::abs(G.Stride)));
  Value *Size = IRB.CreateAdd(Moves, ConstantInt::get(RT.sizeTy(), High - Low));
  Value *Base = IRB.CreateGEP(IRB.getInt8Ty(), Start, ConstantInt::get(RT.sizeTy(), Low));
  if (G.Stride < 0) // walking down: the lowest bytes are the last iteration's
    Base = IRB.CreateGEP(IRB.getInt8Ty(), Base, IRB.CreateNeg(Moves));
  IRB.CreateCall(RT.accessRange(IsWrite), {IRB.CreatePointerCast(Base, RT.voidPtrTy()), Size});
}

SmallVector<Instruction *, 32> LoopRanges::takeOver(ArrayRef<Instruction *> Accesses,
                                                    const ReportLocations &Where, RaceRuntime &RT) {
  SmallVector<Instruction *, 32> Rest;
  if (F.hasOptNone())
    return SmallVector<Instruction *, 32>(Accesses.begin(), Accesses.end());
  for (Instruction *I : Accesses)
    if (!add(I))
      Rest.push_back(I);

  for (const Group &G : Groups) {
    int64_t WriteLow = 0, WriteHigh = 0, ReadLow = 0, ReadHigh = 0;
    bool Writes = hull(G, [](const Member &M) { return M.IsWrite; }, WriteLow, WriteHigh);
    auto CoveredByWrites = [&](const Member &M) {
      return Writes && M.Offset >= WriteLow && M.Offset + int64_t(M.Bytes) <= WriteHigh;
    };
    auto OwnRead = [&](const Member &M) { return !M.IsWrite && !CoveredByWrites(M); };
    bool Reads = hull(G, OwnRead, ReadLow, ReadHigh);
    Instruction *FirstWrite = nullptr, *FirstRead = nullptr;
    for (const Member &M : G.Members) {
      if (M.IsWrite ? Writes : (CoveredByWrites(M) || Reads)) {
        Instruction *&First = M.IsWrite ? FirstWrite : FirstRead;
        if (!First)
          First = M.I;
        continue;
      }
      Rest.push_back(M.I);
    }
    if (Writes)
      emitRange(G, WriteLow, WriteHigh, true, Where.lookup(FirstWrite), RT);
    if (Reads)
      emitRange(G, ReadLow, ReadHigh, false, Where.lookup(FirstRead), RT);
  }
  return Rest;
}

} // namespace gorace

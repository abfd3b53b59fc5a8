//===- ReportLocation.cpp - the source line a report frame names ----------===//
//
// The detector names an access by the return address of the call the pass
// inserted for it, so that call's debug location is the file:line a race
// report shows. Usually it is the access's own location. The frames below
// it are the return addresses of the program's own calls, so their
// locations are the lines of the callers. But the optimiser leaves some
// accesses and calls without a line:
//
//   - SimplifyCFG and InstCombine merge the stores, loads or calls of both
//     arms of an if/else into one, and LLVM gives the merged instruction
//     line 0 in the innermost scope enclosing both originals;
//   - LICM, GVN and others drop the location of what they hoist or sink,
//     so that the line of the code around it applies.
//
// A pc left like that symbolises to `file.c:0` (ThreadSanitizer has the
// same problem), which names no source at all, and since reports are
// de-duplicated by source line, every race at line 0 in one file would
// hide the others. Such an access's inserted calls, or such a call itself,
// instead take, in this order:
//
//   1. the nearest earlier instruction with a line, in its block or, from
//      the top of the block, in the chain of unique predecessors (the code
//      that certainly ran just before): the line table itself attributes a
//      location-less instruction to what precedes it, as LLVM intends when
//      it drops a location. A load LICM hoisted to the top of a loop
//      preheader so takes the line of the branch into the loop, the `for`;
//   2. failing that, the nearest later instruction of the block with one;
//   3. failing that, where the access's scope opens: the line and column
//      of its lexical block (for a merge, the construct containing every
//      merged access, typically the `if`), or the function's opening line.
//
// Steps 1 and 2 consider only instructions of the same function instance
// (the same subprogram, inlined at the same place) when the access has a
// scope, so an access inlined from a helper keeps the helper's frame and
// its caller's. A location with a line is never changed; a call given one
// here also reads better in a debugger than line 0 did.
//
//===----------------------------------------------------------------------===//
#include "Instrumenter.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/Function.h"

using namespace llvm;

namespace gorace {

namespace {

bool sameFunctionInstance(const DILocation *A, const DILocation *B) {
  return A->getInlinedAt() == B->getInlinedAt() &&
         A->getScope()->getSubprogram() == B->getScope()->getSubprogram();
}

/// J's location if it names a line an access at Access may borrow.
const DILocation *borrowable(const Instruction &J, const DILocation *Access) {
  const DILocation *Loc = J.getDebugLoc().get();
  if (J.isDebugOrPseudoInst() || !Loc || Loc->getLine() == 0)
    return nullptr;
  if (Access && !sameFunctionInstance(Access, Loc))
    return nullptr;
  return Loc;
}

/// Where Scope opens (step 3): its lexical block's line and column, or
/// its function's opening line.
DebugLoc scopeOpening(DILocalScope *Scope, DILocation *InlinedAt) {
  if (const auto *Block = dyn_cast<DILexicalBlock>(Scope))
    if (Block->getLine() != 0)
      return DILocation::get(Scope->getContext(), Block->getLine(), Block->getColumn(), Scope,
                             InlinedAt);
  DISubprogram *SP = Scope->getSubprogram();
  unsigned Line = SP->getScopeLine() ? SP->getScopeLine() : SP->getLine();
  return DILocation::get(Scope->getContext(), Line, 0, Scope, InlinedAt);
}

} // namespace

DebugLoc reportLocation(const Instruction *I) {
  const DebugLoc &Own = I->getDebugLoc();
  if (Own && Own.getLine() != 0)
    return Own;
  const DILocation *Access = Own.get();
  const BasicBlock *BB = I->getParent();
  // Backwards through the block, then through the blocks that can only
  // have run just before it (the visited set stops the cycle an
  // unreachable block may form with itself).
  SmallPtrSet<const BasicBlock *, 8> Visited{BB};
  const BasicBlock *Block = BB;
  for (auto J = std::next(I->getReverseIterator());; J = Block->rbegin()) {
    for (; J != Block->rend(); ++J)
      if (const DILocation *Loc = borrowable(*J, Access))
        return Loc;
    Block = Block->getUniquePredecessor();
    if (!Block || !Visited.insert(Block).second)
      break;
  }
  for (auto J = std::next(I->getIterator()); J != BB->end(); ++J)
    if (const DILocation *Loc = borrowable(*J, Access))
      return Loc;
  if (Access)
    return scopeOpening(Access->getScope(), Access->getInlinedAt());
  // Neither a location nor a neighbour with one: the function's opening
  // line, if it has debug information at all.
  if (DISubprogram *SP = I->getFunction()->getSubprogram())
    return scopeOpening(SP, nullptr);
  return DebugLoc();
}

} // namespace gorace

//===- Instrumenter.h - the pieces of one function's instrumentation ------===//
//
// GoRacePass.cpp walks a function, decides what to instrument and then
// calls the rewrites declared here: Accesses.cpp for plain memory accesses
// (loads, stores, mem* and masked intrinsics), Atomics.cpp for atomic
// operations. Every decision about what can race is taken, through
// AccessFilter, before the first rewrite: inserted calls take addresses as
// arguments and would otherwise make private objects look captured.
//
//===----------------------------------------------------------------------===//
#ifndef GORACE_INSTRUMENTER_H
#define GORACE_INSTRUMENTER_H

#include "RaceRuntime.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Analysis/LoopInfo.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/Transforms/Utils/ScalarEvolutionExpander.h"


namespace gorace {

/// Answers "can an access through this address race at all?" for one
/// function, caching the capture analysis of its local objects.
class AccessFilter {
public:
  /// True when no other thread can reach the memory Addr points to: a
  /// non-zero address space (segment-relative, GPU-local, ...), a
  /// constant global, a global a profiling or coverage tool increments
  /// without synchronisation by design, constant data reached through a
  /// C++ vtable pointer, or a local object (alloca, byval argument) whose
  /// address never escapes the function.
  bool cannotRace(const llvm::Value *Addr);

private:
  bool isPrivateObject(const llvm::Value *Object);
  llvm::DenseMap<const llvm::Value *, bool> PrivateObjects;
};

/// The debug location for the calls that check or replace I, or for I
/// itself when it is a call: I's own, or, when the optimiser left I at
/// line 0 or without one, a real line nearby (ReportLocation.cpp says
/// which).
llvm::DebugLoc reportLocation(const llvm::Instruction *I);

/// reportLocation of each access (and call) of a function, all chosen
/// before its first rewrite so that no choice depends on code another
/// rewrite inserted. The rewrites below give their calls these locations.
using ReportLocations = llvm::DenseMap<const llvm::Instruction *, llvm::DebugLoc>;

/// Inserts __gorace_readN/writeN or the _range call before a plain load or
/// store.
void instrumentLoadOrStore(llvm::Instruction *I, const llvm::DebugLoc &Where, RaceRuntime &RT);

/// A mem* intrinsic with, decided beforehand, which of its operands may
/// race. MayRaceSource is false for memset.
struct MemIntrinsicAccess {
  llvm::MemIntrinsic *MI;
  bool MayRaceDest;
  bool MayRaceSource;
};
void instrumentMemIntrinsic(const MemIntrinsicAccess &Access, const llvm::DebugLoc &Where,
                            RaceRuntime &RT);

/// Checks each lane a masked load, store, gather or scatter really accesses.
void instrumentMaskedAccess(llvm::IntrinsicInst *II, const llvm::DebugLoc &Where, RaceRuntime &RT);

/// A struct passed by value (byval) is copied out of the caller's memory
/// by the call sequence itself, with no load in the IR: check that copy
/// as a read of the whole object, before the call.
void instrumentByValRead(llvm::CallBase *Call, unsigned Arg, const llvm::DebugLoc &Where,
                         RaceRuntime &RT);

/// Replaces an atomic load, store, atomicrmw, cmpxchg or fence by the
/// detector's equivalent. Returns false, leaving I alone, for atomics the
/// ABI cannot express (sizes other than 1..16 bytes, other address spaces).
bool instrumentAtomic(llvm::Instruction *I, const llvm::DebugLoc &Where, RaceRuntime &RT);

/// Plain accesses in loops that walk memory contiguously, checked once per
/// loop as a range in the preheader (LoopRanges.cpp says when that is
/// exact).
class LoopRanges {
public:
  LoopRanges(llvm::Function &F, llvm::LoopInfo &LI, llvm::DominatorTree &DT,
             llvm::ScalarEvolution &SE);
  /// Inserts range checks in loop preheaders for the accesses it can take
  /// over and returns the others, which need checks of their own.
  llvm::SmallVector<llvm::Instruction *, 32> takeOver(llvm::ArrayRef<llvm::Instruction *> Accesses,
                                                      const ReportLocations &Where,
                                                      RaceRuntime &RT);

private:
  struct Member {
    llvm::Instruction *I;
    int64_t Offset; // of its first address from the group's start
    uint64_t Bytes;
    bool IsWrite;
  };
  /// Accesses of one loop advancing by one stride from nearby starts.
  struct Group {
    llvm::Loop *L;
    const llvm::SCEV *Start;
    int64_t Stride;
    llvm::SmallVector<Member, 4> Members;
  };
  bool isQuietLoop(llvm::Loop *L);
  llvm::BasicBlock *preheader(llvm::Loop *L);
  bool add(llvm::Instruction *I);
  static bool hull(const Group &G, llvm::function_ref<bool(const Member &)> Want, int64_t &Low,
                   int64_t &High);
  void emitRange(const Group &G, int64_t Low, int64_t High, bool IsWrite,
                 const llvm::DebugLoc &Location, RaceRuntime &RT);

  llvm::Function &F;
  llvm::LoopInfo &LI;
  llvm::DominatorTree &DT;
  llvm::ScalarEvolution &SE;
  llvm::SCEVExpander Expander;
  llvm::DenseMap<llvm::Loop *, bool> QuietLoops;
  llvm::SmallVector<Group, 8> Groups;
};

/// The memory a load or store touches, in bytes (scalable vectors: the
/// known minimum).
uint64_t accessBytes(const llvm::Instruction *I);

} // namespace gorace

#endif

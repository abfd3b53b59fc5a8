//===- GoRacePass.cpp - instrumentation for goroutine's race detector -----===//
//
// Makes every memory access of a C program visible to the happens-before
// race detector (detector/), through the calls of detector/race_abi.h:
//
//   - each plain load and store is preceded by __gorace_readN/writeN, or by
//     __gorace_read_range/write_range when it is not a naturally aligned
//     scalar of 1, 2, 4, 8 or 16 bytes (Accesses.cpp);
//   - atomic loads, stores, atomicrmw, cmpxchg and fences are replaced by
//     __gorace_atomic* calls carrying the memory order (Atomics.cpp);
//   - llvm.memcpy/memmove/memset become __gorace_memcpy/memmove/memset, and
//     masked vector loads and stores are checked lane by lane;
//   - a struct passed by value (byval) is checked as a read of the
//     caller's object before the call, which copies it with no load;
//   - a function that accessed or called anything starts with
//     __gorace_func_entry(its return address) and calls __gorace_func_exit
//     on every way out: each return (before a musttail call), each resume,
//     and, in functions that may unwind, a cleanup landing pad wrapped around
//     the calls that may throw. The detector keeps a shadow call stack from
//     them. A function with no instrumented access and no call cannot be on
//     the stack of any report, so it gets neither;
//   - each inserted call takes the debug location of the access it checks,
//     and each call the function makes keeps its own, except where the
//     optimiser left line 0 or none (merged or hoisted code): those borrow
//     a real line nearby (ReportLocation.cpp), so no report frame reads
//     `file.c:0`.
//
// What is left out, because it cannot race:
//   - accesses to local objects (allocas, byval arguments) whose address
//     never escapes the function (capture analysis of the object itself, so
//     &a[1] is checked once &a[0] has escaped);
//   - constant globals, data reached through a C++ vtable pointer, loads
//     marked !invariant.load, globals incremented racily on purpose by
//     coverage and profiling tools, the accesses other instrumentations
//     (sanitizer coverage, UBSan) mark !nosanitize as their own, errno
//     (the running thread's own: Accesses.cpp), and memory outside
//     address space 0;
//   - a read followed by a write of the same address and at least the same
//     size in the same basic block, with no call, atomic or fence in
//     between: any race of the read is also a race of the write, so only
//     the write is checked (ThreadSanitizer's read-before-write rule);
//   - every function marked disable_sanitizer_instrumentation, naked
//     functions (no prologue to extend), TSan's module constructor (it runs
//     before anything else exists), and functions already instrumented
//     (the "gorace-instrumented" attribute: a module fed through clang twice,
//     e.g. as bitcode, is instrumented once).
//
// no_sanitize("thread"): clang marks a function sanitize_thread only under
// -fsanitize=thread, and __attribute__((no_sanitize("thread"))) (or
// no_sanitize_thread, or a sanitizer ignore list) removes the mark.
// goroutine-cc therefore compiles race builds with -fsanitize=thread and
// ThreadSanitizer's own instrumentation switched off
// (-fno-sanitize-thread-memory-access, which in clang implies
// -mllvm -tsan-instrument-memintrinsics=0, -fno-sanitize-thread-func-entry-exit
// and -fno-sanitize-thread-atomics). TSan then adds only a module constructor
// calling __tsan_init, which the race runtime defines as a no-op, and
// nobuiltin marks on calls to library functions. The rule is:
//
//   if any function defined in the module has sanitize_thread, the
//   functions that lack it opted out: their loads, stores and mem*
//   intrinsics are not checked. Their atomics and fences are still
//   performed by the detector, and they still keep the shadow call stack,
//   as under ThreadSanitizer: a function opts out of reports, not out of
//   synchronising, and hiding its happens-before edges would put false
//   races in the code that relies on them. Without any sanitize_thread (the
//   plugin loaded without -fsanitize=thread), every function is checked.
//
// A module whose functions all opted out carries no sanitize_thread at all,
// so TSan's constructor (a declaration of __tsan_init) counts as the mark
// too: Plugin.cpp makes sure this pass runs after ThreadSanitizer's.
//
// -fsanitize=thread also stops LLVM's optimisers from speculating loads the
// program does not make, which would otherwise show up as races.
//
// The pass runs once, at the end of the optimisation pipeline (where clang
// puts ThreadSanitizer): it sees the accesses that survived optimisation and
// does not hinder the optimiser. It is required, so it runs at -O0 and on
// optnone functions as well.
//
//===----------------------------------------------------------------------===//
#include "GoRacePass.h"
#include "Instrumenter.h"
#include "RaceRuntime.h"
#include "llvm_compat.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Analysis/ScalarEvolution.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/Transforms/Utils/EscapeEnumerator.h"

using namespace llvm;

namespace gorace {

namespace {

constexpr const char *InstrumentedAttr = "gorace-instrumented";
/// ThreadSanitizer's constructor, which only calls __tsan_init.
constexpr const char *TsanModuleCtor = "tsan.module_ctor";

bool isAtomic(const Instruction &I) {
  if (const auto *Load = dyn_cast<LoadInst>(&I))
    return Load->isAtomic();
  if (const auto *Store = dyn_cast<StoreInst>(&I))
    return Store->isAtomic();
  return isa<AtomicRMWInst>(I) || isa<AtomicCmpXchgInst>(I) || isa<FenceInst>(I);
}

bool isMaskedAccess(const IntrinsicInst &II) {
  switch (II.getIntrinsicID()) {
  case Intrinsic::masked_load:
  case Intrinsic::masked_store:
  case Intrinsic::masked_gather:
  case Intrinsic::masked_scatter:
  case Intrinsic::masked_expandload:
  case Intrinsic::masked_compressstore: return true;
  default: return false;
  }
}

/// The address (or vector of addresses) a masked intrinsic accesses.
Value *maskedAddress(IntrinsicInst &II) {
  switch (II.getIntrinsicID()) {
  case Intrinsic::masked_store:
  case Intrinsic::masked_scatter:
  case Intrinsic::masked_compressstore: return II.getArgOperand(1);
  default: return II.getArgOperand(0);
  }
}

/// How much of a function is instrumented.
enum class Coverage {
  None,
  /// Atomics, fences and the shadow call stack only: the function opted out
  /// of race checks, but its synchronisation must still be seen.
  SyncOnly,
  Full,
};

/// One function's instrumentation: first every decision, then every
/// rewrite (see Instrumenter.h for why in that order).
class FunctionInstrumenter {
public:
  FunctionInstrumenter(Function &F, RaceRuntime &RT, bool CheckAccesses, LoopRanges &Loops)
      : F(F), RT(RT), CheckAccesses(CheckAccesses), Loops(Loops),
        NoSanitizeKind(F.getContext().getMDKindID("nosanitize")) {}

  void run() {
    for (BasicBlock &BB : F)
      collect(BB);
    ReportLocations Where = chooseReportLocations();
    // A call's return address is its caller's frame in every report stack.
    for (CallBase *Call : Calls)
      Call->setDebugLoc(Where.lookup(Call));
    for (const auto &ByVal : ByValReads)
      instrumentByValRead(ByVal.first, ByVal.second, Where.lookup(ByVal.first), RT);
    for (Instruction *I : Loops.takeOver(Accesses, Where, RT))
      instrumentLoadOrStore(I, Where.lookup(I), RT);
    for (const MemIntrinsicAccess &Access : MemIntrinsics)
      instrumentMemIntrinsic(Access, Where.lookup(Access.MI), RT);
    for (IntrinsicInst *II : MaskedAccesses)
      instrumentMaskedAccess(II, Where.lookup(II), RT);
    bool InstrumentedAtomic = false;
    for (Instruction *I : Atomics)
      InstrumentedAtomic |= instrumentAtomic(I, Where.lookup(I), RT);
    if (!Calls.empty() || InstrumentedAtomic || !Accesses.empty() || !MemIntrinsics.empty() ||
        !MaskedAccesses.empty())
      insertEntryAndExits();
  }

private:
  ReportLocations chooseReportLocations() {
    ReportLocations Where;
    for (Instruction *I : Calls)
      Where[I] = reportLocation(I);
    for (Instruction *I : Accesses)
      Where[I] = reportLocation(I);
    for (const MemIntrinsicAccess &Access : MemIntrinsics)
      Where[Access.MI] = reportLocation(Access.MI);
    for (Instruction *I : MaskedAccesses)
      Where[I] = reportLocation(I);
    for (Instruction *I : Atomics)
      Where[I] = reportLocation(I);
    return Where;
  }

  void collect(BasicBlock &BB) {
    // Plain accesses since the last call, atomic or fence: the window of
    // the read-before-write rule.
    SmallVector<Instruction *, 16> Window;
    for (Instruction &I : BB) {
      bool ToolOwned = I.getMetadata(NoSanitizeKind) != nullptr;
      if (isAtomic(I)) {
        if (!ToolOwned)
          Atomics.push_back(&I);
        chooseFromWindow(Window);
      } else if (isa<LoadInst>(I) || isa<StoreInst>(I)) {
        if (CheckAccesses && !ToolOwned)
          Window.push_back(&I);
      } else if (auto *Call = dyn_cast<CallBase>(&I)) {
        auto *II = dyn_cast<IntrinsicInst>(Call);
        if (II && II->isAssumeLikeIntrinsic())
          continue;
        if (!II) {
          Calls.push_back(Call);
          if (CheckAccesses && !ToolOwned)
            collectByValReads(Call);
        } else if (CheckAccesses && !ToolOwned)
          collectIntrinsic(II);
        chooseFromWindow(Window);
      }
    }
    chooseFromWindow(Window);
  }

  /// Walks the window backwards, remembering how many bytes are written
  /// at each address later in it, and keeps the accesses that can race and
  /// are not reads covered by a later write.
  void chooseFromWindow(SmallVectorImpl<Instruction *> &Window) {
    SmallDenseMap<Value *, uint64_t, 16> WrittenLater;
    for (Instruction *I : reverse(Window)) {
      Value *Addr = getLoadStorePointerOperand(I);
      uint64_t Bytes = accessBytes(I);
      // The same address through different casts is the same address.
      Value *Location = Addr->stripPointerCasts();
      if (isa<StoreInst>(I)) {
        uint64_t &Written = WrittenLater[Location];
        Written = std::max(Written, Bytes);
      } else {
        auto Later = WrittenLater.find(Location);
        if (Later != WrittenLater.end() && Later->second >= Bytes)
          continue;
        if (I->hasMetadata(LLVMContext::MD_invariant_load))
          continue;
      }
      if (Addr->isSwiftError() || Filter.cannotRace(Addr))
        continue;
      Accesses.push_back(I);
    }
    Window.clear();
  }

  void collectByValReads(CallBase *Call) {
    for (unsigned Arg = 0; Arg < Call->arg_size(); ++Arg)
      if (Call->isByValArgument(Arg) && !Filter.cannotRace(Call->getArgOperand(Arg)))
        ByValReads.push_back({Call, Arg});
  }

  void collectIntrinsic(IntrinsicInst *II) {
    if (auto *MI = dyn_cast<MemIntrinsic>(II))
      collectMemIntrinsic(MI);
    else if (isMaskedAccess(*II))
      collectMaskedAccess(II);
  }

  void collectMemIntrinsic(MemIntrinsic *MI) {
    auto *Transfer = dyn_cast<MemTransferInst>(MI);
    if (!Transfer && !isa<MemSetInst>(MI))
      return;
    MemIntrinsicAccess Access{MI, !Filter.cannotRace(MI->getRawDest()),
                              Transfer && !Filter.cannotRace(Transfer->getRawSource())};
    // Other address spaces stay as they are: the detector's pointers are
    // address space 0.
    bool ForeignAddressSpace =
        MI->getDestAddressSpace() != 0 || (Transfer && Transfer->getSourceAddressSpace() != 0);
    if ((Access.MayRaceDest || Access.MayRaceSource) && !ForeignAddressSpace)
      MemIntrinsics.push_back(Access);
  }

  void collectMaskedAccess(IntrinsicInst *II) {
    // Scalable vectors have as many lanes as the hardware, known only at
    // run time; no target this project runs on has them.
    if (!isa<FixedVectorType>(II->getArgOperand(0)->getType()) &&
        !isa<FixedVectorType>(II->getType()))
      return;
    Value *Addr = maskedAddress(*II);
    bool MayRace = Addr->getType()->isVectorTy()
                       ? Addr->getType()->getScalarType()->getPointerAddressSpace() == 0
                       : !Filter.cannotRace(Addr);
    if (MayRace)
      MaskedAccesses.push_back(II);
  }

  void insertEntryAndExits() {
    // After the static allocas, which stay grouped at the top.
    BasicBlock &Entry = F.getEntryBlock();
    BasicBlock::iterator Where = Entry.getFirstInsertionPt();
    while (isa<AllocaInst>(*Where))
      ++Where;
    IRBuilder<> IRB(&Entry, Where);
    if (DISubprogram *SP = F.getSubprogram())
      IRB.SetCurrentDebugLocation(DILocation::get(F.getContext(), SP->getScopeLine(), 0, SP));
    Value *ReturnAddress = IRB.CreateCall(
        compat::intrinsicDeclaration(F.getParent(), Intrinsic::returnaddress), {IRB.getInt32(0)});
    IRB.CreateCall(RT.funcEntry(), {IRB.CreatePointerCast(ReturnAddress, RT.voidPtrTy())});

    EscapeEnumerator Exits(F, "gorace.cleanup", /*HandleExceptions=*/true);
    while (IRBuilder<> *AtExit = Exits.Next())
      AtExit->CreateCall(RT.funcExit(), {});
  }

  Function &F;
  RaceRuntime &RT;
  bool CheckAccesses;
  LoopRanges &Loops;
  unsigned NoSanitizeKind; // !nosanitize: another instrumentation's own access
  AccessFilter Filter;
  SmallVector<CallBase *, 16> Calls; // not intrinsics
  SmallVector<Instruction *, 32> Accesses;
  SmallVector<Instruction *, 8> Atomics;
  SmallVector<MemIntrinsicAccess, 8> MemIntrinsics;
  SmallVector<IntrinsicInst *, 4> MaskedAccesses;
  SmallVector<std::pair<CallBase *, unsigned>, 4> ByValReads;
};

Coverage coverage(const Function &F, bool ModuleUsesSanitizeThread) {
  if (F.isDeclaration() || F.hasFnAttribute(InstrumentedAttr) ||
      F.hasFnAttribute(Attribute::Naked) ||
      F.hasFnAttribute(Attribute::DisableSanitizerInstrumentation) || F.getName() == TsanModuleCtor)
    return Coverage::None;
  if (ModuleUsesSanitizeThread && !F.hasFnAttribute(Attribute::SanitizeThread))
    return Coverage::SyncOnly;
  return Coverage::Full;
}

} // namespace

PreservedAnalyses GoRacePass::run(Module &M, ModuleAnalysisManager &MAM) {
  FunctionAnalysisManager &FAM = MAM.getResult<FunctionAnalysisManagerModuleProxy>(M).getManager();
  // TSan's module constructor calls __tsan_init: compiled with
  // -fsanitize=thread even when every function opted out.
  bool ModuleUsesSanitizeThread = M.getFunction("__tsan_init") != nullptr;
  for (const Function &F : M)
    ModuleUsesSanitizeThread |= !F.isDeclaration() && F.hasFnAttribute(Attribute::SanitizeThread);

  RaceRuntime RT(M);
  bool Changed = false;
  // Declarations of the runtime are appended while iterating; they are
  // declarations, so coverage() skips them.
  for (Function &F : M) {
    Coverage C = coverage(F, ModuleUsesSanitizeThread);
    if (C == Coverage::None)
      continue;
    LoopRanges Loops(F, FAM.getResult<LoopAnalysis>(F), FAM.getResult<DominatorTreeAnalysis>(F),
                     FAM.getResult<ScalarEvolutionAnalysis>(F));
    FunctionInstrumenter(F, RT, C == Coverage::Full, Loops).run();
    FAM.invalidate(F, PreservedAnalyses::none());
    F.addFnAttr(InstrumentedAttr);
    Changed = true;
  }
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}

} // namespace gorace

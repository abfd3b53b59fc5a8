//===- GoRacePass.h - the race-detector instrumentation pass --------------===//
//
// The module pass clang runs when it loads libGoRacePass-<major>.so; what it
// does and why is described at the top of GoRacePass.cpp. Plugin.cpp
// registers it with clang's pass pipeline and with opt as "gorace".
//
//===----------------------------------------------------------------------===//
#ifndef GORACE_GORACE_PASS_H
#define GORACE_GORACE_PASS_H

#include "llvm/IR/PassManager.h"

namespace gorace {

class GoRacePass : public llvm::PassInfoMixin<GoRacePass> {
public:
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &MAM);
  /// Instrumentation is part of the program's meaning under
  /// -fgoroutine-race: it runs at -O0 and on optnone functions too.
  static bool isRequired() { return true; }
};

} // namespace gorace

#endif

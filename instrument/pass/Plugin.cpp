//===- Plugin.cpp - how clang and opt find the pass ------------------------===//
//
// The new-pass-manager plugin entry point. `clang -fpass-plugin=
// libGoRacePass-<major>.so` adds the pass at the optimizer's last extension
// point, after ThreadSanitizer; clang builds one pipeline per compilation
// and invokes that extension point at every optimisation level, -O0
// included, so the pass runs exactly once per module.
// `opt -load-pass-plugin=libGoRacePass-<major>.so -passes=gorace` runs it
// alone (the IR tests use both).
//
// The callbacks are generic lambdas: LLVM 20 added a ThinOrFullLTOPhase
// parameter to the optimizer-last callback, and a lambda taking `auto...`
// converts to the std::function of either signature.
//
//===----------------------------------------------------------------------===//
#include "GoRacePass.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"

using namespace llvm;

namespace {

void registerCallbacks(PassBuilder &PB) {
  // clang loads plugins before it registers its sanitizers, so a callback
  // registered now would run before ThreadSanitizer's. Registering it when
  // the pipeline starts to be built puts it after every callback clang
  // registered: the pass then sees TSan's module constructor, the sign of
  // -fsanitize=thread (see GoRacePass.cpp).
  PB.registerPipelineStartEPCallback([&PB](ModulePassManager &, OptimizationLevel, auto...) {
    PB.registerOptimizerLastEPCallback([](ModulePassManager &MPM, OptimizationLevel, auto...) {
      MPM.addPass(gorace::GoRacePass());
    });
  });
  PB.registerPipelineParsingCallback(
      [](StringRef Name, ModulePassManager &MPM, ArrayRef<PassBuilder::PipelineElement>) {
        if (Name != "gorace")
          return false;
        MPM.addPass(gorace::GoRacePass());
        return true;
      });
}

} // namespace

extern "C" LLVM_ATTRIBUTE_WEAK __attribute__((visibility("default"))) PassPluginLibraryInfo
llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "GoRacePass", LLVM_VERSION_STRING, registerCallbacks};
}

//===- Pipeline.h - The pass registry and the pass manager ------*- C++ -*-===//
//
// Every pass is registered once in Passes.def with the passes whose results
// it reads. The pass manager runs a pipeline of named steps: before a pass
// runs, each pass it requires runs if it has not yet; print<X> prints X's
// results, running X (and what X requires) first if it has not run, so a
// printer never shows a result that was not computed. This library sits
// above Analysis and Cost; neither depends on it.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_PIPELINE_PIPELINE_H
#define VRAM_PIPELINE_PIPELINE_H

#include "vram/Cost/Cost.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace vram {

struct PassInfo {
  llvm::StringRef Name;
  llvm::Error (*Run)(CostContext &);
  void (*Print)(CostContext &, llvm::raw_ostream &);
  /// Comma-separated names of the passes whose results this one reads.
  llvm::StringRef Requires;
  llvm::StringRef Description;
};

/// Every registered pass, in pipeline order.
llvm::ArrayRef<PassInfo> allPasses();
const PassInfo *findPass(llvm::StringRef Name);

/// One step of a pipeline: run a pass, or print its results.
struct PipelineStep {
  const PassInfo *Pass = nullptr;
  bool Print = false;
};

/// Parses "a,b,print<b>" into steps; an empty text is the default pipeline
/// (every pass in order, nothing printed).
llvm::Expected<std::vector<PipelineStep>> parsePipeline(llvm::StringRef Text);

/// Called around each pass run (for timers, in the style of LLVM's pass
/// instrumentation).
struct PassInstrumentation {
  std::function<void(const PassInfo &)> BeforePass;
  std::function<void(const PassInfo &)> AfterPass;
};

class PassManager {
public:
  explicit PassManager(CostContext &Ctx, PassInstrumentation PI = {})
      : Ctx(Ctx), PI(std::move(PI)) {}

  /// Runs P after the passes it requires that have not run.
  llvm::Error run(const PassInfo &P);
  /// Runs P (and what it requires) unless it has run.
  llvm::Error require(const PassInfo &P);
  bool hasRun(const PassInfo &P) const { return Ran.count(&P); }

  /// Runs the steps in order; print steps write to OS.
  llvm::Error runPipeline(llvm::ArrayRef<PipelineStep> Steps,
                          llvm::raw_ostream &OS);

private:
  llvm::Error runAt(const PassInfo &P, unsigned Depth);
  CostContext &Ctx;
  PassInstrumentation PI;
  llvm::SmallPtrSet<const PassInfo *, 8> Ran;
};

/// The default pipeline (every pass) on Ctx: what the tool, the fuzzer and
/// the tests run.
llvm::Error runPipeline(CostContext &Ctx, PassInstrumentation PI = {});

} // namespace vram

#endif // VRAM_PIPELINE_PIPELINE_H

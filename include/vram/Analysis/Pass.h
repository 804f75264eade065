//===- Pass.h - Named passes over the IR ------------------------*- C++ -*-===//
//
// Each pass is a named unit `Error run(AnalysisContext &)` listed in
// Passes.def, selectable by name (--passes=a,b) and printable for tests
// (print<name>). Passes are configured by the option structs in
// AnalysisOptions; none reads a command-line flag.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_ANALYSIS_PASS_H
#define VRAM_ANALYSIS_PASS_H

#include "vram/Analysis/Memory.h"
#include "vram/IR/Graph.h"
#include "vram/Support/Diagnostics.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <memory>

namespace llvm {
class raw_ostream;
}

namespace vram {

enum class Mode { Train, Infer };

struct AnalysisOptions {
  /// Unknown ops, unpriced tensors and other soft problems become errors.
  bool Strict = false;
  /// Price exporter-decomposed kernels as the kernel (false: the graph as
  /// written, node by node).
  bool Fusion = true;
  /// Parameters whose names match this regex are frozen (no gradient, no
  /// optimizer state; they save nothing for their own gradient).
  std::string FreezeRegex;
  Mode RunMode = Mode::Train;
  /// Precision recipe and optimizer (see lib/Cost/Recipes.cpp).
  std::string Recipe = "mixed";
  std::string Optimizer = "adam";
  /// Overrides the recipe's dtype for floating-point activations.
  llvm::Optional<DType> ActivationDType;
  /// Per-term overrides, bytes per parameter: weights, master_weights,
  /// gradients, master_gradients, optimizer_state.
  std::vector<std::pair<std::string, double>> TermOverrides;
  /// Framework overhead (CUDA context and workspace), bytes.
  uint64_t OverheadBytes = 400ull << 20;
};

/// What the passes share: the model, options, diagnostics and the results
/// of earlier passes.
struct AnalysisContext {
  AnalysisContext(Model &M, const AnalysisOptions &Opts, Diagnostics &Diags)
      : M(M), Opts(Opts), Diags(Diags) {}
  Model &M;
  const AnalysisOptions &Opts;
  Diagnostics &Diags;

  /// Filled by shape-inference: values (of any graph) without a concrete
  /// shape after propagation, in topological order.
  std::vector<const Value *> Unpriced;
  FusionResult Fusion;
  /// Values (main graph) that require grad.
  llvm::DenseSet<const Value *> RequiresGrad;
  /// Value -> the value owning its storage (itself unless a view).
  llvm::DenseMap<const Value *, const Value *> StorageOf;
  /// Split output -> the storage it is a disjoint part of.
  llvm::DenseMap<const Value *, const Value *> PartOf;
  SavedResult Saved;
  CostResult Cost;
  TimelineResult Timeline;

  const Value *storage(const Value *V) const {
    auto It = StorageOf.find(V);
    return It == StorageOf.end() ? V : It->second;
  }
};

struct PassInfo {
  llvm::StringRef Name;
  llvm::Error (*Run)(AnalysisContext &);
  void (*Print)(AnalysisContext &, llvm::raw_ostream &);
  llvm::StringRef Description;
};

#define PASS(NAME, RUN, PRINT, DESCRIPTION)                                    \
  llvm::Error RUN(AnalysisContext &);                                          \
  void PRINT(AnalysisContext &, llvm::raw_ostream &);
#include "vram/Analysis/Passes.def"

/// Every registered pass, in pipeline order.
llvm::ArrayRef<PassInfo> allPasses();
const PassInfo *findPass(llvm::StringRef Name);

} // namespace vram

#endif // VRAM_ANALYSIS_PASS_H

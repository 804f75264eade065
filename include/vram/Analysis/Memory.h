//===- Memory.h - Results of the memory analyses ----------------*- C++ -*-===//
//
// What the fusion, requires-grad, alias, saved and cost passes compute, kept
// in the AnalysisContext for later passes and for the report views. Views
// only read these; they compute nothing of their own.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_ANALYSIS_MEMORY_H
#define VRAM_ANALYSIS_MEMORY_H

#include "vram/IR/Graph.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

#include <map>
#include <string>
#include <vector>

namespace vram {

/// A group of nodes an exporter split out of one framework kernel (an
/// erf-GELU written as Div/Erf/Add/Mul/Mul), priced as that kernel.
struct FusedGroup {
  std::string Pattern; ///< pattern name, e.g. "gelu-erf"
  std::string Kernel;  ///< kernel op priced by the saved rules, e.g. "Gelu"
  std::vector<Node *> Members; ///< in topological order
  std::vector<Value *> Inputs; ///< kernel inputs: x first, then weights
  Value *Output = nullptr;
};

struct FusionResult {
  std::vector<FusedGroup> Groups;
  /// Member node -> index into Groups.
  llvm::DenseMap<const Node *, unsigned> GroupOf;
};

/// One tensor (or hidden buffer) kept for the backward pass.
struct SavedTensor {
  /// Storage kept (after alias resolution), or nullptr for a buffer the graph
  /// does not show (dropout mask, normalisation statistics).
  const Value *Storage = nullptr;
  /// Display name: the storage's name, or "<node>.<buffer>".
  std::string Name;
  DType Ty = DType::Undefined; ///< dtype as in the graph
  Shape Sh;
  /// The node (or fused group's last node) whose backward needs it.
  const Node *Consumer = nullptr;
  /// The node it is attributed to: the storage's producer, or the consumer
  /// for hidden buffers; nullptr for graph inputs.
  const Node *Owner = nullptr;
  std::string Reason;      ///< "input of MatMul", "dropout mask", ...
  bool Hidden = false;     ///< a buffer the graph does not show
  bool KeepsDType = false; ///< priced in Ty under every recipe (stats, masks)
  uint64_t Bytes = 0;      ///< priced bytes (filled by the cost pass)
  DType PricedTy = DType::Undefined;
};

struct SavedResult {
  /// Deduplicated by storage, in the order the consumers are met
  /// (topological).
  std::vector<SavedTensor> Tensors;
  /// Ops met without a saved-tensor rule (qualified op -> node count).
  std::map<std::string, unsigned> UnknownOps;
};

/// One line of the recipe: a per-parameter term.
struct RecipeTerm {
  std::string Key;      ///< "weights", "master_weights", "gradients", ...
  std::string Name;     ///< "weights (f16)", "master weights (f32)", ...
  std::string Category; ///< "parameters", "gradients" or "optimizer_state"
  double BytesPerParam = 0;
};

struct CostResult {
  std::string Mode; ///< "train" or "infer"
  std::string Recipe;
  std::string Optimizer;
  /// Floating-point activations are stored in this (or narrower) dtype.
  DType ActivationType = DType::Float16;
  std::vector<RecipeTerm> Terms;
  uint64_t ParamCount = 0;        ///< trainable + frozen, each storage once
  uint64_t TrainableCount = 0;    ///< requires grad
  uint64_t ParamBytesInGraph = 0; ///< in the graph's own dtypes
  /// Non-trainable float initializers (buffers), in totals.parameters.
  uint64_t BufferBytes = 0;
  uint64_t Parameters = 0, Gradients = 0, OptimizerState = 0;
  uint64_t Activations = 0; ///< saved for backward (train) or working set
  uint64_t Overhead = 0;
  uint64_t Total = 0;
  std::map<std::string, uint64_t> ActivationsByDType;
  /// Inference: the working set's peak and where it happens.
  uint64_t WorkingSetPeak = 0;
  const Node *WorkingSetPeakNode = nullptr;
  /// Per node (main graph, by node id): bytes attributed to it.
  std::vector<uint64_t> NodeBytes;
  unsigned UnpricedTensors = 0;

  /// Repeated blocks (by name scope), in order of first appearance.
  struct Layer {
    std::string Name;
    unsigned Nodes = 0;
    uint64_t Bytes = 0;
  };
  std::vector<Layer> Layers;
  /// Bytes kept of graph inputs (train: saved inputs such as token ids).
  uint64_t InputBytes = 0;
};

/// What is live at one instant of the training step, by category.
enum class LiveCat : unsigned {
  Parameters,
  Gradients,
  OptimizerState,
  SavedActivations,
  ActivationGradients,
  Temporaries,
  KVCache,
  Overhead,
};
constexpr unsigned NumLiveCats = 8;
const char *liveCatName(LiveCat C);

struct TimelineStep {
  const char *Phase = "forward"; ///< "forward", "backward" or "optimizer"
  const Node *N = nullptr;       ///< nullptr for the optimizer step
  /// Live bytes by category right after the step's allocations (the most
  /// the step holds), before its frees.
  uint64_t Live[NumLiveCats] = {};
  uint64_t total() const {
    uint64_t T = 0;
    for (uint64_t B : Live)
      T += B;
    return T;
  }
};

struct TimelineResult {
  std::vector<TimelineStep> Steps;
  size_t PeakStep = 0;
  uint64_t PeakBytes = 0;
  /// Peaks above the persistent parameter side (parameters, optimizer state
  /// and overhead), per phase: what the activations add.
  uint64_t ForwardPeakAboveParams = 0;
  uint64_t BackwardPeakAboveParams = 0;
  /// Inference: bytes of the KV cache inputs (past keys and values).
  uint64_t KVCacheBytes = 0;
  /// Saved bytes still live once the backward is done; an invariant says 0
  /// (every saved tensor is freed by the backward step of its consumer).
  uint64_t SavedLeftAfterBackward = 0;
};

} // namespace vram

#endif // VRAM_ANALYSIS_MEMORY_H

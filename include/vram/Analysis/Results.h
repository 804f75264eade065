//===- Results.h - Results of the graph analyses ----------------*- C++ -*-===//
//
// What the fusion and saved passes compute, kept in the AnalysisContext for
// later passes and for the report views. Cost's results (bytes, the
// timeline) are in vram/Cost/Cost.h. Views only read these; they compute
// nothing of their own.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_ANALYSIS_RESULTS_H
#define VRAM_ANALYSIS_RESULTS_H

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
  /// The kernel's row in the op registry (domain "vram").
  const struct OpInfo *KernelOp = nullptr;
  std::vector<Node *> Members; ///< in topological order
  std::vector<Value *> Inputs; ///< kernel inputs: x first, then weights
  Value *Output = nullptr;
};

/// What the loss pass found or added.
struct LossResult {
  /// The loss the step computes: added by the loss pass, or in the graph.
  const Value *Loss = nullptr;
  /// The output it is computed from (added losses).
  const Value *Logits = nullptr;
  /// The node of a loss the graph computes itself (ORT training graphs).
  const Node *InGraph = nullptr;
  /// The labels input the pass added (cross-entropy).
  const Value *Labels = nullptr;
  bool Upcast = false;
};

/// LoRA adapters added by the lora pass.
struct LoraResult {
  /// The adapters' parameters (A and B of each adapted weight).
  std::vector<const Value *> Adapters;
  /// The adapted weights, in graph order.
  std::vector<const Value *> Adapted;
  bool Applied = false;
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
  /// Checkpointing: the node at whose backward step this tensor is
  /// recomputed (the last node of its checkpointed region); null when kept.
  const Node *RecomputeAt = nullptr;
  /// Checkpointing: the region it belongs to ("h0", "h0 attention core").
  std::string Region;
  /// Tensor/sequence parallelism: the parts it is split into (per GPU:
  /// 1/Shards of it).
  unsigned Shards = 1;
};

struct SavedResult {
  /// Deduplicated by storage, in the order the consumers are met
  /// (topological).
  std::vector<SavedTensor> Tensors;
  /// Ops met without a saved-tensor rule (qualified op -> node count).
  std::map<std::string, unsigned> UnknownOps;
  /// Checkpointing: what the rules keep but the policy recomputes in the
  /// backward instead, in the same order.
  std::vector<SavedTensor> Recomputed;
  /// Checkpointed regions, in order.
  std::vector<std::string> Regions;
};

} // namespace vram

#endif // VRAM_ANALYSIS_RESULTS_H

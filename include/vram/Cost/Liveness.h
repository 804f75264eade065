//===- Liveness.h - Pricing and forward liveness for the cost passes -*- C++
//-*-===//
//
// What the cost pass (the inference working set) and the timeline (the
// training step) share: how a tensor is priced under the recipe's
// activation dtype, and one walk of the forward pass that allocates each
// storage at its producer and frees it after its last forward use.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_COST_LIVENESS_H
#define VRAM_COST_LIVENESS_H

#include "vram/Analysis/Analysis.h"
#include "vram/Cost/Recipes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/Optional.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <cstdint>

namespace vram {

/// The dtype a tensor is stored in: floating-point tensors in the
/// activation dtype ActTy unless their own dtype is narrower or they keep
/// their dtype on purpose (statistics, masks, an f32 result); integer and
/// bool tensors in their own. ActTy Undefined: every tensor as stored (the
/// graph's own dtype; serving without --activation-dtype).
DType pricedType(DType Own, bool KeepsDType, DType ActTy);
/// Bytes of a tensor of shape S stored as pricedType; None when S is not
/// concrete.
llvm::Optional<uint64_t> pricedBytes(DType Own, const Shape &S, bool KeepsDType,
                                     DType ActTy);

/// A value of the KV cache: a graph input (past keys and values) or output
/// (present ones) named past, cache or present.
bool isKVCache(const Value &S);
/// Bytes of storage S in a forward working set: a KV cache value in KV when
/// given (--kv-dtype), anything else as pricedBytes with its own
/// FixedDType; None when S's shape is not concrete.
llvm::Optional<uint64_t> workingSetBytes(const Value &S, DType ActTy,
                                         const StorageFormat *KV);
/// Present KV outputs -> the past KV input each is written into when the
/// cache buffer is shared (ONNX Runtime's past_present_share_buffer): the
/// graph's KV inputs and outputs paired in order, when there are as many of
/// each and each pair has the same rank and dtype; empty otherwise.
llvm::DenseMap<const Value *, const Value *> pairKVCache(const Graph &G);

/// A storage that a forward step allocates: a graph input or an activation
/// (parameters, constants and buffers are not).
bool holdsData(const Value &Storage);

/// One walk of the forward pass of the main graph, in topological order.
/// Graph inputs that hold data are allocated before the first node; each
/// node allocates the storages of its outputs (views allocate nothing), and
/// a storage is freed right after the node that uses it last (through any
/// view), or after its producer when nothing uses it. Graph outputs and the
/// storages Keep selects are never freed by the walk.
class ForwardWalk {
public:
  explicit ForwardWalk(const AnalysisContext &Ctx);
  /// A walk of graph G (a subgraph: its inputs allocated first, its outputs
  /// kept; the alias pass covers subgraphs, so their views allocate
  /// nothing).
  ForwardWalk(const AnalysisContext &Ctx, const Graph &G);

  /// Which outputs of a node are allocated (default: every output that
  /// owns its storage and holds data).
  llvm::function_ref<bool(const Node &, const Value &)> Allocates;
  /// Storages kept past their last forward use (saved for backward).
  llvm::function_ref<bool(const Value &)> Keep;

  /// Runs the walk: OnAlloc(storage) for each allocation, OnStep(node
  /// index) once a node's allocations are done, OnFree(storage) for each
  /// storage freed after that node.
  void run(llvm::function_ref<void(const Value &)> OnAlloc,
           llvm::function_ref<void(size_t)> OnStep,
           llvm::function_ref<void(const Value &)> OnFree) const;

private:
  const AnalysisContext &Ctx;
  const Graph &G;
  /// Storage -> index of the last node using it; graph outputs: the end.
  llvm::DenseMap<const Value *, size_t> LastUse;
};

/// What a node holds during its step besides its outputs, when its row
/// says so (ServingKind::Generation): the largest forward working set of
/// its subgraphs (priced like the main graph's tensors) and, of that, the
/// KV cache (subgraph inputs and outputs named past, present or cache,
/// priced in KV when given, as workingSetBytes does).
/// Zero for every other node.
struct StepWorkingSet {
  uint64_t Peak = 0;
  uint64_t KVCache = 0;
};
StepWorkingSet stepWorkingSet(const AnalysisContext &Ctx, const Node &N,
                              DType ActTy, const StorageFormat *KV = nullptr);

} // namespace vram

#endif // VRAM_COST_LIVENESS_H

//===- Sharding.cpp - Tensor and sequence parallelism ---------------------===//
//
// The Megatron layout (Shoeybi et al. 2019; Korthikanti et al. 2022),
// propagated through the graph from the linear layers rather than matched
// per model. In topological order each activation is replicated or split
// over the t ranks:
//
//  - a product with a weight (MatMul, Gemm, FusedMatMul) of a replicated
//    input is column-parallel: its weight (and Gemm bias) is split and its
//    output is split; of a split input it is row-parallel: its weight is
//    split and its output is replicated (after the all-reduce);
//  - a Gather from a weight (an embedding) is vocabulary-parallel: the table
//    is split, the output replicated;
//  - any other op with a split input has split outputs, and the weights it
//    combines with them (a column-parallel bias) are split.
//
// Q, K, V come out of the column-parallel QKV projection split by heads, so
// the attention core is split; the LayerNorms, residuals and the dropout
// after each row-parallel projection are replicated. Sequence parallelism
// splits that replicated region along the sequence: every floating-point
// activation is then split.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"
#include "vram/Analysis/OpRegistry.h"

using namespace llvm;

namespace vram {

Error applyTensorParallel(AnalysisContext &Ctx) {
  const unsigned T = Ctx.Opts.TensorParallel;
  Ctx.Shards.clear();
  Ctx.Unshardable.clear();
  if (T <= 1)
    return Error::success();
  const Graph &G = *Ctx.M.Main;
  auto IsParam = [&](const Value *V) {
    return V && Ctx.storage(V)->Kind == ValueKind::Parameter;
  };
  auto Split = [&](const Value *V) {
    return V && Ctx.Shards.count(Ctx.storage(V));
  };
  auto SplitValue = [&](const Value *V) {
    if (V)
      Ctx.Shards[Ctx.storage(V)] = T;
  };
  for (const auto &NPtr : G.Nodes) {
    const Node &N = *NPtr;
    // What the op is: a product with a weight (the registry's MatMul kind:
    // MatMul, Gemm, FusedMatMul, ...), or a norm over the hidden dims.
    const OpInfo *Op = findOp(N.Domain, N.OpType, N.OpsetVersion);
    bool IsProduct = Op && Op->Kind == SavedKind::MatMul;
    bool ReducesHidden = Op && Op->ReducesHidden;
    bool AnySplit = any_of(
        N.Inputs, [&](const Value *V) { return V && !IsParam(V) && Split(V); });
    if (IsProduct && (IsParam(N.input(1)) || IsParam(N.input(0)))) {
      SplitValue(IsParam(N.input(1)) ? N.input(1) : N.input(0));
      if (!AnySplit) { // column-parallel
        if (N.OpType == "Gemm" && IsParam(N.input(2)))
          SplitValue(N.input(2));
        for (const Value *O : N.Outputs)
          SplitValue(O);
      }
      continue;
    }
    if (N.Domain.empty() && N.OpType == "Gather" && IsParam(N.input(0))) {
      SplitValue(N.input(0)); // vocabulary-parallel
      continue;
    }
    if (!AnySplit)
      continue;
    if (ReducesHidden && !Ctx.Opts.SequenceParallel)
      ++Ctx.Unshardable[N.qualifiedOp()];
    for (const Value *V : N.Inputs)
      if (IsParam(V))
        SplitValue(V);
    for (const Value *O : N.Outputs)
      if (O && Ctx.storage(O) == O)
        SplitValue(O);
  }
  // Sequence parallelism: the replicated region is split along the
  // sequence.
  if (Ctx.Opts.SequenceParallel)
    for (const auto &V : G.Values)
      if ((V->Kind == ValueKind::Activation || V->Kind == ValueKind::Input) &&
          isFloatingPoint(V->Ty) && Ctx.storage(V.get()) == V.get())
        Ctx.Shards[V.get()] = T;
  auto Mark = [&](SavedTensor &S) {
    if (S.Storage) {
      S.Shards = Ctx.shards(S.Storage);
      return;
    }
    // A hidden buffer follows its node's output (or, under sequence
    // parallelism, is split with everything else).
    const Value *Out = S.Consumer ? S.Consumer->output(0) : nullptr;
    if (Ctx.Opts.SequenceParallel || (Out && Split(Out)))
      S.Shards = T;
  };
  for (SavedTensor &S : Ctx.Saved.Tensors)
    Mark(S);
  for (SavedTensor &S : Ctx.Saved.Recomputed)
    Mark(S);
  for (const auto &KV : Ctx.Unshardable)
    if (Error E = Ctx.Diags.warn(
            "tensor parallelism: " + Twine(KV.second) + " " + KV.first +
            " node(s) reduce over a split dim; priced as split"))
      return E;
  return Error::success();
}

} // namespace vram

//===- Checkpoint.cpp - Activation checkpointing on the saved set ---------===//
//
// A checkpointed region (a layer under full checkpointing, a layer's
// attention core under selective) runs its forward without keeping what
// its own backward needs; in backward, at the step of its last node, the
// region is run again and keeps those tensors until their consumers'
// backward steps.
//
// A saved tensor is recomputed when its consumer is in the region and it is
// made there: a hidden buffer of a node of the region, or a storage
// produced in the region that no node outside it reads (and that is not a
// graph output). What the region reads from outside (a layer's input, the
// Q, K and V of an attention core) stays kept; under full checkpointing a
// layer input that requires grad is kept even when no rule of the layer
// keeps it (torch.utils.checkpoint saves the function's inputs).
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/Regex.h"

using namespace llvm;

namespace vram {

namespace {

struct Region {
  std::string Name;
  std::vector<const Node *> Nodes; ///< in topological order
  /// A fused attention op: its hidden q, k, v (the core's inputs, which
  /// selective recomputation keeps) stay; its probabilities go.
  bool FusedOp = false;
};

/// The regions the policy checkpoints, in order.
std::vector<Region> findRegions(const AnalysisContext &Ctx) {
  const AnalysisOptions &O = Ctx.Opts;
  const Graph &G = *Ctx.M.Main;
  std::vector<std::string> Layers = assignLayers(G);
  Regex Match("^(" + O.CheckpointLayers + ")$");
  auto Selected = [&](StringRef Layer) {
    return Layer != "(other)" &&
           (O.CheckpointLayers.empty() || Match.match(Layer));
  };
  std::vector<Region> Out;
  if (O.Checkpoint == CheckpointPolicy::Full) {
    std::map<std::string, size_t> Index;
    for (size_t I = 0; I < G.Nodes.size(); ++I) {
      if (!Selected(Layers[I]))
        continue;
      auto Ins = Index.emplace(Layers[I], Out.size());
      if (Ins.second)
        Out.push_back({Layers[I], {}});
      Out[Ins.first->second].Nodes.push_back(G.Nodes[I].get());
    }
    return Out;
  }
  DenseMap<const Node *, size_t> Pos;
  for (size_t I = 0; I < G.Nodes.size(); ++I)
    Pos[G.Nodes[I].get()] = I;
  for (const FusedGroup &Core : findAttentionCores(Ctx)) {
    // The Softmax of a decomposed core, or the fused attention op.
    const Node *Anchor = Core.Members.front();
    for (const Node *M : Core.Members)
      if (M->OpType == "Softmax")
        Anchor = M;
    // Every attention core, in a layer or not, unless a regex picks layers.
    const std::string &Layer = Layers[Pos.lookup(Anchor)];
    if (!O.CheckpointLayers.empty() && !Selected(Layer))
      continue;
    Region R{Layer + " attention core", {}};
    R.Nodes.assign(Core.Members.begin(), Core.Members.end());
    R.FusedOp = R.Nodes.size() == 1;
    Out.push_back(std::move(R));
  }
  return Out;
}

} // namespace

Error applyCheckpointing(AnalysisContext &Ctx) {
  SavedResult &R = Ctx.Saved;
  if (Ctx.Opts.Checkpoint == CheckpointPolicy::None)
    return Error::success();
  const Graph &G = *Ctx.M.Main;
  std::vector<Region> Regions = findRegions(Ctx);
  DenseMap<const Node *, unsigned> RegionOf;
  for (unsigned I = 0; I < Regions.size(); ++I) {
    for (const Node *N : Regions[I].Nodes)
      RegionOf[N] = I;
    R.Regions.push_back(Regions[I].Name);
  }
  // The regions reading each storage (through views); ~0u: read outside
  // every region, or a graph output.
  const unsigned Outside = ~0u;
  DenseMap<const Value *, SmallVector<unsigned, 2>> ReadBy;
  auto Read = [&](const Value *V, unsigned Reg) {
    if (V)
      ReadBy[Ctx.storage(V)].push_back(Reg);
  };
  for (const auto &N : G.Nodes) {
    auto It = RegionOf.find(N.get());
    unsigned Reg = It == RegionOf.end() ? Outside : It->second;
    for (const Value *V : N->Inputs)
      Read(V, Reg);
    for (const Value *V : N->ImplicitInputs)
      Read(V, Reg);
  }
  for (const Value *V : G.Outputs)
    Read(V, Outside);

  auto Recomputed = [&](const SavedTensor &T, unsigned Reg) {
    if (T.Hidden) {
      StringRef Name(T.Name);
      bool CoreInput =
          Name.endswith(".q") || Name.endswith(".k") || Name.endswith(".v");
      return !(Regions[Reg].FusedOp && CoreInput);
    }
    const Node *P = T.Storage->Producer;
    if (!P || RegionOf.lookup(P) != Reg || !RegionOf.count(P))
      return false;
    for (unsigned By : ReadBy.lookup(T.Storage))
      if (By != Reg)
        return false;
    return true;
  };
  std::vector<SavedTensor> Kept;
  DenseSet<const Value *> KeptStorage;
  for (SavedTensor &T : R.Tensors) {
    auto It = RegionOf.find(T.Consumer);
    if (It != RegionOf.end() && Recomputed(T, It->second)) {
      const Region &Reg = Regions[It->second];
      T.RecomputeAt = Reg.Nodes.back();
      T.Region = Reg.Name;
      R.Recomputed.push_back(std::move(T));
      continue;
    }
    if (T.Storage)
      KeptStorage.insert(T.Storage);
    Kept.push_back(std::move(T));
  }
  R.Tensors = std::move(Kept);
  if (Ctx.Opts.Checkpoint != CheckpointPolicy::Full)
    return Error::success();
  // A layer's inputs that require grad are kept, saved by a rule or not.
  for (const Region &Reg : Regions) {
    unsigned Idx = RegionOf.lookup(Reg.Nodes.front());
    for (const Node *N : Reg.Nodes)
      for (const Value *V : N->Inputs) {
        if (!V || !Ctx.RequiresGrad.count(V) || !isFloatingPoint(V->Ty))
          continue;
        const Value *S = Ctx.storage(V);
        if (S->Kind != ValueKind::Activation && S->Kind != ValueKind::Input)
          continue;
        if ((S->Producer && RegionOf.count(S->Producer) &&
             RegionOf.lookup(S->Producer) == Idx) ||
            !KeptStorage.insert(S).second)
          continue;
        SavedTensor T;
        T.Storage = S;
        T.Name = S->Name;
        T.Ty = S->Ty;
        T.Sh = S->Sh;
        T.Consumer = N;
        T.Owner = S->Producer;
        T.Reason = "input of checkpointed layer " + Reg.Name;
        R.Tensors.push_back(std::move(T));
      }
  }
  return Error::success();
}

} // namespace vram

//===- Liveness.cpp - Pricing and forward liveness for the cost passes ----===//

#include "vram/Cost/Liveness.h"
#include "vram/Analysis/OpRegistry.h"

#include "llvm/Support/Regex.h"

#include <algorithm>
#include <vector>

using namespace llvm;

namespace vram {

DType pricedType(DType Own, bool KeepsDType, DType ActTy) {
  if (KeepsDType || !isFloatingPoint(Own) || ActTy == DType::Undefined)
    return Own;
  return dtypeBits(Own) > dtypeBits(ActTy) ? ActTy : Own;
}

Optional<uint64_t> pricedBytes(DType Own, const Shape &S, bool KeepsDType,
                               DType ActTy) {
  Optional<uint64_t> N = S.numElements();
  if (!N)
    return None;
  return bytesFor(pricedType(Own, KeepsDType, ActTy), *N);
}

bool isKVCache(const Value &S) {
  static const Regex KV("past|cache|present", Regex::IgnoreCase);
  return (S.Kind == ValueKind::Input || S.IsGraphOutput) && KV.match(S.Name);
}

Optional<uint64_t> workingSetBytes(const Value &S, DType ActTy,
                                   const StorageFormat *KV) {
  if (!KV || !isKVCache(S))
    return pricedBytes(S.Ty, S.Sh, S.FixedDType, ActTy);
  Optional<uint64_t> N = S.Sh.numElements();
  if (!N)
    return None;
  int64_t Row = S.Sh.rank() ? S.Sh[S.Sh.rank() - 1] : 1;
  return storageBytes(*KV, *N,
                      static_cast<uint64_t>(std::max<int64_t>(Row, 1)));
}

DenseMap<const Value *, const Value *> pairKVCache(const Graph &G) {
  std::vector<const Value *> Past, Present;
  for (const Value *V : G.Inputs)
    if (V->Kind == ValueKind::Input && isKVCache(*V))
      Past.push_back(V);
  for (const Value *V : G.Outputs)
    if (isKVCache(*V))
      Present.push_back(V);
  DenseMap<const Value *, const Value *> Pairs;
  if (Past.size() != Present.size())
    return Pairs;
  for (size_t I = 0; I < Past.size(); ++I) {
    if (Past[I]->Ty != Present[I]->Ty || !Past[I]->Sh.hasRank() ||
        !Present[I]->Sh.hasRank() ||
        Past[I]->Sh.rank() != Present[I]->Sh.rank())
      return DenseMap<const Value *, const Value *>();
    Pairs[Present[I]] = Past[I];
  }
  return Pairs;
}

bool holdsData(const Value &S) {
  return S.Kind == ValueKind::Input || S.Kind == ValueKind::Activation;
}

ForwardWalk::ForwardWalk(const AnalysisContext &Ctx)
    : ForwardWalk(Ctx, *Ctx.M.Main) {}

ForwardWalk::ForwardWalk(const AnalysisContext &Ctx, const Graph &G)
    : Ctx(Ctx), G(G) {
  for (size_t I = 0; I < G.Nodes.size(); ++I) {
    for (const Value *V : G.Nodes[I]->Inputs)
      if (V)
        LastUse[Ctx.storage(V)] = I;
    for (const Value *V : G.Nodes[I]->ImplicitInputs)
      LastUse[Ctx.storage(V)] = I;
  }
  for (const Value *V : G.Outputs)
    LastUse[Ctx.storage(V)] = G.Nodes.size();
}

void ForwardWalk::run(function_ref<void(const Value &)> OnAlloc,
                      function_ref<void(size_t)> OnStep,
                      function_ref<void(const Value &)> OnFree) const {
  size_t End = G.Nodes.size();
  std::vector<SmallVector<const Value *, 2>> FreeAt(End);
  auto Schedule = [&](const Value &S, size_t Producer) {
    if (Keep && Keep(S))
      return;
    auto It = LastUse.find(&S);
    size_t At = It == LastUse.end() ? Producer : It->second;
    if (At < End)
      FreeAt[At].push_back(&S);
  };
  for (const Value *V : G.Inputs)
    if (holdsData(*V)) {
      OnAlloc(*V);
      if (End)
        Schedule(*V, 0);
    }
  for (size_t I = 0; I < End; ++I) {
    const Node &N = *G.Nodes[I];
    for (const Value *V : N.Outputs) {
      if (!V || Ctx.storage(V) != V || !holdsData(*V))
        continue;
      if (Allocates && !Allocates(N, *V))
        continue;
      OnAlloc(*V);
      Schedule(*V, I);
    }
    OnStep(I);
    for (const Value *S : FreeAt[I])
      OnFree(*S);
  }
}

StepWorkingSet stepWorkingSet(const AnalysisContext &Ctx, const Node &N,
                              DType ActTy, const StorageFormat *KV) {
  StepWorkingSet W;
  const OpInfo *Row = findOp(N.Domain, N.OpType, N.OpsetVersion);
  if (!Row || Row->Serving != ServingKind::Generation)
    return W;
  for (const auto &Sub : N.Subgraphs) {
    if (!Sub || Sub->NotTaken)
      continue;
    uint64_t Live = 0, LiveKV = 0;
    auto Bytes = [&](const Value &S) {
      return workingSetBytes(S, ActTy, KV).getValueOr(0);
    };
    ForwardWalk(Ctx, *Sub).run(
        [&](const Value &S) {
          Live += Bytes(S);
          if (isKVCache(S))
            LiveKV += Bytes(S);
        },
        [&](size_t) {
          if (Live > W.Peak) {
            W.Peak = Live;
            W.KVCache = LiveKV;
          }
        },
        [&](const Value &S) {
          Live -= Bytes(S);
          if (isKVCache(S))
            LiveKV -= Bytes(S);
        });
  }
  return W;
}

} // namespace vram

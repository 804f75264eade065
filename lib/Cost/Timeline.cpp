//===- Timeline.cpp - Liveness over a training step and its peak ----------===//
//
// Train: the forward in topological order, the backward in reverse, then the
// optimizer step. Persistent throughout: parameters (with master weights and
// autocast copies), optimizer state, overhead.
//
//  forward step of N:  allocates N's own output storages (views and
//                      constants allocate nothing) and the hidden buffers
//                      N keeps (masks, statistics); frees every storage
//                      whose last forward use is N and which is neither
//                      saved nor a graph output.
//  backward (seeded with the gradient of each graph output that requires
//  grad), step of N (a fused group once, at its last node): allocates the
//                      gradient of each input that requires grad (a
//                      parameter's on its first use, kept to the optimizer
//                      step; at a shared parameter's later use, two
//                      transient copies for the out-of-place sum; an
//                      activation's unless accumulating into one already
//                      live); frees the gradients of N's outputs and the
//                      saved tensors whose last backward use is N.
//  A fused kernel materialises only its output in the forward.
//  optimizer step:     allocates the master gradients of the recipe.
//
// A step's live bytes are measured after its allocations, before its frees.
// Every storage is handled a constant number of times: linear in nodes plus
// edges. Infer: the forward working set of the cost pass, plus the KV cache.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/OpRegistry.h"
#include "vram/Cost/Cost.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

namespace vram {

const char *liveCatName(LiveCat C) {
  static const char *const Names[NumLiveCats] = {"parameters",
                                                 "gradients",
                                                 "optimizer_state",
                                                 "saved_activations",
                                                 "activation_gradients",
                                                 "temporaries",
                                                 "kv_cache",
                                                 "overhead"};
  return Names[static_cast<unsigned>(C)];
}

namespace {

class Timeline {
public:
  explicit Timeline(CostContext &Ctx) : Ctx(Ctx), G(*Ctx.M.Main) {}
  Error runTrain();
  Error runInfer();

private:
  CostContext &Ctx;
  Graph &G;
  uint64_t Live[NumLiveCats] = {};
  TimelineResult R;

  uint64_t priced(const Value *V) const {
    Optional<uint64_t> N = V->Sh.numElements();
    if (!N)
      return 0;
    DType T = V->Ty;
    if (isFloatingPoint(T) && dtypeBits(T) > dtypeBits(ActTy))
      T = ActTy;
    return bytesFor(T, *N).getValueOr(0);
  }

  void add(LiveCat C, uint64_t B) { Live[static_cast<unsigned>(C)] += B; }
  void sub(LiveCat C, uint64_t B) {
    uint64_t &L = Live[static_cast<unsigned>(C)];
    L = L >= B ? L - B : 0;
  }
  void record(const char *Phase, const Node *N) {
    TimelineStep S;
    S.Phase = Phase;
    S.N = N;
    std::copy(std::begin(Live), std::end(Live), std::begin(S.Live));
    R.Steps.push_back(S);
  }
  void persistent();
  void finish();

public:
  DType ActTy = DType::Float16;
};

double termBytes(const CostResult &C, StringRef Key) {
  for (const RecipeTerm &T : C.Terms)
    if (T.Key == Key)
      return T.BytesPerParam;
  return 0;
}

void Timeline::persistent() {
  const CostResult &C = Ctx.Cost;
  add(LiveCat::Parameters, C.Parameters);
  add(LiveCat::OptimizerState, C.OptimizerState);
  add(LiveCat::Overhead, C.Overhead);
}

void Timeline::finish() {
  uint64_t Base = 0;
  for (size_t I = 0; I < R.Steps.size(); ++I) {
    const TimelineStep &S = R.Steps[I];
    uint64_t T = S.total();
    if (T > R.PeakBytes) {
      R.PeakBytes = T;
      R.PeakStep = I;
    }
    Base = S.Live[unsigned(LiveCat::Parameters)] +
           S.Live[unsigned(LiveCat::OptimizerState)] +
           S.Live[unsigned(LiveCat::Overhead)];
    uint64_t Above = T - Base;
    if (StringRef(S.Phase) == "forward")
      R.ForwardPeakAboveParams = std::max(R.ForwardPeakAboveParams, Above);
    else if (StringRef(S.Phase) == "backward")
      R.BackwardPeakAboveParams = std::max(R.BackwardPeakAboveParams, Above);
  }
  Ctx.Timeline = std::move(R);
}

Error Timeline::runTrain() {
  const CostResult &C = Ctx.Cost;
  const FusionResult &F = Ctx.Fusion;
  // Saved storages and hidden buffers: freed after the backward step of the
  // consumer recorded by the saved pass (the first in topological order,
  // so the last to run in backward).
  DenseMap<const Value *, const Node *> SavedUntil;
  DenseMap<const Node *, SmallVector<const SavedTensor *, 2>> BuffersOf,
      FreedAtBackward;
  for (const SavedTensor &T : Ctx.Saved.Tensors) {
    if (T.Storage)
      SavedUntil[T.Storage] = T.Consumer;
    else
      BuffersOf[T.Owner].push_back(&T);
    FreedAtBackward[T.Consumer].push_back(&T);
  }
  auto savedBytes = [&](const SavedTensor &T) {
    return T.Storage ? priced(T.Storage)
                     : C.savedBytes(&T - Ctx.Saved.Tensors.data());
  };

  // Forward last uses.
  DenseMap<const Value *, size_t> LastUse;
  for (size_t I = 0; I < G.Nodes.size(); ++I) {
    for (const Value *V : G.Nodes[I]->Inputs)
      if (V)
        LastUse[Ctx.storage(V)] = I;
    for (const Value *V : G.Nodes[I]->ImplicitInputs)
      LastUse[Ctx.storage(V)] = I;
  }
  DenseSet<const Value *> OutputStorages;
  for (const Value *V : G.Outputs)
    OutputStorages.insert(Ctx.storage(V));
  auto isData = [](const Value *S) {
    return S->Kind == ValueKind::Input || S->Kind == ValueKind::Activation;
  };
  auto catOf = [&](const Value *S) {
    return SavedUntil.count(S) ? LiveCat::SavedActivations
                               : LiveCat::Temporaries;
  };
  std::vector<SmallVector<const Value *, 2>> FreeAt(G.Nodes.size());
  auto scheduleFree = [&](const Value *S, size_t Producer) {
    if (SavedUntil.count(S) || OutputStorages.count(S))
      return;
    auto It = LastUse.find(S);
    FreeAt[It == LastUse.end() ? Producer : It->second].push_back(S);
  };

  persistent();
  for (const Value *V : G.Inputs)
    if (isData(V)) {
      add(catOf(V), priced(V));
      if (!G.Nodes.empty())
        scheduleFree(V, 0);
    }
  for (size_t I = 0; I < G.Nodes.size(); ++I) {
    const Node &N = *G.Nodes[I];
    // Inside a fused kernel only the kernel's output is materialised.
    auto GIt = F.GroupOf.find(&N);
    const Value *GroupOut =
        GIt == F.GroupOf.end() ? nullptr : F.Groups[GIt->second].Output;
    for (const Value *V : N.Outputs) {
      if (!V || Ctx.storage(V) != V || !isData(V))
        continue;
      if (GroupOut && V != GroupOut)
        continue;
      add(catOf(V), priced(V));
      scheduleFree(V, I);
    }
    for (const SavedTensor *T : BuffersOf.lookup(&N))
      add(LiveCat::SavedActivations, savedBytes(*T));
    record("forward", &N);
    for (const Value *S : FreeAt[I])
      sub(LiveCat::Temporaries, priced(S));
  }

  // Backward.
  double GradPerParam = termBytes(C, "gradients");
  DenseSet<const Value *> ParamGradDone;
  uint64_t Transient = 0; // gradient copies live during one step only
  DenseMap<const Value *, uint64_t> GradLive; // activation grads by value
  for (const Value *V : G.Outputs)
    if (Ctx.RequiresGrad.count(V) && GradLive.try_emplace(V, priced(V)).second)
      add(LiveCat::ActivationGradients, priced(V));
  for (size_t K = G.Nodes.size(); K-- > 0;) {
    const Node &N = *G.Nodes[K];
    SmallVector<const Value *, 4> Ins, Outs;
    auto GIt = F.GroupOf.find(&N);
    if (GIt != F.GroupOf.end()) {
      const FusedGroup &Grp = F.Groups[GIt->second];
      if (Grp.Output->Producer != &N)
        continue; // interior of a fused kernel: no separate backward step
      Ins.assign(Grp.Inputs.begin(), Grp.Inputs.end());
      Outs.push_back(Grp.Output);
    } else {
      Ins.assign(N.Inputs.begin(), N.Inputs.end());
      Outs.assign(N.Outputs.begin(), N.Outputs.end());
    }
    bool Any = false;
    for (const Value *V : Ins)
      Any |= V && Ctx.RequiresGrad.count(V);
    // A view of a parameter (W^T feeding a MatMul) passes the gradient
    // straight to the parameter, and an op without a gradient (Shape of an
    // activation, a comparison) passes none: no step of their own.
    const Value *Out0 = N.output(0);
    const OpInfo *Row = findOp(N.Domain, N.OpType, N.OpsetVersion);
    if (!Any || (Row && !Row->differentiable()) ||
        (Out0 && Ctx.storage(Out0) != Out0 &&
         Ctx.storage(Out0)->Kind == ValueKind::Parameter))
      continue;
    for (const Value *V : Ins) {
      if (!V || !Ctx.RequiresGrad.count(V))
        continue;
      const Value *S = Ctx.storage(V);
      if (S->Kind == ValueKind::Parameter) {
        uint64_t Bytes = static_cast<uint64_t>(
            std::llround(GradPerParam * S->Sh.numElements().getValueOr(0)));
        if (ParamGradDone.insert(S).second) {
          add(LiveCat::Gradients, Bytes);
        } else {
          // A shared (tied) parameter's later use computes a fresh gradient
          // and the engine adds the two out of place: two transient copies
          // (measured: EmbeddingBackward0 of a tied wte, PyTorch 1.13).
          Transient += 2 * Bytes;
        }
        continue;
      }
      if (GradLive.try_emplace(V, priced(V)).second)
        add(LiveCat::ActivationGradients, priced(V));
    }
    add(LiveCat::Gradients, Transient);
    record("backward", &N);
    sub(LiveCat::Gradients, Transient);
    Transient = 0;
    for (const Value *V : Outs) {
      auto It = V ? GradLive.find(V) : GradLive.end();
      if (It == GradLive.end())
        continue;
      sub(LiveCat::ActivationGradients, It->second);
      It->second = 0;
    }
    for (const SavedTensor *T : FreedAtBackward.lookup(&N))
      sub(LiveCat::SavedActivations, savedBytes(*T));
  }
  // Whatever is still live of the forward (graph outputs, unused values)
  // and of the activation gradients (inputs' gradients) is released before
  // the update.
  R.SavedLeftAfterBackward = Live[unsigned(LiveCat::SavedActivations)];
  Live[unsigned(LiveCat::ActivationGradients)] = 0;
  Live[unsigned(LiveCat::Temporaries)] = 0;
  Live[unsigned(LiveCat::SavedActivations)] = 0;
  add(LiveCat::Gradients,
      static_cast<uint64_t>(
          std::llround(termBytes(C, "master_gradients") * C.TrainableCount)));
  record("optimizer", nullptr);
  finish();
  return Error::success();
}

Error Timeline::runInfer() {
  const CostResult &C = Ctx.Cost;
  static const Regex KV("past|cache|present", Regex::IgnoreCase);
  for (const Value *V : G.Inputs)
    if (V->Kind == ValueKind::Input && KV.match(V->Name))
      R.KVCacheBytes += priced(V);
  persistent();
  // The forward working set holds the cache inputs; show them apart.
  uint64_t Cache = std::min(R.KVCacheBytes, C.WorkingSetPeak);
  add(LiveCat::KVCache, Cache);
  add(LiveCat::Temporaries, C.WorkingSetPeak - Cache);
  record("forward", C.WorkingSetPeakNode);
  finish();
  return Error::success();
}

} // namespace

Error runTimeline(CostContext &Ctx) {
  Ctx.Timeline = TimelineResult();
  Timeline T(Ctx);
  T.ActTy = Ctx.Cost.ActivationType;
  return Ctx.CostOpts.RunMode == Mode::Train ? T.runTrain() : T.runInfer();
}

void printTimeline(CostContext &Ctx, raw_ostream &OS) {
  const TimelineResult &R = Ctx.Timeline;
  for (const TimelineStep &S : R.Steps) {
    OS << S.Phase << ' ' << (S.N ? describeNode(*S.N) : std::string("-")) << ' '
       << S.total();
    for (unsigned C = 0; C < NumLiveCats; ++C)
      if (S.Live[C])
        OS << ' ' << liveCatName(static_cast<LiveCat>(C)) << '=' << S.Live[C];
    OS << '\n';
  }
  OS << "peak " << R.PeakBytes << " at step " << R.PeakStep << '\n';
}

} // namespace vram

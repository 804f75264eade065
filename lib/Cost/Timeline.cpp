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
//  optimizer step:     allocates the master gradients of the recipe and
//                      the update's temporaries for the largest parameter.
//
// A step's live bytes are measured after its allocations, before its frees.
// Every storage is handled a constant number of times: linear in nodes plus
// edges. Infer: the forward working set of the cost pass, plus the KV cache.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/OpRegistry.h"
#include "vram/Cost/Cost.h"
#include "vram/Cost/Liveness.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <array>
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

double termBytes(const CostResult &C, StringRef Key) {
  for (const RecipeTerm &T : C.Terms)
    if (T.Key == Key)
      return T.BytesPerParam;
  return 0;
}

class Timeline {
public:
  explicit Timeline(CostContext &Ctx)
      : Ctx(Ctx), G(*Ctx.M.Main), ActTy(Ctx.Cost.ActivationType) {}
  Error runTrain();
  Error runInfer();

private:
  CostContext &Ctx;
  Graph &G;
  DType ActTy;
  uint64_t Live[NumLiveCats] = {};
  TimelineResult R;

  /// Saved storages -> their saved tensor (priced by the cost pass, in the
  /// dtype the saved rule keeps), and each node's hidden buffers and the
  /// saved tensors freed after its backward step.
  DenseMap<const Value *, const SavedTensor *> SavedOf;
  DenseMap<const Node *, SmallVector<const SavedTensor *, 2>> BuffersOf,
      FreedAtBackward;
  /// Checkpointing: the tensors a region recomputes at the backward step of
  /// its last node.
  DenseMap<const Node *, SmallVector<const SavedTensor *, 4>> RecomputedAt;

  /// A storage's bytes: a saved one as the cost pass priced it, any other
  /// in the recipe's activation dtype (or its own, if narrower).
  uint64_t priced(const Value &V) const {
    if (const SavedTensor *T = SavedOf.lookup(&V))
      return savedBytes(*T);
    return perGpu(V, Ctx.Cost.servingBytes(V));
  }
  /// Bytes of (a tensor shaped like) V on one GPU.
  uint64_t perGpu(const Value &V, uint64_t B) const {
    unsigned N = Ctx.shards(&V);
    return (B + N - 1) / N;
  }
  uint64_t savedBytes(const SavedTensor &T) const {
    const std::vector<SavedTensor> &Re = Ctx.Saved.Recomputed;
    if (!Re.empty() && &T >= Re.data() && &T < Re.data() + Re.size())
      return Ctx.Cost.RecomputedBytes[&T - Re.data()];
    return Ctx.Cost.savedBytes(&T - Ctx.Saved.Tensors.data());
  }

  /// Pipeline stages (CostResult::Stages): each stage's live bytes, beside
  /// the whole graph's, and their values at each step.
  using LiveArray = std::array<uint64_t, NumLiveCats>;
  std::vector<LiveArray> StageLive;
  std::vector<std::vector<LiveArray>> StageSteps;
  unsigned stageOf(const Node *N) const {
    const std::vector<unsigned> &NS = Ctx.Cost.NodeStage;
    return N && N->Parent == &G && N->Id < NS.size() ? NS[N->Id] : 0;
  }
  /// A storage is on the stage that keeps it: a saved one on its
  /// consumer's (which receives it), any other on its producer's.
  unsigned stageOf(const Value &S) const {
    if (const SavedTensor *T = SavedOf.lookup(&S))
      return stageOf(T->Consumer);
    return stageOf(S.Producer);
  }

  /// Stage NoStage: the whole graph's figure only.
  static constexpr unsigned NoStage = ~0u;
  void add(LiveCat C, uint64_t B, unsigned Stage = NoStage) {
    Live[static_cast<unsigned>(C)] += B;
    if (Stage != NoStage && !StageLive.empty())
      StageLive[Stage][static_cast<unsigned>(C)] += B;
  }
  static void subFrom(uint64_t &L, uint64_t B) { L = L >= B ? L - B : 0; }
  void sub(LiveCat C, uint64_t B, unsigned Stage = NoStage) {
    subFrom(Live[static_cast<unsigned>(C)], B);
    if (Stage != NoStage && !StageLive.empty())
      subFrom(StageLive[Stage][static_cast<unsigned>(C)], B);
  }
  void record(Phase P, const Node *N) {
    TimelineStep S;
    S.Phase = P;
    S.N = N;
    std::copy(std::begin(Live), std::end(Live), std::begin(S.Live));
    R.Steps.push_back(S);
    if (!StageLive.empty())
      StageSteps.push_back(StageLive);
  }
  /// Backward: activation gradients live (by value) and parameters whose
  /// gradient exists (on a stage).
  DenseMap<const Value *, uint64_t> GradLive;
  DenseSet<std::pair<const Value *, unsigned>> ParamGradDone;

  void persistent();
  void worstStage();
  void forward();
  void backward();
  void gradientOf(const Value &V);
  bool hasBackwardStep(const GradientUnit &U) const;
  void backwardStep(const GradientUnit &U);
  void finish();
};

void Timeline::persistent() {
  const CostResult &C = Ctx.Cost;
  add(LiveCat::Parameters, C.Parameters);
  add(LiveCat::OptimizerState, C.OptimizerState);
  add(LiveCat::Overhead, C.Overhead);
  for (size_t S = 0; S < StageLive.size(); ++S) {
    StageLive[S][unsigned(LiveCat::Parameters)] = C.Stages[S].Parameters;
    StageLive[S][unsigned(LiveCat::OptimizerState)] =
        C.Stages[S].OptimizerState;
    StageLive[S][unsigned(LiveCat::Overhead)] = C.Overhead;
  }
}

/// Pipeline stages: each stage's peak is its largest step, where the
/// micro-batches it holds in flight besides the one simulated add their
/// saved bytes (in forward and backward; none at the optimizer step). The
/// worst stage's steps become the timeline, its figures the totals.
void Timeline::worstStage() {
  CostResult &C = Ctx.Cost;
  if (StageLive.empty())
    return;
  auto Extra = [&](size_t K, unsigned S) -> uint64_t {
    if (R.Steps[K].Phase == Phase::Optimizer)
      return 0;
    return uint64_t(C.Stages[S].InFlight - 1) * C.Stages[S].Saved;
  };
  for (unsigned S = 0; S < C.Stages.size(); ++S) {
    uint64_t Peak = 0;
    for (size_t K = 0; K < StageSteps.size(); ++K) {
      uint64_t T = Extra(K, S);
      for (uint64_t B : StageSteps[K][S])
        T += B;
      Peak = std::max(Peak, T);
    }
    C.Stages[S].Peak = Peak;
    if (Peak > C.Stages[C.WorstStage].Peak)
      C.WorstStage = S;
  }
  unsigned W = C.WorstStage;
  for (size_t K = 0; K < StageSteps.size(); ++K) {
    std::copy(StageSteps[K][W].begin(), StageSteps[K][W].end(),
              std::begin(R.Steps[K].Live));
    R.Steps[K].Live[unsigned(LiveCat::SavedActivations)] += Extra(K, W);
  }
  const CostResult::Stage &St = C.Stages[W];
  C.ParamCount = St.ParamCount;
  C.TrainableCount = St.TrainableCount;
  C.BufferBytes = St.BufferBytes;
  C.Parameters = St.Parameters;
  C.Gradients = St.Gradients;
  C.OptimizerState = St.OptimizerState;
  C.Activations = St.Activations;
  for (RecipeTerm &T : C.Terms)
    T.Bytes = T.Key == "weights" ? St.WeightBytes
              : T.Key == "frozen_weights"
                  ? St.FormatBytes
                  : static_cast<uint64_t>(
                        std::llround(T.BytesPerParam * St.TrainableCount));
}

/// The peak against the GPU's memory, when one is given.
void fitPeak(CostContext &Ctx) {
  const CostOptions &O = Ctx.CostOpts;
  if (!O.GpuBytes)
    return;
  TimelineResult::Fit F;
  F.Gpu = O.GpuName;
  F.GpuBytes = O.GpuBytes;
  F.Fits = Ctx.Timeline.PeakBytes <= O.GpuBytes;
  F.HeadroomBytes = static_cast<int64_t>(O.GpuBytes) -
                    static_cast<int64_t>(Ctx.Timeline.PeakBytes);
  Ctx.Timeline.FitResult = F;
}

void Timeline::finish() {
  worstStage();
  for (size_t I = 0; I < R.Steps.size(); ++I) {
    const TimelineStep &S = R.Steps[I];
    uint64_t T = S.total();
    if (T > R.PeakBytes) {
      R.PeakBytes = T;
      R.PeakStep = I;
    }
    uint64_t Base = S.Live[unsigned(LiveCat::Parameters)] +
                    S.Live[unsigned(LiveCat::OptimizerState)] +
                    S.Live[unsigned(LiveCat::Overhead)];
    uint64_t Above = T - Base;
    if (S.Phase == Phase::Forward)
      R.ForwardPeakAboveParams = std::max(R.ForwardPeakAboveParams, Above);
    else if (S.Phase == Phase::Backward)
      R.BackwardPeakAboveParams = std::max(R.BackwardPeakAboveParams, Above);
  }
  Ctx.Timeline = std::move(R);
}

/// The forward: the shared forward walk, where saved storages are kept to
/// the backward and only a fused kernel's output is materialised.
void Timeline::forward() {
  const FusionResult &F = Ctx.Fusion;
  auto Allocates = [&](const Node &N, const Value &V) {
    auto GIt = F.GroupOf.find(&N);
    return GIt == F.GroupOf.end() || F.Groups[GIt->second].Output == &V;
  };
  auto Keep = [&](const Value &S) { return SavedOf.count(&S) != 0; };
  auto catOf = [&](const Value &S) {
    return SavedOf.count(&S) ? LiveCat::SavedActivations : LiveCat::Temporaries;
  };
  ForwardWalk Walk(Ctx);
  Walk.Allocates = Allocates;
  Walk.Keep = Keep;
  Walk.run([&](const Value &S) { add(catOf(S), priced(S), stageOf(S)); },
           [&](size_t I) {
             const Node &N = *G.Nodes[I];
             for (const SavedTensor *T : BuffersOf.lookup(&N))
               add(LiveCat::SavedActivations, savedBytes(*T),
                   stageOf(T->Consumer));
             record(Phase::Forward, &N);
           },
           [&](const Value &S) {
             sub(LiveCat::Temporaries, priced(S), stageOf(S));
           });
}

/// The backward, seeded with the gradient of the loss (or of each graph
/// output that requires grad, when no loss is priced), in reverse
/// topological order: one step per gradient unit
/// (a node, or a fused group at its output) whose inputs require grad.
void Timeline::backward() {
  // A loss the loss pass added is the only seed; without one, every output
  // that requires grad seeds its own gradient.
  const Value *Loss = Ctx.Loss.InGraph ? nullptr : Ctx.Loss.Loss;
  for (const Value *V : G.Outputs)
    if (Ctx.RequiresGrad.count(V) && (!Loss || V == Loss))
      gradientOf(*V);
  for (size_t K = G.Nodes.size(); K-- > 0;) {
    // A checkpointed region runs its forward again before its backward.
    for (const SavedTensor *T : RecomputedAt.lookup(G.Nodes[K].get()))
      add(LiveCat::SavedActivations, savedBytes(*T), stageOf(T->Consumer));
    Optional<GradientUnit> U = gradientUnit(Ctx, *G.Nodes[K]);
    if (U && hasBackwardStep(*U))
      backwardStep(*U);
  }
}

void Timeline::gradientOf(const Value &V) {
  uint64_t B =
      perGpu(V, pricedBytes(V.Ty, V.Sh, V.FixedDType, ActTy).getValueOr(0));
  if (GradLive.try_emplace(&V, B).second)
    add(LiveCat::ActivationGradients, B, stageOf(V.Producer));
}

bool Timeline::hasBackwardStep(const GradientUnit &U) const {
  if (none_of(U.Inputs,
              [&](const Value *V) { return V && Ctx.RequiresGrad.count(V); }))
    return false;
  // An op without a gradient (Shape of an activation, a comparison) passes
  // none, and a view of a parameter (W^T feeding a MatMul) passes the
  // gradient straight to the parameter: no step of their own.
  if (U.Op && !U.Op->differentiable())
    return false;
  const Value *Out0 = U.N->output(0);
  return !(Out0 && Ctx.storage(Out0) != Out0 &&
           Ctx.storage(Out0)->Kind == ValueKind::Parameter);
}

void Timeline::backwardStep(const GradientUnit &U) {
  SmallVector<const Value *, 4> Ins(U.Inputs.begin(), U.Inputs.end());
  // A parameter read inside a fused kernel only (a float epsilon or
  // coefficient initializer) gets its gradient at the kernel's step.
  if (U.Group)
    for (const Node *M : U.Group->Members)
      for (const Value *V : M->Inputs)
        if (V && V->Kind == ValueKind::Parameter && !is_contained(Ins, V))
          Ins.push_back(V);
  double GradPerParam = termBytes(Ctx.Cost, "gradients");
  uint64_t Transient = 0; // gradient copies live during this step only
  for (const Value *V : Ins) {
    if (!V || !Ctx.RequiresGrad.count(V))
      continue;
    const Value *S = Ctx.storage(V);
    if (S->Kind != ValueKind::Parameter) {
      gradientOf(*V);
      continue;
    }
    uint64_t Bytes = static_cast<uint64_t>(std::llround(
        GradPerParam * perGpu(*S, S->Sh.numElements().getValueOr(0))));
    if (ParamGradDone.insert({S, stageOf(U.N)}).second)
      add(LiveCat::Gradients, Bytes, stageOf(U.N));
    else
      // A shared (tied) parameter's later use computes a fresh gradient and
      // the engine adds the two out of place: two transient copies
      // (measured: EmbeddingBackward0 of a tied wte, PyTorch 1.13).
      Transient += 2 * Bytes;
  }
  add(LiveCat::Gradients, Transient, stageOf(U.N));
  record(Phase::Backward, U.N);
  sub(LiveCat::Gradients, Transient, stageOf(U.N));
  for (const Value *V : U.Outputs) {
    auto It = V ? GradLive.find(V) : GradLive.end();
    if (It == GradLive.end())
      continue;
    sub(LiveCat::ActivationGradients, It->second, stageOf(V->Producer));
    It->second = 0;
  }
  for (const SavedTensor *T : FreedAtBackward.lookup(U.N))
    sub(LiveCat::SavedActivations, savedBytes(*T), stageOf(T->Consumer));
}

Error Timeline::runTrain() {
  // Saved storages and hidden buffers: freed after the backward step of the
  // consumer recorded by the saved pass (the first in topological order,
  // so the last to run in backward).
  for (const SavedTensor &T : Ctx.Saved.Tensors) {
    if (T.Storage)
      SavedOf[T.Storage] = &T;
    else
      BuffersOf[T.Owner].push_back(&T);
    FreedAtBackward[T.Consumer].push_back(&T);
  }
  for (const SavedTensor &T : Ctx.Saved.Recomputed) {
    RecomputedAt[T.RecomputeAt].push_back(&T);
    FreedAtBackward[T.Consumer].push_back(&T);
  }
  StageLive.assign(Ctx.Cost.Stages.size(), LiveArray{});
  persistent();
  forward();
  backward();
  // Whatever is still live of the forward (graph outputs, unused values)
  // and of the activation gradients (inputs' gradients) is released before
  // the update.
  R.SavedLeftAfterBackward = Live[unsigned(LiveCat::SavedActivations)];
  Live[unsigned(LiveCat::ActivationGradients)] = 0;
  Live[unsigned(LiveCat::Temporaries)] = 0;
  Live[unsigned(LiveCat::SavedActivations)] = 0;
  add(LiveCat::Gradients,
      static_cast<uint64_t>(std::llround(
          termBytes(Ctx.Cost, "master_gradients") * Ctx.Cost.TrainableCount)));
  // The update's temporaries for the largest parameter (Adam's sqrt and
  // division of exp_avg_sq), freed with the step.
  add(LiveCat::Temporaries, Ctx.Cost.OptimizerStepTransient);
  for (size_t S = 0; S < StageLive.size(); ++S) {
    const CostResult::Stage &St = Ctx.Cost.Stages[S];
    LiveArray &L = StageLive[S];
    L[unsigned(LiveCat::ActivationGradients)] = 0;
    L[unsigned(LiveCat::Temporaries)] = St.OptimizerStepTransient;
    L[unsigned(LiveCat::SavedActivations)] = 0;
    L[unsigned(LiveCat::Gradients)] += static_cast<uint64_t>(std::llround(
        termBytes(Ctx.Cost, "master_gradients") * St.TrainableCount));
  }
  record(Phase::Optimizer, nullptr);
  finish();
  return Error::success();
}

Error Timeline::runInfer() {
  // The KV cache: past keys and values fed in, present ones returned.
  auto catOf = [&](const Value &S) {
    return isKVCache(S) ? LiveCat::KVCache : LiveCat::Temporaries;
  };
  for (const Value *V : G.Inputs)
    if (V->Kind == ValueKind::Input && isKVCache(*V))
      R.KVCacheBytes += priced(*V);
  for (const Value *V : G.Outputs)
    if (isKVCache(*V) && Ctx.storage(V) == V)
      R.KVPresentBytes += perGpu(
          *V, workingSetBytes(*V, ActTy, Ctx.Cost.KVFormat).getValueOr(0));
  persistent();
  // The forward working set step by step (the shared forward walk, as the
  // cost pass prices it), with the cache apart; a shared past buffer holds
  // the cache to the end.
  ForwardWalk Walk(Ctx);
  auto Shared = [&](const Value &S) {
    return is_contained(make_second_range(Ctx.Cost.KVSharedPast), &S);
  };
  if (!Ctx.Cost.KVSharedPast.empty())
    Walk.Keep = Shared;
  Walk.run([&](const Value &S) { add(catOf(S), priced(S)); },
           [&](size_t I) {
             // A generation loop's step also holds its decoder's
             // working set, the KV cache at the maximum length
             // apart.
             StepWorkingSet W =
                 stepWorkingSet(Ctx, *G.Nodes[I], ActTy, Ctx.Cost.KVFormat);
             add(LiveCat::KVCache, W.KVCache);
             add(LiveCat::Temporaries, W.Peak - W.KVCache);
             R.KVCacheBytes = std::max(R.KVCacheBytes, W.KVCache);
             record(Phase::Forward, G.Nodes[I].get());
             sub(LiveCat::KVCache, W.KVCache);
             sub(LiveCat::Temporaries, W.Peak - W.KVCache);
           },
           [&](const Value &S) { sub(catOf(S), priced(S)); });
  if (R.Steps.empty()) // no nodes: the inputs alone
    record(Phase::Forward, nullptr);
  finish();
  return Error::success();
}

} // namespace

Error runTimeline(CostContext &Ctx) {
  Ctx.Timeline = TimelineResult();
  Timeline T(Ctx);
  if (Error E = Ctx.Cost.RunMode == Mode::Train ? T.runTrain() : T.runInfer())
    return E;
  fitPeak(Ctx);
  return Error::success();
}

void printTimeline(CostContext &Ctx, raw_ostream &OS) {
  const TimelineResult &R = Ctx.Timeline;
  for (const TimelineStep &S : R.Steps) {
    OS << phaseName(S.Phase) << ' '
       << (S.N ? describeNode(*S.N) : std::string("-")) << ' ' << S.total();
    for (unsigned C = 0; C < NumLiveCats; ++C)
      if (S.Live[C])
        OS << ' ' << liveCatName(static_cast<LiveCat>(C)) << '=' << S.Live[C];
    OS << '\n';
  }
  OS << "peak " << R.PeakBytes << " at step " << R.PeakStep << '\n';
}

} // namespace vram

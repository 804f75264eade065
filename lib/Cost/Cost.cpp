//===- Cost.cpp - Bytes by category, dtype and node -----------------------===//
//
// Prices parameters (each storage once) with the recipe's per-parameter
// terms, saved activations (train) or the forward working set (infer) with
// the recipe's activation dtype, and the framework overhead.
//
// Activation pricing: a floating-point tensor is stored in the recipe's
// activation dtype unless its own dtype is narrower (a 16-bit graph is
// priced as it is); integer and bool tensors, dropout masks and
// normalisation statistics keep their own dtype under every recipe.
//
//===----------------------------------------------------------------------===//

#include "vram/Cost/Cost.h"
#include "vram/Cost/Liveness.h"
#include "vram/Cost/Recipes.h"
#include "vram/Support/Diagnostics.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

namespace vram {

namespace {

uint64_t roundBytes(double B) { return static_cast<uint64_t>(std::llround(B)); }

/// Groups nodes into repeated blocks (assignLayers).
void computeLayers(CostContext &Ctx) {
  CostResult &C = Ctx.Cost;
  std::map<std::string, size_t> Index;
  if (C.InputBytes) {
    Index["(inputs)"] = C.Layers.size();
    C.Layers.push_back({"(inputs)", 0, C.InputBytes});
  }
  std::vector<std::string> Keys = assignLayers(*Ctx.M.Main);
  for (const auto &N : Ctx.M.Main->Nodes) {
    const std::string &Key = Keys[&N - Ctx.M.Main->Nodes.data()];
    auto Ins = Index.emplace(Key, C.Layers.size());
    if (Ins.second)
      C.Layers.push_back({Key, 0, 0});
    CostResult::Layer &L = C.Layers[Ins.first->second];
    ++L.Nodes;
    L.Bytes += C.NodeBytes[N->Id];
  }
}

} // namespace

namespace {

/// The recipe's per-parameter terms for the options' optimizer, with the
/// options' overrides; serving keeps the weights only.
std::vector<RecipeTerm> buildTerms(const Recipe &R, const CostOptions &O,
                                   Mode RunMode) {
  int Copies = optimizerStateCopies(O.Optimizer);
  std::vector<RecipeTerm> Terms = {
      {"weights", "weights (" + dtypeName(R.WeightTy).str() + ")",
       TermCategory::Parameters, dtypeBits(R.WeightTy) / 8.0},
      {"master_weights", "master weights (f32)", TermCategory::Parameters,
       R.MasterWeights},
      {"weight_copies", "autocast weight copies (f16)",
       TermCategory::Parameters, R.ExtraWeights},
      {"gradients", "gradients (" + dtypeName(R.GradTy).str() + ")",
       TermCategory::Gradients, dtypeBits(R.GradTy) / 8.0},
      {"master_gradients", "master gradients (f32)", TermCategory::Gradients,
       R.MasterGrads},
      {"optimizer_state",
       O.Optimizer + " state (" + std::to_string(Copies) + " x f32)",
       TermCategory::OptimizerState, Copies * R.StatePerCopy},
  };
  for (const auto &Ov : O.TermOverrides) {
    auto It =
        find_if(Terms, [&](const RecipeTerm &T) { return Ov.first == T.Key; });
    if (It == Terms.end()) // checked by CostOptions::validate()
      continue;
    It->BytesPerParam = Ov.second;
    It->Name = It->Key + " (override)";
  }
  if (RunMode == Mode::Infer)
    Terms.resize(1);
  return Terms;
}

/// The ZeRO stage at which a term is sharded over the data-parallel ranks
/// (ZeRO paper: stage 1 the optimizer states, which with mixed precision
/// include the f32 master weights and gradients; 2 the 16-bit gradients;
/// 3 the 16-bit weights).
unsigned zeroStageOf(StringRef Key) {
  if (Key == "optimizer_state" || Key == "master_weights" ||
      Key == "master_gradients")
    return 1;
  if (Key == "gradients")
    return 2;
  return 3; // weights, weight_copies
}

/// Per GPU: the terms the ZeRO stage shards are divided by the ranks.
void shardTerms(std::vector<RecipeTerm> &Terms, const CostOptions &O) {
  if (O.ZeroStage == 0 || O.DataParallel <= 1)
    return;
  for (RecipeTerm &T : Terms) {
    if (zeroStageOf(T.Key) > O.ZeroStage || T.BytesPerParam == 0)
      continue;
    T.BytesPerParam /= O.DataParallel;
    T.Name += " / " + std::to_string(O.DataParallel) + " ranks";
  }
}

/// Parameters (each storage of the main graph once, a graph narrower than
/// the recipe priced as it is), the other per-parameter terms for the
/// trainable ones, and buffers in their own dtype.
void priceParameters(CostContext &Ctx) {
  CostResult &C = Ctx.Cost;
  bool Train = C.RunMode == Mode::Train;
  uint64_t WeightBytes = 0, Largest = 0;
  // Under ZeRO-3 the weights term is per GPU: the graph's dtype caps the
  // unsharded term.
  double Shards = C.ZeroStage >= 3 ? C.DataParallel : 1;
  double WeightTerm = C.Terms[0].BytesPerParam * Shards;
  // Every weight of the model: the main graph's and those held inside
  // subgraphs (If branches, Loop bodies, a generation op's encoder and
  // decoder), which are priced as stored weights (they are never trainable
  // here: requires-grad covers the main graph).
  std::vector<const Value *> Params;
  for (const auto &V : Ctx.M.Main->Values)
    Params.push_back(V.get());
  Ctx.M.Main->walk([&](Node &N) {
    for (const auto &Sub : N.Subgraphs)
      for (const auto &V : Sub->Values)
        Params.push_back(V.get());
  });
  for (const Value *V : Params) {
    if (V->Kind != ValueKind::Parameter)
      continue;
    Optional<uint64_t> N = V->Sh.numElements();
    if (!N)
      continue;
    // Per GPU: a parameter split by tensor parallelism counts its part.
    *N = (*N + Ctx.shards(V) - 1) / Ctx.shards(V);
    C.ParamCount += *N;
    C.ParamBytesInGraph += V->bytes().getValueOr(0);
    WeightBytes +=
        roundBytes(std::min(WeightTerm, dtypeBits(V->Ty) / 8.0) / Shards * *N);
    if (Train && Ctx.RequiresGrad.count(V)) {
      C.TrainableCount += *N;
      Largest = std::max(Largest, *N);
    }
  }
  // The optimizer's update allocates its temporaries one parameter at a
  // time, in f32: the largest parameter's are the step's transient peak.
  if (const Optimizer *Opt = findOptimizer(C.Optimizer))
    C.OptimizerStepTransient = uint64_t(Opt->StepTemporaries) * Largest * 4;
  for (const RecipeTerm &T : C.Terms) {
    if (T.Key == "weights")
      continue;
    uint64_t B = roundBytes(T.BytesPerParam * C.TrainableCount);
    switch (T.Category) {
    case TermCategory::Parameters:
      C.Parameters += B;
      break;
    case TermCategory::Gradients:
      C.Gradients += B;
      break;
    case TermCategory::OptimizerState:
      C.OptimizerState += B;
      break;
    }
  }
  C.Parameters += WeightBytes;
  // Buffers (float initializers that are not trainable: masks, rotary
  // caches) are stored with the model, in their own dtype.
  for (const auto &V : Ctx.M.Main->Values)
    if (V->Kind == ValueKind::Constant && !V->Producer &&
        isFloatingPoint(V->Ty) && V->Sh.rank() > 0)
      C.BufferBytes += V->bytes().getValueOr(0);
  C.Parameters += C.BufferBytes;
}

/// Train: each saved tensor, attributed to the node owning its storage.
Error priceSaved(CostContext &Ctx) {
  CostResult &C = Ctx.Cost;
  const Graph &G = *Ctx.M.Main;
  size_t NumSaved = Ctx.Saved.Tensors.size();
  C.SavedBytes.assign(NumSaved, 0);
  C.SavedPricedTy.assign(NumSaved, DType::Undefined);
  for (size_t I = 0; I < NumSaved; ++I) {
    const SavedTensor &T = Ctx.Saved.Tensors[I];
    Optional<uint64_t> B =
        pricedBytes(T.Ty, T.Sh, T.KeepsDType, C.ActivationType);
    if (B) // per GPU under tensor or sequence parallelism
      *B = (*B + T.Shards - 1) / T.Shards;
    if (!B) {
      ++C.UnpricedTensors;
      continue;
    }
    C.SavedBytes[I] = *B;
    C.SavedPricedTy[I] = pricedType(T.Ty, T.KeepsDType, C.ActivationType);
    // What it is: its consumer's kind (a fused group's kernel row); a
    // product of two activations (QK^T, scores x V) is attention's.
    Optional<GradientUnit> U = gradientUnit(Ctx, *T.Consumer);
    SavedKind K = U && U->Op ? U->Op->Kind : SavedKind::Other;
    if (K == SavedKind::MatMul && none_of(U->Inputs, [&](const Value *V) {
          return V && Ctx.storage(V)->isInitializerLike();
        }))
      K = SavedKind::Attention;
    C.SavedByKind[static_cast<unsigned>(K)] += *B;
    C.Activations += *B;
    C.ActivationsByDType[dtypeName(C.SavedPricedTy[I]).str()] += *B;
    if (T.Owner && T.Owner->Parent == &G)
      C.NodeBytes[T.Owner->Id] += *B;
    else
      C.InputBytes += *B;
  }
  std::map<std::string, uint64_t> ByRegion;
  for (const SavedTensor &T : Ctx.Saved.Recomputed) {
    uint64_t B =
        pricedBytes(T.Ty, T.Sh, T.KeepsDType, C.ActivationType).getValueOr(0);
    B = (B + T.Shards - 1) / T.Shards;
    C.RecomputedBytes.push_back(B);
    C.Recomputed += B;
    uint64_t &R = ByRegion[T.Region];
    R += B;
    C.LargestRecomputedRegion = std::max(C.LargestRecomputedRegion, R);
  }
  if (!C.UnpricedTensors)
    return Error::success();
  return Ctx.Diags.warn(
      Twine(C.UnpricedTensors) +
      " saved tensor(s) without a concrete shape are not priced");
}

/// Infer: the peak of the forward working set (the shared forward walk),
/// each node's allocations, and where the peak is.
void priceWorkingSet(CostContext &Ctx) {
  CostResult &C = Ctx.Cost;
  const Graph &G = *Ctx.M.Main;
  DenseMap<const Value *, uint64_t> SizeOf;
  auto Bytes = [&](const Value &S) -> uint64_t {
    auto Ins = SizeOf.try_emplace(&S, 0);
    if (Ins.second) {
      Optional<uint64_t> B = pricedBytes(S.Ty, S.Sh, false, C.ActivationType);
      if (!B)
        ++C.UnpricedTensors;
      Ins.first->second = B.getValueOr(0);
    }
    return Ins.first->second;
  };
  uint64_t Live = 0, Allocated = 0;
  ForwardWalk(Ctx).run(
      [&](const Value &S) {
        Live += Bytes(S);
        if (!S.Producer) // a graph input, live from the start
          C.WorkingSetPeak = Live;
        else
          Allocated += Bytes(S);
      },
      [&](size_t I) {
        // A generation loop also holds its decoder's working set.
        uint64_t Step = stepWorkingSet(Ctx, *G.Nodes[I], C.ActivationType).Peak;
        C.NodeBytes[I] = Allocated + Step;
        if (Live + Step > C.WorkingSetPeak) {
          C.WorkingSetPeak = Live + Step;
          C.WorkingSetPeakNode = G.Nodes[I].get();
        }
        Allocated = 0;
      },
      [&](const Value &S) { Live -= Bytes(S); });
  C.Activations = C.WorkingSetPeak;
  C.ActivationsByDType[dtypeName(C.ActivationType).str()] = C.WorkingSetPeak;
}

} // namespace

Error runCost(CostContext &Ctx) {
  const CostOptions &O = Ctx.CostOpts;
  CostResult &C = Ctx.Cost;
  C = CostResult();
  if (Error E = O.validate())
    return E;
  const Recipe *R = findRecipe(O.Recipe);
  // A graph that already holds its backward is one walk as written: the
  // forward working set's liveness, its weights stored, no optimizer.
  Mode RunMode = Ctx.BackwardGraph ? Mode::Infer : O.RunMode;
  std::vector<RecipeTerm> Terms = buildTerms(*R, O, RunMode);
  shardTerms(Terms, O);
  C.RunMode = RunMode;
  C.DataParallel = O.DataParallel;
  C.ZeroStage = O.ZeroStage;
  C.Recipe = R->Name;
  C.Optimizer = O.Optimizer;
  C.ActivationType = O.ActivationDType ? *O.ActivationDType : R->ActivationTy;
  C.Terms = std::move(Terms);
  priceParameters(Ctx);
  C.NodeBytes.assign(Ctx.M.Main->Nodes.size(), 0);
  if (RunMode == Mode::Train)
    for (const auto &N : Ctx.M.Main->Nodes)
      if (const OpInfo *Row = findOp(N->Domain, N->OpType, N->OpsetVersion))
        if (Row->Serving == ServingKind::Generation)
          return createStringError(
              inconvertibleErrorCode(),
              describeNode(*N) +
                  ": a generation loop is serving only (it has no training "
                  "step); price it with --mode=infer");
  if (RunMode == Mode::Train) {
    if (Error E = priceSaved(Ctx))
      return E;
  } else {
    priceWorkingSet(Ctx);
  }
  computeLayers(Ctx);
  C.TensorParallel = Ctx.Opts.TensorParallel;
  C.SequenceParallel = Ctx.Opts.SequenceParallel;
  C.Overhead = O.OverheadBytes;
  return Error::success();
}

const char *modeName(Mode M) { return M == Mode::Train ? "train" : "infer"; }

const char *termCategoryName(TermCategory C) {
  switch (C) {
  case TermCategory::Parameters:
    return "parameters";
  case TermCategory::Gradients:
    return "gradients";
  case TermCategory::OptimizerState:
    return "optimizer_state";
  }
  return "?";
}

const char *phaseName(Phase P) {
  switch (P) {
  case Phase::Forward:
    return "forward";
  case Phase::Backward:
    return "backward";
  case Phase::Optimizer:
    return "optimizer";
  }
  return "?";
}

void printCost(CostContext &Ctx, raw_ostream &OS) {
  const CostResult &C = Ctx.Cost;
  OS << "mode " << modeName(C.RunMode) << " recipe " << C.Recipe
     << " optimizer " << C.Optimizer << '\n'
     << "parameters.count " << C.ParamCount << '\n'
     << "totals.parameters " << C.Parameters << '\n'
     << "totals.gradients " << C.Gradients << '\n'
     << "totals.optimizer_state " << C.OptimizerState << '\n'
     << "totals.activations " << C.Activations << '\n';
  for (const auto &KV : C.ActivationsByDType)
    OS << "activations." << KV.first << ' ' << KV.second << '\n';
}

} // namespace vram

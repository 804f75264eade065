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
#include "llvm/ADT/DenseSet.h"
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
  if (RunMode == Mode::Infer) {
    Terms.resize(1);
    // Serving prices the model as stored unless a weights term is given.
    if (Terms[0].Name == "weights (" + dtypeName(R.WeightTy).str() + ")")
      Terms[0].Name = "weights (as stored)";
  }
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

/// The row size of a weight for a per-row storage format: its last dim.
uint64_t rowSize(const Value &V) {
  return V.Sh.rank() ? static_cast<uint64_t>(
                           std::max<int64_t>(V.Sh[V.Sh.rank() - 1], 1))
                     : 1;
}

/// Every weight of the model: the main graph's and those held inside
/// subgraphs (If branches, Loop bodies, a generation op's encoder and
/// decoder), which are priced as stored weights (they are never trainable
/// here: requires-grad covers the main graph).
std::vector<const Value *> allParameters(const Graph &Main) {
  std::vector<const Value *> Params;
  auto Add = [&](const Graph &G) {
    for (const auto &V : G.Values)
      if (V->Kind == ValueKind::Parameter)
        Params.push_back(V.get());
  };
  Add(Main);
  const_cast<Graph &>(Main).walk([&](Node &N) {
    for (const auto &Sub : N.Subgraphs)
      Add(*Sub);
  });
  return Params;
}

/// Serving without a weights override prices the weights as stored.
bool weightsAsStored(const CostResult &C) {
  return C.RunMode != Mode::Train && C.Terms[0].Key == "weights" &&
         C.Terms[0].Name == "weights (as stored)";
}

/// The parameter side of a set of weights and buffers.
struct ParamSide {
  uint64_t Count = 0, Trainable = 0, InGraph = 0, Buffers = 0;
  uint64_t WeightBytes = 0, WeightCount = 0, FormatBytes = 0, FormatCount = 0;
  uint64_t Parameters = 0, Gradients = 0, OptimizerState = 0;
  uint64_t StepTransient = 0;
};

/// Parameters (each storage once, a graph narrower than the recipe priced
/// as it is; serving without a weights override: as stored), frozen ones
/// in the weight format when one is given, the other per-parameter terms
/// for the trainable ones, and buffers in their own dtype.
ParamSide priceParamSide(const CostContext &Ctx, const CostResult &C,
                         ArrayRef<const Value *> Params,
                         ArrayRef<const Value *> Buffers) {
  ParamSide P;
  bool Train = C.RunMode == Mode::Train;
  uint64_t Largest = 0;
  // Under ZeRO-3 the weights term is per GPU: the graph's dtype caps the
  // unsharded term.
  double Shards = C.ZeroStage >= 3 ? C.DataParallel : 1;
  double WeightTerm = C.Terms[0].BytesPerParam * Shards;
  bool AsStored = weightsAsStored(C);
  for (const Value *V : Params) {
    Optional<uint64_t> N = V->Sh.numElements();
    if (!N)
      continue;
    // Per GPU: a parameter split by tensor parallelism counts its part.
    *N = (*N + Ctx.shards(V) - 1) / Ctx.shards(V);
    P.Count += *N;
    P.InGraph += V->bytes().getValueOr(0);
    bool Trainable = Train && Ctx.RequiresGrad.count(V);
    if (Trainable) {
      P.Trainable += *N;
      Largest = std::max(Largest, *N);
    }
    if (C.WeightFormat && !Trainable && isFloatingPoint(V->Ty)) {
      P.FormatBytes += storageBytes(*C.WeightFormat, *N, rowSize(*V));
      P.FormatCount += *N;
      continue;
    }
    P.WeightCount += *N;
    P.WeightBytes +=
        AsStored ? bytesFor(V->Ty, *N).getValueOr(0)
                 : roundBytes(std::min(WeightTerm, dtypeBits(V->Ty) / 8.0) /
                              Shards * *N);
  }
  // The optimizer's update allocates its temporaries one parameter at a
  // time, in f32: the largest parameter's are the step's transient peak.
  if (const Optimizer *Opt = findOptimizer(C.Optimizer))
    P.StepTransient = uint64_t(Opt->StepTemporaries) * Largest * 4;
  for (const RecipeTerm &T : C.Terms) {
    // The weights (and frozen weights in a storage format) are priced by
    // element above.
    if (T.Key == "weights" || T.Key == "frozen_weights")
      continue;
    uint64_t B = roundBytes(T.BytesPerParam * P.Trainable);
    switch (T.Category) {
    case TermCategory::Parameters:
      P.Parameters += B;
      break;
    case TermCategory::Gradients:
      P.Gradients += B;
      break;
    case TermCategory::OptimizerState:
      P.OptimizerState += B;
      break;
    }
  }
  P.Parameters += P.WeightBytes + P.FormatBytes;
  // Buffers (float initializers that are not trainable: masks, rotary
  // caches) are stored with the model, in their own dtype.
  for (const Value *V : Buffers)
    P.Buffers += V->bytes().getValueOr(0);
  P.Parameters += P.Buffers;
  return P;
}

bool isBuffer(const Value &V) {
  return V.Kind == ValueKind::Constant && !V.Producer &&
         isFloatingPoint(V.Ty) && V.Sh.rank() > 0;
}

/// The parameters and buffers of the whole model, and each term's bytes.
Error priceParameters(CostContext &Ctx) {
  CostResult &C = Ctx.Cost;
  bool Train = C.RunMode == Mode::Train;
  std::vector<const Value *> Params = allParameters(*Ctx.M.Main), Buffers;
  for (const auto &V : Ctx.M.Main->Values)
    if (isBuffer(*V))
      Buffers.push_back(V.get());
  ParamSide P = priceParamSide(Ctx, C, Params, Buffers);
  C.ParamCount = P.Count;
  C.TrainableCount = P.Trainable;
  C.ParamBytesInGraph = P.InGraph;
  C.BufferBytes = P.Buffers;
  C.Parameters = P.Parameters;
  C.Gradients = P.Gradients;
  C.OptimizerState = P.OptimizerState;
  C.OptimizerStepTransient = P.StepTransient;
  for (RecipeTerm &T : C.Terms)
    if (T.Key != "weights")
      T.Bytes = roundBytes(T.BytesPerParam * C.TrainableCount);
  C.Terms[0].Bytes = P.WeightBytes;
  if (weightsAsStored(C) && P.WeightCount)
    C.Terms[0].BytesPerParam = double(P.WeightBytes) / P.WeightCount;
  if (C.WeightFormat) {
    // Serving: every weight is in the format; training: the frozen ones (a
    // quantised base), a term of their own next to the recipe's weights.
    RecipeTerm F{Train ? "frozen_weights" : "weights",
                 (Train ? "frozen weights (" : "weights (") +
                     std::string(C.WeightFormat->Name) + ")",
                 TermCategory::Parameters,
                 P.FormatCount ? double(P.FormatBytes) / P.FormatCount : 0,
                 P.FormatBytes};
    if (Train)
      C.Terms.insert(C.Terms.begin() + 1, F);
    else
      C.Terms[0] = F;
  }
  if (Train && C.WeightFormat && !P.FormatCount)
    return Ctx.Diags.warn(
        "the weight format " + Twine(C.WeightFormat->Name) +
        " applies to frozen weights in training, and none is frozen");
  return Error::success();
}

/// Pipeline stages: each stage's weights and buffers (those its nodes read,
/// through views: a tied embedding is on the first and the last stage, as
/// Megatron keeps a copy on each) and its saved bytes (by the stage of the
/// tensor's consumer, whose backward needs it: a layer's input received
/// from the stage before is kept by the receiving stage).
Error priceStages(CostContext &Ctx) {
  CostResult &C = Ctx.Cost;
  const CostOptions &O = Ctx.CostOpts;
  const Graph &G = *Ctx.M.Main;
  Expected<StageAssignment> A = assignStages(G, O.PipelineParallel);
  if (!A)
    return A.takeError();
  unsigned N = O.PipelineParallel;
  C.MicroBatches = O.MicroBatches ? O.MicroBatches : N;
  C.NodeStage = A->NodeStage;
  C.Stages.resize(N);
  std::vector<std::vector<const Value *>> Params(N), Buffers(N);
  std::vector<DenseSet<const Value *>> Seen(N);
  for (size_t I = 0; I < G.Nodes.size(); ++I) {
    unsigned S = C.NodeStage[I];
    auto Read = [&](const Value *V) {
      if (!V)
        return;
      const Value *St = Ctx.storage(V);
      bool Param = St->Kind == ValueKind::Parameter;
      if ((!Param && !isBuffer(*St)) || !Seen[S].insert(St).second)
        return;
      (Param ? Params : Buffers)[S].push_back(St);
    };
    for (const Value *V : G.Nodes[I]->Inputs)
      Read(V);
    for (const Value *V : G.Nodes[I]->ImplicitInputs)
      Read(V);
  }
  for (unsigned S = 0; S < N; ++S) {
    CostResult::Stage &St = C.Stages[S];
    St.Layers = A->Layers[S];
    St.InFlight = std::min(N - S, C.MicroBatches);
    ParamSide P = priceParamSide(Ctx, C, Params[S], Buffers[S]);
    St.ParamCount = P.Count;
    St.TrainableCount = P.Trainable;
    St.BufferBytes = P.Buffers;
    St.Parameters = P.Parameters;
    St.Gradients = P.Gradients;
    St.OptimizerState = P.OptimizerState;
    St.OptimizerStepTransient = P.StepTransient;
    St.WeightBytes = P.WeightBytes;
    St.FormatBytes = P.FormatBytes;
  }
  for (size_t I = 0; I < Ctx.Saved.Tensors.size(); ++I) {
    const Node *Consumer = Ctx.Saved.Tensors[I].Consumer;
    unsigned S =
        Consumer && Consumer->Parent == &G && Consumer->Id < C.NodeStage.size()
            ? C.NodeStage[Consumer->Id]
            : 0;
    C.Stages[S].Saved += C.savedBytes(I);
  }
  for (CostResult::Stage &St : C.Stages)
    St.Activations = St.Saved * St.InFlight;
  return Error::success();
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
/// each node's allocations, where the peak is and its bytes by dtype.
void priceWorkingSet(CostContext &Ctx) {
  CostResult &C = Ctx.Cost;
  const Graph &G = *Ctx.M.Main;
  DenseMap<const Value *, uint64_t> SizeOf;
  auto Bytes = [&](const Value &S) -> uint64_t {
    auto Ins = SizeOf.try_emplace(&S, 0);
    if (Ins.second) {
      if (!S.Sh.isConcrete())
        ++C.UnpricedTensors;
      Ins.first->second = C.servingBytes(S);
    }
    return Ins.first->second;
  };
  // The dtype each storage is priced in, for the breakdown at the peak.
  auto TypeName = [&](const Value &S) -> std::string {
    if (C.KVFormat && isKVCache(S))
      return C.KVFormat->Name;
    return dtypeName(pricedType(S.Ty, S.FixedDType, C.ActivationType)).str();
  };
  std::map<std::string, uint64_t> LiveByType;
  uint64_t Live = 0, Allocated = 0;
  auto AtPeak = [&]() {
    C.WorkingSetPeak = Live;
    C.ActivationsByDType.clear();
    for (const auto &KV : LiveByType)
      if (KV.second)
        C.ActivationsByDType.insert(KV);
  };
  ForwardWalk Walk(Ctx);
  // A shared past buffer holds the cache to the end.
  auto Shared = [&](const Value &S) {
    return llvm::is_contained(make_second_range(C.KVSharedPast), &S);
  };
  if (!C.KVSharedPast.empty())
    Walk.Keep = Shared;
  Walk.run(
      [&](const Value &S) {
        Live += Bytes(S);
        LiveByType[TypeName(S)] += Bytes(S);
        if (!S.Producer) // a graph input, live from the start
          AtPeak();
        else
          Allocated += Bytes(S);
      },
      [&](size_t I) {
        // A generation loop also holds its decoder's working set.
        uint64_t Step =
            stepWorkingSet(Ctx, *G.Nodes[I], C.ActivationType, C.KVFormat).Peak;
        C.NodeBytes[I] = Allocated + Step;
        if (Live + Step > C.WorkingSetPeak) {
          Live += Step;
          AtPeak();
          Live -= Step;
          C.WorkingSetPeakNode = G.Nodes[I].get();
        }
        Allocated = 0;
      },
      [&](const Value &S) {
        Live -= Bytes(S);
        LiveByType[TypeName(S)] -= Bytes(S);
      });
  C.Activations = C.WorkingSetPeak;
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
  C.Recipe = RunMode == Mode::Train ? R->Name : "as-stored";
  C.Optimizer = O.Optimizer;
  CostOptions Effective = O;
  Effective.RunMode = RunMode;
  C.ActivationType = Effective.activationDType().getValueOr(DType::Undefined);
  if (!O.WeightFormat.empty())
    C.WeightFormat = cantFail(lookupStorageFormat(O.WeightFormat));
  if (!O.KVFormat.empty() && RunMode == Mode::Infer)
    C.KVFormat = cantFail(lookupStorageFormat(O.KVFormat));
  if (O.KVShared && RunMode == Mode::Infer) {
    C.KVSharedPast = pairKVCache(*Ctx.M.Main);
    if (C.KVSharedPast.empty()) {
      unsigned Past = 0, Present = 0;
      for (const Value *V : Ctx.M.Main->Inputs)
        Past += V->Kind == ValueKind::Input && isKVCache(*V);
      for (const Value *V : Ctx.M.Main->Outputs)
        Present += isKVCache(*V);
      if (Error E =
              Ctx.Diags.warn("the KV cache is not shared: " + Twine(Past) +
                             " past input(s) and " + Twine(Present) +
                             " present output(s) do not pair up in order"))
        return E;
    }
  }
  C.Terms = std::move(Terms);
  if (Error E = priceParameters(Ctx))
    return E;
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
  C.PipelineParallel = O.PipelineParallel;
  C.MicroBatches = O.MicroBatches ? O.MicroBatches : 1;
  if (O.PipelineParallel > 1)
    if (Error E = priceStages(Ctx))
      return E;
  C.Overhead = O.OverheadBytes;
  return Error::success();
}

uint64_t CostResult::servingBytes(const Value &S) const {
  uint64_t B = workingSetBytes(S, ActivationType, KVFormat).getValueOr(0);
  if (const Value *Past = KVSharedPast.lookup(&S))
    B -= std::min(
        B, workingSetBytes(*Past, ActivationType, KVFormat).getValueOr(0));
  return B;
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

//===- InvariantsTest.cpp - Figures re-derived on every model -------------===//
//
// On the bundled models and on the shared real exports (one test per model; a
// shared model that is absent is skipped with a message, never silently), in
// both modes and under every recipe, the cost and timeline figures are checked
// against quantities this test derives itself: the saved tensors re-priced
// from their storages' shapes and dtypes, parameters counted from the graph,
// and the recipes' bytes per parameter written down by hand. No figure is
// compared with a sum of the same field the tool sums.
//
//===----------------------------------------------------------------------===//

#include "vram/Cost/Recipes.h"
#include "vram/Frontend/Frontend.h"
#include "vram/Pipeline/Pipeline.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "gtest/gtest.h"

#include <cmath>
#include <map>

using namespace vram;

namespace {

struct Case {
  std::string Path;
  std::vector<std::pair<std::string, int64_t>> Dims;
  bool Shared; ///< one of ../shared/models: skipped when absent
};

std::vector<Case> cases() {
  std::string Src = VRAM_SOURCE_DIR;
  std::string Shared = Src + "/../shared/models/";
  return {
      {Src + "/models/gpt2_tiny_train.onnxtxt",
       {{"batch", 2}, {"seq", 16}},
       false},
      {Src + "/models/gpt2_tiny_train_f16.onnxtxt",
       {{"batch", 3}, {"seq", 8}},
       false},
      {Src + "/models/gpt_tiny_train_op17.onnx",
       {{"batch", 2}, {"seq", 16}},
       false},
      {Src + "/models/bert_tiny_train_op14.onnx",
       {{"batch", 2}, {"seq", 16}},
       false},
      {Src + "/models/llama_tiny_train_op17_bf16.onnx",
       {{"batch", 2}, {"seq", 16}},
       false},
      {Shared + "bert_squad_pt13_opset10.onnx",
       {{"batch_size", 2}, {"max_seq_len", 128}},
       true},
      {Shared + "distilbert_tiny_hf_pt110.onnx",
       {{"batch", 2}, {"sequence", 16}},
       true},
      {Shared + "phi_6layer_train_fwd_dropout_noweights.onnx", {}, true},
      {Shared + "llama7b_layer_dynamo_pt24_fwd.onnx", {}, true},
  };
}

/// The recipes as the founding document and the conventions it cites state
/// them (README, "--recipe"; DESIGN.md section 1), written down here rather
/// than read from lib/Cost/Recipes.cpp. Bytes per trainable parameter with
/// Adam in all; of them, the weights forward/backward use and the gradients
/// (with master gradients); Adam's two fp32 moments are 8; the rest are
/// parameter-side copies (master weights, autocast copies):
///   mixed      20 = 2 + 4 master + (2 + 4) + 8
///   fp32       24 = 4 + 4 master + (4 + 4) + 8
///   megatron   18 = 2 + 4 master + 4 + 8
///   zero       16 = 2 + 4 master + 2 + 8
///   torch-fp32 16 = 4 + 4 + 8
///   torch-amp  18 = 4 + 2 autocast copies + 4 + 8
struct HandRecipe {
  const char *Name;
  double AdamBytes;
  double WeightBytes;
  double GradBytes;
  DType Act;
};
const HandRecipe HandRecipes[] = {
    {"mixed", 20, 2, 6, DType::Float16},
    {"fp32", 24, 4, 8, DType::Float},
    {"megatron", 18, 2, 4, DType::BFloat16},
    {"zero", 16, 2, 2, DType::Float16},
    {"torch-fp32", 16, 4, 4, DType::Float},
    {"torch-amp", 18, 4, 4, DType::Float16},
};
constexpr double AdamStateBytes = 8;
constexpr uint64_t DefaultOverhead = 400ull * 1024 * 1024; // 400 MiB

/// Elements of a shape, counted here; None when a dim or the rank is unknown.
llvm::Optional<uint64_t> elements(const Shape &S) {
  if (!S.hasRank())
    return llvm::None;
  uint64_t N = 1;
  for (int64_t D : S.dims()) {
    if (D < 0)
      return llvm::None;
    N *= static_cast<uint64_t>(D);
  }
  return N;
}

uint64_t bytesOf(DType T, uint64_t N) { return (N * dtypeBits(T) + 7) / 8; }

/// Activation storage rule (docs/memory.md): a floating-point tensor is
/// stored in the activation dtype unless its own is narrower; integers,
/// bools, masks and statistics keep their dtype.
DType storedType(DType Own, bool KeepsDType, DType Act) {
  if (KeepsDType || !isFloatingPoint(Own) || dtypeBits(Own) <= dtypeBits(Act))
    return Own;
  return Act;
}

/// Parameter side derived from the graph and the hand-written recipe.
struct ParamSide {
  uint64_t Parameters = 0, Gradients = 0, OptimizerState = 0;
  uint64_t Count = 0, Trainable = 0;
};

ParamSide deriveParamSide(const Graph &G, const HandRecipe &R, bool Train) {
  ParamSide P;
  double Weights = 0, TrainableN = 0;
  for (const auto &V : G.Values) {
    if (V->Kind == ValueKind::Parameter) {
      llvm::Optional<uint64_t> N = elements(V->Sh);
      EXPECT_TRUE(N.hasValue()) << "parameter without a shape: " << V->Name;
      if (!N)
        continue;
      P.Count += *N;
      // A graph narrower than the recipe is priced as it is; serving
      // prices every weight as stored.
      Weights += Train ? std::min(R.WeightBytes, dtypeBits(V->Ty) / 8.0) * *N
                       : dtypeBits(V->Ty) / 8.0 * *N;
      if (Train && isFloatingPoint(V->Ty)) {
        P.Trainable += *N;
        TrainableN += *N;
      }
    } else if (V->Kind == ValueKind::Constant && !V->Producer &&
               isFloatingPoint(V->Ty) && V->Sh.rank() > 0) {
      // A buffer (rotary cache, mask) is stored with the model as it is.
      if (llvm::Optional<uint64_t> N = elements(V->Sh))
        P.Parameters += bytesOf(V->Ty, *N);
    }
  }
  P.Parameters += static_cast<uint64_t>(std::llround(Weights));
  if (!Train)
    return P;
  double Grads = R.GradBytes;
  // What is left of the Adam total once weights, gradients and state are
  // taken out is parameter-side copies (master weights, autocast copies).
  double Copies = R.AdamBytes - R.WeightBytes - Grads - AdamStateBytes;
  P.Parameters += static_cast<uint64_t>(std::llround(Copies * TrainableN));
  P.Gradients = static_cast<uint64_t>(std::llround(Grads * TrainableN));
  P.OptimizerState =
      static_cast<uint64_t>(std::llround(AdamStateBytes * TrainableN));
  return P;
}

void checkParamSide(const CostContext &Ctx, const ParamSide &P) {
  const CostResult &C = Ctx.Cost;
  EXPECT_EQ(C.ParamCount, P.Count);
  EXPECT_EQ(C.TrainableCount, P.Trainable);
  EXPECT_EQ(C.Parameters, P.Parameters);
  EXPECT_EQ(C.Gradients, P.Gradients);
  EXPECT_EQ(C.OptimizerState, P.OptimizerState);
}

/// Train: every saved tensor re-priced from its storage, summed per node,
/// per dtype and in all; structural facts of the saved set; layers; the
/// timeline against the cost figures. Total: the derived activation total.
void checkTrain(const CostContext &Ctx, const HandRecipe &R, const ParamSide &P,
                uint64_t &Total) {
  const CostResult &C = Ctx.Cost;
  const Graph &G = *Ctx.M.Main;
  std::vector<uint64_t> PerNode(G.Nodes.size(), 0);
  std::map<std::string, uint64_t> PerDType;
  uint64_t FromInputs = 0;
  Total = 0;
  unsigned Unshaped = 0;
  llvm::DenseSet<const Value *> Storages;
  for (size_t Index = 0; Index < Ctx.Saved.Tensors.size(); ++Index) {
    const SavedTensor &T = Ctx.Saved.Tensors[Index];
    SCOPED_TRACE("saved " + T.Name);
    ASSERT_NE(T.Consumer, nullptr);
    EXPECT_EQ(T.Hidden, T.Storage == nullptr);
    const Node *Owner = T.Consumer; // a hidden buffer belongs to its node
    DType Own = T.Ty;
    Shape Sh = T.Sh;
    if (T.Storage) {
      // One allocation per storage, never a weight, owned by its producer.
      EXPECT_TRUE(Storages.insert(T.Storage).second);
      EXPECT_FALSE(T.Storage->isInitializerLike());
      EXPECT_EQ(Ctx.storage(T.Storage), T.Storage);
      Owner = T.Storage->Producer;
      Own = T.Storage->Ty;
      Sh = T.Storage->Sh;
    }
    EXPECT_EQ(T.Owner, Owner);
    llvm::Optional<uint64_t> N = elements(Sh);
    if (!N) {
      ++Unshaped;
      continue;
    }
    bool Keeps = T.KeepsDType || !isFloatingPoint(Own);
    DType Stored = storedType(Own, Keeps, R.Act);
    uint64_t B = bytesOf(Stored, *N);
    EXPECT_EQ(C.savedBytes(Index), B);
    EXPECT_EQ(C.savedPricedTy(Index), Stored);
    Total += B;
    PerDType[dtypeName(Stored).str()] += B;
    if (Owner && Owner->Parent == &G)
      PerNode[Owner->Id] += B;
    else
      FromInputs += B;
  }
  EXPECT_EQ(C.UnpricedTensors, Unshaped);
  EXPECT_EQ(C.Activations, Total);
  EXPECT_EQ(C.InputBytes, FromInputs);
  EXPECT_EQ(C.NodeBytes, PerNode);
  EXPECT_EQ(C.ActivationsByDType, PerDType);

  // Layers: every node in exactly one layer; the layers hold every saved
  // byte.
  unsigned LayerNodes = 0;
  uint64_t LayerBytes = 0;
  for (const CostResult::Layer &L : C.Layers) {
    LayerNodes += L.Nodes;
    LayerBytes += L.Bytes;
  }
  EXPECT_EQ(LayerNodes, G.Nodes.size());
  EXPECT_EQ(LayerBytes, Total);

  // Timeline: one forward step per node, the parameter side persistent at
  // the figures derived above; at the end of the forward every saved
  // tensor is live; the backward frees them all; the optimizer step holds
  // exactly the parameter side and every gradient.
  const TimelineResult &TL = Ctx.Timeline;
  ASSERT_FALSE(TL.Steps.empty());
  size_t Forward = 0;
  for (const TimelineStep &S : TL.Steps) {
    Forward += S.Phase == Phase::Forward;
    EXPECT_EQ(S.Live[unsigned(LiveCat::Parameters)], P.Parameters);
    EXPECT_EQ(S.Live[unsigned(LiveCat::OptimizerState)], P.OptimizerState);
    EXPECT_EQ(S.Live[unsigned(LiveCat::Overhead)], DefaultOverhead);
  }
  EXPECT_EQ(Forward, G.Nodes.size());
  if (!G.Nodes.empty()) {
    const TimelineStep &LastForward = TL.Steps[G.Nodes.size() - 1];
    EXPECT_EQ(LastForward.Phase, Phase::Forward);
    uint64_t SavedLive = LastForward.Live[unsigned(LiveCat::SavedActivations)];
    // The timeline prices each saved storage as the cost pass does (a kept
    // f32 softmax result included).
    EXPECT_EQ(SavedLive, Total);
  }
  EXPECT_GE(TL.PeakBytes,
            P.Parameters + P.OptimizerState + DefaultOverhead + Total);
  EXPECT_EQ(TL.SavedLeftAfterBackward, 0u);
  const TimelineStep &Opt = TL.Steps.back();
  EXPECT_EQ(Opt.Phase, Phase::Optimizer);
  EXPECT_EQ(Opt.Live[unsigned(LiveCat::SavedActivations)], 0u);
  EXPECT_EQ(Opt.Live[unsigned(LiveCat::ActivationGradients)], 0u);
  // Adam (the default optimizer) updates one parameter at a time and holds
  // two f32 temporaries of its size (sqrt and division of exp_avg_sq,
  // PyTorch's single-tensor Adam): 2 x 4 bytes x the largest trainable
  // parameter.
  uint64_t Largest = 0;
  for (const auto &V : G.Values)
    if (V->Kind == ValueKind::Parameter && isFloatingPoint(V->Ty))
      if (llvm::Optional<uint64_t> N = V->Sh.numElements())
        Largest = std::max(Largest, *N);
  EXPECT_EQ(Opt.Live[unsigned(LiveCat::Temporaries)], 2 * 4 * Largest);
  EXPECT_EQ(Opt.Live[unsigned(LiveCat::KVCache)], 0u);
  // Every trainable parameter's gradient is live at the optimizer step,
  // including a float initializer read only inside a fused kernel (the
  // epsilon or a GELU coefficient, init1_s1_* in the Phi export).
  EXPECT_EQ(Opt.Live[unsigned(LiveCat::Gradients)], P.Gradients);
}

/// Infer: each node's allocation re-derived from its outputs, as stored (in
/// Act when given); the working set peak bounded below by what one node
/// needs live at once and above by everything ever allocated.
void checkInfer(const CostContext &Ctx, llvm::Optional<DType> Act) {
  const CostResult &C = Ctx.Cost;
  const Graph &G = *Ctx.M.Main;
  auto Counted = [](const Value *S) {
    return S->Kind == ValueKind::Input || S->Kind == ValueKind::Activation;
  };
  auto Priced = [&](const Value *S) -> uint64_t {
    llvm::Optional<uint64_t> N = elements(S->Sh);
    return N ? bytesOf(Act ? storedType(S->Ty, false, *Act) : S->Ty, *N) : 0;
  };
  uint64_t Everything = 0, Lower = 0;
  for (const Value *V : G.Inputs)
    if (Counted(V))
      Everything += Priced(V);
  std::vector<uint64_t> PerNode(G.Nodes.size(), 0);
  for (const auto &N : G.Nodes) {
    llvm::DenseSet<const Value *> Live;
    for (const Value *V : N->Outputs)
      if (V && Ctx.storage(V) == V && Counted(V)) {
        PerNode[N->Id] += Priced(V);
        Live.insert(V);
      }
    for (const Value *V : N->Inputs)
      if (V && Counted(Ctx.storage(V)))
        Live.insert(Ctx.storage(V));
    for (const Value *V : N->ImplicitInputs)
      if (Counted(Ctx.storage(V)))
        Live.insert(Ctx.storage(V));
    uint64_t AtNode = 0;
    for (const Value *S : Live)
      AtNode += Priced(S);
    Lower = std::max(Lower, AtNode);
    Everything += PerNode[N->Id];
  }
  EXPECT_EQ(C.NodeBytes, PerNode);
  EXPECT_GE(C.Activations, Lower);
  EXPECT_LE(C.Activations, Everything);
  EXPECT_EQ(C.Gradients, 0u);
  EXPECT_EQ(C.OptimizerState, 0u);
}

/// One run of the default pipeline on a case's model under AO and CO (the
/// context refers to them, so the run owns them). A load or pipeline error
/// is a fatal test failure; check HasFatalFailure() after run().
struct PipelineRun {
  Diagnostics Diags;
  AnalysisOptions AO;
  CostOptions CO;
  std::unique_ptr<Model> M;
  std::unique_ptr<CostContext> Ctx;

  void run(const Case &K) {
    LoadOptions LO;
    LO.Dims = K.Dims;
    auto Loaded = loadModel(K.Path, LO, Diags);
    ASSERT_TRUE(bool(Loaded)) << llvm::toString(Loaded.takeError());
    M = std::move(*Loaded);
    Ctx = std::make_unique<CostContext>(*M, AO, CO, Diags);
    llvm::Error E = runPipeline(*Ctx);
    ASSERT_FALSE(bool(E)) << llvm::toString(std::move(E));
  }
};

class Invariants : public ::testing::TestWithParam<Case> {};

TEST_P(Invariants, FiguresMatchAnIndependentDerivation) {
  const Case &K = GetParam();
  if (!llvm::sys::fs::exists(K.Path)) {
    ASSERT_TRUE(K.Shared) << "bundled model missing: " << K.Path;
    GTEST_SKIP() << "shared model absent: " << K.Path
                 << " (the real exports are read from ../shared/models)";
  }
  for (Mode M : {Mode::Train, Mode::Infer}) {
    bool Train = M == Mode::Train;
    // Activation totals by recipe, to compare recipes with one another.
    std::map<unsigned, uint64_t> ByActBits;
    for (const HandRecipe &R : HandRecipes) {
      SCOPED_TRACE(K.Path + " " + (Train ? "train " : "infer ") + R.Name);
      ASSERT_NE(findRecipe(R.Name), nullptr);
      PipelineRun Run;
      Run.CO.RunMode = M;
      Run.CO.Recipe = R.Name;
      Run.run(K);
      if (HasFatalFailure())
        return;
      const CostContext &Ctx = *Run.Ctx;
      ParamSide P = deriveParamSide(*Ctx.M.Main, R, Train);
      checkParamSide(Ctx, P);
      uint64_t Activations = Ctx.Cost.Activations;
      if (Train)
        checkTrain(Ctx, R, P, Activations);
      else
        checkInfer(Ctx, llvm::None);
      EXPECT_EQ(Ctx.Cost.Overhead, DefaultOverhead);
      // Serving's peak, the headline: the weights, the overhead and the
      // forward working set at its largest.
      if (!Train) {
        EXPECT_EQ(Ctx.Timeline.PeakBytes, P.Parameters + P.OptimizerState +
                                              DefaultOverhead + Activations);
      }
      // Recipes with activations of the same width give the same bytes
      // (f16 and bf16 alike); serving does not depend on the recipe.
      auto Ins = ByActBits.emplace(Train ? dtypeBits(R.Act) : 0, Activations);
      EXPECT_EQ(Ins.first->second, Activations) << "same width as before";
    }
    if (!Train) {
      // Serving with --activation-dtype: 16-bit activations cost at most
      // the figure as stored (an f32 export: at least half of it).
      for (DType Act : {DType::Float16, DType::Float}) {
        SCOPED_TRACE(K.Path + " infer --activation-dtype " +
                     dtypeName(Act).str());
        PipelineRun Run;
        Run.CO.RunMode = M;
        Run.CO.ActivationDType = Act;
        Run.AO.ActivationDType = Act;
        Run.run(K);
        if (HasFatalFailure())
          return;
        const CostContext &Ctx = *Run.Ctx;
        checkInfer(Ctx, Act);
        ByActBits[dtypeBits(Act)] = Ctx.Cost.Activations;
      }
      EXPECT_LE(ByActBits[32], ByActBits[0]);
    }
    // 32-bit activations cost at least the 16-bit figure and at most twice
    // it: each tensor either keeps its dtype or halves.
    SCOPED_TRACE(K.Path + (Train ? " train" : " infer"));
    ASSERT_EQ(ByActBits.size(), Train ? 2u : 3u);
    EXPECT_LE(ByActBits[16], ByActBits[32]);
    EXPECT_LE(ByActBits[32], 2 * ByActBits[16]);
  }
}

/// The planner's what-ifs (docs/planning.md) on every model: they only
/// remove (or split) what is kept, never add to it beyond the checkpointed
/// layers' inputs; the backward frees everything, recomputed tensors
/// included; at any step the saved tensors live are at most what is kept
/// plus one region's recomputed tensors; the layers still hold every kept
/// byte.
TEST_P(Invariants, WhatIfs) {
  const Case &K = GetParam();
  if (K.Shared && !llvm::sys::fs::exists(K.Path))
    GTEST_SKIP() << "shared model not found: " << K.Path;
  struct WhatIf {
    const char *Name;
    CheckpointPolicy Checkpoint;
    AttentionKernel Attention;
    unsigned TP;
  };
  const WhatIf WhatIfs[] = {
      {"selective", CheckpointPolicy::Selective, AttentionKernel::Eager, 1},
      {"full", CheckpointPolicy::Full, AttentionKernel::Eager, 1},
      {"flash", CheckpointPolicy::None, AttentionKernel::Flash, 1},
      {"flash+selective", CheckpointPolicy::Selective, AttentionKernel::Flash,
       1},
      {"tp2", CheckpointPolicy::None, AttentionKernel::Eager, 2},
      {"tp2+full", CheckpointPolicy::Full, AttentionKernel::Eager, 2},
  };
  uint64_t Baseline = 0;
  for (const WhatIf &W : WhatIfs) {
    SCOPED_TRACE(K.Path + " " + W.Name);
    PipelineRun Run;
    Run.AO.Checkpoint = W.Checkpoint;
    Run.AO.Attention = W.Attention;
    Run.AO.TensorParallel = W.TP;
    Run.run(K);
    if (HasFatalFailure())
      return;
    const CostContext &Ctx = *Run.Ctx;
    if (!Baseline) {
      PipelineRun Plain;
      Plain.run(K);
      if (HasFatalFailure())
        return;
      Baseline = Plain.Ctx->Cost.Activations;
    }
    const CostResult &C = Ctx.Cost;
    if (W.Checkpoint != CheckpointPolicy::Full) {
      EXPECT_LE(C.Activations, Baseline);
    }
    uint64_t LayerBytes = 0;
    for (const CostResult::Layer &L : C.Layers)
      LayerBytes += L.Bytes;
    EXPECT_EQ(LayerBytes, C.Activations);
    const TimelineResult &TL = Ctx.Timeline;
    EXPECT_EQ(TL.SavedLeftAfterBackward, 0u);
    for (const TimelineStep &S : TL.Steps)
      EXPECT_LE(S.Live[unsigned(LiveCat::SavedActivations)],
                C.Activations + C.LargestRecomputedRegion);
    uint64_t Recomputed = 0;
    for (uint64_t B : C.RecomputedBytes)
      Recomputed += B;
    EXPECT_EQ(Recomputed, C.Recomputed);
    EXPECT_LE(C.LargestRecomputedRegion, C.Recomputed);
  }
}

/// Pipeline stages (--pp 2, and 3 with one micro-batch fewer than stages
/// where the model has the layers): the stages' saved bytes of one
/// micro-batch sum to the whole model's; each stage holds min(N - i, M)
/// micro-batches; no stage has more parameters than the model, and
/// together at least as many; the report's peak and totals are the worst
/// stage's, and no stage peaks above it.
TEST_P(Invariants, PipelineStages) {
  const Case &K = GetParam();
  if (K.Shared && !llvm::sys::fs::exists(K.Path))
    GTEST_SKIP() << "shared model not found: " << K.Path;
  LoadOptions LO;
  LO.Dims = K.Dims;
  AnalysisOptions AO;
  uint64_t Whole = 0, WholeParams = 0;
  {
    Diagnostics Diags;
    auto Model = loadModel(K.Path, LO, Diags);
    ASSERT_TRUE(bool(Model)) << llvm::toString(Model.takeError());
    CostOptions CO;
    CostContext Ctx(**Model, AO, CO, Diags);
    llvm::Error E = runPipeline(Ctx);
    ASSERT_FALSE(bool(E)) << llvm::toString(std::move(E));
    Whole = Ctx.Cost.Activations;
    WholeParams = Ctx.Cost.ParamCount;
  }
  for (auto [PP, MB] : {std::pair<unsigned, unsigned>{2, 0}, {3, 2}}) {
    SCOPED_TRACE(K.Path + " pp " + std::to_string(PP));
    Diagnostics Diags;
    auto Model = loadModel(K.Path, LO, Diags);
    ASSERT_TRUE(bool(Model)) << llvm::toString(Model.takeError());
    CostOptions CO;
    CO.PipelineParallel = PP;
    CO.MicroBatches = MB;
    CostContext Ctx(**Model, AO, CO, Diags);
    llvm::Error E = runPipeline(Ctx);
    if (E) { // fewer layers than stages
      std::string Msg = llvm::toString(std::move(E));
      EXPECT_NE(Msg.find("pipeline stages for"), std::string::npos) << Msg;
      continue;
    }
    const CostResult &C = Ctx.Cost;
    ASSERT_EQ(C.Stages.size(), PP);
    unsigned M = MB ? MB : PP;
    EXPECT_EQ(C.MicroBatches, M);
    uint64_t Saved = 0, Params = 0;
    for (unsigned I = 0; I < PP; ++I) {
      const CostResult::Stage &S = C.Stages[I];
      Saved += S.Saved;
      Params += S.ParamCount;
      EXPECT_LE(S.ParamCount, WholeParams);
      EXPECT_EQ(S.InFlight, std::min(PP - I, M));
      EXPECT_EQ(S.Activations, S.Saved * S.InFlight);
      EXPECT_LE(S.Peak, C.Stages[C.WorstStage].Peak);
      EXPECT_FALSE(S.Layers.empty());
    }
    EXPECT_EQ(Saved, Whole);
    EXPECT_GE(Params, WholeParams);
    const CostResult::Stage &W = C.Stages[C.WorstStage];
    EXPECT_EQ(Ctx.Timeline.PeakBytes, W.Peak);
    EXPECT_EQ(C.Activations, W.Activations);
    EXPECT_EQ(C.ParamCount, W.ParamCount);
    EXPECT_EQ(C.worstRank(), C.WorstStage);
  }
}

std::string caseName(const ::testing::TestParamInfo<Case> &I) {
  std::string N = llvm::sys::path::stem(I.param.Path).str();
  for (char &Ch : N)
    if (!isalnum(static_cast<unsigned char>(Ch)))
      Ch = '_';
  return N;
}

INSTANTIATE_TEST_SUITE_P(Models, Invariants, ::testing::ValuesIn(cases()),
                         caseName);

} // namespace

TEST(Recipes, BytesPerParamWithAdam) {
  // weights + master + copies + gradients + master gradients + 2 x state.
  auto PerParam = [](const char *Name) {
    const Recipe *R = findRecipe(Name);
    return dtypeBits(R->WeightTy) / 8.0 + R->MasterWeights + R->ExtraWeights +
           dtypeBits(R->GradTy) / 8.0 + R->MasterGrads + 2 * R->StatePerCopy;
  };
  EXPECT_EQ(PerParam("mixed"), 20);
  EXPECT_EQ(PerParam("fp32"), 24);
  EXPECT_EQ(PerParam("megatron"), 18);
  EXPECT_EQ(PerParam("zero"), 16);
  EXPECT_EQ(PerParam("torch-fp32"), 16);
  EXPECT_EQ(PerParam("torch-amp"), 18);
  EXPECT_EQ(optimizerStateCopies("sgd"), 0);
  EXPECT_EQ(optimizerStateCopies("momentum"), 1);
  EXPECT_EQ(optimizerStateCopies("adamw"), 2);
}

//===- InvariantsTest.cpp - Sums that must hold on every model ------------===//
//
// Per-node rows sum to the activation total, by-dtype sums to it, layers sum
// to it, in both modes and under every recipe, on the bundled models and on
// the shared real exports (skipped when ../shared/models is absent).
//
//===----------------------------------------------------------------------===//

#include "vram/Cost/Recipes.h"
#include "vram/Frontend/Frontend.h"
#include "vram/Pipeline/Pipeline.h"

#include "llvm/Support/FileSystem.h"
#include "gtest/gtest.h"

#include <numeric>

using namespace vram;

namespace {

struct Case {
  std::string Path;
  std::vector<std::pair<std::string, int64_t>> Dims;
};

std::vector<Case> cases() {
  std::string Src = VRAM_SOURCE_DIR;
  std::string Shared = Src + "/../shared/models/";
  std::vector<Case> C = {
      {Src + "/models/gpt2_tiny_train.onnxtxt", {{"batch", 2}, {"seq", 16}}},
      {Src + "/models/gpt2_tiny_train_f16.onnxtxt", {{"batch", 3}, {"seq", 8}}},
      {Shared + "bert_squad_pt13_opset10.onnx",
       {{"batch_size", 2}, {"max_seq_len", 128}}},
      {Shared + "distilbert_tiny_hf_pt110.onnx",
       {{"batch", 2}, {"sequence", 16}}},
      {Shared + "phi_6layer_train_fwd_dropout_noweights.onnx", {}},
      {Shared + "llama7b_layer_dynamo_pt24_fwd.onnx", {}},
      {Src + "/models/gpt_tiny_train_op17.onnx", {{"batch", 2}, {"seq", 16}}},
      {Src + "/models/bert_tiny_train_op14.onnx", {{"batch", 2}, {"seq", 16}}},
      {Src + "/models/llama_tiny_train_op17_bf16.onnx",
       {{"batch", 2}, {"seq", 16}}},
  };
  return C;
}

void checkSums(const CostContext &Ctx) {
  const CostResult &C = Ctx.Cost;
  uint64_t Nodes =
      std::accumulate(C.NodeBytes.begin(), C.NodeBytes.end(), uint64_t(0));
  uint64_t ByDType = 0;
  for (const auto &KV : C.ActivationsByDType)
    ByDType += KV.second;
  uint64_t Layers = 0;
  for (const auto &L : C.Layers)
    Layers += L.Bytes;
  EXPECT_EQ(ByDType, C.Activations);
  EXPECT_EQ(C.Total, C.Parameters + C.Gradients + C.OptimizerState +
                         C.Activations + C.Overhead);
  if (C.RunMode == Mode::Train) {
    EXPECT_EQ(Nodes + C.InputBytes, C.Activations);
    EXPECT_EQ(Layers, C.Activations);
    uint64_t Saved = 0;
    for (size_t I = 0; I < Ctx.Saved.Tensors.size(); ++I)
      Saved += C.savedBytes(I);
    EXPECT_EQ(Saved, C.Activations);
    // The timeline frees every saved tensor in the backward, and its peak
    // is the largest step.
    const TimelineResult &TL = Ctx.Timeline;
    EXPECT_EQ(TL.SavedLeftAfterBackward, 0u);
    for (const TimelineStep &S : TL.Steps)
      EXPECT_LE(S.total(), TL.PeakBytes);
    ASSERT_FALSE(TL.Steps.empty());
    EXPECT_EQ(TL.Steps.back().Phase, Phase::Optimizer);
  } else {
    // The working-set peak never exceeds everything allocated.
    EXPECT_LE(C.Activations, Nodes + C.InputBytes + 1ull);
  }
}

} // namespace

TEST(Invariants, RowsSumToTotals) {
  for (const Case &K : cases()) {
    if (!llvm::sys::fs::exists(K.Path))
      continue;
    for (Mode M : {Mode::Train, Mode::Infer}) {
      for (const Recipe &R : recipes()) {
        SCOPED_TRACE(K.Path + " " + R.Name);
        Diagnostics Diags;
        LoadOptions LO;
        LO.Dims = K.Dims;
        auto Model = loadModel(K.Path, LO, Diags);
        ASSERT_TRUE(bool(Model)) << llvm::toString(Model.takeError());
        AnalysisOptions AO;
        CostOptions CO;
        CO.RunMode = M;
        CO.Recipe = R.Name;
        CostContext Ctx(**Model, AO, CO, Diags);
        llvm::Error E = runPipeline(Ctx);
        ASSERT_FALSE(bool(E)) << llvm::toString(std::move(E));
        checkSums(Ctx);
      }
    }
  }
}

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

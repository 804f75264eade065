//===- PipelineView.cpp - Pipeline stages ---------------------------------===//
//
// With --pp: each stage's layers, the micro-batches it holds in flight, its
// parameter side, its saved bytes and its peak, the worst stage marked
// (the report's totals and peak are that stage's).
//
//===----------------------------------------------------------------------===//

#include "vram/Report/Views.h"

#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

using namespace llvm;

namespace vram {

namespace {

std::string layerRange(const CostResult::Stage &S) {
  if (S.Layers.empty())
    return "-";
  if (S.Layers.size() == 1)
    return S.Layers.front();
  return S.Layers.front() + ".." + S.Layers.back();
}

class StagesView : public View {
public:
  explicit StagesView(const CostContext &Ctx) : Ctx(Ctx) {}

  void printText(raw_ostream &OS) const override {
    const CostResult &C = Ctx.Cost;
    OS << "\nPipeline stages (1F1B, " << C.MicroBatches
       << " micro-batches; per GPU; worst rank " << C.worstRank() << ")\n";
    OS << fmt::format("  {:<5} {:<18} {:>6} {:>12} {:>12} {:>12}\n", "stage",
                      "layers", "flight", "param side", "saved/mb", "peak");
    for (size_t I = 0; I < C.Stages.size(); ++I) {
      const CostResult::Stage &S = C.Stages[I];
      OS << fmt::format(
          "  {:<5} {:<18} {:>6} {:>12} {:>12} {:>12}{}\n", I, layerRange(S),
          S.InFlight,
          formatBytes(S.Parameters + S.Gradients + S.OptimizerState),
          formatBytes(S.Saved), formatBytes(S.Peak),
          I == C.WorstStage ? "  <- worst" : "");
    }
  }

  void addJSON(json::Object &Root) const override {
    json::Array Stages;
    for (const CostResult::Stage &S : Ctx.Cost.Stages) {
      json::Array Layers;
      for (const std::string &L : S.Layers)
        Layers.push_back(L);
      Stages.push_back(json::Object{
          {"layers", std::move(Layers)},
          {"in_flight", static_cast<int64_t>(S.InFlight)},
          {"parameters_count", static_cast<int64_t>(S.ParamCount)},
          {"parameters", static_cast<int64_t>(S.Parameters)},
          {"gradients", static_cast<int64_t>(S.Gradients)},
          {"optimizer_state", static_cast<int64_t>(S.OptimizerState)},
          {"saved_per_micro_batch", static_cast<int64_t>(S.Saved)},
          {"activations", static_cast<int64_t>(S.Activations)},
          {"peak", static_cast<int64_t>(S.Peak)}});
    }
    Root["stages"] = std::move(Stages);
  }

private:
  const CostContext &Ctx;
};

} // namespace

std::unique_ptr<View> createStagesView(const CostContext &Ctx) {
  return std::make_unique<StagesView>(Ctx);
}

} // namespace vram

//===- Views.cpp - Report sections ----------------------------------------===//

#include "vram/Report/Views.h"
#include "vram/Cost/Liveness.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

using namespace llvm;

namespace vram {

std::string formatBytes(uint64_t Bytes) {
  static const char *const Units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  if (Bytes < 1024)
    return std::to_string(Bytes) + " B";
  double V = static_cast<double>(Bytes);
  unsigned U = 0;
  while (V >= 1024 && U + 1 < sizeof(Units) / sizeof(Units[0])) {
    V /= 1024;
    ++U;
  }
  return fmt::format("{:.2f} {}", V, Units[U]);
}

namespace {

std::string withCommas(uint64_t N) {
  std::string S = std::to_string(N), R;
  for (size_t I = 0; I < S.size(); ++I) {
    if (I && (S.size() - I) % 3 == 0)
      R += ',';
    R += S[I];
  }
  return R;
}

/// The op as priced: the kernel for a fused group's last node.
std::string pricedOp(const CostContext &Ctx, const Node &N) {
  auto It = Ctx.Fusion.GroupOf.find(&N);
  if (It != Ctx.Fusion.GroupOf.end()) {
    const FusedGroup &G = Ctx.Fusion.Groups[It->second];
    return N.qualifiedOp() + " [" + G.Kernel + ": " + G.Pattern + "]";
  }
  return N.qualifiedOp();
}

//===----------------------------------------------------------------------===//
// Summary
//===----------------------------------------------------------------------===//

class SummaryView : public View {
public:
  explicit SummaryView(const CostContext &Ctx) : Ctx(Ctx) {}

  void printText(raw_ostream &OS) const override {
    const CostResult &C = Ctx.Cost;
    printFitLine(OS);
    OS << "vram-opt: " << Ctx.M.Path << '\n';
    // Serving has no optimizer: the header does not name one.
    OS << "mode " << modeName(C.RunMode) << ", recipe " << C.Recipe;
    if (C.RunMode == Mode::Train)
      OS << ", optimizer " << C.Optimizer;
    if (!Ctx.M.DimBindings.empty()) {
      OS << ", dims";
      for (const auto &KV : Ctx.M.DimBindings)
        OS << ' ' << KV.first << '=' << KV.second;
    }
    OS << '\n';
    if (Ctx.BackwardGraph)
      OS << "backward graph (" << Ctx.GraphKindReason
         << "): priced by liveness as written, not differentiated again\n";
    printHeadline(OS);
    OS << "\nParameters: " << withCommas(C.ParamCount) << " ("
       << withCommas(C.TrainableCount) << " trainable)\n";
    OS << fmt::format("  {:<36} {:>11} {:>14}\n", "term", "bytes/param",
                      "bytes");
    double PerParam = 0;
    for (const RecipeTerm &T : C.Terms) {
      if (T.BytesPerParam == 0)
        continue;
      PerParam += T.BytesPerParam;
      bool Weights = &T == &C.Terms.front();
      uint64_t N = Weights ? C.ParamCount : C.TrainableCount;
      OS << fmt::format(
          "  {:<36} {:>11.2f} {:>14}\n", T.Name, T.BytesPerParam,
          formatBytes(static_cast<uint64_t>(T.BytesPerParam * N)));
    }
    if (C.BufferBytes)
      OS << fmt::format("  {:<36} {:>11} {:>14}\n",
                        "buffers (non-trainable, as stored)", "",
                        formatBytes(C.BufferBytes));
    OS << fmt::format(
        "  {:<36} {:>11.2f} {:>14}\n", "total", PerParam,
        formatBytes(C.Parameters + C.Gradients + C.OptimizerState));
    OS << "\nTotals\n";
    auto Row = [&](StringRef Name, uint64_t B) {
      OS << fmt::format("  {:<20} {:>14} {:>20}\n", Name.str(), formatBytes(B),
                        withCommas(B));
    };
    Row("parameters", C.Parameters);
    Row("gradients", C.Gradients);
    Row("optimizer_state", C.OptimizerState);
    Row(C.RunMode == Mode::Train ? "activations (saved)" : "activations (peak)",
        C.Activations);
    Row("overhead", C.Overhead);
    OS << "\nActivations by dtype\n";
    for (const auto &KV : C.ActivationsByDType)
      Row(KV.first, KV.second);
    if (C.RunMode == Mode::Infer && C.WorkingSetPeakNode)
      OS << "  peak at " << describeNode(*C.WorkingSetPeakNode) << '\n';
    if (!C.FormulaTotal.empty()) {
      OS << "\nFormula (bytes)\n";
      if (!C.FormulaLayer.empty())
        OS << "  per layer (" << C.FormulaLayer << "): " << C.FormulaPerLayer
           << '\n';
      OS << "  total: " << C.FormulaTotal << '\n';
    }
    if (!Ctx.Unpriced.empty() || C.UnpricedTensors)
      OS << "\nUnpriced: " << Ctx.Unpriced.size()
         << " tensors without a concrete shape, " << C.UnpricedTensors
         << " of them counted above as 0 bytes\n";
  }

  /// --gpu: "fits on GPU (SIZE): peak P at PHASE NODE, H headroom" or
  /// "does not fit ...: ..., H over".
  void printFitLine(raw_ostream &OS) const {
    const TimelineResult &R = Ctx.Timeline;
    if (!R.FitResult || R.Steps.empty())
      return;
    const TimelineResult::Fit &F = *R.FitResult;
    const TimelineStep &P = R.Steps[R.PeakStep];
    uint64_t Margin = static_cast<uint64_t>(
        F.HeadroomBytes < 0 ? -F.HeadroomBytes : F.HeadroomBytes);
    OS << (F.Fits ? "fits" : "does not fit") << " on " << F.Gpu << " ("
       << formatBytes(F.GpuBytes) << "): peak " << formatBytes(R.PeakBytes)
       << " in " << phaseName(P.Phase) << " at "
       << (P.N ? P.N->displayName() : std::string("(optimizer step)")) << ", "
       << formatBytes(Margin) << (F.Fits ? " headroom" : " over");
    if (!F.Dim.empty())
      OS << "; largest " << F.Dim << " that fits: " << F.Max;
    OS << "\n\n";
  }

  void addJSON(json::Object &Root) const override {
    const CostResult &C = Ctx.Cost;
    if (const auto &F = Ctx.Timeline.FitResult) {
      json::Object Fit{{"gpu", F->Gpu},
                       {"gpu_bytes", static_cast<int64_t>(F->GpuBytes)},
                       {"fits", F->Fits},
                       {"headroom_bytes", F->HeadroomBytes}};
      if (!F->Dim.empty()) {
        Fit["dim"] = F->Dim;
        Fit["max"] = F->Max;
      }
      Root["fit"] = std::move(Fit);
    }
    if (C.DataParallel > 1 || C.ZeroStage > 0 || C.TensorParallel > 1)
      Root["parallel"] =
          json::Object{{"tp", static_cast<int64_t>(C.TensorParallel)},
                       {"sp", C.SequenceParallel},
                       {"pp", 1},
                       {"dp", static_cast<int64_t>(C.DataParallel)},
                       {"zero", static_cast<int64_t>(C.ZeroStage)},
                       {"micro_batches", 1},
                       {"worst_rank", 0}};
    if (!C.FormulaTotal.empty())
      Root["formula"] = json::Object{{"layer", C.FormulaLayer},
                                     {"per_layer", C.FormulaPerLayer},
                                     {"total", C.FormulaTotal}};
    Root["model"] = Ctx.M.Path;
    Root["mode"] = modeName(C.RunMode);
    Root["graph_kind"] = Ctx.BackwardGraph ? "backward" : "forward";
    if (Ctx.BackwardGraph)
      Root["graph_kind_reason"] = Ctx.GraphKindReason;
    Root["recipe"] = C.Recipe;
    Root["optimizer"] = C.Optimizer;
    json::Object Dims;
    for (const auto &KV : Ctx.M.DimBindings)
      Dims[KV.first] = KV.second;
    Root["dims"] = std::move(Dims);
    Root["parameters"] =
        json::Object{{"count", static_cast<int64_t>(C.ParamCount)},
                     {"trainable", static_cast<int64_t>(C.TrainableCount)},
                     {"bytes", static_cast<int64_t>(C.ParamBytesInGraph)},
                     {"buffer_bytes", static_cast<int64_t>(C.BufferBytes)}};
    json::Array Terms;
    for (const RecipeTerm &T : C.Terms)
      Terms.push_back(json::Object{{"name", T.Name},
                                   {"category", termCategoryName(T.Category)},
                                   {"bytes_per_param", T.BytesPerParam}});
    Root["recipe_terms"] = std::move(Terms);
    Root["totals"] = json::Object{
        {"parameters", static_cast<int64_t>(C.Parameters)},
        {"gradients", static_cast<int64_t>(C.Gradients)},
        {"optimizer_state", static_cast<int64_t>(C.OptimizerState)},
        {"activations", static_cast<int64_t>(C.Activations)},
        {"overhead", static_cast<int64_t>(C.Overhead)}};
    if (C.RunMode == Mode::Train) {
      Root["loss"] = lossJSON();
      json::Object ByKind;
      for (const auto &K : kinds())
        ByKind[savedKindName(K.first)] = static_cast<int64_t>(K.second);
      Root["saved_by_kind"] = std::move(ByKind);
    }
    json::Object ByDType;
    for (const auto &KV : C.ActivationsByDType)
      ByDType[KV.first] = static_cast<int64_t>(KV.second);
    Root["activations"] = json::Object{
        {"bytes", static_cast<int64_t>(C.Activations)},
        {"by_dtype", std::move(ByDType)},
        {"unpriced_tensors", static_cast<int64_t>(Ctx.Unpriced.size())}};
  }

private:
  const CostContext &Ctx;

  /// The answer first: the peak of the step (what to compare with the
  /// GPU's memory), then the loss it includes.
  void printHeadline(raw_ostream &OS) const {
    const TimelineResult &R = Ctx.Timeline;
    if (!R.Steps.empty()) {
      const TimelineStep &P = R.Steps[R.PeakStep];
      OS << "Peak: " << formatBytes(R.PeakBytes) << " ("
         << withCommas(R.PeakBytes) << " B) in " << phaseName(P.Phase) << " at "
         << (P.N ? P.N->displayName() : std::string("(optimizer step)"))
         << '\n';
    }
    if (Ctx.Cost.RunMode != Mode::Train)
      return;
    const LossResult &L = Ctx.Loss;
    if (L.InGraph)
      OS << "Loss: in the graph (" << describeNode(*L.InGraph) << ")\n";
    else if (L.Loss)
      OS << "Loss: " << lossKindName(Ctx.Opts.Loss) << " of '" << L.Logits->Name
         << "'" << (L.Upcast ? ", upcast to f32" : "")
         << (L.Labels ? ", labels " + dtypeName(L.Labels->Ty).str() +
                            L.Labels->Sh.str()
                      : std::string())
         << '\n';
    else
      OS << "Loss: not priced (each output's gradient seeds the backward; "
            "--loss cross-entropy or mean prices one)\n";
    printKinds(OS);
  }

  /// What dominates the saved bytes: the kinds, largest first.
  std::vector<std::pair<SavedKind, uint64_t>> kinds() const {
    std::vector<std::pair<SavedKind, uint64_t>> Ks;
    for (unsigned I = 0; I < NumSavedKinds; ++I)
      if (Ctx.Cost.SavedByKind[I])
        Ks.emplace_back(static_cast<SavedKind>(I), Ctx.Cost.SavedByKind[I]);
    llvm::stable_sort(
        Ks, [](const auto &A, const auto &B) { return A.second > B.second; });
    return Ks;
  }

  void printKinds(raw_ostream &OS) const {
    const CostResult &C = Ctx.Cost;
    std::vector<std::pair<SavedKind, uint64_t>> Ks = kinds();
    if (C.RunMode != Mode::Train || Ks.empty() || !C.Activations)
      return;
    OS << "\nSaved for backward, by kind\n";
    for (const auto &K : Ks)
      OS << fmt::format("  {:<20} {:>14} {:>6.1f}%\n", savedKindName(K.first),
                        formatBytes(K.second),
                        100.0 * K.second / C.Activations);
  }

  json::Object lossJSON() const {
    const LossResult &L = Ctx.Loss;
    json::Object O{{"kind", L.InGraph ? "in-graph"
                                      : lossKindName(L.Loss ? Ctx.Opts.Loss
                                                            : LossKind::None)},
                   {"priced", L.Loss != nullptr}};
    if (L.InGraph)
      O["node"] = L.InGraph->displayName();
    if (L.Logits)
      O["output"] = L.Logits->Name;
    if (L.Loss && !L.InGraph)
      O["upcast"] = L.Upcast;
    if (L.Labels)
      O["labels"] = json::Object{{"name", L.Labels->Name},
                                 {"dtype", dtypeName(L.Labels->Ty)},
                                 {"shape", L.Labels->Sh.str()}};
    return O;
  }
};

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

class NodesView : public View {
public:
  NodesView(const CostContext &Ctx, unsigned TopNodes)
      : Ctx(Ctx), TopNodes(TopNodes) {}

  /// The dtype a tensor is priced in (the recipe's activation dtype for a
  /// wider float one, unless it keeps its own).
  DType pricedTy(const Value &V) const {
    return pricedType(V.Ty, V.FixedDType, Ctx.Cost.ActivationType);
  }

  /// Why each node's bytes are kept: "reason (by consumer)" per tensor.
  std::vector<std::string> reasons(const Node *N) const {
    std::vector<std::string> R;
    const std::vector<SavedTensor> &Saved = Ctx.Saved.Tensors;
    for (size_t I = 0; I < Saved.size(); ++I)
      if (const SavedTensor &T = Saved[I];
          T.Owner == N && Ctx.Cost.savedBytes(I))
        R.push_back(T.Name + ": " + T.Reason + " (" +
                    T.Consumer->displayName() + ")");
    return R;
  }

  void printText(raw_ostream &OS) const override {
    const CostResult &C = Ctx.Cost;
    const Graph &G = *Ctx.M.Main;
    bool Train = C.RunMode == Mode::Train;
    OS << "\nNodes (" << (Train ? "bytes kept for backward" : "bytes allocated")
       << ", topological order)\n";
    std::vector<size_t> Rows;
    for (size_t I = 0; I < G.Nodes.size(); ++I)
      if (C.NodeBytes[I])
        Rows.push_back(I);
    // Keep the TopNodes largest rows (ties: earlier first), in graph order.
    std::vector<size_t> Kept = Rows;
    if (TopNodes && Kept.size() > TopNodes) {
      std::stable_sort(Kept.begin(), Kept.end(), [&](size_t A, size_t B) {
        return C.NodeBytes[A] > C.NodeBytes[B];
      });
      Kept.resize(TopNodes);
      llvm::sort(Kept);
    }
    OS << fmt::format("  {:<32} {:<28} {:<22} {:>12} {:>12}\n", "node", "op",
                      "output", "bytes", "cumulative");
    uint64_t Cum = 0;
    if (C.InputBytes) {
      Cum += C.InputBytes;
      OS << fmt::format("  {:<32} {:<28} {:<22} {:>12} {:>12}\n",
                        "(graph inputs)", "", "", formatBytes(C.InputBytes),
                        formatBytes(Cum));
    }
    uint64_t Folded = 0;
    size_t K = 0;
    for (size_t I : Rows) {
      const Node &N = *G.Nodes[I];
      if (K < Kept.size() && Kept[K] == I) {
        ++K;
        Cum += C.NodeBytes[I];
        const Value *Out = N.output(0);
        std::string OutS;
        if (Out) {
          DType Priced = pricedTy(*Out);
          OutS = dtypeName(Priced).str() + Out->Sh.str();
          if (Priced != Out->Ty) // the graph's own dtype, where it differs
            OutS += " (" + dtypeName(Out->Ty).str() + ")";
        }
        OS << fmt::format("  {:<32} {:<28} {:<22} {:>12} {:>12}\n",
                          N.displayName(), pricedOp(Ctx, N), OutS,
                          formatBytes(C.NodeBytes[I]), formatBytes(Cum));
        if (Train)
          for (const std::string &R : reasons(&N))
            OS << "      " << R << '\n';
        continue;
      }
      Folded += C.NodeBytes[I];
    }
    if (Rows.size() > Kept.size()) {
      Cum += Folded;
      OS << fmt::format("  {:<32} {:<28} {:<22} {:>12} {:>12}\n",
                        "[" + std::to_string(Rows.size() - Kept.size()) +
                            " others]",
                        "", "", formatBytes(Folded), formatBytes(Cum));
    }
  }

  void addJSON(json::Object &Root) const override {
    const CostResult &C = Ctx.Cost;
    json::Array Nodes;
    uint64_t Cum = C.InputBytes;
    for (const auto &N : Ctx.M.Main->Nodes) {
      uint64_t B = C.NodeBytes[N->Id];
      Cum += B;
      json::Array Kept;
      const std::vector<SavedTensor> &Saved = Ctx.Saved.Tensors;
      for (size_t I = 0; I < Saved.size(); ++I) {
        const SavedTensor &T = Saved[I];
        if (T.Owner != N.get())
          continue;
        DType Priced = C.savedPricedTy(I);
        Kept.push_back(json::Object{
            {"tensor", T.Name},
            {"dtype", dtypeName(Priced == DType::Undefined ? T.Ty : Priced)},
            {"bytes", static_cast<int64_t>(C.savedBytes(I))},
            {"reason", T.Reason},
            {"consumer", T.Consumer->displayName()}});
      }
      const Value *Out = N->output(0);
      json::Object Row{{"name", N->displayName()},
                       {"op", N->qualifiedOp()},
                       {"saved_bytes", static_cast<int64_t>(B)},
                       {"cumulative_bytes", static_cast<int64_t>(Cum)},
                       {"kept", std::move(Kept)}};
      auto GIt = Ctx.Fusion.GroupOf.find(N.get());
      if (GIt != Ctx.Fusion.GroupOf.end())
        Row["fused"] = Ctx.Fusion.Groups[GIt->second].Pattern;
      if (Out) {
        Row["output_dtype"] = dtypeName(pricedTy(*Out));
        if (pricedTy(*Out) != Out->Ty)
          Row["output_graph_dtype"] = dtypeName(Out->Ty);
        json::Array Dims;
        for (int64_t D : Out->Sh.dims())
          Dims.push_back(D);
        Row["output_shape"] = std::move(Dims);
      }
      Nodes.push_back(std::move(Row));
    }
    Root["nodes"] = std::move(Nodes);
  }

  void printCSV(raw_ostream &OS) const override {
    const CostResult &C = Ctx.Cost;
    OS << "node,op,output_dtype,output_shape,saved_bytes,cumulative_bytes\n";
    uint64_t Cum = C.InputBytes;
    if (C.InputBytes)
      OS << "(graph inputs),,,," << C.InputBytes << ',' << Cum << '\n';
    for (const auto &N : Ctx.M.Main->Nodes) {
      uint64_t B = C.NodeBytes[N->Id];
      Cum += B;
      const Value *Out = N->output(0);
      std::string Name = N->displayName();
      if (StringRef(Name).find_first_of(",\"") != StringRef::npos) {
        std::string Q = "\"";
        for (char Ch : Name)
          Q += Ch == '"' ? std::string("\"\"") : std::string(1, Ch);
        Name = Q + "\"";
      }
      OS << Name << ',' << N->qualifiedOp() << ','
         << (Out ? dtypeName(pricedTy(*Out)) : "") << ",\""
         << (Out ? Out->Sh.str() : "") << "\"," << B << ',' << Cum << '\n';
    }
  }

private:
  const CostContext &Ctx;
  unsigned TopNodes;
};

//===----------------------------------------------------------------------===//
// Layers
//===----------------------------------------------------------------------===//

class LayersView : public View {
public:
  explicit LayersView(const CostContext &Ctx) : Ctx(Ctx) {}

  void printText(raw_ostream &OS) const override {
    OS << "\nLayers\n";
    OS << fmt::format("  {:<24} {:>6} {:>14} {:>20}\n", "layer", "nodes",
                      "bytes", "");
    for (const CostResult::Layer &L : Ctx.Cost.Layers)
      OS << fmt::format("  {:<24} {:>6} {:>14} {:>20}\n", L.Name, L.Nodes,
                        formatBytes(L.Bytes), withCommas(L.Bytes));
  }

  void addJSON(json::Object &Root) const override {
    json::Array Layers;
    for (const CostResult::Layer &L : Ctx.Cost.Layers)
      Layers.push_back(json::Object{{"name", L.Name},
                                    {"nodes", static_cast<int64_t>(L.Nodes)},
                                    {"bytes", static_cast<int64_t>(L.Bytes)}});
    Root["layers"] = std::move(Layers);
  }

private:
  const CostContext &Ctx;
};

//===----------------------------------------------------------------------===//
// Timeline
//===----------------------------------------------------------------------===//

class TimelineView : public View {
public:
  explicit TimelineView(const CostContext &Ctx) : Ctx(Ctx) {}

  static std::string stepName(const TimelineStep &S) {
    return S.N ? S.N->displayName() : std::string("(optimizer step)");
  }

  void printText(raw_ostream &OS) const override {
    const TimelineResult &R = Ctx.Timeline;
    if (R.Steps.empty())
      return;
    const TimelineStep &P = R.Steps[R.PeakStep];
    OS << "\nPeak: " << formatBytes(R.PeakBytes) << " ("
       << withCommas(R.PeakBytes) << " B) in " << phaseName(P.Phase) << " at "
       << stepName(P) << '\n';
    for (unsigned C = 0; C < NumLiveCats; ++C)
      if (P.Live[C])
        OS << fmt::format("  {:<22} {:>14}\n",
                          liveCatName(static_cast<LiveCat>(C)),
                          formatBytes(P.Live[C]));
    if (R.KVCacheBytes || R.KVPresentBytes)
      OS << "  (KV cache: " << formatBytes(R.KVCacheBytes) << " in, "
         << formatBytes(R.KVPresentBytes) << " out)\n";
    if (R.Steps.size() < 2)
      return;
    // A compact chart: the steps in up to 24 buckets, each drawn at its
    // largest value above the persistent parameter side (parameters,
    // optimizer state, overhead), scaled to the largest such value.
    auto above = [](const TimelineStep &S) {
      return S.total() - S.Live[unsigned(LiveCat::Parameters)] -
             S.Live[unsigned(LiveCat::OptimizerState)] -
             S.Live[unsigned(LiveCat::Overhead)];
    };
    size_t N = R.Steps.size(), Rows = std::min<size_t>(24, N);
    uint64_t Max = 1;
    for (const TimelineStep &S : R.Steps)
      Max = std::max(Max, above(S));
    OS << "\nTimeline (bytes above parameters, optimizer state and overhead; "
          "total on the right)\n";
    const unsigned Width = 40;
    for (size_t Row = 0; Row < Rows; ++Row) {
      size_t Begin = Row * N / Rows, End = (Row + 1) * N / Rows;
      size_t Best = Begin;
      for (size_t I = Begin; I < End; ++I)
        if (above(R.Steps[I]) > above(R.Steps[Best]))
          Best = I;
      const TimelineStep &S = R.Steps[Best];
      std::string Bar(static_cast<size_t>(above(S) * Width / Max), '#');
      std::string Label =
          std::string(phaseName(S.Phase)).substr(0, 3) + " " + stepName(S);
      if (Label.size() > 28)
        Label = Label.substr(0, 27) + "~";
      bool HasPeak = R.PeakStep >= Begin && R.PeakStep < End;
      OS << fmt::format("  {:<28} {:<40} {:>12} {:>14}{}\n", Label, Bar,
                        formatBytes(above(S)), formatBytes(S.total()),
                        HasPeak ? "  <- peak" : "");
    }
  }

  void addJSON(json::Object &Root) const override {
    const TimelineResult &R = Ctx.Timeline;
    if (R.Steps.empty())
      return;
    const TimelineStep &P = R.Steps[R.PeakStep];
    json::Object ByCat;
    for (unsigned C = 0; C < NumLiveCats; ++C)
      ByCat[liveCatName(static_cast<LiveCat>(C))] =
          static_cast<int64_t>(P.Live[C]);
    Root["peak"] = json::Object{
        {"bytes", static_cast<int64_t>(R.PeakBytes)},
        {"node", stepName(P)},
        {"phase", phaseName(P.Phase)},
        {"by_category", std::move(ByCat)},
        {"forward_above_parameters",
         static_cast<int64_t>(R.ForwardPeakAboveParams)},
        {"backward_above_parameters",
         static_cast<int64_t>(R.BackwardPeakAboveParams)},
        {"kv_cache", static_cast<int64_t>(R.KVCacheBytes)},
        {"kv_cache_present", static_cast<int64_t>(R.KVPresentBytes)}};
  }

private:
  const CostContext &Ctx;
};

} // namespace

void writeTrace(const CostContext &Ctx, raw_ostream &OS) {
  // Chrome Trace Event format: one complete ("X") event per step on a
  // "steps" track and one counter ("C") event per step with the live bytes
  // by category; timestamps are step numbers (one microsecond each).
  json::Array Events;
  Events.push_back(json::Object{{"name", "process_name"},
                                {"ph", "M"},
                                {"pid", 1},
                                {"tid", 1},
                                {"args", json::Object{{"name", "vram-opt"}}}});
  const TimelineResult &R = Ctx.Timeline;
  for (size_t I = 0; I < R.Steps.size(); ++I) {
    const TimelineStep &S = R.Steps[I];
    json::Object Args;
    for (unsigned C = 0; C < NumLiveCats; ++C)
      Args[liveCatName(static_cast<LiveCat>(C))] =
          static_cast<int64_t>(S.Live[C]);
    Events.push_back(json::Object{
        {"name", TimelineView::stepName(S)},
        {"cat", phaseName(S.Phase)},
        {"ph", "X"},
        {"ts", static_cast<int64_t>(I)},
        {"dur", 1},
        {"pid", 1},
        {"tid", 1},
        {"args",
         json::Object{
             {"op", S.N ? S.N->qualifiedOp() : std::string("optimizer")},
             {"live_bytes", static_cast<int64_t>(S.total())}}}});
    Events.push_back(json::Object{{"name", "memory"},
                                  {"ph", "C"},
                                  {"ts", static_cast<int64_t>(I)},
                                  {"pid", 1},
                                  {"tid", 1},
                                  {"args", std::move(Args)}});
  }
  json::Object Root{
      {"traceEvents", std::move(Events)},
      {"displayTimeUnit", "ms"},
      {"otherData", json::Object{{"model", Ctx.M.Path},
                                 {"mode", modeName(Ctx.Cost.RunMode)},
                                 {"recipe", Ctx.Cost.Recipe}}}};
  OS << formatv("{0:2}", json::Value(std::move(Root))) << '\n';
}

std::unique_ptr<View> createSummaryView(const CostContext &Ctx) {
  return std::make_unique<SummaryView>(Ctx);
}
std::unique_ptr<View> createNodesView(const CostContext &Ctx,
                                      unsigned TopNodes) {
  return std::make_unique<NodesView>(Ctx, TopNodes);
}
std::unique_ptr<View> createLayersView(const CostContext &Ctx) {
  return std::make_unique<LayersView>(Ctx);
}
std::unique_ptr<View> createTimelineView(const CostContext &Ctx) {
  return std::make_unique<TimelineView>(Ctx);
}

SweepPoint makeSweepPoint(const CostContext &Ctx) {
  SweepPoint P;
  for (const auto &KV : Ctx.M.DimBindings)
    P.Dims.emplace_back(KV.first, KV.second);
  P.Cost = Ctx.Cost;
  P.Cost.NodeBytes.clear();
  P.PeakBytes = Ctx.Timeline.PeakBytes;
  if (!Ctx.Timeline.Steps.empty())
    P.PeakPhase = phaseName(Ctx.Timeline.Steps[Ctx.Timeline.PeakStep].Phase);
  createSummaryView(Ctx)->addJSON(P.JSON);
  createTimelineView(Ctx)->addJSON(P.JSON);
  return P;
}

void printSweep(ArrayRef<SweepPoint> Points, OutputFormat Format,
                raw_ostream &OS) {
  if (Points.empty())
    return;
  if (Format == OutputFormat::JSON) {
    json::Array Rows;
    for (const SweepPoint &P : Points)
      Rows.push_back(json::Object(P.JSON));
    json::Object Root{{"sweep", std::move(Rows)}};
    OS << formatv("{0:2}", json::Value(std::move(Root))) << '\n';
    return;
  }
  const CostResult &C0 = Points.front().Cost;
  bool CSV = Format == OutputFormat::CSV;
  if (!CSV)
    OS << "mode " << modeName(C0.RunMode) << ", recipe " << C0.Recipe
       << (C0.RunMode == Mode::Train ? ", optimizer " + C0.Optimizer
                                     : std::string())
       << "; " << Points.size() << " bindings\n\n";
  // Header: the dims, then the totals.
  std::vector<std::string> Cols;
  for (const auto &D : Points.front().Dims)
    Cols.push_back(D.first);
  for (const char *T : {"parameters", "gradients", "optimizer_state",
                        "activations", "peak", "peak_phase"})
    Cols.push_back(T);
  auto emit = [&](const std::vector<std::string> &Cells) {
    for (size_t I = 0; I < Cells.size(); ++I) {
      if (CSV)
        OS << (I ? "," : "") << Cells[I];
      else
        OS << fmt::format(I < Points.front().Dims.size() ? "{:>8} " : "{:>14} ",
                          Cells[I]);
    }
    OS << '\n';
  };
  emit(Cols);
  for (const SweepPoint &P : Points) {
    std::vector<std::string> Cells;
    for (const auto &D : P.Dims)
      Cells.push_back(std::to_string(D.second));
    const CostResult &C = P.Cost;
    for (uint64_t B : {C.Parameters, C.Gradients, C.OptimizerState,
                       C.Activations, P.PeakBytes})
      Cells.push_back(CSV ? std::to_string(B) : formatBytes(B));
    Cells.push_back(P.PeakPhase);
    emit(Cells);
  }
}

void printReport(const CostContext &Ctx, const ReportOptions &Opts,
                 raw_ostream &OS) {
  std::vector<std::unique_ptr<View>> Views;
  if (Opts.Summary)
    Views.push_back(createSummaryView(Ctx));
  if (Opts.Nodes)
    Views.push_back(createNodesView(Ctx, Opts.TopNodes));
  if (Opts.Layers)
    Views.push_back(createLayersView(Ctx));
  if (Opts.Timeline)
    Views.push_back(createTimelineView(Ctx));
  switch (Opts.Format) {
  case OutputFormat::Text:
    for (const auto &V : Views)
      V->printText(OS);
    return;
  case OutputFormat::JSON: {
    // json::Object keeps its keys sorted, so the output is deterministic.
    json::Object Root;
    for (const auto &V : Views)
      V->addJSON(Root);
    OS << formatv("{0:2}", json::Value(std::move(Root))) << '\n';
    return;
  }
  case OutputFormat::CSV:
    for (const auto &V : Views)
      V->printCSV(OS);
    return;
  }
}

} // namespace vram

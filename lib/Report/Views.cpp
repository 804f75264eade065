//===- Views.cpp - Report sections ----------------------------------------===//

#include "vram/Report/Views.h"
#include "vram/Cost/Liveness.h"
#include "vram/Report/Table.h"

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

/// The op as priced: the kernel for a fused group's last node; then
/// shorter spellings for a narrow column (the kernel without its pattern,
/// the op without its domain).
std::vector<std::string> pricedOp(const CostContext &Ctx, const Node &N) {
  std::vector<std::string> Alts;
  auto It = Ctx.Fusion.GroupOf.find(&N);
  if (It != Ctx.Fusion.GroupOf.end()) {
    const FusedGroup &G = Ctx.Fusion.Groups[It->second];
    Alts.push_back(N.qualifiedOp() + " [" + G.Kernel + ": " + G.Pattern + "]");
    Alts.push_back(N.qualifiedOp() + " [" + G.Kernel + "]");
    if (!N.Domain.empty())
      Alts.push_back(N.OpType + " [" + G.Kernel + "]");
    return Alts;
  }
  Alts.push_back(N.qualifiedOp());
  if (!N.Domain.empty())
    Alts.push_back(N.OpType);
  return Alts;
}

LinePiece text(std::string S) { return {std::move(S), false}; }
LinePiece name(std::string S) { return {std::move(S), true}; }

std::string stepName(const TimelineStep &S) {
  return S.N ? S.N->displayName() : std::string("(optimizer step)");
}

/// "Peak: 1.17 GiB (1,256,000,000 B) in backward at NODE", wrapped.
std::string peakLine(const CostContext &Ctx, unsigned Width) {
  const TimelineResult &R = Ctx.Timeline;
  const TimelineStep &P = R.Steps[R.PeakStep];
  return wrapText("Peak: " + formatBytes(R.PeakBytes) + " (" +
                      withCommas(R.PeakBytes) + " B) in " + phaseName(P.Phase) +
                      " at " + stepName(P),
                  Width, 2);
}

//===----------------------------------------------------------------------===//
// Summary
//===----------------------------------------------------------------------===//

class SummaryView : public View {
public:
  explicit SummaryView(const CostContext &Ctx) : Ctx(Ctx) {}

  void printText(raw_ostream &OS) const override {
    const CostResult &C = Ctx.Cost;
    const unsigned Width = reportWidth();
    printFitLine(OS);
    OS << wrapText("vram-opt: " + Ctx.M.Path, Width, 2) << '\n';
    // Serving has no optimizer: the header does not name one. A graph that
    // holds its own backward is one step as written, whatever the mode.
    std::string Mode = Ctx.BackwardGraph
                           ? std::string("mode as written (a training step "
                                         "whose backward is in the graph)")
                           : "mode " + std::string(modeName(C.RunMode));
    if (C.RunMode == Mode::Train)
      Mode += ", recipe " + C.Recipe + ", optimizer " + C.Optimizer;
    else
      Mode += ", weights " + C.Terms.front().Name.substr(8) + ", activations " +
              (C.ActivationType == DType::Undefined
                   ? std::string("(as stored)")
                   : "(" + dtypeName(C.ActivationType).str() + ")") +
              ", kv cache " +
              (C.KVFormat ? "(" + std::string(C.KVFormat->Name) + ")"
                          : std::string("(as stored)"));
    if (!Ctx.M.DimBindings.empty()) {
      Mode += ", dims";
      for (const auto &KV : Ctx.M.DimBindings)
        Mode += " " + KV.first + "=" + std::to_string(KV.second);
    }
    OS << wrapText(Mode, Width, 2) << '\n';
    if (Ctx.BackwardGraph)
      OS << wrapText("backward graph (" + Ctx.GraphKindReason +
                         "): priced by liveness as written, not "
                         "differentiated again",
                     Width, 2)
         << '\n';
    printHeadline(OS);
    OS << "\nParameters: " << withCommas(C.ParamCount) << " ("
       << withCommas(C.TrainableCount) << " trainable)\n";
    TextTable Terms;
    Terms.column("term", TextTable::Kind::Name, 20)
        .column("bytes/param", TextTable::Kind::Number)
        .column("bytes", TextTable::Kind::Bytes);
    double PerParam = 0;
    for (const RecipeTerm &T : C.Terms) {
      if (T.BytesPerParam == 0)
        continue;
      PerParam += T.BytesPerParam;
      Terms.row({T.Name, fmt::format("{:.2f}", T.BytesPerParam),
                 TextTable::Cell::bytes(T.Bytes)});
    }
    if (C.BufferBytes)
      Terms.row({"buffers (non-trainable, as stored)", TextTable::Cell(),
                 TextTable::Cell::bytes(C.BufferBytes)});
    // Per parameter, the terms add up only when every one applies to every
    // parameter: all of them trainable, none in a storage format.
    bool Uniform = C.TrainableCount == C.ParamCount && !C.WeightFormat;
    Terms.row({"total",
               Uniform || C.RunMode != Mode::Train
                   ? TextTable::Cell(fmt::format("{:.2f}", PerParam))
                   : TextTable::Cell(),
               TextTable::Cell::bytes(C.Parameters + C.Gradients +
                                      C.OptimizerState)});
    Terms.print(OS, Width);
    // Each table: the name, the size in one unit, the exact bytes.
    auto sizes = [](StringRef Heading) {
      TextTable T;
      T.column(Heading, TextTable::Kind::Name, 20)
          .column("size", TextTable::Kind::Bytes)
          .column("bytes", TextTable::Kind::Number);
      return T;
    };
    auto Row = [](TextTable &T, StringRef Name, uint64_t B) {
      T.row({Name.str(), TextTable::Cell::bytes(B), withCommas(B)});
    };
    OS << "\nTotals\n";
    TextTable Totals = sizes("category");
    // Serving has no gradients or optimizer state, and its activations are
    // the forward working set at its peak.
    bool Train = C.RunMode == Mode::Train;
    Row(Totals, Train ? "parameters" : "weights", C.Parameters);
    if (Train) {
      Row(Totals, "gradients", C.Gradients);
      Row(Totals, "optimizer_state", C.OptimizerState);
    }
    Row(Totals, Train ? "activations (saved)" : "working set (peak)",
        C.Activations);
    Row(Totals, "overhead", C.Overhead);
    Totals.print(OS, Width);
    OS << (Train ? "\nActivations by dtype\n"
                 : "\nWorking set at its peak, by dtype\n");
    TextTable ByDType = sizes("dtype");
    for (const auto &KV : C.ActivationsByDType)
      Row(ByDType, KV.first, KV.second);
    ByDType.print(OS, Width);
    if (C.RunMode == Mode::Infer && C.WorkingSetPeakNode)
      OS << wrapText("  peak at " + describeNode(*C.WorkingSetPeakNode), Width,
                     4)
         << '\n';
    if (!C.FormulaTotal.empty()) {
      OS << "\nFormula (bytes)\n";
      if (!C.FormulaLayer.empty())
        OS << wrapText("  per layer (" + C.FormulaLayer +
                           "): " + C.FormulaPerLayer,
                       Width, 4)
           << '\n';
      OS << wrapText("  total: " + C.FormulaTotal, Width, 4) << '\n';
    }
    if (!Ctx.Unpriced.empty() || C.UnpricedTensors)
      OS << '\n'
         << wrapText("Unpriced: " + std::to_string(Ctx.Unpriced.size()) +
                         " tensors without a concrete shape, " +
                         std::to_string(C.UnpricedTensors) +
                         " of them counted above as 0 bytes",
                     Width, 2)
         << '\n';
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
    std::string Tail =
        ", " + formatBytes(Margin) + (F.Fits ? " headroom" : " over");
    if (!F.Dim.empty())
      Tail += "; largest " + F.Dim + " that fits: " + std::to_string(F.Max);
    if (!F.Dim.empty() && F.ModelLimit)
      Tail +=
          " (the model allows at most " + std::to_string(*F.ModelLimit) + ")";
    std::string Line = std::string(F.Fits ? "fits" : "does not fit") + " on " +
                       F.Gpu + " (" + formatBytes(F.GpuBytes) + "): peak " +
                       formatBytes(R.PeakBytes) + " in " + phaseName(P.Phase) +
                       " at " + stepName(P) + Tail;
    OS << wrapText(Line, reportWidth(), 2) << "\n\n";
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
        if (F->ModelLimit)
          Fit["model_limit"] = *F->ModelLimit;
      }
      Root["fit"] = std::move(Fit);
    }
    if (C.DataParallel > 1 || C.ZeroStage > 0 || C.TensorParallel > 1 ||
        C.PipelineParallel > 1)
      Root["parallel"] =
          json::Object{{"tp", static_cast<int64_t>(C.TensorParallel)},
                       {"sp", C.SequenceParallel},
                       {"pp", static_cast<int64_t>(C.PipelineParallel)},
                       {"dp", static_cast<int64_t>(C.DataParallel)},
                       {"zero", static_cast<int64_t>(C.ZeroStage)},
                       {"micro_batches", static_cast<int64_t>(C.MicroBatches)},
                       {"worst_rank", static_cast<int64_t>(C.worstRank())},
                       {"worst_stage", static_cast<int64_t>(C.WorstStage)}};
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
                                   {"bytes_per_param", T.BytesPerParam},
                                   {"bytes", static_cast<int64_t>(T.Bytes)}});
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
    const unsigned Width = reportWidth();
    if (!R.Steps.empty())
      OS << peakLine(Ctx, Width) << '\n';
    if (Ctx.Cost.RunMode != Mode::Train)
      return;
    const LossResult &L = Ctx.Loss;
    if (L.InGraph)
      OS << wrapText("Loss: in the graph (" + describeNode(*L.InGraph) + ")",
                     Width, 2)
         << '\n';
    else if (L.Loss)
      OS << wrapText(
                "Loss: " + std::string(lossKindName(Ctx.Opts.Loss)) + " of '" +
                    L.Logits->Name + "'" + (L.Upcast ? ", upcast to f32" : "") +
                    (L.Labels ? ", labels " + dtypeName(L.Labels->Ty).str() +
                                    L.Labels->Sh.str()
                              : std::string()),
                Width, 2)
         << '\n';
    else
      OS << wrapText("Loss: not priced (each output's gradient seeds the "
                     "backward; --loss cross-entropy or mean prices one)",
                     Width, 2)
         << '\n';
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
    TextTable T;
    T.column("kind", TextTable::Kind::Name, 20)
        .column("bytes", TextTable::Kind::Bytes)
        .column("share", TextTable::Kind::Number);
    for (const auto &K : Ks)
      T.row({std::string(savedKindName(K.first)),
             TextTable::Cell::bytes(K.second),
             fmt::format("{:.1f}%", 100.0 * K.second / C.Activations)});
    T.print(OS, reportWidth());
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

  /// Why each node's bytes are kept: "TENSOR: REASON (CONSUMER)" per
  /// tensor, the names shortened first when the line is too long.
  std::vector<std::vector<LinePiece>> reasons(const Node *N) const {
    std::vector<std::vector<LinePiece>> R;
    const std::vector<SavedTensor> &Saved = Ctx.Saved.Tensors;
    for (size_t I = 0; I < Saved.size(); ++I)
      if (const SavedTensor &T = Saved[I];
          T.Owner == N && Ctx.Cost.savedBytes(I))
        R.push_back({name(T.Name), text(": " + T.Reason + " ("),
                     name(T.Consumer->displayName()), text(")")});
    return R;
  }

  /// The output as priced, then shorter spellings: without the graph's own
  /// dtype, then without the spaces of the shape.
  std::vector<std::string> outputCell(const Value *Out) const {
    if (!Out)
      return {""};
    DType Priced = pricedTy(*Out);
    std::string Shape = Out->Sh.str(), Tight;
    for (char Ch : Shape)
      if (Ch != ' ')
        Tight += Ch;
    std::string S = dtypeName(Priced).str() + Shape;
    std::vector<std::string> Alts;
    if (Priced != Out->Ty) // the graph's own dtype, where it differs
      Alts.push_back(S + " (" + dtypeName(Out->Ty).str() + ")");
    Alts.push_back(S);
    Alts.push_back(dtypeName(Priced).str() + Tight);
    return Alts;
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
    TextTable T;
    T.column("node", TextTable::Kind::Name, 20)
        .column("op", TextTable::Kind::Text, 12)
        .column("output", TextTable::Kind::Text, 12)
        .column("bytes", TextTable::Kind::Bytes)
        .column("cumulative", TextTable::Kind::Bytes);
    using Cell = TextTable::Cell;
    uint64_t Cum = 0;
    if (C.InputBytes) {
      Cum += C.InputBytes;
      T.row({"(graph inputs)", Cell(), Cell(), Cell::bytes(C.InputBytes),
             Cell::bytes(Cum)});
    }
    uint64_t Folded = 0;
    size_t K = 0;
    for (size_t I : Rows) {
      const Node &N = *G.Nodes[I];
      if (K < Kept.size() && Kept[K] == I) {
        ++K;
        Cum += C.NodeBytes[I];
        T.row({N.displayName(), pricedOp(Ctx, N), outputCell(N.output(0)),
               Cell::bytes(C.NodeBytes[I]), Cell::bytes(Cum)});
        if (Train)
          for (std::vector<LinePiece> &R : reasons(&N))
            T.note(std::move(R));
        continue;
      }
      Folded += C.NodeBytes[I];
    }
    if (Rows.size() > Kept.size()) {
      Cum += Folded;
      T.row({"[" + std::to_string(Rows.size() - Kept.size()) + " others]",
             Cell(), Cell(), Cell::bytes(Folded), Cell::bytes(Cum)});
    }
    T.print(OS, reportWidth());
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
    // Serving allocates; training keeps for backward.
    OS << "node,op,output_dtype,output_shape,"
       << (C.RunMode == Mode::Train ? "saved_bytes" : "allocated_bytes")
       << ",cumulative_bytes\n";
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
    TextTable T;
    T.column("layer", TextTable::Kind::Name, 20)
        .column("nodes", TextTable::Kind::Number)
        .column("size", TextTable::Kind::Bytes)
        .column("bytes", TextTable::Kind::Number);
    for (const CostResult::Layer &L : Ctx.Cost.Layers)
      T.row({L.Name, std::to_string(L.Nodes), TextTable::Cell::bytes(L.Bytes),
             withCommas(L.Bytes)});
    T.print(OS, reportWidth());
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

  void printText(raw_ostream &OS) const override {
    const TimelineResult &R = Ctx.Timeline;
    if (R.Steps.empty())
      return;
    const TimelineStep &P = R.Steps[R.PeakStep];
    const unsigned Width = reportWidth();
    OS << '\n' << peakLine(Ctx, Width) << '\n';
    TextTable Cats;
    Cats.column("category", TextTable::Kind::Name, 20)
        .column("bytes", TextTable::Kind::Bytes);
    for (unsigned C = 0; C < NumLiveCats; ++C)
      if (P.Live[C])
        Cats.row({liveCatName(static_cast<LiveCat>(C)),
                  TextTable::Cell::bytes(P.Live[C])});
    Cats.print(OS, Width);
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
    OS << '\n'
       << wrapText(Ctx.Cost.RunMode == Mode::Train
                       ? "Timeline (chart and above: bytes above parameters, "
                         "optimizer state, overhead)"
                       : "Timeline (chart and above: bytes above the weights "
                         "and overhead)",
                   Width, 2)
       << '\n';
    TextTable T;
    T.column("phase", TextTable::Kind::Text)
        .column("node", TextTable::Kind::Name, 16)
        .column("chart", TextTable::Kind::Bar)
        .column("above", TextTable::Kind::Bytes)
        .column("total", TextTable::Kind::Bytes)
        .column("peak", TextTable::Kind::Text);
    for (size_t Row = 0; Row < Rows; ++Row) {
      size_t Begin = Row * N / Rows, End = (Row + 1) * N / Rows;
      size_t Best = Begin;
      for (size_t I = Begin; I < End; ++I)
        if (above(R.Steps[I]) > above(R.Steps[Best]))
          Best = I;
      const TimelineStep &S = R.Steps[Best];
      bool HasPeak = R.PeakStep >= Begin && R.PeakStep < End;
      T.row({phaseName(S.Phase), stepName(S),
             TextTable::Cell::bar(static_cast<double>(above(S)) / Max),
             TextTable::Cell::bytes(above(S)),
             TextTable::Cell::bytes(S.total()),
             HasPeak ? TextTable::Cell("<- peak") : TextTable::Cell()});
    }
    T.print(OS, Width);
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
        {"name", stepName(S)},
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
    for (const SweepPoint &P : Points) {
      json::Object Row(P.JSON);
      if (!P.Options.empty()) {
        json::Object Opts;
        for (const auto &O : P.Options) {
          int64_t N; // numbers as numbers: "tp": 2
          Opts[O.first] = StringRef(O.second).getAsInteger(10, N)
                              ? json::Value(O.second)
                              : json::Value(N);
        }
        Row["options"] = std::move(Opts);
      }
      Rows.push_back(std::move(Row));
    }
    json::Object Root{{"sweep", std::move(Rows)}};
    OS << formatv("{0:2}", json::Value(std::move(Root))) << '\n';
    return;
  }
  const CostResult &C0 = Points.front().Cost;
  static const char *const Totals[] = {
      "parameters", "gradients", "optimizer_state", "activations", "peak"};
  auto bytesOf = [](const SweepPoint &P) {
    const CostResult &C = P.Cost;
    return std::vector<uint64_t>{C.Parameters, C.Gradients, C.OptimizerState,
                                 C.Activations, P.PeakBytes};
  };
  if (Format == OutputFormat::CSV) {
    // Header: the dims, the what-if options swept, then the totals.
    std::vector<std::string> Cols;
    for (const auto &D : Points.front().Dims)
      Cols.push_back(D.first);
    for (const auto &O : Points.front().Options)
      Cols.push_back(O.first);
    for (const char *T : Totals)
      Cols.push_back(T);
    Cols.push_back("peak_phase");
    OS << join(Cols, ",") << '\n';
    for (const SweepPoint &P : Points) {
      std::vector<std::string> Cells;
      for (const auto &D : P.Dims)
        Cells.push_back(std::to_string(D.second));
      for (const auto &O : P.Options)
        Cells.push_back(O.second);
      for (uint64_t B : bytesOf(P))
        Cells.push_back(std::to_string(B));
      Cells.push_back(P.PeakPhase);
      OS << join(Cells, ",") << '\n';
    }
    return;
  }
  const unsigned Width = reportWidth();
  OS << wrapText(
            "mode " + std::string(modeName(C0.RunMode)) +
                (C0.RunMode == Mode::Train
                     ? ", recipe " + C0.Recipe + ", optimizer " + C0.Optimizer
                     : std::string()) +
                "; " + std::to_string(Points.size()) +
                (Points.front().Options.empty() ? " bindings" : " runs"),
            Width, 2)
     << "\n\n";
  TextTable T;
  for (const auto &D : Points.front().Dims)
    T.column(D.first, TextTable::Kind::Number, 6);
  for (const auto &O : Points.front().Options)
    T.column(O.first, TextTable::Kind::Text);
  // Shorter headings than CSV's keys: the optimizer's column is its state.
  for (const char *Name :
       {"parameters", "gradients", "optimizer", "activations", "peak"})
    T.column(Name, TextTable::Kind::Bytes);
  T.column("phase", TextTable::Kind::Text);
  for (const SweepPoint &P : Points) {
    std::vector<TextTable::Cell> Cells;
    for (const auto &D : P.Dims)
      Cells.push_back(std::to_string(D.second));
    for (const auto &O : P.Options)
      Cells.push_back(O.second);
    for (uint64_t B : bytesOf(P))
      Cells.push_back(TextTable::Cell::bytes(B));
    Cells.push_back(P.PeakPhase);
    T.row(std::move(Cells));
  }
  T.print(OS, Width, 0);
  // The answer across the rows (serving's phases: the larger of prefill
  // and decode); the first row on a tie.
  if (Points.size() < 2)
    return;
  const SweepPoint *Max = &Points.front();
  for (const SweepPoint &P : Points)
    if (P.PeakBytes > Max->PeakBytes)
      Max = &P;
  std::string At;
  for (const auto &D : Max->Dims)
    At += " " + D.first + "=" + std::to_string(D.second);
  for (const auto &O : Max->Options)
    At += " " + O.first + "=" + O.second;
  OS << '\n'
     << wrapText("Largest peak: " + formatBytes(Max->PeakBytes) + " at" + At,
                 Width, 2)
     << '\n';
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
  if (Ctx.Cost.Stages.size() > 1)
    Views.push_back(createStagesView(Ctx));
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

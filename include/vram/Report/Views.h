//===- Views.h - Report sections --------------------------------*- C++ -*-===//
//
// Each view renders one section of the report from the analyses' results,
// as text and as JSON (and CSV where it is a table). The driver adds views
// in a fixed order. Views compute nothing of their own.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_REPORT_VIEWS_H
#define VRAM_REPORT_VIEWS_H

#include "vram/Cost/Cost.h"

#include "llvm/Support/JSON.h"

#include <memory>
#include <vector>

namespace vram {

enum class OutputFormat { Text, JSON, CSV };

class View {
public:
  virtual ~View() = default;
  /// The JSON key(s) this view fills and its text heading.
  virtual void printText(llvm::raw_ostream &OS) const = 0;
  virtual void addJSON(llvm::json::Object &Root) const = 0;
  /// Views that are tables print CSV; others print nothing.
  virtual void printCSV(llvm::raw_ostream &OS) const {}
};

struct ReportOptions {
  OutputFormat Format = OutputFormat::Text;
  /// Text: rows of the per-node table (largest first kept, shown in
  /// topological order, the rest folded into one line); 0 = all.
  unsigned TopNodes = 25;
  bool Summary = true;
  bool Nodes = true;
  bool Layers = true;
  bool Timeline = true;
};

std::unique_ptr<View> createSummaryView(const CostContext &Ctx);
std::unique_ptr<View> createNodesView(const CostContext &Ctx,
                                      unsigned TopNodes);
std::unique_ptr<View> createLayersView(const CostContext &Ctx);
std::unique_ptr<View> createTimelineView(const CostContext &Ctx);
/// --pp: the pipeline stages (lib/Report/PipelineView.cpp).
std::unique_ptr<View> createStagesView(const CostContext &Ctx);

/// The timeline in Chrome Trace Event format (opens in Perfetto and
/// chrome://tracing).
void writeTrace(const CostContext &Ctx, llvm::raw_ostream &OS);

/// The report as one self-contained HTML page (lib/Report/HtmlView.cpp):
/// the JSON report's figures embedded, drawn by an inline script (the
/// timeline stacked by category with the peak marked, the breakdowns, the
/// per-node table sortable); nothing loaded from the network.
void writeHtml(const CostContext &Ctx, llvm::raw_ostream &OS);

/// Renders the views the options select, in a fixed order.
void printReport(const CostContext &Ctx, const ReportOptions &Opts,
                 llvm::raw_ostream &OS);

/// One binding of a sweep (--dim NAME=V1,V2,...): its totals and peak, and
/// the summary and timeline views' JSON.
struct SweepPoint {
  std::vector<std::pair<std::string, int64_t>> Dims;
  /// The what-if options swept (option, value), as columns.
  std::vector<std::pair<std::string, std::string>> Options;
  CostResult Cost;
  uint64_t PeakBytes = 0;
  std::string PeakPhase;
  llvm::json::Object JSON;
};
SweepPoint makeSweepPoint(const CostContext &Ctx);
/// One row per binding (text, CSV), or {"model", "sweep": [...]} (JSON).
void printSweep(llvm::ArrayRef<SweepPoint> Points, OutputFormat Format,
                llvm::raw_ostream &OS);

/// One side of --diff: its model and its run.
struct DiffSide {
  std::string Model;
  SweepPoint Run;
};
/// Two runs side by side, by category and by layer, with deltas (B - A):
/// text under 80 columns, or JSON {"a", "b", "categories", "layers"}
/// (lib/Report/DiffView.cpp).
void printDiff(const DiffSide &A, const DiffSide &B, OutputFormat Format,
               llvm::raw_ostream &OS);

/// "1.50 MiB", "512 B": binary units, two decimals.
std::string formatBytes(uint64_t Bytes);

} // namespace vram

#endif // VRAM_REPORT_VIEWS_H

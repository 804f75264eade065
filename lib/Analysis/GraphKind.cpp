//===- GraphKind.cpp - Is the graph a forward or already its backward? ----===//
//
// A graph that already holds its backward (torch dynamo/aot and DORT
// backward graphs, onnxruntime training graphs) is priced by liveness as
// written: it is not differentiated a second time. The rule (automatic,
// AnalysisOptions::Kind == GraphKind::Auto), in this order:
//  - a graph input named tangents_<n> (torch aot/dynamo: the gradients of
//    the forward's outputs), or
//  - a node whose registry row is a gradient op (onnxruntime's *Grad ops,
//    YieldOp: isGradientOp).
// --graph-kind=forward or backward overrides it.
//
// In a backward graph the inputs are the tensors the forward saved and the
// tangents: the automatic parameter rule (docs/frontend.md) would take the
// statically shaped ones for weights. There, a graph input the automatic
// rule made a parameter stays one only when its name says it is a weight:
// primals_<n> (aot: the forward's inputs the backward reads) or a last name
// component weight or bias; the others become data inputs.
// --param-inputs and --data-inputs still decide for the inputs they name.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"
#include "vram/Analysis/OpRegistry.h"
#include "vram/Support/Diagnostics.h"

#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

namespace {

/// The reason G holds its backward, or "".
std::string backwardEvidence(const Graph &G) {
  static const Regex Tangent("^tangents_[0-9]+$");
  for (const Value *V : G.Inputs)
    if (Tangent.match(V->Name))
      return "input '" + V->Name + "' is a tangent";
  for (const auto &N : G.Nodes)
    if (const OpInfo *Row = findOp(N->Domain, N->OpType, N->OpsetVersion))
      if (isGradientOp(*Row))
        return describeNode(*N) + " is a gradient op";
  return "";
}

bool namedLikeWeight(StringRef Name) {
  static const Regex Weight("^primals_[0-9]+$|(^|[._/:])(weight|bias)$",
                            Regex::IgnoreCase);
  return Weight.match(Name);
}

} // namespace

const char *graphKindName(GraphKind K) {
  switch (K) {
  case GraphKind::Auto:
    return "auto";
  case GraphKind::Forward:
    return "forward";
  case GraphKind::Backward:
    return "backward";
  }
  return "?";
}

Error runGraphKind(AnalysisContext &Ctx) {
  Graph &G = *Ctx.M.Main;
  Ctx.BackwardGraph = false;
  Ctx.GraphKindReason.clear();
  switch (Ctx.Opts.Kind) {
  case GraphKind::Forward:
    return Error::success();
  case GraphKind::Backward:
    Ctx.BackwardGraph = true;
    Ctx.GraphKindReason = "--graph-kind=backward";
    break;
  case GraphKind::Auto:
    Ctx.GraphKindReason = backwardEvidence(G);
    Ctx.BackwardGraph = !Ctx.GraphKindReason.empty();
    break;
  }
  if (!Ctx.BackwardGraph)
    return Error::success();
  for (Value *V : G.Inputs)
    if (V->Kind == ValueKind::Parameter && V->ParamByRule &&
        !namedLikeWeight(V->Name))
      V->Kind = ValueKind::Input;
  return Error::success();
}

void printGraphKind(AnalysisContext &Ctx, raw_ostream &OS) {
  OS << "graph-kind " << (Ctx.BackwardGraph ? "backward" : "forward");
  if (!Ctx.GraphKindReason.empty())
    OS << " (" << Ctx.GraphKindReason << ")";
  OS << '\n';
}

} // namespace vram

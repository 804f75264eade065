//===- ShapeInference.cpp - Concrete shape and value propagation ----------===//
//
// Walks each graph in topological order and applies the shape rule of every
// node (ShapeFunctions.h). Declared shapes (value_info, graph outputs) fill
// what a rule leaves unknown; where both are known and differ, the computed
// shape wins and a warning says so (some exports shrink weights after
// export, leaving stale declarations). Whatever stays without a concrete
// shape is listed as unpriced, never silently counted as zero.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"
#include "vram/Analysis/OpRegistry.h"
#include "vram/Analysis/ShapeFunctions.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

namespace {

class ShapeInference {
public:
  explicit ShapeInference(AnalysisContext &Ctx) : Ctx(Ctx) {}
  Error inferGraph(Graph &G);
  void collectUnpriced(const Graph &G);

private:
  AnalysisContext &Ctx;
  StringSet<> WarnedOps;
  Error reconcile(Node &N, Value &V);
};

Error ShapeInference::reconcile(Node &N, Value &V) {
  if (!V.DeclaredShape || !V.DeclaredShape->hasRank())
    return Error::success();
  const Shape &D = *V.DeclaredShape;
  if (!V.Sh.hasRank()) {
    V.Sh = D;
    return Error::success();
  }
  if (V.Sh.rank() != D.rank()) {
    if (D.isConcrete() || V.Sh.isConcrete())
      Ctx.Diags.note(describeNode(N) + ": output '" + V.Name +
                     "' is declared " + D.str() + " but computes to " +
                     V.Sh.str() + "; using the computed shape");
    return Error::success();
  }
  bool Conflict = false;
  for (size_t I = 0; I < D.rank(); ++I) {
    if (D[I] < 0)
      continue;
    if (V.Sh[I] < 0)
      V.Sh[I] = D[I];
    else if (V.Sh[I] != D[I])
      Conflict = true;
  }
  if (Conflict)
    Ctx.Diags.note(describeNode(N) + ": output '" + V.Name + "' is declared " +
                   D.str() + " but computes to " + V.Sh.str() +
                   "; using the computed shape");
  return Error::success();
}

Error ShapeInference::inferGraph(Graph &G) {
  for (auto &NPtr : G.Nodes) {
    Node &N = *NPtr;
    ShapeContext C(
        N, [this](Graph &Sub) { return inferGraph(Sub); }, &Ctx.Diags);
    const OpInfo *Op = findOp(N.Domain, N.OpType, N.OpsetVersion);
    if (Op && Op->Shape) {
      if (Error E = Op->Shape(C))
        return E;
    } else if (WarnedOps.insert(N.qualifiedOp()).second) {
      if (Error E = Ctx.Diags.warn(
              describeNode(N) +
              ": no shape rule for this op; its outputs keep the shapes the "
              "model declares, if any"))
        return E;
    }
    for (Value *Out : N.Outputs) {
      if (!Out)
        continue;
      if (Error E = reconcile(N, *Out))
        return E;
      // A size no memory could hold is an error, never a wrapped number.
      if (Out->Sh.isConcrete() && !Out->bytes())
        return makeError(describeNode(N) + ": output '" + Out->Name +
                         "' of shape " + Out->Sh.str() +
                         " has more elements or bytes than fit in 64 bits");
    }
    // Constant folding as a framework sees it: a node computed only from
    // constants (Cast of a Constant, shape arithmetic on fixed shapes) yields
    // constants, never activations.
    bool AllConst = N.Subgraphs.empty() && N.ImplicitInputs.empty() &&
                    any_of(N.Inputs, [](const Value *V) { return V; }) &&
                    all_of(N.Inputs, [](const Value *V) {
                      return !V || V->Kind == ValueKind::Constant;
                    });
    if (AllConst)
      for (Value *Out : N.Outputs)
        if (Out)
          Out->Kind = ValueKind::Constant;
  }
  return Error::success();
}

void ShapeInference::collectUnpriced(const Graph &G) {
  if (G.NotTaken)
    return;
  for (const Value *V : G.Inputs)
    if (!V->Sh.isConcrete())
      Ctx.Unpriced.push_back(V);
  for (const auto &N : G.Nodes) {
    for (const Value *V : N->Outputs)
      if (V && !V->Sh.isConcrete())
        Ctx.Unpriced.push_back(V);
    for (const auto &Sub : N->Subgraphs)
      collectUnpriced(*Sub);
  }
}

} // namespace

Error runShapeInference(AnalysisContext &Ctx) {
  ShapeInference SI(Ctx);
  if (Error E = SI.inferGraph(*Ctx.M.Main))
    return E;
  Ctx.Unpriced.clear();
  SI.collectUnpriced(*Ctx.M.Main);
  if (Ctx.Unpriced.empty())
    return Error::success();
  std::string List;
  for (size_t I = 0; I < Ctx.Unpriced.size() && I < 5; ++I) {
    const Value *V = Ctx.Unpriced[I];
    List += (I ? ", '" : "'") + V->Name + "'";
    if (V->Producer)
      List += " from " + describeNode(*V->Producer);
  }
  if (Ctx.Unpriced.size() > 5)
    List += ", ...";
  return Ctx.Diags.warn(Twine(Ctx.Unpriced.size()) + " tensor" +
                        (Ctx.Unpriced.size() == 1
                             ? " without a concrete shape stays"
                             : "s without a concrete shape stay") +
                        " unpriced: " + List);
}

void printShapes(AnalysisContext &Ctx, raw_ostream &OS) {
  printIR(*Ctx.M.Main, OS);
}

} // namespace vram

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
  Error traceToOrigin(const Node &N, Error E) const;
};

/// The fixed-size initializer or constant that V's shape comes from, through
/// views of it (Slice, Transpose, Reshape, Unsqueeze, ...: the registry's
/// View facet), or null.
const Value *fixedSizeOrigin(const Value *V) {
  for (unsigned Depth = 0; V && Depth < 64; ++Depth) {
    if (V->isInitializerLike() && (!V->Producer || V->Producer->Inputs.empty()))
      return V;
    const Node *P = V->Producer;
    if (!P)
      return nullptr;
    const OpInfo *Op = findOp(P->Domain, P->OpType, P->OpsetVersion);
    if (!Op || Op->View == ViewKind::None)
      return nullptr;
    V = P->input(0);
  }
  return nullptr;
}

/// A limit a fixed-size tensor puts on the dims bound to Need: at most
/// Fixed.
struct Limit {
  std::vector<std::string> Dims;
  int64_t Need = -1, Fixed = -1;

  /// ": seq is 4096 here and can be at most 1024" (or "a dim of 4096").
  std::string str() const {
    std::string Names;
    for (const std::string &D : Dims)
      Names += (Names.empty() ? "" : " or ") + D;
    return ": " +
           (Names.empty() ? "a dim of " + std::to_string(Need)
                          : Names + " is " + std::to_string(Need)) +
           " here and can be at most " + std::to_string(Fixed);
  }
};

Limit limitOf(const AnalysisContext &Ctx, int64_t Need, int64_t Fixed) {
  Limit L;
  L.Need = Need;
  L.Fixed = Fixed;
  for (const auto &B : Ctx.M.DimBindings)
    if (B.second == Need)
      L.Dims.push_back(B.first);
  return L;
}

/// A shape error at N traced to its origin: when an input of N is (a view
/// of) a fixed-size initializer or constant, the error names it and, where
/// another input's dim is larger than that input's, the largest value the
/// dim can take and the bindings that gave it.
Error ShapeInference::traceToOrigin(const Node &N, Error E) const {
  std::string Extra;
  Optional<Limit> Found;
  for (unsigned I = 0; I < N.numInputs() && Extra.empty(); ++I) {
    const Value *In = N.input(I);
    const Value *Origin = In ? fixedSizeOrigin(In) : nullptr;
    if (!Origin || !In->Sh.hasRank())
      continue;
    Extra = "; '" + In->Name + "' " + In->Sh.str() +
            (Origin == In ? " is a" : " is a view of the") + " fixed-size " +
            (Origin->Kind == ValueKind::Parameter ? "parameter" : "constant") +
            (Origin == In ? "" : " '" + Origin->Name + "' " + Origin->Sh.str());
    // A table and its positions (a Range past the table's end): the
    // positions' count is what the bindings ask for, the table's rows the
    // most it allows.
    const Value *Idx = N.input(1);
    if (I == 0 && Idx && Idx->Bounds && In->Sh.isConcrete() &&
        Idx->Sh.isConcrete() && Idx->Sh.rank() == 1) {
      int64_t Axis = N.attrInt("axis", 0);
      if (Axis < 0)
        Axis += In->Sh.rank();
      if (Axis >= 0 && Axis < static_cast<int64_t>(In->Sh.rank()) &&
          Idx->Bounds->second >= In->Sh[Axis]) {
        Found = limitOf(Ctx, Idx->Sh[0], In->Sh[Axis]);
        break;
      }
    }
    // Elementwise (broadcast) conflicts: another input of the same rank
    // whose every dim either broadcasts with this one's or is larger than
    // it. The larger dim is what the bindings ask for, this one's the most
    // the constant allows. (Other relations, such as a table and its
    // indices, get the origin only.)
    for (unsigned J = 0; J < N.numInputs(); ++J) {
      const Value *O = N.input(J);
      if (J == I || !O || !O->Sh.isConcrete() || !In->Sh.isConcrete() ||
          O->Sh.rank() != In->Sh.rank())
        continue;
      int64_t Need = -1, Fixed = -1;
      bool Broadcastish = true;
      for (size_t K = 0; K < In->Sh.rank(); ++K) {
        int64_t F = In->Sh[K], D = O->Sh[K];
        if (F == D || F == 1 || D == 1)
          continue;
        if (D < F) {
          Broadcastish = false;
          break;
        }
        if (Need < 0) {
          Need = D;
          Fixed = F;
        }
      }
      if (!Broadcastish || Need < 0)
        continue;
      Found = limitOf(Ctx, Need, Fixed);
      break;
    }
  }
  if (Found)
    return make_error<DimLimitError>(toString(std::move(E)) + Extra +
                                         Found->str(),
                                     Found->Dims, Found->Fixed);
  if (Extra.empty())
    return E;
  return makeError(toString(std::move(E)) + Extra);
}

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
        return traceToOrigin(N, std::move(E));
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

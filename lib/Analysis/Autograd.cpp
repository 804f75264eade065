//===- Autograd.cpp - requires-grad and alias analyses --------------------===//
//
// requires-grad: trainable parameters (floating-point, not frozen) require
// grad; a node's floating-point output requires grad when any input does.
// Integer, bool and shape tensors never do.
//
// alias: the outputs of view ops share storage with their input (the table
// below, after PyTorch: view/reshape of a contiguous tensor, transpose,
// squeeze, unsqueeze, flatten, expand, alias). A view of a parameter is the
// parameter (a tied embedding's Transpose(wte) is not an activation). Split
// outputs are views of their source (PyTorch's split, chunk and unbind
// return views): a saved part keeps the whole source alive. Slice is a view
// too (a saved slice keeps its whole source alive, as in PyTorch). Reshape
// of a broadcast Expand is a copy.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"
#include "vram/Analysis/OpRegistry.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <tuple>

using namespace llvm;

namespace vram {

namespace {
/// "a, b, c" of the first parameter names, to write a pattern from.
std::string someParameters(const Graph &G) {
  std::string S;
  unsigned N = 0;
  for (const auto &V : G.Values)
    if (V->Kind == ValueKind::Parameter && N < 3)
      S += (N++ ? ", " : "") + V->Name;
  return S.empty() ? "none" : S + ", ...";
}
} // namespace

Error runRequiresGrad(AnalysisContext &Ctx) {
  Ctx.RequiresGrad.clear();
  // A graph that already holds its backward is not differentiated again.
  if (Ctx.BackwardGraph)
    return Error::success();
  Graph &G = *Ctx.M.Main;
  // Trainable: LoRA's adapters; else the parameters --trainable names (by
  // default all of them, none of a LoRA base), less the --freeze ones.
  Optional<Regex> Freeze, Trainable;
  if (!Ctx.Opts.FreezeRegex.empty())
    Freeze.emplace("^(" + Ctx.Opts.FreezeRegex + ")$");
  if (!Ctx.Opts.TrainableRegex.empty())
    Trainable.emplace("^(" + Ctx.Opts.TrainableRegex + ")$");
  DenseSet<const Value *> Adapters(Ctx.Lora.Adapters.begin(),
                                   Ctx.Lora.Adapters.end());
  unsigned FreezeHits = 0, TrainableHits = 0;
  for (const auto &V : G.Values) {
    if (V->Kind != ValueKind::Parameter)
      continue;
    bool Frozen = Freeze && Freeze->match(V->Name);
    bool Named = Trainable && Trainable->match(V->Name);
    FreezeHits += Frozen;
    TrainableHits += Named;
    bool Trains = Adapters.count(V.get()) ||
                  (!Frozen && (Trainable ? Named : !Ctx.Lora.Applied));
    if (Trains && isFloatingPoint(V->Ty))
      Ctx.RequiresGrad.insert(V.get());
  }
  for (auto Check :
       {std::make_tuple("freeze", &Freeze, FreezeHits, &Ctx.Opts.FreezeRegex),
        std::make_tuple("trainable", &Trainable, TrainableHits,
                        &Ctx.Opts.TrainableRegex)})
    if (*std::get<1>(Check) && !std::get<2>(Check))
      if (Error E = Ctx.Diags.warn(
              Twine(std::get<0>(Check)) + " pattern '" + *std::get<3>(Check) +
              "' matches no parameter (parameters: " + someParameters(G) + ")"))
        return E;
  for (const auto &N : G.Nodes) {
    bool Any = any_of(N->Inputs,
                      [&](const Value *V) {
                        return V && Ctx.RequiresGrad.count(V);
                      }) ||
               any_of(N->ImplicitInputs, [&](const Value *V) {
                 return Ctx.RequiresGrad.count(V);
               });
    // Integer, bool, random and zero-gradient results stop the gradient.
    const OpInfo *Op = findOp(N->Domain, N->OpType, N->OpsetVersion);
    if (!Any || (Op && !Op->differentiable()))
      continue;
    for (const Value *Out : N->Outputs)
      if (Out && isFloatingPoint(Out->Ty))
        Ctx.RequiresGrad.insert(Out);
  }
  return Error::success();
}

void printRequiresGrad(AnalysisContext &Ctx, raw_ostream &OS) {
  for (const auto &V : Ctx.M.Main->Values)
    if (Ctx.RequiresGrad.count(V.get()))
      OS << "requires-grad " << V->Name << '\n';
}

namespace {
/// The op's View facet (PyTorch view semantics), None for unknown ops.
ViewKind viewKind(const Node &N) {
  const OpInfo *Op = findOp(N.Domain, N.OpType, N.OpsetVersion);
  return Op ? Op->View : ViewKind::None;
}

/// Output 0 is a view of input 0: a view op, or a cast to the same dtype.
bool isView(const Node &N, ViewKind K) {
  switch (K) {
  case ViewKind::View:
  case ViewKind::Reshape:
  case ViewKind::Broadcast:
  case ViewKind::ViewOfPart:
  case ViewKind::PartsOf:
    return true;
  case ViewKind::ViewIfSameType: // stored alike under every recipe, too
    return N.input(0) && N.output(0) && N.input(0)->Ty == N.output(0)->Ty &&
           N.input(0)->FixedDType == N.output(0)->FixedDType;
  case ViewKind::ViewIfScalarIndex: {
    const Value *Index = N.input(1);
    return N.input(0) && N.output(0) && isFloatingPoint(N.input(0)->Ty) &&
           Index && Index->Data && Index->Sh.hasRank() && Index->Sh.rank() == 0;
  }
  case ViewKind::None:
    return false;
  }
  return false;
}
} // namespace

bool outputIsView(const Node &N) { return isView(N, viewKind(N)); }

Error runAlias(AnalysisContext &Ctx) {
  // Views whose elements repeat (stride 0): results of a broadcasting
  // Expand and views of them.
  DenseSet<const Value *> Expanded;
  Ctx.StorageOf.clear();
  // Every graph's nodes, subgraphs included (a generation op's decoder is
  // priced by its own forward walk).
  Ctx.M.Main->walk([&](Node &Nd) {
    const Node *N = &Nd;
    ViewKind K = viewKind(*N);
    // split, chunk, unbind: every part is a view of its source (PyTorch's
    // split_with_sizes returns views), so a saved part keeps all of it.
    if (K == ViewKind::PartsOf && N->input(0))
      for (const Value *Out : N->Outputs)
        if (Out)
          Ctx.StorageOf[Out] = Ctx.storage(N->input(0));
    if (!isView(*N, K) || !N->input(0) || !N->output(0))
      return;
    const Value *In = N->input(0), *Out = N->output(0);
    // Reshaping a broadcast (expanded) view cannot be a view: PyTorch's
    // reshape copies it, at the expanded size (repeat_kv of grouped-query
    // attention: expand then reshape).
    bool Reshapes = K == ViewKind::Reshape;
    if (Reshapes && Expanded.count(In))
      return;
    Ctx.StorageOf[Out] = Ctx.storage(In);
    Optional<uint64_t> NIn = In->Sh.numElements(), NOut = Out->Sh.numElements();
    bool Broadcasts = K == ViewKind::Broadcast && NIn && NOut && *NOut > *NIn;
    bool Keeps = !Reshapes && K != ViewKind::ViewOfPart &&
                 K != ViewKind::ViewIfScalarIndex && Expanded.count(In);
    if (Broadcasts || Keeps)
      Expanded.insert(Out);
  });
  return Error::success();
}

void printAlias(AnalysisContext &Ctx, raw_ostream &OS) {
  for (const auto &N : Ctx.M.Main->Nodes)
    for (const Value *V : N->Outputs)
      if (V && Ctx.storage(V) != V)
        OS << "view " << V->Name << " -> " << Ctx.storage(V)->Name << " ("
           << valueKindName(Ctx.storage(V)->Kind) << ")\n";
}

} // namespace vram

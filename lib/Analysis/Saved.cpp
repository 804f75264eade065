//===- Saved.cpp - Tensors kept for the backward pass ---------------------===//
//
// For each node (or fused group, at its last member) whose inputs require
// grad, applies the saved-tensor rule and records what is kept. Kept
// tensors are resolved to their storage (alias pass) and deduplicated: a
// storage kept by several consumers, or through several views, is one
// allocation, attributed to its producer. Parameters and constants are not
// activations and are dropped. An op without a rule gets a warning and the
// conservative fallback: every floating-point input that requires grad.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"
#include "vram/Analysis/OpRegistry.h"

#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

namespace {

void conservativeFallback(SaveContext &C) {
  for (unsigned I = 0; I < C.numInputs(); ++I)
    if (C.rg(I) && isFloatingPoint(C.in(I)->Ty))
      C.input(I, "input of " + C.node().qualifiedOp() + " (no rule: kept)");
}

} // namespace

Error runSaved(AnalysisContext &Ctx) {
  SavedResult &R = Ctx.Saved;
  R = SavedResult();
  DenseSet<const Value *> Kept;
  Graph &G = *Ctx.M.Main;
  for (auto &NPtr : G.Nodes) {
    Node &N = *NPtr;
    // A fused group is handled once, at the node producing its output.
    const FusedGroup *Grp = nullptr;
    auto GIt = Ctx.Fusion.GroupOf.find(&N);
    if (GIt != Ctx.Fusion.GroupOf.end()) {
      Grp = &Ctx.Fusion.Groups[GIt->second];
      if (Grp->Output->Producer != &N)
        continue;
    }
    SmallVector<Value *, 4> Ins, Outs;
    std::string Op = N.OpType;
    const OpInfo *Row = nullptr;
    if (Grp) {
      Ins.assign(Grp->Inputs.begin(), Grp->Inputs.end());
      Outs.push_back(Grp->Output);
      Op = Grp->Kernel;
      Row = Grp->KernelOp;
    } else {
      Ins.assign(N.Inputs.begin(), N.Inputs.end());
      Outs.assign(N.Outputs.begin(), N.Outputs.end());
      Row = findOp(N.Domain, N.OpType, N.OpsetVersion);
    }
    SaveContext C(N, Ins, Outs, Ctx.RequiresGrad);
    C.Op = Op;
    if (!C.anyRG())
      continue;
    if (Row && Row->Save) {
      Row->Save(C);
    } else {
      if (R.UnknownOps[N.qualifiedOp()]++ == 0)
        if (Error E = Ctx.Diags.warn(
                describeNode(N) +
                ": no saved-tensor rule for this op; keeping every "
                "floating-point input that requires grad"))
          return E;
      conservativeFallback(C);
    }
    for (const SaveContext::Item &It : C.Items) {
      SavedTensor T;
      T.Consumer = &N;
      T.Reason = It.Reason;
      if (It.K == SaveContext::Item::Buffer) {
        T.Hidden = true;
        T.KeepsDType = It.KeepsDType;
        T.Name = N.displayName() + "." + It.Name;
        T.Ty = It.Ty;
        T.Sh = It.Sh;
        T.Owner = &N;
        R.Tensors.push_back(std::move(T));
        continue;
      }
      const Value *V =
          It.K == SaveContext::Item::Input ? C.in(It.Index) : C.out(It.Index);
      const Value *S = Ctx.storage(V);
      if (S->Kind == ValueKind::Parameter || S->Kind == ValueKind::Constant)
        continue;
      if (!Kept.insert(S).second)
        continue;
      T.Storage = S;
      T.Name = S->Name;
      T.Ty = S->Ty;
      T.Sh = S->Sh;
      T.Owner = S->Producer;
      // Integer and bool tensors keep their width under every recipe.
      T.KeepsDType = !isFloatingPoint(S->Ty) || It.KeepsDType;
      R.Tensors.push_back(std::move(T));
    }
  }
  // A Split part kept together with its whole source is inside it.
  auto InsideKeptSource = [&](const SavedTensor &T) {
    for (const Value *V = T.Storage; V;) {
      auto It = Ctx.PartOf.find(V);
      if (It == Ctx.PartOf.end())
        return false;
      V = It->second;
      if (Kept.count(V))
        return true;
    }
    return false;
  };
  llvm::erase_if(R.Tensors, InsideKeptSource);
  return Error::success();
}

void printSaved(AnalysisContext &Ctx, raw_ostream &OS) {
  for (const SavedTensor &T : Ctx.Saved.Tensors)
    OS << "saved " << T.Name << ' ' << dtypeName(T.Ty) << ' ' << T.Sh.str()
       << " by " << describeNode(*T.Consumer) << ": " << T.Reason << '\n';
}

} // namespace vram

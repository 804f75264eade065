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

/// Records what a rule kept: hidden buffers as they are; graph tensors by
/// storage, once, never a parameter or constant.
void record(AnalysisContext &Ctx, const Node &N, const SaveContext &C,
            DenseSet<const Value *> &Kept) {
  std::vector<SavedTensor> &Out = Ctx.Saved.Tensors;
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
      Out.push_back(std::move(T));
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
    T.KeepsDType = !isFloatingPoint(S->Ty) || It.KeepsDType || S->FixedDType;
    Out.push_back(std::move(T));
  }
}

} // namespace

Optional<GradientUnit> gradientUnit(const AnalysisContext &Ctx, const Node &N) {
  GradientUnit U;
  U.N = &N;
  auto GIt = Ctx.Fusion.GroupOf.find(&N);
  if (GIt != Ctx.Fusion.GroupOf.end()) {
    const FusedGroup &Grp = Ctx.Fusion.Groups[GIt->second];
    if (Grp.Output->Producer != &N)
      return None;
    U.Group = &Grp;
    U.Inputs.assign(Grp.Inputs.begin(), Grp.Inputs.end());
    U.Outputs.push_back(Grp.Output);
    U.Op = Grp.KernelOp;
    U.OpType = Grp.Kernel;
    return U;
  }
  U.Inputs.assign(N.Inputs.begin(), N.Inputs.end());
  U.Outputs.assign(N.Outputs.begin(), N.Outputs.end());
  U.Op = findOp(N.Domain, N.OpType, N.OpsetVersion);
  U.OpType = N.OpType;
  return U;
}

Error runSaved(AnalysisContext &Ctx) {
  SavedResult &R = Ctx.Saved;
  R = SavedResult();
  DenseSet<const Value *> Kept;
  for (auto &NPtr : Ctx.M.Main->Nodes) {
    const Node &N = *NPtr;
    Optional<GradientUnit> U = gradientUnit(Ctx, N);
    if (!U)
      continue;
    SaveContext C(N, U->Inputs, U->Outputs, Ctx.RequiresGrad);
    C.Op = U->OpType;
    if (!C.anyRG())
      continue;
    if (U->Op && U->Op->Save) {
      U->Op->Save(C);
    } else {
      if (R.UnknownOps[N.qualifiedOp()]++ == 0)
        if (Error E = Ctx.Diags.warn(
                describeNode(N) +
                ": no saved-tensor rule for this op; keeping every "
                "floating-point input that requires grad"))
          return E;
      conservativeFallback(C);
    }
    record(Ctx, N, C, Kept);
  }
  if (Error E = applyCheckpointing(Ctx))
    return E;
  return applyTensorParallel(Ctx);
}

void printSaved(AnalysisContext &Ctx, raw_ostream &OS) {
  for (const SavedTensor &T : Ctx.Saved.Tensors)
    OS << "saved " << T.Name << ' ' << dtypeName(T.Ty) << ' ' << T.Sh.str()
       << " by " << describeNode(*T.Consumer) << ": " << T.Reason
       << (T.Shards > 1 ? " (1/" + std::to_string(T.Shards) + " per GPU)"
                        : std::string())
       << '\n';
  for (const SavedTensor &T : Ctx.Saved.Recomputed)
    OS << "recomputed " << T.Name << ' ' << dtypeName(T.Ty) << ' ' << T.Sh.str()
       << " by " << describeNode(*T.Consumer) << ": " << T.Reason << " ("
       << T.Region << ", at the backward of " << describeNode(*T.RecomputeAt)
       << ")\n";
}

} // namespace vram

//===- Autocast.cpp - The dtype each op runs in under torch.autocast ------===//
//
// Most training runs an fp32 model under torch.autocast (AMP): each op runs
// in the dtype its policy class gives (the op registry's Precision facet on
// CUDA, PrecisionCPU on the CPU):
//   lower precision  matmul, linear, conv, attention: float inputs cast to
//                    the autocast dtype (f16 or bf16);
//   fp32             (CUDA: softmax, norms, pow, exp/log, sums, losses; CPU:
//                    the losses and prod): float inputs cast to f32;
//   promote          mixed float inputs cast to the widest;
//   input type       runs in its inputs' dtype.
// The casts are real tensors, and a cast an op's backward needs is kept: a
// Linear saves the 16-bit copy of its input. So this pass inserts each cast
// as a Cast node before the op that makes it (one per use, as autocast casts
// at every call), then re-runs the op's shape function for its output dtype,
// and marks every floating-point activation as stored in the dtype it got
// (Value::FixedDType), whatever the recipe's activation dtype.
//
// Weights are not cast here: autocast caches one 16-bit copy of each weight
// per forward, the recipe's "autocast weight copies" term. Constants and
// 0-d or one-element values do not take part (PyTorch's wrapped numbers do
// not promote). Buffers (masks, rotary tables) follow the activation they
// meet by default, as models that write mask.to(x.dtype) next to the op do;
// an fp32 export cannot show that cast, nor one to the residual stream's
// f32 (AnalysisOptions::AutocastBuffersFollow false: they widen the op). A
// fused group (a decomposed GELU or LayerNorm) is one kernel: its class is its
// kernel row's, applied to the group's data input once.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"
#include "vram/Analysis/OpRegistry.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

namespace {

class Autocast {
public:
  explicit Autocast(AnalysisContext &Ctx)
      : Ctx(Ctx), G(*Ctx.M.Main), Low(Ctx.Opts.AutocastDType) {}
  Error run();

private:
  AnalysisContext &Ctx;
  Graph &G;
  DType Low;

  PrecisionClass classOf(const OpInfo &Op) const {
    return Ctx.Opts.Autocast == AutocastDevice::CPU ? Op.PrecisionCPU
                                                    : Op.Precision;
  }
  /// A value that takes part in the policy: a floating-point tensor of more
  /// than one element that is not a weight, buffer or constant, nor a view
  /// of one (a slice of a causal-mask buffer). Models cast their buffers to
  /// the activations' dtype themselves (`mask.to(x.dtype)`), a cast an fp32
  /// export does not show, so a buffer never widens an op.
  bool takesPart(const Value *V) const {
    if (!V || !isFloatingPoint(V->Ty))
      return false;
    Optional<uint64_t> N = V->Sh.numElements();
    if (N && *N <= 1)
      return false;
    for (unsigned Depth = 0; V && Depth < 16; ++Depth) {
      if (V->Kind == ValueKind::Parameter)
        return false;
      if (V->Kind == ValueKind::Constant)
        return !Ctx.Opts.AutocastBuffersFollow && V->Sh.rank() > 0 &&
               !V->Producer;
      const Node *P = V->Producer;
      if (!P || !outputIsView(*P))
        return true;
      V = P->input(0);
    }
    return true;
  }
  /// The dtype the inputs of a node of class C are cast to, or Undefined.
  DType target(PrecisionClass C, ArrayRef<Value *> Ins) const;
  Value *castOf(Value &V, DType To, Node &User);
  Error reshape(Node &N);
};

DType Autocast::target(PrecisionClass C, ArrayRef<Value *> Ins) const {
  switch (C) {
  case PrecisionClass::LowerPrecision:
    return Low;
  case PrecisionClass::FP32:
    return DType::Float;
  case PrecisionClass::Promote: {
    DType Widest = DType::Undefined;
    bool Mixed = false;
    for (const Value *V : Ins) {
      if (!takesPart(V))
        continue;
      if (Widest != DType::Undefined && V->Ty != Widest)
        Mixed = true;
      if (Widest == DType::Undefined || dtypeBits(V->Ty) > dtypeBits(Widest))
        Widest = V->Ty;
    }
    return Mixed ? Widest : DType::Undefined;
  }
  case PrecisionClass::InputType:
    return DType::Undefined;
  }
  return DType::Undefined;
}

/// A Cast of V to To inserted before User, replacing User's uses of V.
Value *Autocast::castOf(Value &V, DType To, Node &User) {
  std::string Base = (V.Name + ".autocast_" + dtypeName(To)).str();
  Value *Out = G.createValue(Base);
  for (unsigned I = 1; !Out; ++I)
    Out = G.createValue(Base + "." + std::to_string(I));
  Out->Kind = ValueKind::Activation;
  Out->Ty = To;
  Out->Sh = V.Sh;
  Out->FixedDType = true;
  Node *C = G.createNode();
  C->Name = "autocast/" + User.displayName();
  C->OpType = "Cast";
  C->OpsetVersion = 13;
  C->Parent = &G;
  Attribute A;
  A.K = Attribute::Int;
  A.I = static_cast<int64_t>(To);
  C->Attrs["to"] = A;
  C->Inputs.push_back(&V);
  C->Outputs.push_back(Out);
  Out->Producer = C;
  V.Users.push_back(C);
  for (Value *&In : User.Inputs)
    if (In == &V) {
      In = Out;
      Out->Users.push_back(&User);
    }
  erase_value(V.Users, &User);
  Ctx.AutocastCasts.push_back(C);
  return Out;
}

Error Autocast::reshape(Node &N) {
  const OpInfo *Op = findOp(N.Domain, N.OpType, N.OpsetVersion);
  if (Op && Op->Shape) {
    ShapeContext C(N, nullptr, &Ctx.Diags);
    if (Error E = Op->Shape(C))
      return E;
  }
  // A value that does not take part (a buffer, a constant) never decides
  // the result's dtype: where the shape function took it from one, the
  // widest participating input decides.
  DType Part = DType::Undefined, Other = DType::Undefined;
  for (const Value *V : N.Inputs) {
    if (!V || !isFloatingPoint(V->Ty))
      continue;
    DType &Slot = takesPart(V) ? Part : Other;
    if (Slot == DType::Undefined || dtypeBits(V->Ty) > dtypeBits(Slot))
      Slot = V->Ty;
  }
  for (Value *V : N.Outputs) {
    if (!V || !isFloatingPoint(V->Ty))
      continue;
    if (Part != DType::Undefined && V->Ty == Other && V->Ty != Part)
      V->Ty = Part;
    V->FixedDType = true;
  }
  return Error::success();
}

Error Autocast::run() {
  for (Value *V : G.Inputs)
    if (isFloatingPoint(V->Ty) && V->Kind == ValueKind::Input)
      V->FixedDType = true;
  // The nodes as they are before any cast is inserted, in topological order.
  std::vector<Node *> Order;
  for (auto &N : G.Nodes)
    Order.push_back(N.get());
  for (Node *N : Order) {
    FusedGroup *Grp = nullptr;
    auto GIt = Ctx.Fusion.GroupOf.find(N);
    if (GIt != Ctx.Fusion.GroupOf.end())
      Grp = &Ctx.Fusion.Groups[GIt->second];
    const OpInfo *Op =
        Grp ? Grp->KernelOp : findOp(N->Domain, N->OpType, N->OpsetVersion);
    // A group's class applies once, at its first member, to its data input.
    bool Leads = !Grp || Grp->Members.front() == N;
    if (Op && Op->differentiable() && Leads) {
      SmallVector<Value *, 4> Ins;
      if (Grp)
        Ins.assign(Grp->Inputs.begin(), Grp->Inputs.end());
      else
        Ins.assign(N->Inputs.begin(), N->Inputs.end());
      DType To = target(classOf(*Op), Ins);
      if (To != DType::Undefined) {
        for (Value *V : Ins) {
          if (!takesPart(V) || V->Ty == To)
            continue;
          // Every member that reads V reads the one cast.
          SmallVector<Node *, 4> Users;
          if (Grp) {
            for (Node *M : Grp->Members)
              if (is_contained(M->Inputs, V))
                Users.push_back(M);
          } else {
            Users.push_back(N);
          }
          Value *Cast = castOf(*V, To, *Users.front());
          if (Grp) // the kernel's input is the cast
            for (Value *&In : Grp->Inputs)
              if (In == V)
                In = Cast;
          for (Node *U : makeArrayRef(Users).drop_front())
            for (Value *&In : U->Inputs)
              if (In == V) {
                In = Cast;
                Cast->Users.push_back(U);
                erase_value(V->Users, U);
              }
        }
      }
    }
    if (Error E = reshape(*N))
      return E;
  }
  // Casts are appended: put each before its user (topological order).
  DenseSet<const Node *> Casts(Ctx.AutocastCasts.begin(),
                               Ctx.AutocastCasts.end());
  std::vector<std::unique_ptr<Node>> Sorted;
  DenseMap<const Node *, SmallVector<std::unique_ptr<Node>, 2>> Before;
  for (auto &N : G.Nodes)
    if (Casts.count(N.get()))
      Before[N->Outputs[0]->Users.front()].push_back(std::move(N));
  for (auto &N : G.Nodes) {
    if (!N)
      continue;
    auto It = Before.find(N.get());
    if (It != Before.end())
      for (auto &C : It->second)
        Sorted.push_back(std::move(C));
    Sorted.push_back(std::move(N));
  }
  G.Nodes = std::move(Sorted);
  G.renumber();
  return Error::success();
}

} // namespace

Error runAutocast(AnalysisContext &Ctx) {
  if (Ctx.Opts.Autocast == AutocastDevice::None || !Ctx.AutocastCasts.empty())
    return Error::success();
  return Autocast(Ctx).run();
}

void printAutocast(AnalysisContext &Ctx, raw_ostream &OS) {
  for (const Node *C : Ctx.AutocastCasts)
    OS << "autocast " << C->Inputs[0]->Name << ' '
       << dtypeName(C->Inputs[0]->Ty) << " -> " << dtypeName(C->Outputs[0]->Ty)
       << " for " << describeNode(*C->Outputs[0]->Users.front()) << '\n';
}

} // namespace vram

//===- Fusion.cpp - Recognise kernels that exporters decomposed -----------===//
//
// Exporters write one framework kernel as several ONNX nodes (erf-GELU as
// Div/Erf/Add/Mul/Mul, LayerNorm before opset 17 as ReduceMean/Sub/Pow/...).
// Counting what each piece would save inflates the figure (GELU: 24bsd
// instead of 8bsd), so each such group is priced as the kernel. The patterns
// are a table: name, kernel, anchor op, matcher, and the PyTorch kernel whose
// saved tensors the group takes (documented in docs/memory.md).
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"
#include "vram/Analysis/OpRegistry.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

namespace vram {

namespace {

/// A constant operand: a Constant, or a known one-element tensor that is not
/// fed at run time.
bool isConst(const Value *V) {
  return V &&
         (V->Kind == ValueKind::Constant ||
          (V->Data && V->Data->size() == 1 && V->Kind != ValueKind::Input));
}

/// True when V is a known scalar-like constant equal to X (within 1e-3
/// relative).
bool isConstNear(const Value *V, double X) {
  if (!V || !V->Data || V->Data->size() != 1)
    return false;
  double D = V->Data->asDouble(0);
  return std::fabs(D - X) <= 1e-3 * std::max(1.0, std::fabs(X));
}

bool isOp(const Node *N, StringRef Op) {
  return N && N->Domain.empty() && N->OpType == Op;
}

/// The single user of V, or nullptr (graph outputs count as a second use).
Node *singleUser(const Value *V) {
  if (!V || V->Users.size() != 1 || V->IsGraphOutput)
    return nullptr;
  return V->Users.front();
}

/// For a binary node with X as one operand, the other operand.
Value *otherOperand(const Node *N, const Value *X) {
  if (!N || N->Inputs.size() != 2)
    return nullptr;
  if (N->Inputs[0] == X)
    return N->Inputs[1];
  if (N->Inputs[1] == X)
    return N->Inputs[0];
  return nullptr;
}

bool isElementwise(const Node *N) {
  static const char *const Ops[] = {"Add", "Sub", "Mul", "Div", "Pow"};
  return N && N->Domain.empty() && is_contained(Ops, N->OpType);
}

//===----------------------------------------------------------------------===//
// GELU (erf and tanh forms)
//===----------------------------------------------------------------------===//

/// Matches the elementwise cluster around an Erf/Tanh anchor: a backward cone
/// of elementwise ops on one source X and constants, and a forward chain that
/// ends in a product with X (x * 0.5 * (1 + erf(...))).
bool matchGeluCluster(Node &Anchor, FusedGroup &G, bool TanhForm) {
  SmallVector<Node *, 8> Cone;
  Value *X = nullptr;
  // Backward: walk single-use elementwise producers from the anchor input.
  SmallVector<Value *, 4> Work{Anchor.input(0)};
  while (!Work.empty()) {
    Value *V = Work.pop_back_val();
    if (!V)
      return false;
    Node *P = V->Producer;
    bool Interior =
        P && isElementwise(P) && singleUser(V) &&
        any_of(P->Inputs, [](Value *I) { return I && !isConst(I); });
    // The source X is the first value that is not an interior elementwise
    // result; Pow(x, 3) and Mul(x, c) reach X directly.
    if (!Interior || (X && V == X)) {
      if (X && X != V)
        return false;
      X = V;
      continue;
    }
    if (!is_contained(Cone, P))
      Cone.push_back(P);
    for (Value *I : P->Inputs)
      if (I && !isConst(I))
        Work.push_back(I);
  }
  if (!X)
    return false;
  // x + 0.044715 * x^3 reaches X twice: the cone may already hold nodes that
  // use X directly, which is what the tanh form requires.
  if (TanhForm) {
    bool HasCubic = any_of(Cone, [](Node *N) {
      return (isOp(N, "Pow") && isConstNear(N->input(1), 3.0)) ||
             any_of(N->Inputs,
                    [](Value *I) { return isConstNear(I, 0.044715); });
    });
    if (!HasCubic)
      return false;
  }
  // Forward: from the anchor through single-use elementwise nodes whose other
  // operand is a constant, X, or X times a constant (x * 0.5).
  SmallVector<Node *, 4> Chain;
  SmallVector<Node *, 2> Side;
  Value *Cur = Anchor.output(0);
  bool UsedX = false;
  while (Node *U = singleUser(Cur)) {
    if (!isElementwise(U) || U->OpType == "Pow")
      break;
    Value *O = otherOperand(U, Cur);
    if (!O)
      break;
    if (O == X) {
      UsedX = true;
    } else if (!isConst(O)) {
      Node *H = O->Producer;
      if (!isOp(H, "Mul") || !singleUser(O) || !otherOperand(H, X) ||
          !isConst(otherOperand(H, X)))
        break;
      Side.push_back(H);
      UsedX = true;
    }
    Chain.push_back(U);
    Cur = U->output(0);
    // x * (...) * 0.5 may follow the product with X.
    if (UsedX) {
      Node *Next = singleUser(Cur);
      if (isOp(Next, "Mul") && isConst(otherOperand(Next, Cur))) {
        Chain.push_back(Next);
        Cur = Next->output(0);
      }
      break;
    }
  }
  if (!UsedX)
    return false;
  G.Inputs = {X};
  G.Output = Cur;
  G.Members.assign(Cone.begin(), Cone.end());
  G.Members.insert(G.Members.end(), Side.begin(), Side.end());
  G.Members.push_back(&Anchor);
  G.Members.insert(G.Members.end(), Chain.begin(), Chain.end());
  return true;
}

bool matchGeluErf(Node &Anchor, FusedGroup &G) {
  if (!matchGeluCluster(Anchor, G, false))
    return false;
  // erf(x / sqrt(2)): a division by ~1.4142 or a product with ~0.7071.
  return any_of(G.Members, [](Node *N) {
    return any_of(N->Inputs, [](Value *I) {
      return isConstNear(I, std::sqrt(2.0)) ||
             isConstNear(I, 1 / std::sqrt(2.0));
    });
  });
}

bool matchGeluTanh(Node &Anchor, FusedGroup &G) {
  return matchGeluCluster(Anchor, G, true);
}

//===----------------------------------------------------------------------===//
// SiLU / Swish: x * sigmoid(x)
//===----------------------------------------------------------------------===//

bool matchSilu(Node &Anchor, FusedGroup &G) {
  Value *X = Anchor.input(0);
  Value *S = Anchor.output(0);
  Node *M = singleUser(S);
  if (!isOp(M, "Mul") || otherOperand(M, S) != X)
    return false;
  G.Inputs = {X};
  G.Output = M->output(0);
  G.Members = {&Anchor, M};
  return true;
}

//===----------------------------------------------------------------------===//
// LayerNorm before opset 17:
//   m = ReduceMean(x); d = Sub(x, m); v = ReduceMean(Pow(d, 2));
//   n = Div(d, Sqrt(Add(v, eps))); [Mul(n, gamma)]; [Add(., beta)]
//===----------------------------------------------------------------------===//

/// Follows an optional affine tail (Mul by a non-activation, Add of one).
void matchAffineTail(Value *&Out, FusedGroup &G) {
  for (StringRef Op : {"Mul", "Add"}) {
    Node *U = singleUser(Out);
    if (!isOp(U, Op))
      return;
    Value *W = otherOperand(U, Out);
    if (!W || W->Producer)
      return; // gamma/beta are parameters or constants, not activations
    G.Inputs.push_back(W);
    G.Members.push_back(U);
    Out = U->output(0);
  }
}

bool matchLayerNorm(Node &Anchor, FusedGroup &G) {
  Value *X = Anchor.input(0);
  Value *Mean = Anchor.output(0);
  if (!X || !Mean)
    return false;
  Node *Sub = singleUser(Mean);
  if (!isOp(Sub, "Sub") || Sub->input(0) != X || Sub->input(1) != Mean)
    return false;
  Value *D = Sub->output(0);
  if (D->Users.size() != 2)
    return false;
  Node *PowN = nullptr, *DivN = nullptr;
  for (Node *U : D->Users) {
    if (isOp(U, "Pow") && U->input(0) == D && isConstNear(U->input(1), 2.0))
      PowN = U;
    else if (isOp(U, "Div") && U->input(0) == D)
      DivN = U;
  }
  if (!PowN || !DivN)
    return false;
  Node *Var = singleUser(PowN->output(0));
  if (!isOp(Var, "ReduceMean"))
    return false;
  Node *AddEps = singleUser(Var->output(0));
  if (!isOp(AddEps, "Add") || !isConst(otherOperand(AddEps, Var->output(0))))
    return false;
  Node *Sqrt = singleUser(AddEps->output(0));
  if (!isOp(Sqrt, "Sqrt") || singleUser(Sqrt->output(0)) != DivN ||
      DivN->input(1) != Sqrt->output(0))
    return false;
  G.Inputs = {X};
  G.Members = {&Anchor, Sub, PowN, Var, AddEps, Sqrt, DivN};
  Value *Out = DivN->output(0);
  matchAffineTail(Out, G);
  G.Output = Out;
  return true;
}

//===----------------------------------------------------------------------===//
// rsqrt written as Sqrt then Reciprocal (or Div(1, .)). RMSNorm itself is
// priced as written: PyTorch has no RMSNorm kernel in the versions measured
// here and HF-style modules run it op by op, so only the split rsqrt is a
// kernel (RsqrtBackward0 keeps its result).
//===----------------------------------------------------------------------===//

bool matchRsqrt(Node &Anchor, FusedGroup &G) {
  Value *S = Anchor.output(0);
  Node *U = singleUser(S);
  bool Recip = isOp(U, "Reciprocal");
  bool DivOne =
      isOp(U, "Div") && U->input(1) == S && isConstNear(U->input(0), 1.0);
  if (!Recip && !DivOne)
    return false;
  G.Inputs = {Anchor.input(0)};
  G.Output = U->output(0);
  G.Members = {&Anchor, U};
  return true;
}

//===----------------------------------------------------------------------===//
// softmax(x, dtype=float32) written as Softmax then Cast to f32: the kernel
// computes, and keeps, its result in f32.
//===----------------------------------------------------------------------===//

bool matchSoftmaxUpcast(Node &Anchor, FusedGroup &G) {
  Value *Y = Anchor.output(0);
  Node *C = singleUser(Y);
  if (!isOp(C, "Cast") || !Y || Y->Ty == DType::Float ||
      C->attrInt("to", 0) != static_cast<int64_t>(DType::Float))
    return false;
  G.Inputs = {Anchor.input(0)};
  G.Output = C->output(0);
  G.Members = {&Anchor, C};
  return true;
}

//===----------------------------------------------------------------------===//
// Linear: MatMul(x, W) then Add of a 1-D bias (nn.Linear exported without
// Gemm): addmm produces only the sum.
//===----------------------------------------------------------------------===//

bool matchLinear(Node &Anchor, FusedGroup &G) {
  Value *Y = Anchor.output(0);
  Node *A = singleUser(Y);
  if (!isOp(A, "Add"))
    return false;
  Value *Bias = otherOperand(A, Y);
  if (!Bias || Bias->Producer || Bias->Kind != ValueKind::Parameter ||
      !Bias->Sh.hasRank() || Bias->Sh.rank() != 1)
    return false;
  G.Inputs = {Anchor.input(0), Anchor.input(1), Bias};
  G.Output = A->output(0);
  G.Members = {&Anchor, A};
  return true;
}

//===----------------------------------------------------------------------===//
// The attention core written out (eager attention):
//   S = MatMul(Q, K^T) (or FusedMatMul); [Reshape]; [Div/Mul by a scale];
//   [Add/Sub/Mul/Where masks]; [Cast]; P = Softmax(S); [Cast]; [Dropout];
//   [Cast]; O = MatMul(P, V). Interior results have one user besides
//   Shape/Size (which read only the shape).
// A flash kernel computes it at once (flash-attention), and selective
// checkpointing recomputes it.
//===----------------------------------------------------------------------===//

/// The ops an exporter writes between QK^T and the softmax.
bool isScoreOp(const Node *N) {
  static const char *const Ops[] = {"Add",   "Sub",  "Mul",    "Div",
                                    "Where", "Cast", "Reshape"};
  return N && N->Domain.empty() && is_contained(Ops, N->OpType);
}

/// A batched product of the core: MatMul, or com.microsoft FusedMatMul
/// (a MatMul with transposes and a scale folded in).
bool isCoreMatMul(const Node *N) {
  return N && (isOp(N, "MatMul") ||
               (N->Domain == "com.microsoft" && N->OpType == "FusedMatMul"));
}

/// The one user of V that reads its data (Shape and Size read only its
/// shape), or nullptr; a graph output counts as a second use.
Node *singleDataUser(const Value *V) {
  if (!V || V->IsGraphOutput)
    return nullptr;
  Node *Data = nullptr;
  for (Node *U : V->Users) {
    if (isOp(U, "Shape") || isOp(U, "Size"))
      continue;
    if (Data)
      return nullptr;
    Data = U;
  }
  return Data;
}

/// Which operand of a score op continues the chain back to QK^T: the one
/// produced by a MatMul or another score op (the first such); the others
/// (masks, scales) are returned in Others when they are not constants.
Value *scoreChainOperand(const Node &N, SmallVectorImpl<Value *> &Others) {
  if (N.OpType == "Reshape" || N.OpType == "Cast")
    return N.input(0); // a shape is not a mask
  Value *Chain = nullptr;
  unsigned First = N.OpType == "Where" ? 1 : 0;
  for (unsigned I = First; I < N.Inputs.size(); ++I) {
    Value *V = N.Inputs[I];
    if (!Chain && V && !isConst(V) &&
        (isCoreMatMul(V->Producer) || isScoreOp(V->Producer)))
      Chain = V;
  }
  for (Value *V : N.Inputs)
    if (V && V != Chain && !isConst(V))
      Others.push_back(V);
  return Chain;
}

bool matchAttentionCore(Node &Anchor, FusedGroup &G) {
  SmallVector<Node *, 8> Members;
  SmallVector<Value *, 2> Masks;
  // Back from the softmax to QK^T through single-use score ops.
  Value *Cur = Anchor.input(0);
  Node *QK = nullptr;
  for (unsigned Steps = 0; Cur && Steps < 8; ++Steps) {
    Node *P = Cur->Producer;
    if (!P || !singleDataUser(Cur))
      return false;
    if (isCoreMatMul(P)) {
      QK = P;
      break;
    }
    if (!isScoreOp(P))
      return false;
    Members.push_back(P);
    Cur = scoreChainOperand(*P, Masks);
  }
  if (!QK)
    return false;
  Members.push_back(QK);
  Members.push_back(&Anchor);
  // Forward to scores x V: optional casts and a dropout whose mask is
  // unused.
  Cur = Anchor.output(0);
  Node *PV = nullptr;
  for (unsigned Steps = 0; Cur && Steps < 4; ++Steps) {
    Node *U = singleDataUser(Cur);
    if (!U || U->input(0) != Cur)
      return false;
    if (isCoreMatMul(U)) {
      PV = U;
      break;
    }
    if (isOp(U, "Dropout")) {
      const Value *Mask = U->output(1);
      if (Mask && (!Mask->Users.empty() || Mask->IsGraphOutput))
        return false;
    } else if (!isOp(U, "Cast")) {
      return false;
    }
    Members.push_back(U);
    Cur = U->output(0);
  }
  if (!PV)
    return false;
  Members.push_back(PV);
  G.Inputs = {QK->input(0), QK->input(1), PV->input(1)};
  G.Inputs.insert(G.Inputs.end(), Masks.begin(), Masks.end());
  G.Output = PV->output(0);
  G.Members.assign(Members.begin(), Members.end());
  return true;
}

/// A fused attention op (com.microsoft Attention, MultiHeadAttention,
/// GroupQueryAttention; ai.onnx Attention 23+) is its own core: under
/// flash it is priced as the flash kernel, inputs in the op's order.
bool matchAttentionOp(Node &Anchor, FusedGroup &G) {
  G.Output = Anchor.output(0);
  if (!G.Output)
    return false;
  G.Inputs.assign(Anchor.Inputs.begin(), Anchor.Inputs.end());
  G.Members = {&Anchor};
  return true;
}

// Each pattern's name, the kernel it produces (a row of the op registry in
// the domain "vram", which holds the kernel's saved-tensor rule) and its
// anchor op. Order matters only where two patterns could claim one node;
// none do today.
const FusionPatternInfo Patterns[] = {
    {"flash-attention", "FlashAttention", "Softmax", /*FlashOnly=*/true},
    {"flash-attention-op", "FlashAttention", "Attention", true},
    {"flash-attention-op", "FlashAttention", "Attention", true,
     "com.microsoft"},
    {"flash-attention-op", "FlashAttention", "MultiHeadAttention", true,
     "com.microsoft"},
    {"flash-attention-op", "FlashAttention", "GroupQueryAttention", true,
     "com.microsoft"},
    {"gelu-erf", "Gelu", "Erf"},
    {"gelu-tanh", "Gelu", "Tanh"},
    {"silu", "SiLU", "Sigmoid"},
    {"layernorm", "LayerNorm", "ReduceMean"},
    {"rsqrt", "Rsqrt", "Sqrt"},
    {"softmax-f32", "SoftmaxF32", "Softmax"},
    {"linear", "Linear", "MatMul"},
};
/// The matcher of each pattern, in the same order.
bool (*const Matchers[])(Node &, FusedGroup &) = {
    matchAttentionCore, matchAttentionOp, matchAttentionOp,   matchAttentionOp,
    matchAttentionOp,   matchGeluErf,     matchGeluTanh,      matchSilu,
    matchLayerNorm,     matchRsqrt,       matchSoftmaxUpcast, matchLinear};
static_assert(sizeof(Matchers) / sizeof(Matchers[0]) ==
                  sizeof(Patterns) / sizeof(Patterns[0]),
              "one matcher per pattern");

} // namespace

ArrayRef<FusionPatternInfo> fusionPatterns() { return Patterns; }

Error runFusion(AnalysisContext &Ctx) {
  FusionResult &R = Ctx.Fusion;
  R = FusionResult();
  if (!Ctx.Opts.Fusion)
    return Error::success();
  Graph &G = *Ctx.M.Main;
  for (auto &NPtr : G.Nodes) {
    Node &N = *NPtr;
    if (R.GroupOf.count(&N))
      continue;
    for (size_t I = 0; I < array_lengthof(Patterns); ++I) {
      const FusionPatternInfo &P = Patterns[I];
      if (N.OpType != P.Anchor || N.Domain != P.AnchorDomain ||
          (P.FlashOnly && Ctx.Opts.Attention != AttentionKernel::Flash))
        continue;
      FusedGroup Grp;
      if (!Matchers[I](N, Grp))
        continue;
      if (any_of(Grp.Members, [&](Node *M) { return R.GroupOf.count(M); }))
        continue;
      Grp.Pattern = P.Name;
      Grp.Kernel = P.Kernel;
      Grp.KernelOp = findOp("vram", P.Kernel, 1);
      assert(Grp.KernelOp && "every pattern's kernel has a registry row");
      sort(Grp.Members, [](Node *A, Node *B) { return A->Id < B->Id; });
      unsigned Idx = R.Groups.size();
      for (Node *M : Grp.Members)
        R.GroupOf[M] = Idx;
      R.Groups.push_back(std::move(Grp));
      break;
    }
  }
  return Error::success();
}

std::vector<FusedGroup> findAttentionCores(const AnalysisContext &Ctx) {
  std::vector<FusedGroup> Out;
  for (auto &NPtr : Ctx.M.Main->Nodes) {
    FusedGroup Grp;
    bool FusedOp = false;
    for (size_t I = 0; I < array_lengthof(Patterns); ++I)
      FusedOp |= Matchers[I] == matchAttentionOp &&
                 NPtr->OpType == Patterns[I].Anchor &&
                 NPtr->Domain == Patterns[I].AnchorDomain;
    if (FusedOp
            ? !matchAttentionOp(*NPtr, Grp)
            : !isOp(NPtr.get(), "Softmax") || !matchAttentionCore(*NPtr, Grp))
      continue;
    Grp.Pattern = "attention-core";
    sort(Grp.Members, [](Node *A, Node *B) { return A->Id < B->Id; });
    Out.push_back(std::move(Grp));
  }
  return Out;
}

void printFusion(AnalysisContext &Ctx, raw_ostream &OS) {
  for (const FusedGroup &G : Ctx.Fusion.Groups) {
    OS << G.Pattern << " -> " << G.Kernel << ": " << G.Output->Name << " <-";
    for (const Value *I : G.Inputs)
      if (I)
        OS << ' ' << I->Name;
    OS << " [";
    for (size_t I = 0; I < G.Members.size(); ++I)
      OS << (I ? " " : "") << G.Members[I]->OpType;
    OS << "]\n";
  }
}

} // namespace vram

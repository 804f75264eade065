//===- Lora.cpp - LoRA adapters on the linear layers ----------------------===//
//
// LoRA (Hu et al. 2021), as PEFT's LoraConfig adds it: for each linear
// layer whose weight W ([out, in] or [in, out], reached through views) has
// a name matching the targets, two trainable parameters A [in, r] and
// B [r, out] and
//
//   y' = y + (dropout(x) @ A @ B) * (alpha / r)
//
// where y is the layer's output (after its bias: PEFT adds to the base
// layer's result). The base is frozen (the requires-grad pass: with LoRA
// only the adapters and --trainable parameters train). The added nodes are
// priced like any other by their registry rows: x @ A keeps dropout(x) for
// A's gradient (or x itself without dropout, which the base layer's own
// input storage shares), (x A) @ B keeps the r-wide x A, the dropout keeps
// its mask, the scaling by a constant keeps nothing.
//
// A linear layer is a node whose registry row is a product (Kind MatMul)
// with a rank-2 parameter as its second operand (x @ W^T, PyTorch's
// Linear); products of two activations (attention) and convolutions are
// not adapted.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"
#include "vram/Analysis/GraphBuilder.h"
#include "vram/Analysis/OpRegistry.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

namespace {

/// The storage V views (through reshapes, transposes, ...), from the
/// registry's View facet; the alias pass has not run yet.
Value *baseOf(Value *V) {
  while (V && V->Producer && outputIsView(*V->Producer))
    V = V->Producer->input(0);
  return V;
}

/// What one adapter attaches to: the data input, the weight, and the value
/// the adapter's output is added to.
struct Site {
  Node *Linear;
  Value *X, *Weight, *Y;
};

/// N as a linear layer whose weight matches Targets, or None.
Optional<Site> linearSite(Node &N, const Regex &Targets) {
  const OpInfo *Op = findOp(N.Domain, N.OpType, N.OpsetVersion);
  if (!Op || Op->Kind != SavedKind::MatMul || N.numInputs() < 2 ||
      N.attrInt("transA", 0) != 0)
    return None;
  Value *W = baseOf(N.input(1));
  if (!W || W->Kind != ValueKind::Parameter || W->Sh.rank() != 2 ||
      !Targets.match(W->Name))
    return None;
  Value *Y = N.output(0);
  // PEFT adds to the base layer's result: after a bias Add that follows.
  if (Y && Y->Users.size() == 1) {
    Node *U = Y->Users.front();
    const Value *Other = U->input(U->input(0) == Y ? 1 : 0);
    if (U->Domain.empty() && U->OpType == "Add" && Other &&
        Other->Kind == ValueKind::Parameter && Other->Sh.rank() == 1)
      Y = U->output(0);
  }
  return Site{&N, N.input(0), W, Y};
}

int64_t lastDim(const Value &V) {
  return V.Sh.hasRank() && V.Sh.rank() ? V.Sh[V.Sh.rank() - 1] : -1;
}

class LoraBuilder {
public:
  explicit LoraBuilder(AnalysisContext &Ctx)
      : Ctx(Ctx), G(*Ctx.M.Main), Opts(Ctx.Opts.Lora), B(Ctx, "") {}

  Error run();

private:
  AnalysisContext &Ctx;
  Graph &G;
  const AnalysisOptions::LoraOptions &Opts;
  GraphBuilder B;
  /// Nodes to place right after a node of the graph, in order.
  DenseMap<const Node *, std::vector<Node *>> After;

  Error adapt(const Site &S);
  Value *constant(StringRef Name, DType Ty, TensorData Data);
  Expected<Value *> add(StringRef Op, StringRef Name, ArrayRef<Value *> Ins,
                        StringRef OutName, const Node *Anchor,
                        ArrayRef<std::pair<StringRef, Attribute>> Attrs = {});
};

Value *LoraBuilder::constant(StringRef Name, DType Ty, TensorData Data) {
  Value *C = B.value(Name, ValueKind::Constant);
  C->Ty = Ty;
  C->Sh = Shape(ArrayRef<int64_t>{});
  C->Data = std::move(Data);
  return C;
}

Expected<Value *>
LoraBuilder::add(StringRef Op, StringRef Name, ArrayRef<Value *> Ins,
                 StringRef OutName, const Node *Anchor,
                 ArrayRef<std::pair<StringRef, Attribute>> Attrs) {
  Value *Out = B.value(OutName);
  SmallVector<Value *, 2> Outs{Out};
  if (Op == "Dropout")
    Outs.push_back(B.value((OutName + ".mask").str()));
  Expected<Node *> N = B.node(Op, Name, Ins, Outs, Attrs);
  if (!N)
    return N.takeError();
  After[Anchor].push_back(*N);
  return Out;
}

Error LoraBuilder::adapt(const Site &S) {
  int64_t In = lastDim(*S.X), Out = lastDim(*S.Y);
  if (In <= 0 || Out <= 0)
    return Ctx.Diags.warn(describeNode(*S.Linear) +
                          ": LoRA needs the layer's input and output widths; "
                          "not adapted");
  std::string Base = S.Weight->Name;
  // The adapter's nodes sit in the layer's scope ("/h.0/attn/c_attn/
  // lora_A"), so the layer table counts them with their layer.
  StringRef LinearName = S.Linear->Name;
  std::string Scope = LinearName.contains('/')
                          ? LinearName.rsplit('/').first.str()
                          : "/" + Base;
  Value *A = B.value(Base + ".lora_A", ValueKind::Parameter);
  A->Ty = S.Weight->Ty;
  A->Sh = Shape(ArrayRef<int64_t>{In, int64_t(Opts.Rank)});
  Value *Bw = B.value(Base + ".lora_B", ValueKind::Parameter);
  Bw->Ty = S.Weight->Ty;
  Bw->Sh = Shape(ArrayRef<int64_t>{int64_t(Opts.Rank), Out});
  // Everything runs after the value it adds to is produced.
  const Node *Anchor = S.Y->Producer;
  Value *X = S.X;
  if (Opts.Dropout > 0) {
    Value *Ratio = constant(Base + ".lora_dropout_p", DType::Float,
                            TensorData::floats({Opts.Dropout}));
    Value *Training = constant(Base + ".lora_dropout_training", DType::Bool,
                               TensorData::ints({1}));
    auto D = add("Dropout", Scope + "/lora_dropout", {X, Ratio, Training},
                 Base + ".lora_dropout", Anchor);
    if (!D)
      return D.takeError();
    X = *D;
  }
  auto XA = add("MatMul", Scope + "/lora_A", {X, A}, Base + ".lora_xA", Anchor);
  if (!XA)
    return XA.takeError();
  auto XAB =
      add("MatMul", Scope + "/lora_B", {*XA, Bw}, Base + ".lora_xAB", Anchor);
  if (!XAB)
    return XAB.takeError();
  Value *Scale = constant(Base + ".lora_scaling", S.Weight->Ty,
                          TensorData::floats({Opts.Alpha / Opts.Rank}));
  auto Scaled = add("Mul", Scope + "/lora_scaling", {*XAB, Scale},
                    Base + ".lora_out", Anchor);
  if (!Scaled)
    return Scaled.takeError();
  // y' = y + the adapter; y's other users read y'.
  SmallVector<Node *, 2> Users(S.Y->Users.begin(), S.Y->Users.end());
  auto Sum = add("Add", Scope + "/lora_add", {S.Y, *Scaled},
                 S.Y->Name + ".lora", Anchor);
  if (!Sum)
    return Sum.takeError();
  for (Node *U : Users)
    for (Value *&I : U->Inputs)
      if (I == S.Y) {
        I = *Sum;
        (*Sum)->Users.push_back(U);
      }
  erase_if(S.Y->Users, [&](Node *U) { return is_contained(Users, U); });
  for (Value *&O : G.Outputs)
    if (O == S.Y) {
      O = *Sum;
      S.Y->IsGraphOutput = false;
      (*Sum)->IsGraphOutput = true;
    }
  Ctx.Lora.Adapters.push_back(A);
  Ctx.Lora.Adapters.push_back(Bw);
  Ctx.Lora.Adapted.push_back(S.Weight);
  return Error::success();
}

Error LoraBuilder::run() {
  Regex Targets("^(" + Opts.Targets + ")$");
  std::vector<Site> Sites;
  for (const auto &N : G.Nodes)
    if (Optional<Site> S = linearSite(*N, Targets))
      Sites.push_back(*S);
  if (Sites.empty()) {
    // Name a few weights of linear layers, to write the regex from.
    std::string Names;
    Regex Any(".*");
    unsigned Shown = 0;
    for (const auto &N : G.Nodes)
      if (Optional<Site> S = linearSite(*N, Any); S && Shown < 4) {
        Names += (Shown++ ? ", " : "") + S->Weight->Name;
      }
    return makeError(
        "LoRA targets '" + Opts.Targets + "' match no linear layer's weight" +
        (Names.empty() ? std::string(" (the graph has none)")
                       : " (weights of linear layers: " + Names + ", ...)"));
  }
  for (const Site &S : Sites)
    if (Error E = adapt(S))
      return E;
  // Place the new nodes after their anchors (the graph stays topological).
  std::vector<std::unique_ptr<Node>> Sorted, Added;
  DenseSet<const Node *> New;
  for (const auto &KV : After)
    for (const Node *N : KV.second)
      New.insert(N);
  DenseMap<const Node *, std::unique_ptr<Node>> Owned;
  for (auto &N : G.Nodes)
    if (New.count(N.get()))
      Owned[N.get()] = std::move(N);
  for (auto &N : G.Nodes) {
    if (!N)
      continue;
    const Node *Key = N.get();
    Sorted.push_back(std::move(N));
    auto It = After.find(Key);
    if (It != After.end())
      for (Node *A : It->second)
        Sorted.push_back(std::move(Owned[A]));
  }
  G.Nodes = std::move(Sorted);
  G.renumber();
  return Error::success();
}

} // namespace

Error runLora(AnalysisContext &Ctx) {
  if (!Ctx.Opts.Lora.Rank || Ctx.Lora.Applied)
    return Error::success();
  Ctx.Lora = LoraResult();
  Ctx.Lora.Applied = true;
  return LoraBuilder(Ctx).run();
}

void printLora(AnalysisContext &Ctx, raw_ostream &OS) {
  if (!Ctx.Lora.Applied) {
    OS << "lora none\n";
    return;
  }
  const auto &Adapters = Ctx.Lora.Adapters;
  for (size_t I = 0; I < Ctx.Lora.Adapted.size(); ++I)
    OS << "lora " << Ctx.Lora.Adapted[I]->Name << ' '
       << Adapters[2 * I]->Sh.str() << ' ' << Adapters[2 * I + 1]->Sh.str()
       << '\n';
}

} // namespace vram

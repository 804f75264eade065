//===- Loss.cpp - The loss of the training step ---------------------------===//
//
// A training step ends in a loss, and for a language model the loss is
// often the peak: cross-entropy on a large vocabulary keeps the f32
// log-probabilities for backward and computes two vocabulary-sized
// gradients. An export usually ends at the logits; this pass adds the loss
// the options ask for to the graph, as nodes the other passes price like
// any other (their registry rows say what they keep):
//
//  cross-entropy (F.cross_entropy(logits.float().view(-1, V), labels), as
//  Hugging Face's causal-LM loss computes it):
//    logits --Cast(f32)--> logits_f32 --Flatten--> [N, V] --LogSoftmax-->
//    log_probs --NegativeLogLikelihoodLoss(labels [N])--> loss (f32 scalar)
//  The Cast is there only when the logits are stored narrower than f32 and
//  upcasting is on; its result is kept in f32 under every recipe
//  (Value::FixedDType). labels is a new int64 input.
//
// The loss replaces the logits among the graph outputs: a training step
// (Hugging Face's Trainer, measured in models/torch/measure_step.py) drops
// the model's outputs once the loss is computed, so the logits are freed
// after their last use by the loss.
//
//  mean (logits.mean()): ReduceMean over every element to a scalar.
//
// A graph that computes its own loss (an op whose registry row says
// ComputesLoss: ORT training graphs) is not given a second one. With a loss,
// only the loss seeds the backward; without one, every float output does
// (as if the loss were their sum), and the report says the loss is not
// priced.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"
#include "vram/Analysis/GraphBuilder.h"
#include "vram/Analysis/OpRegistry.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

const char *lossKindName(LossKind K) {
  switch (K) {
  case LossKind::None:
    return "none";
  case LossKind::Mean:
    return "mean";
  case LossKind::CrossEntropy:
    return "cross-entropy";
  }
  return "?";
}

namespace {

/// Builds the loss nodes in the main graph.
class LossBuilder {
public:
  LossBuilder(AnalysisContext &Ctx)
      : Ctx(Ctx), G(*Ctx.M.Main), B(Ctx, "loss") {}

  Expected<Value *> crossEntropy(Value &Logits, bool Upcast);
  Expected<Value *> mean(Value &Logits);

private:
  AnalysisContext &Ctx;
  Graph &G;
  GraphBuilder B;

  /// A new activation named Base (or Base.1, ...), kept in its own dtype
  /// when Fixed.
  Value *value(StringRef Base, bool Fixed) {
    return B.value(Base, ValueKind::Activation, Fixed);
  }
  Error node(StringRef OpType, StringRef Name, ArrayRef<Value *> Ins,
             ArrayRef<Value *> Outs,
             ArrayRef<std::pair<StringRef, Attribute>> Attrs = {}) {
    Expected<Node *> N = B.node(OpType, Name, Ins, Outs, Attrs);
    return N ? Error::success() : N.takeError();
  }
};

Attribute intAttr(int64_t V) { return GraphBuilder::intAttr(V); }

Expected<Value *> LossBuilder::crossEntropy(Value &Logits, bool Upcast) {
  if (!Logits.Sh.hasRank() || Logits.Sh.rank() < 2)
    return makeError("cross-entropy needs logits of rank 2 or more; '" +
                     Logits.Name + "' has shape " + Logits.Sh.str());
  size_t R = Logits.Sh.rank();
  Value *Scores = &Logits;
  if (Upcast) {
    Value *F32 = value(Logits.Name + ".float", /*Fixed=*/true);
    Attribute To = intAttr(static_cast<int64_t>(DType::Float));
    if (Error E = node("Cast", "Cast", {&Logits}, {F32}, {{"to", To}}))
      return std::move(E);
    Scores = F32;
  }
  bool Fixed = Scores->FixedDType;
  Value *Flat = value("loss.logits_2d", Fixed);
  if (Error E = node("Flatten", "Flatten", {Scores}, {Flat},
                     {{"axis", intAttr(static_cast<int64_t>(R) - 1)}}))
    return std::move(E);
  Value *LogProbs = value("loss.log_probs", Fixed);
  if (Error E = node("LogSoftmax", "LogSoftmax", {Flat}, {LogProbs},
                     {{"axis", intAttr(1)}}))
    return std::move(E);
  // One label per position: the logits' leading dims, flattened.
  Value *Labels = G.createValue("labels");
  for (unsigned I = 1; !Labels; ++I)
    Labels = G.createValue(("labels." + Twine(I)).str());
  Labels->Kind = ValueKind::Input;
  Labels->Ty = DType::Int64;
  Labels->Sh =
      Flat->Sh.hasRank() ? Shape(ArrayRef<int64_t>{Flat->Sh[0]}) : Shape();
  G.Inputs.push_back(Labels);
  Ctx.Loss.Labels = Labels;
  Value *Loss = value("loss", Fixed);
  if (Error E = node("NegativeLogLikelihoodLoss", "NegativeLogLikelihoodLoss",
                     {LogProbs, Labels}, {Loss}))
    return std::move(E);
  return Loss;
}

Expected<Value *> LossBuilder::mean(Value &Logits) {
  Value *Loss = value("loss", Logits.FixedDType);
  if (Error E = node("ReduceMean", "ReduceMean", {&Logits}, {Loss},
                     {{"keepdims", intAttr(0)}}))
    return std::move(E);
  return Loss;
}

/// The output the loss is computed from: the named one, else the first
/// floating-point output.
Expected<Value *> lossInput(AnalysisContext &Ctx) {
  const Graph &G = *Ctx.M.Main;
  StringRef Name = Ctx.Opts.LossOutput;
  for (Value *V : G.Outputs) {
    if (!Name.empty() ? V->Name == Name : isFloatingPoint(V->Ty))
      return V;
  }
  if (!Name.empty())
    return makeError("the loss output '" + Name +
                     "' is not an output of the graph");
  return makeError("the graph has no floating-point output to compute a "
                   "loss from");
}

} // namespace

Error runLoss(AnalysisContext &Ctx) {
  LossResult &R = Ctx.Loss;
  if (R.Loss) // added already (the pass ran before)
    return Error::success();
  R = LossResult();
  Graph &G = *Ctx.M.Main;
  for (const auto &N : G.Nodes) {
    const OpInfo *Op = findOp(N->Domain, N->OpType, N->OpsetVersion);
    if (Op && Op->ComputesLoss) {
      R.InGraph = N.get();
      R.Loss = N->output(0);
      break;
    }
  }
  if (Ctx.Opts.Loss == LossKind::None)
    return Error::success();
  if (R.InGraph)
    return Ctx.Diags.warn(describeNode(*R.InGraph) +
                          ": the graph computes its own loss; no " +
                          lossKindName(Ctx.Opts.Loss) + " loss is added");
  Expected<Value *> Logits = lossInput(Ctx);
  if (!Logits)
    return Logits.takeError();
  LossBuilder B(Ctx);
  R.Logits = *Logits;
  DType Stored = (*Logits)->Ty;
  if (Ctx.Opts.ActivationDType && isFloatingPoint(Stored) &&
      !(*Logits)->FixedDType &&
      dtypeBits(*Ctx.Opts.ActivationDType) < dtypeBits(Stored))
    Stored = *Ctx.Opts.ActivationDType;
  R.Upcast = Ctx.Opts.Loss == LossKind::CrossEntropy && Ctx.Opts.LossUpcast &&
             dtypeBits(Stored) < 32;
  Expected<Value *> Loss = Ctx.Opts.Loss == LossKind::CrossEntropy
                               ? B.crossEntropy(**Logits, R.Upcast)
                               : B.mean(**Logits);
  if (!Loss)
    return Loss.takeError();
  // The loss takes the logits' place among the outputs: a training step
  // (Hugging Face's Trainer) drops the model's outputs once the loss is
  // computed, so the logits live only as long as the loss needs them.
  (*Loss)->IsGraphOutput = true;
  auto It = find(G.Outputs, *Logits);
  (*Logits)->IsGraphOutput = false;
  *It = *Loss;
  R.Loss = *Loss;
  G.renumber();
  return Error::success();
}

void printLoss(AnalysisContext &Ctx, raw_ostream &OS) {
  const LossResult &R = Ctx.Loss;
  if (R.InGraph) {
    OS << "loss in the graph: " << describeNode(*R.InGraph) << '\n';
    return;
  }
  if (!R.Loss) {
    OS << "loss none\n";
    return;
  }
  OS << "loss " << lossKindName(Ctx.Opts.Loss) << " of " << R.Logits->Name
     << (R.Upcast ? " (upcast to f32)" : "") << " -> " << R.Loss->Name << ' '
     << dtypeName(R.Loss->Ty) << ' ' << R.Loss->Sh.str() << '\n';
  if (R.Labels)
    OS << "labels " << R.Labels->Name << ' ' << dtypeName(R.Labels->Ty) << ' '
       << R.Labels->Sh.str() << '\n';
}

} // namespace vram

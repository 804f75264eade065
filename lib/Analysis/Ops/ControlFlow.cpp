//===- ControlFlow.cpp - ai.onnx control flow
//-------------------------------===//
//
// The op registry's rows for ai.onnx control flow: If, Loop, Scan, and their
// shape functions and saved-tensor rules (following controlflow/defs.cc). Each
// row holds every facet of one (domain, op, opset range); see
// vram/Analysis/OpRegistry.h.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

/// Dims of S where both sides agree, Unknown where they differ; unknown rank
/// when the ranks differ.
Shape mergeShapes(const Shape &A, const Shape &B) {
  if (!A.hasRank() || !B.hasRank() || A.rank() != B.rank())
    return Shape();
  Shape R = A;
  for (size_t I = 0; I < A.rank(); ++I)
    if (A[I] != B[I])
      R[I] = Shape::Unknown;
  return R;
}

Expected<Graph *> graphAttr(ShapeContext &C, StringRef Name) {
  Node &N = C.node();
  const Attribute *A = N.attr(Name);
  if (!A || A->K != Attribute::Graphs || A->GraphIndices.empty() ||
      A->GraphIndices[0] >= N.Subgraphs.size() ||
      !N.Subgraphs[A->GraphIndices[0]])
    return C.error("missing graph attribute '" + Name + "'");
  return N.Subgraphs[A->GraphIndices[0]].get();
}

/// Of two candidate shapes for one value, the larger when both are
/// concrete, else the dims they agree on.
Shape joinBranches(const Shape &A, const Shape &B) {
  if (A == B)
    return A;
  Optional<uint64_t> NA = A.numElements(), NB = B.numElements();
  if (NA && NB)
    return *NA >= *NB ? A : B;
  return mergeShapes(A, B);
}

Error ifOp(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Expected<Graph *> Then = graphAttr(C, "then_branch");
  if (!Then)
    return Then.takeError();
  Expected<Graph *> Else = graphAttr(C, "else_branch");
  if (!Else)
    return Else.takeError();
  Graph *Chosen = nullptr;
  if (const TensorData *Cond = knownData(C, 0))
    if (Cond->size() == 1)
      Chosen = Cond->asDouble(0) != 0 ? *Then : *Else;
  if (Chosen) {
    // Only the branch taken runs; the other may not even be valid for these
    // bindings.
    (Chosen == *Then ? *Else : *Then)->NotTaken = true;
    if (Error E = C.inferSubgraph(*Chosen))
      return E;
  } else {
    // Either may run. A branch that cannot run with these bindings is
    // reported and the other one is priced.
    Error ThenErr = C.inferSubgraph(**Then);
    Error ElseErr = C.inferSubgraph(**Else);
    if (ThenErr && ElseErr) {
      consumeError(std::move(ElseErr));
      return ThenErr;
    }
    for (auto *P : {&ThenErr, &ElseErr}) {
      if (!*P)
        continue;
      bool IsThen = P == &ThenErr;
      C.note(Twine(IsThen ? "then" : "else") +
             "_branch cannot run with these bindings (" +
             toString(std::move(*P)) + "); pricing the " +
             (IsThen ? "else" : "then") + " branch");
      Chosen = IsThen ? *Else : *Then;
      (IsThen ? *Then : *Else)->NotTaken = true;
    }
  }
  for (unsigned I = 0; I < C.numOutputs(); ++I) {
    if (I >= (*Then)->Outputs.size() || I >= (*Else)->Outputs.size())
      return C.error("a branch has fewer than " + Twine(C.numOutputs()) +
                     " outputs");
    Value *T = (*Then)->Outputs[I], *E = (*Else)->Outputs[I];
    if (Chosen) {
      Value *V = Chosen->Outputs[I];
      if (V->Seq)
        C.setSequenceOutput(I, V->Ty, *V->Seq);
      else
        setOut(C, I, V->Ty, V->Sh, V->Data);
      continue;
    }
    DType Ty = T->Ty != DType::Undefined ? T->Ty : E->Ty;
    if (T->Seq && E->Seq) {
      // Sequences: the larger of the two when both are known, else a
      // sequence of unknown length whose elements have the shape the two
      // agree on.
      Shape ST = T->Seq->storage(), SE = E->Seq->storage();
      Optional<uint64_t> NT = ST.numElements(), NE = SE.numElements();
      if (NT && NE) {
        C.setSequenceOutput(I, Ty, *NT >= *NE ? *T->Seq : *E->Seq);
        continue;
      }
      SequenceType Joined;
      Joined.Element = mergeShapes(T->Seq->common(), E->Seq->common());
      C.setSequenceOutput(I, Ty, Joined);
      continue;
    }
    C.setOutput(I, Ty, joinBranches(T->Sh, E->Sh));
  }
  return ok();
}

/// The most positions a Loop-carried sequence is given one by one; a longer
/// one is left with an unknown length (and unpriced).
constexpr uint64_t MaxCarriedPositions = 1 << 16;

/// A sequence carried through Trip iterations of a Loop body that turns
/// Init into Body: when the body keeps Init's positions and appends a fixed
/// block (SequenceInsert at the end, say), the final sequence is Init then
/// Trip copies of the block; otherwise its length is unknown and every
/// element has the shape the two agree on.
SequenceType carriedSequence(const SequenceType &Init, const SequenceType &Body,
                             int64_t Trip) {
  if (Init.Elements && Body.Elements && Trip >= 0 &&
      Body.Elements->size() >= Init.Elements->size() &&
      std::equal(Init.Elements->begin(), Init.Elements->end(),
                 Body.Elements->begin())) {
    uint64_t Block = Body.Elements->size() - Init.Elements->size();
    if (Block == 0 ||
        (Block * static_cast<uint64_t>(Trip) <= MaxCarriedPositions)) {
      SequenceType R = Init;
      for (int64_t T = 0; T < Trip && Block; ++T)
        R.Elements->insert(R.Elements->end(),
                           Body.Elements->begin() + Init.Elements->size(),
                           Body.Elements->end());
      return R;
    }
  }
  SequenceType R;
  Shape A = Init.common(), B = Body.common();
  bool InitEmpty = Init.Elements && Init.Elements->empty();
  if (InitEmpty)
    R.Element = B;
  else if (A.hasRank() && B.hasRank() && A.rank() == B.rank()) {
    R.Element = A;
    for (size_t I = 0; I < A.rank(); ++I)
      if (A[I] != B[I])
        R.Element[I] = Shape::Unknown;
  }
  return R;
}

/// Sets a subgraph input from the value that feeds it (when known).
void feed(Value *Formal, DType T, const Shape &S) {
  if (!Formal)
    return;
  if (T != DType::Undefined)
    Formal->Ty = T;
  if (S.hasRank() || !Formal->Sh.hasRank())
    Formal->Sh = S;
  Formal->Data = None;
}

Error loop(ShapeContext &C) {
  Expected<Graph *> BodyOr = graphAttr(C, "body");
  if (!BodyOr)
    return BodyOr.takeError();
  Graph &Body = **BodyOr;
  unsigned NCarried = C.numInputs() > 2 ? C.numInputs() - 2 : 0;
  if (Body.Inputs.size() < 2 + NCarried)
    return C.error("loop body has " + Twine(Body.Inputs.size()) +
                   " inputs for " + Twine(NCarried) + " carried values");
  if (Body.Outputs.size() < 1 + NCarried ||
      Body.Outputs.size() - 1 - NCarried < C.numOutputs() - NCarried)
    return C.error("loop body has too few outputs");
  feed(Body.Inputs[0], DType::Int64, Shape::scalar());
  feed(Body.Inputs[1], DType::Bool, Shape::scalar());
  for (unsigned K = 0; K < NCarried; ++K)
    if (Value *V = C.in(2 + K)) {
      feed(Body.Inputs[2 + K], V->Ty, V->Sh);
      Body.Inputs[2 + K]->Seq = V->Seq;
    }
  if (Error E = C.inferSubgraph(Body))
    return E;
  int64_t Trip = Shape::Unknown;
  if (const TensorData *M = knownData(C, 0))
    if (M->size() == 1 && M->asInt(0) >= 0 && M->asInt(0) <= INT32_MAX)
      Trip = M->asInt(0);
  auto Init = [&](unsigned I) { return C.in(2 + I); };
  for (unsigned I = 0; I < C.numOutputs(); ++I) {
    Value *B = Body.Outputs[1 + I];
    if (I < NCarried && Init(I) && Init(I)->Seq && B->Seq) {
      C.setSequenceOutput(I, Init(I)->Ty,
                          carriedSequence(*Init(I)->Seq, *B->Seq, Trip));
      continue;
    }
    if (I < NCarried) {
      Value *Init = C.in(2 + I);
      DType T = Init && Init->Ty != DType::Undefined ? Init->Ty : B->Ty;
      Shape S = Init ? Init->Sh : B->Sh;
      if (B->Sh.hasRank())
        S = mergeShapes(S, B->Sh);
      C.setOutput(I, T, S);
      continue;
    }
    Shape S;
    if (B->Sh.hasRank()) {
      IntVec Dims{Trip};
      Dims.append(B->Sh.dims().begin(), B->Sh.dims().end());
      S = Shape(Dims);
    }
    C.setOutput(I, B->Ty, S);
  }
  return ok();
}

/// Scan 9+: N state values then num_scan_inputs sequences.
Error scan(ShapeContext &C) {
  Expected<Graph *> BodyOr = graphAttr(C, "body");
  if (!BodyOr)
    return BodyOr.takeError();
  Graph &Body = **BodyOr;
  const Attribute *NScanA = C.node().attr("num_scan_inputs");
  if (!NScanA || NScanA->K != Attribute::Int || NScanA->I < 0 ||
      NScanA->I > C.numInputs())
    return C.error("invalid attribute 'num_scan_inputs'");
  unsigned NScan = NScanA->I, NState = C.numInputs() - NScan;
  if (Body.Inputs.size() != C.numInputs() ||
      Body.Outputs.size() < C.numOutputs())
    return C.error("scan body does not match the node's inputs and outputs");
  auto InAxes = C.node().attrInts("scan_input_axes");
  auto OutAxes = C.node().attrInts("scan_output_axes");
  int64_t SeqLen = Shape::Unknown;
  for (unsigned K = 0; K < NState; ++K)
    if (Value *V = C.in(K))
      feed(Body.Inputs[K], V->Ty, V->Sh);
  for (unsigned K = 0; K < NScan; ++K) {
    Value *V = C.in(NState + K);
    if (!V)
      continue;
    Shape S;
    if (V->Sh.hasRank() && V->Sh.rank() > 0) {
      int64_t A = InAxes && K < InAxes->size() ? (*InAxes)[K] : 0;
      Optional<size_t> Axis = normalizeAxis(A, V->Sh.rank());
      if (!Axis)
        return C.error("scan input axis " + Twine(A) + " is out of range");
      if (SeqLen < 0)
        SeqLen = V->Sh[*Axis];
      IntVec Dims(V->Sh.dims().begin(), V->Sh.dims().end());
      Dims.erase(Dims.begin() + *Axis);
      S = Shape(Dims);
    }
    feed(Body.Inputs[NState + K], V->Ty, S);
  }
  if (Error E = C.inferSubgraph(Body))
    return E;
  for (unsigned I = 0; I < C.numOutputs(); ++I) {
    Value *B = Body.Outputs[I];
    if (I < NState) {
      Value *Init = C.in(I);
      Shape S = Init ? Init->Sh : B->Sh;
      if (B->Sh.hasRank())
        S = mergeShapes(S, B->Sh);
      C.setOutput(I, Init ? Init->Ty : B->Ty, S);
      continue;
    }
    Shape S;
    if (B->Sh.hasRank()) {
      unsigned J = I - NState;
      int64_t A = OutAxes && J < OutAxes->size() ? (*OutAxes)[J] : 0;
      Optional<size_t> Axis = normalizeAxis(A, B->Sh.rank() + 1);
      if (!Axis)
        return C.error("scan output axis " + Twine(A) + " is out of range");
      IntVec Dims(B->Sh.dims().begin(), B->Sh.dims().end());
      Dims.insert(Dims.begin() + *Axis, SeqLen);
      S = Shape(Dims);
    }
    C.setOutput(I, B->Ty, S);
  }
  return ok();
}

/// Scan 8 (batched, with sequence_lens): body inferred, outputs left to the
/// model's declarations.
Error scanV8(ShapeContext &C) {
  Expected<Graph *> BodyOr = graphAttr(C, "body");
  if (!BodyOr)
    return BodyOr.takeError();
  return C.inferSubgraph(**BodyOr);
}

const OpInfo Rows[] = {
    {"", "If", 1, Any, ifOp, nullptr, ViewKind::None, GradKind::Differentiable,
     PrecisionClass::InputType, "",
     "saved: control flow; the branch bodies are not differentiated here "
     "(conservative fallback)"},
    {"", "Loop", 1, Any, loop, nullptr, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "",
     "saved: control flow; the loop body is not differentiated here "
     "(conservative fallback)"},
    {"", "Scan", 8, 8, scanV8, nullptr, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "",
     "saved: control flow; the scan body is not differentiated here "
     "(conservative fallback)"},
    {"", "Scan", 9, Any, scan, nullptr, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "",
     "saved: control flow; the scan body is not differentiated here "
     "(conservative fallback)"},
};

} // namespace

ArrayRef<OpInfo> controlFlowOps() { return Rows; }

} // namespace vram

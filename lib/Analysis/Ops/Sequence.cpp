//===- Sequence.cpp - Sequence ops (seq(tensor) values) -------------------===//
//
// The op registry's rows for the ONNX sequence ops: SequenceEmpty,
// SequenceConstruct, SequenceInsert, SequenceAt, SequenceLength,
// SequenceErase, SplitToSequence, ConcatFromSequence. A sequence value
// carries its element dtype and the shape of each position when its length
// is known, else the shape every element has (vram/IR/Graph.h,
// SequenceType); it is priced as the sum of its elements. Loop-carried
// sequences are in ControlFlow.cpp.
//
// What the backward keeps: nothing. These ops move tensors in and out of a
// list; their gradients (PyTorch's list indexing, split and cat) are
// routed, not computed from saved values.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

/// The sequence input I, or an error when it is not a sequence.
Expected<const SequenceType *> seqInput(ShapeContext &C, unsigned I) {
  if (Error E = C.requireInput(I))
    return std::move(E);
  const Value *V = C.in(I);
  if (!V->Seq)
    return C.error("input " + Twine(I) + " ('" + V->Name +
                   "') is not a sequence");
  return V->Seq.getPointer();
}

/// Two element shapes joined: the dims they agree on, unknown elsewhere.
Shape joinShapes(const Shape &A, const Shape &B) {
  if (!A.hasRank() || !B.hasRank() || A.rank() != B.rank())
    return Shape();
  Shape R = A;
  for (size_t I = 0; I < R.rank(); ++I)
    if (R[I] != B[I])
      R[I] = Unknown;
  return R;
}

/// A position input (scalar int) against a sequence of length Len: the
/// index in [0, Len) (or [0, Len] when AllowEnd, SequenceInsert), None when
/// the position is absent (Default applies) or unknown (Known = false).
struct Position {
  bool Present = false;
  bool Known = false;
  size_t Index = 0;
};

Expected<Position> positionInput(ShapeContext &C, unsigned I, size_t Len,
                                 bool AllowEnd) {
  Position P;
  if (!C.in(I))
    return P;
  P.Present = true;
  const TensorData *D = knownData(C, I);
  if (!D || D->size() != 1)
    return P;
  int64_t Pos = D->asInt(0), N = static_cast<int64_t>(Len);
  int64_t Max = AllowEnd ? N : N - 1;
  if (Pos < -N || Pos > Max)
    return C.error("position " + Twine(Pos) + " is out of range for a " +
                   "sequence of length " + Twine(Len));
  P.Known = true;
  P.Index = static_cast<size_t>(Pos < 0 ? Pos + N : Pos);
  return P;
}

/// SequenceEmpty <dtype = float>: a sequence of length 0.
Error sequenceEmpty(ShapeContext &C) {
  Expected<DType> T = dtypeAttr(C, "dtype", DType::Float);
  if (!T)
    return T.takeError();
  SequenceType S;
  S.Elements.emplace();
  C.setSequenceOutput(0, *T, S);
  return ok();
}

/// SequenceConstruct(inputs...): one position per input.
Error sequenceConstruct(ShapeContext &C) {
  if (C.numInputs() == 0)
    return C.error("no inputs");
  SequenceType S;
  S.Elements.emplace();
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (Error E = C.requireInput(I))
      return E;
    if (C.in(I)->Ty != C.in(0)->Ty)
      return C.error("inputs of different element types");
    S.Elements->push_back(C.in(I)->Sh);
  }
  C.setSequenceOutput(0, C.in(0)->Ty, S);
  return ok();
}

/// SequenceInsert(seq, tensor, position = end).
Error sequenceInsert(ShapeContext &C) {
  Expected<const SequenceType *> Seq = seqInput(C, 0);
  if (!Seq)
    return Seq.takeError();
  if (Error E = C.requireInput(1))
    return E;
  const Shape &T = C.in(1)->Sh;
  SequenceType S = **Seq;
  if (S.Elements) {
    Expected<Position> P = positionInput(C, 2, S.Elements->size(), true);
    if (!P)
      return P.takeError();
    if (!P->Present || P->Known) {
      size_t At = P->Present ? P->Index : S.Elements->size();
      S.Elements->insert(S.Elements->begin() + At, T);
    } else {
      // The length is known, the place is not: every position may hold
      // any of the shapes.
      Shape J = S.Elements->empty() ? T : joinShapes(S.common(), T);
      S.Elements->assign(S.Elements->size() + 1, J);
    }
  } else {
    S.Element = joinShapes(S.Element, T);
  }
  C.setSequenceOutput(0, C.in(1)->Ty, S);
  return ok();
}

/// SequenceAt(seq, position) -> the tensor at position.
Error sequenceAt(ShapeContext &C) {
  Expected<const SequenceType *> Seq = seqInput(C, 0);
  if (!Seq)
    return Seq.takeError();
  if (Error E = C.requireInput(1))
    return E;
  const SequenceType &S = **Seq;
  DType Ty = C.in(0)->Ty;
  if (S.Elements) {
    if (S.Elements->empty())
      return C.error("the sequence is empty");
    Expected<Position> P = positionInput(C, 1, S.Elements->size(), false);
    if (!P)
      return P.takeError();
    C.setOutput(0, Ty, P->Known ? (*S.Elements)[P->Index] : S.common());
    return ok();
  }
  C.setOutput(0, Ty, S.Element);
  return ok();
}

/// SequenceLength(seq) -> int64 scalar (known when the length is).
Error sequenceLength(ShapeContext &C) {
  Expected<const SequenceType *> Seq = seqInput(C, 0);
  if (!Seq)
    return Seq.takeError();
  if ((*Seq)->Elements)
    C.setOutput(
        0, DType::Int64, Shape::scalar(),
        TensorData::ints({static_cast<int64_t>((*Seq)->Elements->size())}));
  else
    C.setOutput(0, DType::Int64, Shape::scalar());
  return ok();
}

/// SequenceErase(seq, position = last).
Error sequenceErase(ShapeContext &C) {
  Expected<const SequenceType *> Seq = seqInput(C, 0);
  if (!Seq)
    return Seq.takeError();
  SequenceType S = **Seq;
  if (S.Elements) {
    if (S.Elements->empty())
      return C.error("the sequence is empty");
    Expected<Position> P = positionInput(C, 1, S.Elements->size(), false);
    if (!P)
      return P.takeError();
    if (!P->Present || P->Known) {
      size_t At = P->Present ? P->Index : S.Elements->size() - 1;
      S.Elements->erase(S.Elements->begin() + At);
    } else {
      Shape J = S.common();
      S.Elements->assign(S.Elements->size() - 1, J);
    }
  }
  C.setSequenceOutput(0, C.in(0)->Ty, S);
  return ok();
}

/// The most positions SplitToSequence gives one by one; more leave the
/// length unknown (and the sequence unpriced).
constexpr int64_t MaxSplitPositions = 1 << 16;

/// SplitToSequence(input, split?) <axis = 0, keepdims = 1>: without split,
/// pieces of 1 along axis (squeezed unless keepdims); a scalar split gives
/// pieces of that size (the last smaller); a 1-D split gives the sizes.
Error splitToSequence(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  SequenceType S;
  if (!X->Sh.hasRank()) {
    C.setSequenceOutput(0, X->Ty, S);
    return ok();
  }
  const Shape &In = X->Sh;
  Expected<size_t> Axis = axisAttr(C, "axis", 0, In.rank());
  if (!Axis)
    return Axis.takeError();
  int64_t D = In[*Axis];
  bool KeepDims = C.node().attrInt("keepdims", 1) != 0;
  IntVec Sizes;
  bool Known = known(D);
  if (Value *Split = C.in(1)) {
    KeepDims = true; // keepdims applies only without split
    const TensorData *SD = knownData(C, 1);
    if (!SD || !Split->Sh.hasRank()) {
      Known = false;
    } else if (Split->Sh.rank() == 0) {
      int64_t K = SD->asInt(0);
      if (K <= 0)
        return C.error("split size " + Twine(K) + " is not positive");
      if (Known && ceilDiv(D, K) > MaxSplitPositions) {
        Known = false;
      } else if (Known) {
        for (int64_t Off = 0; Off < D; Off += K)
          Sizes.push_back(std::min(K, D - Off));
      }
    } else {
      int64_t Sum = 0;
      for (size_t I = 0; I < SD->size(); ++I) {
        if (SD->asInt(I) < 0)
          return C.error("negative split size " + Twine(SD->asInt(I)));
        if (__builtin_add_overflow(Sum, SD->asInt(I), &Sum))
          return C.error("split sizes overflow");
        Sizes.push_back(SD->asInt(I));
      }
      if (Known && Sum != D)
        return C.error("split sizes sum to " + Twine(Sum) + " but dim " +
                       Twine(*Axis) + " is " + Twine(D));
      Known = true;
    }
  } else if (Known && D > MaxSplitPositions) {
    Known = false;
  } else if (Known) {
    Sizes.assign(static_cast<size_t>(D), 1);
  }
  auto Piece = [&](int64_t Size) {
    Shape P = In;
    P[*Axis] = Size;
    if (KeepDims)
      return P;
    IntVec Dims(P.dims().begin(), P.dims().end());
    Dims.erase(Dims.begin() + *Axis);
    return Shape(Dims);
  };
  if (Known) {
    S.Elements.emplace();
    for (int64_t K : Sizes)
      S.Elements->push_back(Piece(K));
  } else {
    S.Element = Piece(C.in(1) ? Unknown : 1);
  }
  C.setSequenceOutput(0, X->Ty, S);
  return ok();
}

/// ConcatFromSequence(seq) <axis, new_axis = 0>: Concat of the elements
/// along axis, or Stack along a new axis when new_axis = 1.
Error concatFromSequence(ShapeContext &C) {
  Expected<const SequenceType *> Seq = seqInput(C, 0);
  if (!Seq)
    return Seq.takeError();
  const SequenceType &S = **Seq;
  const Attribute *AxisAttr = C.node().attr("axis");
  if (!AxisAttr || AxisAttr->K != Attribute::Int)
    return C.error("missing required attribute 'axis'");
  bool NewAxis = C.node().attrInt("new_axis", 0) != 0;
  DType Ty = C.in(0)->Ty;
  Shape Common = S.common();
  if (!Common.hasRank()) {
    C.setOutput(0, Ty, Shape());
    return ok();
  }
  size_t R = Common.rank() + (NewAxis ? 1 : 0);
  Optional<size_t> Axis = normalizeAxis(AxisAttr->I, R);
  if (!Axis || (!NewAxis && R == 0))
    return C.error("axis " + Twine(AxisAttr->I) +
                   " is out of range for elements of rank " +
                   Twine(Common.rank()));
  IntVec Dims(Common.dims().begin(), Common.dims().end());
  if (NewAxis) {
    int64_t N = S.Elements ? static_cast<int64_t>(S.Elements->size()) : Unknown;
    Dims.insert(Dims.begin() + *Axis, N);
    C.setOutput(0, Ty, Shape(Dims));
    return ok();
  }
  int64_t Sum = S.Elements ? 0 : Unknown;
  if (S.Elements) {
    for (const Shape &E : *S.Elements) {
      for (size_t I = 0; I < E.rank(); ++I)
        if (I != *Axis && known(E[I]) && known(Common[I]) && E[I] != Common[I])
          return C.error("elements of shapes " + Common.str() + " and " +
                         E.str() + " cannot be concatenated along axis " +
                         Twine(*Axis));
      if (!known(Sum) || !known(E[*Axis]) ||
          __builtin_add_overflow(Sum, E[*Axis], &Sum))
        Sum = Unknown;
    }
  }
  Dims[*Axis] = Sum;
  C.setOutput(0, Ty, Shape(Dims));
  return ok();
}

constexpr const char *NoSave =
    "list ops (cat, split, indexing): gradients are routed, nothing kept";

const OpInfo Rows[] = {
    {"", "ConcatFromSequence", 11, Any, concatFromSequence, saveNothing,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::Promote,
     "cat/stack: nothing (the gradient is split)", ""},
    {"", "SequenceAt", 11, Any, sequenceAt, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, NoSave, ""},
    {"", "SequenceConstruct", 11, Any, sequenceConstruct, saveNothing,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     NoSave, ""},
    {"", "SequenceEmpty", 11, Any, sequenceEmpty, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "SequenceErase", 11, Any, sequenceErase, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, NoSave, ""},
    {"", "SequenceInsert", 11, Any, sequenceInsert, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, NoSave, ""},
    {"", "SequenceLength", 11, Any, sequenceLength, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "SplitToSequence", 11, Any, splitToSequence, saveNothing,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "split: nothing (the gradient is concatenated)", ""},
};

} // namespace

ArrayRef<OpInfo> sequenceOps() { return Rows; }

} // namespace vram

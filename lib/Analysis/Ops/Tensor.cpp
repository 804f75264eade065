//===- Tensor.cpp - ai.onnx tensor
//------------------------------------------===//
//
// The op registry's rows for ai.onnx tensor: casts, shape manipulation,
// gather/scatter, slicing, resampling, and their shape functions and
// saved-tensor rules (following tensor/defs.cc). Each row holds every facet of
// one (domain, op, opset range); see vram/Analysis/OpRegistry.h.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

/// Converts contents to element type To (Cast semantics); None when a value
/// cannot be represented (NaN or out of range to an integer type).
Optional<TensorData> convertData(const TensorData &D, DType To) {
  TensorData R;
  if (isFloatingPoint(To)) {
    R.IsFloat = true;
    for (size_t I = 0; I < D.size(); ++I)
      R.Floats.push_back(D.asDouble(I));
    return R;
  }
  if (!holdsInts(To))
    return None;
  for (size_t I = 0; I < D.size(); ++I) {
    if (!D.IsFloat) {
      R.Ints.push_back(wrapInt(To, D.Ints[I]));
      continue;
    }
    double F = D.Floats[I];
    if (To == DType::Bool) {
      R.Ints.push_back(F != 0);
      continue;
    }
    if (!std::isfinite(F) || F >= 9.2e18 || F <= -9.2e18)
      return None;
    R.Ints.push_back(wrapInt(To, static_cast<int64_t>(std::trunc(F))));
  }
  return R;
}

Error identity(ShapeContext &C) { return passThrough(C); }

Error cast(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Attribute *To = C.node().attr("to");
  if (!To || To->K != Attribute::Int)
    return C.error("missing integer attribute 'to'");
  Optional<DType> T = dtypeFromOnnx(To->I);
  if (!T)
    return C.error("attribute 'to' = " + Twine(To->I) +
                   " is not an ONNX element type");
  Optional<TensorData> D;
  if (const TensorData *In = knownData(C, 0))
    D = convertData(*In, *T);
  setOut(C, 0, *T, C.in(0)->Sh, std::move(D));
  return ok();
}

Error castLike(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  DType T = C.in(1)->Ty;
  Optional<TensorData> D;
  if (const TensorData *In = knownData(C, 0))
    if (T != DType::Undefined)
      D = convertData(*In, T);
  setOut(C, 0, T, C.in(0)->Sh, std::move(D));
  return ok();
}

Error shapeOp(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &S = C.in(0)->Sh;
  if (!S.hasRank()) {
    C.setOutput(0, DType::Int64, shapeOf({Shape::Unknown}));
    return ok();
  }
  int64_t R = S.rank();
  int64_t Start = C.node().attrInt("start", 0);
  int64_t End = C.node().attrInt("end", R);
  if (Start < 0)
    Start += R;
  if (End < 0)
    End += R;
  Start = std::min(std::max<int64_t>(Start, 0), R);
  End = std::min(std::max<int64_t>(End, 0), R);
  int64_t Len = std::max<int64_t>(End - Start, 0);
  IntVec Dims;
  bool Known = true;
  for (int64_t I = Start; I < Start + Len; ++I) {
    Dims.push_back(S[I]);
    Known &= S[I] >= 0;
  }
  Optional<TensorData> D;
  if (Known)
    D = TensorData::ints(Dims);
  setOut(C, 0, DType::Int64, shapeOf({Len}), std::move(D));
  return ok();
}

Error sizeOp(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Optional<TensorData> D;
  if (Optional<uint64_t> N = C.in(0)->Sh.numElements())
    D = TensorData::ints({static_cast<int64_t>(*N)});
  setOut(C, 0, DType::Int64, Shape::scalar(), std::move(D));
  return ok();
}

Error gather(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0), *Idx = C.in(1);
  if (!X->Sh.hasRank() || !Idx->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  size_t R = X->Sh.rank();
  Expected<size_t> Axis = axisAttr(C, "axis", 0, R);
  if (!Axis)
    return Axis.takeError();
  IntVec Dims(X->Sh.dims().begin(), X->Sh.dims().begin() + *Axis);
  Dims.append(Idx->Sh.dims().begin(), Idx->Sh.dims().end());
  Dims.append(X->Sh.dims().begin() + *Axis + 1, X->Sh.dims().end());
  Shape Out(Dims);
  Optional<TensorData> D;
  const TensorData *Src = knownData(C, 0);
  auto Indices = C.ints(1);
  int64_t AxisDim = X->Sh[*Axis];
  bool InRange = true;
  // Positions (a Range) past the end of a fixed-size table (a learned
  // position embedding): the sequence is longer than the model allows.
  if (Idx->Bounds && AxisDim >= 0 && X->isInitializerLike() &&
      (Idx->Bounds->second >= AxisDim || Idx->Bounds->first < -AxisDim))
    return C.error("positions up to " + Twine(Idx->Bounds->second) +
                   " are out of range for dim " + Twine(AxisDim) +
                   " of the table");
  if (Indices && AxisDim >= 0) {
    for (int64_t &I : *Indices) {
      if (I < -AxisDim || I >= AxisDim) {
        // Out-of-range indices into a weight are a run-time matter (shrunk
        // exports have them, with a sequence longer than the table); into
        // a known integer tensor (shape arithmetic) they are malformed.
        if (Src && !isFloatingPoint(X->Ty))
          return C.error("index " + Twine(I) + " is out of range for dim " +
                         Twine(AxisDim));
        InRange = false;
      } else if (I < 0) {
        I += AxisDim;
      }
    }
  }
  if (Src && Indices && InRange && smallCount(Out)) {
    size_t Outer = dimProduct(X->Sh, 0, *Axis);
    size_t Inner = dimProduct(X->Sh, *Axis + 1, R);
    SmallVector<size_t, 16> Flat;
    for (size_t O = 0; O < Outer; ++O)
      for (int64_t I : *Indices)
        for (size_t K = 0; K < Inner; ++K)
          Flat.push_back((O * AxisDim + I) * Inner + K);
    D = pick(*Src, Flat);
  }
  setOut(C, 0, X->Ty, Out, std::move(D));
  return ok();
}

Error gatherElements(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  C.setOutput(0, C.in(0)->Ty, C.in(1)->Sh);
  return ok();
}

Error gatherND(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0), *Idx = C.in(1);
  int64_t B = C.node().attrInt("batch_dims", 0);
  const Shape &XS = X->Sh, &IS = Idx->Sh;
  if (!XS.hasRank() || !IS.hasRank() || IS.rank() == 0 ||
      IS[IS.rank() - 1] < 0) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  int64_t Last = IS[IS.rank() - 1];
  if (B < 0 || B + Last > static_cast<int64_t>(XS.rank()))
    return C.error("indices of shape " + IS.str() + " with batch_dims " +
                   Twine(B) + " do not fit data of shape " + XS.str());
  IntVec Dims(IS.dims().begin(), IS.dims().end() - 1);
  Dims.append(XS.dims().begin() + B + Last, XS.dims().end());
  C.setOutput(0, X->Ty, Shape(Dims));
  return ok();
}

/// Unsqueeze: AxesFromInput since opset 13.
template <bool AxesFromInput> Error unsqueeze(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Axes = listFrom(C, AxesFromInput, 1, "axes");
  if (!Axes.Present)
    return C.error("missing axes");
  if (!X->Sh.hasRank() || !Axes.Known) {
    Shape S;
    if (X->Sh.hasRank() && Axes.Length >= 0)
      S = Shape::unknownDims(X->Sh.rank() + Axes.Length);
    C.setOutput(0, X->Ty, S);
    return ok();
  }
  size_t OutRank = X->Sh.rank() + Axes.Vals.size();
  auto Norm = normalizeAxes(C, Axes.Vals, OutRank);
  if (!Norm)
    return Norm.takeError();
  IntVec Dims;
  size_t Next = 0;
  for (size_t I = 0; I < OutRank; ++I)
    Dims.push_back(is_contained(*Norm, I) ? 1 : X->Sh[Next++]);
  setOut(C, 0, X->Ty, Shape(Dims), X->Data);
  return ok();
}

/// Squeeze: AxesFromInput since opset 13.
template <bool AxesFromInput> Error squeeze(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Axes = listFrom(C, AxesFromInput, 1, "axes");
  if (!X->Sh.hasRank() || (Axes.Present && !Axes.Known)) {
    Shape S;
    if (X->Sh.hasRank() && Axes.Length >= 0 &&
        Axes.Length <= static_cast<int64_t>(X->Sh.rank()))
      S = Shape::unknownDims(X->Sh.rank() - Axes.Length);
    C.setOutput(0, X->Ty, S);
    return ok();
  }
  const Shape &S = X->Sh;
  SmallVector<size_t, 6> Drop;
  if (Axes.Present && !Axes.Vals.empty()) {
    auto Norm = normalizeAxes(C, Axes.Vals, S.rank());
    if (!Norm)
      return Norm.takeError();
    for (size_t A : *Norm)
      if (S[A] >= 0 && S[A] != 1)
        return C.error("cannot squeeze axis " + Twine(A) + " of size " +
                       Twine(S[A]) + " in shape " + S.str());
    Drop = *Norm;
  } else {
    for (size_t I = 0; I < S.rank(); ++I) {
      if (S[I] < 0) {
        C.setOutput(0, X->Ty, Shape());
        return ok();
      }
      if (S[I] == 1)
        Drop.push_back(I);
    }
  }
  IntVec Dims;
  for (size_t I = 0; I < S.rank(); ++I)
    if (!is_contained(Drop, I))
      Dims.push_back(S[I]);
  setOut(C, 0, X->Ty, Shape(Dims), X->Data);
  return ok();
}

/// The contents of a Concat along Axis into Out, when every input's
/// contents are known (and all float or all integer).
Optional<TensorData> concatData(ShapeContext &C, ArrayRef<Shape> InShapes,
                                const Shape &Out, size_t Axis) {
  // Concatenate all inputs' contents into one buffer, then pick.
  TensorData All;
  SmallVector<size_t, 4> Offsets, AxisDims;
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (!C.in(I))
      continue;
    const TensorData *Src = knownData(C, I);
    if (!Src || (All.size() && Src->IsFloat != All.IsFloat))
      return None;
    All.IsFloat = Src->IsFloat;
    Offsets.push_back(All.size());
    AxisDims.push_back(InShapes[I][Axis]);
    All.Ints.append(Src->Ints.begin(), Src->Ints.end());
    All.Floats.append(Src->Floats.begin(), Src->Floats.end());
  }
  size_t Outer = dimProduct(Out, 0, Axis);
  size_t Inner = dimProduct(Out, Axis + 1, Out.rank());
  SmallVector<size_t, 16> Flat;
  for (size_t O = 0; O < Outer; ++O)
    for (size_t K = 0; K < Offsets.size(); ++K)
      for (size_t J = 0; J < AxisDims[K] * Inner; ++J)
        Flat.push_back(Offsets[K] + O * AxisDims[K] * Inner + J);
  return pick(All, Flat);
}

Error concat(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  // Shapes of the present inputs. Some shrunk exports concatenate scalars
  // with 1-D shape pieces; a scalar then counts as [1].
  SmallVector<Shape, 4> InShapes(C.numInputs());
  const Shape *Ranked = nullptr;
  DType T = DType::Undefined;
  bool AnyVector = false;
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (Value *V = C.in(I)) {
      InShapes[I] = V->Sh;
      AnyVector |= V->Sh.hasRank() && V->Sh.rank() == 1;
      if (T == DType::Undefined)
        T = V->Ty;
    }
  }
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (!C.in(I))
      continue;
    if (AnyVector && InShapes[I].hasRank() && InShapes[I].rank() == 0)
      InShapes[I] = shapeOf({1});
    if (!Ranked && InShapes[I].hasRank())
      Ranked = &InShapes[I];
  }
  if (!Ranked) {
    C.setOutput(0, T, Shape());
    return ok();
  }
  size_t R = Ranked->rank();
  Expected<size_t> Axis = axisAttr(C, "axis", 0, R);
  if (!Axis)
    return Axis.takeError();
  IntVec Dims(R, Shape::Unknown);
  int64_t AxisSum = 0;
  bool AllRanked = true;
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (!C.in(I))
      continue;
    const Shape &S = InShapes[I];
    if (!S.hasRank()) {
      AllRanked = false;
      continue;
    }
    if (S.rank() != R)
      return C.error("inputs have ranks " + Twine(R) + " and " +
                     Twine(S.rank()));
    for (size_t K = 0; K < R; ++K) {
      int64_t D = S[K];
      if (K == *Axis) {
        AxisSum = (AxisSum < 0 || D < 0) ? Shape::Unknown : AxisSum + D;
        continue;
      }
      if (D < 0)
        continue;
      if (Dims[K] >= 0 && Dims[K] != D)
        return C.error("inputs of shapes " + Ranked->str() + " and " + S.str() +
                       " differ outside axis " + Twine(*Axis));
      Dims[K] = D;
    }
  }
  Dims[*Axis] = AllRanked ? AxisSum : Shape::Unknown;
  Shape Out(Dims);
  Optional<TensorData> D;
  if (smallCount(Out))
    D = concatData(C, InShapes, Out, *Axis);
  setOut(C, 0, T, Out, std::move(D));
  return ok();
}

/// Reshape: the target shape is an attribute before opset 5.
template <bool ShapeFromInput> Error reshape(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Target = listFrom(C, ShapeFromInput, 1, "shape");
  if (!Target.Present)
    return C.error("missing target shape");
  if (!Target.Known) {
    Shape S;
    if (Target.Length >= 0)
      S = Shape::unknownDims(Target.Length);
    C.setOutput(0, X->Ty, S);
    return ok();
  }
  bool AllowZero = C.node().attrInt("allowzero", 0) != 0;
  Optional<Shape> Out = resolveReshape(X->Sh, Target.Vals, AllowZero);
  Shape TargetShape(Target.Vals);
  if (!Out) {
    bool Ambiguous = is_contained(Target.Vals, -1) &&
                     X->Sh.numElements() == Optional<uint64_t>(0);
    return C.error("cannot reshape " + X->Sh.str() + " to " +
                   TargetShape.str() +
                   (Ambiguous ? " (with zero elements the -1 could be any "
                                "size)"
                              : ""));
  }
  Optional<uint64_t> InN = X->Sh.numElements(), OutN = Out->numElements();
  if (InN && OutN && *InN != *OutN)
    return C.error("cannot reshape " + X->Sh.str() + " (" + Twine(*InN) +
                   " elements) to " + Out->str());
  setOut(C, 0, X->Ty, *Out, X->Data);
  return ok();
}

Error expand(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0);
  Expected<Shape> Target = shapeFromInput(C, 1);
  if (!Target)
    return Target.takeError();
  Optional<Shape> Out = broadcastShapes(X->Sh, *Target);
  if (!Out)
    return C.error("cannot expand " + X->Sh.str() + " to " + Target->str());
  Optional<TensorData> D;
  if (const TensorData *Src = knownData(C, 0)) {
    if (Optional<size_t> N = smallCount(*Out)) {
      SmallVector<size_t, 16> Flat;
      for (size_t I = 0; I < *N; ++I)
        Flat.push_back(broadcastIndex(*Out, X->Sh, I));
      D = pick(*Src, Flat);
    }
  }
  setOut(C, 0, X->Ty, *Out, std::move(D));
  return ok();
}

Error tile(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0);
  IntList Reps = listFromInput(C, 1);
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  size_t R = X->Sh.rank();
  if (!Reps.Known) {
    C.setOutput(0, X->Ty, Shape::unknownDims(R));
    return ok();
  }
  if (Reps.Vals.size() != R)
    return C.error("repeats has " + Twine(Reps.Vals.size()) +
                   " entries for rank " + Twine(R));
  IntVec Dims;
  for (size_t I = 0; I < R; ++I) {
    if (Reps.Vals[I] < 0)
      return C.error("negative repeat " + Twine(Reps.Vals[I]));
    Dims.push_back(X->Sh[I] < 0 ? Shape::Unknown : X->Sh[I] * Reps.Vals[I]);
  }
  Shape Out(Dims);
  Optional<TensorData> D;
  if (const TensorData *Src = knownData(C, 0)) {
    if (Optional<size_t> N = smallCount(Out)) {
      SmallVector<size_t, 16> Flat;
      for (size_t I = 0; I < *N; ++I) {
        IntVec Co = unflatten(I, Dims);
        for (size_t K = 0; K < R; ++K)
          Co[K] %= X->Sh[K];
        Flat.push_back(flatten(Co, X->Sh.dims()));
      }
      D = pick(*Src, Flat);
    }
  }
  setOut(C, 0, X->Ty, Out, std::move(D));
  return ok();
}

Error where(ShapeContext &C) {
  if (Error E = requireInputs(C, 3))
    return E;
  Expected<Shape> S = broadcastInputs(C);
  if (!S)
    return S.takeError();
  DType T = C.in(1)->Ty != DType::Undefined ? C.in(1)->Ty : C.in(2)->Ty;
  Optional<TensorData> D;
  const TensorData *Cond = knownData(C, 0), *X = knownData(C, 1),
                   *Y = knownData(C, 2);
  Optional<size_t> N = smallCount(*S);
  if (Cond && X && Y && N && X->IsFloat == Y->IsFloat) {
    SmallVector<size_t, 16> Flat;
    TensorData Both = *X;
    Both.Ints.append(Y->Ints.begin(), Y->Ints.end());
    Both.Floats.append(Y->Floats.begin(), Y->Floats.end());
    for (size_t I = 0; I < *N; ++I) {
      bool Cv = Cond->asInt(broadcastIndex(*S, C.in(0)->Sh, I));
      Flat.push_back(Cv ? broadcastIndex(*S, C.in(1)->Sh, I)
                        : X->size() + broadcastIndex(*S, C.in(2)->Sh, I));
    }
    D = pick(Both, Flat);
  }
  setOut(C, 0, T, *S, std::move(D));
  return ok();
}

Error nonZero(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  if (!X->Sh.hasRank()) {
    C.setOutput(0, DType::Int64, Shape::unknownDims(2));
    return ok();
  }
  int64_t R = X->Sh.rank();
  const TensorData *Src = knownData(C, 0);
  if (!Src) {
    C.setOutput(0, DType::Int64, shapeOf({R, Shape::Unknown}));
    return ok();
  }
  SmallVector<IntVec, 4> Rows(R);
  int64_t Count = 0;
  for (size_t I = 0; I < Src->size(); ++I) {
    if (Src->asDouble(I) == 0)
      continue;
    IntVec Co = unflatten(I, X->Sh.dims());
    for (int64_t K = 0; K < R; ++K)
      Rows[K].push_back(Co[K]);
    ++Count;
  }
  TensorData D;
  for (const IntVec &Row : Rows)
    D.Ints.append(Row.begin(), Row.end());
  C.setOutput(0, DType::Int64, shapeOf({R, Count}), std::move(D));
  return ok();
}

/// Pad: 'paddings' (opset 1), 'pads' attribute (2-10), 'pads' input (11+),
/// 'axes' input (18+).
template <int Since> Error pad(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Pads = Since >= 11
                     ? listFromInput(C, 1)
                     : listFromAttr(C, Since >= 2 ? "pads" : "paddings");
  IntList Axes = Since >= 18 ? listFromInput(C, 3) : IntList();
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  const Shape &S = X->Sh;
  size_t R = S.rank();
  if (!Pads.Present)
    return C.error("missing pads");
  if (!Pads.Known || (Axes.Present && !Axes.Known)) {
    C.setOutput(0, X->Ty, Shape::unknownDims(R));
    return ok();
  }
  auto Norm = axesOrFirst(C, Axes, R, R);
  if (!Norm)
    return Norm.takeError();
  SmallVector<size_t, 6> AxisList = *Norm;
  size_t N = AxisList.size();
  if (Pads.Vals.size() != 2 * N)
    return C.error("pads has " + Twine(Pads.Vals.size()) + " entries for " +
                   Twine(N) + " axes");
  Shape Out = S;
  for (size_t K = 0; K < N; ++K) {
    size_t A = AxisList[K];
    if (S[A] < 0)
      continue;
    int64_t D = S[A] + Pads.Vals[K] + Pads.Vals[K + N];
    if (D < 0)
      return C.error("padding makes dim " + Twine(A) + " negative");
    Out[A] = D;
  }
  C.setOutput(0, X->Ty, Out);
  return ok();
}

/// Scatter, ScatterElements, ScatterND, TensorScatter: data's shape.
Error scatterLike(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, C.in(0)->Ty, C.in(0)->Sh);
  return ok();
}

/// Output shape from sizes or scales over the given axes.
Shape resizeShape(ShapeContext &C, const Shape &S, const IntList &Axes,
                  unsigned ScalesIdx, unsigned SizesIdx) {
  if (!S.hasRank())
    return Shape();
  size_t R = S.rank();
  SmallVector<size_t, 6> AxisList;
  if (Axes.Known) {
    for (int64_t A : Axes.Vals)
      if (Optional<size_t> N = normalizeAxis(A, R))
        AxisList.push_back(*N);
  } else {
    for (size_t I = 0; I < R; ++I)
      AxisList.push_back(I);
  }
  Shape Out = S;
  const TensorData *Sizes = SizesIdx ? knownData(C, SizesIdx) : nullptr;
  const TensorData *Scales = knownData(C, ScalesIdx);
  if (Sizes && Sizes->size() == AxisList.size() && Sizes->size()) {
    StringRef Policy =
        C.node().attrString("keep_aspect_ratio_policy", "stretch");
    if (Policy == "stretch") {
      for (size_t K = 0; K < AxisList.size(); ++K)
        Out[AxisList[K]] = Sizes->asInt(K);
      return Out;
    }
    double Scale = Policy == "not_larger" ? 1e300 : 0;
    for (size_t K = 0; K < AxisList.size(); ++K) {
      int64_t D = S[AxisList[K]];
      if (D <= 0)
        return Shape::unknownDims(R);
      double F = static_cast<double>(Sizes->asInt(K)) / D;
      Scale = Policy == "not_larger" ? std::min(Scale, F) : std::max(Scale, F);
    }
    for (size_t A : AxisList)
      Out[A] = static_cast<int64_t>(std::nearbyint(Scale * S[A]));
    return Out;
  }
  if (Scales && Scales->size() == AxisList.size() && Scales->size()) {
    for (size_t K = 0; K < AxisList.size(); ++K) {
      int64_t D = S[AxisList[K]];
      Out[AxisList[K]] =
          D < 0 ? Shape::Unknown
                : static_cast<int64_t>(std::floor(D * Scales->asDouble(K)));
    }
    return Out;
  }
  for (size_t A : AxisList)
    Out[A] = Shape::Unknown;
  return Out;
}

/// Resize 10 (X, scales) and Upsample 9 (X, scales).
Error resizeScalesInput(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, resizeShape(C, X->Sh, IntList(), 1, 0));
  return ok();
}

/// Resize 11+ (X, roi, scales, sizes); 'axes' attribute since 18.
Error resize(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Axes = listFromAttr(C, "axes");
  C.setOutput(0, X->Ty, resizeShape(C, X->Sh, Axes, 2, 3));
  return ok();
}

/// Upsample 7-8: 'scales' attribute.
Error upsampleAttr(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  const Attribute *A = C.node().attr("scales");
  if (!A || A->K != Attribute::Floats)
    return C.error("missing attribute 'scales'");
  const Shape &S = X->Sh;
  if (!S.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  if (A->FloatList.size() != S.rank())
    return C.error("scales has " + Twine(A->FloatList.size()) +
                   " entries for rank " + Twine(S.rank()));
  Shape Out = S;
  for (size_t I = 0; I < S.rank(); ++I)
    if (S[I] >= 0)
      Out[I] = static_cast<int64_t>(std::floor(S[I] * A->FloatList[I]));
  C.setOutput(0, X->Ty, Out);
  return ok();
}

Error oneHot(ShapeContext &C) {
  if (Error E = requireInputs(C, 3))
    return E;
  Value *Idx = C.in(0);
  DType T = C.in(2)->Ty;
  int64_t Depth = Shape::Unknown;
  if (const TensorData *D = knownData(C, 1))
    if (D->size() == 1)
      Depth = D->asInt(0);
  if (!Idx->Sh.hasRank()) {
    C.setOutput(0, T, Shape());
    return ok();
  }
  Expected<size_t> Axis = axisAttr(C, "axis", -1, Idx->Sh.rank() + 1);
  if (!Axis)
    return Axis.takeError();
  IntVec Dims(Idx->Sh.dims().begin(), Idx->Sh.dims().end());
  Dims.insert(Dims.begin() + *Axis, Depth);
  C.setOutput(0, T, Shape(Dims));
  return ok();
}

template <bool ToSpace> Error depthSpace(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  const Shape &S = X->Sh;
  if (!S.hasRank()) {
    C.setOutput(0, X->Ty, Shape::unknownDims(4));
    return ok();
  }
  if (S.rank() != 4)
    return C.error("input of rank " + Twine(S.rank()) + " (expected 4)");
  int64_t B = C.node().attrInt("blocksize", 0);
  if (B <= 0)
    return C.error("invalid blocksize " + Twine(B));
  auto Mul = [](int64_t D, int64_t F) { return D < 0 ? D : D * F; };
  auto Div = [&](int64_t D, int64_t F) -> int64_t { return D < 0 ? D : D / F; };
  if (ToSpace) {
    if (S[1] >= 0 && S[1] % (B * B) != 0)
      return C.error("channels " + Twine(S[1]) + " not divisible by " +
                     Twine(B * B));
    C.setOutput(0, X->Ty,
                shapeOf({S[0], Div(S[1], B * B), Mul(S[2], B), Mul(S[3], B)}));
  } else {
    for (size_t I = 2; I < 4; ++I)
      if (S[I] >= 0 && S[I] % B != 0)
        return C.error("dim " + Twine(S[I]) + " not divisible by blocksize " +
                       Twine(B));
    C.setOutput(0, X->Ty,
                shapeOf({S[0], Mul(S[1], B * B), Div(S[2], B), Div(S[3], B)}));
  }
  return ok();
}

Error compress(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0);
  int64_t Count = Shape::Unknown;
  if (const TensorData *D = knownData(C, 1)) {
    Count = 0;
    for (size_t I = 0; I < D->size(); ++I)
      Count += D->asInt(I) != 0;
  }
  const Attribute *A = C.node().attr("axis");
  if (!A) {
    C.setOutput(0, X->Ty, shapeOf({Count}));
    return ok();
  }
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  Expected<size_t> Axis = axisAttr(C, "axis", 0, X->Sh.rank());
  if (!Axis)
    return Axis.takeError();
  Shape Out = X->Sh;
  Out[*Axis] = Count;
  C.setOutput(0, X->Ty, Out);
  return ok();
}

Error unique(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  const Attribute *A = C.node().attr("axis");
  Shape Y = shapeOf({Shape::Unknown});
  int64_t InvLen = Shape::Unknown;
  if (!A) {
    if (Optional<uint64_t> N = X->Sh.numElements())
      InvLen = *N;
  } else if (X->Sh.hasRank()) {
    Expected<size_t> Axis = axisAttr(C, "axis", 0, X->Sh.rank());
    if (!Axis)
      return Axis.takeError();
    Y = X->Sh;
    Y[*Axis] = Shape::Unknown;
    InvLen = X->Sh[*Axis];
  } else {
    Y = Shape();
  }
  C.setOutput(0, X->Ty, Y);
  C.setOutput(1, DType::Int64, shapeOf({Shape::Unknown}));
  C.setOutput(2, DType::Int64, shapeOf({InvLen}));
  C.setOutput(3, DType::Int64, shapeOf({Shape::Unknown}));
  return ok();
}

Error trilu(ShapeContext &C) { return sameAsInput(C); }

Error gridSample(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  const Shape &X = C.in(0)->Sh, &G = C.in(1)->Sh;
  Shape Out;
  if (X.hasRank() && G.hasRank() && X.rank() >= 3 && G.rank() == X.rank()) {
    IntVec Dims{X[0], X[1]};
    Dims.append(G.dims().begin() + 1, G.dims().end() - 1);
    Out = Shape(Dims);
  }
  C.setOutput(0, C.in(0)->Ty, Out);
  return ok();
}

/// clamp/where-like: the condition (or bounds) select the gradient.
void saveWhereCondition(SaveContext &C) {
  if (C.rg(1) || C.rg(2))
    C.input(0, "condition of Where");
}

/// masked_select / compress: the condition selects the gradient.
void saveCondition(SaveContext &C) {
  if (C.rg(0))
    C.input(1, "condition of " + opName(C));
}

/// scatter: the indices, for the data's and the updates' gradients.
void saveScatterIndices(SaveContext &C) {
  if (C.rg(0) || C.rg(2))
    C.input(1, "indices of " + opName(C));
}

const OpInfo Rows[] = {
    {"", "Identity", 1, Any, identity, saveNothing, ViewKind::View,
     GradKind::Differentiable, PrecisionClass::InputType, "alias", ""},
    {"", "Cast", 1, Any, cast, saveNothing, ViewKind::ViewIfSameType,
     GradKind::Differentiable, PrecisionClass::InputType, "_to_copy", ""},
    {"", "CastLike", 15, Any, castLike, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "_to_copy", ""},
    {"", "Shape", 1, Any, shapeOp, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Size", 1, Any, sizeOp, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Gather", 1, Any, gather, saveIndices, ViewKind::ViewIfScalarIndex,
     GradKind::Differentiable, PrecisionClass::InputType,
     "embedding/index_select", "", false, PrecisionClass::InputType,
     SavedKind::Embedding},
    {"", "GatherElements", 11, Any, gatherElements, saveIndices, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "gather: index", ""},
    {"", "GatherND", 11, Any, gatherND, saveIndices, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "index: indices", ""},
    {"", "Unsqueeze", 1, 12, unsqueeze<false>, saveNothing, ViewKind::View,
     GradKind::Differentiable, PrecisionClass::InputType, "unsqueeze", ""},
    {"", "Unsqueeze", 13, Any, unsqueeze<true>, saveNothing, ViewKind::View,
     GradKind::Differentiable, PrecisionClass::InputType, "unsqueeze", ""},
    {"", "Squeeze", 1, 12, squeeze<false>, saveNothing, ViewKind::View,
     GradKind::Differentiable, PrecisionClass::InputType, "squeeze", ""},
    {"", "Squeeze", 13, Any, squeeze<true>, saveNothing, ViewKind::View,
     GradKind::Differentiable, PrecisionClass::InputType, "squeeze", ""},
    {"", "Concat", 1, Any, concat, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "cat", ""},
    {"", "Reshape", 1, 4, reshape<false>, saveNothing, ViewKind::Reshape,
     GradKind::Differentiable, PrecisionClass::InputType, "view/reshape", ""},
    {"", "Reshape", 5, Any, reshape<true>, saveNothing, ViewKind::Reshape,
     GradKind::Differentiable, PrecisionClass::InputType, "view/reshape", ""},
    {"", "Flatten", 1, Any, flatten, saveNothing, ViewKind::Reshape,
     GradKind::Differentiable, PrecisionClass::InputType, "flatten", ""},
    {"", "Transpose", 1, Any, transpose, saveNothing, ViewKind::View,
     GradKind::Differentiable, PrecisionClass::InputType, "permute", ""},
    {"", "Slice", 1, 9, slice<false>, saveNothing, ViewKind::ViewOfPart,
     GradKind::Differentiable, PrecisionClass::InputType, "slice", ""},
    {"", "Slice", 10, Any, slice<true>, saveNothing, ViewKind::ViewOfPart,
     GradKind::Differentiable, PrecisionClass::InputType, "slice", ""},
    {"", "Split", 1, 12, split<1>, saveNothing, ViewKind::PartsOf,
     GradKind::Differentiable, PrecisionClass::InputType, "split", ""},
    {"", "Split", 13, 17, split<13>, saveNothing, ViewKind::PartsOf,
     GradKind::Differentiable, PrecisionClass::InputType, "split", ""},
    {"", "Split", 18, Any, split<18>, saveNothing, ViewKind::PartsOf,
     GradKind::Differentiable, PrecisionClass::InputType, "split", ""},
    {"", "Expand", 8, Any, expand, saveNothing, ViewKind::Broadcast,
     GradKind::Differentiable, PrecisionClass::InputType, "expand", ""},
    {"", "Tile", 6, Any, tile, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "repeat", ""},
    {"", "Where", 9, Any, where, saveWhereCondition, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "where: condition", ""},
    {"", "NonZero", 9, Any, nonZero, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Pad", 1, 1, pad<1>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "constant_pad_nd",
     ""},
    {"", "Pad", 2, 10, pad<2>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "constant_pad_nd",
     ""},
    {"", "Pad", 11, 17, pad<11>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "constant_pad_nd",
     ""},
    {"", "Pad", 18, Any, pad<18>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "constant_pad_nd",
     ""},
    {"", "Scatter", 9, Any, scatterLike, saveScatterIndices, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "scatter: index", ""},
    {"", "ScatterElements", 11, Any, scatterLike, saveScatterIndices,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::Promote,
     "scatter: index", ""},
    {"", "ScatterND", 11, Any, scatterLike, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "index_put (data)", ""},
    {"", "TensorScatter", 24, Any, scatterLike, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote,
     "index_put (cache update)", ""},
    {"", "Compress", 9, Any, compress, saveCondition, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "masked_select: mask",
     ""},
    {"", "Unique", 11, Any, unique, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "OneHot", 9, Any, oneHot, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "DepthToSpace", 1, Any, depthSpace<true>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "pixel_shuffle: a reshape", ""},
    {"", "SpaceToDepth", 1, Any, depthSpace<false>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "pixel_unshuffle: a reshape", ""},
    {"", "ReverseSequence", 10, Any, sameAsInput, saveIndices, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "flip by lengths: the lengths", ""},
    {"", "Trilu", 14, Any, trilu, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "tril/triu", ""},
    {"", "GridSample", 16, Any, gridSample, saveBothInputs, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32,
     "grid_sampler_2d: input, grid", "", false, PrecisionClass::InputType},
    {"", "Resize", 10, 10, resizeScalesInput, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "upsample_*: sizes only",
     "", false, PrecisionClass::InputType},
    {"", "Resize", 11, Any, resize, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "upsample_*: sizes only",
     "", false, PrecisionClass::InputType},
    {"", "Upsample", 1, 8, upsampleAttr, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "upsample_*: sizes only",
     "", false, PrecisionClass::InputType},
    {"", "Upsample", 9, Any, resizeScalesInput, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "upsample_*: sizes only",
     "", false, PrecisionClass::InputType},
};

} // namespace

ArrayRef<OpInfo> tensorOps() { return Rows; }

} // namespace vram

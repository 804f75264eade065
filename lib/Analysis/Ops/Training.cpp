//===- Training.cpp - onnxruntime training ops (com.microsoft)
//--------------===//
//
// The op registry's rows for onnxruntime training ops (com.microsoft): the
// forward harness and the *Grad ops, and their shape functions and saved-tensor
// rules (following orttraining training_op_defs.cc). Each row holds every facet
// of one (domain, op, opset range); see vram/Analysis/OpRegistry.h.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

/// A shape whose dims are the contents of the 1-D int64 input I ("shape"
/// inputs of the gradient ops); rank only when the contents are unknown.
Shape lenientShapeFromInput(ShapeContext &C, unsigned I) {
  if (Optional<IntVec> Dims = C.ints(I)) {
    Shape S(*Dims);
    for (int64_t &D : S.dims())
      if (D < 0)
        D = Unknown;
    return S;
  }
  Value *V = C.in(I);
  if (V && V->Sh.hasRank() && V->Sh.rank() == 1 && known(V->Sh[0]))
    return Shape::unknownDims(static_cast<size_t>(V->Sh[0]));
  return Shape();
}

/// Concatenation of known contents along Axis (row-major blocks).
Optional<TensorData> concatData(ArrayRef<Value *> Ins, size_t Axis) {
  TensorData D;
  bool First = true;
  for (Value *V : Ins) {
    if (!V->Data || !V->Sh.isConcrete() ||
        V->Sh.numElements() != Optional<uint64_t>(V->Data->size()))
      return None;
    if (First)
      D.IsFloat = V->Data->IsFloat;
    else if (D.IsFloat != V->Data->IsFloat)
      return None;
    First = false;
  }
  if (Ins.empty())
    return None;
  const Shape &S0 = Ins.front()->Sh;
  uint64_t Outer = 1;
  for (size_t I = 0; I < Axis; ++I)
    Outer *= static_cast<uint64_t>(S0[I]);
  for (uint64_t O = 0; O < Outer; ++O) {
    for (Value *V : Ins) {
      uint64_t Block = 1;
      for (size_t I = Axis; I < V->Sh.rank(); ++I)
        Block *= static_cast<uint64_t>(V->Sh[I]);
      for (uint64_t K = O * Block; K < (O + 1) * Block; ++K) {
        if (D.IsFloat)
          D.Floats.push_back(V->Data->Floats[K]);
        else
          D.Ints.push_back(V->Data->Ints[K]);
      }
    }
  }
  return D;
}

/// Output 0 like input 1 (SoftmaxGrad(dY, Y), the activation gradients
/// whose second input is the forward input).
Error likeSecond(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (!C.in(1))
    return likeFirst(C);
  C.setOutput(0, C.in(0)->Ty, C.in(1)->Sh);
  return ok();
}

/// Every output like the matching input (PassThrough, MegatronF/G,
/// NcclAllReduce, BatchScale style ops).
Error eachLikeInput(ShapeContext &C) {
  for (unsigned I = 0; I < C.numOutputs(); ++I) {
    unsigned Src = std::min(I, C.numInputs() ? C.numInputs() - 1 : 0);
    if (Value *V = C.in(Src))
      C.setOutput(I, V->Ty, V->Sh);
  }
  return ok();
}

/// Output I like input I + 1 (RecordEvent, WaitEvent: input 0 is the event
/// id, the tensors pass through).
Error passAfterFirst(ShapeContext &C) {
  for (unsigned I = 0; I < C.numOutputs(); ++I)
    if (Value *V = C.in(I + 1))
      C.setOutput(I, V->Ty, V->Sh);
  return ok();
}

/// BiasDropout(data, bias, residual, ratio, training_mode) -> output, mask.
Error biasDropout(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, C.in(0)->Ty, C.in(0)->Sh);
  C.setOutput(1, DType::Bool, C.in(0)->Sh);
  return ok();
}

/// BitmaskDropout / BitmaskBiasDropout: the mask packs one bit per element
/// into uint32 words: [ceil(numel / 32)].
Error bitmaskDropout(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &S = C.in(0)->Sh;
  C.setOutput(0, C.in(0)->Ty, S);
  int64_t Words = Unknown;
  if (Optional<uint64_t> N = S.numElements())
    Words = static_cast<int64_t>((*N + 31) / 32);
  C.setOutput(1, DType::UInt32, shapeOf({Words}));
  return ok();
}

/// BiasSoftmaxDropout(data, bias, ratio) -> dropout_output, mask,
/// softmax_output.
Error biasSoftmaxDropout(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &S = C.in(0)->Sh;
  C.setOutput(0, C.in(0)->Ty, S);
  C.setOutput(1, DType::Bool, S);
  C.setOutput(2, C.in(0)->Ty, S);
  return ok();
}

/// LayerNormalizationGrad(Y_grad, X, scale, mean, inv_std_var) ->
/// X_grad, scale_grad, bias_grad.
Error layerNormGrad(ShapeContext &C) {
  if (Error E = C.requireInput(1))
    return E;
  C.setOutput(0, C.in(1)->Ty, C.in(1)->Sh);
  if (Value *Scale = C.in(2)) {
    C.setOutput(1, Scale->Ty, Scale->Sh);
    C.setOutput(2, Scale->Ty, Scale->Sh);
  }
  return ok();
}

/// InvertibleLayerNormalizationGrad(Y_grad, Y, scale, bias, inv_std_var).
Error invertibleLayerNormGrad(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, C.in(0)->Ty, C.in(0)->Sh);
  if (Value *Scale = C.in(2)) {
    C.setOutput(1, Scale->Ty, Scale->Sh);
    C.setOutput(2, Scale->Ty, Scale->Sh);
  }
  return ok();
}

/// ConcatTraining(inputs...) -> concat_result, per_input_length int64
/// [num inputs] (the inputs' extents on axis, contents when known).
Error concatTraining(ShapeContext &C) {
  SmallVector<Value *, 4> Ins;
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (!C.in(I))
      return C.error("missing input " + Twine(I));
    Ins.push_back(C.in(I));
  }
  if (Ins.empty())
    return C.error("needs at least one input");
  int64_t NumIns = static_cast<int64_t>(Ins.size());
  DType T = Ins.front()->Ty;
  int64_t Rank = -1;
  for (Value *V : Ins)
    if (V->Sh.hasRank()) {
      if (Rank >= 0 && static_cast<int64_t>(V->Sh.rank()) != Rank)
        return C.error("inputs have different ranks");
      Rank = static_cast<int64_t>(V->Sh.rank());
    }
  if (Rank < 0) {
    C.setOutput(0, T, Shape());
    C.setOutput(1, DType::Int64, shapeOf({NumIns}));
    return ok();
  }
  int64_t AxisAttr = C.node().attrInt("axis", 0);
  Optional<size_t> Axis = normalizeAxis(AxisAttr, static_cast<size_t>(Rank));
  if (!Axis)
    return C.error("axis " + Twine(AxisAttr) + " is out of range");
  Shape Out = Shape::unknownDims(static_cast<size_t>(Rank));
  IntVec Lengths;
  int64_t Sum = 0;
  for (Value *V : Ins) {
    if (!V->Sh.hasRank()) {
      Lengths.push_back(Unknown);
      Sum = Unknown;
      continue;
    }
    for (size_t D = 0; D < V->Sh.rank(); ++D) {
      if (D == *Axis)
        continue;
      int64_t Dim = V->Sh[D];
      if (!known(Dim))
        continue;
      if (known(Out[D]) && Out[D] != Dim)
        return C.error("inputs disagree on dim " + Twine(D) + ": " +
                       Twine(Out[D]) + " and " + Twine(Dim));
      Out[D] = Dim;
    }
    Lengths.push_back(V->Sh[*Axis]);
    Sum = addDims(Sum, V->Sh[*Axis]);
  }
  Out[*Axis] = Sum;
  if (Optional<TensorData> D = concatData(Ins, *Axis))
    C.setOutput(0, T, Out, std::move(*D));
  else
    C.setOutput(0, T, Out);
  if (llvm::all_of(Lengths, known))
    C.setOutput(1, DType::Int64, shapeOf({NumIns}), TensorData::ints(Lengths));
  else
    C.setOutput(1, DType::Int64, shapeOf({NumIns}));
  return ok();
}

/// SplitTraining(input, split) with axis: split sizes from the second
/// input's contents, else equal parts.
Error splitTraining(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  unsigned NumOuts = C.numOutputs();
  if (!X->Sh.hasRank()) {
    for (unsigned I = 0; I < NumOuts; ++I)
      C.setOutput(I, X->Ty, Shape());
    return ok();
  }
  int64_t AxisAttr = C.node().attrInt("axis", 0);
  Optional<size_t> Axis = normalizeAxis(AxisAttr, X->Sh.rank());
  if (!Axis)
    return C.error("axis " + Twine(AxisAttr) + " is out of range");
  int64_t Dim = X->Sh[*Axis];
  IntVec Sizes(NumOuts, Unknown);
  if (Optional<IntVec> Split = C.ints(1)) {
    if (Split->size() != NumOuts)
      return C.error("split has " + Twine(Split->size()) + " entries for " +
                     Twine(NumOuts) + " outputs");
    int64_t Sum = 0;
    for (int64_t S : *Split)
      Sum += S;
    if (known(Dim) && Sum != Dim)
      return C.error("split sizes sum to " + Twine(Sum) + ", dim is " +
                     Twine(Dim));
    Sizes = *Split;
  } else if (NumOuts > 0) {
    int64_t Part = divDims(Dim, NumOuts);
    Sizes.assign(NumOuts, Part);
  }
  for (unsigned I = 0; I < NumOuts; ++I) {
    Shape S = X->Sh;
    S[*Axis] = Sizes[I];
    C.setOutput(I, X->Ty, S);
  }
  return ok();
}

/// Gradient ops whose output shape is the contents of a shape input:
/// SliceGrad(dY, shape, ...), GatherElementsGrad(dY, shape, indices).
template <unsigned ShapeIn, unsigned TypeIn>
Error shapeFromContents(ShapeContext &C) {
  if (Error E = C.requireInput(TypeIn))
    return E;
  if (Error E = C.requireInput(ShapeIn))
    return E;
  C.setOutput(0, C.in(TypeIn)->Ty, lenientShapeFromInput(C, ShapeIn));
  return ok();
}

/// BroadcastGradientArgs(a_shape, b_shape) -> a_axes, b_axes: the axes
/// (of the broadcast result) each side was broadcast along, in
/// onnxruntime's order (descending). Contents when both shapes are known.
Error broadcastGradientArgs(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Error E = C.requireInput(1))
    return E;
  Optional<IntVec> A = C.ints(0), B = C.ints(1);
  if (!A || !B) {
    C.setOutput(0, DType::Int64, shapeOf({Unknown}));
    C.setOutput(1, DType::Int64, shapeOf({Unknown}));
    return ok();
  }
  IntVec AAxes, BAxes;
  int64_t I = static_cast<int64_t>(A->size()) - 1;
  int64_t J = static_cast<int64_t>(B->size()) - 1;
  int64_t K = std::max(I, J);
  for (; I >= 0 && J >= 0; --I, --J, --K) {
    int64_t DA = (*A)[I], DB = (*B)[J];
    if (DA == DB)
      continue;
    if (DA == 1)
      AAxes.push_back(K);
    else if (DB == 1)
      BAxes.push_back(K);
    else
      return C.error("shapes do not broadcast: dim " + Twine(DA) + " against " +
                     Twine(DB));
  }
  for (; K >= 0; --K)
    (I < 0 ? AAxes : BAxes).push_back(K);
  C.setOutput(0, DType::Int64, shapeOf({static_cast<int64_t>(AAxes.size())}),
              TensorData::ints(AAxes));
  C.setOutput(1, DType::Int64, shapeOf({static_cast<int64_t>(BAxes.size())}),
              TensorData::ints(BAxes));
  return ok();
}

/// ReduceSumTraining(data, axes) with keepdims, noop_with_empty_axes.
Error reduceSumTraining(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  const Node &N = C.node();
  bool KeepDims = N.attrInt("keepdims", 1) != 0;
  bool Noop = N.attrInt("noop_with_empty_axes", 0) != 0;
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  size_t R = X->Sh.rank();
  Optional<IntVec> Axes;
  if (C.in(1)) {
    Axes = C.ints(1);
    if (!Axes) {
      // Unknown axes: with keepdims the rank survives.
      C.setOutput(0, X->Ty, KeepDims ? Shape::unknownDims(R) : Shape());
      return ok();
    }
  }
  if (!Axes || Axes->empty()) {
    if (Noop) {
      C.setOutput(0, X->Ty, X->Sh);
      return ok();
    }
    Axes = IntVec();
    for (size_t I = 0; I < R; ++I)
      Axes->push_back(static_cast<int64_t>(I));
  }
  SmallVector<bool, 8> Reduced(R, false);
  for (int64_t A : *Axes) {
    Optional<size_t> Ax = normalizeAxis(A, R);
    if (!Ax)
      return C.error("axis " + Twine(A) + " is out of range");
    Reduced[*Ax] = true;
  }
  IntVec Dims;
  for (size_t I = 0; I < R; ++I) {
    if (!Reduced[I])
      Dims.push_back(X->Sh[I]);
    else if (KeepDims)
      Dims.push_back(1);
  }
  C.setOutput(0, X->Ty, shapeOf(Dims));
  return ok();
}

/// GatherGrad(shape, indices, dY) -> dX of the shape's contents.
Error gatherGrad(ShapeContext &C) { return shapeFromContents<0, 2>(C); }

/// GatherNDGrad(shape, indices, update) -> output of the shape's contents.
Error gatherNDGrad(ShapeContext &C) { return shapeFromContents<0, 2>(C); }

/// FlattenAndUnpad(input [M1, M2, ...], indices [K]) -> output [K, ...],
/// unflatten_dims int64 [2] = [M1, M2].
Error flattenAndUnpad(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Error E = C.requireInput(1))
    return E;
  const Shape &X = C.in(0)->Sh;
  if (X.hasRank() && X.rank() < 2)
    return C.error("input must have rank >= 2");
  Shape Out;
  if (X.hasRank()) {
    IntVec Dims{dimAt(C.in(1)->Sh, 0)};
    for (size_t I = 2; I < X.rank(); ++I)
      Dims.push_back(X[I]);
    Out = shapeOf(Dims);
  }
  C.setOutput(0, C.in(0)->Ty, Out);
  if (known(dimAt(X, 0)) && known(dimAt(X, 1)))
    C.setOutput(1, DType::Int64, shapeOf({2}), TensorData::ints({X[0], X[1]}));
  else
    C.setOutput(1, DType::Int64, shapeOf({2}));
  return ok();
}

/// PadAndUnflatten(input [K, ...], indices, unflatten_dims [2]) ->
/// [M1, M2, ...].
Error padAndUnflatten(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &X = C.in(0)->Sh;
  Shape Out;
  if (X.hasRank() && X.rank() >= 1) {
    Shape Lead = lenientShapeFromInput(C, 2);
    IntVec Dims;
    if (Lead.hasRank() && Lead.rank() == 2)
      Dims.append(Lead.dims().begin(), Lead.dims().end());
    else
      Dims.append({Unknown, Unknown});
    for (size_t I = 1; I < X.rank(); ++I)
      Dims.push_back(X[I]);
    Out = shapeOf(Dims);
  }
  C.setOutput(0, C.in(0)->Ty, Out);
  return ok();
}

/// SoftmaxCrossEntropyLossInternal(scores, labels, weights, ignore_index)
/// -> loss (output_type, scalar unless reduction is "none": labels' shape),
/// log_prob (scores' dtype and shape).
Error sceLossInternal(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *Scores = C.in(0);
  Expected<DType> LossTy = dtypeAttr(C, "output_type", Scores->Ty);
  if (!LossTy)
    return LossTy.takeError();
  StringRef Reduction = C.node().attrString("reduction", "mean");
  Shape Loss = Shape::scalar();
  if (Reduction == "none")
    Loss = C.in(1) ? C.in(1)->Sh : Shape();
  C.setOutput(0, *LossTy, Loss);
  C.setOutput(1, Scores->Ty, Scores->Sh);
  return ok();
}

/// SoftmaxCrossEntropyLossInternalGrad(dY, log_prob, label, weight,
/// ignore_index, bias) -> d_logits: log_prob's shape, output_type.
Error sceLossInternalGrad(ShapeContext &C) {
  if (Error E = C.requireInput(1))
    return E;
  Value *LogProb = C.in(1);
  Expected<DType> Ty = dtypeAttr(C, "output_type", LogProb->Ty);
  if (!Ty)
    return Ty.takeError();
  C.setOutput(0, *Ty, LogProb->Sh);
  return ok();
}

/// SoftmaxCrossEntropy(logits, label) -> loss scalar, log_prob.
Error softmaxCrossEntropy(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, C.in(0)->Ty, Shape::scalar());
  C.setOutput(1, C.in(0)->Ty, C.in(0)->Sh);
  return ok();
}

/// YieldOp(module outputs...) -> gradients of the differentiable ones: the
/// outputs follow the inputs not listed in non_differentiable_outputs, and
/// those listed in full_shape_outputs (input indices) keep the input's
/// shape. The others may be broadcast gradients: dtype only.
Error yieldOp(ShapeContext &C) {
  const Node &N = C.node();
  ArrayRef<int64_t> NonDiff, Full;
  if (Optional<ArrayRef<int64_t>> A = N.attrInts("non_differentiable_outputs"))
    NonDiff = *A;
  if (Optional<ArrayRef<int64_t>> A = N.attrInts("full_shape_outputs"))
    Full = *A;
  unsigned J = 0;
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (llvm::is_contained(NonDiff, static_cast<int64_t>(I)))
      continue;
    unsigned Out = J++;
    Value *V = C.in(I);
    if (!V)
      continue;
    if (llvm::is_contained(Full, static_cast<int64_t>(I)))
      C.setOutput(Out, V->Ty, V->Sh);
    else
      C.setOutput(Out, V->Ty, Shape());
  }
  return ok();
}

/// PythonOp -> context (int64 scalar), then outputs typed by
/// output_tensor_types with ranks from output_tensor_ranks.
/// PythonOpGrad -> outputs likewise, from index 0.
template <unsigned First> Error pythonOp(ShapeContext &C) {
  const Node &N = C.node();
  if (First == 1)
    C.setOutput(0, DType::Int64, Shape::scalar());
  ArrayRef<int64_t> Types, Ranks;
  if (Optional<ArrayRef<int64_t>> A = N.attrInts("output_tensor_types"))
    Types = *A;
  if (Optional<ArrayRef<int64_t>> A = N.attrInts("output_tensor_ranks"))
    Ranks = *A;
  for (unsigned I = First; I < C.numOutputs(); ++I) {
    size_t K = I - First;
    if (K >= Types.size())
      break;
    Optional<DType> T = dtypeFromOnnx(Types[K]);
    if (!T)
      return C.error("output_tensor_types holds an invalid type " +
                     Twine(Types[K]));
    Shape S;
    if (K < Ranks.size() && Ranks[K] >= 0)
      S = Shape::unknownDims(static_cast<size_t>(Ranks[K]));
    C.setOutput(I, *T, S);
  }
  return ok();
}

/// InPlaceAccumulatorV2(buffer, value, overwrite) -> updated flag (bool
/// [1]), buffer.
Error inPlaceAccumulatorV2(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, DType::Bool, shapeOf({1}));
  C.setOutput(1, C.in(0)->Ty, C.in(0)->Sh);
  return ok();
}

/// ConvGrad(dY, X, W) -> dX like X, dW like W, dB [C_out].
Error convGrad(ShapeContext &C) {
  if (Value *X = C.in(1))
    C.setOutput(0, X->Ty, X->Sh);
  if (Value *W = C.in(2)) {
    C.setOutput(1, W->Ty, W->Sh);
    C.setOutput(2, W->Ty, shapeOf({dimAt(W->Sh, 0)}));
  }
  return ok();
}

/// BitmaskDropout keeps 1 bit per element.
void saveBitmaskDropout(SaveContext &C) {
  Value *X = C.in(0);
  if (!X || !C.rg(0) || !X->Sh.isConcrete())
    return;
  uint64_t N = *X->Sh.numElements();
  C.buffer("mask", DType::UInt32,
           Shape(ArrayRef<int64_t>{static_cast<int64_t>((N + 31) / 32)}),
           "dropout bitmask");
}

void saveBiasDropout(SaveContext &C) {
  Value *X = C.in(0);
  if (X && C.anyRG())
    C.buffer("mask", DType::Bool, X->Sh, "dropout mask");
}

/// ORT training-graph ops are already gradients or plumbing.
void saveGradientOp(SaveContext &) {}

/// BiasSoftmaxDropout: the softmax result (output 2) and the mask (output 1).
void saveSoftmaxDropout(SaveContext &C) {
  if (!C.anyRG())
    return;
  C.output(2, "softmax output");
  C.output(1, "dropout mask");
}

const OpInfo Rows[] = {
    {MS, "ConcatTraining", 1, Any, concatTraining, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "cat", ""},
    {MS, "SplitTraining", 1, Any, splitTraining, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "ReduceSumTraining", 1, Any, reduceSumTraining, saveNothing,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "BiasDropout", 1, Any, biasDropout, saveBiasDropout, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "native_dropout: mask", "", false, PrecisionClass::InputType,
     SavedKind::Dropout},
    {MS, "BitmaskDropout", 1, Any, bitmaskDropout, saveBitmaskDropout,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "dropout with a 1-bit mask", "", false, PrecisionClass::InputType,
     SavedKind::Dropout},
    {MS, "BitmaskBiasDropout", 1, Any, bitmaskDropout, saveBitmaskDropout,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "dropout with a 1-bit mask", "", false, PrecisionClass::InputType,
     SavedKind::Dropout},
    {MS, "BiasSoftmaxDropout", 1, Any, biasSoftmaxDropout, saveSoftmaxDropout,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "_softmax result and native_dropout mask", "", false,
     PrecisionClass::InputType, SavedKind::Dropout},
    {MS, "DropoutGrad", 1, Any, likeFirst, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "BitmaskDropoutGrad", 1, Any, likeFirst, saveGradientOp,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "SoftmaxDropoutGrad", 1, Any, likeFirst, saveGradientOp,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "SoftmaxCrossEntropyLossInternal", 1, Any, sceLossInternal,
     saveSoftmaxCrossEntropy, ViewKind::None, GradKind::Differentiable,
     PrecisionClass::FP32, "cross_entropy: log_softmax result, target", "",
     true, PrecisionClass::FP32, SavedKind::Loss},
    {MS, "SoftmaxCrossEntropyLossInternalGrad", 1, Any, sceLossInternalGrad,
     saveGradientOp, ViewKind::None, GradKind::NotDifferentiable,
     PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "SoftmaxCrossEntropyLossGrad", 1, Any, sceLossInternalGrad,
     saveGradientOp, ViewKind::None, GradKind::NotDifferentiable,
     PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "SoftmaxCrossEntropy", 1, Any, softmaxCrossEntropy,
     saveSoftmaxCrossEntropy, ViewKind::None, GradKind::Differentiable,
     PrecisionClass::FP32, "cross_entropy: log_softmax result, target", "",
     true, PrecisionClass::FP32, SavedKind::Loss},
    {MS, "SoftmaxCrossEntropyGrad", 1, Any, likeSecond, saveGradientOp,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "YieldOp", 1, Any, yieldOp, saveGradientOp, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "boundary between ORT's forward and backward", ""},
    {MS, "LayerNormalizationGrad", 1, Any, layerNormGrad, saveGradientOp,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "SimplifiedLayerNormalizationGrad", 1, Any, layerNormGrad,
     saveGradientOp, ViewKind::None, GradKind::NotDifferentiable,
     PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "InvertibleLayerNormalizationGrad", 1, Any, invertibleLayerNormGrad,
     saveGradientOp, ViewKind::None, GradKind::NotDifferentiable,
     PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "BroadcastGradientArgs", 1, Any, broadcastGradientArgs, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "ORT training: shape and accumulator plumbing", ""},
    {MS, "SliceGrad", 1, Any, shapeFromContents<1, 0>, saveGradientOp,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "GatherGrad", 1, Any, gatherGrad, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "GatherElementsGrad", 1, Any, shapeFromContents<1, 0>, saveGradientOp,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "GatherNDGrad", 1, Any, gatherNDGrad, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "FastGeluGrad", 1, Any, likeSecond, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "BiasFastGeluGrad_dX", 1, Any, likeSecond, saveGradientOp,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "GeluGrad", 1, Any, likeSecond, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "BiasGeluGrad_dX", 1, Any, likeSecond, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "QuickGeluGrad", 1, Any, likeSecond, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "ReluGrad", 1, Any, likeSecond, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "SigmoidGrad", 1, Any, likeSecond, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "TanhGrad", 1, Any, likeSecond, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "SoftmaxGrad", 1, Any, likeSecond, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "SoftmaxGrad_13", 1, Any, likeSecond, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "LogSoftmaxGrad", 1, Any, likeSecond, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "LogSoftmaxGrad_13", 1, Any, likeSecond, saveGradientOp,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "ConvGrad", 1, Any, convGrad, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "PythonOp", 1, Any, pythonOp<1>, nullptr, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "",
     "saved: a Python autograd function; what it keeps is unknown "
     "(conservative fallback)"},
    {MS, "PythonOpGrad", 1, Any, pythonOp<0>, saveGradientOp, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "already a gradient: the graph holds its backward", ""},
    {MS, "PassThrough", 1, Any, eachLikeInput, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "MegatronF", 1, Any, eachLikeInput, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "MegatronG", 1, Any, eachLikeInput, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "NcclAllReduce", 1, Any, eachLikeInput, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "RecordEvent", 1, Any, passAfterFirst, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "WaitEvent", 1, Any, passAfterFirst, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "ScaledSum", 1, Any, likeFirst, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "BatchScale", 1, Any, allLikeFirst, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "FlattenAndUnpad", 1, Any, flattenAndUnpad, saveIndices,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "index_select of the unpadded tokens: indices", ""},
    {MS, "PadAndUnflatten", 1, Any, padAndUnflatten, saveNothing,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "ORT training plumbing: nothing kept", ""},
    {MS, "InPlaceAccumulatorV2", 1, Any, inPlaceAccumulatorV2, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "ORT training: shape and accumulator plumbing", ""},
};

} // namespace

ArrayRef<OpInfo> trainingOps() { return Rows; }

bool isGradientOp(const OpInfo &Row) { return Row.Save == saveGradientOp; }

} // namespace vram

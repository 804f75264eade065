//===- NN.cpp - ai.onnx nn
//--------------------------------------------------===//
//
// The op registry's rows for ai.onnx nn: convolution, pooling, normalisation,
// dropout, attention, recurrent, and their shape functions and saved-tensor
// rules (following nn/defs.cc and rnn/defs.cc). Each row holds every facet of
// one (domain, op, opset range); see vram/Analysis/OpRegistry.h.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

Error convTranspose(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0), *W = C.in(1);
  const Shape &XS = X->Sh, &WS = W->Sh;
  if (!XS.hasRank() || !WS.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  size_t R = XS.rank();
  if (R < 3 || WS.rank() != R)
    return C.error("conv transpose of " + XS.str() + " with weights " +
                   WS.str());
  int64_t Group = C.node().attrInt("group", 1);
  IntVec Fallback(WS.dims().begin() + 2, WS.dims().end());
  Expected<WindowParams> P = readWindow(C, R - 2, Fallback);
  if (!P)
    return P.takeError();
  size_t NS = R - 2;
  IntVec OutPad(NS, 0);
  if (auto OP = C.node().attrInts("output_padding"))
    if (OP->size() == NS)
      OutPad.assign(OP->begin(), OP->end());
  IntVec Dims{XS[0], WS[1] < 0 ? Shape::Unknown : WS[1] * Group};
  auto OutShape = C.node().attrInts("output_shape");
  for (size_t I = 0; I < NS; ++I) {
    if (OutShape && OutShape->size() == NS) {
      Dims.push_back((*OutShape)[I]);
      continue;
    }
    int64_t In = XS[I + 2];
    if (In < 0 || P->Kernel[I] < 0) {
      Dims.push_back(Shape::Unknown);
      continue;
    }
    if (P->AutoPad == "SAME_UPPER" || P->AutoPad == "SAME_LOWER") {
      Dims.push_back(In * P->Strides[I]);
      continue;
    }
    int64_t Pads = P->AutoPad == "VALID" ? 0 : P->Pads[I] + P->Pads[I + NS];
    Dims.push_back(P->Strides[I] * (In - 1) + OutPad[I] +
                   (P->Kernel[I] - 1) * P->Dilations[I] + 1 - Pads);
  }
  C.setOutput(0, X->Ty, Shape(Dims));
  return ok();
}

/// MaxPool, AveragePool, LpPool; MaxPool's second output holds indices.
Error pool(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  const Shape &XS = X->Sh;
  if (!XS.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    C.setOutput(1, DType::Int64, Shape());
    return ok();
  }
  if (XS.rank() < 3)
    return C.error("pooling of rank " + Twine(XS.rank()));
  if (!C.node().attrInts("kernel_shape"))
    return C.error("missing attribute 'kernel_shape'");
  Expected<WindowParams> P = readWindow(C, XS.rank() - 2, {});
  if (!P)
    return P.takeError();
  IntVec Dims{XS[0], XS[1]};
  for (size_t I = 2; I < XS.rank(); ++I)
    Dims.push_back(windowOut(*P, I - 2, XS[I]));
  C.setOutput(0, X->Ty, Shape(Dims));
  C.setOutput(1, DType::Int64, Shape(Dims));
  return ok();
}

Error globalPool(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  Shape Out;
  if (X->Sh.hasRank()) {
    if (X->Sh.rank() < 2)
      return C.error("global pooling of rank " + Twine(X->Sh.rank()));
    Out = X->Sh;
    for (size_t I = 2; I < Out.rank(); ++I)
      Out[I] = 1;
  }
  C.setOutput(0, X->Ty, Out);
  return ok();
}

Shape channelShape(const Shape &X) {
  if (!X.hasRank() || X.rank() < 2)
    return shapeOf({Shape::Unknown});
  return shapeOf({X[1]});
}

/// BatchNormalization before opset 14: optional mean, var, saved_mean,
/// saved_var of shape [C] in X's dtype.
Error batchNormLegacy(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, X->Sh);
  for (unsigned I = 1; I < 5; ++I)
    C.setOutput(I, X->Ty, channelShape(X->Sh));
  return ok();
}

/// BatchNormalization 14+: optional running_mean, running_var in the dtype
/// of input_mean.
Error batchNorm(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, X->Sh);
  DType U = C.in(3) ? C.in(3)->Ty : X->Ty;
  C.setOutput(1, U, channelShape(X->Sh));
  C.setOutput(2, U, channelShape(X->Sh));
  return ok();
}

Error layerNorm(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, X->Sh);
  Optional<DType> Stash = dtypeFromOnnx(C.node().attrInt("stash_type", 1));
  if (!Stash)
    return C.error("invalid stash_type");
  Shape Stat;
  if (X->Sh.hasRank()) {
    Expected<size_t> Axis = axisAttr(C, "axis", -1, X->Sh.rank());
    if (!Axis)
      return Axis.takeError();
    Stat = X->Sh;
    for (size_t I = *Axis; I < Stat.rank(); ++I)
      Stat[I] = 1;
  }
  C.setOutput(1, *Stash, Stat);
  C.setOutput(2, *Stash, Stat);
  return ok();
}

Error nonMaxSuppression(ShapeContext &C) {
  C.setOutput(0, DType::Int64, shapeOf({Shape::Unknown, 3}));
  return ok();
}

/// RNN, GRU, LSTM: Y, Y_h (and LSTM's Y_c).
Error recurrent(ShapeContext &C) {
  if (Error E = requireInputs(C, 3))
    return E;
  Value *X = C.in(0);
  const Shape &XS = X->Sh, &RS = C.in(2)->Sh;
  int64_t Hidden = C.node().attrInt("hidden_size", Shape::Unknown);
  if (Hidden < 0 && RS.hasRank() && RS.rank() == 3)
    Hidden = RS[2];
  int64_t Dirs =
      C.node().attrString("direction", "forward") == "bidirectional" ? 2 : 1;
  bool BatchFirst = C.node().attrInt("layout", 0) != 0;
  int64_t Seq = Shape::Unknown, Batch = Shape::Unknown;
  if (XS.hasRank()) {
    if (XS.rank() != 3)
      return C.error("input of rank " + Twine(XS.rank()) + " (expected 3)");
    Seq = XS[BatchFirst ? 1 : 0];
    Batch = XS[BatchFirst ? 0 : 1];
  }
  if (BatchFirst) {
    C.setOutput(0, X->Ty, shapeOf({Batch, Seq, Dirs, Hidden}));
    C.setOutput(1, X->Ty, shapeOf({Batch, Dirs, Hidden}));
    C.setOutput(2, X->Ty, shapeOf({Batch, Dirs, Hidden}));
  } else {
    C.setOutput(0, X->Ty, shapeOf({Seq, Dirs, Batch, Hidden}));
    C.setOutput(1, X->Ty, shapeOf({Dirs, Batch, Hidden}));
    C.setOutput(2, X->Ty, shapeOf({Dirs, Batch, Hidden}));
  }
  return ok();
}

/// ai.onnx RMSNormalization (23): X (T), scale (V) -> Y (V), X's shape.
Error rmsNormalization(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  if (X->Sh.hasRank()) {
    Expected<Shape> Stat = statShape(C, X->Sh, C.node().attrInt("axis", -1));
    if (!Stat)
      return Stat.takeError();
  }
  DType YTy = C.in(1) && C.in(1)->Ty != DType::Undefined ? C.in(1)->Ty : X->Ty;
  C.setOutput(0, YTy, X->Sh);
  return ok();
}

/// ai.onnx Attention (23, 24): Q [B, S, Hq] (q_num_heads) or [B, Nq, S, H];
/// K [B, L, Hk] (kv_num_heads) or [B, Nkv, L, H]; V likewise with head
/// size Hv; past_key/past_value [B, Nkv, P, H]. Y is [B, S, Nq * Hv] for a
/// 3-D Q, [B, Nq, S, Hv] for a 4-D Q; present_key [B, Nkv, P + L, H],
/// present_value [B, Nkv, P + L, Hv]; qk_matmul_output [B, Nq, S, P + L].
Error onnxAttention(ShapeContext &C) {
  for (unsigned I = 0; I < 3; ++I)
    if (Error E = C.requireInput(I))
      return E;
  const Node &N = C.node();
  const Shape &Q = C.in(0)->Sh, &K = C.in(1)->Sh, &V = C.in(2)->Sh;
  int64_t QR = rankOf(C, 0), KR = rankOf(C, 1), VR = rankOf(C, 2);
  for (int64_t R : {QR, KR, VR})
    if (R >= 0 && R != 3 && R != 4)
      return C.error("Q, K and V must be 3-D or 4-D");
  int64_t QHeadsAttr = N.attrInt("q_num_heads", 0);
  int64_t KvHeadsAttr = N.attrInt("kv_num_heads", 0);
  int64_t B = dimAt(Q, 0);
  int64_t NQ = QR == 4 ? dimAt(Q, 1) : (QHeadsAttr > 0 ? QHeadsAttr : Unknown);
  int64_t S = QR == 4 ? dimAt(Q, 2) : dimAt(Q, 1);
  int64_t NKV = Unknown, L = Unknown, HK = Unknown, HV = Unknown;
  int64_t KvHeads = KvHeadsAttr > 0 ? KvHeadsAttr : Unknown;
  if (KR == 4) {
    NKV = dimAt(K, 1);
    L = dimAt(K, 2);
    HK = dimAt(K, 3);
  } else if (KR == 3) {
    NKV = KvHeads;
    L = dimAt(K, 1);
    HK = divDims(dimAt(K, 2), KvHeads);
  }
  if (VR == 4) {
    HV = dimAt(V, 3);
    if (!known(NKV))
      NKV = dimAt(V, 1);
  } else if (VR == 3) {
    HV = divDims(dimAt(V, 2), known(NKV) ? NKV : KvHeads);
  }
  if (!known(B))
    B = dimAt(K, 0);
  DType T1 = C.in(0)->Ty, T2 = C.in(2)->Ty;
  if (QR == 4)
    C.setOutput(0, T1, shapeOf({B, NQ, S, HV}));
  else if (QR == 3)
    C.setOutput(0, T1, shapeOf({B, S, mulDims(NQ, HV)}));
  else
    C.setOutput(0, T1, Shape());
  int64_t Total = L;
  if (Value *PastK = C.in(4)) {
    if (rankOf(C, 4) >= 0 && rankOf(C, 4) != 4)
      return C.error("past_key must be 4-D");
    Total = addDims(dimAt(PastK->Sh, 2), L);
  }
  C.setOutput(1, C.in(1)->Ty, shapeOf({B, NKV, Total, HK}));
  C.setOutput(2, T2, shapeOf({B, NKV, Total, HV}));
  C.setOutput(3, T1, shapeOf({B, NQ, S, Total}));
  return ok();
}

/// native_dropout keeps a bool mask, 1 byte per element.
void saveDropoutMask(SaveContext &C) {
  const Node &N = C.node();
  Value *X = C.in(0);
  if (!X || !C.rg(0))
    return;
  // Inference-mode dropout (training_mode false or absent from opset 12,
  // is_test before 7, ratio 0) is an identity and keeps nothing.
  bool Training = false;
  if (N.OpsetVersion >= 12) {
    Value *T = C.in(2);
    Training = T && T->Data && T->Data->size() == 1 && T->Data->asInt(0) != 0;
  } else {
    Training = C.out(1) != nullptr || N.attrInt("is_test", 0) == 0;
  }
  Value *Ratio = C.in(1);
  if (Ratio && Ratio->Data && Ratio->Data->size() == 1 &&
      Ratio->Data->asDouble(0) == 0)
    Training = false;
  if (N.OpsetVersion < 12 && N.attr("ratio") && N.attrFloat("ratio", 0.5) == 0)
    Training = false;
  if (!Training)
    return;
  C.buffer("mask", DType::Bool, X->Sh, "dropout mask");
}

/// Conv: input for the weight's gradient, weight for the input's.
void saveConv(SaveContext &C) {
  if (C.rg(1))
    C.input(0, "input of Conv");
  if (C.rg(0))
    C.input(1, "input of Conv");
}

/// Fallback for BatchNormalization: input plus per-channel statistics.
void saveBatchNorm(SaveContext &C) {
  if (!C.anyRG())
    return;
  C.input(0, "input of BatchNormalization");
  Value *X = C.in(0);
  Shape S = X && X->Sh.hasRank() && X->Sh.rank() > 1
                ? Shape(ArrayRef<int64_t>{X->Sh[1]})
                : Shape();
  C.buffer("mean", DType::Float, S, "BatchNorm mean");
  C.buffer("rstd", DType::Float, S, "BatchNorm inverse std");
}

/// max_pool2d_with_indices / adaptive_max_pool2d: self and the int64
/// indices of the maxima (output 1 when the graph shows it).
void saveMaxPool(SaveContext &C) {
  if (!C.rg(0))
    return;
  C.input(0, "input of " + opName(C));
  if (C.out(1))
    C.output(1, "indices of " + opName(C));
  else if (Value *Y = C.out(0))
    C.buffer("indices", DType::Int64, Y->Sh, "indices of " + opName(C));
}

/// instance_norm (batch_norm over N x C): input, mean and rstd, f32 [N, C].
void saveInstanceNorm(SaveContext &C) {
  Value *X = C.in(0);
  if (!X || !C.anyRG())
    return;
  C.input(0, "input of InstanceNormalization");
  Shape S = X->Sh.hasRank() && X->Sh.rank() > 1
                ? Shape(ArrayRef<int64_t>{X->Sh[0], X->Sh[1]})
                : Shape();
  C.buffer("mean", DType::Float, S, "InstanceNorm mean");
  C.buffer("rstd", DType::Float, S, "InstanceNorm inverse std");
}

const OpInfo Rows[] = {
    {"", "NonMaxSuppression", 10, Any, nonMaxSuppression, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "Conv", 1, Any, conv, saveConv, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "convolution_backward", "", false, PrecisionClass::LowerPrecision,
     SavedKind::MatMul},
    {"", "ConvTranspose", 1, Any, convTranspose, saveConv, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "convolution_backward (transposed)", "", false,
     PrecisionClass::LowerPrecision, SavedKind::MatMul},
    {"", "MaxPool", 1, Any, pool, saveMaxPool, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "max_pool2d_with_indices: self, indices", ""},
    {"", "AveragePool", 1, Any, pool, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "avg_pool2d: self",
     ""},
    {"", "LpPool", 1, Any, pool, saveReduceMinMax, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "lp_pool2d (pow, avg_pool2d, pow): self, result", ""},
    {"", "GlobalAveragePool", 1, Any, globalPool, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "_adaptive_avg_pool2d: self", ""},
    {"", "GlobalMaxPool", 1, Any, globalPool, saveMaxPool, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "adaptive_max_pool2d: self, indices", ""},
    {"", "GlobalLpPool", 1, Any, globalPool, saveReduceMinMax, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "lp_pool2d (pow, avg_pool2d, pow): self, result", ""},
    {"", "BatchNormalization", 1, 13, batchNormLegacy, saveBatchNorm,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "native_batch_norm: input, save_mean, save_invstd", "", false,
     PrecisionClass::InputType, SavedKind::Norm},
    {"", "BatchNormalization", 14, Any, batchNorm, saveBatchNorm,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "native_batch_norm: input, save_mean, save_invstd", "", false,
     PrecisionClass::InputType, SavedKind::Norm},
    {"", "InstanceNormalization", 1, Any, sameAsInput, saveInstanceNorm,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "instance_norm: input, save_mean, save_invstd", "", false,
     PrecisionClass::InputType, SavedKind::Norm},
    {"", "LayerNormalization", 17, Any, layerNorm, saveLayerNormalization,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "native_layer_norm: input, mean, rstd", "", false,
     PrecisionClass::InputType, SavedKind::Norm, ServingKind::Outputs, true},
    {"", "GroupNormalization", 18, Any, sameAsInput, saveGroupNorm,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "native_group_norm: input, mean, rstd", "", false,
     PrecisionClass::InputType, SavedKind::Norm},
    {"", "LpNormalization", 1, Any, sameAsInput, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "normalize (x / norm): self, norm", "", false, PrecisionClass::InputType,
     SavedKind::Norm},
    {"", "MeanVarianceNormalization", 9, Any, sameAsInput, nullptr,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType, "",
     "saved: decomposed in PyTorch (mean, var, sub, div); priced by the "
     "conservative fallback"},
    {"", "LRN", 1, Any, sameAsInput, saveReduceMinMax, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "local_response_norm: self, result", ""},
    {"", "Dropout", 1, 9, dropout<false>, saveDropoutMask, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "native_dropout: mask", "", false, PrecisionClass::InputType,
     SavedKind::Dropout},
    {"", "Dropout", 10, Any, dropout<true>, saveDropoutMask, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "native_dropout: mask", "", false, PrecisionClass::InputType,
     SavedKind::Dropout},
    {"", "RNN", 1, Any, recurrent, nullptr, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::LowerPrecision, "",
     "saved: cuDNN keeps a reserve space that depends on the backend; priced "
     "by the conservative fallback"},
    {"", "GRU", 1, Any, recurrent, nullptr, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::LowerPrecision, "",
     "saved: cuDNN keeps a reserve space that depends on the backend; priced "
     "by the conservative fallback"},
    {"", "LSTM", 1, Any, recurrent, nullptr, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::LowerPrecision, "",
     "saved: cuDNN keeps a reserve space that depends on the backend; priced "
     "by the conservative fallback"},
    {"", "Attention", 23, Any, onnxAttention, saveProjectedAttention,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "_scaled_dot_product_attention_math", "", false,
     PrecisionClass::LowerPrecision, SavedKind::Attention},
    {"", "RMSNormalization", 23, Any, rmsNormalization, saveRmsNormalization,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "_fused_rms_norm: input, rstd", "", false, PrecisionClass::InputType,
     SavedKind::Norm, ServingKind::Outputs, true},
    {"", "RotaryEmbedding", 23, Any, likeFirst, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "x * cos + rotate(x) * sin: constants only", ""},
};

} // namespace

ArrayRef<OpInfo> nnOps() { return Rows; }

} // namespace vram

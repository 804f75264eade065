//===- SavedRules.cpp - The saved-for-backward rule table -----------------===//
//
// One entry per op: which inputs/outputs its gradient needs given which
// inputs require grad, and the hidden buffers its framework kernel keeps.
// References are to PyTorch's tools/autograd/derivatives.yaml entries (or the
// kernel that saves the buffer). Saved parameters and constants cost nothing
// extra (they are priced as parameters); the saved pass drops them.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/SavedRules.h"
#include "vram/Analysis/ShapeFunctions.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>

using namespace llvm;

namespace vram {

bool SaveContext::anyRG() const {
  for (unsigned I = 0; I < Inputs.size(); ++I)
    if (rg(I))
      return true;
  return false;
}

bool SaveContext::otherRG(unsigned Skip) const {
  for (unsigned I = 0; I < Inputs.size(); ++I)
    if (I != Skip && rg(I))
      return true;
  return false;
}

namespace {

std::string opName(const SaveContext &C) {
  return C.Op.empty() ? C.node().OpType : C.Op;
}

/// Shape of the statistics of a normalisation over the dims from Axis on:
/// the leading dims, then 1s.
Shape statsShape(const Value *X, int64_t Axis) {
  if (!X || !X->Sh.hasRank())
    return Shape();
  Optional<size_t> A = normalizeAxis(Axis, X->Sh.rank());
  if (!A)
    return Shape();
  SmallVector<int64_t, 6> D(X->Sh.dims().begin(), X->Sh.dims().end());
  for (size_t I = *A; I < D.size(); ++I)
    D[I] = 1;
  return Shape(D);
}

// --- products: each operand is needed for the other's gradient -----------

/// mm/bmm/matmul/mul: self: grad @ other^T needs other; other needs self.
void saveProductOperands(SaveContext &C) {
  std::string R = "input of " + opName(C);
  if (C.rg(1))
    C.input(0, R);
  if (C.rg(0))
    C.input(1, R);
}

/// div: self: grad / other; other: -grad * self / other^2.
void saveDiv(SaveContext &C) {
  std::string R = "input of Div";
  if (C.rg(0) || C.rg(1))
    C.input(1, R);
  if (C.rg(1))
    C.input(0, R);
}

/// pow(self, exponent): self needs self (and exponent); exponent needs
/// self and result.
void savePow(SaveContext &C) {
  if (C.rg(0) || C.rg(1))
    C.input(0, "input of Pow");
  if (C.rg(1)) {
    C.input(1, "input of Pow");
    C.output(0, "output of Pow");
  }
}

void saveNothing(SaveContext &) {}

void saveInput0(SaveContext &C) {
  if (C.rg(0))
    C.input(0, "input of " + opName(C));
}

void saveOutput0(SaveContext &C) {
  if (C.rg(0))
    C.output(0, "output of " + opName(C));
}

void saveSoftmaxOutput(SaveContext &C) {
  if (C.rg(0))
    C.output(0, "softmax output");
}

void saveBothInputs(SaveContext &C) {
  if (C.anyRG()) {
    C.input(0, "input of " + opName(C));
    C.input(1, "input of " + opName(C));
  }
}

/// clamp/where-like: the condition (or bounds) select the gradient.
void saveWhereCondition(SaveContext &C) {
  if (C.rg(1) || C.rg(2))
    C.input(0, "condition of Where");
}

/// embedding / index_select / gather: the indices.
void saveIndices(SaveContext &C) {
  if (C.rg(0))
    C.input(1, "indices of " + opName(C));
}

void saveReduceMinMax(SaveContext &C) {
  if (C.rg(0)) {
    C.input(0, "input of " + opName(C));
    C.output(0, "output of " + opName(C));
  }
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

/// native_layer_norm saves input, mean and rstd (fp32 under autocast).
void saveLayerNorm(SaveContext &C, int64_t Axis, bool HasMean) {
  if (!C.anyRG())
    return;
  std::string Kind = HasMean ? "LayerNorm" : "RMSNorm";
  C.input(0, "input of " + Kind);
  Shape S = statsShape(C.in(0), Axis);
  if (HasMean)
    C.buffer("mean", DType::Float, S, Kind + " mean");
  C.buffer("rstd", DType::Float, S, Kind + " inverse std");
}

void saveLayerNormalization(SaveContext &C) {
  saveLayerNorm(C, C.node().attrInt("axis", -1), true);
}

void saveFusedLayerNorm(SaveContext &C) { saveLayerNorm(C, -1, true); }
/// A result the kernel computes in f32 on purpose: priced in f32 under
/// every recipe.
void saveOutputF32(SaveContext &C) {
  if (C.rg(0))
    C.outputKeepingDType(0, "softmax output (f32)");
}
void saveRmsNormalization(SaveContext &C) {
  saveLayerNorm(C, C.node().attrInt("axis", -1), false);
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

// --- com.microsoft fused ops: priced as the PyTorch modules they fuse ----

/// FastGelu/BiasGelu(x, bias): gelu(x + bias) keeps its input, x + bias.
void saveBiasGelu(SaveContext &C) {
  if (!C.anyRG())
    return;
  if (C.in(1))
    C.activationBuffer("gelu_input", C.in(0)->Ty, C.in(0)->Sh,
                       "input of Gelu (x + bias)");
  else
    C.input(0, "input of Gelu");
}

/// SkipLayerNormalization: LayerNorm of input + skip (+ bias); keeps the sum
/// (output 3 when the node exposes it), mean and rstd.
void saveSkipLayerNorm(SaveContext &C, bool HasMean) {
  if (!C.anyRG())
    return;
  Value *X = C.in(0);
  if (C.out(3))
    C.output(3, "input of LayerNorm (input + skip)");
  else if (X)
    C.activationBuffer("sum", X->Ty, X->Sh,
                       "input of LayerNorm (input + skip)");
  Shape S = statsShape(X, -1);
  if (HasMean)
    C.buffer("mean", DType::Float, S, "LayerNorm mean");
  C.buffer("rstd", DType::Float, S, "LayerNorm inverse std");
}
void saveSkipLN(SaveContext &C) { saveSkipLayerNorm(C, true); }
void saveSkipSimplifiedLN(SaveContext &C) { saveSkipLayerNorm(C, false); }

/// EmbedLayerNormalization: indices of the three embeddings, the embedding
/// sum (LayerNorm input) and its statistics.
void saveEmbedLayerNorm(SaveContext &C) {
  if (!C.anyRG())
    return;
  C.input(0, "indices of embedding");
  C.input(1, "indices of embedding");
  Value *Out = C.out(0);
  if (!Out)
    return;
  if (C.out(2))
    C.output(2, "input of LayerNorm (embedding sum)");
  else
    C.activationBuffer("sum", Out->Ty, Out->Sh,
                       "input of LayerNorm (embedding sum)");
  Shape S = statsShape(Out, -1);
  C.buffer("mean", DType::Float, S, "LayerNorm mean");
  C.buffer("rstd", DType::Float, S, "LayerNorm inverse std");
}

/// Attention probabilities [B, N, S, L] in the dtype of T.
Shape probsShape(int64_t B, int64_t N, int64_t S, int64_t L) {
  return Shape(ArrayRef<int64_t>{B, N, S, L});
}

/// com.microsoft::Attention(input, weights, bias, mask, past): the unfused
/// module keeps the projection input, Q, K, V and the softmax output.
void saveMsAttention(SaveContext &C) {
  if (!C.anyRG())
    return;
  Value *X = C.in(0), *Y = C.out(0);
  if (!X || !Y || !X->Sh.hasRank() || X->Sh.rank() != 3)
    return;
  C.input(0, "input of the QKV projection");
  int64_t B = X->Sh[0], S = X->Sh[1], H = Y->Sh.hasRank() ? Y->Sh[2] : -1;
  int64_t N = C.node().attrInt("num_heads", 1);
  int64_t L = S;
  if (Value *Present = C.out(1))
    if (Present->Sh.hasRank() && Present->Sh.rank() == 5)
      L = Present->Sh[3];
  Shape QKV(ArrayRef<int64_t>{B, S, H});
  C.activationBuffer("q", X->Ty, QKV, "Q for QK^T");
  C.activationBuffer("k", X->Ty, Shape(ArrayRef<int64_t>{B, L, H}),
                     "K for QK^T");
  C.activationBuffer("v", X->Ty, Shape(ArrayRef<int64_t>{B, L, H}),
                     "V for scores x V");
  C.activationBuffer("probs", X->Ty, probsShape(B, N, S, L), "softmax output");
}

/// MultiHeadAttention / GroupQueryAttention / ai.onnx Attention with
/// projected Q, K, V inputs: keeps Q, K, V and the softmax output
/// (SDPA math backward).
void saveProjectedAttention(SaveContext &C) {
  if (!C.anyRG())
    return;
  Value *Q = C.in(0), *K = C.in(1), *Y = C.out(0);
  if (!Q || !Q->Sh.hasRank())
    return;
  C.input(0, "Q for QK^T");
  C.input(1, "K for QK^T");
  C.input(2, "V for scores x V");
  int64_t B = Q->Sh[0], S = -1, N = -1, L = -1;
  const Node &Nd = C.node();
  if (Q->Sh.rank() == 4) { // [B, N, S, H]
    N = Q->Sh[1];
    S = Q->Sh[2];
  } else if (Q->Sh.rank() == 3) {
    S = Q->Sh[1];
    N = Nd.attrInt("num_heads", Nd.attrInt("q_num_heads", -1));
  }
  if (K && K->Sh.hasRank())
    L = K->Sh.rank() == 4 ? K->Sh[2] : K->Sh[1];
  // With a past cache, the keys attended to are the present ones.
  for (unsigned I = 1; I < 4; ++I)
    if (Value *P = C.out(I))
      if (P->Sh.hasRank() && P->Sh.rank() == 4)
        L = std::max(L, P->Sh[2]);
  C.activationBuffer("probs", Y ? Y->Ty : Q->Ty, probsShape(B, N, S, L),
                     "softmax output");
}

void saveBiasSoftmax(SaveContext &C) {
  if (C.anyRG())
    C.output(0, "softmax output");
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

void saveFusedMatMul(SaveContext &C) { saveProductOperands(C); }

/// SoftmaxCrossEntropyLoss(Internal): log-probabilities and labels.
void saveSoftmaxCrossEntropy(SaveContext &C) {
  if (!C.rg(0))
    return;
  if (C.out(1))
    C.output(1, "log-probabilities of the loss");
  C.input(1, "labels of the loss");
}

/// ORT training-graph ops are already gradients or plumbing.
void saveGradientOp(SaveContext &) {}

const SavedRule Rules[] = {
    // ai.onnx: linear algebra
    {"", "MatMul", 1, AnyVersion, saveProductOperands, "mm/bmm/matmul"},
    {"", "Gemm", 1, AnyVersion, saveProductOperands, "addmm"},
    {"", "Einsum", 1, AnyVersion, saveBothInputs, "einsum (bmm)"},
    {"", "Conv", 1, AnyVersion, saveConv, "convolution_backward"},
    // elementwise arithmetic
    {"", "Add", 1, AnyVersion, saveNothing, "add"},
    {"", "Sub", 1, AnyVersion, saveNothing, "sub"},
    {"", "Sum", 1, AnyVersion, saveNothing, "add"},
    {"", "Neg", 1, AnyVersion, saveNothing, "neg"},
    {"", "Mul", 1, AnyVersion, saveProductOperands, "mul"},
    {"", "Div", 1, AnyVersion, saveDiv, "div"},
    {"", "Pow", 1, AnyVersion, savePow, "pow"},
    {"", "Sqrt", 1, AnyVersion, saveOutput0, "sqrt: result"},
    {"", "Reciprocal", 1, AnyVersion, saveOutput0, "reciprocal: result"},
    {"", "Exp", 1, AnyVersion, saveOutput0, "exp: result"},
    {"", "Log", 1, AnyVersion, saveInput0, "log: self"},
    {"", "Abs", 1, AnyVersion, saveInput0, "abs: self"},
    {"", "Sin", 1, AnyVersion, saveInput0, "sin: self"},
    {"", "Cos", 1, AnyVersion, saveInput0, "cos: self"},
    {"", "Max", 1, AnyVersion, saveBothInputs, "maximum: self, other"},
    {"", "Min", 1, AnyVersion, saveBothInputs, "minimum: self, other"},
    {"", "Clip", 1, AnyVersion, saveInput0, "clamp: self"},
    // activations
    {"", "Tanh", 1, AnyVersion, saveOutput0, "tanh: result"},
    {"", "Sigmoid", 1, AnyVersion, saveOutput0, "sigmoid: result"},
    {"", "Relu", 1, AnyVersion, saveOutput0, "relu: result"},
    {"", "Erf", 1, AnyVersion, saveInput0, "erf: self"},
    {"", "Gelu", 20, AnyVersion, saveInput0, "gelu: self"},
    {"", "LeakyRelu", 1, AnyVersion, saveInput0, "leaky_relu: self"},
    {"", "Elu", 1, AnyVersion, saveInput0, "elu: self"},
    {"", "Celu", 1, AnyVersion, saveInput0, "celu: self"},
    {"", "Selu", 1, AnyVersion, saveInput0, "selu: self"},
    {"", "ThresholdedRelu", 1, AnyVersion, saveInput0, "threshold: self"},
    {"", "Softsign", 1, AnyVersion, saveInput0, "softsign: self"},
    {"", "Tan", 1, AnyVersion, saveOutput0, "tan: result"},
    {"", "Atan", 1, AnyVersion, saveInput0, "atan: self"},
    {"", "Asin", 1, AnyVersion, saveInput0, "asin: self"},
    {"", "Acos", 1, AnyVersion, saveInput0, "acos: self"},
    {"", "Sinh", 1, AnyVersion, saveInput0, "sinh: self"},
    {"", "Cosh", 1, AnyVersion, saveInput0, "cosh: self"},
    {"", "Softplus", 1, AnyVersion, saveInput0, "softplus: self"},
    {"", "HardSigmoid", 1, AnyVersion, saveInput0, "hardsigmoid: self"},
    {"", "HardSwish", 1, AnyVersion, saveInput0, "hardswish: self"},
    {"", "Mish", 1, AnyVersion, saveInput0, "mish: self"},
    {"", "Softmax", 1, AnyVersion, saveSoftmaxOutput, "_softmax: result"},
    {"", "LogSoftmax", 1, AnyVersion, saveSoftmaxOutput,
     "_log_softmax: result"},
    {"", "Dropout", 1, AnyVersion, saveDropoutMask, "native_dropout: mask"},
    // normalisation
    {"", "LayerNormalization", 17, AnyVersion, saveLayerNormalization,
     "native_layer_norm: input, mean, rstd"},
    {"", "RMSNormalization", 23, AnyVersion, saveRmsNormalization,
     "_fused_rms_norm: input, rstd"},
    {"", "BatchNormalization", 1, AnyVersion, saveBatchNorm,
     "native_batch_norm: input, save_mean, save_invstd"},
    // reductions
    {"", "ReduceMean", 1, AnyVersion, saveInput0,
     "mean.dim: self (PyTorch 1.13 keeps it; 2.x keeps only sizes)"},
    {"", "ReduceSum", 1, AnyVersion, saveNothing, "sum"},
    {"", "ReduceMax", 1, AnyVersion, saveReduceMinMax, "amax: self, result"},
    {"", "ReduceMin", 1, AnyVersion, saveReduceMinMax, "amin: self, result"},
    {"", "ReduceProd", 1, AnyVersion, saveReduceMinMax, "prod: self, result"},
    {"", "ReduceL2", 1, AnyVersion, saveReduceMinMax, "norm: self, result"},
    {"", "ReduceLogSumExp", 1, AnyVersion, saveReduceMinMax,
     "logsumexp: self, result"},
    // indexing and selection
    {"", "Gather", 1, AnyVersion, saveIndices, "embedding/index_select"},
    {"", "GatherElements", 1, AnyVersion, saveIndices, "gather: index"},
    {"", "GatherND", 1, AnyVersion, saveIndices, "index: indices"},
    {"", "Where", 1, AnyVersion, saveWhereCondition, "where: condition"},
    // data movement and shape plumbing: views or copies, nothing saved
    {"", "Reshape", 1, AnyVersion, saveNothing, "view/reshape"},
    {"", "Transpose", 1, AnyVersion, saveNothing, "permute"},
    {"", "Squeeze", 1, AnyVersion, saveNothing, "squeeze"},
    {"", "Unsqueeze", 1, AnyVersion, saveNothing, "unsqueeze"},
    {"", "Flatten", 1, AnyVersion, saveNothing, "flatten"},
    {"", "Identity", 1, AnyVersion, saveNothing, "alias"},
    {"", "Expand", 1, AnyVersion, saveNothing, "expand"},
    {"", "Tile", 1, AnyVersion, saveNothing, "repeat"},
    {"", "Concat", 1, AnyVersion, saveNothing, "cat"},
    {"", "Split", 1, AnyVersion, saveNothing, "split"},
    {"", "Slice", 1, AnyVersion, saveNothing, "slice"},
    {"", "Pad", 1, AnyVersion, saveNothing, "constant_pad_nd"},
    {"", "Cast", 1, AnyVersion, saveNothing, "_to_copy"},
    {"", "CastLike", 1, AnyVersion, saveNothing, "_to_copy"},
    {"", "Trilu", 1, AnyVersion, saveNothing, "tril/triu"},
    {"", "CumSum", 1, AnyVersion, saveNothing, "cumsum"},
    {"", "ScatterND", 1, AnyVersion, saveNothing, "index_put (data)"},
    {"", "Constant", 1, AnyVersion, saveNothing, "no gradient"},
    // not differentiable (integer or bool results, or zero gradient)
    {"", "Shape", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "Size", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "Equal", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "Less", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "LessOrEqual", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "Greater", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "GreaterOrEqual", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "ArgMax", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "ArgMin", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "IsNaN", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "IsInf", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "NonZero", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "Floor", 1, AnyVersion, saveNothing, "floor: zero gradient"},
    {"", "Ceil", 1, AnyVersion, saveNothing, "ceil: zero gradient"},
    {"", "Round", 1, AnyVersion, saveNothing, "round: zero gradient"},
    {"", "Sign", 1, AnyVersion, saveNothing, "sign: zero gradient"},
    {"", "ConstantOfShape", 1, AnyVersion, saveNothing, "no gradient"},
    {"", "TopK", 1, AnyVersion, saveNothing, "topk: indices (integer output)"},
    // com.microsoft fused ops
    {"com.microsoft", "FastGelu", 1, AnyVersion, saveBiasGelu,
     "gelu(x + bias): self"},
    {"com.microsoft", "BiasGelu", 1, AnyVersion, saveBiasGelu,
     "gelu(x + bias): self"},
    {"com.microsoft", "Gelu", 1, AnyVersion, saveInput0, "gelu: self"},
    {"com.microsoft", "QuickGelu", 1, AnyVersion, saveInput0,
     "x * sigmoid(1.702x): self"},
    {"com.microsoft", "SkipLayerNormalization", 1, AnyVersion, saveSkipLN,
     "native_layer_norm of input + skip"},
    {"com.microsoft", "SkipSimplifiedLayerNormalization", 1, AnyVersion,
     saveSkipSimplifiedLN, "rms_norm of input + skip"},
    {"com.microsoft", "SimplifiedLayerNormalization", 1, AnyVersion,
     saveRmsNormalization, "rms_norm: input, rstd"},
    {"", "SimplifiedLayerNormalization", 1, AnyVersion, saveRmsNormalization,
     "rms_norm: input, rstd"},
    {"com.microsoft", "LayerNormalization", 1, AnyVersion,
     saveLayerNormalization, "native_layer_norm: input, mean, rstd"},
    {"com.microsoft", "EmbedLayerNormalization", 1, AnyVersion,
     saveEmbedLayerNorm, "embedding x3 + native_layer_norm"},
    {"com.microsoft", "Attention", 1, AnyVersion, saveMsAttention,
     "linear + matmul/softmax/matmul (unfused attention)"},
    {"com.microsoft", "MultiHeadAttention", 1, AnyVersion,
     saveProjectedAttention, "_scaled_dot_product_attention_math"},
    {"com.microsoft", "GroupQueryAttention", 1, AnyVersion,
     saveProjectedAttention, "_scaled_dot_product_attention_math"},
    {"", "Attention", 23, AnyVersion, saveProjectedAttention,
     "_scaled_dot_product_attention_math"},
    {"com.microsoft", "RotaryEmbedding", 1, AnyVersion, saveNothing,
     "x * cos + rotate(x) * sin: constants only"},
    {"", "RotaryEmbedding", 23, AnyVersion, saveNothing,
     "x * cos + rotate(x) * sin: constants only"},
    {"com.microsoft", "FusedMatMul", 1, AnyVersion, saveFusedMatMul, "matmul"},
    {"com.microsoft", "BiasSoftmax", 1, AnyVersion, saveBiasSoftmax,
     "_softmax: result"},
    {"com.microsoft", "BiasDropout", 1, AnyVersion, saveBiasDropout,
     "native_dropout: mask"},
    {"com.microsoft", "BitmaskDropout", 1, AnyVersion, saveBitmaskDropout,
     "dropout with a 1-bit mask"},
    {"com.microsoft", "BitmaskBiasDropout", 1, AnyVersion, saveBitmaskDropout,
     "dropout with a 1-bit mask"},
    {"com.microsoft", "SoftmaxCrossEntropyLossInternal", 1, AnyVersion,
     saveSoftmaxCrossEntropy, "cross_entropy: log_softmax result, target"},
    {"", "SoftmaxCrossEntropyLoss", 1, AnyVersion, saveSoftmaxCrossEntropy,
     "cross_entropy: log_softmax result, target"},
    {"com.microsoft", "ConcatTraining", 1, AnyVersion, saveNothing, "cat"},
    {"com.microsoft", "YieldOp", 1, AnyVersion, saveGradientOp,
     "boundary between ORT's forward and backward"},
    // Kernels recognised by the fusion pass (lib/Analysis/Fusion.cpp).
    {"vram", "Gelu", 1, AnyVersion, saveInput0, "gelu: self"},
    {"vram", "SiLU", 1, AnyVersion, saveInput0, "silu: self"},
    {"vram", "LayerNorm", 1, AnyVersion, saveFusedLayerNorm,
     "native_layer_norm: input, mean, rstd"},
    {"vram", "Rsqrt", 1, AnyVersion, saveOutput0, "rsqrt: result"},
    {"vram", "Linear", 1, AnyVersion, saveProductOperands,
     "addmm: the input for the weight, the weight for the input"},
    {"vram", "SoftmaxF32", 1, AnyVersion, saveOutputF32,
     "_softmax(dtype=float32): result, in f32"},
};

} // namespace

ArrayRef<SavedRule> savedRules() { return Rules; }

const SavedRule *findSavedRule(StringRef Domain, StringRef OpType,
                               int64_t Version) {
  const SavedRule *Best = nullptr;
  for (const SavedRule &R : Rules) {
    if (Domain != R.Domain || OpType != R.OpType)
      continue;
    if (R.MinVersion <= Version && Version <= R.MaxVersion)
      return &R;
    if (!Best || R.MinVersion < Best->MinVersion)
      Best = &R;
  }
  // An op imported at an older opset than the rule's first version: the
  // gradient of the op is the same whatever the version.
  return Best;
}

} // namespace vram

//===- FusedKernels.cpp - the kernels the fusion pass recognises (domain "vram")
//---===//
//
// The op registry's rows for the kernels the fusion pass recognises (domain
// "vram"), and their shape functions and saved-tensor rules (following
// lib/Analysis/Fusion.cpp). Each row holds every facet of one (domain, op,
// opset range); see vram/Analysis/OpRegistry.h.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

void saveFusedLayerNorm(SaveContext &C) { saveLayerNorm(C, -1, true); }

/// A result the kernel computes in f32 on purpose: priced in f32 under
/// every recipe.
void saveOutputF32(SaveContext &C) {
  if (C.rg(0))
    C.outputKeepingDType(0, "softmax output (f32)");
}

/// The flash kernel's log-sum-exp: f32, one per query row and head.
void saveLogSumExp(SaveContext &C, int64_t B, int64_t Heads, int64_t S) {
  C.buffer("lse", DType::Float, Shape(ArrayRef<int64_t>{B, Heads, S}),
           "flash attention log-sum-exp (f32)");
}

/// com.microsoft::Attention as a flash kernel: the projection input for
/// the QKV weights, the projected Q, K, V (buffers, as in the eager rule),
/// the output and the log-sum-exp.
void saveFlashMsAttention(SaveContext &C) {
  Value *X = C.in(0), *Y = C.out(0);
  if (!X || !Y || !X->Sh.hasRank() || X->Sh.rank() != 3 || !Y->Sh.hasRank())
    return;
  C.input(0, "input of the QKV projection");
  int64_t B = X->Sh[0], S = X->Sh[1], H = Y->Sh[Y->Sh.rank() - 1];
  int64_t L = S;
  if (Value *Present = C.out(1))
    if (Present->Sh.hasRank() && Present->Sh.rank() == 5)
      L = Present->Sh[3];
  C.activationBuffer("q", X->Ty, Shape(ArrayRef<int64_t>{B, S, H}),
                     "flash attention input (q)");
  C.activationBuffer("k", X->Ty, Shape(ArrayRef<int64_t>{B, L, H}),
                     "flash attention input (k)");
  C.activationBuffer("v", X->Ty, Shape(ArrayRef<int64_t>{B, L, H}),
                     "flash attention input (v)");
  C.output(0, "flash attention output");
  saveLogSumExp(C, B, C.node().attrInt("num_heads", 1), S);
}

/// The flash kernel of an attention core (--attention=flash): Q, K, V,
/// its output and the log-sum-exp of each query row in f32 ([b, heads,
/// s]); no s x s tensor (the dropout mask is regenerated from the RNG state
/// in backward). The core is a decomposed group (pattern flash-attention:
/// inputs Q, K^T, V, masks; output [b, heads, s, d/heads]) or a fused op
/// (flash-attention-op: MultiHeadAttention, GroupQueryAttention, ai.onnx
/// Attention take Q, K, V; com.microsoft Attention projects them itself).
void saveFlashAttention(SaveContext &C) {
  const Node &N = C.node();
  if (N.Domain == "com.microsoft" && N.OpType == "Attention")
    return saveFlashMsAttention(C);
  for (unsigned I = 0; I < 3; ++I)
    C.input(I, "flash attention input (q, k, v)");
  C.output(0, "flash attention output");
  const Value *Q = C.in(0), *O = C.out(0);
  if (N.OpType == "MatMul") { // a decomposed core: O is [b, heads, s, d/h]
    if (O && O->Sh.hasRank() && O->Sh.rank() >= 2)
      C.buffer("lse", DType::Float, Shape(O->Sh.dims().drop_back()),
               "flash attention log-sum-exp (f32)");
    return;
  }
  if (!Q || !Q->Sh.hasRank())
    return;
  int64_t Heads = N.attrInt("num_heads", N.attrInt("q_num_heads", -1));
  switch (Q->Sh.rank()) {
  case 4: // [B, N, S, H]
    return saveLogSumExp(C, Q->Sh[0], Q->Sh[1], Q->Sh[2]);
  case 5: // packed [B, S, N, 3, H]
    return saveLogSumExp(C, Q->Sh[0], Q->Sh[2], Q->Sh[1]);
  case 3: // [B, S, N * H]
    return saveLogSumExp(C, Q->Sh[0], Heads, Q->Sh[1]);
  }
}

const OpInfo Rows[] = {
    {"vram", "Gelu", 1, AnyVersion, nullptr, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "gelu: self",
     "shape: a fused kernel; the nodes it groups have shapes", false,
     PrecisionClass::InputType, SavedKind::Activation},
    {"vram", "SiLU", 1, AnyVersion, nullptr, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "silu: self",
     "shape: a fused kernel; the nodes it groups have shapes", false,
     PrecisionClass::InputType, SavedKind::Activation},
    {"vram", "LayerNorm", 1, AnyVersion, nullptr, saveFusedLayerNorm,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "native_layer_norm: input, mean, rstd",
     "shape: a fused kernel; the nodes it groups have shapes", false,
     PrecisionClass::InputType, SavedKind::Norm},
    {"vram", "Rsqrt", 1, AnyVersion, nullptr, saveOutput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "rsqrt: result",
     "shape: a fused kernel; the nodes it groups have shapes", false,
     PrecisionClass::InputType, SavedKind::Norm},
    {"vram", "Linear", 1, AnyVersion, nullptr, saveProductOperands,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "addmm: the input for the weight, the weight for the input",
     "shape: a fused kernel; the nodes it groups have shapes", false,
     PrecisionClass::LowerPrecision, SavedKind::MatMul},
    {"vram", "FlashAttention", 1, AnyVersion, nullptr, saveFlashAttention,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "_scaled_dot_product_flash_attention: query, key, value, output, "
     "logsumexp",
     "shape: a fused kernel; the nodes it groups have shapes", false,
     PrecisionClass::LowerPrecision, SavedKind::Attention},
    {"vram", "SoftmaxF32", 1, AnyVersion, nullptr, saveOutputF32,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "_softmax(dtype=float32): result, in f32",
     "shape: a fused kernel; the nodes it groups have shapes", false,
     PrecisionClass::InputType, SavedKind::Attention},
};

} // namespace

ArrayRef<OpInfo> fusedKernelsOps() { return Rows; }

} // namespace vram

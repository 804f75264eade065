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

/// The flash kernel of an attention core (the fusion pattern
/// flash-attention, --attention=flash): Q, K, V (inputs 0-2), its output and
/// the log-sum-exp of each query row in f32 ([b, heads, s]: the output's
/// shape without its last dim); no s x s tensor (the dropout mask is
/// regenerated from the RNG state in backward).
void saveFlashAttention(SaveContext &C) {
  for (unsigned I = 0; I < 3; ++I)
    C.input(I, "flash attention input (q, k, v)");
  C.output(0, "flash attention output");
  const Value *O = C.out(0);
  if (!O || !O->Sh.hasRank() || O->Sh.rank() < 2)
    return;
  Shape LSE(O->Sh.dims().drop_back());
  C.buffer("lse", DType::Float, LSE, "flash attention log-sum-exp (f32)");
}

const OpInfo Rows[] = {
    {"vram", "Gelu", 1, AnyVersion, nullptr, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "gelu: self",
     "shape: a fused kernel; the nodes it groups have shapes"},
    {"vram", "SiLU", 1, AnyVersion, nullptr, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "silu: self",
     "shape: a fused kernel; the nodes it groups have shapes"},
    {"vram", "LayerNorm", 1, AnyVersion, nullptr, saveFusedLayerNorm,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "native_layer_norm: input, mean, rstd",
     "shape: a fused kernel; the nodes it groups have shapes"},
    {"vram", "Rsqrt", 1, AnyVersion, nullptr, saveOutput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "rsqrt: result",
     "shape: a fused kernel; the nodes it groups have shapes"},
    {"vram", "Linear", 1, AnyVersion, nullptr, saveProductOperands,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "addmm: the input for the weight, the weight for the input",
     "shape: a fused kernel; the nodes it groups have shapes"},
    {"vram", "FlashAttention", 1, AnyVersion, nullptr, saveFlashAttention,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "_scaled_dot_product_flash_attention: query, key, value, output, "
     "logsumexp",
     "shape: a fused kernel; the nodes it groups have shapes"},
    {"vram", "SoftmaxF32", 1, AnyVersion, nullptr, saveOutputF32,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "_softmax(dtype=float32): result, in f32",
     "shape: a fused kernel; the nodes it groups have shapes"},
};

} // namespace

ArrayRef<OpInfo> fusedKernelsOps() { return Rows; }

} // namespace vram

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
     "shape: a fused kernel; the nodes it groups have shapes", false,
     PrecisionClass::InputType},
    {"vram", "Rsqrt", 1, AnyVersion, nullptr, saveOutput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "rsqrt: result",
     "shape: a fused kernel; the nodes it groups have shapes", false,
     PrecisionClass::InputType},
    {"vram", "Linear", 1, AnyVersion, nullptr, saveProductOperands,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "addmm: the input for the weight, the weight for the input",
     "shape: a fused kernel; the nodes it groups have shapes"},
    {"vram", "SoftmaxF32", 1, AnyVersion, nullptr, saveOutputF32,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "_softmax(dtype=float32): result, in f32",
     "shape: a fused kernel; the nodes it groups have shapes", false,
     PrecisionClass::InputType},
};

} // namespace

ArrayRef<OpInfo> fusedKernelsOps() { return Rows; }

} // namespace vram

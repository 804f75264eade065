//===- Recipes.cpp - Precision recipes and optimizers ---------------------===//

#include "vram/Cost/Recipes.h"
#include "vram/Support/Diagnostics.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <cmath>

using namespace llvm;

namespace vram {

namespace {
// Bytes per parameter with Adam (two fp32 state copies, 8 bytes):
//   mixed      2 + 4 + 2 + 4 + 8 = 20  the founding document's mixed precision
//   fp32       4 + 4 + 4 + 4 + 8 = 24  the founding document's fp32 accounting
//   megatron   2 + 4 + 4     + 8 = 18  Megatron-LM / DeepSpeed (bf16 weights,
//                                      fp32 main grads, fp32 master)
//   zero       2 + 4 + 2     + 8 = 16  ZeRO paper (fp16 w+g, fp32 master)
//   torch-fp32 4     + 4     + 8 = 16  plain PyTorch fp32 training
//   torch-amp  4 + 2 + 4     + 8 = 18  PyTorch AMP: fp32 weights and grads,
//                                      fp16 weight copies cached by autocast
constexpr Recipe Recipes[] = {
    {"mixed",
     "founding document: fp16 weights+grads, fp32 master weights+grads",
     DType::Float16, 4, DType::Float16, 4, 4, DType::Float16, 0},
    {"fp32",
     "founding document: fp32 weights+grads, fp32 copies for the update",
     DType::Float, 4, DType::Float, 4, 4, DType::Float, 0},
    {"megatron", "Megatron-LM/DeepSpeed: bf16 weights, fp32 grads and master",
     DType::BFloat16, 4, DType::Float, 0, 4, DType::BFloat16, 0},
    {"zero", "ZeRO paper: fp16 weights+grads, fp32 master weights",
     DType::Float16, 4, DType::Float16, 0, 4, DType::Float16, 0},
    {"torch-fp32", "plain PyTorch fp32: weights, grads, state", DType::Float, 0,
     DType::Float, 0, 4, DType::Float, 0},
    {"torch-amp",
     "PyTorch AMP: fp32 weights+grads, autocast fp16 weight copies",
     DType::Float, 0, DType::Float, 0, 4, DType::Float16, 2, true},
};

// Measured with models/torch/measure_step.py (torch 1.13, CPU): SGD and
// momentum update in place; Adam(W)'s denom = (exp_avg_sq.sqrt() /
// bias_correction2_sqrt).add_(eps) holds two parameter-sized temporaries.
constexpr Optimizer Optimizers[] = {
    {"sgd", 0, 0},
    {"momentum", 1, 0},
    {"adam", 2, 2},
    {"adamw", 2, 2},
};

// Storage formats for weights (--weight-dtype) and the KV cache
// (--kv-dtype). Bits per element with their scales:
//   f32, f16, bf16  32, 16, 16
//   fp8   8: e4m3 with one scale per tensor (not counted), as vLLM's fp8
//         KV cache and torchao's float8 weights
//   int8  8 + one f32 scale per row: bitsandbytes LLM.int8() (Linear8bitLt's
//         per-output-row SCB for a [out, in] weight); for a KV cache, per
//         token and head (a row is head_dim)
//   int4  4 + (f16 scale + 4-bit zero point) per group of 128: GPTQ / AWQ
//         (4.156 bits)
//   nf4   4 + an 8-bit scale per block of 64 + an f32 scale per 256 blocks:
//         QLoRA (Dettmers et al. 2023) with double quantization, bitsandbytes
//         quantize_4bit on the flattened tensor (4.127 bits)
constexpr StorageFormat Formats[] = {
    {"f32", "32-bit float", 32, 0, 0, 0, 0},
    {"f16", "16-bit float", 16, 0, 0, 0, 0},
    {"bf16", "bfloat16", 16, 0, 0, 0, 0},
    {"fp8", "8-bit float (e4m3), one scale per tensor", 8, 0, 0, 0, 0},
    {"int8", "8-bit integer, an f32 scale per row (LLM.int8())", 8, 0, 32, 0,
     0},
    {"int4", "4-bit integer, f16 scale and 4-bit zero per 128 (GPTQ, AWQ)", 4,
     128, 20, 0, 0},
    {"nf4", "4-bit NormalFloat, double-quantized block scales (QLoRA)", 4, 64,
     8, 256, 32},
};

constexpr StringRef TermKeys[] = {"weights",          "master_weights",
                                  "weight_copies",    "gradients",
                                  "master_gradients", "optimizer_state"};

/// "unknown KIND 'NAME' (known: A, B, ...)", the known names in table order.
template <typename T, typename NameFn>
Error unknownName(StringRef Kind, StringRef Name, ArrayRef<T> Known,
                  NameFn GetName) {
  std::string List;
  for (const T &K : Known)
    List += (List.empty() ? "" : ", ") + GetName(K).str();
  return makeError("unknown " + Kind + " '" + Name + "' (known: " + List + ")");
}
} // namespace

ArrayRef<Recipe> recipes() { return Recipes; }

const Recipe *findRecipe(StringRef Name) {
  for (const Recipe &R : Recipes)
    if (Name == R.Name)
      return &R;
  return nullptr;
}

Expected<const Recipe *> lookupRecipe(StringRef Name) {
  if (const Recipe *R = findRecipe(Name))
    return R;
  return unknownName("recipe", Name, recipes(),
                     [](const Recipe &R) { return StringRef(R.Name); });
}

double bytesPerParam(const Recipe &R, unsigned StateCopies) {
  return dtypeBits(R.WeightTy) / 8.0 + R.MasterWeights + R.ExtraWeights +
         dtypeBits(R.GradTy) / 8.0 + R.MasterGrads +
         StateCopies * R.StatePerCopy;
}

ArrayRef<Optimizer> optimizers() { return Optimizers; }

const Optimizer *findOptimizer(StringRef Name) {
  for (const Optimizer &O : Optimizers)
    if (Name == O.Name)
      return &O;
  return nullptr;
}

Expected<const Optimizer *> lookupOptimizer(StringRef Name) {
  if (const Optimizer *O = findOptimizer(Name))
    return O;
  return unknownName("optimizer", Name, optimizers(),
                     [](const Optimizer &O) { return StringRef(O.Name); });
}

int optimizerStateCopies(StringRef Name) {
  const Optimizer *O = findOptimizer(Name);
  return O ? static_cast<int>(O->StateCopies) : -1;
}

ArrayRef<StringRef> recipeTermKeys() { return TermKeys; }

ArrayRef<StorageFormat> storageFormats() { return Formats; }

Expected<const StorageFormat *> lookupStorageFormat(StringRef Name) {
  for (const StorageFormat &F : Formats)
    if (Name == F.Name)
      return &F;
  return unknownName("storage format", Name, storageFormats(),
                     [](const StorageFormat &F) { return StringRef(F.Name); });
}

uint64_t storageBytes(const StorageFormat &F, uint64_t NumElements,
                      uint64_t RowSize) {
  auto Ceil = [](uint64_t A, uint64_t B) { return B ? (A + B - 1) / B : 0; };
  double Bits = F.BitsPerElement * NumElements;
  if (F.ScaleBits > 0) {
    uint64_t Blocks = F.BlockSize
                          ? Ceil(NumElements, F.BlockSize)
                          : Ceil(NumElements, std::max<uint64_t>(RowSize, 1));
    Bits += F.ScaleBits * Blocks;
    if (F.SuperBlock)
      Bits += F.SuperScaleBits * Ceil(Blocks, F.SuperBlock);
  }
  return static_cast<uint64_t>(std::ceil(Bits / 8));
}

Error checkRecipeTermKey(StringRef Key) {
  if (is_contained(TermKeys, Key))
    return Error::success();
  return unknownName("recipe term", Key, recipeTermKeys(),
                     [](StringRef K) { return K; });
}

} // namespace vram

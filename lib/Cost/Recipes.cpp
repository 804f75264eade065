//===- Recipes.cpp - Precision recipes and optimizers ---------------------===//

#include "vram/Cost/Recipes.h"

#include "llvm/ADT/StringSwitch.h"

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
const Recipe Recipes[] = {
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
     DType::Float, 0, DType::Float, 0, 4, DType::Float16, 2},
};
} // namespace

ArrayRef<Recipe> recipes() { return Recipes; }

const Recipe *findRecipe(StringRef Name) {
  for (const Recipe &R : Recipes)
    if (Name == R.Name)
      return &R;
  return nullptr;
}

int optimizerStateCopies(StringRef Name) {
  return StringSwitch<int>(Name)
      .Case("sgd", 0)
      .Case("momentum", 1)
      .Cases("adam", "adamw", 2)
      .Default(-1);
}

} // namespace vram

//===- Recipes.h - Precision recipes and optimizers -------------*- C++ -*-===//
//
// A recipe names the bytes each parameter costs, term by term (weights,
// master weights, gradients, master gradients, optimizer state per state
// copy), and the dtype of floating-point activations. Optimizers say how
// many state copies they keep.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_COST_RECIPES_H
#define VRAM_COST_RECIPES_H

#include "vram/IR/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace vram {

struct Recipe {
  const char *Name;
  const char *Description;
  DType WeightTy;       ///< dtype of the weights used by forward/backward
  double MasterWeights; ///< bytes/param of an fp32 master copy (0: none)
  DType GradTy;         ///< dtype of the gradients backward produces
  double MasterGrads;   ///< bytes/param of fp32 gradients for the update
  double StatePerCopy;  ///< bytes/param of one optimizer state copy
  DType ActivationTy;   ///< floating-point activations are stored in this
  double ExtraWeights;  ///< bytes/param of weight copies (autocast cache)
};

llvm::ArrayRef<Recipe> recipes();
const Recipe *findRecipe(llvm::StringRef Name);

/// Optimizer state copies: sgd 0, momentum 1, adam and adamw 2. -1 when the
/// name is unknown.
int optimizerStateCopies(llvm::StringRef Name);

} // namespace vram

#endif // VRAM_COST_RECIPES_H

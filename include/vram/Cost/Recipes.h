//===- Recipes.h - Precision recipes and optimizers -------------*- C++ -*-===//
//
// A recipe names the bytes each parameter costs, term by term (weights,
// master weights, gradients, master gradients, optimizer state per state
// copy), and the dtype of floating-point activations. Optimizers say how
// many state copies they keep. The tables here are the only lists of
// recipes, optimizers and term keys: the tool's help and its errors are
// built from them.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_COST_RECIPES_H
#define VRAM_COST_RECIPES_H

#include "vram/IR/DType.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

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
  /// Activations take the dtypes torch.autocast gives each op (the autocast
  /// pass) rather than ActivationTy.
  bool Autocast = false;
};

llvm::ArrayRef<Recipe> recipes();
const Recipe *findRecipe(llvm::StringRef Name);
/// The recipe named Name, or "unknown recipe 'NAME' (known: mixed, ...)".
llvm::Expected<const Recipe *> lookupRecipe(llvm::StringRef Name);

/// Bytes per parameter of every term of R with an optimizer keeping
/// StateCopies state copies (20 for mixed with Adam).
double bytesPerParam(const Recipe &R, unsigned StateCopies);

struct Optimizer {
  const char *Name;
  unsigned StateCopies; ///< optimizer state copies kept per parameter
  /// f32 temporaries the size of one parameter that its update allocates
  /// (PyTorch's single-tensor implementation, torch 1.13: Adam computes
  /// exp_avg_sq.sqrt() / bias_correction, two copies, one parameter at a
  /// time); the step's transient peak is this many copies of the largest
  /// parameter.
  unsigned StepTemporaries;
};

/// sgd (0 state copies), momentum (1), adam and adamw (2).
llvm::ArrayRef<Optimizer> optimizers();
const Optimizer *findOptimizer(llvm::StringRef Name);
/// The optimizer named Name, or "unknown optimizer 'NAME' (known: sgd, ...)".
llvm::Expected<const Optimizer *> lookupOptimizer(llvm::StringRef Name);

/// Optimizer state copies: sgd 0, momentum 1, adam and adamw 2. -1 when the
/// name is unknown.
int optimizerStateCopies(llvm::StringRef Name);

/// The keys of a recipe's per-parameter terms, in report order: weights,
/// master_weights, weight_copies, gradients, master_gradients,
/// optimizer_state (what CostOptions::TermOverrides may override).
llvm::ArrayRef<llvm::StringRef> recipeTermKeys();
/// Success when Key names a term, else "unknown recipe term 'KEY' (known:
/// weights, ...)".
llvm::Error checkRecipeTermKey(llvm::StringRef Key);

/// How weights or a KV cache are stored: elements of BitsPerElement bits,
/// plus one scale of ScaleBits per block of BlockSize elements of the
/// flattened tensor (0: one scale per row, a row being the tensor's last
/// dim), plus one scale of SuperScaleBits per SuperBlock blocks (double
/// quantization). The table in Recipes.cpp says which library each follows.
struct StorageFormat {
  const char *Name;
  const char *Description;
  double BitsPerElement;
  unsigned BlockSize;
  double ScaleBits;
  unsigned SuperBlock;
  double SuperScaleBits;
};

/// f32, f16, bf16, fp8, int8, int4, nf4.
llvm::ArrayRef<StorageFormat> storageFormats();
/// The format named Name, or "unknown storage format 'NAME' (known: ...)".
llvm::Expected<const StorageFormat *> lookupStorageFormat(llvm::StringRef Name);
/// Bytes of a tensor of NumElements elements whose last dim is RowSize,
/// stored in F (rounded up to whole bytes).
uint64_t storageBytes(const StorageFormat &F, uint64_t NumElements,
                      uint64_t RowSize);

} // namespace vram

#endif // VRAM_COST_RECIPES_H

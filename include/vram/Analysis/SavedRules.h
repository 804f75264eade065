//===- SavedRules.h - What each op keeps for the backward pass --*- C++ -*-===//
//
// The interface of a saved-tensor rule, the Save facet of the op registry
// (vram/Analysis/OpRegistry.h). A rule says which inputs and outputs an
// op's gradient needs, given which inputs require grad, plus the buffers
// the framework kernel keeps that the graph does not show (dropout masks,
// normalisation statistics). PyTorch's autograd formulas (derivatives.yaml)
// are the reference; each row names the one it follows. Fused kernels
// recognised by the fusion pass are rows of the domain "vram".
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_ANALYSIS_SAVEDRULES_H
#define VRAM_ANALYSIS_SAVEDRULES_H

#include "vram/IR/Graph.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseSet.h"

#include <functional>
#include <string>

namespace vram {

/// What a rule sees and how it records what is kept.
class SaveContext {
public:
  struct Item {
    enum Kind { Input, Output, Buffer } K;
    unsigned Index = 0;
    std::string Name; ///< buffer name ("mask", "mean", ...)
    DType Ty = DType::Undefined;
    Shape Sh;
    std::string Reason;
    /// Priced in its own dtype under every recipe (masks, statistics, an
    /// f32 result kept on purpose); false: priced like any activation.
    bool KeepsDType = false;
  };

  SaveContext(const Node &N, llvm::ArrayRef<Value *> Inputs,
              llvm::ArrayRef<Value *> Outputs,
              const llvm::DenseSet<const Value *> &RG)
      : N(N), Inputs(Inputs), Outputs(Outputs), RG(RG) {}

  const Node &node() const { return N; }
  Value *in(unsigned I) const {
    return I < Inputs.size() ? Inputs[I] : nullptr;
  }
  Value *out(unsigned I) const {
    return I < Outputs.size() ? Outputs[I] : nullptr;
  }
  unsigned numInputs() const { return Inputs.size(); }
  /// Input I is present and requires grad.
  bool rg(unsigned I) const { return in(I) && RG.count(in(I)); }
  bool anyRG() const;
  /// True when any input other than I requires grad.
  bool otherRG(unsigned I) const;

  void input(unsigned I, const std::string &Reason) {
    if (in(I))
      Items.push_back(
          {Item::Input, I, "", DType::Undefined, Shape(), Reason, false});
  }
  void output(unsigned I, const std::string &Reason) {
    if (out(I))
      Items.push_back(
          {Item::Output, I, "", DType::Undefined, Shape(), Reason, false});
  }
  /// An output the kernel keeps in its own dtype whatever the recipe.
  void outputKeepingDType(unsigned I, const std::string &Reason) {
    if (out(I))
      Items.push_back(
          {Item::Output, I, "", DType::Undefined, Shape(), Reason, true});
  }
  /// A kernel-internal buffer kept in its own dtype (mask, statistics).
  void buffer(const std::string &Name, DType T, const Shape &S,
              const std::string &Reason) {
    Items.push_back({Item::Buffer, 0, Name, T, S, Reason, true});
  }
  /// An activation the fused op computes internally (x + bias, Q, softmax
  /// output): priced in the recipe's activation dtype like a graph tensor.
  void activationBuffer(const std::string &Name, DType T, const Shape &S,
                        const std::string &Reason) {
    Items.push_back({Item::Buffer, 0, Name, T, S, Reason, false});
  }

  std::vector<Item> Items;
  /// The op as priced, for reasons: the kernel of a fused group ("Gelu"),
  /// else the node's op type.
  std::string Op;

private:
  const Node &N;
  llvm::ArrayRef<Value *> Inputs;
  llvm::ArrayRef<Value *> Outputs;
  const llvm::DenseSet<const Value *> &RG;
};

using SaveFn = void (*)(SaveContext &);

} // namespace vram

#endif // VRAM_ANALYSIS_SAVEDRULES_H

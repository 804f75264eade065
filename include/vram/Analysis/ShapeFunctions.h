//===- ShapeFunctions.h - Per-op shape and value rules ----------*- C++ -*-===//
//
// The interface of a shape function, the Shape facet of the op registry
// (vram/Analysis/OpRegistry.h). A shape function reads its node's input dtypes,
// shapes and (when known) small contents, and sets each output's dtype, shape
// and, where it can, contents (shape arithmetic: Shape -> Gather -> Concat ->
// Reshape chains).
//
// Contract:
//  - set every present output's dtype whenever it can be known;
//  - set as much of each output's shape as the inputs allow (unknown rank
//    or Shape::Unknown dims are fine; the pass reports what stays unknown);
//  - return an error only when the node is definitely malformed given
//    known facts (a broadcast of 3 against 5, a Reshape whose counts cannot
//    match, a required input missing, an attribute of the wrong kind);
//  - propagate contents only for outputs of at most MaxKnownElements
//    elements, with exact integer arithmetic.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_ANALYSIS_SHAPEFUNCTIONS_H
#define VRAM_ANALYSIS_SHAPEFUNCTIONS_H

#include "vram/IR/Graph.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>

namespace vram {

class Diagnostics;

class ShapeContext {
public:
  ShapeContext(Node &N,
               std::function<llvm::Error(Graph &)> InferSubgraph = nullptr,
               Diagnostics *Diags = nullptr)
      : N(N), InferSubgraph(std::move(InferSubgraph)), Diags(Diags) {}

  Node &node() { return N; }
  int64_t opset() const { return N.OpsetVersion; }
  unsigned numInputs() const { return N.Inputs.size(); }
  unsigned numOutputs() const { return N.Outputs.size(); }

  /// Input I, or nullptr when absent or omitted.
  Value *in(unsigned I) const { return N.input(I); }
  bool hasInput(unsigned I) const { return in(I) != nullptr; }
  /// Output I, or nullptr when absent or omitted.
  Value *out(unsigned I) const { return N.output(I); }

  /// Known contents of input I, or nullptr.
  const TensorData *data(unsigned I) const {
    Value *V = in(I);
    return V && V->Data ? V->Data.getPointer() : nullptr;
  }
  /// Contents of input I as int64s when known (a 1-D or scalar int tensor).
  llvm::Optional<llvm::SmallVector<int64_t, 8>> ints(unsigned I) const;

  /// Sets output I's dtype and shape (no-op when the output is omitted).
  void setOutput(unsigned I, DType T, const Shape &S);
  /// Makes output I a sequence of element dtype T (its shape the storage of
  /// its elements, SequenceType::storage()).
  void setSequenceOutput(unsigned I, DType T, SequenceType S);
  /// Also records known contents; ignored when the shape is not concrete,
  /// has more than MaxKnownElements elements, or does not match Data's size.
  void setOutput(unsigned I, DType T, const Shape &S, TensorData Data);

  /// Error "<node>: Msg" for a malformed node.
  llvm::Error error(const llvm::Twine &Msg) const;
  /// Error unless input I is present and has a known dtype.
  llvm::Error requireInput(unsigned I) const;

  /// Runs shape propagation over a subgraph of this node (If/Loop/Scan).
  llvm::Error inferSubgraph(Graph &G) {
    if (!InferSubgraph)
      return llvm::Error::success();
    return InferSubgraph(G);
  }

  /// Records a warning about this node that --strict does not escalate
  /// (a problem the rule worked around).
  void note(const llvm::Twine &Msg) const;

private:
  Node &N;
  std::function<llvm::Error(Graph &)> InferSubgraph;
  Diagnostics *Diags;
};

using ShapeFn = llvm::Error (*)(ShapeContext &);

constexpr int64_t AnyVersion = INT64_MAX;

} // namespace vram

#endif // VRAM_ANALYSIS_SHAPEFUNCTIONS_H

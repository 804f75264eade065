//===- GraphBuilder.h - Adding nodes to the main graph ----------*- C++ -*-===//
//
// The passes that add to the graph (the loss, LoRA adapters) build their
// nodes here: each new value gets a fresh name, each new node is shaped by
// its registry row's shape function, so the later passes price it like any
// other op.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_ANALYSIS_GRAPHBUILDER_H
#define VRAM_ANALYSIS_GRAPHBUILDER_H

#include "vram/Analysis/Analysis.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <utility>

namespace vram {

class GraphBuilder {
public:
  /// Nodes are named Prefix + "/" + name (name alone when Prefix is
  /// empty), at the model's opset (at least MinOpset).
  GraphBuilder(AnalysisContext &Ctx, llvm::StringRef Prefix,
               int64_t MinOpset = 13);

  /// A new value named Base (or Base.1, ...) of kind K, kept in its own
  /// dtype when Fixed.
  Value *value(llvm::StringRef Base, ValueKind K = ValueKind::Activation,
               bool Fixed = false);
  /// A new node OpType(Ins) -> Outs (ai.onnx), appended to the graph and
  /// shaped by its registry row.
  llvm::Expected<Node *>
  node(llvm::StringRef OpType, llvm::StringRef Name,
       llvm::ArrayRef<Value *> Ins, llvm::ArrayRef<Value *> Outs,
       llvm::ArrayRef<std::pair<llvm::StringRef, Attribute>> Attrs = {});

  static Attribute intAttr(int64_t V);

private:
  AnalysisContext &Ctx;
  Graph &G;
  std::string Prefix;
  int64_t Opset;
};

} // namespace vram

#endif // VRAM_ANALYSIS_GRAPHBUILDER_H

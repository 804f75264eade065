//===- Diagnostics.h - Warnings and error context ---------------*- C++ -*-===//
//
// Warnings are collected in emission order (which is deterministic: passes
// walk nodes in topological order) and printed by the driver as
// "vram-opt: warning: FILE: ...". Under --strict, a warning of a class the
// user asked to be strict about becomes an error at the point it is raised.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_SUPPORT_DIAGNOSTICS_H
#define VRAM_SUPPORT_DIAGNOSTICS_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace vram {

class Node;

/// "node 'attn_3' (com.microsoft::Attention)", or "node #12 (MatMul)" for an
/// unnamed node.
std::string describeNode(const Node &N);

class Diagnostics {
public:
  /// Under Strict, warn() returns an error instead of recording a warning.
  bool Strict = false;

  /// Records a warning, or returns it as an error under Strict. Messages
  /// carry their context (node, tensor) but not the file name.
  llvm::Error warn(const llvm::Twine &Msg);
  /// Records a warning that --strict does not turn into an error.
  void note(const llvm::Twine &Msg);

  const std::vector<std::string> &warnings() const { return Warnings; }

private:
  std::vector<std::string> Warnings;
};

/// An error with a plain message (the driver prefixes the file).
llvm::Error makeError(const llvm::Twine &Msg);

} // namespace vram

#endif // VRAM_SUPPORT_DIAGNOSTICS_H

//===- Frontend.h - Reading ONNX models into the IR -------------*- C++ -*-===//
//
// The only component that sees ONNX or protobuf types. Reads binary .onnx,
// ONNX textual syntax (.onnxtxt) and protobuf text format (.textproto),
// never opens external data files and never copies weight payloads into the
// IR, inlines model-local functions, keeps subgraphs as child graphs, sorts
// nodes topologically and binds symbolic input dims.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_FRONTEND_FRONTEND_H
#define VRAM_FRONTEND_FRONTEND_H

#include "vram/IR/Graph.h"
#include "vram/Support/Diagnostics.h"

#include "llvm/Support/Error.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vram {

enum class InputFormat { Auto, Binary, Text, TextProto };

struct LoadOptions {
  InputFormat Format = InputFormat::Auto;
  /// Symbolic dim bindings (--dim NAME=VALUE), in command-line order.
  std::vector<std::pair<std::string, int64_t>> Dims;
  /// Graph inputs matching this regex are parameters (weights passed as
  /// inputs); empty means the automatic rule (see docs/frontend.md).
  std::string ParamInputs;
  /// Graph inputs matching this regex are data, never parameters.
  std::string DataInputs;
  /// Initializers matching this regex are non-trainable buffers; empty
  /// means the automatic rule (see docs/frontend.md).
  std::string Buffers;
  /// Binds every symbolic input dim left unbound to this value (--default-dim;
  /// the fuzzers use it too). None: an unbound dim is an error.
  llvm::Optional<int64_t> DefaultDim;
  /// Maximum nesting of subgraphs and function calls.
  unsigned MaxDepth = 64;
};

/// A model parsed once, from which the IR can be built again for other dim
/// bindings (the sweep path): parsing is most of a load's cost.
class ParsedModel {
public:
  ~ParsedModel();
  /// Reads and parses Path ("-" for stdin).
  static llvm::Expected<std::unique_ptr<ParsedModel>>
  parse(llvm::StringRef Path, const LoadOptions &Opts);
  static llvm::Expected<std::unique_ptr<ParsedModel>>
  parseBuffer(llvm::StringRef Buffer, llvm::StringRef Name,
              const LoadOptions &Opts);
  /// Builds the IR with Opts' bindings (Opts.Format is not used again).
  llvm::Expected<std::unique_ptr<Model>> build(const LoadOptions &Opts,
                                               Diagnostics &Diags) const;

private:
  struct Impl;
  explicit ParsedModel(std::unique_ptr<Impl> P);
  std::unique_ptr<Impl> P;
};

/// Loads Path ("-" for stdin). Errors carry no file prefix; the driver adds
/// it.
llvm::Expected<std::unique_ptr<Model>>
loadModel(llvm::StringRef Path, const LoadOptions &Opts, Diagnostics &Diags);

/// Loads from an in-memory buffer (fuzzing, tests). Name is used for
/// relative external-data checks only.
llvm::Expected<std::unique_ptr<Model>>
loadModelFromBuffer(llvm::StringRef Buffer, llvm::StringRef Name,
                    const LoadOptions &Opts, Diagnostics &Diags);

} // namespace vram

#endif // VRAM_FRONTEND_FRONTEND_H

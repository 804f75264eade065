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

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace vram {

enum class InputFormat { Auto, Binary, Text, TextProto };

class DimBindingError;

struct LoadOptions {
  InputFormat Format = InputFormat::Auto;
  /// Symbolic dim bindings (NAME, VALUE), in the order given.
  std::vector<std::pair<std::string, int64_t>> Dims;
  /// Graph inputs matching this regex are parameters (weights passed as
  /// inputs); empty means the automatic rule (see docs/frontend.md).
  std::string ParamInputs;
  /// Graph inputs matching this regex are data, never parameters.
  std::string DataInputs;
  /// Initializers matching this regex are non-trainable buffers; empty
  /// means the automatic rule (see docs/frontend.md).
  std::string Buffers;
  /// Binds every symbolic input dim left unbound to this value (the fuzzers
  /// use it too). None: an unbound dim is an error.
  llvm::Optional<int64_t> DefaultDim;
  /// Maximum nesting of subgraphs and function calls.
  unsigned MaxDepth = 64;
  /// Words the warning raised for a binding of Dims that names no symbolic
  /// dim of the model's inputs (a DimBindingError of kind Unused), so that a
  /// tool can name its own options; unset, the warning is its message().
  std::function<std::string(const DimBindingError &)> DescribeDimWarning;

  /// Checks the options that do not depend on a model: DefaultDim is
  /// positive (else a DimBindingError), then ParamInputs, DataInputs and
  /// Buffers are valid regular expressions.
  llvm::Error validate() const;
};

/// A problem with the dim bindings (LoadOptions::Dims and DefaultDim). The
/// frontend names no command-line option: message() words the problem
/// plainly, and a tool words it for its own options from the fields.
class DimBindingError : public llvm::ErrorInfo<DimBindingError> {
public:
  enum Kind {
    Negative,           ///< Dims binds Name to Value, which is < 0
    DefaultNotPositive, ///< DefaultDim is Value, which is <= 0
    BoundTwice,         ///< Dims binds Name to Value and then to Other
    Unbound,            ///< the symbolic dims in Examples are not bound
    Unused,             ///< (a warning) no input has the dim Dims binds, Name
  };
  static char ID;

  DimBindingError(Kind K, std::string Name, int64_t Value = 0,
                  int64_t Other = 0)
      : K(K), Name(std::move(Name)), Value(Value), Other(Other) {}
  /// An Unbound error: each unbound name with a value for an example
  /// binding, in input order.
  explicit DimBindingError(
      std::vector<std::pair<std::string, int64_t>> Examples)
      : K(Unbound), Examples(std::move(Examples)) {}

  Kind K;
  std::string Name;
  int64_t Value = 0, Other = 0;
  std::vector<std::pair<std::string, int64_t>> Examples;

  void log(llvm::raw_ostream &OS) const override;
  std::error_code convertToErrorCode() const override;
};

/// A buffer read as a binary model that is not one and looks like text: it
/// may be ONNX textual syntax or protobuf text format, which another
/// InputFormat reads. message() says so without naming a command-line
/// option.
class LooksLikeTextError : public llvm::ErrorInfo<LooksLikeTextError> {
public:
  static char ID;
  /// What the binary parser found: "the protobuf is malformed or
  /// truncated", or "no graph found (...)".
  explicit LooksLikeTextError(std::string Problem)
      : Problem(std::move(Problem)) {}
  std::string Problem;

  void log(llvm::raw_ostream &OS) const override;
  std::error_code convertToErrorCode() const override;
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

//===- LoadOptions.cpp - Checking the load options, and load errors -------===//
//
// What can be checked of the load options before a model is read, and the
// frontend's structured errors, which name no command-line option.
//
//===----------------------------------------------------------------------===//

#include "vram/Frontend/Frontend.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

char DimBindingError::ID;
char LooksLikeTextError::ID;

Error LoadOptions::validate() const {
  if (DefaultDim && *DefaultDim <= 0)
    return make_error<DimBindingError>(DimBindingError::DefaultNotPositive, "",
                                       *DefaultDim);
  for (const std::string *R : {&ParamInputs, &DataInputs, &Buffers}) {
    std::string Err;
    if (!R->empty() && !Regex(*R).isValid(Err))
      return makeError("invalid regular expression '" + *R + "': " + Err);
  }
  return Error::success();
}

void DimBindingError::log(raw_ostream &OS) const {
  switch (K) {
  case Negative:
    OS << "dim " << Name << '=' << Value
       << ": a dim must be bound to a number >= 0 (0 for an empty dim)";
    return;
  case DefaultNotPositive:
    OS << "default dim " << Value
       << ": a dim must be bound to a positive number";
    return;
  case BoundTwice:
    OS << "dim " << Name << " is bound twice, to " << Value << " and " << Other;
    return;
  case Unbound: {
    OS << "unbound symbolic dim" << (Examples.size() > 1 ? "s " : " ");
    ListSeparator LS;
    for (const auto &E : Examples)
      OS << LS << E.first;
    OS << " (for example ";
    ListSeparator LS2;
    for (const auto &E : Examples)
      OS << LS2 << E.first << '=' << E.second;
    OS << ')';
    return;
  }
  case Unused:
    OS << "dim " << Name << " matches no symbolic dim of the model's inputs";
    return;
  }
}

std::error_code DimBindingError::convertToErrorCode() const {
  return inconvertibleErrorCode();
}

void LooksLikeTextError::log(raw_ostream &OS) const {
  OS << "not a valid ONNX model: " << Problem
     << " (the file looks like text, perhaps ONNX textual syntax or protobuf "
        "text format)";
}

std::error_code LooksLikeTextError::convertToErrorCode() const {
  return inconvertibleErrorCode();
}

} // namespace vram

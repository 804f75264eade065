//===- AnalysisOptions.cpp - Checking the analysis options ----------------===//

#include "vram/Analysis/Analysis.h"

#include "llvm/Support/Regex.h"

using namespace llvm;

namespace vram {

Error AnalysisOptions::validate() const {
  std::string Err;
  if (!FreezeRegex.empty() && !Regex(FreezeRegex).isValid(Err))
    return makeError("invalid regular expression '" + FreezeRegex +
                     "': " + Err);
  return Error::success();
}

} // namespace vram

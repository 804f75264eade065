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
  if (!CheckpointLayers.empty()) {
    if (Checkpoint == CheckpointPolicy::None)
      return makeError("a layer regular expression for checkpointing needs "
                       "a checkpoint policy (selective or full)");
    if (!Regex(CheckpointLayers).isValid(Err))
      return makeError("invalid layer regular expression '" + CheckpointLayers +
                       "': " + Err);
  }
  return Error::success();
}

} // namespace vram

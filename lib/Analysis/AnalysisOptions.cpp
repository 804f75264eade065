//===- AnalysisOptions.cpp - Checking the analysis options ----------------===//

#include "vram/Analysis/Analysis.h"

#include "llvm/Support/Regex.h"

using namespace llvm;

namespace vram {

char DimLimitError::ID;

Error AnalysisOptions::validate() const {
  std::string Err;
  for (const std::string *R : {&FreezeRegex, &TrainableRegex, &Lora.Targets})
    if (!R->empty() && !Regex(*R).isValid(Err))
      return makeError("invalid regular expression '" + *R + "': " + Err);
  if (Lora.Rank && Lora.Targets.empty())
    return makeError("LoRA needs targets (a regular expression for the "
                     "weights to adapt)");
  if (Lora.Rank && (Lora.Dropout < 0 || Lora.Dropout >= 1))
    return makeError("LoRA dropout must be in [0, 1)");
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

Expected<AnalysisOptions::LoraOptions> parseLoraSpec(StringRef Spec) {
  AnalysisOptions::LoraOptions L;
  bool HasRank = false;
  StringRef Rest = Spec;
  while (!Rest.empty()) {
    StringRef Part;
    if (Rest.trim().startswith("targets=")) {
      Part = Rest.trim();
      Rest = "";
    } else {
      std::tie(Part, Rest) = Rest.split(',');
    }
    StringRef Key, Val;
    std::tie(Key, Val) = Part.trim().split('=');
    Val = Val.trim();
    double D;
    if (Key == "targets" && !Val.empty()) {
      L.Targets = Val.str();
    } else if (Key == "r" && !Val.getAsInteger(10, L.Rank) && L.Rank > 0) {
      HasRank = true;
    } else if (Key == "alpha" && !Val.getAsDouble(D) && D > 0) {
      L.Alpha = D;
    } else if (Key == "dropout" && !Val.getAsDouble(D) && D >= 0 && D < 1) {
      L.Dropout = D;
    } else {
      return makeError("'" + Part.trim() +
                       "' is not r=RANK (> 0), alpha=A (> 0), dropout=P "
                       "(0 <= P < 1) or targets=REGEX");
    }
  }
  if (!HasRank || L.Targets.empty())
    return makeError("expected r=RANK and targets=REGEX, for example "
                     "r=8,targets=.*attn.*");
  return L;
}

} // namespace vram

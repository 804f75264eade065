//===- SaveContext.cpp - What a saved-tensor rule sees --------------------===//

#include "vram/Analysis/SavedRules.h"

namespace vram {

bool SaveContext::anyRG() const {
  for (unsigned I = 0; I < Inputs.size(); ++I)
    if (rg(I))
      return true;
  return false;
}

bool SaveContext::otherRG(unsigned Skip) const {
  for (unsigned I = 0; I < Inputs.size(); ++I)
    if (I != Skip && rg(I))
      return true;
  return false;
}

} // namespace vram

//===- Pass.cpp - Registry of named passes --------------------------------===//

#include "vram/Analysis/Pass.h"

using namespace llvm;

namespace vram {

ArrayRef<PassInfo> allPasses() {
  static const PassInfo Passes[] = {
#define PASS(NAME, RUN, PRINT, DESCRIPTION) {NAME, RUN, PRINT, DESCRIPTION},
#include "vram/Analysis/Passes.def"
  };
  return Passes;
}

const PassInfo *findPass(StringRef Name) {
  for (const PassInfo &P : allPasses())
    if (P.Name == Name)
      return &P;
  return nullptr;
}

} // namespace vram

//===- OpRegistry.cpp - The op registry: one table, one lookup ------------===//

#include "vram/Analysis/OpRegistry.h"
#include "vram/Analysis/UserOps.h"

#include <algorithm>
#include <vector>

using namespace llvm;

namespace vram {

// Each family's rows (lib/Analysis/Ops/<Family>.cpp).
ArrayRef<OpInfo> mathOps();
ArrayRef<OpInfo> nnOps();
ArrayRef<OpInfo> tensorOps();
ArrayRef<OpInfo> sequenceOps();
ArrayRef<OpInfo> controlFlowOps();
ArrayRef<OpInfo> generatorsOps();
ArrayRef<OpInfo> quantizationOps();
ArrayRef<OpInfo> contribOps();
ArrayRef<OpInfo> generationOps();
ArrayRef<OpInfo> trainingOps();
ArrayRef<OpInfo> atenOps();
ArrayRef<OpInfo> fusedKernelsOps();

ArrayRef<OpFamily> opFamilies() {
  static const OpFamily Families[] = {
      {"math", mathOps},
      {"nn", nnOps},
      {"tensor", tensorOps},
      {"sequence", sequenceOps},
      {"controlflow", controlFlowOps},
      {"generators", generatorsOps},
      {"quantization", quantizationOps},
      {"contrib", contribOps},
      {"generation", generationOps},
      {"training", trainingOps},
      {"aten", atenOps},
      {"fused-kernels", fusedKernelsOps},
  };
  return Families;
}

namespace {

int compareKey(const OpInfo &R, StringRef Domain, StringRef OpType) {
  if (int C = StringRef(R.Domain).compare(Domain))
    return C;
  return StringRef(R.OpType).compare(OpType);
}

} // namespace

ArrayRef<const OpInfo *> allOps() {
  // Built once: every family's rows, sorted by (domain, op, first version).
  static const std::vector<const OpInfo *> Sorted = [] {
    std::vector<const OpInfo *> V;
    for (const OpFamily &F : opFamilies())
      for (const OpInfo &R : F.Rows())
        V.push_back(&R);
    std::sort(V.begin(), V.end(), [](const OpInfo *A, const OpInfo *B) {
      if (int C = compareKey(*A, B->Domain, B->OpType))
        return C < 0;
      return A->MinVersion < B->MinVersion;
    });
    return V;
  }();
  return Sorted;
}

const OpInfo *findOp(StringRef Domain, StringRef OpType, int64_t Version) {
  // The user's rules (--op-rules) come first.
  if (const OpInfo *User = findUserOp(Domain, OpType))
    return User;
  ArrayRef<const OpInfo *> Rows = allOps();
  auto It =
      std::lower_bound(Rows.begin(), Rows.end(), 0, [&](const OpInfo *R, int) {
        return compareKey(*R, Domain, OpType) < 0;
      });
  // Rows of one op are sorted by first version: the first whose range ends
  // at or after Version holds it, or is the next newer one (or the oldest,
  // when Version precedes them all).
  for (; It != Rows.end() && compareKey(**It, Domain, OpType) == 0; ++It)
    if (Version <= (*It)->MaxVersion)
      return *It;
  return nullptr;
}

const char *viewKindName(ViewKind K) {
  switch (K) {
  case ViewKind::None:
    return "none";
  case ViewKind::View:
    return "view";
  case ViewKind::Reshape:
    return "reshape";
  case ViewKind::Broadcast:
    return "broadcast";
  case ViewKind::ViewOfPart:
    return "view-of-part";
  case ViewKind::PartsOf:
    return "parts-of";
  case ViewKind::ViewIfSameType:
    return "view-if-same-type";
  case ViewKind::ViewIfScalarIndex:
    return "view-if-scalar-index";
  }
  return "?";
}

const char *gradKindName(GradKind K) {
  return K == GradKind::Differentiable ? "differentiable"
                                       : "not-differentiable";
}

const char *savedKindName(SavedKind K) {
  static const char *const Names[NumSavedKinds] = {
      "other", "attention",         "dropout masks", "activations",
      "norms", "projection inputs", "embeddings",    "loss"};
  return Names[static_cast<unsigned>(K)];
}

const char *precisionClassName(PrecisionClass P) {
  switch (P) {
  case PrecisionClass::LowerPrecision:
    return "lower-precision";
  case PrecisionClass::FP32:
    return "fp32";
  case PrecisionClass::Promote:
    return "promote";
  case PrecisionClass::InputType:
    return "input-type";
  }
  return "?";
}

} // namespace vram

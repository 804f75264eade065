//===- CostOptions.cpp - Checking and parsing the cost options ------------===//

#include "vram/Cost/Cost.h"
#include "vram/Cost/Recipes.h"

using namespace llvm;

namespace vram {

Error CostOptions::validate() const {
  if (Expected<const vram::Recipe *> R = lookupRecipe(Recipe); !R)
    return R.takeError();
  if (Expected<const vram::Optimizer *> O = lookupOptimizer(Optimizer); !O)
    return O.takeError();
  for (const auto &Override : TermOverrides)
    if (Error E = checkRecipeTermKey(Override.first))
      return E;
  return Error::success();
}

Optional<DType> CostOptions::activationDType() const {
  if (ActivationDType)
    return *ActivationDType;
  if (const vram::Recipe *R = findRecipe(Recipe))
    return R->ActivationTy;
  return None;
}

Expected<uint64_t> parseSize(StringRef S) {
  StringRef Num = S.trim();
  uint64_t Mul = 1;
  for (auto U : {std::make_pair("KiB", 1ull << 10),
                 {"MiB", 1ull << 20},
                 {"GiB", 1ull << 30},
                 {"KB", 1000ull},
                 {"MB", 1000000ull},
                 {"GB", 1000000000ull},
                 {"B", 1ull}})
    if (Num.consume_back(U.first)) {
      Mul = U.second;
      break;
    }
  double V;
  if (Num.trim().getAsDouble(V) || V < 0 || V * Mul > 1e18)
    return makeError("invalid size '" + S + "' (examples: 400MiB, 1GiB, 0)");
  return static_cast<uint64_t>(V * Mul);
}

Expected<DType> parseActivationDType(StringRef Name) {
  Optional<DType> Ty = dtypeFromName(Name);
  if (!Ty || !isFloatingPoint(*Ty))
    return makeError("'" + Name + "' is not a floating-point dtype");
  return *Ty;
}

Expected<std::pair<std::string, double>> parseTermOverride(StringRef Text) {
  StringRef Key, Val;
  std::tie(Key, Val) = Text.split('=');
  double Bytes;
  if (Key.empty() || Val.getAsDouble(Bytes) || Bytes < 0)
    return makeError("expected TERM=BYTES");
  return std::make_pair(Key.str(), Bytes);
}

} // namespace vram

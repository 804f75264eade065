//===- CostOptions.cpp - Checking and parsing the cost options ------------===//

#include "vram/Cost/Cost.h"
#include "vram/Cost/Recipes.h"

#include "llvm/ADT/StringExtras.h"

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
  for (const std::string *F : {&WeightFormat, &KVFormat})
    if (!F->empty())
      if (Expected<const StorageFormat *> SF = lookupStorageFormat(*F); !SF)
        return SF.takeError();
  if (DataParallel < 1)
    return makeError("the data-parallel degree must be at least 1");
  if (ZeroStage > 3)
    return makeError("the ZeRO stage must be 0, 1, 2 or 3");
  if (PipelineParallel < 1)
    return makeError("the pipeline-parallel degree must be at least 1");
  if (PipelineParallel > 1 && RunMode != Mode::Train)
    return makeError("pipeline stages model the 1F1B training schedule; "
                     "serving is not modelled");
  return Error::success();
}

Optional<DType> CostOptions::activationDType() const {
  if (ActivationDType)
    return *ActivationDType;
  if (RunMode == Mode::Infer)
    return None;
  if (const vram::Recipe *R = findRecipe(Recipe))
    return R->ActivationTy;
  return None;
}

// Nominal memory of each GPU (the capacity in its name, in GiB, as the
// vendors' HBM and GDDR sizes are binary); the usable amount is a little
// less (nvidia-smi shows 81559 MiB on an H100 80GB): the framework
// overhead line is where the CUDA context and reserved memory go.
const std::pair<const char *, uint64_t> GpuPresets[] = {
    {"A100-40GB", 40ull << 30}, {"A100-80GB", 80ull << 30},
    {"H100-80GB", 80ull << 30}, {"H200", 141ull << 30},
    {"L4", 24ull << 30},        {"RTX4090", 24ull << 30},
    {"MI300X", 192ull << 30},
};

ArrayRef<std::pair<const char *, uint64_t>> gpuPresets() { return GpuPresets; }

Expected<uint64_t> parseGpu(StringRef Text) {
  for (const auto &P : GpuPresets)
    if (Text.trim().equals_insensitive(P.first))
      return P.second;
  if (!Text.trim().empty() && isDigit(Text.trim().front())) {
    if (Expected<uint64_t> B = parseSize(Text)) {
      if (*B > 0)
        return *B;
    } else {
      consumeError(B.takeError());
    }
  }
  std::string Names;
  for (const auto &P : GpuPresets)
    Names += (Names.empty() ? "" : ", ") + std::string(P.first);
  return makeError("unknown GPU '" + Text + "' (presets: " + Names +
                   "; or a size such as 24GiB or 24GB)");
}

Expected<uint64_t> parseSize(StringRef S) {
  StringRef Num = S.trim();
  uint64_t Mul = 1;
  // Binary: KiB, MiB, GiB, TiB and the bare K, M, G, T (2G = 2GiB, as in
  // GNU tools and PyTorch's memory summaries); decimal: KB, MB, GB, TB.
  for (auto U : {std::make_pair("KiB", 1ull << 10),
                 {"MiB", 1ull << 20},
                 {"GiB", 1ull << 30},
                 {"TiB", 1ull << 40},
                 {"KB", 1000ull},
                 {"MB", 1000000ull},
                 {"GB", 1000000000ull},
                 {"TB", 1000000000000ull},
                 {"K", 1ull << 10},
                 {"M", 1ull << 20},
                 {"G", 1ull << 30},
                 {"T", 1ull << 40},
                 {"B", 1ull}})
    if (Num.consume_back(U.first)) {
      Mul = U.second;
      break;
    }
  double V;
  if (Num.trim().getAsDouble(V) || V < 0 || V * Mul > 1e18)
    return makeError("invalid size '" + S +
                     "' (examples: 400MiB, 2G = 2GiB, 24GB = 24e9 bytes, 0)");
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

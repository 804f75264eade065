//===- VramFuzz.cpp - libFuzzer target for the whole pipeline -------------===//
//
// Loads the input as a model (binary protobuf or ONNX textual syntax,
// chosen at build time by VRAM_FUZZ_TEXT), binds every symbolic dim to 2,
// runs every pass in both modes and renders every view in every format into
// a null stream. With VRAM_FUZZ_RULES the input is an --op-rules file
// instead, installed and then applied to a fixed model whose custom ops the
// rules may describe. Any crash, sanitizer report or hang is a bug.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/UserOps.h"
#include "vram/Frontend/Frontend.h"
#include "vram/Pipeline/Pipeline.h"
#include "vram/Report/Views.h"

#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

using namespace vram;

namespace {

/// Every pass on the model in Buf in both modes, every view into a null
/// stream.
void analyseAll(llvm::StringRef Buf, const LoadOptions &LO) {
  for (Mode M : {Mode::Train, Mode::Infer}) {
    Diagnostics Diags;
    auto Model = loadModelFromBuffer(Buf, "fuzz.onnx", LO, Diags);
    if (!Model) {
      llvm::consumeError(Model.takeError());
      return;
    }
    AnalysisOptions AO;
    CostOptions CO;
    CO.RunMode = M;
    CostContext Ctx(**Model, AO, CO, Diags);
    if (llvm::Error E = runPipeline(Ctx)) {
      llvm::consumeError(std::move(E));
      return;
    }
    llvm::raw_null_ostream Null;
    printIR(*Ctx.M.Main, Null);
    for (OutputFormat F :
         {OutputFormat::Text, OutputFormat::JSON, OutputFormat::CSV}) {
      ReportOptions RO;
      RO.Format = F;
      printReport(Ctx, RO, Null);
    }
    writeHtml(Ctx, Null);
  }
}

#ifdef VRAM_FUZZ_RULES
/// Custom ops for the rules to describe: two inputs, an int attribute, one
/// and two outputs, one of them feeding a known op.
constexpr const char *RulesModel = R"(<
  ir_version: 8,
  opset_import: ["" : 17, "my.domain" : 1]
>
g (float[B, 3] x, float[3, 5] w) => (float[N, M] z, float[P, Q] v) {
  y = my.domain.Frob <k = 2> (x, w)
  z = Relu (y)
  u, v = my.domain.Split2 (y)
}
)";
#endif

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Buf(reinterpret_cast<const char *>(Data), Size);
  LoadOptions LO;
  LO.DefaultDim = 2;
#if defined(VRAM_FUZZ_RULES)
  if (llvm::Error E = installUserOpRules(Buf, "fuzz.rules")) {
    llvm::consumeError(std::move(E));
    return 0;
  }
  LO.Format = InputFormat::Text;
  analyseAll(RulesModel, LO);
  // The rules stay installed until the next input replaces them; none
  // outlives the process.
#elif defined(VRAM_FUZZ_TEXT)
  LO.Format = InputFormat::Text;
  analyseAll(Buf, LO);
#else
  LO.Format = InputFormat::Binary;
  analyseAll(Buf, LO);
#endif
  return 0;
}

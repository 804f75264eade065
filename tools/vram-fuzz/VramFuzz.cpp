//===- VramFuzz.cpp - libFuzzer target for the whole pipeline -------------===//
//
// Loads the input as a model (binary protobuf or ONNX textual syntax,
// chosen at build time by VRAM_FUZZ_TEXT), binds every symbolic dim to 2,
// runs every pass in both modes and renders every view in every format into
// a null stream. Any crash, sanitizer report or hang is a bug.
//
//===----------------------------------------------------------------------===//

#include "vram/Frontend/Frontend.h"
#include "vram/Pipeline/Pipeline.h"
#include "vram/Report/Views.h"

#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

using namespace vram;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size) {
  llvm::StringRef Buf(reinterpret_cast<const char *>(Data), Size);
  LoadOptions LO;
#ifdef VRAM_FUZZ_TEXT
  LO.Format = InputFormat::Text;
#else
  LO.Format = InputFormat::Binary;
#endif
  LO.DefaultDim = 2;
  for (Mode M : {Mode::Train, Mode::Infer}) {
    Diagnostics Diags;
    auto Model = loadModelFromBuffer(Buf, "fuzz.onnx", LO, Diags);
    if (!Model) {
      llvm::consumeError(Model.takeError());
      return 0;
    }
    AnalysisOptions AO;
    CostOptions CO;
    CO.RunMode = M;
    CostContext Ctx(**Model, AO, CO, Diags);
    if (llvm::Error E = runPipeline(Ctx)) {
      llvm::consumeError(std::move(E));
      return 0;
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
  return 0;
}

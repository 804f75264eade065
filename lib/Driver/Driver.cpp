//===- Driver.cpp - The vram-opt driver -----------------------------------===//

#include "vram/Driver/Driver.h"
#include "vram/Frontend/Frontend.h"
#include "vram/Pipeline/Pipeline.h"
#include "vram/Report/Views.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"
#include <map>

using namespace llvm;

namespace vram {

namespace {

cl::OptionCategory ToolCat("vram-opt options");

cl::opt<std::string> InputFile(cl::Positional, cl::desc("<model.onnx | ->"),
                               cl::init("-"), cl::cat(ToolCat));
cl::opt<std::string> OutputFile("o", cl::desc("Write the report to <file>"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(ToolCat));
cl::list<std::string>
    Dims("dim",
         cl::desc("Bind a symbolic input dim: --dim NAME=VALUE (repeatable); "
                  "NAME=V1,V2,... sweeps the values, parsing the model once"),
         cl::value_desc("NAME=VALUE"), cl::cat(ToolCat));
cl::opt<int64_t> DefaultDim(
    "default-dim",
    cl::desc("Bind every symbolic input dim not given by --dim to N"),
    cl::value_desc("N"), cl::init(0), cl::cat(ToolCat));
cl::opt<InputFormat> Format(
    "input-format", cl::desc("How to read the model (default: by extension)"),
    cl::values(clEnumValN(InputFormat::Auto, "auto", "by file extension"),
               clEnumValN(InputFormat::Binary, "binary", "binary protobuf"),
               clEnumValN(InputFormat::Text, "text", "ONNX textual syntax"),
               clEnumValN(InputFormat::TextProto, "textproto",
                          "protobuf text format")),
    cl::init(InputFormat::Auto), cl::cat(ToolCat));
cl::opt<std::string>
    ParamInputs("param-inputs",
                cl::desc("Graph inputs whose names match REGEX are parameters "
                         "(default: automatic rule, see docs/frontend.md)"),
                cl::value_desc("REGEX"), cl::cat(ToolCat));
cl::opt<std::string>
    DataInputs("data-inputs",
               cl::desc("Graph inputs whose names match REGEX are data, "
                        "never parameters"),
               cl::value_desc("REGEX"), cl::cat(ToolCat));
cl::opt<std::string> Buffers(
    "buffers",
    cl::desc("Initializers whose names match REGEX are non-trainable buffers "
             "(default: masks and rotary caches, see docs/frontend.md)"),
    cl::value_desc("REGEX"), cl::cat(ToolCat));
cl::opt<bool> Strict("strict",
                     cl::desc("Treat unknown ops and unpriced tensors as "
                              "errors"),
                     cl::cat(ToolCat));
cl::opt<bool> PrintIR("print-ir",
                      cl::desc("Print every value's kind, dtype and shape "
                               "after shape inference"),
                      cl::cat(ToolCat));
cl::opt<std::string> Passes(
    "passes",
    cl::desc("Run these passes in order (comma-separated; print<NAME> "
             "prints a pass's results, running it first if it has not run); "
             "see --list-passes"),
    cl::value_desc("a,b,print<b>"), cl::cat(ToolCat));
cl::opt<std::string> TraceFile(
    "trace",
    cl::desc("Write the memory timeline to FILE in Chrome Trace Event "
             "format (Perfetto, chrome://tracing)"),
    cl::value_desc("FILE.json"), cl::cat(ToolCat));
cl::opt<bool> TimePasses("time-passes",
                         cl::desc("Print the time of the load, each pass and "
                                  "the report on stderr"),
                         cl::cat(ToolCat));
cl::opt<bool> ListPasses("list-passes", cl::desc("List the passes and exit"),
                         cl::cat(ToolCat));
cl::opt<Mode> RunMode("mode", cl::desc("What to price"),
                      cl::values(clEnumValN(Mode::Train, "train",
                                            "a training step (default)"),
                                 clEnumValN(Mode::Infer, "infer",
                                            "serving: weights + forward "
                                            "working set")),
                      cl::init(Mode::Train), cl::cat(ToolCat));
cl::opt<std::string> RecipeName(
    "recipe",
    cl::desc("Precision recipe: mixed (default, 20 B/param with Adam), fp32 "
             "(24), megatron (18), zero (16), torch-fp32 (16), torch-amp (18)"),
    cl::init("mixed"), cl::cat(ToolCat));
cl::opt<std::string> OptimizerName("optimizer",
                                   cl::desc("sgd, momentum, adam (default) or "
                                            "adamw"),
                                   cl::init("adam"), cl::cat(ToolCat));
cl::opt<std::string> ActivationDType(
    "activation-dtype",
    cl::desc("Store floating-point activations in this dtype (f32, f16, "
             "bf16, ...), overriding the recipe"),
    cl::cat(ToolCat));
cl::list<std::string> RecipeTerms(
    "recipe-term",
    cl::desc("Override one recipe term, bytes per parameter: weights, "
             "master_weights, weight_copies, gradients, master_gradients, "
             "optimizer_state (repeatable)"),
    cl::value_desc("TERM=BYTES"), cl::cat(ToolCat));
cl::opt<std::string>
    Overhead("framework-overhead",
             cl::desc("Framework overhead (CUDA context, workspaces): bytes or "
                      "KiB/MiB/GiB (default 400MiB)"),
             cl::value_desc("SIZE"), cl::init("400MiB"), cl::cat(ToolCat));
cl::opt<std::string> Freeze("freeze",
                            cl::desc("Freeze parameters whose names match "
                                     "REGEX (no gradient or optimizer state)"),
                            cl::value_desc("REGEX"), cl::cat(ToolCat));
cl::opt<bool> AsWritten("as-written",
                        cl::desc("Price the graph node by node as written, "
                                 "without recognising decomposed kernels"),
                        cl::cat(ToolCat));
cl::opt<OutputFormat> ReportFormat(
    "format", cl::desc("Report format"),
    cl::values(clEnumValN(OutputFormat::Text, "text", "text (default)"),
               clEnumValN(OutputFormat::JSON, "json", "one JSON object"),
               clEnumValN(OutputFormat::CSV, "csv", "the per-node table")),
    cl::init(OutputFormat::Text), cl::cat(ToolCat));
cl::opt<unsigned> TopNodes("n",
                           cl::desc("Rows of the per-node table in text (the "
                                    "largest; the rest folded); 0 for all"),
                           cl::init(25), cl::cat(ToolCat));

/// A DimBindingError worded for --dim and --default-dim.
std::string describeDimBinding(const DimBindingError &D) {
  switch (D.K) {
  case DimBindingError::NotPositive:
    return ("--dim " + D.Name + "=" + Twine(D.Value) +
            ": a dim must be bound to a positive number")
        .str();
  case DimBindingError::DefaultNotPositive:
    return ("--default-dim=" + Twine(D.Value) +
            ": a dim must be bound to a positive number")
        .str();
  case DimBindingError::BoundTwice:
    return ("--dim " + D.Name + " is bound twice, to " + Twine(D.Value) +
            " and " + Twine(D.Other))
        .str();
  case DimBindingError::Unbound: {
    std::string Names, Example;
    for (const auto &E : D.Examples) {
      Names += (Names.empty() ? "" : ", ") + E.first;
      Example += " --dim " + E.first + "=" + std::to_string(E.second);
    }
    return "unbound symbolic dim" +
           std::string(D.Examples.size() > 1 ? "s " : " ") + Names +
           "; bind with:" + Example;
  }
  case DimBindingError::Unused:
    return "--dim " + D.Name + " matches no symbolic dim of the model's inputs";
  }
  llvm_unreachable("unknown DimBindingError kind");
}

/// The frontend's structured errors worded for the flags; other errors as
/// they are.
Error describeLoadError(Error E) {
  return handleErrors(
      std::move(E),
      [](const DimBindingError &D) { return makeError(describeDimBinding(D)); },
      [](const LooksLikeTextError &T) {
        return makeError("not a valid ONNX model: " + T.Problem +
                         " (the file looks like text; for ONNX textual "
                         "syntax or protobuf text format, use "
                         "--input-format=text or --input-format=textproto)");
      });
}

struct ToolRun {
  std::string File;
  Diagnostics Diags;

  int fail(Error E) {
    std::string Msg = toString(std::move(E));
    printWarnings();
    WithColor::error(errs(), "vram-opt") << File << ": " << Msg << '\n';
    return 1;
  }
  /// Each distinct warning once, in the order first raised (a sweep raises
  /// the same ones for every binding).
  void printWarnings() {
    StringSet<> Seen;
    for (const std::string &W : Diags.warnings())
      if (Seen.insert(W).second)
        WithColor::warning(errs(), "vram-opt") << File << ": " << W << '\n';
  }
};

using Binding = std::vector<std::pair<std::string, int64_t>>;

/// The bindings to analyse: one, or with NAME=V1,V2,... the cartesian
/// product (a sweep), the last --dim varying fastest.
Expected<std::vector<Binding>> parseDims() {
  std::vector<Binding> Out(1);
  for (const std::string &D : Dims) {
    StringRef Name, Vals;
    std::tie(Name, Vals) = StringRef(D).split('=');
    Name = Name.trim();
    if (Name.empty() || Vals.trim().empty())
      return makeError("--dim '" + D +
                       "': expected NAME=VALUE, for example "
                       "--dim batch=1 (or NAME=V1,V2,... for a sweep)");
    SmallVector<StringRef, 4> Parts;
    Vals.split(Parts, ',');
    std::vector<Binding> Next;
    for (StringRef Part : Parts) {
      int64_t V;
      if (Part.trim().getAsInteger(10, V))
        return makeError("--dim '" + D + "': '" + Part.trim() +
                         "' is not an integer in the range of int64");
      for (const Binding &B : Out) {
        Next.push_back(B);
        Next.back().emplace_back(Name.str(), V);
      }
    }
    // Keep the last --dim varying fastest: order by the earlier values.
    std::stable_sort(Next.begin(), Next.end(),
                     [&](const Binding &A, const Binding &B) {
                       for (size_t I = 0; I + 1 < A.size(); ++I)
                         if (A[I].second != B[I].second)
                           return A[I].second < B[I].second;
                       return false;
                     });
    Out = std::move(Next);
  }
  return Out;
}

} // namespace

int runVramOpt(int Argc, char **Argv) {
  InitLLVM X(Argc, Argv);
  cl::HideUnrelatedOptions(ToolCat);
  cl::ParseCommandLineOptions(
      Argc, Argv,
      "vram-opt: accelerator memory analysis of ONNX transformer models\n\n"
      "  Reads an ONNX model (binary .onnx, textual .onnxtxt, .textproto; '-'\n"
      "  for stdin), binds symbolic dims, propagates shapes and reports where\n"
      "  the memory of training or serving it goes.\n");

  if (ListPasses) {
    for (const PassInfo &P : allPasses())
      outs() << P.Name << "  " << P.Description << '\n';
    return 0;
  }

  ToolRun Run;
  Run.File = InputFile == "-" ? std::string("<stdin>") : InputFile.getValue();
  Run.Diags.Strict = Strict;

  auto DimList = parseDims();
  if (!DimList)
    return Run.fail(DimList.takeError());
  auto Pipeline = parsePipeline(Passes);
  if (!Pipeline)
    return Run.fail(
        createStringError(inconvertibleErrorCode(),
                          "--passes: " + toString(Pipeline.takeError()) +
                              " (see --list-passes)"));

  LoadOptions LO;
  LO.Format = Format;
  bool Sweep = DimList->size() > 1;
  if (Sweep && (PrintIR || !Passes.empty() || !TraceFile.empty()))
    return Run.fail(makeError("--dim with several values sweeps the bindings "
                              "and prints one summary row each; it does not "
                              "combine with --print-ir, --passes or --trace"));
  LO.Dims = DimList->front();
  if (DefaultDim.getNumOccurrences())
    LO.DefaultDim = DefaultDim;
  LO.ParamInputs = ParamInputs;
  LO.DataInputs = DataInputs;
  LO.Buffers = Buffers;
  LO.DescribeDimWarning = describeDimBinding;
  if (Error E = LO.validate())
    return Run.fail(describeLoadError(std::move(E)));

  // --time-passes: wall, user and system time of the load, each pass and
  // the report; the group prints itself to stderr when destroyed.
  TimerGroup Timers("vram-opt", "vram-opt time report");
  auto timed = [&](StringRef Name, StringRef Desc) {
    return std::make_unique<Timer>(Name, Desc, Timers);
  };
  std::vector<std::unique_ptr<Timer>> Owned;
  auto Start = [&](StringRef Name, StringRef Desc) -> Timer * {
    if (!TimePasses)
      return nullptr;
    Owned.push_back(timed(Name, Desc));
    Owned.back()->startTimer();
    return Owned.back().get();
  };
  auto Stop = [](Timer *T) {
    if (T)
      T->stopTimer();
  };
  // Each pass's timer, started and stopped by the pass manager.
  std::map<const PassInfo *, std::unique_ptr<Timer>> PassTimers;
  PassInstrumentation Instrument;
  if (TimePasses) {
    Instrument.BeforePass = [&](const PassInfo &P) {
      std::unique_ptr<Timer> &T = PassTimers[&P];
      if (!T)
        T = timed(P.Name, P.Name);
      T->startTimer();
    };
    Instrument.AfterPass = [&](const PassInfo &P) {
      PassTimers[&P]->stopTimer();
    };
  }

  // Parsed once; the IR is built for each binding (one, or a sweep).
  Timer *ParseT = Start("parse", "parse");
  auto Parsed = ParsedModel::parse(InputFile, LO);
  Stop(ParseT);
  if (!Parsed)
    return Run.fail(describeLoadError(Parsed.takeError()));

  AnalysisOptions AO;
  AO.Strict = Strict;
  AO.Fusion = !AsWritten;
  AO.FreezeRegex = Freeze;
  CostOptions CO;
  CO.RunMode = RunMode;
  CO.Recipe = RecipeName;
  CO.Optimizer = OptimizerName;
  if (!ActivationDType.empty()) {
    CO.ActivationDType = dtypeFromName(ActivationDType);
    if (!CO.ActivationDType || !isFloatingPoint(*CO.ActivationDType))
      return Run.fail(makeError("--activation-dtype: '" + ActivationDType +
                                "' is not a floating-point dtype"));
  }
  for (const std::string &T : RecipeTerms) {
    StringRef Key, Val;
    std::tie(Key, Val) = StringRef(T).split('=');
    double B;
    if (Key.empty() || Val.getAsDouble(B) || B < 0)
      return Run.fail(makeError("--recipe-term '" + T +
                                "': expected TERM=BYTES, for example "
                                "--recipe-term optimizer_state=4"));
    CO.TermOverrides.emplace_back(Key.str(), B);
  }
  auto OverheadBytes = parseSize(Overhead);
  if (!OverheadBytes)
    return Run.fail(OverheadBytes.takeError());
  CO.OverheadBytes = *OverheadBytes;
  if (!Freeze.empty()) {
    std::string Err;
    if (!Regex(Freeze).isValid(Err))
      return Run.fail(
          makeError("invalid regular expression '" + Freeze + "': " + Err));
  }
  std::error_code EC;
  ToolOutputFile Out(OutputFile, EC, sys::fs::OF_None);
  if (EC)
    return Run.fail(makeError("cannot open output file '" + OutputFile +
                              "': " + EC.message()));

  if (Sweep) {
    std::vector<SweepPoint> Points;
    for (const Binding &B : *DimList) {
      LO.Dims = B;
      Timer *BuildT = Start("build", "build IR, bind dims (per binding)");
      auto M = (*Parsed)->build(LO, Run.Diags);
      Stop(BuildT);
      if (!M)
        return Run.fail(describeLoadError(M.takeError()));
      CostContext Ctx(**M, AO, CO, Run.Diags);
      if (Error E = runPipeline(Ctx, Instrument))
        return Run.fail(std::move(E));
      Points.push_back(makeSweepPoint(Ctx));
    }
    printSweep(Points, ReportFormat, Out.os());
    Out.os().flush();
    Run.printWarnings();
    Out.keep();
    return 0;
  }

  Timer *BuildT = Start("build", "build IR, bind dims");
  auto M = (*Parsed)->build(LO, Run.Diags);
  Stop(BuildT);
  if (!M)
    return Run.fail(describeLoadError(M.takeError()));
  CostContext Ctx(**M, AO, CO, Run.Diags);
  PassManager PM(Ctx, Instrument);
  if (Error E = PM.runPipeline(*Pipeline, Out.os()))
    return Run.fail(std::move(E));
  if (PrintIR)
    printIR(*Ctx.M.Main, Out.os());
  if (!PrintIR && Passes.empty()) {
    ReportOptions RO;
    RO.Format = ReportFormat;
    RO.TopNodes = TopNodes;
    Timer *T = Start("report", "report views");
    printReport(Ctx, RO, Out.os());
    Stop(T);
  }

  if (!TraceFile.empty()) {
    std::error_code TEC;
    ToolOutputFile Trace(TraceFile, TEC, sys::fs::OF_None);
    if (TEC)
      return Run.fail(makeError("cannot open trace file '" + TraceFile +
                                "': " + TEC.message()));
    writeTrace(Ctx, Trace.os());
    Trace.keep();
  }
  // The report first, then the warnings (stdout is buffered, stderr not).
  Out.os().flush();
  Run.printWarnings();
  Out.keep();
  return 0;
}

} // namespace vram

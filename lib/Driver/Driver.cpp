//===- Driver.cpp - The vram-opt driver -----------------------------------===//
//
// The only code that reads command-line flags: it turns them into the
// libraries' option structs (whose own validate() and parse functions check
// the values), words the libraries' structured errors in terms of the flags,
// and runs the stages in order.
//
//===----------------------------------------------------------------------===//

#include "vram/Driver/Driver.h"
#include "vram/Analysis/UserOps.h"
#include "vram/Cost/Recipes.h"
#include "vram/Frontend/Frontend.h"
#include "vram/Pipeline/Pipeline.h"
#include "vram/Report/Views.h"

#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"
#include <map>

using namespace llvm;

namespace vram {

namespace {

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

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
cl::opt<std::string>
    OpRules("op-rules", cl::value_desc("FILE"),
            cl::desc("Rules for ops the tool does not know, one a line "
                     "(docs/memory.md)"),
            cl::cat(ToolCat));
cl::opt<GraphKind> GraphKindOpt(
    "graph-kind", cl::desc("Whether the graph already holds its backward"),
    cl::values(clEnumValN(GraphKind::Auto, "auto",
                          "by the rule: tangents_<n> inputs or gradient ops "
                          "(default)"),
               clEnumValN(GraphKind::Forward, "forward",
                          "a forward, differentiated for training"),
               clEnumValN(GraphKind::Backward, "backward",
                          "already a backward: priced by liveness as "
                          "written")),
    cl::init(GraphKind::Auto), cl::cat(ToolCat));
// The help of --recipe, --optimizer and --recipe-term is set from the tables
// before the flags are parsed (see parseCommandLine).
cl::opt<std::string> RecipeName("recipe", cl::init(CostOptions().Recipe),
                                cl::cat(ToolCat));
cl::opt<std::string> OptimizerName("optimizer",
                                   cl::init(CostOptions().Optimizer),
                                   cl::cat(ToolCat));
cl::opt<std::string> ActivationDType(
    "activation-dtype",
    cl::desc("Store floating-point activations in this dtype (f32, f16, "
             "bf16, ...), overriding the recipe"),
    cl::cat(ToolCat));
cl::list<std::string> RecipeTerms("recipe-term", cl::value_desc("TERM=BYTES"),
                                  cl::cat(ToolCat));
cl::opt<std::string>
    Overhead("framework-overhead",
             cl::desc("Framework overhead (CUDA context, workspaces): bytes or "
                      "KiB/MiB/GiB (default 400MiB)"),
             cl::value_desc("SIZE"), cl::init("400MiB"), cl::cat(ToolCat));
cl::opt<std::string> Freeze("freeze",
                            cl::desc("Freeze parameters whose names match "
                                     "REGEX (no gradient or optimizer state)"),
                            cl::value_desc("REGEX"), cl::cat(ToolCat));
cl::opt<LossKind>
    Loss("loss", cl::desc("The loss of the training step"),
         cl::values(clEnumValN(LossKind::None, "none",
                               "not priced: each output's gradient seeds the "
                               "backward (default)"),
                    clEnumValN(LossKind::Mean, "mean", "logits.mean()"),
                    clEnumValN(LossKind::CrossEntropy, "cross-entropy",
                               "F.cross_entropy(logits.float(), labels), as "
                               "Hugging Face computes it")),
         cl::init(LossKind::None), cl::cat(ToolCat));
cl::opt<std::string>
    LossOutput("loss-output",
               cl::desc("The output the loss is computed from (default: the "
                        "first floating-point output)"),
               cl::value_desc("NAME"), cl::cat(ToolCat));
cl::opt<bool> LossUpcast(
    "loss-upcast",
    cl::desc("Cross-entropy upcasts 16-bit logits to f32 first, as Hugging "
             "Face's logits.float() (default true; =false to keep them)"),
    cl::init(true), cl::cat(ToolCat));
cl::opt<AutocastDevice> AutocastOn(
    "autocast-device",
    cl::desc("Where torch.autocast runs, for --recipe torch-amp (its policy "
             "lists differ)"),
    cl::values(clEnumValN(AutocastDevice::CUDA, "cuda",
                          "CUDA's lists (default)"),
               clEnumValN(AutocastDevice::CPU, "cpu", "the CPU's lists")),
    cl::init(AutocastDevice::CUDA), cl::cat(ToolCat));
cl::opt<std::string> AutocastDType(
    "autocast-dtype",
    cl::desc("The lower-precision dtype of torch.autocast: fp16 or bf16 "
             "(default: fp16 on cuda, bf16 on cpu)"),
    cl::value_desc("fp16|bf16"), cl::cat(ToolCat));
cl::opt<std::string> AutocastBuffers(
    "autocast-buffers",
    cl::desc("Under autocast, buffers (masks, rotary tables) meeting an "
             "activation: 'follow' its dtype (default; models that write "
             ".to(x.dtype) by the op) or stay 'f32' and widen the op"),
    cl::value_desc("follow|f32"), cl::init("follow"), cl::cat(ToolCat));
cl::opt<bool> AsWritten("as-written",
                        cl::desc("Price the graph node by node as written, "
                                 "without recognising decomposed kernels"),
                        cl::cat(ToolCat));
cl::opt<CheckpointPolicy> Checkpoint(
    "checkpoint", cl::desc("Activation checkpointing (docs/planning.md)"),
    cl::values(clEnumValN(CheckpointPolicy::None, "none",
                          "keep what every op saves (default)"),
               clEnumValN(CheckpointPolicy::Selective, "selective",
                          "recompute each layer's attention core (QK^T, "
                          "softmax, dropout, scores x V)"),
               clEnumValN(CheckpointPolicy::Full, "full",
                          "keep each layer's input, recompute the layer")),
    cl::init(CheckpointPolicy::None), cl::cat(ToolCat));
cl::opt<std::string> CheckpointLayers(
    "checkpoint-layers",
    cl::desc("Checkpoint only the layers whose names (as in the Layers "
             "table) match REGEX"),
    cl::value_desc("REGEX"), cl::cat(ToolCat));
cl::opt<AttentionKernel> Attention(
    "attention", cl::desc("How the attention core runs"),
    cl::values(clEnumValN(AttentionKernel::Eager, "eager",
                          "as written in the graph (default)"),
               clEnumValN(AttentionKernel::Flash, "flash",
                          "one flash kernel: keeps Q, K, V, the output and "
                          "the log-sum-exp, no s x s tensor")),
    cl::init(AttentionKernel::Eager), cl::cat(ToolCat));
cl::opt<unsigned> TensorParallel(
    "tp",
    cl::desc("Tensor-parallel ranks (Megatron layout propagated from the "
             "linear layers; figures are per GPU)"),
    cl::value_desc("N"), cl::init(1), cl::cat(ToolCat));
cl::opt<bool> SequenceParallel(
    "sp",
    cl::desc("Sequence parallelism over the --tp ranks (norms, dropouts "
             "and residuals split along the sequence)"),
    cl::cat(ToolCat));
cl::opt<unsigned> DataParallel(
    "dp", cl::desc("Data-parallel ranks (with --zero; figures are per GPU)"),
    cl::value_desc("N"), cl::init(1), cl::cat(ToolCat));
cl::opt<unsigned> ZeroStage(
    "zero",
    cl::desc("ZeRO stage over the --dp ranks: 0 none, 1 optimizer states "
             "(f32 master weights and gradients, optimizer state), 2 also "
             "gradients, 3 also weights"),
    cl::value_desc("0|1|2|3"), cl::init(0), cl::cat(ToolCat));
// The help of --gpu lists the presets (see parseCommandLine).
cl::opt<std::string> Gpu("gpu", cl::value_desc("NAME|SIZE"), cl::cat(ToolCat));
cl::opt<std::string>
    FitDim("fit",
           cl::desc("Find the largest value of the symbolic dim NAME (batch, "
                    "sequence) whose step fits the --gpu, and report that run"),
           cl::value_desc("NAME"), cl::cat(ToolCat));
cl::opt<bool> Formula(
    "formula",
    cl::desc("Print the saved bytes of one layer and of the model as "
             "polynomials in the symbolic dims (fitted on a grid of runs, "
             "checked at a fresh point)"),
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

//===----------------------------------------------------------------------===//
// The libraries' options, built from the flags
//===----------------------------------------------------------------------===//

/// A DimBindingError worded for --dim and --default-dim.
std::string describeDimBinding(const DimBindingError &D) {
  switch (D.K) {
  case DimBindingError::Negative:
    return ("--dim " + D.Name + "=" + Twine(D.Value) +
            ": a dim must be bound to a number >= 0 (0 for an empty dim)")
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

/// A library's error about a flag's value, prefixed with the flag.
Error prefixError(const Twine &Prefix, Error E) {
  return makeError(Prefix + toString(std::move(E)));
}

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

/// --passes as pipeline steps (every pass when empty).
Expected<std::vector<PipelineStep>> parsePassesFlag() {
  auto Steps = parsePipeline(Passes);
  if (!Steps)
    return makeError("--passes: " + toString(Steps.takeError()) +
                     " (see --list-passes)");
  return Steps;
}

/// A sweep prints one summary row per binding, nothing else.
Error checkSweepFlags(ArrayRef<Binding> Bindings) {
  if (Bindings.size() > 1 && (PrintIR || !Passes.empty() || !TraceFile.empty()))
    return makeError("--dim with several values sweeps the bindings "
                     "and prints one summary row each; it does not "
                     "combine with --print-ir, --passes or --trace");
  return Error::success();
}

/// --fit searches one dim of one binding and reports one run.
Error checkFitFlags(ArrayRef<Binding> Bindings) {
  if (Formula && (!FitDim.empty() || Bindings.size() > 1))
    return makeError("--formula does not combine with --fit or a --dim sweep");
  if (FitDim.empty())
    return Error::success();
  if (Gpu.empty())
    return makeError("--fit " + FitDim + " needs --gpu (the memory to fit)");
  if (Bindings.size() > 1)
    return makeError("--fit does not combine with a --dim sweep");
  for (const auto &B : Bindings.front())
    if (B.first == FitDim)
      return makeError("--fit " + FitDim + ": the dim is also bound by --dim");
  return Error::success();
}

/// The load options, with the first binding.
Expected<LoadOptions> buildLoadOptions(const Binding &First) {
  LoadOptions LO;
  LO.Format = Format;
  LO.Dims = First;
  if (DefaultDim.getNumOccurrences())
    LO.DefaultDim = DefaultDim;
  LO.ParamInputs = ParamInputs;
  LO.DataInputs = DataInputs;
  LO.Buffers = Buffers;
  LO.DescribeDimWarning = describeDimBinding;
  if (Error E = LO.validate())
    return describeLoadError(std::move(E));
  return LO;
}

/// The cost options. The names of the recipe, the optimizer and the terms
/// are checked against the tables when the passes run (by the cost pass).
Expected<CostOptions> buildCostOptions() {
  CostOptions CO;
  CO.RunMode = RunMode;
  CO.Recipe = RecipeName;
  CO.Optimizer = OptimizerName;
  if (!ActivationDType.empty()) {
    Expected<DType> Ty = parseActivationDType(ActivationDType);
    if (!Ty)
      return prefixError("--activation-dtype: ", Ty.takeError());
    CO.ActivationDType = *Ty;
  }
  for (const std::string &T : RecipeTerms) {
    auto Term = parseTermOverride(T);
    if (!Term)
      return makeError("--recipe-term '" + T +
                       "': " + toString(Term.takeError()) +
                       ", for example --recipe-term optimizer_state=4");
    CO.TermOverrides.push_back(std::move(*Term));
  }
  Expected<uint64_t> OverheadBytes = parseSize(Overhead);
  if (!OverheadBytes)
    return OverheadBytes.takeError();
  CO.OverheadBytes = *OverheadBytes;
  if (DataParallel < 1)
    return makeError("--dp=0: the data-parallel degree must be at least 1");
  if (ZeroStage > 3)
    return makeError("--zero=" + Twine(ZeroStage.getValue()) +
                     ": the ZeRO stage must be 0, 1, 2 or 3");
  CO.DataParallel = DataParallel;
  CO.ZeroStage = ZeroStage;
  if (!Gpu.empty()) {
    Expected<uint64_t> Bytes = parseGpu(Gpu);
    if (!Bytes)
      return prefixError("--gpu: ", Bytes.takeError());
    CO.GpuBytes = *Bytes;
    CO.GpuName = Gpu;
  }
  return CO;
}

/// The analysis options; the activation dtype comes from the cost options
/// (the recipe's, or --activation-dtype).
Expected<AnalysisOptions> buildAnalysisOptions(const CostOptions &CO) {
  AnalysisOptions AO;
  AO.Strict = Strict;
  AO.Kind = GraphKindOpt;
  AO.Fusion = !AsWritten;
  AO.FreezeRegex = Freeze;
  AO.Loss = Loss;
  AO.LossOutput = LossOutput;
  AO.LossUpcast = LossUpcast;
  AO.ActivationDType = CO.activationDType();
  if (const Recipe *R = findRecipe(CO.Recipe); R && R->Autocast) {
    AO.Autocast = AutocastOn;
    AO.AutocastDType =
        AutocastOn == AutocastDevice::CPU ? DType::BFloat16 : DType::Float16;
  }
  if (AutocastBuffers != "follow" && AutocastBuffers != "f32")
    return makeError("--autocast-buffers: '" + AutocastBuffers +
                     "' is not follow or f32");
  AO.AutocastBuffersFollow = AutocastBuffers == "follow";
  if (!AutocastDType.empty()) {
    if (AutocastDType != "fp16" && AutocastDType != "bf16")
      return makeError("--autocast-dtype: '" + AutocastDType +
                       "' is not fp16 or bf16");
    AO.AutocastDType =
        AutocastDType == "bf16" ? DType::BFloat16 : DType::Float16;
  }
  AO.Checkpoint = Checkpoint;
  AO.CheckpointLayers = CheckpointLayers;
  AO.Attention = Attention;
  if (TensorParallel < 1)
    return makeError("--tp=0: the tensor-parallel degree must be at least 1");
  if (SequenceParallel && TensorParallel < 2)
    return makeError("--sp splits over the --tp ranks; give --tp=N with N "
                     "> 1");
  AO.TensorParallel = TensorParallel;
  AO.SequenceParallel = SequenceParallel;
  if (AsWritten && Attention == AttentionKernel::Flash)
    return makeError("--attention=flash fuses the attention core; it does "
                     "not combine with --as-written");
  if (!CheckpointLayers.empty() && Checkpoint == CheckpointPolicy::None)
    return makeError("--checkpoint-layers needs --checkpoint=selective or "
                     "--checkpoint=full");
  if (Error E = AO.validate())
    return std::move(E);
  return AO;
}

ReportOptions buildReportOptions() {
  ReportOptions RO;
  RO.Format = ReportFormat;
  RO.TopNodes = TopNodes;
  return RO;
}

/// Opens Path for writing ("-": stdout), kept only if keep() is called;
/// What ("output", "trace") names it in the error.
Expected<std::unique_ptr<ToolOutputFile>> openOutput(StringRef Path,
                                                     StringRef What) {
  std::error_code EC;
  auto File = std::make_unique<ToolOutputFile>(Path, EC, sys::fs::OF_None);
  if (EC)
    return makeError("cannot open " + What + " file '" + Path +
                     "': " + EC.message());
  return std::move(File);
}

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

/// --time-passes: wall, user and system time of the parse, each build, each
/// pass and the report. The group prints itself to stderr once its last
/// timer is destroyed.
class StageTimers {
public:
  explicit StageTimers(bool Enabled) : Enabled(Enabled) {}

  /// Starts a timer for one stage; null when timing is off.
  Timer *start(StringRef Name, StringRef Desc) {
    if (!Enabled)
      return nullptr;
    Owned.push_back(std::make_unique<Timer>(Name, Desc, Group));
    Owned.back()->startTimer();
    return Owned.back().get();
  }
  static void stop(Timer *T) {
    if (T)
      T->stopTimer();
  }

  /// Times each pass, one timer per pass however often it runs.
  PassInstrumentation instrumentation() {
    PassInstrumentation PI;
    if (!Enabled)
      return PI;
    PI.BeforePass = [this](const PassInfo &P) {
      std::unique_ptr<Timer> &T = PassTimers[&P];
      if (!T)
        T = std::make_unique<Timer>(P.Name, P.Name, Group);
      T->startTimer();
    };
    PI.AfterPass = [this](const PassInfo &P) { PassTimers[&P]->stopTimer(); };
    return PI;
  }

private:
  bool Enabled;
  // The group outlives its timers.
  TimerGroup Group{"vram-opt", "vram-opt time report"};
  std::vector<std::unique_ptr<Timer>> Owned;
  std::map<const PassInfo *, std::unique_ptr<Timer>> PassTimers;
};

/// One run of the tool: the input, its warnings, its timers, and the
/// libraries' options as the run builds them.
struct ToolRun {
  std::string File =
      InputFile == "-" ? std::string("<stdin>") : InputFile.getValue();
  Diagnostics Diags;
  StageTimers Timers{TimePasses};
  LoadOptions Load;
  AnalysisOptions Analysis;
  CostOptions Cost;
  std::unique_ptr<ParsedModel> Parsed;

  ToolRun() { Diags.Strict = Strict; }

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

  /// Reads the model (once for every binding).
  Error parse() {
    Timer *T = Timers.start("parse", "parse");
    auto P = ParsedModel::parse(InputFile, Load);
    StageTimers::stop(T);
    if (!P)
      return describeLoadError(P.takeError());
    Parsed = std::move(*P);
    return Error::success();
  }

  /// The IR for Load's binding.
  Expected<std::unique_ptr<Model>> build(StringRef TimerDesc) {
    Timer *T = Timers.start("build", TimerDesc);
    auto M = Parsed->build(Load, Diags);
    StageTimers::stop(T);
    if (!M)
      return describeLoadError(M.takeError());
    return M;
  }

  Error analyse(ArrayRef<PipelineStep> Steps, raw_ostream &OS,
                const TimelineResult::Fit *Searched = nullptr,
                const CostResult *WithFormula = nullptr);
  Error formula(ArrayRef<PipelineStep> Steps, raw_ostream &OS);
  Error fit(ArrayRef<PipelineStep> Steps, raw_ostream &OS);
  Error sweep(ArrayRef<Binding> Bindings, ArrayRef<PipelineStep> Steps,
              raw_ostream &OS);
};

/// One binding: Steps, then the IR, the report and the trace as the flags
/// ask.
Error ToolRun::analyse(ArrayRef<PipelineStep> Steps, raw_ostream &OS,
                       const TimelineResult::Fit *Searched,
                       const CostResult *WithFormula) {
  auto M = build("build IR, bind dims");
  if (!M)
    return M.takeError();
  CostContext Ctx(**M, Analysis, Cost, Diags);
  PassManager PM(Ctx, Timers.instrumentation());
  if (Error E = PM.runPipeline(Steps, OS))
    return E;
  if (WithFormula) {
    Ctx.Cost.FormulaLayer = WithFormula->FormulaLayer;
    Ctx.Cost.FormulaPerLayer = WithFormula->FormulaPerLayer;
    Ctx.Cost.FormulaTotal = WithFormula->FormulaTotal;
  }
  if (Searched && Ctx.Timeline.FitResult) {
    Ctx.Timeline.FitResult->Dim = Searched->Dim;
    Ctx.Timeline.FitResult->Max = Searched->Max;
  }
  if (PrintIR)
    printIR(*Ctx.M.Main, OS);
  if (!PrintIR && Passes.empty()) {
    Timer *T = Timers.start("report", "report views");
    printReport(Ctx, buildReportOptions(), OS);
    StageTimers::stop(T);
  }
  if (TraceFile.empty())
    return Error::success();
  auto Trace = openOutput(TraceFile, "trace");
  if (!Trace)
    return Trace.takeError();
  writeTrace(Ctx, (*Trace)->os());
  (*Trace)->keep();
  return Error::success();
}

/// Every binding through every pass (Steps, the default pipeline), one
/// summary row each.
Error ToolRun::sweep(ArrayRef<Binding> Bindings, ArrayRef<PipelineStep> Steps,
                     raw_ostream &OS) {
  std::vector<SweepPoint> Points;
  for (const Binding &B : Bindings) {
    Load.Dims = B;
    auto M = build("build IR, bind dims (per binding)");
    if (!M)
      return M.takeError();
    CostContext Ctx(**M, Analysis, Cost, Diags);
    PassManager PM(Ctx, Timers.instrumentation());
    if (Error E = PM.runPipeline(Steps, nulls()))
      return E;
    Points.push_back(makeSweepPoint(Ctx));
  }
  printSweep(Points, ReportFormat, OS);
  return Error::success();
}

/// --formula: the saved bytes (train) or the working set (infer) of the
/// first layer and of the model, fitted over the symbolic dims bound.
Error ToolRun::formula(ArrayRef<PipelineStep> Steps, raw_ostream &OS) {
  const Binding Base = Load.Dims;
  auto First = build("build IR, bind dims (per --formula probe)");
  if (!First)
    return First.takeError();
  Binding Dims((*First)->DimBindings.begin(), (*First)->DimBindings.end());
  if (Dims.empty())
    return makeError("--formula needs symbolic dims (bound with --dim)");
  CostResult F;
  auto Eval = [&](ArrayRef<int64_t> Vals) -> Expected<std::vector<uint64_t>> {
    Load.Dims.clear();
    for (size_t I = 0; I < Dims.size(); ++I)
      Load.Dims.emplace_back(Dims[I].first, Vals[I]);
    auto M = build("build IR, bind dims (per --formula probe)");
    if (!M)
      return M.takeError();
    CostContext Ctx(**M, Analysis, Cost, Diags);
    if (Error E = runPipeline(Ctx, Timers.instrumentation()))
      return std::move(E);
    uint64_t LayerBytes = 0;
    for (const CostResult::Layer &L : Ctx.Cost.Layers) {
      if (L.Name == "(inputs)" || L.Name == "(other)")
        continue;
      if (F.FormulaLayer.empty())
        F.FormulaLayer = L.Name;
      if (L.Name == F.FormulaLayer)
        LayerBytes = L.Bytes;
    }
    return std::vector<uint64_t>{LayerBytes, Ctx.Cost.Activations};
  };
  auto Fitted = fitFormulas(Dims, Eval);
  if (!Fitted)
    return prefixError("--formula: ", Fitted.takeError());
  F.FormulaPerLayer = F.FormulaLayer.empty() ? "" : (*Fitted)[0];
  F.FormulaTotal = (*Fitted)[1];
  Load.Dims = Base;
  return analyse(Steps, OS, nullptr, &F);
}

/// --fit DIM: the largest value of DIM whose peak fits the GPU, found by
/// doubling then bisection (the peak grows with a batch or sequence dim),
/// each probe from the model parsed once; then the report of that value.
Error ToolRun::fit(ArrayRef<PipelineStep> Steps, raw_ostream &OS) {
  const Binding Base = Load.Dims;
  auto Fits = [&](int64_t V) -> Expected<bool> {
    Load.Dims = Base;
    Load.Dims.emplace_back(FitDim, V);
    auto M = build("build IR, bind dims (per --fit probe)");
    if (!M)
      return M.takeError();
    CostContext Ctx(**M, Analysis, Cost, Diags);
    if (Error E = runPipeline(Ctx, Timers.instrumentation()))
      return std::move(E);
    return Ctx.Timeline.FitResult && Ctx.Timeline.FitResult->Fits;
  };
  const int64_t Cap = int64_t(1) << 24; // the largest value tried
  int64_t Lo = 0, Hi = 1; // Lo fits (0: nothing does), Hi is to be tried
  while (Hi <= Cap) {
    Expected<bool> F = Fits(Hi);
    if (!F)
      return F.takeError();
    if (!*F)
      break;
    Lo = Hi;
    Hi *= 2;
  }
  while (Hi - Lo > 1 && Hi <= Cap) {
    int64_t Mid = Lo + (Hi - Lo) / 2;
    Expected<bool> F = Fits(Mid);
    if (!F)
      return F.takeError();
    (*F ? Lo : Hi) = Mid;
  }
  TimelineResult::Fit Searched;
  Searched.Dim = FitDim;
  Searched.Max = Lo;
  Load.Dims = Base;
  Load.Dims.emplace_back(FitDim, std::max<int64_t>(Lo, 1));
  return analyse(Steps, OS, &Searched);
}

//===----------------------------------------------------------------------===//
// Help built from the tables of vram/Cost/Recipes.h
//===----------------------------------------------------------------------===//

/// "Precision recipe: mixed (default, 20 B/param with adam), fp32 (24), ...".
std::string describeRecipes() {
  CostOptions Defaults;
  const Optimizer *Opt = findOptimizer(Defaults.Optimizer);
  assert(Opt && "the default optimizer is in the table");
  std::string S;
  raw_string_ostream OS(S);
  OS << "Precision recipe: ";
  ListSeparator LS;
  for (const Recipe &R : recipes()) {
    OS << LS << R.Name << " (";
    if (Defaults.Recipe == R.Name)
      OS << "default, ";
    OS << format("%g", bytesPerParam(R, Opt->StateCopies));
    if (Defaults.Recipe == R.Name)
      OS << " B/param with " << Opt->Name;
    OS << ')';
  }
  return OS.str();
}

/// "sgd, momentum, adam (default) or adamw".
std::string describeOptimizers() {
  std::string Default = CostOptions().Optimizer, S;
  ArrayRef<Optimizer> All = optimizers();
  for (size_t I = 0; I < All.size(); ++I) {
    if (I)
      S += I + 1 == All.size() ? " or " : ", ";
    S += All[I].Name;
    if (Default == All[I].Name)
      S += " (default)";
  }
  return S;
}

/// "The GPU to fit: A100-40GB (40 GiB), ..., or a size (24GiB, 24GB)".
std::string describeGpus() {
  std::string S = "Say whether the step's peak fits this GPU: ";
  for (const auto &P : gpuPresets())
    S += std::string(P.first) + " (" + std::to_string(P.second >> 30) +
         " GiB), ";
  return S + "or a size (24GiB, 24GB)";
}

std::string describeRecipeTerms() {
  return "Override one recipe term, bytes per parameter: " +
         join(recipeTermKeys(), ", ") + " (repeatable)";
}

void parseCommandLine(int Argc, char **Argv) {
  // The options keep a reference to their help.
  static const std::string RecipeHelp = describeRecipes(),
                           OptimizerHelp = describeOptimizers(),
                           RecipeTermHelp = describeRecipeTerms(),
                           GpuHelp = describeGpus();
  RecipeName.setDescription(RecipeHelp);
  OptimizerName.setDescription(OptimizerHelp);
  RecipeTerms.setDescription(RecipeTermHelp);
  Gpu.setDescription(GpuHelp);
  cl::HideUnrelatedOptions(ToolCat);
  cl::ParseCommandLineOptions(
      Argc, Argv,
      "vram-opt: accelerator memory analysis of ONNX transformer models\n\n"
      "  Reads an ONNX model (binary .onnx, textual .onnxtxt, .textproto; '-'\n"
      "  for stdin), binds symbolic dims, propagates shapes and reports where\n"
      "  the memory of training or serving it goes.\n");
}

int listPasses() {
  for (const PassInfo &P : allPasses())
    outs() << P.Name << "  " << P.Description << '\n';
  return 0;
}

} // namespace

int runVramOpt(int Argc, char **Argv) {
  InitLLVM X(Argc, Argv);
  parseCommandLine(Argc, Argv);
  if (ListPasses)
    return listPasses();

  // Each check in the order the run reaches it: the flags the load needs,
  // the model, the other flags, the output, then each binding.
  ToolRun Run;
  if (!OpRules.empty()) {
    // Errors name the rule file and line: "FILE:LINE: what".
    auto Buf = MemoryBuffer::getFile(OpRules);
    if (!Buf) {
      WithColor::error(errs(), "vram-opt")
          << OpRules << ": " << Buf.getError().message() << '\n';
      return 1;
    }
    if (Error E = installUserOpRules((*Buf)->getBuffer(), OpRules)) {
      WithColor::error(errs(), "vram-opt") << toString(std::move(E)) << '\n';
      return 1;
    }
  }
  auto Bindings = parseDims();
  if (!Bindings)
    return Run.fail(Bindings.takeError());
  auto Steps = parsePassesFlag();
  if (!Steps)
    return Run.fail(Steps.takeError());
  if (Error E = checkSweepFlags(*Bindings))
    return Run.fail(std::move(E));
  if (Error E = checkFitFlags(*Bindings))
    return Run.fail(std::move(E));
  auto Load = buildLoadOptions(Bindings->front());
  if (!Load)
    return Run.fail(Load.takeError());
  Run.Load = std::move(*Load);
  if (Error E = Run.parse())
    return Run.fail(std::move(E));
  auto Cost = buildCostOptions();
  if (!Cost)
    return Run.fail(Cost.takeError());
  Run.Cost = std::move(*Cost);
  auto Analysis = buildAnalysisOptions(Run.Cost);
  if (!Analysis)
    return Run.fail(Analysis.takeError());
  Run.Analysis = std::move(*Analysis);
  auto Out = openOutput(OutputFile, "output");
  if (!Out)
    return Run.fail(Out.takeError());

  Error E = Bindings->size() > 1 ? Run.sweep(*Bindings, *Steps, (*Out)->os())
            : !FitDim.empty()    ? Run.fit(*Steps, (*Out)->os())
            : Formula            ? Run.formula(*Steps, (*Out)->os())
                                 : Run.analyse(*Steps, (*Out)->os());
  if (E)
    return Run.fail(std::move(E));
  // The report first, then the warnings (stdout is buffered, stderr not).
  (*Out)->os().flush();
  Run.printWarnings();
  (*Out)->keep();
  return 0;
}

} // namespace vram

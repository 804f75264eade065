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
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
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

// The help's sections (LLVM prints them sorted by name: Input, Output,
// Step, Storage, What-ifs, Working with passes).
cl::OptionCategory InputCat("Input: the model and its shapes");
cl::OptionCategory StepCat("Step: training, serving, fine-tuning");
cl::OptionCategory PrecisionCat("Storage: precision recipes and formats");
cl::OptionCategory PlanCat("What-ifs: will it fit, and what makes it fit");
cl::OptionCategory OutputCat("Output: report formats and files");
cl::OptionCategory DevCat("Working with passes (for developers)");
const cl::OptionCategory *const ToolCats[] = {
    &InputCat, &StepCat, &PrecisionCat, &PlanCat, &OutputCat, &DevCat};

/// A flag's bad value, reported as the tool's other errors are
/// ("vram-opt: error: --mode: ..."); true, as cl::parser::parse returns on
/// an error.
bool flagError(const cl::Option &O, const Twine &Msg) {
  WithColor::error(errs(), "vram-opt")
      << (O.ArgStr.size() == 1 ? "-" : "--") << O.ArgStr << ": " << Msg << '\n';
  return true;
}

/// An enum option whose error lists the choices.
template <typename T> class ChoiceParser : public cl::parser<T> {
public:
  using cl::parser<T>::parser;
  bool parse(cl::Option &O, StringRef ArgName, StringRef Arg, T &V) {
    std::string Choices;
    for (unsigned I = 0, E = this->getNumOptions(); I != E; ++I) {
      if (this->getOption(I) == Arg) {
        V = this->Values[I].V.getValue();
        return false;
      }
      Choices +=
          (I ? (I + 1 == E ? " or " : ", ") : "") + this->getOption(I).str();
    }
    return flagError(O, "'" + Arg + "' is not a choice; choose " + Choices);
  }
};
template <typename T> using ChoiceOpt = cl::opt<T, false, ChoiceParser<T>>;

// A list, so that a second path (or a flag's stray value) is our error,
// not LLVM's "Too many positional arguments" after an unknown flag's.
cl::list<std::string> InputFiles(cl::Positional, cl::desc("<model.onnx | ->"),
                                 cl::cat(InputCat));
cl::opt<std::string> OutputFile("o", cl::desc("Write the report to <file>"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(OutputCat));
cl::list<std::string>
    Dims("dim",
         cl::desc("Bind a symbolic input dim: --dim NAME=VALUE (repeatable); "
                  "NAME=V1,V2,... sweeps the values, parsing the model once"),
         cl::value_desc("NAME=VALUE"), cl::cat(InputCat));
cl::list<std::string> Phases(
    "phase",
    cl::desc("Run the bindings of --dim once per phase, with these dims "
             "added (repeatable; paired values, not a product): serving's "
             "prefill and decode, e.g. --phase past=0,seq=2048 --phase "
             "past=4095,seq=1; one summary row each"),
    cl::value_desc("NAME=V,..."), cl::cat(InputCat));
cl::opt<std::string> DefaultDim(
    "default-dim",
    cl::desc("Bind every symbolic input dim not given by --dim to N"),
    cl::value_desc("N"), cl::cat(InputCat));
ChoiceOpt<InputFormat> Format(
    "input-format", cl::desc("How to read the model (default: by extension)"),
    cl::values(clEnumValN(InputFormat::Auto, "auto", "by file extension"),
               clEnumValN(InputFormat::Binary, "binary", "binary protobuf"),
               clEnumValN(InputFormat::Text, "text", "ONNX textual syntax"),
               clEnumValN(InputFormat::TextProto, "textproto",
                          "protobuf text format")),
    cl::init(InputFormat::Auto), cl::cat(InputCat));
cl::opt<std::string>
    ParamInputs("param-inputs",
                cl::desc("Graph inputs whose names match REGEX are parameters "
                         "(default: automatic rule, see docs/frontend.md)"),
                cl::value_desc("REGEX"), cl::cat(InputCat));
cl::opt<std::string>
    DataInputs("data-inputs",
               cl::desc("Graph inputs whose names match REGEX are data, "
                        "never parameters"),
               cl::value_desc("REGEX"), cl::cat(InputCat));
cl::opt<std::string> Buffers(
    "buffers",
    cl::desc("Initializers whose names match REGEX are non-trainable buffers "
             "(default: masks and rotary caches, see docs/frontend.md)"),
    cl::value_desc("REGEX"), cl::cat(InputCat));
cl::opt<bool> Strict("strict",
                     cl::desc("Treat unknown ops and unpriced tensors as "
                              "errors"),
                     cl::cat(InputCat));
cl::opt<bool> PrintIR("print-ir",
                      cl::desc("Print every value's kind, dtype and shape "
                               "after shape inference"),
                      cl::cat(OutputCat));
cl::opt<std::string> Passes(
    "passes",
    cl::desc("Run these passes in order (comma-separated; print<NAME> "
             "prints a pass's results, running it first if it has not run); "
             "see --list-passes"),
    cl::value_desc("a,b,print<b>"), cl::cat(DevCat));
cl::opt<std::string> TraceFile(
    "trace",
    cl::desc("Write the memory timeline to FILE in Chrome Trace Event "
             "format (Perfetto, chrome://tracing)"),
    cl::value_desc("FILE.json"), cl::cat(OutputCat));
cl::opt<std::string> HtmlFile(
    "html",
    cl::desc("Also write the report to FILE as one self-contained HTML page "
             "(the timeline chart, the breakdowns, a sortable node table)"),
    cl::value_desc("FILE.html"), cl::cat(OutputCat));
cl::opt<bool> TimePasses("time-passes",
                         cl::desc("Print the time of the load, each pass and "
                                  "the report on stderr"),
                         cl::cat(DevCat));
cl::opt<bool> ListPasses("list-passes", cl::desc("List the passes and exit"),
                         cl::cat(DevCat));
ChoiceOpt<Mode> RunMode("mode", cl::desc("What to price"),
                        cl::values(clEnumValN(Mode::Train, "train",
                                              "a training step (default)"),
                                   clEnumValN(Mode::Infer, "infer",
                                              "serving: weights + forward "
                                              "working set")),
                        cl::init(Mode::Train), cl::cat(StepCat));
cl::opt<std::string>
    OpRules("op-rules", cl::value_desc("FILE"),
            cl::desc("Rules for ops the tool does not know, one a line "
                     "(docs/memory.md)"),
            cl::cat(InputCat));
ChoiceOpt<GraphKind> GraphKindOpt(
    "graph-kind", cl::desc("Whether the graph already holds its backward"),
    cl::values(clEnumValN(GraphKind::Auto, "auto",
                          "by the rule: tangents_<n> inputs or gradient ops "
                          "(default)"),
               clEnumValN(GraphKind::Forward, "forward",
                          "a forward, differentiated for training"),
               clEnumValN(GraphKind::Backward, "backward",
                          "already a backward: priced by liveness as "
                          "written")),
    cl::init(GraphKind::Auto), cl::cat(StepCat));
// The help of --recipe, --optimizer and --recipe-term is set from the tables
// before the flags are parsed (see parseCommandLine).
cl::opt<std::string> RecipeName("recipe", cl::init(CostOptions().Recipe),
                                cl::value_desc("NAME"), cl::cat(PrecisionCat));
cl::opt<std::string> OptimizerName("optimizer",
                                   cl::init(CostOptions().Optimizer),
                                   cl::value_desc("NAME"),
                                   cl::cat(PrecisionCat));
cl::opt<std::string> ActivationDType(
    "activation-dtype",
    cl::desc("Store floating-point activations in this dtype (f32, f16, "
             "bf16, ...), overriding the recipe (serving: instead of as "
             "stored)"),
    cl::value_desc("DTYPE"), cl::cat(PrecisionCat));
// The help of --weight-dtype and --kv-dtype lists the formats (see
// parseCommandLine).
cl::opt<std::string> WeightDType("weight-dtype", cl::value_desc("FORMAT"),
                                 cl::cat(PrecisionCat));
cl::opt<std::string> KVDType("kv-dtype", cl::value_desc("FORMAT"),
                             cl::cat(PrecisionCat));
cl::opt<bool> KVShared(
    "kv-shared",
    cl::desc("Serving: present keys and values are written into the past "
             "inputs' buffers (ONNX Runtime's past_present_share_buffer), so "
             "the cache is held once"),
    cl::cat(PrecisionCat));
cl::list<std::string> RecipeTerms("recipe-term", cl::value_desc("TERM=BYTES"),
                                  cl::cat(PrecisionCat));
cl::opt<std::string>
    Overhead("framework-overhead",
             cl::desc("Framework overhead (CUDA context, workspaces): a size "
                      "(400MiB, 2G, 2GB; see the end) (default 400MiB)"),
             cl::value_desc("SIZE"), cl::init("400MiB"), cl::cat(PlanCat));
cl::opt<std::string> Freeze("freeze",
                            cl::desc("Freeze parameters whose names match "
                                     "REGEX (no gradient or optimizer state)"),
                            cl::value_desc("REGEX"), cl::cat(StepCat));
cl::opt<std::string> Trainable(
    "trainable",
    cl::desc("Train only the parameters whose names match REGEX (with "
             "--freeze: less the frozen ones; with --lora: besides the "
             "adapters)"),
    cl::value_desc("REGEX"), cl::cat(StepCat));
cl::opt<std::string>
    Lora("lora",
         cl::desc("Add LoRA adapters (PEFT) to the linear layers whose weight "
                  "names match REGEX and freeze the base: "
                  "r=R[,alpha=A][,dropout=P],targets=REGEX (alpha 8, dropout 0 "
                  "by default)"),
         cl::value_desc("r=R,targets=REGEX"), cl::cat(StepCat));
ChoiceOpt<LossKind>
    Loss("loss", cl::desc("The loss of the training step"),
         cl::values(clEnumValN(LossKind::None, "none",
                               "not priced: each output's gradient seeds the "
                               "backward (default)"),
                    clEnumValN(LossKind::Mean, "mean", "logits.mean()"),
                    clEnumValN(LossKind::CrossEntropy, "cross-entropy",
                               "F.cross_entropy(logits.float(), labels), as "
                               "Hugging Face computes it")),
         cl::init(LossKind::None), cl::cat(StepCat));
cl::opt<std::string>
    LossOutput("loss-output",
               cl::desc("The output the loss is computed from (default: the "
                        "first floating-point output)"),
               cl::value_desc("NAME"), cl::cat(StepCat));
cl::opt<bool> LossUpcast(
    "loss-upcast",
    cl::desc("Cross-entropy upcasts 16-bit logits to f32 first, as Hugging "
             "Face's logits.float() (default true; =false to keep them)"),
    cl::init(true), cl::cat(StepCat));
ChoiceOpt<AutocastDevice> AutocastOn(
    "autocast-device",
    cl::desc("Where torch.autocast runs, for --recipe torch-amp (its policy "
             "lists differ)"),
    cl::values(clEnumValN(AutocastDevice::CUDA, "cuda",
                          "CUDA's lists (default)"),
               clEnumValN(AutocastDevice::CPU, "cpu", "the CPU's lists")),
    cl::init(AutocastDevice::CUDA), cl::cat(PrecisionCat));
cl::opt<std::string> AutocastDType(
    "autocast-dtype",
    cl::desc("The lower-precision dtype of torch.autocast: fp16 or bf16 "
             "(default: fp16 on cuda, bf16 on cpu)"),
    cl::value_desc("fp16|bf16"), cl::cat(PrecisionCat));
cl::opt<std::string> AutocastBuffers(
    "autocast-buffers",
    cl::desc("Under autocast, buffers (masks, rotary tables) meeting an "
             "activation: 'follow' its dtype (default; models that write "
             ".to(x.dtype) by the op) or stay 'f32' and widen the op"),
    cl::value_desc("follow|f32"), cl::init("follow"), cl::cat(PrecisionCat));
cl::opt<bool> AsWritten("as-written",
                        cl::desc("Price the graph node by node as written, "
                                 "without recognising decomposed kernels"),
                        cl::cat(StepCat));
// The what-if options take comma lists (--tp 1,2,4): each combination is
// one row of a sweep (see WhatIf).
cl::list<CheckpointPolicy, bool, ChoiceParser<CheckpointPolicy>> Checkpoint(
    "checkpoint",
    cl::desc("Activation checkpointing (docs/planning.md); a comma list "
             "sweeps"),
    cl::values(clEnumValN(CheckpointPolicy::None, "none",
                          "keep what every op saves (default)"),
               clEnumValN(CheckpointPolicy::Selective, "selective",
                          "recompute each layer's attention core (QK^T, "
                          "softmax, dropout, scores x V)"),
               clEnumValN(CheckpointPolicy::Full, "full",
                          "keep each layer's input, recompute the layer")),
    cl::CommaSeparated, cl::cat(PlanCat));
cl::opt<std::string> CheckpointLayers(
    "checkpoint-layers",
    cl::desc("Checkpoint only the layers whose names (as in the Layers "
             "table) match REGEX"),
    cl::value_desc("REGEX"), cl::cat(PlanCat));
cl::list<AttentionKernel, bool, ChoiceParser<AttentionKernel>> Attention(
    "attention", cl::desc("How the attention core runs; a comma list sweeps"),
    cl::values(clEnumValN(AttentionKernel::Eager, "eager",
                          "as written in the graph (default)"),
               clEnumValN(AttentionKernel::Flash, "flash",
                          "one flash kernel: keeps Q, K, V, the output and "
                          "the log-sum-exp, no s x s tensor")),
    cl::CommaSeparated, cl::cat(PlanCat));
cl::list<unsigned> TensorParallel(
    "tp",
    cl::desc("Tensor-parallel ranks (Megatron layout propagated from the "
             "linear layers; figures are per GPU); a comma list sweeps"),
    cl::value_desc("N"), cl::CommaSeparated, cl::cat(PlanCat));
cl::opt<bool> SequenceParallel(
    "sp",
    cl::desc("Sequence parallelism over the --tp ranks (norms, dropouts "
             "and residuals split along the sequence)"),
    cl::cat(PlanCat));
cl::list<unsigned> DataParallel(
    "dp",
    cl::desc("Data-parallel ranks (with --zero; figures are per GPU); a "
             "comma list sweeps"),
    cl::value_desc("N"), cl::CommaSeparated, cl::cat(PlanCat));
cl::list<unsigned> ZeroStage(
    "zero",
    cl::desc("ZeRO stage over the --dp ranks: 0 none, 1 optimizer states "
             "(f32 master weights and gradients, optimizer state), 2 also "
             "gradients, 3 also weights; a comma list sweeps"),
    cl::value_desc("0|1|2|3"), cl::CommaSeparated, cl::cat(PlanCat));
cl::list<unsigned> PipelineParallel(
    "pp",
    cl::desc("Pipeline stages: the layers split into N contiguous stages, "
             "1F1B schedule; figures are per GPU for the worst stage; a "
             "comma list sweeps"),
    cl::value_desc("N"), cl::CommaSeparated, cl::cat(PlanCat));
cl::list<unsigned> MicroBatches(
    "micro-batches",
    cl::desc("Micro-batches per step with --pp (default: N, the fewest that "
             "fill the pipeline); the bound batch dim is one micro-batch; a "
             "comma list sweeps"),
    cl::value_desc("M"), cl::CommaSeparated, cl::cat(PlanCat));
// The help of --gpu lists the presets (see parseCommandLine).
cl::opt<std::string> Gpu("gpu", cl::value_desc("NAME|SIZE"), cl::cat(PlanCat));
cl::opt<std::string>
    FitDim("fit",
           cl::desc("Find the largest value of the symbolic dim NAME (batch, "
                    "sequence) whose step fits the --gpu, and report that run"),
           cl::value_desc("NAME"), cl::cat(PlanCat));
cl::opt<bool> Formula(
    "formula",
    cl::desc("Print the saved bytes of one layer and of the model as "
             "polynomials in the symbolic dims (fitted on a grid of runs, "
             "checked at a fresh point)"),
    cl::cat(PlanCat));
cl::opt<std::string> DiffWith(
    "diff",
    cl::desc("Compare with the model FILE, side by side, by category and by "
             "layer: the input runs with the first point of a sweep (--dim or "
             "the what-if lists), FILE with the second (FILE may be the same "
             "model: --checkpoint none,full --diff m.onnx); with one point, "
             "both run with it"),
    cl::value_desc("FILE"), cl::cat(PlanCat));
ChoiceOpt<OutputFormat> ReportFormat(
    "format", cl::desc("Report format"),
    cl::values(clEnumValN(OutputFormat::Text, "text", "text (default)"),
               clEnumValN(OutputFormat::JSON, "json", "one JSON object"),
               clEnumValN(OutputFormat::CSV, "csv", "the per-node table")),
    cl::init(OutputFormat::Text), cl::cat(OutputCat));
cl::opt<std::string> TopNodes("n",
                              cl::desc("Rows of the per-node table in text "
                                       "(the largest; the rest folded); 0 "
                                       "for all (default 25)"),
                              cl::value_desc("N"), cl::init("25"),
                              cl::cat(OutputCat));

/// The model's path ("-": standard input).
std::string inputPath() {
  return InputFiles.empty() ? std::string("-") : InputFiles.front();
}

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

/// An integer flag's value, at least Min (when given): "--default-dim: 'x'
/// is not an integer".
Expected<int64_t> parseIntFlag(StringRef Flag, StringRef Value,
                               Optional<int64_t> Min = None) {
  int64_t N;
  if (Value.trim().getAsInteger(10, N))
    return makeError(Flag + ": '" + Value + "' is not an integer");
  if (Min && N < *Min)
    return makeError(Flag + ": " + Twine(N) + " is less than " + Twine(*Min));
  return N;
}

/// A library's error about a flag's value, prefixed with the flag.
Error prefixError(const Twine &Prefix, Error E) {
  return makeError(Prefix + toString(std::move(E)));
}

using Binding = std::vector<std::pair<std::string, int64_t>>;

/// --phase NAME=V[,NAME=V...] (repeatable): each binding of --dim once per
/// phase, with the phase's dims added, in the order given (the phases of
/// serving: prefill with past 0 and the prompt, then the last decode step),
/// so that paired values run together rather than as a cartesian product.
/// Every phase binds the same names, none of them bound by --dim.
Expected<std::vector<Binding>> applyPhases(std::vector<Binding> Bindings) {
  if (Phases.empty())
    return Bindings;
  std::vector<Binding> PhaseDims;
  for (const std::string &P : Phases) {
    SmallVector<StringRef, 4> Parts;
    StringRef(P).split(Parts, ',');
    Binding B;
    for (StringRef Part : Parts) {
      StringRef Name, Val;
      std::tie(Name, Val) = Part.split('=');
      int64_t V;
      if (Name.trim().empty() || Val.trim().getAsInteger(10, V) || V < 0)
        return makeError("--phase '" + P +
                         "': expected NAME=VALUE[,NAME=VALUE...] with "
                         "values >= 0, for example --phase past=0,seq=512");
      B.emplace_back(Name.trim().str(), V);
    }
    PhaseDims.push_back(std::move(B));
  }
  auto Names = [](const Binding &B) {
    std::vector<std::string> N;
    for (const auto &D : B)
      N.push_back(D.first);
    return N;
  };
  for (const Binding &B : PhaseDims)
    if (Names(B) != Names(PhaseDims.front()))
      return makeError("--phase: every phase binds the same dims, in the "
                       "same order (" +
                       join(Names(PhaseDims.front()), ", ") + ")");
  for (const auto &D : Bindings.front())
    if (is_contained(Names(PhaseDims.front()), D.first))
      return makeError("--phase binds " + D.first + ", which --dim binds too");
  std::vector<Binding> Out;
  for (const Binding &B : Bindings)
    for (const Binding &P : PhaseDims) {
      Out.push_back(B);
      Out.back().insert(Out.back().end(), P.begin(), P.end());
    }
  return Out;
}

/// The bindings to analyse: one, or with NAME=V1,V2,... the cartesian
/// product (a sweep), the last --dim varying fastest; then --phase.
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
  return applyPhases(std::move(Out));
}

/// --passes as pipeline steps (every pass when empty).
Expected<std::vector<PipelineStep>> parsePassesFlag() {
  auto Steps = parsePipeline(Passes);
  if (!Steps)
    return makeError("--passes: " + toString(Steps.takeError()) +
                     " (see --list-passes)");
  return Steps;
}

/// A sweep prints one summary row per binding and combination of the
/// what-if lists, nothing else; --diff compares two runs.
Error checkSweepFlags(ArrayRef<Binding> Bindings, size_t WhatIfs) {
  bool Single = PrintIR || !Passes.empty() || !TraceFile.empty();
  if (!DiffWith.empty()) {
    if (Bindings.size() * WhatIfs > 2)
      return makeError("--diff compares two runs; the --dim and what-if "
                       "lists give " +
                       Twine(Bindings.size() * WhatIfs));
    if (Single || Formula || !FitDim.empty())
      return makeError("--diff does not combine with --print-ir, --passes, "
                       "--trace, --formula or --fit");
    if (ReportFormat == OutputFormat::CSV)
      return makeError("--diff prints text or JSON (--format=text or "
                       "--format=json)");
    return Error::success();
  }
  if (Bindings.size() > 1 && Single)
    return makeError("--dim with several values sweeps the bindings "
                     "and prints one summary row each; it does not "
                     "combine with --print-ir, --passes or --trace");
  if (WhatIfs > 1 && Single)
    return makeError("a comma list on a what-if option sweeps its values "
                     "and prints one summary row each; it does not combine "
                     "with --print-ir, --passes or --trace");
  return Error::success();
}

/// --fit searches one dim of one binding and reports one run.
Error checkFitFlags(ArrayRef<Binding> Bindings, size_t WhatIfs) {
  if (Formula && (!FitDim.empty() || Bindings.size() > 1))
    return makeError("--formula does not combine with --fit or a --dim sweep");
  if (Formula && WhatIfs > 1)
    return makeError("--formula does not combine with what-if lists");
  if (FitDim.empty())
    return Error::success();
  if (Gpu.empty())
    return makeError("--fit " + FitDim + " needs --gpu (the memory to fit)");
  if (Bindings.size() > 1)
    return makeError("--fit does not combine with a --dim sweep");
  if (WhatIfs > 1)
    return makeError("--fit does not combine with what-if lists");
  for (const auto &B : Bindings.front())
    if (B.first == FitDim)
      return makeError("--fit " + FitDim + ": the dim is also bound by --dim");
  return Error::success();
}

/// One combination of the what-if options (their comma lists), and the
/// swept ones as (option, value) columns of the sweep table.
struct WhatIf {
  CheckpointPolicy Checkpoint = CheckpointPolicy::None;
  AttentionKernel Attention = AttentionKernel::Eager;
  unsigned TP = 1, PP = 1, DP = 1, Zero = 0, MicroBatches = 0;
  std::vector<std::pair<std::string, std::string>> Columns;
};

/// The cartesian product of the what-if lists, the last option (in the
/// order of the help: checkpoint, attention, tp, pp, dp, zero,
/// micro-batches) varying fastest.
std::vector<WhatIf> parseWhatIfs() {
  std::vector<WhatIf> Out(1);
  auto Expand = [&](StringRef Name, size_t N, auto Set, auto Show) {
    if (N == 0)
      return;
    std::vector<WhatIf> Next;
    for (const WhatIf &W : Out)
      for (size_t I = 0; I < N; ++I) {
        Next.push_back(W);
        Set(Next.back(), I);
        if (N > 1)
          Next.back().Columns.emplace_back(Name.str(), Show(I));
      }
    Out = std::move(Next);
  };
  auto Num = [](const cl::list<unsigned> &L) {
    return [&L](size_t I) { return std::to_string(L[I]); };
  };
  Expand(
      "checkpoint", Checkpoint.size(),
      [](WhatIf &W, size_t I) { W.Checkpoint = Checkpoint[I]; },
      [](size_t I) {
        return std::string(Checkpoint[I] == CheckpointPolicy::None ? "none"
                           : Checkpoint[I] == CheckpointPolicy::Selective
                               ? "selective"
                               : "full");
      });
  Expand(
      "attention", Attention.size(),
      [](WhatIf &W, size_t I) { W.Attention = Attention[I]; },
      [](size_t I) {
        return std::string(Attention[I] == AttentionKernel::Flash ? "flash"
                                                                  : "eager");
      });
  Expand(
      "tp", TensorParallel.size(),
      [](WhatIf &W, size_t I) { W.TP = TensorParallel[I]; },
      Num(TensorParallel));
  Expand(
      "pp", PipelineParallel.size(),
      [](WhatIf &W, size_t I) { W.PP = PipelineParallel[I]; },
      Num(PipelineParallel));
  Expand(
      "dp", DataParallel.size(),
      [](WhatIf &W, size_t I) { W.DP = DataParallel[I]; }, Num(DataParallel));
  Expand(
      "zero", ZeroStage.size(),
      [](WhatIf &W, size_t I) { W.Zero = ZeroStage[I]; }, Num(ZeroStage));
  Expand(
      "micro_batches", MicroBatches.size(),
      [](WhatIf &W, size_t I) { W.MicroBatches = MicroBatches[I]; },
      Num(MicroBatches));
  return Out;
}

/// The load options, with the first binding.
Expected<LoadOptions> buildLoadOptions(const Binding &First) {
  LoadOptions LO;
  LO.Format = Format;
  LO.Dims = First;
  if (DefaultDim.getNumOccurrences()) {
    Expected<int64_t> N = parseIntFlag("--default-dim", DefaultDim);
    if (!N)
      return N.takeError();
    LO.DefaultDim = *N;
  }
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
Expected<CostOptions> buildCostOptions(const WhatIf &W) {
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
  CO.WeightFormat = WeightDType;
  CO.KVFormat = KVDType;
  CO.KVShared = KVShared;
  if (!WeightDType.empty())
    if (auto F = lookupStorageFormat(WeightDType); !F)
      return prefixError("--weight-dtype: ", F.takeError());
  if (!KVDType.empty())
    if (auto F = lookupStorageFormat(KVDType); !F)
      return prefixError("--kv-dtype: ", F.takeError());
  Expected<uint64_t> OverheadBytes = parseSize(Overhead);
  if (!OverheadBytes)
    return prefixError("--framework-overhead: ", OverheadBytes.takeError());
  CO.OverheadBytes = *OverheadBytes;
  if (W.DP < 1)
    return makeError("--dp=0: the data-parallel degree must be at least 1");
  if (W.Zero > 3)
    return makeError("--zero=" + Twine(W.Zero) +
                     ": the ZeRO stage must be 0, 1, 2 or 3");
  CO.DataParallel = W.DP;
  CO.ZeroStage = W.Zero;
  if (W.PP < 1)
    return makeError("--pp=0: the number of pipeline stages must be at least "
                     "1");
  if (is_contained(MicroBatches, 0u))
    return makeError("--micro-batches=0: give at least 1");
  if (W.PP > 1 && RunMode != Mode::Train)
    return makeError("--pp models the 1F1B training schedule; it does not "
                     "combine with --mode=infer");
  CO.PipelineParallel = W.PP;
  CO.MicroBatches = W.MicroBatches;
  if (!Gpu.empty()) {
    Expected<uint64_t> Bytes = parseGpu(Gpu);
    if (!Bytes)
      return prefixError("--gpu: ", Bytes.takeError());
    CO.GpuBytes = *Bytes;
    CO.GpuName = Gpu;
  }
  return CO;
}

/// Flags that do not apply to the mode, said rather than dropped silently.
Error warnUnusedCostFlags(Diagnostics &Diags) {
  if (RunMode == Mode::Infer &&
      (RecipeName.getNumOccurrences() || OptimizerName.getNumOccurrences()))
    if (Error E = Diags.warn("--recipe and --optimizer price training; "
                             "serving prices the model as stored (override "
                             "with --weight-dtype, --activation-dtype, "
                             "--kv-dtype)"))
      return E;
  if (RunMode == Mode::Train && !KVDType.empty())
    if (Error E = Diags.warn("--kv-dtype prices the KV cache of serving; it "
                             "does not apply to --mode train"))
      return E;
  if (RunMode == Mode::Train && KVShared)
    return Diags.warn("--kv-shared prices the KV cache of serving; it does "
                      "not apply to --mode train");
  return Error::success();
}

/// The analysis options; the activation dtype comes from the cost options
/// (the recipe's, or --activation-dtype).
Expected<AnalysisOptions> buildAnalysisOptions(const CostOptions &CO,
                                               const WhatIf &W) {
  AnalysisOptions AO;
  AO.Strict = Strict;
  AO.Kind = GraphKindOpt;
  AO.Fusion = !AsWritten;
  AO.FreezeRegex = Freeze;
  AO.TrainableRegex = Trainable;
  if (!Lora.empty()) {
    auto L = parseLoraSpec(Lora);
    if (!L)
      return prefixError("--lora: ", L.takeError());
    AO.Lora = *L;
  }
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
  AO.Checkpoint = W.Checkpoint;
  AO.CheckpointLayers = CheckpointLayers;
  AO.Attention = W.Attention;
  if (W.TP < 1)
    return makeError("--tp=0: the tensor-parallel degree must be at least 1");
  if (SequenceParallel && W.TP < 2)
    return makeError("--sp splits over the --tp ranks; give --tp=N with N "
                     "> 1");
  AO.TensorParallel = W.TP;
  AO.SequenceParallel = SequenceParallel;
  if (AsWritten && W.Attention == AttentionKernel::Flash)
    return makeError("--attention=flash fuses the attention core; it does "
                     "not combine with --as-written");
  if (!CheckpointLayers.empty() && W.Checkpoint == CheckpointPolicy::None)
    return makeError("--checkpoint-layers needs --checkpoint=selective or "
                     "--checkpoint=full");
  if (Error E = AO.validate())
    return std::move(E);
  return AO;
}

Expected<ReportOptions> buildReportOptions() {
  ReportOptions RO;
  RO.Format = ReportFormat;
  Expected<int64_t> N = parseIntFlag("-n", TopNodes, 0);
  if (!N)
    return N.takeError();
  RO.TopNodes = static_cast<unsigned>(std::min<int64_t>(*N, UINT32_MAX));
  return RO;
}

/// Opens Path for writing ("-": stdout), kept only if keep() is called;
/// What ("output", "trace") names it in the error.
Expected<std::unique_ptr<ToolOutputFile>> openOutput(StringRef Path,
                                                     StringRef What) {
  if (Path != "-" && sys::fs::equivalent(Path, inputPath()))
    return makeError("the " + What + " file '" + Path +
                     "' is the model itself; refusing to overwrite it");
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
  std::string File = inputPath() == "-" ? std::string("<stdin>") : inputPath();
  Diagnostics Diags;
  StageTimers Timers{TimePasses};
  LoadOptions Load;
  /// The options of the run in progress: one of Variants.
  AnalysisOptions Analysis;
  CostOptions Cost;
  ReportOptions Report;
  /// --trace's file, opened before the run, kept when it succeeds.
  std::unique_ptr<ToolOutputFile> Trace;
  std::unique_ptr<ParsedModel> Parsed;
  /// --html: opened before any work, kept on success.
  std::unique_ptr<ToolOutputFile> Html;
  /// Each combination of the what-if lists, and its options.
  std::vector<WhatIf> WhatIfs;
  std::vector<std::pair<AnalysisOptions, CostOptions>> Variants;
  /// --diff: the other model.
  std::unique_ptr<ParsedModel> ParsedB;

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
    auto P = ParsedModel::parse(inputPath(), Load);
    StageTimers::stop(T);
    if (!P)
      return describeLoadError(P.takeError());
    Parsed = std::move(*P);
    return Error::success();
  }

  /// Reads the model of --diff, unless it is the input (parsed once; B's
  /// runs then build from the input's parse).
  Error parseB() {
    if (DiffWith == inputPath())
      return Error::success();
    Timer *T = Timers.start("parse", "parse (--diff)");
    auto P = ParsedModel::parse(DiffWith, Load);
    StageTimers::stop(T);
    if (!P)
      return prefixError("--diff " + DiffWith + ": ",
                         describeLoadError(P.takeError()));
    ParsedB = std::move(*P);
    return Error::success();
  }

  /// The IR for Load's binding (of the input, or of From).
  Expected<std::unique_ptr<Model>> build(StringRef TimerDesc,
                                         const ParsedModel *From = nullptr) {
    Timer *T = Timers.start("build", TimerDesc);
    auto M = (From ? From : Parsed.get())->build(Load, Diags);
    StageTimers::stop(T);
    if (!M)
      return describeLoadError(M.takeError());
    return M;
  }

  /// --trace and --html, opened before any work so that a path that
  /// cannot be written fails at once (kept only if the run succeeds).
  Error openSideOutputs() {
    if (!TraceFile.empty()) {
      auto T = openOutput(TraceFile, "trace");
      if (!T)
        return T.takeError();
      Trace = std::move(*T);
    }
    if (!HtmlFile.empty()) {
      auto H = openOutput(HtmlFile, "HTML");
      if (!H)
        return H.takeError();
      Html = std::move(*H);
    }
    return Error::success();
  }
  /// The options of every combination of the what-if lists, all checked
  /// before the first run; the first in use.
  Error buildVariants() {
    for (const WhatIf &W : WhatIfs) {
      auto C = buildCostOptions(W);
      if (!C)
        return C.takeError();
      auto A = buildAnalysisOptions(*C, W);
      if (!A)
        return A.takeError();
      Variants.emplace_back(std::move(*A), std::move(*C));
    }
    useVariant(0);
    return Error::success();
  }

  Error analyse(ArrayRef<PipelineStep> Steps, raw_ostream &OS,
                const TimelineResult::Fit *Searched = nullptr,
                const CostResult *WithFormula = nullptr,
                function_ref<bool(const CostContext &)> Accept = nullptr,
                bool *Accepted = nullptr);
  Error formula(ArrayRef<PipelineStep> Steps, raw_ostream &OS);
  Error fit(ArrayRef<PipelineStep> Steps, raw_ostream &OS);
  Error sweep(ArrayRef<Binding> Bindings, ArrayRef<PipelineStep> Steps,
              raw_ostream &OS);
  Error diff(ArrayRef<Binding> Bindings, ArrayRef<PipelineStep> Steps,
             raw_ostream &OS);
  /// One run of Load's binding with variant V, summarised.
  Expected<SweepPoint> point(size_t V, ArrayRef<PipelineStep> Steps,
                             const ParsedModel *From = nullptr);
  void useVariant(size_t V) {
    Analysis = Variants[V].first;
    Cost = Variants[V].second;
  }
};

/// One binding: Steps, then the IR, the report and the trace as the flags
/// ask.
/// With Accept: nothing is printed unless it accepts the run (*Accepted
/// says which).
Error ToolRun::analyse(ArrayRef<PipelineStep> Steps, raw_ostream &OS,
                       const TimelineResult::Fit *Searched,
                       const CostResult *WithFormula,
                       function_ref<bool(const CostContext &)> Accept,
                       bool *Accepted) {
  auto M = build("build IR, bind dims");
  if (!M)
    return M.takeError();
  CostContext Ctx(**M, Analysis, Cost, Diags);
  PassManager PM(Ctx, Timers.instrumentation());
  if (Error E = PM.runPipeline(Steps, OS))
    return E;
  if (Accept) {
    *Accepted = Accept(Ctx);
    if (!*Accepted)
      return Error::success();
  }
  if (WithFormula) {
    Ctx.Cost.FormulaLayer = WithFormula->FormulaLayer;
    Ctx.Cost.FormulaPerLayer = WithFormula->FormulaPerLayer;
    Ctx.Cost.FormulaTotal = WithFormula->FormulaTotal;
  }
  if (Searched && Ctx.Timeline.FitResult) {
    Ctx.Timeline.FitResult->Dim = Searched->Dim;
    Ctx.Timeline.FitResult->Max = Searched->Max;
    Ctx.Timeline.FitResult->ModelLimit = Searched->ModelLimit;
  }
  if (PrintIR)
    printIR(*Ctx.M.Main, OS);
  if (!PrintIR && Passes.empty()) {
    Timer *T = Timers.start("report", "report views");
    printReport(Ctx, Report, OS);
    if (Html)
      writeHtml(Ctx, Html->os());
    StageTimers::stop(T);
  }
  if (Trace)
    writeTrace(Ctx, Trace->os());
  return Error::success();
}

Expected<SweepPoint> ToolRun::point(size_t V, ArrayRef<PipelineStep> Steps,
                                    const ParsedModel *From) {
  useVariant(V);
  auto M = build("build IR, bind dims (per binding)", From);
  if (!M)
    return M.takeError();
  CostContext Ctx(**M, Analysis, Cost, Diags);
  PassManager PM(Ctx, Timers.instrumentation());
  if (Error E = PM.runPipeline(Steps, nulls()))
    return std::move(E);
  SweepPoint P = makeSweepPoint(Ctx);
  P.Options = WhatIfs[V].Columns;
  return std::move(P);
}

/// Every binding and every combination of the what-if lists through every
/// pass (Steps, the default pipeline), one summary row each.
Error ToolRun::sweep(ArrayRef<Binding> Bindings, ArrayRef<PipelineStep> Steps,
                     raw_ostream &OS) {
  std::vector<SweepPoint> Points;
  for (const Binding &B : Bindings)
    for (size_t V = 0; V < Variants.size(); ++V) {
      Load.Dims = B;
      auto P = point(V, Steps);
      if (!P)
        return P.takeError();
      Points.push_back(std::move(*P));
    }
  printSweep(Points, ReportFormat, OS);
  return Error::success();
}

/// --diff: the input with the first point, the other model with the second
/// (or the only one).
Error ToolRun::diff(ArrayRef<Binding> Bindings, ArrayRef<PipelineStep> Steps,
                    raw_ostream &OS) {
  std::vector<std::pair<size_t, size_t>> Points; // (binding, variant)
  for (size_t B = 0; B < Bindings.size(); ++B)
    for (size_t V = 0; V < Variants.size(); ++V)
      Points.emplace_back(B, V);
  std::pair<size_t, size_t> PA = Points.front(), PB = Points.back();
  Load.Dims = Bindings[PA.first];
  auto A = point(PA.second, Steps);
  if (!A)
    return A.takeError();
  Load.Dims = Bindings[PB.first];
  auto B = point(PB.second, Steps, ParsedB.get());
  if (!B)
    return prefixError("--diff " + DiffWith + ": ", B.takeError());
  printDiff(DiffSide{File, std::move(*A)},
            DiffSide{ParsedB ? DiffWith.getValue() : File, std::move(*B)},
            ReportFormat, OS);
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

/// Each step's live bytes, in order.
std::vector<uint64_t> stepTotals(const CostContext &Ctx) {
  std::vector<uint64_t> T;
  for (const TimelineStep &S : Ctx.Timeline.Steps)
    T.push_back(S.total());
  return T;
}

/// --fit DIM: the largest value of DIM whose peak fits the GPU, each probe
/// from the model parsed once; then the report of that value. First the
/// quadratic model of the timeline (StepQuadratics) from runs at 1, 2 and
/// 3, trusted only when the report's run at its answer matches it step for
/// step and it predicts the next value does not fit: 4 runs in all. When
/// the model fails, doubling then bisection over runs (the peak grows with
/// a batch or sequence dim), reusing the runs already made.
Error ToolRun::fit(ArrayRef<PipelineStep> Steps, raw_ostream &OS) {
  const Binding Base = Load.Dims;
  const int64_t Cap = int64_t(1) << 24;     // the largest value tried
  std::map<int64_t, bool> Known;            // the runs made: value -> fits
  std::vector<std::vector<uint64_t>> First; // step totals at 1, 2, 3
  TimelineResult::Fit Searched;
  Searched.Dim = FitDim;
  // A value past the model's own limit on the dim (a position table of
  // 1024 rows) does not fit either; the limit is reported with the answer.
  auto PastLimit = [&](int64_t V, Error E) -> Expected<bool> {
    Error Rest =
        handleErrors(std::move(E), [&](const DimLimitError &L) -> Error {
          if (!is_contained(L.Dims, FitDim))
            return make_error<DimLimitError>(L);
          Searched.ModelLimit = L.Max;
          return Error::success();
        });
    if (Rest)
      return std::move(Rest);
    return Known[V] = false;
  };
  auto Fits = [&](int64_t V) -> Expected<bool> {
    auto It = Known.find(V);
    if (It != Known.end())
      return It->second;
    if (Searched.ModelLimit && V > *Searched.ModelLimit)
      return Known[V] = false;
    Load.Dims = Base;
    Load.Dims.emplace_back(FitDim, V);
    auto M = build("build IR, bind dims (per --fit probe)");
    if (!M)
      return M.takeError();
    CostContext Ctx(**M, Analysis, Cost, Diags);
    if (Error E = runPipeline(Ctx, Timers.instrumentation()))
      return PastLimit(V, std::move(E));
    if (V == int64_t(First.size()) + 1)
      First.push_back(stepTotals(Ctx));
    return Known[V] = Ctx.Timeline.FitResult && Ctx.Timeline.FitResult->Fits;
  };
  auto Report = [&](int64_t Max, function_ref<bool(const CostContext &)> Accept,
                    bool *Accepted) {
    Searched.Max = Max;
    Load.Dims = Base;
    Load.Dims.emplace_back(FitDim, std::max<int64_t>(Max, 1));
    return analyse(Steps, OS, &Searched, nullptr, Accept, Accepted);
  };

  // The model, where its checks can hold back the report (no printer
  // passes or IR printed before the check).
  if (Passes.empty() && !PrintIR) {
    int64_t Known3 = 0; // the largest of 1, 2, 3 known to fit
    for (int64_t V = 1; V <= 3; ++V) {
      Expected<bool> F = Fits(V);
      if (!F)
        return F.takeError();
      if (!*F)
        return Report(Known3, nullptr, nullptr); // decided by the runs
      Known3 = V;
    }
    Optional<StepQuadratics> Q =
        StepQuadratics::fit(First[0], First[1], First[2]);
    int64_t Guess = Q ? Q->largest(Cost.GpuBytes, Cap) : 0;
    if (Guess == 3) { // the next value is a run of its own
      Expected<bool> F = Fits(4);
      if (!F)
        return F.takeError();
      if (!*F)
        return Report(3, nullptr, nullptr);
    } else if (Guess > 3) {
      bool Accepted = false;
      auto Check = [&](const CostContext &Ctx) {
        bool Fit = Ctx.Timeline.FitResult && Ctx.Timeline.FitResult->Fits;
        Known[Guess] = Fit;
        return Fit && Q->matches(Guess, stepTotals(Ctx)) &&
               (Guess == Cap || !Q->fitsAt(Guess + 1, Cost.GpuBytes));
      };
      if (Error E = Report(Guess, Check, &Accepted)) {
        // Past the model's limit: the search below finds the answer.
        Expected<bool> F = PastLimit(Guess, std::move(E));
        if (!F)
          return F.takeError();
      } else if (Accepted) {
        return Error::success();
      }
    }
  }

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
  return Report(Lo, nullptr, nullptr);
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

/// "f32 (32-bit float), ..., nf4 (...)".
std::string describeFormats(StringRef Lead) {
  std::string S = Lead.str();
  ListSeparator LS;
  for (const StorageFormat &F : storageFormats())
    S += (StringRef(LS) + F.Name + " (" + F.Description + ")").str();
  return S;
}

std::string describeRecipeTerms() {
  return "Override one recipe term, bytes per parameter: " +
         join(recipeTermKeys(), ", ") + " (repeatable)";
}

constexpr const char *Usage =
    "USAGE: vram-opt MODEL [--dim NAME=VALUE ...] [options]\n";

constexpr const char *Examples = R"(
EXAMPLES:
  Does a training step fit, and where does the memory go:
    vram-opt model.onnx --dim batch=8 --dim seq=1024 --loss cross-entropy --gpu L4
  The largest batch that fits an 80 GB GPU:
    vram-opt model.onnx --dim seq=2048 --gpu H100-80GB --fit batch
  What-ifs: checkpointing, flash attention, tensor parallelism, ZeRO:
    vram-opt model.onnx --dim batch=8 --dim seq=4096 --checkpoint selective --attention flash --tp 4 --dp 8 --zero 1
  Fine-tuning with LoRA on a 4-bit base (QLoRA):
    vram-opt model.onnx --dim batch=4 --dim seq=512 --lora 'r=16,targets=.*(q|v)_proj.*' --weight-dtype nf4
  Serving one decode step with an int8 KV cache:
    vram-opt decoder.onnx --mode infer --dim batch=16 --dim past=4095 --kv-dtype int8
  A sweep, as JSON:
    vram-opt model.onnx --dim batch=1,2,4,8 --dim seq=512 --format json

Sizes are bytes, or with a unit: K, M, G, T and KiB, MiB, GiB, TiB are
powers of 1024; KB, MB, GB, TB powers of 1000 (2G = 2GiB = 2147483648).
Documentation: README.md and docs/ (memory.md, planning.md, frontend.md).
)";

/// LLVM's parse errors (written to Text) worded as the tool's: "vram-opt:
/// error: unknown option '--dimm'; did you mean '--dim'?".
void reportParseErrors(StringRef Text, StringRef ProgramName) {
  SmallVector<StringRef, 4> Lines;
  Text.split(Lines, '\n', -1, /*KeepEmpty=*/false);
  std::string Pending;
  auto Flush = [&]() {
    if (!Pending.empty())
      WithColor::error(errs(), "vram-opt") << Pending << '\n';
    Pending.clear();
  };
  for (StringRef L : Lines) {
    L.consume_front(ProgramName);
    L.consume_front(": ");
    L = L.trim();
    StringRef Arg;
    if (L.consume_front("Unknown command line argument '")) {
      Flush();
      Pending =
          ("unknown option '" + L.split('\'').first + "' (see vram-opt --help)")
              .str();
    } else if (L.startswith("Did you mean") && !Pending.empty()) {
      Pending += "; did" + L.drop_front(3).str();
    } else {
      Flush();
      Pending = L.str();
    }
  }
  Flush();
}

/// Parses the flags; false (the errors printed) when they are wrong.
bool parseCommandLine(int Argc, char **Argv) {
  // The options keep a reference to their help.
  static const std::string RecipeHelp = describeRecipes(),
                           OptimizerHelp = describeOptimizers(),
                           RecipeTermHelp = describeRecipeTerms(),
                           GpuHelp = describeGpus(),
                           WeightHelp = describeFormats(
                               "Store the weights in FORMAT: serving, every "
                               "weight (default: as stored); training, the "
                               "frozen ones (a quantised base, QLoRA): "),
                           KVHelp = describeFormats(
                               "Serving: store the KV cache (past and "
                               "present keys and values) in FORMAT (default: "
                               "as stored): ");
  RecipeName.setDescription(RecipeHelp);
  OptimizerName.setDescription(OptimizerHelp);
  RecipeTerms.setDescription(RecipeTermHelp);
  Gpu.setDescription(GpuHelp);
  WeightDType.setDescription(WeightHelp);
  KVDType.setDescription(KVHelp);
  static cl::extrahelp ExampleHelp(Examples);
  cl::HideUnrelatedOptions(ToolCats);
  cl::SetVersionPrinter([](raw_ostream &OS) {
    OS << "vram-opt " << VRAM_OPT_VERSION << "\n  built with LLVM "
       << VRAM_LLVM_VERSION << ", ONNX " << VRAM_ONNX_VERSION << '\n';
  });
  std::string Errors;
  raw_string_ostream ErrorStream(Errors);
  bool OK = cl::ParseCommandLineOptions(
      Argc, Argv,
      "vram-opt: accelerator memory analysis of ONNX transformer models\n\n"
      "  Reads an ONNX model (binary .onnx, textual .onnxtxt, .textproto; '-'\n"
      "  for stdin), binds symbolic dims, propagates shapes and reports where\n"
      "  the memory of training or serving it goes.\n",
      &ErrorStream);
  if (!OK)
    reportParseErrors(ErrorStream.str(), sys::path::filename(Argv[0]));
  return OK;
}

int listPasses() {
  for (const PassInfo &P : allPasses())
    outs() << P.Name << "  " << P.Description << '\n';
  return 0;
}

} // namespace

/// --op-rules: the rule file's ops, installed for the run.
Error loadOpRules() {
  if (OpRules.empty())
    return Error::success();
  auto Buf = MemoryBuffer::getFile(OpRules);
  if (!Buf)
    return makeError(OpRules + ": " + Buf.getError().message());
  return installUserOpRules((*Buf)->getBuffer(), OpRules);
}

/// --html writes the report of one run.
Error checkHtmlFlags(ArrayRef<Binding> Bindings) {
  if (HtmlFile.empty())
    return Error::success();
  if (Bindings.size() > 1)
    return makeError("--html writes the report of one binding; it does not "
                     "combine with a sweep");
  if (PrintIR || !Passes.empty())
    return makeError("--html writes the report; it does not combine with "
                     "--print-ir or --passes");
  if (HtmlFile == "-" && OutputFile == "-")
    return makeError("--html - and the report would both go to standard "
                     "output; write the report with -o FILE");
  return Error::success();
}

int runVramOpt(int Argc, char **Argv) {
  InitLLVM X(Argc, Argv);
  // No argument on a terminal: the usage, not a silent wait on stdin.
  if (Argc == 1 && sys::Process::StandardInIsUserInput()) {
    errs() << Usage
           << "Reads the model from standard input when MODEL is '-'.\n"
              "Run 'vram-opt --help' for the options and examples.\n";
    return 1;
  }
  if (!parseCommandLine(Argc, Argv))
    return 1;
  if (ListPasses)
    return listPasses();

  // Each check in the order the run reaches it: the flags the load needs,
  // the model, the other flags, the output, then each binding.
  ToolRun Run;
  if (InputFiles.size() > 1)
    return Run.fail(
        makeError("one model per run; also given: '" + InputFiles[1] + "'"));
  if (Error E = loadOpRules()) {
    // Errors name the rule file and line ("FILE:LINE: what"), not the model.
    WithColor::error(errs(), "vram-opt") << toString(std::move(E)) << '\n';
    return 1;
  }
  auto Bindings = parseDims();
  if (!Bindings)
    return Run.fail(Bindings.takeError());
  auto Steps = parsePassesFlag();
  if (!Steps)
    return Run.fail(Steps.takeError());
  Run.WhatIfs = parseWhatIfs();
  if (Error E = checkSweepFlags(*Bindings, Run.WhatIfs.size()))
    return Run.fail(std::move(E));
  if (Error E = checkFitFlags(*Bindings, Run.WhatIfs.size()))
    return Run.fail(std::move(E));
  if (Error E = checkHtmlFlags(*Bindings))
    return Run.fail(std::move(E));
  auto Load = buildLoadOptions(Bindings->front());
  if (!Load)
    return Run.fail(Load.takeError());
  Run.Load = std::move(*Load);
  auto Report = buildReportOptions();
  if (!Report)
    return Run.fail(Report.takeError());
  Run.Report = std::move(*Report);
  auto Out = openOutput(OutputFile, "output");
  if (!Out)
    return Run.fail(Out.takeError());
  if (Error E = Run.openSideOutputs())
    return Run.fail(std::move(E));
  if (Error E = Run.parse())
    return Run.fail(std::move(E));
  if (!DiffWith.empty())
    if (Error E = Run.parseB())
      return Run.fail(std::move(E));
  if (Error E = warnUnusedCostFlags(Run.Diags))
    return Run.fail(std::move(E));
  if (Error E = Run.buildVariants())
    return Run.fail(std::move(E));

  bool Sweep = Bindings->size() > 1 || Run.Variants.size() > 1;
  Error E = !DiffWith.empty() ? Run.diff(*Bindings, *Steps, (*Out)->os())
            : Sweep           ? Run.sweep(*Bindings, *Steps, (*Out)->os())
            : !FitDim.empty() ? Run.fit(*Steps, (*Out)->os())
            : Formula         ? Run.formula(*Steps, (*Out)->os())
                              : Run.analyse(*Steps, (*Out)->os());
  if (E)
    return Run.fail(std::move(E));
  // The report first, then the warnings (stdout is buffered, stderr not).
  (*Out)->os().flush();
  Run.printWarnings();
  (*Out)->keep();
  if (Run.Trace)
    Run.Trace->keep();
  if (Run.Html)
    Run.Html->keep();
  return 0;
}

} // namespace vram

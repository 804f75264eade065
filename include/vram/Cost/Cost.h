//===- Cost.h - Bytes by category, and the step's timeline ------*- C++ -*-===//
//
// The cost passes price what the analyses found: parameters with the
// recipe's per-parameter terms, saved activations (train) or the forward
// working set (infer), and the liveness timeline of a step with its peak.
// CostContext extends the AnalysisContext with their options and results.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_COST_COST_H
#define VRAM_COST_COST_H

#include "vram/Analysis/Analysis.h"
#include "vram/Analysis/OpRegistry.h"
#include "vram/Cost/Recipes.h"

#include "llvm/ADT/Optional.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <map>
#include <string>
#include <vector>

namespace vram {

enum class Mode { Train, Infer };
/// "train" or "infer".
const char *modeName(Mode M);

/// Where a per-parameter term is counted.
enum class TermCategory { Parameters, Gradients, OptimizerState };
/// "parameters", "gradients" or "optimizer_state".
const char *termCategoryName(TermCategory C);

/// The phases of a training step.
enum class Phase { Forward, Backward, Optimizer };
/// "forward", "backward" or "optimizer".
const char *phaseName(Phase P);

struct CostOptions {
  Mode RunMode = Mode::Train;
  /// Precision recipe and optimizer (see lib/Cost/Recipes.cpp).
  std::string Recipe = "mixed";
  std::string Optimizer = "adam";
  /// Overrides the recipe's dtype for floating-point activations.
  llvm::Optional<DType> ActivationDType;
  /// Per-term overrides, bytes per parameter: weights, master_weights,
  /// gradients, master_gradients, optimizer_state.
  std::vector<std::pair<std::string, double>> TermOverrides;
  /// Storage formats (lib/Cost/Recipes.cpp) of the weights and of the KV
  /// cache; empty: training prices weights by the recipe, serving as
  /// stored. In training the weight format applies to frozen weights only
  /// (a quantised base, QLoRA); the KV format applies to serving.
  std::string WeightFormat, KVFormat;
  /// Serving: each present key/value output is written into its past
  /// input's buffer (ONNX Runtime's past_present_share_buffer), so the cache
  /// is held once: past inputs live to the end, a present output adds only
  /// what it has beyond its past.
  bool KVShared = false;
  /// Framework overhead (CUDA context and workspace), bytes.
  uint64_t OverheadBytes = 400ull << 20;
  /// Data-parallel ranks and the ZeRO stage (ZeRO paper, Rajbhandari et al.
  /// 2020): 1 shards the optimizer's f32 copies (master weights, master
  /// gradients, optimizer state) over the ranks, 2 also the gradients, 3
  /// also the weights. Figures are per GPU.
  unsigned DataParallel = 1;
  unsigned ZeroStage = 0;
  /// Pipeline parallelism (train): the layers split into PipelineParallel
  /// stages (assignStages), run with the 1F1B schedule over MicroBatches
  /// micro-batches (0: as many as stages, the fewest that fill the
  /// pipeline); stage i holds min(stages - i, micro-batches) micro-batches
  /// of saved activations. The bound batch dim is the micro-batch.
  unsigned PipelineParallel = 1;
  unsigned MicroBatches = 0;
  /// The accelerator's memory, bytes (0: no fit question), and its name
  /// as given ("A100-80GB", "24GiB").
  uint64_t GpuBytes = 0;
  std::string GpuName;

  /// Checks the recipe, the optimizer, each term override's key and the
  /// storage formats against the tables of vram/Cost/Recipes.h, in that
  /// order, then the data parallel degree and the ZeRO stage.
  llvm::Error validate() const;
  /// The dtype of floating-point activations: ActivationDType, else the
  /// recipe's in training, None (as stored) in serving; None when the
  /// recipe is unknown.
  llvm::Optional<DType> activationDType() const;
};

/// A GPU memory size: a preset name (A100-40GB, A100-80GB, H100-80GB, H200,
/// L4, RTX4090, MI300X; any case) or a size as parseSize reads it ("24GiB",
/// "24GB"); or "unknown GPU 'X' (presets: ...; or a size such as 24GiB)".
llvm::Expected<uint64_t> parseGpu(llvm::StringRef Text);
/// Fits each figure Eval returns (bytes) as a polynomial of degree at most
/// 2 in each of Dims (name, bound value), from evaluations at 1, 2 and 3
/// times the bound values, checked at 3 times plus 1: "20*batch*seq^2 +
/// 2192*batch*seq", or "not a polynomial of degree <= 2 in each dim".
llvm::Expected<std::vector<std::string>>
fitFormulas(llvm::ArrayRef<std::pair<std::string, int64_t>> Dims,
            llvm::function_ref<
                llvm::Expected<std::vector<uint64_t>>(llvm::ArrayRef<int64_t>)>
                Eval);

/// --fit's model of the timeline over one dim: each step's live bytes at
/// the dim's values 1, 2 and 3, extended as the quadratic through them
/// (exact where every tensor's size is a polynomial of degree <= 2 in the
/// dim, as batch and sequence sizes are); checked against a run at a fresh
/// value before it is trusted.
class StepQuadratics {
public:
  /// None when the runs have different numbers of steps.
  static llvm::Optional<StepQuadratics> fit(llvm::ArrayRef<uint64_t> Y1,
                                            llvm::ArrayRef<uint64_t> Y2,
                                            llvm::ArrayRef<uint64_t> Y3);
  /// Whether the predicted peak at V is at most Limit.
  bool fitsAt(int64_t V, uint64_t Limit) const;
  /// The largest V in [1, Cap] that fits, assuming the peak grows with V
  /// (doubling, then bisection); 0 when not even 1 does.
  int64_t largest(uint64_t Limit, int64_t Cap) const;
  /// Whether every step's prediction at V equals Actual.
  bool matches(int64_t V, llvm::ArrayRef<uint64_t> Actual) const;

private:
  /// Per step: the value at 1, the first and the second difference.
  std::vector<int64_t> A, D1, D2;
};

/// The presets, name and bytes, in the order of the help.
llvm::ArrayRef<std::pair<const char *, uint64_t>> gpuPresets();

// Parsers for the values of CostOptions given as text (their errors name no
// command-line flag).
/// "400MiB", "1.5GiB", "2G", "24GB", "1024": a size in bytes (K, M, G, T and
/// KiB, MiB, GiB, TiB powers of 1024; KB, MB, GB, TB powers of 1000; B), or
/// "invalid size 'S' (examples: ...)".
llvm::Expected<uint64_t> parseSize(llvm::StringRef S);
/// A floating-point dtype for ActivationDType ("f16", "bf16", ...), or
/// "'NAME' is not a floating-point dtype".
llvm::Expected<DType> parseActivationDType(llvm::StringRef Name);
/// "TERM=BYTES" with BYTES a number >= 0: one of TermOverrides (the key is
/// checked by validate()), or "expected TERM=BYTES".
llvm::Expected<std::pair<std::string, double>>
parseTermOverride(llvm::StringRef Text);

/// One line of the recipe: a per-parameter term.
struct RecipeTerm {
  std::string Key;  ///< "weights", "master_weights", "gradients", ...
  std::string Name; ///< "weights (f16)", "master weights (f32)", ...
  TermCategory Category = TermCategory::Parameters;
  double BytesPerParam = 0;
  /// The term's bytes (the parameters it applies to times BytesPerParam, or
  /// for weights each parameter in the dtype it is priced in).
  uint64_t Bytes = 0;
};

struct CostResult {
  Mode RunMode = Mode::Train;
  std::string Recipe;
  std::string Optimizer;
  /// Floating-point activations are stored in this (or narrower) dtype;
  /// Undefined: as stored (serving without --activation-dtype).
  DType ActivationType = DType::Float16;
  /// The storage formats of CostOptions (null: none given).
  const StorageFormat *WeightFormat = nullptr, *KVFormat = nullptr;
  /// Serving with CostOptions::KVShared: present output -> the past input
  /// whose buffer it is written into (empty when not shared).
  llvm::DenseMap<const Value *, const Value *> KVSharedPast;
  /// Bytes of a storage in serving's working set: workingSetBytes, less the
  /// past buffer a present output is written into.
  uint64_t servingBytes(const Value &S) const;
  std::vector<RecipeTerm> Terms;
  uint64_t ParamCount = 0;        ///< trainable + frozen, each storage once
  uint64_t TrainableCount = 0;    ///< requires grad
  uint64_t ParamBytesInGraph = 0; ///< in the graph's own dtypes
  /// Non-trainable float initializers (buffers), in totals.parameters.
  uint64_t BufferBytes = 0;
  uint64_t Parameters = 0, Gradients = 0, OptimizerState = 0;
  uint64_t Activations = 0; ///< saved for backward (train) or working set
  uint64_t Overhead = 0;
  /// Train: the optimizer step's transient bytes (its temporaries for the
  /// largest trainable parameter, in f32).
  uint64_t OptimizerStepTransient = 0;
  std::map<std::string, uint64_t> ActivationsByDType;
  /// Train: saved bytes by what they are (the consumer's registry row).
  uint64_t SavedByKind[NumSavedKinds] = {};
  /// Train: the priced bytes and dtype of each saved tensor (parallel to
  /// SavedResult::Tensors; 0 bytes when its shape is not concrete).
  std::vector<uint64_t> SavedBytes;
  std::vector<DType> SavedPricedTy;
  uint64_t savedBytes(size_t I) const {
    return I < SavedBytes.size() ? SavedBytes[I] : 0;
  }
  /// Checkpointing: the priced bytes of each recomputed tensor (parallel to
  /// SavedResult::Recomputed), their sum, and the most one region holds.
  std::vector<uint64_t> RecomputedBytes;
  uint64_t Recomputed = 0, LargestRecomputedRegion = 0;
  DType savedPricedTy(size_t I) const {
    return I < SavedPricedTy.size() ? SavedPricedTy[I] : DType::Undefined;
  }
  /// Inference: the working set's peak and where it happens.
  uint64_t WorkingSetPeak = 0;
  const Node *WorkingSetPeakNode = nullptr;
  /// Per node (main graph, by node id): bytes attributed to it.
  std::vector<uint64_t> NodeBytes;
  unsigned UnpricedTensors = 0;

  /// Repeated blocks (by name scope), in order of first appearance.
  struct Layer {
    std::string Name;
    unsigned Nodes = 0;
    uint64_t Bytes = 0;
  };
  std::vector<Layer> Layers;
  /// Bytes kept of graph inputs (train: saved inputs such as token ids).
  uint64_t InputBytes = 0;
  /// Data parallelism (CostOptions): ranks and ZeRO stage.
  unsigned DataParallel = 1, ZeroStage = 0;
  /// --formula: the saved bytes of one layer (FormulaLayer) and of the
  /// model as polynomials in the symbolic dims; empty without it.
  std::string FormulaLayer, FormulaPerLayer, FormulaTotal;
  /// Tensor parallelism (AnalysisOptions): counts, bytes and the timeline
  /// are per GPU.
  unsigned TensorParallel = 1;
  bool SequenceParallel = false;
  /// Pipeline parallelism (CostOptions): the stages, each with its own
  /// parameter side and saved bytes; the timeline pass adds each stage's
  /// peak, picks the worst stage (the largest peak, the first on a tie) and
  /// puts its figures in the totals above (per GPU). Empty with one stage.
  struct Stage {
    std::vector<std::string> Layers;
    unsigned InFlight = 1; ///< micro-batches of saved activations held
    uint64_t ParamCount = 0, TrainableCount = 0, BufferBytes = 0;
    uint64_t Parameters = 0, Gradients = 0, OptimizerState = 0;
    uint64_t OptimizerStepTransient = 0;
    /// The weights term's bytes and the frozen weights' in a storage format.
    uint64_t WeightBytes = 0, FormatBytes = 0;
    uint64_t Saved = 0;       ///< saved bytes of one micro-batch
    uint64_t Activations = 0; ///< Saved x InFlight
    uint64_t Peak = 0;        ///< the timeline's peak of the stage
  };
  std::vector<Stage> Stages;
  std::vector<unsigned> NodeStage; ///< by node index, with Stages
  unsigned PipelineParallel = 1, MicroBatches = 1, WorstStage = 0;
  /// The first global rank of the worst stage (Megatron's order: tensor
  /// ranks fastest, then data, then pipeline): stage x tp x dp.
  unsigned worstRank() const {
    return WorstStage * TensorParallel * DataParallel;
  }
};

/// What is live at one instant of the training step, by category.
enum class LiveCat : unsigned {
  Parameters,
  Gradients,
  OptimizerState,
  SavedActivations,
  ActivationGradients,
  Temporaries,
  KVCache,
  Overhead,
};
constexpr unsigned NumLiveCats = 8;
const char *liveCatName(LiveCat C);

struct TimelineStep {
  vram::Phase Phase = Phase::Forward;
  const Node *N = nullptr; ///< nullptr for the optimizer step
  /// Live bytes by category right after the step's allocations (the most
  /// the step holds), before its frees.
  uint64_t Live[NumLiveCats] = {};
  uint64_t total() const {
    uint64_t T = 0;
    for (uint64_t B : Live)
      T += B;
    return T;
  }
};

struct TimelineResult {
  std::vector<TimelineStep> Steps;
  size_t PeakStep = 0;
  uint64_t PeakBytes = 0;
  /// Peaks above the persistent parameter side (parameters, optimizer state
  /// and overhead), per phase: what the activations add.
  uint64_t ForwardPeakAboveParams = 0;
  uint64_t BackwardPeakAboveParams = 0;
  /// Inference: bytes of the KV cache inputs (past keys and values).
  uint64_t KVCacheBytes = 0;
  /// Inference: bytes of the KV cache outputs (present keys and values).
  uint64_t KVPresentBytes = 0;
  /// Saved bytes still live once the backward is done; an invariant says 0
  /// (every saved tensor is freed by the backward step of its consumer).
  uint64_t SavedLeftAfterBackward = 0;
  /// With CostOptions::GpuBytes: the peak against the GPU's memory.
  struct Fit {
    std::string Gpu;
    uint64_t GpuBytes = 0;
    bool Fits = false;
    /// GPU bytes minus the peak (negative: the shortfall).
    int64_t HeadroomBytes = 0;
    /// --fit: the symbolic dim searched and its largest value that fits
    /// (0: not even 1); the report is for that value (or 1).
    std::string Dim;
    int64_t Max = 0;
    /// The most the model itself allows for Dim (a fixed-size table or
    /// buffer), when a probe went past it.
    llvm::Optional<int64_t> ModelLimit;
  };
  llvm::Optional<Fit> FitResult;
};

/// The analysis context with the cost passes' options and results.
struct CostContext : AnalysisContext {
  CostContext(Model &M, const AnalysisOptions &Opts,
              const CostOptions &CostOpts, Diagnostics &Diags)
      : AnalysisContext(M, Opts, Diags), CostOpts(CostOpts) {}
  const CostOptions &CostOpts;
  CostResult Cost;
  TimelineResult Timeline;
};

// The cost passes and their printers (registered in
// vram/Pipeline/Passes.def).
llvm::Error runCost(CostContext &Ctx);
void printCost(CostContext &Ctx, llvm::raw_ostream &OS);
llvm::Error runTimeline(CostContext &Ctx);
void printTimeline(CostContext &Ctx, llvm::raw_ostream &OS);

} // namespace vram

#endif // VRAM_COST_COST_H

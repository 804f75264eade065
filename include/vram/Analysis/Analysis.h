//===- Analysis.h - The graph analyses and their context --------*- C++ -*-===//
//
// The analysis passes (shape inference, fusion, requires-grad, alias, saved)
// each `Error run(AnalysisContext &)`, configured by AnalysisOptions; none
// reads a command-line flag. The registry that names them, orders them by
// their declared requirements and prints them is in vram/Pipeline.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_ANALYSIS_ANALYSIS_H
#define VRAM_ANALYSIS_ANALYSIS_H

#include "vram/Analysis/Results.h"
#include "vram/IR/Graph.h"
#include "vram/Support/Diagnostics.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Optional.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Error.h"

#include <map>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace vram {

/// The loss the training step computes from the model's output.
enum class LossKind {
  None,        ///< not priced: each float output's gradient seeds the backward
  Mean,        ///< logits.mean()
  CrossEntropy ///< F.cross_entropy(logits, labels), as Hugging Face computes it
};
/// "none", "mean" or "cross-entropy".
const char *lossKindName(LossKind K);

/// Where PyTorch's autocast runs (its policy lists differ).
enum class AutocastDevice { None, CUDA, CPU };
/// Activation checkpointing (docs/planning.md): none; the attention core of
/// each layer recomputed in backward (Korthikanti et al. 2022, selective);
/// or each layer kept as its input and recomputed whole (full).
enum class CheckpointPolicy { None, Selective, Full };
/// How the attention core (QK^T through scores x V) runs: as written, or
/// as one flash kernel keeping Q, K, V, its output and the log-sum-exp.
enum class AttentionKernel { Eager, Flash };

/// What the graph is: a forward to differentiate, or one that already holds
/// its backward (priced by liveness as written); Auto decides by the rule
/// of lib/Analysis/GraphKind.cpp.
enum class GraphKind { Auto, Forward, Backward };
/// "auto", "forward" or "backward".
const char *graphKindName(GraphKind K);

struct AnalysisOptions {
  /// Unknown ops, unpriced tensors and other soft problems become errors.
  bool Strict = false;
  /// Forward, backward, or decided by the rule (graph-kind pass).
  GraphKind Kind = GraphKind::Auto;
  /// Price exporter-decomposed kernels as the kernel (false: the graph as
  /// written, node by node).
  bool Fusion = true;
  /// Parameters whose names match this regex are frozen (no gradient, no
  /// optimizer state; they save nothing for their own gradient).
  std::string FreezeRegex;
  /// Only parameters whose names match this regex are trainable (LoRA
  /// adapters always are); empty: every parameter not frozen (with LoRA:
  /// none of the base).
  std::string TrainableRegex;
  /// LoRA (Hu et al. 2021; PEFT's LoraConfig): adapters A [in, r] and B
  /// [r, out] added to each linear layer whose weight's name matches
  /// Targets, y + (dropout(x) A B) * Alpha / Rank, the base frozen. Rank
  /// 0: off.
  struct LoraOptions {
    unsigned Rank = 0;
    double Alpha = 8;
    double Dropout = 0;
    std::string Targets;
  } Lora;
  /// The loss added to the graph (unless the graph computes its own).
  LossKind Loss = LossKind::None;
  /// The output it is computed from; empty: the first float output.
  std::string LossOutput;
  /// Cross-entropy upcasts narrower logits to f32 first (Hugging Face's
  /// logits.float()).
  bool LossUpcast = true;
  /// Autocast (mixed precision as torch.autocast runs it): each op runs in
  /// the dtype its policy class gives on this device, AutocastDType for the
  /// lower-precision ones; None: off.
  AutocastDevice Autocast = AutocastDevice::None;
  DType AutocastDType = DType::Float16;
  /// Under autocast, buffers (masks, rotary tables) meeting an activation
  /// take its dtype, as models that cast them with .to(x.dtype) next to the
  /// op do (an fp32 export drops that cast); false: they keep f32 and widen
  /// the op (models that cast them to the fp32 residual stream's dtype).
  bool AutocastBuffersFollow = true;
  /// The dtype floating-point activations are stored in (the precision
  /// recipe's); None: the graph's own.
  llvm::Optional<DType> ActivationDType;
  CheckpointPolicy Checkpoint = CheckpointPolicy::None;
  /// Checkpoint only the layers whose names match this regex (anchored);
  /// empty: every layer.
  std::string CheckpointLayers;
  AttentionKernel Attention = AttentionKernel::Eager;
  /// Tensor-parallel degree (Megatron layout, propagated from the linear
  /// layers) and sequence parallelism over the same ranks.
  unsigned TensorParallel = 1;
  bool SequenceParallel = false;

  /// Checks that FreezeRegex, TrainableRegex, the LoRA targets and
  /// CheckpointLayers are valid regular expressions, that CheckpointLayers
  /// comes with a policy and that LoRA's rank, alpha and dropout make
  /// sense.
  llvm::Error validate() const;
};

/// "r=R[,alpha=A][,dropout=P],targets=REGEX" (any order; targets takes the
/// rest of the text after it, commas included) as LoRA options, or an
/// error naming the part that is wrong. alpha defaults to 8 and dropout to
/// 0, as PEFT's LoraConfig.
llvm::Expected<AnalysisOptions::LoraOptions>
parseLoraSpec(llvm::StringRef Spec);

/// A shape error that a model's own fixed size explains (a position table
/// of 1024 rows, an 8 x 8 mask buffer): the symbolic dims bound to the value
/// that does not fit (Dims) can be at most Max. message() is the whole
/// error, origin and limit included. The planner's --fit reads a probe that
/// fails this way as a value that does not fit.
class DimLimitError : public llvm::ErrorInfo<DimLimitError> {
public:
  static char ID;
  DimLimitError(std::string Message, std::vector<std::string> Dims, int64_t Max)
      : Message(std::move(Message)), Dims(std::move(Dims)), Max(Max) {}
  std::string Message;
  std::vector<std::string> Dims;
  int64_t Max;
  void log(llvm::raw_ostream &OS) const override { OS << Message; }
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }
};

/// What the passes share: the model, options, diagnostics and the results
/// of earlier passes.
struct AnalysisContext {
  AnalysisContext(Model &M, const AnalysisOptions &Opts, Diagnostics &Diags)
      : M(M), Opts(Opts), Diags(Diags) {}
  virtual ~AnalysisContext() = default;
  Model &M;
  const AnalysisOptions &Opts;
  Diagnostics &Diags;

  /// Filled by graph-kind: the graph already holds its backward (priced by
  /// liveness as written, never differentiated again), and why.
  bool BackwardGraph = false;
  std::string GraphKindReason;
  /// Filled by shape-inference: values (of any graph) without a concrete
  /// shape after propagation, in topological order.
  std::vector<const Value *> Unpriced;
  FusionResult Fusion;
  /// Values (main graph) that require grad.
  llvm::DenseSet<const Value *> RequiresGrad;
  /// Value -> the value owning its storage (itself unless a view).
  llvm::DenseMap<const Value *, const Value *> StorageOf;
  SavedResult Saved;
  /// Filled by the loss pass.
  LossResult Loss;
  /// Filled by the lora pass.
  LoraResult Lora;
  /// Filled by the autocast pass: the casts it inserted.
  std::vector<const Node *> AutocastCasts;
  /// Tensor parallelism: storages (activations and parameters) split over
  /// the ranks, with the number of parts; absent: replicated.
  llvm::DenseMap<const Value *, unsigned> Shards;
  /// Ops whose input is split along a dim they reduce over (reported).
  std::map<std::string, unsigned> Unshardable;

  unsigned shards(const Value *V) const {
    auto It = Shards.find(storage(V));
    return It == Shards.end() ? 1 : It->second;
  }
  const Value *storage(const Value *V) const {
    auto It = StorageOf.find(V);
    return It == StorageOf.end() ? V : It->second;
  }
};

/// N's output 0 is a view of its input 0 (PyTorch view semantics, from the
/// op's registry row and, for the conditional kinds, the node's operands).
bool outputIsView(const Node &N);

/// What one backward step differentiates: a node, or a fused group at the
/// node producing the group's output (its other members have no step).
struct GradientUnit {
  const Node *N = nullptr;
  llvm::SmallVector<Value *, 4> Inputs, Outputs;
  const FusedGroup *Group = nullptr;
  /// The op's registry row (the kernel's, for a group); null when unknown.
  const struct OpInfo *Op = nullptr;
  /// The op as priced: the kernel of a group, else the node's op type.
  std::string OpType;
};
/// N's gradient unit; None for an interior node of a fused group.
llvm::Optional<GradientUnit> gradientUnit(const AnalysisContext &Ctx,
                                          const Node &N);

/// A pattern of the fusion pass: the kernel it produces (a "vram" row of
/// the op registry) and the op it is anchored on. A what-if pattern
/// (flash attention) runs only when its option asks for it.
struct FusionPatternInfo {
  const char *Name;
  const char *Kernel;
  const char *Anchor;
  bool FlashOnly = false;
  /// The anchor's domain ("" for ai.onnx).
  const char *AnchorDomain = "";
};
llvm::ArrayRef<FusionPatternInfo> fusionPatterns();

/// The attention cores of the main graph written out (QK^T MatMul, scale,
/// masks, Softmax, Dropout, scores x V MatMul), as groups that are not
/// registered as fused (inputs: Q, K, V, then masks; output: scores x V).
std::vector<FusedGroup> findAttentionCores(const AnalysisContext &Ctx);

/// The layer scope in a name ("h.0", "layer.3", "layers_12", "block_2"),
/// or "" when it has none.
std::string layerKey(llvm::StringRef Name);
/// The layer of each node of G (by index in G.Nodes): its scope from its
/// name, its outputs' or its parameters' names; a node without one belongs
/// to the layer before it unless it reads a parameter outside every layer
/// (a final norm, a head), which starts "(other)".
std::vector<std::string> assignLayers(const Graph &G);
/// Pipeline stages (--pp): the layers of assignLayers ("(other)" is not a
/// layer), in order of first appearance, split into NumStages contiguous
/// groups, the first (layers % NumStages) groups one layer longer; a node
/// outside every layer is on the stage of the last layer before it (the
/// first stage before any): embeddings on the first stage, the final norm,
/// the head and the loss on the last.
struct StageAssignment {
  std::vector<unsigned> NodeStage;              ///< by index in G.Nodes
  std::vector<std::vector<std::string>> Layers; ///< each stage's layers
};
/// An error when the graph has fewer layers than NumStages.
llvm::Expected<StageAssignment> assignStages(const Graph &G,
                                             unsigned NumStages);

// The analysis passes and their printers (registered in
// vram/Pipeline/Passes.def).
llvm::Error runGraphKind(AnalysisContext &Ctx);
void printGraphKind(AnalysisContext &Ctx, llvm::raw_ostream &OS);
llvm::Error runShapeInference(AnalysisContext &Ctx);
void printShapes(AnalysisContext &Ctx, llvm::raw_ostream &OS);
llvm::Error runFusion(AnalysisContext &Ctx);
void printFusion(AnalysisContext &Ctx, llvm::raw_ostream &OS);
llvm::Error runRequiresGrad(AnalysisContext &Ctx);
void printRequiresGrad(AnalysisContext &Ctx, llvm::raw_ostream &OS);
llvm::Error runAlias(AnalysisContext &Ctx);
void printAlias(AnalysisContext &Ctx, llvm::raw_ostream &OS);
llvm::Error runAutocast(AnalysisContext &Ctx);
void printAutocast(AnalysisContext &Ctx, llvm::raw_ostream &OS);
llvm::Error runLora(AnalysisContext &Ctx);
void printLora(AnalysisContext &Ctx, llvm::raw_ostream &OS);
llvm::Error runLoss(AnalysisContext &Ctx);
void printLoss(AnalysisContext &Ctx, llvm::raw_ostream &OS);
llvm::Error runSaved(AnalysisContext &Ctx);
void printSaved(AnalysisContext &Ctx, llvm::raw_ostream &OS);
/// Activation checkpointing on the saved result (run by the saved pass):
/// moves what the policy recomputes to SavedResult::Recomputed.
llvm::Error applyCheckpointing(AnalysisContext &Ctx);
/// Tensor and sequence parallelism (run by the saved pass, after
/// checkpointing): fills Shards and each saved tensor's Shards.
llvm::Error applyTensorParallel(AnalysisContext &Ctx);

} // namespace vram

#endif // VRAM_ANALYSIS_ANALYSIS_H

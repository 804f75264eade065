//===- OpRegistry.h - Everything the tool knows about each op ---*- C++ -*-===//
//
// One row per (domain, op type, opset range) holds every facet of the op:
//  - Shape: its shape (and small-contents) function;
//  - Save: what its backward keeps (the saved-tensor rule), with the
//    PyTorch autograd formula it follows (Reference);
//  - View: whether its output shares storage with its input (a view, a
//    view of every output, or a view only when the dtype does not change);
//  - Grad: whether gradients flow through it (integer, bool, random and
//    zero-gradient results do not: their outputs never require grad and
//    the timeline gives them no backward step);
//  - Precision, PrecisionCPU: its autocast policy class on CUDA (PyTorch
//    2.x's lists) and on the CPU (PyTorch 1.13's, probed);
//  - Exempt: the facets the row lacks on purpose, and why;
//  - ComputesLoss: the op is a training loss;
//  - Serving: what serving holds during its step besides its outputs (a
//    generation loop's subgraphs).
// The fused kernels the fusion pass recognises are rows of the domain
// "vram"; a fusion pattern names its kernel's row. How an op behaves in the
// timeline follows from its View and Grad facets and, for a fused group,
// from its kernel's row.
//
// Rows live in the file of their op family (lib/Analysis/Ops/<Family>.cpp)
// next to their functions; the registry gathers them into one table sorted
// by (domain, op type, first version).
//
// Version policy (one for every facet): for an op imported at opset V, the
// row whose range holds V; when V is older than every row's range, the
// oldest row (the op is priced as its first known version: its gradient
// did not change); when V falls between two ranges, the next newer row;
// when V is newer than every range, none.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_ANALYSIS_OPREGISTRY_H
#define VRAM_ANALYSIS_OPREGISTRY_H

#include "vram/Analysis/SavedRules.h"
#include "vram/Analysis/ShapeFunctions.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace vram {

/// How an op's outputs share storage with its input 0 (PyTorch view
/// semantics).
enum class ViewKind : uint8_t {
  None,           ///< the outputs are new storages
  View,           ///< output 0 views input 0 (transpose, squeeze, identity)
  Reshape,        ///< a view, but a copy when input 0 is broadcast (stride 0)
  Broadcast,      ///< a view whose elements may repeat (expand)
  ViewOfPart,     ///< a view of part of input 0 that keeps all of it (slice)
  PartsOf,        ///< every output is a view of part of input 0 that keeps
                  ///< all of it (split, chunk, unbind)
  ViewIfSameType, ///< a view when the dtype does not change (a no-op cast)
  /// A view of part of input 0 when the index (input 1) is a 0-d constant:
  /// Gather with a scalar index is PyTorch's select (x[:, 0]), which
  /// returns a view that keeps all of x alive when saved.
  ViewIfScalarIndex
};

enum class GradKind : uint8_t {
  Differentiable,   ///< gradients flow to the inputs
  NotDifferentiable ///< no gradient (integer/bool/random/zero-gradient)
};

/// The autocast policy class (PyTorch's autocast lists, CUDA).
enum class PrecisionClass : uint8_t {
  LowerPrecision, ///< runs in fp16/bf16: matmul, conv, linear, attention
  FP32,           ///< runs in fp32: softmax, norms, pow, exp/log, sums, losses
  Promote,        ///< runs in the widest input dtype: add, cat, where, ...
  InputType       ///< runs in its inputs' dtype
};

/// What the tensors an op keeps for backward are, for the report's summary
/// of what dominates.
enum class SavedKind : uint8_t {
  Other,
  Attention,  ///< attention scores, probabilities, Q, K, V (fused or not)
  Dropout,    ///< dropout masks
  Activation, ///< MLP activations' inputs (GELU, SiLU, ReLU, ...)
  Norm,       ///< normalisation inputs and statistics
  MatMul,     ///< inputs of matrix products with a weight (projections);
              ///< a product of two activations counts as attention
  Embedding,  ///< embedding indices
  Loss        ///< the loss's log-probabilities and labels
};
constexpr unsigned NumSavedKinds = 8;

/// What serving (--mode=infer) holds during the op's step besides its
/// outputs.
enum class ServingKind : uint8_t {
  Outputs, ///< nothing more
  /// A generation loop (BeamSearch, GreedySearch, Sampling): its step also
  /// holds the largest forward working set of its subgraphs, which its
  /// shape function sizes for the last decoding step (batch x beams rows,
  /// the KV cache at the maximum length). Serving only: a model holding one
  /// has no training step.
  Generation
};

struct OpInfo {
  const char *Domain; ///< "" ai.onnx, "com.microsoft", "vram" (fused kernels)
  const char *OpType;
  int64_t MinVersion; ///< first opset version of the row
  int64_t MaxVersion; ///< last opset version of the row (inclusive)
  ShapeFn Shape;      ///< nullptr only when exempt
  SaveFn Save;        ///< nullptr only when exempt (conservative fallback)
  ViewKind View;
  GradKind Grad;
  PrecisionClass Precision;
  const char *Reference; ///< the PyTorch behaviour the saved rule follows
  const char *Exempt;    ///< "shape: why", "saved: why", or ""
  /// The op computes a training loss (a graph that has one is not given a
  /// second by --loss).
  bool ComputesLoss = false;
  /// Its autocast class on the CPU (PyTorch 1.13's CPU lists, probed with
  /// models/torch/probe_autocast.py): the lower-precision ops are the same
  /// as on CUDA, but most of CUDA's fp32 list (softmax, layer_norm, pow,
  /// exp, ...) runs in its inputs' dtype; only the losses and prod run in
  /// fp32. Rows give it where it differs from Precision.
  PrecisionClass PrecisionCPU = Precision;
  /// What the tensors it keeps are (for the report's summary by kind).
  SavedKind Kind = SavedKind::Other;
  /// What serving holds during its step (lib/Cost/Liveness.cpp).
  ServingKind Serving = ServingKind::Outputs;
  /// It normalises or reduces over the trailing (hidden) dims (LayerNorm,
  /// RMSNorm, mean over the last dim): priced as split all the same when
  /// tensor parallelism splits its input along them, and reported
  /// (lib/Analysis/Sharding.cpp).
  bool ReducesHidden = false;

  bool differentiable() const { return Grad == GradKind::Differentiable; }
};

/// Every row, sorted by (domain, op type, first version).
llvm::ArrayRef<const OpInfo *> allOps();

/// The row for (domain, op type) at opset Version (see the version policy
/// above), or nullptr.
const OpInfo *findOp(llvm::StringRef Domain, llvm::StringRef OpType,
                     int64_t Version);

/// A gradient op (onnxruntime's *Grad ops, YieldOp: a row whose saved rule
/// is the gradient ops' own): a graph holding one is already a backward.
bool isGradientOp(const OpInfo &Row);

/// The registry's op families, each with its rows (for tests and
/// --list-ops).
struct OpFamily {
  const char *Name;
  llvm::ArrayRef<OpInfo> (*Rows)();
};
llvm::ArrayRef<OpFamily> opFamilies();

const char *viewKindName(ViewKind K);
const char *gradKindName(GradKind K);
const char *precisionClassName(PrecisionClass P);
const char *savedKindName(SavedKind K);

} // namespace vram

#endif // VRAM_ANALYSIS_OPREGISTRY_H

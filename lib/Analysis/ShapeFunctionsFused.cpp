//===- ShapeFunctionsFused.cpp - Shape rules for fused and training ops ---===//
//
// Shape functions for the operators that ai.onnx's own tables do not know:
//  - com.microsoft fused inference ops (Attention, MultiHeadAttention,
//    GroupQueryAttention, SkipLayerNormalization, EmbedLayerNormalization,
//    FastGelu, FusedMatMul, ...), following onnxruntime's bert_defs.cc and
//    contrib_defs.cc;
//  - onnxruntime training ops (com.microsoft: YieldOp, ConcatTraining,
//    SoftmaxCrossEntropyLossInternal, the *Grad ops, ...), following
//    orttraining's training_op_defs.cc;
//  - org.pytorch.aten::ATen, dispatched on its 'operator' attribute through
//    a second small table;
//  - ai.onnx ops of opsets 23 and 24 (Attention, RMSNormalization,
//    RotaryEmbedding) and onnxruntime's ai.onnx-domain
//    SimplifiedLayerNormalization.
//
// Where onnxruntime's own inference leaves a dim unknown but the runtime
// shape follows from the schema (present_key of a first MultiHeadAttention
// step, say), the rule computes it. Contents are propagated only for the
// shape-arithmetic outputs (ConcatTraining, BroadcastGradientArgs,
// FlattenAndUnpad's unflatten_dims).
//
//===----------------------------------------------------------------------===//

#include "ShapeHelpers.h"

#include "vram/Analysis/ShapeFunctions.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <algorithm>

using namespace llvm;

namespace vram {

namespace {

using IntVec = SmallVector<int64_t, 8>;
constexpr int64_t Unknown = Shape::Unknown;
constexpr int64_t Any = AnyVersion;

//===----------------------------------------------------------------------===//
// Small helpers
//===----------------------------------------------------------------------===//

Error ok() { return Error::success(); }

bool known(int64_t D) { return D >= 0; }

int64_t addDims(int64_t A, int64_t B) {
  return known(A) && known(B) ? A + B : Unknown;
}

int64_t mulDims(int64_t A, int64_t B) {
  return known(A) && known(B) ? A * B : Unknown;
}

/// A / B when both are known and B divides A, else Unknown.
int64_t divDims(int64_t A, int64_t B) {
  if (!known(A) || !known(B) || B == 0 || A % B != 0)
    return Unknown;
  return A / B;
}

/// Dim I of S (negative counts from the end); Unknown when the rank is
/// unknown or I is out of range.
int64_t dimAt(const Shape &S, int64_t I) {
  if (!S.hasRank())
    return Unknown;
  int64_t R = static_cast<int64_t>(S.rank());
  if (I < 0)
    I += R;
  if (I < 0 || I >= R)
    return Unknown;
  return S[static_cast<size_t>(I)];
}

/// Rank of input I's shape, or -1 when the input is absent or unranked.
int64_t rankOf(ShapeContext &C, unsigned I) {
  Value *V = C.in(I);
  if (!V || !V->Sh.hasRank())
    return -1;
  return static_cast<int64_t>(V->Sh.rank());
}

Shape shapeOf(ArrayRef<int64_t> Dims) { return Shape(Dims); }

/// Input I's dtype, or Undefined when absent.
DType typeOf(ShapeContext &C, unsigned I) {
  Value *V = C.in(I);
  return V ? V->Ty : DType::Undefined;
}

/// The dtype named by an integer attribute (TensorProto.DataType), or
/// Default when the attribute is absent; an error when it is out of range.
Expected<DType> dtypeAttr(ShapeContext &C, StringRef Name, DType Default) {
  const Attribute *A = C.node().attr(Name);
  if (!A)
    return Default;
  if (A->K != Attribute::Int)
    return C.error("attribute '" + Name + "' must be an int");
  Optional<DType> T = dtypeFromOnnx(A->I);
  if (!T)
    return C.error("attribute '" + Name + "' is not a tensor element type");
  return *T;
}

/// Output Out gets input In's dtype and shape (never its contents: these
/// ops compute new values).
Error sameAs(ShapeContext &C, unsigned Out, unsigned In) {
  if (Error E = C.requireInput(In))
    return E;
  C.setOutput(Out, C.in(In)->Ty, C.in(In)->Sh);
  return ok();
}

/// A shape whose dims are the contents of the 1-D int64 input I ("shape"
/// inputs of the gradient ops); rank only when the contents are unknown.
Shape shapeFromInput(ShapeContext &C, unsigned I) {
  if (Optional<IntVec> Dims = C.ints(I)) {
    Shape S(*Dims);
    for (int64_t &D : S.dims())
      if (D < 0)
        D = Unknown;
    return S;
  }
  Value *V = C.in(I);
  if (V && V->Sh.hasRank() && V->Sh.rank() == 1 && known(V->Sh[0]))
    return Shape::unknownDims(static_cast<size_t>(V->Sh[0]));
  return Shape();
}

/// X's shape with the dims from Axis on set to 1 (normalisation
/// statistics); unknown rank when X's rank is unknown.
Expected<Shape> statShape(ShapeContext &C, const Shape &X, int64_t Axis) {
  if (!X.hasRank())
    return Shape();
  Optional<size_t> A = normalizeAxis(Axis, X.rank());
  if (!A)
    return C.error("axis " + Twine(Axis) + " is out of range for rank " +
                   Twine(X.rank()));
  Shape S = X;
  for (size_t I = *A; I < S.rank(); ++I)
    S[I] = 1;
  return S;
}

/// Broadcast of two batch prefixes; error when they cannot broadcast.
Expected<Shape> broadcastPair(ShapeContext &C, const Shape &A, const Shape &B) {
  Optional<Shape> R = broadcastShapes(A, B);
  if (!R)
    return C.error("shapes " + A.str() + " and " + B.str() +
                   " do not broadcast");
  return *R;
}

/// numpy matmul of two shapes already transposed as the op wants.
Expected<Shape> matmulShapes(ShapeContext &C, const Shape &A, const Shape &B) {
  if (!A.hasRank() || !B.hasRank())
    return Shape();
  if (A.rank() == 0 || B.rank() == 0)
    return C.error("matmul inputs must not be scalars");
  IntVec L(A.dims().begin(), A.dims().end());
  IntVec R(B.dims().begin(), B.dims().end());
  bool VecA = L.size() == 1, VecB = R.size() == 1;
  if (VecA)
    L.insert(L.begin(), 1);
  if (VecB)
    R.push_back(1);
  int64_t KL = L.back(), KR = R[R.size() - 2];
  if (known(KL) && known(KR) && KL != KR)
    return C.error("matmul inner dims " + Twine(KL) + " and " + Twine(KR) +
                   " differ");
  Expected<Shape> Batch =
      broadcastPair(C, shapeOf(ArrayRef<int64_t>(L).drop_back(2)),
                    shapeOf(ArrayRef<int64_t>(R).drop_back(2)));
  if (!Batch)
    return Batch.takeError();
  IntVec Out(Batch->dims().begin(), Batch->dims().end());
  if (!VecA)
    Out.push_back(L[L.size() - 2]);
  if (!VecB)
    Out.push_back(R.back());
  return shapeOf(Out);
}

/// Concatenation of known contents along Axis (row-major blocks).
Optional<TensorData> concatData(ArrayRef<Value *> Ins, size_t Axis) {
  TensorData D;
  bool First = true;
  for (Value *V : Ins) {
    if (!V->Data || !V->Sh.isConcrete() ||
        V->Sh.numElements() != Optional<uint64_t>(V->Data->size()))
      return None;
    if (First)
      D.IsFloat = V->Data->IsFloat;
    else if (D.IsFloat != V->Data->IsFloat)
      return None;
    First = false;
  }
  if (Ins.empty())
    return None;
  const Shape &S0 = Ins.front()->Sh;
  uint64_t Outer = 1;
  for (size_t I = 0; I < Axis; ++I)
    Outer *= static_cast<uint64_t>(S0[I]);
  for (uint64_t O = 0; O < Outer; ++O) {
    for (Value *V : Ins) {
      uint64_t Block = 1;
      for (size_t I = Axis; I < V->Sh.rank(); ++I)
        Block *= static_cast<uint64_t>(V->Sh[I]);
      for (uint64_t K = O * Block; K < (O + 1) * Block; ++K) {
        if (D.IsFloat)
          D.Floats.push_back(V->Data->Floats[K]);
        else
          D.Ints.push_back(V->Data->Ints[K]);
      }
    }
  }
  return D;
}

//===----------------------------------------------------------------------===//
// Elementwise, activations and their gradients
//===----------------------------------------------------------------------===//

/// Output 0 like input 0 (FastGelu, BiasGelu, Gelu, RotaryEmbedding, ...).
Error likeFirst(ShapeContext &C) { return sameAs(C, 0, 0); }

/// Output 0 like input 1 (SoftmaxGrad(dY, Y), the activation gradients
/// whose second input is the forward input).
Error likeSecond(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (!C.in(1))
    return likeFirst(C);
  C.setOutput(0, C.in(0)->Ty, C.in(1)->Sh);
  return ok();
}

/// Every output like the matching input (PassThrough, MegatronF/G,
/// NcclAllReduce, BatchScale style ops).
Error eachLikeInput(ShapeContext &C) {
  for (unsigned I = 0; I < C.numOutputs(); ++I) {
    unsigned Src = std::min(I, C.numInputs() ? C.numInputs() - 1 : 0);
    if (Value *V = C.in(Src))
      C.setOutput(I, V->Ty, V->Sh);
  }
  return ok();
}

/// Every output like input 0 (BatchScale: one input, several outputs).
Error allLikeFirst(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  for (unsigned I = 0; I < C.numOutputs(); ++I)
    C.setOutput(I, C.in(0)->Ty, C.in(0)->Sh);
  return ok();
}

/// Output I like input I + 1 (RecordEvent, WaitEvent: input 0 is the event
/// id, the tensors pass through).
Error passAfterFirst(ShapeContext &C) {
  for (unsigned I = 0; I < C.numOutputs(); ++I)
    if (Value *V = C.in(I + 1))
      C.setOutput(I, V->Ty, V->Sh);
  return ok();
}

/// GemmaRotaryEmbedding(emb, q, q_rot, k, k_rot) -> output1 like q,
/// output2 like k.
Error gemmaRotaryEmbedding(ShapeContext &C) {
  if (Error E = sameAs(C, 0, 1))
    return E;
  return sameAs(C, 1, 3);
}

/// BiasSplitGelu: X [N, HW, D], bias [D] -> [N, HW, D / 2].
Error biasSplitGelu(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Shape S = C.in(0)->Sh;
  if (S.hasRank() && S.rank() > 0) {
    int64_t D = S[S.rank() - 1];
    if (known(D) && D % 2 != 0)
      return C.error("last dim " + Twine(D) + " is odd");
    S[S.rank() - 1] = divDims(D, 2);
  }
  C.setOutput(0, C.in(0)->Ty, S);
  return ok();
}

/// BiasDropout(data, bias, residual, ratio, training_mode) -> output, mask.
Error biasDropout(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, C.in(0)->Ty, C.in(0)->Sh);
  C.setOutput(1, DType::Bool, C.in(0)->Sh);
  return ok();
}

/// BitmaskDropout / BitmaskBiasDropout: the mask packs one bit per element
/// into uint32 words: [ceil(numel / 32)].
Error bitmaskDropout(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &S = C.in(0)->Sh;
  C.setOutput(0, C.in(0)->Ty, S);
  int64_t Words = Unknown;
  if (Optional<uint64_t> N = S.numElements())
    Words = static_cast<int64_t>((*N + 31) / 32);
  C.setOutput(1, DType::UInt32, shapeOf({Words}));
  return ok();
}

/// BiasSoftmaxDropout(data, bias, ratio) -> dropout_output, mask,
/// softmax_output.
Error biasSoftmaxDropout(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &S = C.in(0)->Sh;
  C.setOutput(0, C.in(0)->Ty, S);
  C.setOutput(1, DType::Bool, S);
  C.setOutput(2, C.in(0)->Ty, S);
  return ok();
}

//===----------------------------------------------------------------------===//
// Matrix products
//===----------------------------------------------------------------------===//

/// Shape of a FusedMatMul operand after transBatch and trans (onnxruntime's
/// FusedMatMulShapeInference): transBatch moves dim 0 to just before the
/// last dim, trans swaps the last two.
Shape fusedOperand(const Shape &S, bool Trans, bool TransBatch) {
  if (!S.hasRank() || S.rank() < 2)
    return S;
  size_t R = S.rank();
  IntVec D;
  size_t Begin = TransBatch ? 1 : 0, End = TransBatch ? R - 1 : R - 2;
  for (size_t I = Begin; I < End; ++I)
    D.push_back(S[I]);
  int64_t Row = TransBatch ? S[0] : S[R - 2];
  int64_t Col = S[R - 1];
  if (Trans)
    std::swap(Row, Col);
  D.push_back(Row);
  D.push_back(Col);
  return shapeOf(D);
}

/// FusedMatMul(A, B) with transA, transB, transBatchA, transBatchB, alpha.
Error fusedMatMul(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Error E = C.requireInput(1))
    return E;
  const Node &N = C.node();
  Shape A = fusedOperand(C.in(0)->Sh, N.attrInt("transA", 0) != 0,
                         N.attrInt("transBatchA", 0) != 0);
  Shape B = fusedOperand(C.in(1)->Sh, N.attrInt("transB", 0) != 0,
                         N.attrInt("transBatchB", 0) != 0);
  Expected<Shape> S = matmulShapes(C, A, B);
  if (!S)
    return S.takeError();
  C.setOutput(0, C.in(0)->Ty, *S);
  return ok();
}

/// FusedGemm(A, B, C): Gemm with a fused activation: [M, N].
Error fusedGemm(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Error E = C.requireInput(1))
    return E;
  const Shape &A = C.in(0)->Sh, &B = C.in(1)->Sh;
  if ((A.hasRank() && A.rank() != 2) || (B.hasRank() && B.rank() != 2))
    return C.error("inputs A and B must be 2-D");
  bool TA = C.node().attrInt("transA", 0) != 0;
  bool TB = C.node().attrInt("transB", 0) != 0;
  int64_t M = dimAt(A, TA ? 1 : 0), KA = dimAt(A, TA ? 0 : 1);
  int64_t KB = dimAt(B, TB ? 1 : 0), NDim = dimAt(B, TB ? 0 : 1);
  if (known(KA) && known(KB) && KA != KB)
    return C.error("inner dims " + Twine(KA) + " and " + Twine(KB) + " differ");
  C.setOutput(0, C.in(0)->Ty, shapeOf({M, NDim}));
  return ok();
}

/// MatMulNBits(A, B_quantized, scales, ...): A [..., K] -> [..., N] with N
/// from the attribute.
Error matMulNBits(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Shape S = C.in(0)->Sh;
  if (S.hasRank()) {
    if (S.rank() == 0)
      return C.error("input A must not be a scalar");
    int64_t N = C.node().attrInt("N", Unknown);
    S[S.rank() - 1] = N >= 0 ? N : Unknown;
  }
  C.setOutput(0, C.in(0)->Ty, S);
  return ok();
}

/// MatMulIntegerToFloat(A, B, a_scale, b_scale, ...): numpy matmul whose
/// result has the scales' float dtype. DynamicQuantizeMatMul(A, B, b_scale,
/// ...): A is float and so is the result.
template <unsigned TypeIn> Error matmulTypedBy(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Error E = C.requireInput(1))
    return E;
  if (Error E = C.requireInput(TypeIn))
    return E;
  Expected<Shape> S = matmulShapes(C, C.in(0)->Sh, C.in(1)->Sh);
  if (!S)
    return S.takeError();
  C.setOutput(0, C.in(TypeIn)->Ty, *S);
  return ok();
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

/// SkipLayerNormalization / SkipSimplifiedLayerNormalization:
/// output, mean, inv_std_var, input_skip_bias_sum. The statistics are float
/// [..., 1] (normalised over the last axis).
Error skipLayerNorm(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, X->Sh);
  Expected<Shape> Stat = statShape(C, X->Sh, -1);
  if (!Stat)
    return Stat.takeError();
  C.setOutput(1, DType::Float, *Stat);
  C.setOutput(2, DType::Float, *Stat);
  C.setOutput(3, X->Ty, X->Sh);
  return ok();
}

/// LayerNormalization / SimplifiedLayerNormalization in onnxruntime's
/// schemas (X, scale[, bias]) -> Y, then statistics in stash_type.
/// StatOut is the index of the first statistics output (1 for mean and
/// inv_std_var; SimplifiedLayerNormalization has only inv_std_var at 1).
Error layerNormLike(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  // Y has the scale's type in the ORT schemas (V), X's when absent.
  DType YTy = C.in(1) && C.in(1)->Ty != DType::Undefined ? C.in(1)->Ty : X->Ty;
  C.setOutput(0, YTy, X->Sh);
  Expected<DType> Stash = dtypeAttr(C, "stash_type", DType::Float);
  if (!Stash)
    return Stash.takeError();
  Expected<Shape> Stat = statShape(C, X->Sh, C.node().attrInt("axis", -1));
  if (!Stat)
    return Stat.takeError();
  for (unsigned I = 1; I < C.numOutputs(); ++I)
    C.setOutput(I, *Stash, *Stat);
  return ok();
}

/// ai.onnx RMSNormalization (23): X (T), scale (V) -> Y (V), X's shape.
Error rmsNormalization(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  if (X->Sh.hasRank()) {
    Expected<Shape> Stat = statShape(C, X->Sh, C.node().attrInt("axis", -1));
    if (!Stat)
      return Stat.takeError();
  }
  DType YTy = C.in(1) && C.in(1)->Ty != DType::Undefined ? C.in(1)->Ty : X->Ty;
  C.setOutput(0, YTy, X->Sh);
  return ok();
}

/// EmbedLayerNormalization(input_ids, segment_ids, word_embedding,
/// position_embedding, segment_embedding, gamma, beta, mask, position_ids)
/// -> output [B, S, H] in the embeddings' dtype, mask_index int32 [B],
/// embedding_sum [B, S, H].
Error embedLayerNorm(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Error E = C.requireInput(2))
    return E;
  const Shape &Ids = C.in(0)->Sh;
  if (Ids.hasRank() && Ids.rank() != 2)
    return C.error("input_ids must be 2-D, got " + Ids.str());
  int64_t H = dimAt(C.in(2)->Sh, 1);
  if (!known(H) && C.in(5))
    H = dimAt(C.in(5)->Sh, 0);
  Shape Out = shapeOf({dimAt(Ids, 0), dimAt(Ids, 1), H});
  DType T = C.in(2)->Ty;
  C.setOutput(0, T, Out);
  C.setOutput(1, DType::Int32, shapeOf({dimAt(Ids, 0)}));
  C.setOutput(2, T, Out);
  return ok();
}

/// LayerNormalizationGrad(Y_grad, X, scale, mean, inv_std_var) ->
/// X_grad, scale_grad, bias_grad.
Error layerNormGrad(ShapeContext &C) {
  if (Error E = C.requireInput(1))
    return E;
  C.setOutput(0, C.in(1)->Ty, C.in(1)->Sh);
  if (Value *Scale = C.in(2)) {
    C.setOutput(1, Scale->Ty, Scale->Sh);
    C.setOutput(2, Scale->Ty, Scale->Sh);
  }
  return ok();
}

/// InvertibleLayerNormalizationGrad(Y_grad, Y, scale, bias, inv_std_var).
Error invertibleLayerNormGrad(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, C.in(0)->Ty, C.in(0)->Sh);
  if (Value *Scale = C.in(2)) {
    C.setOutput(1, Scale->Ty, Scale->Sh);
    C.setOutput(2, Scale->Ty, Scale->Sh);
  }
  return ok();
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// com.microsoft::Attention(input [B, S, In], weights [In, Q + K + V], bias,
/// mask_index, past [2, B, N, P, H], attention_bias, past_sequence_length)
/// -> output [B, S, V], present [2, B, N, P + S, H].
Error msAttention(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Node &N = C.node();
  const Shape &X = C.in(0)->Sh;
  if (X.hasRank() && X.rank() != 3)
    return C.error("input must be 3-D, got " + X.str());
  // Q and K share a hidden size (their product needs it); V may differ.
  int64_t KH = Unknown, VH = Unknown;
  if (Optional<ArrayRef<int64_t>> Sizes = N.attrInts("qkv_hidden_sizes")) {
    if (Sizes->size() != 3)
      return C.error("qkv_hidden_sizes must have 3 elements");
    KH = (*Sizes)[1];
    VH = (*Sizes)[2];
  } else {
    int64_t Total = C.in(1) ? dimAt(C.in(1)->Sh, 1) : Unknown;
    if (!known(Total) && C.in(2))
      Total = dimAt(C.in(2)->Sh, 0);
    if (known(Total) && Total % 3 != 0)
      return C.error("merged Q/K/V hidden size " + Twine(Total) +
                     " is not a multiple of 3");
    KH = VH = divDims(Total, 3);
  }
  int64_t B = dimAt(X, 0), S = dimAt(X, 1);
  C.setOutput(0, C.in(0)->Ty, shapeOf({B, S, VH}));
  if (!C.out(1))
    return ok();
  int64_t Heads = N.attrInt("num_heads", 0);
  int64_t HeadSize = Heads > 0 ? divDims(KH, Heads) : Unknown;
  if (Value *Past = C.in(4)) {
    const Shape &P = Past->Sh;
    if (P.hasRank() && P.rank() != 5)
      return C.error("past must be 5-D, got " + P.str());
    if (N.attrInt("past_present_share_buffer", 0) != 0) {
      C.setOutput(1, Past->Ty, P);
      return ok();
    }
    int64_t PB = known(dimAt(P, 1)) ? dimAt(P, 1) : B;
    int64_t PN = known(dimAt(P, 2)) ? dimAt(P, 2) : (Heads > 0 ? Heads : -1);
    int64_t PH = known(dimAt(P, 4)) ? dimAt(P, 4) : HeadSize;
    C.setOutput(1, C.in(0)->Ty,
                shapeOf({2, PB, PN, addDims(dimAt(P, 3), S), PH}));
    return ok();
  }
  C.setOutput(1, C.in(0)->Ty,
              shapeOf({2, B, Heads > 0 ? Heads : Unknown, S, HeadSize}));
  return ok();
}

/// com.microsoft::MultiHeadAttention(query, key, value, bias,
/// key_padding_mask, attention_bias, past_key, past_value,
/// past_sequence_length, cache_indirection) -> output [B, S, Dv],
/// present_key [B, N, P + L, H], present_value [B, N, P + L, Hv], qk.
Error multiHeadAttention(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &Q = C.in(0)->Sh;
  DType T = C.in(0)->Ty;
  int64_t Heads = C.node().attrInt("num_heads", 0);
  int64_t NH = Heads > 0 ? Heads : Unknown;
  int64_t QR = rankOf(C, 0), KR = rankOf(C, 1), VR = rankOf(C, 2);
  if (QR >= 0 && QR != 3 && QR != 5)
    return C.error("query must be 3-D or 5-D, got " + Q.str());
  int64_t B = dimAt(Q, 0), S = dimAt(Q, 1);
  // Per-step key/value geometry: heads, kv length, head sizes.
  int64_t L = Unknown, HK = Unknown, HV = Unknown, VHidden = Unknown;
  if (QR == 5) { // packed QKV [B, S, N, 3, H]
    NH = known(dimAt(Q, 2)) ? dimAt(Q, 2) : NH;
    L = S;
    HK = HV = dimAt(Q, 4);
    VHidden = mulDims(NH, HV);
  } else if (KR == 5) { // packed KV [B, L, N, 2, H]
    const Shape &K = C.in(1)->Sh;
    NH = known(dimAt(K, 2)) ? dimAt(K, 2) : NH;
    L = dimAt(K, 1);
    HK = HV = dimAt(K, 4);
    VHidden = mulDims(NH, HV);
  } else {
    if (KR == 3) {
      L = dimAt(C.in(1)->Sh, 1);
      HK = divDims(dimAt(C.in(1)->Sh, 2), NH);
    } else if (KR == 4) { // [B, N, L, H]
      L = dimAt(C.in(1)->Sh, 2);
      HK = dimAt(C.in(1)->Sh, 3);
    } else if (KR >= 0) {
      return C.error("key must be 3-D, 4-D or 5-D");
    }
    if (VR == 3) {
      const Shape &V = C.in(2)->Sh;
      VHidden = dimAt(V, 2);
      HV = divDims(VHidden, NH);
      if (!known(L))
        L = dimAt(V, 1);
    } else if (VR == 4) {
      const Shape &V = C.in(2)->Sh;
      HV = dimAt(V, 3);
      VHidden = mulDims(known(dimAt(V, 1)) ? dimAt(V, 1) : NH, HV);
      if (!known(L))
        L = dimAt(V, 2);
    } else if (VR >= 0) {
      return C.error("value must be 3-D or 4-D");
    }
  }
  C.setOutput(0, T, QR < 0 ? Shape() : shapeOf({B, S, VHidden}));

  // present_key / present_value.
  Value *PastK = C.in(6), *PastV = C.in(7);
  bool ShareBuffer = PastK && C.in(8);
  auto Present = [&](unsigned Out, Value *Past, int64_t HeadSize, DType Ty) {
    if (!Past) {
      if (KR == 4 && Out == 1) { // cross attention: key already BNSH
        C.setOutput(Out, Ty, C.in(1)->Sh);
        return;
      }
      if (VR == 4 && Out == 2) {
        C.setOutput(Out, Ty, C.in(2)->Sh);
        return;
      }
      C.setOutput(Out, Ty, shapeOf({B, NH, L, HeadSize}));
      return;
    }
    const Shape &P = Past->Sh;
    if (ShareBuffer || !P.hasRank()) {
      C.setOutput(Out, Past->Ty, P);
      return;
    }
    C.setOutput(Out, Past->Ty,
                shapeOf({known(P[0]) ? P[0] : B, known(P[1]) ? P[1] : NH,
                         addDims(P[2], L), known(P[3]) ? P[3] : HeadSize}));
  };
  if (PastK && rankOf(C, 6) >= 0 && rankOf(C, 6) != 4)
    return C.error("past_key must be 4-D");
  DType KT = C.in(1) ? C.in(1)->Ty : T;
  DType VT = C.in(2) ? C.in(2)->Ty : T;
  Present(1, PastK, HK, KT);
  Present(2, PastV, HV, VT);
  // Output 3 (qk): [B, N, S, P + L].
  if (C.out(3)) {
    int64_t Total = L;
    if (PastK)
      Total =
          ShareBuffer ? dimAt(PastK->Sh, 2) : addDims(dimAt(PastK->Sh, 2), L);
    C.setOutput(3, T, shapeOf({B, NH, S, Total}));
  }
  return ok();
}

/// com.microsoft::GroupQueryAttention(query, key, value, past_key,
/// past_value, seqlens_k, total_sequence_length, cos_cache, sin_cache,
/// position_ids, attention_bias, head_sink) -> output, present_key,
/// present_value, output_qk. Follows onnxruntime's inference: present's
/// length is max(past length, total_sequence_length) when the latter is
/// known (a shared max-length buffer keeps the past's length).
Error groupQueryAttention(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Node &N = C.node();
  const Shape &Q = C.in(0)->Sh;
  DType T = C.in(0)->Ty;
  if (Q.hasRank() && Q.rank() != 3)
    return C.error("query must be 3-D, got " + Q.str());
  int64_t Heads = N.attrInt("num_heads", 0);
  int64_t KvHeads = N.attrInt("kv_num_heads", 0);
  int64_t NH = Heads > 0 ? Heads : Unknown;
  int64_t KvNH = KvHeads > 0 ? KvHeads : Unknown;
  int64_t B = dimAt(Q, 0), S = dimAt(Q, 1), D = dimAt(Q, 2);
  bool Packed = !C.in(2);
  int64_t HeadSize =
      Packed ? divDims(D, addDims(NH, mulDims(2, KvNH))) : divDims(D, NH);
  int64_t KvLen = Unknown;
  if (Packed) {
    KvLen = S;
    C.setOutput(0, T,
                Q.hasRank() ? shapeOf({B, S, mulDims(NH, HeadSize)}) : Shape());
  } else {
    C.setOutput(0, T, Q);
    KvLen = dimAt(C.in(2)->Sh, 1);
  }
  int64_t Total = Unknown;
  if (Optional<IntVec> TS = C.ints(6))
    if (TS->size() == 1 && (*TS)[0] > 0)
      Total = (*TS)[0];
  int64_t PresentLen = Unknown;
  DType PT = T;
  if (Value *PastK = C.in(3)) {
    const Shape &P = PastK->Sh;
    if (P.hasRank() && P.rank() != 4)
      return C.error("past_key must be 4-D, got " + P.str());
    PT = PastK->Ty;
    int64_t PastLen = dimAt(P, 2);
    if (N.attrInt("sliding_window_cache", 0) == 1)
      PresentLen = PastLen;
    else if (known(Total) && known(PastLen))
      PresentLen = std::max(Total, PastLen);
    else if (PastLen == 0)
      PresentLen = known(Total) ? Total : KvLen;
    else
      PresentLen = PastLen;
    if (known(dimAt(P, 0)))
      B = dimAt(P, 0);
    if (known(dimAt(P, 1)))
      KvNH = dimAt(P, 1);
    if (known(dimAt(P, 3)))
      HeadSize = dimAt(P, 3);
  } else {
    PresentLen = known(Total) ? Total : KvLen;
  }
  Shape Present = shapeOf({B, KvNH, PresentLen, HeadSize});
  C.setOutput(1, PT, Present);
  C.setOutput(2, C.in(4) ? C.in(4)->Ty : PT, Present);
  C.setOutput(3, T, shapeOf({B, NH, S, Total}));
  return ok();
}

/// ai.onnx Attention (23, 24): Q [B, S, Hq] (q_num_heads) or [B, Nq, S, H];
/// K [B, L, Hk] (kv_num_heads) or [B, Nkv, L, H]; V likewise with head
/// size Hv; past_key/past_value [B, Nkv, P, H]. Y is [B, S, Nq * Hv] for a
/// 3-D Q, [B, Nq, S, Hv] for a 4-D Q; present_key [B, Nkv, P + L, H],
/// present_value [B, Nkv, P + L, Hv]; qk_matmul_output [B, Nq, S, P + L].
Error onnxAttention(ShapeContext &C) {
  for (unsigned I = 0; I < 3; ++I)
    if (Error E = C.requireInput(I))
      return E;
  const Node &N = C.node();
  const Shape &Q = C.in(0)->Sh, &K = C.in(1)->Sh, &V = C.in(2)->Sh;
  int64_t QR = rankOf(C, 0), KR = rankOf(C, 1), VR = rankOf(C, 2);
  for (int64_t R : {QR, KR, VR})
    if (R >= 0 && R != 3 && R != 4)
      return C.error("Q, K and V must be 3-D or 4-D");
  int64_t QHeadsAttr = N.attrInt("q_num_heads", 0);
  int64_t KvHeadsAttr = N.attrInt("kv_num_heads", 0);
  int64_t B = dimAt(Q, 0);
  int64_t NQ = QR == 4 ? dimAt(Q, 1) : (QHeadsAttr > 0 ? QHeadsAttr : Unknown);
  int64_t S = QR == 4 ? dimAt(Q, 2) : dimAt(Q, 1);
  int64_t NKV = Unknown, L = Unknown, HK = Unknown, HV = Unknown;
  int64_t KvHeads = KvHeadsAttr > 0 ? KvHeadsAttr : Unknown;
  if (KR == 4) {
    NKV = dimAt(K, 1);
    L = dimAt(K, 2);
    HK = dimAt(K, 3);
  } else if (KR == 3) {
    NKV = KvHeads;
    L = dimAt(K, 1);
    HK = divDims(dimAt(K, 2), KvHeads);
  }
  if (VR == 4) {
    HV = dimAt(V, 3);
    if (!known(NKV))
      NKV = dimAt(V, 1);
  } else if (VR == 3) {
    HV = divDims(dimAt(V, 2), known(NKV) ? NKV : KvHeads);
  }
  if (!known(B))
    B = dimAt(K, 0);
  DType T1 = C.in(0)->Ty, T2 = C.in(2)->Ty;
  if (QR == 4)
    C.setOutput(0, T1, shapeOf({B, NQ, S, HV}));
  else if (QR == 3)
    C.setOutput(0, T1, shapeOf({B, S, mulDims(NQ, HV)}));
  else
    C.setOutput(0, T1, Shape());
  int64_t Total = L;
  if (Value *PastK = C.in(4)) {
    if (rankOf(C, 4) >= 0 && rankOf(C, 4) != 4)
      return C.error("past_key must be 4-D");
    Total = addDims(dimAt(PastK->Sh, 2), L);
  }
  C.setOutput(1, C.in(1)->Ty, shapeOf({B, NKV, Total, HK}));
  C.setOutput(2, T2, shapeOf({B, NKV, Total, HV}));
  C.setOutput(3, T1, shapeOf({B, NQ, S, Total}));
  return ok();
}

/// com.microsoft::DecoderMaskedMultiHeadAttention(query, key, value,
/// mask_index, attention_bias, past_key, past_value, past_sequence_length,
/// beam_width, cache_indirection, bias): one decoding step over a shared
/// max-length cache, so present_key/present_value are past's shape. Output
/// [B, S, Dv], with packed QKV (no key) [B, S, 3 * D] -> [B, S, D].
Error decoderMaskedMHA(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &Q = C.in(0)->Sh;
  DType T = C.in(0)->Ty;
  int64_t B = dimAt(Q, 0), S = dimAt(Q, 1), Dv = Unknown;
  if (Value *V = C.in(2)) {
    int64_t VR = rankOf(C, 2);
    Dv = VR == 4 ? mulDims(dimAt(V->Sh, 1), dimAt(V->Sh, 3)) : dimAt(V->Sh, 2);
  } else if (!C.in(1)) {
    Dv = divDims(dimAt(Q, 2), 3);
  }
  C.setOutput(0, T, Q.hasRank() ? shapeOf({B, S, Dv}) : Shape());
  if (Value *PastK = C.in(5))
    C.setOutput(1, PastK->Ty, PastK->Sh);
  if (Value *PastV = C.in(6))
    C.setOutput(2, PastV->Ty, PastV->Sh);
  return ok();
}

/// com.microsoft::DecoderMaskedSelfAttention(input, weights, bias,
/// mask_index, past, attention_bias, past_sequence_length, ...): Attention
/// over a shared cache: present is past's shape.
Error decoderMaskedSelfAttention(ShapeContext &C) {
  if (Error E = msAttention(C))
    return E;
  if (Value *Past = C.in(4))
    C.setOutput(1, Past->Ty, Past->Sh);
  return ok();
}

//===----------------------------------------------------------------------===//
// Indexing and shape ops
//===----------------------------------------------------------------------===//

/// com.microsoft::GatherND(data, indices): indices[:-1] + data[k:] with k
/// the last dim of indices.
Error msGatherND(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Error E = C.requireInput(1))
    return E;
  const Shape &D = C.in(0)->Sh, &I = C.in(1)->Sh;
  Shape Out;
  if (I.hasRank() && I.rank() == 0)
    return C.error("indices must have rank >= 1");
  if (D.hasRank() && I.hasRank()) {
    int64_t K = I[I.rank() - 1];
    if (known(K)) {
      if (K > static_cast<int64_t>(D.rank()))
        return C.error("indices last dim " + Twine(K) + " exceeds data rank " +
                       Twine(D.rank()));
      IntVec Dims(I.dims().begin(), I.dims().end() - 1);
      for (size_t J = static_cast<size_t>(K); J < D.rank(); ++J)
        Dims.push_back(D[J]);
      Out = shapeOf(Dims);
    }
  }
  C.setOutput(0, C.in(0)->Ty, Out);
  return ok();
}

/// ConcatTraining(inputs...) -> concat_result, per_input_length int64
/// [num inputs] (the inputs' extents on axis, contents when known).
Error concatTraining(ShapeContext &C) {
  SmallVector<Value *, 4> Ins;
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (!C.in(I))
      return C.error("missing input " + Twine(I));
    Ins.push_back(C.in(I));
  }
  if (Ins.empty())
    return C.error("needs at least one input");
  int64_t NumIns = static_cast<int64_t>(Ins.size());
  DType T = Ins.front()->Ty;
  int64_t Rank = -1;
  for (Value *V : Ins)
    if (V->Sh.hasRank()) {
      if (Rank >= 0 && static_cast<int64_t>(V->Sh.rank()) != Rank)
        return C.error("inputs have different ranks");
      Rank = static_cast<int64_t>(V->Sh.rank());
    }
  if (Rank < 0) {
    C.setOutput(0, T, Shape());
    C.setOutput(1, DType::Int64, shapeOf({NumIns}));
    return ok();
  }
  int64_t AxisAttr = C.node().attrInt("axis", 0);
  Optional<size_t> Axis = normalizeAxis(AxisAttr, static_cast<size_t>(Rank));
  if (!Axis)
    return C.error("axis " + Twine(AxisAttr) + " is out of range");
  Shape Out = Shape::unknownDims(static_cast<size_t>(Rank));
  IntVec Lengths;
  int64_t Sum = 0;
  for (Value *V : Ins) {
    if (!V->Sh.hasRank()) {
      Lengths.push_back(Unknown);
      Sum = Unknown;
      continue;
    }
    for (size_t D = 0; D < V->Sh.rank(); ++D) {
      if (D == *Axis)
        continue;
      int64_t Dim = V->Sh[D];
      if (!known(Dim))
        continue;
      if (known(Out[D]) && Out[D] != Dim)
        return C.error("inputs disagree on dim " + Twine(D) + ": " +
                       Twine(Out[D]) + " and " + Twine(Dim));
      Out[D] = Dim;
    }
    Lengths.push_back(V->Sh[*Axis]);
    Sum = addDims(Sum, V->Sh[*Axis]);
  }
  Out[*Axis] = Sum;
  if (Optional<TensorData> D = concatData(Ins, *Axis))
    C.setOutput(0, T, Out, std::move(*D));
  else
    C.setOutput(0, T, Out);
  if (llvm::all_of(Lengths, known))
    C.setOutput(1, DType::Int64, shapeOf({NumIns}), TensorData::ints(Lengths));
  else
    C.setOutput(1, DType::Int64, shapeOf({NumIns}));
  return ok();
}

/// SplitTraining(input, split) with axis: split sizes from the second
/// input's contents, else equal parts.
Error splitTraining(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  unsigned NumOuts = C.numOutputs();
  if (!X->Sh.hasRank()) {
    for (unsigned I = 0; I < NumOuts; ++I)
      C.setOutput(I, X->Ty, Shape());
    return ok();
  }
  int64_t AxisAttr = C.node().attrInt("axis", 0);
  Optional<size_t> Axis = normalizeAxis(AxisAttr, X->Sh.rank());
  if (!Axis)
    return C.error("axis " + Twine(AxisAttr) + " is out of range");
  int64_t Dim = X->Sh[*Axis];
  IntVec Sizes(NumOuts, Unknown);
  if (Optional<IntVec> Split = C.ints(1)) {
    if (Split->size() != NumOuts)
      return C.error("split has " + Twine(Split->size()) + " entries for " +
                     Twine(NumOuts) + " outputs");
    int64_t Sum = 0;
    for (int64_t S : *Split)
      Sum += S;
    if (known(Dim) && Sum != Dim)
      return C.error("split sizes sum to " + Twine(Sum) + ", dim is " +
                     Twine(Dim));
    Sizes = *Split;
  } else if (NumOuts > 0) {
    int64_t Part = divDims(Dim, NumOuts);
    Sizes.assign(NumOuts, Part);
  }
  for (unsigned I = 0; I < NumOuts; ++I) {
    Shape S = X->Sh;
    S[*Axis] = Sizes[I];
    C.setOutput(I, X->Ty, S);
  }
  return ok();
}

/// Gradient ops whose output shape is the contents of a shape input:
/// SliceGrad(dY, shape, ...), GatherElementsGrad(dY, shape, indices).
template <unsigned ShapeIn, unsigned TypeIn>
Error shapeFromContents(ShapeContext &C) {
  if (Error E = C.requireInput(TypeIn))
    return E;
  if (Error E = C.requireInput(ShapeIn))
    return E;
  C.setOutput(0, C.in(TypeIn)->Ty, shapeFromInput(C, ShapeIn));
  return ok();
}

/// BroadcastGradientArgs(a_shape, b_shape) -> a_axes, b_axes: the axes
/// (of the broadcast result) each side was broadcast along, in
/// onnxruntime's order (descending). Contents when both shapes are known.
Error broadcastGradientArgs(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Error E = C.requireInput(1))
    return E;
  Optional<IntVec> A = C.ints(0), B = C.ints(1);
  if (!A || !B) {
    C.setOutput(0, DType::Int64, shapeOf({Unknown}));
    C.setOutput(1, DType::Int64, shapeOf({Unknown}));
    return ok();
  }
  IntVec AAxes, BAxes;
  int64_t I = static_cast<int64_t>(A->size()) - 1;
  int64_t J = static_cast<int64_t>(B->size()) - 1;
  int64_t K = std::max(I, J);
  for (; I >= 0 && J >= 0; --I, --J, --K) {
    int64_t DA = (*A)[I], DB = (*B)[J];
    if (DA == DB)
      continue;
    if (DA == 1)
      AAxes.push_back(K);
    else if (DB == 1)
      BAxes.push_back(K);
    else
      return C.error("shapes do not broadcast: dim " + Twine(DA) + " against " +
                     Twine(DB));
  }
  for (; K >= 0; --K)
    (I < 0 ? AAxes : BAxes).push_back(K);
  C.setOutput(0, DType::Int64, shapeOf({static_cast<int64_t>(AAxes.size())}),
              TensorData::ints(AAxes));
  C.setOutput(1, DType::Int64, shapeOf({static_cast<int64_t>(BAxes.size())}),
              TensorData::ints(BAxes));
  return ok();
}

/// ReduceSumTraining(data, axes) with keepdims, noop_with_empty_axes.
Error reduceSumTraining(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  const Node &N = C.node();
  bool KeepDims = N.attrInt("keepdims", 1) != 0;
  bool Noop = N.attrInt("noop_with_empty_axes", 0) != 0;
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  size_t R = X->Sh.rank();
  Optional<IntVec> Axes;
  if (C.in(1)) {
    Axes = C.ints(1);
    if (!Axes) {
      // Unknown axes: with keepdims the rank survives.
      C.setOutput(0, X->Ty, KeepDims ? Shape::unknownDims(R) : Shape());
      return ok();
    }
  }
  if (!Axes || Axes->empty()) {
    if (Noop) {
      C.setOutput(0, X->Ty, X->Sh);
      return ok();
    }
    Axes = IntVec();
    for (size_t I = 0; I < R; ++I)
      Axes->push_back(static_cast<int64_t>(I));
  }
  SmallVector<bool, 8> Reduced(R, false);
  for (int64_t A : *Axes) {
    Optional<size_t> Ax = normalizeAxis(A, R);
    if (!Ax)
      return C.error("axis " + Twine(A) + " is out of range");
    Reduced[*Ax] = true;
  }
  IntVec Dims;
  for (size_t I = 0; I < R; ++I) {
    if (!Reduced[I])
      Dims.push_back(X->Sh[I]);
    else if (KeepDims)
      Dims.push_back(1);
  }
  C.setOutput(0, X->Ty, shapeOf(Dims));
  return ok();
}

/// GatherGrad(shape, indices, dY) -> dX of the shape's contents.
Error gatherGrad(ShapeContext &C) { return shapeFromContents<0, 2>(C); }

/// GatherNDGrad(shape, indices, update) -> output of the shape's contents.
Error gatherNDGrad(ShapeContext &C) { return shapeFromContents<0, 2>(C); }

/// FlattenAndUnpad(input [M1, M2, ...], indices [K]) -> output [K, ...],
/// unflatten_dims int64 [2] = [M1, M2].
Error flattenAndUnpad(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Error E = C.requireInput(1))
    return E;
  const Shape &X = C.in(0)->Sh;
  if (X.hasRank() && X.rank() < 2)
    return C.error("input must have rank >= 2");
  Shape Out;
  if (X.hasRank()) {
    IntVec Dims{dimAt(C.in(1)->Sh, 0)};
    for (size_t I = 2; I < X.rank(); ++I)
      Dims.push_back(X[I]);
    Out = shapeOf(Dims);
  }
  C.setOutput(0, C.in(0)->Ty, Out);
  if (known(dimAt(X, 0)) && known(dimAt(X, 1)))
    C.setOutput(1, DType::Int64, shapeOf({2}), TensorData::ints({X[0], X[1]}));
  else
    C.setOutput(1, DType::Int64, shapeOf({2}));
  return ok();
}

/// PadAndUnflatten(input [K, ...], indices, unflatten_dims [2]) ->
/// [M1, M2, ...].
Error padAndUnflatten(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &X = C.in(0)->Sh;
  Shape Out;
  if (X.hasRank() && X.rank() >= 1) {
    Shape Lead = shapeFromInput(C, 2);
    IntVec Dims;
    if (Lead.hasRank() && Lead.rank() == 2)
      Dims.append(Lead.dims().begin(), Lead.dims().end());
    else
      Dims.append({Unknown, Unknown});
    for (size_t I = 1; I < X.rank(); ++I)
      Dims.push_back(X[I]);
    Out = shapeOf(Dims);
  }
  C.setOutput(0, C.in(0)->Ty, Out);
  return ok();
}

//===----------------------------------------------------------------------===//
// Losses and the training harness
//===----------------------------------------------------------------------===//

/// SoftmaxCrossEntropyLossInternal(scores, labels, weights, ignore_index)
/// -> loss (output_type, scalar unless reduction is "none": labels' shape),
/// log_prob (scores' dtype and shape).
Error sceLossInternal(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *Scores = C.in(0);
  Expected<DType> LossTy = dtypeAttr(C, "output_type", Scores->Ty);
  if (!LossTy)
    return LossTy.takeError();
  StringRef Reduction = C.node().attrString("reduction", "mean");
  Shape Loss = Shape::scalar();
  if (Reduction == "none")
    Loss = C.in(1) ? C.in(1)->Sh : Shape();
  C.setOutput(0, *LossTy, Loss);
  C.setOutput(1, Scores->Ty, Scores->Sh);
  return ok();
}

/// SoftmaxCrossEntropyLossInternalGrad(dY, log_prob, label, weight,
/// ignore_index, bias) -> d_logits: log_prob's shape, output_type.
Error sceLossInternalGrad(ShapeContext &C) {
  if (Error E = C.requireInput(1))
    return E;
  Value *LogProb = C.in(1);
  Expected<DType> Ty = dtypeAttr(C, "output_type", LogProb->Ty);
  if (!Ty)
    return Ty.takeError();
  C.setOutput(0, *Ty, LogProb->Sh);
  return ok();
}

/// SoftmaxCrossEntropy(logits, label) -> loss scalar, log_prob.
Error softmaxCrossEntropy(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, C.in(0)->Ty, Shape::scalar());
  C.setOutput(1, C.in(0)->Ty, C.in(0)->Sh);
  return ok();
}

/// YieldOp(module outputs...) -> gradients of the differentiable ones: the
/// outputs follow the inputs not listed in non_differentiable_outputs, and
/// those listed in full_shape_outputs (input indices) keep the input's
/// shape. The others may be broadcast gradients: dtype only.
Error yieldOp(ShapeContext &C) {
  const Node &N = C.node();
  ArrayRef<int64_t> NonDiff, Full;
  if (Optional<ArrayRef<int64_t>> A = N.attrInts("non_differentiable_outputs"))
    NonDiff = *A;
  if (Optional<ArrayRef<int64_t>> A = N.attrInts("full_shape_outputs"))
    Full = *A;
  unsigned J = 0;
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (llvm::is_contained(NonDiff, static_cast<int64_t>(I)))
      continue;
    unsigned Out = J++;
    Value *V = C.in(I);
    if (!V)
      continue;
    if (llvm::is_contained(Full, static_cast<int64_t>(I)))
      C.setOutput(Out, V->Ty, V->Sh);
    else
      C.setOutput(Out, V->Ty, Shape());
  }
  return ok();
}

/// PythonOp -> context (int64 scalar), then outputs typed by
/// output_tensor_types with ranks from output_tensor_ranks.
/// PythonOpGrad -> outputs likewise, from index 0.
template <unsigned First> Error pythonOp(ShapeContext &C) {
  const Node &N = C.node();
  if (First == 1)
    C.setOutput(0, DType::Int64, Shape::scalar());
  ArrayRef<int64_t> Types, Ranks;
  if (Optional<ArrayRef<int64_t>> A = N.attrInts("output_tensor_types"))
    Types = *A;
  if (Optional<ArrayRef<int64_t>> A = N.attrInts("output_tensor_ranks"))
    Ranks = *A;
  for (unsigned I = First; I < C.numOutputs(); ++I) {
    size_t K = I - First;
    if (K >= Types.size())
      break;
    Optional<DType> T = dtypeFromOnnx(Types[K]);
    if (!T)
      return C.error("output_tensor_types holds an invalid type " +
                     Twine(Types[K]));
    Shape S;
    if (K < Ranks.size() && Ranks[K] >= 0)
      S = Shape::unknownDims(static_cast<size_t>(Ranks[K]));
    C.setOutput(I, *T, S);
  }
  return ok();
}

/// InPlaceAccumulatorV2(buffer, value, overwrite) -> updated flag (bool
/// [1]), buffer.
Error inPlaceAccumulatorV2(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, DType::Bool, shapeOf({1}));
  C.setOutput(1, C.in(0)->Ty, C.in(0)->Sh);
  return ok();
}

/// ConvGrad(dY, X, W) -> dX like X, dW like W, dB [C_out].
Error convGrad(ShapeContext &C) {
  if (Value *X = C.in(1))
    C.setOutput(0, X->Ty, X->Sh);
  if (Value *W = C.in(2)) {
    C.setOutput(1, W->Ty, W->Sh);
    C.setOutput(2, W->Ty, shapeOf({dimAt(W->Sh, 0)}));
  }
  return ok();
}

//===----------------------------------------------------------------------===//
// org.pytorch.aten::ATen
//===----------------------------------------------------------------------===//

/// embedding(weight [V, D], indices, padding_idx, scale_grad_by_freq,
/// sparse) -> indices' shape + [D] in weight's dtype.
Error atenEmbedding(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Error E = C.requireInput(1))
    return E;
  const Shape &W = C.in(0)->Sh, &I = C.in(1)->Sh;
  if (W.hasRank() && W.rank() != 2)
    return C.error("embedding weight must be 2-D, got " + W.str());
  Shape Out;
  if (I.hasRank()) {
    IntVec Dims(I.dims().begin(), I.dims().end());
    Dims.push_back(dimAt(W, 1));
    Out = shapeOf(Dims);
  }
  C.setOutput(0, C.in(0)->Ty, Out);
  return ok();
}

/// embedding_backward / embedding_dense_backward(grad, indices,
/// num_weights, ...) -> [num_weights, grad's last dim] in grad's dtype.
Error atenEmbeddingBackward(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  int64_t NumWeights = Unknown;
  if (Optional<IntVec> V = C.ints(2))
    if (V->size() == 1 && (*V)[0] >= 0)
      NumWeights = (*V)[0];
  C.setOutput(0, C.in(0)->Ty, shapeOf({NumWeights, dimAt(C.in(0)->Sh, -1)}));
  return ok();
}

/// numpy_T(self): the dims reversed.
Error atenNumpyT(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Shape S = C.in(0)->Sh;
  std::reverse(S.dims().begin(), S.dims().end());
  C.setOutput(0, C.in(0)->Ty, S);
  return ok();
}

/// argmax(self, dim, keepdim) -> int64.
Error atenArgmax(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &X = C.in(0)->Sh;
  Optional<IntVec> Dim = C.ints(1);
  Optional<IntVec> Keep = C.ints(2);
  bool KeepDim = Keep && Keep->size() == 1 && (*Keep)[0] != 0;
  if (!X.hasRank() || !C.in(1)) {
    // No dim: argmax over the flattened tensor, a scalar.
    C.setOutput(0, DType::Int64, C.in(1) ? Shape() : Shape::scalar());
    return ok();
  }
  if (!Dim || Dim->size() != 1) {
    C.setOutput(0, DType::Int64,
                KeepDim ? Shape::unknownDims(X.rank())
                        : Shape::unknownDims(X.rank() ? X.rank() - 1 : 0));
    return ok();
  }
  Optional<size_t> Ax = normalizeAxis((*Dim)[0], X.rank());
  if (!Ax)
    return C.error("argmax dim " + Twine((*Dim)[0]) + " is out of range");
  IntVec Dims;
  for (size_t I = 0; I < X.rank(); ++I) {
    if (I != *Ax)
      Dims.push_back(X[I]);
    else if (KeepDim)
      Dims.push_back(1);
  }
  C.setOutput(0, DType::Int64, shapeOf(Dims));
  return ok();
}

struct AtenRule {
  const char *Operator;
  ShapeFn Fn;
};

/// ATen sub-dispatch on the 'operator' attribute.
const AtenRule AtenRules[] = {
    {"_softmax_backward_data", likeFirst},
    {"argmax", atenArgmax},
    {"embedding", atenEmbedding},
    {"embedding_backward", atenEmbeddingBackward},
    {"embedding_dense_backward", atenEmbeddingBackward},
    {"gelu", likeFirst},
    {"gelu_backward", likeFirst},
    {"numpy_T", atenNumpyT},
    {"silu", likeFirst},
    {"tril", likeFirst},
    {"triu", likeFirst},
};

/// org.pytorch.aten::ATen: unknown operators leave their outputs unset.
Error aten(ShapeContext &C) {
  StringRef Op = C.node().attrString("operator", "");
  if (Op.empty())
    return C.error("ATen node without an 'operator' attribute");
  const AtenRule *R = llvm::find_if(
      AtenRules, [&](const AtenRule &A) { return Op == A.Operator; });
  if (R == std::end(AtenRules))
    return ok();
  return R->Fn(C);
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

constexpr const char *MS = "com.microsoft";

const ShapeRule FusedRules[] = {
    // ai.onnx ops of opsets 23 and 24 (TensorScatter is in the ai.onnx
    // table).
    {"", "Attention", 23, Any, onnxAttention},
    {"", "RMSNormalization", 23, Any, rmsNormalization},
    {"", "RotaryEmbedding", 23, Any, likeFirst},
    // onnxruntime registers these in the ai.onnx domain at version 1.
    {"", "SimplifiedLayerNormalization", 1, Any, layerNormLike},

    // com.microsoft fused inference ops.
    {MS, "Attention", 1, Any, msAttention},
    {MS, "MultiHeadAttention", 1, Any, multiHeadAttention},
    {MS, "GroupQueryAttention", 1, Any, groupQueryAttention},
    {MS, "RotaryEmbedding", 1, Any, likeFirst},
    {MS, "GemmaRotaryEmbedding", 1, Any, gemmaRotaryEmbedding},
    {MS, "SkipLayerNormalization", 1, Any, skipLayerNorm},
    {MS, "SkipSimplifiedLayerNormalization", 1, Any, skipLayerNorm},
    {MS, "SimplifiedLayerNormalization", 1, Any, layerNormLike},
    {MS, "LayerNormalization", 1, Any, layerNormLike},
    {MS, "EmbedLayerNormalization", 1, Any, embedLayerNorm},
    {MS, "GroupNorm", 1, Any, likeFirst},
    {MS, "FastGelu", 1, Any, likeFirst},
    {MS, "BiasGelu", 1, Any, likeFirst},
    {MS, "Gelu", 1, Any, likeFirst},
    {MS, "QuickGelu", 1, Any, likeFirst},
    {MS, "BiasAdd", 1, Any, likeFirst},
    {MS, "BiasSplitGelu", 1, Any, biasSplitGelu},
    {MS, "BiasSoftmax", 1, Any, likeFirst},
    {MS, "FusedMatMul", 1, Any, fusedMatMul},
    {MS, "FusedGemm", 1, Any, fusedGemm},
    {MS, "MatMulNBits", 1, Any, matMulNBits},
    {MS, "MatMulIntegerToFloat", 1, Any, matmulTypedBy<2>},
    {MS, "DynamicQuantizeMatMul", 1, Any, matmulTypedBy<0>},
    {MS, "DecoderMaskedMultiHeadAttention", 1, Any, decoderMaskedMHA},
    {MS, "DecoderMaskedSelfAttention", 1, Any, decoderMaskedSelfAttention},
    {MS, "SkipGroupNorm", 1, Any, allLikeFirst},
    {MS, "MoE", 1, Any, likeFirst},
    {MS, "GatherND", 1, Any, msGatherND},
    {MS, "Trilu", 1, Any, likeFirst},

    // onnxruntime training ops (com.microsoft).
    {MS, "ConcatTraining", 1, Any, concatTraining},
    {MS, "SplitTraining", 1, Any, splitTraining},
    {MS, "ReduceSumTraining", 1, Any, reduceSumTraining},
    {MS, "BiasDropout", 1, Any, biasDropout},
    {MS, "BitmaskDropout", 1, Any, bitmaskDropout},
    {MS, "BitmaskBiasDropout", 1, Any, bitmaskDropout},
    {MS, "BiasSoftmaxDropout", 1, Any, biasSoftmaxDropout},
    {MS, "DropoutGrad", 1, Any, likeFirst},
    {MS, "BitmaskDropoutGrad", 1, Any, likeFirst},
    {MS, "SoftmaxDropoutGrad", 1, Any, likeFirst},
    {MS, "SoftmaxCrossEntropyLossInternal", 1, Any, sceLossInternal},
    {MS, "SoftmaxCrossEntropyLossInternalGrad", 1, Any, sceLossInternalGrad},
    {MS, "SoftmaxCrossEntropyLossGrad", 1, Any, sceLossInternalGrad},
    {MS, "SoftmaxCrossEntropy", 1, Any, softmaxCrossEntropy},
    {MS, "SoftmaxCrossEntropyGrad", 1, Any, likeSecond},
    {MS, "YieldOp", 1, Any, yieldOp},
    {MS, "LayerNormalizationGrad", 1, Any, layerNormGrad},
    {MS, "SimplifiedLayerNormalizationGrad", 1, Any, layerNormGrad},
    {MS, "InvertibleLayerNormalizationGrad", 1, Any, invertibleLayerNormGrad},
    {MS, "BroadcastGradientArgs", 1, Any, broadcastGradientArgs},
    {MS, "SliceGrad", 1, Any, shapeFromContents<1, 0>},
    {MS, "GatherGrad", 1, Any, gatherGrad},
    {MS, "GatherElementsGrad", 1, Any, shapeFromContents<1, 0>},
    {MS, "GatherNDGrad", 1, Any, gatherNDGrad},
    {MS, "FastGeluGrad", 1, Any, likeSecond},
    {MS, "BiasFastGeluGrad_dX", 1, Any, likeSecond},
    {MS, "GeluGrad", 1, Any, likeSecond},
    {MS, "BiasGeluGrad_dX", 1, Any, likeSecond},
    {MS, "QuickGeluGrad", 1, Any, likeSecond},
    {MS, "ReluGrad", 1, Any, likeSecond},
    {MS, "SigmoidGrad", 1, Any, likeSecond},
    {MS, "TanhGrad", 1, Any, likeSecond},
    {MS, "SoftmaxGrad", 1, Any, likeSecond},
    {MS, "SoftmaxGrad_13", 1, Any, likeSecond},
    {MS, "LogSoftmaxGrad", 1, Any, likeSecond},
    {MS, "LogSoftmaxGrad_13", 1, Any, likeSecond},
    {MS, "ConvGrad", 1, Any, convGrad},
    {MS, "PythonOp", 1, Any, pythonOp<1>},
    {MS, "PythonOpGrad", 1, Any, pythonOp<0>},
    {MS, "PassThrough", 1, Any, eachLikeInput},
    {MS, "MegatronF", 1, Any, eachLikeInput},
    {MS, "MegatronG", 1, Any, eachLikeInput},
    {MS, "NcclAllReduce", 1, Any, eachLikeInput},
    {MS, "RecordEvent", 1, Any, passAfterFirst},
    {MS, "WaitEvent", 1, Any, passAfterFirst},
    {MS, "ScaledSum", 1, Any, likeFirst},
    {MS, "BatchScale", 1, Any, allLikeFirst},
    {MS, "FlattenAndUnpad", 1, Any, flattenAndUnpad},
    {MS, "PadAndUnflatten", 1, Any, padAndUnflatten},
    {MS, "InPlaceAccumulatorV2", 1, Any, inPlaceAccumulatorV2},

    // PyTorch ATen fallback.
    {"org.pytorch.aten", "ATen", 1, Any, aten},
};

} // namespace

ArrayRef<ShapeRule> fusedShapeRules() { return FusedRules; }

} // namespace vram

//===- Contrib.cpp - com.microsoft fused inference ops (onnxruntime contrib ops)
//---===//
//
// The op registry's rows for com.microsoft fused inference ops (onnxruntime
// contrib ops), and their shape functions and saved-tensor rules (following
// onnxruntime bert_defs.cc and contrib_defs.cc). Each row holds every facet of
// one (domain, op, opset range); see vram/Analysis/OpRegistry.h.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

#include <array>

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

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
  Expected<Shape> S = matMulShape(C, A, B);
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
  Expected<Shape> S = matMulShape(C, C.in(0)->Sh, C.in(1)->Sh);
  if (!S)
    return S.takeError();
  C.setOutput(0, C.in(TypeIn)->Ty, *S);
  return ok();
}

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

//===----------------------------------------------------------------------===//
// Padding-free (packed) attention, onnxruntime bert_defs.cc: the real tokens
// of a padded batch [B, S, H] packed into [T, H], T = the number of real
// tokens, which only the data says. Shapes price T at its largest, B * S
// (no padding): the memory a run of these shapes can need.
//===----------------------------------------------------------------------===//

/// RemovePadding(input [B, S, H], sequence_token_count [B]) -> output
/// [T, H] (T at most B * S), token_offset [B, S], cumulated_seq_len
/// [B + 1], max_seq_len [1] (the last three int32, like input 1).
Error removePadding(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  const Shape &X = C.in(0)->Sh;
  if (X.hasRank() && X.rank() != 3)
    return C.error("input must be 3-D [batch, sequence, hidden], got " +
                   X.str());
  int64_t B = dimAt(X, 0), S = dimAt(X, 1), H = dimAt(X, 2), T = Unknown;
  if (known(B) && known(S) && __builtin_mul_overflow(B, S, &T))
    return C.error("batch x sequence does not fit in 64 bits");
  DType IdxTy = C.in(1)->Ty;
  C.setOutput(0, C.in(0)->Ty, shapeOf({T, H}));
  C.setOutput(1, IdxTy, shapeOf({B, S}));
  C.setOutput(2, IdxTy, shapeOf({known(B) && B < INT64_MAX ? B + 1 : Unknown}));
  C.setOutput(3, IdxTy, shapeOf({1}));
  return ok();
}

/// RestorePadding(input [T, H], token_offset [B, S]) -> [B, S, H].
Error restorePadding(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  const Shape &X = C.in(0)->Sh, &Off = C.in(1)->Sh;
  if (X.hasRank() && X.rank() != 2)
    return C.error("input must be 2-D [tokens, hidden], got " + X.str());
  if (Off.hasRank() && Off.rank() != 2)
    return C.error("token_offset must be 2-D [batch, sequence], got " +
                   Off.str());
  C.setOutput(0, C.in(0)->Ty,
              shapeOf({dimAt(Off, 0), dimAt(Off, 1), dimAt(X, 1)}));
  return ok();
}

/// The Q, K and V hidden sizes of PackedAttention: qkv_hidden_sizes, else
/// a third each of the bias.
Expected<std::array<int64_t, 3>> packedQkvSizes(ShapeContext &C) {
  if (Optional<ArrayRef<int64_t>> Sizes =
          C.node().attrInts("qkv_hidden_sizes")) {
    if (Sizes->size() != 3)
      return C.error("qkv_hidden_sizes must have 3 elements");
    return std::array<int64_t, 3>{(*Sizes)[0], (*Sizes)[1], (*Sizes)[2]};
  }
  int64_t Total = C.in(2) ? dimAt(C.in(2)->Sh, 0) : Unknown;
  if (known(Total) && Total % 3 != 0)
    return C.error("merged Q/K/V hidden size " + Twine(Total) +
                   " is not a multiple of 3");
  int64_t Third = divDims(Total, 3);
  return std::array<int64_t, 3>{Third, Third, Third};
}

/// PackedAttention(input [T, In], weights [In, Q + K + V], bias [Q + K + V],
/// token_offset [B, S], cumulative_sequence_length [B + 1], attention_bias)
/// -> output [T, V].
Error packedAttention(ShapeContext &C) {
  if (Error E = requireInputs(C, 3))
    return E;
  const Shape &X = C.in(0)->Sh;
  if (X.hasRank() && X.rank() != 2)
    return C.error("input must be 2-D [tokens, hidden], got " + X.str());
  const Shape &Bias = C.in(2)->Sh;
  if (Bias.hasRank() && Bias.rank() != 1)
    return C.error("bias must be 1-D, got " + Bias.str());
  Expected<std::array<int64_t, 3>> Sizes = packedQkvSizes(C);
  if (!Sizes)
    return Sizes.takeError();
  C.setOutput(0, C.in(0)->Ty, shapeOf({dimAt(X, 0), (*Sizes)[2]}));
  return ok();
}

/// PackedMultiHeadAttention(query [T, H] or packed QKV [T, N, 3, Hd], key
/// [T, H], value [T, Hv], bias, token_offset [B, S],
/// cumulative_sequence_length [B + 1], attention_bias) -> [T, Hv]
/// ([T, N * Hd] for packed QKV).
Error packedMultiHeadAttention(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &Q = C.in(0)->Sh;
  DType T = C.in(0)->Ty;
  if (Q.hasRank() && Q.rank() != 2 && Q.rank() != 4)
    return C.error("query must be 2-D or 4-D (packed QKV), got " + Q.str());
  if (Q.hasRank() && Q.rank() == 4) {
    int64_t Hidden = Unknown;
    if (known(Q[1]) && known(Q[3]) &&
        __builtin_mul_overflow(Q[1], Q[3], &Hidden))
      return C.error("heads x head size does not fit in 64 bits");
    C.setOutput(0, T, shapeOf({Q[0], Hidden}));
    return ok();
  }
  if (Value *V = C.in(2)) {
    if (V->Sh.hasRank() && V->Sh.rank() != 2)
      return C.error("value must be 2-D [tokens, hidden], got " + V->Sh.str());
    C.setOutput(0, T, shapeOf({dimAt(Q, 0), dimAt(V->Sh, 1)}));
    return ok();
  }
  return C.error("without packed QKV, key and value are required");
}

/// RemovePadding gathers the real tokens: its backward scatters them back
/// by token_offset (output 1).
void saveRemovePadding(SaveContext &C) {
  if (C.anyRG() && C.out(1))
    C.output(1, "index of the token gather (token_offset)");
}

/// RestorePadding scatters the tokens into the padded batch: its backward
/// gathers them by token_offset (input 1).
void saveRestorePadding(SaveContext &C) {
  if (C.anyRG())
    C.input(1, "index of the token scatter (token_offset)");
}

/// The softmax output of packed attention, [B, N, S, S] from token_offset
/// [B, S] (the unfused path pads each sequence to S).
void savePackedProbs(SaveContext &C, unsigned OffsetInput, DType T) {
  Value *Off = C.in(OffsetInput);
  int64_t B = -1, S = -1;
  if (Off && Off->Sh.hasRank() && Off->Sh.rank() == 2) {
    B = Off->Sh[0];
    S = Off->Sh[1];
  }
  int64_t N = C.node().attrInt("num_heads", -1);
  C.activationBuffer("probs", T, probsShape(B, N, S, S), "softmax output");
}

/// PackedAttention: like Attention, the projection input, Q, K, V (packed,
/// [T, hidden]) and the softmax output.
void savePackedAttention(SaveContext &C) {
  if (!C.anyRG())
    return;
  Value *X = C.in(0), *Y = C.out(0);
  if (!X || !Y || !X->Sh.hasRank() || X->Sh.rank() != 2 || !Y->Sh.hasRank() ||
      Y->Sh.rank() != 2)
    return;
  C.input(0, "input of the QKV projection");
  int64_t T = X->Sh[0], QK = Y->Sh[1], V = Y->Sh[1];
  if (Optional<ArrayRef<int64_t>> Sizes = C.node().attrInts("qkv_hidden_sizes"))
    if (Sizes->size() == 3)
      QK = (*Sizes)[0];
  C.activationBuffer("q", X->Ty, shapeOf({T, QK}), "Q for QK^T");
  C.activationBuffer("k", X->Ty, shapeOf({T, QK}), "K for QK^T");
  C.activationBuffer("v", X->Ty, shapeOf({T, V}), "V for scores x V");
  savePackedProbs(C, 3, X->Ty);
}

/// PackedMultiHeadAttention: Q, K and V as given (or the packed QKV) and
/// the softmax output.
void savePackedMHA(SaveContext &C) {
  if (!C.anyRG() || !C.in(0))
    return;
  if (C.in(1)) {
    C.input(0, "Q for QK^T");
    C.input(1, "K for QK^T");
    C.input(2, "V for scores x V");
  } else {
    C.input(0, "packed Q, K, V");
  }
  savePackedProbs(C, 4, C.in(0)->Ty);
}

/// FastGelu/BiasGelu(x, bias): gelu(x + bias) keeps its input, x + bias.
void saveBiasGelu(SaveContext &C) {
  if (!C.anyRG())
    return;
  if (C.in(1))
    C.activationBuffer("gelu_input", C.in(0)->Ty, C.in(0)->Sh,
                       "input of Gelu (x + bias)");
  else
    C.input(0, "input of Gelu");
}

/// SkipLayerNormalization: LayerNorm of input + skip (+ bias); keeps the sum
/// (output 3 when the node exposes it), mean and rstd.
void saveSkipLayerNorm(SaveContext &C, bool HasMean) {
  if (!C.anyRG())
    return;
  Value *X = C.in(0);
  if (C.out(3))
    C.output(3, "input of LayerNorm (input + skip)");
  else if (X)
    C.activationBuffer("sum", X->Ty, X->Sh,
                       "input of LayerNorm (input + skip)");
  Shape S = statsShape(X, -1);
  if (HasMean)
    C.buffer("mean", DType::Float, S, "LayerNorm mean");
  C.buffer("rstd", DType::Float, S, "LayerNorm inverse std");
}

void saveSkipLN(SaveContext &C) { saveSkipLayerNorm(C, true); }

void saveSkipSimplifiedLN(SaveContext &C) { saveSkipLayerNorm(C, false); }

/// EmbedLayerNormalization: indices of the three embeddings, the embedding
/// sum (LayerNorm input) and its statistics.
void saveEmbedLayerNorm(SaveContext &C) {
  if (!C.anyRG())
    return;
  C.input(0, "indices of embedding");
  C.input(1, "indices of embedding");
  Value *Out = C.out(0);
  if (!Out)
    return;
  if (C.out(2))
    C.output(2, "input of LayerNorm (embedding sum)");
  else
    C.activationBuffer("sum", Out->Ty, Out->Sh,
                       "input of LayerNorm (embedding sum)");
  Shape S = statsShape(Out, -1);
  C.buffer("mean", DType::Float, S, "LayerNorm mean");
  C.buffer("rstd", DType::Float, S, "LayerNorm inverse std");
}

/// com.microsoft::Attention(input, weights, bias, mask, past): the unfused
/// module keeps the projection input, Q, K, V and the softmax output.
void saveMsAttention(SaveContext &C) {
  if (!C.anyRG())
    return;
  Value *X = C.in(0), *Y = C.out(0);
  if (!X || !Y || !X->Sh.hasRank() || X->Sh.rank() != 3)
    return;
  C.input(0, "input of the QKV projection");
  int64_t B = X->Sh[0], S = X->Sh[1], H = Y->Sh.hasRank() ? Y->Sh[2] : -1;
  int64_t N = C.node().attrInt("num_heads", 1);
  int64_t L = S;
  if (Value *Present = C.out(1))
    if (Present->Sh.hasRank() && Present->Sh.rank() == 5)
      L = Present->Sh[3];
  Shape QKV(ArrayRef<int64_t>{B, S, H});
  C.activationBuffer("q", X->Ty, QKV, "Q for QK^T");
  C.activationBuffer("k", X->Ty, Shape(ArrayRef<int64_t>{B, L, H}),
                     "K for QK^T");
  C.activationBuffer("v", X->Ty, Shape(ArrayRef<int64_t>{B, L, H}),
                     "V for scores x V");
  C.activationBuffer("probs", X->Ty, probsShape(B, N, S, L), "softmax output");
}

void saveBiasSoftmax(SaveContext &C) {
  if (C.anyRG())
    C.output(0, "softmax output");
}

void saveFusedMatMul(SaveContext &C) { saveProductOperands(C); }

/// BiasSplitGelu(x, bias): (x + bias) split in two halves a, b; a * gelu(b)
/// keeps both halves, one tensor the size of x.
void saveBiasSplitGelu(SaveContext &C) {
  Value *X = C.in(0);
  if (X && C.anyRG())
    C.activationBuffer("sum", X->Ty, X->Sh,
                       "input of the gated GELU (x + bias)");
}

const OpInfo Rows[] = {
    {"", "SimplifiedLayerNormalization", 1, Any, layerNormLike,
     saveRmsNormalization, ViewKind::None, GradKind::Differentiable,
     PrecisionClass::FP32, "rms_norm: input, rstd", "", false,
     PrecisionClass::InputType, SavedKind::Norm, ServingKind::Outputs, true},
    {MS, "Attention", 1, Any, msAttention, saveMsAttention, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "linear + matmul/softmax/matmul (unfused attention)", "", false,
     PrecisionClass::LowerPrecision, SavedKind::Attention},
    {MS, "MultiHeadAttention", 1, Any, multiHeadAttention,
     saveProjectedAttention, ViewKind::None, GradKind::Differentiable,
     PrecisionClass::LowerPrecision, "_scaled_dot_product_attention_math", "",
     false, PrecisionClass::LowerPrecision, SavedKind::Attention},
    {MS, "GroupQueryAttention", 1, Any, groupQueryAttention,
     saveProjectedAttention, ViewKind::None, GradKind::Differentiable,
     PrecisionClass::LowerPrecision, "_scaled_dot_product_attention_math", "",
     false, PrecisionClass::LowerPrecision, SavedKind::Attention},
    {MS, "RotaryEmbedding", 1, Any, likeFirst, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "x * cos + rotate(x) * sin: constants only", ""},
    {MS, "GemmaRotaryEmbedding", 1, Any, gemmaRotaryEmbedding, saveNothing,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "x * cos + rotate(x) * sin: constants only", ""},
    {MS, "SkipLayerNormalization", 1, Any, skipLayerNorm, saveSkipLN,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "native_layer_norm of input + skip", "", false, PrecisionClass::InputType,
     SavedKind::Norm, ServingKind::Outputs, true},
    {MS, "SkipSimplifiedLayerNormalization", 1, Any, skipLayerNorm,
     saveSkipSimplifiedLN, ViewKind::None, GradKind::Differentiable,
     PrecisionClass::FP32, "rms_norm of input + skip", "", false,
     PrecisionClass::InputType, SavedKind::Norm, ServingKind::Outputs, true},
    {MS, "SimplifiedLayerNormalization", 1, Any, layerNormLike,
     saveRmsNormalization, ViewKind::None, GradKind::Differentiable,
     PrecisionClass::FP32, "rms_norm: input, rstd", "", false,
     PrecisionClass::InputType, SavedKind::Norm, ServingKind::Outputs, true},
    {MS, "LayerNormalization", 1, Any, layerNormLike, saveLayerNormalization,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "native_layer_norm: input, mean, rstd", "", false,
     PrecisionClass::InputType, SavedKind::Norm, ServingKind::Outputs, true},
    {MS, "EmbedLayerNormalization", 1, Any, embedLayerNorm, saveEmbedLayerNorm,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "embedding x3 + native_layer_norm", "", false, PrecisionClass::InputType,
     SavedKind::Norm},
    {MS, "GroupNorm", 1, Any, likeFirst, saveGroupNorm, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32,
     "native_group_norm: input, mean, rstd", "", false,
     PrecisionClass::InputType, SavedKind::Norm},
    {MS, "FastGelu", 1, Any, likeFirst, saveBiasGelu, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "gelu(x + bias): self", "", false, PrecisionClass::InputType,
     SavedKind::Activation},
    {MS, "BiasGelu", 1, Any, likeFirst, saveBiasGelu, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "gelu(x + bias): self", "", false, PrecisionClass::InputType,
     SavedKind::Activation},
    {MS, "Gelu", 1, Any, likeFirst, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "gelu: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {MS, "QuickGelu", 1, Any, likeFirst, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "x * sigmoid(1.702x): self", "", false, PrecisionClass::InputType,
     SavedKind::Activation},
    {MS, "BiasAdd", 1, Any, likeFirst, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "add", ""},
    {MS, "BiasSplitGelu", 1, Any, biasSplitGelu, saveBiasSplitGelu,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "a * gelu(b) of (x + bias): both halves", "", false,
     PrecisionClass::InputType, SavedKind::Activation},
    {MS, "BiasSoftmax", 1, Any, likeFirst, saveBiasSoftmax, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "_softmax: result", "",
     false, PrecisionClass::InputType, SavedKind::Attention},
    {MS, "FusedMatMul", 1, Any, fusedMatMul, saveFusedMatMul, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::LowerPrecision, "matmul", "",
     false, PrecisionClass::LowerPrecision, SavedKind::MatMul},
    {MS, "FusedGemm", 1, Any, fusedGemm, saveProductOperands, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "addmm (the fused activation is not modelled)", "", false,
     PrecisionClass::LowerPrecision, SavedKind::MatMul},
    {MS, "MatMulNBits", 1, Any, matMulNBits, saveProductOperands,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "matmul (n-bit weight: no activation kept for it)", "", false,
     PrecisionClass::InputType, SavedKind::MatMul},
    {MS, "MatMulIntegerToFloat", 1, Any, matmulTypedBy<2>, saveProductOperands,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "matmul (quantized operands)", "", false, PrecisionClass::InputType,
     SavedKind::MatMul},
    {MS, "DynamicQuantizeMatMul", 1, Any, matmulTypedBy<0>, saveProductOperands,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "matmul (quantized weight: no activation kept for it)", "", false,
     PrecisionClass::InputType, SavedKind::MatMul},
    {MS, "DecoderMaskedMultiHeadAttention", 1, Any, decoderMaskedMHA, nullptr,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "",
     "saved: an inference-only decoding kernel without a backward; "
     "conservative fallback",
     false, PrecisionClass::LowerPrecision, SavedKind::Attention},
    {MS, "DecoderMaskedSelfAttention", 1, Any, decoderMaskedSelfAttention,
     nullptr, ViewKind::None, GradKind::Differentiable,
     PrecisionClass::LowerPrecision, "",
     "saved: an inference-only decoding kernel without a backward; "
     "conservative fallback",
     false, PrecisionClass::LowerPrecision, SavedKind::Attention},
    {MS, "SkipGroupNorm", 1, Any, allLikeFirst, nullptr, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "",
     "saved: not yet modelled; priced by the conservative fallback"},
    {MS, "MoE", 1, Any, likeFirst, nullptr, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "",
     "saved: routing-dependent experts; priced by the conservative fallback"},
    {MS, "RemovePadding", 1, Any, removePadding, saveRemovePadding,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "index_select of the real tokens: the index", ""},
    {MS, "RestorePadding", 1, Any, restorePadding, saveRestorePadding,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "index_put into the padded batch: the index", ""},
    {MS, "PackedAttention", 1, Any, packedAttention, savePackedAttention,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "linear + matmul/softmax/matmul (unfused attention, packed tokens)", "",
     false, PrecisionClass::LowerPrecision, SavedKind::Attention},
    {MS, "PackedMultiHeadAttention", 1, Any, packedMultiHeadAttention,
     savePackedMHA, ViewKind::None, GradKind::Differentiable,
     PrecisionClass::LowerPrecision,
     "_scaled_dot_product_attention_math (packed tokens)", "", false,
     PrecisionClass::LowerPrecision, SavedKind::Attention},
    {MS, "GatherND", 1, Any, msGatherND, saveIndices, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "index: indices", ""},
    {MS, "Trilu", 1, Any, likeFirst, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "tril/triu", ""},
};

} // namespace

ArrayRef<OpInfo> contribOps() { return Rows; }

} // namespace vram

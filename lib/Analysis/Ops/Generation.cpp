//===- Generation.cpp - com.microsoft generation loops --------------------===//
//
// The op registry's rows for onnxruntime's generation ops (BeamSearch,
// WhisperBeamSearch, GreedySearch, Sampling; contrib_defs.cc and its
// BeamSearchShapeInference / GreedySearchShapeInference), with their shape
// functions. Each row holds every facet of one (domain, op, opset range);
// see vram/Analysis/OpRegistry.h.
//
// A generation op runs its decoder subgraph (and, for encoder-decoder
// models, its encoder once) in a loop inside one node. Its shape function
// sizes the outputs from input_ids [batch, prompt] and the constants
// max_length, num_beams and num_return_sequences (a graph input holding one
// of them is bound with --dim NAME=VALUE), and gives the subgraphs' inputs
// the shapes of the most expensive step, the last one, following
// onnxruntime's subgraph conventions (subgraph_gpt.cc, subgraph_t5_*.cc):
//
//   decoder, for batch x beams rows (BN), past length P = max_length - 1:
//     rank 5 (GPT-2 past)            [2, BN, heads, P, head]
//     rank 4 (past key or value)     [BN, heads, P, head]; a cross-attention
//                                    one ("cross" in its name): the encoder's
//                                    length instead of P
//     rank 3 (encoder_hidden_states) [BN, encoder length, hidden]
//     rank 2 (ids, masks)            [BN, 1]; a mask of a decoder-only model
//                                    [BN, max_length]; one of an encoder-
//                                    decoder [BN, encoder length]
//   encoder, once for the batch: rank 2 [batch, prompt] (decoder_input_ids
//   [batch, 1]), rank 3 (audio features) like input 0.
//
// Serving prices the node's step with the largest forward working set of
// its subgraphs (ServingKind::Generation): the decoder's at the last step,
// holding the KV cache at max_length. Training is refused (serving only).
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

/// Which inputs of the op hold what (onnxruntime contrib_defs.cc).
struct GenerationSpec {
  int NumBeams = -1;      ///< input index of num_beams; -1: one beam
  int NumReturn = -1;     ///< input index of num_return_sequences; -1: none
  int DecoderPrompt = -1; ///< input with the decoder's prompt (Whisper)
  bool Beam = false;      ///< outputs [B, R, L], sequences_scores, scores
  bool FilteredLogits = false; ///< output 1 [B, vocab] (Sampling)
};

/// A one-element integer input's value, or Unknown.
int64_t scalarInput(ShapeContext &C, unsigned I, int64_t Default) {
  if (!C.hasInput(I))
    return Default;
  if (auto V = C.ints(I))
    if (V->size() == 1)
      return (*V)[0];
  return Unknown;
}

Graph *graphNamed(ShapeContext &C, StringRef Name) {
  Node &N = C.node();
  const Attribute *A = N.attr(Name);
  if (!A || A->K != Attribute::Graphs || A->GraphIndices.empty() ||
      A->GraphIndices[0] >= N.Subgraphs.size())
    return nullptr;
  return N.Subgraphs[A->GraphIndices[0]].get();
}

/// Gives subgraph input V the shape S (keeping its dtype), dropping any
/// contents.
void setInput(Value &V, IntVec Dims) {
  V.Sh = Shape(Dims);
  V.Data = None;
}

/// The subgraph's declared shapes are one call's (batch meaning batch x
/// beams, lengths per step): not compared with the computed ones.
void dropDeclarations(Graph &G) {
  for (const auto &V : G.Values)
    V->DeclaredShape = None;
}

/// The last decoding step's input shapes (see the file comment).
void shapeDecoderInputs(Graph &Dec, int64_t BN, int64_t MaxLen,
                        bool EncoderDecoder, int64_t EncLen) {
  int64_t Past = known(MaxLen) ? MaxLen - 1 : Unknown;
  for (Value *V : Dec.Inputs) {
    if (!V->Sh.hasRank())
      continue;
    const Shape &S = V->Sh;
    std::string Lower = StringRef(V->Name).lower();
    bool Cross = StringRef(Lower).contains("cross");
    switch (S.rank()) {
    case 5:
      setInput(*V, {S[0], BN, S[2], Cross ? EncLen : Past, S[4]});
      break;
    case 4:
      setInput(*V, {BN, S[1], Cross ? EncLen : Past, S[3]});
      break;
    case 3:
      setInput(*V, {BN, EncoderDecoder ? EncLen : 1, S[2]});
      break;
    case 2:
      if (StringRef(Lower).contains("mask"))
        setInput(*V, {BN, EncoderDecoder ? EncLen : MaxLen});
      else
        setInput(*V, {BN, 1});
      break;
    default:
      break;
    }
  }
}

/// The encoder's inputs, for the batch once.
void shapeEncoderInputs(Graph &Enc, const Shape &Ids, int64_t B, int64_t S) {
  for (Value *V : Enc.Inputs) {
    if (!V->Sh.hasRank())
      continue;
    std::string Lower = StringRef(V->Name).lower();
    if (V->Sh.rank() == 2)
      setInput(*V, {B, StringRef(Lower).contains("decoder") ? 1 : S});
    else if (V->Sh.rank() == 3 && Ids.hasRank() && Ids.rank() == 3)
      setInput(*V, {Ids[0], Ids[1], Ids[2]});
  }
}

/// The encoder's output length: the middle dim of its rank-3 output named
/// like hidden states, else the prompt's length.
int64_t encoderLength(Graph *Enc, int64_t S) {
  if (!Enc)
    return S;
  for (Value *V : Enc->Outputs)
    if (V && V->Sh.hasRank() && V->Sh.rank() == 3 &&
        StringRef(V->Name).lower().find("hidden") != std::string::npos)
      return V->Sh[1];
  return S;
}

Error generation(ShapeContext &C, const GenerationSpec &Spec) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &Ids = C.in(0)->Sh;
  bool Audio = Ids.hasRank() && Ids.rank() == 3;
  if (!Ids.hasRank() || (Ids.rank() != 2 && !Audio))
    return C.error("input_ids must be [batch, sequence] (or [batch, "
                   "features, frames] for audio), not " +
                   Ids.str());
  int64_t B = Ids[0];
  int64_t S = Audio ? 1 : Ids[1];
  if (Spec.DecoderPrompt >= 0)
    if (Value *P = C.in(Spec.DecoderPrompt))
      if (P->Sh.hasRank() && P->Sh.rank() == 2)
        S = P->Sh[1];
  int64_t L = scalarInput(C, 1, Unknown);
  int64_t N = Spec.NumBeams >= 0 ? scalarInput(C, Spec.NumBeams, 1) : 1;
  int64_t R = Spec.NumReturn >= 0 ? scalarInput(C, Spec.NumReturn, 1) : 1;
  if (!C.hasInput(1))
    return C.error("max_length (input 1) is missing");
  auto Unbound = [&](unsigned I, StringRef What) {
    C.note(Twine(What) + " (input " + Twine(I) + " '" + C.in(I)->Name +
           "') is not a constant: its outputs and its decoder's working set "
           "stay unpriced; bind it with --dim " +
           C.in(I)->Name + "=VALUE when it is a graph input");
  };
  if (!known(L))
    Unbound(1, "max_length");
  if (!known(N))
    Unbound(Spec.NumBeams, "num_beams");
  if (!known(R))
    Unbound(Spec.NumReturn, "num_return_sequences");
  if (known(L) && L <= 0)
    return C.error("max_length " + Twine(L) + " is not positive");
  if ((known(N) && N <= 0) || (known(R) && R <= 0))
    return C.error("num_beams and num_return_sequences must be positive");
  if (known(L) && known(S) && L < S)
    return C.error("max_length " + Twine(L) + " is shorter than the prompt (" +
                   Twine(S) + " tokens)");
  if (known(N) && known(R) && R > N)
    return C.error("num_return_sequences " + Twine(R) + " exceeds num_beams " +
                   Twine(N));
  int64_t BN = Unknown;
  if (known(B) && known(N) && __builtin_mul_overflow(B, N, &BN))
    return C.error("batch x num_beams overflows 64 bits");

  // The subgraphs, sized for the last step.
  Graph *Enc = graphNamed(C, "encoder");
  Graph *Dec = graphNamed(C, "decoder");
  if (!Dec)
    return C.error("missing graph attribute 'decoder'");
  if (Enc) {
    shapeEncoderInputs(*Enc, Ids, B, Audio ? Unknown : Ids[1]);
    dropDeclarations(*Enc);
    if (Error E = C.inferSubgraph(*Enc))
      return E;
  }
  int64_t EncLen = encoderLength(Enc, Audio ? Unknown : Ids[1]);
  shapeDecoderInputs(*Dec, BN, L, Enc != nullptr, EncLen);
  dropDeclarations(*Dec);
  if (Error E = C.inferSubgraph(*Dec))
    return E;
  int64_t Vocab = C.node().attrInt("vocab_size", -1);
  if (Vocab <= 0) {
    Vocab = Unknown;
    if (!Dec->Outputs.empty() && Dec->Outputs[0] &&
        Dec->Outputs[0]->Sh.hasRank() && Dec->Outputs[0]->Sh.rank() > 0)
      Vocab = Dec->Outputs[0]->Sh[Dec->Outputs[0]->Sh.rank() - 1];
  }

  // The outputs (sequences are int32 token ids).
  if (Spec.Beam) {
    C.setOutput(0, DType::Int32, Shape(ArrayRef<int64_t>{B, R, L}));
    C.setOutput(1, DType::Float, Shape(ArrayRef<int64_t>{B, R}));
    int64_t New = known(L) && known(S) ? L - S : Unknown;
    C.setOutput(2, DType::Float, Shape(ArrayRef<int64_t>{New, B, N, Vocab}));
    return ok();
  }
  C.setOutput(0, DType::Int32, Shape(ArrayRef<int64_t>{B, L}));
  if (Spec.FilteredLogits)
    C.setOutput(1, DType::Float, Shape(ArrayRef<int64_t>{B, Vocab}));
  return ok();
}

/// BeamSearch: input_ids, max_length, min_length, num_beams,
/// num_return_sequences, length_penalty, ...
Error beamSearch(ShapeContext &C) {
  GenerationSpec S;
  S.NumBeams = 3;
  S.NumReturn = 4;
  S.Beam = true;
  return generation(C, S);
}

/// WhisperBeamSearch: as BeamSearch, input 0 the audio features; the
/// decoder's prompt is decoder_input_ids (input 10).
Error whisperBeamSearch(ShapeContext &C) {
  GenerationSpec S;
  S.NumBeams = 3;
  S.NumReturn = 4;
  S.DecoderPrompt = 10;
  S.Beam = true;
  return generation(C, S);
}

/// GreedySearch: input_ids, max_length, min_length, ...: sequences [B, L].
Error greedySearch(ShapeContext &C) { return generation(C, GenerationSpec()); }

/// Sampling: as GreedySearch, with filtered_logits [B, vocab].
Error sampling(ShapeContext &C) {
  GenerationSpec S;
  S.FilteredLogits = true;
  return generation(C, S);
}

constexpr const char *ServingOnly =
    "serving only: a generation loop has no backward (training is refused)";

const OpInfo Rows[] = {
    {MS, "BeamSearch", 1, Any, beamSearch, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, ServingOnly, "",
     false, PrecisionClass::InputType, SavedKind::Other,
     ServingKind::Generation},
    {MS, "GreedySearch", 1, Any, greedySearch, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, ServingOnly, "",
     false, PrecisionClass::InputType, SavedKind::Other,
     ServingKind::Generation},
    {MS, "Sampling", 1, Any, sampling, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, ServingOnly, "",
     false, PrecisionClass::InputType, SavedKind::Other,
     ServingKind::Generation},
    {MS, "WhisperBeamSearch", 1, Any, whisperBeamSearch, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     ServingOnly, "", false, PrecisionClass::InputType, SavedKind::Other,
     ServingKind::Generation},
};

} // namespace

ArrayRef<OpInfo> generationOps() { return Rows; }

} // namespace vram

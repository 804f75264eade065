//===- ATen.cpp - org.pytorch.aten
//------------------------------------------===//
//
// The op registry's rows for org.pytorch.aten::ATen, dispatched on its operator
// attribute, and their shape functions and saved-tensor rules (following
// onnxruntime aten_op). Each row holds every facet of one (domain, op, opset
// range); see vram/Analysis/OpRegistry.h.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

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

const OpInfo Rows[] = {
    {"org.pytorch.aten", "ATen", 1, Any, aten, nullptr, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "",
     "saved: depends on the operator attribute; priced by the conservative "
     "fallback"},
};

} // namespace

ArrayRef<OpInfo> atenOps() { return Rows; }

} // namespace vram

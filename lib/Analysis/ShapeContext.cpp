//===- ShapeContext.cpp - Helpers for shape functions ---------------------===//

#include "vram/Analysis/ShapeFunctions.h"
#include "vram/Support/Diagnostics.h"

#include <algorithm>

using namespace llvm;

namespace vram {

Optional<SmallVector<int64_t, 8>> ShapeContext::ints(unsigned I) const {
  const TensorData *D = data(I);
  if (!D)
    return None;
  SmallVector<int64_t, 8> R;
  for (size_t K = 0; K < D->size(); ++K)
    R.push_back(D->asInt(K));
  return R;
}

void ShapeContext::setOutput(unsigned I, DType T, const Shape &S) {
  Value *V = out(I);
  if (!V)
    return;
  V->Ty = T;
  V->Sh = S;
  V->Data = None;
  V->Seq = None;
}

void ShapeContext::setSequenceOutput(unsigned I, DType T, SequenceType S) {
  Value *V = out(I);
  if (!V)
    return;
  V->Ty = T;
  V->Sh = S.storage();
  V->Data = None;
  V->Seq = std::move(S);
}

void ShapeContext::setOutput(unsigned I, DType T, const Shape &S,
                             TensorData Data) {
  setOutput(I, T, S);
  Value *V = out(I);
  if (!V)
    return;
  Optional<uint64_t> N = S.numElements();
  if (!N || *N > MaxKnownElements || *N != Data.size())
    return;
  V->Data = std::move(Data);
}

Error ShapeContext::error(const Twine &Msg) const {
  return makeError(describeNode(N) + ": " + Msg);
}

void ShapeContext::note(const Twine &Msg) const {
  if (Diags)
    Diags->note(describeNode(N) + ": " + Msg);
}

Error ShapeContext::requireInput(unsigned I) const {
  if (!in(I))
    return error("missing required input " + Twine(I));
  return Error::success();
}

} // namespace vram

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

static bool ruleLess(const ShapeRule *A, const ShapeRule *B) {
  int C = StringRef(A->Domain).compare(B->Domain);
  if (C)
    return C < 0;
  C = StringRef(A->OpType).compare(B->OpType);
  if (C)
    return C < 0;
  return A->MinVersion < B->MinVersion;
}

const ShapeRule *findShapeRule(StringRef Domain, StringRef OpType,
                               int64_t Version) {
  // Built once: every rule of both tables, sorted by (domain, op, version).
  static const std::vector<const ShapeRule *> Sorted = [] {
    std::vector<const ShapeRule *> V;
    for (const ShapeRule &R : onnxShapeRules())
      V.push_back(&R);
    for (const ShapeRule &R : fusedShapeRules())
      V.push_back(&R);
    std::sort(V.begin(), V.end(), ruleLess);
    return V;
  }();
  auto It = std::lower_bound(
      Sorted.begin(), Sorted.end(), std::make_pair(Domain, OpType),
      [](const ShapeRule *R, std::pair<StringRef, StringRef> Key) {
        int C = StringRef(R->Domain).compare(Key.first);
        if (C)
          return C < 0;
        return StringRef(R->OpType).compare(Key.second) < 0;
      });
  const ShapeRule *Best = nullptr;
  for (;
       It != Sorted.end() && Domain == (*It)->Domain && OpType == (*It)->OpType;
       ++It) {
    // A model may import an opset older than a rule's first version (an
    // op unchanged since then); the newest rule not after Version wins,
    // else the oldest rule.
    if ((*It)->MinVersion <= Version && Version <= (*It)->MaxVersion)
      Best = *It;
    else if (!Best && (*It)->MinVersion > Version)
      Best = *It;
  }
  return Best;
}

} // namespace vram

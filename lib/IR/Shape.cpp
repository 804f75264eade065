//===- Shape.cpp - Tensor shapes ------------------------------------------===//

#include "vram/IR/Shape.h"

#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

bool Shape::isConcrete() const {
  if (!RankKnown)
    return false;
  for (int64_t D : Dims)
    if (D < 0)
      return false;
  return true;
}

Optional<uint64_t> Shape::numElements() const {
  if (!isConcrete())
    return None;
  uint64_t N = 1;
  for (int64_t D : Dims) {
    uint64_t U = static_cast<uint64_t>(D);
    if (U != 0 && N > UINT64_MAX / U)
      return None;
    N *= U;
  }
  return N;
}

std::string Shape::str() const {
  if (!RankKnown)
    return "[*]";
  std::string S;
  raw_string_ostream OS(S);
  OS << '[';
  for (size_t I = 0; I < Dims.size(); ++I) {
    if (I)
      OS << ", ";
    if (Dims[I] < 0)
      OS << '?';
    else
      OS << Dims[I];
  }
  OS << ']';
  return OS.str();
}

Optional<Shape> broadcastShapes(const Shape &A, const Shape &B) {
  if (!A.hasRank() || !B.hasRank())
    return Shape();
  size_t R = std::max(A.rank(), B.rank());
  SmallVector<int64_t, 6> Out(R, Shape::Unknown);
  for (size_t I = 0; I < R; ++I) {
    int64_t DA = I < R - A.rank() ? 1 : A[I - (R - A.rank())];
    int64_t DB = I < R - B.rank() ? 1 : B[I - (R - B.rank())];
    if (DA == 1) {
      Out[I] = DB;
    } else if (DB == 1) {
      Out[I] = DA;
    } else if (DA < 0 || DB < 0) {
      // An unknown dim against a concrete non-1 dim must equal it (or be 1,
      // which broadcasts to it): the concrete one wins either way.
      Out[I] = DA < 0 ? DB : DA;
    } else if (DA == DB) {
      Out[I] = DA;
    } else {
      return None;
    }
  }
  return Shape(Out);
}

Optional<size_t> normalizeAxis(int64_t Axis, size_t Rank) {
  int64_t R = static_cast<int64_t>(Rank);
  if (Axis < -R || Axis >= R)
    return None;
  return static_cast<size_t>(Axis < 0 ? Axis + R : Axis);
}

Optional<Shape> resolveReshape(const Shape &Input, ArrayRef<int64_t> Target,
                               bool AllowZero) {
  SmallVector<int64_t, 6> Out(Target.begin(), Target.end());
  int InferIdx = -1;
  for (size_t I = 0; I < Out.size(); ++I) {
    if (Out[I] == -1) {
      if (InferIdx >= 0)
        return None;
      InferIdx = static_cast<int>(I);
    } else if (Out[I] == 0 && !AllowZero) {
      if (!Input.hasRank())
        Out[I] = Shape::Unknown;
      else if (I >= Input.rank())
        return None;
      else
        Out[I] = Input[I];
    } else if (Out[I] < -1) {
      return None;
    }
  }
  if (InferIdx < 0)
    return Shape(Out);
  // Infer the -1 dim from the element counts when everything is known.
  Optional<uint64_t> InN = Input.numElements();
  uint64_t Known = 1;
  bool AllKnown = InN.hasValue();
  for (size_t I = 0; I < Out.size(); ++I) {
    if (static_cast<int>(I) == InferIdx)
      continue;
    if (Out[I] < 0) {
      AllKnown = false;
      continue;
    }
    uint64_t U = static_cast<uint64_t>(Out[I]);
    if (U != 0 && Known > UINT64_MAX / U)
      return None;
    Known *= U;
  }
  if (!AllKnown) {
    Out[InferIdx] = Shape::Unknown;
    return Shape(Out);
  }
  // With a zero among the other dims, -1 could be any size (PyTorch and
  // onnxruntime refuse it too).
  if (Known == 0)
    return None;
  if (*InN % Known != 0)
    return None;
  uint64_t Inferred = *InN / Known;
  if (Inferred > static_cast<uint64_t>(INT64_MAX))
    return None;
  Out[InferIdx] = static_cast<int64_t>(Inferred);
  return Shape(Out);
}

} // namespace vram

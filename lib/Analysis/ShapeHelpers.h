//===- ShapeHelpers.h - Shared pieces of shape functions --------*- C++ -*-===//
//
// Private to lib/Analysis: small building blocks used by the shape-function
// tables (elementwise broadcast, pass-through, axes from attribute or input).
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_LIB_ANALYSIS_SHAPEHELPERS_H
#define VRAM_LIB_ANALYSIS_SHAPEHELPERS_H

#include "vram/Analysis/ShapeFunctions.h"

namespace vram {
namespace shapes {

/// Output 0 has input 0's dtype and shape (and contents when Data is set).
inline llvm::Error passThrough(ShapeContext &C) {
  if (llvm::Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  if (X->Data)
    C.setOutput(0, X->Ty, X->Sh, *X->Data);
  else
    C.setOutput(0, X->Ty, X->Sh);
  return llvm::Error::success();
}

/// Broadcast shape of every present input; error when they cannot broadcast.
inline llvm::Expected<Shape> broadcastInputs(ShapeContext &C,
                                             unsigned First = 0) {
  Shape Out = Shape::scalar();
  bool Any = false;
  for (unsigned I = First; I < C.numInputs(); ++I) {
    Value *V = C.in(I);
    if (!V)
      continue;
    if (!Any) {
      Out = V->Sh;
      Any = true;
      continue;
    }
    llvm::Optional<Shape> B = broadcastShapes(Out, V->Sh);
    if (!B)
      return C.error("inputs of shapes " + Out.str() + " and " + V->Sh.str() +
                     " do not broadcast");
    Out = *B;
  }
  return Out;
}

/// Multi-index helpers for contents propagation on broadcast shapes.
/// Maps a flat index of Out to the flat index of In under broadcasting.
inline size_t broadcastIndex(const Shape &Out, const Shape &In, size_t Flat) {
  size_t R = Out.rank(), IR = In.rank();
  size_t Index = 0, Stride = 1;
  for (size_t K = 0; K < R; ++K) {
    size_t Axis = R - 1 - K;
    size_t Dim = static_cast<size_t>(Out[Axis]);
    size_t Coord = Dim ? Flat % Dim : 0;
    Flat = Dim ? Flat / Dim : 0;
    if (K < IR) {
      size_t InDim = static_cast<size_t>(In[IR - 1 - K]);
      if (InDim != 1)
        Index += Coord * Stride;
      Stride *= InDim;
    }
  }
  return Index;
}

} // namespace shapes
} // namespace vram

#endif

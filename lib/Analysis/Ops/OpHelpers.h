//===- OpHelpers.h - Shared pieces of the op registry's functions -*- C++
//-*-===//
//
// Private to lib/Analysis: the building blocks that shape functions and
// saved-tensor rules of several op families share (elementwise broadcast,
// pass-through, axes from an attribute or an input, statistics shapes,
// contents arithmetic). A function used by one family lives in that
// family's file.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_LIB_ANALYSIS_OPS_OPHELPERS_H
#define VRAM_LIB_ANALYSIS_OPS_OPHELPERS_H

#include "vram/Analysis/OpRegistry.h"
#include "vram/Analysis/SavedRules.h"
#include "vram/Analysis/ShapeFunctions.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringRef.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace vram {
namespace ops {

using namespace llvm;

constexpr int64_t Any = AnyVersion;
constexpr int64_t Unknown = Shape::Unknown;
constexpr const char *MS = "com.microsoft";

/// Output 0 has input 0's dtype and shape (and contents when Data is set).
inline Error passThrough(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  if (X->Data)
    C.setOutput(0, X->Ty, X->Sh, *X->Data);
  else
    C.setOutput(0, X->Ty, X->Sh);
  return Error::success();
}

/// Broadcast shape of every present input; error when they cannot broadcast.
inline Expected<Shape> broadcastInputs(ShapeContext &C, unsigned First = 0) {
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
    Optional<Shape> B = broadcastShapes(Out, V->Sh);
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

using IntVec = SmallVector<int64_t, 8>;

inline Error ok() { return Error::success(); }

inline Shape shapeOf(ArrayRef<int64_t> Dims) { return Shape(Dims); }

/// Input I's contents when known and consistent with a concrete shape.
inline const TensorData *knownData(ShapeContext &C, unsigned I) {
  Value *V = C.in(I);
  if (!V || !V->Data || !V->Sh.isConcrete())
    return nullptr;
  Optional<uint64_t> N = V->Sh.numElements();
  if (!N || *N != V->Data->size())
    return nullptr;
  return V->Data.getPointer();
}

/// Element count when the shape is concrete and small enough to hold.
inline Optional<size_t> smallCount(const Shape &S) {
  Optional<uint64_t> N = S.numElements();
  if (!N || *N > MaxKnownElements)
    return None;
  return static_cast<size_t>(*N);
}

/// Copies the elements of Src at the given flat indices.
inline TensorData pick(const TensorData &Src, ArrayRef<size_t> Indices) {
  TensorData D;
  D.IsFloat = Src.IsFloat;
  for (size_t I : Indices) {
    if (Src.IsFloat)
      D.Floats.push_back(Src.Floats[I]);
    else
      D.Ints.push_back(Src.Ints[I]);
  }
  return D;
}

/// Row-major coordinates of a flat index.
inline IntVec unflatten(size_t Flat, ArrayRef<int64_t> Dims) {
  IntVec Coords(Dims.size(), 0);
  for (size_t K = Dims.size(); K-- > 0;) {
    size_t D = static_cast<size_t>(Dims[K]);
    Coords[K] = D ? static_cast<int64_t>(Flat % D) : 0;
    Flat = D ? Flat / D : 0;
  }
  return Coords;
}

inline size_t flatten(ArrayRef<int64_t> Coords, ArrayRef<int64_t> Dims) {
  size_t Flat = 0;
  for (size_t K = 0; K < Dims.size(); ++K)
    Flat = Flat * static_cast<size_t>(Dims[K]) + static_cast<size_t>(Coords[K]);
  return Flat;
}

/// Product of dims [Begin, End); Unknown when any of them is unknown.
inline int64_t dimProduct(const Shape &S, size_t Begin, size_t End) {
  int64_t P = 1;
  for (size_t I = Begin; I < End; ++I) {
    if (S[I] < 0)
      return Shape::Unknown;
    P *= S[I];
  }
  return P;
}

inline int64_t floorDiv(int64_t A, int64_t B) {
  int64_t Q = A / B;
  if ((A % B != 0) && ((A < 0) != (B < 0)))
    --Q;
  return Q;
}

inline int64_t ceilDiv(int64_t A, int64_t B) { return -floorDiv(-A, B); }

/// Integer value narrowed to the range of T (two's complement wrap).
inline int64_t wrapInt(DType T, int64_t V) {
  switch (T) {
  case DType::Bool:
    return V != 0;
  case DType::Int8:
    return static_cast<int8_t>(V);
  case DType::UInt8:
    return static_cast<uint8_t>(V);
  case DType::Int16:
    return static_cast<int16_t>(V);
  case DType::UInt16:
    return static_cast<uint16_t>(V);
  case DType::Int32:
    return static_cast<int32_t>(V);
  case DType::UInt32:
    return static_cast<uint32_t>(V);
  default:
    return V;
  }
}

inline bool holdsInts(DType T) { return isInteger(T) || T == DType::Bool; }

/// Builds contents of type T from doubles (integers truncate).
inline TensorData fromDoubles(DType T, ArrayRef<double> Vals) {
  if (isFloatingPoint(T))
    return TensorData::floats(Vals);
  TensorData D;
  for (double V : Vals)
    D.Ints.push_back(wrapInt(T, static_cast<int64_t>(std::trunc(V))));
  return D;
}

/// Sets output I, with contents when D holds a value.
inline void setOut(ShapeContext &C, unsigned I, DType T, const Shape &S,
                   Optional<TensorData> D) {
  if (D)
    C.setOutput(I, T, S, std::move(*D));
  else
    C.setOutput(I, T, S);
}

inline Error requireInputs(ShapeContext &C, unsigned N) {
  for (unsigned I = 0; I < N; ++I)
    if (Error E = C.requireInput(I))
      return E;
  return ok();
}

/// Normalizes a list of axes against Rank: error when out of range or
/// repeated.
inline Expected<SmallVector<size_t, 6>>
normalizeAxes(ShapeContext &C, ArrayRef<int64_t> Axes, size_t Rank) {
  SmallVector<size_t, 6> R;
  for (int64_t A : Axes) {
    Optional<size_t> N = normalizeAxis(A, Rank);
    if (!N)
      return C.error("axis " + Twine(A) + " is out of range for rank " +
                     Twine(Rank));
    if (is_contained(R, *N))
      return C.error("axis " + Twine(A) + " is repeated");
    R.push_back(*N);
  }
  return R;
}

inline Expected<size_t> axisAttr(ShapeContext &C, StringRef Name,
                                 int64_t Default, size_t Rank) {
  int64_t A = C.node().attrInt(Name, Default);
  Optional<size_t> N = normalizeAxis(A, Rank);
  if (!N)
    return C.error("attribute '" + Name + "' = " + Twine(A) +
                   " is out of range for rank " + Twine(Rank));
  return *N;
}

/// A list read from an attribute or an input: absent, known, or present but
/// with unknown contents.
struct IntList {
  bool Present = false;
  bool Known = false;
  IntVec Vals;
  /// Length when present but unknown and the input's shape says it.
  int64_t Length = Shape::Unknown;
};

/// The axes an op works on: Axes normalised against Rank when given, else
/// the first Count axes.
inline Expected<SmallVector<size_t, 6>>
axesOrFirst(ShapeContext &C, const IntList &Axes, size_t Rank, size_t Count) {
  if (Axes.Present)
    return normalizeAxes(C, Axes.Vals, Rank);
  SmallVector<size_t, 6> R;
  for (size_t I = 0; I < Count; ++I)
    R.push_back(I);
  return R;
}

inline IntList listFromAttr(ShapeContext &C, StringRef Name) {
  IntList L;
  if (Optional<ArrayRef<int64_t>> A = C.node().attrInts(Name)) {
    L.Present = L.Known = true;
    L.Vals.assign(A->begin(), A->end());
    L.Length = L.Vals.size();
  }
  return L;
}

inline IntList listFromInput(ShapeContext &C, unsigned I) {
  IntList L;
  Value *V = C.in(I);
  if (!V)
    return L;
  L.Present = true;
  if (auto Ints = C.ints(I)) {
    L.Known = true;
    L.Vals = *Ints;
    L.Length = L.Vals.size();
  } else if (V->Sh.hasRank() && V->Sh.rank() == 1) {
    L.Length = V->Sh[0];
  } else if (V->Sh.hasRank() && V->Sh.rank() == 0) {
    L.Length = 1;
  }
  return L;
}

inline IntList listFrom(ShapeContext &C, bool FromInput, unsigned I,
                        StringRef AttrName) {
  return FromInput ? listFromInput(C, I) : listFromAttr(C, AttrName);
}

/// Same dtype and shape as input 0, no contents.
inline Error sameAsInput(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, C.in(0)->Ty, C.in(0)->Sh);
  return ok();
}

/// Reads a shape from input I's contents; unknown dims (rank from the
/// input's length) when the contents are not known. Error on negative dims.
inline Expected<Shape> shapeFromInput(ShapeContext &C, unsigned I) {
  IntList L = listFromInput(C, I);
  if (!L.Known)
    return L.Length >= 0 ? Shape::unknownDims(L.Length) : Shape();
  for (int64_t D : L.Vals)
    if (D < 0)
      return C.error("shape input has a negative dim " + Twine(D));
  return Shape(L.Vals);
}

inline Error flatten(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape::unknownDims(2));
    return ok();
  }
  int64_t R = X->Sh.rank();
  int64_t Axis = C.node().attrInt("axis", 1);
  if (Axis < -R || Axis > R)
    return C.error("axis " + Twine(Axis) + " is out of range for rank " +
                   Twine(R));
  if (Axis < 0)
    Axis += R;
  Shape Out({dimProduct(X->Sh, 0, Axis), dimProduct(X->Sh, Axis, R)});
  setOut(C, 0, X->Ty, Out, X->Data);
  return ok();
}

inline Error transpose(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  size_t R = X->Sh.rank();
  IntVec Perm;
  if (auto P = C.node().attrInts("perm"))
    Perm.assign(P->begin(), P->end());
  else
    for (size_t I = 0; I < R; ++I)
      Perm.push_back(R - 1 - I);
  if (Perm.size() != R)
    return C.error("perm has " + Twine(Perm.size()) + " entries for rank " +
                   Twine(R));
  auto Norm = normalizeAxes(C, Perm, R);
  if (!Norm)
    return Norm.takeError();
  IntVec Dims;
  for (size_t P : *Norm)
    Dims.push_back(X->Sh[P]);
  Shape Out(Dims);
  Optional<TensorData> D;
  if (const TensorData *Src = knownData(C, 0)) {
    SmallVector<size_t, 16> Flat;
    for (size_t I = 0; I < Src->size(); ++I) {
      IntVec OC = unflatten(I, Dims);
      IntVec IC(R, 0);
      for (size_t K = 0; K < R; ++K)
        IC[(*Norm)[K]] = OC[K];
      Flat.push_back(flatten(IC, X->Sh.dims()));
    }
    D = pick(*Src, Flat);
  }
  setOut(C, 0, X->Ty, Out, std::move(D));
  return ok();
}

/// Contents of a strided slice: per axis a start, a step and a length.
inline TensorData sliceData(const TensorData &Src, ArrayRef<int64_t> InDims,
                            ArrayRef<int64_t> Starts, ArrayRef<int64_t> Steps,
                            ArrayRef<int64_t> OutDims) {
  size_t N = 1;
  for (int64_t D : OutDims)
    N *= D;
  SmallVector<size_t, 16> Flat;
  for (size_t I = 0; I < N; ++I) {
    IntVec Co = unflatten(I, OutDims);
    for (size_t K = 0; K < Co.size(); ++K)
      Co[K] = Starts[K] + Co[K] * Steps[K];
    Flat.push_back(flatten(Co, InDims));
  }
  return pick(Src, Flat);
}

/// Slice: starts/ends/axes are attributes before opset 10, inputs since.
template <bool FromInputs> inline Error slice(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Starts = listFrom(C, FromInputs, 1, "starts");
  IntList Ends = listFrom(C, FromInputs, 2, "ends");
  IntList Axes = listFrom(C, FromInputs, 3, "axes");
  IntList Steps = listFrom(C, FromInputs, 4, "steps");
  if (!Starts.Present || !Ends.Present)
    return C.error("missing starts or ends");
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  const Shape &S = X->Sh;
  size_t R = S.rank();
  // Which axes are sliced.
  if (Axes.Present && !Axes.Known) {
    C.setOutput(0, X->Ty, Shape::unknownDims(R));
    return ok();
  }
  size_t Count =
      Starts.Known ? Starts.Vals.size() : (Ends.Known ? Ends.Vals.size() : R);
  if (!Axes.Present && Count > R)
    return C.error("slice of " + Twine(Count) + " axes on rank " + Twine(R));
  auto Norm = axesOrFirst(C, Axes, R, Count);
  if (!Norm)
    return Norm.takeError();
  SmallVector<size_t, 6> AxisList = *Norm;
  if (!Starts.Known || !Ends.Known || (Steps.Present && !Steps.Known)) {
    Shape Out = S;
    for (size_t A : AxisList)
      Out[A] = Shape::Unknown;
    C.setOutput(0, X->Ty, Out);
    return ok();
  }
  size_t N = AxisList.size();
  if (Starts.Vals.size() != N || Ends.Vals.size() != N ||
      (Steps.Present && Steps.Vals.size() != N))
    return C.error("starts, ends, axes and steps differ in length");
  IntVec OutDims(S.dims().begin(), S.dims().end());
  IntVec Begin(R, 0), Step(R, 1);
  for (size_t K = 0; K < N; ++K) {
    size_t A = AxisList[K];
    int64_t St = Steps.Present ? Steps.Vals[K] : 1;
    if (St == 0)
      return C.error("slice step is 0");
    int64_t D = S[A];
    Step[A] = St;
    if (D < 0) {
      OutDims[A] = Shape::Unknown;
      continue;
    }
    int64_t B = Starts.Vals[K], E = Ends.Vals[K];
    if (B < 0)
      B += D;
    if (E < 0)
      E += D;
    int64_t Len;
    if (St > 0) {
      B = std::min(std::max<int64_t>(B, 0), D);
      E = std::min(std::max<int64_t>(E, 0), D);
      Len = E > B ? ceilDiv(E - B, St) : 0;
    } else {
      B = std::min(std::max<int64_t>(B, 0), D - 1);
      E = std::min(std::max<int64_t>(E, -1), D - 1);
      Len = B > E ? ceilDiv(B - E, -St) : 0;
    }
    Begin[A] = B;
    OutDims[A] = Len;
  }
  Shape Out(OutDims);
  Optional<TensorData> D;
  if (const TensorData *Src = knownData(C, 0))
    if (Out.isConcrete())
      D = sliceData(*Src, S.dims(), Begin, Step, OutDims);
  setOut(C, 0, X->Ty, Out, std::move(D));
  return ok();
}

/// Split. Version selects where the sizes come from: 'split' attribute
/// (before 13), 'split' input (13+), and 'num_outputs' (18+).
template <int Since> inline Error split(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  unsigned NOut = C.numOutputs();
  if (!X->Sh.hasRank()) {
    for (unsigned I = 0; I < NOut; ++I)
      C.setOutput(I, X->Ty, Shape());
    return ok();
  }
  const Shape &S = X->Sh;
  Expected<size_t> Axis = axisAttr(C, "axis", 0, S.rank());
  if (!Axis)
    return Axis.takeError();
  int64_t D = S[*Axis];
  IntList Sizes = listFrom(C, Since >= 13, 1, "split");
  IntVec Chunks;
  bool Known = true;
  if (Sizes.Present) {
    if (!Sizes.Known) {
      Known = false;
    } else {
      Chunks = Sizes.Vals;
      if (Chunks.size() != NOut)
        return C.error("split has " + Twine(Chunks.size()) + " sizes for " +
                       Twine(NOut) + " outputs");
      int64_t Sum = 0;
      for (int64_t K : Chunks) {
        if (K < 0)
          return C.error("negative split size " + Twine(K));
        Sum += K;
      }
      if (D >= 0 && Sum != D)
        return C.error("split sizes sum to " + Twine(Sum) + " but dim " +
                       Twine(*Axis) + " is " + Twine(D));
    }
  } else if (D < 0 || NOut == 0) {
    Known = false;
  } else {
    int64_t N = C.node().attrInt("num_outputs", NOut);
    if (Since >= 18 && C.node().attr("num_outputs")) {
      if (N != static_cast<int64_t>(NOut))
        return C.error("num_outputs is " + Twine(N) + " but the node has " +
                       Twine(NOut) + " outputs");
      // Opset 18: chunks of ceil(D / N), the last one smaller.
      int64_t Chunk = ceilDiv(D, N);
      for (int64_t K = 0; K < N; ++K)
        Chunks.push_back(
            std::max<int64_t>(std::min<int64_t>(Chunk, D - K * Chunk), 0));
    } else {
      if (D % N != 0)
        return C.error("dim " + Twine(D) + " does not split evenly into " +
                       Twine(N) + " outputs");
      Chunks.assign(N, D / N);
    }
  }
  const TensorData *Src = knownData(C, 0);
  int64_t Offset = 0;
  for (unsigned I = 0; I < NOut; ++I) {
    Shape Out = S;
    Out[*Axis] = Known ? Chunks[I] : Shape::Unknown;
    Optional<TensorData> Data;
    if (Src && Known) {
      IntVec Begin(S.rank(), 0), Step(S.rank(), 1);
      Begin[*Axis] = Offset;
      Data = sliceData(*Src, S.dims(), Begin, Step, Out.dims());
    }
    setOut(C, I, X->Ty, Out, std::move(Data));
    if (Known)
      Offset += Chunks[I];
  }
  return ok();
}

inline Error range(ShapeContext &C) {
  if (Error E = requireInputs(C, 3))
    return E;
  DType T = C.in(0)->Ty;
  const TensorData *Start = knownData(C, 0), *Limit = knownData(C, 1),
                   *Delta = knownData(C, 2);
  if (!Start || !Limit || !Delta || Start->size() != 1 || Limit->size() != 1 ||
      Delta->size() != 1) {
    C.setOutput(0, T, shapeOf({Shape::Unknown}));
    return ok();
  }
  bool Float =
      Start->IsFloat || Limit->IsFloat || Delta->IsFloat || isFloatingPoint(T);
  int64_t N;
  TensorData D;
  if (!Float) {
    int64_t S = Start->Ints[0], L = Limit->Ints[0], Dl = Delta->Ints[0];
    if (Dl == 0)
      return C.error("range delta is 0");
    int64_t Diff;
    if (__builtin_sub_overflow(L, S, &Diff)) {
      C.setOutput(0, T, shapeOf({Shape::Unknown}));
      return ok();
    }
    N = std::max<int64_t>(ceilDiv(Diff, Dl), 0);
    if (static_cast<uint64_t>(N) <= MaxKnownElements)
      for (int64_t I = 0; I < N; ++I)
        D.Ints.push_back(wrapInt(T, S + I * Dl));
    // The first and last elements bound it (a gather of positions checks
    // them against its table even when the contents are too large to keep).
    int64_t Last;
    if (Value *Out = C.out(0)) {
      Out->Bounds = None;
      if (N > 0 && !__builtin_mul_overflow(N - 1, Dl, &Last) &&
          !__builtin_add_overflow(S, Last, &Last))
        Out->Bounds = std::make_pair(std::min(S, Last), std::max(S, Last));
    }
  } else {
    double S = Start->asDouble(0), L = Limit->asDouble(0),
           Dl = Delta->asDouble(0);
    if (Dl == 0)
      return C.error("range delta is 0");
    double Count = std::ceil((L - S) / Dl);
    if (!std::isfinite(Count) || Count > 9.0e18) {
      C.setOutput(0, T, shapeOf({Shape::Unknown}));
      return ok();
    }
    N = std::max<int64_t>(static_cast<int64_t>(Count), 0);
    if (static_cast<uint64_t>(N) <= MaxKnownElements) {
      SmallVector<double, 16> Vals;
      for (int64_t I = 0; I < N; ++I)
        Vals.push_back(S + I * Dl);
      D = fromDoubles(T, Vals);
    }
  }
  C.setOutput(0, T, shapeOf({N}), std::move(D));
  return ok();
}

/// Numpy matmul of input shapes A and B; error on mismatch.
inline Expected<Shape> matMulShape(ShapeContext &C, const Shape &A,
                                   const Shape &B) {
  if (!A.hasRank() || !B.hasRank())
    return Shape();
  if (A.rank() == 0 || B.rank() == 0)
    return C.error("matmul of a scalar");
  Shape A2 = A, B2 = B;
  if (A.rank() == 1)
    A2 = shapeOf({1, A[0]});
  if (B.rank() == 1)
    B2 = shapeOf({B[0], 1});
  int64_t KA = A2[A2.rank() - 1], KB = B2[B2.rank() - 2];
  if (KA >= 0 && KB >= 0 && KA != KB)
    return C.error("matmul of " + A.str() + " and " + B.str() +
                   ": inner dims differ");
  Shape BatchA(A2.dims().drop_back(2)), BatchB(B2.dims().drop_back(2));
  Optional<Shape> Batch = broadcastShapes(BatchA, BatchB);
  if (!Batch)
    return C.error("matmul of " + A.str() + " and " + B.str() +
                   ": batch dims do not broadcast");
  IntVec Dims(Batch->dims().begin(), Batch->dims().end());
  if (A.rank() != 1)
    Dims.push_back(A2[A2.rank() - 2]);
  if (B.rank() != 1)
    Dims.push_back(B2[B2.rank() - 1]);
  return Shape(Dims);
}

/// MatMul and relatives; OutTy Undefined means input 0's dtype.
template <DType OutTy> inline Error matMul(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Expected<Shape> S = matMulShape(C, C.in(0)->Sh, C.in(1)->Sh);
  if (!S)
    return S.takeError();
  C.setOutput(0, OutTy == DType::Undefined ? C.in(0)->Ty : OutTy, *S);
  return ok();
}

/// Spatial output dims of a convolution or pooling window.
struct WindowParams {
  IntVec Kernel, Strides, Dilations, Pads;
  StringRef AutoPad;
  bool CeilMode = false;
};

inline Expected<WindowParams> readWindow(ShapeContext &C, size_t NSpatial,
                                         ArrayRef<int64_t> KernelFallback) {
  Node &N = C.node();
  WindowParams P;
  if (auto K = N.attrInts("kernel_shape"))
    P.Kernel.assign(K->begin(), K->end());
  else
    P.Kernel.assign(KernelFallback.begin(), KernelFallback.end());
  if (P.Kernel.size() != NSpatial)
    return C.error("kernel has " + Twine(P.Kernel.size()) + " dims for " +
                   Twine(NSpatial) + " spatial dims");
  P.Strides.assign(NSpatial, 1);
  P.Dilations.assign(NSpatial, 1);
  P.Pads.assign(2 * NSpatial, 0);
  if (auto S = N.attrInts("strides"))
    P.Strides.assign(S->begin(), S->end());
  if (auto D = N.attrInts("dilations"))
    P.Dilations.assign(D->begin(), D->end());
  if (auto Pd = N.attrInts("pads"))
    P.Pads.assign(Pd->begin(), Pd->end());
  if (P.Strides.size() != NSpatial || P.Dilations.size() != NSpatial ||
      P.Pads.size() != 2 * NSpatial)
    return C.error("strides, dilations or pads do not match " +
                   Twine(NSpatial) + " spatial dims");
  for (int64_t S : P.Strides)
    if (S <= 0)
      return C.error("stride " + Twine(S) + " is not positive");
  P.AutoPad = N.attrString("auto_pad", "NOTSET");
  P.CeilMode = N.attrInt("ceil_mode", 0) != 0;
  return P;
}

inline int64_t windowOut(const WindowParams &P, size_t I, int64_t In) {
  if (In < 0 || P.Kernel[I] < 0)
    return Shape::Unknown;
  int64_t S = P.Strides[I];
  if (P.AutoPad == "SAME_UPPER" || P.AutoPad == "SAME_LOWER")
    return ceilDiv(In, S);
  int64_t EffK = (P.Kernel[I] - 1) * P.Dilations[I] + 1;
  int64_t Pads =
      P.AutoPad == "VALID" ? 0 : P.Pads[I] + P.Pads[I + P.Kernel.size()];
  int64_t Num = In + Pads - EffK;
  int64_t Out = (P.CeilMode ? ceilDiv(Num, S) : floorDiv(Num, S)) + 1;
  return std::max<int64_t>(Out, 0);
}

inline Error conv(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0), *W = C.in(1);
  const Shape &XS = X->Sh, &WS = W->Sh;
  size_t R = XS.hasRank() ? XS.rank() : (WS.hasRank() ? WS.rank() : 0);
  if (R == 0) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  if (R < 3 || (XS.hasRank() && WS.hasRank() && XS.rank() != WS.rank()))
    return C.error("conv of " + XS.str() + " with weights " + WS.str());
  int64_t Group = C.node().attrInt("group", 1);
  if (XS.hasRank() && WS.hasRank() && XS[1] >= 0 && WS[1] >= 0 &&
      XS[1] != WS[1] * Group)
    return C.error("conv input has " + Twine(XS[1]) + " channels, weights " +
                   "expect " + Twine(WS[1] * Group));
  IntVec Fallback;
  for (size_t I = 2; I < R; ++I)
    Fallback.push_back(WS.hasRank() ? WS[I] : Shape::Unknown);
  Expected<WindowParams> P = readWindow(C, R - 2, Fallback);
  if (!P)
    return P.takeError();
  IntVec Dims{XS.hasRank() ? XS[0] : Shape::Unknown,
              WS.hasRank() ? WS[0] : Shape::Unknown};
  for (size_t I = 2; I < R; ++I)
    Dims.push_back(windowOut(*P, I - 2, XS.hasRank() ? XS[I] : Shape::Unknown));
  C.setOutput(0, X->Ty, Shape(Dims));
  return ok();
}

/// Dropout: mask in X's dtype before opset 10, bool since.
template <bool BoolMask> inline Error dropout(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, X->Sh);
  C.setOutput(1, BoolMask ? DType::Bool : X->Ty, X->Sh);
  return ok();
}

inline bool known(int64_t D) { return D >= 0; }

inline int64_t addDims(int64_t A, int64_t B) {
  return known(A) && known(B) ? A + B : Unknown;
}

inline int64_t mulDims(int64_t A, int64_t B) {
  return known(A) && known(B) ? A * B : Unknown;
}

/// A / B when both are known and B divides A, else Unknown.
inline int64_t divDims(int64_t A, int64_t B) {
  if (!known(A) || !known(B) || B == 0 || A % B != 0)
    return Unknown;
  return A / B;
}

/// Dim I of S (negative counts from the end); Unknown when the rank is
/// unknown or I is out of range.
inline int64_t dimAt(const Shape &S, int64_t I) {
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
inline int64_t rankOf(ShapeContext &C, unsigned I) {
  Value *V = C.in(I);
  if (!V || !V->Sh.hasRank())
    return -1;
  return static_cast<int64_t>(V->Sh.rank());
}

/// The dtype named by an integer attribute (TensorProto.DataType), or
/// Default when the attribute is absent; an error when it is out of range.
inline Expected<DType> dtypeAttr(ShapeContext &C, StringRef Name,
                                 DType Default) {
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
inline Error sameAs(ShapeContext &C, unsigned Out, unsigned In) {
  if (Error E = C.requireInput(In))
    return E;
  C.setOutput(Out, C.in(In)->Ty, C.in(In)->Sh);
  return ok();
}

/// The shape of the statistics of a normalisation of X over the dims from
/// Axis on: X's shape with those dims set to 1; unknown rank when X's rank
/// is unknown; None when Axis is out of range.
inline Optional<Shape> normStatsShape(const Shape &X, int64_t Axis) {
  if (!X.hasRank())
    return Shape();
  Optional<size_t> A = normalizeAxis(Axis, X.rank());
  if (!A)
    return None;
  Shape S = X;
  for (size_t I = *A; I < S.rank(); ++I)
    S[I] = 1;
  return S;
}

/// normStatsShape for a shape function: an error when Axis is out of range.
inline Expected<Shape> statShape(ShapeContext &C, const Shape &X,
                                 int64_t Axis) {
  if (Optional<Shape> S = normStatsShape(X, Axis))
    return *S;
  return C.error("axis " + Twine(Axis) + " is out of range for rank " +
                 Twine(X.rank()));
}

/// Output 0 like input 0 (FastGelu, BiasGelu, Gelu, RotaryEmbedding, ...).
inline Error likeFirst(ShapeContext &C) { return sameAs(C, 0, 0); }

/// Every output like input 0 (BatchScale: one input, several outputs).
inline Error allLikeFirst(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  for (unsigned I = 0; I < C.numOutputs(); ++I)
    C.setOutput(I, C.in(0)->Ty, C.in(0)->Sh);
  return ok();
}

inline std::string opName(const SaveContext &C) {
  return C.Op.empty() ? C.node().OpType : C.Op;
}

/// normStatsShape for a saved-tensor rule: unknown when X is absent or
/// Axis out of range.
inline Shape statsShape(const Value *X, int64_t Axis) {
  if (!X)
    return Shape();
  return normStatsShape(X->Sh, Axis).getValueOr(Shape());
}

/// mm/bmm/matmul/mul: self: grad @ other^T needs other; other needs self.
inline void saveProductOperands(SaveContext &C) {
  std::string R = "input of " + opName(C);
  if (C.rg(1))
    C.input(0, R);
  if (C.rg(0))
    C.input(1, R);
}

inline void saveNothing(SaveContext &) {}

inline void saveInput0(SaveContext &C) {
  if (C.rg(0))
    C.input(0, "input of " + opName(C));
}

inline void saveOutput0(SaveContext &C) {
  if (C.rg(0))
    C.output(0, "output of " + opName(C));
}

inline void saveBothInputs(SaveContext &C) {
  if (C.anyRG()) {
    C.input(0, "input of " + opName(C));
    C.input(1, "input of " + opName(C));
  }
}

/// embedding / index_select / gather: the indices.
inline void saveIndices(SaveContext &C) {
  if (C.rg(0))
    C.input(1, "indices of " + opName(C));
}

inline void saveReduceMinMax(SaveContext &C) {
  if (C.rg(0)) {
    C.input(0, "input of " + opName(C));
    C.output(0, "output of " + opName(C));
  }
}

/// native_layer_norm saves input, mean and rstd (fp32 under autocast).
inline void saveLayerNorm(SaveContext &C, int64_t Axis, bool HasMean) {
  if (!C.anyRG())
    return;
  std::string Kind = HasMean ? "LayerNorm" : "RMSNorm";
  C.input(0, "input of " + Kind);
  Shape S = statsShape(C.in(0), Axis);
  if (HasMean)
    C.buffer("mean", DType::Float, S, Kind + " mean");
  C.buffer("rstd", DType::Float, S, Kind + " inverse std");
}

inline void saveLayerNormalization(SaveContext &C) {
  saveLayerNorm(C, C.node().attrInt("axis", -1), true);
}

inline void saveRmsNormalization(SaveContext &C) {
  saveLayerNorm(C, C.node().attrInt("axis", -1), false);
}

/// Attention probabilities [B, N, S, L] in the dtype of T.
inline Shape probsShape(int64_t B, int64_t N, int64_t S, int64_t L) {
  return Shape(ArrayRef<int64_t>{B, N, S, L});
}

/// MultiHeadAttention / GroupQueryAttention / ai.onnx Attention with
/// projected Q, K, V inputs: keeps Q, K, V and the softmax output
/// (SDPA math backward).
inline void saveProjectedAttention(SaveContext &C) {
  if (!C.anyRG())
    return;
  Value *Q = C.in(0), *K = C.in(1), *Y = C.out(0);
  if (!Q || !Q->Sh.hasRank())
    return;
  C.input(0, "Q for QK^T");
  C.input(1, "K for QK^T");
  C.input(2, "V for scores x V");
  int64_t B = Q->Sh[0], S = -1, N = -1, L = -1;
  const Node &Nd = C.node();
  if (Q->Sh.rank() == 4) { // [B, N, S, H]
    N = Q->Sh[1];
    S = Q->Sh[2];
  } else if (Q->Sh.rank() == 3) {
    S = Q->Sh[1];
    N = Nd.attrInt("num_heads", Nd.attrInt("q_num_heads", -1));
  }
  if (K && K->Sh.hasRank())
    L = K->Sh.rank() == 4 ? K->Sh[2] : K->Sh[1];
  // With a past cache, the keys attended to are the present ones.
  for (unsigned I = 1; I < 4; ++I)
    if (Value *P = C.out(I))
      if (P->Sh.hasRank() && P->Sh.rank() == 4)
        L = std::max(L, P->Sh[2]);
  C.activationBuffer("probs", Y ? Y->Ty : Q->Ty, probsShape(B, N, S, L),
                     "softmax output");
}

/// SoftmaxCrossEntropyLoss(Internal): log-probabilities and labels.
inline void saveSoftmaxCrossEntropy(SaveContext &C) {
  if (!C.rg(0))
    return;
  if (C.out(1))
    C.output(1, "log-probabilities of the loss");
  C.input(1, "labels of the loss");
}

/// native_group_norm: input, mean and rstd, f32 [N, groups].
inline void saveGroupNorm(SaveContext &C) {
  Value *X = C.in(0);
  if (!X || !C.anyRG())
    return;
  C.input(0, "input of GroupNorm");
  const Node &N = C.node();
  int64_t G = N.attrInt("num_groups", N.attrInt("groups", -1));
  int64_t B = X->Sh.hasRank() && X->Sh.rank() > 0 ? X->Sh[0] : -1;
  Shape S(ArrayRef<int64_t>{B, G});
  C.buffer("mean", DType::Float, S, "GroupNorm mean");
  C.buffer("rstd", DType::Float, S, "GroupNorm inverse std");
}

} // namespace ops
} // namespace vram

#endif // VRAM_LIB_ANALYSIS_OPS_OPHELPERS_H

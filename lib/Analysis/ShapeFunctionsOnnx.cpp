//===- ShapeFunctionsOnnx.cpp - Shape rules for ai.onnx ops ---------------===//
//
// One shape function per op semantics, and one table that maps (op type,
// opset range) to it. Where an op changed between opsets (an attribute that
// became an input, a new output), the table has one row per range.
//
// Contents are propagated for small tensors (shape arithmetic): integers
// exactly as int64 (integer Div truncates toward zero, as onnxruntime does),
// floating point as doubles.
//
//===----------------------------------------------------------------------===//

#include "ShapeHelpers.h"

#include "vram/Analysis/ShapeFunctions.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace llvm;

namespace vram {

namespace {

using IntVec = SmallVector<int64_t, 8>;

//===----------------------------------------------------------------------===//
// Small helpers
//===----------------------------------------------------------------------===//

Error ok() { return Error::success(); }

Shape shapeOf(ArrayRef<int64_t> Dims) { return Shape(Dims); }

/// Input I's contents when known and consistent with a concrete shape.
const TensorData *knownData(ShapeContext &C, unsigned I) {
  Value *V = C.in(I);
  if (!V || !V->Data || !V->Sh.isConcrete())
    return nullptr;
  Optional<uint64_t> N = V->Sh.numElements();
  if (!N || *N != V->Data->size())
    return nullptr;
  return V->Data.getPointer();
}

/// Element count when the shape is concrete and small enough to hold.
Optional<size_t> smallCount(const Shape &S) {
  Optional<uint64_t> N = S.numElements();
  if (!N || *N > MaxKnownElements)
    return None;
  return static_cast<size_t>(*N);
}

/// Copies the elements of Src at the given flat indices.
TensorData pick(const TensorData &Src, ArrayRef<size_t> Indices) {
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
IntVec unflatten(size_t Flat, ArrayRef<int64_t> Dims) {
  IntVec Coords(Dims.size(), 0);
  for (size_t K = Dims.size(); K-- > 0;) {
    size_t D = static_cast<size_t>(Dims[K]);
    Coords[K] = D ? static_cast<int64_t>(Flat % D) : 0;
    Flat = D ? Flat / D : 0;
  }
  return Coords;
}

size_t flatten(ArrayRef<int64_t> Coords, ArrayRef<int64_t> Dims) {
  size_t Flat = 0;
  for (size_t K = 0; K < Dims.size(); ++K)
    Flat = Flat * static_cast<size_t>(Dims[K]) + static_cast<size_t>(Coords[K]);
  return Flat;
}

/// Product of dims [Begin, End); Unknown when any of them is unknown.
int64_t dimProduct(const Shape &S, size_t Begin, size_t End) {
  int64_t P = 1;
  for (size_t I = Begin; I < End; ++I) {
    if (S[I] < 0)
      return Shape::Unknown;
    P *= S[I];
  }
  return P;
}

int64_t floorDiv(int64_t A, int64_t B) {
  int64_t Q = A / B;
  if ((A % B != 0) && ((A < 0) != (B < 0)))
    --Q;
  return Q;
}

int64_t ceilDiv(int64_t A, int64_t B) { return -floorDiv(-A, B); }

/// Integer value narrowed to the range of T (two's complement wrap).
int64_t wrapInt(DType T, int64_t V) {
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

bool holdsInts(DType T) { return isInteger(T) || T == DType::Bool; }

/// Converts contents to element type To (Cast semantics); None when a value
/// cannot be represented (NaN or out of range to an integer type).
Optional<TensorData> convertData(const TensorData &D, DType To) {
  TensorData R;
  if (isFloatingPoint(To)) {
    R.IsFloat = true;
    for (size_t I = 0; I < D.size(); ++I)
      R.Floats.push_back(D.asDouble(I));
    return R;
  }
  if (!holdsInts(To))
    return None;
  for (size_t I = 0; I < D.size(); ++I) {
    if (!D.IsFloat) {
      R.Ints.push_back(wrapInt(To, D.Ints[I]));
      continue;
    }
    double F = D.Floats[I];
    if (To == DType::Bool) {
      R.Ints.push_back(F != 0);
      continue;
    }
    if (!std::isfinite(F) || F >= 9.2e18 || F <= -9.2e18)
      return None;
    R.Ints.push_back(wrapInt(To, static_cast<int64_t>(std::trunc(F))));
  }
  return R;
}

/// Builds contents of type T from doubles (integers truncate).
TensorData fromDoubles(DType T, ArrayRef<double> Vals) {
  if (isFloatingPoint(T))
    return TensorData::floats(Vals);
  TensorData D;
  for (double V : Vals)
    D.Ints.push_back(wrapInt(T, static_cast<int64_t>(std::trunc(V))));
  return D;
}

/// Sets output I, with contents when D holds a value.
void setOut(ShapeContext &C, unsigned I, DType T, const Shape &S,
            Optional<TensorData> D) {
  if (D)
    C.setOutput(I, T, S, std::move(*D));
  else
    C.setOutput(I, T, S);
}

Error requireInputs(ShapeContext &C, unsigned N) {
  for (unsigned I = 0; I < N; ++I)
    if (Error E = C.requireInput(I))
      return E;
  return ok();
}

/// Normalizes a list of axes against Rank: error when out of range or
/// repeated.
Expected<SmallVector<size_t, 6>>
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

Expected<size_t> axisAttr(ShapeContext &C, StringRef Name, int64_t Default,
                          size_t Rank) {
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

IntList listFromAttr(ShapeContext &C, StringRef Name) {
  IntList L;
  if (Optional<ArrayRef<int64_t>> A = C.node().attrInts(Name)) {
    L.Present = L.Known = true;
    L.Vals.assign(A->begin(), A->end());
    L.Length = L.Vals.size();
  }
  return L;
}

IntList listFromInput(ShapeContext &C, unsigned I) {
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

IntList listFrom(ShapeContext &C, bool FromInput, unsigned I,
                 StringRef AttrName) {
  return FromInput ? listFromInput(C, I) : listFromAttr(C, AttrName);
}

/// Dims of S where both sides agree, Unknown where they differ; unknown rank
/// when the ranks differ.
Shape mergeShapes(const Shape &A, const Shape &B) {
  if (!A.hasRank() || !B.hasRank() || A.rank() != B.rank())
    return Shape();
  Shape R = A;
  for (size_t I = 0; I < A.rank(); ++I)
    if (A[I] != B[I])
      R[I] = Shape::Unknown;
  return R;
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic on contents
//===----------------------------------------------------------------------===//

enum class Bin {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Mod,
  Max,
  Min,
  And,
  Or,
  Xor,
  Equal,
  Less,
  LessEq,
  Greater,
  GreaterEq,
  BitAnd,
  BitOr,
  BitXor,
  BitShift,
  PRelu,
  Sum,
  Mean,
  None
};

bool isCompare(Bin Op) {
  switch (Op) {
  case Bin::And:
  case Bin::Or:
  case Bin::Xor:
  case Bin::Equal:
  case Bin::Less:
  case Bin::LessEq:
  case Bin::Greater:
  case Bin::GreaterEq:
    return true;
  default:
    return false;
  }
}

struct BinOpts {
  bool FMod = false;
  bool ShiftLeft = true;
};

bool evalInt(Bin Op, int64_t A, int64_t B, const BinOpts &O, int64_t &R) {
  switch (Op) {
  case Bin::Add:
  case Bin::Sum:
  case Bin::Mean:
    return !__builtin_add_overflow(A, B, &R);
  case Bin::Sub:
    return !__builtin_sub_overflow(A, B, &R);
  case Bin::Mul:
    return !__builtin_mul_overflow(A, B, &R);
  case Bin::Div:
    if (B == 0 || (A == INT64_MIN && B == -1))
      return false;
    R = A / B;
    return true;
  case Bin::Mod:
    if (B == 0 || (A == INT64_MIN && B == -1))
      return false;
    R = A % B;
    if (!O.FMod && R != 0 && ((R < 0) != (B < 0)))
      R += B;
    return true;
  case Bin::Pow: {
    if (B < 0)
      return false;
    R = 1;
    for (int64_t K = 0; K < B; ++K)
      if (__builtin_mul_overflow(R, A, &R))
        return false;
    return true;
  }
  case Bin::Max:
    R = std::max(A, B);
    return true;
  case Bin::Min:
    R = std::min(A, B);
    return true;
  case Bin::And:
    R = A && B;
    return true;
  case Bin::Or:
    R = A || B;
    return true;
  case Bin::Xor:
    R = (A != 0) != (B != 0);
    return true;
  case Bin::Equal:
    R = A == B;
    return true;
  case Bin::Less:
    R = A < B;
    return true;
  case Bin::LessEq:
    R = A <= B;
    return true;
  case Bin::Greater:
    R = A > B;
    return true;
  case Bin::GreaterEq:
    R = A >= B;
    return true;
  case Bin::BitAnd:
    R = A & B;
    return true;
  case Bin::BitOr:
    R = A | B;
    return true;
  case Bin::BitXor:
    R = A ^ B;
    return true;
  case Bin::BitShift:
    if (B < 0 || B > 63)
      return false;
    R = O.ShiftLeft ? static_cast<int64_t>(static_cast<uint64_t>(A) << B)
                    : static_cast<int64_t>(static_cast<uint64_t>(A) >> B);
    return true;
  case Bin::PRelu:
    if (A >= 0) {
      R = A;
      return true;
    }
    return !__builtin_mul_overflow(A, B, &R);
  case Bin::None:
    return false;
  }
  return false;
}

bool evalFloat(Bin Op, double A, double B, const BinOpts &O, double &R) {
  switch (Op) {
  case Bin::Add:
  case Bin::Sum:
  case Bin::Mean:
    R = A + B;
    return true;
  case Bin::Sub:
    R = A - B;
    return true;
  case Bin::Mul:
    R = A * B;
    return true;
  case Bin::Div:
    R = A / B;
    return true;
  case Bin::Pow:
    R = std::pow(A, B);
    return true;
  case Bin::Mod:
    R = std::fmod(A, B);
    if (!O.FMod && R != 0 && ((R < 0) != (B < 0)))
      R += B;
    return true;
  case Bin::Max:
    R = std::max(A, B);
    return true;
  case Bin::Min:
    R = std::min(A, B);
    return true;
  case Bin::Equal:
    R = A == B;
    return true;
  case Bin::Less:
    R = A < B;
    return true;
  case Bin::LessEq:
    R = A <= B;
    return true;
  case Bin::Greater:
    R = A > B;
    return true;
  case Bin::GreaterEq:
    R = A >= B;
    return true;
  case Bin::PRelu:
    R = A >= 0 ? A : A * B;
    return true;
  default:
    return false;
  }
}

/// Folds Op over the present inputs from First on, elementwise with
/// broadcasting, into contents of type OutTy and shape Out.
Optional<TensorData> foldElementwise(ShapeContext &C, Bin Op, const Shape &Out,
                                     DType OutTy, const BinOpts &O,
                                     unsigned First = 0) {
  Optional<size_t> N = smallCount(Out);
  if (!N)
    return None;
  SmallVector<const TensorData *, 4> Ins;
  SmallVector<const Shape *, 4> Shapes;
  bool Float = false;
  for (unsigned I = First; I < C.numInputs(); ++I) {
    if (!C.in(I))
      continue;
    const TensorData *D = knownData(C, I);
    if (!D)
      return None;
    Ins.push_back(D);
    Shapes.push_back(&C.in(I)->Sh);
    Float |= D->IsFloat;
  }
  if (Ins.empty())
    return None;
  bool OutInts = holdsInts(OutTy);
  TensorData R;
  R.IsFloat = !OutInts;
  for (size_t Flat = 0; Flat < *N; ++Flat) {
    if (Float) {
      double Acc =
          Ins[0]->asDouble(shapes::broadcastIndex(Out, *Shapes[0], Flat));
      for (size_t K = 1; K < Ins.size(); ++K) {
        double B =
            Ins[K]->asDouble(shapes::broadcastIndex(Out, *Shapes[K], Flat));
        if (!evalFloat(Op, Acc, B, O, Acc))
          return None;
      }
      if (Op == Bin::Mean)
        Acc /= static_cast<double>(Ins.size());
      if (!OutInts) {
        R.Floats.push_back(Acc);
      } else {
        if (!std::isfinite(Acc) || std::fabs(Acc) > 9.2e18)
          return None;
        R.Ints.push_back(wrapInt(OutTy, static_cast<int64_t>(std::trunc(Acc))));
      }
      continue;
    }
    int64_t Acc = Ins[0]->asInt(shapes::broadcastIndex(Out, *Shapes[0], Flat));
    for (size_t K = 1; K < Ins.size(); ++K) {
      int64_t B = Ins[K]->asInt(shapes::broadcastIndex(Out, *Shapes[K], Flat));
      if (!evalInt(Op, Acc, B, O, Acc))
        return None;
    }
    if (Op == Bin::Mean) {
      if (OutInts)
        return None;
      R.Floats.push_back(static_cast<double>(Acc) / Ins.size());
      continue;
    }
    if (OutInts)
      R.Ints.push_back(wrapInt(OutTy, Acc));
    else
      R.Floats.push_back(static_cast<double>(Acc));
  }
  return R;
}

/// Binary and variadic elementwise ops with numpy broadcasting.
template <Bin Op> Error elementwise(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  if (Op != Bin::Sum && Op != Bin::Mean && Op != Bin::Max && Op != Bin::Min)
    if (Error E = C.requireInput(1))
      return E;
  Expected<Shape> S = shapes::broadcastInputs(C);
  if (!S)
    return S.takeError();
  DType InTy = C.in(0)->Ty;
  for (unsigned I = 1; InTy == DType::Undefined && I < C.numInputs(); ++I)
    if (C.in(I))
      InTy = C.in(I)->Ty;
  DType OutTy = isCompare(Op) ? DType::Bool : InTy;
  BinOpts O;
  O.FMod = C.node().attrInt("fmod", 0) != 0;
  O.ShiftLeft = C.node().attrString("direction", "LEFT") != "RIGHT";
  setOut(C, 0, OutTy, *S, foldElementwise(C, Op, *S, OutTy, O));
  return ok();
}

enum class Un {
  Neg,
  Abs,
  Sqrt,
  Not,
  Floor,
  Ceil,
  Round,
  Sign,
  Reciprocal,
  Relu,
  Exp,
  Log,
  BitNot,
  Sin,
  Cos,
  Tanh,
  Sigmoid,
  Erf,
  None
};

bool evalUnInt(Un Op, int64_t A, int64_t &R) {
  switch (Op) {
  case Un::Neg:
    if (A == INT64_MIN)
      return false;
    R = -A;
    return true;
  case Un::Abs:
    if (A == INT64_MIN)
      return false;
    R = A < 0 ? -A : A;
    return true;
  case Un::Not:
    R = !A;
    return true;
  case Un::Floor:
  case Un::Ceil:
  case Un::Round:
    R = A;
    return true;
  case Un::Sign:
    R = (A > 0) - (A < 0);
    return true;
  case Un::Relu:
    R = std::max<int64_t>(A, 0);
    return true;
  case Un::BitNot:
    R = ~A;
    return true;
  default:
    return false;
  }
}

bool evalUnFloat(Un Op, double A, double &R) {
  switch (Op) {
  case Un::Neg:
    R = -A;
    return true;
  case Un::Abs:
    R = std::fabs(A);
    return true;
  case Un::Sqrt:
    R = std::sqrt(A);
    return true;
  case Un::Floor:
    R = std::floor(A);
    return true;
  case Un::Ceil:
    R = std::ceil(A);
    return true;
  case Un::Round:
    R = std::nearbyint(A); // Round half to even.
    return true;
  case Un::Sign:
    R = (A > 0) - (A < 0);
    return true;
  case Un::Reciprocal:
    R = 1.0 / A;
    return true;
  case Un::Relu:
    R = std::max(A, 0.0);
    return true;
  case Un::Exp:
    R = std::exp(A);
    return true;
  case Un::Log:
    R = std::log(A);
    return true;
  case Un::Sin:
    R = std::sin(A);
    return true;
  case Un::Cos:
    R = std::cos(A);
    return true;
  case Un::Tanh:
    R = std::tanh(A);
    return true;
  case Un::Sigmoid:
    R = 1.0 / (1.0 + std::exp(-A));
    return true;
  case Un::Erf:
    R = std::erf(A);
    return true;
  default:
    return false;
  }
}

/// Unary elementwise ops: same dtype and shape, contents when computable.
template <Un Op> Error unary(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  Optional<TensorData> Out;
  if (const TensorData *D = knownData(C, 0)) {
    TensorData R;
    R.IsFloat = D->IsFloat;
    bool Ok = true;
    for (size_t I = 0; Ok && I < D->size(); ++I) {
      if (D->IsFloat) {
        double V = 0;
        Ok = evalUnFloat(Op, D->Floats[I], V);
        R.Floats.push_back(V);
      } else {
        int64_t V = 0;
        Ok = evalUnInt(Op, D->Ints[I], V);
        R.Ints.push_back(wrapInt(X->Ty, V));
      }
    }
    if (Ok)
      Out = std::move(R);
  }
  setOut(C, 0, X->Ty, X->Sh, std::move(Out));
  return ok();
}

/// Same dtype and shape as input 0, no contents.
Error sameAsInput(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, C.in(0)->Ty, C.in(0)->Sh);
  return ok();
}

/// Clip: bounds are attributes before opset 11, optional inputs since.
template <bool BoundsFromInputs> Error clip(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  Optional<TensorData> Out;
  const TensorData *D = knownData(C, 0);
  double Lo = -INFINITY, Hi = INFINITY;
  bool Known = D != nullptr;
  if (BoundsFromInputs) {
    for (unsigned I = 1; Known && I < 3; ++I) {
      if (!C.in(I))
        continue;
      const TensorData *B = knownData(C, I);
      if (!B || B->size() != 1)
        Known = false;
      else
        (I == 1 ? Lo : Hi) = B->asDouble(0);
    }
  } else {
    Lo = C.node().attrFloat("min", Lo);
    Hi = C.node().attrFloat("max", Hi);
  }
  if (Known) {
    SmallVector<double, 16> Vals;
    for (size_t I = 0; I < D->size(); ++I)
      Vals.push_back(std::min(std::max(D->asDouble(I), Lo), Hi));
    if (D->IsFloat)
      Out = TensorData::floats(Vals);
    else if (std::all_of(Vals.begin(), Vals.end(),
                         [](double V) { return std::fabs(V) < 9.0e15; }))
      Out = fromDoubles(X->Ty, Vals);
  }
  setOut(C, 0, X->Ty, X->Sh, std::move(Out));
  return ok();
}

/// Same shape as input 0, bool dtype (IsNaN, IsInf).
Error boolOfInput(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, DType::Bool, C.in(0)->Sh);
  return ok();
}

Error identity(ShapeContext &C) { return shapes::passThrough(C); }

//===----------------------------------------------------------------------===//
// Constants, casts, shape queries
//===----------------------------------------------------------------------===//

Error constant(ShapeContext &C) {
  Node &N = C.node();
  if (const Attribute *A = N.attr("value")) {
    if (A->K != Attribute::Tensor)
      return C.error("attribute 'value' is not a tensor");
    setOut(C, 0, A->T.Ty, A->T.Sh, A->T.Data);
    return ok();
  }
  if (const Attribute *A = N.attr("value_float")) {
    setOut(C, 0, DType::Float, Shape::scalar(), TensorData::floats({A->F}));
    return ok();
  }
  if (const Attribute *A = N.attr("value_floats")) {
    TensorData D = TensorData::floats(A->FloatList);
    setOut(C, 0, DType::Float,
           shapeOf({static_cast<int64_t>(A->FloatList.size())}), D);
    return ok();
  }
  if (const Attribute *A = N.attr("value_int")) {
    setOut(C, 0, DType::Int64, Shape::scalar(), TensorData::ints({A->I}));
    return ok();
  }
  if (const Attribute *A = N.attr("value_ints")) {
    TensorData D = TensorData::ints(A->IntList);
    setOut(C, 0, DType::Int64,
           shapeOf({static_cast<int64_t>(A->IntList.size())}), D);
    return ok();
  }
  if (N.attr("value_string")) {
    C.setOutput(0, DType::String, Shape::scalar());
    return ok();
  }
  if (const Attribute *A = N.attr("value_strings")) {
    C.setOutput(0, DType::String,
                shapeOf({static_cast<int64_t>(A->StringList.size())}));
    return ok();
  }
  // sparse_value: dtype and dense shape are not carried by the IR.
  return ok();
}

/// Reads a shape from input I's contents; unknown dims (rank from the
/// input's length) when the contents are not known. Error on negative dims.
Expected<Shape> shapeFromInput(ShapeContext &C, unsigned I) {
  IntList L = listFromInput(C, I);
  if (!L.Known)
    return L.Length >= 0 ? Shape::unknownDims(L.Length) : Shape();
  for (int64_t D : L.Vals)
    if (D < 0)
      return C.error("shape input has a negative dim " + Twine(D));
  return Shape(L.Vals);
}

Error constantOfShape(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Expected<Shape> S = shapeFromInput(C, 0);
  if (!S)
    return S.takeError();
  DType T = DType::Float;
  TensorData Fill = TensorData::floats({0.0});
  if (const Attribute *A = C.node().attr("value")) {
    if (A->K != Attribute::Tensor)
      return C.error("attribute 'value' is not a tensor");
    T = A->T.Ty;
    if (A->T.Data && A->T.Data->size() >= 1)
      Fill = *A->T.Data;
    else
      Fill = fromDoubles(T, {0.0});
  }
  Optional<TensorData> D;
  if (Optional<size_t> N = smallCount(*S)) {
    TensorData R;
    R.IsFloat = Fill.IsFloat;
    for (size_t K = 0; K < *N; ++K) {
      if (Fill.IsFloat)
        R.Floats.push_back(Fill.Floats[0]);
      else
        R.Ints.push_back(Fill.Ints[0]);
    }
    D = std::move(R);
  }
  setOut(C, 0, T, *S, std::move(D));
  return ok();
}

Error cast(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Attribute *To = C.node().attr("to");
  if (!To || To->K != Attribute::Int)
    return C.error("missing integer attribute 'to'");
  Optional<DType> T = dtypeFromOnnx(To->I);
  if (!T)
    return C.error("attribute 'to' = " + Twine(To->I) +
                   " is not an ONNX element type");
  Optional<TensorData> D;
  if (const TensorData *In = knownData(C, 0))
    D = convertData(*In, *T);
  setOut(C, 0, *T, C.in(0)->Sh, std::move(D));
  return ok();
}

Error castLike(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  DType T = C.in(1)->Ty;
  Optional<TensorData> D;
  if (const TensorData *In = knownData(C, 0))
    if (T != DType::Undefined)
      D = convertData(*In, T);
  setOut(C, 0, T, C.in(0)->Sh, std::move(D));
  return ok();
}

Error shapeOp(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &S = C.in(0)->Sh;
  if (!S.hasRank()) {
    C.setOutput(0, DType::Int64, shapeOf({Shape::Unknown}));
    return ok();
  }
  int64_t R = S.rank();
  int64_t Start = C.node().attrInt("start", 0);
  int64_t End = C.node().attrInt("end", R);
  if (Start < 0)
    Start += R;
  if (End < 0)
    End += R;
  Start = std::min(std::max<int64_t>(Start, 0), R);
  End = std::min(std::max<int64_t>(End, 0), R);
  int64_t Len = std::max<int64_t>(End - Start, 0);
  IntVec Dims;
  bool Known = true;
  for (int64_t I = Start; I < Start + Len; ++I) {
    Dims.push_back(S[I]);
    Known &= S[I] >= 0;
  }
  Optional<TensorData> D;
  if (Known)
    D = TensorData::ints(Dims);
  setOut(C, 0, DType::Int64, shapeOf({Len}), std::move(D));
  return ok();
}

Error sizeOp(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Optional<TensorData> D;
  if (Optional<uint64_t> N = C.in(0)->Sh.numElements())
    D = TensorData::ints({static_cast<int64_t>(*N)});
  setOut(C, 0, DType::Int64, Shape::scalar(), std::move(D));
  return ok();
}

//===----------------------------------------------------------------------===//
// Indexing and data movement
//===----------------------------------------------------------------------===//

Error gather(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0), *Idx = C.in(1);
  if (!X->Sh.hasRank() || !Idx->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  size_t R = X->Sh.rank();
  Expected<size_t> Axis = axisAttr(C, "axis", 0, R);
  if (!Axis)
    return Axis.takeError();
  IntVec Dims(X->Sh.dims().begin(), X->Sh.dims().begin() + *Axis);
  Dims.append(Idx->Sh.dims().begin(), Idx->Sh.dims().end());
  Dims.append(X->Sh.dims().begin() + *Axis + 1, X->Sh.dims().end());
  Shape Out(Dims);
  Optional<TensorData> D;
  const TensorData *Src = knownData(C, 0);
  auto Indices = C.ints(1);
  int64_t AxisDim = X->Sh[*Axis];
  bool InRange = true;
  if (Indices && AxisDim >= 0) {
    for (int64_t &I : *Indices) {
      if (I < -AxisDim || I >= AxisDim) {
        // Out-of-range indices into a weight are a run-time matter (shrunk
        // exports have them, with a sequence longer than the table); into
        // a known integer tensor (shape arithmetic) they are malformed.
        if (Src && !isFloatingPoint(X->Ty))
          return C.error("index " + Twine(I) + " is out of range for dim " +
                         Twine(AxisDim));
        InRange = false;
      } else if (I < 0) {
        I += AxisDim;
      }
    }
  }
  if (Src && Indices && InRange && smallCount(Out)) {
    size_t Outer = dimProduct(X->Sh, 0, *Axis);
    size_t Inner = dimProduct(X->Sh, *Axis + 1, R);
    SmallVector<size_t, 16> Flat;
    for (size_t O = 0; O < Outer; ++O)
      for (int64_t I : *Indices)
        for (size_t K = 0; K < Inner; ++K)
          Flat.push_back((O * AxisDim + I) * Inner + K);
    D = pick(*Src, Flat);
  }
  setOut(C, 0, X->Ty, Out, std::move(D));
  return ok();
}

Error gatherElements(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  C.setOutput(0, C.in(0)->Ty, C.in(1)->Sh);
  return ok();
}

Error gatherND(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0), *Idx = C.in(1);
  int64_t B = C.node().attrInt("batch_dims", 0);
  const Shape &XS = X->Sh, &IS = Idx->Sh;
  if (!XS.hasRank() || !IS.hasRank() || IS.rank() == 0 ||
      IS[IS.rank() - 1] < 0) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  int64_t Last = IS[IS.rank() - 1];
  if (B < 0 || B + Last > static_cast<int64_t>(XS.rank()))
    return C.error("indices of shape " + IS.str() + " with batch_dims " +
                   Twine(B) + " do not fit data of shape " + XS.str());
  IntVec Dims(IS.dims().begin(), IS.dims().end() - 1);
  Dims.append(XS.dims().begin() + B + Last, XS.dims().end());
  C.setOutput(0, X->Ty, Shape(Dims));
  return ok();
}

/// Unsqueeze: AxesFromInput since opset 13.
template <bool AxesFromInput> Error unsqueeze(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Axes = listFrom(C, AxesFromInput, 1, "axes");
  if (!Axes.Present)
    return C.error("missing axes");
  if (!X->Sh.hasRank() || !Axes.Known) {
    Shape S;
    if (X->Sh.hasRank() && Axes.Length >= 0)
      S = Shape::unknownDims(X->Sh.rank() + Axes.Length);
    C.setOutput(0, X->Ty, S);
    return ok();
  }
  size_t OutRank = X->Sh.rank() + Axes.Vals.size();
  auto Norm = normalizeAxes(C, Axes.Vals, OutRank);
  if (!Norm)
    return Norm.takeError();
  IntVec Dims;
  size_t Next = 0;
  for (size_t I = 0; I < OutRank; ++I)
    Dims.push_back(is_contained(*Norm, I) ? 1 : X->Sh[Next++]);
  setOut(C, 0, X->Ty, Shape(Dims), X->Data);
  return ok();
}

/// Squeeze: AxesFromInput since opset 13.
template <bool AxesFromInput> Error squeeze(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Axes = listFrom(C, AxesFromInput, 1, "axes");
  if (!X->Sh.hasRank() || (Axes.Present && !Axes.Known)) {
    Shape S;
    if (X->Sh.hasRank() && Axes.Length >= 0 &&
        Axes.Length <= static_cast<int64_t>(X->Sh.rank()))
      S = Shape::unknownDims(X->Sh.rank() - Axes.Length);
    C.setOutput(0, X->Ty, S);
    return ok();
  }
  const Shape &S = X->Sh;
  SmallVector<size_t, 6> Drop;
  if (Axes.Present && !Axes.Vals.empty()) {
    auto Norm = normalizeAxes(C, Axes.Vals, S.rank());
    if (!Norm)
      return Norm.takeError();
    for (size_t A : *Norm)
      if (S[A] >= 0 && S[A] != 1)
        return C.error("cannot squeeze axis " + Twine(A) + " of size " +
                       Twine(S[A]) + " in shape " + S.str());
    Drop = *Norm;
  } else {
    for (size_t I = 0; I < S.rank(); ++I) {
      if (S[I] < 0) {
        C.setOutput(0, X->Ty, Shape());
        return ok();
      }
      if (S[I] == 1)
        Drop.push_back(I);
    }
  }
  IntVec Dims;
  for (size_t I = 0; I < S.rank(); ++I)
    if (!is_contained(Drop, I))
      Dims.push_back(S[I]);
  setOut(C, 0, X->Ty, Shape(Dims), X->Data);
  return ok();
}

Error concat(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  // Shapes of the present inputs. Some shrunk exports concatenate scalars
  // with 1-D shape pieces; a scalar then counts as [1].
  SmallVector<Shape, 4> InShapes(C.numInputs());
  const Shape *Ranked = nullptr;
  DType T = DType::Undefined;
  bool AnyVector = false;
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (Value *V = C.in(I)) {
      InShapes[I] = V->Sh;
      AnyVector |= V->Sh.hasRank() && V->Sh.rank() == 1;
      if (T == DType::Undefined)
        T = V->Ty;
    }
  }
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (!C.in(I))
      continue;
    if (AnyVector && InShapes[I].hasRank() && InShapes[I].rank() == 0)
      InShapes[I] = shapeOf({1});
    if (!Ranked && InShapes[I].hasRank())
      Ranked = &InShapes[I];
  }
  if (!Ranked) {
    C.setOutput(0, T, Shape());
    return ok();
  }
  size_t R = Ranked->rank();
  Expected<size_t> Axis = axisAttr(C, "axis", 0, R);
  if (!Axis)
    return Axis.takeError();
  IntVec Dims(R, Shape::Unknown);
  int64_t AxisSum = 0;
  bool AllRanked = true;
  for (unsigned I = 0; I < C.numInputs(); ++I) {
    if (!C.in(I))
      continue;
    const Shape &S = InShapes[I];
    if (!S.hasRank()) {
      AllRanked = false;
      continue;
    }
    if (S.rank() != R)
      return C.error("inputs have ranks " + Twine(R) + " and " +
                     Twine(S.rank()));
    for (size_t K = 0; K < R; ++K) {
      int64_t D = S[K];
      if (K == *Axis) {
        AxisSum = (AxisSum < 0 || D < 0) ? Shape::Unknown : AxisSum + D;
        continue;
      }
      if (D < 0)
        continue;
      if (Dims[K] >= 0 && Dims[K] != D)
        return C.error("inputs of shapes " + Ranked->str() + " and " + S.str() +
                       " differ outside axis " + Twine(*Axis));
      Dims[K] = D;
    }
  }
  Dims[*Axis] = AllRanked ? AxisSum : Shape::Unknown;
  Shape Out(Dims);
  Optional<TensorData> D;
  if (smallCount(Out)) {
    // Concatenate all inputs' contents into one buffer, then pick.
    TensorData All;
    SmallVector<size_t, 4> Offsets, AxisDims;
    bool Known = true;
    for (unsigned I = 0; Known && I < C.numInputs(); ++I) {
      if (!C.in(I))
        continue;
      const TensorData *Src = knownData(C, I);
      if (!Src || (All.size() && Src->IsFloat != All.IsFloat)) {
        Known = false;
        break;
      }
      All.IsFloat = Src->IsFloat;
      Offsets.push_back(All.size());
      AxisDims.push_back(InShapes[I][*Axis]);
      All.Ints.append(Src->Ints.begin(), Src->Ints.end());
      All.Floats.append(Src->Floats.begin(), Src->Floats.end());
    }
    if (Known) {
      size_t Outer = dimProduct(Out, 0, *Axis);
      size_t Inner = dimProduct(Out, *Axis + 1, R);
      SmallVector<size_t, 16> Flat;
      for (size_t O = 0; O < Outer; ++O)
        for (size_t K = 0; K < Offsets.size(); ++K)
          for (size_t J = 0; J < AxisDims[K] * Inner; ++J)
            Flat.push_back(Offsets[K] + O * AxisDims[K] * Inner + J);
      D = pick(All, Flat);
    }
  }
  setOut(C, 0, T, Out, std::move(D));
  return ok();
}

/// Reshape: the target shape is an attribute before opset 5.
template <bool ShapeFromInput> Error reshape(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Target = listFrom(C, ShapeFromInput, 1, "shape");
  if (!Target.Present)
    return C.error("missing target shape");
  if (!Target.Known) {
    Shape S;
    if (Target.Length >= 0)
      S = Shape::unknownDims(Target.Length);
    C.setOutput(0, X->Ty, S);
    return ok();
  }
  bool AllowZero = C.node().attrInt("allowzero", 0) != 0;
  Optional<Shape> Out = resolveReshape(X->Sh, Target.Vals, AllowZero);
  Shape TargetShape(Target.Vals);
  if (!Out)
    return C.error("cannot reshape " + X->Sh.str() + " to " +
                   TargetShape.str());
  Optional<uint64_t> InN = X->Sh.numElements(), OutN = Out->numElements();
  if (InN && OutN && *InN != *OutN)
    return C.error("cannot reshape " + X->Sh.str() + " (" + Twine(*InN) +
                   " elements) to " + Out->str());
  setOut(C, 0, X->Ty, *Out, X->Data);
  return ok();
}

Error flatten(ShapeContext &C) {
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

Error transpose(ShapeContext &C) {
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
TensorData sliceData(const TensorData &Src, ArrayRef<int64_t> InDims,
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
template <bool FromInputs> Error slice(ShapeContext &C) {
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
  SmallVector<size_t, 6> AxisList;
  if (Axes.Present && !Axes.Known) {
    C.setOutput(0, X->Ty, Shape::unknownDims(R));
    return ok();
  }
  if (Axes.Present) {
    auto Norm = normalizeAxes(C, Axes.Vals, R);
    if (!Norm)
      return Norm.takeError();
    AxisList = *Norm;
  } else {
    size_t N =
        Starts.Known ? Starts.Vals.size() : (Ends.Known ? Ends.Vals.size() : R);
    if (N > R)
      return C.error("slice of " + Twine(N) + " axes on rank " + Twine(R));
    for (size_t I = 0; I < N; ++I)
      AxisList.push_back(I);
  }
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
template <int Since> Error split(ShapeContext &C) {
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

Error expand(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0);
  Expected<Shape> Target = shapeFromInput(C, 1);
  if (!Target)
    return Target.takeError();
  Optional<Shape> Out = broadcastShapes(X->Sh, *Target);
  if (!Out)
    return C.error("cannot expand " + X->Sh.str() + " to " + Target->str());
  Optional<TensorData> D;
  if (const TensorData *Src = knownData(C, 0)) {
    if (Optional<size_t> N = smallCount(*Out)) {
      SmallVector<size_t, 16> Flat;
      for (size_t I = 0; I < *N; ++I)
        Flat.push_back(shapes::broadcastIndex(*Out, X->Sh, I));
      D = pick(*Src, Flat);
    }
  }
  setOut(C, 0, X->Ty, *Out, std::move(D));
  return ok();
}

Error tile(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0);
  IntList Reps = listFromInput(C, 1);
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  size_t R = X->Sh.rank();
  if (!Reps.Known) {
    C.setOutput(0, X->Ty, Shape::unknownDims(R));
    return ok();
  }
  if (Reps.Vals.size() != R)
    return C.error("repeats has " + Twine(Reps.Vals.size()) +
                   " entries for rank " + Twine(R));
  IntVec Dims;
  for (size_t I = 0; I < R; ++I) {
    if (Reps.Vals[I] < 0)
      return C.error("negative repeat " + Twine(Reps.Vals[I]));
    Dims.push_back(X->Sh[I] < 0 ? Shape::Unknown : X->Sh[I] * Reps.Vals[I]);
  }
  Shape Out(Dims);
  Optional<TensorData> D;
  if (const TensorData *Src = knownData(C, 0)) {
    if (Optional<size_t> N = smallCount(Out)) {
      SmallVector<size_t, 16> Flat;
      for (size_t I = 0; I < *N; ++I) {
        IntVec Co = unflatten(I, Dims);
        for (size_t K = 0; K < R; ++K)
          Co[K] %= X->Sh[K];
        Flat.push_back(flatten(Co, X->Sh.dims()));
      }
      D = pick(*Src, Flat);
    }
  }
  setOut(C, 0, X->Ty, Out, std::move(D));
  return ok();
}

Error range(ShapeContext &C) {
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

Error where(ShapeContext &C) {
  if (Error E = requireInputs(C, 3))
    return E;
  Expected<Shape> S = shapes::broadcastInputs(C);
  if (!S)
    return S.takeError();
  DType T = C.in(1)->Ty != DType::Undefined ? C.in(1)->Ty : C.in(2)->Ty;
  Optional<TensorData> D;
  const TensorData *Cond = knownData(C, 0), *X = knownData(C, 1),
                   *Y = knownData(C, 2);
  Optional<size_t> N = smallCount(*S);
  if (Cond && X && Y && N && X->IsFloat == Y->IsFloat) {
    SmallVector<size_t, 16> Flat;
    TensorData Both = *X;
    Both.Ints.append(Y->Ints.begin(), Y->Ints.end());
    Both.Floats.append(Y->Floats.begin(), Y->Floats.end());
    for (size_t I = 0; I < *N; ++I) {
      bool Cv = Cond->asInt(shapes::broadcastIndex(*S, C.in(0)->Sh, I));
      Flat.push_back(Cv ? shapes::broadcastIndex(*S, C.in(1)->Sh, I)
                        : X->size() +
                              shapes::broadcastIndex(*S, C.in(2)->Sh, I));
    }
    D = pick(Both, Flat);
  }
  setOut(C, 0, T, *S, std::move(D));
  return ok();
}

Error nonZero(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  if (!X->Sh.hasRank()) {
    C.setOutput(0, DType::Int64, Shape::unknownDims(2));
    return ok();
  }
  int64_t R = X->Sh.rank();
  const TensorData *Src = knownData(C, 0);
  if (!Src) {
    C.setOutput(0, DType::Int64, shapeOf({R, Shape::Unknown}));
    return ok();
  }
  SmallVector<IntVec, 4> Rows(R);
  int64_t Count = 0;
  for (size_t I = 0; I < Src->size(); ++I) {
    if (Src->asDouble(I) == 0)
      continue;
    IntVec Co = unflatten(I, X->Sh.dims());
    for (int64_t K = 0; K < R; ++K)
      Rows[K].push_back(Co[K]);
    ++Count;
  }
  TensorData D;
  for (const IntVec &Row : Rows)
    D.Ints.append(Row.begin(), Row.end());
  C.setOutput(0, DType::Int64, shapeOf({R, Count}), std::move(D));
  return ok();
}

/// Pad: 'paddings' (opset 1), 'pads' attribute (2-10), 'pads' input (11+),
/// 'axes' input (18+).
template <int Since> Error pad(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Pads = Since >= 11
                     ? listFromInput(C, 1)
                     : listFromAttr(C, Since >= 2 ? "pads" : "paddings");
  IntList Axes = Since >= 18 ? listFromInput(C, 3) : IntList();
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  const Shape &S = X->Sh;
  size_t R = S.rank();
  if (!Pads.Present)
    return C.error("missing pads");
  if (!Pads.Known || (Axes.Present && !Axes.Known)) {
    C.setOutput(0, X->Ty, Shape::unknownDims(R));
    return ok();
  }
  SmallVector<size_t, 6> AxisList;
  if (Axes.Present) {
    auto Norm = normalizeAxes(C, Axes.Vals, R);
    if (!Norm)
      return Norm.takeError();
    AxisList = *Norm;
  } else {
    for (size_t I = 0; I < R; ++I)
      AxisList.push_back(I);
  }
  size_t N = AxisList.size();
  if (Pads.Vals.size() != 2 * N)
    return C.error("pads has " + Twine(Pads.Vals.size()) + " entries for " +
                   Twine(N) + " axes");
  Shape Out = S;
  for (size_t K = 0; K < N; ++K) {
    size_t A = AxisList[K];
    if (S[A] < 0)
      continue;
    int64_t D = S[A] + Pads.Vals[K] + Pads.Vals[K + N];
    if (D < 0)
      return C.error("padding makes dim " + Twine(A) + " negative");
    Out[A] = D;
  }
  C.setOutput(0, X->Ty, Out);
  return ok();
}

Error cumSum(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0);
  Optional<TensorData> D;
  const TensorData *Src = knownData(C, 0);
  auto AxisVals = C.ints(1);
  if (Src && AxisVals && AxisVals->size() == 1) {
    size_t R = X->Sh.rank();
    Optional<size_t> Axis = normalizeAxis((*AxisVals)[0], R);
    if (!Axis)
      return C.error("axis " + Twine((*AxisVals)[0]) +
                     " is out of range for rank " + Twine(R));
    bool Exclusive = C.node().attrInt("exclusive", 0);
    bool Reverse = C.node().attrInt("reverse", 0);
    size_t Len = X->Sh[*Axis];
    size_t Inner = dimProduct(X->Sh, *Axis + 1, R);
    size_t Outer = dimProduct(X->Sh, 0, *Axis);
    TensorData R2 = *Src;
    for (size_t O = 0; O < Outer; ++O) {
      for (size_t In = 0; In < Inner; ++In) {
        double FAcc = 0;
        int64_t IAcc = 0;
        for (size_t J = 0; J < Len; ++J) {
          size_t K = Reverse ? Len - 1 - J : J;
          size_t Idx = (O * Len + K) * Inner + In;
          if (Src->IsFloat) {
            double V = Src->Floats[Idx];
            R2.Floats[Idx] = Exclusive ? FAcc : FAcc + V;
            FAcc += V;
          } else {
            int64_t V = Src->Ints[Idx];
            R2.Ints[Idx] = Exclusive ? IAcc : IAcc + V;
            IAcc += V;
          }
        }
      }
    }
    D = std::move(R2);
  }
  setOut(C, 0, X->Ty, X->Sh, std::move(D));
  return ok();
}

/// TopK: k is an attribute before opset 10, an input since.
template <bool KFromInput> Error topK(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  int64_t K = Shape::Unknown;
  if (KFromInput) {
    if (Error E = C.requireInput(1))
      return E;
    if (auto Vals = C.ints(1))
      if (Vals->size() == 1)
        K = (*Vals)[0];
  } else {
    K = C.node().attrInt("k", Shape::Unknown);
  }
  Shape Out;
  if (X->Sh.hasRank()) {
    Expected<size_t> Axis = axisAttr(C, "axis", -1, X->Sh.rank());
    if (!Axis)
      return Axis.takeError();
    int64_t D = X->Sh[*Axis];
    if (K >= 0 && D >= 0 && K > D)
      return C.error("k = " + Twine(K) + " exceeds dim " + Twine(D));
    Out = X->Sh;
    Out[*Axis] = K;
  }
  C.setOutput(0, X->Ty, Out);
  C.setOutput(1, DType::Int64, Out);
  return ok();
}

Error argMinMax(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  if (!X->Sh.hasRank()) {
    C.setOutput(0, DType::Int64, Shape());
    return ok();
  }
  Expected<size_t> Axis = axisAttr(C, "axis", 0, X->Sh.rank());
  if (!Axis)
    return Axis.takeError();
  bool KeepDims = C.node().attrInt("keepdims", 1) != 0;
  IntVec Dims;
  for (size_t I = 0; I < X->Sh.rank(); ++I) {
    if (I != *Axis)
      Dims.push_back(X->Sh[I]);
    else if (KeepDims)
      Dims.push_back(1);
  }
  C.setOutput(0, DType::Int64, Shape(Dims));
  return ok();
}

/// Scatter, ScatterElements, ScatterND, TensorScatter: data's shape.
Error scatterLike(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, C.in(0)->Ty, C.in(0)->Sh);
  return ok();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

enum class Red { Sum, Prod, Max, Min, Mean, Other };

/// Reduce* ops: axes from an attribute or (AxesFromInput) from input 1.
template <Red Op, bool AxesFromInput> Error reduce(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  bool KeepDims = C.node().attrInt("keepdims", 1) != 0;
  bool NoopEmpty =
      AxesFromInput && C.node().attrInt("noop_with_empty_axes", 0) != 0;
  IntList Axes = listFrom(C, AxesFromInput, 1, "axes");
  const Shape &S = X->Sh;
  if (Axes.Present && !Axes.Known) {
    Shape Out;
    if (S.hasRank() && KeepDims) {
      Out = S;
      for (size_t I = 0; I < S.rank(); ++I)
        if (S[I] != 1)
          Out[I] = Shape::Unknown;
    } else if (S.hasRank() && Axes.Length >= 0 &&
               Axes.Length <= static_cast<int64_t>(S.rank())) {
      Out = Shape::unknownDims(S.rank() - Axes.Length);
    }
    C.setOutput(0, X->Ty, Out);
    return ok();
  }
  if (Axes.Vals.empty() && NoopEmpty) {
    setOut(C, 0, X->Ty, S, X->Data);
    return ok();
  }
  if (!S.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  size_t R = S.rank();
  SmallVector<bool, 6> Reduced(R, Axes.Vals.empty());
  auto Norm = normalizeAxes(C, Axes.Vals, R);
  if (!Norm)
    return Norm.takeError();
  for (size_t A : *Norm)
    Reduced[A] = true;
  IntVec Dims, KeptDims;
  for (size_t I = 0; I < R; ++I) {
    KeptDims.push_back(Reduced[I] ? 1 : S[I]);
    if (!Reduced[I])
      Dims.push_back(S[I]);
    else if (KeepDims)
      Dims.push_back(1);
  }
  Shape Out(Dims);
  Optional<TensorData> D;
  const TensorData *Src = knownData(C, 0);
  Optional<size_t> N = smallCount(Out);
  if (Op != Red::Other && Src && N && *N > 0 && Src->size() > 0) {
    SmallVector<double, 16> FAcc(*N, 0);
    IntVec IAcc(*N, 0);
    SmallVector<bool, 16> Seen(*N, false);
    bool Ok = true;
    for (size_t I = 0; I < Src->size(); ++I) {
      IntVec Co = unflatten(I, S.dims());
      for (size_t K = 0; K < R; ++K)
        if (Reduced[K])
          Co[K] = 0;
      size_t O = flatten(Co, KeptDims);
      if (Src->IsFloat) {
        double V = Src->Floats[I], &A = FAcc[O];
        if (!Seen[O])
          A = V;
        else if (Op == Red::Sum || Op == Red::Mean)
          A += V;
        else if (Op == Red::Prod)
          A *= V;
        else if (Op == Red::Max)
          A = std::max(A, V);
        else
          A = std::min(A, V);
      } else {
        int64_t V = Src->Ints[I], &A = IAcc[O];
        if (!Seen[O])
          A = V;
        else if (Op == Red::Sum || Op == Red::Mean)
          Ok &= !__builtin_add_overflow(A, V, &A);
        else if (Op == Red::Prod)
          Ok &= !__builtin_mul_overflow(A, V, &A);
        else if (Op == Red::Max)
          A = std::max(A, V);
        else
          A = std::min(A, V);
      }
      Seen[O] = true;
    }
    if (Ok && Op == Red::Mean && !Src->IsFloat)
      Ok = false;
    if (Ok) {
      TensorData R2;
      R2.IsFloat = Src->IsFloat;
      size_t Per = Src->size() / *N;
      for (size_t O = 0; O < *N; ++O) {
        if (Src->IsFloat)
          R2.Floats.push_back(Op == Red::Mean ? FAcc[O] / Per : FAcc[O]);
        else
          R2.Ints.push_back(IAcc[O]);
      }
      D = std::move(R2);
    }
  }
  setOut(C, 0, X->Ty, Out, std::move(D));
  return ok();
}

//===----------------------------------------------------------------------===//
// Linear algebra, convolution, pooling
//===----------------------------------------------------------------------===//

/// Numpy matmul of input shapes A and B; error on mismatch.
Expected<Shape> matMulShape(ShapeContext &C, const Shape &A, const Shape &B) {
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
template <DType OutTy> Error matMul(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Expected<Shape> S = matMulShape(C, C.in(0)->Sh, C.in(1)->Sh);
  if (!S)
    return S.takeError();
  C.setOutput(0, OutTy == DType::Undefined ? C.in(0)->Ty : OutTy, *S);
  return ok();
}

Error qLinearMatMul(ShapeContext &C) {
  if (Error E = requireInputs(C, 4))
    return E;
  Value *B = C.in(3);
  if (!B)
    return C.error("missing input b");
  Expected<Shape> S = matMulShape(C, C.in(0)->Sh, B->Sh);
  if (!S)
    return S.takeError();
  Value *Zp = C.in(7);
  C.setOutput(0, Zp ? Zp->Ty : C.in(0)->Ty, *S);
  return ok();
}

Error gemm(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  const Shape &A = C.in(0)->Sh, &B = C.in(1)->Sh;
  DType T = C.in(0)->Ty;
  if (!A.hasRank() || !B.hasRank()) {
    C.setOutput(0, T, Shape::unknownDims(2));
    return ok();
  }
  if (A.rank() != 2 || B.rank() != 2)
    return C.error("gemm of " + A.str() + " and " + B.str() +
                   ": operands must be 2-D");
  bool TA = C.node().attrInt("transA", 0), TB = C.node().attrInt("transB", 0);
  int64_t M = A[TA ? 1 : 0], KA = A[TA ? 0 : 1];
  int64_t KB = B[TB ? 1 : 0], N = B[TB ? 0 : 1];
  if (KA >= 0 && KB >= 0 && KA != KB)
    return C.error("gemm of " + A.str() + " and " + B.str() +
                   ": inner dims differ");
  C.setOutput(0, T, shapeOf({M, N}));
  return ok();
}

/// Spatial output dims of a convolution or pooling window.
struct WindowParams {
  IntVec Kernel, Strides, Dilations, Pads;
  StringRef AutoPad;
  bool CeilMode = false;
};

Expected<WindowParams> readWindow(ShapeContext &C, size_t NSpatial,
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

int64_t windowOut(const WindowParams &P, size_t I, int64_t In) {
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

Error conv(ShapeContext &C) {
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

Error convTranspose(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0), *W = C.in(1);
  const Shape &XS = X->Sh, &WS = W->Sh;
  if (!XS.hasRank() || !WS.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  size_t R = XS.rank();
  if (R < 3 || WS.rank() != R)
    return C.error("conv transpose of " + XS.str() + " with weights " +
                   WS.str());
  int64_t Group = C.node().attrInt("group", 1);
  IntVec Fallback(WS.dims().begin() + 2, WS.dims().end());
  Expected<WindowParams> P = readWindow(C, R - 2, Fallback);
  if (!P)
    return P.takeError();
  size_t NS = R - 2;
  IntVec OutPad(NS, 0);
  if (auto OP = C.node().attrInts("output_padding"))
    if (OP->size() == NS)
      OutPad.assign(OP->begin(), OP->end());
  IntVec Dims{XS[0], WS[1] < 0 ? Shape::Unknown : WS[1] * Group};
  auto OutShape = C.node().attrInts("output_shape");
  for (size_t I = 0; I < NS; ++I) {
    if (OutShape && OutShape->size() == NS) {
      Dims.push_back((*OutShape)[I]);
      continue;
    }
    int64_t In = XS[I + 2];
    if (In < 0 || P->Kernel[I] < 0) {
      Dims.push_back(Shape::Unknown);
      continue;
    }
    if (P->AutoPad == "SAME_UPPER" || P->AutoPad == "SAME_LOWER") {
      Dims.push_back(In * P->Strides[I]);
      continue;
    }
    int64_t Pads = P->AutoPad == "VALID" ? 0 : P->Pads[I] + P->Pads[I + NS];
    Dims.push_back(P->Strides[I] * (In - 1) + OutPad[I] +
                   (P->Kernel[I] - 1) * P->Dilations[I] + 1 - Pads);
  }
  C.setOutput(0, X->Ty, Shape(Dims));
  return ok();
}

/// MaxPool, AveragePool, LpPool; MaxPool's second output holds indices.
Error pool(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  const Shape &XS = X->Sh;
  if (!XS.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    C.setOutput(1, DType::Int64, Shape());
    return ok();
  }
  if (XS.rank() < 3)
    return C.error("pooling of rank " + Twine(XS.rank()));
  if (!C.node().attrInts("kernel_shape"))
    return C.error("missing attribute 'kernel_shape'");
  Expected<WindowParams> P = readWindow(C, XS.rank() - 2, {});
  if (!P)
    return P.takeError();
  IntVec Dims{XS[0], XS[1]};
  for (size_t I = 2; I < XS.rank(); ++I)
    Dims.push_back(windowOut(*P, I - 2, XS[I]));
  C.setOutput(0, X->Ty, Shape(Dims));
  C.setOutput(1, DType::Int64, Shape(Dims));
  return ok();
}

Error globalPool(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  Shape Out;
  if (X->Sh.hasRank()) {
    if (X->Sh.rank() < 2)
      return C.error("global pooling of rank " + Twine(X->Sh.rank()));
    Out = X->Sh;
    for (size_t I = 2; I < Out.rank(); ++I)
      Out[I] = 1;
  }
  C.setOutput(0, X->Ty, Out);
  return ok();
}

//===----------------------------------------------------------------------===//
// Normalisation, dropout
//===----------------------------------------------------------------------===//

Shape channelShape(const Shape &X) {
  if (!X.hasRank() || X.rank() < 2)
    return shapeOf({Shape::Unknown});
  return shapeOf({X[1]});
}

/// BatchNormalization before opset 14: optional mean, var, saved_mean,
/// saved_var of shape [C] in X's dtype.
Error batchNormLegacy(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, X->Sh);
  for (unsigned I = 1; I < 5; ++I)
    C.setOutput(I, X->Ty, channelShape(X->Sh));
  return ok();
}

/// BatchNormalization 14+: optional running_mean, running_var in the dtype
/// of input_mean.
Error batchNorm(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, X->Sh);
  DType U = C.in(3) ? C.in(3)->Ty : X->Ty;
  C.setOutput(1, U, channelShape(X->Sh));
  C.setOutput(2, U, channelShape(X->Sh));
  return ok();
}

Error layerNorm(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, X->Sh);
  Optional<DType> Stash = dtypeFromOnnx(C.node().attrInt("stash_type", 1));
  if (!Stash)
    return C.error("invalid stash_type");
  Shape Stat;
  if (X->Sh.hasRank()) {
    Expected<size_t> Axis = axisAttr(C, "axis", -1, X->Sh.rank());
    if (!Axis)
      return Axis.takeError();
    Stat = X->Sh;
    for (size_t I = *Axis; I < Stat.rank(); ++I)
      Stat[I] = 1;
  }
  C.setOutput(1, *Stash, Stat);
  C.setOutput(2, *Stash, Stat);
  return ok();
}

/// Dropout: mask in X's dtype before opset 10, bool since.
template <bool BoolMask> Error dropout(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, X->Sh);
  C.setOutput(1, BoolMask ? DType::Bool : X->Ty, X->Sh);
  return ok();
}

//===----------------------------------------------------------------------===//
// Misc tensor ops
//===----------------------------------------------------------------------===//

Error einsum(ShapeContext &C) {
  std::string Eq;
  for (char Ch : C.node().attrString("equation", ""))
    if (Ch != ' ')
      Eq.push_back(Ch);
  if (Eq.empty())
    return C.error("missing attribute 'equation'");
  DType T = C.in(0) ? C.in(0)->Ty : DType::Undefined;
  StringRef Lhs = Eq, Rhs;
  bool Explicit = false;
  size_t Arrow = Eq.find("->");
  if (Arrow != std::string::npos) {
    Lhs = StringRef(Eq).take_front(Arrow);
    Rhs = StringRef(Eq).drop_front(Arrow + 2);
    Explicit = true;
  }
  SmallVector<StringRef, 4> Terms;
  Lhs.split(Terms, ',');
  if (Terms.size() != C.numInputs())
    return C.error("equation '" + Eq + "' has " + Twine(Terms.size()) +
                   " operands for " + Twine(C.numInputs()) + " inputs");
  int64_t LetterDim[128];
  int LetterCount[128] = {0};
  std::fill(std::begin(LetterDim), std::end(LetterDim), Shape::Unknown);
  Shape Ellipsis = Shape::scalar();
  for (unsigned I = 0; I < Terms.size(); ++I) {
    Value *V = C.in(I);
    if (!V)
      return C.error("missing input " + Twine(I));
    StringRef Term = Terms[I];
    size_t Dots = Term.find("...");
    StringRef Letters = Term;
    std::string Tmp;
    if (Dots != StringRef::npos) {
      Tmp = (Term.take_front(Dots) + Term.drop_front(Dots + 3)).str();
      Letters = Tmp;
    }
    for (char Ch : Letters)
      if (!isAlpha(Ch))
        return C.error("invalid equation '" + Eq + "'");
    if (!V->Sh.hasRank()) {
      for (char Ch : Letters)
        ++LetterCount[static_cast<unsigned char>(Ch)];
      if (Dots != StringRef::npos)
        Ellipsis = Shape();
      continue;
    }
    size_t R = V->Sh.rank();
    if (R < Letters.size() || (Dots == StringRef::npos && R != Letters.size()))
      return C.error("operand '" + Term + "' does not match shape " +
                     V->Sh.str());
    size_t NEll = R - Letters.size();
    size_t Pos = 0;
    for (size_t K = 0; K < Term.size();) {
      if (Term.substr(K).startswith("...")) {
        Shape E(V->Sh.dims().slice(Pos, NEll));
        if (Ellipsis.hasRank()) {
          Optional<Shape> B = broadcastShapes(Ellipsis, E);
          if (!B)
            return C.error("ellipsis dims do not broadcast");
          Ellipsis = *B;
        }
        Pos += NEll;
        K += 3;
        continue;
      }
      unsigned char Ch = Term[K];
      int64_t D = V->Sh[Pos];
      int64_t &Known = LetterDim[Ch];
      ++LetterCount[Ch];
      if (Known < 0 || Known == 1)
        Known = D < 0 && Known == 1 ? Shape::Unknown : D;
      else if (D >= 0 && D != 1 && D != Known)
        return C.error("label '" + Twine(Term[K]) + "' has dims " +
                       Twine(Known) + " and " + Twine(D));
      ++Pos;
      ++K;
    }
  }
  std::string Out;
  if (Explicit) {
    Out = Rhs.str();
  } else {
    bool AnyEllipsis = Lhs.contains("...");
    if (AnyEllipsis)
      Out = "...";
    for (unsigned Ch = 'A'; Ch <= 'z'; ++Ch)
      if (isAlpha(Ch) && LetterCount[Ch] == 1)
        Out.push_back(static_cast<char>(Ch));
  }
  IntVec Dims;
  for (size_t K = 0; K < Out.size();) {
    if (StringRef(Out).substr(K).startswith("...")) {
      if (!Ellipsis.hasRank()) {
        C.setOutput(0, T, Shape());
        return ok();
      }
      Dims.append(Ellipsis.dims().begin(), Ellipsis.dims().end());
      K += 3;
      continue;
    }
    unsigned char Ch = Out[K];
    if (!isAlpha(Ch) || !LetterCount[Ch])
      return C.error("output label '" + Twine(Out[K]) + "' of equation '" + Eq +
                     "' is not an input label");
    Dims.push_back(LetterDim[Ch]);
    ++K;
  }
  C.setOutput(0, T, Shape(Dims));
  return ok();
}

/// Output shape from sizes or scales over the given axes.
Shape resizeShape(ShapeContext &C, const Shape &S, const IntList &Axes,
                  unsigned ScalesIdx, unsigned SizesIdx) {
  if (!S.hasRank())
    return Shape();
  size_t R = S.rank();
  SmallVector<size_t, 6> AxisList;
  if (Axes.Known) {
    for (int64_t A : Axes.Vals)
      if (Optional<size_t> N = normalizeAxis(A, R))
        AxisList.push_back(*N);
  } else {
    for (size_t I = 0; I < R; ++I)
      AxisList.push_back(I);
  }
  Shape Out = S;
  const TensorData *Sizes = SizesIdx ? knownData(C, SizesIdx) : nullptr;
  const TensorData *Scales = knownData(C, ScalesIdx);
  if (Sizes && Sizes->size() == AxisList.size() && Sizes->size()) {
    StringRef Policy =
        C.node().attrString("keep_aspect_ratio_policy", "stretch");
    if (Policy == "stretch") {
      for (size_t K = 0; K < AxisList.size(); ++K)
        Out[AxisList[K]] = Sizes->asInt(K);
      return Out;
    }
    double Scale = Policy == "not_larger" ? 1e300 : 0;
    for (size_t K = 0; K < AxisList.size(); ++K) {
      int64_t D = S[AxisList[K]];
      if (D <= 0)
        return Shape::unknownDims(R);
      double F = static_cast<double>(Sizes->asInt(K)) / D;
      Scale = Policy == "not_larger" ? std::min(Scale, F) : std::max(Scale, F);
    }
    for (size_t A : AxisList)
      Out[A] = static_cast<int64_t>(std::nearbyint(Scale * S[A]));
    return Out;
  }
  if (Scales && Scales->size() == AxisList.size() && Scales->size()) {
    for (size_t K = 0; K < AxisList.size(); ++K) {
      int64_t D = S[AxisList[K]];
      Out[AxisList[K]] =
          D < 0 ? Shape::Unknown
                : static_cast<int64_t>(std::floor(D * Scales->asDouble(K)));
    }
    return Out;
  }
  for (size_t A : AxisList)
    Out[A] = Shape::Unknown;
  return Out;
}

/// Resize 10 (X, scales) and Upsample 9 (X, scales).
Error resizeScalesInput(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0);
  C.setOutput(0, X->Ty, resizeShape(C, X->Sh, IntList(), 1, 0));
  return ok();
}

/// Resize 11+ (X, roi, scales, sizes); 'axes' attribute since 18.
Error resize(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  IntList Axes = listFromAttr(C, "axes");
  C.setOutput(0, X->Ty, resizeShape(C, X->Sh, Axes, 2, 3));
  return ok();
}

/// Upsample 7-8: 'scales' attribute.
Error upsampleAttr(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  const Attribute *A = C.node().attr("scales");
  if (!A || A->K != Attribute::Floats)
    return C.error("missing attribute 'scales'");
  const Shape &S = X->Sh;
  if (!S.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  if (A->FloatList.size() != S.rank())
    return C.error("scales has " + Twine(A->FloatList.size()) +
                   " entries for rank " + Twine(S.rank()));
  Shape Out = S;
  for (size_t I = 0; I < S.rank(); ++I)
    if (S[I] >= 0)
      Out[I] = static_cast<int64_t>(std::floor(S[I] * A->FloatList[I]));
  C.setOutput(0, X->Ty, Out);
  return ok();
}

Error oneHot(ShapeContext &C) {
  if (Error E = requireInputs(C, 3))
    return E;
  Value *Idx = C.in(0);
  DType T = C.in(2)->Ty;
  int64_t Depth = Shape::Unknown;
  if (const TensorData *D = knownData(C, 1))
    if (D->size() == 1)
      Depth = D->asInt(0);
  if (!Idx->Sh.hasRank()) {
    C.setOutput(0, T, Shape());
    return ok();
  }
  Expected<size_t> Axis = axisAttr(C, "axis", -1, Idx->Sh.rank() + 1);
  if (!Axis)
    return Axis.takeError();
  IntVec Dims(Idx->Sh.dims().begin(), Idx->Sh.dims().end());
  Dims.insert(Dims.begin() + *Axis, Depth);
  C.setOutput(0, T, Shape(Dims));
  return ok();
}

/// EyeLike, RandomNormalLike, RandomUniformLike, Bernoulli: input 0's shape,
/// dtype from the 'dtype' attribute or input 0.
Error likeInput(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  DType T = C.in(0)->Ty;
  if (const Attribute *A = C.node().attr("dtype")) {
    Optional<DType> D = dtypeFromOnnx(A->I);
    if (!D || A->K != Attribute::Int)
      return C.error("invalid attribute 'dtype'");
    T = *D;
  }
  C.setOutput(0, T, C.in(0)->Sh);
  return ok();
}

/// RandomNormal, RandomUniform: 'shape' and 'dtype' (default float).
Error randomFromAttrs(ShapeContext &C) {
  auto S = C.node().attrInts("shape");
  if (!S)
    return C.error("missing attribute 'shape'");
  Optional<DType> T = dtypeFromOnnx(C.node().attrInt("dtype", 1));
  if (!T)
    return C.error("invalid attribute 'dtype'");
  C.setOutput(0, *T, Shape(*S));
  return ok();
}

Error multinomial(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Optional<DType> T = dtypeFromOnnx(C.node().attrInt("dtype", 6));
  if (!T)
    return C.error("invalid attribute 'dtype'");
  const Shape &S = C.in(0)->Sh;
  int64_t Batch = S.hasRank() && S.rank() == 2 ? S[0] : Shape::Unknown;
  C.setOutput(0, *T, shapeOf({Batch, C.node().attrInt("sample_size", 1)}));
  return ok();
}

template <bool ToSpace> Error depthSpace(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  const Shape &S = X->Sh;
  if (!S.hasRank()) {
    C.setOutput(0, X->Ty, Shape::unknownDims(4));
    return ok();
  }
  if (S.rank() != 4)
    return C.error("input of rank " + Twine(S.rank()) + " (expected 4)");
  int64_t B = C.node().attrInt("blocksize", 0);
  if (B <= 0)
    return C.error("invalid blocksize " + Twine(B));
  auto Mul = [](int64_t D, int64_t F) { return D < 0 ? D : D * F; };
  auto Div = [&](int64_t D, int64_t F) -> int64_t { return D < 0 ? D : D / F; };
  if (ToSpace) {
    if (S[1] >= 0 && S[1] % (B * B) != 0)
      return C.error("channels " + Twine(S[1]) + " not divisible by " +
                     Twine(B * B));
    C.setOutput(0, X->Ty,
                shapeOf({S[0], Div(S[1], B * B), Mul(S[2], B), Mul(S[3], B)}));
  } else {
    for (size_t I = 2; I < 4; ++I)
      if (S[I] >= 0 && S[I] % B != 0)
        return C.error("dim " + Twine(S[I]) + " not divisible by blocksize " +
                       Twine(B));
    C.setOutput(0, X->Ty,
                shapeOf({S[0], Mul(S[1], B * B), Div(S[2], B), Div(S[3], B)}));
  }
  return ok();
}

Error compress(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0);
  int64_t Count = Shape::Unknown;
  if (const TensorData *D = knownData(C, 1)) {
    Count = 0;
    for (size_t I = 0; I < D->size(); ++I)
      Count += D->asInt(I) != 0;
  }
  const Attribute *A = C.node().attr("axis");
  if (!A) {
    C.setOutput(0, X->Ty, shapeOf({Count}));
    return ok();
  }
  if (!X->Sh.hasRank()) {
    C.setOutput(0, X->Ty, Shape());
    return ok();
  }
  Expected<size_t> Axis = axisAttr(C, "axis", 0, X->Sh.rank());
  if (!Axis)
    return Axis.takeError();
  Shape Out = X->Sh;
  Out[*Axis] = Count;
  C.setOutput(0, X->Ty, Out);
  return ok();
}

Error unique(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Value *X = C.in(0);
  const Attribute *A = C.node().attr("axis");
  Shape Y = shapeOf({Shape::Unknown});
  int64_t InvLen = Shape::Unknown;
  if (!A) {
    if (Optional<uint64_t> N = X->Sh.numElements())
      InvLen = *N;
  } else if (X->Sh.hasRank()) {
    Expected<size_t> Axis = axisAttr(C, "axis", 0, X->Sh.rank());
    if (!Axis)
      return Axis.takeError();
    Y = X->Sh;
    Y[*Axis] = Shape::Unknown;
    InvLen = X->Sh[*Axis];
  } else {
    Y = Shape();
  }
  C.setOutput(0, X->Ty, Y);
  C.setOutput(1, DType::Int64, shapeOf({Shape::Unknown}));
  C.setOutput(2, DType::Int64, shapeOf({InvLen}));
  C.setOutput(3, DType::Int64, shapeOf({Shape::Unknown}));
  return ok();
}

Error trilu(ShapeContext &C) { return sameAsInput(C); }

Error det(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  const Shape &S = C.in(0)->Sh;
  Shape Out;
  if (S.hasRank()) {
    if (S.rank() < 2)
      return C.error("determinant of rank " + Twine(S.rank()));
    Out = Shape(S.dims().drop_back(2));
  }
  C.setOutput(0, C.in(0)->Ty, Out);
  return ok();
}

Error nonMaxSuppression(ShapeContext &C) {
  C.setOutput(0, DType::Int64, shapeOf({Shape::Unknown, 3}));
  return ok();
}

Error quantizeLinear(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  DType T = DType::UInt8;
  if (C.in(2))
    T = C.in(2)->Ty;
  else if (const Attribute *A = C.node().attr("output_dtype"))
    if (Optional<DType> D = dtypeFromOnnx(A->I))
      if (*D != DType::Undefined)
        T = *D;
  C.setOutput(0, T, C.in(0)->Sh);
  return ok();
}

Error dequantizeLinear(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  DType T =
      C.in(1) && C.in(1)->Ty != DType::Undefined ? C.in(1)->Ty : DType::Float;
  C.setOutput(0, T, C.in(0)->Sh);
  return ok();
}

Error dynamicQuantizeLinear(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  C.setOutput(0, DType::UInt8, C.in(0)->Sh);
  C.setOutput(1, DType::Float, Shape::scalar());
  C.setOutput(2, DType::UInt8, Shape::scalar());
  return ok();
}

Error gridSample(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  const Shape &X = C.in(0)->Sh, &G = C.in(1)->Sh;
  Shape Out;
  if (X.hasRank() && G.hasRank() && X.rank() >= 3 && G.rank() == X.rank()) {
    IntVec Dims{X[0], X[1]};
    Dims.append(G.dims().begin() + 1, G.dims().end() - 1);
    Out = Shape(Dims);
  }
  C.setOutput(0, C.in(0)->Ty, Out);
  return ok();
}

/// RNN, GRU, LSTM: Y, Y_h (and LSTM's Y_c).
Error recurrent(ShapeContext &C) {
  if (Error E = requireInputs(C, 3))
    return E;
  Value *X = C.in(0);
  const Shape &XS = X->Sh, &RS = C.in(2)->Sh;
  int64_t Hidden = C.node().attrInt("hidden_size", Shape::Unknown);
  if (Hidden < 0 && RS.hasRank() && RS.rank() == 3)
    Hidden = RS[2];
  int64_t Dirs =
      C.node().attrString("direction", "forward") == "bidirectional" ? 2 : 1;
  bool BatchFirst = C.node().attrInt("layout", 0) != 0;
  int64_t Seq = Shape::Unknown, Batch = Shape::Unknown;
  if (XS.hasRank()) {
    if (XS.rank() != 3)
      return C.error("input of rank " + Twine(XS.rank()) + " (expected 3)");
    Seq = XS[BatchFirst ? 1 : 0];
    Batch = XS[BatchFirst ? 0 : 1];
  }
  if (BatchFirst) {
    C.setOutput(0, X->Ty, shapeOf({Batch, Seq, Dirs, Hidden}));
    C.setOutput(1, X->Ty, shapeOf({Batch, Dirs, Hidden}));
    C.setOutput(2, X->Ty, shapeOf({Batch, Dirs, Hidden}));
  } else {
    C.setOutput(0, X->Ty, shapeOf({Seq, Dirs, Batch, Hidden}));
    C.setOutput(1, X->Ty, shapeOf({Dirs, Batch, Hidden}));
    C.setOutput(2, X->Ty, shapeOf({Dirs, Batch, Hidden}));
  }
  return ok();
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

Expected<Graph *> graphAttr(ShapeContext &C, StringRef Name) {
  Node &N = C.node();
  const Attribute *A = N.attr(Name);
  if (!A || A->K != Attribute::Graphs || A->GraphIndices.empty() ||
      A->GraphIndices[0] >= N.Subgraphs.size() ||
      !N.Subgraphs[A->GraphIndices[0]])
    return C.error("missing graph attribute '" + Name + "'");
  return N.Subgraphs[A->GraphIndices[0]].get();
}

/// Of two candidate shapes for one value, the larger when both are
/// concrete, else the dims they agree on.
Shape joinBranches(const Shape &A, const Shape &B) {
  if (A == B)
    return A;
  Optional<uint64_t> NA = A.numElements(), NB = B.numElements();
  if (NA && NB)
    return *NA >= *NB ? A : B;
  return mergeShapes(A, B);
}

Error ifOp(ShapeContext &C) {
  if (Error E = C.requireInput(0))
    return E;
  Expected<Graph *> Then = graphAttr(C, "then_branch");
  if (!Then)
    return Then.takeError();
  Expected<Graph *> Else = graphAttr(C, "else_branch");
  if (!Else)
    return Else.takeError();
  Graph *Chosen = nullptr;
  if (const TensorData *Cond = knownData(C, 0))
    if (Cond->size() == 1)
      Chosen = Cond->asDouble(0) != 0 ? *Then : *Else;
  if (Chosen) {
    // Only the branch taken runs; the other may not even be valid for these
    // bindings.
    (Chosen == *Then ? *Else : *Then)->NotTaken = true;
    if (Error E = C.inferSubgraph(*Chosen))
      return E;
  } else {
    // Either may run. A branch that cannot run with these bindings is
    // reported and the other one is priced.
    Error ThenErr = C.inferSubgraph(**Then);
    Error ElseErr = C.inferSubgraph(**Else);
    if (ThenErr && ElseErr) {
      consumeError(std::move(ElseErr));
      return ThenErr;
    }
    for (auto *P : {&ThenErr, &ElseErr}) {
      if (!*P)
        continue;
      bool IsThen = P == &ThenErr;
      C.note(Twine(IsThen ? "then" : "else") +
             "_branch cannot run with these bindings (" +
             toString(std::move(*P)) + "); pricing the " +
             (IsThen ? "else" : "then") + " branch");
      Chosen = IsThen ? *Else : *Then;
      (IsThen ? *Then : *Else)->NotTaken = true;
    }
  }
  for (unsigned I = 0; I < C.numOutputs(); ++I) {
    if (I >= (*Then)->Outputs.size() || I >= (*Else)->Outputs.size())
      return C.error("a branch has fewer than " + Twine(C.numOutputs()) +
                     " outputs");
    Value *T = (*Then)->Outputs[I], *E = (*Else)->Outputs[I];
    if (Chosen) {
      Value *V = Chosen->Outputs[I];
      setOut(C, I, V->Ty, V->Sh, V->Data);
      continue;
    }
    DType Ty = T->Ty != DType::Undefined ? T->Ty : E->Ty;
    C.setOutput(I, Ty, joinBranches(T->Sh, E->Sh));
  }
  return ok();
}

/// Sets a subgraph input from the value that feeds it (when known).
void feed(Value *Formal, DType T, const Shape &S) {
  if (!Formal)
    return;
  if (T != DType::Undefined)
    Formal->Ty = T;
  if (S.hasRank() || !Formal->Sh.hasRank())
    Formal->Sh = S;
  Formal->Data = None;
}

Error loop(ShapeContext &C) {
  Expected<Graph *> BodyOr = graphAttr(C, "body");
  if (!BodyOr)
    return BodyOr.takeError();
  Graph &Body = **BodyOr;
  unsigned NCarried = C.numInputs() > 2 ? C.numInputs() - 2 : 0;
  if (Body.Inputs.size() < 2 + NCarried)
    return C.error("loop body has " + Twine(Body.Inputs.size()) +
                   " inputs for " + Twine(NCarried) + " carried values");
  if (Body.Outputs.size() < 1 + NCarried ||
      Body.Outputs.size() - 1 - NCarried < C.numOutputs() - NCarried)
    return C.error("loop body has too few outputs");
  feed(Body.Inputs[0], DType::Int64, Shape::scalar());
  feed(Body.Inputs[1], DType::Bool, Shape::scalar());
  for (unsigned K = 0; K < NCarried; ++K)
    if (Value *V = C.in(2 + K))
      feed(Body.Inputs[2 + K], V->Ty, V->Sh);
  if (Error E = C.inferSubgraph(Body))
    return E;
  int64_t Trip = Shape::Unknown;
  if (const TensorData *M = knownData(C, 0))
    if (M->size() == 1 && M->asInt(0) >= 0 && M->asInt(0) <= INT32_MAX)
      Trip = M->asInt(0);
  for (unsigned I = 0; I < C.numOutputs(); ++I) {
    Value *B = Body.Outputs[1 + I];
    if (I < NCarried) {
      Value *Init = C.in(2 + I);
      DType T = Init && Init->Ty != DType::Undefined ? Init->Ty : B->Ty;
      Shape S = Init ? Init->Sh : B->Sh;
      if (B->Sh.hasRank())
        S = mergeShapes(S, B->Sh);
      C.setOutput(I, T, S);
      continue;
    }
    Shape S;
    if (B->Sh.hasRank()) {
      IntVec Dims{Trip};
      Dims.append(B->Sh.dims().begin(), B->Sh.dims().end());
      S = Shape(Dims);
    }
    C.setOutput(I, B->Ty, S);
  }
  return ok();
}

/// Scan 9+: N state values then num_scan_inputs sequences.
Error scan(ShapeContext &C) {
  Expected<Graph *> BodyOr = graphAttr(C, "body");
  if (!BodyOr)
    return BodyOr.takeError();
  Graph &Body = **BodyOr;
  const Attribute *NScanA = C.node().attr("num_scan_inputs");
  if (!NScanA || NScanA->K != Attribute::Int || NScanA->I < 0 ||
      NScanA->I > C.numInputs())
    return C.error("invalid attribute 'num_scan_inputs'");
  unsigned NScan = NScanA->I, NState = C.numInputs() - NScan;
  if (Body.Inputs.size() != C.numInputs() ||
      Body.Outputs.size() < C.numOutputs())
    return C.error("scan body does not match the node's inputs and outputs");
  auto InAxes = C.node().attrInts("scan_input_axes");
  auto OutAxes = C.node().attrInts("scan_output_axes");
  int64_t SeqLen = Shape::Unknown;
  for (unsigned K = 0; K < NState; ++K)
    if (Value *V = C.in(K))
      feed(Body.Inputs[K], V->Ty, V->Sh);
  for (unsigned K = 0; K < NScan; ++K) {
    Value *V = C.in(NState + K);
    if (!V)
      continue;
    Shape S;
    if (V->Sh.hasRank() && V->Sh.rank() > 0) {
      int64_t A = InAxes && K < InAxes->size() ? (*InAxes)[K] : 0;
      Optional<size_t> Axis = normalizeAxis(A, V->Sh.rank());
      if (!Axis)
        return C.error("scan input axis " + Twine(A) + " is out of range");
      if (SeqLen < 0)
        SeqLen = V->Sh[*Axis];
      IntVec Dims(V->Sh.dims().begin(), V->Sh.dims().end());
      Dims.erase(Dims.begin() + *Axis);
      S = Shape(Dims);
    }
    feed(Body.Inputs[NState + K], V->Ty, S);
  }
  if (Error E = C.inferSubgraph(Body))
    return E;
  for (unsigned I = 0; I < C.numOutputs(); ++I) {
    Value *B = Body.Outputs[I];
    if (I < NState) {
      Value *Init = C.in(I);
      Shape S = Init ? Init->Sh : B->Sh;
      if (B->Sh.hasRank())
        S = mergeShapes(S, B->Sh);
      C.setOutput(I, Init ? Init->Ty : B->Ty, S);
      continue;
    }
    Shape S;
    if (B->Sh.hasRank()) {
      unsigned J = I - NState;
      int64_t A = OutAxes && J < OutAxes->size() ? (*OutAxes)[J] : 0;
      Optional<size_t> Axis = normalizeAxis(A, B->Sh.rank() + 1);
      if (!Axis)
        return C.error("scan output axis " + Twine(A) + " is out of range");
      IntVec Dims(B->Sh.dims().begin(), B->Sh.dims().end());
      Dims.insert(Dims.begin() + *Axis, SeqLen);
      S = Shape(Dims);
    }
    C.setOutput(I, B->Ty, S);
  }
  return ok();
}

/// Scan 8 (batched, with sequence_lens): body inferred, outputs left to the
/// model's declarations.
Error scanV8(ShapeContext &C) {
  Expected<Graph *> BodyOr = graphAttr(C, "body");
  if (!BodyOr)
    return BodyOr.takeError();
  return C.inferSubgraph(**BodyOr);
}

//===----------------------------------------------------------------------===//
// The table
//===----------------------------------------------------------------------===//

constexpr int64_t Any = AnyVersion;

const ShapeRule OnnxRules[] = {
    // Constants, casts, shape queries.
    {"", "Constant", 1, Any, constant},
    {"", "ConstantOfShape", 9, Any, constantOfShape},
    {"", "Identity", 1, Any, identity},
    {"", "Cast", 1, Any, cast},
    {"", "CastLike", 15, Any, castLike},
    {"", "Shape", 1, Any, shapeOp},
    {"", "Size", 1, Any, sizeOp},

    // Indexing and data movement.
    {"", "Gather", 1, Any, gather},
    {"", "GatherElements", 11, Any, gatherElements},
    {"", "GatherND", 11, Any, gatherND},
    {"", "Unsqueeze", 1, 12, unsqueeze<false>},
    {"", "Unsqueeze", 13, Any, unsqueeze<true>},
    {"", "Squeeze", 1, 12, squeeze<false>},
    {"", "Squeeze", 13, Any, squeeze<true>},
    {"", "Concat", 1, Any, concat},
    {"", "Reshape", 1, 4, reshape<false>},
    {"", "Reshape", 5, Any, reshape<true>},
    {"", "Flatten", 1, Any, flatten},
    {"", "Transpose", 1, Any, transpose},
    {"", "Slice", 1, 9, slice<false>},
    {"", "Slice", 10, Any, slice<true>},
    {"", "Split", 1, 12, split<1>},
    {"", "Split", 13, 17, split<13>},
    {"", "Split", 18, Any, split<18>},
    {"", "Expand", 8, Any, expand},
    {"", "Tile", 6, Any, tile},
    {"", "Range", 11, Any, range},
    {"", "Where", 9, Any, where},
    {"", "NonZero", 9, Any, nonZero},
    {"", "Pad", 1, 1, pad<1>},
    {"", "Pad", 2, 10, pad<2>},
    {"", "Pad", 11, 17, pad<11>},
    {"", "Pad", 18, Any, pad<18>},
    {"", "CumSum", 11, Any, cumSum},
    {"", "Scatter", 9, Any, scatterLike},
    {"", "ScatterElements", 11, Any, scatterLike},
    {"", "ScatterND", 11, Any, scatterLike},
    {"", "TensorScatter", 24, Any, scatterLike},
    {"", "TopK", 1, 9, topK<false>},
    {"", "TopK", 10, Any, topK<true>},
    {"", "ArgMax", 1, Any, argMinMax},
    {"", "ArgMin", 1, Any, argMinMax},
    {"", "Compress", 9, Any, compress},
    {"", "Unique", 11, Any, unique},
    {"", "OneHot", 9, Any, oneHot},
    {"", "DepthToSpace", 1, Any, depthSpace<true>},
    {"", "SpaceToDepth", 1, Any, depthSpace<false>},
    {"", "ReverseSequence", 10, Any, sameAsInput},
    {"", "Trilu", 14, Any, trilu},
    {"", "Det", 11, Any, det},
    {"", "NonMaxSuppression", 10, Any, nonMaxSuppression},
    {"", "GridSample", 16, Any, gridSample},

    // Reductions.
    {"", "ReduceSum", 1, 12, reduce<Red::Sum, false>},
    {"", "ReduceSum", 13, Any, reduce<Red::Sum, true>},
    {"", "ReduceMean", 1, 17, reduce<Red::Mean, false>},
    {"", "ReduceMean", 18, Any, reduce<Red::Mean, true>},
    {"", "ReduceMax", 1, 17, reduce<Red::Max, false>},
    {"", "ReduceMax", 18, Any, reduce<Red::Max, true>},
    {"", "ReduceMin", 1, 17, reduce<Red::Min, false>},
    {"", "ReduceMin", 18, Any, reduce<Red::Min, true>},
    {"", "ReduceProd", 1, 17, reduce<Red::Prod, false>},
    {"", "ReduceProd", 18, Any, reduce<Red::Prod, true>},
    {"", "ReduceL1", 1, 17, reduce<Red::Other, false>},
    {"", "ReduceL1", 18, Any, reduce<Red::Other, true>},
    {"", "ReduceL2", 1, 17, reduce<Red::Other, false>},
    {"", "ReduceL2", 18, Any, reduce<Red::Other, true>},
    {"", "ReduceLogSum", 1, 17, reduce<Red::Other, false>},
    {"", "ReduceLogSum", 18, Any, reduce<Red::Other, true>},
    {"", "ReduceLogSumExp", 1, 17, reduce<Red::Other, false>},
    {"", "ReduceLogSumExp", 18, Any, reduce<Red::Other, true>},
    {"", "ReduceSumSquare", 1, 17, reduce<Red::Other, false>},
    {"", "ReduceSumSquare", 18, Any, reduce<Red::Other, true>},

    // Linear algebra, convolution, pooling.
    {"", "MatMul", 1, Any, matMul<DType::Undefined>},
    {"", "MatMulInteger", 10, Any, matMul<DType::Int32>},
    {"", "QLinearMatMul", 10, Any, qLinearMatMul},
    {"", "Gemm", 1, Any, gemm},
    {"", "Einsum", 12, Any, einsum},
    {"", "Conv", 1, Any, conv},
    {"", "ConvInteger", 10, Any, conv},
    {"", "ConvTranspose", 1, Any, convTranspose},
    {"", "MaxPool", 1, Any, pool},
    {"", "AveragePool", 1, Any, pool},
    {"", "LpPool", 1, Any, pool},
    {"", "GlobalAveragePool", 1, Any, globalPool},
    {"", "GlobalMaxPool", 1, Any, globalPool},
    {"", "GlobalLpPool", 1, Any, globalPool},

    // Normalisation, dropout, softmax.
    {"", "BatchNormalization", 1, 13, batchNormLegacy},
    {"", "BatchNormalization", 14, Any, batchNorm},
    {"", "InstanceNormalization", 1, Any, sameAsInput},
    {"", "LayerNormalization", 17, Any, layerNorm},
    {"", "GroupNormalization", 18, Any, sameAsInput},
    {"", "LpNormalization", 1, Any, sameAsInput},
    {"", "MeanVarianceNormalization", 9, Any, sameAsInput},
    {"", "LRN", 1, Any, sameAsInput},
    {"", "Softmax", 1, Any, sameAsInput},
    {"", "LogSoftmax", 1, Any, sameAsInput},
    {"", "Hardmax", 1, Any, sameAsInput},
    {"", "Dropout", 1, 9, dropout<false>},
    {"", "Dropout", 10, Any, dropout<true>},

    // Unary elementwise with contents.
    {"", "Neg", 1, Any, unary<Un::Neg>},
    {"", "Abs", 1, Any, unary<Un::Abs>},
    {"", "Sqrt", 1, Any, unary<Un::Sqrt>},
    {"", "Not", 1, Any, unary<Un::Not>},
    {"", "Floor", 1, Any, unary<Un::Floor>},
    {"", "Ceil", 1, Any, unary<Un::Ceil>},
    {"", "Round", 11, Any, unary<Un::Round>},
    {"", "Sign", 9, Any, unary<Un::Sign>},
    {"", "Reciprocal", 1, Any, unary<Un::Reciprocal>},
    {"", "Relu", 1, Any, unary<Un::Relu>},
    {"", "Exp", 1, Any, unary<Un::Exp>},
    {"", "Log", 1, Any, unary<Un::Log>},
    {"", "BitwiseNot", 18, Any, unary<Un::BitNot>},
    {"", "Sin", 7, Any, unary<Un::Sin>},
    {"", "Cos", 7, Any, unary<Un::Cos>},
    {"", "Tanh", 1, Any, unary<Un::Tanh>},
    {"", "Sigmoid", 1, Any, unary<Un::Sigmoid>},
    {"", "Erf", 9, Any, unary<Un::Erf>},

    // Unary elementwise, shape only.
    {"", "Gelu", 20, Any, sameAsInput},
    {"", "Tan", 7, Any, sameAsInput},
    {"", "Asin", 7, Any, sameAsInput},
    {"", "Acos", 7, Any, sameAsInput},
    {"", "Atan", 7, Any, sameAsInput},
    {"", "Sinh", 9, Any, sameAsInput},
    {"", "Cosh", 9, Any, sameAsInput},
    {"", "Asinh", 9, Any, sameAsInput},
    {"", "Acosh", 9, Any, sameAsInput},
    {"", "Atanh", 9, Any, sameAsInput},
    {"", "Softplus", 1, Any, sameAsInput},
    {"", "Softsign", 1, Any, sameAsInput},
    {"", "Elu", 1, Any, sameAsInput},
    {"", "Selu", 1, Any, sameAsInput},
    {"", "LeakyRelu", 1, Any, sameAsInput},
    {"", "HardSigmoid", 1, Any, sameAsInput},
    {"", "HardSwish", 14, Any, sameAsInput},
    {"", "Mish", 18, Any, sameAsInput},
    {"", "Celu", 12, Any, sameAsInput},
    {"", "ThresholdedRelu", 10, Any, sameAsInput},
    {"", "Clip", 1, 10, clip<false>},
    {"", "Clip", 11, Any, clip<true>},
    {"", "Shrink", 9, Any, sameAsInput},
    {"", "IsNaN", 9, Any, boolOfInput},
    {"", "IsInf", 10, Any, boolOfInput},

    // Binary and variadic elementwise.
    {"", "Add", 1, Any, elementwise<Bin::Add>},
    {"", "Sub", 1, Any, elementwise<Bin::Sub>},
    {"", "Mul", 1, Any, elementwise<Bin::Mul>},
    {"", "Div", 1, Any, elementwise<Bin::Div>},
    {"", "Pow", 1, Any, elementwise<Bin::Pow>},
    {"", "Mod", 10, Any, elementwise<Bin::Mod>},
    {"", "Max", 1, Any, elementwise<Bin::Max>},
    {"", "Min", 1, Any, elementwise<Bin::Min>},
    {"", "Sum", 1, Any, elementwise<Bin::Sum>},
    {"", "Mean", 1, Any, elementwise<Bin::Mean>},
    {"", "PRelu", 1, Any, elementwise<Bin::PRelu>},
    {"", "BitShift", 11, Any, elementwise<Bin::BitShift>},
    {"", "BitwiseAnd", 18, Any, elementwise<Bin::BitAnd>},
    {"", "BitwiseOr", 18, Any, elementwise<Bin::BitOr>},
    {"", "BitwiseXor", 18, Any, elementwise<Bin::BitXor>},
    {"", "And", 1, Any, elementwise<Bin::And>},
    {"", "Or", 1, Any, elementwise<Bin::Or>},
    {"", "Xor", 1, Any, elementwise<Bin::Xor>},
    {"", "Equal", 1, Any, elementwise<Bin::Equal>},
    {"", "Less", 1, Any, elementwise<Bin::Less>},
    {"", "LessOrEqual", 12, Any, elementwise<Bin::LessEq>},
    {"", "Greater", 1, Any, elementwise<Bin::Greater>},
    {"", "GreaterOrEqual", 12, Any, elementwise<Bin::GreaterEq>},

    // Resampling.
    {"", "Resize", 10, 10, resizeScalesInput},
    {"", "Resize", 11, Any, resize},
    {"", "Upsample", 1, 8, upsampleAttr},
    {"", "Upsample", 9, Any, resizeScalesInput},

    // Generators.
    {"", "EyeLike", 9, Any, likeInput},
    {"", "RandomNormalLike", 1, Any, likeInput},
    {"", "RandomUniformLike", 1, Any, likeInput},
    {"", "Bernoulli", 15, Any, likeInput},
    {"", "RandomNormal", 1, Any, randomFromAttrs},
    {"", "RandomUniform", 1, Any, randomFromAttrs},
    {"", "Multinomial", 7, Any, multinomial},

    // Quantization.
    {"", "QuantizeLinear", 10, Any, quantizeLinear},
    {"", "DequantizeLinear", 10, Any, dequantizeLinear},
    {"", "DynamicQuantizeLinear", 11, Any, dynamicQuantizeLinear},

    // Recurrent.
    {"", "RNN", 1, Any, recurrent},
    {"", "GRU", 1, Any, recurrent},
    {"", "LSTM", 1, Any, recurrent},

    // Control flow.
    {"", "If", 1, Any, ifOp},
    {"", "Loop", 1, Any, loop},
    {"", "Scan", 8, 8, scanV8},
    {"", "Scan", 9, Any, scan},
};

} // namespace

ArrayRef<ShapeRule> onnxShapeRules() { return OnnxRules; }

} // namespace vram

//===- Math.cpp - ai.onnx math
//----------------------------------------------===//
//
// The op registry's rows for ai.onnx math: elementwise, activations,
// reductions, MatMul/Gemm/Einsum, softmax, losses, and their shape functions
// and saved-tensor rules (following math/defs.cc). Each row holds every facet
// of one (domain, op, opset range); see vram/Analysis/OpRegistry.h.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

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
      double Acc = Ins[0]->asDouble(broadcastIndex(Out, *Shapes[0], Flat));
      for (size_t K = 1; K < Ins.size(); ++K) {
        double B = Ins[K]->asDouble(broadcastIndex(Out, *Shapes[K], Flat));
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
    int64_t Acc = Ins[0]->asInt(broadcastIndex(Out, *Shapes[0], Flat));
    for (size_t K = 1; K < Ins.size(); ++K) {
      int64_t B = Ins[K]->asInt(broadcastIndex(Out, *Shapes[K], Flat));
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
  Expected<Shape> S = broadcastInputs(C);
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

enum class Red { Sum, Prod, Max, Min, Mean, Other };

/// The contents of a reduction of Src (shape S) over the Reduced dims into
/// N elements laid out as KeptDims; None when an integer sum or product
/// overflows or an integer mean is asked for.
template <Red Op>
Optional<TensorData> reduceData(const TensorData &Src, const Shape &S,
                                ArrayRef<bool> Reduced,
                                ArrayRef<int64_t> KeptDims, size_t N) {
  SmallVector<double, 16> FAcc(N, 0);
  IntVec IAcc(N, 0);
  SmallVector<bool, 16> Seen(N, false);
  bool Ok = true;
  for (size_t I = 0; I < Src.size(); ++I) {
    IntVec Co = unflatten(I, S.dims());
    for (size_t K = 0; K < Reduced.size(); ++K)
      if (Reduced[K])
        Co[K] = 0;
    size_t O = flatten(Co, KeptDims);
    if (Src.IsFloat) {
      double V = Src.Floats[I], &A = FAcc[O];
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
      int64_t V = Src.Ints[I], &A = IAcc[O];
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
  if (!Ok || (Op == Red::Mean && !Src.IsFloat))
    return None;
  TensorData R;
  R.IsFloat = Src.IsFloat;
  size_t Per = Src.size() / N;
  for (size_t O = 0; O < N; ++O) {
    if (Src.IsFloat)
      R.Floats.push_back(Op == Red::Mean ? FAcc[O] / Per : FAcc[O]);
    else
      R.Ints.push_back(IAcc[O]);
  }
  return R;
}

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
  if (Op != Red::Other && Src && N && *N > 0 && Src->size() > 0)
    D = reduceData<Op>(*Src, S, Reduced, KeptDims, *N);
  setOut(C, 0, X->Ty, Out, std::move(D));
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

/// What an einsum equation's operands say of its labels: each letter's dim
/// (Unknown until a non-1 dim is seen) and how many operands use it, and
/// the broadcast of the dims "..." stands for (unknown rank when an
/// operand's rank is unknown).
struct EinsumLabels {
  int64_t Dim[128];
  int Count[128] = {0};
  Shape Ellipsis = Shape::scalar();
  EinsumLabels() { std::fill(std::begin(Dim), std::end(Dim), Shape::Unknown); }
};

/// Binds one operand's term ("b...ij") to its value's shape.
Error bindEinsumTerm(ShapeContext &C, StringRef Eq, StringRef Term,
                     const Value &V, EinsumLabels &L) {
  size_t Dots = Term.find("...");
  std::string Letters = Term.str();
  if (Dots != StringRef::npos)
    Letters = (Term.take_front(Dots) + Term.drop_front(Dots + 3)).str();
  for (char Ch : Letters)
    if (!isAlpha(Ch))
      return C.error("invalid equation '" + Eq + "'");
  if (!V.Sh.hasRank()) {
    for (char Ch : Letters)
      ++L.Count[static_cast<unsigned char>(Ch)];
    if (Dots != StringRef::npos)
      L.Ellipsis = Shape();
    return ok();
  }
  size_t R = V.Sh.rank();
  if (R < Letters.size() || (Dots == StringRef::npos && R != Letters.size()))
    return C.error("operand '" + Term + "' does not match shape " + V.Sh.str());
  size_t NEll = R - Letters.size();
  size_t Pos = 0;
  for (size_t K = 0; K < Term.size();) {
    if (Term.substr(K).startswith("...")) {
      Shape E(V.Sh.dims().slice(Pos, NEll));
      if (L.Ellipsis.hasRank()) {
        Optional<Shape> B = broadcastShapes(L.Ellipsis, E);
        if (!B)
          return C.error("ellipsis dims do not broadcast");
        L.Ellipsis = *B;
      }
      Pos += NEll;
      K += 3;
      continue;
    }
    unsigned char Ch = Term[K];
    int64_t D = V.Sh[Pos];
    int64_t &Known = L.Dim[Ch];
    ++L.Count[Ch];
    if (Known < 0 || Known == 1)
      Known = D < 0 && Known == 1 ? Shape::Unknown : D;
    else if (D >= 0 && D != 1 && D != Known)
      return C.error("label '" + Twine(Term[K]) + "' has dims " + Twine(Known) +
                     " and " + Twine(D));
    ++Pos;
    ++K;
  }
  return ok();
}

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
  EinsumLabels L;
  for (unsigned I = 0; I < Terms.size(); ++I) {
    Value *V = C.in(I);
    if (!V)
      return C.error("missing input " + Twine(I));
    if (Error E = bindEinsumTerm(C, Eq, Terms[I], *V, L))
      return E;
  }
  // Implicit output: the ellipsis, then the letters used once, in order.
  std::string Out;
  if (Explicit) {
    Out = Rhs.str();
  } else {
    if (Lhs.contains("..."))
      Out = "...";
    for (unsigned Ch = 'A'; Ch <= 'z'; ++Ch)
      if (isAlpha(Ch) && L.Count[Ch] == 1)
        Out.push_back(static_cast<char>(Ch));
  }
  IntVec Dims;
  for (size_t K = 0; K < Out.size();) {
    if (StringRef(Out).substr(K).startswith("...")) {
      if (!L.Ellipsis.hasRank()) {
        C.setOutput(0, T, Shape());
        return ok();
      }
      Dims.append(L.Ellipsis.dims().begin(), L.Ellipsis.dims().end());
      K += 3;
      continue;
    }
    unsigned char Ch = Out[K];
    if (!isAlpha(Ch) || !L.Count[Ch])
      return C.error("output label '" + Twine(Out[K]) + "' of equation '" + Eq +
                     "' is not an input label");
    Dims.push_back(L.Dim[Ch]);
    ++K;
  }
  C.setOutput(0, T, Shape(Dims));
  return ok();
}

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

/// div: self: grad / other; other: -grad * self / other^2.
void saveDiv(SaveContext &C) {
  std::string R = "input of Div";
  if (C.rg(0) || C.rg(1))
    C.input(1, R);
  if (C.rg(1))
    C.input(0, R);
}

/// pow(self, exponent): self needs self (and exponent); exponent needs
/// self and result.
void savePow(SaveContext &C) {
  if (C.rg(0) || C.rg(1))
    C.input(0, "input of Pow");
  if (C.rg(1)) {
    C.input(1, "input of Pow");
    C.output(0, "output of Pow");
  }
}

void saveSoftmaxOutput(SaveContext &C) {
  if (C.rg(0))
    C.output(0, "softmax output");
}

/// fmod: the divisor's gradient needs both operands.
void saveMod(SaveContext &C) {
  if (C.rg(1)) {
    C.input(0, "input of Mod");
    C.input(1, "input of Mod");
  }
}

/// log(sum(x)): log keeps the sum, an output-sized tensor.
void saveReduceLogSum(SaveContext &C) {
  if (!C.rg(0))
    return;
  if (Value *Y = C.out(0))
    C.activationBuffer("sum", Y->Ty, Y->Sh, "sum inside ReduceLogSum");
}

/// nll_loss: the input (its log-probabilities) and the target.
void saveNllLoss(SaveContext &C) {
  if (!C.rg(0))
    return;
  C.input(0, "input of NegativeLogLikelihoodLoss");
  C.input(1, "labels of the loss");
}

/// SoftmaxCrossEntropyLoss(scores [N, C, d...], labels [N, d...], weights):
/// the loss (a scalar, or [N, d...] with reduction 'none') and, as output 1,
/// the log-probabilities, like the scores. NegativeLogLikelihoodLoss has
/// the loss only.
Error lossOp(ShapeContext &C) {
  if (Error E = requireInputs(C, 2))
    return E;
  Value *X = C.in(0), *L = C.in(1);
  StringRef Red = C.node().attrString("reduction", "mean");
  C.setOutput(0, X->Ty, Red == "none" ? L->Sh : Shape::scalar());
  C.setOutput(1, X->Ty, X->Sh);
  return ok();
}

/// mean.dim keeps its input in PyTorch 1.13 (MeanBackward1); mean() of
/// every element (no axes, exported as ReduceMean without axes) keeps only
/// sizes (MeanBackward0).
void saveMean(SaveContext &C) {
  const Node &N = C.node();
  bool AllAxes =
      !N.attr("axes") && !C.in(1) && N.attrInt("noop_with_empty_axes", 0) == 0;
  if (!AllAxes)
    saveInput0(C);
}

const OpInfo Rows[] = {
    {"", "CumSum", 11, Any, cumSum, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "cumsum", "", false,
     PrecisionClass::InputType},
    {"", "TopK", 1, 9, topK<false>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "topk: indices (integer output)", ""},
    {"", "TopK", 10, Any, topK<true>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "topk: indices (integer output)", ""},
    {"", "ArgMax", 1, Any, argMinMax, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "ArgMin", 1, Any, argMinMax, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Det", 11, Any, det, saveReduceMinMax, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "linalg_det: self, result", ""},
    {"", "ReduceSum", 1, 12, reduce<Red::Sum, false>, saveNothing,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32, "sum", "",
     false, PrecisionClass::InputType},
    {"", "ReduceSum", 13, Any, reduce<Red::Sum, true>, saveNothing,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32, "sum", "",
     false, PrecisionClass::InputType},
    {"", "ReduceMean", 1, 17, reduce<Red::Mean, false>, saveMean,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "mean.dim: self (PyTorch 1.13 keeps it; 2.x keeps only sizes); "
     "mean() of every element: sizes only",
     "", false, PrecisionClass::InputType, SavedKind::Other,
     ServingKind::Outputs, true},
    {"", "ReduceMean", 18, Any, reduce<Red::Mean, true>, saveMean,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "mean.dim: self (PyTorch 1.13 keeps it; 2.x keeps only sizes); "
     "mean() of every element: sizes only",
     "", false, PrecisionClass::InputType, SavedKind::Other,
     ServingKind::Outputs, true},
    {"", "ReduceMax", 1, 17, reduce<Red::Max, false>, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "amax: self, result", ""},
    {"", "ReduceMax", 18, Any, reduce<Red::Max, true>, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "amax: self, result", ""},
    {"", "ReduceMin", 1, 17, reduce<Red::Min, false>, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "amin: self, result", ""},
    {"", "ReduceMin", 18, Any, reduce<Red::Min, true>, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::InputType,
     "amin: self, result", ""},
    {"", "ReduceProd", 1, 17, reduce<Red::Prod, false>, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "prod: self, result", ""},
    {"", "ReduceProd", 18, Any, reduce<Red::Prod, true>, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "prod: self, result", ""},
    {"", "ReduceL1", 1, 17, reduce<Red::Other, false>, saveInput0,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "norm(p=1): self", "", false, PrecisionClass::InputType},
    {"", "ReduceL1", 18, Any, reduce<Red::Other, true>, saveInput0,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "norm(p=1): self", "", false, PrecisionClass::InputType},
    {"", "ReduceL2", 1, 17, reduce<Red::Other, false>, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "norm: self, result", "", false, PrecisionClass::InputType},
    {"", "ReduceL2", 18, Any, reduce<Red::Other, true>, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "norm: self, result", "", false, PrecisionClass::InputType},
    {"", "ReduceLogSum", 1, 17, reduce<Red::Other, false>, saveReduceLogSum,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "log(sum): the sum", "", false, PrecisionClass::InputType},
    {"", "ReduceLogSum", 18, Any, reduce<Red::Other, true>, saveReduceLogSum,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "log(sum): the sum", "", false, PrecisionClass::InputType},
    {"", "ReduceLogSumExp", 1, 17, reduce<Red::Other, false>, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "logsumexp: self, result", "", false, PrecisionClass::InputType},
    {"", "ReduceLogSumExp", 18, Any, reduce<Red::Other, true>, saveReduceMinMax,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "logsumexp: self, result", "", false, PrecisionClass::InputType},
    {"", "ReduceSumSquare", 1, 17, reduce<Red::Other, false>, saveInput0,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "sum(x * x): self", "", false, PrecisionClass::InputType},
    {"", "ReduceSumSquare", 18, Any, reduce<Red::Other, true>, saveInput0,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "sum(x * x): self", "", false, PrecisionClass::InputType},
    {"", "MatMul", 1, Any, matMul<DType::Undefined>, saveProductOperands,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "mm/bmm/matmul", "", false, PrecisionClass::LowerPrecision,
     SavedKind::MatMul},
    {"", "Gemm", 1, Any, gemm, saveProductOperands, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::LowerPrecision, "addmm", "",
     false, PrecisionClass::LowerPrecision, SavedKind::MatMul},
    {"", "Einsum", 12, Any, einsum, saveBothInputs, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::LowerPrecision, "einsum (bmm)",
     "", false, PrecisionClass::LowerPrecision, SavedKind::MatMul},
    {"", "Softmax", 1, Any, sameAsInput, saveSoftmaxOutput, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "_softmax: result", "",
     false, PrecisionClass::InputType, SavedKind::Attention},
    {"", "LogSoftmax", 1, Any, sameAsInput, saveSoftmaxOutput, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "_log_softmax: result", "",
     false, PrecisionClass::InputType, SavedKind::Loss},
    {"", "Hardmax", 1, Any, sameAsInput, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Neg", 1, Any, unary<Un::Neg>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "neg", ""},
    {"", "Abs", 1, Any, unary<Un::Abs>, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "abs: self", ""},
    {"", "Sqrt", 1, Any, unary<Un::Sqrt>, saveOutput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "sqrt: result", ""},
    {"", "Not", 1, Any, unary<Un::Not>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Floor", 1, Any, unary<Un::Floor>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "floor: zero gradient", ""},
    {"", "Ceil", 1, Any, unary<Un::Ceil>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "ceil: zero gradient", ""},
    {"", "Round", 11, Any, unary<Un::Round>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "round: zero gradient", ""},
    {"", "Sign", 9, Any, unary<Un::Sign>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType,
     "sign: zero gradient", ""},
    {"", "Reciprocal", 1, Any, unary<Un::Reciprocal>, saveOutput0,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "reciprocal: result", "", false, PrecisionClass::InputType},
    {"", "Relu", 1, Any, unary<Un::Relu>, saveOutput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "relu: result", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Exp", 1, Any, unary<Un::Exp>, saveOutput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "exp: result", "", false,
     PrecisionClass::InputType},
    {"", "Log", 1, Any, unary<Un::Log>, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "log: self", "", false,
     PrecisionClass::InputType},
    {"", "BitwiseNot", 18, Any, unary<Un::BitNot>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Sin", 7, Any, unary<Un::Sin>, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "sin: self", ""},
    {"", "Cos", 7, Any, unary<Un::Cos>, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "cos: self", ""},
    {"", "Tanh", 1, Any, unary<Un::Tanh>, saveOutput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "tanh: result", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Sigmoid", 1, Any, unary<Un::Sigmoid>, saveOutput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "sigmoid: result", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Erf", 9, Any, unary<Un::Erf>, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "erf: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Gelu", 20, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "gelu: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Tan", 7, Any, sameAsInput, saveOutput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "tan: result", "", false,
     PrecisionClass::InputType},
    {"", "Asin", 7, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "asin: self", "", false,
     PrecisionClass::InputType},
    {"", "Acos", 7, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "acos: self", "", false,
     PrecisionClass::InputType},
    {"", "Atan", 7, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "atan: self", ""},
    {"", "Sinh", 9, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "sinh: self", "", false,
     PrecisionClass::InputType},
    {"", "Cosh", 9, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "cosh: self", "", false,
     PrecisionClass::InputType},
    {"", "Asinh", 9, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "asinh: self", ""},
    {"", "Acosh", 9, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "acosh: self", ""},
    {"", "Atanh", 9, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "atanh: self", ""},
    {"", "Softplus", 1, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "softplus: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Softsign", 1, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "softsign: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Elu", 1, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "elu: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Selu", 1, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "selu: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "LeakyRelu", 1, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "leaky_relu: self",
     "", false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "HardSigmoid", 1, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "hardsigmoid: self",
     "", false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "HardSwish", 14, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "hardswish: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Mish", 18, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "mish: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Celu", 12, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "celu: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "ThresholdedRelu", 10, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "threshold: self", "",
     false, PrecisionClass::InputType, SavedKind::Activation},
    {"", "Clip", 1, 10, clip<false>, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "clamp: self", ""},
    {"", "Clip", 11, Any, clip<true>, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType, "clamp: self", ""},
    {"", "Shrink", 9, Any, sameAsInput, saveInput0, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::InputType,
     "hardshrink/softshrink: self", ""},
    {"", "IsNaN", 9, Any, boolOfInput, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "IsInf", 10, Any, boolOfInput, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Add", 1, Any, elementwise<Bin::Add>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "add", ""},
    {"", "Sub", 1, Any, elementwise<Bin::Sub>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "sub", ""},
    {"", "Mul", 1, Any, elementwise<Bin::Mul>, saveProductOperands,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::Promote, "mul",
     ""},
    {"", "Div", 1, Any, elementwise<Bin::Div>, saveDiv, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "div", ""},
    {"", "Pow", 1, Any, elementwise<Bin::Pow>, savePow, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::FP32, "pow", "", false,
     PrecisionClass::InputType},
    {"", "Mod", 10, Any, elementwise<Bin::Mod>, saveMod, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote,
     "fmod: other needs self and other", ""},
    {"", "Max", 1, Any, elementwise<Bin::Max>, saveBothInputs, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "maximum: self, other",
     ""},
    {"", "Min", 1, Any, elementwise<Bin::Min>, saveBothInputs, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "minimum: self, other",
     ""},
    {"", "Sum", 1, Any, elementwise<Bin::Sum>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "add", ""},
    {"", "Mean", 1, Any, elementwise<Bin::Mean>, saveNothing, ViewKind::None,
     GradKind::Differentiable, PrecisionClass::Promote, "add / n", ""},
    {"", "PRelu", 1, Any, elementwise<Bin::PRelu>, saveBothInputs,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::LowerPrecision,
     "_prelu_kernel: self, weight", "", false, PrecisionClass::LowerPrecision,
     SavedKind::Activation},
    {"", "BitShift", 11, Any, elementwise<Bin::BitShift>, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "BitwiseAnd", 18, Any, elementwise<Bin::BitAnd>, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "BitwiseOr", 18, Any, elementwise<Bin::BitOr>, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "BitwiseXor", 18, Any, elementwise<Bin::BitXor>, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "And", 1, Any, elementwise<Bin::And>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Or", 1, Any, elementwise<Bin::Or>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Xor", 1, Any, elementwise<Bin::Xor>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Equal", 1, Any, elementwise<Bin::Equal>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Less", 1, Any, elementwise<Bin::Less>, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "LessOrEqual", 12, Any, elementwise<Bin::LessEq>, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "Greater", 1, Any, elementwise<Bin::Greater>, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "GreaterOrEqual", 12, Any, elementwise<Bin::GreaterEq>, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "SoftmaxCrossEntropyLoss", 12, Any, lossOp, saveSoftmaxCrossEntropy,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "cross_entropy: log_softmax result, target", "", true,
     PrecisionClass::FP32, SavedKind::Loss},
    {"", "NegativeLogLikelihoodLoss", 12, Any, lossOp, saveNllLoss,
     ViewKind::None, GradKind::Differentiable, PrecisionClass::FP32,
     "nll_loss: self, target", "", true, PrecisionClass::FP32, SavedKind::Loss},
};

} // namespace

ArrayRef<OpInfo> mathOps() { return Rows; }

} // namespace vram

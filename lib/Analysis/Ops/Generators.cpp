//===- Generators.cpp - ai.onnx generators
//----------------------------------===//
//
// The op registry's rows for ai.onnx generators: constants, ranges, random
// tensors, and their shape functions and saved-tensor rules (following
// generator/defs.cc). Each row holds every facet of one (domain, op, opset
// range); see vram/Analysis/OpRegistry.h.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

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

const OpInfo Rows[] = {
    {"", "Constant", 1, Any, constant, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "ConstantOfShape", 9, Any, constantOfShape, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "Range", 11, Any, range, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "EyeLike", 9, Any, likeInput, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "RandomNormalLike", 1, Any, likeInput, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "RandomUniformLike", 1, Any, likeInput, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Bernoulli", 15, Any, likeInput, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "RandomNormal", 1, Any, randomFromAttrs, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "RandomUniform", 1, Any, randomFromAttrs, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "Multinomial", 7, Any, multinomial, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
};

} // namespace

ArrayRef<OpInfo> generatorsOps() { return Rows; }

} // namespace vram

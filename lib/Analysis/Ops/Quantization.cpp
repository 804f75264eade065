//===- Quantization.cpp - ai.onnx quantization
//------------------------------===//
//
// The op registry's rows for ai.onnx quantization, and their shape functions
// and saved-tensor rules (following quantization/defs.cc). Each row holds every
// facet of one (domain, op, opset range); see vram/Analysis/OpRegistry.h.
//
//===----------------------------------------------------------------------===//

#include "OpHelpers.h"

using namespace llvm;

namespace vram {

namespace {

using namespace ops;

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

const OpInfo Rows[] = {
    {"", "MatMulInteger", 10, Any, matMul<DType::Int32>, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "QLinearMatMul", 10, Any, qLinearMatMul, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "ConvInteger", 10, Any, conv, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "QuantizeLinear", 10, Any, quantizeLinear, saveNothing, ViewKind::None,
     GradKind::NotDifferentiable, PrecisionClass::InputType, "no gradient", ""},
    {"", "DequantizeLinear", 10, Any, dequantizeLinear, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
    {"", "DynamicQuantizeLinear", 11, Any, dynamicQuantizeLinear, saveNothing,
     ViewKind::None, GradKind::NotDifferentiable, PrecisionClass::InputType,
     "no gradient", ""},
};

} // namespace

ArrayRef<OpInfo> quantizationOps() { return Rows; }

} // namespace vram

//===- DType.cpp - Tensor element types -----------------------------------===//

#include "vram/IR/DType.h"

#include "llvm/ADT/StringSwitch.h"

using namespace llvm;

namespace vram {

namespace {
struct DTypeInfo {
  DType T;
  const char *Name;
  unsigned Bits;
};
// Indexed by the ONNX enum value.
const DTypeInfo Infos[] = {
    {DType::Undefined, "undefined", 0},
    {DType::Float, "f32", 32},
    {DType::UInt8, "u8", 8},
    {DType::Int8, "i8", 8},
    {DType::UInt16, "u16", 16},
    {DType::Int16, "i16", 16},
    {DType::Int32, "i32", 32},
    {DType::Int64, "i64", 64},
    {DType::String, "string", 0},
    {DType::Bool, "bool", 8},
    {DType::Float16, "f16", 16},
    {DType::Double, "f64", 64},
    {DType::UInt32, "u32", 32},
    {DType::UInt64, "u64", 64},
    {DType::Complex64, "c64", 64},
    {DType::Complex128, "c128", 128},
    {DType::BFloat16, "bf16", 16},
    {DType::Float8E4M3FN, "f8e4m3fn", 8},
    {DType::Float8E4M3FNUZ, "f8e4m3fnuz", 8},
    {DType::Float8E5M2, "f8e5m2", 8},
    {DType::Float8E5M2FNUZ, "f8e5m2fnuz", 8},
    {DType::UInt4, "u4", 4},
    {DType::Int4, "i4", 4},
    {DType::Float4E2M1, "f4e2m1", 4},
    {DType::Float8E8M0, "f8e8m0", 8},
};
static_assert(sizeof(Infos) / sizeof(Infos[0]) == LastDType + 1,
              "one entry per ONNX element type");
} // namespace

Optional<DType> dtypeFromOnnx(int64_t Code) {
  if (Code < 0 || Code > LastDType)
    return None;
  return static_cast<DType>(Code);
}

unsigned dtypeBits(DType T) { return Infos[static_cast<unsigned>(T)].Bits; }

StringRef dtypeName(DType T) { return Infos[static_cast<unsigned>(T)].Name; }

Optional<DType> dtypeFromName(StringRef Name) {
  for (const DTypeInfo &I : Infos)
    if (Name == I.Name)
      return I.T;
  return StringSwitch<Optional<DType>>(Name.lower())
      .Cases("float", "float32", "fp32", DType::Float)
      .Cases("float16", "half", "fp16", DType::Float16)
      .Cases("bfloat16", "bf16", DType::BFloat16)
      .Cases("double", "float64", "fp64", DType::Double)
      .Default(None);
}

bool isFloatingPoint(DType T) {
  switch (T) {
  case DType::Float:
  case DType::Float16:
  case DType::Double:
  case DType::BFloat16:
  case DType::Float8E4M3FN:
  case DType::Float8E4M3FNUZ:
  case DType::Float8E5M2:
  case DType::Float8E5M2FNUZ:
  case DType::Float4E2M1:
  case DType::Float8E8M0:
  case DType::Complex64:
  case DType::Complex128:
    return true;
  default:
    return false;
  }
}

bool isInteger(DType T) {
  switch (T) {
  case DType::UInt8:
  case DType::Int8:
  case DType::UInt16:
  case DType::Int16:
  case DType::Int32:
  case DType::Int64:
  case DType::UInt32:
  case DType::UInt64:
  case DType::UInt4:
  case DType::Int4:
    return true;
  default:
    return false;
  }
}

Optional<uint64_t> bytesFor(DType T, uint64_t NumElements) {
  uint64_t Bits = dtypeBits(T);
  if (NumElements != 0 && Bits > UINT64_MAX / NumElements)
    return None;
  uint64_t Total = Bits * NumElements;
  return Total / 8 + (Total % 8 != 0);
}

} // namespace vram

//===- DType.h - Tensor element types ---------------------------*- C++ -*-===//
//
// Every ONNX tensor element type (TensorProto.DataType), with its width in
// bits. The enumerator values are ONNX's own so the frontend can convert with
// a range check.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_IR_DTYPE_H
#define VRAM_IR_DTYPE_H

#include "llvm/ADT/Optional.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace vram {

enum class DType : uint8_t {
  Undefined = 0,
  Float = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  UInt32 = 12,
  UInt64 = 13,
  Complex64 = 14,
  Complex128 = 15,
  BFloat16 = 16,
  Float8E4M3FN = 17,
  Float8E4M3FNUZ = 18,
  Float8E5M2 = 19,
  Float8E5M2FNUZ = 20,
  UInt4 = 21,
  Int4 = 22,
  Float4E2M1 = 23,
  Float8E8M0 = 24,
};

constexpr int LastDType = 24;

/// Converts an ONNX TensorProto.DataType number; None when out of range.
llvm::Optional<DType> dtypeFromOnnx(int64_t Code);

/// Storage width of one element in bits (4 for the sub-byte types, 8 for
/// bool). String and Undefined have no fixed width and report 0.
unsigned dtypeBits(DType T);

/// Lower-case short name used in every report: "f32", "f16", "bf16", "i64",
/// "bool", "f8e4m3fn", "u4", ...
llvm::StringRef dtypeName(DType T);

/// Parses a name produced by dtypeName (also accepts "float32", "float16",
/// "bfloat16", "fp32", "fp16", "float").
llvm::Optional<DType> dtypeFromName(llvm::StringRef Name);

bool isFloatingPoint(DType T);
bool isInteger(DType T);

/// Bytes needed for NumElements elements (sub-byte types packed, rounded up).
/// None on overflow.
llvm::Optional<uint64_t> bytesFor(DType T, uint64_t NumElements);

} // namespace vram

#endif // VRAM_IR_DTYPE_H

//===- DTypeTest.cpp - Element type widths and names ----------------------===//

#include "vram/IR/DType.h"

#include "gtest/gtest.h"

using namespace vram;

// Widths from the ONNX TensorProto.DataType documentation.
TEST(DType, Widths) {
  EXPECT_EQ(dtypeBits(DType::Float), 32u);
  EXPECT_EQ(dtypeBits(DType::Float16), 16u);
  EXPECT_EQ(dtypeBits(DType::BFloat16), 16u);
  EXPECT_EQ(dtypeBits(DType::Double), 64u);
  EXPECT_EQ(dtypeBits(DType::Int64), 64u);
  EXPECT_EQ(dtypeBits(DType::Int32), 32u);
  EXPECT_EQ(dtypeBits(DType::Bool), 8u);
  EXPECT_EQ(dtypeBits(DType::UInt8), 8u);
  EXPECT_EQ(dtypeBits(DType::Complex64), 64u);
  EXPECT_EQ(dtypeBits(DType::Complex128), 128u);
  EXPECT_EQ(dtypeBits(DType::Float8E4M3FN), 8u);
  EXPECT_EQ(dtypeBits(DType::Float8E5M2FNUZ), 8u);
  EXPECT_EQ(dtypeBits(DType::Int4), 4u);
  EXPECT_EQ(dtypeBits(DType::UInt4), 4u);
  EXPECT_EQ(dtypeBits(DType::Float4E2M1), 4u);
  EXPECT_EQ(dtypeBits(DType::String), 0u);
}

TEST(DType, EveryOnnxCodeHasANameThatRoundTrips) {
  for (int Code = 1; Code <= LastDType; ++Code) {
    auto T = dtypeFromOnnx(Code);
    ASSERT_TRUE(T.hasValue()) << Code;
    EXPECT_EQ(static_cast<int>(*T), Code);
    auto Back = dtypeFromName(dtypeName(*T));
    ASSERT_TRUE(Back.hasValue()) << dtypeName(*T).str();
    EXPECT_EQ(*Back, *T);
  }
  EXPECT_FALSE(dtypeFromOnnx(LastDType + 1).hasValue());
  EXPECT_FALSE(dtypeFromOnnx(-1).hasValue());
}

TEST(DType, Aliases) {
  EXPECT_EQ(*dtypeFromName("float32"), DType::Float);
  EXPECT_EQ(*dtypeFromName("fp16"), DType::Float16);
  EXPECT_EQ(*dtypeFromName("bfloat16"), DType::BFloat16);
  EXPECT_FALSE(dtypeFromName("float13").hasValue());
}

TEST(DType, BytesPackSubByteTypes) {
  EXPECT_EQ(*bytesFor(DType::Int4, 3), 2u); // 12 bits round up to 2 bytes
  EXPECT_EQ(*bytesFor(DType::Int4, 4), 2u);
  EXPECT_EQ(*bytesFor(DType::Bool, 10), 10u);
  EXPECT_EQ(*bytesFor(DType::BFloat16, 1000), 2000u);
  EXPECT_FALSE(bytesFor(DType::Double, UINT64_MAX / 4).hasValue());
}

TEST(DType, Classes) {
  EXPECT_TRUE(isFloatingPoint(DType::BFloat16));
  EXPECT_FALSE(isFloatingPoint(DType::Int64));
  EXPECT_TRUE(isInteger(DType::Int64));
  EXPECT_FALSE(isInteger(DType::Bool));
}

//===- ShapeTest.cpp - Shape arithmetic -----------------------------------===//

#include "vram/IR/Shape.h"

#include "gtest/gtest.h"

using namespace vram;
using llvm::None;

static Shape S(std::initializer_list<int64_t> D) {
  return Shape(llvm::ArrayRef<int64_t>(D.begin(), D.size()));
}
constexpr int64_t U = Shape::Unknown;

TEST(Shape, NumElementsAndOverflow) {
  EXPECT_EQ(*S({2, 3, 4}).numElements(), 24u);
  EXPECT_EQ(*Shape::scalar().numElements(), 1u);
  EXPECT_EQ(*S({0, 5}).numElements(), 0u);
  EXPECT_FALSE(S({2, U}).numElements().hasValue());
  EXPECT_FALSE(Shape().numElements().hasValue());
  // 2^32 * 2^32 overflows 64 bits.
  EXPECT_FALSE(S({int64_t(1) << 32, int64_t(1) << 32}).numElements());
}

TEST(Shape, Str) {
  EXPECT_EQ(S({2, U, 4}).str(), "[2, ?, 4]");
  EXPECT_EQ(Shape().str(), "[*]");
  EXPECT_EQ(Shape::scalar().str(), "[]");
}

TEST(Shape, Broadcasting) {
  // numpy rules: align trailing dims, 1 stretches.
  EXPECT_EQ(*broadcastShapes(S({2, 1, 4}), S({3, 1})), S({2, 3, 4}));
  EXPECT_EQ(*broadcastShapes(S({5}), Shape::scalar()), S({5}));
  EXPECT_EQ(*broadcastShapes(S({1, 8, 1}), S({4, 1, 8, 16})), S({4, 1, 8, 16}));
  EXPECT_FALSE(broadcastShapes(S({3}), S({5})).hasValue());
  // An unknown dim against a concrete non-1 dim takes the concrete one.
  EXPECT_EQ(*broadcastShapes(S({U, 4}), S({7, 4})), S({7, 4}));
  EXPECT_EQ(*broadcastShapes(S({U}), S({1})), S({U}));
  EXPECT_FALSE(broadcastShapes(Shape(), S({2})).getValue().hasRank());
}

TEST(Shape, ReshapeZeroAndMinusOne) {
  // 0 copies the input dim, -1 takes the rest: [2, 12, 8] -> [2, 12, 2, 4]
  // with target [0, 0, -1, 4].
  EXPECT_EQ(*resolveReshape(S({2, 12, 8}), {0, 0, -1, 4}, false),
            S({2, 12, 2, 4}));
  // Merge heads: [2, 4, 12, 16] -> [2, 12 * 4 ... ] written as [2, -1, 64]:
  // 2*4*12*16 = 1536, / (2*64) = 12.
  EXPECT_EQ(*resolveReshape(S({2, 4, 12, 16}), {2, -1, 64}, false),
            S({2, 12, 64}));
  // allowzero: a 0 is a real zero-size dim.
  EXPECT_EQ(*resolveReshape(S({0, 3}), {0, 3}, true), S({0, 3}));
  // Two -1 dims are invalid.
  EXPECT_FALSE(resolveReshape(S({4, 4}), {-1, -1}, false).hasValue());
  // Counts that cannot match: 24 elements into a multiple of 5.
  EXPECT_FALSE(resolveReshape(S({2, 3, 4}), {5, -1}, false).hasValue());
  // A -1 beside a zero dim could be any size: refused, as PyTorch and
  // onnxruntime do (an empty sequence reshaped by view(-1, s)).
  EXPECT_FALSE(resolveReshape(S({2, 0}), {-1, 0}, false).hasValue());
  EXPECT_EQ(*resolveReshape(S({2, 0}), {2, -1}, false), S({2, 0}));
  // 0 beyond the input's rank.
  EXPECT_FALSE(resolveReshape(S({6}), {2, 0}, false).hasValue());
  // Unknown input dims leave the inferred dim unknown.
  EXPECT_EQ(*resolveReshape(S({U, 8}), {-1, 2}, false), S({U, 2}));
}

TEST(Shape, NormalizeAxis) {
  EXPECT_EQ(*normalizeAxis(-1, 3), 2u);
  EXPECT_EQ(*normalizeAxis(0, 3), 0u);
  EXPECT_FALSE(normalizeAxis(3, 3).hasValue());
  EXPECT_FALSE(normalizeAxis(-4, 3).hasValue());
}

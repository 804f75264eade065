//===- FitModelTest.cpp - --fit's quadratic model of the timeline ---------===//

#include "vram/Cost/Cost.h"

#include "gtest/gtest.h"

using namespace vram;

namespace {

// Two steps: 100 + 10v (fixed plus linear) and 3v^2 + v (quadratic), at
// v = 1, 2, 3: {110, 120, 130} and {4, 14, 30}.
StepQuadratics twoSteps() {
  auto Q = StepQuadratics::fit({110, 4}, {120, 14}, {130, 30});
  EXPECT_TRUE(Q.hasValue());
  return *Q;
}

TEST(FitModelTest, PredictsEachStep) {
  StepQuadratics Q = twoSteps();
  // v = 10: 200 and 310; v = 1000: 10100 and 3001000.
  EXPECT_TRUE(Q.matches(10, {200, 310}));
  EXPECT_FALSE(Q.matches(10, {200, 311}));
  EXPECT_TRUE(Q.matches(1000, {10100, 3001000}));
  EXPECT_FALSE(Q.matches(10, {200}));
}

TEST(FitModelTest, LargestFitting) {
  StepQuadratics Q = twoSteps();
  // Peak max(100 + 10v, 3v^2 + v): at v = 10, 310; at v = 11, 374.
  EXPECT_EQ(Q.largest(310, int64_t(1) << 24), 10);
  EXPECT_EQ(Q.largest(373, int64_t(1) << 24), 10);
  EXPECT_EQ(Q.largest(374, int64_t(1) << 24), 11);
  // Not even v = 1 (peak 110).
  EXPECT_EQ(Q.largest(109, int64_t(1) << 24), 0);
  // Capped.
  EXPECT_EQ(Q.largest(UINT64_MAX, 1000), 1000);
  EXPECT_TRUE(Q.fitsAt(11, 374));
  EXPECT_FALSE(Q.fitsAt(12, 374));
}

TEST(FitModelTest, StepsMustAgree) {
  EXPECT_FALSE(StepQuadratics::fit({1, 2}, {1}, {1, 2}).hasValue());
  EXPECT_FALSE(StepQuadratics::fit({}, {}, {}).hasValue());
}

} // namespace

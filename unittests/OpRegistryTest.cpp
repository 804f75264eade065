//===- OpRegistryTest.cpp - Every op row is complete ----------------------===//
//
// Walks the op registry: every row has every facet, or names the facet it
// lacks on purpose and why; rows of one op do not overlap; the one lookup
// finds each row by its key and follows the documented version policy;
// every fusion pattern's kernel and anchor have rows. The facet counts are
// printed for the record.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/OpRegistry.h"
#include "vram/Analysis/Analysis.h"

#include "llvm/ADT/StringRef.h"
#include "gtest/gtest.h"

#include <iostream>
#include <map>
#include <string>

using namespace vram;

namespace {

std::string key(const OpInfo &R) {
  return (llvm::StringRef(R.Domain).empty() ? std::string("ai.onnx")
                                            : std::string(R.Domain)) +
         "::" + R.OpType + " [" + std::to_string(R.MinVersion) + ", " +
         (R.MaxVersion == AnyVersion ? std::string("*")
                                     : std::to_string(R.MaxVersion)) +
         "]";
}

bool exempts(const OpInfo &R, llvm::StringRef Facet) {
  llvm::StringRef E(R.Exempt);
  // "shape: why" or "saved: why"; a reason must follow the facet's name.
  return E.startswith((Facet + ": ").str()) && E.size() > Facet.size() + 10;
}

} // namespace

TEST(OpRegistry, EveryRowHasEveryFacetOrAnExemption) {
  ASSERT_FALSE(allOps().empty());
  for (const OpInfo *R : allOps()) {
    SCOPED_TRACE(key(*R));
    EXPECT_NE(std::string(R->OpType), "");
    EXPECT_LE(R->MinVersion, R->MaxVersion);
    EXPECT_GE(R->MinVersion, 1);
    // Shape facet.
    EXPECT_TRUE(R->Shape || exempts(*R, "shape")) << "no shape function";
    // Saved facet, with the PyTorch behaviour it follows.
    if (R->Save) {
      EXPECT_NE(std::string(R->Reference), "")
          << "saved rule without reference";
    } else {
      EXPECT_TRUE(exempts(*R, "saved")) << "no saved-tensor rule";
    }
    // An exemption names a facet the row really lacks.
    if (exempts(*R, "shape")) {
      EXPECT_EQ(R->Shape, nullptr);
    }
    if (exempts(*R, "saved")) {
      EXPECT_EQ(R->Save, nullptr);
    }
    EXPECT_TRUE(llvm::StringRef(R->Exempt).empty() || exempts(*R, "shape") ||
                exempts(*R, "saved"))
        << "exemption of an unknown facet: " << R->Exempt;
    // Facets that must agree: nothing flows through an op without a
    // gradient, so it has no autocast class of its own and is no view.
    if (!R->differentiable()) {
      EXPECT_EQ(R->Precision, PrecisionClass::InputType);
      EXPECT_EQ(R->View, ViewKind::None);
    }
    // A generation loop is serving only: nothing flows back through it.
    if (R->Serving == ServingKind::Generation) {
      EXPECT_FALSE(R->differentiable());
    }
    // Only ai.onnx ops are views (PyTorch view semantics of exporters).
    if (R->View != ViewKind::None) {
      EXPECT_EQ(std::string(R->Domain), "");
    }
  }
}

TEST(OpRegistry, CpuAutocastClassesFollowTheProbe) {
  // models/torch/probe_autocast.py (torch 1.13): on the CPU the
  // lower-precision ops are CUDA's; only the losses and prod run in f32;
  // everything else runs in its inputs' dtype or promotes as on CUDA.
  for (const OpInfo *R : allOps()) {
    SCOPED_TRACE(key(*R));
    if (R->Precision == PrecisionClass::LowerPrecision ||
        R->Precision == PrecisionClass::Promote) {
      EXPECT_EQ(R->PrecisionCPU, R->Precision);
    }
    if (R->PrecisionCPU == PrecisionClass::FP32) {
      EXPECT_TRUE(R->ComputesLoss ||
                  llvm::StringRef(R->OpType) == "ReduceProd");
    }
  }
}

TEST(OpRegistry, RowsOfOneOpDoNotOverlap) {
  llvm::ArrayRef<const OpInfo *> Rows = allOps();
  for (size_t I = 1; I < Rows.size(); ++I) {
    const OpInfo &A = *Rows[I - 1], &B = *Rows[I];
    if (llvm::StringRef(A.Domain) != B.Domain ||
        llvm::StringRef(A.OpType) != B.OpType)
      continue;
    EXPECT_LT(A.MaxVersion, B.MinVersion) << key(A) << " overlaps " << key(B);
  }
}

TEST(OpRegistry, LookupFollowsTheVersionPolicy) {
  for (const OpInfo *R : allOps()) {
    EXPECT_EQ(findOp(R->Domain, R->OpType, R->MinVersion), R) << key(*R);
    EXPECT_EQ(findOp(R->Domain, R->OpType, R->MaxVersion), R) << key(*R);
  }
  // Older than every row: the oldest row. Reshape's rows: [1, 4], [5, *].
  const OpInfo *Old = findOp("", "Reshape", 1);
  ASSERT_NE(Old, nullptr);
  EXPECT_EQ(findOp("", "Reshape", 0), Old);
  EXPECT_EQ(Old->MaxVersion, 4);
  const OpInfo *New = findOp("", "Reshape", 5);
  ASSERT_NE(New, nullptr);
  EXPECT_NE(New, Old);
  EXPECT_EQ(findOp("", "Reshape", 24), New);
  // An op with a row from opset 9 only, imported at opset 7: that row.
  const OpInfo *Sign = findOp("", "Sign", 9);
  ASSERT_NE(Sign, nullptr);
  EXPECT_EQ(Sign->MinVersion, 9);
  EXPECT_EQ(findOp("", "Sign", 7), Sign);
  // Unknown ops and domains.
  EXPECT_EQ(findOp("", "NoSuchOp", 17), nullptr);
  EXPECT_EQ(findOp("com.example", "Reshape", 17), nullptr);
}

TEST(OpRegistry, FusionKernelsAndAnchorsHaveRows) {
  for (const FusionPatternInfo &P : fusionPatterns()) {
    SCOPED_TRACE(P.Name);
    const OpInfo *K = findOp("vram", P.Kernel, 1);
    ASSERT_NE(K, nullptr);
    EXPECT_NE(K->Save, nullptr);
    EXPECT_NE(findOp(P.AnchorDomain, P.Anchor, *P.AnchorDomain ? 1 : 17),
              nullptr);
  }
}

TEST(OpRegistry, FacetCounts) {
  // Printed for the record (the issue notes quote them); the checks above
  // are the test.
  std::map<std::string, unsigned> Count;
  unsigned Rows = 0;
  std::map<std::string, bool> Ops;
  for (const OpInfo *R : allOps()) {
    ++Rows;
    Ops[std::string(R->Domain) + "::" + R->OpType] = true;
    Count["shape"] += R->Shape != nullptr;
    Count["saved"] += R->Save != nullptr;
    Count["exempt shape"] += exempts(*R, "shape");
    Count["exempt saved"] += exempts(*R, "saved");
    Count[std::string("view ") + viewKindName(R->View)] += 1;
    Count[std::string("grad ") + gradKindName(R->Grad)] += 1;
    Count[std::string("precision ") + precisionClassName(R->Precision)] += 1;
    Count[std::string("precision-cpu ") +
          precisionClassName(R->PrecisionCPU)] += 1;
    Count["computes loss"] += R->ComputesLoss;
    Count[std::string("kind ") + savedKindName(R->Kind)] += 1;
    Count["serving generation"] += R->Serving == ServingKind::Generation;
    Count["reduces hidden"] += R->ReducesHidden;
    Count["gradient ops"] += isGradientOp(*R);
  }
  std::cout << "[ registry ] " << Rows << " rows, " << Ops.size() << " ops\n";
  for (const auto &KV : Count)
    std::cout << "[ registry ] " << KV.first << ": " << KV.second << '\n';
  for (const OpFamily &F : opFamilies())
    std::cout << "[ registry ] family " << F.Name << ": " << F.Rows().size()
              << " rows\n";
  EXPECT_EQ(Count["shape"] + Count["exempt shape"], Rows);
  EXPECT_EQ(Count["saved"] + Count["exempt saved"], Rows);
}

//===- TableTest.cpp - The text report's layout rules ---------------------===//
//
// Widths of shortened names, wrapped lines and laid-out tables; one unit per
// bytes column.
//
//===----------------------------------------------------------------------===//

#include "vram/Report/Table.h"

#include "llvm/ADT/StringExtras.h"
#include "gtest/gtest.h"

#include <string>

using namespace vram;

namespace {

std::vector<std::string> lines(const std::string &S) {
  llvm::SmallVector<llvm::StringRef, 16> Parts;
  llvm::StringRef(S).split(Parts, '\n', -1, /*KeepEmpty=*/false);
  return {Parts.begin(), Parts.end()};
}

TEST(TableTest, ShortenMiddleKeepsHeadAndTail) {
  EXPECT_EQ(shortenMiddle("short", 10), "short");
  std::string Long = "/model/layers.11/self_attn/q_proj/MatMul";
  for (unsigned W = 4; W < Long.size(); ++W) {
    std::string S = shortenMiddle(Long, W);
    EXPECT_EQ(S.size(), W);
    size_t Marker = S.find("...");
    ASSERT_NE(Marker, std::string::npos);
    // The head is a prefix of the name, the tail a suffix, the tail twice
    // the head (give or take one).
    EXPECT_EQ(Long.substr(0, Marker), S.substr(0, Marker));
    std::string Tail = S.substr(Marker + 3);
    EXPECT_EQ(Long.substr(Long.size() - Tail.size()), Tail);
    EXPECT_LE(Marker, Tail.size());
  }
}

TEST(TableTest, WrapKeepsWidthAndWords) {
  std::string Text = "does not fit on 400MiB (400.00 MiB): peak 402.03 MiB in "
                     "optimizer at (optimizer step), 2.03 MiB over";
  std::string W = wrapText(Text, 40, 2);
  for (const std::string &L : lines(W))
    EXPECT_LE(L.size(), 40u) << L;
  // Nothing lost but the line breaks.
  std::string Joined;
  for (const std::string &L : lines(W))
    Joined += (Joined.empty() ? "" : " ") + llvm::StringRef(L).trim().str();
  EXPECT_EQ(Joined, Text);
  // A number stays with its unit.
  for (const std::string &L : lines(W))
    EXPECT_FALSE(llvm::StringRef(L).trim().startswith("MiB")) << L;
}

TEST(TableTest, WrapKeepsLeadingIndentAndClauses) {
  std::string W =
      wrapText("  per layer (h0): 20*batch*seq^2 + 2192*batch*seq", 30, 4);
  std::vector<std::string> Ls = lines(W);
  ASSERT_GE(Ls.size(), 2u);
  EXPECT_EQ(Ls[0].substr(0, 12), "  per layer ");
  for (size_t I = 1; I < Ls.size(); ++I)
    EXPECT_EQ(Ls[I].substr(0, 4), "    ") << Ls[I];
  // A break after a comma in the line's second half.
  EXPECT_EQ(wrapText("fits on L4 (24.00 GiB): peak 14.71 GiB in backward at "
                     "loss/LogSoftmax, 9.29 GiB headroom",
                     80, 2),
            "fits on L4 (24.00 GiB): peak 14.71 GiB in backward at "
            "loss/LogSoftmax,\n  9.29 GiB headroom");
}

TEST(TableTest, OneUnitPerBytesColumn) {
  EXPECT_EQ(byteUnitFor(1023), 0u);
  EXPECT_EQ(byteUnitFor(1024), 1u);
  EXPECT_EQ(byteUnitFor(uint64_t(5) << 30), 3u);
  EXPECT_EQ(formatBytesIn(32, 0), "32 B");
  EXPECT_EQ(formatBytesIn(uint64_t(1008) << 20, 3), "0.98 GiB");
  EXPECT_EQ(formatBytesIn(1, 2), "<0.01 MiB");
  EXPECT_EQ(formatBytesIn(0, 2), "0.00 MiB");

  TextTable T;
  T.column("name", TextTable::Kind::Name)
      .column("bytes", TextTable::Kind::Bytes);
  T.row({"a", TextTable::Cell::bytes(uint64_t(1008) << 20)});
  T.row({"b", TextTable::Cell::bytes(uint64_t(1200) << 20)});
  std::string S;
  llvm::raw_string_ostream OS(S);
  T.print(OS, 80);
  EXPECT_EQ(OS.str(), "  name     bytes\n"
                      "  a     0.98 GiB\n"
                      "  b     1.17 GiB\n");
}

TEST(TableTest, LongNamesStayAligned) {
  std::string Name(100, 'n');
  for (unsigned Width : {60u, 80u, 120u, 200u}) {
    TextTable T;
    T.column("node", TextTable::Kind::Name, 20)
        .column("op", TextTable::Kind::Text, 12)
        .column("bytes", TextTable::Kind::Bytes);
    T.row({Name + "1", std::string("MatMul"), TextTable::Cell::bytes(100)});
    T.row({"short", std::string(100, 'o'), TextTable::Cell::bytes(2000)});
    T.note({{Name, true},
            {": output of MatMul (", false},
            {Name, true},
            {")", false}});
    std::string S;
    llvm::raw_string_ostream OS(S);
    T.print(OS, Width);
    std::vector<std::string> Ls = lines(OS.str());
    ASSERT_EQ(Ls.size(), 4u);
    for (const std::string &L : Ls)
      EXPECT_LE(L.size(), Width) << L;
    // The bytes column ends at the same place on every row.
    EXPECT_EQ(Ls[0].size(), Ls[1].size());
    EXPECT_EQ(Ls[1].size(), Ls[2].size());
    EXPECT_NE(Ls[3].find("output of MatMul"), std::string::npos);
  }
}

} // namespace

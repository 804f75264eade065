//===- Table.h - Text tables that fit the terminal --------------*- C++ -*-===//
//
// The layout rules of the text report (docs/memory.md, "Layout"):
// - the width is $COLUMNS, or 80 when it is unset or not a number;
// - a name too long for its column is shortened in the middle: its head and
//   its tail are kept around one "..." (the tail twice as long as the head:
//   the op and the last scopes tell nodes apart), so every column stays
//   aligned;
// - each bytes column uses one unit, chosen by its largest value;
// - every column has a heading.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_REPORT_TABLE_H
#define VRAM_REPORT_TABLE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vram {

/// The width of the text report: $COLUMNS when it is a number (at least
/// 40), else 80.
unsigned reportWidth();

/// The marker that replaces the middle of a shortened name.
constexpr llvm::StringLiteral ShortenMarker = "...";

/// S itself when it fits Width characters; else its head and tail around
/// ShortenMarker, Width characters in all (the tail twice the head).
std::string shortenMiddle(llvm::StringRef S, unsigned Width);

/// Text wrapped at spaces to Width columns; continuation lines start with
/// Indent spaces. A line breaks after its last ',' or ';' when that is in
/// its second half, a number stays with its unit, a
/// two-word parenthesis stays whole, and a word longer than a
/// line is shortened in the middle.
std::string wrapText(llvm::StringRef Text, unsigned Width, unsigned Indent);

/// One piece of a line for fitLine: text, and whether it may be shortened.
struct LinePiece {
  std::string Text;
  bool Shrink = false;
};
/// The pieces joined, the shrinkable ones shortened in the middle (the
/// longest first, none below 12 characters) until the line fits Width.
std::string fitLine(llvm::ArrayRef<LinePiece> Pieces, unsigned Width);

/// The binary unit (0 = B, 1 = KiB, ...) formatBytes would use for Max.
unsigned byteUnitFor(uint64_t Max);
/// Bytes in Unit: "32 B" for unit 0, else two decimals ("0.50 MiB").
std::string formatBytesIn(uint64_t Bytes, unsigned Unit);

/// A table of columns laid out to a width.
class TextTable {
public:
  enum class Kind {
    Name,   ///< left-aligned, shortened in the middle when the table is wide
    Text,   ///< left-aligned, each cell's alternatives tried longest first
    Number, ///< right-aligned, never shortened
    Bytes,  ///< right-aligned, one unit for the column
    Bar,    ///< a bar of '#' as wide as the column allows (10 to 40)
  };

  /// MinWidth: the narrowest a Name or Text column gets (0: its heading);
  /// a Number or Bytes column keeps its cells whole, and its heading is
  /// shortened to no less than MinWidth when set.
  TextTable &column(llvm::StringRef Heading, Kind K, unsigned MinWidth = 0);

  /// One cell: text (with shorter alternatives for Text columns), bytes, or
  /// a bar's length as a fraction of the column.
  struct Cell {
    std::vector<std::string> Alternatives;
    uint64_t Bytes = 0;
    double Fraction = 0;
    bool Empty = false;
    Cell() : Empty(true) {}
    Cell(std::string S) : Alternatives{std::move(S)} {}
    Cell(const char *S) : Alternatives{S} {}
    Cell(std::vector<std::string> Alts) : Alternatives(std::move(Alts)) {}
    static Cell bytes(uint64_t B) {
      Cell C;
      C.Empty = false;
      C.Bytes = B;
      return C;
    }
    static Cell bar(double F) {
      Cell C;
      C.Empty = false;
      C.Fraction = F;
      return C;
    }
  };

  void row(std::vector<Cell> Cells);
  /// A line under the last row, indented by 4 more than the table, made of
  /// pieces fitted to the width (fitLine).
  void note(std::vector<LinePiece> Pieces);

  /// Prints the heading and the rows, Indent spaces first, in Width columns.
  void print(llvm::raw_ostream &OS, unsigned Width, unsigned Indent = 2) const;

  /// The column widths print uses (for tests).
  std::vector<unsigned> layout(unsigned Width, unsigned Indent,
                               unsigned *Gap = nullptr) const;

private:
  struct Column {
    std::string Heading;
    Kind K;
    unsigned MinWidth;
  };
  struct Row {
    std::vector<Cell> Cells;
    std::vector<LinePiece> Note;
    bool IsNote = false;
  };
  std::vector<Column> Columns;
  std::vector<Row> Rows;

  std::vector<unsigned> units() const;
  std::string render(size_t Col, const Cell &C, unsigned Width,
                     unsigned Unit) const;
};

} // namespace vram

#endif // VRAM_REPORT_TABLE_H

//===- Table.cpp - Text tables that fit the terminal ----------------------===//

#include "vram/Report/Table.h"

#include "llvm/ADT/StringExtras.h"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>

using namespace llvm;

namespace vram {

namespace {

const char *const Units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
constexpr unsigned NumUnits = sizeof(Units) / sizeof(Units[0]);

/// Columns S takes: its UTF-8 code points.
unsigned displayWidth(StringRef S) {
  unsigned W = 0;
  for (char C : S)
    if ((static_cast<unsigned char>(C) & 0xC0) != 0x80)
      ++W;
  return W;
}

/// The byte offset of code point N of S (S.size() past the end).
size_t offsetOf(StringRef S, unsigned N) {
  unsigned W = 0;
  for (size_t I = 0; I < S.size(); ++I)
    if ((static_cast<unsigned char>(S[I]) & 0xC0) != 0x80 && W++ == N)
      return I;
  return S.size();
}

std::string pad(StringRef S, unsigned Width, bool Right) {
  unsigned W = displayWidth(S);
  if (W >= Width)
    return S.str();
  std::string Fill(Width - W, ' ');
  return Right ? Fill + S.str() : S.str() + Fill;
}

} // namespace

unsigned reportWidth() {
  const char *Env = std::getenv("COLUMNS");
  unsigned W = 0;
  if (!Env || StringRef(Env).trim().getAsInteger(10, W))
    return 80;
  return std::max(W, 40u);
}

std::string shortenMiddle(StringRef S, unsigned Width) {
  unsigned W = displayWidth(S);
  if (W <= Width)
    return S.str();
  unsigned Marker = ShortenMarker.size();
  if (Width <= Marker)
    return ShortenMarker.substr(0, Width).str();
  unsigned Keep = Width - Marker, Head = Keep / 3, Tail = Keep - Head;
  return S.substr(0, offsetOf(S, Head)).str() + ShortenMarker.str() +
         S.substr(offsetOf(S, W - Tail)).str();
}

std::string wrapText(StringRef Text, unsigned Width, unsigned Indent) {
  SmallVector<StringRef, 16> Split;
  Text.split(Split, ' ', -1, /*KeepEmpty=*/false);
  auto isUnit = [](StringRef W) {
    W = W.rtrim(",;:)");
    return is_contained(Units, W);
  };
  auto lineWidth = [](ArrayRef<std::string> Ws) {
    unsigned N = 0;
    for (const std::string &W : Ws)
      N += displayWidth(W) + (N ? 1 : 0);
    return N;
  };
  std::string Out;
  std::vector<std::string> Line;
  // The indent of the current line: the text's own on the first.
  unsigned Start = Text.size() - Text.ltrim(' ').size();
  auto emit = [&](size_t Count) {
    std::vector<std::string> Rest(Line.begin() + Count, Line.end());
    Line.resize(Count);
    Out += std::string(Start, ' ') + join(Line, " ") + "\n";
    Line = std::move(Rest);
    Start = Indent;
  };
  for (StringRef Word : Split) {
    unsigned Room = Width > Indent ? Width - Indent : 1;
    Line.push_back(shortenMiddle(Word, std::max(Room, 8u)));
    if (Line.size() < 2 || Start + lineWidth(Line) <= Width)
      continue;
    // Too long: break after the last ',' or ';' of the line's second half,
    // else before the word (with the number before it, for a unit).
    size_t Break = 0;
    for (size_t I = 0; I + 1 < Line.size(); ++I) {
      StringRef W = Line[I];
      if ((W.endswith(",") || W.endswith(";")) &&
          2 * (Start + lineWidth(makeArrayRef(Line).take_front(I + 1))) >=
              Width)
        Break = I + 1;
    }
    if (!Break)
      Break = Line.size() - 1;
    if (Break == Line.size() - 1 && Break > 1 &&
        (isUnit(Line.back()) || (StringRef(Line[Break - 1]).startswith("(") &&
                                 !StringRef(Line[Break - 1]).contains(')'))))
      --Break;
    emit(Break);
    while (Line.size() > 1 && Start + lineWidth(Line) > Width)
      emit(Line.size() - 1);
  }
  if (!Line.empty() || Out.empty())
    Out += std::string(Start, ' ') + join(Line, " ");
  else
    Out.pop_back();
  return Out;
}

std::string fitLine(ArrayRef<LinePiece> Pieces, unsigned Width) {
  const unsigned Floor = 12;
  std::vector<unsigned> W;
  unsigned Total = 0;
  for (const LinePiece &P : Pieces) {
    W.push_back(displayWidth(P.Text));
    Total += W.back();
  }
  while (Total > Width) {
    size_t Best = Pieces.size();
    for (size_t I = 0; I < Pieces.size(); ++I)
      if (Pieces[I].Shrink && W[I] > Floor &&
          (Best == Pieces.size() || W[I] > W[Best]))
        Best = I;
    if (Best == Pieces.size())
      break;
    --W[Best];
    --Total;
  }
  std::string Out;
  for (size_t I = 0; I < Pieces.size(); ++I)
    Out += shortenMiddle(Pieces[I].Text, W[I]);
  return Out;
}

unsigned byteUnitFor(uint64_t Max) {
  unsigned U = 0;
  double V = static_cast<double>(Max);
  while (V >= 1024 && U + 1 < NumUnits) {
    V /= 1024;
    ++U;
  }
  return U;
}

std::string formatBytesIn(uint64_t Bytes, unsigned Unit) {
  if (Unit == 0)
    return std::to_string(Bytes) + " B";
  double V = static_cast<double>(Bytes);
  for (unsigned I = 0; I < Unit; ++I)
    V /= 1024;
  // A value too small for the column's unit is not shown as zero.
  if (Bytes && V < 0.005)
    return fmt::format("<0.01 {}", Units[Unit]);
  return fmt::format("{:.2f} {}", V, Units[Unit]);
}

TextTable &TextTable::column(StringRef Heading, Kind K, unsigned MinWidth) {
  Columns.push_back({Heading.str(), K, MinWidth});
  return *this;
}

void TextTable::row(std::vector<Cell> Cells) {
  assert(Cells.size() == Columns.size() && "one cell per column");
  Rows.push_back({std::move(Cells), {}, false});
}

void TextTable::note(std::vector<LinePiece> Pieces) {
  Rows.push_back({{}, std::move(Pieces), true});
}

std::vector<unsigned> TextTable::units() const {
  std::vector<unsigned> U(Columns.size(), 0);
  for (size_t C = 0; C < Columns.size(); ++C) {
    if (Columns[C].K != Kind::Bytes)
      continue;
    uint64_t Max = 0;
    for (const Row &R : Rows)
      if (!R.IsNote && !R.Cells[C].Empty)
        Max = std::max(Max, R.Cells[C].Bytes);
    U[C] = byteUnitFor(Max);
  }
  return U;
}

std::vector<unsigned> TextTable::layout(unsigned Width, unsigned Indent,
                                        unsigned *GapOut) const {
  const unsigned BarMax = 40, BarMin = 10;
  // Soft: the shortest alternative of each Text cell; hard: MinWidth.
  std::vector<unsigned> U = units(), Nat, Min, Soft;
  for (size_t C = 0; C < Columns.size(); ++C) {
    const Column &Col = Columns[C];
    unsigned Heading = displayWidth(Col.Heading);
    unsigned N = Heading;
    if (Col.K == Kind::Bar) {
      Nat.push_back(BarMax);
      Min.push_back(BarMin);
      Soft.push_back(BarMin);
      continue;
    }
    unsigned Cells = 0, Shortest = 0;
    for (const Row &R : Rows)
      if (!R.IsNote && !R.Cells[C].Empty) {
        Cells = std::max(Cells, displayWidth(render(C, R.Cells[C], ~0u, U[C])));
        if (Col.K == Kind::Text)
          Shortest =
              std::max(Shortest, displayWidth(R.Cells[C].Alternatives.back()));
      }
    N = std::max(N, Cells);
    Nat.push_back(N);
    unsigned Floor = Col.MinWidth ? Col.MinWidth : Heading;
    bool Shrinks = Col.K == Kind::Name || Col.K == Kind::Text;
    // Numbers are never shortened; their heading may be, to MinWidth.
    Min.push_back(Shrinks ? std::min(N, Floor)
                          : std::max(Cells, std::min(N, Floor)));
    Soft.push_back(std::max(Min.back(), std::min(N, Shortest)));
  }
  size_t N = Columns.size();
  unsigned Sum = 0;
  for (unsigned W : Nat)
    Sum += W;
  unsigned Gap = Indent + Sum + 2 * (N ? N - 1 : 0) <= Width ? 2 : 1;
  if (GapOut)
    *GapOut = Gap;
  unsigned Fixed = Indent + Gap * (N ? N - 1 : 0);
  unsigned Avail = Width > Fixed ? Width - Fixed : 0;
  std::vector<unsigned> W = Nat;
  // Shrink the widest shrinkable column one character at a time: down to
  // the shortest alternatives of its cells first, then to its MinWidth.
  for (const std::vector<unsigned> *Floor : {&Soft, &Min})
    while (Sum > Avail) {
      size_t Best = N;
      for (size_t C = 0; C < N; ++C)
        if (W[C] > (*Floor)[C] && (Best == N || W[C] > W[Best]))
          Best = C;
      if (Best == N)
        break;
      --W[Best];
      --Sum;
    }
  // A Text column narrower than its longest alternative shows a shorter
  // one, which may leave room over: give it to the shortened names.
  unsigned Slack = 0;
  for (size_t C = 0; C < N; ++C) {
    if (Columns[C].K != Kind::Text || W[C] == Nat[C])
      continue;
    unsigned Used = displayWidth(Columns[C].Heading);
    for (const Row &R : Rows)
      if (!R.IsNote && !R.Cells[C].Empty)
        Used = std::max(Used, displayWidth(render(C, R.Cells[C], W[C], U[C])));
    if (Used < W[C]) {
      Slack += W[C] - Used;
      W[C] = Used;
    }
  }
  for (bool Gave = true; Slack && Gave;) {
    Gave = false;
    for (size_t C = 0; C < N && Slack; ++C)
      if (Columns[C].K == Kind::Name && W[C] < Nat[C]) {
        ++W[C];
        --Slack;
        Gave = true;
      }
  }
  return W;
}

std::string TextTable::render(size_t Col, const Cell &C, unsigned Width,
                              unsigned Unit) const {
  if (C.Empty)
    return "";
  switch (Columns[Col].K) {
  case Kind::Bytes:
    return formatBytesIn(C.Bytes, Unit);
  case Kind::Bar: {
    double F = std::min(1.0, std::max(0.0, C.Fraction));
    return std::string(static_cast<size_t>(F * Width), '#');
  }
  case Kind::Number:
    return C.Alternatives.front();
  case Kind::Name:
  case Kind::Text:
    for (const std::string &A : C.Alternatives)
      if (displayWidth(A) <= Width)
        return A;
    return shortenMiddle(C.Alternatives.back(), Width);
  }
  return "";
}

void TextTable::print(raw_ostream &OS, unsigned Width, unsigned Indent) const {
  unsigned Gap = 1;
  std::vector<unsigned> W = layout(Width, Indent, &Gap);
  std::vector<unsigned> U = units();
  auto rightAligned = [&](size_t C) {
    return Columns[C].K == Kind::Number || Columns[C].K == Kind::Bytes;
  };
  auto emit = [&](const std::vector<std::string> &Cells) {
    std::string Line(Indent, ' ');
    for (size_t C = 0; C < Cells.size(); ++C) {
      if (C)
        Line += std::string(Gap, ' ');
      Line += pad(Cells[C], W[C], rightAligned(C));
    }
    OS << StringRef(Line).rtrim() << '\n';
  };
  std::vector<std::string> Heading;
  for (size_t C = 0; C < Columns.size(); ++C)
    Heading.push_back(shortenMiddle(Columns[C].Heading, W[C]));
  emit(Heading);
  for (const Row &R : Rows) {
    if (R.IsNote) {
      unsigned In = Indent + 4;
      OS << std::string(In, ' ') << fitLine(R.Note, Width > In ? Width - In : 1)
         << '\n';
      continue;
    }
    std::vector<std::string> Cells;
    for (size_t C = 0; C < Columns.size(); ++C)
      Cells.push_back(render(C, R.Cells[C], W[C], U[C]));
    emit(Cells);
  }
}

} // namespace vram

//===- DiffView.cpp - Two runs side by side -------------------------------===//
//
// --diff: what changes between two runs (two models, or one model under two
// option sets or bindings), by category (the totals and the peak) and by
// layer (saved bytes, or the working set in serving), with the delta B - A.
// Text fits in 80 columns; JSON gives every figure in bytes.
//
//===----------------------------------------------------------------------===//

#include "vram/Report/Views.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

using namespace llvm;

namespace vram {

namespace {

/// "+1.50 MiB", "-512 B", "0".
std::string signedBytes(int64_t D) {
  if (D == 0)
    return "0";
  return (D > 0 ? "+" : "-") +
         formatBytes(static_cast<uint64_t>(D > 0 ? D : -D));
}

int64_t delta(uint64_t A, uint64_t B) {
  return static_cast<int64_t>(B) - static_cast<int64_t>(A);
}

/// "checkpoint=full batch=2 seq=16": the options and dims of a side.
std::string settings(const DiffSide &S) {
  std::string Extra;
  for (const auto &O : S.Run.Options)
    Extra += (Extra.empty() ? "" : " ") + O.first + "=" + O.second;
  for (const auto &D : S.Run.Dims)
    Extra +=
        (Extra.empty() ? "" : " ") + D.first + "=" + std::to_string(D.second);
  return Extra;
}

/// "backward at h0_ln1", from the run's JSON.
std::string peakAt(const SweepPoint &P) {
  const json::Object *Peak = P.JSON.getObject("peak");
  if (!Peak)
    return "";
  auto Str = [&](StringRef K) {
    Optional<StringRef> V = Peak->getString(K);
    return V ? V->str() : std::string();
  };
  return Str("phase") + " at " + Str("node");
}

struct Row {
  std::string Name;
  Optional<uint64_t> A, B;
};

std::vector<Row> categories(const DiffSide &A, const DiffSide &B) {
  const CostResult &CA = A.Run.Cost, &CB = B.Run.Cost;
  return {{"parameters", CA.Parameters, CB.Parameters},
          {"gradients", CA.Gradients, CB.Gradients},
          {"optimizer_state", CA.OptimizerState, CB.OptimizerState},
          {"activations", CA.Activations, CB.Activations},
          {"overhead", CA.Overhead, CB.Overhead},
          {"peak", A.Run.PeakBytes, B.Run.PeakBytes}};
}

/// The layers of A in order, then those only B has.
std::vector<Row> layers(const DiffSide &A, const DiffSide &B) {
  std::vector<Row> Rows;
  StringMap<size_t> Index;
  for (const CostResult::Layer &L : A.Run.Cost.Layers) {
    Index[L.Name] = Rows.size();
    Rows.push_back({L.Name, L.Bytes, None});
  }
  for (const CostResult::Layer &L : B.Run.Cost.Layers) {
    auto It = Index.find(L.Name);
    if (It != Index.end()) {
      Rows[It->second].B = L.Bytes;
      continue;
    }
    Index[L.Name] = Rows.size();
    Rows.push_back({L.Name, None, L.Bytes});
  }
  return Rows;
}

std::string fit(std::string S, size_t Width) {
  if (S.size() > Width)
    S = S.substr(0, Width - 1) + "~";
  return S;
}

/// A path in Width columns: its end kept ("~/models/m.onnx").
std::string fitPath(const std::string &S, size_t Width) {
  if (S.size() <= Width)
    return S;
  return "~" + S.substr(S.size() - (Width - 1));
}

void printText(const DiffSide &A, const DiffSide &B, raw_ostream &OS) {
  // 2 + 20 + 3 x (1 + 15) = 70 columns.
  for (const DiffSide *S : {&A, &B}) {
    OS << (S == &A ? "A: " : "B: ") << fitPath(S->Model, 76) << '\n';
    std::string Set = settings(*S);
    if (!Set.empty())
      OS << fit("   " + Set, 79) << '\n';
  }
  OS << '\n';
  auto Line = [&](StringRef Name, StringRef VA, StringRef VB, StringRef D) {
    OS << fmt::format("  {:<20} {:>15} {:>15} {:>15}\n", fit(Name.str(), 20),
                      VA.str(), VB.str(), D.str());
  };
  auto Show = [](Optional<uint64_t> V) {
    return V ? formatBytes(*V) : std::string("-");
  };
  auto Print = [&](const Row &R) {
    Line(R.Name, Show(R.A), Show(R.B),
         signedBytes(delta(R.A.getValueOr(0), R.B.getValueOr(0))));
  };
  Line("category", "A", "B", "B - A");
  for (const Row &R : categories(A, B))
    Print(R);
  OS << fit("  peak in A: " + peakAt(A.Run), 79) << '\n'
     << fit("  peak in B: " + peakAt(B.Run), 79) << '\n';
  OS << '\n';
  Line(A.Run.Cost.RunMode == Mode::Train ? "layer (saved)" : "layer", "A", "B",
       "B - A");
  for (const Row &R : layers(A, B))
    Print(R);
}

json::Value rowJSON(const Row &R) {
  json::Object O{{"name", R.Name}};
  O["a"] = R.A ? json::Value(static_cast<int64_t>(*R.A)) : json::Value(nullptr);
  O["b"] = R.B ? json::Value(static_cast<int64_t>(*R.B)) : json::Value(nullptr);
  O["delta"] = delta(R.A.getValueOr(0), R.B.getValueOr(0));
  return O;
}

json::Object sideJSON(const DiffSide &S) {
  json::Object Opts, Dims;
  for (const auto &O : S.Run.Options) {
    int64_t N; // numbers as numbers: "tp": 2
    Opts[O.first] = StringRef(O.second).getAsInteger(10, N)
                        ? json::Value(O.second)
                        : json::Value(N);
  }
  for (const auto &D : S.Run.Dims)
    Dims[D.first] = D.second;
  json::Object O{{"model", S.Model},
                 {"options", std::move(Opts)},
                 {"dims", std::move(Dims)}};
  if (const json::Object *Peak = S.Run.JSON.getObject("peak"))
    O["peak"] = json::Object(*Peak);
  if (const json::Object *Par = S.Run.JSON.getObject("parallel"))
    O["parallel"] = json::Object(*Par);
  return O;
}

} // namespace

void printDiff(const DiffSide &A, const DiffSide &B, OutputFormat Format,
               raw_ostream &OS) {
  if (Format != OutputFormat::JSON) {
    printText(A, B, OS);
    return;
  }
  json::Array Cats, Layers;
  for (const Row &R : categories(A, B))
    Cats.push_back(rowJSON(R));
  for (const Row &R : layers(A, B))
    Layers.push_back(rowJSON(R));
  json::Object Root{{"a", sideJSON(A)},
                    {"b", sideJSON(B)},
                    {"categories", std::move(Cats)},
                    {"layers", std::move(Layers)}};
  OS << formatv("{0:2}", json::Value(std::move(Root))) << '\n';
}

} // namespace vram

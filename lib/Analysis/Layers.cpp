//===- Layers.cpp - Layer scopes of the nodes of a graph ------------------===//
//
// The repeated blocks of a model (transformer layers) come from the scopes
// in its names: "h.0", "layer.3", "layers_12", "block_2". The cost pass
// groups its per-layer figures by them and checkpointing recomputes them.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/Analysis.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

using namespace llvm;

namespace vram {

/// At a start or a separator (/._:), a scope word (layer, layers, h, block,
/// blocks; any case), an optional '.' or '_', digits, then a separator or
/// the end. A hand-written scan: this runs for every name of every node.
std::string layerKey(StringRef Name) {
  auto IsSep = [](char C) {
    return C == '/' || C == '.' || C == '_' || C == ':';
  };
  static const char *const Words[] = {"layers", "layer", "blocks", "block",
                                      "h"};
  for (size_t I = 0; I < Name.size(); ++I) {
    if (I > 0 && !IsSep(Name[I - 1]))
      continue;
    for (const char *W : Words) {
      StringRef Word(W);
      if (!Name.substr(I).startswith_insensitive(Word))
        continue;
      size_t J = I + Word.size();
      if (J < Name.size() && (Name[J] == '.' || Name[J] == '_'))
        ++J;
      size_t DigitsStart = J;
      while (J < Name.size() && isDigit(Name[J]))
        ++J;
      if (J == DigitsStart || (J < Name.size() && !IsSep(Name[J])))
        continue;
      return Name.substr(I, J - I).str();
    }
  }
  return "";
}

std::vector<std::string> assignLayers(const Graph &G) {
  std::vector<std::string> Out;
  Out.reserve(G.Nodes.size());
  std::string Cur = "(other)";
  for (const auto &N : G.Nodes) {
    std::string Key = layerKey(N->Name);
    for (const Value *V : N->Outputs)
      if (Key.empty() && V)
        Key = layerKey(V->Name);
    bool ReadsOuterParam = false;
    for (const Value *V : N->Inputs) {
      if (!V || V->Kind != ValueKind::Parameter)
        continue;
      std::string K = layerKey(V->Name);
      if (Key.empty())
        Key = K;
      ReadsOuterParam |= K.empty();
    }
    if (Key.empty())
      Key = ReadsOuterParam ? "(other)" : Cur;
    Cur = Key;
    Out.push_back(Key);
  }
  return Out;
}

Expected<StageAssignment> assignStages(const Graph &G, unsigned NumStages) {
  std::vector<std::string> Keys = assignLayers(G);
  std::vector<std::string> Order; // the layers, by first appearance
  StringMap<size_t> Index;
  for (const std::string &K : Keys)
    if (K != "(other)" && Index.try_emplace(K, Order.size()).second)
      Order.push_back(K);
  if (NumStages == 0 || Order.size() < NumStages)
    return createStringError(
        inconvertibleErrorCode(),
        "%u pipeline stages for %zu layers (the layers of the Layers table); "
        "each stage needs at least one layer",
        NumStages, Order.size());
  StageAssignment A;
  A.Layers.resize(NumStages);
  std::vector<unsigned> StageOfLayer(Order.size());
  size_t Per = Order.size() / NumStages, Extra = Order.size() % NumStages;
  for (size_t S = 0, L = 0; S < NumStages; ++S)
    for (size_t K = 0; K < Per + (S < Extra ? 1 : 0); ++K, ++L) {
      StageOfLayer[L] = S;
      A.Layers[S].push_back(Order[L]);
    }
  unsigned Cur = 0;
  for (const std::string &K : Keys) {
    if (K != "(other)")
      Cur = StageOfLayer[Index.lookup(K)];
    A.NodeStage.push_back(Cur);
  }
  return A;
}

} // namespace vram

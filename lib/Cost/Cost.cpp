//===- Cost.cpp - Bytes by category, dtype and node -----------------------===//
//
// Prices parameters (each storage once) with the recipe's per-parameter
// terms, saved activations (train) or the forward working set (infer) with
// the recipe's activation dtype, and the framework overhead.
//
// Activation pricing: a floating-point tensor is stored in the recipe's
// activation dtype unless its own dtype is narrower (a 16-bit graph is
// priced as it is); integer and bool tensors, dropout masks and
// normalisation statistics keep their own dtype under every recipe.
//
//===----------------------------------------------------------------------===//

#include "vram/Cost/Cost.h"
#include "vram/Cost/Recipes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace llvm;

namespace vram {

namespace {

DType pricedType(DType Own, bool KeepsDType, DType ActTy) {
  if (KeepsDType || !isFloatingPoint(Own))
    return Own;
  return dtypeBits(Own) > dtypeBits(ActTy) ? ActTy : Own;
}

Optional<uint64_t> pricedBytes(DType Own, const Shape &S, bool KeepsDType,
                               DType ActTy) {
  Optional<uint64_t> N = S.numElements();
  if (!N)
    return None;
  return bytesFor(pricedType(Own, KeepsDType, ActTy), *N);
}

uint64_t roundBytes(double B) { return static_cast<uint64_t>(std::llround(B)); }

/// The layer scope in a name: "h.0", "layer.3", "layers.12", "h0",
/// "block_2": at a start or a separator (/._:), a scope word (layer, layers,
/// h, block, blocks; any case), an optional '.' or '_', digits, then a
/// separator or the end. A hand-written scan: this runs for every name of
/// every node.
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

/// Groups nodes into repeated blocks: a node's scope comes from its name,
/// its outputs' names or its parameters' names; a node without one belongs
/// to the block before it unless it reads a parameter outside every block
/// (a final norm, a head), which starts "(other)".
void computeLayers(CostContext &Ctx) {
  CostResult &C = Ctx.Cost;
  std::map<std::string, size_t> Index;
  std::string Cur = "(other)";
  if (C.InputBytes) {
    Index["(inputs)"] = C.Layers.size();
    C.Layers.push_back({"(inputs)", 0, C.InputBytes});
  }
  for (const auto &N : Ctx.M.Main->Nodes) {
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
    auto Ins = Index.emplace(Key, C.Layers.size());
    if (Ins.second)
      C.Layers.push_back({Key, 0, 0});
    CostResult::Layer &L = C.Layers[Ins.first->second];
    ++L.Nodes;
    L.Bytes += C.NodeBytes[N->Id];
  }
}

} // namespace

Error runCost(CostContext &Ctx) {
  const CostOptions &O = Ctx.CostOpts;
  CostResult &C = Ctx.Cost;
  C = CostResult();
  const Recipe *R = findRecipe(O.Recipe);
  if (!R) {
    std::string Names;
    for (const Recipe &X : recipes())
      Names += (Names.empty() ? "" : ", ") + std::string(X.Name);
    return makeError("unknown recipe '" + O.Recipe + "' (known: " + Names +
                     ")");
  }
  int Copies = optimizerStateCopies(O.Optimizer);
  if (Copies < 0)
    return makeError("unknown optimizer '" + O.Optimizer +
                     "' (known: sgd, momentum, adam, adamw)");
  bool Train = O.RunMode == Mode::Train;
  C.Mode = Train ? "train" : "infer";
  C.Recipe = R->Name;
  C.Optimizer = O.Optimizer;
  DType ActTy = O.ActivationDType ? *O.ActivationDType : R->ActivationTy;
  C.ActivationType = ActTy;

  // Per-parameter terms, with overrides.
  struct Term {
    const char *Key;
    std::string Label;
    const char *Category;
    double Bytes;
  };
  std::vector<Term> Terms = {
      {"weights", "weights (" + dtypeName(R->WeightTy).str() + ")",
       "parameters", dtypeBits(R->WeightTy) / 8.0},
      {"master_weights", "master weights (f32)", "parameters",
       R->MasterWeights},
      {"weight_copies", "autocast weight copies (f16)", "parameters",
       R->ExtraWeights},
      {"gradients", "gradients (" + dtypeName(R->GradTy).str() + ")",
       "gradients", dtypeBits(R->GradTy) / 8.0},
      {"master_gradients", "master gradients (f32)", "gradients",
       R->MasterGrads},
      {"optimizer_state",
       O.Optimizer + " state (" + std::to_string(Copies) + " x f32)",
       "optimizer_state", Copies * R->StatePerCopy},
  };
  for (const auto &Ov : O.TermOverrides) {
    auto It = find_if(Terms, [&](const Term &T) { return Ov.first == T.Key; });
    if (It == Terms.end())
      return makeError("unknown recipe term '" + Ov.first +
                       "' (known: weights, master_weights, weight_copies, "
                       "gradients, master_gradients, optimizer_state)");
    It->Bytes = Ov.second;
    It->Label = std::string(It->Key) + " (override)";
  }
  if (!Train)
    Terms.resize(1); // serving keeps the weights only

  // Parameters: every parameter storage of the main graph once.
  uint64_t TrainableWeightBytes = 0, FrozenWeightBytes = 0;
  double WeightTerm = Terms[0].Bytes;
  for (const auto &V : Ctx.M.Main->Values) {
    if (V->Kind != ValueKind::Parameter)
      continue;
    Optional<uint64_t> N = V->Sh.numElements();
    if (!N)
      continue;
    C.ParamCount += *N;
    C.ParamBytesInGraph += V->bytes().getValueOr(0);
    // A graph narrower than the recipe is priced as it is.
    double W = std::min(WeightTerm, dtypeBits(V->Ty) / 8.0);
    bool Trainable = Train && Ctx.RequiresGrad.count(V.get());
    if (Trainable) {
      C.TrainableCount += *N;
      TrainableWeightBytes += roundBytes(W * *N);
    } else {
      FrozenWeightBytes += roundBytes(W * *N);
    }
  }
  for (const Term &T : Terms) {
    C.Terms.push_back({T.Key, T.Label, T.Category, T.Bytes});
    if (StringRef(T.Key) == "weights")
      continue;
    uint64_t B = roundBytes(T.Bytes * C.TrainableCount);
    if (StringRef(T.Category) == "parameters")
      C.Parameters += B;
    else if (StringRef(T.Category) == "gradients")
      C.Gradients += B;
    else
      C.OptimizerState += B;
  }
  C.Parameters += TrainableWeightBytes + FrozenWeightBytes;
  // Buffers (float initializers that are not trainable: masks, rotary
  // caches) are stored with the model, in their own dtype.
  for (const auto &V : Ctx.M.Main->Values)
    if (V->Kind == ValueKind::Constant && !V->Producer &&
        isFloatingPoint(V->Ty) && V->Sh.rank() > 0)
      C.BufferBytes += V->bytes().getValueOr(0);
  C.Parameters += C.BufferBytes;

  Graph &G = *Ctx.M.Main;
  C.NodeBytes.assign(G.Nodes.size(), 0);
  if (Train) {
    size_t NumSaved = Ctx.Saved.Tensors.size();
    C.SavedBytes.assign(NumSaved, 0);
    C.SavedPricedTy.assign(NumSaved, DType::Undefined);
    for (size_t I = 0; I < NumSaved; ++I) {
      const SavedTensor &T = Ctx.Saved.Tensors[I];
      Optional<uint64_t> B = pricedBytes(T.Ty, T.Sh, T.KeepsDType, ActTy);
      if (!B) {
        ++C.UnpricedTensors;
        continue;
      }
      C.SavedBytes[I] = *B;
      C.SavedPricedTy[I] = pricedType(T.Ty, T.KeepsDType, ActTy);
      C.Activations += *B;
      C.ActivationsByDType[dtypeName(C.SavedPricedTy[I]).str()] += *B;
      if (T.Owner && T.Owner->Parent == &G)
        C.NodeBytes[T.Owner->Id] += *B;
      else
        C.InputBytes += *B;
    }
    if (C.UnpricedTensors)
      if (Error E = Ctx.Diags.warn(
              Twine(C.UnpricedTensors) +
              " saved tensor(s) without a concrete shape are not priced"))
        return E;
  } else {
    // Forward working set: each storage lives from its producer (or the
    // start, for graph inputs) to its last use; graph outputs to the end.
    DenseMap<const Value *, size_t> LastUse;
    size_t End = G.Nodes.size();
    auto Use = [&](const Value *V, size_t I) {
      const Value *S = Ctx.storage(V);
      size_t &L = LastUse[S];
      L = std::max(L, I);
    };
    for (size_t I = 0; I < G.Nodes.size(); ++I) {
      for (const Value *V : G.Nodes[I]->Inputs)
        if (V)
          Use(V, I);
      for (const Value *V : G.Nodes[I]->ImplicitInputs)
        Use(V, I);
    }
    for (const Value *V : G.Outputs)
      Use(V, End);
    DenseMap<const Value *, uint64_t> SizeOf;
    auto Bytes = [&](const Value *S) -> uint64_t {
      auto Ins = SizeOf.try_emplace(S, 0);
      if (Ins.second) {
        Optional<uint64_t> B = pricedBytes(S->Ty, S->Sh, false, ActTy);
        if (!B)
          ++C.UnpricedTensors;
        Ins.first->second = B.getValueOr(0);
      }
      return Ins.first->second;
    };
    auto Counted = [](const Value *S) {
      return S->Kind == ValueKind::Input || S->Kind == ValueKind::Activation;
    };
    std::vector<std::vector<const Value *>> FreeAt(End + 1);
    uint64_t Live = 0;
    for (const Value *V : G.Inputs)
      if (Counted(V)) {
        Live += Bytes(V);
        FreeAt[LastUse.lookup(V)].push_back(V);
      }
    C.WorkingSetPeak = Live;
    for (size_t I = 0; I < G.Nodes.size(); ++I) {
      const Node &N = *G.Nodes[I];
      uint64_t Allocated = 0;
      for (const Value *V : N.Outputs) {
        if (!V || Ctx.storage(V) != V || !Counted(V))
          continue;
        uint64_t B = Bytes(V);
        Allocated += B;
        Live += B;
        auto It = LastUse.find(V);
        FreeAt[It == LastUse.end() ? I : It->second].push_back(V);
      }
      C.NodeBytes[I] = Allocated;
      if (Live > C.WorkingSetPeak) {
        C.WorkingSetPeak = Live;
        C.WorkingSetPeakNode = &N;
      }
      for (const Value *V : FreeAt[I])
        Live -= Bytes(V);
    }
    C.Activations = C.WorkingSetPeak;
    C.ActivationsByDType[dtypeName(ActTy).str()] = C.WorkingSetPeak;
  }
  computeLayers(Ctx);
  C.Overhead = O.OverheadBytes;
  C.Total = C.Parameters + C.Gradients + C.OptimizerState + C.Activations +
            C.Overhead;
  return Error::success();
}

void printCost(CostContext &Ctx, raw_ostream &OS) {
  const CostResult &C = Ctx.Cost;
  OS << "mode " << C.Mode << " recipe " << C.Recipe << " optimizer "
     << C.Optimizer << '\n'
     << "parameters.count " << C.ParamCount << '\n'
     << "totals.parameters " << C.Parameters << '\n'
     << "totals.gradients " << C.Gradients << '\n'
     << "totals.optimizer_state " << C.OptimizerState << '\n'
     << "totals.activations " << C.Activations << '\n';
  for (const auto &KV : C.ActivationsByDType)
    OS << "activations." << KV.first << ' ' << KV.second << '\n';
}

} // namespace vram

//===- GraphBuilder.cpp - Adding nodes to the main graph ------------------===//

#include "vram/Analysis/GraphBuilder.h"
#include "vram/Analysis/OpRegistry.h"

#include <algorithm>

using namespace llvm;

namespace vram {

GraphBuilder::GraphBuilder(AnalysisContext &Ctx, StringRef Prefix,
                           int64_t MinOpset)
    : Ctx(Ctx), G(*Ctx.M.Main), Prefix(Prefix.str()) {
  auto It = Ctx.M.OpsetImports.find("");
  Opset = std::max<int64_t>(It == Ctx.M.OpsetImports.end() ? 17 : It->second,
                            MinOpset);
}

Value *GraphBuilder::value(StringRef Base, ValueKind K, bool Fixed) {
  Value *V = G.createValue(Base);
  for (unsigned I = 1; !V; ++I)
    V = G.createValue((Base + "." + Twine(I)).str());
  V->Kind = K;
  V->FixedDType = Fixed;
  return V;
}

Expected<Node *>
GraphBuilder::node(StringRef OpType, StringRef Name, ArrayRef<Value *> Ins,
                   ArrayRef<Value *> Outs,
                   ArrayRef<std::pair<StringRef, Attribute>> Attrs) {
  Node *N = G.createNode();
  N->Name = Prefix.empty() ? Name.str() : (Prefix + "/" + Name).str();
  N->OpType = OpType.str();
  N->OpsetVersion = Opset;
  N->Parent = &G;
  for (const auto &A : Attrs)
    N->Attrs[A.first.str()] = A.second;
  for (Value *V : Ins) {
    N->Inputs.push_back(V);
    if (V)
      V->Users.push_back(N);
  }
  for (unsigned I = 0; I < Outs.size(); ++I) {
    N->Outputs.push_back(Outs[I]);
    Outs[I]->Producer = N;
    Outs[I]->ProducerOutput = I;
  }
  const OpInfo *Op = findOp("", OpType, N->OpsetVersion);
  assert(Op && Op->Shape && "the builders' ops have shape functions");
  ShapeContext C(*N, nullptr, &Ctx.Diags);
  if (Error E = Op->Shape(C))
    return std::move(E);
  return N;
}

Attribute GraphBuilder::intAttr(int64_t V) {
  Attribute A;
  A.K = Attribute::Int;
  A.I = V;
  return A;
}

} // namespace vram

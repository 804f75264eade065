//===- Graph.cpp - The project's graph IR ---------------------------------===//

#include "vram/IR/Graph.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

StringRef valueKindName(ValueKind K) {
  switch (K) {
  case ValueKind::Input:
    return "input";
  case ValueKind::Parameter:
    return "parameter";
  case ValueKind::Constant:
    return "constant";
  case ValueKind::Activation:
    return "activation";
  }
  return "activation";
}

Shape SequenceType::storage() const {
  if (!Elements)
    return Shape();
  if (Elements->empty())
    return Shape(ArrayRef<int64_t>{0});
  const Shape &First = Elements->front();
  bool Same = all_of(*Elements, [&](const Shape &S) { return S == First; });
  if (Same && First.hasRank()) {
    SmallVector<int64_t, 6> Dims{static_cast<int64_t>(Elements->size())};
    Dims.append(First.dims().begin(), First.dims().end());
    return Shape(Dims);
  }
  uint64_t Total = 0;
  for (const Shape &S : *Elements) {
    Optional<uint64_t> N = S.numElements();
    if (!N || __builtin_add_overflow(Total, *N, &Total) ||
        Total > static_cast<uint64_t>(INT64_MAX))
      return Shape::unknownDims(1);
  }
  return Shape(ArrayRef<int64_t>{static_cast<int64_t>(Total)});
}

Shape SequenceType::common() const {
  if (!Elements)
    return Element;
  if (Elements->empty())
    return Element;
  Shape R = Elements->front();
  for (const Shape &S : *Elements) {
    if (!S.hasRank() || !R.hasRank() || S.rank() != R.rank())
      return Shape();
    for (size_t I = 0; I < R.rank(); ++I)
      if (R[I] != S[I])
        R[I] = Shape::Unknown;
  }
  return R;
}

std::string SequenceType::str() const {
  if (!Elements)
    return "seq(?)";
  return "seq(" + std::to_string(Elements->size()) + ")";
}

Optional<uint64_t> Value::bytes() const {
  Optional<uint64_t> N = Sh.numElements();
  if (!N)
    return None;
  return bytesFor(Ty, *N);
}

std::string Node::qualifiedOp() const {
  if (Domain.empty())
    return OpType;
  return Domain + "::" + OpType;
}

std::string Node::displayName() const {
  if (!Name.empty())
    return Name;
  for (const Value *V : Outputs)
    if (V)
      return V->Name;
  return "#" + std::to_string(Id);
}

const Attribute *Node::attr(StringRef AttrName) const {
  auto It = Attrs.find(AttrName.str());
  return It == Attrs.end() ? nullptr : &It->second;
}

int64_t Node::attrInt(StringRef AttrName, int64_t Default) const {
  const Attribute *A = attr(AttrName);
  return A && A->K == Attribute::Int ? A->I : Default;
}

double Node::attrFloat(StringRef AttrName, double Default) const {
  const Attribute *A = attr(AttrName);
  return A && A->K == Attribute::Float ? A->F : Default;
}

StringRef Node::attrString(StringRef AttrName, StringRef Default) const {
  const Attribute *A = attr(AttrName);
  return A && A->K == Attribute::String ? StringRef(A->S) : Default;
}

Optional<ArrayRef<int64_t>> Node::attrInts(StringRef AttrName) const {
  const Attribute *A = attr(AttrName);
  if (!A || A->K != Attribute::Ints)
    return None;
  return makeArrayRef(A->IntList);
}

Value *Graph::createValue(StringRef ValueName) {
  auto Ins = ByName.try_emplace(ValueName, nullptr);
  if (!Ins.second)
    return nullptr;
  Values.push_back(std::make_unique<Value>());
  Value *V = Values.back().get();
  V->Name = ValueName.str();
  V->Id = Values.size() - 1;
  V->Parent = this;
  Ins.first->second = V;
  return V;
}

Value *Graph::findLocal(StringRef ValueName) const {
  return ByName.lookup(ValueName);
}

Value *Graph::lookup(StringRef ValueName) const {
  for (const Graph *G = this; G; G = G->Parent)
    if (Value *V = G->findLocal(ValueName))
      return V;
  return nullptr;
}

Node *Graph::createNode() {
  Nodes.push_back(std::make_unique<Node>());
  Node *N = Nodes.back().get();
  N->Id = Nodes.size() - 1;
  N->Parent = this;
  return N;
}

void Graph::renumber() {
  for (size_t I = 0; I < Nodes.size(); ++I)
    Nodes[I]->Id = I;
  for (size_t I = 0; I < Values.size(); ++I)
    Values[I]->Id = I;
}

void Graph::walk(const std::function<void(Node &)> &Fn) {
  for (auto &N : Nodes) {
    Fn(*N);
    for (auto &Sub : N->Subgraphs)
      Sub->walk(Fn);
  }
}

static void printValue(const Value &V, raw_ostream &OS, unsigned Indent) {
  OS.indent(Indent);
  OS << left_justify(valueKindName(V.Kind), 10) << ' '
     << left_justify(dtypeName(V.Ty), 5) << ' ' << left_justify(V.Sh.str(), 20)
     << ' ' << V.Name;
  if (V.Producer) {
    OS << " = " << V.Producer->qualifiedOp();
    if (!V.Producer->Name.empty())
      OS << " '" << V.Producer->Name << "'";
  }
  if (V.IsGraphOutput)
    OS << " (output)";
  if (V.Seq) {
    // A sequence: its length and each element's shape (or the shape every
    // element has); Sh above is the storage it is priced as.
    OS << " " << V.Seq->str() << " of ";
    if (!V.Seq->Elements) {
      OS << V.Seq->Element.str();
    } else {
      OS << '{';
      ListSeparator LS;
      const std::vector<Shape> &Els = *V.Seq->Elements;
      for (size_t I = 0; I < Els.size() && I < 8; ++I)
        OS << LS << Els[I].str();
      if (Els.size() > 8)
        OS << LS << "...";
      OS << '}';
    }
  }
  OS << '\n';
}

static void printGraph(const Graph &G, raw_ostream &OS, unsigned Indent) {
  for (const Value *V : G.Inputs)
    printValue(*V, OS, Indent);
  for (const auto &V : G.Values)
    if (!V->Producer && V->isInitializerLike() &&
        std::find(G.Inputs.begin(), G.Inputs.end(), V.get()) == G.Inputs.end())
      printValue(*V, OS, Indent);
  for (const auto &N : G.Nodes) {
    for (const Value *Out : N->Outputs)
      if (Out)
        printValue(*Out, OS, Indent);
    for (size_t I = 0; I < N->Subgraphs.size(); ++I) {
      OS.indent(Indent + 2) << "subgraph " << I << " of '" << N->Name << "' ("
                            << N->qualifiedOp() << ")\n";
      printGraph(*N->Subgraphs[I], OS, Indent + 4);
    }
  }
}

void printIR(const Graph &G, raw_ostream &OS) { printGraph(G, OS, 0); }

} // namespace vram

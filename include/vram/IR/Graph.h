//===- Graph.h - The project's graph IR -------------------------*- C++ -*-===//
//
// Graph owns Values and Nodes. A Value is a tensor: name, element type,
// shape, kind and, when small and known, its contents (shape tensors,
// scalars). A Node is one operator application. Subgraphs (If/Loop/Scan
// bodies, graph attributes) are child Graphs owned by their Node; a subgraph
// sees the values of enclosing graphs by name. Model-local functions are
// inlined by the frontend.
//
// No weight payload is ever held: only element types and shapes, plus the
// contents of small integer and scalar tensors, which shape propagation needs.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_IR_GRAPH_H
#define VRAM_IR_GRAPH_H

#include "vram/IR/DType.h"
#include "vram/IR/Shape.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/Optional.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class raw_ostream;
}

namespace vram {

class Graph;
class Node;

/// Known contents of a small tensor, in row-major order. Integer and bool
/// tensors keep exact int64 values; floating-point tensors keep doubles.
struct TensorData {
  bool IsFloat = false;
  llvm::SmallVector<int64_t, 8> Ints;
  llvm::SmallVector<double, 4> Floats;

  size_t size() const { return IsFloat ? Floats.size() : Ints.size(); }
  double asDouble(size_t I) const {
    return IsFloat ? Floats[I] : static_cast<double>(Ints[I]);
  }
  int64_t asInt(size_t I) const {
    return IsFloat ? static_cast<int64_t>(Floats[I]) : Ints[I];
  }
  static TensorData ints(llvm::ArrayRef<int64_t> V) {
    TensorData D;
    D.Ints.assign(V.begin(), V.end());
    return D;
  }
  static TensorData floats(llvm::ArrayRef<double> V) {
    TensorData D;
    D.IsFloat = true;
    D.Floats.assign(V.begin(), V.end());
    return D;
  }
};

/// Tensors with at most this many elements have their contents kept.
constexpr uint64_t MaxKnownElements = 1024;

/// A tensor-valued attribute (Constant's value, ConstantOfShape's value).
struct TensorAttr {
  DType Ty = DType::Undefined;
  Shape Sh;
  llvm::Optional<TensorData> Data;
};

struct Attribute {
  enum Kind {
    Int,
    Float,
    String,
    Ints,
    Floats,
    Strings,
    Tensor,
    Graphs,
    Other
  };
  Kind K = Other;
  int64_t I = 0;
  double F = 0;
  std::string S;
  std::vector<int64_t> IntList;
  std::vector<double> FloatList;
  std::vector<std::string> StringList;
  TensorAttr T;
  /// Indices into the owning Node's subgraphs (one for GRAPH, several for
  /// GRAPHS).
  std::vector<unsigned> GraphIndices;
};

/// The type of a sequence value (ONNX seq(tensor)): the shapes of its
/// elements, one per position when the length is known, else the shape every
/// element has (unknown rank when nothing is known). A sequence Value's Ty is
/// its element dtype and its Sh the storage it is priced as, storage(): the
/// sum of its elements.
struct SequenceType {
  /// Per-position element shapes, when the length is known.
  llvm::Optional<std::vector<Shape>> Elements;
  /// The shape of every element when the length is unknown.
  Shape Element;

  /// [n, d...] when the length is known and every element has the shape
  /// [d...]; [total elements] when the positions differ but are concrete;
  /// [0] for an empty sequence; unknown otherwise.
  Shape storage() const;
  /// The shape every element shares (dims that differ unknown; unknown rank
  /// when ranks differ or nothing is known).
  Shape common() const;
  /// "seq(3)", "seq(?)".
  std::string str() const;
};

enum class ValueKind {
  Input,     ///< graph input fed with data at run time
  Parameter, ///< trainable weight (initializer or parameter input)
  Constant,  ///< Constant node output or non-float initializer
  Activation ///< computed by a node
};

llvm::StringRef valueKindName(ValueKind K);

class Value {
public:
  std::string Name;
  DType Ty = DType::Undefined;
  Shape Sh;
  ValueKind Kind = ValueKind::Activation;
  Node *Producer = nullptr;
  unsigned ProducerOutput = 0;
  /// Nodes reading this value, in graph order, one entry per use.
  llvm::SmallVector<Node *, 2> Users;
  /// Contents when small and known (constants, shape arithmetic results).
  llvm::Optional<TensorData> Data;
  /// The least and greatest element of an integer tensor made by Range,
  /// known even when its contents are too large to keep (positions of a
  /// long sequence).
  llvm::Optional<std::pair<int64_t, int64_t>> Bounds;
  /// Set for a sequence value: its elements (Sh is then their storage).
  llvm::Optional<SequenceType> Seq;
  /// Shape declared in the model (graph input/output, value_info), kept to
  /// report stale declarations; the computed shape wins.
  llvm::Optional<Shape> DeclaredShape;
  bool IsGraphOutput = false;
  /// A graph input that the automatic rule (not --param-inputs) made a
  /// parameter; the graph-kind pass may make it data again.
  bool ParamByRule = false;
  /// Stored in its own dtype under every precision recipe: an upcast the
  /// training step makes on purpose (the f32 logits of a loss).
  bool FixedDType = false;
  /// Initializer whose bytes live in an external file (never opened).
  bool HasExternalData = false;
  /// Dense id within the owning graph.
  unsigned Id = 0;
  Graph *Parent = nullptr;

  /// Bytes of the tensor in its own dtype; None when the shape is not
  /// concrete or the size overflows.
  llvm::Optional<uint64_t> bytes() const;
  bool isInitializerLike() const {
    return Kind == ValueKind::Parameter || Kind == ValueKind::Constant;
  }
};

class Node {
public:
  std::string Name;
  /// Canonical domain: "" for ai.onnx.
  std::string Domain;
  std::string OpType;
  /// Opset version imported by the model for Domain.
  int64_t OpsetVersion = 0;
  /// Inputs in order; nullptr for an omitted optional input.
  llvm::SmallVector<Value *, 4> Inputs;
  /// Outputs in order; nullptr for an omitted optional output.
  llvm::SmallVector<Value *, 2> Outputs;
  /// Values of enclosing graphs read inside this node's subgraphs.
  llvm::SmallVector<Value *, 2> ImplicitInputs;
  std::map<std::string, Attribute> Attrs;
  std::vector<std::unique_ptr<Graph>> Subgraphs;
  unsigned Id = 0;
  Graph *Parent = nullptr;

  /// "com.microsoft::Attention" or "MatMul".
  std::string qualifiedOp() const;
  /// The node's name, else its first output's name, else "#<id>".
  std::string displayName() const;

  unsigned numInputs() const { return Inputs.size(); }
  Value *input(unsigned I) const {
    return I < Inputs.size() ? Inputs[I] : nullptr;
  }
  Value *output(unsigned I) const {
    return I < Outputs.size() ? Outputs[I] : nullptr;
  }
  const Attribute *attr(llvm::StringRef Name) const;
  int64_t attrInt(llvm::StringRef Name, int64_t Default) const;
  double attrFloat(llvm::StringRef Name, double Default) const;
  llvm::StringRef attrString(llvm::StringRef Name,
                             llvm::StringRef Default) const;
  llvm::Optional<llvm::ArrayRef<int64_t>> attrInts(llvm::StringRef Name) const;
};

class Graph {
public:
  explicit Graph(Graph *Parent = nullptr, Node *OwnerNode = nullptr)
      : Parent(Parent), OwnerNode(OwnerNode) {}
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  std::string Name;
  Graph *Parent;
  Node *OwnerNode;
  /// A branch that does not run with the current bindings (an If whose
  /// condition is known, or a branch whose shapes cannot work): not priced.
  bool NotTaken = false;

  /// Values in creation order. Names are unique within a graph.
  std::vector<std::unique_ptr<Value>> Values;
  /// Nodes; in topological order once the frontend has sorted them.
  std::vector<std::unique_ptr<Node>> Nodes;
  std::vector<Value *> Inputs;
  std::vector<Value *> Outputs;

  /// Creates a value; returns nullptr when the name is already taken here.
  Value *createValue(llvm::StringRef Name);
  /// Looks a name up in this graph only.
  Value *findLocal(llvm::StringRef Name) const;
  /// Looks a name up here, then in enclosing graphs.
  Value *lookup(llvm::StringRef Name) const;
  Node *createNode();

  /// Re-numbers node and value ids densely in current order.
  void renumber();

  /// Every node of this graph and its subgraphs, depth first, in order.
  void walk(const std::function<void(Node &)> &Fn);

private:
  llvm::StringMap<Value *> ByName;
};

/// The model as loaded: the main graph and what describes it.
struct Model {
  std::string Path;
  std::string ProducerName;
  std::string ProducerVersion;
  int64_t IrVersion = 0;
  /// Domain ("" for ai.onnx) -> imported opset version.
  std::map<std::string, int64_t> OpsetImports;
  /// Symbolic dim name -> bound value, for every name seen on an input.
  std::map<std::string, int64_t> DimBindings;
  std::unique_ptr<Graph> Main;
  /// Number of model-local functions inlined.
  unsigned InlinedFunctionCalls = 0;
};

/// Prints every value of the graph (and subgraphs) with dtype, shape and
/// kind, in a stable order: inputs, initializers, then node outputs in
/// topological order.
void printIR(const Graph &G, llvm::raw_ostream &OS);

} // namespace vram

#endif // VRAM_IR_GRAPH_H

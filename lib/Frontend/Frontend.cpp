//===- Frontend.cpp - Reading ONNX models into the IR ---------------------===//
//
// Parsing (binary, textual syntax, protobuf text), function inlining,
// graph construction, topological sorting and dim binding. ONNX's own
// schemas are consulted for input/output arity where the installed library
// knows the op; nothing here lets an ONNX exception escape.
//
//===----------------------------------------------------------------------===//

#include "vram/Frontend/Frontend.h"

#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"
#include "onnx/onnx_pb.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/unknown_field_set.h>

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Regex.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <set>

using namespace llvm;

namespace vram {

namespace {

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

class TextProtoErrors : public google::protobuf::io::ErrorCollector {
public:
  std::string First;
  void AddError(int Line, int Column, const std::string &Message) override {
    if (First.empty())
      First = "line " + std::to_string(Line + 1) + ", column " +
              std::to_string(Column + 1) + ": " + Message;
  }
};

/// Brace nesting read from textual syntax (subgraphs, function bodies).
constexpr unsigned MaxTextNesting = 256;

InputFormat sniffFormat(StringRef Name, StringRef Buf) {
  if (Name.endswith(".onnxtxt"))
    return InputFormat::Text;
  if (Name.endswith(".textproto") || Name.endswith(".pbtxt") ||
      Name.endswith(".prototxt"))
    return InputFormat::TextProto;
  if (Name.endswith(".onnx"))
    return InputFormat::Binary;
  // stdin or another extension: textual syntax starts (after comments) with
  // '<'; protobuf text format with a field name; anything else is binary.
  StringRef S = Buf;
  while (true) {
    S = S.ltrim();
    if (S.startswith("#")) {
      S = S.drop_until([](char C) { return C == '\n'; });
      continue;
    }
    break;
  }
  if (S.startswith("<"))
    return InputFormat::Text;
  if (!S.empty() && (isAlpha(S.front()) || S.front() == '_') &&
      all_of(S.take_front(256),
             [](char C) { return isPrint(C) || isSpace(C); }))
    return InputFormat::TextProto;
  return InputFormat::Binary;
}

/// What a buffer that is not a binary ONNX model looks like, by its magic
/// number ("a PNG image"), or null.
const char *guessBinaryContent(StringRef Buf) {
  if (Buf.startswith("\x89PNG\r\n\x1a\n"))
    return "a PNG image";
  if (Buf.startswith("PK\x03\x04"))
    return "a zip archive (a PyTorch checkpoint?)";
  if (Buf.startswith("\x1f\x8b"))
    return "gzip-compressed data";
  if (Buf.startswith("\x93NUMPY"))
    return "a NumPy array";
  if (Buf.startswith("\x80\x02") || Buf.startswith("\x80\x04"))
    return "a Python pickle";
  return nullptr;
}

/// "not a valid ONNX model: PROBLEM", with a guess at what Buf is instead;
/// text gets a LooksLikeTextError (another InputFormat may read it).
Error notAModel(StringRef Problem, StringRef Buf) {
  if (const char *What = guessBinaryContent(Buf))
    return makeError("not a valid ONNX model: " + Problem +
                     " (the file looks like " + What + ")");
  if (all_of(Buf.take_front(512),
             [](char C) { return isPrint(C) || isSpace(C); }))
    return make_error<LooksLikeTextError>(Problem.str());
  return makeError("not a valid ONNX model: " + Problem);
}

//===----------------------------------------------------------------------===//
// Skipping weight payloads in the binary wire format
//===----------------------------------------------------------------------===//

/// Payloads at least this large are dropped: larger than any tensor whose
/// contents the IR keeps (MaxKnownElements x 8 bytes).
constexpr uint64_t MinSkippedPayload = MaxKnownElements * 8 + 1;

bool readVarint(const char *&P, const char *End, uint64_t &V) {
  V = 0;
  for (unsigned Shift = 0; Shift < 64; Shift += 7) {
    if (P == End)
      return false;
    uint8_t B = static_cast<uint8_t>(*P++);
    V |= static_cast<uint64_t>(B & 0x7f) << Shift;
    if (!(B & 0x80))
      return true;
  }
  return false;
}

void writeVarint(std::string &Out, uint64_t V) {
  while (V >= 0x80) {
    Out.push_back(static_cast<char>((V & 0x7f) | 0x80));
    V >>= 7;
  }
  Out.push_back(static_cast<char>(V));
}

/// Which message a byte range holds, as far as the stripper cares.
enum class WireMsg { Model, Graph, Node, Attribute, Tensor };

/// The message type of a length-delimited field, or None to copy it as is.
/// (Field numbers from onnx.proto.)
Optional<WireMsg> nestedMessage(WireMsg In, uint64_t Field) {
  switch (In) {
  case WireMsg::Model:
    return Field == 7 ? Optional<WireMsg>(WireMsg::Graph) : None; // graph
  case WireMsg::Graph:
    if (Field == 5) // initializer
      return WireMsg::Tensor;
    if (Field == 1) // node
      return WireMsg::Node;
    return None;
  case WireMsg::Node:
    return Field == 5 ? Optional<WireMsg>(WireMsg::Attribute) : None;
  case WireMsg::Attribute:
    if (Field == 6 || Field == 11) // g, graphs
      return WireMsg::Graph;
    if (Field == 5 || Field == 12) // t, tensors
      return WireMsg::Tensor;
    return None;
  case WireMsg::Tensor:
    return None;
  }
  return None;
}

/// Tensor payload fields: float_data 4, int32_data 5, int64_data 7,
/// raw_data 9, double_data 10, uint64_data 11 (packed when repeated).
bool isPayloadField(uint64_t Field) {
  return Field == 4 || Field == 5 || Field == 7 || Field == 9 || Field == 10 ||
         Field == 11;
}

bool stripMessage(StringRef In, WireMsg Kind, std::string &Out,
                  unsigned Depth) {
  if (Depth > 100)
    return false;
  const char *P = In.begin(), *End = In.end();
  while (P != End) {
    const char *FieldStart = P;
    uint64_t Tag;
    if (!readVarint(P, End, Tag))
      return false;
    uint64_t Field = Tag >> 3;
    switch (Tag & 7) {
    case 0: { // varint
      uint64_t V;
      if (!readVarint(P, End, V))
        return false;
      break;
    }
    case 1: // fixed64
      if (End - P < 8)
        return false;
      P += 8;
      break;
    case 5: // fixed32
      if (End - P < 4)
        return false;
      P += 4;
      break;
    case 2: { // length-delimited
      uint64_t Len;
      if (!readVarint(P, End, Len) || Len > static_cast<uint64_t>(End - P))
        return false;
      StringRef Body(P, Len);
      P += Len;
      if (Kind == WireMsg::Tensor && isPayloadField(Field) &&
          Len >= MinSkippedPayload)
        continue; // dropped: its bytes are never read
      if (Optional<WireMsg> Sub = nestedMessage(Kind, Field)) {
        std::string Nested;
        if (!stripMessage(Body, *Sub, Nested, Depth + 1))
          return false;
        writeVarint(Out, Tag);
        writeVarint(Out, Nested.size());
        Out += Nested;
        continue;
      }
      break;
    }
    default: // groups are not used by onnx.proto
      return false;
    }
    Out.append(FieldStart, P);
  }
  return true;
}

/// Writes Buf without large tensor payloads into Out; false when Buf is not
/// walkable protobuf (the caller then parses Buf itself).
bool stripWeightPayloads(StringRef Buf, std::string &Out) {
  Out.clear();
  return stripMessage(Buf, WireMsg::Model, Out, 0);
}

Error parseModelProto(StringRef Buf, InputFormat Fmt, onnx::ModelProto &MP) {
  if (Buf.empty())
    return makeError("file is empty");
  switch (Fmt) {
  case InputFormat::Text: {
    // ONNX's textual parser recurses once per nested graph with no limit; a
    // deeply nested input would overflow the stack. Brace depth bounds it.
    unsigned Depth = 0, MaxDepth = 0;
    bool InString = false, InComment = false;
    for (char Ch : Buf) {
      if (InComment) {
        InComment = Ch != '\n';
        continue;
      }
      if (InString) {
        InString = Ch != '"';
        continue;
      }
      if (Ch == '#')
        InComment = true;
      else if (Ch == '"')
        InString = true;
      else if (Ch == '{')
        MaxDepth = std::max(MaxDepth, ++Depth);
      else if (Ch == '}' && Depth)
        --Depth;
    }
    if (MaxDepth > MaxTextNesting)
      return makeError("graphs nested " + Twine(MaxDepth) +
                       " deep in the textual syntax; at most " +
                       Twine(MaxTextNesting) + " are read");
    std::string Copy = Buf.str(); // the parser needs a NUL terminator
    try {
      onnx::OnnxParser Parser(Copy.c_str());
      auto Status = Parser.Parse(MP);
      if (!Status.IsOK())
        return makeError("cannot parse ONNX textual syntax: " +
                         Status.ErrorMessage());
    } catch (const std::exception &E) {
      return makeError(Twine("cannot parse ONNX textual syntax: ") + E.what());
    }
    return Error::success();
  }
  case InputFormat::TextProto: {
    google::protobuf::TextFormat::Parser P;
    TextProtoErrors Errs;
    P.RecordErrorsTo(&Errs);
    if (!P.ParseFromString(Buf.str(), &MP))
      return makeError("cannot parse protobuf text format: " + Errs.First);
    return Error::success();
  }
  case InputFormat::Auto:
  case InputFormat::Binary:
    break;
  }
  if (Buf.size() > static_cast<size_t>(INT_MAX))
    return makeError("file is larger than protobuf's 2 GiB limit");
  // Parse a copy without the weight payloads when the wire format allows
  // it; the payload pages of a mapped file are then never touched. A file
  // the stripper cannot walk is parsed as it is, for protobuf's verdict.
  std::string Stripped;
  StringRef ToParse = Buf;
  if (stripWeightPayloads(Buf, Stripped))
    ToParse = Stripped;
  google::protobuf::io::CodedInputStream In(
      reinterpret_cast<const uint8_t *>(ToParse.data()),
      static_cast<int>(ToParse.size()));
  In.SetRecursionLimit(200);
  if (!MP.ParseFromCodedStream(&In) || !In.ConsumedEntireMessage())
    return notAModel("the protobuf is malformed or truncated", Buf);
  // A few bytes of anything can parse as a protobuf with unknown fields; a
  // binary model without a graph is far more likely truncated or not ONNX.
  if (!MP.has_graph())
    return notAModel(
        "no graph found (the file is truncated or not an ONNX model)", Buf);
  return Error::success();
}

//===----------------------------------------------------------------------===//
// Tensor contents
//===----------------------------------------------------------------------===//

double halfToDouble(uint16_t H) {
  int Sign = (H >> 15) & 1, Exp = (H >> 10) & 0x1f, Mant = H & 0x3ff;
  double V;
  if (Exp == 0)
    V = std::ldexp(Mant, -24);
  else if (Exp == 31)
    V = Mant ? NAN : INFINITY;
  else
    V = std::ldexp(Mant + 1024, Exp - 25);
  return Sign ? -V : V;
}

double bf16ToDouble(uint16_t H) {
  uint32_t Bits = static_cast<uint32_t>(H) << 16;
  float F;
  std::memcpy(&F, &Bits, 4);
  return F;
}

template <typename T> T readLE(const char *P) {
  T V;
  std::memcpy(&V, P, sizeof(T)); // little-endian hosts only (x86-64, arm64)
  return V;
}

/// Decodes the contents of a small embedded tensor; None when not decodable
/// (external, too large, inconsistent sizes, unsupported dtype).
Optional<TensorData> decodeTensor(const onnx::TensorProto &T, DType Ty,
                                  uint64_t N) {
  if (N > MaxKnownElements || T.data_location() == onnx::TensorProto::EXTERNAL)
    return None;
  TensorData D;
  D.IsFloat = isFloatingPoint(Ty);
  auto Push = [&](double F, int64_t I) {
    if (D.IsFloat)
      D.Floats.push_back(F);
    else
      D.Ints.push_back(I);
  };
  if (T.has_raw_data()) {
    const std::string &R = T.raw_data();
    unsigned Bits = dtypeBits(Ty);
    if (Bits < 8 || Bits > 64 || R.size() != N * (Bits / 8))
      return None;
    for (uint64_t I = 0; I < N; ++I) {
      const char *P = R.data() + I * (Bits / 8);
      switch (Ty) {
      case DType::Float:
        Push(readLE<float>(P), 0);
        break;
      case DType::Double:
        Push(readLE<double>(P), 0);
        break;
      case DType::Float16:
        Push(halfToDouble(readLE<uint16_t>(P)), 0);
        break;
      case DType::BFloat16:
        Push(bf16ToDouble(readLE<uint16_t>(P)), 0);
        break;
      case DType::Int8:
        Push(0, readLE<int8_t>(P));
        break;
      case DType::UInt8:
      case DType::Bool:
        Push(0, readLE<uint8_t>(P));
        break;
      case DType::Int16:
        Push(0, readLE<int16_t>(P));
        break;
      case DType::UInt16:
        Push(0, readLE<uint16_t>(P));
        break;
      case DType::Int32:
        Push(0, readLE<int32_t>(P));
        break;
      case DType::UInt32:
        Push(0, readLE<uint32_t>(P));
        break;
      case DType::Int64:
        Push(0, readLE<int64_t>(P));
        break;
      case DType::UInt64:
        Push(0, static_cast<int64_t>(readLE<uint64_t>(P)));
        break;
      default:
        return None;
      }
    }
    return D;
  }
  switch (Ty) {
  case DType::Float:
    if (static_cast<uint64_t>(T.float_data_size()) != N)
      return None;
    for (float F : T.float_data())
      Push(F, 0);
    return D;
  case DType::Double:
    if (static_cast<uint64_t>(T.double_data_size()) != N)
      return None;
    for (double F : T.double_data())
      Push(F, 0);
    return D;
  case DType::Int64:
    if (static_cast<uint64_t>(T.int64_data_size()) != N)
      return None;
    for (int64_t I : T.int64_data())
      Push(0, I);
    return D;
  case DType::UInt32:
  case DType::UInt64:
    if (static_cast<uint64_t>(T.uint64_data_size()) != N)
      return None;
    for (uint64_t I : T.uint64_data())
      Push(0, static_cast<int64_t>(I));
    return D;
  case DType::Float16:
  case DType::BFloat16:
  case DType::Int32:
  case DType::Int16:
  case DType::Int8:
  case DType::UInt16:
  case DType::UInt8:
  case DType::Bool:
    if (static_cast<uint64_t>(T.int32_data_size()) != N)
      return None;
    for (int32_t I : T.int32_data()) {
      if (Ty == DType::Float16)
        Push(halfToDouble(static_cast<uint16_t>(I)), 0);
      else if (Ty == DType::BFloat16)
        Push(bf16ToDouble(static_cast<uint16_t>(I)), 0);
      else
        Push(0, I);
    }
    return D;
  default:
    return None;
  }
}

//===----------------------------------------------------------------------===//
// Graph construction
//===----------------------------------------------------------------------===//

/// A node to build, after function inlining: the proto, the opset version
/// its domain resolves to, and the prefix of the call that produced it.
struct FlatNode {
  onnx::NodeProto Proto;
  int64_t Version = -1; ///< -1: use the model's import for the domain
  /// The opsets of the function the node was inlined from (they apply to
  /// its subgraphs too); null outside functions.
  std::shared_ptr<const std::map<std::string, int64_t>> Opsets;
  /// The function calls the node was inlined through ("dom::F" each), so
  /// that a call in one of its subgraphs is checked for recursion too.
  std::vector<std::string> Calls;
};

/// A length-delimited or varint field that the installed ONNX classes do not
/// know (IR 9/10 additions), as protobuf keeps it.
std::vector<std::string> unknownStrings(const google::protobuf::Message &Msg,
                                        int Field) {
  std::vector<std::string> R;
  const google::protobuf::UnknownFieldSet &U =
      Msg.GetReflection()->GetUnknownFields(Msg);
  for (int I = 0; I < U.field_count(); ++I)
    if (U.field(I).number() == Field &&
        U.field(I).type() ==
            google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED)
      R.push_back(U.field(I).length_delimited());
  return R;
}

/// The overload a function defines (FunctionProto field 13) or a node calls
/// (NodeProto field 8), IR 10; empty when none.
std::string overloadOf(const google::protobuf::Message &Msg, int Field) {
  std::vector<std::string> R = unknownStrings(Msg, Field);
  return R.empty() ? std::string() : R.back();
}
constexpr int FunctionOverloadField = 13, NodeOverloadField = 8,
              FunctionAttributeProtoField = 11;

std::string canonicalDomain(const std::string &D) {
  return D == "ai.onnx" ? std::string() : D;
}

/// The schema ONNX's library has for N at N's opset, or null when the
/// library has none or the opset is newer than the library knows for the
/// domain (the op may have changed since).
const onnx::OpSchema *schemaFor(const Node &N) {
  const auto &Known =
      onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto It = Known.find(N.Domain);
  if (It == Known.end() || N.OpsetVersion > It->second.second ||
      N.OpsetVersion < 1)
    return nullptr;
  return onnx::OpSchemaRegistry::Schema(
      N.OpType, static_cast<int>(N.OpsetVersion), N.Domain);
}

/// "exactly 1", "1 to 3", "at least 2".
std::string describeArity(int Min, int Max) {
  if (Min == Max)
    return "exactly " + std::to_string(Min);
  if (Max == std::numeric_limits<int>::max())
    return "at least " + std::to_string(Min);
  return std::to_string(Min) + " to " + std::to_string(Max);
}

/// A node proto before it is built: "node 'name' (domain::Op)" or, unnamed,
/// "node (domain::Op, output 'y')".
std::string describeProto(const onnx::NodeProto &N) {
  std::string Op = N.domain().empty() || N.domain() == "ai.onnx"
                       ? N.op_type()
                       : N.domain() + "::" + N.op_type();
  if (!N.name().empty())
    return "node '" + N.name() + "' (" + Op + ")";
  for (const std::string &O : N.output())
    if (!O.empty())
      return "node (" + Op + ", output '" + O + "')";
  return "node (" + Op + ")";
}

static Optional<Regex> wholeNameRegex(const std::string &Pattern);

class Builder {
public:
  Builder(Model &M, const LoadOptions &Opts, Diagnostics &Diags,
          StringRef FileDir)
      : M(M), Opts(Opts), Diags(Diags), FileDir(FileDir),
        ParamInputsRe(wholeNameRegex(Opts.ParamInputs)),
        DataInputsRe(wholeNameRegex(Opts.DataInputs)),
        BuffersRe(wholeNameRegex(Opts.Buffers)) {}

  Error build(const onnx::ModelProto &MP);

private:
  Model &M;
  const LoadOptions &Opts;
  Diagnostics &Diags;
  std::string FileDir;
  /// (domain, name, overload) -> the function.
  std::map<std::tuple<std::string, std::string, std::string>,
           const onnx::FunctionProto *>
      Functions;
  /// The opsets that apply to the graph being built (a function's, inside
  /// an inlined function's subgraphs).
  const std::map<std::string, int64_t> *ScopeOpsets = nullptr;
  /// The function calls the graph being built is nested in.
  const std::vector<std::string> *ScopeCalls = nullptr;
  std::map<std::string, int64_t> Bindings;
  /// Main-graph inputs holding one integer (a generation op's max_length):
  /// a binding of that name gives their value.
  std::set<std::string> ValueInputs;

  Error collectFunctions(const onnx::ModelProto &MP);
  /// The model-local function N calls, or null when N is an operator: a
  /// function is called when no schema of the installed ONNX library has
  /// the op's domain and name (a model function does not shadow a standard
  /// op).
  const onnx::FunctionProto *callee(const onnx::NodeProto &N) const {
    auto It = Functions.find({canonicalDomain(N.domain()), N.op_type(),
                              overloadOf(N, NodeOverloadField)});
    if (It == Functions.end() ||
        onnx::OpSchemaRegistry::Schema(N.op_type(), 1000,
                                       canonicalDomain(N.domain())))
      return nullptr;
    return It->second;
  }
  Error bindDims(const onnx::GraphProto &GP);
  Error flatten(const google::protobuf::RepeatedPtrField<onnx::NodeProto> &In,
                const std::map<std::string, int64_t> &Opsets,
                std::vector<FlatNode> &Out, unsigned Depth,
                std::vector<std::string> &CallStack);
  Error inlineCall(const onnx::NodeProto &Call, const onnx::FunctionProto &F,
                   std::vector<FlatNode> &Out, unsigned Depth,
                   std::vector<std::string> &CallStack);
  Error buildGraph(const onnx::GraphProto &GP, Graph &G, bool IsMain,
                   unsigned Depth);
  // The steps of buildGraph.
  Error addInitializers(const onnx::GraphProto &GP, Graph &G);
  Error addGraphInputs(const onnx::GraphProto &GP, Graph &G, bool IsMain);
  /// Creates F's node and its outputs (its inputs are connected once every
  /// node of the graph exists).
  Error addNode(const FlatNode &F, Graph &G);
  Error connectInputs(Node &N, const onnx::NodeProto &NP, Graph &G);
  /// Arity and attribute kinds, against ONNX's schema for N where the
  /// installed library has one.
  Error checkAgainstSchema(const Node &N, const onnx::NodeProto &NP);
  Error addGraphOutputs(const onnx::GraphProto &GP, Graph &G);
  Error setTypeFromProto(Value &V, const onnx::TypeProto &TP, StringRef What,
                         bool Declared);
  Error addInitializer(const onnx::TensorProto &T, Graph &G);
  Expected<Attribute> convertAttribute(const onnx::AttributeProto &A, Node &N,
                                       unsigned Depth);
  Error sortNodes(Graph &G);
  bool isParamInput(const Value &V, bool HasStaticShape);
  bool isBuffer(const Value &V);
  Optional<Regex> ParamInputsRe, DataInputsRe, BuffersRe;
  Shape shapeFromProto(const onnx::TensorShapeProto &SP, StringRef InputName,
                       bool ErrorOnUnbound, std::vector<std::string> *Unbound);
  int64_t opsetFor(const std::string &Domain) const {
    auto It = M.OpsetImports.find(Domain);
    return It == M.OpsetImports.end() ? -1 : It->second;
  }
};

Error Builder::collectFunctions(const onnx::ModelProto &MP) {
  for (const onnx::FunctionProto &F : MP.functions()) {
    std::string Overload = overloadOf(F, FunctionOverloadField);
    auto Key = std::make_tuple(canonicalDomain(F.domain()), F.name(), Overload);
    if (!Functions.emplace(Key, &F).second)
      return makeError("model-local function '" + F.domain() + "::" + F.name() +
                       (Overload.empty() ? "" : "' (overload '" + Overload) +
                       "' is defined twice");
  }
  return Error::success();
}

/// Rewrites a node of an inlined function body: its inputs and outputs
/// through Map, its attribute references from CallAttrs (an unset optional
/// attribute is dropped), and the same for every node, input, output,
/// initializer and value_info of its subgraphs, at any depth: a subgraph may
/// read the function's formal inputs (mapped to the call site) and its
/// other values (prefixed like the body's own).
void renameInNode(
    onnx::NodeProto &C,
    const std::function<std::string(const std::string &)> &Map,
    const std::map<std::string, const onnx::AttributeProto *> &CallAttrs,
    const std::string &Prefix);

void renameInGraph(
    onnx::GraphProto &G,
    const std::function<std::string(const std::string &)> &Map,
    const std::map<std::string, const onnx::AttributeProto *> &CallAttrs,
    const std::string &Prefix) {
  for (onnx::ValueInfoProto &V : *G.mutable_input())
    V.set_name(Map(V.name()));
  for (onnx::ValueInfoProto &V : *G.mutable_output())
    V.set_name(Map(V.name()));
  for (onnx::ValueInfoProto &V : *G.mutable_value_info())
    V.set_name(Map(V.name()));
  for (onnx::TensorProto &T : *G.mutable_initializer())
    T.set_name(Map(T.name()));
  for (onnx::SparseTensorProto &T : *G.mutable_sparse_initializer())
    T.mutable_values()->set_name(Map(T.values().name()));
  for (onnx::NodeProto &N : *G.mutable_node()) {
    if (!N.name().empty())
      N.set_name(Prefix + N.name());
    renameInNode(N, Map, CallAttrs, Prefix);
  }
}

void renameInNode(
    onnx::NodeProto &C,
    const std::function<std::string(const std::string &)> &Map,
    const std::map<std::string, const onnx::AttributeProto *> &CallAttrs,
    const std::string &Prefix) {
  for (std::string &In : *C.mutable_input())
    In = Map(In);
  for (std::string &O : *C.mutable_output())
    O = Map(O);
  google::protobuf::RepeatedPtrField<onnx::AttributeProto> Attrs;
  for (const onnx::AttributeProto &A : C.attribute()) {
    if (A.ref_attr_name().empty()) {
      onnx::AttributeProto *NA = Attrs.Add();
      *NA = A;
      if (NA->has_g())
        renameInGraph(*NA->mutable_g(), Map, CallAttrs, Prefix);
      for (onnx::GraphProto &G : *NA->mutable_graphs())
        renameInGraph(G, Map, CallAttrs, Prefix);
      continue;
    }
    auto It = CallAttrs.find(A.ref_attr_name());
    if (It == CallAttrs.end())
      continue; // unset optional attribute
    onnx::AttributeProto *NA = Attrs.Add();
    *NA = *It->second;
    NA->set_name(A.name());
  }
  *C.mutable_attribute() = std::move(Attrs);
}

Error Builder::inlineCall(const onnx::NodeProto &Call,
                          const onnx::FunctionProto &F,
                          std::vector<FlatNode> &Out, unsigned Depth,
                          std::vector<std::string> &CallStack) {
  std::string Key = F.domain() + "::" + F.name();
  if (is_contained(CallStack, Key)) {
    std::string Chain;
    for (auto It = find(CallStack, Key); It != CallStack.end(); ++It)
      Chain += *It + " -> ";
    return makeError(describeProto(Call) + ": model-local function '" + Key +
                     "' calls itself (" + Chain + Key +
                     "); recursive functions cannot be inlined");
  }
  if (Depth >= Opts.MaxDepth)
    return makeError(describeProto(Call) +
                     ": function calls nested deeper "
                     "than " +
                     Twine(Opts.MaxDepth));
  // Formal -> actual names; internal names get a unique prefix.
  std::string Prefix = (Call.name().empty() ? F.name() : Call.name()) + "/" +
                       std::to_string(M.InlinedFunctionCalls++) + "/";
  std::map<std::string, std::string> Rename;
  for (int I = 0; I < F.input_size(); ++I)
    Rename[F.input(I)] = I < Call.input_size() ? Call.input(I) : "";
  for (int I = 0; I < F.output_size(); ++I)
    Rename[F.output(I)] = I < Call.output_size() ? Call.output(I) : "";
  auto Map = [&](const std::string &Name) -> std::string {
    if (Name.empty())
      return Name;
    auto It = Rename.find(Name);
    return It != Rename.end() ? It->second : Prefix + Name;
  };
  // The call's attributes, over the function's defaults (IR 9,
  // FunctionProto.attribute_proto, read from the wire format).
  std::vector<onnx::AttributeProto> Defaults;
  for (const std::string &Bytes :
       unknownStrings(F, FunctionAttributeProtoField)) {
    onnx::AttributeProto A;
    if (!A.ParseFromString(Bytes))
      return makeError(describeProto(Call) + ": model-local function '" + Key +
                       "' has an attribute default that is not valid protobuf");
    Defaults.push_back(std::move(A));
  }
  std::map<std::string, const onnx::AttributeProto *> CallAttrs;
  for (const onnx::AttributeProto &A : Defaults)
    CallAttrs[A.name()] = &A;
  for (const onnx::AttributeProto &A : Call.attribute())
    CallAttrs[A.name()] = &A;

  auto FnOpsetsPtr =
      std::make_shared<std::map<std::string, int64_t>>(M.OpsetImports);
  std::map<std::string, int64_t> &FnOpsets = *FnOpsetsPtr;
  for (const onnx::OperatorSetIdProto &O : F.opset_import())
    FnOpsets[canonicalDomain(O.domain())] = O.version();

  google::protobuf::RepeatedPtrField<onnx::NodeProto> Body;
  for (const onnx::NodeProto &N : F.node()) {
    onnx::NodeProto *C = Body.Add();
    *C = N;
    // Unnamed body nodes get their index in the body (a nested call, the
    // function's name), so that every inlined node can be traced back to its
    // call and its place in the function.
    std::string Local = N.name();
    if (Local.empty())
      Local = callee(N) ? N.op_type() : "#" + std::to_string(Body.size() - 1);
    C->set_name(Prefix + Local);
    renameInNode(*C, Map, CallAttrs, Prefix);
  }
  CallStack.push_back(Key);
  size_t First = Out.size();
  if (Error E = flatten(Body, FnOpsets, Out, Depth + 1, CallStack))
    return E;
  for (size_t I = First; I < Out.size(); ++I)
    if (Out[I].Calls.empty())
      Out[I].Calls = CallStack;
  CallStack.pop_back();
  for (size_t I = First; I < Out.size(); ++I) {
    if (Out[I].Version < 0) {
      auto It = FnOpsets.find(canonicalDomain(Out[I].Proto.domain()));
      if (It != FnOpsets.end())
        Out[I].Version = It->second;
    }
    if (!Out[I].Opsets)
      Out[I].Opsets = FnOpsetsPtr;
  }
  return Error::success();
}

Error Builder::flatten(
    const google::protobuf::RepeatedPtrField<onnx::NodeProto> &In,
    const std::map<std::string, int64_t> &Opsets, std::vector<FlatNode> &Out,
    unsigned Depth, std::vector<std::string> &CallStack) {
  for (const onnx::NodeProto &N : In) {
    if (const onnx::FunctionProto *F = callee(N)) {
      if (Error E = inlineCall(N, *F, Out, Depth, CallStack))
        return E;
      continue;
    }
    FlatNode F;
    F.Proto = N;
    if (&Opsets != &M.OpsetImports) {
      auto VIt = Opsets.find(canonicalDomain(N.domain()));
      if (VIt != Opsets.end())
        F.Version = VIt->second;
    }
    Out.push_back(std::move(F));
  }
  return Error::success();
}

Shape Builder::shapeFromProto(const onnx::TensorShapeProto &SP,
                              StringRef InputName, bool ErrorOnUnbound,
                              std::vector<std::string> *Unbound) {
  SmallVector<int64_t, 6> Dims;
  for (int I = 0; I < SP.dim_size(); ++I) {
    const auto &D = SP.dim(I);
    if (D.has_dim_value()) {
      Dims.push_back(D.dim_value() < 0 ? Shape::Unknown : D.dim_value());
      continue;
    }
    std::string Name = D.has_dim_param() && !D.dim_param().empty()
                           ? D.dim_param()
                           : InputName.str() + "_dim" + std::to_string(I);
    auto It = Bindings.find(Name);
    if (It != Bindings.end()) {
      Dims.push_back(It->second);
      continue;
    }
    if (Unbound && !is_contained(*Unbound, Name))
      Unbound->push_back(Name);
    Dims.push_back(Shape::Unknown);
  }
  return Shape(Dims);
}

/// A user's name pattern, matched against whole names; compiled once.
static Optional<Regex> wholeNameRegex(const std::string &Pattern) {
  if (Pattern.empty())
    return None;
  return Regex("^(" + Pattern + ")$");
}

bool Builder::isParamInput(const Value &V, bool HasStaticShape) {
  if (DataInputsRe && DataInputsRe->match(V.Name))
    return false;
  if (ParamInputsRe)
    return ParamInputsRe->match(V.Name);
  // Automatic rule: a floating-point input of fully static shape whose name
  // does not look like data fed at run time.
  if (!isFloatingPoint(V.Ty) || !HasStaticShape)
    return false;
  static const char *const DataLike[] = {
      "mask",           "input_ids",     "position", "past",
      "present",        "cache",         "state",    "label",
      "pixel",          "token_type",    "audio",    "image",
      "input_features", "hidden_states", "penalty",  "temperature"};
  std::string Lower = StringRef(V.Name).lower();
  for (const char *W : DataLike)
    if (StringRef(Lower).contains(W))
      return false;
  return !StringRef(Lower).endswith("ids");
}

/// Initializers that are a framework's registered buffers rather than
/// trainable parameters (they get no gradient and no optimizer state):
/// LoadOptions::Buffers, else names whose last component is a mask or a rotary
/// cache, or a [1, 1, N, N] tensor (a causal mask).
bool Builder::isBuffer(const Value &V) {
  if (BuffersRe)
    return BuffersRe->match(V.Name);
  static const char *const BufferNames[] = {
      "mask",      "causal_mask", "attn_mask",    "attention_mask",
      "bias_mask", "masked_bias", "cos_cached",   "sin_cached",
      "cos_cache", "sin_cache",   "cos",          "sin",
      "inv_freq",  "freqs_cis",   "position_ids", "token_type_ids"};
  // The whole name, or a suffix that follows a separator (._/:).
  std::string Lower = StringRef(V.Name).lower();
  StringRef L(Lower);
  for (const char *B : BufferNames) {
    if (!L.endswith(B))
      continue;
    size_t At = L.size() - StringRef(B).size();
    if (At == 0 || StringRef("._/:").contains(L[At - 1]))
      return true;
  }
  const Shape &S = V.Sh;
  return S.rank() == 4 && S[0] == 1 && S[1] == 1 && S[2] == S[3] && S[2] > 1;
}

Error Builder::bindDims(const onnx::GraphProto &GP) {
  std::set<std::string> Initializers;
  for (const onnx::TensorProto &T : GP.initializer())
    Initializers.insert(T.name());
  // Every symbolic name on an input without a default, in input order.
  std::vector<std::string> Names;
  for (const onnx::ValueInfoProto &VI : GP.input()) {
    if (Initializers.count(VI.name()) || !VI.type().has_tensor_type() ||
        !VI.type().tensor_type().has_shape())
      continue;
    const auto &SP = VI.type().tensor_type().shape();
    for (int I = 0; I < SP.dim_size(); ++I) {
      if (SP.dim(I).has_dim_value())
        continue;
      std::string Name =
          SP.dim(I).has_dim_param() && !SP.dim(I).dim_param().empty()
              ? SP.dim(I).dim_param()
              : VI.name() + "_dim" + std::to_string(I);
      if (!is_contained(Names, Name))
        Names.push_back(Name);
    }
  }
  // Inputs of one integer element (scalar or [1]): --dim NAME=V gives the
  // value of the input named NAME (a generation op's max_length).
  for (const onnx::ValueInfoProto &VI : GP.input()) {
    if (Initializers.count(VI.name()) || !VI.type().has_tensor_type())
      continue;
    const auto &TT = VI.type().tensor_type();
    int ET = TT.elem_type();
    bool Int = ET == onnx::TensorProto::INT32 || ET == onnx::TensorProto::INT64;
    if (Int && TT.has_shape() && TT.shape().dim_size() <= 1 &&
        all_of(TT.shape().dim(),
               [](const onnx::TensorShapeProto::Dimension &D) {
                 return D.has_dim_value() && D.dim_value() == 1;
               }))
      ValueInputs.insert(VI.name());
  }
  for (const auto &D : Opts.Dims) {
    if (D.second < 0)
      return make_error<DimBindingError>(DimBindingError::Negative, D.first,
                                         D.second);
    auto Ins = Bindings.emplace(D.first, D.second);
    if (!Ins.second && Ins.first->second != D.second)
      return make_error<DimBindingError>(DimBindingError::BoundTwice, D.first,
                                         Ins.first->second, D.second);
    if (!is_contained(Names, D.first) && !ValueInputs.count(D.first)) {
      DimBindingError Unused(DimBindingError::Unused, D.first);
      Diags.note(Opts.DescribeDimWarning ? Opts.DescribeDimWarning(Unused)
                                         : Unused.message());
    }
  }
  // Each unbound name, with a value for an example binding: 128 for what
  // looks like a sequence length, else 1.
  std::vector<std::pair<std::string, int64_t>> Unbound;
  for (const std::string &N : Names)
    if (!Bindings.count(N)) {
      if (Opts.DefaultDim)
        Bindings[N] = *Opts.DefaultDim;
      else
        Unbound.emplace_back(N, N.find("seq") != std::string::npos ||
                                        N.find("len") != std::string::npos
                                    ? 128
                                    : 1);
    }
  if (!Unbound.empty())
    return make_error<DimBindingError>(std::move(Unbound));
  for (const std::string &N : Names)
    M.DimBindings[N] = Bindings[N];
  for (const std::string &N : ValueInputs)
    if (Bindings.count(N))
      M.DimBindings[N] = Bindings[N];
  return Error::success();
}

Error Builder::setTypeFromProto(Value &V, const onnx::TypeProto &TP,
                                StringRef What, bool Declared) {
  // "graph input 'x'", or "node 'mm' (MatMul): value_info 'y'".
  auto Ctx = [&]() {
    std::string C = V.Producer ? describeNode(*V.Producer) + ": " : "";
    return C + What.str() + " '" + V.Name + "'";
  };
  if (TP.has_sequence_type()) {
    // seq(tensor): the element type; the length is not declared (computed
    // by the sequence ops, unknown for a main-graph input).
    const onnx::TypeProto &Elem = TP.sequence_type().elem_type();
    if (!Elem.has_tensor_type())
      return makeError(Ctx() + " is a sequence of non-tensors (sequences of "
                               "sequences, maps or optionals are not "
                               "supported)");
    SequenceType Seq;
    if (V.Seq)
      Seq = *V.Seq;
    // (Kept as a flag and a shape: GCC warns on copies of Optional<Shape>.)
    bool HadDeclared = V.DeclaredShape.hasValue();
    Shape OldDeclared = HadDeclared ? *V.DeclaredShape : Shape();
    if (Error E = setTypeFromProto(V, Elem, What, Declared))
      return E;
    if (Declared) {
      // A declaration of a sequence's element shape is not checked against
      // the storage shape.
      if (HadDeclared)
        V.DeclaredShape = OldDeclared;
      else
        V.DeclaredShape = None;
      if (!V.Seq)
        V.Seq = Seq;
      return Error::success();
    }
    Seq.Element = V.Sh;
    V.Seq = Seq;
    V.Sh = Seq.storage();
    return Error::success();
  }
  if (!TP.has_tensor_type()) {
    if (TP.value_case() == onnx::TypeProto::VALUE_NOT_SET)
      return Error::success();
    return makeError(Ctx() + " is not a tensor (map, optional or sparse "
                             "types are not supported)");
  }
  const auto &TT = TP.tensor_type();
  if (TT.elem_type() != 0) {
    Optional<DType> T = dtypeFromOnnx(TT.elem_type());
    if (!T)
      return makeError(Ctx() + " has unknown element type " +
                       Twine(TT.elem_type()));
    if (*T == DType::String)
      return makeError(Ctx() + " is a string tensor, which has no fixed size");
    // A declaration does not override a dtype the model defines elsewhere
    // (an initializer's data_type, an input's type).
    if (!Declared || V.Ty == DType::Undefined)
      V.Ty = *T;
  }
  if (!TT.has_shape())
    return Error::success();
  for (const auto &D : TT.shape().dim())
    if (D.has_dim_value() && D.dim_value() < 0)
      return makeError(Ctx() + " has a negative dim " + Twine(D.dim_value()));
  Shape S = shapeFromProto(TT.shape(), V.Name, false, nullptr);
  if (S.isConcrete()) {
    Optional<uint64_t> N = S.numElements();
    DType Ty = V.Ty == DType::Undefined ? DType::UInt8 : V.Ty;
    if (!N || !bytesFor(Ty, *N))
      return makeError(Ctx() + " of shape " + S.str() +
                       " has more elements or bytes than fit in 64 bits");
  }
  if (Declared)
    V.DeclaredShape = S;
  else
    V.Sh = S;
  return Error::success();
}

Error Builder::addInitializer(const onnx::TensorProto &T, Graph &G) {
  Value *V = G.createValue(T.name());
  if (!V)
    return makeError("initializer '" + T.name() + "' is defined twice");
  Optional<DType> Ty = dtypeFromOnnx(T.data_type());
  if (!Ty || *Ty == DType::Undefined)
    return makeError("initializer '" + T.name() +
                     "' has unknown element type " + Twine(T.data_type()));
  if (*Ty == DType::String)
    return makeError("initializer '" + T.name() +
                     "' is a string tensor, which has no fixed size");
  V->Ty = *Ty;
  SmallVector<int64_t, 6> Dims;
  for (int64_t D : T.dims()) {
    if (D < 0)
      return makeError("initializer '" + T.name() + "' has a negative dim " +
                       Twine(D));
    Dims.push_back(D);
  }
  V->Sh = Shape(Dims);
  Optional<uint64_t> N = V->Sh.numElements();
  if (!N || !bytesFor(*Ty, *N))
    return makeError("initializer '" + T.name() + "' of shape " + V->Sh.str() +
                     " has more elements or bytes than fit in 64 bits");
  // Float tensors are weights; scalars (eps, scales folded into initializers
  // by exporters), every non-float tensor and the framework's buffers are
  // constants.
  V->Kind = isFloatingPoint(*Ty) && V->Sh.rank() > 0 && !isBuffer(*V)
                ? ValueKind::Parameter
                : ValueKind::Constant;
  if (T.data_location() == onnx::TensorProto::EXTERNAL) {
    V->HasExternalData = true;
    std::string Location;
    for (const auto &KV : T.external_data())
      if (KV.key() == "location")
        Location = KV.value();
    if (Location.empty())
      return makeError("initializer '" + T.name() +
                       "' has external data without a location");
    bool Escapes = sys::path::is_absolute(Location) ||
                   Location.front() == '/' || Location.front() == '\\';
    int Level = 0;
    for (auto It = sys::path::begin(Location), E = sys::path::end(Location);
         It != E && !Escapes; ++It) {
      if (*It == "..")
        Escapes = --Level < 0;
      else if (*It != ".")
        ++Level;
    }
    if (Escapes)
      Diags.note("initializer '" + T.name() + "': external data location '" +
                 Location +
                 "' is absolute or leaves the model's folder (not opened)");
  } else {
    V->Data = decodeTensor(T, *Ty, *N);
  }
  return Error::success();
}

Expected<Attribute> Builder::convertAttribute(const onnx::AttributeProto &A,
                                              Node &N, unsigned Depth) {
  Attribute R;
  switch (A.type()) {
  case onnx::AttributeProto::INT:
    R.K = Attribute::Int;
    R.I = A.i();
    break;
  case onnx::AttributeProto::FLOAT:
    R.K = Attribute::Float;
    R.F = A.f();
    break;
  case onnx::AttributeProto::STRING:
    R.K = Attribute::String;
    R.S = A.s();
    break;
  case onnx::AttributeProto::INTS:
    R.K = Attribute::Ints;
    R.IntList.assign(A.ints().begin(), A.ints().end());
    break;
  case onnx::AttributeProto::FLOATS:
    R.K = Attribute::Floats;
    R.FloatList.assign(A.floats().begin(), A.floats().end());
    break;
  case onnx::AttributeProto::STRINGS:
    R.K = Attribute::Strings;
    R.StringList.assign(A.strings().begin(), A.strings().end());
    break;
  case onnx::AttributeProto::TENSOR: {
    R.K = Attribute::Tensor;
    const onnx::TensorProto &T = A.t();
    Optional<DType> Ty = dtypeFromOnnx(T.data_type());
    if (!Ty || *Ty == DType::Undefined)
      return makeError(describeNode(N) + ": attribute '" + A.name() +
                       "' has unknown element type " + Twine(T.data_type()));
    SmallVector<int64_t, 6> Dims;
    for (int64_t D : T.dims()) {
      if (D < 0)
        return makeError(describeNode(N) + ": attribute '" + A.name() +
                         "' has a negative dim");
      Dims.push_back(D);
    }
    R.T.Ty = *Ty;
    R.T.Sh = Shape(Dims);
    Optional<uint64_t> Count = R.T.Sh.numElements();
    if (!Count || !bytesFor(*Ty, *Count))
      return makeError(describeNode(N) + ": attribute '" + A.name() +
                       "' has more elements than fit in 64 bits");
    R.T.Data = decodeTensor(T, *Ty, *Count);
    break;
  }
  case onnx::AttributeProto::GRAPH:
  case onnx::AttributeProto::GRAPHS: {
    R.K = Attribute::Graphs;
    std::vector<const onnx::GraphProto *> Gs;
    if (A.type() == onnx::AttributeProto::GRAPH)
      Gs.push_back(&A.g());
    else
      for (const onnx::GraphProto &G : A.graphs())
        Gs.push_back(&G);
    for (const onnx::GraphProto *GP : Gs) {
      if (Depth + 1 >= Opts.MaxDepth)
        return makeError(describeNode(N) + ": subgraphs nested deeper than " +
                         Twine(Opts.MaxDepth));
      auto Sub = std::make_unique<Graph>(N.Parent, &N);
      Sub->Name = GP->name();
      if (Error E = buildGraph(*GP, *Sub, false, Depth + 1))
        return std::move(E);
      R.GraphIndices.push_back(N.Subgraphs.size());
      N.Subgraphs.push_back(std::move(Sub));
    }
    break;
  }
  default:
    R.K = Attribute::Other;
    break;
  }
  return R;
}

Error Builder::buildGraph(const onnx::GraphProto &GP, Graph &G, bool IsMain,
                          unsigned Depth) {
  // Phase 1: every value this graph defines.
  if (Error E = addInitializers(GP, G))
    return E;
  if (Error E = addGraphInputs(GP, G, IsMain))
    return E;
  // Inline function calls first so their outputs exist.
  std::vector<FlatNode> Flat;
  std::vector<std::string> CallStack;
  if (ScopeCalls)
    CallStack = *ScopeCalls;
  const std::map<std::string, int64_t> &Opsets =
      ScopeOpsets ? *ScopeOpsets : M.OpsetImports;
  if (Error E = flatten(GP.node(), Opsets, Flat, Depth, CallStack))
    return E;
  for (const FlatNode &F : Flat)
    if (Error E = addNode(F, G))
      return E;
  // Phase 2: inputs, attributes and subgraphs, now that every name exists.
  for (size_t I = 0; I < Flat.size(); ++I) {
    Node &N = *G.Nodes[I];
    const onnx::NodeProto &NP = Flat[I].Proto;
    if (Error E = connectInputs(N, NP, G))
      return E;
    // A function's opsets apply to the subgraphs of its inlined nodes.
    const std::map<std::string, int64_t> *OuterOpsets = ScopeOpsets;
    const std::vector<std::string> *OuterCalls = ScopeCalls;
    if (Flat[I].Opsets)
      ScopeOpsets = Flat[I].Opsets.get();
    if (!Flat[I].Calls.empty())
      ScopeCalls = &Flat[I].Calls;
    for (const onnx::AttributeProto &A : NP.attribute()) {
      Expected<Attribute> Attr = convertAttribute(A, N, Depth);
      if (!Attr) {
        ScopeOpsets = OuterOpsets;
        ScopeCalls = OuterCalls;
        return Attr.takeError();
      }
      N.Attrs[A.name()] = std::move(*Attr);
    }
    ScopeOpsets = OuterOpsets;
    ScopeCalls = OuterCalls;
    if (Error E = checkAgainstSchema(N, NP))
      return E;
  }
  if (Error E = addGraphOutputs(GP, G))
    return E;
  return sortNodes(G);
}

Error Builder::addInitializers(const onnx::GraphProto &GP, Graph &G) {
  for (const onnx::TensorProto &T : GP.initializer())
    if (Error E = addInitializer(T, G))
      return E;
  for (const onnx::SparseTensorProto &ST : GP.sparse_initializer()) {
    onnx::TensorProto T = ST.values();
    T.clear_dims();
    for (int64_t D : ST.dims())
      T.add_dims(D);
    T.clear_raw_data();
    if (Error E = addInitializer(T, G))
      return E;
  }
  return Error::success();
}

Error Builder::addGraphInputs(const onnx::GraphProto &GP, Graph &G,
                              bool IsMain) {
  for (const onnx::ValueInfoProto &VI : GP.input()) {
    if (Value *Init = G.findLocal(VI.name())) {
      // IR < 4: initializers are listed as inputs too; they stay weights.
      if (Error E = setTypeFromProto(*Init, VI.type(), "graph input", true))
        return E;
      continue;
    }
    Value *V = G.createValue(VI.name());
    if (!V)
      return makeError("graph input '" + VI.name() + "' is declared twice");
    if (Error E = setTypeFromProto(*V, VI.type(), "graph input", false))
      return E;
    V->Kind = ValueKind::Input;
    // Static as written in the model: every dim a number, none symbolic.
    bool Static = VI.type().has_tensor_type() &&
                  VI.type().tensor_type().has_shape() &&
                  all_of(VI.type().tensor_type().shape().dim(),
                         [](const onnx::TensorShapeProto::Dimension &D) {
                           return D.has_dim_value();
                         });
    if (IsMain && isParamInput(*V, Static)) {
      V->Kind = ValueKind::Parameter;
      V->ParamByRule =
          !ParamInputsRe && !(DataInputsRe && DataInputsRe->match(V->Name));
    }
    auto Bound = Bindings.find(V->Name);
    if (IsMain && ValueInputs.count(V->Name) && Bound != Bindings.end())
      V->Data = TensorData::ints({Bound->second});
    G.Inputs.push_back(V);
  }
  return Error::success();
}

Error Builder::addNode(const FlatNode &F, Graph &G) {
  Node *N = G.createNode();
  const onnx::NodeProto &NP = F.Proto;
  N->Name = NP.name();
  N->Domain = canonicalDomain(NP.domain());
  N->OpType = NP.op_type();
  N->OpsetVersion = F.Version >= 0 ? F.Version : opsetFor(N->Domain);
  if (N->OpType.empty())
    return makeError(describeNode(*N) + ": node has no op_type");
  if (N->OpsetVersion < 0) {
    if (N->Domain.empty())
      return makeError(describeNode(*N) +
                       ": the model imports no ai.onnx opset");
    Diags.note(describeNode(*N) + ": domain '" + N->Domain +
               "' is not in the model's opset_import; assuming version 1");
    N->OpsetVersion = 1;
  }
  for (const std::string &O : NP.output()) {
    if (O.empty()) {
      N->Outputs.push_back(nullptr);
      continue;
    }
    Value *V = G.createValue(O);
    if (!V) {
      Value *Old = G.findLocal(O);
      if (Old && Old->Producer)
        return makeError(describeNode(*N) + ": output '" + O +
                         "' is also produced by " +
                         describeNode(*Old->Producer));
      return makeError(describeNode(*N) + ": output '" + O +
                       "' redefines a graph input or initializer");
    }
    V->Producer = N;
    V->ProducerOutput = N->Outputs.size();
    V->Kind = N->OpType == "Constant" && N->Domain.empty()
                  ? ValueKind::Constant
                  : ValueKind::Activation;
    N->Outputs.push_back(V);
  }
  return Error::success();
}

Error Builder::connectInputs(Node &N, const onnx::NodeProto &NP, Graph &G) {
  for (const std::string &In : NP.input()) {
    if (In.empty()) {
      N.Inputs.push_back(nullptr);
      continue;
    }
    Value *V = G.lookup(In);
    if (!V)
      return makeError(describeNode(N) + ": input '" + In +
                       "' is not produced by any node, nor a graph input "
                       "or initializer");
    N.Inputs.push_back(V);
    if (V->Parent == &G) {
      V->Users.push_back(&N);
      continue;
    }
    // An outer value read inside a subgraph: each enclosing owner node up
    // to the value's graph reads it implicitly.
    for (Graph *Sub = &G; Sub && Sub != V->Parent; Sub = Sub->Parent) {
      Node *Owner = Sub->OwnerNode;
      if (!Owner)
        break;
      if (!is_contained(Owner->ImplicitInputs, V)) {
        Owner->ImplicitInputs.push_back(V);
        if (Owner->Parent == V->Parent)
          V->Users.push_back(Owner);
      }
    }
  }
  return Error::success();
}

Error Builder::checkAgainstSchema(const Node &N, const onnx::NodeProto &NP) {
  // Arity check against ONNX's schema where the library has one. Only for
  // opsets the library knows: a newer opset may have changed the op
  // (ReduceMean-18 takes its axes as a second input; ONNX 1.12 knows
  // ReduceMean-13 only).
  const onnx::OpSchema *S = schemaFor(N);
  if (!S)
    return Error::success();
  int NIn = NP.input_size(), NOut = NP.output_size();
  if (NIn < S->min_input() || NIn > S->max_input())
    return makeError(describeNode(N) + ": has " + Twine(NIn) + " input" +
                     (NIn == 1 ? "" : "s") + "; " + N.qualifiedOp() + "-" +
                     Twine(S->since_version()) + " takes " +
                     describeArity(S->min_input(), S->max_input()));
  if (NOut < S->min_output() || NOut > S->max_output())
    return makeError(describeNode(N) + ": has " + Twine(NOut) + " output" +
                     (NOut == 1 ? "" : "s") + "; " + N.qualifiedOp() + "-" +
                     Twine(S->since_version()) + " has " +
                     describeArity(S->min_output(), S->max_output()));
  // Attribute kinds, and required attributes, as the schema says.
  for (const onnx::AttributeProto &A : NP.attribute()) {
    auto It = S->attributes().find(A.name());
    if (It == S->attributes().end() || A.type() == It->second.type ||
        !A.ref_attr_name().empty())
      continue;
    return makeError(describeNode(N) + ": attribute '" + A.name() + "' is " +
                     onnx::AttributeProto_AttributeType_Name(A.type()) + "; " +
                     N.qualifiedOp() + "-" + Twine(S->since_version()) +
                     " expects " +
                     onnx::AttributeProto_AttributeType_Name(It->second.type));
  }
  for (const auto &KV : S->attributes())
    if (KV.second.required && !N.attr(KV.first))
      return makeError(describeNode(N) + ": missing required attribute '" +
                       KV.first + "' of " + N.qualifiedOp() + "-" +
                       Twine(S->since_version()));
  return Error::success();
}

Error Builder::addGraphOutputs(const onnx::GraphProto &GP, Graph &G) {
  for (const onnx::ValueInfoProto &VI : GP.value_info())
    if (Value *V = G.findLocal(VI.name()))
      if (Error E = setTypeFromProto(*V, VI.type(), "value_info", true))
        return E;
  for (const onnx::ValueInfoProto &VI : GP.output()) {
    Value *V = G.lookup(VI.name());
    if (!V)
      return makeError("graph output '" + VI.name() +
                       "' is not produced by any node, nor a graph input or "
                       "initializer");
    if (Error E = setTypeFromProto(*V, VI.type(), "graph output", true))
      return E;
    V->IsGraphOutput = true;
    G.Outputs.push_back(V);
  }
  return Error::success();
}

Error Builder::sortNodes(Graph &G) {
  size_t N = G.Nodes.size();
  DenseMap<Node *, unsigned> Pending;
  std::vector<unsigned> Ready;
  auto forEachOperand = [](Node &Nd, auto Fn) {
    for (Value *V : Nd.Inputs)
      if (V)
        Fn(V);
    for (Value *V : Nd.ImplicitInputs)
      Fn(V);
  };
  for (size_t I = 0; I < N; ++I) {
    Node &Nd = *G.Nodes[I];
    unsigned Count = 0;
    forEachOperand(Nd, [&](Value *V) {
      if (V->Producer && V->Producer->Parent == &G)
        ++Count;
    });
    Pending[&Nd] = Count;
    if (!Count)
      Ready.push_back(I);
  }
  // Kahn's algorithm; ready nodes are taken in file order (a min-heap on the
  // original index), so an already sorted graph keeps its order.
  std::make_heap(Ready.begin(), Ready.end(), std::greater<unsigned>());
  std::vector<std::unique_ptr<Node>> Sorted;
  Sorted.reserve(N);
  std::vector<bool> Done(N, false);
  while (!Ready.empty()) {
    std::pop_heap(Ready.begin(), Ready.end(), std::greater<unsigned>());
    unsigned I = Ready.back();
    Ready.pop_back();
    Done[I] = true;
    Node &Nd = *G.Nodes[I];
    for (Value *Out : Nd.Outputs) {
      if (!Out)
        continue;
      // Users holds one entry per use, matching the count above.
      for (Node *U : Out->Users) {
        if (U->Parent != &G)
          continue;
        unsigned &P = Pending[U];
        if (P && --P == 0) {
          Ready.push_back(U->Id);
          std::push_heap(Ready.begin(), Ready.end(), std::greater<unsigned>());
        }
      }
    }
    Sorted.push_back(std::move(G.Nodes[I]));
  }
  if (Sorted.size() != N) {
    // Walk back from an unfinished node through unfinished producers until
    // a node repeats: that node is on a cycle.
    unsigned Start = 0;
    while (Done[Start])
      ++Start;
    std::vector<bool> Seen(N, false);
    Node *Cur = G.Nodes[Start].get();
    while (!Seen[Cur->Id]) {
      Seen[Cur->Id] = true;
      Node *Next = nullptr;
      forEachOperand(*Cur, [&](Value *V) {
        if (!Next && V->Producer && V->Producer->Parent == &G &&
            !Done[V->Producer->Id])
          Next = V->Producer;
      });
      if (!Next)
        break;
      Cur = Next;
    }
    return makeError(describeNode(*Cur) +
                     ": the graph has a cycle through this node");
  }
  G.Nodes = std::move(Sorted);
  G.renumber();
  return Error::success();
}

Error Builder::build(const onnx::ModelProto &MP) {
  M.IrVersion = MP.ir_version();
  M.ProducerName = MP.producer_name();
  M.ProducerVersion = MP.producer_version();
  for (const onnx::OperatorSetIdProto &O : MP.opset_import()) {
    std::string D = canonicalDomain(O.domain());
    if (O.version() < 1 || (D.empty() && O.version() > 100))
      return makeError("opset_import: domain '" +
                       (D.empty() ? std::string("ai.onnx") : D) +
                       "' has version " + Twine(O.version()) +
                       ", which no ONNX release defines");
    M.OpsetImports[D] = O.version();
  }
  if (!MP.has_graph())
    return makeError("the model has no graph");
  const onnx::GraphProto &GP = MP.graph();
  if (GP.node_size() == 0)
    return makeError("the graph has no nodes");
  if (Error E = collectFunctions(MP))
    return E;
  if (Error E = bindDims(GP))
    return E;
  M.Main = std::make_unique<Graph>();
  M.Main->Name = GP.name();
  return buildGraph(GP, *M.Main, true, 0);
}

} // namespace

struct ParsedModel::Impl {
  std::string Name;
  onnx::ModelProto Proto;
};

ParsedModel::ParsedModel(std::unique_ptr<Impl> P) : P(std::move(P)) {}
ParsedModel::~ParsedModel() = default;

Expected<std::unique_ptr<ParsedModel>>
ParsedModel::parseBuffer(StringRef Buffer, StringRef Name,
                         const LoadOptions &Opts) {
  InputFormat Fmt = Opts.Format == InputFormat::Auto ? sniffFormat(Name, Buffer)
                                                     : Opts.Format;
  auto I = std::make_unique<Impl>();
  I->Name = Name.str();
  try {
    if (Error E = parseModelProto(Buffer, Fmt, I->Proto))
      return std::move(E);
  } catch (const std::exception &E) {
    return makeError(Twine("cannot read the model: ") + E.what());
  }
  return std::unique_ptr<ParsedModel>(new ParsedModel(std::move(I)));
}

Expected<std::unique_ptr<ParsedModel>>
ParsedModel::parse(StringRef Path, const LoadOptions &Opts) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> Buf =
      Path == "-" ? MemoryBuffer::getSTDIN()
                  : MemoryBuffer::getFile(Path, /*IsText=*/false,
                                          /*RequiresNullTerminator=*/false);
  if (!Buf)
    return makeError("cannot open file: " + Buf.getError().message());
  return parseBuffer((*Buf)->getBuffer(), Path, Opts);
}

Expected<std::unique_ptr<Model>> ParsedModel::build(const LoadOptions &Opts,
                                                    Diagnostics &Diags) const {
  auto M = std::make_unique<Model>();
  M->Path = P->Name;
  try {
    SmallString<256> Dir(P->Name);
    sys::path::remove_filename(Dir);
    Builder B(*M, Opts, Diags, Dir);
    if (Error E = B.build(P->Proto))
      return std::move(E);
  } catch (const std::exception &E) {
    return makeError(Twine("cannot read the model: ") + E.what());
  }
  return std::move(M);
}

Expected<std::unique_ptr<Model>> loadModelFromBuffer(StringRef Buffer,
                                                     StringRef Name,
                                                     const LoadOptions &Opts,
                                                     Diagnostics &Diags) {
  auto PM = ParsedModel::parseBuffer(Buffer, Name, Opts);
  if (!PM)
    return PM.takeError();
  return (*PM)->build(Opts, Diags);
}

Expected<std::unique_ptr<Model>>
loadModel(StringRef Path, const LoadOptions &Opts, Diagnostics &Diags) {
  auto PM = ParsedModel::parse(Path, Opts);
  if (!PM)
    return PM.takeError();
  return (*PM)->build(Opts, Diags);
}

} // namespace vram

//===- UserOps.cpp - Op rules given at run time (--op-rules) --------------===//
//
// Parses the rule file (format in vram/Analysis/UserOps.h and
// docs/memory.md) into rows of the registry. Every user row shares one shape
// function and one saved rule, which look the node's rule up by its domain
// and op type.
//
//===----------------------------------------------------------------------===//

#include "vram/Analysis/UserOps.h"
#include "vram/Analysis/OpRegistry.h"

#include "llvm/ADT/Optional.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace llvm;

namespace vram {

namespace {

/// One term of a dim expression.
struct Term {
  enum Kind { Int, InputDim, Attr } K = Int;
  int64_t Value = 0; ///< Int: the number; InputDim: the input index
  int64_t Dim = 0;   ///< InputDim: the dim (negative: from the end)
  std::string Name;  ///< Attr: the attribute
  char Op = '+';     ///< how it joins what comes before: + - * /
};

/// A dim: terms with + - * / (* and / bind first), kept as sums of
/// products.
using DimExpr = std::vector<std::vector<Term>>;

struct OutputSpec {
  bool HasShape = false;
  int LikeInput = -1; ///< outK = inI
  std::vector<DimExpr> Dims;
  bool Scalar = false;
  int DTypeFromInput = -1;
  Optional<DType> Ty;
};

struct SaveItem {
  bool Output = false;
  unsigned Index = 0;
};

struct UserRule {
  std::string Domain, OpType, Reference;
  std::map<unsigned, OutputSpec> Outputs;
  std::vector<SaveItem> Saves;
  bool Grad = true;
  std::unique_ptr<OpInfo> Row;
};

std::vector<std::unique_ptr<UserRule>> &rules() {
  static std::vector<std::unique_ptr<UserRule>> R;
  return R;
}

const UserRule *ruleFor(StringRef Domain, StringRef OpType) {
  for (const auto &R : rules())
    if (R->Domain == Domain && R->OpType == OpType)
      return R.get();
  return nullptr;
}

/// "inI" or "outK" (Prefix) -> the index.
Optional<unsigned> indexAfter(StringRef S, StringRef Prefix) {
  S = S.trim();
  unsigned I;
  if (!S.consume_front(Prefix) || S.empty() || S.getAsInteger(10, I) ||
      I > 1000)
    return None;
  return I;
}

class Parser {
public:
  Parser(StringRef File, unsigned Line) : File(File), Line(Line) {}

  Error error(const Twine &Msg) const {
    return createStringError(inconvertibleErrorCode(),
                             File + ":" + Twine(Line) + ": " + Msg);
  }

  Expected<Term> term(StringRef S) const {
    S = S.trim();
    Term T;
    if (S.empty())
      return error("empty term in a dim expression");
    if (S.consume_front("attr:")) {
      if (S.empty())
        return error("attr: needs an attribute name");
      T.K = Term::Attr;
      T.Name = S.str();
      return T;
    }
    if (S.startswith("in")) {
      size_t Open = S.find('[');
      if (Open == StringRef::npos || !S.endswith("]"))
        return error("'" + S + "' is not a dim of an input (inI[J])");
      Optional<unsigned> I = indexAfter(S.take_front(Open), "in");
      int64_t J;
      if (!I || S.drop_front(Open + 1).drop_back().trim().getAsInteger(10, J))
        return error("'" + S + "' is not a dim of an input (inI[J])");
      T.K = Term::InputDim;
      T.Value = *I;
      T.Dim = J;
      return T;
    }
    if (S.getAsInteger(10, T.Value) || T.Value < 0)
      return error("'" + S + "' is not a number, inI[J] or attr:NAME");
    return T;
  }

  Expected<DimExpr> dim(StringRef S) const {
    DimExpr E;
    char Op = '+';
    size_t Start = 0;
    int Depth = 0;
    for (size_t I = 0; I <= S.size(); ++I) {
      char C = I < S.size() ? S[I] : '\0';
      Depth += C == '[' ? 1 : C == ']' ? -1 : 0;
      if (C != '\0' && (Depth > 0 || !StringRef("+-*/").contains(C)))
        continue;
      Expected<Term> T = term(S.slice(Start, I));
      if (!T)
        return T.takeError();
      T->Op = Op;
      if (Op == '+' || Op == '-' || E.empty())
        E.emplace_back();
      E.back().push_back(*T);
      Op = C;
      Start = I + 1;
    }
    return E;
  }

  Error clause(StringRef C, UserRule &R) const {
    auto [Key, Value] = C.split('=');
    Key = Key.trim();
    Value = Value.trim();
    if (!C.contains('='))
      return error("expected KEY = VALUE, not '" + C.trim() + "'");
    if (Optional<unsigned> K = indexAfter(Key, "out")) {
      OutputSpec &O = R.Outputs[*K];
      if (O.HasShape)
        return error("out" + Twine(*K) + " is given twice");
      O.HasShape = true;
      if (Value == "scalar") {
        O.Scalar = true;
        return Error::success();
      }
      if (Optional<unsigned> I = indexAfter(Value, "in")) {
        O.LikeInput = *I;
        return Error::success();
      }
      SmallVector<StringRef, 6> Parts;
      Value.split(Parts, ',');
      for (StringRef P : Parts) {
        Expected<DimExpr> D = dim(P);
        if (!D)
          return D.takeError();
        O.Dims.push_back(std::move(*D));
      }
      return Error::success();
    }
    if (Key.startswith("dtype")) {
      unsigned K = 0;
      if (Key != "dtype") {
        Optional<unsigned> I = indexAfter(Key, "dtype");
        if (!I)
          return error("unknown key '" + Key + "'");
        K = *I;
      }
      OutputSpec &O = R.Outputs[K];
      if (Optional<unsigned> I = indexAfter(Value, "in")) {
        O.DTypeFromInput = *I;
        return Error::success();
      }
      O.Ty = dtypeFromName(Value);
      if (!O.Ty || *O.Ty == DType::Undefined)
        return error("unknown dtype '" + Value + "'");
      return Error::success();
    }
    if (Key == "saves") {
      SmallVector<StringRef, 6> Parts;
      Value.split(Parts, ',', -1, false);
      for (StringRef P : Parts) {
        if (Optional<unsigned> I = indexAfter(P, "in"))
          R.Saves.push_back({false, *I});
        else if (Optional<unsigned> K = indexAfter(P, "out"))
          R.Saves.push_back({true, *K});
        else
          return error("saves: '" + P.trim() + "' is neither inI nor outK");
      }
      return Error::success();
    }
    if (Key == "grad") {
      if (Value != "yes" && Value != "no")
        return error("grad must be yes or no, not '" + Value + "'");
      R.Grad = Value == "yes";
      return Error::success();
    }
    return error("unknown key '" + Key +
                 "' (expected outK, dtypeK, saves or grad)");
  }

  Expected<std::unique_ptr<UserRule>> rule(StringRef L) const {
    size_t Sep = L.find("::");
    if (Sep == StringRef::npos)
      return error("expected DOMAIN::OP: clauses, not '" + L + "'");
    auto R = std::make_unique<UserRule>();
    R->Domain = L.take_front(Sep).trim().str();
    if (R->Domain == "ai.onnx")
      R->Domain.clear();
    StringRef Rest = L.drop_front(Sep + 2);
    size_t Colon = Rest.find(':');
    if (Colon == StringRef::npos)
      return error("expected ':' after the op name");
    R->OpType = Rest.take_front(Colon).trim().str();
    if (R->OpType.empty())
      return error("the rule names no op");
    SmallVector<StringRef, 6> Clauses;
    Rest.drop_front(Colon + 1).split(Clauses, ';', -1, false);
    for (StringRef C : Clauses)
      if (!C.trim().empty())
        if (Error E = clause(C, *R))
          return std::move(E);
    for (const auto &KV : R->Outputs)
      if (!KV.second.HasShape)
        return error("dtype" + Twine(KV.first) + " without out" +
                     Twine(KV.first) + " = ...");
    R->Reference = ("user rule " + File + ":" + Twine(Line)).str();
    return std::move(R);
  }

private:
  StringRef File;
  unsigned Line;
};

/// The value of a dim expression for a node, Unknown when an input dim is
/// unknown.
Expected<int64_t> evaluate(const DimExpr &E, ShapeContext &C,
                           const UserRule &R) {
  int64_t Sum = 0;
  bool Unknown = false;
  for (const std::vector<Term> &Product : E) {
    int64_t P = 1;
    for (const Term &T : Product) {
      int64_t V = T.Value;
      if (T.K == Term::InputDim) {
        Value *In = C.in(T.Value);
        if (!In)
          return C.error(R.Reference + ": input " + Twine(T.Value) +
                         " is absent");
        if (!In->Sh.hasRank()) {
          Unknown = true;
          continue;
        }
        int64_t Rank = In->Sh.rank();
        int64_t D = T.Dim < 0 ? Rank + T.Dim : T.Dim;
        if (D < 0 || D >= Rank)
          return C.error(R.Reference + ": input " + Twine(T.Value) +
                         " has rank " + Twine(Rank) + ", no dim " +
                         Twine(T.Dim));
        V = In->Sh[D];
        if (V < 0) {
          Unknown = true;
          continue;
        }
      } else if (T.K == Term::Attr) {
        const Attribute *A = C.node().attr(T.Name);
        if (!A || A->K != Attribute::Int)
          return C.error(R.Reference + ": no int attribute '" + T.Name + "'");
        if (A->I < 0)
          return C.error(R.Reference + ": attribute '" + T.Name + "' is " +
                         Twine(A->I) + ", not a size");
        V = A->I;
      }
      if (T.Op == '/') {
        if (V == 0)
          return C.error(R.Reference + ": division by zero");
        P /= V;
      } else if (__builtin_mul_overflow(P, V, &P)) {
        return C.error(R.Reference + ": a dim overflows 64 bits");
      }
    }
    if (__builtin_add_overflow(Sum, Product.front().Op == '-' ? -P : P, &Sum))
      return C.error(R.Reference + ": a dim overflows 64 bits");
  }
  if (Unknown)
    return Shape::Unknown;
  if (Sum < 0)
    return C.error(R.Reference + ": a dim computes to " + Twine(Sum));
  return Sum;
}

Error userShape(ShapeContext &C) {
  const UserRule *R = ruleFor(C.node().Domain, C.node().OpType);
  if (!R)
    return Error::success();
  for (const auto &KV : R->Outputs) {
    const OutputSpec &O = KV.second;
    DType Ty = C.in(0) ? C.in(0)->Ty : DType::Undefined;
    if (O.DTypeFromInput >= 0) {
      if (!C.in(O.DTypeFromInput))
        return C.error(R->Reference + ": input " + Twine(O.DTypeFromInput) +
                       " is absent");
      Ty = C.in(O.DTypeFromInput)->Ty;
    }
    if (O.Ty)
      Ty = *O.Ty;
    Shape S = Shape::scalar();
    if (O.LikeInput >= 0) {
      if (!C.in(O.LikeInput))
        return C.error(R->Reference + ": input " + Twine(O.LikeInput) +
                       " is absent");
      S = C.in(O.LikeInput)->Sh;
    } else if (!O.Scalar) {
      SmallVector<int64_t, 6> Dims;
      for (const DimExpr &E : O.Dims) {
        Expected<int64_t> D = evaluate(E, C, *R);
        if (!D)
          return D.takeError();
        Dims.push_back(*D);
      }
      S = Shape(Dims);
    }
    C.setOutput(KV.first, Ty, S);
  }
  return Error::success();
}

void userSave(SaveContext &C) {
  const UserRule *R = ruleFor(C.node().Domain, C.node().OpType);
  if (!R || !R->Grad || !C.anyRG())
    return;
  for (const SaveItem &S : R->Saves) {
    if (S.Output)
      C.output(S.Index, R->Reference);
    else
      C.input(S.Index, R->Reference);
  }
}

} // namespace

Error installUserOpRules(StringRef Text, StringRef File) {
  std::vector<std::unique_ptr<UserRule>> New;
  SmallVector<StringRef, 32> Lines;
  Text.split(Lines, '\n');
  for (size_t I = 0; I < Lines.size(); ++I) {
    StringRef L = Lines[I];
    L = L.take_until([](char C) { return C == '#'; }).trim();
    if (L.empty())
      continue;
    Parser P(File, I + 1);
    Expected<std::unique_ptr<UserRule>> R = P.rule(L);
    if (!R)
      return R.takeError();
    for (const auto &Old : New)
      if (Old->Domain == (*R)->Domain && Old->OpType == (*R)->OpType)
        return P.error("a second rule for " +
                       ((*R)->Domain.empty() ? "ai.onnx" : (*R)->Domain) +
                       "::" + (*R)->OpType + " (the first: " + Old->Reference +
                       ")");
    UserRule &U = **R;
    U.Row = std::make_unique<OpInfo>(
        OpInfo{U.Domain.c_str(), U.OpType.c_str(), 1, AnyVersion, userShape,
               userSave, ViewKind::None,
               U.Grad ? GradKind::Differentiable : GradKind::NotDifferentiable,
               PrecisionClass::InputType, U.Reference.c_str(), ""});
    New.push_back(std::move(*R));
  }
  rules() = std::move(New);
  return Error::success();
}

const OpInfo *findUserOp(StringRef Domain, StringRef OpType) {
  const UserRule *R = ruleFor(Domain, OpType);
  return R ? R->Row.get() : nullptr;
}

} // namespace vram

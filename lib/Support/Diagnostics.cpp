//===- Diagnostics.cpp - Warnings and error context -----------------------===//

#include "vram/Support/Diagnostics.h"
#include "vram/IR/Graph.h"

using namespace llvm;

namespace vram {

std::string describeNode(const Node &N) {
  if (!N.Name.empty())
    return "node '" + N.Name + "' (" + N.qualifiedOp() + ")";
  // Unnamed (as in ONNX textual syntax): the index and the first output.
  std::string S = "node #" + std::to_string(N.Id) + " (" + N.qualifiedOp();
  for (const Value *V : N.Outputs)
    if (V) {
      S += ", output '" + V->Name + "'";
      break;
    }
  return S + ")";
}

Error Diagnostics::warn(const Twine &Msg) {
  if (Strict)
    return makeError(Msg);
  Warnings.push_back(Msg.str());
  return Error::success();
}

void Diagnostics::note(const Twine &Msg) { Warnings.push_back(Msg.str()); }

Error makeError(const Twine &Msg) {
  return make_error<StringError>(Msg, inconvertibleErrorCode());
}

} // namespace vram

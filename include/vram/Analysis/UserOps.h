//===- UserOps.h - Op rules given at run time (--op-rules) ------*- C++ -*-===//
//
// A user's rule file gives registry rows for ops the tool does not know (a
// custom-domain kernel), without rebuilding. One rule a line (docs/memory.md,
// "Rules for unknown ops"):
//
//   DOMAIN::OP: out0 = in0[0], in1[-1]; dtype0 = f32; saves = in0, in1
//
// Clauses, separated by ';', each optional:
//   outK = DIM, DIM, ...   output K's shape; a DIM is an expression of
//                          integers, inI[J] (dim J of input I, J < 0 from
//                          the end) and attr:NAME (an int attribute), with
//                          + - * / (integer, left to right, * and / first);
//   outK = inI             output K has input I's shape;
//   dtypeK = NAME | inI    output K's dtype (default: input 0's);
//   saves = inI, outK, ... what its backward keeps (default: nothing);
//   grad = yes | no        whether gradients flow through it (default yes).
// '#' starts a comment; blank lines are ignored. A rule applies at every
// opset version of its op and comes before the built-in rows.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_ANALYSIS_USEROPS_H
#define VRAM_ANALYSIS_USEROPS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace vram {

struct OpInfo;

/// Parses a rule file's text and makes its rules rows of the registry (the
/// rules of an earlier call are replaced). Errors are "FILE:LINE: what".
llvm::Error installUserOpRules(llvm::StringRef Text, llvm::StringRef File);

/// The user's row for (domain, op type), or nullptr.
const OpInfo *findUserOp(llvm::StringRef Domain, llvm::StringRef OpType);

} // namespace vram

#endif // VRAM_ANALYSIS_USEROPS_H

//===- Pipeline.cpp - The pass registry and the pass manager --------------===//

#include "vram/Pipeline/Pipeline.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace vram {

namespace {

/// Adapts a pass written against its own context (AnalysisContext or
/// CostContext) to the registry's signature.
template <typename ContextT, Error (*Fn)(ContextT &)>
Error runAs(CostContext &Ctx) {
  return Fn(Ctx);
}
template <typename ContextT, void (*Fn)(ContextT &, raw_ostream &)>
void printAs(CostContext &Ctx, raw_ostream &OS) {
  Fn(Ctx, OS);
}

const PassInfo Passes[] = {
#define PASS(NAME, CONTEXT, RUN, PRINT, REQUIRES, DESCRIPTION)                 \
  {NAME, runAs<CONTEXT, RUN>, printAs<CONTEXT, PRINT>, REQUIRES, DESCRIPTION},
#include "vram/Pipeline/Passes.def"
};

} // namespace

ArrayRef<PassInfo> allPasses() { return Passes; }

const PassInfo *findPass(StringRef Name) {
  for (const PassInfo &P : Passes)
    if (P.Name == Name)
      return &P;
  return nullptr;
}

Expected<std::vector<PipelineStep>> parsePipeline(StringRef Text) {
  std::vector<PipelineStep> Steps;
  if (Text.trim().empty()) {
    for (const PassInfo &P : Passes)
      Steps.push_back({&P, false});
    return Steps;
  }
  SmallVector<StringRef, 8> Names;
  Text.split(Names, ',', -1, false);
  for (StringRef Name : Names) {
    Name = Name.trim();
    bool Print = Name.consume_front("print<") && Name.consume_back(">");
    const PassInfo *P = findPass(Name);
    if (!P)
      return makeError("unknown pass '" + Name + "'");
    Steps.push_back({P, Print});
  }
  return Steps;
}

Error PassManager::runAt(const PassInfo &P, unsigned Depth) {
  // The registry is acyclic (checked by a unit test); the bound only keeps
  // a broken registry from recursing forever.
  if (Depth > allPasses().size())
    return makeError("pass '" + P.Name + "': cyclic requirements");
  SmallVector<StringRef, 4> Names;
  P.Requires.split(Names, ',', -1, false);
  for (StringRef Name : Names) {
    const PassInfo *Dep = findPass(Name.trim());
    if (!Dep)
      return makeError("pass '" + P.Name + "' requires unknown pass '" +
                       Name.trim() + "'");
    if (!Ran.count(Dep))
      if (Error E = runAt(*Dep, Depth + 1))
        return E;
  }
  if (PI.BeforePass)
    PI.BeforePass(P);
  Error E = P.Run(Ctx);
  if (PI.AfterPass)
    PI.AfterPass(P);
  if (E)
    return E;
  Ran.insert(&P);
  return Error::success();
}

Error PassManager::run(const PassInfo &P) { return runAt(P, 0); }

Error PassManager::require(const PassInfo &P) {
  return Ran.count(&P) ? Error::success() : run(P);
}

Error PassManager::runPipeline(ArrayRef<PipelineStep> Steps, raw_ostream &OS) {
  for (const PipelineStep &S : Steps) {
    if (!S.Print) {
      if (Error E = run(*S.Pass))
        return E;
      continue;
    }
    if (Error E = require(*S.Pass))
      return E;
    S.Pass->Print(Ctx, OS);
  }
  return Error::success();
}

Error runPipeline(CostContext &Ctx, PassInstrumentation PI) {
  PassManager PM(Ctx, std::move(PI));
  for (const PassInfo &P : Passes)
    if (Error E = PM.run(P))
      return E;
  return Error::success();
}

} // namespace vram

//===- vram-opt.cpp - Accelerator memory analyzer for ONNX models ---------===//

#include "vram/Driver/Driver.h"

int main(int Argc, char **Argv) { return vram::runVramOpt(Argc, Argv); }

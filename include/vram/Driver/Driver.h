//===- Driver.h - The vram-opt driver ---------------------------*- C++ -*-===//
//
// Command-line parsing lives here and only here; the libraries are
// configured through their option structs.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_DRIVER_DRIVER_H
#define VRAM_DRIVER_DRIVER_H

namespace vram {

/// Runs the vram-opt tool; returns the process exit code.
int runVramOpt(int Argc, char **Argv);

} // namespace vram

#endif // VRAM_DRIVER_DRIVER_H

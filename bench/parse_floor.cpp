// The floors vram-opt is measured against (issue 7, bench/run.sh):
//
//   parse_floor parse FILE   mmap FILE and parse it into onnx::ModelProto with
//                            protobuf alone (every raw_data payload copied)
//   parse_floor infer FILE   that, plus ONNX's C++ InferShapes with data
//                            propagation (errors caught and counted)
//
// Prints one line "mode=.. parse_s=.. infer_s=.. total_s=.. nodes=.. ..." on
// stdout. Peak RSS is measured from outside (/usr/bin/time -v).
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {
double now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
} // namespace

int main(int argc, char **argv) {
  if (argc != 3 ||
      (std::strcmp(argv[1], "parse") && std::strcmp(argv[1], "infer"))) {
    std::fprintf(stderr, "usage: %s parse|infer FILE.onnx\n", argv[0]);
    return 2;
  }
  const bool Infer = !std::strcmp(argv[1], "infer");
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  // Touch the schema registry before timing: its static initialisation (all
  // op schemas) is a fixed cost of the ONNX library, reported separately.
  double T0 = now();
  if (Infer)
    (void)onnx::OpSchemaRegistry::Instance();
  double TReg = now() - T0;

  T0 = now();
  int Fd = ::open(argv[2], O_RDONLY);
  if (Fd < 0) {
    std::perror(argv[2]);
    return 1;
  }
  struct stat St;
  if (::fstat(Fd, &St) != 0) {
    std::perror("fstat");
    return 1;
  }
  size_t Size = static_cast<size_t>(St.st_size);
  void *Map = ::mmap(nullptr, Size, PROT_READ, MAP_PRIVATE, Fd, 0);
  if (Map == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  if (Size > static_cast<size_t>(INT32_MAX)) {
    std::fprintf(stderr, "%s: %zu bytes, over protobuf's 2 GB limit\n", argv[2],
                 Size);
    return 1;
  }
  onnx::ModelProto M;
  if (!M.ParseFromArray(Map, static_cast<int>(Size))) {
    std::fprintf(stderr, "%s: protobuf parse failed\n", argv[2]);
    return 1;
  }
  double TParse = now() - T0;

  double TInfer = 0;
  int Errors = 0;
  if (Infer) {
    T0 = now();
    try {
      onnx::ShapeInferenceOptions Opts(/*check_type=*/false, /*strict=*/0,
                                       /*data_prop=*/true);
      onnx::shape_inference::InferShapes(M, onnx::OpSchemaRegistry::Instance(),
                                         Opts);
    } catch (const std::exception &E) {
      ++Errors;
      std::fprintf(stderr, "InferShapes: %s\n", E.what());
    }
    TInfer = now() - T0;
  }
  std::printf(
      "mode=%s parse_s=%.6f infer_s=%.6f registry_s=%.6f total_s=%.6f "
      "nodes=%d initializers=%d value_info=%d infer_errors=%d bytes=%zu\n",
      argv[1], TParse, TInfer, TReg, TParse + TInfer, M.graph().node_size(),
      M.graph().initializer_size(), M.graph().value_info_size(), Errors, Size);
  ::munmap(Map, Size);
  ::close(Fd);
  return 0;
}

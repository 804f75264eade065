//===- Shape.h - Tensor shapes ----------------------------------*- C++ -*-===//
//
// A tensor shape: unknown rank, or a list of dims each either concrete
// (>= 0) or unknown (Shape::Unknown). Symbolic names exist only in the
// frontend; after binding, every dim the IR holds is a number or unknown.
//
//===----------------------------------------------------------------------===//

#ifndef VRAM_IR_SHAPE_H
#define VRAM_IR_SHAPE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/Optional.h"
#include "llvm/ADT/SmallVector.h"

#include <cstdint>
#include <string>

namespace vram {

class Shape {
public:
  static constexpr int64_t Unknown = -1;

  /// A shape of unknown rank.
  Shape() = default;
  /// A shape of known rank; dims may be Unknown.
  explicit Shape(llvm::ArrayRef<int64_t> Dims)
      : RankKnown(true), Dims(Dims.begin(), Dims.end()) {}

  static Shape scalar() { return Shape(llvm::ArrayRef<int64_t>()); }
  static Shape unknownDims(size_t Rank) {
    return Shape(llvm::SmallVector<int64_t, 6>(Rank, Unknown));
  }

  bool hasRank() const { return RankKnown; }
  size_t rank() const { return Dims.size(); }
  llvm::ArrayRef<int64_t> dims() const { return Dims; }
  llvm::MutableArrayRef<int64_t> dims() { return Dims; }
  int64_t operator[](size_t I) const { return Dims[I]; }
  int64_t &operator[](size_t I) { return Dims[I]; }

  /// True when the rank and every dim are known.
  bool isConcrete() const;

  /// Product of the dims; None when not concrete or on 64-bit overflow.
  llvm::Optional<uint64_t> numElements() const;

  /// "[2, 128, 768]", "[?, 4]", "[*]" for unknown rank, "[]" for a scalar.
  std::string str() const;

  bool operator==(const Shape &O) const {
    return RankKnown == O.RankKnown && Dims == O.Dims;
  }
  bool operator!=(const Shape &O) const { return !(*this == O); }

private:
  bool RankKnown = false;
  llvm::SmallVector<int64_t, 6> Dims;
};

/// Multidirectional (numpy) broadcasting of two shapes. Unknown dims stay
/// unknown unless the other side fixes them. None when the shapes cannot
/// broadcast (two different concrete dims, neither 1).
llvm::Optional<Shape> broadcastShapes(const Shape &A, const Shape &B);

/// Normalises a possibly negative axis against Rank; None if out of range.
llvm::Optional<size_t> normalizeAxis(int64_t Axis, size_t Rank);

/// Resolves a Reshape target (ONNX semantics: 0 copies the input dim unless
/// AllowZero, one -1 is inferred). None when the target is invalid for the
/// input (more than one -1, element counts that cannot match, a -1 beside a
/// zero dim, where any size would fit, ...).
/// Input dims may be unknown; then the result may hold Unknown dims.
llvm::Optional<Shape> resolveReshape(const Shape &Input,
                                     llvm::ArrayRef<int64_t> Target,
                                     bool AllowZero);

} // namespace vram

#endif // VRAM_IR_SHAPE_H

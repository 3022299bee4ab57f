//===- WarpReductions.h - a warp per output element ------------*- C++ -*-===//
//
// Reductions of 32 elements or more of the form out = combine(out, x): their
// matchers and the code a warp runs for one output (WarpReductions.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_WARPREDUCTIONS_H
#define LLAMAC_PASSES_WARPREDUCTIONS_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace llamac {

/// Threads a block of llama-map-to-gpu's kernels.
constexpr int64_t kBlockSize = 256;

/// A reduction the threads of a warp can share: one output, indexed by
/// thread dimensions only, whose body yields `combine(out, x)` with x not
/// reading `out` and `combine` an addf or maximumf (matmul rows, sums of
/// squares, softmax max and sum).
struct WarpReduction {
  mlir::Operation *combiner; // arith.addf or arith.maximumf
  mlir::Value contribution;  // x
};

std::optional<WarpReduction>
matchWarpReduction(mlir::linalg::LinalgOp op,
                   mlir::ArrayRef<unsigned> serialDims);

/// The combiner's identity: 0 for a sum, -inf for a max.
mlir::Value identityOf(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Operation *combiner);

/// `combiner` applied to `lhs` and `rhs` (a clone).
mlir::Value combine(mlir::OpBuilder &b, mlir::Operation *combiner,
                    mlir::Value lhs, mlir::Value rhs);

/// A sum of products of two inputs read along the one reduction loop, the
/// innermost dimension of both, contiguous and aligned: each lane then loads
/// kDotLanes consecutive elements of each input at once (16 bytes of a bf16
/// weight row, 32 of f32 activations) instead of one.
struct VectorDot {
  unsigned dim;               // the reduction loop
  int64_t length;             // its (static) size
  mlir::OpOperand *lhs, *rhs; // the inputs multiplied (may be the same)
};

constexpr int64_t kDotLanes = 8;
constexpr int64_t kDotStride = 32 * kDotLanes;
/// Trips of a lane's dot loop per iteration (or the largest power of two
/// dividing its trips): their loads go out together, 64 bytes of bf16
/// weights in flight per lane (~64 KB an SM at the 32 warps these kernels'
/// registers allow) against the ~25 KB an SM that HBM's bandwidth times its
/// latency asks for (8 measured slower: KERNEL_NOTES, session 12).
constexpr int64_t kDotUnroll = 4;
/// Warps a launch should have at least to keep HBM busy: an op with fewer
/// outputs splits each reduction over several warps of one block, which add
/// their sums through shared memory. An H100/H200 holds ~5k of these warps
/// at once (132 SMs, ~40 warps each at their registers); 8,192 was the
/// target until the first weights were read before the wait for the
/// previous kernel (session 12: 4,096 then measured 1% faster on the 1B,
/// the same on the 8B).
constexpr int64_t kMinWarps = 4096;
constexpr int64_t kWarpsPerBlock = kBlockSize / 32;
/// Blocks of a GEMV that applies a norm an SM should hold at once (its
/// bytes in flight): ptxas is asked to fit the registers to that (80 a
/// thread at 256).
constexpr int32_t kMinDotBlocksPerSM = 3;

inline int64_t tripsOf(const VectorDot &dot) {
  return (dot.length + kDotStride - 1) / kDotStride;
}

/// The VectorDot of a warp reduction, if its contribution is one.
std::optional<VectorDot> matchVectorDot(mlir::linalg::LinalgOp op,
                                        const WarpReduction &reduction,
                                        mlir::ArrayRef<unsigned> serialDims,
                                        mlir::ArrayRef<int64_t> staticSizes);

/// Where a warp of a launch of whole warps, an output each, stands: its
/// lane, its warp in the block, and its output `flat` among `total`, of
/// `block` threads a block. `inRange` is uniform across the warp (every
/// lane takes the same branch, as shuffles need); a warp past the last
/// output works as the last one's (and stores nothing), so that its loads
/// need no guard.
struct WarpPlace {
  mlir::Value lane, warp, flat, inRange;
};
WarpPlace placeWarp(mlir::OpBuilder &b, mlir::Location loc,
                    mlir::gpu::LaunchOp launch, mlir::Value block,
                    mlir::Value total);

/// A dot whose activations are an RMSNorm's output without gains (x times a
/// factor of its row): it reads `input` (x) where it would read `normed`,
/// by the same indices, and each lane also adds up the squares of what it
/// reads (see llama-map-to-gpu's NormScale).
struct NormInput {
  mlir::OpOperand *normed;
  mlir::Value input;
};

/// A warp's share of a warp reduction's outputs at each of `rowIvs` (the
/// thread dims set; several only for a dot): part `part` of `parts`,
/// summed over the warp's lanes by shuffles; the identity where `inRange`
/// is false (a warp past the outputs, which still meets the block's
/// barrier). `weightsEarly`: a dot's first weights are read before the wait
/// for the previous kernel (emitFirstTripsEarly), which must then be at the
/// kernel's top level. `serialDims` and `sizes` (the reduction loops and
/// every loop's size) are read only where there is no dot. With `norm` (a
/// dot's), the warp's sum of the squares of its share of x follows the
/// rows' sums.
mlir::SmallVector<mlir::Value> emitWarpSums(
    mlir::OpBuilder &b, mlir::Location loc, mlir::linalg::LinalgOp op,
    const WarpReduction &reduction, const std::optional<VectorDot> &dot,
    int64_t parts, mlir::Value lane, mlir::Value part, mlir::Value inRange,
    mlir::ArrayRef<mlir::SmallVector<mlir::Value>> rowIvs,
    mlir::ArrayRef<unsigned> serialDims, mlir::ArrayRef<mlir::Value> sizes,
    bool weightsEarly, const NormInput *norm = nullptr);

/// Lane 0 of each warp of `launch`'s block leaves the warp's `sum` in
/// shared memory at [warp]; a barrier follows. Returns that memory.
mlir::Value leaveWarpSums(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::gpu::LaunchOp launch, mlir::Value isLane0,
                          mlir::Value warp, mlir::Value sum);

/// One warp per output element, or `parts` consecutive warps of one block
/// (split-k): each lane folds every 32nd element of the flattened reduction,
/// or of its warp's share (consecutive lanes read consecutive elements of
/// the innermost reduction loop, so a weight row is read coalesced); the
/// warp combines its lanes by shuffles; split warps leave their sums in
/// shared memory for the first warp of their output, which combines them
/// in order (the same result every run). Lane 0 of that warp folds the sum
/// into the output, or stores it where the output holds the identity. With
/// `norm`, the sum is first multiplied by `normFactor` of the sum of squares
/// (split warps' squares added in the same order as their sums). With
/// `shadow` (a buffer shaped as the output), each output's new value is also
/// stored there, rounded to its element type (a bf16 copy for a NormInput).
void emitWarpReduction(
    mlir::OpBuilder &b, mlir::Location loc, mlir::linalg::LinalgOp op,
    const WarpReduction &reduction, const std::optional<VectorDot> &dot,
    int64_t parts, bool initIsIdentity, mlir::gpu::LaunchOp launch,
    mlir::Value block, mlir::Value total, mlir::ArrayRef<unsigned> threadDims,
    mlir::ArrayRef<unsigned> serialDims, mlir::ArrayRef<mlir::Value> sizes,
    const NormInput *norm = nullptr,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Value)> normFactor =
        nullptr,
    mlir::Value shadow = nullptr);

} // namespace llamac

#endif // LLAMAC_PASSES_WARPREDUCTIONS_H

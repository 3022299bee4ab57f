//===- FlashAttentionKernels.h - shared attention parts ---*- C++ -*-===//
//
// llama-map-to-gpu writes llama.flash_attention as one of two attending
// kernels (FlashAttentionToGPU.cpp: a warp per query on the CUDA cores, for
// decode's few queries; FlashAttentionTensorCore.cpp: a warp per 16 queries
// on the tensor cores, for prefill's many), both followed, where the keys
// are split among warps, by the same combining kernel. What they share: the
// plan of the work, how many splits the keys fill, contiguous row loads.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_FLASHATTENTIONKERNELS_H
#define LLAMAC_PASSES_FLASHATTENTIONKERNELS_H

#include "KernelEmitter.h"
#include "llama/LlamaOps.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <string>

namespace llamac {

/// The work's layout, from the op's static shapes.
struct FlashPlan {
  int64_t seq, heads, kvHeads, headDim;
  /// Tensor-core form: a warp per 16 queries of a head, keyTile keys a loop
  /// iteration. Else a warp per query of a head:
  bool tensorCores;
  int64_t keyTile;
  int64_t laneGroup;     // lanes sharing a key row: a power of two <= 32
  int64_t perLane;       // a row's elements per lane (headDim / laneGroup)
  int64_t rowsPerStep;   // rows a warp reads at once (32 / laneGroup)
  int64_t unroll;        // steps per loop iteration
  int64_t warpsPerBlock; // query heads of one kv head
  int64_t maxSplits;
  int64_t minKeysPerSplit;
};

/// Query rows of a tensor-core warp (the mma's M).
constexpr int64_t kTensorCoreRows = 16;

/// The splits `len` keys fill: at least minKeysPerSplit keys each, at most
/// maxSplits. The attending and the combining kernel count them alike.
inline mlir::Value splitsFor(Emitter &e, const FlashPlan &p, mlir::Value len) {
  if (p.maxSplits == 1)
    return e.index(1);
  return e.min(e.index(p.maxSplits),
               e.ceilDiv(len, e.index(p.minKeysPerSplit)));
}

/// What a warp of an attending kernel works on. Items are in (split, query
/// block, head) order, `queryBlocks` a split (queries for the CUDA-core
/// kernel, 16-query blocks for the tensor-core one); the warps of a block
/// are query heads of one kv head (warpsPerBlock divides heads / kv_heads)
/// and read the same key rows, through L1.
struct WarpItem {
  mlir::Value item, head, queryBlock, split, kvHead;
};
inline WarpItem warpItem(Emitter &e, mlir::gpu::LaunchOp launch,
                         const FlashPlan &p, int64_t queryBlocks) {
  WarpItem w;
  w.item = e.add(e.mul(launch.getBlockIds().x, e.index(p.warpsPerBlock)),
                 e.div(launch.getThreadIds().x, e.index(32)));
  w.head = e.rem(w.item, e.index(p.heads));
  w.queryBlock = e.rem(e.div(w.item, e.index(p.heads)), e.index(queryBlocks));
  w.split = e.div(w.item, e.index(queryBlocks * p.heads));
  w.kvHead = e.div(w.head, e.index(p.heads / p.kvHeads));
  return w;
}

/// The byte alignment of `n` consecutive f32 of `type` starting at a
/// multiple of `n` in the innermost dimension: 16 (or 8) where the layout
/// keeps every such run that aligned, else 4.
inline unsigned runAlignment(mlir::MemRefType type, int64_t n) {
  llvm::SmallVector<int64_t> strides;
  int64_t offset;
  int64_t run = std::min<int64_t>(n, 4);
  if (!llvm::isPowerOf2_64(n) ||
      mlir::failed(type.getStridesAndOffset(strides, offset)) ||
      strides.back() != 1 || mlir::ShapedType::isDynamic(offset) ||
      offset % run != 0 ||
      !llvm::all_of(llvm::ArrayRef(strides).drop_back(), [&](int64_t s) {
        return !mlir::ShapedType::isDynamic(s) && s % run == 0;
      }))
    return 4;
  return 4 * run;
}

/// `n` consecutive f32 of `buffer` from `indices` (the innermost a multiple
/// of `n`), as one vector.
inline mlir::Value loadRun(Emitter &e, mlir::Value buffer,
                           mlir::ValueRange indices, int64_t n) {
  auto type = mlir::cast<mlir::MemRefType>(buffer.getType());
  return mlir::vector::LoadOp::create(
      e.b, e.loc, mlir::VectorType::get({n}, e.b.getF32Type()), buffer, indices,
      /*nontemporal=*/false, llvm::Align(runAlignment(type, n)));
}

/// Stores the vector `run` likewise.
inline void storeRun(Emitter &e, mlir::Value run, mlir::Value buffer,
                     mlir::ValueRange indices) {
  auto type = mlir::cast<mlir::MemRefType>(buffer.getType());
  int64_t n = mlir::cast<mlir::VectorType>(run.getType()).getNumElements();
  mlir::vector::StoreOp::create(e.b, e.loc, run, buffer, indices,
                                /*nontemporal=*/false,
                                llvm::Align(runAlignment(type, n)));
}

/// The tensor-core attending kernel (FlashAttentionTensorCore.cpp): with
/// one split it writes the normalized output, else each split's maximum,
/// sum and weighted sum into `partial*`, as the CUDA-core kernel does.
void emitTensorCoreAttendKernel(Emitter &e, mlir::llama::FlashAttentionOp op,
                                const FlashPlan &p, mlir::Value partialMax,
                                mlir::Value partialSum, mlir::Value partialAcc,
                                const std::string &name);

/// Whether the one-launch cluster form (FlashAttentionCluster.cpp, sm_90)
/// serves a plan: keys split on the CUDA cores (decode), and each warp's
/// query heads' parts fitting its registers.
bool fitsClusterAttention(const FlashPlan &p);

/// The one-launch cluster form: a thread block cluster per (query, kv
/// head) whose blocks' partial results meet in distributed shared memory;
/// writes the normalized output.
void emitClusterAttendKernel(Emitter &e, mlir::llama::FlashAttentionOp op,
                             const FlashPlan &p, const std::string &name);

} // namespace llamac

#endif // LLAMAC_PASSES_FLASHATTENTIONKERNELS_H

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

#include "F32Runs.h"
#include "KernelEmitter.h"
#include "llama/LlamaOps.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "llvm/ADT/STLExtras.h"

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
  /// Tensor-core form: Q K^T and P V as bf16 mmas (m16n8k16) instead of
  /// f32 precision from three tf32 mmas (m16n8k8); needs headDim and
  /// keyTile multiples of 16.
  bool bf16Products = false;
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

/// A warp's running state of the online softmax over its keys: the maximum
/// score, the sum of exp(score - max) and the weighted sum of value rows
/// (the lane's elements of it).
struct OnlineSoftmax {
  mlir::Value max, sum, acc;
};

/// The lane's `perLane` elements of query `s`, head `head` from `first`,
/// scaled once by the op's scale.
inline mlir::Value loadScaledQuery(Emitter &e, mlir::llama::FlashAttentionOp op,
                                   mlir::Value s, mlir::Value head,
                                   mlir::Value first, int64_t perLane) {
  llvm::SmallVector<mlir::Value> parts;
  for (int64_t i = 0; i < perLane; ++i)
    parts.push_back(
        e.mul(mlir::memref::LoadOp::create(
                  e.b, e.loc, op.getQ(),
                  mlir::ValueRange{s, head, e.add(first, e.index(i))}),
              e.f32(op.getScale().convertToFloat())));
  return mlir::vector::FromElementsOp::create(
      e.b, e.loc, mlir::VectorType::get({perLane}, e.b.getF32Type()), parts);
}

/// The rows a CUDA-core warp reads in one loop iteration: `steps` steps of
/// 32 / laneGroup rows from `step`, the lane's `perLane` elements from
/// `first` of each key and value row, and whether the row is before `end`.
/// All loads first, without branches (a load under a branch would wait
/// before the branch joins): a row past the end loads the last key (any
/// valid row), and its score becomes -inf, its weight 0. Every lane takes
/// the same trips, as the shuffles need.
struct RowLoads {
  llvm::SmallVector<mlir::Value> valid, keys, values;
};
inline RowLoads loadRows(Emitter &e, mlir::llama::FlashAttentionOp op,
                         mlir::Value step, mlir::Value end, mlir::Value len,
                         mlir::Value kvHead, mlir::Value rowInStep,
                         mlir::Value first, int64_t steps, int64_t laneGroup,
                         int64_t perLane) {
  RowLoads rows;
  mlir::Value lastRow = e.sub(len, e.index(1));
  for (int64_t u = 0; u < steps; ++u) {
    mlir::Value row =
        e.add(e.add(step, e.index(u * (32 / laneGroup))), rowInStep);
    rows.valid.push_back(e.lt(row, end));
    mlir::Value loadRow = e.min(row, lastRow);
    rows.keys.push_back(loadRun(
        e, op.getKeys(), mlir::ValueRange{kvHead, loadRow, first}, perLane));
    rows.values.push_back(loadRun(
        e, op.getValues(), mlir::ValueRange{kvHead, loadRow, first}, perLane));
  }
  return rows;
}

/// `running` after the rows of `rows` for the query part `q`: each row's
/// score the lane group's dot product (summed over its lanes by shuffles),
/// the old sums rescaled to the new maximum, the rows' weights added.
inline OnlineSoftmax attendRows(Emitter &e, mlir::Value q, const RowLoads &rows,
                                OnlineSoftmax running, int64_t laneGroup,
                                int64_t perLane) {
  llvm::SmallVector<mlir::Value> scores;
  mlir::Value stepMax = running.max;
  for (auto [key, valid] : llvm::zip(rows.keys, rows.valid)) {
    mlir::Value dot = mlir::vector::ReductionOp::create(
        e.b, e.loc, mlir::vector::CombiningKind::ADD, e.mul(q, key));
    for (int64_t offset = laneGroup / 2; offset >= 1; offset /= 2)
      dot = e.add(dot, e.shuffleXor(dot, offset));
    scores.push_back(e.select(valid, dot, e.minusInf()));
    stepMax = e.max(stepMax, scores.back());
  }
  mlir::Value ref = e.reference(stepMax);
  mlir::Value rescale = e.exp(e.sub(running.max, ref));
  mlir::Value sum = e.mul(running.sum, rescale);
  mlir::Value acc = e.mul(running.acc, e.splat(rescale, perLane));
  for (auto [score, value] : llvm::zip(scores, rows.values)) {
    mlir::Value weight = e.exp(e.sub(score, ref));
    sum = e.add(sum, weight);
    acc = mlir::vector::FMAOp::create(e.b, e.loc, e.splat(weight, perLane),
                                      value, acc);
  }
  return {stepMax, sum, acc};
}

/// The warp's lane groups read different keys: their states merged, so
/// that every group holds the warp's.
inline OnlineSoftmax mergeLaneGroups(Emitter &e, OnlineSoftmax mine,
                                     int64_t laneGroup, int64_t perLane) {
  auto vecType = mlir::VectorType::get({perLane}, e.b.getF32Type());
  for (int64_t offset = laneGroup; offset < 32; offset *= 2) {
    mlir::Value otherMax = e.shuffleXor(mine.max, offset);
    mlir::Value otherSum = e.shuffleXor(mine.sum, offset);
    llvm::SmallVector<mlir::Value> otherParts;
    for (int64_t i = 0; i < perLane; ++i)
      otherParts.push_back(e.shuffleXor(
          mlir::vector::ExtractOp::create(e.b, e.loc, mine.acc, i), offset));
    mlir::Value otherAcc =
        mlir::vector::FromElementsOp::create(e.b, e.loc, vecType, otherParts);
    mlir::Value merged = e.max(mine.max, otherMax);
    mlir::Value ref = e.reference(merged);
    mlir::Value ours = e.exp(e.sub(mine.max, ref));
    mlir::Value theirs = e.exp(e.sub(otherMax, ref));
    mine.sum = e.add(e.mul(mine.sum, ours), e.mul(otherSum, theirs));
    mine.acc = e.add(e.mul(mine.acc, e.splat(ours, perLane)),
                     e.mul(otherAcc, e.splat(theirs, perLane)));
    mine.max = merged;
  }
  return mine;
}

/// Stores a warp's partial result (its lane group's part of it; call in a
/// branch of one lane group): the lane's acc elements at `accBase` on in
/// `accBuffer`, and from lane 0 the maximum and sum at `at`.
inline void storePartial(Emitter &e, OnlineSoftmax state, mlir::Value lane,
                         mlir::Value maxBuffer, mlir::Value sumBuffer,
                         mlir::Value accBuffer, mlir::Value at,
                         mlir::Value accBase, int64_t perLane) {
  for (int64_t i = 0; i < perLane; ++i)
    mlir::memref::StoreOp::create(
        e.b, e.loc, mlir::vector::ExtractOp::create(e.b, e.loc, state.acc, i),
        accBuffer, mlir::ValueRange{e.add(accBase, e.index(i))});
  e.onLaneZero(lane, [&] {
    mlir::memref::StoreOp::create(e.b, e.loc, state.max, maxBuffer,
                                  mlir::ValueRange{at});
    mlir::memref::StoreOp::create(e.b, e.loc, state.sum, sumBuffer,
                                  mlir::ValueRange{at});
  });
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

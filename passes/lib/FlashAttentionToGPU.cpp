//===- FlashAttentionToGPU.cpp - one-pass attention kernels -----*- C++ -*-===//
//
// llama.flash_attention on buffers becomes
//  1. a kernel with one warp per (split of the keys, query, head): the warp
//     reads its split's key and value rows once (each row spread over a
//     group of lanes, 16-byte loads where head_dim allows, several rows'
//     loads in flight), keeping a running maximum, sum and weighted sum of
//     value rows (online softmax), so that no score reaches memory;
//  2. where the keys are split (decode: one query, many keys, too few warps
//     otherwise), a kernel with a thread per output element that rescales
//     the splits' partial sums to their common maximum and adds them in
//     split order: the same bits every run, no atomics.
// The warps of a block are query heads of one kv head (GQA), so the rows
// they read are shared through L1. Prefill's chunks (16 queries or more)
// attend on the tensor cores instead (FlashAttentionTensorCore.cpp), with
// the same splits and combining kernel.
//
//===----------------------------------------------------------------------===//
#include "FlashAttentionToGPU.h"
#include "FlashAttentionKernels.h"
#include "KernelNamer.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <limits>

using namespace mlir;

namespace {

using llamac::Emitter;
using llamac::FlashPlan;
using llamac::splitsFor;

/// Warps the first kernel should have at least (132 SMs on an H100/H200,
/// up to 64 warps each): fewer queries x heads than this split the keys.
/// Each warp's keys are a chain of dependent steps (loads, then shuffles
/// and exps), so the kernel is latency-bound: more, shorter splits. At
/// 4,096 keys 32 splits left 128 keys (16 dependent iterations) a warp and
/// read the cache at a quarter of the bandwidth.
constexpr int64_t kTargetWarps = 4096;
constexpr int64_t kMaxSplits = 128;
constexpr int64_t kMinKeysPerSplit = 16;
/// Key rows whose loads a warp issues before it uses the first.
constexpr int64_t kRowsInFlight = 8;
/// Splits whose partial results a combining thread loads at once.
constexpr int64_t kCombineUnroll = 16;
/// Small blocks: the kernel is a few thousand threads (1B: 2,048, 8B:
/// 4,096), each a latency chain of loads; 256 a block put them on 8-16 of
/// the 132 SMs, 64 a block on 32-64.
constexpr int64_t kCombineBlock = 64;
/// The tensor-core form (16 queries a warp, ~180 registers a thread: about
/// 11 warps an SM) wants fewer warps; its splits are at least a key tile.
/// Beyond 128 head dims its fragments no longer fit the registers. (2,048
/// and 4,096 warps were measured slower on the 1B: KERNEL_NOTES, session 9.)
constexpr int64_t kTensorCoreTargetWarps = 1024;
constexpr int64_t kTensorCoreMaxHeadDim = 128;

FlashPlan planFlash(llama::FlashAttentionOp op) {
  FlashPlan p;
  p.seq = op.getSeqLen();
  p.heads = op.getNumHeads();
  p.kvHeads = op.getNumKVHeads();
  p.headDim = op.getHeadDim();
  p.laneGroup = 32;
  while (p.headDim % p.laneGroup)
    p.laneGroup /= 2;
  p.perLane = p.headDim / p.laneGroup;
  p.rowsPerStep = 32 / p.laneGroup;
  p.unroll = std::max<int64_t>(1, kRowsInFlight / p.rowsPerStep);
  int64_t group = p.heads / p.kvHeads;
  p.warpsPerBlock = 1;
  while (p.warpsPerBlock < 8 && group % (2 * p.warpsPerBlock) == 0)
    p.warpsPerBlock *= 2;
  p.tensorCores = p.seq >= llamac::kTensorCoreRows && p.headDim % 8 == 0 &&
                  p.headDim <= kTensorCoreMaxHeadDim;
  // Keys a tensor-core loop iteration: ~2,048 key elements in registers.
  p.keyTile = std::clamp<int64_t>(2048 / p.headDim / 8 * 8, 16, 64);
  int64_t items = p.seq * p.heads, target = kTargetWarps;
  p.minKeysPerSplit = kMinKeysPerSplit;
  if (p.tensorCores) {
    items = (p.seq + llamac::kTensorCoreRows - 1) / llamac::kTensorCoreRows *
            p.heads;
    target = kTensorCoreTargetWarps;
    p.minKeysPerSplit = p.keyTile;
  }
  p.maxSplits =
      std::clamp<int64_t>((target + items - 1) / items, 1, kMaxSplits);
  return p;
}

/// Kernel 1: each warp's online softmax over its split of the keys. With
/// one split it writes the normalized output; with several, the split's
/// maximum, sum and weighted sum go to `partial*` for kernel 2.
void emitAttendKernel(Emitter &e, llama::FlashAttentionOp op,
                      const FlashPlan &p, Value partialMax, Value partialSum,
                      Value partialAcc, const std::string &name) {
  const int64_t S = p.seq, H = p.heads, D = p.headDim, E = p.perLane,
                L = p.laneGroup, P = p.rowsPerStep;
  // A warp for each of maxSplits splits, however many keys there are: the
  // grid does not depend on the position (a decode step is then the same
  // launches every step, replayable as one CUDA graph). The keys' count
  // and their splits are worked out in the kernel; splits past the keys
  // are empty (maximum -inf, sum 0: weight 0 in the combining kernel).
  const int64_t items = p.maxSplits * S * H;
  OpBuilder::InsertionGuard guard(e.b);
  gpu::LaunchOp launch =
      e.launchWarps(e.index(items / p.warpsPerBlock), p.warpsPerBlock, name);
  Value len = memref::DimOp::create(e.b, e.loc, op.getKeys(), 1);
  // Each split a whole number of loop iterations (the last may be empty).
  Value splits = splitsFor(e, p, len);
  Value rowsPerIteration = e.index(P * p.unroll);
  Value chunk = e.mul(e.ceilDiv(e.ceilDiv(len, splits), rowsPerIteration),
                      rowsPerIteration);
  Value tid = launch.getThreadIds().x;
  Value lane = e.rem(tid, e.index(32));
  llamac::WarpItem w = llamac::warpItem(e, launch, p, S);
  Value item = w.item, h = w.head, s = w.queryBlock, split = w.split,
        kvHead = w.kvHead;
  Value rowInStep = e.div(lane, e.index(L));
  Value first = e.mul(e.rem(lane, e.index(L)), e.index(E));
  // Query s sees the keys up to its own position, len - S + s.
  Value visibleEnd = e.add(e.sub(len, e.index(S)), e.add(s, e.index(1)));
  Value begin = e.mul(split, chunk);
  Value end = e.min(e.add(begin, chunk), visibleEnd);

  // The lane's part of the query, scaled once.
  Value q = llamac::loadScaledQuery(e, op, s, h, first, E);

  Value zeros = e.splat(e.f32(0.0), E);
  auto loop = scf::ForOp::create(e.b, e.loc, begin, end, e.index(P * p.unroll),
                                 ValueRange{e.minusInf(), e.f32(0.0), zeros});
  {
    OpBuilder::InsertionGuard inLoop(e.b);
    e.b.setInsertionPointToStart(loop.getBody());
    llamac::RowLoads rows =
        llamac::loadRows(e, op, loop.getInductionVar(), end, len, kvHead,
                         rowInStep, first, p.unroll, L, E);
    llamac::OnlineSoftmax next = llamac::attendRows(
        e, q, rows,
        {loop.getRegionIterArgs()[0], loop.getRegionIterArgs()[1],
         loop.getRegionIterArgs()[2]},
        L, E);
    scf::YieldOp::create(e.b, e.loc, ValueRange{next.max, next.sum, next.acc});
  }
  llamac::OnlineSoftmax warpState = llamac::mergeLaneGroups(
      e, {loop.getResult(0), loop.getResult(1), loop.getResult(2)}, L, E);

  // Lane group 0 writes (every group holds the same after the merge).
  auto writes = scf::IfOp::create(e.b, e.loc, e.eq(rowInStep, e.index(0)),
                                  /*withElseRegion=*/false);
  e.b.setInsertionPointToStart(&writes.getThenRegion().front());
  if (p.maxSplits == 1) {
    // Key 0 is visible to every query: the sum is positive.
    Value normalized = e.div(warpState.acc, e.splat(warpState.sum, E));
    for (int64_t i = 0; i < E; ++i)
      memref::StoreOp::create(
          e.b, e.loc, vector::ExtractOp::create(e.b, e.loc, normalized, i),
          op.getInit(), ValueRange{s, h, e.add(first, e.index(i))});
    return;
  }
  llamac::storePartial(e, warpState, lane, partialMax, partialSum, partialAcc,
                       item, e.add(e.mul(item, e.index(D)), first), E);
}

/// Kernel 2: out[s, h, d] = sum_k w_k acc_k[d] / sum_k w_k sum_k over the
/// splits k, w_k = exp(max_k - max), a thread per output element. One pass
/// in split order with the same running rescale as kernel 1, kCombineUnroll
/// splits' loads at a time (an empty split holds -inf, 0, 0: weight 0).
void emitCombineKernel(Emitter &e, llama::FlashAttentionOp op,
                       const FlashPlan &p, Value partialMax, Value partialSum,
                       Value partialAcc, const std::string &name) {
  const int64_t S = p.seq, H = p.heads, D = p.headDim;
  const int64_t unroll = std::min(kCombineUnroll, p.maxSplits);
  OpBuilder::InsertionGuard guard(e.b);
  gpu::LaunchOp launch =
      e.launchWarps(e.index((S * H * D + kCombineBlock - 1) / kCombineBlock),
                    kCombineBlock / 32, name);
  Value flat = e.add(e.mul(launch.getBlockIds().x, e.index(kCombineBlock)),
                     launch.getThreadIds().x);
  auto inRange = scf::IfOp::create(e.b, e.loc, e.lt(flat, e.index(S * H * D)),
                                   /*withElseRegion=*/false);
  e.b.setInsertionPointToStart(&inRange.getThenRegion().front());
  Value item = e.div(flat, e.index(D)), d = e.rem(flat, e.index(D));
  // The splits the keys filled (as kernel 1 counts them); the rest are
  // empty.
  Value splits = splitsFor(e, p, memref::DimOp::create(e.b, e.loc,
                                                       op.getKeys(), 1));
  auto loop = scf::ForOp::create(
      e.b, e.loc, e.index(0), splits, e.index(unroll),
      ValueRange{e.minusInf(), e.f32(0.0), e.f32(0.0)});
  {
    OpBuilder::InsertionGuard inLoop(e.b);
    e.b.setInsertionPointToStart(loop.getBody());
    Value runningMax = loop.getRegionIterArgs()[0];
    SmallVector<Value> maxima, sums, accs;
    // Unconditional loads (of the last split past the end, whose maximum
    // then reads -inf: weight 0), all issued before the first is used.
    Value lastSplit = e.sub(splits, e.index(1));
    for (int64_t u = 0; u < unroll; ++u) {
      Value k = e.add(loop.getInductionVar(), e.index(u));
      Value at = e.add(e.mul(e.min(k, lastSplit), e.index(S * H)), item);
      Value m = memref::LoadOp::create(e.b, e.loc, partialMax, at);
      maxima.push_back(e.select(e.lt(k, splits), m, e.minusInf()));
      sums.push_back(memref::LoadOp::create(e.b, e.loc, partialSum, at));
      accs.push_back(memref::LoadOp::create(e.b, e.loc, partialAcc,
                                            e.add(e.mul(at, e.index(D)), d)));
    }
    Value maximum = runningMax;
    for (Value m : maxima)
      maximum = e.max(maximum, m);
    Value ref = e.reference(maximum);
    Value rescale = e.exp(e.sub(runningMax, ref));
    Value sum = e.mul(loop.getRegionIterArgs()[1], rescale);
    Value acc = e.mul(loop.getRegionIterArgs()[2], rescale);
    for (int64_t u = 0; u < unroll; ++u) {
      Value weight = e.exp(e.sub(maxima[u], ref));
      sum = e.add(sum, e.mul(weight, sums[u]));
      acc = e.add(acc, e.mul(weight, accs[u]));
    }
    scf::YieldOp::create(e.b, e.loc, ValueRange{maximum, sum, acc});
  }
  Value s = e.div(item, e.index(H)), h = e.rem(item, e.index(H));
  memref::StoreOp::create(e.b, e.loc,
                          e.div(loop.getResult(2), loop.getResult(1)),
                          op.getInit(), ValueRange{s, h, d});
}

} // namespace

LogicalResult llamac::mapFlashAttentionToGPU(llama::FlashAttentionOp op,
                                             KernelNamer &namer, bool clusters,
                                             bool bf16Products) {
  if (!op.getResult().empty())
    return op->emitOpError("is not on buffers; bufferize before "
                           "llama-map-to-gpu");
  for (Value rows : {op.getKeys(), op.getValues()}) {
    SmallVector<int64_t> strides;
    int64_t offset;
    if (failed(cast<MemRefType>(rows.getType())
                   .getStridesAndOffset(strides, offset)) ||
        strides.back() != 1)
      return op->emitOpError("needs key and value rows contiguous");
  }
  FlashPlan p = planFlash(op);
  p.bf16Products = bf16Products && p.tensorCores && p.headDim % 16 == 0 &&
                   p.keyTile % 16 == 0;
  OpBuilder b(op);
  Emitter e{b, op.getLoc()};
  if (clusters && llamac::fitsClusterAttention(p)) {
    llamac::emitClusterAttendKernel(e, op, p, namer.name(op, "flash_cluster"));
    op->erase();
    return success();
  }
  Value partialMax, partialSum, partialAcc;
  int64_t entries = p.maxSplits * p.seq * p.heads;
  if (p.maxSplits > 1) {
    auto f32 = b.getF32Type();
    partialMax =
        memref::AllocOp::create(b, e.loc, MemRefType::get({entries}, f32));
    partialSum =
        memref::AllocOp::create(b, e.loc, MemRefType::get({entries}, f32));
    partialAcc = memref::AllocOp::create(
        b, e.loc, MemRefType::get({entries * p.headDim}, f32));
  }
  if (p.tensorCores)
    llamac::emitTensorCoreAttendKernel(e, op, p, partialMax, partialSum,
                                       partialAcc, namer.name(op, "flash_mma"));
  else
    emitAttendKernel(e, op, p, partialMax, partialSum, partialAcc,
                     namer.name(op, "flash"));
  if (p.maxSplits > 1) {
    emitCombineKernel(e, op, p, partialMax, partialSum, partialAcc,
                      namer.name(op, "flash_combine"));
    for (Value buffer : {partialMax, partialSum, partialAcc})
      memref::DeallocOp::create(b, e.loc, buffer);
  }
  op->erase();
  return success();
}

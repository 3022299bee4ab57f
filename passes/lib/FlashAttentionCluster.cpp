//===- FlashAttentionCluster.cpp - decode attention, one launch -*- C++ -*-===//
//
// Decode has one query per sequence: a warp per (query, head) is too few
// warps, so the CUDA-core form splits the keys among warps and a second
// kernel combines the splits. Each of the two is a chain of dependent
// memory round trips after a grid-wide wait, and in the decode step's graph
// they cost about what their neighbours' bytes do (KERNEL_NOTES, session
// 16). On sm_90 the splits can meet on the chip instead: a thread block
// cluster (kClusterBlocks blocks scheduled together, each reading the
// others' shared memory) per (query, kv head), so that
//  1. each warp of each block takes a contiguous run of the keys and keeps,
//     for every query head of the kv head (GQA: the rows it loads serve all
//     of them), a running maximum, sum and weighted sum of value rows;
//  2. the block's warps meet in its shared memory (a barrier), in warp
//     order;
//  3. the blocks meet through distributed shared memory after a cluster
//     barrier: each block combines a slice of the output elements from
//     every block's partial, in block order, and writes it normalized;
//  4. a second cluster barrier keeps every block's shared memory alive
//     until the others have read it.
// The same bits every run (fixed orders, no atomics), one launch.
//
//===----------------------------------------------------------------------===//
#include "FlashAttentionKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>

using namespace mlir;

namespace llamac {
namespace {

constexpr int64_t kClusterBlocks = 8; // the portable cluster size
/// Warps a block: 8, or 16 where key rows are 64 floats or fewer (the same
/// bytes in flight a block). Measured on an H200 (KERNEL_NOTES, session 16):
/// the 1B (head_dim 64) 4% faster at 4,096 keys with 16 than with 8, the 8B
/// (head_dim 128) 3% slower.
int64_t clusterWarps(const FlashPlan &p) { return p.headDim <= 64 ? 16 : 8; }
/// A warp's registers: its query heads' query parts and weighted sums.
constexpr int64_t kMaxHeadElementsPerLane = 32;
/// Key rows a warp loads before it uses the first.
constexpr int64_t kClusterRowsInFlight = 8;

/// The lanes sharing a key row: as few as the registers allow, since each
/// row's score for each query head is a dot product summed over them by
/// shuffles (log2 of them a head and row: with 32 lanes a row, the 1B's 4
/// heads took 160 shuffles for 8 rows, and the kernel was latency-bound at
/// 4,096 keys). 0 where even 32 lanes leave too many elements a lane.
int64_t clusterLaneGroup(const FlashPlan &p) {
  int64_t group = p.heads / p.kvHeads;
  for (int64_t lanes = 1; lanes <= 32; lanes *= 2)
    if (p.headDim % lanes == 0 &&
        group * (p.headDim / lanes) <= kMaxHeadElementsPerLane)
      return lanes;
  return 0;
}

/// An f32 of another block's copy of the workgroup buffer `buffer` (1-D),
/// element `i`, the block of cluster rank `rank` (i32): distributed shared
/// memory (`mapa` then `ld.shared::cluster`).
Value loadFromBlock(Emitter &e, Value buffer, Value i, Value rank) {
  auto *ctx = e.b.getContext();
  auto shared = LLVM::LLVMPointerType::get(ctx, 3);
  auto cluster = LLVM::LLVMPointerType::get(ctx, 7);
  Value base = arith::IndexCastUIOp::create(
      e.b, e.loc, e.b.getI64Type(),
      memref::ExtractAlignedPointerAsIndexOp::create(e.b, e.loc, buffer));
  Value address =
      e.add(base, arith::IndexCastUIOp::create(e.b, e.loc, e.b.getI64Type(),
                                               e.mul(i, e.index(4))));
  Value local = LLVM::IntToPtrOp::create(e.b, e.loc, shared, address);
  Value remote = NVVM::MapaOp::create(e.b, e.loc, cluster, local, rank);
  return LLVM::LoadOp::create(e.b, e.loc, e.b.getF32Type(), remote);
}

void clusterBarrier(Emitter &e) {
  // arrive releases this thread's shared-memory writes, wait acquires the
  // other blocks'.
  NVVM::ClusterArriveOp::create(e.b, e.loc, e.b.getUnitAttr());
  NVVM::ClusterWaitOp::create(e.b, e.loc, e.b.getUnitAttr());
}

/// Partial results combined in order: each one's sum and weighted sum
/// rescaled to their common maximum and added.
OnlineSoftmax combineInOrder(Emitter &e, ArrayRef<OnlineSoftmax> parts) {
  Value maximum = e.minusInf();
  for (const OnlineSoftmax &part : parts)
    maximum = e.max(maximum, part.max);
  Value ref = e.reference(maximum);
  Value sum = e.f32(0.0), acc = e.f32(0.0);
  for (const OnlineSoftmax &part : parts) {
    Value weight = e.exp(e.sub(part.max, ref));
    sum = e.add(sum, e.mul(weight, part.sum));
    acc = e.add(acc, e.mul(weight, part.acc));
  }
  return {maximum, sum, acc};
}

/// A loop over `[from, to)` step `step` whose body `body(iv)` builds in it.
template <typename Body>
void forRange(Emitter &e, Value from, Value to, int64_t step, Body body) {
  auto loop = scf::ForOp::create(e.b, e.loc, from, to, e.index(step));
  OpBuilder::InsertionGuard guard(e.b);
  e.b.setInsertionPoint(loop.getBody()->getTerminator());
  body(loop.getInductionVar());
}

} // namespace

bool fitsClusterAttention(const FlashPlan &p) {
  // The warps' and the block's partials (maximum, sum, weighted sum of
  // each query head) in static shared memory, at most 48 KiB a block.
  int64_t group = p.heads / p.kvHeads;
  int64_t sharedBytes = 4 * (clusterWarps(p) + 1) * group * (p.headDim + 2);
  return !p.tensorCores && p.maxSplits > 1 && clusterLaneGroup(p) > 0 &&
         sharedBytes <= 48 * 1024;
}

void emitClusterAttendKernel(Emitter &e, llama::FlashAttentionOp op,
                             const FlashPlan &p, const std::string &name) {
  const int64_t L = clusterLaneGroup(p), S = p.seq, D = p.headDim, E = D / L,
                P = 32 / L, U = std::max<int64_t>(1, kClusterRowsInFlight / P),
                C = kClusterBlocks, W = clusterWarps(p), T = 32 * W,
                R = p.heads / p.kvHeads;
  OpBuilder::InsertionGuard guard(e.b);
  MLIRContext *ctx = e.b.getContext();
  Value one = e.index(1), clusterSize = e.index(C);
  auto workgroup =
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto f32 = e.b.getF32Type();
  auto buffer = [&](int64_t n) -> Type {
    return MemRefType::get({n}, f32, MemRefLayoutAttrInterface(), workgroup);
  };
  // Each warp's partial (step 2's input) and the block's (step 3's). (Given
  // to the builder: addWorkgroupAttribution misplaces them in a launch with
  // clusters.)
  SmallVector<Type> shared = {buffer(W * R), buffer(W * R), buffer(W * R * D),
                              buffer(R),     buffer(R),     buffer(R * D)};
  auto launch = gpu::LaunchOp::create(
      e.b, e.loc, e.index(C * S * p.kvHeads), one, one, e.index(T), one, one,
      /*dynamicSharedMemorySize=*/nullptr,
      /*asyncTokenType=*/nullptr, /*asyncDependencies=*/{}, shared,
      /*privateAttributions=*/{}, clusterSize, one, one);
  // MLIR 22's builder leaves out the body's cluster id and size arguments
  // (the parser makes them, after the 12 of blocks and threads).
  Block &body = launch.getBody().front();
  if (body.getNumArguments() <
      launch.getNumConfigRegionAttributes() + shared.size())
    for (unsigned i = 12; i < launch.getNumConfigRegionAttributes(); ++i)
      body.insertArgument(i, e.b.getIndexType(), e.loc);
  auto symbol = FlatSymbolRefAttr::get(ctx, name);
  launch.setModuleAttr(symbol);
  launch.setFunctionAttr(symbol);
  e.b.setInsertionPointToStart(&body);
  e.b.setInsertionPoint(gpu::TerminatorOp::create(e.b, e.loc));
  auto buffers = launch.getWorkgroupAttributions();
  Value warpMax = buffers[0], warpSum = buffers[1], warpAcc = buffers[2];
  Value blockMax = buffers[3], blockSum = buffers[4], blockAcc = buffers[5];

  Value block = launch.getBlockIds().x, tid = launch.getThreadIds().x;
  Value rank = e.rem(block, clusterSize);
  Value item = e.div(block, clusterSize); // (query, kv head)
  Value s = e.div(item, e.index(p.kvHeads));
  Value kvHead = e.rem(item, e.index(p.kvHeads));
  Value warp = e.div(tid, e.index(32)), lane = e.rem(tid, e.index(32));
  Value rowInStep = e.div(lane, e.index(L));
  Value first = e.mul(e.rem(lane, e.index(L)), e.index(E));

  // The keys this warp reads: run rank * W + warp of C * W, each a whole
  // number of loop iterations.
  Value len = memref::DimOp::create(e.b, e.loc, op.getKeys(), 1);
  Value rowsPerIteration = e.index(P * U);
  Value chunk =
      e.mul(e.ceilDiv(e.ceilDiv(len, e.index(C * W)), rowsPerIteration),
            rowsPerIteration);
  Value visibleEnd = e.add(e.sub(len, e.index(S)), e.add(s, one));
  Value begin = e.mul(e.add(e.mul(rank, e.index(W)), warp), chunk);
  Value end = e.min(e.add(begin, chunk), visibleEnd);

  // The lane's part of each query head's query.
  SmallVector<Value> q;
  for (int64_t r = 0; r < R; ++r)
    q.push_back(loadScaledQuery(
        e, op, s, e.add(e.mul(kvHead, e.index(R)), e.index(r)), first, E));

  // Step 1: per query head, a running (max, sum, acc) as iteration values.
  Value zeros = e.splat(e.f32(0.0), E);
  SmallVector<Value> inits;
  for (int64_t r = 0; r < R; ++r)
    inits.append({e.minusInf(), e.f32(0.0), zeros});
  auto loop =
      scf::ForOp::create(e.b, e.loc, begin, end, rowsPerIteration, inits);
  {
    OpBuilder::InsertionGuard inLoop(e.b);
    e.b.setInsertionPointToStart(loop.getBody());
    RowLoads rows = loadRows(e, op, loop.getInductionVar(), end, len, kvHead,
                             rowInStep, first, U, L, E);
    SmallVector<Value> yields;
    for (int64_t r = 0; r < R; ++r) {
      OnlineSoftmax next = attendRows(e, q[r], rows,
                                      {loop.getRegionIterArgs()[3 * r],
                                       loop.getRegionIterArgs()[3 * r + 1],
                                       loop.getRegionIterArgs()[3 * r + 2]},
                                      L, E);
      yields.append({next.max, next.sum, next.acc});
    }
    scf::YieldOp::create(e.b, e.loc, yields);
  }

  // The warp's lane groups merged, then lane group 0 writes the warp's
  // partial of each head.
  for (int64_t r = 0; r < R; ++r) {
    OnlineSoftmax warpState =
        mergeLaneGroups(e,
                        {loop.getResult(3 * r), loop.getResult(3 * r + 1),
                         loop.getResult(3 * r + 2)},
                        L, E);
    Value at = e.add(e.mul(warp, e.index(R)), e.index(r));
    auto writes = scf::IfOp::create(e.b, e.loc, e.eq(rowInStep, e.index(0)),
                                    /*withElseRegion=*/false);
    OpBuilder::InsertionGuard inIf(e.b);
    e.b.setInsertionPointToStart(&writes.getThenRegion().front());
    storePartial(e, warpState, lane, warpMax, warpSum, warpAcc, at,
                 e.add(e.mul(at, e.index(D)), first), E);
  }
  gpu::BarrierOp::create(e.b, e.loc);

  // Step 2: the block's partial, element (r, d) by thread, warps in order.
  forRange(e, tid, e.index(R * D), T, [&](Value f) {
    Value r = e.div(f, e.index(D));
    SmallVector<OnlineSoftmax> parts;
    for (int64_t w = 0; w < W; ++w) {
      Value at = e.add(e.index(w * R), r);
      parts.push_back({memref::LoadOp::create(e.b, e.loc, warpMax, at),
                       memref::LoadOp::create(e.b, e.loc, warpSum, at),
                       memref::LoadOp::create(e.b, e.loc, warpAcc,
                                              e.add(e.index(w * R * D), f))});
    }
    OnlineSoftmax combined = combineInOrder(e, parts);
    memref::StoreOp::create(e.b, e.loc, combined.acc, blockAcc, ValueRange{f});
    auto first =
        scf::IfOp::create(e.b, e.loc, e.eq(e.rem(f, e.index(D)), e.index(0)),
                          /*withElseRegion=*/false);
    OpBuilder::InsertionGuard inIf(e.b);
    e.b.setInsertionPointToStart(&first.getThenRegion().front());
    memref::StoreOp::create(e.b, e.loc, combined.max, blockMax, ValueRange{r});
    memref::StoreOp::create(e.b, e.loc, combined.sum, blockSum, ValueRange{r});
  });
  clusterBarrier(e);

  // Step 3: this block's slice of the elements, from every block in rank
  // order, normalized into the output.
  const int64_t perBlock = (R * D + C - 1) / C;
  Value sliceBegin = e.mul(rank, e.index(perBlock));
  Value sliceEnd = e.min(e.add(sliceBegin, e.index(perBlock)), e.index(R * D));
  forRange(e, e.add(sliceBegin, tid), sliceEnd, T, [&](Value f) {
    Value r = e.div(f, e.index(D)), d = e.rem(f, e.index(D));
    SmallVector<OnlineSoftmax> parts;
    for (int64_t c = 0; c < C; ++c) {
      Value from =
          arith::ConstantOp::create(e.b, e.loc, e.b.getI32IntegerAttr(c));
      parts.push_back({loadFromBlock(e, blockMax, r, from),
                       loadFromBlock(e, blockSum, r, from),
                       loadFromBlock(e, blockAcc, f, from)});
    }
    OnlineSoftmax combined = combineInOrder(e, parts);
    // Key 0 is visible to every query: the sum is positive.
    Value head = e.add(e.mul(kvHead, e.index(R)), r);
    memref::StoreOp::create(e.b, e.loc, e.div(combined.acc, combined.sum),
                            op.getInit(), ValueRange{s, head, d});
  });
  // Step 4: no block leaves while another may still read its memory.
  clusterBarrier(e);
}

} // namespace llamac

//===- ArgmaxToGPU.cpp - llama.argmax_rows -> one kernel --------*- C++ -*-===//
//
// Greedy decoding on the GPU: only the token id crosses PCIe, not a 0.5 MB
// row of logits. A row is 128k floats that the lm_head has just written
// (in L2), so one block of 1,024 threads a row reads it in a few
// microseconds: each thread scans every 1,024th run of 4 floats in order
// (four runs in flight),
// then the block combines the threads' (maximum, index) pairs by shuffles
// and through shared memory. NaN counts as -inf and ties go to the lower
// index, as the runtime's host argmax has it.
//
//===----------------------------------------------------------------------===//
#include "ArgmaxToGPU.h"
#include "FlashAttentionKernels.h"
#include "KernelEmitter.h"
#include "KernelNamer.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using llamac::Emitter;

namespace {

constexpr int64_t kArgmaxWarps = 32;
/// Runs a thread has in flight: 64 KB a block, about what one SM needs to
/// stream from L2 at full rate.
constexpr int64_t kArgmaxUnroll = 4;

/// A (value, index) pair of the running argmax.
struct Best {
  Value value, index; // f32, i32
};

/// `a` or `b`, whichever has the larger value, the lower index among
/// equals.
Best better(Emitter &e, Best a, Best b) {
  Value greater = arith::CmpFOp::create(e.b, e.loc, arith::CmpFPredicate::OGT,
                                        b.value, a.value);
  Value equal = arith::CmpFOp::create(e.b, e.loc, arith::CmpFPredicate::OEQ,
                                      b.value, a.value);
  Value lower = arith::CmpIOp::create(e.b, e.loc, arith::CmpIPredicate::slt,
                                      b.index, a.index);
  Value takeB = arith::OrIOp::create(
      e.b, e.loc, greater, arith::AndIOp::create(e.b, e.loc, equal, lower));
  return {e.select(takeB, b.value, a.value), e.select(takeB, b.index, a.index)};
}

/// The warp's best pair, in every lane.
Best warpBest(Emitter &e, Best best) {
  for (int64_t offset = 16; offset >= 1; offset /= 2)
    best = better(
        e, best,
        {e.shuffleXor(best.value, offset), e.shuffleXor(best.index, offset)});
  return best;
}

} // namespace

LogicalResult llamac::mapArgmaxToGPU(llama::ArgmaxRowsOp op,
                                     KernelNamer &namer) {
  if (!op.getResult().empty())
    return op->emitOpError("is not on buffers; bufferize before "
                           "llama-map-to-gpu");
  auto inputType = cast<MemRefType>(op.getInput().getType());
  const int64_t seq = inputType.getDimSize(1), vocab = inputType.getDimSize(2);
  const int64_t rows = inputType.getDimSize(0) * seq;
  // Runs of 4 where every row starts 16-byte aligned.
  const int64_t run =
      vocab % 4 == 0 && runAlignment(inputType, 4) == 16 ? 4 : 1;
  const int64_t threads = 32 * kArgmaxWarps;

  OpBuilder b(op);
  Emitter e{b, op.getLoc()};
  gpu::LaunchOp launch =
      e.launchWarps(e.index(rows), kArgmaxWarps, namer.name(op, "argmax"));
  Value row = launch.getBlockIds().x, tid = launch.getThreadIds().x;
  Value batch = e.div(row, e.index(seq)), position = e.rem(row, e.index(seq));
  auto i32 = b.getI32Type();
  auto toI32 = [&](Value index) {
    return arith::IndexCastOp::create(b, e.loc, i32, index).getResult();
  };

  // The thread's own scan, in increasing index order. Its first index is
  // where it starts, so a thread that sees only -inf (or NaN) answers the
  // lowest of them; one with no elements at all answers past the end.
  Value first = e.mul(tid, e.index(run));
  Value start = e.select(e.lt(first, e.index(vocab)), toI32(first),
                         arith::ConstantIntOp::create(b, e.loc, i32, vocab));
  const int64_t stride = threads * run;
  auto scan = scf::ForOp::create(b, e.loc, first, e.index(vocab),
                                 e.index(stride * kArgmaxUnroll),
                                 ValueRange{e.minusInf(), start});
  {
    OpBuilder::InsertionGuard inScan(b);
    b.setInsertionPointToStart(scan.getBody());
    Best best{scan.getRegionIterArgs()[0], scan.getRegionIterArgs()[1]};
    // kArgmaxUnroll runs a trip, all loaded before the first is compared;
    // a run past the end loads the last run instead and counts as -inf.
    SmallVector<std::pair<Value, SmallVector<Value>>> trips;
    for (int64_t u = 0; u < kArgmaxUnroll; ++u) {
      Value at = e.add(scan.getInductionVar(), e.index(u * stride));
      Value pastEnd = arith::CmpIOp::create(
          b, e.loc, arith::CmpIPredicate::uge, at, e.index(vocab));
      Value clamped = e.select(pastEnd, e.index(vocab - run), at);
      SmallVector<Value> values;
      if (run > 1) {
        Value loaded = loadRun(e, op.getInput(),
                               ValueRange{batch, position, clamped}, run);
        for (int64_t j = 0; j < run; ++j)
          values.push_back(vector::ExtractOp::create(b, e.loc, loaded, j));
      } else {
        values.push_back(memref::LoadOp::create(
            b, e.loc, op.getInput(), ValueRange{batch, position, clamped}));
      }
      for (Value &x : values) {
        Value isNaN =
            arith::CmpFOp::create(b, e.loc, arith::CmpFPredicate::UNO, x, x);
        Value skip = arith::OrIOp::create(b, e.loc, isNaN, pastEnd);
        x = e.select(skip, e.minusInf(), x);
      }
      trips.push_back({at, std::move(values)});
    }
    for (auto &[at, values] : trips)
      for (auto [j, value] : llvm::enumerate(values)) {
        // Strictly greater: the earlier index keeps a tie.
        Value greater = arith::CmpFOp::create(
            b, e.loc, arith::CmpFPredicate::OGT, value, best.value);
        Value index = toI32(e.add(at, e.index(static_cast<int64_t>(j))));
        best = {e.select(greater, value, best.value),
                e.select(greater, index, best.index)};
      }
    scf::YieldOp::create(b, e.loc, ValueRange{best.value, best.index});
  }
  Best best = warpBest(e, {scan.getResult(0), scan.getResult(1)});

  // Lane 0 of each warp leaves the warp's pair in shared memory; warp 0
  // combines them and its lane 0 writes the token id.
  auto shared = [&](Type element) {
    return launch.addWorkgroupAttribution(
        MemRefType::get({kArgmaxWarps}, element, MemRefLayoutAttrInterface(),
                        gpu::AddressSpaceAttr::get(
                            b.getContext(), gpu::AddressSpace::Workgroup)),
        e.loc);
  };
  Value values = shared(b.getF32Type()), indices = shared(i32);
  Value lane = e.rem(tid, e.index(32)), warp = e.div(tid, e.index(32));
  Value isLane0 = e.eq(lane, e.index(0));
  auto leave = scf::IfOp::create(b, e.loc, isLane0, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard inLeave(b);
    b.setInsertionPointToStart(&leave.getThenRegion().front());
    memref::StoreOp::create(b, e.loc, best.value, values, ValueRange{warp});
    memref::StoreOp::create(b, e.loc, best.index, indices, ValueRange{warp});
  }
  gpu::BarrierOp::create(b, e.loc);
  auto inWarp0 = scf::IfOp::create(b, e.loc, e.eq(warp, e.index(0)),
                                   /*withElseRegion=*/false);
  b.setInsertionPointToStart(&inWarp0.getThenRegion().front());
  Best blockBest = warpBest(
      e, {memref::LoadOp::create(b, e.loc, values, ValueRange{lane}),
          memref::LoadOp::create(b, e.loc, indices, ValueRange{lane})});
  auto write = scf::IfOp::create(b, e.loc, isLane0, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&write.getThenRegion().front());
  memref::StoreOp::create(b, e.loc, blockBest.index, op.getInit(),
                          ValueRange{batch, position});
  op->erase();
  return success();
}

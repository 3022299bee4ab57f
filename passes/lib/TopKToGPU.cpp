//===- TopKToGPU.cpp - llama.top_k_rows -> one kernel -----------*- C++ -*-===//
//
// Decoding on the GPU reads back a row's k best (value, id) pairs, not a
// 0.5 MB row of logits: greedy takes the first, the runtime's sampler the
// rest. A row is 128k floats that the lm_head has just written (in L2); one
// block of up to 1,024 threads a row, each thread scanning every
// (threads)-th run of 4 floats in order, four runs in flight.
//
// Order: (value descending, id ascending), NaN as -inf: a total order, so
// the k best are one well-defined list. For k = 1 one scan and a block
// reduction give the argmax. For k > 1:
//   1. each thread's best element (the scan);
//   2. a threshold: each warp's m-th best thread (m = ceil(k / warps), by
//      m rounds of warp reduction, each round's winner dropping out), the
//      worst of those over the warps. At least k elements are not worse
//      (each warp's m best threads' own bests), and for real logits a few
//      hundred at most;
//   3. a second scan gathers every element not worse than the threshold
//      into shared memory (an atomic counter);
//   4. each gathered element's rank is the number of gathered elements
//      better than it; rank < k is written at its place.
// Where more than fit in shared memory are gathered (logits built to defeat
// the threshold), k rounds of a block-wide scan for the best element below
// the previous round's answer give the same list, slowly.
//
//===----------------------------------------------------------------------===//
#include "TopKToGPU.h"
#include "KernelEmitter.h"
#include "KernelNamer.h"
#include "RowScan.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <algorithm>
#include <cstdint>
#include <functional>

using namespace mlir;
using llamac::Emitter;

namespace {

constexpr int64_t kMaxWarps = 32;
/// Runs a thread has in flight: 64 KB a block, about what one SM needs to
/// stream from L2 at full rate.
constexpr int64_t kUnroll = 4;

/// A (value, id) pair; the value f32, the id i32.
struct Best {
  Value value, index;
};

/// Whether `a` comes before `b`: a larger value, or the lower id of equal
/// values.
Value before(Emitter &e, Best a, Best b) {
  Value greater = arith::CmpFOp::create(e.b, e.loc, arith::CmpFPredicate::OGT,
                                        a.value, b.value);
  Value equal = arith::CmpFOp::create(e.b, e.loc, arith::CmpFPredicate::OEQ,
                                      a.value, b.value);
  Value lower = arith::CmpIOp::create(e.b, e.loc, arith::CmpIPredicate::slt,
                                      a.index, b.index);
  return arith::OrIOp::create(e.b, e.loc, greater,
                              arith::AndIOp::create(e.b, e.loc, equal, lower));
}

Best pick(Emitter &e, Value takeA, Best a, Best b) {
  return {e.select(takeA, a.value, b.value), e.select(takeA, a.index, b.index)};
}

/// The warp's best pair, in every lane.
Best warpBest(Emitter &e, Best best) {
  for (int64_t offset = 16; offset >= 1; offset /= 2) {
    Best other{e.shuffleXor(best.value, offset),
               e.shuffleXor(best.index, offset)};
    best = pick(e, before(e, other, best), other, best);
  }
  return best;
}

/// One row's kernel: the launch, the thread's coordinates and shared
/// memory, and the scans over the row.
struct RowKernel {
  Emitter &e;
  llama::TopKRowsOp op;
  gpu::LaunchOp launch;
  int64_t vocab, run, warps, k;
  // Set after the launch exists (mapTopKToGPU).
  Value batch = {}, position = {}, tid = {}, lane = {}, warp = {};
  Value warpValues = {}, warpIds = {}; // [warps]: each warp's pair

  int64_t threads() const { return 32 * warps; }
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(e.b, e.loc, e.b.getI32Type(), v);
  }
  Value toI32(Value index) {
    return arith::IndexCastOp::create(e.b, e.loc, e.b.getI32Type(), index);
  }
  /// A pair that comes after every element of the row.
  Best none() { return {e.minusInf(), i32(INT32_MAX)}; }
  /// A pair that comes before every element of the row.
  Best beforeAll() {
    return {e.f32(std::numeric_limits<double>::infinity()), i32(-1)};
  }
  Value shared(int64_t size, Type element) {
    return launch.addWorkgroupAttribution(
        MemRefType::get({size}, element, MemRefLayoutAttrInterface(),
                        gpu::AddressSpaceAttr::get(
                            e.b.getContext(), gpu::AddressSpace::Workgroup)),
        e.loc);
  }

  /// Scans the thread's elements in increasing id order, `visit`ing each
  /// (value with NaN as -inf, id, in range) and threading `state` through.
  SmallVector<Value> scan(
      ValueRange state,
      const std::function<SmallVector<Value>(ValueRange, Best, Value)> &visit) {
    llamac::RowScan row{e,     op.getInput(), batch,     position, tid,
                        vocab, run,           threads(), kUnroll};
    return row.elements(state, [&](ValueRange current, Value x, Value id,
                                   Value inRange) {
      Value isNaN =
          arith::CmpFOp::create(e.b, e.loc, arith::CmpFPredicate::UNO, x, x);
      return visit(current, {e.select(isNaN, e.minusInf(), x), id}, inRange);
    });
  }

  /// The block's best of the threads' pairs, in every thread. Barriers
  /// before (warpValues may still be read) and after (it may be reused).
  Best blockBest(Best mine) {
    OpBuilder &b = e.b;
    Best best = warpBest(e, mine);
    gpu::BarrierOp::create(b, e.loc);
    leaveWarpPair(best);
    gpu::BarrierOp::create(b, e.loc);
    // Lane l reads warp l's pair (lanes past the warps: none), then each
    // warp reduces the same 32 pairs.
    Value has = e.lt(lane, e.index(warps));
    Value at = e.select(has, lane, e.index(0));
    Best theirs{memref::LoadOp::create(b, e.loc, warpValues, ValueRange{at}),
                memref::LoadOp::create(b, e.loc, warpIds, ValueRange{at})};
    Best result = warpBest(e, pick(e, has, theirs, none()));
    gpu::BarrierOp::create(b, e.loc);
    return result;
  }

  /// Lane 0 leaves the warp's `pair` in warpValues / warpIds.
  void leaveWarpPair(Best pair) {
    e.onLaneZero(lane, [&] {
      memref::StoreOp::create(e.b, e.loc, pair.value, warpValues,
                              ValueRange{warp});
      memref::StoreOp::create(e.b, e.loc, pair.index, warpIds,
                              ValueRange{warp});
    });
  }

  /// Writes `pair` at place `rank` of the row's list.
  void write(Best pair, Value rank) {
    memref::StoreOp::create(e.b, e.loc, pair.value, op.getValuesInit(),
                            ValueRange{batch, position, rank});
    memref::StoreOp::create(e.b, e.loc, pair.index, op.getIdsInit(),
                            ValueRange{batch, position, rank});
  }

  /// Runs `body` in thread 0 only.
  void inThread0(const std::function<void()> &body) {
    auto once = scf::IfOp::create(e.b, e.loc, e.eq(tid, e.index(0)),
                                  /*withElseRegion=*/false);
    OpBuilder::InsertionGuard inOnce(e.b);
    e.b.setInsertionPointToStart(&once.getThenRegion().front());
    body();
  }

  /// The thread's best element (the lowest id among -inf where it has only
  /// those; past the end where it has none).
  Best threadBest() {
    Value first = e.mul(tid, e.index(run));
    Value start =
        e.select(e.lt(first, e.index(vocab)), toI32(first), i32(vocab));
    SmallVector<Value> best = scan(
        ValueRange{e.minusInf(), start},
        [&](ValueRange state, Best x, Value inRange) -> SmallVector<Value> {
          // Strictly greater: the earlier id keeps a tie.
          Value greater = arith::CmpFOp::create(
              e.b, e.loc, arith::CmpFPredicate::OGT, x.value, state[0]);
          Value take = arith::AndIOp::create(e.b, e.loc, greater, inRange);
          return {e.select(take, x.value, state[0]),
                  e.select(take, x.index, state[1])};
        });
    return {best[0], best[1]};
  }

  /// The k best by k rounds, each the block's best below the last.
  void selectByRounds() {
    OpBuilder &b = e.b;
    Best start = beforeAll();
    auto rounds =
        scf::ForOp::create(b, e.loc, e.index(0), e.index(k), e.index(1),
                           ValueRange{start.value, start.index});
    OpBuilder::InsertionGuard inRounds(b);
    b.setInsertionPointToStart(rounds.getBody());
    Best last{rounds.getRegionIterArgs()[0], rounds.getRegionIterArgs()[1]};
    Best none = this->none();
    SmallVector<Value> mine = scan(
        ValueRange{none.value, none.index},
        [&](ValueRange state, Best x, Value inRange) -> SmallVector<Value> {
          Best current{state[0], state[1]};
          Value take = arith::AndIOp::create(
              b, e.loc, inRange,
              arith::AndIOp::create(b, e.loc, before(e, last, x),
                                    before(e, x, current)));
          Best next = pick(e, take, x, current);
          return {next.value, next.index};
        });
    Best best = blockBest({mine[0], mine[1]});
    inThread0([&] { write(best, rounds.getInductionVar()); });
    scf::YieldOp::create(b, e.loc, ValueRange{best.value, best.index});
  }

  void emit();
};

void RowKernel::emit() {
  OpBuilder &b = e.b;
  Best mine = threadBest();
  if (k == 1) {
    Best best = blockBest(mine);
    inThread0([&] { write(best, e.index(0)); });
    return;
  }

  // 2. The threshold.
  const int64_t rounds = llvm::divideCeil(k, warps);
  Best threshold = mine;
  Best left = mine;
  for (int64_t r = 0; r < rounds; ++r) {
    threshold = warpBest(e, left);
    Value won = arith::CmpIOp::create(b, e.loc, arith::CmpIPredicate::eq,
                                      left.index, threshold.index);
    left = pick(e, won, none(), left);
  }
  Value count = shared(1, b.getI32Type());
  leaveWarpPair(threshold);
  inThread0([&] {
    memref::StoreOp::create(b, e.loc, i32(0), count, ValueRange{e.index(0)});
  });
  gpu::BarrierOp::create(b, e.loc);
  Best bar;
  {
    Best start = beforeAll();
    auto worst =
        scf::ForOp::create(b, e.loc, e.index(0), e.index(warps), e.index(1),
                           ValueRange{start.value, start.index});
    OpBuilder::InsertionGuard inWorst(b);
    b.setInsertionPointToStart(worst.getBody());
    Best current{worst.getRegionIterArgs()[0], worst.getRegionIterArgs()[1]};
    Best theirs{memref::LoadOp::create(b, e.loc, warpValues,
                                       ValueRange{worst.getInductionVar()}),
                memref::LoadOp::create(b, e.loc, warpIds,
                                       ValueRange{worst.getInductionVar()})};
    Best next = pick(e, before(e, current, theirs), theirs, current);
    scf::YieldOp::create(b, e.loc, ValueRange{next.value, next.index});
    b.setInsertionPointAfter(worst);
    bar = {worst.getResult(0), worst.getResult(1)};
  }

  // 3. Gather every element not after the threshold.
  const int64_t capacity = threads();
  Value gatheredValues = shared(capacity, b.getF32Type());
  Value gatheredIds = shared(capacity, b.getI32Type());
  scan(ValueRange{},
       [&](ValueRange, Best x, Value inRange) -> SmallVector<Value> {
         Value notAfter = arith::XOrIOp::create(
             b, e.loc, before(e, bar, x),
             arith::ConstantIntOp::create(b, e.loc, b.getI1Type(), 1));
         auto gather = scf::IfOp::create(
             b, e.loc, arith::AndIOp::create(b, e.loc, inRange, notAfter),
             /*withElseRegion=*/false);
         OpBuilder::InsertionGuard inGather(b);
         b.setInsertionPointToStart(&gather.getThenRegion().front());
         Value slot =
             memref::AtomicRMWOp::create(b, e.loc, arith::AtomicRMWKind::addi,
                                         i32(1), count, ValueRange{e.index(0)});
         Value slotIndex =
             arith::IndexCastOp::create(b, e.loc, b.getIndexType(), slot);
         auto fits =
             scf::IfOp::create(b, e.loc, e.lt(slotIndex, e.index(capacity)),
                               /*withElseRegion=*/false);
         b.setInsertionPointToStart(&fits.getThenRegion().front());
         memref::StoreOp::create(b, e.loc, x.value, gatheredValues,
                                 ValueRange{slotIndex});
         memref::StoreOp::create(b, e.loc, x.index, gatheredIds,
                                 ValueRange{slotIndex});
         return {};
       });
  gpu::BarrierOp::create(b, e.loc);
  Value gathered = arith::IndexCastOp::create(
      b, e.loc, b.getIndexType(),
      memref::LoadOp::create(b, e.loc, count, ValueRange{e.index(0)}));

  // 4. Rank the gathered ones, or fall back to rounds where they overflowed.
  auto fitted = scf::IfOp::create(
      b, e.loc,
      arith::CmpIOp::create(b, e.loc, arith::CmpIPredicate::ule, gathered,
                            e.index(capacity)),
      /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard inFitted(b);
    b.setInsertionPointToStart(&fitted.getThenRegion().front());
    auto ranked = scf::IfOp::create(b, e.loc, e.lt(tid, gathered),
                                    /*withElseRegion=*/false);
    b.setInsertionPointToStart(&ranked.getThenRegion().front());
    Best x{memref::LoadOp::create(b, e.loc, gatheredValues, ValueRange{tid}),
           memref::LoadOp::create(b, e.loc, gatheredIds, ValueRange{tid})};
    auto rank = scf::ForOp::create(b, e.loc, e.index(0), gathered, e.index(1),
                                   ValueRange{e.index(0)});
    {
      OpBuilder::InsertionGuard inRank(b);
      b.setInsertionPointToStart(rank.getBody());
      Value j = rank.getInductionVar();
      Best other{
          memref::LoadOp::create(b, e.loc, gatheredValues, ValueRange{j}),
          memref::LoadOp::create(b, e.loc, gatheredIds, ValueRange{j})};
      Value ahead = rank.getRegionIterArgs()[0];
      scf::YieldOp::create(
          b, e.loc,
          e.select(before(e, other, x), e.add(ahead, e.index(1)), ahead));
    }
    auto place =
        scf::IfOp::create(b, e.loc, e.lt(rank.getResult(0), e.index(k)),
                          /*withElseRegion=*/false);
    b.setInsertionPointToStart(&place.getThenRegion().front());
    write(x, rank.getResult(0));
  }
  b.setInsertionPointToStart(&fitted.getElseRegion().front());
  selectByRounds();
}

} // namespace

LogicalResult llamac::mapTopKToGPU(llama::TopKRowsOp op, KernelNamer &namer) {
  if (!op.getResult().empty())
    return op->emitOpError("is not on buffers; bufferize before "
                           "llama-map-to-gpu");
  auto inputType = cast<MemRefType>(op.getInput().getType());
  const int64_t seq = inputType.getDimSize(1), vocab = inputType.getDimSize(2);
  const int64_t rows = inputType.getDimSize(0) * seq;
  const int64_t run = llamac::RowScan::runFor(inputType);
  // Every thread of every warp has at least one element (the threshold
  // counts on each warp's m best threads being real elements), up to 32
  // warps.
  const int64_t warps = std::clamp<int64_t>(vocab / (32 * run), 1, kMaxWarps);

  OpBuilder b(op);
  Emitter e{b, op.getLoc()};
  gpu::LaunchOp launch =
      e.launchWarps(e.index(rows), warps, namer.name(op, "top_k"));
  RowKernel kernel{e, op, launch, vocab, run, warps, op.getK()};
  Value row = launch.getBlockIds().x;
  kernel.tid = launch.getThreadIds().x;
  kernel.batch = e.div(row, e.index(seq));
  kernel.position = e.rem(row, e.index(seq));
  kernel.lane = e.rem(kernel.tid, e.index(32));
  kernel.warp = e.div(kernel.tid, e.index(32));
  kernel.warpValues = kernel.shared(kMaxWarps, b.getF32Type());
  kernel.warpIds = kernel.shared(kMaxWarps, b.getI32Type());
  kernel.emit();
  op->erase();
  return success();
}

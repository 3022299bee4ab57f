//===- SampleToGPU.cpp - llama.sample_rows -> one kernel --------*- C++ -*-===//
//
// Draws each row's next token on the GPU, so that a sampling step reads
// back 4 bytes, not a top list. One warp a row. The draw must pick what the
// runtime's sampler picks from the row, bit for bit, and that sampler adds
// the weights up one after another in double precision: a tree reduction
// would round differently. So:
//   1. the lanes compute 32 weights at once (the exps are the work), and
//      every lane adds the 32 up in order from shuffles (32 dependent adds),
//      keeping its own running sum c_i; the sums go to shared memory;
//   2. the nucleus' end and the draw are each the first i whose c_i passes
//      a bound (c only grows): every lane finds its first, a warp minimum
//      finds the row's.
//
//===----------------------------------------------------------------------===//
#include "SampleToGPU.h"
#include "KernelEmitter.h"
#include "KernelNamer.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cstdint>
#include <functional>

using namespace mlir;
using llamac::Emitter;

namespace {

struct RowDraw {
  Emitter &e;
  llama::SampleRowsOp op;
  int64_t k;
  Value batch, position, lane;
  Value sums; // shared [k] f64: c_i

  OpBuilder &b() { return e.b; }
  Value f64(double v) {
    return arith::ConstantOp::create(e.b, e.loc, e.b.getF64FloatAttr(v));
  }
  Value cmpf(arith::CmpFPredicate predicate, Value x, Value y) {
    return arith::CmpFOp::create(e.b, e.loc, predicate, x, y);
  }
  Value both(Value x, Value y) {
    return arith::AndIOp::create(e.b, e.loc, x, y);
  }
  Value setting(int64_t which) {
    return memref::LoadOp::create(e.b, e.loc, op.getSettings(),
                                  ValueRange{batch, e.index(which)});
  }
  Value value(Value i) {
    return memref::LoadOp::create(e.b, e.loc, op.getValues(),
                                  ValueRange{batch, position, i});
  }
  Value id(Value i) {
    return memref::LoadOp::create(e.b, e.loc, op.getIds(),
                                  ValueRange{batch, position, i});
  }
  void storeFromLaneZero(Value token) {
    e.onLaneZero(lane, [&] {
      memref::StoreOp::create(e.b, e.loc, token, op.getInit(),
                              ValueRange{batch, position});
    });
  }

  /// The first i < `limit` whose sum passes `passes`, in every lane; `limit`
  /// where none does.
  Value firstPassing(Value limit, const std::function<Value(Value)> &passes) {
    OpBuilder &b = e.b;
    auto loop = scf::ForOp::create(
        b, e.loc, lane, limit, e.index(32), ValueRange{limit},
        [&](OpBuilder &, Location, Value i, ValueRange found) {
          Value c = memref::LoadOp::create(b, e.loc, sums, ValueRange{i});
          Value take = both(passes(c), e.eq(found[0], limit));
          scf::YieldOp::create(b, e.loc, e.select(take, i, found[0]));
        });
    Value first =
        arith::IndexCastOp::create(b, e.loc, b.getI32Type(), loop.getResult(0));
    for (int64_t offset = 16; offset >= 1; offset /= 2)
      first =
          arith::MinUIOp::create(b, e.loc, first, e.shuffleXor(first, offset));
    return arith::IndexCastOp::create(b, e.loc, b.getIndexType(), first);
  }

  void emit() {
    OpBuilder &b = e.b;
    Value t = setting(0), topK = setting(1), topP = setting(2), u = setting(3);
    Value firstValue = value(e.index(0));
    Value finite = cmpf(arith::CmpFPredicate::OLT,
                        math::AbsFOp::create(b, e.loc, firstValue),
                        e.f32(std::numeric_limits<double>::infinity()));
    Value tempered = cmpf(arith::CmpFPredicate::OGT, t, f64(0));
    auto branch = scf::IfOp::create(b, e.loc, both(tempered, finite),
                                    /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&branch.getElseRegion().front());
      storeFromLaneZero(id(e.index(0)));
    }
    b.setInsertionPointToStart(&branch.getThenRegion().front());

    Value first = arith::ExtFOp::create(b, e.loc, b.getF64Type(), firstValue);
    Value invTemp = arith::DivFOp::create(b, e.loc, f64(1), t);
    Value listed = f64(double(k));
    Value inRange = both(cmpf(arith::CmpFPredicate::OGE, topK, f64(1)),
                         cmpf(arith::CmpFPredicate::OLE, topK, listed));
    Value n = arith::IndexCastOp::create(
        b, e.loc, b.getIndexType(),
        arith::FPToSIOp::create(b, e.loc, b.getI64Type(),
                                e.select(inRange, topK, listed)));

    // 1. c_i for i < n, 32 at a time: lane l weighs i = base + l, then
    //    every lane adds the 32 weights in order (zeros past n change no
    //    sum) and keeps the sum at its own i.
    auto chunks = scf::ForOp::create(
        b, e.loc, e.index(0), n, e.index(32), ValueRange{f64(0)},
        [&](OpBuilder &, Location, Value base, ValueRange carried) {
          Value i = e.add(base, lane);
          Value inList = e.lt(i, n);
          Value at = e.select(inList, i, e.index(0));
          Value scaled = e.mul(
              e.sub(arith::ExtFOp::create(b, e.loc, b.getF64Type(), value(at)),
                    first),
              invTemp);
          Value w =
              arith::TruncFOp::create(b, e.loc, b.getF32Type(), e.exp(scaled));
          w = e.select(inList, w, e.f32(0));
          Value c = carried[0], mine = c;
          Value laneI32 =
              arith::IndexCastOp::create(b, e.loc, b.getI32Type(), lane);
          for (int64_t j = 0; j < 32; ++j) {
            Value wj = gpu::ShuffleOp::create(b, e.loc, w, int32_t(j), 32,
                                              gpu::ShuffleMode::IDX)
                           .getShuffleResult();
            c = e.add(c, arith::ExtFOp::create(b, e.loc, b.getF64Type(), wj));
            Value isMine = arith::CmpIOp::create(
                b, e.loc, arith::CmpIPredicate::eq, laneI32,
                arith::ConstantIntOp::create(b, e.loc, b.getI32Type(), j));
            mine = e.select(isMine, c, mine);
          }
          auto store = scf::IfOp::create(b, e.loc, inList,
                                         /*withElseRegion=*/false);
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(&store.getThenRegion().front());
            memref::StoreOp::create(b, e.loc, mine, sums, ValueRange{i});
          }
          scf::YieldOp::create(b, e.loc, ValueRange{c});
        });
    Value sum = chunks.getResult(0);
    gpu::BarrierOp::create(b, e.loc);

    // 2. The nucleus: m - 1 = the first i with c_i >= p * c_(n-1) where
    //    p < 1 and n > 1, else n - 1.
    Value one = e.index(1);
    Value last = e.sub(n, one);
    Value nucleus = both(
        cmpf(arith::CmpFPredicate::OLT, topP, f64(1)),
        arith::CmpIOp::create(b, e.loc, arith::CmpIPredicate::ugt, n, one));
    Value target = e.mul(topP, sum);
    Value reached = firstPassing(n, [&](Value c) {
      return both(nucleus, cmpf(arith::CmpFPredicate::OGE, c, target));
    });
    Value keptLast = e.select(e.lt(reached, n), reached, last);
    Value keptSum =
        memref::LoadOp::create(b, e.loc, sums, ValueRange{keptLast});

    // 3. The draw: the first i < m with u * c_(m-1) < c_i, else m - 1.
    Value r = e.mul(u, keptSum);
    Value m = e.add(keptLast, one);
    Value drawn = firstPassing(
        m, [&](Value c) { return cmpf(arith::CmpFPredicate::OLT, r, c); });
    storeFromLaneZero(id(e.select(e.lt(drawn, m), drawn, keptLast)));
  }
};

} // namespace

LogicalResult llamac::mapSampleToGPU(llama::SampleRowsOp op,
                                     KernelNamer &namer) {
  if (!isa<MemRefType>(op.getValues().getType()))
    return op->emitOpError("is not on buffers; bufferize before "
                           "llama-map-to-gpu");
  auto valuesType = cast<MemRefType>(op.getValues().getType());
  const int64_t seq = valuesType.getDimSize(1);
  const int64_t rows = valuesType.getDimSize(0) * seq;

  OpBuilder b(op);
  Emitter e{b, op.getLoc()};
  gpu::LaunchOp launch =
      e.launchWarps(e.index(rows), 1, namer.name(op, "sample"));
  const int64_t k = op.getK();
  Value sums = launch.addWorkgroupAttribution(
      MemRefType::get({k}, b.getF64Type(), MemRefLayoutAttrInterface(),
                      gpu::AddressSpaceAttr::get(b.getContext(),
                                                 gpu::AddressSpace::Workgroup)),
      e.loc);
  Value row = launch.getBlockIds().x;
  RowDraw draw{e,
               op,
               k,
               e.div(row, e.index(seq)),
               e.rem(row, e.index(seq)),
               launch.getThreadIds().x,
               sums};
  draw.emit();
  op->erase();
  return success();
}

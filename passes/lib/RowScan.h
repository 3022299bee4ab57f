//===- RowScan.h - a block's pass over one row of logits --------*- C++ -*-===//
//
// The kernels that read a whole row of logits (the top list, the draw from
// the row) read it from L2 right after the lm_head wrote it; one block a
// row. Each thread takes runs of `run` consecutive floats (16 bytes where
// the row allows), every (threads * run)-th, and loads `unroll` runs before
// it looks at the first: enough bytes in flight for one SM to stream at
// L2's rate.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_ROWSCAN_H
#define LLAMAC_PASSES_ROWSCAN_H

#include "F32Runs.h"
#include "KernelEmitter.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/STLExtras.h"

#include <functional>
#include <tuple>

namespace llamac {

struct RowScan {
  Emitter &e;
  mlir::Value buffer; // [batch, seq, vocab] f32
  mlir::Value batch, position, tid;
  int64_t vocab, run, threads, unroll;

  /// Runs of 4 where every row starts 16-byte aligned, else single floats.
  static int64_t runFor(mlir::MemRefType type) {
    return type.getDimSize(2) % 4 == 0 && runAlignment(type, 4) == 16 ? 4 : 1;
  }
  /// The ids of one pass of the block: its threads' runs, side by side.
  int64_t span() const { return threads * run; }

  /// The run of `run` floats from id `at` (a multiple of `run`); the row's
  /// last run where `at` is past the end.
  llvm::SmallVector<mlir::Value> load(mlir::Value at) {
    using namespace mlir;
    Value pastEnd = arith::CmpIOp::create(e.b, e.loc, arith::CmpIPredicate::uge,
                                          at, e.index(vocab));
    Value clamped = e.select(pastEnd, e.index(vocab - run), at);
    SmallVector<Value> values;
    if (run == 1) {
      values.push_back(memref::LoadOp::create(
          e.b, e.loc, buffer, ValueRange{batch, position, clamped}));
      return values;
    }
    Value loaded =
        loadRun(e, buffer, ValueRange{batch, position, clamped}, run);
    for (int64_t j = 0; j < run; ++j)
      values.push_back(vector::ExtractOp::create(e.b, e.loc, loaded, j));
    return values;
  }

  /// Visits the thread's runs in increasing id order: `visit(state, values,
  /// first id, in range)` returns the new state. A run past the end loads
  /// the row's last run instead and is out of range; every thread of the
  /// block visits as many runs.
  using RunVisitor = std::function<llvm::SmallVector<mlir::Value>(
      mlir::ValueRange, llvm::ArrayRef<mlir::Value>, mlir::Value, mlir::Value)>;
  llvm::SmallVector<mlir::Value> runs(mlir::ValueRange state,
                                      const RunVisitor &visit) {
    using namespace mlir;
    OpBuilder &b = e.b;
    // Every thread makes the same trips (a warp's shuffles in `visit` need
    // all its lanes), from the block's first run.
    Value mine = e.mul(tid, e.index(run));
    auto loop = scf::ForOp::create(b, e.loc, e.index(0), e.index(vocab),
                                   e.index(span() * unroll), state);
    OpBuilder::InsertionGuard inLoop(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<std::tuple<Value, Value, SmallVector<Value>>> trips;
    for (int64_t u = 0; u < unroll; ++u) {
      Value at =
          e.add(e.add(loop.getInductionVar(), mine), e.index(u * span()));
      Value pastEnd = arith::CmpIOp::create(b, e.loc, arith::CmpIPredicate::uge,
                                            at, e.index(vocab));
      SmallVector<Value> values = load(at);
      Value inRange = arith::XOrIOp::create(
          b, e.loc, pastEnd,
          arith::ConstantIntOp::create(b, e.loc, b.getI1Type(), 1));
      trips.push_back({at, inRange, std::move(values)});
    }
    SmallVector<Value> current(loop.getRegionIterArgs());
    for (auto &[at, inRange, values] : trips)
      current = visit(current, values, at, inRange);
    if (!current.empty()) // else the loop has its yield already
      scf::YieldOp::create(b, e.loc, current);
    return loop.getResults();
  }

  /// As `runs`, one element at a time: `visit(state, value, id (i32), in
  /// range)`.
  using ElementVisitor = std::function<llvm::SmallVector<mlir::Value>(
      mlir::ValueRange, mlir::Value, mlir::Value, mlir::Value)>;
  llvm::SmallVector<mlir::Value> elements(mlir::ValueRange state,
                                          const ElementVisitor &visit) {
    return runs(state, [&](mlir::ValueRange current,
                           llvm::ArrayRef<mlir::Value> values,
                           mlir::Value first, mlir::Value inRange) {
      llvm::SmallVector<mlir::Value> next(current);
      for (auto [j, value] : llvm::enumerate(values)) {
        mlir::Value id = mlir::arith::IndexCastOp::create(
            e.b, e.loc, e.b.getI32Type(),
            e.add(first, e.index(static_cast<int64_t>(j))));
        next = visit(next, value, id, inRange);
      }
      return next;
    });
  }
};

} // namespace llamac

#endif // LLAMAC_PASSES_ROWSCAN_H

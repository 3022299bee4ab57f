//===- KernelEmitter.h - terse arithmetic for kernel bodies -----*- C++ -*-===//
//
// The kernels llama-map-to-gpu writes by hand (the fused attention, the
// tensor-core linear layers) are long chains of index and float arithmetic;
// this keeps each step one short call.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_KERNELEMITTER_H
#define LLAMAC_PASSES_KERNELEMITTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>
#include <string>

namespace llamac {

/// Terse arithmetic for the kernel bodies.
struct Emitter {
  mlir::OpBuilder &b;
  mlir::Location loc;

  /// Integers (index, i64 addresses) take the integer ops, else float.
  static bool isInteger(mlir::Value x) {
    return mlir::getElementTypeOrSelf(x.getType()).isIntOrIndex();
  }
  mlir::Value index(int64_t v) {
    return mlir::arith::ConstantIndexOp::create(b, loc, v);
  }
  mlir::Value i64(int64_t v) {
    return mlir::arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(v));
  }
  mlir::Value f32(double v) {
    return mlir::arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  mlir::Value minusInf() {
    return f32(-std::numeric_limits<double>::infinity());
  }
  mlir::Value add(mlir::Value x, mlir::Value y) {
    if (isInteger(x))
      return mlir::arith::AddIOp::create(b, loc, x, y);
    return mlir::arith::AddFOp::create(b, loc, x, y);
  }
  mlir::Value mul(mlir::Value x, mlir::Value y) {
    if (isInteger(x))
      return mlir::arith::MulIOp::create(b, loc, x, y);
    return mlir::arith::MulFOp::create(b, loc, x, y);
  }
  mlir::Value sub(mlir::Value x, mlir::Value y) {
    if (isInteger(x))
      return mlir::arith::SubIOp::create(b, loc, x, y);
    return mlir::arith::SubFOp::create(b, loc, x, y);
  }
  mlir::Value div(mlir::Value x, mlir::Value y) {
    if (mlir::isa<mlir::IndexType>(x.getType()))
      return mlir::arith::DivUIOp::create(b, loc, x, y);
    return mlir::arith::DivFOp::create(b, loc, x, y);
  }
  mlir::Value rem(mlir::Value x, mlir::Value y) {
    return mlir::arith::RemUIOp::create(b, loc, x, y);
  }
  mlir::Value ceilDiv(mlir::Value x, mlir::Value y) {
    return mlir::arith::CeilDivUIOp::create(b, loc, x, y);
  }
  mlir::Value min(mlir::Value x, mlir::Value y) {
    return mlir::arith::MinUIOp::create(b, loc, x, y);
  }
  mlir::Value max(mlir::Value x, mlir::Value y) {
    return mlir::arith::MaximumFOp::create(b, loc, x, y);
  }
  mlir::Value lt(mlir::Value x, mlir::Value y) {
    return mlir::arith::CmpIOp::create(b, loc, mlir::arith::CmpIPredicate::ult,
                                       x, y);
  }
  mlir::Value eq(mlir::Value x, mlir::Value y) {
    return mlir::arith::CmpIOp::create(b, loc, mlir::arith::CmpIPredicate::eq,
                                       x, y);
  }
  mlir::Value select(mlir::Value c, mlir::Value x, mlir::Value y) {
    return mlir::arith::SelectOp::create(b, loc, c, x, y);
  }
  mlir::Value exp(mlir::Value x) {
    return mlir::math::ExpOp::create(b, loc, x);
  }
  mlir::Value splat(mlir::Value scalar, int64_t n) {
    return mlir::vector::BroadcastOp::create(
        b, loc, mlir::VectorType::get({n}, b.getF32Type()), scalar);
  }
  mlir::Value shuffleXor(mlir::Value x, int64_t offset) {
    return mlir::gpu::ShuffleOp::create(b, loc, x, offset, 32,
                                        mlir::gpu::ShuffleMode::XOR)
        .getShuffleResult();
  }
  /// `body`'s ops inside an scf.if that only lane 0 (`lane` == 0) takes:
  /// a warp's one store of what every lane holds. The builder is left
  /// after the if.
  void onLaneZero(mlir::Value lane, llvm::function_ref<void()> body) {
    auto first = mlir::scf::IfOp::create(b, loc, eq(lane, index(0)),
                                         /*withElseRegion=*/false);
    mlir::OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&first.getThenRegion().front());
    body();
  }
  /// The exponent's reference point: the running maximum, or 0 while it is
  /// still -inf (no key seen), so that exp(-inf - ref) is 0, not NaN.
  mlir::Value reference(mlir::Value maximum) {
    mlir::Value none = mlir::arith::CmpFOp::create(
        b, loc, mlir::arith::CmpFPredicate::OEQ, maximum, minusInf());
    return select(none, f32(0.0), maximum);
  }
  /// A launch of `grid` blocks of `warps` warps, named `name` (the name
  /// gpu-kernel-outlining gives the kernel); the builder is left inside it,
  /// before its terminator.
  /// `dynamicSharedBytes`: shared memory the kernel takes through
  /// gpu.dynamic_shared_memory (0: none).
  mlir::gpu::LaunchOp launchWarps(mlir::Value grid, int64_t warps,
                                  const std::string &name,
                                  int64_t dynamicSharedBytes = 0) {
    mlir::Value one = index(1);
    mlir::Value shared;
    if (dynamicSharedBytes)
      shared = mlir::arith::ConstantOp::create(
          b, loc,
          b.getI32IntegerAttr(static_cast<int32_t>(dynamicSharedBytes)));
    auto launch = mlir::gpu::LaunchOp::create(
        b, loc, grid, one, one, index(32 * warps), one, one, shared);
    auto symbol = mlir::FlatSymbolRefAttr::get(b.getContext(), name);
    launch.setModuleAttr(symbol);
    launch.setFunctionAttr(symbol);
    b.setInsertionPointToStart(&launch.getBody().front());
    b.setInsertionPoint(mlir::gpu::TerminatorOp::create(b, loc));
    return launch;
  }
};

} // namespace llamac

#endif // LLAMAC_PASSES_KERNELEMITTER_H

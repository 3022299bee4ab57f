//===- RowDrawWeights.h - llama.sample's fixed-point row weights -*- C++
//-*-===//
//
// The draw from the whole row (top-k off or past the list) is exact only if
// the host's lowering and the GPU kernel compute each entry's weight, key
// and fixed-point mass with the same ops: they are defined here once.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_ROWDRAWWEIGHTS_H
#define LLAMAC_PASSES_ROWDRAWWEIGHTS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/bit.h"

#include <cmath>
#include <cstdint>

namespace llamac {

struct RowDrawWeights {
  mlir::OpBuilder &b;
  mlir::Location loc;
  mlir::Value maximum; // f32: the row's largest logit (NaN as -inf)
  mlir::Value scale;   // f32: f32(1 / t)
  int64_t vocab;

  /// The masses are multiples of 2^-shift, so that a row's sum stays below
  /// 2^63.
  int shift() const { return 63 - int(llvm::bit_width(uint64_t(vocab))); }

  /// Entry x's weight: 0 for NaN, 1 at the maximum, else exp((x - M) * s).
  mlir::Value weight(mlir::Value x) const {
    using namespace mlir;
    Value scaled = arith::MulFOp::create(
        b, loc, arith::SubFOp::create(b, loc, x, maximum), scale);
    Value e = math::ExpOp::create(b, loc, scaled);
    Value atMax =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, maximum);
    Value isNaN =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
    Value one = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1));
    return arith::SelectOp::create(
        b, loc, isNaN, zero, arith::SelectOp::create(b, loc, atMax, one, e));
  }
  /// A weight's order key: its bits (weights are >= 0), compared unsigned.
  mlir::Value key(mlir::Value w) const {
    return mlir::arith::BitcastOp::create(b, loc, b.getI32Type(), w);
  }
  /// A weight's mass: floor(w * 2^shift), as i64.
  mlir::Value mass(mlir::Value w) const {
    using namespace mlir;
    Value wide = arith::ExtFOp::create(b, loc, b.getF64Type(), w);
    Value unit = arith::ConstantOp::create(
        b, loc, b.getF64FloatAttr(std::ldexp(1.0, shift())));
    return arith::FPToUIOp::create(b, loc, b.getI64Type(),
                                   arith::MulFOp::create(b, loc, wide, unit));
  }
  /// Entry x's mass where its key is at least `floor` and `in` holds, else
  /// 0.
  mlir::Value massFrom(mlir::Value x, mlir::Value floor, mlir::Value in) const {
    using namespace mlir;
    Value w = weight(x);
    Value kept = arith::AndIOp::create(
        b, loc, in,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, key(w),
                              floor));
    Value zero = arith::ConstantIntOp::create(b, loc, b.getI64Type(), 0);
    return arith::SelectOp::create(b, loc, kept, mass(w), zero);
  }
};

} // namespace llamac

#endif // LLAMAC_PASSES_ROWDRAWWEIGHTS_H

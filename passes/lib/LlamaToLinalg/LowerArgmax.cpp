//===- LowerArgmax.cpp - llama.argmax -> linalg or one kernel op -*- C++
//-*-===//
//
// The host scans each row in order with a strict comparison, so the lowest
// index of equal maxima wins; NaN is mapped to -inf first (a NaN never
// compares greater, but mapping it keeps the rule explicit and the same as
// the GPU kernel's, whose tree order differs). A GPU target keeps the op
// whole as llama.argmax_rows, a kernel of its own (ArgmaxToGPU.cpp).
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "llama/LlamaOps.h"

#include <limits>

using namespace mlir;
using namespace llamac::lowering;

namespace {
struct ArgmaxLowering : OpConversionPattern<llama::ArgmaxOp> {
  ArgmaxLowering(MLIRContext *context, bool kernelOp)
      : OpConversionPattern(context), kernelOp(kernelOp) {}
  bool kernelOp;

  LogicalResult
  matchAndRewrite(llama::ArgmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ArrayRef<int64_t> shape = op.getResult().getType().getShape();
    Type i32 = rewriter.getI32Type();
    Value ids = empty(rewriter, loc, shape, i32);
    if (kernelOp) {
      auto kernel = llama::ArgmaxRowsOp::create(
          rewriter, loc, TypeRange{ids.getType()}, adaptor.getLogits(), ids);
      rewriter.replaceOp(op, kernel.getResult());
      return success();
    }
    const double minusInf = -std::numeric_limits<double>::infinity();
    Value zero =
        arith::ConstantOp::create(rewriter, loc, rewriter.getI32IntegerAttr(0));
    ids = linalg::FillOp::create(rewriter, loc, zero, ids).getResult(0);
    Value best = filled(rewriter, loc, shape, minusInf);
    MLIRContext *ctx = op.getContext();
    AffineMap row = AffineMap::getMultiDimMapWithTargets(3, {0, 1, 2}, ctx);
    AffineMap out = AffineMap::getMultiDimMapWithTargets(3, {0, 1}, ctx);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{best.getType(), ids.getType()},
        ValueRange{adaptor.getLogits()}, ValueRange{best, ids},
        ArrayRef<AffineMap>{row, out, out},
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel,
                                      utils::IteratorType::reduction},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value x = args[0], max = args[1], id = args[2];
          Value isNaN =
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, x, x);
          Value value = arith::SelectOp::create(
              b, l, isNaN,
              arith::ConstantOp::create(b, l, b.getF32FloatAttr(minusInf)), x);
          Value greater = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT,
                                                value, max);
          Value v = arith::IndexCastOp::create(
              b, l, b.getI32Type(), linalg::IndexOp::create(b, l, 2));
          linalg::YieldOp::create(
              b, l,
              ValueRange{arith::SelectOp::create(b, l, greater, value, max),
                         arith::SelectOp::create(b, l, greater, v, id)});
        });
    rewriter.replaceOp(op, generic.getResult(1));
    return success();
  }
};
} // namespace

void llamac::lowering::populateArgmaxLowering(RewritePatternSet &patterns,
                                              bool kernelOp) {
  patterns.add<ArgmaxLowering>(patterns.getContext(), kernelOp);
}

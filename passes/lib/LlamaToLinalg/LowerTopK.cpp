//===- LowerTopK.cpp - llama.top_k -> linalg or one kernel op ----*- C++
//-*-===//
//
// The host finds the k largest one at a time: pass j scans each row in
// order for the largest logit below pass j-1's (value, id), with a strict
// comparison so that the lowest id among equals wins; NaN is mapped to -inf
// first (so it is reported as -inf, and the order stays total). k passes
// over a row are cheap where k is 1 (the host's default: the runtime reads
// host memory, so sampling needs no candidates) and fine for the small k a
// test asks for. A GPU target keeps the op whole as llama.top_k_rows, a
// kernel of its own (TopKToGPU.cpp).
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "llama/LlamaOps.h"

#include <limits>

using namespace mlir;
using namespace llamac::lowering;

namespace {
struct TopKLowering : OpConversionPattern<llama::TopKOp> {
  TopKLowering(MLIRContext *context, bool kernelOp)
      : OpConversionPattern(context), kernelOp(kernelOp) {}
  bool kernelOp;

  LogicalResult
  matchAndRewrite(llama::TopKOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ArrayRef<int64_t> shape = op.getIds().getType().getShape();
    Type i32 = rewriter.getI32Type();
    if (kernelOp) {
      Value values = empty(rewriter, loc, shape, rewriter.getF32Type());
      Value ids = empty(rewriter, loc, shape, i32);
      auto kernel = llama::TopKRowsOp::create(
          rewriter, loc, TypeRange{values.getType(), ids.getType()},
          adaptor.getLogits(), values, ids);
      rewriter.replaceOp(op, kernel.getResult());
      return success();
    }
    const double minusInf = -std::numeric_limits<double>::infinity();
    ArrayRef<int64_t> rowShape = shape.drop_back();
    MLIRContext *ctx = op.getContext();
    AffineMap row = AffineMap::getMultiDimMapWithTargets(3, {0, 1, 2}, ctx);
    AffineMap out = AffineMap::getMultiDimMapWithTargets(3, {0, 1}, ctx);
    // No id yet: the first eligible logit is taken whatever its value, so
    // that a row left with only -inf still answers its lowest id.
    Value none = arith::ConstantOp::create(rewriter, loc,
                                           rewriter.getI32IntegerAttr(-1));
    // Every column is written below, one a pass.
    Value values = empty(rewriter, loc, shape, rewriter.getF32Type());
    Value ids = empty(rewriter, loc, shape, i32);
    Value prevValue, prevId;
    for (int64_t j = 0; j < op.getK(); ++j) {
      Value bestInit = filled(rewriter, loc, rowShape, minusInf);
      Value idInit = linalg::FillOp::create(rewriter, loc, none,
                                            empty(rewriter, loc, rowShape, i32))
                         .getResult(0);
      SmallVector<Value> inputs{adaptor.getLogits()};
      SmallVector<AffineMap> maps{row};
      if (j > 0) {
        inputs.append({prevValue, prevId});
        maps.append({out, out});
      }
      maps.append({out, out});
      auto generic = linalg::GenericOp::create(
          rewriter, loc, TypeRange{bestInit.getType(), idInit.getType()},
          inputs, ValueRange{bestInit, idInit}, maps,
          ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                        utils::IteratorType::parallel,
                                        utils::IteratorType::reduction},
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value x = args[0], max = args[args.size() - 2],
                  id = args[args.size() - 1];
            Value isNaN =
                arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNO, x, x);
            Value value = arith::SelectOp::create(
                b, l, isNaN,
                arith::ConstantOp::create(b, l, b.getF32FloatAttr(minusInf)),
                x);
            Value v = arith::IndexCastOp::create(
                b, l, b.getI32Type(), linalg::IndexOp::create(b, l, 2));
            Value noId =
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, id, none);
            Value greater = arith::CmpFOp::create(
                b, l, arith::CmpFPredicate::OGT, value, max);
            Value take = arith::OrIOp::create(b, l, noId, greater);
            if (j > 0) {
              // Only what comes after the previous pass's answer in the
              // order (value descending, id ascending).
              Value pv = args[1], pid = args[2];
              Value below = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OLT, value, pv);
              Value equal = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OEQ, value, pv);
              Value later = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::sgt, v, pid);
              Value eligible = arith::OrIOp::create(
                  b, l, below, arith::AndIOp::create(b, l, equal, later));
              take = arith::AndIOp::create(b, l, eligible, take);
            }
            linalg::YieldOp::create(
                b, l,
                ValueRange{arith::SelectOp::create(b, l, take, value, max),
                           arith::SelectOp::create(b, l, take, v, id)});
          });
      prevValue = generic.getResult(0);
      prevId = generic.getResult(1);
      // Column j of the [batch, seq, k] results.
      SmallVector<OpFoldResult> offsets{rewriter.getIndexAttr(0),
                                        rewriter.getIndexAttr(0),
                                        rewriter.getIndexAttr(j)};
      SmallVector<OpFoldResult> sizes{rewriter.getIndexAttr(shape[0]),
                                      rewriter.getIndexAttr(shape[1]),
                                      rewriter.getIndexAttr(1)};
      SmallVector<OpFoldResult> strides(3, rewriter.getIndexAttr(1));
      values = tensor::InsertSliceOp::create(rewriter, loc, prevValue, values,
                                             offsets, sizes, strides);
      ids = tensor::InsertSliceOp::create(rewriter, loc, prevId, ids, offsets,
                                          sizes, strides);
    }
    rewriter.replaceOp(op, ValueRange{values, ids});
    return success();
  }
};
} // namespace

void llamac::lowering::populateTopKLowering(RewritePatternSet &patterns,
                                            bool kernelOp) {
  patterns.add<TopKLowering>(patterns.getContext(), kernelOp);
}

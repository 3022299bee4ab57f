//===- LowerSample.cpp - llama.sample -> linalg or one kernel op -*- C++
//-*-===//
//
// The host draws a row's token in one thread, as the runtime's sampler does
// over the list: a pass for the sum of the weights, one for the nucleus, one
// for the draw (each recomputing the weights: the list is short, and the
// host computes it once a step). A GPU target keeps the op whole as
// llama.sample_rows, a kernel of its own (SampleToGPU.cpp).
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "llama/LlamaOps.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;
using namespace llamac::lowering;

namespace {

/// The draw for row [batch, row] of the op's lists, inside a linalg body.
struct RowDraw {
  OpBuilder &b;
  Location loc;
  Value values, ids, settings, batch, row;
  int64_t k;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f64(double v) {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v));
  }
  Value setting(int64_t which) {
    return tensor::ExtractOp::create(b, loc, settings,
                                     ValueRange{batch, index(which)});
  }
  Value id(Value i) {
    return tensor::ExtractOp::create(b, loc, ids, ValueRange{batch, row, i});
  }
  /// w_i = f32(exp((f64(values[i]) - f64(values[0])) * invTemp)), as f64.
  Value weight(Value i, Value first, Value invTemp) {
    Value logit =
        tensor::ExtractOp::create(b, loc, values, ValueRange{batch, row, i});
    Value v = arith::ExtFOp::create(b, loc, b.getF64Type(), logit);
    Value scaled = arith::MulFOp::create(
        b, loc, arith::SubFOp::create(b, loc, v, first), invTemp);
    Value e = math::ExpOp::create(b, loc, scaled);
    Value w = arith::TruncFOp::create(b, loc, b.getF32Type(), e);
    return arith::ExtFOp::create(b, loc, b.getF64Type(), w);
  }

  /// The token, by llama.sample's rules.
  Value emit() {
    Value t = setting(0), topK = setting(1), topP = setting(2), u = setting(3);
    Value zero = index(0);
    Value best = id(zero);
    Value firstValue =
        tensor::ExtractOp::create(b, loc, values, ValueRange{batch, row, zero});
    Value finite = arith::CmpFOp::create(
        b, loc, arith::CmpFPredicate::OLT,
        math::AbsFOp::create(b, loc, firstValue),
        arith::ConstantOp::create(
            b, loc, b.getF32FloatAttr(std::numeric_limits<float>::infinity())));
    Value tempered =
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, t, f64(0));
    auto drawn = scf::IfOp::create(
        b, loc, arith::AndIOp::create(b, loc, tempered, finite),
        [&](OpBuilder &, Location) {
          scf::YieldOp::create(b, loc, draw(t, topK, topP, u, firstValue));
        },
        [&](OpBuilder &, Location) { scf::YieldOp::create(b, loc, best); });
    return drawn.getResult(0);
  }

  Value draw(Value t, Value topK, Value topP, Value u, Value firstValue) {
    Value first = arith::ExtFOp::create(b, loc, b.getF64Type(), firstValue);
    Value invTemp = arith::DivFOp::create(b, loc, f64(1), t);
    // n: top-k where it is in [1, K], else K.
    Value inRange = arith::AndIOp::create(
        b, loc,
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, topK, f64(1)),
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, topK,
                              f64(double(k))));
    Value n = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        arith::FPToSIOp::create(
            b, loc, b.getI64Type(),
            arith::SelectOp::create(b, loc, inRange, topK, f64(double(k)))));
    Value zero = index(0), one = index(1);

    // c_(n-1): the weights' sum, in order.
    auto total = scf::ForOp::create(
        b, loc, zero, n, one, ValueRange{f64(0)},
        [&](OpBuilder &, Location, Value i, ValueRange c) {
          scf::YieldOp::create(b, loc,
                               ValueRange{arith::AddFOp::create(
                                   b, loc, c[0], weight(i, first, invTemp))});
        });
    Value sum = total.getResult(0);

    // m and c_(m-1): the nucleus, where p < 1 and n > 1.
    Value nucleus = arith::AndIOp::create(
        b, loc,
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, topP, f64(1)),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, n, one));
    Value target = arith::MulFOp::create(b, loc, topP, sum);
    Value no = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
    auto kept = scf::ForOp::create(
        b, loc, zero, n, one, ValueRange{f64(0), n, sum, no},
        [&](OpBuilder &, Location, Value i, ValueRange state) {
          Value c = arith::AddFOp::create(b, loc, state[0],
                                          weight(i, first, invTemp));
          Value reached = arith::CmpFOp::create(
              b, loc, arith::CmpFPredicate::OGE, c, target);
          Value open = arith::XOrIOp::create(
              b, loc, state[3],
              arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
          Value hit = arith::AndIOp::create(
              b, loc, nucleus, arith::AndIOp::create(b, loc, open, reached));
          Value m = arith::SelectOp::create(
              b, loc, hit, arith::AddIOp::create(b, loc, i, one), state[1]);
          Value cm = arith::SelectOp::create(b, loc, hit, c, state[2]);
          scf::YieldOp::create(
              b, loc,
              ValueRange{c, m, cm,
                         arith::OrIOp::create(b, loc, state[3], hit)});
        });
    Value m = kept.getResult(1), keptSum = kept.getResult(2);

    // The first i < m with u * c_(m-1) < c_i, else m - 1.
    Value r = arith::MulFOp::create(b, loc, u, keptSum);
    Value none = index(-1);
    auto pick = scf::ForOp::create(
        b, loc, zero, m, one, ValueRange{f64(0), none},
        [&](OpBuilder &, Location, Value i, ValueRange state) {
          Value c = arith::AddFOp::create(b, loc, state[0],
                                          weight(i, first, invTemp));
          Value below =
              arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, r, c);
          Value open = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                             state[1], none);
          Value take = arith::AndIOp::create(b, loc, open, below);
          scf::YieldOp::create(b, loc,
                               ValueRange{c, arith::SelectOp::create(
                                                 b, loc, take, i, state[1])});
        });
    Value chosen = pick.getResult(1);
    Value unchosen =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, chosen, none);
    return id(arith::SelectOp::create(
        b, loc, unchosen, arith::SubIOp::create(b, loc, m, one), chosen));
  }
};

struct SampleLowering : OpConversionPattern<llama::SampleOp> {
  SampleLowering(MLIRContext *context, bool kernelOp)
      : OpConversionPattern(context), kernelOp(kernelOp) {}
  bool kernelOp;

  LogicalResult
  matchAndRewrite(llama::SampleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    ArrayRef<int64_t> shape = op.getNext().getType().getShape();
    Value init = empty(rewriter, loc, shape, rewriter.getI32Type());
    if (kernelOp) {
      auto kernel = llama::SampleRowsOp::create(
          rewriter, loc, TypeRange{init.getType()}, adaptor.getValues(),
          adaptor.getIds(), adaptor.getSettings(), init);
      rewriter.replaceOp(op, kernel.getResult());
      return success();
    }
    const int64_t k = op.getValues().getType().getDimSize(2);
    MLIRContext *ctx = op.getContext();
    // A row at each [batch, seq]; the lists are read where the draw needs
    // them (its loops' bounds are known only at run time).
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{init.getType()}, ValueRange{},
        ValueRange{init},
        ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(2, ctx)},
        ArrayRef<utils::IteratorType>{utils::IteratorType::parallel,
                                      utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          RowDraw row{b,
                      l,
                      adaptor.getValues(),
                      adaptor.getIds(),
                      adaptor.getSettings(),
                      linalg::IndexOp::create(b, l, 0),
                      linalg::IndexOp::create(b, l, 1),
                      k};
          linalg::YieldOp::create(b, l, row.emit());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};
} // namespace

void llamac::lowering::populateSampleLowering(RewritePatternSet &patterns,
                                              bool kernelOp) {
  patterns.add<SampleLowering>(patterns.getContext(), kernelOp);
}

//===- LowerRoPE.cpp - rotary position embedding ----------------*- C++ -*-===//
//
// inv_freq (with Llama 3 scaling) is folded to a constant at compile time.
// The angles (positions[b] + s) * inv_freq[j] and their cos/sin are computed
// once per op in f64 — a [batch, seq, head_dim/2] table, tiny next to the
// activations — so that large positions lose no precision; then every head
// is rotated with its partner element i +- head_dim/2 (Hugging Face pairing).
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "llama/LlamaOps.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace llamac::lowering;

namespace {
/// transformers' default inv_freq, rescaled as _compute_llama3_parameters
/// does when the op carries Llama 3 scaling.
SmallVector<double> inverseFrequencies(llama::RoPEOp op) {
  int64_t headDim = op.getHeadDim();
  double theta = op.getTheta().convertToDouble();
  SmallVector<double> inv;
  for (int64_t i = 0; i < headDim; i += 2)
    inv.push_back(1.0 / std::pow(theta, double(i) / double(headDim)));
  auto scaling = op.getScalingAttr();
  if (!scaling)
    return inv;
  double factor = scaling.getFactor().convertToDouble();
  double low = scaling.getLowFreqFactor().convertToDouble();
  double high = scaling.getHighFreqFactor().convertToDouble();
  double original = double(scaling.getOriginalMaxPosition());
  double lowFreqWavelen = original / low, highFreqWavelen = original / high;
  for (double &f : inv) {
    double wavelen = 2.0 * M_PI / f;
    if (wavelen < highFreqWavelen)
      continue; // high frequencies are kept
    if (wavelen > lowFreqWavelen) {
      f /= factor; // low frequencies are interpolated
      continue;
    }
    double smooth = (original / wavelen - low) / (high - low);
    f = (1.0 - smooth) * f / factor + smooth * f;
  }
  return inv;
}

struct RoPELowering : OpConversionPattern<llama::RoPEOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(llama::RoPEOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto type = op.getResult().getType();
    int64_t batch = type.getDimSize(0), seq = type.getDimSize(1);
    int64_t headDim = op.getHeadDim(), half = headDim / 2;

    SmallVector<double> inv = inverseFrequencies(op);
    auto invType = RankedTensorType::get({half}, rewriter.getF64Type());
    Value invFreq = arith::ConstantOp::create(
        rewriter, loc, DenseElementsAttr::get(invType, ArrayRef<double>(inv)));

    // Tables over (b, s, j): angle = (positions[b] + s) * inv_freq[j].
    auto tableMap = [&](ArrayRef<unsigned> dims) {
      return AffineMap::getMultiDimMapWithTargets(3, dims, ctx);
    };
    auto table = [&](bool sine) {
      Value init = empty(rewriter, loc, {batch, seq, half}, rewriter.getF32Type());
      return generic(
          rewriter, loc, init, {adaptor.getPositions(), invFreq},
          {tableMap({0}), tableMap({2})}, tableMap({0, 1, 2}), 3, {},
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value s = linalg::IndexOp::create(b, l, 1);
            Value sI64 = arith::IndexCastOp::create(b, l, b.getI64Type(), s);
            Value pos = arith::AddIOp::create(b, l, args[0], sI64);
            Value posF = arith::SIToFPOp::create(b, l, b.getF64Type(), pos);
            Value angle = arith::MulFOp::create(b, l, posF, args[1]);
            Value v = sine ? math::SinOp::create(b, l, angle).getResult()
                           : math::CosOp::create(b, l, angle).getResult();
            return arith::TruncFOp::create(b, l, b.getF32Type(), v);
          });
    };
    Value cosTable = table(false), sinTable = table(true);

    // out[b, s, f] = x[f] * cos[j] + rotate_half(x)[f] * sin[j] with
    // i = f mod head_dim, j = i mod half and rotate_half(x)[i] = -x[i + half]
    // for i < half, x[i - half] otherwise.
    Value input = adaptor.getInput();
    AffineExpr f = getAffineDimExpr(2, ctx);
    AffineMap tableOfF = AffineMap::get(
        3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx), f % half},
        ctx);
    AffineMap id = tableMap({0, 1, 2});
    Value init = empty(rewriter, loc, type.getShape(), rewriter.getF32Type());
    Value result = generic(
        rewriter, loc, init, {input, cosTable, sinTable}, {id, tableOfF, tableOfF},
        id, 3, {}, [&](OpBuilder &b, Location l, ValueRange args) {
          Value bIdx = linalg::IndexOp::create(b, l, 0);
          Value sIdx = linalg::IndexOp::create(b, l, 1);
          Value fIdx = linalg::IndexOp::create(b, l, 2);
          Value i = arith::RemUIOp::create(b, l, fIdx, indexConst(b, l, headDim));
          Value firstHalf = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                                  i, indexConst(b, l, half));
          Value plus = arith::AddIOp::create(b, l, fIdx, indexConst(b, l, half));
          Value minus = arith::SubIOp::create(b, l, fIdx, indexConst(b, l, half));
          Value partnerIdx = arith::SelectOp::create(b, l, firstHalf, plus, minus);
          Value partner = tensor::ExtractOp::create(
              b, l, input, ValueRange{bIdx, sIdx, partnerIdx});
          Value rotated = arith::SelectOp::create(
              b, l, firstHalf, arith::NegFOp::create(b, l, partner), partner);
          Value xc = arith::MulFOp::create(b, l, args[0], args[1]);
          Value rs = arith::MulFOp::create(b, l, rotated, args[2]);
          return arith::AddFOp::create(b, l, xc, rs);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};
} // namespace

void llamac::lowering::populateRoPELowering(RewritePatternSet &patterns) {
  patterns.add<RoPELowering>(patterns.getContext());
}

//===- LowerLayers.cpp - embedding, norm, linear, SwiGLU, add ---*- C++ -*-===//
//
// Each op becomes one or two linalg.generic ops on [batch, seq, features]
// tensors, computing in f32 whatever the weights' stored type.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "llama/LlamaOps.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace llamac::lowering;

namespace {
/// (d0, d1, d2) -> (d0, d1, d2) and friends, for rank-3 iteration spaces.
AffineMap map3(MLIRContext *ctx, ArrayRef<unsigned> dims) {
  return AffineMap::getMultiDimMapWithTargets(3, dims, ctx);
}

struct EmbeddingLowering : OpConversionPattern<llama::EmbeddingOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(llama::EmbeddingOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto type = op.getResult().getType();
    Value table = adaptor.getTable();
    Value init = empty(rewriter, loc, type.getShape(), rewriter.getF32Type());
    // Token ids are checked against the vocabulary by the runtime before
    // the call; the gather itself reads table[token, h].
    Value result = generic(
        rewriter, loc, init, {adaptor.getTokens()}, {map3(ctx, {0, 1})},
        map3(ctx, {0, 1, 2}), 3, {},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value row = arith::IndexCastOp::create(b, l, b.getIndexType(), args[0]);
          Value col = linalg::IndexOp::create(b, l, 2);
          Value v = tensor::ExtractOp::create(b, l, table, ValueRange{row, col});
          return toF32(b, l, v);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LastRowsLowering : OpConversionPattern<llama::LastRowsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(llama::LastRowsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto type = op.getResult().getType();
    Value input = adaptor.getInput();
    int64_t seq = op.getInput().getType().getDimSize(1);
    Value init = empty(rewriter, loc, type.getShape(), type.getElementType());
    // result[b, 0, h] = input[b, clamp(lengths[b] - 1, 0, seq - 1), h]: the
    // clamp keeps a bad length from reading outside the chunk.
    Value result = generic(
        rewriter, loc, init, {adaptor.getLengths()}, {map3(ctx, {0})},
        map3(ctx, {0, 1, 2}), 3, {},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value last = arith::SubIOp::create(
              b, l, args[0],
              arith::ConstantOp::create(b, l, b.getI64IntegerAttr(1)));
          last = arith::MaxSIOp::create(
              b, l, last,
              arith::ConstantOp::create(b, l, b.getI64IntegerAttr(0)));
          last = arith::MinSIOp::create(
              b, l, last,
              arith::ConstantOp::create(b, l, b.getI64IntegerAttr(seq - 1)));
          Value row = arith::IndexCastOp::create(b, l, b.getIndexType(), last);
          Value batch = linalg::IndexOp::create(b, l, 0);
          Value col = linalg::IndexOp::create(b, l, 2);
          return tensor::ExtractOp::create(b, l, input,
                                           ValueRange{batch, row, col});
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct RMSNormLowering : OpConversionPattern<llama::RMSNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(llama::RMSNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto type = op.getResult().getType();
    int64_t hidden = type.getDimSize(2);
    auto fm = reductionFastMath(ctx);
    // sum(x^2) over the hidden dim.
    Value sums = filled(rewriter, loc, type.getShape().take_front(2), 0.0);
    sums = generic(rewriter, loc, sums, {adaptor.getInput()},
                   {map3(ctx, {0, 1, 2})}, map3(ctx, {0, 1}), 3, {2},
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     Value sq = arith::MulFOp::create(b, l, args[0], args[0], fm);
                     return arith::AddFOp::create(b, l, args[1], sq, fm);
                   });
    // x * rsqrt(mean + eps) * weight, in transformers' order; without a
    // weight, x times a factor of its row alone (which llama-map-to-gpu
    // can apply after a GEMV that reads x instead).
    double eps = op.getEpsilon().convertToDouble();
    Value init = empty(rewriter, loc, type.getShape(), rewriter.getF32Type());
    SmallVector<Value> inputs = {adaptor.getInput(), sums};
    SmallVector<AffineMap> maps = {map3(ctx, {0, 1, 2}), map3(ctx, {0, 1})};
    if (Value weight = adaptor.getWeight()) {
      inputs.push_back(weight);
      maps.push_back(map3(ctx, {2}));
    }
    Value result = generic(
        rewriter, loc, init, inputs, maps, map3(ctx, {0, 1, 2}), 3, {},
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value n = arith::ConstantOp::create(b, l, b.getF32FloatAttr(hidden));
          Value e = arith::ConstantOp::create(b, l, b.getF32FloatAttr(eps));
          Value mean = arith::DivFOp::create(b, l, args[1], n);
          Value r = math::RsqrtOp::create(b, l, arith::AddFOp::create(b, l, mean, e));
          Value normed = arith::MulFOp::create(b, l, args[0], r);
          if (args.size() == 3) // the inputs and the output
            return normed;
          return arith::MulFOp::create(b, l, normed, toF32(b, l, args[2]));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LinearLowering : OpConversionPattern<llama::LinearOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(llama::LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto type = op.getResult().getType();
    auto fm = reductionFastMath(ctx);
    // (b, n, s, k): out[b, s, n] += x[b, s, k] * w[n, k]. The weight row n
    // is the outer loop and the tokens s the inner one, so each row is read
    // from memory once per call and reused from cache for every token.
    auto map4 = [&](ArrayRef<unsigned> dims) {
      return AffineMap::getMultiDimMapWithTargets(4, dims, ctx);
    };
    Value init = filled(rewriter, loc, type.getShape(), 0.0);
    Value result = generic(
        rewriter, loc, init, {adaptor.getInput(), adaptor.getWeight()},
        {map4({0, 2, 3}), map4({1, 3})}, map4({0, 2, 1}), 4, {3},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value p = arith::MulFOp::create(b, l, args[0], toF32(b, l, args[1]), fm);
          return arith::AddFOp::create(b, l, args[2], p, fm);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Elementwise ops on same-shaped activations.
template <typename Op>
struct ElementwiseLowering : OpConversionPattern<Op> {
  using OpConversionPattern<Op>::OpConversionPattern;
  using OpAdaptor = typename Op::Adaptor;

  static Value compute(OpBuilder &b, Location l, Value lhs, Value rhs);

  LogicalResult
  matchAndRewrite(Op op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto type = op.getResult().getType();
    Value init = empty(rewriter, loc, type.getShape(), rewriter.getF32Type());
    AffineMap id = map3(ctx, {0, 1, 2});
    Value result = generic(rewriter, loc, init, adaptor.getOperands(), {id, id},
                           id, 3, {},
                           [&](OpBuilder &b, Location l, ValueRange args) {
                             return compute(b, l, args[0], args[1]);
                           });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// silu(gate) * up, with silu(g) = g * sigmoid(g) = g / (1 + exp(-g)).
template <>
Value ElementwiseLowering<llama::SwiGLUOp>::compute(OpBuilder &b, Location l,
                                                    Value gate, Value up) {
  Value one = arith::ConstantOp::create(b, l, b.getF32FloatAttr(1.0));
  Value e = math::ExpOp::create(b, l, arith::NegFOp::create(b, l, gate));
  Value silu = arith::DivFOp::create(b, l, gate, arith::AddFOp::create(b, l, one, e));
  return arith::MulFOp::create(b, l, silu, up);
}

template <>
Value ElementwiseLowering<llama::AddOp>::compute(OpBuilder &b, Location l,
                                                 Value lhs, Value rhs) {
  return arith::AddFOp::create(b, l, lhs, rhs);
}
} // namespace

void llamac::lowering::populateLayerLowerings(RewritePatternSet &patterns) {
  patterns.add<EmbeddingLowering, LastRowsLowering, RMSNormLowering,
               LinearLowering, ElementwiseLowering<llama::SwiGLUOp>,
               ElementwiseLowering<llama::AddOp>>(patterns.getContext());
}

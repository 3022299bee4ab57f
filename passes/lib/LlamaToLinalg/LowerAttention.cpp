//===- LowerAttention.cpp - causal GQA attention over the KV cache -*- C++ -*-===//
//
// Two loops over the sequences of the batch, each with its own position:
//  1. write k and v, transposed to [kv_heads, seq, head_dim], into the
//     cache at positions[b] (tensor.insert_slice: in place after
//     bufferization);
//  2. attend: scores over the keys 0 .. positions[b] + seq - 1 only (a
//     dynamically sized slice of the cache, so a decode step costs what the
//     context so far costs, not the compiled maximum), causal mask, softmax,
//     then the weighted sum of values. Query head h reads kv head
//     h floordiv (num_heads / num_kv_heads), an affine map, so GQA and MQA
//     need no copies of k and v.
//
//===----------------------------------------------------------------------===//
#include "Lowering.h"

#include "llama/LlamaOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace llamac::lowering;

namespace {
struct AttentionShape {
  int64_t batch, seq, heads, kvHeads, headDim, layer;
};

/// positions[b] as an index.
Value positionOf(OpBuilder &b, Location loc, Value positions, Value batchIdx) {
  Value p = tensor::ExtractOp::create(b, loc, positions, ValueRange{batchIdx});
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), p);
}

/// Where sequence `bIdx` lies in a [batch, seq, features] activation.
struct SequenceSlice {
  SmallVector<OpFoldResult> offsets, sizes, strides;
};
SequenceSlice sequenceSlice(OpBuilder &b, Value bIdx, int64_t seq,
                            int64_t features) {
  return {{bIdx, b.getIndexAttr(0), b.getIndexAttr(0)},
          {b.getIndexAttr(1), b.getIndexAttr(seq), b.getIndexAttr(features)},
          SmallVector<OpFoldResult>(3, b.getIndexAttr(1))};
}

/// Sequence `bIdx` of [batch, seq, heads * head_dim], as [seq, heads,
/// head_dim].
Value headsOfSequence(OpBuilder &b, Location loc, Value activation, Value bIdx,
                      int64_t seq, int64_t heads, int64_t headDim) {
  Type f32 = b.getF32Type();
  SequenceSlice slice = sequenceSlice(b, bIdx, seq, heads * headDim);
  Value row = tensor::ExtractSliceOp::create(
      b, loc, RankedTensorType::get({seq, heads * headDim}, f32), activation,
      slice.offsets, slice.sizes, slice.strides);
  return tensor::ExpandShapeOp::create(
      b, loc, RankedTensorType::get({seq, heads, headDim}, f32), row,
      ArrayRef<ReassociationIndices>{{0}, {1, 2}});
}

/// Writes this step's k and v of every sequence into the cache.
Value updateCache(OpBuilder &b, Location loc, const AttentionShape &sh,
                  Value cache, Value k, Value v, Value positions) {
  Value zero = indexConst(b, loc, 0), one = indexConst(b, loc, 1);
  Value batch = indexConst(b, loc, sh.batch);
  auto loop = scf::ForOp::create(
      b, loc, zero, batch, one, ValueRange{cache},
      [&](OpBuilder &nb, Location l, Value bIdx, ValueRange iterArgs) {
        Value pos = positionOf(nb, l, positions, bIdx);
        Value current = iterArgs[0];
        Value sources[] = {k, v};
        for (int64_t kind = 0; kind < 2; ++kind) {
          // src[b] : [seq, kv_heads * head_dim] -> [kv_heads, seq, head_dim]
          Value heads = headsOfSequence(nb, l, sources[kind], bIdx, sh.seq,
                                        sh.kvHeads, sh.headDim);
          Value init = empty(nb, l, {sh.kvHeads, sh.seq, sh.headDim},
                             nb.getF32Type());
          Value transposed =
              linalg::TransposeOp::create(nb, l, heads, init,
                                          ArrayRef<int64_t>{1, 0, 2})
                  .getResult()[0];
          SmallVector<OpFoldResult> at = {
              nb.getIndexAttr(sh.layer), nb.getIndexAttr(kind), bIdx,
              nb.getIndexAttr(0),        pos,                   nb.getIndexAttr(0)};
          SmallVector<OpFoldResult> extent = {
              nb.getIndexAttr(1),          nb.getIndexAttr(1),
              nb.getIndexAttr(1),          nb.getIndexAttr(sh.kvHeads),
              nb.getIndexAttr(sh.seq),     nb.getIndexAttr(sh.headDim)};
          SmallVector<OpFoldResult> unit(6, nb.getIndexAttr(1));
          current = tensor::InsertSliceOp::create(nb, l, transposed, current,
                                                  at, extent, unit);
        }
        scf::YieldOp::create(nb, l, current);
      });
  return loop.getResult(0);
}

/// Attention of sequence `bIdx`: returns [seq, heads * head_dim]. The
/// flash form writes it into sequence `bIdx` of `result` ([batch, seq,
/// heads * head_dim]), so that bufferization puts it there in place.
Value attendOne(OpBuilder &b, Location loc, const AttentionShape &sh,
                Value cache, Value q, Value positions, Value bIdx, bool flash,
                Value result) {
  MLIRContext *ctx = b.getContext();
  auto fm = reductionFastMath(ctx);
  Type f32 = b.getF32Type();
  Value pos = positionOf(b, loc, positions, bIdx);
  Value len = arith::AddIOp::create(b, loc, pos, indexConst(b, loc, sh.seq));

  auto cacheSlice = [&](int64_t kind) {
    auto type = RankedTensorType::get(
        {sh.kvHeads, ShapedType::kDynamic, sh.headDim}, f32);
    SmallVector<OpFoldResult> offsets = {
        b.getIndexAttr(sh.layer), b.getIndexAttr(kind), bIdx,
        b.getIndexAttr(0),        b.getIndexAttr(0),    b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {
        b.getIndexAttr(1),           b.getIndexAttr(1), b.getIndexAttr(1),
        b.getIndexAttr(sh.kvHeads),  len,               b.getIndexAttr(sh.headDim)};
    SmallVector<OpFoldResult> strides(6, b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(b, loc, type, cache, offsets, sizes,
                                          strides)
        .getResult();
  };
  Value keys = cacheSlice(0), values = cacheSlice(1);

  // q[b] : [seq, heads * head_dim] -> [seq, heads, head_dim]
  Value qHeads = headsOfSequence(b, loc, q, bIdx, sh.seq, sh.heads, sh.headDim);
  double scale = 1.0 / std::sqrt(double(sh.headDim));
  auto rowsOf = [&](Value heads) {
    return tensor::CollapseShapeOp::create(
        b, loc, RankedTensorType::get({sh.seq, sh.heads * sh.headDim}, f32),
        heads, ArrayRef<ReassociationIndices>{{0}, {1, 2}});
  };
  if (flash) {
    Value attended =
        llama::FlashAttentionOp::create(
            b, loc, TypeRange{qHeads.getType()}, qHeads, keys, values,
            headsOfSequence(b, loc, result, bIdx, sh.seq, sh.heads,
                            sh.headDim),
            b.getF32FloatAttr(scale))
            .getResult()[0];
    return rowsOf(attended);
  }

  int64_t group = sh.heads / sh.kvHeads;
  auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
  auto map = [&](unsigned numDims, ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(numDims, 0, exprs, ctx);
  };

  // scores[h, s, j] = sum_d q[s, h, d] * k[h / group, j, d]   (h, s, j, d)
  Value scores = filled(b, loc, {sh.heads, sh.seq, ShapedType::kDynamic}, 0.0,
                        ValueRange{len});
  scores = generic(b, loc, scores, {qHeads, keys},
                   {map(4, {d(1), d(0), d(3)}), map(4, {d(0).floorDiv(group), d(2), d(3)})},
                   map(4, {d(0), d(1), d(2)}), 4, {3},
                   [&](OpBuilder &nb, Location l, ValueRange args) {
                     Value p = arith::MulFOp::create(nb, l, args[0], args[1], fm);
                     return arith::AddFOp::create(nb, l, args[2], p, fm);
                   });

  // Scale, and mask keys after the query's own position: j > pos + s.
  AffineMap hsj = map(3, {d(0), d(1), d(2)}), hs = map(3, {d(0), d(1)});
  Value masked = generic(
      b, loc, empty(b, loc, {sh.heads, sh.seq, ShapedType::kDynamic}, f32, len),
      {scores}, {hsj}, hsj, 3, {},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value s = linalg::IndexOp::create(nb, l, 1);
        Value j = linalg::IndexOp::create(nb, l, 2);
        Value last = arith::AddIOp::create(nb, l, pos, s);
        Value visible =
            arith::CmpIOp::create(nb, l, arith::CmpIPredicate::ule, j, last);
        Value scaled = arith::MulFOp::create(
            nb, l, args[0],
            arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(scale)));
        Value minusInf = arith::ConstantOp::create(
            nb, l, nb.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
        return arith::SelectOp::create(nb, l, visible, scaled, minusInf);
      });

  // Softmax over j.
  Value maxima = filled(b, loc, {sh.heads, sh.seq},
                        -std::numeric_limits<double>::infinity());
  maxima = generic(b, loc, maxima, {masked}, {hsj}, hs, 3, {2},
                   [&](OpBuilder &nb, Location l, ValueRange args) {
                     return arith::MaximumFOp::create(nb, l, args[0], args[1]);
                   });
  Value exps = generic(
      b, loc, empty(b, loc, {sh.heads, sh.seq, ShapedType::kDynamic}, f32, len),
      {masked, maxima}, {hsj, hs}, hsj, 3, {},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        return math::ExpOp::create(nb, l,
                                   arith::SubFOp::create(nb, l, args[0], args[1]));
      });
  Value sums = filled(b, loc, {sh.heads, sh.seq}, 0.0);
  sums = generic(b, loc, sums, {exps}, {hsj}, hs, 3, {2},
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   return arith::AddFOp::create(nb, l, args[1], args[0], fm);
                 });

  // out[s, h, d] = sum_j exps[h, s, j] * v[h / group, j, d] / sums[h, s]
  Value weighted = filled(b, loc, {sh.seq, sh.heads, sh.headDim}, 0.0);
  weighted = generic(
      b, loc, weighted, {exps, values},
      {map(4, {d(1), d(0), d(3)}), map(4, {d(1).floorDiv(group), d(3), d(2)})},
      map(4, {d(0), d(1), d(2)}), 4, {3},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value p = arith::MulFOp::create(nb, l, args[0], args[1], fm);
        return arith::AddFOp::create(nb, l, args[2], p, fm);
      });
  AffineMap shd = map(3, {d(0), d(1), d(2)});
  Value normalized = generic(
      b, loc, empty(b, loc, {sh.seq, sh.heads, sh.headDim}, f32), {weighted, sums},
      {shd, map(3, {d(1), d(0)})}, shd, 3, {},
      [&](OpBuilder &nb, Location l, ValueRange args) {
        return arith::DivFOp::create(nb, l, args[0], args[1]);
      });
  return rowsOf(normalized);
}

struct AttentionLowering : OpConversionPattern<llama::AttentionOp> {
  AttentionLowering(MLIRContext *context, bool flash)
      : OpConversionPattern(context), flash(flash) {}
  bool flash;
  LogicalResult
  matchAndRewrite(llama::AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto qType = op.getQ().getType();
    AttentionShape sh{qType.getDimSize(0), qType.getDimSize(1),
                      op.getNumHeads(),    op.getNumKVHeads(),
                      op.getHeadDim(),     static_cast<int64_t>(op.getLayer())};
    Value cache = updateCache(rewriter, loc, sh, adaptor.getCache(),
                              adaptor.getK(), adaptor.getV(),
                              adaptor.getPositions());

    Value zero = indexConst(rewriter, loc, 0), one = indexConst(rewriter, loc, 1);
    // The flash form writes each sequence's attention into this in place.
    // A tensor.empty would be merged by CSE with the others of its shape,
    // one of which holds q: writing there while q is read would make
    // bufferization write to a copy and copy it back (a kernel per layer).
    Value result =
        flash ? bufferization::AllocTensorOp::create(
                    rewriter, loc,
                    RankedTensorType::get(qType.getShape(),
                                          rewriter.getF32Type()),
                    ValueRange{})
                    .getResult()
              : empty(rewriter, loc, qType.getShape(), rewriter.getF32Type());
    auto loop = scf::ForOp::create(
        rewriter, loc, zero, indexConst(rewriter, loc, sh.batch), one,
        ValueRange{result},
        [&](OpBuilder &b, Location l, Value bIdx, ValueRange iterArgs) {
          Value rows = attendOne(b, l, sh, cache, adaptor.getQ(),
                                 adaptor.getPositions(), bIdx, flash,
                                 iterArgs[0]);
          SequenceSlice slice =
              sequenceSlice(b, bIdx, sh.seq, sh.heads * sh.headDim);
          Value updated = tensor::InsertSliceOp::create(
              b, l, rows, iterArgs[0], slice.offsets, slice.sizes,
              slice.strides);
          scf::YieldOp::create(b, l, updated);
        });
    rewriter.replaceOp(op, {loop.getResult(0), cache});
    return success();
  }
};
} // namespace

void llamac::lowering::populateAttentionLowering(RewritePatternSet &patterns,
                                                bool flash) {
  patterns.add<AttentionLowering>(patterns.getContext(), flash);
}

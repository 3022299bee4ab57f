//===- VectorizeLinear.cpp - register-tiled vector linear layers -*- C++ -*-===//
//
// The host's linear layers, out[b, s, n] += x[b, s, k] * w[n, k] with the
// reduction k contiguous in both x and w, become register-tiled vector code:
//
// 1. Match the linalg.generic that llama-to-linalg writes for llama.linear
//    (on buffers, static shapes, unit innermost strides).
// 2. Tile the (token s, weight row n) plane into blocks of Sr x Nr outputs.
//    Each block keeps Sr*Nr vector accumulators in registers over k: per
//    step it loads Sr activation vectors and Nr weight vectors (widened to
//    f32) and issues Sr*Nr FMAs, so each loaded vector is used Nr or Sr
//    times. After the k loop, one horizontal sum per output (plus a scalar
//    loop for a k remainder under one vector) is added to the output.
//    Rows n are the outer loop, so a block of weight rows is read from
//    memory once per call and reused from cache for every token.
// 3. Tokens in a multiple of the prefill tile use Sr = tile-tokens; the rest
//    (all of decode, Sr = 1) use Nr = decode-rows, more rows in flight.
// 4. Outputs outside the blocks (row or token remainders) stay
//    linalg.generic on subviews, which convert-linalg-to-loops lowers.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAVECTORIZELINEAR
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

/// The operands of a matched linear contraction.
struct Linear {
  Value x;   // memref<B x S x K x f32>
  Value w;   // memref<N x K x (f32|f16|bf16)>
  Value out; // memref<B x S x N x f32>
  int64_t batch, tokens, rows, depth;
};

bool hasUnitInnerStride(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  return succeeded(type.getStridesAndOffset(strides, offset)) &&
         !strides.empty() && strides.back() == 1;
}

/// Whether `value` is block argument `index` of `block`, or its widening to
/// f32 when `widened` is set.
bool isArg(Value value, Block &block, unsigned index, bool widened) {
  if (widened) {
    auto ext = value.getDefiningOp<arith::ExtFOp>();
    if (!ext)
      return false;
    value = ext.getIn();
  }
  return value == block.getArgument(index);
}

/// The body yields out + x * widen(w), in either operand order.
bool hasLinearBody(linalg::GenericOp op, bool widened) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value product = add.getLhs();
  if (product == body.getArgument(2))
    product = add.getRhs();
  else if (add.getRhs() != body.getArgument(2))
    return false;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  return (isArg(mul.getLhs(), body, 0, false) &&
          isArg(mul.getRhs(), body, 1, widened)) ||
         (isArg(mul.getRhs(), body, 0, false) &&
          isArg(mul.getLhs(), body, 1, widened));
}

std::optional<Linear> matchLinear(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 4)
    return std::nullopt;
  using utils::IteratorType;
  if (op.getIteratorTypesArray() !=
      SmallVector<IteratorType>{IteratorType::parallel, IteratorType::parallel,
                                IteratorType::parallel, IteratorType::reduction})
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  auto map = [&](ArrayRef<unsigned> dims) {
    return AffineMap::getMultiDimMapWithTargets(4, dims, ctx);
  };
  // Loops (b, n, s, k).
  if (op.getIndexingMapsArray() !=
      SmallVector<AffineMap>{map({0, 2, 3}), map({1, 3}), map({0, 2, 1})})
    return std::nullopt;

  Linear linear{op.getDpsInputs()[0], op.getDpsInputs()[1],
                op.getDpsInits()[0], 0, 0, 0, 0};
  auto xType = cast<MemRefType>(linear.x.getType());
  auto wType = cast<MemRefType>(linear.w.getType());
  auto outType = cast<MemRefType>(linear.out.getType());
  if (!xType.hasStaticShape() || !wType.hasStaticShape() ||
      !outType.hasStaticShape() || !xType.getElementType().isF32() ||
      !outType.getElementType().isF32() || !hasUnitInnerStride(xType) ||
      !hasUnitInnerStride(wType))
    return std::nullopt;
  Type weight = wType.getElementType();
  if (!weight.isF32() && !weight.isF16() && !weight.isBF16())
    return std::nullopt;
  if (!hasLinearBody(op, !weight.isF32()))
    return std::nullopt;
  linear.batch = xType.getDimSize(0);
  linear.tokens = xType.getDimSize(1);
  linear.depth = xType.getDimSize(2);
  linear.rows = wType.getDimSize(0);
  return linear;
}

/// Emits the register-tiled loops of one linear layer.
class LinearEmitter {
public:
  LinearEmitter(OpBuilder &b, Location loc, const Linear &linear,
                int64_t lanes)
      : b(b), loc(loc), linear(linear), lanes(lanes),
        vectorDepth(linear.depth - linear.depth % lanes) {}

  /// Outputs [sBegin, sEnd) x [nBegin, nEnd) of batch `batch`, in blocks of
  /// sTile x nTile (both ranges are multiples of their tile).
  void emitBlocks(Value batch, int64_t sBegin, int64_t sEnd, int64_t sTile,
                  int64_t nBegin, int64_t nEnd, int64_t nTile) {
    if (sBegin >= sEnd || nBegin >= nEnd)
      return;
    scf::ForOp::create(
        b, loc, index(nBegin), index(nEnd), index(nTile), ValueRange{},
        [&](OpBuilder &nb, Location, Value n, ValueRange) {
          scf::ForOp::create(
              nb, loc, index(sBegin), index(sEnd), index(sTile), ValueRange{},
              [&](OpBuilder &sb, Location, Value s, ValueRange) {
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPoint(sb.getInsertionBlock(),
                                    sb.getInsertionPoint());
                emitBlock(batch, s, sTile, n, nTile);
                scf::YieldOp::create(b, loc);
              });
          scf::YieldOp::create(nb, loc);
        });
  }

private:
  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value offset(Value base, int64_t delta) {
    return delta ? arith::AddIOp::create(b, loc, base, index(delta)).getResult()
                 : base;
  }
  arith::FastMathFlags reassoc() {
    return arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
  }
  Value widen(Value value, Type type) {
    return value.getType() == type
               ? value
               : arith::ExtFOp::create(b, loc, type, value).getResult();
  }

  /// One sTile x nTile block at (s, n).
  void emitBlock(Value batch, Value s, int64_t sTile, Value n, int64_t nTile) {
    Type f32 = b.getF32Type();
    auto accType = VectorType::get({lanes}, f32);
    auto wVectorType = VectorType::get(
        {lanes}, cast<MemRefType>(linear.w.getType()).getElementType());
    SmallVector<Value> tokens, rows;
    for (int64_t i = 0; i < sTile; ++i)
      tokens.push_back(offset(s, i));
    for (int64_t j = 0; j < nTile; ++j)
      rows.push_back(offset(n, j));

    // Vector accumulators over k in [0, vectorDepth).
    Value zero = arith::ConstantOp::create(b, loc, accType,
                                           DenseElementsAttr::get(accType, 0.0f));
    SmallVector<Value> init(sTile * nTile, zero);
    auto kLoop = scf::ForOp::create(
        b, loc, index(0), index(vectorDepth), index(lanes), init,
        [&](OpBuilder &kb, Location, Value k, ValueRange accs) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(kb.getInsertionBlock(), kb.getInsertionPoint());
          SmallVector<Value> xs;
          for (Value token : tokens)
            xs.push_back(vector::LoadOp::create(b, loc, accType, linear.x,
                                                ValueRange{batch, token, k}));
          SmallVector<Value> next(accs);
          for (int64_t j = 0; j < nTile; ++j) {
            Value wj = widen(vector::LoadOp::create(b, loc, wVectorType,
                                                    linear.w,
                                                    ValueRange{rows[j], k}),
                             accType);
            for (int64_t i = 0; i < sTile; ++i)
              next[i * nTile + j] =
                  vector::FMAOp::create(b, loc, xs[i], wj, next[i * nTile + j]);
          }
          scf::YieldOp::create(b, loc, next);
        });

    // One horizontal sum per output, onto the output's current value.
    SmallVector<Value> sums;
    for (int64_t i = 0; i < sTile; ++i)
      for (int64_t j = 0; j < nTile; ++j) {
        Value old = memref::LoadOp::create(b, loc, linear.out,
                                           ValueRange{batch, tokens[i], rows[j]});
        sums.push_back(vector::ReductionOp::create(
            b, loc, vector::CombiningKind::ADD,
            kLoop.getResult(i * nTile + j), old, reassoc()));
      }

    // The k remainder (fewer than `lanes` elements), scalar.
    if (vectorDepth < linear.depth) {
      auto tail = scf::ForOp::create(
          b, loc, index(vectorDepth), index(linear.depth), index(1), sums,
          [&](OpBuilder &kb, Location, Value k, ValueRange accs) {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPoint(kb.getInsertionBlock(), kb.getInsertionPoint());
            SmallVector<Value> next(accs);
            for (int64_t i = 0; i < sTile; ++i) {
              Value xi = memref::LoadOp::create(
                  b, loc, linear.x, ValueRange{batch, tokens[i], k});
              for (int64_t j = 0; j < nTile; ++j) {
                Value wj = widen(memref::LoadOp::create(b, loc, linear.w,
                                                        ValueRange{rows[j], k}),
                                 f32);
                Value p = arith::MulFOp::create(b, loc, xi, wj);
                next[i * nTile + j] =
                    arith::AddFOp::create(b, loc, next[i * nTile + j], p);
              }
            }
            scf::YieldOp::create(b, loc, next);
          });
      sums.assign(tail.getResults().begin(), tail.getResults().end());
    }
    for (int64_t i = 0; i < sTile; ++i)
      for (int64_t j = 0; j < nTile; ++j)
        memref::StoreOp::create(b, loc, sums[i * nTile + j], linear.out,
                                ValueRange{batch, tokens[i], rows[j]});
  }

  OpBuilder &b;
  Location loc;
  const Linear &linear;
  int64_t lanes;
  int64_t vectorDepth;
};

/// A clone of `op` restricted to tokens [sBegin, sEnd) and rows
/// [nBegin, nEnd), on subviews.
void emitRemainder(OpBuilder &b, linalg::GenericOp op, const Linear &linear,
                   int64_t sBegin, int64_t sEnd, int64_t nBegin, int64_t nEnd) {
  if (sBegin >= sEnd || nBegin >= nEnd)
    return;
  Location loc = op.getLoc();
  auto view = [&](Value source, ArrayRef<int64_t> offsets,
                  ArrayRef<int64_t> sizes) -> Value {
    SmallVector<OpFoldResult> o, s, st;
    for (auto [offset, size] : llvm::zip(offsets, sizes)) {
      o.push_back(b.getIndexAttr(offset));
      s.push_back(b.getIndexAttr(size));
      st.push_back(b.getIndexAttr(1));
    }
    return memref::SubViewOp::create(b, loc, source, o, s, st);
  };
  IRMapping mapping;
  mapping.map(linear.x, view(linear.x, {0, sBegin, 0},
                             {linear.batch, sEnd - sBegin, linear.depth}));
  mapping.map(linear.w, view(linear.w, {nBegin, 0}, {nEnd - nBegin, linear.depth}));
  mapping.map(linear.out, view(linear.out, {0, sBegin, nBegin},
                               {linear.batch, sEnd - sBegin, nEnd - nBegin}));
  b.clone(*op.getOperation(), mapping);
}

struct VectorizeLinearPass
    : llamac::impl::LlamaVectorizeLinearBase<VectorizeLinearPass> {
  using LlamaVectorizeLinearBase::LlamaVectorizeLinearBase;

  void runOnOperation() override {
    if (lanes < 1 || tileTokens < 1 || tileRows < 1 || decodeRows < 1) {
      getOperation().emitError() << "llama-vectorize-linear: lanes and tile "
                                    "sizes must be positive";
      return signalPassFailure();
    }
    SmallVector<std::pair<linalg::GenericOp, Linear>> linears;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<Linear> linear = matchLinear(op))
        linears.push_back({op, *linear});
    });
    for (auto &[op, linear] : linears)
      rewrite(op, linear);
  }

  void rewrite(linalg::GenericOp op, const Linear &linear) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    // Tokens [0, sTiled) in prefill tiles, [sTiled, S) one at a time; rows
    // in tiles of each part's own size.
    int64_t sTiled = linear.tokens - linear.tokens % tileTokens;
    int64_t nPrefill = linear.rows - linear.rows % tileRows;
    int64_t nDecode = linear.rows - linear.rows % decodeRows;
    LinearEmitter emitter(b, loc, linear, lanes);
    scf::ForOp::create(
        b, loc, arith::ConstantIndexOp::create(b, loc, 0),
        arith::ConstantIndexOp::create(b, loc, linear.batch),
        arith::ConstantIndexOp::create(b, loc, 1), ValueRange{},
        [&](OpBuilder &bb, Location, Value batch, ValueRange) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(bb.getInsertionBlock(), bb.getInsertionPoint());
          emitter.emitBlocks(batch, 0, sTiled, tileTokens, 0, nPrefill,
                             tileRows);
          emitter.emitBlocks(batch, sTiled, linear.tokens, 1, 0, nDecode,
                             decodeRows);
          scf::YieldOp::create(b, loc);
        });
    emitRemainder(b, op, linear, 0, sTiled, nPrefill, linear.rows);
    emitRemainder(b, op, linear, sTiled, linear.tokens, nDecode, linear.rows);
    op.erase();
  }
};
} // namespace

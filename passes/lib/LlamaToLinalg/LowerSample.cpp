//===- LowerSample.cpp - llama.sample -> linalg or one kernel op -*- C++
//-*-===//
//
// The host draws a row's token in one thread. From the list (top-k in
// [1, K]), as the runtime's sampler does: a pass for the sum of the
// weights, one for the nucleus, one for the draw (each recomputing the
// weights: the list is short). From the row (top-k off or above K), in
// fixed point: each threshold three passes over the row, one 10-bit digit
// of the keys each (a histogram of 1,024 bins on the stack, then a search
// from the top bin), as the GPU kernel finds it; then a pass for the
// nucleus' mass and one for the draw. (A bit at a time took 30 passes a
// threshold, each with an exp an entry: ~47 ms a step for a 128k
// vocabulary.) A GPU target
// keeps the op whole as llama.sample_rows, a kernel of its own
// (SampleToGPU.cpp).
//
//===----------------------------------------------------------------------===//
#include "../RowDrawWeights.h"
#include "Lowering.h"

#include "llama/LlamaOps.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <functional>
#include <limits>

using namespace mlir;
using namespace llamac::lowering;

namespace {

/// llama.sample's draw from the whole row [batch, row] of `logits`, in
/// fixed point (top-k off or above K), inside a linalg body.
struct RowRegime {
  OpBuilder &b;
  Location loc;
  Value logits, batch, row;
  int64_t vocab, k;
  const llamac::RowDrawWeights *weights = nullptr; // set by draw
  Value histogram; // memref<1024xi64> on the stack, set by draw
  static constexpr int64_t kDigitBits = 10, kBins = 1 << kDigitBits;

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value i64(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
  }
  Value f64(double v) {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v));
  }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return arith::CmpFOp::create(b, loc, p, x, y);
  }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  /// floor(x) of a non-negative f64 as i64 (0 for anything else: fptoui of
  /// a negative or NaN is poison, which the select drops).
  Value floorOf(Value x) {
    Value positive = cmpf(arith::CmpFPredicate::OGT, x, f64(0));
    return select(positive, arith::FPToUIOp::create(b, loc, b.getI64Type(), x),
                  i64(0));
  }

  /// The row's entry i.
  Value entry(Value i) {
    return tensor::ExtractOp::create(b, loc, logits, ValueRange{batch, row, i});
  }

  /// Sum over the row of `term(w)` where w's key is at least `floor`.
  Value sumAtLeast(Value floor, const std::function<Value(Value)> &term) {
    auto loop = scf::ForOp::create(
        b, loc, index(0), index(vocab), index(1), ValueRange{i64(0)},
        [&](OpBuilder &, Location, Value i, ValueRange held) {
          Value w = weights->weight(entry(i));
          Value in = cmpi(arith::CmpIPredicate::uge, weights->key(w), floor);
          scf::YieldOp::create(
              b, loc, ValueRange{add(held[0], select(in, term(w), i64(0)))});
        });
    return loop.getResult(0);
  }

  /// The largest key whose entries hold at least `target` of `term`
  /// (weights <= 1 have keys below 2^30): three 10-bit digits from the top.
  /// For each, a pass adds the term of every entry whose key has the
  /// digits found so far into its next digit's bin, and a search from the
  /// top bin takes the largest digit at which the entries above it (found
  /// before, `above`) and the bins from it up reach the target.
  Value threshold(Value target, const std::function<Value(Value)> &term) {
    Value found = i32(0), above = i64(0);
    for (int64_t level = 0; level < 3; ++level) {
      const int64_t shift = kDigitBits * (2 - level);
      scf::ForOp::create(b, loc, index(0), index(kBins), index(1), ValueRange{},
                         [&](OpBuilder &, Location, Value bin, ValueRange) {
                           memref::StoreOp::create(b, loc, i64(0), histogram,
                                                   ValueRange{bin});
                           scf::YieldOp::create(b, loc);
                         });
      Value prefixShift = i32(shift + kDigitBits);
      Value prefix = arith::ShRUIOp::create(b, loc, found, prefixShift);
      scf::ForOp::create(
          b, loc, index(0), index(vocab), index(1), ValueRange{},
          [&](OpBuilder &, Location, Value i, ValueRange) {
            Value w = weights->weight(entry(i));
            Value key = weights->key(w);
            Value matches =
                cmpi(arith::CmpIPredicate::eq,
                     arith::ShRUIOp::create(b, loc, key, prefixShift), prefix);
            scf::IfOp::create(b, loc, matches, [&](OpBuilder &, Location) {
              Value digit = arith::AndIOp::create(
                  b, loc, arith::ShRUIOp::create(b, loc, key, i32(shift)),
                  i32(kBins - 1));
              Value bin =
                  arith::IndexCastUIOp::create(b, loc, b.getIndexType(), digit);
              Value held =
                  memref::LoadOp::create(b, loc, histogram, ValueRange{bin});
              memref::StoreOp::create(b, loc, add(held, term(w)), histogram,
                                      ValueRange{bin});
              scf::YieldOp::create(b, loc);
            });
            scf::YieldOp::create(b, loc);
          });
      // From the top bin: the suffix sum, the digit found (-1: none yet) and
      // what the entries above that digit hold.
      Value none = i32(-1);
      auto search = scf::ForOp::create(
          b, loc, index(0), index(kBins), index(1),
          ValueRange{i64(0), none, above},
          [&](OpBuilder &, Location, Value j, ValueRange state) {
            Value bin = arith::SubIOp::create(b, loc, index(kBins - 1), j);
            Value suffix =
                add(state[0],
                    memref::LoadOp::create(b, loc, histogram, ValueRange{bin}));
            Value hit = arith::AndIOp::create(
                b, loc, cmpi(arith::CmpIPredicate::eq, state[1], none),
                cmpi(arith::CmpIPredicate::uge, add(above, suffix), target));
            Value digit =
                arith::IndexCastUIOp::create(b, loc, b.getI32Type(), bin);
            scf::YieldOp::create(
                b, loc,
                ValueRange{suffix, select(hit, digit, state[1]),
                           select(hit, add(above, state[0]), state[2])});
          });
      // Some digit always reaches the target (the caller's target is at most
      // what the row holds); 0 otherwise, as a bit search would leave it.
      Value digit = arith::MaxSIOp::create(b, loc, search.getResult(1), i32(0));
      found = arith::OrIOp::create(
          b, loc, found, arith::ShLIOp::create(b, loc, digit, i32(shift)));
      above = search.getResult(2);
    }
    return found;
  }

  Value draw(Value t, Value topK, Value topP, Value u, Value maximum) {
    Value scale = arith::TruncFOp::create(
        b, loc, b.getF32Type(), arith::DivFOp::create(b, loc, f64(1), t));
    const llamac::RowDrawWeights rowWeights{b, loc, maximum, scale, vocab};
    weights = &rowWeights;
    histogram = memref::AllocaOp::create(
        b, loc, MemRefType::get({kBins}, b.getI64Type()));
    auto count = [&](Value) { return i64(1); };
    auto mass = [&](Value w) { return rowWeights.mass(w); };

    // kappa: the top-k count threshold where K < k < V, else 0 (all).
    Value counted = arith::AndIOp::create(
        b, loc, cmpf(arith::CmpFPredicate::OGT, topK, f64(double(k))),
        cmpf(arith::CmpFPredicate::OLT, topK, f64(double(vocab))));
    auto kappa = scf::IfOp::create(
        b, loc, counted,
        [&](OpBuilder &, Location) {
          scf::YieldOp::create(b, loc, threshold(floorOf(topK), count));
        },
        [&](OpBuilder &, Location) { scf::YieldOp::create(b, loc, i32(0)); });
    Value candidates = kappa.getResult(0);

    // pi: the nucleus' threshold where p < 1, else kappa.
    auto pi = scf::IfOp::create(
        b, loc, cmpf(arith::CmpFPredicate::OLT, topP, f64(1)),
        [&](OpBuilder &, Location) {
          Value held = sumAtLeast(candidates, mass);
          Value wide = arith::UIToFPOp::create(b, loc, b.getF64Type(), held);
          Value target = arith::MaxUIOp::create(
              b, loc, floorOf(arith::MulFOp::create(b, loc, topP, wide)),
              i64(1));
          scf::YieldOp::create(b, loc, threshold(target, mass));
        },
        [&](OpBuilder &, Location) {
          scf::YieldOp::create(b, loc, candidates);
        });
    Value nucleus = pi.getResult(0);

    // r, then the first id of the nucleus whose running mass exceeds it.
    Value held = sumAtLeast(nucleus, mass);
    Value r = arith::MinUIOp::create(
        b, loc,
        floorOf(arith::MulFOp::create(
            b, loc, u, arith::UIToFPOp::create(b, loc, b.getF64Type(), held))),
        arith::SubIOp::create(b, loc, held, i64(1)));
    Value none = i32(-1);
    auto pick = scf::ForOp::create(
        b, loc, index(0), index(vocab), index(1), ValueRange{i64(0), none},
        [&](OpBuilder &, Location, Value i, ValueRange state) {
          Value running =
              add(state[0], rowWeights.massFrom(entry(i), nucleus,
                                                arith::ConstantIntOp::create(
                                                    b, loc, b.getI1Type(), 1)));
          Value open = cmpi(arith::CmpIPredicate::eq, state[1], none);
          Value take = arith::AndIOp::create(
              b, loc, open, cmpi(arith::CmpIPredicate::ugt, running, r));
          Value id = arith::IndexCastOp::create(b, loc, b.getI32Type(), i);
          scf::YieldOp::create(b, loc,
                               ValueRange{running, select(take, id, state[1])});
        });
    return pick.getResult(1);
  }
};

/// The draw for row [batch, row] of the op's lists and logits, inside a
/// linalg body.
struct RowDraw {
  OpBuilder &b;
  Location loc;
  Value logits, values, ids, settings, batch, row;
  int64_t vocab, k;

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
    Value listed = arith::AndIOp::create(
        b, loc,
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, topK, f64(1)),
        arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLE, topK,
                              f64(double(k))));
    auto drawn = scf::IfOp::create(
        b, loc, arith::AndIOp::create(b, loc, tempered, finite),
        [&](OpBuilder &, Location) {
          auto regime = scf::IfOp::create(
              b, loc, listed,
              [&](OpBuilder &, Location) {
                scf::YieldOp::create(b, loc,
                                     draw(t, topK, topP, u, firstValue));
              },
              [&](OpBuilder &, Location) {
                // The histogram's stack space (canonicalization hoists it
                // to the function: the host draws the rows one after
                // another, so one serves them all).
                auto scope = memref::AllocaScopeOp::create(
                    b, loc, TypeRange{b.getI32Type()});
                {
                  OpBuilder::InsertionGuard guard(b);
                  b.createBlock(&scope.getBodyRegion());
                  RowRegime whole{b, loc, logits, batch, row, vocab, k};
                  memref::AllocaScopeReturnOp::create(
                      b, loc, whole.draw(t, topK, topP, u, firstValue));
                }
                scf::YieldOp::create(b, loc, scope.getResult(0));
              });
          scf::YieldOp::create(b, loc, regime.getResult(0));
        },
        [&](OpBuilder &, Location) { scf::YieldOp::create(b, loc, best); });
    return drawn.getResult(0);
  }

  Value draw(Value t, Value topK, Value topP, Value u, Value firstValue) {
    Value first = arith::ExtFOp::create(b, loc, b.getF64Type(), firstValue);
    Value invTemp = arith::DivFOp::create(b, loc, f64(1), t);
    // n: top-k, in [1, K] here.
    Value n = arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        arith::FPToSIOp::create(b, loc, b.getI64Type(), topK));
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
          rewriter, loc, TypeRange{init.getType()}, adaptor.getLogits(),
          adaptor.getValues(), adaptor.getIds(), adaptor.getSettings(), init);
      rewriter.replaceOp(op, kernel.getResult());
      return success();
    }
    const int64_t k = op.getValues().getType().getDimSize(2);
    const int64_t vocab = op.getLogits().getType().getDimSize(2);
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
                      adaptor.getLogits(),
                      adaptor.getValues(),
                      adaptor.getIds(),
                      adaptor.getSettings(),
                      linalg::IndexOp::create(b, l, 0),
                      linalg::IndexOp::create(b, l, 1),
                      vocab,
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

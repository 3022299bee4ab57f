//===- SampleToGPU.cpp - llama.sample_rows -> one kernel --------*- C++ -*-===//
//
// Draws each row's next token on the GPU, so that a step reads back 4
// bytes. One block a row; the settings choose the regime, the same for the
// whole block.
//
// From the list (1 <= top-k <= K): the draw must pick what a sampler that
// sorts the row picks, bit for bit, and that sampler adds the weights up
// one after another in f64: a tree reduction would round differently. So
// each warp (all compute the same; warp 0 keeps the sums) weighs 32 entries
// at once, every lane adds the 32 in order from shuffles, keeping its own
// running sum c_i in shared memory; the nucleus' end and the draw are each
// the first i whose c_i passes a bound (c only grows): a warp minimum.
//
// From the row (top-k off or above K): every sum is an integer (the
// weights in fixed point), so the block may add in any order and still
// agree with the host. A threshold (top-k's count, top-p's mass) is found
// by three passes over the row, one 10-bit digit of the weights' keys each:
// a histogram of what the entries still matching the found digits hold
// (shared atomics), then warp 0 finds the digit where the sum from the top
// reaches the target. The draw: each segment's (the block's pass over
// threads * run ids) mass, warp 0 finds the segment holding r, and a block
// scan over that segment's runs finds the entry.
//
//===----------------------------------------------------------------------===//
#include "SampleToGPU.h"
#include "KernelEmitter.h"
#include "KernelNamer.h"
#include "RowDrawWeights.h"
#include "RowScan.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>

using namespace mlir;
using llamac::Emitter;

namespace {

constexpr int64_t kMaxWarps = 16;
constexpr int64_t kUnroll = 4;
/// Keys (f32 bit patterns of weights in [0, 1]) are below 2^30: three
/// digits of 10 bits.
constexpr int64_t kDigitBits = 10;
constexpr int64_t kBins = int64_t(1) << kDigitBits;

struct BlockDraw {
  Emitter &e;
  llama::SampleRowsOp op;
  gpu::LaunchOp launch;
  int64_t k, vocab, warps, run;
  Value batch = {}, position = {}, tid = {}, lane = {}, warp = {};
  Value sums = {};     // [k] f64: the list's c_i
  Value hist = {};     // [kBins] i64
  Value partials = {}; // [max(warps, segments)] i64
  Value scalars = {};  // [4] i64: what warp 0 found, for the block

  OpBuilder &b() { return e.b; }
  int64_t threads() const { return 32 * warps; }
  llamac::RowScan row() {
    return {e,   op.getLogits(), batch,  position, tid, vocab,
            run, threads(),      kUnroll};
  }
  /// The block's passes over the row: threads * run ids each.
  int64_t span() const { return threads() * run; }
  int64_t segments() const { return (vocab + span() - 1) / span(); }

  Value f64(double v) {
    return arith::ConstantOp::create(e.b, e.loc, e.b.getF64FloatAttr(v));
  }
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(e.b, e.loc, e.b.getI32Type(), v);
  }
  Value i64(int64_t v) { return e.i64(v); }
  Value cmpf(arith::CmpFPredicate predicate, Value x, Value y) {
    return arith::CmpFOp::create(e.b, e.loc, predicate, x, y);
  }
  Value cmpi(arith::CmpIPredicate predicate, Value x, Value y) {
    return arith::CmpIOp::create(e.b, e.loc, predicate, x, y);
  }
  Value both(Value x, Value y) {
    return arith::AndIOp::create(e.b, e.loc, x, y);
  }
  Value load(Value buffer, ValueRange at) {
    return memref::LoadOp::create(e.b, e.loc, buffer, at);
  }
  void store(Value x, Value buffer, ValueRange at) {
    memref::StoreOp::create(e.b, e.loc, x, buffer, at);
  }
  Value toIndex(Value x) {
    return arith::IndexCastOp::create(e.b, e.loc, e.b.getIndexType(), x);
  }
  Value toI32(Value x) {
    return arith::IndexCastOp::create(e.b, e.loc, e.b.getI32Type(), x);
  }
  Value setting(int64_t which) {
    return load(op.getSettings(), {batch, e.index(which)});
  }
  Value value(Value i) { return load(op.getValues(), {batch, position, i}); }
  Value id(Value i) { return load(op.getIds(), {batch, position, i}); }
  void barrier() { gpu::BarrierOp::create(e.b, e.loc); }
  /// `body` inside an scf.if on `condition`; the builder is left after it.
  void when(Value condition, const std::function<void()> &body) {
    auto branch = scf::IfOp::create(e.b, e.loc, condition,
                                    /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(e.b);
    e.b.setInsertionPointToStart(&branch.getThenRegion().front());
    body();
  }
  void storeToken(Value token) {
    store(token, op.getInit(), {batch, position});
  }
  /// floor(x) of a non-negative f64 as i64, else 0 (fptoui of a negative
  /// or NaN is poison, which the select drops).
  Value floorOf(Value x) {
    return e.select(cmpf(arith::CmpFPredicate::OGT, x, f64(0)),
                    arith::FPToUIOp::create(e.b, e.loc, e.b.getI64Type(), x),
                    i64(0));
  }
  Value toF64(Value x) {
    return arith::UIToFPOp::create(e.b, e.loc, e.b.getF64Type(), x);
  }

  //===--- From the list --------------------------------------------------===//

  /// The first i < `limit` whose sum passes `passes`, in every lane;
  /// `limit` where none does.
  Value firstPassing(Value limit, const std::function<Value(Value)> &passes) {
    auto loop = scf::ForOp::create(
        e.b, e.loc, lane, limit, e.index(32), ValueRange{limit},
        [&](OpBuilder &, Location, Value i, ValueRange found) {
          Value c = load(sums, {i});
          Value take = both(passes(c), e.eq(found[0], limit));
          scf::YieldOp::create(e.b, e.loc, e.select(take, i, found[0]));
        });
    Value first = toI32(loop.getResult(0));
    for (int64_t offset = 16; offset >= 1; offset /= 2)
      first = arith::MinUIOp::create(e.b, e.loc, first,
                                     e.shuffleXor(first, offset));
    return toIndex(first);
  }

  /// The list's draw with top-k n in [1, K]; every warp computes it, warp 0
  /// keeps the sums and thread 0 stores the token.
  void fromList(Value t, Value n, Value topP, Value u, Value firstValue) {
    OpBuilder &b = e.b;
    Value first = arith::ExtFOp::create(b, e.loc, b.getF64Type(), firstValue);
    Value invTemp = arith::DivFOp::create(b, e.loc, f64(1), t);
    Value isWarp0 = e.eq(warp, e.index(0));

    // c_i for i < n, 32 at a time: lane l weighs i = base + l, then every
    // lane adds the 32 weights in order (zeros past n change no sum) and
    // keeps the sum at its own i.
    auto chunks = scf::ForOp::create(
        b, e.loc, e.index(0), n, e.index(32), ValueRange{f64(0)},
        [&](OpBuilder &, Location, Value base, ValueRange carried) {
          Value i = e.add(base, lane);
          Value inList = e.lt(i, n);
          Value at = e.select(inList, i, e.index(0));
          Value scaled = e.mul(
              e.sub(arith::ExtFOp::create(b, e.loc, b.getF64Type(), value(at)),
                    first),
              invTemp);
          Value w =
              arith::TruncFOp::create(b, e.loc, b.getF32Type(), e.exp(scaled));
          w = e.select(inList, w, e.f32(0));
          Value c = carried[0], mine = c;
          Value laneI32 = toI32(lane);
          for (int64_t j = 0; j < 32; ++j) {
            Value wj = gpu::ShuffleOp::create(b, e.loc, w, int32_t(j), 32,
                                              gpu::ShuffleMode::IDX)
                           .getShuffleResult();
            c = e.add(c, arith::ExtFOp::create(b, e.loc, b.getF64Type(), wj));
            mine = e.select(cmpi(arith::CmpIPredicate::eq, laneI32, i32(j)), c,
                            mine);
          }
          when(both(inList, isWarp0), [&] { store(mine, sums, {i}); });
          scf::YieldOp::create(b, e.loc, ValueRange{c});
        });
    Value sum = chunks.getResult(0);
    barrier();

    // The nucleus: m - 1 = the first i with c_i >= p * c_(n-1) where p < 1
    // and n > 1, else n - 1.
    Value one = e.index(1);
    Value last = e.sub(n, one);
    Value nucleus = both(cmpf(arith::CmpFPredicate::OLT, topP, f64(1)),
                         cmpi(arith::CmpIPredicate::ugt, n, one));
    Value target = e.mul(topP, sum);
    Value reached = firstPassing(n, [&](Value c) {
      return both(nucleus, cmpf(arith::CmpFPredicate::OGE, c, target));
    });
    Value keptLast = e.select(e.lt(reached, n), reached, last);
    Value keptSum = load(sums, {keptLast});

    // The draw: the first i < m with u * c_(m-1) < c_i, else m - 1.
    Value r = e.mul(u, keptSum);
    Value m = e.add(keptLast, one);
    Value drawn = firstPassing(
        m, [&](Value c) { return cmpf(arith::CmpFPredicate::OLT, r, c); });
    Value token = id(e.select(e.lt(drawn, m), drawn, keptLast));
    when(e.eq(tid, e.index(0)), [&] { storeToken(token); });
  }

  //===--- From the row ---------------------------------------------------===//

  std::optional<llamac::RowDrawWeights> weights; // set by fromRow

  /// An i64 summed over lanes 0..l in lane l (`ShuffleMode::UP`) or over
  /// lanes l..31 (`DOWN`).
  Value warpScan(Value x, gpu::ShuffleMode mode) {
    for (int64_t offset = 1; offset < 32; offset *= 2) {
      auto other =
          gpu::ShuffleOp::create(e.b, e.loc, x, int32_t(offset), 32, mode);
      x = e.add(x,
                e.select(other.getValid(), other.getShuffleResult(), i64(0)));
    }
    return x;
  }
  Value negate(Value flag) {
    return arith::XOrIOp::create(
        e.b, e.loc, flag,
        arith::ConstantIntOp::create(e.b, e.loc, e.b.getI1Type(), 1));
  }

  /// Sums an i64 over the warp, in every lane.
  Value warpSum(Value x) {
    for (int64_t offset = 16; offset >= 1; offset /= 2)
      x = e.add(x, e.shuffleXor(x, offset));
    return x;
  }
  /// Sums an i64 over the block, in every thread. Barriers before
  /// (partials may be read still) and after (it may be reused).
  Value blockSum(Value mine) {
    Value total = warpSum(mine);
    barrier();
    e.onLaneZero(lane, [&] { store(total, partials, {warp}); });
    barrier();
    auto loop = scf::ForOp::create(
        e.b, e.loc, e.index(0), e.index(warps), e.index(1), ValueRange{i64(0)},
        [&](OpBuilder &, Location, Value w, ValueRange sum) {
          scf::YieldOp::create(e.b, e.loc, e.add(sum[0], load(partials, {w})));
        });
    barrier();
    return loop.getResult(0);
  }

  /// The mass of the entries whose key is at least `floor`.
  Value massFrom(Value floor) {
    SmallVector<Value> mine =
        row().elements(ValueRange{i64(0)},
                       [&](ValueRange held, Value x, Value, Value inRange) {
                         return SmallVector<Value>{e.add(
                             held[0], weights->massFrom(x, floor, inRange))};
                       });
    return blockSum(mine[0]);
  }

  /// Warp 0, after a digit's histogram: lane l holds bins [32l, 32l + 32);
  /// the lane where the sum from the top (plus `above`) reaches `target`
  /// finds the digit and leaves (prefix with it, the sum above it, the
  /// target, the sum at and above it) in `scalars`. `target` null: the
  /// first digit of a top-p search, whose target is max(1, floor(p *
  /// total)).
  void findDigit(Value prefix, Value above, Value target, Value topP) {
    OpBuilder &b = e.b;
    Value base = e.mul(lane, e.index(32));
    auto own = scf::ForOp::create(
        b, e.loc, e.index(0), e.index(32), e.index(1), ValueRange{i64(0)},
        [&](OpBuilder &, Location, Value d, ValueRange sum) {
          scf::YieldOp::create(b, e.loc,
                               e.add(sum[0], load(hist, {e.add(base, d)})));
        });
    Value mine = own.getResult(0);
    Value fromHere = warpScan(mine, gpu::ShuffleMode::DOWN);
    if (!target) {
      Value total = gpu::ShuffleOp::create(b, e.loc, fromHere, int32_t(0), 32,
                                           gpu::ShuffleMode::IDX)
                        .getShuffleResult();
      target = arith::MaxUIOp::create(
          b, e.loc, floorOf(e.mul(topP, toF64(total))), i64(1));
    }
    Value later = e.add(above, e.sub(fromHere, mine));
    Value crosses =
        both(cmpi(arith::CmpIPredicate::ult, later, target),
             cmpi(arith::CmpIPredicate::uge, e.add(later, mine), target));
    when(crosses, [&] {
      Value no = arith::ConstantIntOp::create(b, e.loc, b.getI1Type(), 0);
      auto walk = scf::ForOp::create(
          b, e.loc, e.index(0), e.index(32), e.index(1),
          ValueRange{later, no, e.index(0), i64(0), i64(0)},
          [&](OpBuilder &, Location, Value j, ValueRange s) {
            Value d = e.sub(e.index(31), j);
            Value next = e.add(s[0], load(hist, {e.add(base, d)}));
            Value open = negate(s[1]);
            Value hit =
                both(open, cmpi(arith::CmpIPredicate::uge, next, target));
            scf::YieldOp::create(
                b, e.loc,
                ValueRange{next, arith::OrIOp::create(b, e.loc, s[1], hit),
                           e.select(hit, d, s[2]), e.select(hit, s[0], s[3]),
                           e.select(hit, next, s[4])});
          });
      Value digit = arith::IndexCastOp::create(b, e.loc, b.getI64Type(),
                                               e.add(base, walk.getResult(2)));
      Value found = arith::OrIOp::create(
          b, e.loc, arith::ShLIOp::create(b, e.loc, prefix, i64(kDigitBits)),
          digit);
      store(found, scalars, {e.index(0)});
      store(walk.getResult(3), scalars, {e.index(1)});
      store(target, scalars, {e.index(2)});
      store(walk.getResult(4), scalars, {e.index(3)});
    });
  }

  /// The largest key whose entries at or above it (among keys >= `floor`)
  /// hold at least the target, of count (`byMass` false) or mass, and what
  /// they hold. `target` null: max(1, floor(p * the entries' mass)).
  std::pair<Value, Value> threshold(bool byMass, Value floor, Value target,
                                    Value topP) {
    OpBuilder &b = e.b;
    Value prefix = i64(0), above = i64(0), held = i64(0);
    for (int64_t shiftBits = 2 * kDigitBits; shiftBits >= 0;
         shiftBits -= kDigitBits) {
      scf::ForOp::create(b, e.loc, tid, e.index(kBins), e.index(threads()),
                         ValueRange{},
                         [&](OpBuilder &, Location, Value j, ValueRange) {
                           store(i64(0), hist, {j});
                           scf::YieldOp::create(b, e.loc);
                         });
      barrier();
      Value prefix32 =
          arith::TruncIOp::create(b, e.loc, b.getI32Type(), prefix);
      row().elements(ValueRange{}, [&](ValueRange, Value x, Value,
                                       Value inRange) {
        Value w = weights->weight(x);
        Value kw = weights->key(w);
        Value high =
            arith::ShRUIOp::create(b, e.loc, kw, i32(shiftBits + kDigitBits));
        Value in =
            both(both(inRange, cmpi(arith::CmpIPredicate::uge, kw, floor)),
                 cmpi(arith::CmpIPredicate::eq, high, prefix32));
        when(in, [&] {
          Value digit = arith::AndIOp::create(
              b, e.loc, arith::ShRUIOp::create(b, e.loc, kw, i32(shiftBits)),
              i32(kBins - 1));
          memref::AtomicRMWOp::create(b, e.loc, arith::AtomicRMWKind::addi,
                                      byMass ? weights->mass(w) : i64(1), hist,
                                      ValueRange{toIndex(digit)});
        });
        return SmallVector<Value>{};
      });
      barrier();
      when(e.eq(warp, e.index(0)),
           [&] { findDigit(prefix, above, target, topP); });
      barrier();
      prefix = load(scalars, {e.index(0)});
      above = load(scalars, {e.index(1)});
      target = load(scalars, {e.index(2)});
      held = load(scalars, {e.index(3)});
    }
    return {arith::TruncIOp::create(b, e.loc, b.getI32Type(), prefix), held};
  }

  /// Stores the first id of the nucleus (keys >= `floor`) whose running
  /// mass exceeds `r`.
  void drawAt(Value floor, Value r) {
    OpBuilder &b = e.b;
    scf::ForOp::create(b, e.loc, tid, e.index(segments()), e.index(threads()),
                       ValueRange{},
                       [&](OpBuilder &, Location, Value j, ValueRange) {
                         store(i64(0), partials, {j});
                         scf::YieldOp::create(b, e.loc);
                       });
    barrier();
    auto runMass = [&](ArrayRef<Value> values, Value inRange) {
      Value mass = i64(0);
      for (Value x : values)
        mass = e.add(mass, weights->massFrom(x, floor, inRange));
      return mass;
    };
    // Each segment's mass: a warp's runs all lie in one segment.
    row().runs(ValueRange{}, [&](ValueRange, ArrayRef<Value> values,
                                 Value first, Value inRange) {
      Value mass = warpSum(runMass(values, inRange));
      when(both(e.eq(lane, e.index(0)), inRange), [&] {
        memref::AtomicRMWOp::create(b, e.loc, arith::AtomicRMWKind::addi, mass,
                                    partials,
                                    ValueRange{e.div(first, e.index(span()))});
      });
      return SmallVector<Value>{};
    });
    barrier();

    // Warp 0: the segment holding r, and r within it.
    when(e.eq(warp, e.index(0)), [&] {
      const int64_t per = (segments() + 31) / 32;
      Value base = e.mul(lane, e.index(per));
      auto segmentAt = [&](Value j) {
        Value s = e.add(base, j);
        Value in = e.lt(s, e.index(segments()));
        return std::pair{
            s, e.select(in, load(partials, {e.select(in, s, e.index(0))}),
                        i64(0))};
      };
      auto own = scf::ForOp::create(
          b, e.loc, e.index(0), e.index(per), e.index(1), ValueRange{i64(0)},
          [&](OpBuilder &, Location, Value j, ValueRange sum) {
            scf::YieldOp::create(b, e.loc, e.add(sum[0], segmentAt(j).second));
          });
      Value mine = own.getResult(0);
      Value upTo = warpScan(mine, gpu::ShuffleMode::UP);
      Value before = e.sub(upTo, mine);
      Value holds = both(cmpi(arith::CmpIPredicate::ule, before, r),
                         cmpi(arith::CmpIPredicate::ugt, upTo, r));
      when(holds, [&] {
        Value no = arith::ConstantIntOp::create(b, e.loc, b.getI1Type(), 0);
        auto walk = scf::ForOp::create(
            b, e.loc, e.index(0), e.index(per), e.index(1),
            ValueRange{before, no, e.index(0), i64(0)},
            [&](OpBuilder &, Location, Value j, ValueRange s) {
              auto [segment, mass] = segmentAt(j);
              Value next = e.add(s[0], mass);
              Value open = negate(s[1]);
              Value hit = both(open, cmpi(arith::CmpIPredicate::ugt, next, r));
              scf::YieldOp::create(
                  b, e.loc,
                  ValueRange{next, arith::OrIOp::create(b, e.loc, s[1], hit),
                             e.select(hit, segment, s[2]),
                             e.select(hit, e.sub(r, s[0]), s[3])});
            });
        store(arith::IndexCastOp::create(b, e.loc, b.getI64Type(),
                                         walk.getResult(2)),
              scalars, {e.index(0)});
        store(walk.getResult(3), scalars, {e.index(1)});
      });
    });
    barrier();
    Value segment = toIndex(load(scalars, {e.index(0)}));
    Value rest = load(scalars, {e.index(1)});

    // The segment's runs, one a thread: a block scan of their masses finds
    // the thread whose run holds `rest`; it walks its run.
    Value first =
        e.add(e.mul(segment, e.index(span())), e.mul(tid, e.index(run)));
    Value inRange = e.lt(first, e.index(vocab));
    SmallVector<Value> masses;
    Value mine = i64(0);
    for (Value x : row().load(first)) {
      masses.push_back(weights->massFrom(x, floor, inRange));
      mine = e.add(mine, masses.back());
    }
    Value upTo = warpScan(mine, gpu::ShuffleMode::UP);
    // Lane 31 holds its warp's total.
    e.onLaneZero(e.sub(lane, e.index(31)),
                 [&] { store(upTo, partials, {warp}); });
    barrier();
    auto earlier = scf::ForOp::create(
        b, e.loc, e.index(0), warp, e.index(1), ValueRange{i64(0)},
        [&](OpBuilder &, Location, Value w, ValueRange sum) {
          scf::YieldOp::create(b, e.loc, e.add(sum[0], load(partials, {w})));
        });
    Value before = e.sub(e.add(earlier.getResult(0), upTo), mine);
    Value holds =
        both(cmpi(arith::CmpIPredicate::ule, before, rest),
             cmpi(arith::CmpIPredicate::ugt, e.add(before, mine), rest));
    when(holds, [&] {
      // The first of the run's entries whose running mass exceeds rest.
      Value running = before, chosen = e.index(run - 1);
      Value open = arith::ConstantIntOp::create(b, e.loc, b.getI1Type(), 1);
      for (int64_t j = 0; j < run; ++j) {
        running = e.add(running, masses[j]);
        Value hit = both(open, cmpi(arith::CmpIPredicate::ugt, running, rest));
        chosen = e.select(hit, e.index(j), chosen);
        open = both(open, negate(hit));
      }
      storeToken(toI32(e.add(first, chosen)));
    });
  }

  /// The row regime, tempered, with a finite maximum.
  void fromRow(Value t, Value topK, Value topP, Value u, Value firstValue) {
    OpBuilder &b = e.b;
    Value scale = arith::TruncFOp::create(
        b, e.loc, b.getF32Type(), arith::DivFOp::create(b, e.loc, f64(1), t));
    weights.emplace(llamac::RowDrawWeights{b, e.loc, firstValue, scale, vocab});
    // kappa: the top-k count threshold where K < k < V, else 0 (all).
    Value counted =
        both(cmpf(arith::CmpFPredicate::OGT, topK, f64(double(k))),
             cmpf(arith::CmpFPredicate::OLT, topK, f64(double(vocab))));
    auto kappa = scf::IfOp::create(
        b, e.loc, counted,
        [&](OpBuilder &, Location) {
          scf::YieldOp::create(
              b, e.loc,
              threshold(/*byMass=*/false, i32(0), floorOf(topK), {}).first);
        },
        [&](OpBuilder &, Location) { scf::YieldOp::create(b, e.loc, i32(0)); });
    Value candidates = kappa.getResult(0);
    // pi and the nucleus' mass: the top-p threshold where p < 1, else kappa.
    auto pi = scf::IfOp::create(
        b, e.loc, cmpf(arith::CmpFPredicate::OLT, topP, f64(1)),
        [&](OpBuilder &, Location) {
          auto [found, mass] = threshold(/*byMass=*/true, candidates, {}, topP);
          scf::YieldOp::create(b, e.loc, ValueRange{found, mass});
        },
        [&](OpBuilder &, Location) {
          scf::YieldOp::create(b, e.loc,
                               ValueRange{candidates, massFrom(candidates)});
        });
    Value nucleus = pi.getResult(0), held = pi.getResult(1);
    Value r = arith::MinUIOp::create(b, e.loc, floorOf(e.mul(u, toF64(held))),
                                     e.sub(held, i64(1)));
    drawAt(nucleus, r);
  }

  void emit() {
    OpBuilder &b = e.b;
    Value t = setting(0), topK = setting(1), topP = setting(2), u = setting(3);
    Value firstValue = value(e.index(0));
    Value finite = cmpf(arith::CmpFPredicate::OLT,
                        math::AbsFOp::create(b, e.loc, firstValue),
                        e.f32(std::numeric_limits<double>::infinity()));
    Value tempered = cmpf(arith::CmpFPredicate::OGT, t, f64(0));
    Value listed = both(cmpf(arith::CmpFPredicate::OGE, topK, f64(1)),
                        cmpf(arith::CmpFPredicate::OLE, topK, f64(double(k))));
    auto draws = scf::IfOp::create(b, e.loc, both(tempered, finite),
                                   /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&draws.getElseRegion().front());
      when(e.eq(tid, e.index(0)), [&] { storeToken(id(e.index(0))); });
    }
    b.setInsertionPointToStart(&draws.getThenRegion().front());
    auto regime = scf::IfOp::create(b, e.loc, listed, /*withElseRegion=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&regime.getThenRegion().front());
      Value n =
          toIndex(arith::FPToSIOp::create(b, e.loc, b.getI64Type(), topK));
      fromList(t, n, topP, u, firstValue);
    }
    b.setInsertionPointToStart(&regime.getElseRegion().front());
    fromRow(t, topK, topP, u, firstValue);
  }
};

} // namespace

LogicalResult llamac::mapSampleToGPU(llama::SampleRowsOp op,
                                     KernelNamer &namer) {
  if (!isa<MemRefType>(op.getValues().getType()))
    return op->emitOpError("is not on buffers; bufferize before "
                           "llama-map-to-gpu");
  auto logitsType = cast<MemRefType>(op.getLogits().getType());
  const int64_t seq = logitsType.getDimSize(1);
  const int64_t rows = logitsType.getDimSize(0) * seq;
  const int64_t vocab = logitsType.getDimSize(2);
  const int64_t run = llamac::RowScan::runFor(logitsType);
  const int64_t warps = std::clamp<int64_t>(vocab / (32 * run), 1, kMaxWarps);

  OpBuilder b(op);
  Emitter e{b, op.getLoc()};
  gpu::LaunchOp launch =
      e.launchWarps(e.index(rows), warps, namer.name(op, "sample"));
  auto shared = [&](int64_t size, Type element) {
    return launch.addWorkgroupAttribution(
        MemRefType::get({size}, element, MemRefLayoutAttrInterface(),
                        gpu::AddressSpaceAttr::get(
                            b.getContext(), gpu::AddressSpace::Workgroup)),
        e.loc);
  };
  BlockDraw draw{e, op, launch, op.getK(), vocab, warps, run};
  Value row = launch.getBlockIds().x;
  draw.batch = e.div(row, e.index(seq));
  draw.position = e.rem(row, e.index(seq));
  draw.tid = launch.getThreadIds().x;
  draw.lane = e.rem(draw.tid, e.index(32));
  draw.warp = e.div(draw.tid, e.index(32));
  draw.sums = shared(op.getK(), b.getF64Type());
  draw.hist = shared(kBins, b.getI64Type());
  draw.partials = shared(std::max(warps, draw.segments()), b.getI64Type());
  draw.scalars = shared(4, b.getI64Type());
  draw.emit();
  op->erase();
  return success();
}

//===- WarpReductions.cpp - a warp per output element ---------------------===//
//
// The reductions llama-map-to-gpu gives a warp per output element: lanes
// stride the reduction, registers hold their partial sums, xor-shuffles add
// them; a dot of two contiguous rows loads 8 elements of each a lane at
// once, several trips in flight, the weights' first trips before the wait
// for the previous kernel; split-k warps of one block add their sums in
// shared memory in a fixed order.
//
//===----------------------------------------------------------------------===//
#include "WarpReductions.h"

#include "LinalgBodies.h"
#include "LinalgIndexing.h"
#include "MemRefViews.h"
#include "llama/LlamaOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"

#include <limits>

using namespace mlir;
using llamac::delinearize;
using llamac::operandIndices;

namespace llamac {

std::optional<WarpReduction> matchWarpReduction(linalg::LinalgOp op,
                                                ArrayRef<unsigned> serialDims) {
  if (serialDims.empty() || op.getNumDpsInits() != 1)
    return std::nullopt;
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  for (unsigned d : serialDims)
    if (outMap.isFunctionOfDim(d))
      return std::nullopt;
  Block *body = op.getBlock();
  BlockArgument out = body->getArguments().back();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  Operation *combiner = yield.getValues()[0].getDefiningOp();
  if (!combiner || !isa<arith::AddFOp, arith::MaximumFOp>(combiner) ||
      !out.hasOneUse() || out.getUses().begin()->getOwner() != combiner ||
      !out.getType().isF32())
    return std::nullopt;
  Value x = combiner->getOperand(0) == out ? combiner->getOperand(1)
                                           : combiner->getOperand(0);
  return WarpReduction{combiner, x};
}

Value identityOf(OpBuilder &b, Location loc, Operation *combiner) {
  float value = isa<arith::AddFOp>(combiner)
                    ? 0.0f
                    : -std::numeric_limits<float>::infinity();
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value combine(OpBuilder &b, Operation *combiner, Value lhs, Value rhs) {
  IRMapping mapping;
  mapping.map(combiner->getOperand(0), lhs);
  mapping.map(combiner->getOperand(1), rhs);
  return b.clone(*combiner, mapping)->getResult(0);
}

/// Whether kDotLanes consecutive elements along the last dimension of `type`
/// that start at an index multiple of kDotLanes are aligned to their size,
/// for any indices of the other dimensions (given a base aligned to 32
/// bytes: device allocations and the 64-aligned weights).
static bool hasAlignedRows(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)) || strides.empty() ||
      strides.back() != 1 || ShapedType::isDynamic(offset) ||
      offset % kDotLanes)
    return false;
  return llvm::all_of(ArrayRef(strides).drop_back(), [](int64_t stride) {
    return !ShapedType::isDynamic(stride) && stride % kDotLanes == 0;
  });
}

std::optional<VectorDot> matchVectorDot(linalg::LinalgOp op,
                                        const WarpReduction &reduction,
                                        ArrayRef<unsigned> serialDims,
                                        ArrayRef<int64_t> staticSizes) {
  if (!isa<arith::AddFOp>(reduction.combiner) || serialDims.size() != 1)
    return std::nullopt;
  unsigned dim = serialDims[0];
  int64_t length = staticSizes[dim];
  if (ShapedType::isDynamic(length) || length % kDotLanes)
    return std::nullopt;
  auto [lhs, rhs] = llamac::productOfInputs(op, reduction.contribution);
  if (!lhs || !rhs)
    return std::nullopt;
  for (OpOperand *input : {lhs, rhs}) {
    auto type = dyn_cast<MemRefType>(input->get().getType());
    Type element = type ? type.getElementType() : Type();
    if (!type || !hasAlignedRows(type) ||
        input->get().getDefiningOp<memref::GetGlobalOp>() ||
        !(element.isF32() || element.isBF16() || element.isF16()))
      return std::nullopt;
    AffineMap map = op.getMatchingIndexingMap(input);
    if (map.getNumResults() == 0)
      return std::nullopt;
    auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
    if (!last || last.getPosition() != dim ||
        llvm::any_of(map.getResults().drop_back(),
                     [&](AffineExpr e) { return e.isFunctionOfDim(dim); }))
      return std::nullopt;
  }
  return VectorDot{dim, length, lhs, rhs};
}

namespace {
/// How a lane walks its part of a VectorDot: kDotLanes consecutive elements
/// every kDotStride from `first`, tripsPerPart trips, `unroll` trips an
/// iteration with all their loads issued before the first FMA waits.
struct LaneDot {
  int64_t tripsPerPart, unroll;
  bool exact; // every trip of every lane within the reduction
  Value first;
  const NormInput *norm = nullptr;

  /// The buffer `input` is read from.
  Value sourceOf(OpOperand *input) const {
    return norm && input == norm->normed ? norm->input : input->get();
  }
};
} // namespace

static LaneDot planLaneDot(OpBuilder &b, Location loc, const VectorDot &dot,
                           int64_t parts, Value lane, Value part,
                           const NormInput *norm) {
  LaneDot ld;
  ld.norm = norm;
  ld.tripsPerPart = (tripsOf(dot) + parts - 1) / parts;
  ld.unroll = kDotUnroll;
  while (ld.tripsPerPart % ld.unroll)
    ld.unroll /= 2;
  ld.exact = parts * ld.tripsPerPart * kDotStride == dot.length;
  // k = (part * tripsPerPart + trip) * kDotStride + lane * kDotLanes
  ld.first = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(
          b, loc, part,
          arith::ConstantIndexOp::create(b, loc, ld.tripsPerPart * kDotStride)),
      arith::MulIOp::create(b, loc, lane,
                            arith::ConstantIndexOp::create(b, loc, kDotLanes)));
  return ld;
}

/// kDotLanes elements of `input` (read from `source`) from loop indices
/// `ivs`, in its own type.
static Value loadLanes(OpBuilder &b, Location loc, linalg::LinalgOp op,
                       OpOperand *input, Value source, ArrayRef<Value> ivs) {
  auto type = cast<MemRefType>(source.getType());
  Type element = type.getElementType();
  auto vectorType = VectorType::get({kDotLanes}, element);
  return vector::LoadOp::create(
      b, loc, vectorType, source, operandIndices(b, loc, op, input, ivs),
      /*nontemporal=*/false,
      llvm::Align(kDotLanes * element.getIntOrFloatBitWidth() / 8));
}

static Value zerosLike(OpBuilder &b, Location loc, Type type) {
  return arith::ConstantOp::create(
      b, loc, type,
      DenseElementsAttr::get(cast<ShapedType>(type),
                             b.getZeroAttr(getElementTypeOrSelf(type))));
}

/// The lane's elements of `input` at `trip` (an index value). Past the end
/// of the reduction (a lane of the last part, where !exact) they are zeros:
/// through a branch, or (`branchless`) read at the last in-range position
/// and then replaced, so that the load is not held in a branch.
static Value loadTrip(OpBuilder &b, Location loc, linalg::LinalgOp op,
                      const VectorDot &dot, const LaneDot &ld, OpOperand *input,
                      Value trip, SmallVectorImpl<Value> &ivs,
                      bool branchless) {
  Value source = ld.sourceOf(input);
  Value k = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, trip,
                            arith::ConstantIndexOp::create(b, loc, kDotStride)),
      ld.first);
  if (ld.exact) {
    ivs[dot.dim] = k;
    return loadLanes(b, loc, op, input, source, ivs);
  }
  Value length = arith::ConstantIndexOp::create(b, loc, dot.length);
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, k, length);
  auto type = VectorType::get(
      {kDotLanes}, cast<MemRefType>(source.getType()).getElementType());
  if (branchless) {
    ivs[dot.dim] = arith::MinUIOp::create(
        b, loc, k,
        arith::ConstantIndexOp::create(b, loc, dot.length - kDotLanes));
    return arith::SelectOp::create(b, loc, inRange,
                                   loadLanes(b, loc, op, input, source, ivs),
                                   zerosLike(b, loc, type));
  }
  ivs[dot.dim] = k;
  auto guard = scf::IfOp::create(
      b, loc, inRange,
      [&](OpBuilder &tb, Location) {
        scf::YieldOp::create(tb, loc,
                             loadLanes(tb, loc, op, input, source, ivs));
      },
      [&](OpBuilder &eb, Location) {
        scf::YieldOp::create(eb, loc, zerosLike(eb, loc, type));
      });
  return guard.getResult(0);
}

static Value toF32Lanes(OpBuilder &b, Location loc, Value lanes) {
  auto f32 = VectorType::get({kDotLanes}, b.getF32Type());
  if (lanes.getType() == f32)
    return lanes;
  return arith::ExtFOp::create(b, loc, f32, lanes);
}

/// `acc` plus the products of `unroll` trips' operands, one FMA each in
/// trip order.
static Value accumulateTrips(OpBuilder &b, Location loc, Value acc,
                             ArrayRef<std::pair<Value, Value>> operands) {
  for (auto [lhs, rhs] : operands)
    acc = vector::FMAOp::create(b, loc, toF32Lanes(b, loc, lhs),
                                toF32Lanes(b, loc, rhs), acc);
  return acc;
}

/// The normed input's lanes among a trip's operands (those of the first
/// row: the activations do not depend on the row).
static Value normedLanes(const VectorDot &dot, const LaneDot &ld,
                         std::pair<Value, Value> operands) {
  return dot.lhs == ld.norm->normed ? operands.first : operands.second;
}

/// `acc` (a scalar: a vector of 8 would cost 7 more registers a lane in
/// kernels that registers already bound) plus the sum of the squares of x's
/// lanes at each trip, in trip order.
static Value accumulateSquares(OpBuilder &b, Location loc, Value acc,
                               ArrayRef<Value> lanes) {
  for (Value x : lanes) {
    Value f32 = toF32Lanes(b, loc, x);
    Value squares = arith::MulFOp::create(b, loc, f32, f32);
    acc = arith::AddFOp::create(
        b, loc, acc,
        vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD, squares,
                                    arith::FastMathFlags::reassoc |
                                        arith::FastMathFlags::contract));
  }
  return acc;
}

/// The lane's partial sums of a VectorDot over trips [fromTrip,
/// tripsPerPart) at each of `rowIvs` (outputs that differ in thread dims
/// only), starting from `inits` (the sums of the trips before; with a
/// norm, then the sum of squares). The rows' loads of a trip go out
/// together; an input that does not depend on the row (the activations) is
/// loaded once (CSE).
static SmallVector<Value>
emitLaneDots(OpBuilder &b, Location loc, linalg::LinalgOp op,
             const VectorDot &dot, const LaneDot &ld, ValueRange inits,
             int64_t fromTrip, MutableArrayRef<SmallVector<Value>> rowIvs) {
  auto loop = scf::ForOp::create(
      b, loc, arith::ConstantIndexOp::create(b, loc, fromTrip),
      arith::ConstantIndexOp::create(b, loc, ld.tripsPerPart),
      arith::ConstantIndexOp::create(b, loc, ld.unroll), inits);
  {
    OpBuilder::InsertionGuard inLoop(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<SmallVector<std::pair<Value, Value>>> operands(rowIvs.size());
    for (int64_t u = 0; u < ld.unroll; ++u) {
      Value trip =
          arith::AddIOp::create(b, loc, loop.getInductionVar(),
                                arith::ConstantIndexOp::create(b, loc, u));
      for (auto [ivs, rowOperands] : llvm::zip(rowIvs, operands)) {
        Value lhs = loadTrip(b, loc, op, dot, ld, dot.lhs, trip, ivs,
                             /*branchless=*/false);
        Value rhs = dot.rhs == dot.lhs
                        ? lhs
                        : loadTrip(b, loc, op, dot, ld, dot.rhs, trip, ivs,
                                   /*branchless=*/false);
        rowOperands.push_back({lhs, rhs});
      }
    }
    SmallVector<Value> sums;
    for (auto [acc, rowOperands] :
         llvm::zip(loop.getRegionIterArgs(), operands))
      sums.push_back(accumulateTrips(b, loc, acc, rowOperands));
    if (ld.norm) {
      SmallVector<Value> lanes;
      for (int64_t u = 0; u < ld.unroll; ++u)
        lanes.push_back(normedLanes(dot, ld, operands.front()[u]));
      sums.push_back(
          accumulateSquares(b, loc, loop.getRegionIterArgs().back(), lanes));
    }
    scf::YieldOp::create(b, loc, sums);
  }
  SmallVector<Value> sums;
  for (Value acc : loop.getResults())
    sums.push_back(isa<VectorType>(acc.getType())
                       ? vector::ReductionOp::create(
                             b, loc, vector::CombiningKind::ADD, acc,
                             arith::FastMathFlags::reassoc |
                                 arith::FastMathFlags::contract)
                       : acc); // the squares' sum
  return sums;
}

/// The weights' share of a VectorDot's first iteration, read before the
/// kernel waits for the kernels before it (llama.await_earlier_kernels):
/// no kernel writes the weights, so with programmatic dependent launch
/// these loads overlap the end of the previous kernel. The other input's
/// share is read after the wait, and the first iteration's FMAs done there
/// (in the same block as the loads, so that LLVM keeps them in place).
/// Returns the lane's sums of those trips, one for each of `rowIvs` (with a
/// norm, then the sum of squares), or none where neither input (or both)
/// is the weights.
static SmallVector<Value>
emitFirstTripsEarly(OpBuilder &b, Location loc, linalg::LinalgOp op,
                    const VectorDot &dot, const LaneDot &ld,
                    MutableArrayRef<SmallVector<Value>> rowIvs) {
  bool lhsIsWeights = llamac::isModelWeights(dot.lhs->get());
  bool rhsIsWeights = llamac::isModelWeights(dot.rhs->get());
  if (lhsIsWeights == rhsIsWeights)
    return {};
  OpOperand *weights = lhsIsWeights ? dot.lhs : dot.rhs;
  OpOperand *other = lhsIsWeights ? dot.rhs : dot.lhs;
  SmallVector<SmallVector<Value>> early(rowIvs.size());
  for (auto [ivs, rowEarly] : llvm::zip(rowIvs, early))
    for (int64_t u = 0; u < ld.unroll; ++u)
      rowEarly.push_back(loadTrip(b, loc, op, dot, ld, weights,
                                  arith::ConstantIndexOp::create(b, loc, u),
                                  ivs, /*branchless=*/true));
  // Its loads in flight bound a GEMV: with a norm's squares, ask for 3
  // blocks of kBlockSize an SM (at most 80 registers a thread), which
  // ptxas would otherwise exceed (92 in the 1B's gate+up: 2 blocks). Not
  // for the others, which fit: ptxas then spends registers up to the bound
  // (the 1B's down: 47 -> 64, 5 blocks -> 4).
  llama::AwaitEarlierKernelsOp::create(
      b, loc,
      ld.norm ? b.getI32IntegerAttr(kMinDotBlocksPerSM) : IntegerAttr());
  auto accType = VectorType::get({kDotLanes}, b.getF32Type());
  SmallVector<Value> sums, lates;
  for (auto [ivs, rowEarly] : llvm::zip(rowIvs, early)) {
    SmallVector<std::pair<Value, Value>> operands;
    for (int64_t u = 0; u < ld.unroll; ++u) {
      Value late = loadTrip(b, loc, op, dot, ld, other,
                            arith::ConstantIndexOp::create(b, loc, u), ivs,
                            /*branchless=*/false);
      if (lates.size() < size_t(ld.unroll))
        lates.push_back(late);
      operands.push_back(lhsIsWeights ? std::pair{rowEarly[u], late}
                                      : std::pair{late, rowEarly[u]});
    }
    sums.push_back(
        accumulateTrips(b, loc, zerosLike(b, loc, accType), operands));
  }
  // The activations are the other input (never the weights).
  if (ld.norm)
    sums.push_back(accumulateSquares(
        b, loc, arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f)),
        lates));
  return sums;
}

SmallVector<Value>
emitWarpSums(OpBuilder &b, Location loc, linalg::LinalgOp op,
             const WarpReduction &reduction,
             const std::optional<VectorDot> &dot, int64_t parts, Value lane,
             Value part, Value inRange, ArrayRef<SmallVector<Value>> rowIvs,
             ArrayRef<unsigned> serialDims, ArrayRef<Value> sizes,
             bool weightsEarly, const NormInput *norm) {
  assert((dot || rowIvs.size() == 1) && "several rows only of a dot");
  assert((dot || !norm) && "a norm's input only in a dot");
  Value c32 = arith::ConstantIndexOp::create(b, loc, 32);
  Operation *combiner = reduction.combiner;
  Value identity = identityOf(b, loc, combiner);
  // The rows' sums, then (with a norm) the sum of squares.
  const size_t rows = rowIvs.size() + (norm ? 1 : 0);

  std::optional<LaneDot> laneDot;
  SmallVector<Value> dotInits;
  int64_t fromTrip = 0;
  if (dot) {
    laneDot = planLaneDot(b, loc, *dot, parts, lane, part, norm);
    SmallVector<SmallVector<Value>> earlyIvs(rowIvs);
    if (weightsEarly)
      dotInits = emitFirstTripsEarly(b, loc, op, *dot, *laneDot, earlyIvs);
    if (!dotInits.empty())
      fromTrip = laneDot->unroll;
    else {
      dotInits.assign(
          rowIvs.size(),
          zerosLike(b, loc, VectorType::get({kDotLanes}, b.getF32Type())));
      if (norm)
        dotInits.push_back(identity);
    }
  }

  SmallVector<Type> sumTypes(rows, b.getF32Type());
  auto sumOrIdentity = scf::IfOp::create(b, loc, sumTypes, inRange,
                                         /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard inWarp(b);
    b.setInsertionPointToStart(&sumOrIdentity.getElseRegion().front());
    scf::YieldOp::create(b, loc, SmallVector<Value>(rows, identity));
    b.setInsertionPointToStart(&sumOrIdentity.getThenRegion().front());
    SmallVector<SmallVector<Value>> laneIvs(rowIvs);
    SmallVector<Value> partials;
    if (dot) {
      partials =
          emitLaneDots(b, loc, op, *dot, *laneDot, dotInits, fromTrip, laneIvs);
    } else {
      Value length = arith::ConstantIndexOp::create(b, loc, 1);
      for (unsigned d : serialDims)
        length = b.createOrFold<arith::MulIOp>(loc, length, sizes[d]);
      // Part p of a split reduction starts p warps in and strides over all.
      Value first = arith::AddIOp::create(
          b, loc, lane, arith::MulIOp::create(b, loc, part, c32));
      Value step = arith::ConstantIndexOp::create(b, loc, 32 * parts);
      auto loop =
          scf::ForOp::create(b, loc, first, length, step, ValueRange{identity});
      OpBuilder::InsertionGuard inLoop(b);
      b.setInsertionPointToStart(loop.getBody());
      SmallVector<Value> &ivs = laneIvs.front();
      delinearize(b, loc, loop.getInductionVar(), serialDims, sizes, ivs);
      // The body up to the contribution; the output is not read here.
      IRMapping mapping;
      mapInputs(b, loc, op, ivs, mapping);
      for (Operation &inner : op.getBlock()->without_terminator()) {
        if (&inner == combiner)
          break;
        if (!isa<linalg::IndexOp>(inner))
          b.clone(inner, mapping);
      }
      Value x = mapping.lookupOrDefault(reduction.contribution);
      scf::YieldOp::create(
          b, loc, combine(b, combiner, loop.getRegionIterArgs()[0], x));
      partials.push_back(loop.getResult(0));
    }
    for (Value &partial : partials)
      for (int32_t offset = 16; offset >= 1; offset /= 2) {
        Value other = gpu::ShuffleOp::create(b, loc, partial, offset, 32,
                                             gpu::ShuffleMode::XOR)
                          .getShuffleResult();
        partial = combine(b, combiner, partial, other);
      }
    scf::YieldOp::create(b, loc, partials);
  }
  return sumOrIdentity.getResults();
}

Value leaveWarpSums(OpBuilder &b, Location loc, gpu::LaunchOp launch,
                    Value isLane0, Value warp, Value sum) {
  auto shared = MemRefType::get(
      {kWarpsPerBlock}, b.getF32Type(), MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup));
  Value sums = launch.addWorkgroupAttribution(shared, loc);
  auto leave = scf::IfOp::create(b, loc, isLane0, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard inLeave(b);
    b.setInsertionPointToStart(&leave.getThenRegion().front());
    memref::StoreOp::create(b, loc, sum, sums, ValueRange{warp});
  }
  gpu::BarrierOp::create(b, loc);
  return sums;
}

WarpPlace placeWarp(OpBuilder &b, Location loc, gpu::LaunchOp launch,
                    Value block, Value total) {
  Value c32 = arith::ConstantIndexOp::create(b, loc, 32);
  Value warpsPerBlock = arith::DivUIOp::create(b, loc, block, c32);
  Value tid = launch.getThreadIds().x;
  WarpPlace place;
  place.lane = arith::RemUIOp::create(b, loc, tid, c32);
  place.warp = arith::DivUIOp::create(b, loc, tid, c32);
  Value flat = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, launch.getBlockIds().x, warpsPerBlock),
      place.warp);
  place.inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, flat, total);
  place.flat = arith::MinUIOp::create(
      b, loc, flat,
      arith::SubIOp::create(b, loc, total,
                            arith::ConstantIndexOp::create(b, loc, 1)));
  return place;
}

void emitWarpReduction(OpBuilder &b, Location loc, linalg::LinalgOp op,
                       const WarpReduction &reduction,
                       const std::optional<VectorDot> &dot, int64_t parts,
                       bool initIsIdentity, gpu::LaunchOp launch, Value block,
                       Value total, ArrayRef<unsigned> threadDims,
                       ArrayRef<unsigned> serialDims, ArrayRef<Value> sizes,
                       const NormInput *norm,
                       function_ref<Value(OpBuilder &, Value)> normFactor,
                       Value shadow) {
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  // With split-k, consecutive warps take the parts of one output (parts
  // divides the warps of a block, so no output straddles two blocks).
  WarpPlace place = placeWarp(b, loc, launch, block, total);
  Value lane = place.lane, warp = place.warp, flat = place.flat,
        inRange = place.inRange;
  Value part = c0;
  if (parts > 1) {
    Value partsValue = arith::ConstantIndexOp::create(b, loc, parts);
    part = arith::RemUIOp::create(b, loc, flat, partsValue);
    flat = arith::DivUIOp::create(b, loc, flat, partsValue);
  }
  SmallVector<Value> ivs(op.getNumLoops());
  delinearize(b, loc, flat, threadDims, sizes, ivs);
  SmallVector<Value> warpSums =
      emitWarpSums(b, loc, op, reduction, dot, parts, lane, part, inRange,
                   {ivs}, serialDims, sizes, /*weightsEarly=*/true, norm);
  Value sum = warpSums.front();
  Value squares = norm ? warpSums.back() : Value();
  Operation *combiner = reduction.combiner;
  Value identity = identityOf(b, loc, combiner);
  Value isLane0 =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, c0);
  Value writes = arith::AndIOp::create(b, loc, inRange, isLane0);
  if (parts > 1) {
    // The warps' sums in shared memory; after the barrier, the output's
    // first warp combines its parts' sums in order.
    Value sums = leaveWarpSums(b, loc, launch, isLane0, warp, sum);
    Value squareSums =
        norm ? leaveWarpSums(b, loc, launch, isLane0, warp, squares) : Value();
    writes = arith::AndIOp::create(
        b, loc, writes,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, part, c0));
    SmallVector<Type> gathered(norm ? 2 : 1, b.getF32Type());
    auto gather = scf::IfOp::create(b, loc, gathered, writes,
                                    /*withElseRegion=*/true);
    OpBuilder::InsertionGuard inGather(b);
    b.setInsertionPointToStart(&gather.getElseRegion().front());
    scf::YieldOp::create(b, loc, SmallVector<Value>(gathered.size(), identity));
    b.setInsertionPointToStart(&gather.getThenRegion().front());
    Value combined = sum, combinedSquares = squares;
    for (int64_t i = 1; i < parts; ++i) {
      Value index = arith::AddIOp::create(
          b, loc, warp, arith::ConstantIndexOp::create(b, loc, i));
      combined =
          combine(b, combiner, combined,
                  memref::LoadOp::create(b, loc, sums, ValueRange{index}));
      if (norm)
        combinedSquares = arith::AddFOp::create(
            b, loc, combinedSquares,
            memref::LoadOp::create(b, loc, squareSums, ValueRange{index}));
    }
    SmallVector<Value> results = {combined};
    if (norm)
      results.push_back(combinedSquares);
    scf::YieldOp::create(b, loc, results);
    sum = gather.getResult(0);
    if (norm)
      squares = gather.getResult(1);
  }
  auto store = scf::IfOp::create(b, loc, writes, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&store.getThenRegion().front());
  if (norm)
    sum = arith::MulFOp::create(b, loc, sum, normFactor(b, squares));
  OpOperand *init = op.getDpsInitOperand(0);
  // Serial dims do not index the output: any value (0) will do for them.
  for (unsigned d : serialDims)
    ivs[d] = c0;
  SmallVector<Value> indices = operandIndices(b, loc, op, init, ivs);
  Value result = sum;
  if (!initIsIdentity) {
    Value old = memref::LoadOp::create(b, loc, init->get(), indices);
    result = combine(b, combiner, old, sum);
  }
  memref::StoreOp::create(b, loc, result, init->get(), indices);
  if (shadow) {
    Type element = cast<MemRefType>(shadow.getType()).getElementType();
    memref::StoreOp::create(b, loc,
                            arith::TruncFOp::create(b, loc, element, result),
                            shadow, indices);
  }
}

} // namespace llamac

//===- MapToGPU.cpp - linalg on buffers -> one gpu.launch each --*- C++ -*-===//
//
// The first, plain mapping of the model onto an NVIDIA GPU: every linalg op
// of an entry point becomes a gpu.launch of one thread per output element.
// Its "thread" dimensions are the parallel loops that index every output;
// each thread runs the op's other loops (the reductions) itself, in order,
// as convert-linalg-to-loops would, and owns the output elements it writes,
// so no two threads race. Blocks are 256 threads over the flattened thread
// dimensions; a size known only at run time (the attention's key count)
// sizes the grid at run time.
//
// The entry point's own memory becomes device memory: memref.alloc and
// dealloc become gpu.alloc and dealloc, memref.copy becomes linalg.copy (and
// so a kernel), and constant globals a kernel reads are moved into the
// kernel (gpu-kernel-outlining then copies them into the gpu.module).
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "ArgmaxToGPU.h"
#include "EntryMemrefs.h"
#include "FlashAttentionToGPU.h"
#include "KernelNamer.h"
#include "LinalgIndexing.h"
#include "MemRefViews.h"
#include "TensorCoreLinear.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <limits>

namespace llamac {
#define GEN_PASS_DEF_LLAMAMAPTOGPU
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

using llamac::delinearize;
using llamac::KernelNamer;
using llamac::operandIndices;

constexpr int64_t kBlockSize = 256;

/// Whether loop `dim` of `op` can be split over threads: a parallel loop
/// that every output is indexed by directly.
bool isThreadDim(linalg::LinalgOp op, unsigned dim) {
  if (op.getIteratorTypesArray()[dim] != utils::IteratorType::parallel)
    return false;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    AffineMap map = op.getMatchingIndexingMap(&init);
    if (!llvm::any_of(map.getResults(), [&](AffineExpr e) {
          auto d = dyn_cast<AffineDimExpr>(e);
          return d && d.getPosition() == dim;
        }))
      return false;
  }
  return true;
}

/// Maps the body's input arguments to their values at loop indices `ivs`
/// (loads, or the scalar itself) and the linalg.index ops to `ivs`.
void mapInputs(OpBuilder &b, Location loc, linalg::LinalgOp op,
               ArrayRef<Value> ivs, IRMapping &mapping) {
  Block *body = op.getBlock();
  for (OpOperand *input : op.getDpsInputOperands()) {
    BlockArgument arg = body->getArgument(input->getOperandNumber());
    if (arg.use_empty() || mapping.contains(arg))
      continue;
    Value value = input->get();
    mapping.map(arg,
                isa<MemRefType>(value.getType())
                    ? memref::LoadOp::create(
                          b, loc, value, operandIndices(b, loc, op, input, ivs))
                          .getResult()
                    : value);
  }
  body->walk([&](linalg::IndexOp index) {
    mapping.map(index.getResult(), ivs[index.getDim()]);
  });
}

/// The op's body at loop indices `ivs`: loads of what it reads (but the
/// inputs `mapping` already gives), its payload, stores of what it yields.
void emitBody(OpBuilder &b, Location loc, linalg::LinalgOp op,
              ArrayRef<Value> ivs, IRMapping mapping = {}) {
  Block *body = op.getBlock();
  mapInputs(b, loc, op, ivs, mapping);
  for (OpOperand &init : op.getDpsInitsMutable()) {
    BlockArgument arg = body->getArgument(init.getOperandNumber());
    if (!arg.use_empty())
      mapping.map(
          arg, memref::LoadOp::create(b, loc, init.get(),
                                      operandIndices(b, loc, op, &init, ivs)));
  }
  for (Operation &inner : body->without_terminator())
    if (!isa<linalg::IndexOp>(inner))
      b.clone(inner, mapping);
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  for (auto [value, init] :
       llvm::zip(yield.getValues(), op.getDpsInitsMutable()))
    memref::StoreOp::create(b, loc, mapping.lookupOrDefault(value), init.get(),
                            operandIndices(b, loc, op, &init, ivs));
}

/// A reduction the threads of a warp can share: one output, indexed by
/// thread dimensions only, whose body yields `combine(out, x)` with x not
/// reading `out` and `combine` an addf or maximumf (matmul rows, sums of
/// squares, softmax max and sum).
struct WarpReduction {
  Operation *combiner; // arith.addf or arith.maximumf
  Value contribution;  // x
};

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

/// The combiner's identity: 0 for a sum, -inf for a max.
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

/// A sum of products of two inputs read along the one reduction loop, the
/// innermost dimension of both, contiguous and aligned: each lane then loads
/// kDotLanes consecutive elements of each input at once (16 bytes of a bf16
/// weight row, 32 of f32 activations) instead of one.
struct VectorDot {
  unsigned dim;         // the reduction loop
  int64_t length;       // its (static) size
  OpOperand *lhs, *rhs; // the inputs multiplied (may be the same)
};

constexpr int64_t kDotLanes = 8;
constexpr int64_t kDotStride = 32 * kDotLanes;
/// Trips of a lane's dot loop per iteration (or the largest power of two
/// dividing its trips): their loads go out together, 64 bytes of bf16
/// weights in flight per lane (~64 KB an SM at the 32 warps these kernels'
/// registers allow) against the ~25 KB an SM that HBM's bandwidth times its
/// latency asks for (8 measured slower: KERNEL_NOTES, session 12).
constexpr int64_t kDotUnroll = 4;
/// Warps a launch should have at least to keep HBM busy: an op with fewer
/// outputs splits each reduction over several warps of one block, which add
/// their sums through shared memory. An H100/H200 holds ~5k of these warps
/// at once (132 SMs, ~40 warps each at their registers); 8,192 was the
/// target until the first weights were read before the wait for the
/// previous kernel (session 12: 4,096 then measured 1% faster on the 1B,
/// the same on the 8B).
constexpr int64_t kMinWarps = 4096;
constexpr int64_t kWarpsPerBlock = kBlockSize / 32;

int64_t tripsOf(const VectorDot &dot) {
  return (dot.length + kDotStride - 1) / kDotStride;
}

/// Whether kDotLanes consecutive elements along the last dimension of `type`
/// that start at an index multiple of kDotLanes are aligned to their size,
/// for any indices of the other dimensions (given a base aligned to 32
/// bytes: device allocations and the 64-aligned weights).
bool hasAlignedRows(MemRefType type) {
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

/// How a lane walks its part of a VectorDot: kDotLanes consecutive elements
/// every kDotStride from `first`, tripsPerPart trips, `unroll` trips an
/// iteration with all their loads issued before the first FMA waits.
struct LaneDot {
  int64_t tripsPerPart, unroll;
  bool exact; // every trip of every lane within the reduction
  Value first;
};

LaneDot planLaneDot(OpBuilder &b, Location loc, const VectorDot &dot,
                    int64_t parts, Value lane, Value part) {
  LaneDot ld;
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

/// kDotLanes elements of `input` from loop indices `ivs`, in its own type.
Value loadLanes(OpBuilder &b, Location loc, linalg::LinalgOp op,
                OpOperand *input, ArrayRef<Value> ivs) {
  auto type = cast<MemRefType>(input->get().getType());
  Type element = type.getElementType();
  auto vectorType = VectorType::get({kDotLanes}, element);
  return vector::LoadOp::create(
      b, loc, vectorType, input->get(), operandIndices(b, loc, op, input, ivs),
      /*nontemporal=*/false,
      llvm::Align(kDotLanes * element.getIntOrFloatBitWidth() / 8));
}

Value zerosLike(OpBuilder &b, Location loc, Type type) {
  return arith::ConstantOp::create(
      b, loc, type,
      DenseElementsAttr::get(cast<ShapedType>(type),
                             b.getZeroAttr(getElementTypeOrSelf(type))));
}

/// The lane's elements of `input` at `trip` (an index value). Past the end
/// of the reduction (a lane of the last part, where !exact) they are zeros:
/// through a branch, or (`branchless`) read at the last in-range position
/// and then replaced, so that the load is not held in a branch.
Value loadTrip(OpBuilder &b, Location loc, linalg::LinalgOp op,
               const VectorDot &dot, const LaneDot &ld, OpOperand *input,
               Value trip, SmallVectorImpl<Value> &ivs, bool branchless) {
  Value k = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, trip,
                            arith::ConstantIndexOp::create(b, loc, kDotStride)),
      ld.first);
  if (ld.exact) {
    ivs[dot.dim] = k;
    return loadLanes(b, loc, op, input, ivs);
  }
  Value length = arith::ConstantIndexOp::create(b, loc, dot.length);
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, k, length);
  auto type = VectorType::get(
      {kDotLanes}, cast<MemRefType>(input->get().getType()).getElementType());
  if (branchless) {
    ivs[dot.dim] = arith::MinUIOp::create(
        b, loc, k,
        arith::ConstantIndexOp::create(b, loc, dot.length - kDotLanes));
    return arith::SelectOp::create(b, loc, inRange,
                                   loadLanes(b, loc, op, input, ivs),
                                   zerosLike(b, loc, type));
  }
  ivs[dot.dim] = k;
  auto guard = scf::IfOp::create(
      b, loc, inRange,
      [&](OpBuilder &tb, Location) {
        scf::YieldOp::create(tb, loc, loadLanes(tb, loc, op, input, ivs));
      },
      [&](OpBuilder &eb, Location) {
        scf::YieldOp::create(eb, loc, zerosLike(eb, loc, type));
      });
  return guard.getResult(0);
}

Value toF32Lanes(OpBuilder &b, Location loc, Value lanes) {
  auto f32 = VectorType::get({kDotLanes}, b.getF32Type());
  if (lanes.getType() == f32)
    return lanes;
  return arith::ExtFOp::create(b, loc, f32, lanes);
}

/// `acc` plus the products of `unroll` trips' operands, one FMA each in
/// trip order.
Value accumulateTrips(OpBuilder &b, Location loc, Value acc,
                      ArrayRef<std::pair<Value, Value>> operands) {
  for (auto [lhs, rhs] : operands)
    acc = vector::FMAOp::create(b, loc, toF32Lanes(b, loc, lhs),
                                toF32Lanes(b, loc, rhs), acc);
  return acc;
}

/// The lane's partial sums of a VectorDot over trips [fromTrip,
/// tripsPerPart) at each of `rowIvs` (outputs that differ in thread dims
/// only), starting from `inits` (the sums of the trips before). The rows'
/// loads of a trip go out together; an input that does not depend on the
/// row (the activations) is loaded once (CSE).
SmallVector<Value> emitLaneDots(OpBuilder &b, Location loc, linalg::LinalgOp op,
                                const VectorDot &dot, const LaneDot &ld,
                                ValueRange inits, int64_t fromTrip,
                                MutableArrayRef<SmallVector<Value>> rowIvs) {
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
    scf::YieldOp::create(b, loc, sums);
  }
  SmallVector<Value> sums;
  for (Value acc : loop.getResults())
    sums.push_back(vector::ReductionOp::create(
        b, loc, vector::CombiningKind::ADD, acc,
        arith::FastMathFlags::reassoc | arith::FastMathFlags::contract));
  return sums;
}

/// The weights' share of a VectorDot's first iteration, read before the
/// kernel waits for the kernels before it (llama.await_earlier_kernels):
/// no kernel writes the weights, so with programmatic dependent launch
/// these loads overlap the end of the previous kernel. The other input's
/// share is read after the wait, and the first iteration's FMAs done there
/// (in the same block as the loads, so that LLVM keeps them in place).
/// Returns the lane's sums of those trips, one for each of `rowIvs`, or
/// none where neither input (or both) is the weights.
SmallVector<Value>
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
  llama::AwaitEarlierKernelsOp::create(b, loc);
  auto accType = VectorType::get({kDotLanes}, b.getF32Type());
  SmallVector<Value> sums;
  for (auto [ivs, rowEarly] : llvm::zip(rowIvs, early)) {
    SmallVector<std::pair<Value, Value>> operands;
    for (int64_t u = 0; u < ld.unroll; ++u) {
      Value late = loadTrip(b, loc, op, dot, ld, other,
                            arith::ConstantIndexOp::create(b, loc, u), ivs,
                            /*branchless=*/false);
      operands.push_back(lhsIsWeights ? std::pair{rowEarly[u], late}
                                      : std::pair{late, rowEarly[u]});
    }
    sums.push_back(
        accumulateTrips(b, loc, zerosLike(b, loc, accType), operands));
  }
  return sums;
}

/// A warp's share of a warp reduction's outputs at each of `rowIvs` (the
/// thread dims set; several only for a dot): part `part` of `parts`,
/// summed over the warp's lanes by shuffles; the identity where `inRange`
/// is false (a warp past the outputs, which still meets the block's
/// barrier). `weightsEarly`: a dot's first weights are read before the wait
/// for the previous kernel (emitFirstTripsEarly), which must then be at the
/// kernel's top level.
SmallVector<Value> emitWarpSums(OpBuilder &b, Location loc, linalg::LinalgOp op,
                                const WarpReduction &reduction,
                                const std::optional<VectorDot> &dot,
                                int64_t parts, Value lane, Value part,
                                Value inRange,
                                ArrayRef<SmallVector<Value>> rowIvs,
                                ArrayRef<unsigned> serialDims,
                                ArrayRef<Value> sizes, bool weightsEarly) {
  assert((dot || rowIvs.size() == 1) && "several rows only of a dot");
  Value c32 = arith::ConstantIndexOp::create(b, loc, 32);
  Operation *combiner = reduction.combiner;
  Value identity = identityOf(b, loc, combiner);
  const size_t rows = rowIvs.size();

  std::optional<LaneDot> laneDot;
  SmallVector<Value> dotInits;
  int64_t fromTrip = 0;
  if (dot) {
    laneDot = planLaneDot(b, loc, *dot, parts, lane, part);
    SmallVector<SmallVector<Value>> earlyIvs(rowIvs);
    if (weightsEarly)
      dotInits = emitFirstTripsEarly(b, loc, op, *dot, *laneDot, earlyIvs);
    if (!dotInits.empty())
      fromTrip = laneDot->unroll;
    else
      dotInits.assign(
          rows,
          zerosLike(b, loc, VectorType::get({kDotLanes}, b.getF32Type())));
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

/// Lane 0 of each warp of `launch`'s block leaves the warp's `sum` in
/// shared memory at [warp]; a barrier follows. Returns that memory.
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

/// One warp per output element, or `parts` consecutive warps of one block
/// (split-k): each lane folds every 32nd element of the flattened reduction,
/// or of its warp's share (consecutive lanes read consecutive elements of
/// the innermost reduction loop, so a weight row is read coalesced); the
/// warp combines its lanes by shuffles; split warps leave their sums in
/// shared memory for the first warp of their output, which combines them
/// in order (the same result every run). Lane 0 of that warp folds the sum
/// into the output, or stores it where the output holds the identity.
void emitWarpReduction(OpBuilder &b, Location loc, linalg::LinalgOp op,
                       const WarpReduction &reduction,
                       const std::optional<VectorDot> &dot, int64_t parts,
                       bool initIsIdentity, gpu::LaunchOp launch, Value block,
                       Value total, ArrayRef<unsigned> threadDims,
                       ArrayRef<unsigned> serialDims, ArrayRef<Value> sizes) {
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c32 = arith::ConstantIndexOp::create(b, loc, 32);
  Value warpsPerBlock = arith::DivUIOp::create(b, loc, block, c32);
  Value tid = launch.getThreadIds().x;
  Value lane = arith::RemUIOp::create(b, loc, tid, c32);
  Value warp = arith::DivUIOp::create(b, loc, tid, c32);
  Value flat = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, launch.getBlockIds().x, warpsPerBlock),
      warp);
  // Uniform across the warp: every lane of a warp takes the same branch,
  // as the shuffles need.
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, flat, total);
  // With split-k, consecutive warps take the parts of one output (parts
  // divides the warps of a block, so no output straddles two blocks).
  // A warp past the last output works as the last one's (it stores
  // nothing): every warp's indices are in bounds, and loads before the
  // branch need no guard.
  flat = arith::MinUIOp::create(
      b, loc, flat,
      arith::SubIOp::create(b, loc, total,
                            arith::ConstantIndexOp::create(b, loc, 1)));
  Value part = c0;
  if (parts > 1) {
    Value partsValue = arith::ConstantIndexOp::create(b, loc, parts);
    part = arith::RemUIOp::create(b, loc, flat, partsValue);
    flat = arith::DivUIOp::create(b, loc, flat, partsValue);
  }
  SmallVector<Value> ivs(op.getNumLoops());
  delinearize(b, loc, flat, threadDims, sizes, ivs);
  Value sum = emitWarpSums(b, loc, op, reduction, dot, parts, lane, part,
                           inRange, {ivs}, serialDims, sizes,
                           /*weightsEarly=*/true)
                  .front();
  Operation *combiner = reduction.combiner;
  Value identity = identityOf(b, loc, combiner);
  Value isLane0 =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, c0);
  Value writes = arith::AndIOp::create(b, loc, inRange, isLane0);
  if (parts > 1) {
    // The warps' sums in shared memory; after the barrier, the output's
    // first warp combines its parts' sums in order.
    Value sums = leaveWarpSums(b, loc, launch, isLane0, warp, sum);
    writes = arith::AndIOp::create(
        b, loc, writes,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, part, c0));
    auto gather = scf::IfOp::create(b, loc, TypeRange{b.getF32Type()}, writes,
                                    /*withElseRegion=*/true);
    OpBuilder::InsertionGuard inGather(b);
    b.setInsertionPointToStart(&gather.getElseRegion().front());
    scf::YieldOp::create(b, loc, identity);
    b.setInsertionPointToStart(&gather.getThenRegion().front());
    Value combined = sum;
    for (int64_t i = 1; i < parts; ++i) {
      Value index = arith::AddIOp::create(
          b, loc, warp, arith::ConstantIndexOp::create(b, loc, i));
      combined =
          combine(b, combiner, combined,
                  memref::LoadOp::create(b, loc, sums, ValueRange{index}));
    }
    scf::YieldOp::create(b, loc, combined);
    sum = gather.getResult(0);
  }
  auto store = scf::IfOp::create(b, loc, writes, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&store.getThenRegion().front());
  OpOperand *init = op.getDpsInitOperand(0);
  // Serial dims do not index the output: any value (0) will do for them.
  for (unsigned d : serialDims)
    ivs[d] = c0;
  SmallVector<Value> indices = operandIndices(b, loc, op, init, ivs);
  if (initIsIdentity) {
    memref::StoreOp::create(b, loc, sum, init->get(), indices);
    return;
  }
  Value old = memref::LoadOp::create(b, loc, init->get(), indices);
  memref::StoreOp::create(b, loc, combine(b, combiner, old, sum), init->get(),
                          indices);
}

/// The product of the static sizes of loops `dims`, or nullopt where one is
/// known only at run time.
std::optional<int64_t> staticProduct(ArrayRef<unsigned> dims,
                                     ArrayRef<int64_t> staticSizes) {
  int64_t product = 1;
  for (unsigned d : dims) {
    if (ShapedType::isDynamic(staticSizes[d]))
      return std::nullopt;
    product *= staticSizes[d];
  }
  return product;
}

/// Whether the reduction loops `serialDims` run for 32 elements or more
/// (or for a number known only at run time): enough to share among a warp.
bool isLongReduction(ArrayRef<unsigned> serialDims,
                     ArrayRef<int64_t> staticSizes) {
  std::optional<int64_t> length = staticProduct(serialDims, staticSizes);
  return !length || *length >= 32;
}

/// One thread per output element: it runs the reduction loops itself,
/// reading and writing its output element in memory.
void emitThreadPerOutput(OpBuilder &b, Location loc, linalg::LinalgOp op,
                         gpu::LaunchOp launch, Value one, Value block,
                         Value total, ArrayRef<unsigned> threadDims,
                         ArrayRef<unsigned> serialDims, ArrayRef<Value> sizes) {
  Value flat = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, block),
      launch.getThreadIds().x);
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, flat, total);
  auto guard = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&guard.getThenRegion().front());
  SmallVector<Value> ivs(op.getNumLoops());
  delinearize(b, loc, flat, threadDims, sizes, ivs);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  for (unsigned d : serialDims) {
    auto loop = scf::ForOp::create(b, loc, zero, sizes[d], one);
    ivs[d] = loop.getInductionVar();
    b.setInsertionPointToStart(loop.getBody());
  }
  emitBody(b, loc, op, ivs);
}

/// The kernel's form, for its name: a reduction with vector loads, another
/// warp reduction, or a thread per output element (the op's kind).
std::string formOf(linalg::LinalgOp op, bool warpReduction, bool dot) {
  if (dot)
    return "dot";
  if (warpReduction)
    return "reduce";
  if (isa<linalg::FillOp>(op))
    return "fill";
  if (isa<linalg::CopyOp>(op))
    return "copy";
  if (isa<linalg::TransposeOp>(op))
    return "transpose";
  return "map";
}

/// How an op runs on the GPU, decided from its static shapes before any op
/// is rewritten (so that a fill it makes unnecessary can still be removed).
struct LaunchPlan {
  SmallVector<unsigned> threadDims, serialDims;
  std::optional<WarpReduction> warpReduction;
  std::optional<VectorDot> dot;
  /// A dot over several tokens with bf16 weights: mma.sync tiles instead.
  std::optional<llamac::TensorCoreLinear> tensorCore;
  /// Warps of one block sharing each output of a warp reduction (split-k).
  int64_t parts = 1;
  /// The output holds the combiner's identity when the op starts: each
  /// output is stored, not combined with what was there (its fill is gone).
  bool initIsIdentity = false;
};

LaunchPlan planLaunch(linalg::LinalgOp op) {
  LaunchPlan plan;
  SmallVector<int64_t> staticSizes = op.getStaticLoopRanges();
  for (unsigned d = 0; d < op.getNumLoops(); ++d)
    (isThreadDim(op, d) ? plan.threadDims : plan.serialDims).push_back(d);
  // Reductions of 32 elements or more: a warp per output element.
  if (isLongReduction(plan.serialDims, staticSizes))
    plan.warpReduction = matchWarpReduction(op, plan.serialDims);
  if (plan.warpReduction)
    plan.dot =
        matchVectorDot(op, *plan.warpReduction, plan.serialDims, staticSizes);
  if (plan.dot) {
    plan.tensorCore = llamac::matchTensorCoreLinear(
        op, plan.dot->dim, plan.dot->lhs, plan.dot->rhs);
    if (plan.tensorCore)
      return plan;
  }
  // Too few outputs to fill the GPU with a warp each: split each one's
  // reduction over several warps (whole trips each).
  std::optional<int64_t> outputs = staticProduct(plan.threadDims, staticSizes);
  if (plan.warpReduction && outputs && *outputs > 0 && *outputs < kMinWarps) {
    int64_t want =
        std::min(kWarpsPerBlock, (kMinWarps + *outputs - 1) / *outputs);
    // Each part at least one trip of the warp's lanes.
    std::optional<int64_t> length = staticProduct(plan.serialDims, staticSizes);
    if (plan.dot)
      want = std::min(want, tripsOf(*plan.dot));
    else if (length && *length > 0)
      want = std::min(want, (*length + 31) / 32);
    while (plan.parts * 2 <= want) // a power of two: it divides the block
      plan.parts *= 2;
  }
  return plan;
}

/// A warp reduction (RMSNorm's sum of squares) whose output only one
/// elementwise op reads, next to it, every block of that op within one of
/// the reduction's outputs (a row): the consumer's blocks compute their
/// row's reduction themselves, its warps as the parts, and the reduction's
/// kernel and buffer go. One launch instead of two (each ~2 us of a decode
/// step), for each block of a row re-reading the row (from L2).
struct RowReduction {
  linalg::LinalgOp reduction;
  const LaunchPlan *plan; // the reduction's
  OpOperand *read;        // the consumer's input that is its output
};

/// The consumer's body with `row`'s reduction in each block: warp w
/// computes part w of the block's row (as the reduction's own kernel would),
/// the parts meet in shared memory, every thread adds them in order (the
/// same bits as the reduction's kernel), and the sum stands in for the
/// consumer's read of the reduction's output.
void emitRowReductionThenBody(OpBuilder &b, Location loc, linalg::LinalgOp op,
                              const RowReduction &row, gpu::LaunchOp launch,
                              Value block, Value total,
                              ArrayRef<unsigned> threadDims,
                              ArrayRef<Value> sizes) {
  linalg::LinalgOp reduction = row.reduction;
  const LaunchPlan &plan = *row.plan;
  Value c32 = arith::ConstantIndexOp::create(b, loc, 32);
  Value tid = launch.getThreadIds().x;
  Value lane = arith::RemUIOp::create(b, loc, tid, c32);
  Value warp = arith::DivUIOp::create(b, loc, tid, c32);
  Value flat = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, block),
      tid);
  SmallVector<Value> ivs(op.getNumLoops());
  delinearize(b, loc, flat, threadDims, sizes, ivs);
  // The row: the reduction's output indices, as the consumer reads them.
  SmallVector<Value> outputIndices = operandIndices(b, loc, op, row.read, ivs);
  SmallVector<Value> reductionIvs(reduction.getNumLoops());
  for (auto [d, index] : llvm::zip(plan.threadDims, outputIndices))
    reductionIvs[d] = index;
  SmallVector<Value> reductionSizes;
  OpBuilder outside(launch);
  for (Range &range : reduction.createLoopRanges(outside, loc))
    reductionSizes.push_back(
        getValueOrCreateConstantIndexOp(outside, loc, range.size));
  Value parts = arith::ConstantIndexOp::create(b, loc, plan.parts);
  Value isPart =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, warp, parts);
  Value part = arith::MinUIOp::create(
      b, loc, warp, arith::ConstantIndexOp::create(b, loc, plan.parts - 1));
  Value sum = emitWarpSums(b, loc, reduction, *plan.warpReduction, plan.dot,
                           plan.parts, lane, part, isPart, {reductionIvs},
                           plan.serialDims, reductionSizes,
                           /*weightsEarly=*/false)
                  .front();
  Value isLane0 =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                            arith::ConstantIndexOp::create(b, loc, 0));
  Value sums = leaveWarpSums(b, loc, launch, isLane0, warp, sum);
  Value rowSum = memref::LoadOp::create(
      b, loc, sums, ValueRange{arith::ConstantIndexOp::create(b, loc, 0)});
  for (int64_t i = 1; i < plan.parts; ++i)
    rowSum =
        combine(b, plan.warpReduction->combiner, rowSum,
                memref::LoadOp::create(
                    b, loc, sums,
                    ValueRange{arith::ConstantIndexOp::create(b, loc, i)}));
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, flat, total);
  auto guardRange =
      scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  b.setInsertionPointToStart(&guardRange.getThenRegion().front());
  IRMapping given;
  given.map(op.getBlock()->getArgument(row.read->getOperandNumber()), rowSum);
  emitBody(b, loc, op, ivs, given);
}

/// A GEMV whose output only the next elementwise op reads, through views
/// that each take a run of its rows (SwiGLU's gate and up halves of the
/// merged gate+up projection): the consumer's warps compute the rows they
/// read themselves, and the GEMV's kernel and buffer go. One launch
/// instead of two, and the activations read once for both rows.
struct DotEpilogue {
  linalg::LinalgOp dot;
  const LaunchPlan *plan; // the dot's
  /// The consumer's inputs that read the dot's output, each with the
  /// offsets of its view into it.
  SmallVector<std::pair<OpOperand *, SmallVector<int64_t>>> reads;
  /// The dot's loop that indexes each dimension of its output.
  SmallVector<unsigned> outputDims;
};

/// The consumer's body with a warp per output element: the warp computes
/// the dot's rows that the element reads (one loop, their weights' loads
/// together; the first before the wait for the previous kernel), and lane 0
/// computes the body with those sums for the reads.
void emitDotThenBody(OpBuilder &b, Location loc, linalg::LinalgOp op,
                     const DotEpilogue &epilogue, gpu::LaunchOp launch,
                     Value block, Value total, ArrayRef<unsigned> threadDims,
                     ArrayRef<Value> sizes) {
  linalg::LinalgOp dot = epilogue.dot;
  const LaunchPlan &plan = *epilogue.plan;
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  Value c32 = arith::ConstantIndexOp::create(b, loc, 32);
  Value tid = launch.getThreadIds().x;
  Value lane = arith::RemUIOp::create(b, loc, tid, c32);
  Value flat = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, launch.getBlockIds().x,
                            arith::DivUIOp::create(b, loc, block, c32)),
      arith::DivUIOp::create(b, loc, tid, c32));
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, flat, total);
  // A warp past the last output works as the last one's (and stores
  // nothing), so that its loads need no guard.
  flat = arith::MinUIOp::create(
      b, loc, flat,
      arith::SubIOp::create(b, loc, total,
                            arith::ConstantIndexOp::create(b, loc, 1)));
  SmallVector<Value> ivs(op.getNumLoops());
  delinearize(b, loc, flat, threadDims, sizes, ivs);
  // Each read's row of the dot: its view's offsets plus the element's
  // indices (the consumer reads it by the identity map).
  SmallVector<SmallVector<Value>> rowIvs;
  for (auto &[read, offsets] : epilogue.reads) {
    SmallVector<Value> &dotIvs =
        rowIvs.emplace_back(dot.getNumLoops(), Value());
    for (auto [d, offset, index] : llvm::zip(epilogue.outputDims, offsets, ivs))
      dotIvs[d] = b.createOrFold<arith::AddIOp>(
          loc, index, arith::ConstantIndexOp::create(b, loc, offset));
  }
  SmallVector<Value> dotSizes;
  OpBuilder outside(launch);
  for (Range &range : dot.createLoopRanges(outside, loc))
    dotSizes.push_back(
        getValueOrCreateConstantIndexOp(outside, loc, range.size));
  SmallVector<Value> sums = emitWarpSums(
      b, loc, dot, *plan.warpReduction, plan.dot, /*parts=*/1, lane, c0,
      inRange, rowIvs, plan.serialDims, dotSizes, /*weightsEarly=*/true);
  Value isLane0 =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, c0);
  auto store =
      scf::IfOp::create(b, loc, arith::AndIOp::create(b, loc, inRange, isLane0),
                        /*withElseRegion=*/false);
  b.setInsertionPointToStart(&store.getThenRegion().front());
  IRMapping given;
  for (auto [read, sum] : llvm::zip(epilogue.reads, sums))
    given.map(op.getBlock()->getArgument(read.first->getOperandNumber()), sum);
  emitBody(b, loc, op, ivs, given);
}

LogicalResult mapToLaunch(linalg::LinalgOp op, const LaunchPlan &plan,
                          KernelNamer &namer, const RowReduction *row = nullptr,
                          const DotEpilogue *epilogue = nullptr) {
  if (!op.hasPureBufferSemantics())
    return op->emitOpError("is not on buffers; bufferize before "
                           "llama-map-to-gpu");
  if (plan.tensorCore) {
    llamac::emitTensorCoreLinear(op, *plan.tensorCore, plan.initIsIdentity,
                                 namer);
    return success();
  }
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Range> ranges = op.createLoopRanges(b, loc);
  SmallVector<Value> sizes;
  for (Range &range : ranges)
    sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
  ArrayRef<unsigned> threadDims = plan.threadDims, serialDims = plan.serialDims;
  const std::optional<WarpReduction> &warpReduction = plan.warpReduction;
  const std::optional<VectorDot> &dot = plan.dot;

  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value total = one;
  for (unsigned d : threadDims)
    total = b.createOrFold<arith::MulIOp>(loc, total, sizes[d]);
  if (plan.parts > 1)
    total = b.createOrFold<arith::MulIOp>(
        loc, total, arith::ConstantIndexOp::create(b, loc, plan.parts));
  // Small ops get one block of (a warp multiple of) their size.
  int64_t blockSize = kBlockSize;
  bool warpPerOutput = warpReduction || epilogue;
  if (std::optional<int64_t> n = getConstantIntValue(total);
      n && !warpPerOutput)
    blockSize = std::min<int64_t>(kBlockSize,
                                  std::max<int64_t>(32, (*n + 31) / 32 * 32));
  Value block = arith::ConstantIndexOp::create(b, loc, blockSize);
  // Blocks of threads, or of warps (one output each).
  Value perBlock = warpPerOutput
                       ? arith::ConstantIndexOp::create(b, loc, blockSize / 32)
                       : block;
  Value grid = arith::CeilDivUIOp::create(b, loc, total, perBlock);
  auto launch = gpu::LaunchOp::create(b, loc, grid, one, one, block, one, one);
  // gpu-kernel-outlining names the kernel and its module after these.
  auto name = FlatSymbolRefAttr::get(
      b.getContext(),
      namer.name(op, row        ? "reduce_map"
                     : epilogue ? "dot_map"
                                : formOf(op, warpReduction.has_value(),
                                         dot.has_value())));
  launch.setModuleAttr(name);
  launch.setFunctionAttr(name);

  b.setInsertionPointToStart(&launch.getBody().front());
  b.setInsertionPoint(gpu::TerminatorOp::create(b, loc));
  // Constant globals the op reads are read on the device, through clones
  // inside the launch (the op is read below, then erased).
  for (OpOperand &operand : op->getOpOperands())
    if (auto global = operand.get().getDefiningOp<memref::GetGlobalOp>())
      operand.set(b.clone(*global)->getResult(0));
  if (warpReduction)
    emitWarpReduction(b, loc, op, *warpReduction, dot, plan.parts,
                      plan.initIsIdentity, launch, block, total, threadDims,
                      serialDims, sizes);
  else if (row)
    emitRowReductionThenBody(b, loc, op, *row, launch, block, total, threadDims,
                             sizes);
  else if (epilogue)
    emitDotThenBody(b, loc, op, *epilogue, launch, block, total, threadDims,
                    sizes);
  else
    emitThreadPerOutput(b, loc, op, launch, one, block, total, threadDims,
                        serialDims, sizes);
  op->erase();
  return success();
}

/// The one linalg.fill of `buffer` before `op` (in op's block) whose value
/// `op` sees: no other use of the buffer comes before `op` except the reads
/// `mayReadBefore` accepts. Uses inside another op's region (a load in a
/// linalg body) count where that op is.
linalg::FillOp fillReaching(Value buffer, Operation *op,
                            function_ref<bool(Operation *)> mayReadBefore) {
  linalg::FillOp fill;
  for (Operation *user : buffer.getUsers()) {
    user = op->getBlock()->findAncestorOpInBlock(*user);
    if (!user)
      return {};
    if (user == op || isa<memref::DeallocOp>(user) || mayReadBefore(user))
      continue;
    auto f = dyn_cast<linalg::FillOp>(user);
    if (f && !fill && f->isBeforeInBlock(op)) {
      fill = f;
      continue;
    }
    if (!op->isBeforeInBlock(user))
      return {};
  }
  return fill;
}

/// Bufferization fills one buffer with zeros (or -inf) and copies it into a
/// fresh buffer for each reduction that starts from it: a fill kernel and a
/// copy kernel each. Each copy becomes a fill of its target instead, and
/// the shared buffer, no longer read, goes.
void forwardFillsThroughCopies(ModuleOp module) {
  SmallVector<memref::CopyOp> copies;
  module.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
  DominanceInfo dominance(module);
  SetVector<memref::AllocOp> sources;
  for (memref::CopyOp copy : copies) {
    auto alloc = copy.getSource().getDefiningOp<memref::AllocOp>();
    if (!alloc)
      continue;
    // Other copies out of the buffer may come before this one.
    linalg::FillOp fill = fillReaching(alloc, copy, [&](Operation *user) {
      auto read = dyn_cast<memref::CopyOp>(user);
      return read && read.getSource() == alloc.getResult() &&
             read.getTarget() != alloc.getResult();
    });
    if (!fill || !dominance.properlyDominates(fill.getInputs()[0], copy))
      continue;
    OpBuilder b(copy);
    linalg::FillOp::create(b, copy.getLoc(), fill.getInputs()[0],
                           copy.getTarget());
    sources.insert(alloc);
    copy->erase();
  }
  for (memref::AllocOp alloc : sources) {
    if (!llvm::all_of(alloc->getUsers(), [](Operation *user) {
          return isa<linalg::FillOp, memref::DeallocOp>(user);
        }))
      continue;
    for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
      user->erase();
    alloc->erase();
  }
}

/// The linalg.fill that a warp reduction's output buffer gets just before
/// it, with the combiner's identity, if nothing else touches the buffer in
/// between and the reduction writes every element of it: that fill can go
/// (the reduction then stores instead of combining).
linalg::FillOp identityFillBefore(linalg::LinalgOp op, const LaunchPlan &plan) {
  if (!plan.warpReduction)
    return {};
  Value init = op.getDpsInitOperand(0)->get();
  // A temporary, or an entry point's argument (the logits, written in
  // place): nothing else can alias it.
  auto arg = dyn_cast<BlockArgument>(init);
  bool entryArgument =
      arg && isa<func::FuncOp>(arg.getOwner()->getParentOp()) &&
      arg.getOwner()->getParent() == op->getParentRegion();
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!(init.getDefiningOp<memref::AllocOp>() || entryArgument) ||
      !outMap.isProjectedPermutation(/*allowZeroInResults=*/false) ||
      outMap.getNumResults() != plan.threadDims.size())
    return {};
  // Nothing else of the buffer's comes before the reduction.
  linalg::FillOp fill =
      fillReaching(init, op, [](Operation *) { return false; });
  if (!fill)
    return {};
  auto value = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
  auto floatValue = value ? dyn_cast<FloatAttr>(value.getValue()) : nullptr;
  if (!floatValue)
    return {};
  APFloat v = floatValue.getValue();
  bool identity = isa<arith::AddFOp>(plan.warpReduction->combiner)
                      ? v.isZero()
                      : v.isInfinity() && v.isNegative();
  return identity ? fill : linalg::FillOp();
}

/// Whether nothing between `producer` and `consumer` (in one block) writes
/// what `producer` reads, so that the consumer may compute the producer's
/// outputs itself: nothing touches memory but allocations and fills of
/// buffers allocated after the producer.
bool onlyFreshBuffersBetween(Operation *producer, Operation *consumer) {
  for (Operation *op = producer->getNextNode(); op != consumer;
       op = op->getNextNode()) {
    auto fill = dyn_cast<linalg::FillOp>(op);
    auto fresh = fill ? fill.getOutputs()[0].getDefiningOp<memref::AllocOp>()
                      : memref::AllocOp();
    if (!isMemoryEffectFree(op) &&
        !isa<memref::AllocOp, memref::DeallocOp>(op) &&
        !llamac::isMemRefView(op) &&
        !(fresh && producer->isBeforeInBlock(fresh)))
      return false;
  }
  return true;
}

/// The elementwise op that can compute `dot`'s rows itself (see
/// DotEpilogue), with its reads of them; nullopt if none.
std::optional<DotEpilogue>
dotEpilogueReader(linalg::LinalgOp dot, const LaunchPlan &plan,
                  const llvm::DenseMap<Operation *, LaunchPlan> &plans) {
  if (!plan.warpReduction || !plan.dot || plan.tensorCore ||
      !plan.initIsIdentity || plan.parts != 1)
    return std::nullopt;
  Value output = dot.getDpsInitOperand(0)->get();
  if (!output.getDefiningOp<memref::AllocOp>())
    return std::nullopt;
  unsigned rank = cast<MemRefType>(output.getType()).getRank();
  DotEpilogue epilogue{dot, &plan, {}, {}};
  linalg::LinalgOp consumer;
  // Every other use: a view of a run of rows (or the whole) that one input
  // of the consumer reads.
  auto addRead = [&](OpOperand &use, SmallVector<int64_t> offsets) {
    auto reader = dyn_cast<linalg::LinalgOp>(use.getOwner());
    if (!reader || !reader.isDpsInput(&use) || (consumer && reader != consumer))
      return false;
    consumer = reader;
    epilogue.reads.push_back({&use, std::move(offsets)});
    return true;
  };
  for (OpOperand &use : output.getUses()) {
    Operation *user = use.getOwner();
    if (user == dot || isa<linalg::FillOp, memref::DeallocOp>(user))
      continue;
    if (auto view = dyn_cast<memref::SubViewOp>(user)) {
      if (view.getType().getRank() != rank || !view->hasOneUse() ||
          llvm::any_of(view.getStaticOffsets(), ShapedType::isDynamic) ||
          llvm::any_of(view.getStaticStrides(),
                       [](int64_t stride) { return stride != 1; }) ||
          !addRead(*view->getUses().begin(),
                   llvm::to_vector(view.getStaticOffsets())))
        return std::nullopt;
      continue;
    }
    if (!addRead(use, SmallVector<int64_t>(rank, 0)))
      return std::nullopt;
  }
  // In the consumer's operand order (the order of the warp's rows).
  llvm::sort(epilogue.reads, [](const auto &a, const auto &b) {
    return a.first->getOperandNumber() < b.first->getOperandNumber();
  });
  if (!consumer || !plans.contains(consumer) ||
      consumer->getBlock() != dot->getBlock() ||
      !dot->isBeforeInBlock(consumer))
    return std::nullopt;
  const LaunchPlan &consumerPlan = plans.at(consumer);
  if (consumerPlan.warpReduction || !consumerPlan.serialDims.empty() ||
      consumer.getNumLoops() != rank)
    return std::nullopt;
  // The consumer writes nothing the dot reads (its warps would race).
  for (OpOperand &init : consumer.getDpsInitsMutable())
    for (OpOperand *input : dot.getDpsInputOperands())
      if (llamac::rootOf(init.get()) == llamac::rootOf(input->get()))
        return std::nullopt;
  if (!onlyFreshBuffersBetween(dot, consumer))
    return std::nullopt;
  // The dot's output indexed by its thread dims, each read by the
  // identity: element i of a read is element offset + i of the output.
  AffineMap outMap = dot.getMatchingIndexingMap(dot.getDpsInitOperand(0));
  if (!outMap.isProjectedPermutation() || outMap.getNumResults() != rank ||
      plan.threadDims.size() != rank)
    return std::nullopt;
  for (unsigned i = 0; i < rank; ++i)
    epilogue.outputDims.push_back(outMap.getDimPosition(i));
  for (auto &[read, offsets] : epilogue.reads)
    if (!consumer.getMatchingIndexingMap(read).isIdentity())
      return std::nullopt;
  // A warp for each of the consumer's elements must still fill the GPU.
  std::optional<int64_t> outputs =
      staticProduct(consumerPlan.threadDims, consumer.getStaticLoopRanges());
  if (!outputs || *outputs < kMinWarps)
    return std::nullopt;
  return epilogue;
}

/// The elementwise op that can compute `reduction`'s rows itself (see
/// RowReduction), with its input that reads them; null if none.
OpOperand *
rowReductionReader(linalg::LinalgOp reduction, const LaunchPlan &plan,
                   const llvm::DenseMap<Operation *, LaunchPlan> &plans) {
  if (!plan.warpReduction || !plan.dot || plan.tensorCore ||
      !plan.initIsIdentity || plan.parts > kWarpsPerBlock)
    return nullptr;
  // Its output: a temporary, filled (the fill folded away) and read once.
  Value output = reduction.getDpsInitOperand(0)->get();
  if (!output.getDefiningOp<memref::AllocOp>())
    return nullptr;
  OpOperand *read = nullptr;
  for (OpOperand &use : output.getUses()) {
    Operation *user = use.getOwner();
    if (user == reduction || isa<linalg::FillOp, memref::DeallocOp>(user))
      continue;
    if (read)
      return nullptr;
    read = &use;
  }
  auto consumer =
      read ? dyn_cast<linalg::LinalgOp>(read->getOwner()) : linalg::LinalgOp();
  if (!consumer || !plans.contains(consumer) || !consumer.isDpsInput(read) ||
      consumer->getBlock() != reduction->getBlock() ||
      !reduction->isBeforeInBlock(consumer))
    return nullptr;
  const LaunchPlan &consumerPlan = plans.at(consumer);
  if (consumerPlan.warpReduction || !consumerPlan.serialDims.empty())
    return nullptr;
  if (!onlyFreshBuffersBetween(reduction, consumer))
    return nullptr;
  // The reduction's output indexed by its thread dims in order, the
  // consumer's read of it by its own leading loops: a row is the
  // consumer's trailing loops, whose elements must fill whole blocks.
  AffineMap outMap =
      reduction.getMatchingIndexingMap(reduction.getDpsInitOperand(0));
  AffineMap readMap = consumer.getMatchingIndexingMap(read);
  unsigned rank = readMap.getNumResults();
  if (outMap.getNumResults() != rank || plan.threadDims.size() != rank)
    return nullptr;
  for (unsigned i = 0; i < rank; ++i)
    if (outMap.getResult(i) !=
            getAffineDimExpr(plan.threadDims[i], outMap.getContext()) ||
        readMap.getResult(i) != getAffineDimExpr(i, readMap.getContext()))
      return nullptr;
  SmallVector<int64_t> sizes = consumer.getStaticLoopRanges();
  if (llvm::any_of(sizes, ShapedType::isDynamic))
    return nullptr;
  int64_t rowLength = 1;
  for (int64_t size : ArrayRef(sizes).drop_front(rank))
    rowLength *= size;
  return rowLength % kBlockSize ? nullptr : read;
}

/// Erases `buffer` (a memref.alloc), its views and its dealloc where
/// nothing else uses them any more.
void eraseUnread(Value buffer) {
  for (Operation *user : llvm::make_early_inc_range(buffer.getUsers()))
    if (llamac::isMemRefView(user) && user->use_empty())
      user->erase();
  if (!llvm::all_of(buffer.getUsers(), llvm::IsaPred<memref::DeallocOp>))
    return;
  for (Operation *user : llvm::make_early_inc_range(buffer.getUsers()))
    user->erase();
  buffer.getDefiningOp()->erase();
}

struct LlamaMapToGPU : public llamac::impl::LlamaMapToGPUBase<LlamaMapToGPU> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    llamac::recordEntryMemrefs(module);
    forwardFillsThroughCopies(module);
    // Copies become kernels too.
    module.walk([](memref::CopyOp copy) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy->erase();
    });
    SmallVector<linalg::LinalgOp> ops;
    module.walk([&](linalg::LinalgOp op) {
      if (!op->getParentOfType<gpu::LaunchOp>())
        ops.push_back(op);
    });
    // Plans first, so that the fills they make unnecessary go before being
    // mapped themselves.
    llvm::DenseMap<Operation *, LaunchPlan> plans;
    llvm::DenseSet<Operation *> folded;
    for (linalg::LinalgOp op : ops) {
      LaunchPlan &plan = plans[op] = planLaunch(op);
      if (linalg::FillOp fill = identityFillBefore(op, plan)) {
        folded.insert(fill);
        plan.initIsIdentity = true;
      }
    }
    // Reductions whose reader computes their rows itself: not launched.
    llvm::DenseMap<Operation *, RowReduction> rowReductions; // by reader
    llvm::DenseSet<Operation *> readerComputes;
    for (linalg::LinalgOp op : ops)
      if (OpOperand *read = rowReductionReader(op, plans[op], plans)) {
        rowReductions[read->getOwner()] = RowReduction{op, &plans[op], read};
        readerComputes.insert(op);
      }
    // GEMVs whose reader computes their rows itself: not launched either.
    llvm::DenseMap<Operation *, DotEpilogue> dotEpilogues; // by reader
    for (linalg::LinalgOp op : ops) {
      if (readerComputes.contains(op))
        continue;
      std::optional<DotEpilogue> epilogue =
          dotEpilogueReader(op, plans[op], plans);
      if (!epilogue)
        continue;
      Operation *reader = epilogue->reads.front().first->getOwner();
      if (rowReductions.contains(reader) || dotEpilogues.contains(reader))
        continue;
      dotEpilogues[reader] = std::move(*epilogue);
      readerComputes.insert(op);
    }
    KernelNamer namer;
    for (linalg::LinalgOp op : ops) {
      if (folded.contains(op)) {
        op->erase();
        continue;
      }
      if (readerComputes.contains(op))
        continue;
      auto row = rowReductions.find(op);
      auto epilogue = dotEpilogues.find(op);
      if (failed(mapToLaunch(
              op, plans[op], namer,
              row == rowReductions.end() ? nullptr : &row->second,
              epilogue == dotEpilogues.end() ? nullptr : &epilogue->second)))
        return signalPassFailure();
      if (row != rowReductions.end()) {
        linalg::LinalgOp reduction = row->second.reduction;
        Value temporary = reduction.getDpsInitOperand(0)->get();
        reduction->erase();
        eraseUnread(temporary);
      }
      if (epilogue != dotEpilogues.end()) {
        linalg::LinalgOp dot = epilogue->second.dot;
        Value temporary = dot.getDpsInitOperand(0)->get();
        dot->erase();
        eraseUnread(temporary);
      }
    }
    SmallVector<llama::FlashAttentionOp> attentions;
    module.walk([&](llama::FlashAttentionOp op) { attentions.push_back(op); });
    for (llama::FlashAttentionOp op : attentions)
      if (failed(llamac::mapFlashAttentionToGPU(op, namer)))
        return signalPassFailure();
    SmallVector<llama::ArgmaxRowsOp> argmaxes;
    module.walk([&](llama::ArgmaxRowsOp op) { argmaxes.push_back(op); });
    for (llama::ArgmaxRowsOp op : argmaxes)
      if (failed(llamac::mapArgmaxToGPU(op, namer)))
        return signalPassFailure();
    // The entry points' temporaries live on the device. gpu-to-llvm lowers
    // only the async forms, so each gets a stream of its own (the runtime's
    // one stream, see runtime/lib/cuda/MgpuRuntime.cpp).
    auto tokenType = gpu::AsyncTokenType::get(module.getContext());
    module.walk([&](memref::AllocOp alloc) {
      OpBuilder b(alloc);
      Location loc = alloc.getLoc();
      Value stream =
          gpu::WaitOp::create(b, loc, tokenType, ValueRange{}).getAsyncToken();
      auto device = gpu::AllocOp::create(
          b, loc, alloc.getType(), tokenType, ValueRange{stream},
          alloc.getDynamicSizes(), alloc.getSymbolOperands());
      gpu::WaitOp::create(b, loc, Type(), ValueRange{device.getAsyncToken()});
      alloc.replaceAllUsesWith(device.getMemref());
      alloc->erase();
    });
    module.walk([&](memref::DeallocOp dealloc) {
      OpBuilder b(dealloc);
      Location loc = dealloc.getLoc();
      Value stream =
          gpu::WaitOp::create(b, loc, tokenType, ValueRange{}).getAsyncToken();
      auto done = gpu::DeallocOp::create(b, loc, tokenType, ValueRange{stream},
                                         dealloc.getMemref());
      gpu::WaitOp::create(b, loc, Type(), ValueRange{done.getAsyncToken()});
      dealloc->erase();
    });
  }
};

} // namespace

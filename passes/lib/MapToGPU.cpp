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
// Here: each op's plan (threads, a warp per output, split-k, tensor cores),
// the fusions where a consumer computes its producer's outputs itself, and
// the driver. The warps' code is in WarpReductions.cpp, an op's body at
// loop indices in LinalgBodies.cpp, the tensor-core GEMMs in
// TensorCoreLinear.cpp, the attention in FlashAttentionToGPU.cpp.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "EntryMemrefs.h"
#include "FlashAttentionToGPU.h"
#include "KernelNamer.h"
#include "LinalgBodies.h"
#include "LinalgIndexing.h"
#include "MemRefViews.h"
#include "SampleToGPU.h"
#include "TensorCoreLinear.h"
#include "TopKToGPU.h"
#include "WarpReductions.h"

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

using llamac::combine;
using llamac::delinearize;
using llamac::emitBody;
using llamac::emitWarpReduction;
using llamac::emitWarpSums;
using llamac::kBlockSize;
using llamac::KernelNamer;
using llamac::kMinWarps;
using llamac::kWarpsPerBlock;
using llamac::leaveWarpSums;
using llamac::matchVectorDot;
using llamac::matchWarpReduction;
using llamac::operandIndices;
using llamac::tripsOf;
using llamac::VectorDot;
using llamac::WarpReduction;

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
  Value parts = arith::ConstantIndexOp::create(b, loc, plan.parts);
  Value isPart =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, warp, parts);
  Value part = arith::MinUIOp::create(
      b, loc, warp, arith::ConstantIndexOp::create(b, loc, plan.parts - 1));
  Value sum = emitWarpSums(b, loc, reduction, *plan.warpReduction, plan.dot,
                           plan.parts, lane, part, isPart, {reductionIvs},
                           /*serialDims=*/{}, /*sizes=*/{},
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

/// A GEMV whose activations are an RMSNorm without gains (see
/// llama-fold-norm-gains): `scaling` writes x * f(s), f a function of s
/// alone, s = `squares`' sum of x^2 over the row, and x is the output of
/// `producer`, a GEMV (the residual stream after o or down). The producer
/// also writes x rounded to bf16 (`shadow`); the GEMV's warps read that
/// copy instead of the norm's output, add up its squares in the dot's loop
/// (from the same loads) and multiply each dot by f of that sum; the
/// norm's kernel goes. Each dot then differs from the dot of the rounded x
/// * f(s) by rounding only. Two grid-wide waits fewer a decode layer, the
/// same activation bytes a warp (the f32 x itself measured slower: twice
/// the loads in flight, fewer warps an SM at their registers).
struct NormScale {
  mutable linalg::LinalgOp squares, scaling, producer; // (accessors not const)
  llamac::NormInput input; // the GEMV's read of the norm, the shadow
  BlockArgument sumArg;    // scaling's block argument for s
  Value factor;            // f(s) in scaling's body
};

/// f(`sum`), cloned from the norm's body.
Value emitNormFactor(OpBuilder &b, const NormScale &norm, Value sum) {
  IRMapping mapping;
  mapping.map(norm.sumArg, sum);
  Block *body = norm.scaling.getBlock();
  for (Operation &inner : body->without_terminator()) {
    if (mapping.contains(norm.factor))
      break;
    bool fromSum = llvm::all_of(inner.getOperands(), [&](Value operand) {
      return mapping.contains(operand) ||
             operand.getParentBlock() != body; // defined above the op
    });
    if (fromSum)
      b.clone(inner, mapping);
  }
  return mapping.lookup(norm.factor);
}

/// Whether `op` (or an op in its regions) uses `buffer` or a view of it.
bool usesBuffer(Operation *op, Value buffer) {
  WalkResult found = op->walk([&](Operation *inner) {
    for (Value operand : inner->getOperands())
      if (llamac::rootOf(operand) == buffer)
        return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return found.wasInterrupted();
}

/// The last op before `op` in its block that uses `buffer`, or null.
Operation *previousUser(Value buffer, Operation *op) {
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode())
    if (usesBuffer(prev, buffer))
      return prev;
  return nullptr;
}

/// Whether `buffer`'s contents are not read after `op`: the next op that
/// uses it deallocates it or overwrites every element without reading it.
bool deadAfter(Value buffer, Operation *op) {
  for (Operation *next = op->getNextNode(); next; next = next->getNextNode()) {
    if (!usesBuffer(next, buffer))
      continue;
    if (isa<memref::DeallocOp>(next))
      return true;
    auto writer = dyn_cast<linalg::LinalgOp>(next);
    if (!writer || writer.getNumDpsInits() != 1 ||
        writer.getDpsInitOperand(0)->get() != buffer ||
        writer.payloadUsesValueFromOperand(writer.getDpsInitOperand(0)) ||
        writer.getNumReductionLoops() != 0 ||
        !writer.getMatchingIndexingMap(writer.getDpsInitOperand(0))
             .isPermutation())
      return false;
    return llvm::none_of(writer.getDpsInputOperands(), [&](OpOperand *in) {
      return llamac::rootOf(in->get()) == buffer;
    });
  }
  return true;
}

/// Whether `value` (in `body`) is computed from `arg` and values defined
/// outside `body` alone.
bool computedFrom(Value value, BlockArgument arg, Block *body) {
  if (value == arg || value.getParentBlock() != body)
    return true;
  Operation *def = value.getDefiningOp();
  return def && def->getNumRegions() == 0 &&
         llvm::all_of(def->getOperands(), [&](Value operand) {
           return computedFrom(operand, arg, body);
         });
}

std::optional<NormScale>
normScaleOf(linalg::LinalgOp dot, const LaunchPlan &plan,
            const llvm::DenseMap<Operation *, LaunchPlan> &plans) {
  if (!plan.warpReduction || !plan.dot || plan.tensorCore ||
      plan.dot->lhs == plan.dot->rhs)
    return std::nullopt;
  bool lhsIsWeights = llamac::isModelWeights(plan.dot->lhs->get());
  if (lhsIsWeights == llamac::isModelWeights(plan.dot->rhs->get()))
    return std::nullopt;
  OpOperand *normed = lhsIsWeights ? plan.dot->rhs : plan.dot->lhs;
  Value normedBuffer = normed->get();
  if (!normedBuffer.getDefiningOp<memref::AllocOp>())
    return std::nullopt;
  // The norm's scaling: x * f(s), elementwise, by identity maps.
  auto scaling =
      dyn_cast_or_null<linalg::LinalgOp>(previousUser(normedBuffer, dot));
  MLIRContext *ctx = dot.getContext();
  if (!scaling || scaling.getNumDpsInputs() != 2 ||
      scaling.getNumDpsInits() != 1 ||
      scaling.getDpsInitOperand(0)->get() != normedBuffer ||
      scaling.getNumLoops() != 3 || scaling.getNumReductionLoops() != 0 ||
      scaling.getIndexingMapsArray() !=
          SmallVector<AffineMap>{
              AffineMap::getMultiDimIdentityMap(3, ctx),
              AffineMap::getMultiDimMapWithTargets(3, {0, 1}, ctx),
              AffineMap::getMultiDimIdentityMap(3, ctx)})
    return std::nullopt;
  Block *body = scaling.getBlock();
  BlockArgument xArg = body->getArgument(0), sumArg = body->getArgument(1);
  Value result = cast<linalg::YieldOp>(body->getTerminator()).getOperand(0);
  if (auto trunc = result.getDefiningOp<arith::TruncFOp>())
    result = trunc.getIn();
  auto mul = result.getDefiningOp<arith::MulFOp>();
  if (!mul || mul->getBlock() != body)
    return std::nullopt;
  Value factor = mul.getLhs() == xArg ? mul.getRhs() : mul.getLhs();
  if ((mul.getLhs() != xArg && mul.getRhs() != xArg) || factor == xArg ||
      !computedFrom(factor, sumArg, body))
    return std::nullopt;
  Value x = scaling.getDpsInputOperand(0)->get();
  Value sums = scaling.getDpsInputOperand(1)->get();
  if (!sums.getDefiningOp<memref::AllocOp>())
    return std::nullopt;
  // The sum of squares: a dot of x with itself along the row, from zero.
  auto squares =
      dyn_cast_or_null<linalg::LinalgOp>(previousUser(sums, scaling));
  auto squaresPlan = squares ? plans.find(squares) : plans.end();
  if (squaresPlan == plans.end())
    return std::nullopt;
  const LaunchPlan &sp = squaresPlan->second;
  if (!sp.warpReduction || !sp.dot || sp.dot->lhs != sp.dot->rhs ||
      sp.dot->lhs->get() != x || !sp.initIsIdentity ||
      squares.getNumDpsInputs() != 1 ||
      squares.getDpsInitOperand(0)->get() != sums ||
      squares.getIndexingMapsArray() !=
          SmallVector<AffineMap>{
              AffineMap::getMultiDimIdentityMap(3, ctx),
              AffineMap::getMultiDimMapWithTargets(3, {0, 1}, ctx)})
    return std::nullopt;
  // x unchanged from the squares to the dot, which does not write it; the
  // norm's buffers not read after the dot.
  Value xRoot = llamac::rootOf(x);
  auto writesX = [&](linalg::LinalgOp op) {
    return llvm::any_of(op.getDpsInitsMutable(), [&](OpOperand &init) {
      return llamac::rootOf(init.get()) == xRoot;
    });
  };
  for (Operation *op = squares->getNextNode(); op != dot.getOperation();
       op = op->getNextNode()) {
    if (op == scaling.getOperation() || isMemoryEffectFree(op) ||
        isa<memref::AllocOp, memref::DeallocOp>(op) || llamac::isMemRefView(op))
      continue;
    auto other = dyn_cast<linalg::LinalgOp>(op);
    if (!other || writesX(other))
      return std::nullopt;
  }
  if (writesX(dot) || !deadAfter(normedBuffer, dot) ||
      !deadAfter(sums, scaling))
    return std::nullopt;
  NormScale norm{squares, scaling, {}, {normed, x}, sumArg, factor};
  // The norm's output in f32 (f32 weights): the GEMV reads x itself.
  Type element = cast<MemRefType>(normedBuffer.getType()).getElementType();
  if (element == cast<MemRefType>(x.getType()).getElementType())
    return norm;
  // Else x's writer: the last op before the squares that writes it, a GEMV
  // (warp per output, not on tensor cores) whose output x is, all of it;
  // the ops between only read x.
  linalg::LinalgOp producer;
  for (Operation *op = squares->getPrevNode(); op && !producer;
       op = op->getPrevNode()) {
    if (!usesBuffer(op, xRoot) || isa<memref::DeallocOp>(op))
      continue;
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (!linalgOp)
      return std::nullopt;
    if (!writesX(linalgOp))
      continue; // a reader
    producer = linalgOp;
  }
  auto producerPlan = producer ? plans.find(producer) : plans.end();
  auto xType = cast<MemRefType>(x.getType());
  if (producerPlan == plans.end() || !producerPlan->second.warpReduction ||
      !producerPlan->second.dot || producerPlan->second.tensorCore ||
      producer.getNumDpsInits() != 1 ||
      producer.getDpsInitOperand(0)->get() != x ||
      !xType.getLayout().isIdentity() || !xType.getElementType().isF32())
    return std::nullopt;
  AffineMap outMap =
      producer.getMatchingIndexingMap(producer.getDpsInitOperand(0));
  if (!outMap.isProjectedPermutation() ||
      outMap.getNumResults() != xType.getRank() ||
      producerPlan->second.threadDims.size() != size_t(xType.getRank()))
    return std::nullopt;
  norm.producer = producer;
  return norm;
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
  /// The dot's norm, if it applies one (NormScale).
  const NormScale *norm = nullptr;
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
  llamac::WarpPlace place = llamac::placeWarp(b, loc, launch, block, total);
  Value lane = place.lane, flat = place.flat, inRange = place.inRange;
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
  const NormScale *norm = epilogue.norm;
  SmallVector<Value> sums =
      emitWarpSums(b, loc, dot, *plan.warpReduction, plan.dot, /*parts=*/1,
                   lane, c0, inRange, rowIvs, /*serialDims=*/{}, /*sizes=*/{},
                   /*weightsEarly=*/true, norm ? &norm->input : nullptr);
  Value isLane0 =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, c0);
  auto store =
      scf::IfOp::create(b, loc, arith::AndIOp::create(b, loc, inRange, isLane0),
                        /*withElseRegion=*/false);
  b.setInsertionPointToStart(&store.getThenRegion().front());
  Value factor = norm ? emitNormFactor(b, *norm, sums.back()) : Value();
  IRMapping given;
  for (auto [read, sum] : llvm::zip(epilogue.reads, sums))
    given.map(op.getBlock()->getArgument(read.first->getOperandNumber()),
              factor ? arith::MulFOp::create(b, loc, sum, factor) : sum);
  emitBody(b, loc, op, ivs, given);
}

LogicalResult mapToLaunch(linalg::LinalgOp op, const LaunchPlan &plan,
                          KernelNamer &namer, const RowReduction *row = nullptr,
                          const DotEpilogue *epilogue = nullptr,
                          const NormScale *norm = nullptr,
                          Value shadow = nullptr,
                          const llamac::PairedEpilogue *paired = nullptr) {
  if (!op.hasPureBufferSemantics())
    return op->emitOpError("is not on buffers; bufferize before "
                           "llama-map-to-gpu");
  if (plan.tensorCore) {
    llamac::emitTensorCoreLinear(op, *plan.tensorCore, plan.initIsIdentity,
                                 namer, paired);
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
    emitWarpReduction(
        b, loc, op, *warpReduction, dot, plan.parts, plan.initIsIdentity,
        launch, block, total, threadDims, serialDims, sizes,
        norm ? &norm->input : nullptr,
        [&](OpBuilder &nb, Value sum) {
          return emitNormFactor(nb, *norm, sum);
        },
        shadow);
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

/// Whether a consumer may compute `producer`'s outputs itself instead of
/// reading them (RowReduction, DotEpilogue): a warp reduction with vector
/// loads, not on tensor cores, whose output is a temporary that it fills
/// (the identity fill folded away).
bool isReaderComputable(linalg::LinalgOp producer, const LaunchPlan &plan) {
  return plan.warpReduction && plan.dot && !plan.tensorCore &&
         plan.initIsIdentity &&
         producer.getDpsInitOperand(0)->get().getDefiningOp<memref::AllocOp>();
}

/// Whether `consumer` can compute `producer`'s outputs where it reads them:
/// an elementwise op (a thread per element, no loops of its own) after the
/// producer in its block, with nothing between them that touches memory
/// but allocations and fills of buffers allocated after the producer (so
/// what the producer reads keeps its values until the consumer runs).
bool mayComputeInReader(linalg::LinalgOp producer, linalg::LinalgOp consumer,
                        const llvm::DenseMap<Operation *, LaunchPlan> &plans) {
  auto plan = plans.find(consumer);
  if (plan == plans.end() || plan->second.warpReduction ||
      !plan->second.serialDims.empty() ||
      consumer->getBlock() != producer->getBlock() ||
      !producer->isBeforeInBlock(consumer))
    return false;
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

/// The reads of `producer`'s output (the whole, or views of it at static
/// offsets, unit strides, its rank) if one op reads it all, as that op's
/// inputs, each with its view's offsets; null if none or another use.
linalg::LinalgOp soleReaderOf(
    linalg::LinalgOp producer,
    SmallVectorImpl<std::pair<OpOperand *, SmallVector<int64_t>>> &reads) {
  Value output = producer.getDpsInitOperand(0)->get();
  unsigned rank = cast<MemRefType>(output.getType()).getRank();
  linalg::LinalgOp consumer;
  // Every other use: a view of a run of rows (or the whole) that one input
  // of the consumer reads.
  auto addRead = [&](OpOperand &use, SmallVector<int64_t> offsets) {
    auto reader = dyn_cast<linalg::LinalgOp>(use.getOwner());
    if (!reader || !reader.isDpsInput(&use) || (consumer && reader != consumer))
      return false;
    consumer = reader;
    reads.push_back({&use, std::move(offsets)});
    return true;
  };
  for (OpOperand &use : output.getUses()) {
    Operation *user = use.getOwner();
    if (user == producer || isa<linalg::FillOp, memref::DeallocOp>(user))
      continue;
    if (auto view = dyn_cast<memref::SubViewOp>(user)) {
      if (view.getType().getRank() != rank || !view->hasOneUse() ||
          llvm::any_of(view.getStaticOffsets(), ShapedType::isDynamic) ||
          llvm::any_of(view.getStaticStrides(),
                       [](int64_t stride) { return stride != 1; }) ||
          !addRead(*view->getUses().begin(),
                   llvm::to_vector(view.getStaticOffsets())))
        return nullptr;
      continue;
    }
    if (!addRead(use, SmallVector<int64_t>(rank, 0)))
      return nullptr;
  }
  // In the consumer's operand order.
  llvm::sort(reads, [](const auto &a, const auto &b) {
    return a.first->getOperandNumber() < b.first->getOperandNumber();
  });
  return consumer;
}

/// Whether `consumer`, computed where `producer` writes, writes nothing that
/// the producer reads (its threads would race with the producer's).
bool writesNoInputOf(linalg::LinalgOp consumer, linalg::LinalgOp producer) {
  for (OpOperand &init : consumer.getDpsInitsMutable())
    for (OpOperand *input : producer.getDpsInputOperands())
      if (llamac::rootOf(init.get()) == llamac::rootOf(input->get()))
        return false;
  return true;
}

/// The elementwise op that can compute `dot`'s rows itself (see
/// DotEpilogue), with its reads of them; nullopt if none.
std::optional<DotEpilogue>
dotEpilogueReader(linalg::LinalgOp dot, const LaunchPlan &plan,
                  const llvm::DenseMap<Operation *, LaunchPlan> &plans) {
  if (!isReaderComputable(dot, plan) || plan.parts != 1)
    return std::nullopt;
  Value output = dot.getDpsInitOperand(0)->get();
  unsigned rank = cast<MemRefType>(output.getType()).getRank();
  DotEpilogue epilogue{dot, &plan, {}, {}};
  linalg::LinalgOp consumer = soleReaderOf(dot, epilogue.reads);
  // (The reads in the consumer's operand order: the order of the warp's
  // rows.)
  if (!consumer || !mayComputeInReader(dot, consumer, plans) ||
      consumer.getNumLoops() != rank || !writesNoInputOf(consumer, dot))
    return std::nullopt;
  const LaunchPlan &consumerPlan = plans.at(consumer);
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

/// The elementwise op that a wgmma GEMM's epilogue can compute (see
/// llamac::PairedEpilogue): it alone reads the GEMM's output, two views of
/// its column halves, each by the identity; nullopt if none.
std::optional<llamac::PairedEpilogue>
pairedEpilogueReader(linalg::LinalgOp gemm, const LaunchPlan &plan,
                     const llvm::DenseMap<Operation *, LaunchPlan> &plans) {
  const std::optional<llamac::TensorCoreLinear> &linear = plan.tensorCore;
  OpOperand *init = gemm.getDpsInitOperand(0);
  if (!linear || !plan.initIsIdentity ||
      !init->get().getDefiningOp<memref::AllocOp>() ||
      !llamac::canPairEpilogue(*linear, linear->cols / 2))
    return std::nullopt;
  auto outputType = cast<MemRefType>(init->get().getType());
  unsigned rank = outputType.getRank();
  AffineMap outMap = gemm.getMatchingIndexingMap(init);
  if (!outMap.isProjectedPermutation() || outMap.getNumResults() != rank)
    return std::nullopt;
  SmallVector<std::pair<OpOperand *, SmallVector<int64_t>>> reads;
  linalg::LinalgOp consumer = soleReaderOf(gemm, reads);
  if (!consumer || reads.size() != 2 || consumer.getNumLoops() != rank ||
      !mayComputeInReader(gemm, consumer, plans) ||
      !writesNoInputOf(consumer, gemm))
    return std::nullopt;
  llamac::PairedEpilogue paired{
      consumer, nullptr, nullptr, linear->cols / 2, {}};
  for (unsigned i = 0; i < rank; ++i)
    paired.outputDims.push_back(outMap.getDimPosition(i));
  // The output's dimension that the columns index: the views take half of
  // it each and the whole of every other.
  unsigned colDim = llvm::find(paired.outputDims, linear->colDims.front()) -
                    paired.outputDims.begin();
  SmallVector<int64_t> sizes = consumer.getStaticLoopRanges();
  for (unsigned i = 0; i < rank; ++i)
    if (sizes[i] != (i == colDim ? paired.half : outputType.getDimSize(i)))
      return std::nullopt;
  for (auto &[read, offsets] : reads) {
    if (!consumer.getMatchingIndexingMap(read).isIdentity() ||
        llvm::any_of(llvm::seq(rank), [&, &offsets = offsets](unsigned i) {
          return i != colDim && offsets[i] != 0;
        }))
      return std::nullopt;
    if (offsets[colDim] == 0 && !paired.first)
      paired.first = read;
    else if (offsets[colDim] == paired.half && !paired.second)
      paired.second = read;
    else
      return std::nullopt;
  }
  return paired;
}

/// The elementwise op that can compute `reduction`'s rows itself (see
/// RowReduction), with its input that reads them; null if none.
OpOperand *
rowReductionReader(linalg::LinalgOp reduction, const LaunchPlan &plan,
                   const llvm::DenseMap<Operation *, LaunchPlan> &plans) {
  if (!isReaderComputable(reduction, plan) || plan.parts > kWarpsPerBlock)
    return nullptr;
  // Its output, read once.
  Value output = reduction.getDpsInitOperand(0)->get();
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
  if (!consumer || !consumer.isDpsInput(read) ||
      !mayComputeInReader(reduction, consumer, plans))
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

/// Erases `temporary`, an allocation, with its views and dealloc, where
/// nothing else uses it any more.
void eraseUnusedTemporary(Value temporary) {
  for (Operation *user : llvm::make_early_inc_range(temporary.getUsers()))
    if (llamac::isMemRefView(user) && user->use_empty())
      user->erase();
  if (!llvm::all_of(temporary.getUsers(), llvm::IsaPred<memref::DeallocOp>))
    return;
  for (Operation *user : llvm::make_early_inc_range(temporary.getUsers()))
    user->erase();
  temporary.getDefiningOp()->erase();
}

/// Erases `producer`, which its reader computed itself, and its temporary
/// output (with its views and dealloc) where nothing else uses it.
void eraseComputedInReader(linalg::LinalgOp producer) {
  Value temporary = producer.getDpsInitOperand(0)->get();
  producer->erase();
  eraseUnusedTemporary(temporary);
}

struct LlamaMapToGPU : public llamac::impl::LlamaMapToGPUBase<LlamaMapToGPU> {
  using LlamaMapToGPUBase::LlamaMapToGPUBase;

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
      if (plan.tensorCore && wgmma) {
        plan.tensorCore->wgmma =
            getElementTypeOrSelf(plan.tensorCore->activations->get()).isBF16();
        plan.tensorCore->tma = plan.tensorCore->wgmma && tma;
      }
      if (linalg::FillOp fill = identityFillBefore(op, plan)) {
        folded.insert(fill);
        plan.initIsIdentity = true;
      }
    }
    llvm::DenseSet<Operation *> readerComputes;
    // Norms that the GEMV reading them applies itself: not launched.
    llvm::DenseMap<Operation *, NormScale> normScales; // by GEMV
    llvm::DenseMap<Operation *, Value> shadows;        // by producer
    // The kernel that reads each copy of x: the GEMV's, or its reader's.
    llvm::DenseMap<Operation *, Operation *> copyReaders; // by GEMV
    for (linalg::LinalgOp op : ops)
      if (std::optional<NormScale> norm = normScaleOf(op, plans[op], plans)) {
        readerComputes.insert(norm->squares);
        readerComputes.insert(norm->scaling);
        if (norm->producer) {
          // x rounded as the norm's output was, allocated before its
          // producer (freed after its last reader, below).
          OpBuilder b(norm->producer);
          auto xType = cast<MemRefType>(norm->input.input.getType());
          auto alloc = memref::AllocOp::create(
              b, norm->producer.getLoc(),
              MemRefType::get(xType.getShape(),
                              getElementTypeOrSelf(norm->input.normed->get())),
              b.getI64IntegerAttr(64));
          norm->input.input = alloc;
          shadows[norm->producer] = alloc;
          copyReaders[op] = op;
        }
        normScales[op] = *norm;
      }
    // Reductions whose reader computes their rows itself: not launched.
    llvm::DenseMap<Operation *, RowReduction> rowReductions; // by reader
    for (linalg::LinalgOp op : ops)
      if (readerComputes.contains(op))
        continue;
      else if (OpOperand *read = rowReductionReader(op, plans[op], plans)) {
        rowReductions[read->getOwner()] = RowReduction{op, &plans[op], read};
        readerComputes.insert(op);
      }
    // GEMVs whose reader computes their rows itself: not launched either.
    llvm::DenseMap<Operation *, DotEpilogue> dotEpilogues; // by reader
    for (linalg::LinalgOp op : ops) {
      // (A producer of a copy of x stores it from its own kernel.)
      if (readerComputes.contains(op) || shadows.contains(op))
        continue;
      std::optional<DotEpilogue> epilogue =
          dotEpilogueReader(op, plans[op], plans);
      if (!epilogue)
        continue;
      Operation *reader = epilogue->reads.front().first->getOwner();
      if (rowReductions.contains(reader) || dotEpilogues.contains(reader) ||
          readerComputes.contains(reader))
        continue;
      auto norm = normScales.find(op);
      if (norm != normScales.end()) {
        epilogue->norm = &norm->second;
        if (copyReaders.contains(op))
          copyReaders[op] = reader;
      }
      dotEpilogues[reader] = std::move(*epilogue);
      readerComputes.insert(op);
    }
    // GEMMs whose epilogue computes their output's only reader (SwiGLU's
    // halves): the reader is no kernel of its own, the output no buffer.
    llvm::DenseMap<Operation *, llamac::PairedEpilogue> pairedEpilogues;
    llvm::DenseSet<Operation *> producerComputes; // the readers
    for (linalg::LinalgOp op : ops) {
      if (readerComputes.contains(op) || producerComputes.contains(op))
        continue;
      std::optional<llamac::PairedEpilogue> paired =
          pairedEpilogueReader(op, plans[op], plans);
      if (!paired)
        continue;
      Operation *reader = paired->consumer;
      if (readerComputes.contains(reader) || rowReductions.contains(reader) ||
          dotEpilogues.contains(reader) || shadows.contains(reader) ||
          producerComputes.contains(reader) || pairedEpilogues.contains(reader))
        continue;
      producerComputes.insert(reader);
      pairedEpilogues[op] = std::move(*paired);
    }
    // Each copy of x freed after the kernel that reads it.
    for (auto &[dot, reader] : copyReaders) {
      OpBuilder b(reader->getContext());
      b.setInsertionPointAfter(reader);
      memref::DeallocOp::create(b, reader->getLoc(),
                                normScales.at(dot).input.input);
    }
    KernelNamer namer;
    for (linalg::LinalgOp op : ops) {
      if (folded.contains(op)) {
        op->erase();
        continue;
      }
      if (readerComputes.contains(op) || producerComputes.contains(op))
        continue;
      auto paired = pairedEpilogues.find(op);
      Value pairedOutput;
      if (paired != pairedEpilogues.end()) {
        // The kernel writes the reader's output: it runs where the reader
        // did (nothing between touches what it reads, mayComputeInReader).
        op->moveBefore(paired->second.consumer);
        pairedOutput = op.getDpsInitOperand(0)->get();
      }
      auto row = rowReductions.find(op);
      auto epilogue = dotEpilogues.find(op);
      auto norm = normScales.find(op);
      if (failed(mapToLaunch(
              op, plans[op], namer,
              row == rowReductions.end() ? nullptr : &row->second,
              epilogue == dotEpilogues.end() ? nullptr : &epilogue->second,
              norm == normScales.end() ? nullptr : &norm->second,
              shadows.lookup(op),
              paired == pairedEpilogues.end() ? nullptr : &paired->second)))
        return signalPassFailure();
      if (pairedOutput) {
        paired->second.consumer->erase();
        eraseUnusedTemporary(pairedOutput);
      }
      if (row != rowReductions.end())
        eraseComputedInReader(row->second.reduction);
      const NormScale *applied =
          norm != normScales.end() ? &norm->second : nullptr;
      if (epilogue != dotEpilogues.end()) {
        applied = epilogue->second.norm;
        eraseComputedInReader(epilogue->second.dot);
      }
      if (applied) {
        eraseComputedInReader(applied->scaling);
        eraseComputedInReader(applied->squares);
      }
    }
    SmallVector<llama::FlashAttentionOp> attentions;
    module.walk([&](llama::FlashAttentionOp op) { attentions.push_back(op); });
    for (llama::FlashAttentionOp op : attentions)
      if (failed(llamac::mapFlashAttentionToGPU(op, namer, clusters,
                                                bf16Attention)))
        return signalPassFailure();
    SmallVector<llama::TopKRowsOp> selections;
    module.walk([&](llama::TopKRowsOp op) { selections.push_back(op); });
    for (llama::TopKRowsOp op : selections)
      if (failed(llamac::mapTopKToGPU(op, namer)))
        return signalPassFailure();
    SmallVector<llama::SampleRowsOp> draws;
    module.walk([&](llama::SampleRowsOp op) { draws.push_back(op); });
    for (llama::SampleRowsOp op : draws)
      if (failed(llamac::mapSampleToGPU(op, namer)))
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

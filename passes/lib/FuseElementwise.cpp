//===- FuseElementwise.cpp - elementwise chains as one op -------*- C++ -*-===//
//
// Two elementwise ops in a row, the first read by nothing else, are two
// kernels on a GPU and a round trip of the intermediate through memory:
// RoPE of the new key, then its copy (a transpose) into the KV cache. As
// one op the consumer computes the producer's value where it reads it.
// Whole-tensor reshapes between them (the attention's split of the merged
// q/k/v row into kv heads) become the consumer's indexing map, so that the
// two meet. Only elementwise consumers take a producer: folding an
// elementwise op into a reduction (a linear layer) would recompute it once
// per output row.
//
//===----------------------------------------------------------------------===//
#include "LinalgIndexing.h"
#include "llamac/passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAFUSEELEMENTWISE
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

bool isAllParallel(linalg::LinalgOp op) {
  return op.getNumLoops() == op.getNumParallelLoops();
}

/// The first input of an elementwise linalg op on tensors that a
/// sole elementwise producer can fuse into.
OpOperand *fusableInput(linalg::LinalgOp consumer) {
  if (!consumer.hasPureTensorSemantics() || !isAllParallel(consumer))
    return nullptr;
  for (OpOperand *input : consumer.getDpsInputOperands())
    if (llamac::soleElementwiseProducer(input->get()) &&
        (!isa<linalg::GenericOp>(consumer) ||
         linalg::areElementwiseOpsFusable(input)))
      return input;
  return nullptr;
}

/// Whether `slice` takes all of a statically shaped tensor (dropping unit
/// dims at most): its elements in row-major order are the source's.
bool takesWhole(tensor::ExtractSliceOp slice) {
  auto type = cast<RankedTensorType>(slice.getSource().getType());
  return type.hasStaticShape() && slice.getStaticSizes() == type.getShape() &&
         llvm::all_of(slice.getStaticOffsets(),
                      [](int64_t o) { return o == 0; }) &&
         llvm::all_of(slice.getStaticStrides(),
                      [](int64_t s) { return s == 1; });
}

/// `expand_shape(extract_slice(x))` that gives back all of `x` in its own
/// shape (the attention's per-sequence slice of a one-sequence batch, and
/// its heads split out again): `x`, so that x's producer and the reader
/// meet.
struct FoldWholeReshapeRoundTrip : OpRewritePattern<tensor::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(tensor::ExpandShapeOp expand,
                                PatternRewriter &rewriter) const override {
    auto slice = expand.getSrc().getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice)
      return rewriter.notifyMatchFailure(expand, "not of an extract_slice");
    Value whole = slice.getSource();
    if (expand.getType() != whole.getType() || !takesWhole(slice))
      return rewriter.notifyMatchFailure(expand, "not the whole tensor back");
    rewriter.replaceOp(expand, whole);
    return success();
  }
};

/// `op` as a linalg.generic: itself, or a named op generalized in place.
FailureOr<linalg::GenericOp> generalized(PatternRewriter &rewriter,
                                         linalg::LinalgOp op) {
  if (auto generic = dyn_cast<linalg::GenericOp>(op.getOperation()))
    return generic;
  return linalg::generalizeNamedOp(rewriter, op);
}

/// The tensor that `value` reshapes through single-use whole-tensor
/// reshapes (expand_shape, collapse_shape, extract_slice of all of it),
/// whose row-major elements are value's; null where there is none.
Value wholeReshapeSource(Value value) {
  Value source;
  for (Value v = value; v.hasOneUse();) {
    Operation *op = v.getDefiningOp();
    if (auto expand = dyn_cast_or_null<tensor::ExpandShapeOp>(op))
      v = expand.getSrc();
    else if (auto collapse = dyn_cast_or_null<tensor::CollapseShapeOp>(op))
      v = collapse.getSrc();
    else if (auto slice = dyn_cast_or_null<tensor::ExtractSliceOp>(op);
             slice && takesWhole(slice))
      v = slice.getSource();
    else
      break;
    source = v;
  }
  auto type = source ? dyn_cast<RankedTensorType>(source.getType())
                     : RankedTensorType();
  return type && type.hasStaticShape() ? source : Value();
}

/// The index into a dim of `size` elements and `stride` (row-major) of the
/// element at linear index sum(coefficients[d] * d) over loops of `ranges`
/// trips: sum((coefficients[d] / stride) mod size * d) where the other
/// terms stay under one stride and the sum under `size`, as the loop
/// ranges bound them; null where they do not.
AffineExpr boundedIndex(ArrayRef<int64_t> coefficients,
                        ArrayRef<int64_t> ranges, int64_t stride, int64_t size,
                        MLIRContext *context) {
  int64_t below = 0, within = 0;
  AffineExpr index = getAffineConstantExpr(0, context);
  for (auto [d, coefficient] : llvm::enumerate(coefficients)) {
    if (coefficient % stride) {
      below += coefficient * (ranges[d] - 1);
      continue;
    }
    int64_t wrapped = coefficient / stride % size;
    within += wrapped * (ranges[d] - 1);
    index = index + getAffineDimExpr(d, context) * wrapped;
  }
  return below < stride && within < size ? index : AffineExpr();
}

/// `map`, which indexes a tensor of shape `from`, as the map that indexes
/// the same elements in a tensor of shape `to` (a row-major reshape of
/// it): linearized, then split by `to`'s strides, each index simplified
/// by the loops' static `ranges` where map's indices are loops.
AffineMap reindexAcrossReshape(AffineMap map, ArrayRef<int64_t> from,
                               ArrayRef<int64_t> to, ArrayRef<int64_t> ranges) {
  if (from == to)
    return map;
  MLIRContext *context = map.getContext();
  // The linear index as a sum of loops times coefficients, where each of
  // map's indices is a loop (or a loop of one trip: 0).
  SmallVector<int64_t> coefficients(map.getNumDims(), 0);
  bool linearInLoops = true;
  AffineExpr linear = getAffineConstantExpr(0, context);
  int64_t stride = 1;
  for (int i = from.size() - 1; i >= 0; --i) {
    AffineExpr index = map.getResult(i);
    linear = linear + index * stride;
    if (auto dim = dyn_cast<AffineDimExpr>(index))
      coefficients[dim.getPosition()] +=
          ranges[dim.getPosition()] == 1 ? 0 : stride;
    else if (!isa<AffineConstantExpr>(index) ||
             cast<AffineConstantExpr>(index).getValue() != 0)
      linearInLoops = false;
    stride *= from[i];
  }
  SmallVector<AffineExpr> results(to.size());
  stride = 1;
  for (int i = to.size() - 1; i >= 0; --i) {
    AffineExpr bounded = linearInLoops ? boundedIndex(coefficients, ranges,
                                                      stride, to[i], context)
                                       : AffineExpr();
    results[i] = bounded ? bounded : linear.floorDiv(stride) % to[i];
    results[i] = simplifyAffineExpr(results[i], map.getNumDims(), 0);
    stride *= to[i];
  }
  return AffineMap::get(map.getNumDims(), 0, results, context);
}

/// An elementwise linalg op reading, through whole-tensor reshapes, what a
/// sole elementwise producer computes (the new key's RoPE over the merged
/// q/k/v row, its heads split out for the cache's transpose): the op reads
/// the producer's tensor itself through a reindexing map, so that the two
/// meet and fuse (a named op generalized first).
struct ReadThroughReshapes : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;
  static OpOperand *reshapedInput(linalg::LinalgOp op) {
    for (OpOperand *input : op.getDpsInputOperands())
      if (Value source = wholeReshapeSource(input->get());
          source && llamac::soleElementwiseProducer(source))
        return input;
    return nullptr;
  }
  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || !isAllParallel(op) ||
        !reshapedInput(op))
      return rewriter.notifyMatchFailure(op, "reads no reshaped producer");
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return rewriter.notifyMatchFailure(op, "dynamic loops");
    FailureOr<linalg::GenericOp> asGeneric = generalized(rewriter, op);
    if (failed(asGeneric))
      return failure();
    linalg::GenericOp generic = *asGeneric;
    OpOperand *input = reshapedInput(generic);
    Value source = wholeReshapeSource(input->get());
    SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
    AffineMap &map = maps[input->getOperandNumber()];
    map = reindexAcrossReshape(
        map, cast<RankedTensorType>(input->get().getType()).getShape(),
        cast<RankedTensorType>(source.getType()).getShape(), ranges);
    rewriter.modifyOpInPlace(generic, [&] {
      generic.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
      input->set(source);
    });
    return success();
  }
};

/// A linalg op with an input that a sole elementwise producer computes:
/// the two as one generic (a named consumer generalized first).
struct FuseSoleProducer : OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;
  LogicalResult matchAndRewrite(linalg::LinalgOp consumer,
                                PatternRewriter &rewriter) const override {
    if (!fusableInput(consumer))
      return rewriter.notifyMatchFailure(consumer, "nothing to fuse");
    // Named elementwise ops (the cache's transposes) as generics first.
    bool named = !isa<linalg::GenericOp>(consumer);
    FailureOr<linalg::GenericOp> generic = generalized(rewriter, consumer);
    if (failed(generic))
      return failure();
    consumer = *generic;
    // A change made (the generalization) is success even where no fusion
    // follows; an unchanged op must fail, or the driver would loop.
    OpOperand *input = fusableInput(consumer);
    if (!input)
      return success(named);
    Operation *producer = input->get().getDefiningOp();
    FailureOr<linalg::ElementwiseOpFusionResult> fused =
        linalg::fuseElementwiseOps(rewriter, input);
    if (failed(fused))
      return success(named);
    for (auto [old, replacement] : fused->replacements)
      rewriter.replaceUsesWithIf(old, replacement, [&](OpOperand &use) {
        return use.getOwner() != producer;
      });
    rewriter.eraseOp(consumer);
    rewriter.eraseOp(producer);
    return success();
  }
};

struct LlamaFuseElementwise
    : public llamac::impl::LlamaFuseElementwiseBase<LlamaFuseElementwise> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns
        .add<FoldWholeReshapeRoundTrip, ReadThroughReshapes, FuseSoleProducer>(
            &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

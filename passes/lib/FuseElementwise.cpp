//===- FuseElementwise.cpp - elementwise chains as one op -------*- C++ -*-===//
//
// Two elementwise ops in a row, the first read by nothing else, are two
// kernels on a GPU and a round trip of the intermediate through memory:
// RoPE of the new key, then its copy (a transpose) into the KV cache (where
// nothing but a whole-tensor reshape round trip stands between them: one
// kv head; several split the heads out, and the two stay apart). As one
// op the consumer computes the producer's value where it reads it. Only
// elementwise consumers take a producer: folding an elementwise op into a
// reduction (a linear layer) would recompute it once per output row.
//
//===----------------------------------------------------------------------===//
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

/// The elementwise generic, read by `operand`'s owner alone, that computes
/// the tensor `operand` reads.
linalg::GenericOp soleElementwiseProducer(OpOperand &operand) {
  auto producer = operand.get().getDefiningOp<linalg::GenericOp>();
  if (!producer || !isAllParallel(producer) || producer->getNumResults() != 1 ||
      !producer->getResult(0).hasOneUse())
    return {};
  return producer;
}

/// The first input of an elementwise linalg op on tensors that a
/// sole elementwise producer can fuse into.
OpOperand *fusableInput(linalg::LinalgOp consumer) {
  if (!consumer.hasPureTensorSemantics() || !isAllParallel(consumer))
    return nullptr;
  for (OpOperand *input : consumer.getDpsInputOperands())
    if (soleElementwiseProducer(*input) &&
        (!isa<linalg::GenericOp>(consumer) ||
         linalg::areElementwiseOpsFusable(input)))
      return input;
  return nullptr;
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
    auto type = cast<RankedTensorType>(whole.getType());
    if (expand.getType() != type || !type.hasStaticShape() ||
        slice.getStaticSizes() != type.getShape() ||
        !llvm::all_of(slice.getStaticOffsets(),
                      [](int64_t o) { return o == 0; }) ||
        !llvm::all_of(slice.getStaticStrides(),
                      [](int64_t s) { return s == 1; }))
      return rewriter.notifyMatchFailure(expand, "not the whole tensor back");
    rewriter.replaceOp(expand, whole);
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
    bool generalized = !isa<linalg::GenericOp>(consumer);
    if (generalized) {
      FailureOr<linalg::GenericOp> generic =
          linalg::generalizeNamedOp(rewriter, consumer);
      if (failed(generic))
        return failure();
      consumer = *generic;
    }
    // A change made (the generalization) is success even where no fusion
    // follows; an unchanged op must fail, or the driver would loop.
    OpOperand *input = fusableInput(consumer);
    if (!input)
      return success(generalized);
    Operation *producer = input->get().getDefiningOp();
    FailureOr<linalg::ElementwiseOpFusionResult> fused =
        linalg::fuseElementwiseOps(rewriter, input);
    if (failed(fused))
      return success(generalized);
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
    patterns.add<FoldWholeReshapeRoundTrip, FuseSoleProducer>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

//===- FuseElementwise.cpp - elementwise chains as one op -------*- C++ -*-===//
//
// Two elementwise ops in a row, the first read by nothing else, are two
// kernels on a GPU and a round trip of the intermediate through memory:
// RoPE of the new key, then its copy (a transpose) into the KV cache. As one
// op the consumer computes the producer's value where it reads it.
// Elementwise consumers take any such producer. A linear layer over one
// row (decode) takes one whose work along the row is a few multiplies (the
// RMSNorm's scaling: the sum of squares' rsqrt is the same for the whole
// row): it is then recomputed for every output row, which costs FMAs the
// memory-bound GEMV has to spare and saves a kernel and a round trip.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

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

/// Whether the values `producer` computes from what varies along its loop
/// `dim` need only cheap arithmetic: no math-dialect op (exp, rsqrt) and
/// no division on them, no index or gather. Those would run once per
/// element a reduction reads, not once per element.
bool isCheapAlong(linalg::GenericOp producer, unsigned dim) {
  Block *body = producer.getBlock();
  llvm::SmallPtrSet<Value, 8> varying;
  for (OpOperand *input : producer.getDpsInputOperands())
    if (producer.getMatchingIndexingMap(input).isFunctionOfDim(dim))
      varying.insert(body->getArgument(input->getOperandNumber()));
  for (Operation &op : body->without_terminator()) {
    if (isa<linalg::IndexOp, tensor::ExtractOp>(op))
      return false;
    if (llvm::none_of(op.getOperands(),
                      [&](Value v) { return varying.contains(v); }))
      continue;
    if (isa<math::MathDialect>(op.getDialect()) ||
        isa<arith::DivFOp, arith::RemFOp>(op))
      return false;
    for (Value result : op.getResults())
      varying.insert(result);
  }
  return true;
}

/// Whether `consumer` is a sum over one reduction loop whose input `input`
/// is one row shared by every output (a linear layer in decode: the
/// activations of one token), and the producer of that row is cheap to
/// recompute for each output along the loop. The GEMV then reads the
/// producer's inputs (the RMSNorm's input and weights) instead of a
/// buffer written by one more kernel. Two rows or more stay apart (the
/// tensor-core GEMM reads its operands as they are).
bool isOneRowLinear(linalg::GenericOp consumer, OpOperand *input,
                    linalg::GenericOp producer) {
  if (consumer.getNumReductionLoops() != 1 || consumer.getNumDpsInits() != 1)
    return false;
  SmallVector<int64_t> sizes = consumer.getStaticLoopRanges();
  AffineMap map = consumer.getMatchingIndexingMap(input);
  std::optional<unsigned> along;
  for (auto [position, result] : llvm::enumerate(map.getResults())) {
    auto d = dyn_cast<AffineDimExpr>(result);
    if (!d)
      return false;
    if (consumer.getIteratorTypesArray()[d.getPosition()] ==
        utils::IteratorType::reduction)
      along = position;
    else if (sizes[d.getPosition()] != 1)
      return false;
  }
  // The producer's loop that runs along the consumer's reduction.
  if (!along)
    return false;
  auto producerDim = dyn_cast<AffineDimExpr>(
      producer.getIndexingMapMatchingResult(producer->getResult(0))
          .getResult(*along));
  return producerDim && isCheapAlong(producer, producerDim.getPosition());
}

/// The first input of a linalg op on tensors that a sole elementwise
/// producer can fuse into: any such input of an elementwise op, the row of
/// a one-row linear layer.
OpOperand *fusableInput(linalg::LinalgOp consumer) {
  if (!consumer.hasPureTensorSemantics())
    return nullptr;
  auto generic = dyn_cast<linalg::GenericOp>(consumer.getOperation());
  for (OpOperand *input : consumer.getDpsInputOperands()) {
    linalg::GenericOp producer = soleElementwiseProducer(*input);
    if (!producer)
      continue;
    if (!generic) {
      if (isAllParallel(consumer))
        return input; // a named op: generalized first
      continue;
    }
    if (!linalg::areElementwiseOpsFusable(input))
      continue;
    if (isAllParallel(consumer) || isOneRowLinear(generic, input, producer))
      return input;
  }
  return nullptr;
}

/// `expand_shape(extract_slice(x))` that gives back all of `x` in its own
/// shape (the attention's per-sequence slice of a one-sequence batch, and
/// its heads split out again): `x`, so that x's producer and the reader
/// meet.
void foldWholeReshapeRoundTrips(Operation *root) {
  SmallVector<Operation *> dead;
  root->walk([&](tensor::ExpandShapeOp expand) {
    auto slice = expand.getSrc().getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice)
      return;
    Value whole = slice.getSource();
    auto type = cast<RankedTensorType>(whole.getType());
    if (expand.getType() != type || !type.hasStaticShape() ||
        slice.getStaticSizes() != type.getShape() ||
        !llvm::all_of(slice.getStaticOffsets(),
                      [](int64_t o) { return o == 0; }) ||
        !llvm::all_of(slice.getStaticStrides(),
                      [](int64_t s) { return s == 1; }))
      return;
    expand.getResult().replaceAllUsesWith(whole);
    dead.push_back(expand);
    if (slice->hasOneUse())
      dead.push_back(slice);
  });
  for (Operation *op : dead)
    op->erase();
}

struct LlamaFuseElementwise
    : public llamac::impl::LlamaFuseElementwiseBase<LlamaFuseElementwise> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    foldWholeReshapeRoundTrips(getOperation());
    // Until no pair is left (a chain of three fuses in two steps).
    for (bool changed = true; changed;) {
      changed = false;
      SmallVector<linalg::LinalgOp> consumers;
      getOperation()->walk([&](linalg::LinalgOp op) {
        if (fusableInput(op))
          consumers.push_back(op);
      });
      for (linalg::LinalgOp consumer : consumers) {
        rewriter.setInsertionPoint(consumer);
        // Named elementwise ops (the cache's transposes) as generics first.
        if (!isa<linalg::GenericOp>(consumer)) {
          FailureOr<linalg::GenericOp> generic =
              linalg::generalizeNamedOp(rewriter, consumer);
          if (failed(generic))
            continue;
          consumer = *generic;
        }
        OpOperand *input = fusableInput(consumer);
        if (!input)
          continue;
        Operation *producer = input->get().getDefiningOp();
        FailureOr<linalg::ElementwiseOpFusionResult> fused =
            linalg::fuseElementwiseOps(rewriter, input);
        if (failed(fused))
          continue;
        for (auto [old, replacement] : fused->replacements)
          rewriter.replaceUsesWithIf(old, replacement, [&](OpOperand &use) {
            return use.getOwner() != producer;
          });
        rewriter.eraseOp(consumer);
        rewriter.eraseOp(producer);
        changed = true;
        break; // the walk's list is stale now
      }
    }
  }
};

} // namespace

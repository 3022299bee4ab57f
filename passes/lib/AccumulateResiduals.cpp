//===- AccumulateResiduals.cpp - linear layers onto the residual -*- C++ -*-===//
//
// `x + linear(a)` as two ops is two kernels on a GPU: the linear layer
// writes its output, a second kernel reads it back with x and writes the
// sum. Started from x instead of from zeros, the linear layer's own
// reduction writes the sum: the same value (its total is added to x
// rather than to 0, and addition commutes), one kernel and one round trip
// of the activations fewer per residual.
//
//===----------------------------------------------------------------------===//
#include "llamac/passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMAACCUMULATERESIDUALS
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

/// The operand of `yield(addf(a, b))` that is not `value`, if `op`'s body
/// is exactly that.
Value otherAddend(linalg::GenericOp op, Value value) {
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getNumOperands() == 1
                 ? yield.getOperand(0).getDefiningOp<arith::AddFOp>()
                 : arith::AddFOp();
  if (!add)
    return Value();
  if (add.getLhs() == value)
    return add.getRhs();
  if (add.getRhs() == value)
    return add.getLhs();
  return Value();
}

/// A reduction whose body adds into its output (`out + f(inputs)`), started
/// from a fill of +0.0.
bool isSumFromZero(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0)
    return false;
  auto fill = op.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
  if (!fill || !matchPattern(fill.getInputs()[0], m_PosZeroFloat()))
    return false;
  Block &body = op.getRegion().front();
  return static_cast<bool>(
      otherAddend(op, body.getArgument(body.getNumArguments() - 1)));
}

/// z = x + y elementwise, y a sum from zero read by nothing else: y summed
/// onto x instead.
struct AccumulateOntoAddend : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(linalg::GenericOp add,
                                PatternRewriter &rewriter) const override {
    if (add.getNumDpsInputs() != 2 || add.getNumDpsInits() != 1 ||
        add.getNumReductionLoops() != 0 ||
        !llvm::all_of(add.getIndexingMapsArray(),
                      [](AffineMap map) { return map.isIdentity(); }))
      return rewriter.notifyMatchFailure(add, "not an elementwise op");
    Block &body = add.getRegion().front();
    Value lhs = body.getArgument(0), rhs = body.getArgument(1);
    if (otherAddend(add, lhs) != rhs)
      return rewriter.notifyMatchFailure(add, "not an addition");
    for (int64_t which : {1, 0}) {
      Value addend = add.getDpsInputs()[which];
      auto linear = addend.getDefiningOp<linalg::GenericOp>();
      if (!linear || !linear->hasOneUse() || !isSumFromZero(linear))
        continue;
      Value other = add.getDpsInputs()[1 - which];
      if (other.getType() != linear.getResult(0).getType() ||
          other.getType() != add.getResult(0).getType())
        continue;
      // x must exist where the linear layer starts.
      if (Operation *def = other.getDefiningOp();
          def && (def->getBlock() != linear->getBlock() ||
                  !def->isBeforeInBlock(linear)))
        continue;
      rewriter.modifyOpInPlace(
          linear, [&] { linear.getDpsInitsMutable()[0].assign(other); });
      rewriter.replaceOp(add, linear.getResult(0));
      return success();
    }
    return rewriter.notifyMatchFailure(add, "no linear layer to sum onto");
  }
};

struct LlamaAccumulateResiduals
    : public llamac::impl::LlamaAccumulateResidualsBase<
          LlamaAccumulateResiduals> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AccumulateOntoAddend>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

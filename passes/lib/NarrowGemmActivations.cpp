//===- NarrowGemmActivations.cpp - bf16 operands for mma.sync ---*- C++ -*-===//
//
// A prefill chunk's linear layers run on mma.sync with bf16 operands. With
// f32 activations each tile takes two mmas (the activations' bf16 hi and
// lo terms) and the activations cross into shared memory at 4 bytes each;
// rounded to bf16 first, one mma and 2 bytes, at bf16's ~3 significant
// digits in the activations (the weights are bf16 already; the sums stay
// f32), as PyTorch's bf16 models and llama.cpp's CUDA GEMMs compute.
//
//===----------------------------------------------------------------------===//
#include "LinalgIndexing.h"
#include "TensorCoreLinear.h"
#include "llamac/passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace llamac {
#define GEN_PASS_DEF_LLAMANARROWGEMMACTIVATIONS
#include "llamac/passes/Passes.h.inc"
} // namespace llamac

using namespace mlir;

namespace {

/// The two inputs `op` multiplies if it is a linear layer on tensors: one
/// reduction loop, a body `out + a * b` (either widened); nulls if not.
std::pair<OpOperand *, OpOperand *> linearInputs(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumReductionLoops() != 1)
    return {nullptr, nullptr};
  Block *body = op.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  Value out = body->getArguments().back();
  if (!add || (add.getLhs() != out && add.getRhs() != out))
    return {nullptr, nullptr};
  return llamac::productOfInputs(op, add.getLhs() == out ? add.getRhs()
                                                         : add.getLhs());
}

/// `op` as a tensor-core linear layer with f32 activations: a linear layer
/// whose shapes and types llama-map-to-gpu runs on mma.sync.
std::optional<llamac::TensorCoreLinear> matchF32Linear(linalg::GenericOp op) {
  auto [lhs, rhs] = linearInputs(op);
  if (!lhs || !rhs)
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned depthDim =
      llvm::find(iterators, utils::IteratorType::reduction) - iterators.begin();
  std::optional<llamac::TensorCoreLinear> linear =
      llamac::matchTensorCoreLinear(op, depthDim, lhs, rhs);
  if (!linear ||
      !getElementTypeOrSelf(linear->activations->get().getType()).isF32())
    return std::nullopt;
  return linear;
}

/// `op`'s f32 activations if it is a linear layer over bf16 weights (one
/// input f32, the other bf16) whose activations a sole elementwise op
/// computes, into which the rounding will fold; null otherwise.
OpOperand *foldableGemvActivations(linalg::GenericOp op) {
  auto [lhs, rhs] = linearInputs(op);
  if (!lhs || !rhs)
    return nullptr;
  auto elementOf = [](OpOperand *o) {
    return getElementTypeOrSelf(o->get().getType());
  };
  if (elementOf(lhs).isBF16())
    std::swap(lhs, rhs);
  if (!elementOf(lhs).isF32() || !elementOf(rhs).isBF16())
    return nullptr;
  return llamac::soleElementwiseProducer(lhs->get()) ? lhs : nullptr;
}

/// `linear`'s activations rounded to bf16 by an elementwise op before it,
/// and its body widening them back where it reads them.
void narrowActivations(IRRewriter &rewriter, linalg::GenericOp op,
                       OpOperand *activations, bool afterProducer) {
  Value x = activations->get();
  auto type = cast<RankedTensorType>(x.getType());
  Type bf16 = rewriter.getBF16Type();
  // Right after the producer it folds into, where nothing (the logits'
  // fill) stands between the RMSNorm's reduction and its scaling, and
  // named after it (the kernel they become).
  Location loc = afterProducer ? x.getLoc() : op.getLoc();
  if (afterProducer)
    rewriter.setInsertionPointAfterValue(x);
  else
    rewriter.setInsertionPoint(op);
  Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(), bf16);
  AffineMap identity = rewriter.getMultiDimIdentityMap(type.getRank());
  auto round = linalg::GenericOp::create(
      rewriter, loc, empty.getType(), ValueRange{x}, ValueRange{empty},
      ArrayRef<AffineMap>{identity, identity},
      SmallVector<utils::IteratorType>(type.getRank(),
                                       utils::IteratorType::parallel),
      [&](OpBuilder &b, Location nested, ValueRange args) {
        Value narrow = arith::TruncFOp::create(b, nested, bf16, args[0]);
        linalg::YieldOp::create(b, nested, narrow);
      });
  BlockArgument arg = op.getMatchingBlockArgument(activations);
  rewriter.modifyOpInPlace(op, [&] {
    activations->set(round.getResult(0));
    arg.setType(bf16);
  });
  rewriter.setInsertionPointToStart(op.getBody());
  Value wide = arith::ExtFOp::create(rewriter, loc, rewriter.getF32Type(), arg);
  rewriter.replaceAllUsesExcept(arg, wide, wide.getDefiningOp());
}

struct LlamaNarrowGemmActivations
    : public llamac::impl::LlamaNarrowGemmActivationsBase<
          LlamaNarrowGemmActivations> {
  using LlamaNarrowGemmActivationsBase::LlamaNarrowGemmActivationsBase;
  void runOnOperation() override {
    // (op, its activations, whether a GEMV's)
    SmallVector<std::tuple<linalg::GenericOp, OpOperand *, bool>> linears;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<llamac::TensorCoreLinear> linear = matchF32Linear(op))
        linears.emplace_back(op, linear->activations, false);
      else if (OpOperand *activations =
                   gemvs ? foldableGemvActivations(op) : nullptr)
        linears.emplace_back(op, activations, true);
    });
    IRRewriter rewriter(&getContext());
    for (auto [op, activations, gemv] : linears)
      narrowActivations(rewriter, op, activations, gemv);
  }
};

} // namespace

//===- LinalgIndexing.h - a linalg op's operands at loop indices -*- C++
//-*-===//
//
// The kernels llama-map-to-gpu writes run a linalg op's loops by hand: each
// thread (or warp, or tile) gets loop indices from its flat position and
// reads or writes operands through the op's indexing maps; their matchers
// find which inputs a body combines.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_LINALGINDEXING_H
#define LLAMAC_PASSES_LINALGINDEXING_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace llamac {

/// The input operand whose body argument `value` is, directly or widened
/// (arith.extf); null if none.
inline mlir::OpOperand *inputBehind(mlir::linalg::LinalgOp op,
                                    mlir::Value value) {
  if (auto ext = value.getDefiningOp<mlir::arith::ExtFOp>())
    value = ext.getIn();
  auto arg = mlir::dyn_cast<mlir::BlockArgument>(value);
  if (!arg || arg.getOwner() != op.getBlock())
    return nullptr;
  mlir::OpOperand *operand = &op->getOpOperand(arg.getArgNumber());
  return op.isDpsInput(operand) ? operand : nullptr;
}

/// The all-parallel linalg.generic of one result that computes `value`,
/// where nothing else reads that result (one use: the reader can compute
/// it itself); null if none.
inline mlir::linalg::GenericOp soleElementwiseProducer(mlir::Value value) {
  auto producer = value.getDefiningOp<mlir::linalg::GenericOp>();
  if (!producer || producer.getNumParallelLoops() != producer.getNumLoops() ||
      producer->getNumResults() != 1 || !value.hasOneUse())
    return {};
  return producer;
}

/// The two inputs whose product `contribution` is (`mulf(a, b)`, each
/// directly or widened), in a body of nothing but extf, mulf and addf: a
/// linear layer's `out + x * w`. Nulls if not.
inline std::pair<mlir::OpOperand *, mlir::OpOperand *>
productOfInputs(mlir::linalg::LinalgOp op, mlir::Value contribution) {
  auto mul = contribution.getDefiningOp<mlir::arith::MulFOp>();
  if (!mul)
    return {nullptr, nullptr};
  for (mlir::Operation &inner : op.getBlock()->without_terminator())
    if (!mlir::isa<mlir::arith::ExtFOp, mlir::arith::MulFOp,
                   mlir::arith::AddFOp>(inner))
      return {nullptr, nullptr};
  mlir::OpOperand *lhs = inputBehind(op, mul.getLhs());
  mlir::OpOperand *rhs = inputBehind(op, mul.getRhs());
  if (!lhs || !rhs)
    return {nullptr, nullptr};
  return {lhs, rhs};
}

/// The indices of `operand` at the loop indices `ivs`.
inline llvm::SmallVector<mlir::Value>
operandIndices(mlir::OpBuilder &b, mlir::Location loc,
               mlir::linalg::LinalgOp op, mlir::OpOperand *operand,
               llvm::ArrayRef<mlir::Value> ivs) {
  mlir::AffineMap map = op.getMatchingIndexingMap(operand);
  llvm::SmallVector<mlir::Value> indices;
  for (unsigned i = 0; i < map.getNumResults(); ++i)
    indices.push_back(
        mlir::affine::AffineApplyOp::create(b, loc, map.getSubMap({i}), ivs));
  return indices;
}

/// Sets ivs[d] for the loops `dims` from `flat`, the last of `dims` varying
/// fastest (so that neighbouring threads or lanes take neighbouring
/// elements); `sizes` are the loops' sizes, by loop.
inline void delinearize(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::Value flat, llvm::ArrayRef<unsigned> dims,
                        llvm::ArrayRef<mlir::Value> sizes,
                        llvm::SmallVectorImpl<mlir::Value> &ivs) {
  for (unsigned d : llvm::reverse(dims)) {
    ivs[d] = mlir::arith::RemUIOp::create(b, loc, flat, sizes[d]);
    flat = mlir::arith::DivUIOp::create(b, loc, flat, sizes[d]);
  }
}

} // namespace llamac

#endif // LLAMAC_PASSES_LINALGINDEXING_H

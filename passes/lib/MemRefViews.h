//===- MemRefViews.h - ops that view a memref --------------------*- C++ -*-===//
//
// The memref ops whose result aliases their first operand's memory (a view:
// no copy, no read). Passes that trace a buffer back to its allocation or
// entry argument, or clone view computations into kernels, share this list.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_MEMREFVIEWS_H
#define LLAMAC_PASSES_MEMREFVIEWS_H

#include "llama/LlamaDialect.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace llamac {

inline bool isMemRefView(mlir::Operation *op) {
  return llvm::isa<mlir::memref::SubViewOp, mlir::memref::ExpandShapeOp,
                   mlir::memref::CollapseShapeOp, mlir::memref::ViewOp,
                   mlir::memref::CastOp, mlir::memref::ReinterpretCastOp>(op);
}

/// The memref `value` views (through any chain of views), or `value`.
inline mlir::Value rootOf(mlir::Value value) {
  while (mlir::Operation *def = value.getDefiningOp()) {
    if (!isMemRefView(def))
      break;
    value = def->getOperand(0);
  }
  return value;
}

/// Whether `value` views the weights blob: the argument llama-to-linalg
/// marks, which no kernel of the call writes.
inline bool isModelWeights(mlir::Value value) {
  auto arg = llvm::dyn_cast<mlir::BlockArgument>(rootOf(value));
  if (!arg)
    return false;
  auto func =
      llvm::dyn_cast<mlir::FunctionOpInterface>(arg.getOwner()->getParentOp());
  return func && arg.getOwner()->isEntryBlock() &&
         func.getArgAttr(arg.getArgNumber(),
                         mlir::llama::LlamaDialect::getWeightsArgAttrName());
}

} // namespace llamac

#endif // LLAMAC_PASSES_MEMREFVIEWS_H

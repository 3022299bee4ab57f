//===- MemRefViews.h - ops that view a memref --------------------*- C++ -*-===//
//
// The memref ops whose result aliases their first operand's memory (a view:
// no copy, no read). Passes that trace a buffer back to its allocation or
// entry argument, or clone view computations into kernels, share this list.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_MEMREFVIEWS_H
#define LLAMAC_PASSES_MEMREFVIEWS_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace llamac {

inline bool isMemRefView(mlir::Operation *op) {
  return llvm::isa<mlir::memref::SubViewOp, mlir::memref::ExpandShapeOp,
                   mlir::memref::CollapseShapeOp, mlir::memref::ViewOp,
                   mlir::memref::CastOp, mlir::memref::ReinterpretCastOp>(op);
}

} // namespace llamac

#endif // LLAMAC_PASSES_MEMREFVIEWS_H

//===- LinalgBodies.h - a linalg op's body at loop indices ------*- C++ -*-===//
//
// The kernels llama-map-to-gpu writes compute a linalg op's body as scalar
// code at loop indices their thread (or warp) took: loads of what it reads,
// its payload cloned, stores of what it yields.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_LINALGBODIES_H
#define LLAMAC_PASSES_LINALGBODIES_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"

namespace llamac {

/// Maps the body's input arguments to their values at loop indices `ivs`
/// (loads, or the scalar itself) and the linalg.index ops to `ivs`.
void mapInputs(mlir::OpBuilder &b, mlir::Location loc,
               mlir::linalg::LinalgOp op, mlir::ArrayRef<mlir::Value> ivs,
               mlir::IRMapping &mapping);

/// The op's body at loop indices `ivs`: loads of what it reads (but the
/// inputs `mapping` already gives), its payload, stores of what it yields.
void emitBody(mlir::OpBuilder &b, mlir::Location loc, mlir::linalg::LinalgOp op,
              mlir::ArrayRef<mlir::Value> ivs, mlir::IRMapping mapping = {});

} // namespace llamac

#endif // LLAMAC_PASSES_LINALGBODIES_H

//===- Lowering.h - shared pieces of llama-to-linalg ------------*- C++ -*-===//
//
// Builders the per-op lowerings share: float32 compute on tensors, with
// fast-math reassociation on reductions so that LLVM may vectorize them.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_LLAMATOLINALG_LOWERING_H
#define LLAMAC_PASSES_LLAMATOLINALG_LOWERING_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace llamac::lowering {

using BodyBuilder = llvm::function_ref<mlir::Value(
    mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// A tensor.empty of the given static shape and element type, with dynamic
/// dims taken in order from `dynamicSizes`.
mlir::Value empty(mlir::OpBuilder &b, mlir::Location loc,
                  llvm::ArrayRef<int64_t> shape, mlir::Type elementType,
                  mlir::ValueRange dynamicSizes = {});

/// An f32 tensor filled with `value`.
mlir::Value filled(mlir::OpBuilder &b, mlir::Location loc,
                   llvm::ArrayRef<int64_t> shape, double value,
                   mlir::ValueRange dynamicSizes = {});

/// linalg.generic with one output: `body` receives the block arguments
/// (inputs, then the output's current value) and returns the value to yield.
/// `numDims` is the rank of the iteration space; dims listed in `reductions`
/// are reduction dims, the others parallel.
mlir::Value generic(mlir::OpBuilder &b, mlir::Location loc, mlir::Value init,
                    mlir::ValueRange inputs,
                    llvm::ArrayRef<mlir::AffineMap> inputMaps,
                    mlir::AffineMap outputMap, unsigned numDims,
                    llvm::ArrayRef<unsigned> reductions, BodyBuilder body);

/// Converts a float scalar to f32 (extf or truncf as needed).
mlir::Value toF32(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value);

/// Fast-math flags for the adds and multiplies of reductions: reassociation
/// lets LLVM vectorize them; contraction lets it use FMA.
mlir::arith::FastMathFlagsAttr reductionFastMath(mlir::MLIRContext *context);

/// An index constant.
mlir::Value indexConst(mlir::OpBuilder &b, mlir::Location loc, int64_t value);

void populateLayerLowerings(mlir::RewritePatternSet &patterns);
void populateRoPELowering(mlir::RewritePatternSet &patterns);
/// `flash`: attend with llama.flash_attention, not linalg ops.
void populateAttentionLowering(mlir::RewritePatternSet &patterns, bool flash);
/// `kernelOp`: llama.top_k as llama.top_k_rows, not linalg reductions.
void populateTopKLowering(mlir::RewritePatternSet &patterns, bool kernelOp);
/// `kernelOp`: llama.sample as llama.sample_rows, not a linalg.generic.
void populateSampleLowering(mlir::RewritePatternSet &patterns, bool kernelOp);

} // namespace llamac::lowering

#endif // LLAMAC_PASSES_LLAMATOLINALG_LOWERING_H

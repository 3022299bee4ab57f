//===- TensorCoreLinear.h - linear layers on tensor cores -------*- C++ -*-===//
#ifndef LLAMAC_PASSES_TENSORCORELINEAR_H
#define LLAMAC_PASSES_TENSORCORELINEAR_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace llamac {
class KernelNamer;

/// A linear layer over several tokens, out[rows, cols] += sum over depth of
/// activations[rows, depth] * weights[cols, depth], with f32 or bf16
/// activations and bf16 weights: what mma.sync runs. Rows and columns may each
/// be several loops of the op (batch and sequence for the rows).
struct TensorCoreLinear {
  mlir::OpOperand *activations, *weights;
  unsigned depthDim;
  llvm::SmallVector<unsigned> rowDims, colDims;
  int64_t rows, cols, depth;
  /// The products as sm_90a warpgroup MMAs (wgmma) reading the block's
  /// tiles from shared memory, not mma.sync from registers: bf16
  /// activations only.
  bool wgmma = false;
  /// With wgmma: the tiles loaded by TMA where the operands allow (see
  /// emitTensorCoreLinear), not by each thread's cp.async.
  bool tma = false;
};

/// `op`, a sum over loop `depthDim` of the product of inputs `lhs` and
/// `rhs` (each contiguous and 8-aligned along it), as a TensorCoreLinear
/// where its shapes and types allow: static sizes, depth a multiple of 32,
/// two rows or more (one row, a decode step, stays a GEMV), every other loop
/// indexing exactly one of the two inputs.
std::optional<TensorCoreLinear> matchTensorCoreLinear(mlir::linalg::LinalgOp op,
                                                      unsigned depthDim,
                                                      mlir::OpOperand *lhs,
                                                      mlir::OpOperand *rhs);

/// Replaces `op` by a gpu.launch of warps that each compute a tile of the
/// output with mma.sync (m16n8k16, bf16 in, f32 accumulators), or of two
/// warpgroups a block with wgmma (m64n256k16, the tiles in dynamic shared
/// memory), the block's operand tiles staged in shared memory by cp.async. bf16
/// activations take one mma a tile; f32 activations are split into two bf16
/// terms (hi + lo), each multiplied by the exact bf16 weights, so the products
/// keep ~16 bits (an f32 layer within ~1e-5, not bf16's ~4e-3). Too few tiles
/// to fill the GPU split the depth among blocks, and a second kernel adds their
/// partial tiles in order. `initIsIdentity`: the output holds zeros, so the
/// tiles are stored, not added.
void emitTensorCoreLinear(mlir::linalg::LinalgOp op,
                          const TensorCoreLinear &linear, bool initIsIdentity,
                          KernelNamer &namer);

} // namespace llamac

#endif // LLAMAC_PASSES_TENSORCORELINEAR_H

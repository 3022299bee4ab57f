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

/// An elementwise op that a wgmma GEMM's epilogue computes in place of
/// storing the GEMM's output for it: the op reads the output's columns
/// [0, half) and [half, 2 half) by the identity (SwiGLU reading the gate
/// and up halves of the merged gate+up projection). Each block's weight tile
/// then takes its first half of rows from the first half of the columns and
/// the rest from the second, so that the block holds both operands of its
/// elements: the f32 output (2 half columns) is neither written nor read
/// back, and the op is no kernel of its own.
struct PairedEpilogue {
  mlir::linalg::LinalgOp consumer;
  mlir::OpOperand *first, *second; // the consumer's reads of the two halves
  int64_t half;
  /// The GEMM's loop that indexes each dimension of its output (the
  /// consumer's loop of the same position).
  llvm::SmallVector<unsigned> outputDims;
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

/// Whether a wgmma GEMM can compute a PairedEpilogue of halves `half`
/// columns wide (its block tiles' columns split evenly between them).
bool canPairEpilogue(const TensorCoreLinear &linear, int64_t half);

/// Replaces `op` by a gpu.launch of warps that each compute a tile of the
/// output with mma.sync (m16n8k16, bf16 in, f32 accumulators), or of two
/// warpgroups a block with wgmma (m64n256k16, the tiles in dynamic shared
/// memory), the block's operand tiles staged in shared memory by cp.async. bf16
/// activations take one mma a tile; f32 activations are split into two bf16
/// terms (hi + lo), each multiplied by the exact bf16 weights, so the products
/// keep ~16 bits (an f32 layer within ~1e-5, not bf16's ~4e-3). Too few tiles
/// to fill the GPU split the depth among blocks, and a second kernel adds their
/// partial tiles in order. `initIsIdentity`: the output holds zeros, so the
/// tiles are stored, not added. `paired`: the epilogue computes that op
/// instead (wgmma only; no split-k); the caller erases the op.
void emitTensorCoreLinear(mlir::linalg::LinalgOp op,
                          const TensorCoreLinear &linear, bool initIsIdentity,
                          KernelNamer &namer,
                          const PairedEpilogue *paired = nullptr);

} // namespace llamac

#endif // LLAMAC_PASSES_TENSORCORELINEAR_H

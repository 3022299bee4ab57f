//===- TopKToGPU.h - llama.top_k_rows as a kernel ---------------*- C++ -*-===//
#ifndef LLAMAC_PASSES_TOPKTOGPU_H
#define LLAMAC_PASSES_TOPKTOGPU_H

#include "llama/LlamaOps.h"

namespace llamac {
class KernelNamer;

/// Replaces a llama.top_k_rows on buffers by a gpu.launch of a block per
/// row.
mlir::LogicalResult mapTopKToGPU(mlir::llama::TopKRowsOp op,
                                 KernelNamer &namer);
} // namespace llamac

#endif // LLAMAC_PASSES_TOPKTOGPU_H

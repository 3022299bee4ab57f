//===- ArgmaxToGPU.h - llama.argmax_rows as a kernel ------------*- C++ -*-===//
#ifndef LLAMAC_PASSES_ARGMAXTOGPU_H
#define LLAMAC_PASSES_ARGMAXTOGPU_H

#include "llama/LlamaOps.h"

namespace llamac {
class KernelNamer;

/// Replaces a llama.argmax_rows on buffers by a gpu.launch of a block per
/// row.
mlir::LogicalResult mapArgmaxToGPU(mlir::llama::ArgmaxRowsOp op,
                                   KernelNamer &namer);
} // namespace llamac

#endif // LLAMAC_PASSES_ARGMAXTOGPU_H

//===- SampleToGPU.h - llama.sample_rows as a kernel ------------*- C++ -*-===//
#ifndef LLAMAC_PASSES_SAMPLETOGPU_H
#define LLAMAC_PASSES_SAMPLETOGPU_H

#include "llama/LlamaOps.h"

namespace llamac {
class KernelNamer;

/// Replaces a llama.sample_rows on buffers by a gpu.launch of a warp per
/// row.
mlir::LogicalResult mapSampleToGPU(mlir::llama::SampleRowsOp op,
                                   KernelNamer &namer);
} // namespace llamac

#endif // LLAMAC_PASSES_SAMPLETOGPU_H

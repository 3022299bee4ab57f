//===- FlashAttentionToGPU.h - llama.flash_attention as kernels -*- C++ -*-===//
#ifndef LLAMAC_PASSES_FLASHATTENTIONTOGPU_H
#define LLAMAC_PASSES_FLASHATTENTIONTOGPU_H

#include "llama/LlamaOps.h"

namespace llamac {
class KernelNamer;

/// Replaces a llama.flash_attention on buffers by a gpu.launch of its
/// one-pass attention (and, where the keys are split among warps, a second
/// launch that combines the splits; with `clusters` (sm_90) where the
/// cluster form fits, one launch whose blocks combine on the chip). With
/// `bf16Products`, prefill's tensor-core attention multiplies in bf16.
mlir::LogicalResult mapFlashAttentionToGPU(mlir::llama::FlashAttentionOp op,
                                           KernelNamer &namer, bool clusters,
                                           bool bf16Products);
} // namespace llamac

#endif // LLAMAC_PASSES_FLASHATTENTIONTOGPU_H

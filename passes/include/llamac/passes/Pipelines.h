//===- Pipelines.h - named pass pipelines -----------------------*- C++ -*-===//
//
// The pipelines that `llamac compile` runs, also registered by name so that
// `llamac-opt --llama-to-host` runs exactly the same passes.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMAC_PASSES_PIPELINES_H
#define LLAMAC_PASSES_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace llamac {

struct HostPipelineOptions {
  int64_t weightAlignment = 64;
  // RMSNorm gains into the next linear layers' weights
  // (llama-fold-norm-gains): for the CUDA targets with bf16 GEMM
  // activations, whose decode GEMVs then apply the norm themselves.
  bool foldNormGains = false;
};

/// llama dialect -> LLVM dialect for the host CPU: the planning phase then
/// the lowering phase below.
void buildHostPipeline(mlir::OpPassManager &pm,
                       const HostPipelineOptions &options = {});

/// Phase 1, decisions recorded in the IR: the weights layout (and which
/// weights the packer scales). The weight packer reads the result before
/// phase 2 drops the params.
void buildHostPlanningPipeline(mlir::OpPassManager &pm,
                               const HostPipelineOptions &options = {});

/// Phase 2: llama -> linalg on tensors, bufferization, loops, LLVM.
void buildHostLoweringPipeline(mlir::OpPassManager &pm);

/// An NVIDIA target: the arch, and the PTX ISA version to emit for it.
struct CudaPipelineOptions {
  std::string chip = "sm_90";       // sm_80, sm_86, sm_89, sm_90
  std::string ptxFeatures = "+ptx80";
  // CUDA's libdevice.10.bc, which the kernels' math (exp, rsqrt, sin, cos)
  // calls into; linked into each kernel module.
  std::string libdevice;
  // A CUDA toolkit whose ptxas assembles the kernels into a cubin for
  // `chip`, embedded instead of the PTX; empty: embed the PTX (the driver
  // JIT-compiles it at start-up).
  std::string cubinToolkit;
  // The tensor-core GEMMs (prefill) read their activations rounded to bf16
  // (one mma a tile, as PyTorch and llama.cpp); false: f32 activations as
  // bf16 hi + lo terms (two mmas, ~16 bits).
  bool bf16GemmActivations = true;
  // sm_90: those GEMMs as warpgroup MMAs (wgmma, sm_90a PTX) instead of
  // mma.sync (KERNEL_NOTES, sessions 14 and 18).
  bool wgmma = true;
  // With wgmma: the GEMMs' tiles by TMA from a producer warp (experimental,
  // off: bit-identical results, no faster; KERNEL_NOTES session 22).
  bool tma = false;
  // Prefill's attention in bf16 products (llamac compile
  // --attention-precision; KERNEL_NOTES sessions 22-23).
  bool bf16Attention = false;
};

/// The PTX ISA version for `chip` ("+ptx70" for sm_80 ...), or "" for an
/// arch llamac does not target.
std::string ptxFeaturesForChip(llvm::StringRef chip);

/// Phase 2 for an NVIDIA GPU: llama -> linalg on tensors, bufferization,
/// one kernel per linalg op (llama-map-to-gpu), NVVM, PTX embedded in the
/// host module, the host side to LLVM.
void buildCudaLoweringPipeline(mlir::OpPassManager &pm,
                               const CudaPipelineOptions &options);

/// Registers the pipelines with the global registry (for llamac-opt).
void registerPipelines();

} // namespace llamac

#endif // LLAMAC_PASSES_PIPELINES_H

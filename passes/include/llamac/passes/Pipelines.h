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
};

/// llama dialect -> LLVM dialect for the host CPU, in four phases:
/// plan and lower the model (llama -> linalg on tensors), bufferize,
/// linalg -> loops, and loops -> LLVM.
void buildHostPipeline(mlir::OpPassManager &pm,
                       const HostPipelineOptions &options = {});

/// Registers the pipelines with the global registry (for llamac-opt).
void registerPipelines();

} // namespace llamac

#endif // LLAMAC_PASSES_PIPELINES_H
